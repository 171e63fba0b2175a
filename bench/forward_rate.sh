#!/usr/bin/env bash
# `make bench-forward`: how fast `ringlog forward --syslog tcp://` empties a
# region into a real rsyslog.  Per run: rsyslog is started in the foreground
# on a loopback port with its own configuration and work directory (never as
# a service; imtcp and one omfile, no imuxsock/imklog), a fresh region gets
# N entries (half deferred, from examples/orders: formatted by the forwarder
# from the call-site dictionary, with file/line/function structured data;
# half text, from `ringlog write`), then
#   ringlog forward REGION --syslog tcp://127.0.0.1:PORT --exit-when-idle
# is timed while the output file is polled until it holds all N lines.
#   forwarder   N / (forward's run time - the 500 ms idle window that
#               --exit-when-idle waits before it exits)
#   end to end  N / (forward's start .. rsyslog's file holding N lines;
#               polled every 20 ms)
# The producers are not timed: the region is full before forward starts.
# Prints each run and the median of RUNS.  Usage:
#   bench/forward_rate.sh [BUILD_DIR]      (env: N=200000 RUNS=3 PORT=... PROTO=tcp|relp)
# PROTO=relp forwards over RELP into imrelp (rsyslog-relp): every message
# acknowledged, so rsyslog's answers pace it.
# Needs rsyslogd (Debian: rsyslog).  Nothing is left behind.
set -u
B=${1:-build}
N=${N:-200000}
RUNS=${RUNS:-3}
PROTO=${PROTO:-tcp}
case $PROTO in tcp | relp) ;; *) echo "forward_rate: PROTO is tcp or relp" >&2; exit 2 ;; esac
RL=$(cd "$B" && pwd)/ringlog
EX=$(cd "$B" && pwd)/examples/orders
RSD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RL" ] && [ -x "$EX" ] || { echo "forward_rate: build first (make -j2)" >&2; exit 2; }
[ -x "$RSD" ] || { echo "forward_rate: rsyslogd is not installed (apt-get install rsyslog)" >&2; exit 2; }
[ "$N" -ge 8 ] || { echo "forward_rate: N must be at least 8" >&2; exit 2; }
PORT=${PORT:-$((30000 + $$ % 10000))}
TMP=$(mktemp -d /tmp/ringlog-fwdrate.XXXXXX)
RPID=
FPID=
cleanup() {
    [ -n "$FPID" ] && kill "$FPID" 2>/dev/null
    if [ -n "$RPID" ]; then kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ns() { date +%s%N; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
die() { echo "forward_rate: $*" >&2; exit 1; }

one_run() { # one_run I: "FWD_RATE E2E_RATE" (entries/s) into $TMP/rates
    local d="$TMP/run$1" i
    mkdir -p "$d"
    cat >"$d/rsyslog.conf" <<CONF
global(workDirectory="$d")
module(load="im$PROTO")
input(type="im$PROTO" address="127.0.0.1" port="$PORT")
template(name="fields" type="string"
         string="pri=%pri% app=%app-name% procid=%procid% msgid=%msgid% sd=%structured-data% msg=%msg%\n")
action(type="omfile" file="$d/out.log" template="fields")
CONF
    "$RSD" -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid" >"$d/rsyslogd.out" 2>&1 &
    RPID=$!
    i=0
    while [ $i -lt 100 ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
    [ $i -lt 100 ] || { cat "$d/rsyslogd.out" >&2; die "rsyslog did not listen on 127.0.0.1:$PORT within 5 s"; }

    # The region: 16 MiB lanes (one producer process writes one lane),
    # created and drained by `ringlog demo`; then N entries.
    local R="$d/fwd.rlog" c=$((N / 4)) buffered
    "$RL" demo --seconds 0.01 --threads 1 --ring-size 16M --keep --name "$R" >/dev/null 2>&1 ||
        die "ringlog demo could not create $R"
    "$EX" "$R" "$c" >/dev/null 2>&1 || die "examples/orders failed"
    seq $((N - 2 * c - 1)) | sed 's/^/request served in 42 ms: GET \/api\/v1\/items?id=/' |
        "$RL" write "$R" >/dev/null 2>&1 || die "ringlog write failed"
    buffered=$("$RL" stats "$R" --json | sed -n 's/.*"total":{[^}]*"buffered":\([0-9]*\).*/\1/p')
    [ "$buffered" = "$N" ] || die "the region holds $buffered entries, not $N"

    local t0 t1 t2 n rc
    t0=$(now_ns)
    "$RL" forward "$R" --syslog "$PROTO://127.0.0.1:$PORT" --exit-when-idle 2>"$d/fwd.err" &
    FPID=$!
    i=0 # bounded: 120 s
    while [ $i -lt 6000 ] && [ "$(lines "$d/out.log")" -lt "$N" ]; do sleep 0.02; i=$((i + 1)); done
    t1=$(now_ns)
    wait "$FPID"; rc=$?; FPID=
    t2=$(now_ns)
    n=$(lines "$d/out.log")
    [ "$rc" -eq 0 ] || { cat "$d/fwd.err" >&2; die "forward exited $rc"; }
    [ "$n" -eq "$N" ] || { cat "$d/fwd.err" >&2; die "rsyslog wrote $n of $N lines within 120 s"; }
    grep -q "msgid=DEFERRED sd=\[ringlog@32473 .*function=\"main\"\] msg=order 7 filled" "$d/out.log" ||
        die "no deferred entry with its structured data in rsyslog's file"
    kill "$RPID"; wait "$RPID" 2>/dev/null; RPID=
    sed 's/^/  /' "$d/fwd.err"
    awk -v n="$N" -v f=$((t2 - t0 - 500000000)) -v e=$((t1 - t0)) \
        'BEGIN { printf "%.0f %.0f\n", n / (f / 1e9), n / (e / 1e9) }' >"$TMP/rates"
    rm -rf "$d"
}

echo "ringlog forward --syslog $PROTO:// into rsyslog $("$RSD" -v | awk 'NR == 1 { print $2 }'), $N entries, $RUNS runs ($(nproc) CPUs)"
# Other work on the CPUs moves these numbers a lot: say how busy they were.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
fwd=()
e2e=()
for r in $(seq 1 "$RUNS"); do
    one_run "$r"
    set -- $(cat "$TMP/rates")
    fwd+=("$1"); e2e+=("$2")
    printf '  run %d: forwarder %8d entries/s   end to end %8d entries/s\n' "$r" "$1" "$2"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
printf 'median:   forwarder %8d entries/s   end to end %8d entries/s\n' "$(median "${fwd[@]}")" "$(median "${e2e[@]}")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
