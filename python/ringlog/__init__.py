"""Read ringlog regions and snapshot files from Python.

ctypes over libringlog.so (no compiled extension): the library does the
reading, the ordering and the formatting of deferred entries, exactly as the
`ringlog` tool does.

    import ringlog
    with ringlog.Reader("app") as r:            # a peek: changes nothing
        for e in r:                             # Entry, or Gap with gaps=True
            print(e.time, e.level, e.pid, e.message)
        print(r.info()["next_index"], r.stats()["total"]["written"])

The library is found from RINGLOG_LIB (a path), then next to this package's
source tree (build/ of a ringlog checkout), then the system (ldconfig).
"""

import ctypes
import ctypes.util
import datetime
import os

__all__ = ["Reader", "Entry", "Gap", "RinglogError", "LEVELS", "version"]

LEVELS = ["trace", "debug", "info", "notice", "warn", "error", "critical"]
TYPE_TEXT, TYPE_RAW, TYPE_TRIGGER, TYPE_CRASH, TYPE_DEFERRED = 1, 2, 3, 4, 5
READER_CONSUME, READER_PEEK = 0, 1


class RinglogError(OSError):
    """A library call failed: code is the RINGLOG_E* value."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _find_library():
    env = os.environ.get("RINGLOG_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "..", "..", "build", "libringlog.so.0"),
                 os.path.join(here, "..", "..", "build", "libringlog.so")):
        if os.path.exists(cand):
            return os.path.normpath(cand)
    found = ctypes.util.find_library("ringlog")
    if found:
        return found
    raise RinglogError(-1, "libringlog.so not found: set RINGLOG_LIB to its path, "
                       "or install it (make install; ldconfig)")


class _Entry(ctypes.Structure):
    _fields_ = [("index", ctypes.c_uint64), ("timestamp", ctypes.c_uint64),
                ("time_ns", ctypes.c_uint64), ("cpu", ctypes.c_uint32),
                ("level", ctypes.c_uint32), ("type", ctypes.c_uint32),
                ("remarks", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("pid", ctypes.c_uint32), ("length", ctypes.c_size_t),
                ("data", ctypes.c_void_p), ("lane", ctypes.c_uint32),
                ("tid", ctypes.c_uint32), ("seq", ctypes.c_uint64)]


class _SiteInfo(ctypes.Structure):
    _fields_ = [("format", ctypes.c_char_p), ("file", ctypes.c_char_p),
                ("function", ctypes.c_char_p), ("line", ctypes.c_uint32),
                ("level", ctypes.c_uint32), ("nargs", ctypes.c_uint32),
                ("id", ctypes.c_uint32), ("off", ctypes.c_uint32)]


_ENTRY_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Entry))
_GAP_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)


class _Handler(ctypes.Structure):
    _fields_ = [("entry", _ENTRY_CB), ("gap", _GAP_CB), ("arg", ctypes.c_void_p)]


class _Info(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("nrings", ctypes.c_uint32),
                ("ring_size", ctypes.c_uint64), ("policy", ctypes.c_int),
                ("next_index", ctypes.c_uint64), ("created_ns", ctypes.c_uint64),
                ("creator_pid", ctypes.c_uint32), ("clock", ctypes.c_char_p),
                ("triggers", ctypes.c_uint32), ("snapshot_reason", ctypes.c_char_p),
                ("snapshot_ns", ctypes.c_uint64), ("dict_size", ctypes.c_uint64),
                ("dict_used", ctypes.c_uint64), ("sites", ctypes.c_uint32),
                ("sites_refused", ctypes.c_uint32), ("min_level", ctypes.c_uint32),
                ("snapshot_trigger_ns", ctypes.c_uint64),
                ("snapshot_first_trigger", ctypes.c_uint32),
                ("snapshot_last_trigger", ctypes.c_uint32), ("read_late", ctypes.c_uint64),
                ("read_corrupt", ctypes.c_uint64), ("snapshot_damaged", ctypes.c_uint32),
                ("snapshot_damage", ctypes.c_char_p)]


# The order of struct ringlog_stats.
_STAT_FIELDS = ["written", "read", "lost", "overwritten", "too_big", "wraps", "bytes",
                "abandoned", "buffered"]


class _Stats(ctypes.Structure):
    _fields_ = [(f, ctypes.c_uint64) for f in _STAT_FIELDS]


_lib = None


def _library():
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(_find_library())
        lib.ringlog_reader_open.argtypes = [ctypes.c_char_p, ctypes.c_uint,
                                            ctypes.POINTER(ctypes.c_void_p)]
        lib.ringlog_reader_close.argtypes = [ctypes.c_void_p]
        lib.ringlog_read.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Handler), ctypes.c_int]
        lib.ringlog_entry_text.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Entry),
                                           ctypes.c_char_p, ctypes.c_size_t]
        lib.ringlog_entry_text.restype = ctypes.c_size_t
        lib.ringlog_entry_site.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Entry),
                                           ctypes.POINTER(_SiteInfo)]
        lib.ringlog_reader_info.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Info)]
        lib.ringlog_reader_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Stats),
                                             ctypes.POINTER(_Stats), ctypes.c_uint]
        lib.ringlog_strerror.restype = ctypes.c_char_p
        lib.ringlog_strerror.argtypes = [ctypes.c_int]
        lib.ringlog_errmsg.restype = ctypes.c_char_p
        lib.ringlog_errmsg.argtypes = []
        _lib = lib
    return _lib


def _error(code):
    lib = _library()
    what = lib.ringlog_strerror(code).decode()
    detail = (lib.ringlog_errmsg() or b"").decode(errors="replace")
    return RinglogError(code, f"{what} ({detail})" if detail else what)


class Entry:
    """One entry: index (this reader's running count), time_ns (ns since the
    epoch, UTC) and time (datetime), level (name) and level_no, lane (cpu is
    the same), pid, tid, seq (its number in its lane), type, flags,
    message (text, a trigger's reason, a deferred entry formatted; None for
    binary entries), site ((file, line, function) of a deferred entry, else
    None) and raw (the stored payload bytes)."""

    __slots__ = ("index", "time_ns", "level_no", "lane", "pid", "tid", "seq", "type", "flags",
                 "remarks", "message", "site", "raw")

    @property
    def time(self):
        return datetime.datetime.fromtimestamp(self.time_ns / 1e9, tz=datetime.timezone.utc)

    @property
    def level(self):
        return LEVELS[self.level_no] if self.level_no < len(LEVELS) else str(self.level_no)

    @property
    def cpu(self):
        return self.lane

    def as_dict(self):
        d = {k: getattr(self, k) for k in self.__slots__ if k != "raw"}
        d["level"] = self.level
        d["time"] = self.time.isoformat()
        return d

    def __repr__(self):
        return f"<ringlog.Entry {self.index} {self.level} {self.message!r}>"


class Gap:
    """Calls that will never come: `count` of them from index `first`."""

    __slots__ = ("first", "count")

    def __init__(self, first, count):
        self.first, self.count = first, count

    def __repr__(self):
        return f"<ringlog.Gap {self.first}+{self.count}>"


class Reader:
    """A reader of region `name` (a shared-memory name, or a path with a '/')
    or of a snapshot file.  consume=False (the default) peeks and changes
    nothing; consume=True claims entries, as `ringlog tail` does (one
    consuming reader per region).  Iterating yields what the region holds
    now (a peek stops at the calls made when iteration began); with
    gaps=True, Gap objects come in order too."""

    def __init__(self, name, consume=False, gaps=False):
        self._lib = _library()
        self._r = ctypes.c_void_p()
        self.gaps = gaps
        flags = READER_CONSUME if consume else READER_PEEK
        rc = self._lib.ringlog_reader_open(os.fsencode(name), flags, ctypes.byref(self._r))
        if rc != 0:
            raise _error(rc)
        self.consume = consume

    def close(self):
        if self._r:
            self._lib.ringlog_reader_close(self._r)
            self._r = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _decode(self, p):
        e = p.contents
        x = Entry()
        x.index, x.time_ns, x.level_no = e.index, e.time_ns, e.level
        x.lane, x.pid, x.tid, x.seq = e.lane, e.pid, e.tid, e.seq
        x.type, x.flags, x.remarks = e.type, e.flags, e.remarks
        x.raw = ctypes.string_at(e.data, e.length) if e.length else b""
        x.site = None
        if e.type in (TYPE_TEXT, TYPE_TRIGGER):
            x.message = x.raw.decode("utf-8", errors="replace")
        elif e.type == TYPE_DEFERRED:
            n = self._lib.ringlog_entry_text(self._r, p, None, 0)
            buf = ctypes.create_string_buffer(n + 1)
            self._lib.ringlog_entry_text(self._r, p, buf, n + 1)
            x.message = buf.raw[:n].decode("utf-8", errors="replace")
            si = _SiteInfo()
            if self._lib.ringlog_entry_site(self._r, p, ctypes.byref(si)) == 0:
                x.site = (si.file.decode(errors="replace"), si.line,
                          si.function.decode(errors="replace"))
        else:
            x.message = None
        return x

    def read(self, timeout_ms=0):
        """One call of ringlog_read: a list of what it delivered."""
        out = []

        def on_entry(_arg, p):
            out.append(self._decode(p))
            return 0

        def on_gap(_arg, first, count):
            if self.gaps:
                out.append(Gap(first, count))
            return 0

        h = _Handler(_ENTRY_CB(on_entry), _GAP_CB(on_gap), None)
        n = self._lib.ringlog_read(self._r, ctypes.byref(h), timeout_ms)
        if n < 0:
            raise _error(n)
        return out

    def __iter__(self):
        end = self.info()["next_index"]
        last = -1
        while True:
            batch = self.read(0)
            if not batch:
                return
            for item in batch:
                last = item.index if isinstance(item, Entry) else item.first + item.count - 1
                yield item
            if not self.consume and last + 1 >= end:
                return

    def follow(self, timeout_ms=200):
        """Like tail -f: yields entries (and gaps) as they come, forever."""
        while True:
            for item in self.read(timeout_ms):
                yield item

    def info(self):
        i = _Info()
        rc = self._lib.ringlog_reader_info(self._r, ctypes.byref(i))
        if rc != 0:
            raise _error(rc)
        d = {}
        for name, _ in _Info._fields_:
            v = getattr(i, name)
            d[name] = v.decode(errors="replace") if isinstance(v, bytes) else v
        d["lanes"] = d["nrings"]
        d["policy"] = "drop" if d["policy"] == 1 else "overwrite"
        return d

    def stats(self):
        """{'total': {...}, 'lanes': [{...}, ...]} with the counters of
        `ringlog stats`; written == read + lost + overwritten + buffered +
        abandoned at quiescence."""
        total = _Stats()
        n = self._lib.ringlog_reader_stats(self._r, ctypes.byref(total), None, 0)
        if n < 0:
            raise _error(n)
        per = (_Stats * max(n, 1))()
        n = self._lib.ringlog_reader_stats(self._r, ctypes.byref(total), per, n)
        if n < 0:
            raise _error(n)
        as_dict = lambda s: {f: getattr(s, f) for f in _STAT_FIELDS}
        return {"total": as_dict(total), "lanes": [as_dict(per[k]) for k in range(n)]}


def version():
    return "0.1.0"
