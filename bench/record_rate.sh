#!/usr/bin/env bash
# `make bench-record`: how fast continuous recording empties a region into
# files on disk, plain and zstd-compressed.  Per run: a fresh drop-policy
# region (5 lanes of 64 MiB) is filled by 4 processes of examples/orders
# (deferred entries with 1 and 4 arguments; N/4 calls each, so nothing is
# dropped), then
#   ringlog record REGION --dir DIR --continuous --no-snapshots [--compress zstd]
# is started and timed until the region holds nothing (polled every 10 ms
# with `ringlog stats --json`), then stopped with SIGINT.
#   entries/s    entries recorded / (start .. region empty)
#   bytes/entry  bytes of all recording files / entries recorded
# The producers are not timed: the region is full before recording starts.
# DIR is under $RECORD_DIR (default /var/tmp: a disk, not a tmpfs).
# Prints each run and the median of RUNS.  Usage:
#   bench/record_rate.sh [BUILD_DIR]      (env: N=1600000 RUNS=3 RECORD_DIR=/var/tmp)
set -u
B=${1:-build}
N=${N:-1600000}
RUNS=${RUNS:-3}
RL=$(cd "$B" && pwd)/ringlog
EX=$(cd "$B" && pwd)/examples/orders
[ -x "$RL" ] && [ -x "$EX" ] || { echo "record_rate: build first (make -j2)" >&2; exit 2; }
TMP=$(mktemp -d "${RECORD_DIR:-/var/tmp}/ringlog-recrate.XXXXXX")
NAME="ringlog-recrate-$$"
RPID=
cleanup() {
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    "$RL" rm --force "$NAME" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "record_rate: $*" >&2; exit 1; }
now_ns() { date +%s%N; }

one_run() { # one_run MODE I -> "RATE BYTES_PER_ENTRY" on stdout
    local mode=$1 d="$TMP/$1-$2" opts="" per=$((N / 8)) t0 t1 buffered i entries bytes
    [ "$mode" = zstd ] && opts="--compress zstd"
    "$RL" rm --force "$NAME" >/dev/null 2>&1
    "$RL" demo --seconds 0 --threads 4 --ring-size 64M --policy drop --keep --name "$NAME" \
        >/dev/null 2>&1 || die "cannot create the region"
    for p in 1 2 3 4; do "$EX" "$NAME" "$per" >/dev/null & done
    wait
    local lost
    lost=$("$RL" stats "$NAME" --json | jq '.total.lost')
    [ "$lost" -eq 0 ] || die "the producers lost $lost calls: raise the ring size"
    t0=$(now_ns)
    "$RL" record "$NAME" --dir "$d" --continuous --no-snapshots --flush 0.1 $opts \
        >/dev/null 2>"$d.err" &
    RPID=$!
    for i in $(seq 1 6000); do
        buffered=$("$RL" stats "$NAME" --json | jq '.total.buffered')
        [ "$buffered" -eq 0 ] && break
        sleep 0.01
    done
    t1=$(now_ns)
    kill -INT "$RPID"
    wait "$RPID" || die "record failed: $(cat "$d.err")"
    RPID=
    entries=$(sed -n 's/.*record: \([0-9]*\) entries.*/\1/p' "$d.err")
    [ -n "$entries" ] && [ "$entries" -gt 0 ] || die "no summary from record: $(cat "$d.err")"
    bytes=$(cat "$d"/*.rlrec | wc -c)
    awk -v n="$entries" -v b="$bytes" -v ns=$((t1 - t0)) \
        'BEGIN { printf "%.0f %.1f %d\n", n / (ns / 1e9), b / n, n }'
    rm -rf "$d"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "continuous recording of $N deferred entries, $RUNS runs each (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for mode in plain zstd; do
    : >"$TMP/rates"
    for i in $(seq 1 "$RUNS"); do
        r=$(one_run "$mode" "$i") || { [ "$mode" = zstd ] && echo "  zstd: skipped" && continue 2; exit 1; }
        echo "  $mode run $i: $(echo "$r" | awk '{ printf "%s entries/s, %s bytes/entry (%s entries)", $1, $2, $3 }')"
        echo "$r" >>"$TMP/rates"
    done
    echo "$mode: median $(cut -d' ' -f1 "$TMP/rates" | median) entries/s," \
        "$(cut -d' ' -f2 "$TMP/rates" | median) bytes/entry"
done
