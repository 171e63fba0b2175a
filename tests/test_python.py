"""The Python reader (python/ringlog) against regions written by the C
library and read back by the `ringlog` tool: the same entries, messages,
sites, gaps and counters; follow; `python3 -m ringlog dump|stats|info`.

Run by `make check-python`, which builds the tool and the examples and sets
    RINGLOG_TOOL     build/ringlog
    RINGLOG_ORDERS   build/examples/orders (a program logging deferred entries)
    RINGLOG_LIB      build/libringlog.so.0 (what the package loads)
    PYTHONPATH       python
By hand:  RINGLOG_TOOL=build/ringlog RINGLOG_ORDERS=build/examples/orders \\
          PYTHONPATH=python python3 -m pytest -q tests/test_python.py
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import ringlog

TEXT = "plain text \u00e9"


def _path_from_env(var):
    p = os.environ.get(var)
    if not p:
        pytest.fail(f"{var} is not set: run `make check-python` (see this file's docstring)")
    p = os.path.abspath(p)
    if not os.access(p, os.X_OK):
        pytest.fail(f"{var}={p} is not an executable: build it first (make -j2)")
    return p


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=20, **kw)


def pymod(*args):
    """python3 -m ringlog ARGS (the package from this interpreter's path)."""
    return run(sys.executable, "-m", "ringlog", *args)


@pytest.fixture(scope="session")
def rl():
    return _path_from_env("RINGLOG_TOOL")


@pytest.fixture(scope="session")
def orders():
    return _path_from_env("RINGLOG_ORDERS")


def _make_orders_region(rl, orders, path):
    """5 orders (deferred entries from examples/orders.c) and one text entry."""
    r = run(orders, path, "5")
    assert r.returncode == 0, r.stderr
    r = run(rl, "write", path, TEXT)
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture(scope="module")
def region(rl, orders, tmp_path_factory):
    """A region only peeked at: every test of the module may share it."""
    path = _make_orders_region(rl, orders, str(tmp_path_factory.mktemp("peek") / "orders.rlog"))
    yield path
    run(rl, "rm", path)


@pytest.fixture
def own_region(rl, orders, tmp_path):
    """A fresh region of the test's own (for consuming readers)."""
    path = _make_orders_region(rl, orders, str(tmp_path / "orders.rlog"))
    yield path
    run(rl, "rm", path)


@pytest.fixture(scope="module")
def drop_region(rl, tmp_path_factory):
    """A drop-policy region whose small rings refused calls: it has gaps."""
    path = str(tmp_path_factory.mktemp("drop") / "drop.rlog")
    r = run(rl, "demo", "--seconds", "0.1", "--threads", "1", "--ring-size", "4096",
            "--policy", "drop", "--keep", "--no-reader", "--name", path)
    assert os.path.exists(path), r.stderr
    yield path
    run(rl, "rm", path)


@pytest.fixture(scope="module")
def tool_entries(rl, region):
    out = run(rl, "dump", region, "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(l) for l in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def entries(region):
    with ringlog.Reader(region) as r:
        return list(r)


# --- entries --------------------------------------------------------------

def test_as_many_entries_as_the_tool(entries, tool_entries):
    # 5 orders: a debug and an info each, the final warn; then the text entry
    assert len(tool_entries) == 12
    assert len(entries) == len(tool_entries)
    assert all(isinstance(e, ringlog.Entry) for e in entries)


@pytest.mark.parametrize("field", ["message", "pid", "tid", "lane", "cpu", "seq",
                                   "level", "index", "type", "flags", "remarks"])
def test_fields_equal_the_tools(entries, tool_entries, field):
    assert [getattr(e, field) for e in entries] == [t[field] for t in tool_entries]


def test_times_equal_the_tools(entries, tool_entries):
    # the tool prints nanoseconds: "2026-11-25T05:06:07.123456789Z"
    for e, t in zip(entries, tool_entries):
        assert t["time"].endswith("%09dZ" % (e.time_ns % 1_000_000_000))
        assert e.time.strftime("%Y-%m-%dT%H:%M:%S") == t["time"][:19]


def test_times_in_order_and_recent(entries):
    assert all(a.time_ns <= b.time_ns for a, b in zip(entries, entries[1:]))
    assert entries[0].time.year >= 2024
    assert abs(time.time() - entries[-1].time_ns / 1e9) < 600


def test_deferred_messages_formatted(entries):
    msgs = [e.message for e in entries if e.type == ringlog.TYPE_DEFERRED]
    assert "order 1 filled: 101 lots of ACME at 10.25" in msgs
    assert "pricing order 4" in msgs
    assert msgs[-1] == "done after 5 orders"


def test_sites_of_deferred_entries(entries, tool_entries):
    deferred = [(e, t) for e, t in zip(entries, tool_entries) if e.type == ringlog.TYPE_DEFERRED]
    assert len(deferred) == 11
    for e, t in deferred:
        assert e.site == (t["file"], t["line"], t["function"])
        assert e.site[0] == "examples/orders.c" and e.site[2] == "main" and e.site[1] > 0


def test_text_entry_decoded_utf8(entries):
    last = entries[-1]
    assert last.type == ringlog.TYPE_TEXT
    assert last.message == TEXT
    assert last.site is None
    assert last.raw == TEXT.encode()
    assert last.level == "info" and last.level_no == 2


def test_as_dict(entries):
    d = entries[-1].as_dict()
    assert d["message"] == TEXT and d["level"] == "info" and "raw" not in d
    json.dumps(d)  # serialisable as is


def test_peek_changes_nothing(region, entries):
    with ringlog.Reader(region) as r:
        again = list(r)
        assert r.stats()["total"]["buffered"] == len(entries)
    assert [e.message for e in again] == [e.message for e in entries]


# --- info and counters ----------------------------------------------------

def test_info(region, entries, rl):
    with ringlog.Reader(region) as r:
        info = r.info()
    assert info["lanes"] == info["nrings"] > 0
    assert info["next_index"] == len(entries)
    assert info["policy"] in ("overwrite", "drop")
    tool = json.loads(run(rl, "stats", region, "--json").stdout)["info"]
    for k in ("version", "nrings", "ring_size", "policy", "next_index", "creator_pid",
              "sites", "dict_size", "dict_used", "clock"):
        assert info[k] == tool[k], k


def test_stats_balance(region, entries):
    with ringlog.Reader(region) as r:
        s, info_lanes = r.stats(), r.info()["lanes"]
    t = s["total"]
    assert t["written"] == t["read"] + t["lost"] + t["overwritten"] + t["buffered"] + t["abandoned"]
    assert t["buffered"] == t["written"] == len(entries)
    assert len(s["lanes"]) == info_lanes
    for k in t:
        assert t[k] == sum(l[k] for l in s["lanes"]), k


def test_stats_equal_the_tools(region, rl):
    tool = json.loads(run(rl, "stats", region, "--json").stdout)
    with ringlog.Reader(region) as r:
        mine = r.stats()
    assert tool["balanced"] is True
    assert mine["total"] == tool["total"]
    assert [dict(l) for l in mine["lanes"]] == [{k: v for k, v in l.items() if k != "ring"}
                                                for l in tool["rings"]]


# --- gaps -----------------------------------------------------------------

def test_gaps_count_lost_calls(drop_region):
    with ringlog.Reader(drop_region, gaps=True) as r:
        items = list(r)
        lost = r.stats()["total"]["lost"]
    gaps = [g for g in items if isinstance(g, ringlog.Gap)]
    assert lost > 0
    assert gaps and sum(g.count for g in gaps) == lost
    # indices run without a hole: entries and gaps cover every call in order
    nxt = 0
    for x in items:
        first = x.first if isinstance(x, ringlog.Gap) else x.index
        assert first == nxt
        nxt = first + (x.count if isinstance(x, ringlog.Gap) else 1)


def test_gaps_equal_the_tools(drop_region, rl):
    tool = [json.loads(l) for l in run(rl, "dump", drop_region, "--json").stdout.splitlines()]
    with ringlog.Reader(drop_region, gaps=True) as r:
        mine = list(r)
    assert [(g["gap"], g["count"]) for g in tool if "gap" in g] == \
        [(g.first, g.count) for g in mine if isinstance(g, ringlog.Gap)]


def test_no_gaps_unless_asked(drop_region):
    with ringlog.Reader(drop_region) as r:
        assert not any(isinstance(x, ringlog.Gap) for x in r)


# --- recording files (ringlog record --continuous) --------------------------

@pytest.fixture(scope="module")
def recording(rl, orders, tmp_path_factory):
    """A region recorded into files while examples/orders logs: the files."""
    d = tmp_path_factory.mktemp("rec")
    name = str(d / "rec.rlog")
    assert run(orders, name, "0").returncode == 0
    err = open(d / "record.err", "w+")
    p = subprocess.Popen([rl, "record", name, "--dir", str(d / "files"), "--continuous",
                          "--max-file-size", "16K", "--flush", "0.01", "--no-snapshots"],
                         stdout=subprocess.DEVNULL, stderr=err)
    try:
        for _ in range(200):  # the recorder says it started: 20 s at most
            err.seek(0)
            if "recording" in err.read():
                break
            time.sleep(0.1)
        assert run(orders, name, "3000").returncode == 0
        time.sleep(0.3)
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == 0
    files = sorted(str(f) for f in (d / "files").glob("*.rlrec"))
    yield files
    run(rl, "rm", name)


def test_recording_files_read_like_the_tool(recording, rl):
    assert len(recording) >= 2  # rotated
    for f in recording:
        tool = [json.loads(l) for l in run(rl, "dump", f, "--json").stdout.splitlines()]
        with ringlog.Reader(f, gaps=True) as r:
            mine = list(r)
        assert [t.get("index", t.get("gap")) for t in tool] == \
            [x.first if isinstance(x, ringlog.Gap) else x.index for x in mine]
        assert [t["message"] for t in tool if "message" in t] == \
            [x.message for x in mine if isinstance(x, ringlog.Entry)]


def test_recording_files_continue_the_index(recording):
    nxt = 0
    for f in recording:
        with ringlog.Reader(f, gaps=True) as r:
            for x in r:
                first = x.first if isinstance(x, ringlog.Gap) else x.index
                assert first == nxt
                nxt = first + (x.count if isinstance(x, ringlog.Gap) else 1)
    assert nxt == 2 * 3000 + 2  # every call of both runs of orders


# --- consuming readers and follow -----------------------------------------

def test_consumer_claims_every_entry_once(own_region):
    with ringlog.Reader(own_region) as r:
        n = len(list(r))
    with ringlog.Reader(own_region, consume=True) as r:
        got = []
        for _ in range(50):
            got += r.read(20)
            if len(got) >= n:
                break
    assert len(got) == n == 12
    assert [e.index for e in got] == list(range(n))
    with ringlog.Reader(own_region) as r:
        t = r.stats()["total"]
    assert t["buffered"] == 0 and t["read"] == n
    with ringlog.Reader(own_region, consume=True) as r:
        assert r.read(20) == []


class _Alarm(Exception):
    pass


@pytest.fixture
def deadline():
    """A bound for code that may block: SIGALRM after the given seconds."""
    def on_alarm(*_):
        raise _Alarm("timed out")
    old = signal.signal(signal.SIGALRM, on_alarm)
    yield lambda s: signal.alarm(s)
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_follow_yields_entries_as_they_come(own_region, rl, deadline):
    later = [f"later {i} \"q\"" for i in range(5)]

    def writer():
        time.sleep(0.3)
        for m in later:
            subprocess.run([rl, "write", own_region, m], capture_output=True, timeout=10)
            time.sleep(0.05)

    got = []
    deadline(10)
    with ringlog.Reader(own_region, consume=True) as r:
        t = threading.Thread(target=writer)
        t.start()
        try:
            for e in r.follow(timeout_ms=50):
                got.append(e)
                if len(got) == 12 + len(later):
                    break
        finally:
            t.join()
    assert [e.message for e in got[12:]] == later
    assert got[11].message == TEXT
    assert [e.index for e in got] == list(range(len(got)))


# --- python3 -m ringlog ---------------------------------------------------

def test_module_dump_json(region, tool_entries):
    out = pymod("dump", region, "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(l) for l in out.stdout.splitlines()]
    assert len(lines) == len(tool_entries)
    assert [l["message"] for l in lines] == [t["message"] for t in tool_entries]
    assert [l["index"] for l in lines] == [t["index"] for t in tool_entries]


def test_module_dump_text(region, entries):
    out = pymod("dump", region)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == len(entries)
    assert lines[-1].endswith(" " + TEXT) and " info " in lines[-1]
    assert "order 1 filled: 101 lots of ACME at 10.25" in lines[3]


def test_module_dump_gaps(drop_region):
    out = pymod("dump", drop_region, "--json")
    assert out.returncode == 0, out.stderr
    gaps = [json.loads(l) for l in out.stdout.splitlines() if l.startswith('{"gap"')]
    with ringlog.Reader(drop_region) as r:
        assert sum(g["count"] for g in gaps) == r.stats()["total"]["lost"] > 0


def test_module_stats(region, rl):
    out = pymod("stats", region)
    assert out.returncode == 0, out.stderr
    mine = json.loads(out.stdout)
    assert mine["total"] == json.loads(run(rl, "stats", region, "--json").stdout)["total"]


def test_module_info(region, entries):
    out = pymod("info", region)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["next_index"] == len(entries) and info["lanes"] > 0


def test_module_usage():
    out = pymod("frobnicate", "x")
    assert out.returncode == 2 and "usage:" in out.stderr


# --- errors ---------------------------------------------------------------

def test_module_missing_region(tmp_path):
    out = pymod("dump", str(tmp_path / "none.rlog"))
    assert out.returncode == 1
    assert "no such region" in out.stderr and len(out.stderr.splitlines()) == 1


def test_missing_region_raises(tmp_path):
    with pytest.raises(ringlog.RinglogError, match="no such region"):
        ringlog.Reader(str(tmp_path / "none.rlog"))


def test_non_region_raises():
    with pytest.raises(ringlog.RinglogError, match="not a ringlog region") as e:
        ringlog.Reader("/etc/passwd")
    assert e.value.code < 0
