#!/usr/bin/env python3
"""Compares babeltrace2's reading of a `ringlog export --ctf` trace with
`ringlog dump --json` of the same input, for tests/ctf.sh.

usage: ctf_check.py BT_OUTPUT DUMP_JSON [--no-args]
BT_OUTPUT is `babeltrace2 --clock-gmt --clock-date DIR` (sink.text.pretty).
Checks, event by event in order: the same entries and gaps in the same
(index) order; index, message, level, lane, pid, tid, seq, flags and the
true time (time_ns); event times strictly increasing, equal to the true
time unless that would not come after the previous event's; NULs in
text as U+FFFD; deferred entries the reader cannot decode as
ringlog:deferred with the reader's note; the typed
argument fields of tests/ctf_prog.c's calls, recomputed from their text.
Prints one line per mismatch (the first 20) and exits 1 on any."""
import calendar
import json
import re
import sys

LEVELS = ["trace", "debug", "info", "notice", "warn", "error", "critical"]
WORDS = ["alpha", "beta gamma", "d\u00e9j\u00e0"]
EAGAIN = 11


class Parser:
    """The value syntax of sink.text.pretty: { k = v, ... }, [ [i] = v, ... ],
    "strings" with backslash escapes, and bare numbers."""

    def __init__(self, s):
        self.s, self.i = s, 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1

    def expect(self, t):
        self.ws()
        if not self.s.startswith(t, self.i):
            raise ValueError("expected %r at %d: %r" % (t, self.i, self.s[self.i:self.i + 40]))
        self.i += len(t)

    def value(self):
        self.ws()
        c = self.s[self.i]
        if c == "{":
            return self.group("{", "}", self.key)
        if c == "[":
            return list(self.group("[", "]", self.subscript).values())
        if c == '"':
            return self.string()
        m = re.compile(r"[^,}\] ]+").match(self.s, self.i)
        self.i = m.end()
        return m.group(0)

    def key(self):
        self.ws()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
        self.i = m.end()
        return m.group(0)

    def subscript(self):
        self.expect("[")
        m = re.compile(r"\d+").match(self.s, self.i)
        self.i = m.end()
        self.expect("]")
        return int(m.group(0))

    def group(self, open_, close, keyf):
        self.expect(open_)
        out = {}
        self.ws()
        if self.s.startswith(close, self.i):
            self.i += 1
            return out
        while True:
            k = keyf()
            self.expect("=")
            out[k] = self.value()
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            self.expect(close)
            return out

    def string(self):
        self.expect('"')
        out = []
        esc = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "v": "\v", "f": "\f",
               "a": "\a", "b": "\b", "0": "\0"}
        while self.s[self.i] != '"':
            c = self.s[self.i]
            if c == "\\":
                self.i += 1
                c = esc.get(self.s[self.i], "\\" + self.s[self.i])
            out.append(c)
            self.i += 1
        self.i += 1
        return "".join(out)


LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{9})\] \(\S+\) (\S+): (.*)$")


def ns_of(date, hms, frac):
    secs = calendar.timegm(tuple(int(x) for x in date.split("-") + hms.split(":")) + (0, 0, 0))
    return secs * 1000000000 + int(frac)


def parse_bt(path):
    events = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        m = LINE.match(line)
        if not m:
            raise SystemExit("%s:%d: not an event line: %r" % (path, n, line[:120]))
        p = Parser(m.group(5))
        groups = [p.value()]
        while p.i < len(p.s):
            p.expect(",")
            groups.append(p.value())
        # packet context, event common context, payload
        events.append({"ts": ns_of(*m.group(1, 2, 3)), "name": m.group(4),
                       "packet": groups[0], "ctx": groups[1], "fields": groups[2]})
    return events


def dump_ns(t):
    m = re.match(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)\.(\d{9})Z$", t)
    return ns_of(*m.group(1, 2, 3))


def expected_args(msg):
    """What tests/ctf_prog.c passed, from the text it formatted."""
    m = re.match(r"^t(\d+) k(\d+) i=", msg)
    if m:
        t, k = int(m.group(1)), int(m.group(2))
        return {"arg0": t, "arg1": k, "arg2": -1000 * k - t, "arg3": 3000000000 + k,
                "arg4": -100000000000 * k - t, "arg5": 10000000000000000000 + k,
                "arg6": 0.25 * k + t, "arg7": WORDS[k % 3]}
    m = re.match(r"^t(\d+) k(\d+) failed: ", msg)
    if m:
        return {"arg0": int(m.group(1)), "arg1": int(m.group(2)), "errno": EAGAIN}
    return None


def main():
    bt = parse_bt(sys.argv[1])
    dump = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
    errors = []

    def bad(i, what):
        errors.append("event %d: %s" % (i, what))

    if len(bt) != len(dump):
        errors.append("babeltrace2 read %d events, dump has %d lines" % (len(bt), len(dump)))
    prev = None
    typed = {"int": 0, "errno": 0}
    for i, (b, d) in enumerate(zip(bt, dump)):
        if prev is not None and b["ts"] <= prev:
            bad(i, "time %d not after the previous event's %d" % (b["ts"], prev))
        c, f = b["ctx"], b["fields"]
        if "gap" in d:
            if b["name"] != "ringlog:gap" or int(f["first_index"]) != d["gap"] or \
                    int(f["count"]) != d["count"]:
                bad(i, "gap %r read as %s %r" % (d, b["name"], f))
            prev = b["ts"]
            continue
        want_name = {1: "ringlog:text", 3: "ringlog:trigger", 4: "ringlog:crash",
                     5: "ringlog:site_%d" % d["remarks"]}.get(d["type"], "ringlog:raw")
        if b["name"] == "ringlog:deferred" and d["type"] == 5:
            # A site or arguments the reader could not use: its note says so.
            if "[ringlog: " not in d["message"]:
                bad(i, "ringlog:deferred for a readable entry %r" % d["message"])
        elif b["name"] != want_name:
            bad(i, "class %s, expected %s" % (b["name"], want_name))
        for k in ("index", "lane", "pid", "tid", "seq", "flags", "remarks"):
            if int(c[k]) != d[k]:
                bad(i, "%s %s, dump says %s" % (k, c[k], d[k]))
        if LEVELS[int(c["level"])] != d["level"]:
            bad(i, "level %s, dump says %s" % (c["level"], d["level"]))
        true_ns = dump_ns(d["time"])
        if int(c["time_ns"]) != true_ns:
            bad(i, "time_ns %s, dump says %s" % (c["time_ns"], d["time"]))
        if b["ts"] != true_ns and (b["ts"] < true_ns or (prev is not None and true_ns > prev)):
            bad(i, "event time %d moved from %d without need" % (b["ts"], true_ns))
        if d.get("encoding") == "hex":  # binary: the bytes, not a text
            got = "".join("%02x" % int(v) for v in f.get("data", []))
            if b["name"] == "ringlog:raw" and got != d["message"]:
                bad(i, "data %s, dump says %s" % (got, d["message"]))
        elif f.get("msg") != d["message"].replace("\0", "\ufffd"):  # CTF strings end at a NUL
            bad(i, "msg %r, dump says %r" % (f.get("msg"), d["message"]))
        want = expected_args(d["message"]) if d["type"] == 5 else None
        if want:
            typed["errno" if "errno" in want else "int"] += 1
            for k, v in want.items():
                got = f.get(k)
                ok = got is not None and (float(got) == v if isinstance(v, float) else
                                          (got == v if isinstance(v, str) else int(got) == v))
                if not ok:
                    bad(i, "%s = %r, the call passed %r" % (k, got, v))
        prev = b["ts"]
    if "--no-args" not in sys.argv[3:] and (not typed["int"] or not typed["errno"]):
        errors.append("no typed arguments checked: %r" % typed)
    for e in errors[:20]:
        print("ctf_check:", e)
    gaps = sum(1 for d in dump if "gap" in d)
    print("ctf_check: %d events (%d gaps), %d typed calls checked, %d mismatches"
          % (len(bt), gaps, typed["int"] + typed["errno"], len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
