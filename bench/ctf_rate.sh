#!/bin/sh
# Export rate of `ringlog export --ctf`: entries per second, median of RUNS
# (default 3) exports of the same region into a fresh directory each time.
# Two regions: `ringlog demo` (text and raw entries, 2 threads, 32 MiB lanes
# filled in overwrite mode: about 1.07 M entries) and tests/ctf_prog
# (deferred calls with 8 typed arguments, %m calls and text: about 0.6 M
# entries, each deferred one formatted and its arguments decoded).
# Usage: sh bench/ctf_rate.sh [BUILD_DIR]   (after `make all tests` or
# `make BUILD_DIR/tests/ctf_prog`); TMPDIR chooses where traces go.
set -eu
B=${1:-build}
RUNS=${RUNS:-3}
RL=$B/ringlog
OUT=$(mktemp -d "${TMPDIR:-/tmp}/ringlog-ctfrate.XXXXXX")
D="ringlog-ctfrate-demo-$$" P="ringlog-ctfrate-prog-$$"
trap '"$RL" rm --force "$D" "$P" >/dev/null 2>&1; rm -rf "$OUT"' EXIT
"$RL" demo --threads 2 --seconds 1 --ring-size 32M --name "$D" --keep --no-reader >/dev/null 2>&1
"$B/tests/ctf_prog" "$P" 2 200000 67108864 overwrite
rate() { # region: prints entries, the median wall time of the whole command, the rate
    i=0
    while [ $i -lt "$RUNS" ]; do
        rm -rf "$OUT/t"
        t0=$(date +%s.%N)
        n=$("$RL" export "$1" --ctf "$OUT/t" 2>&1 | sed -n 's/.*: \([0-9]*\) entries, .*/\1/p')
        t1=$(date +%s.%N)
        echo "$n $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')"
        i=$((i + 1))
    done | sort -k2 -n | awk -v runs="$RUNS" '
        {e[NR] = $1; s[NR] = $2; all = all sprintf(" %.3f", $2)}
        END {m = int((NR + 1) / 2)
             printf "%d entries, median %.3f s of %d runs (%s s): %.0f entries/s\n", e[m], s[m], runs, all, e[m] / s[m]}'
}
printf 'demo region (text + raw):       '; rate "$D"
printf 'ctf_prog region (typed deferred): '; rate "$P"
