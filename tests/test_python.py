"""The Python reader (python/ringlog) against the `ringlog` tool: the same
entries, messages, sites, gaps and counters.  Usage:
    PYTHONPATH=python python3 tests/test_python.py build/ringlog build/examples/orders
Prints "ok - ..." / "not ok - ..." lines; exits non-zero on any failure."""

import json
import os
import subprocess
import sys
import tempfile

import ringlog

RL, ORDERS = sys.argv[1], sys.argv[2]
fails = 0


def check(what, cond):
    global fails
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        fails += 1


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


tmp = tempfile.mkdtemp(prefix="ringlog-py.")
region = os.path.join(tmp, "orders.rlog")
run(ORDERS, region, "5")
run(RL, "write", region, "plain text \u00e9")

# The same entries as `ringlog dump --json`, field for field.
tool = [json.loads(l) for l in run(RL, "dump", region, "--json").stdout.splitlines()]
with ringlog.Reader(region) as r:
    mine = list(r)
check(f"as many entries as the tool ({len(mine)} of {len(tool)})", len(mine) == len(tool) > 0)
same = all(a["message"] == b.message and a["pid"] == b.pid and a["tid"] == b.tid and
           a["lane"] == b.lane and a["seq"] == b.seq and a["level"] == b.level and
           a["index"] == b.index for a, b in zip(tool, mine))
check("messages, pid, tid, lane, seq, level, index equal the tool's", same)
sites = [b.site for b in mine if b.type == ringlog.TYPE_DEFERRED]
check("deferred entries have their call site",
      sites and all(s[0] == "examples/orders.c" and s[2] == "main" for s in sites))
check("a text entry's message is decoded UTF-8", mine[-1].message == "plain text \u00e9")
check("times are in order and near now",
      all(a.time_ns <= b.time_ns for a, b in zip(mine, mine[1:])) and mine[0].time.year >= 2024)

with ringlog.Reader(region) as r:
    info, stats = r.info(), r.stats()
t = stats["total"]
check("info: lanes and calls", info["lanes"] > 0 and info["next_index"] == len(mine))
check("stats balance exactly",
      t["written"] == t["read"] + t["lost"] + t["overwritten"] + t["buffered"] + t["abandoned"]
      and t["buffered"] == len(mine))
tool_stats = json.loads(run(RL, "stats", region, "--json").stdout)
check("stats equal the tool's totals", tool_stats["total"]["written"] == t["written"])

# Gaps: a drop region that refused calls.
drop = os.path.join(tmp, "drop.rlog")
run(RL, "demo", "--seconds", "0.1", "--threads", "1", "--ring-size", "4096", "--policy", "drop",
    "--keep", "--no-reader", "--name", drop)
with ringlog.Reader(drop, gaps=True) as r:
    items = list(r)
    lost = r.stats()["total"]["lost"]
gaps = [g for g in items if isinstance(g, ringlog.Gap)]
check(f"gaps come as Gap objects and count the lost calls exactly ({sum(g.count for g in gaps)} of {lost})",
      sum(g.count for g in gaps) == lost and lost > 0)

# python3 -m ringlog dump (a peek: before the consumer below claims them).
env = dict(os.environ)
out = run(sys.executable, "-m", "ringlog", "dump", region, "--json", env=env)
check("python3 -m ringlog dump --json prints one object per entry",
      out.returncode == 0 and len(out.stdout.splitlines()) == len(mine))

# A consumer claims; a second consumer sees nothing more.
with ringlog.Reader(region, consume=True) as r:
    got = []
    for _ in range(50):
        got += r.read(20)
        if len(got) >= len(mine):
            break
check(f"a consuming reader gets every entry ({len(got)})", len(got) == len(mine))
with ringlog.Reader(region) as r:
    check("after it, the region holds no unread entry", r.stats()["total"]["buffered"] == 0)

# Errors.
out = run(sys.executable, "-m", "ringlog", "dump", os.path.join(tmp, "none.rlog"), env=env)
check("a missing region: exit 1 and one line naming it",
      out.returncode == 1 and "no such region" in out.stderr and len(out.stderr.splitlines()) == 1)
try:
    ringlog.Reader("/etc/passwd")
    check("a non-region file raises RinglogError", False)
except ringlog.RinglogError as e:
    check("a non-region file raises RinglogError", "not a ringlog region" in str(e))

run(RL, "rm", region, drop)
os.rmdir(tmp)
print(f"python: {fails} failed")
sys.exit(1 if fails else 0)
