#!/bin/sh
# `ringlog forward --syslog` into a real rsyslog, started by the test in the
# foreground on a loopback port with its own configuration (never as a
# service): over TCP (octet-counted) and UDP, RFC 5424 parsed by rsyslog,
# counts and content checked from its output file.
# Usage: tests/syslog.sh BUILD_DIR.  Needs rsyslogd (Debian: rsyslog).
set -u
B=${1:-build}
RL=$(cd "$B" && pwd)/ringlog
EX=$(cd "$B" && pwd)/examples/orders
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
RSD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
if [ ! -x "$RSD" ]; then
    bad "rsyslogd is not installed (apt-get install rsyslog; .ci/run does)"; echo "syslog: $fails failed"; exit 1
fi
TMP=$(mktemp -d /tmp/ringlog-syslog.XXXXXX)
RPID=
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
# A free port: the test's pid spread over 20000..29999.
PORT=$((20000 + $$ % 10000))
cat >"$TMP/rsyslog.conf" <<CONF
global(workDirectory="$TMP")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="$PORT")
input(type="imtcp" address="127.0.0.1" port="$PORT")
template(name="fields" type="string"
         string="proto=%protocol-version% pri=%pri% app=%app-name% procid=%procid% msgid=%msgid% sd=%structured-data% msg=%msg%\n")
action(type="omfile" file="$TMP/out.log" template="fields")
CONF
start_rsyslog() {
    "$RSD" -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslogd.pid" >"$TMP/rsyslogd.out" 2>&1 &
    RPID=$!
    i=0
    while [ $i -lt 50 ] && ! (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
}
start_rsyslog
wait_lines() { # wait_lines PATTERN N: up to 5 s
    i=0
    while [ $i -lt 50 ] && [ "$(grep -c "$1" "$TMP/out.log" 2>/dev/null)" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
}

R="$TMP/fwd.rlog"
"$EX" "$R" 4 >/dev/null 2>&1
"$RL" write "$R" --level error 'quote " and ] in it' >/dev/null 2>&1
"$RL" forward "$R" --syslog tcp://127.0.0.1:$PORT --facility local3 --exit-when-idle 2>"$TMP/fwd.err"
rc=$?
[ "$rc" -eq 0 ] && ok "forward over TCP exits 0" || { bad "forward over TCP exits 0 ($rc)"; cat "$TMP/fwd.err"; }
wait_lines "app=ringlog" 10
n=$(grep -c "^proto=1 .*app=ringlog" "$TMP/out.log" 2>/dev/null)
[ "$n" -eq 10 ] && ok "all 10 entries arrived over TCP as RFC 5424 ($n)" || { bad "all 10 entries arrived over TCP as RFC 5424 ($n)"; head -3 "$TMP/out.log"; cat "$TMP/rsyslogd.out"; }
grep -q "^proto=1 pri=158 app=ringlog procid=[0-9]* msgid=DEFERRED sd=\[ringlog@32473 region=\"[^\"]*fwd.rlog\" index=\"[0-9]*\" lane=\"[0-9]*\" tid=\"[0-9]*\" seq=\"[0-9]*\" file=\"examples/orders.c\" line=\"[0-9]*\" function=\"main\"\] msg=order 1 filled: 101 lots of ACME at 10.25$" "$TMP/out.log" &&
    ok "PRI (local3, info), PROCID, MSGID and the structured data of a deferred entry" || { bad "PRI, PROCID, MSGID and structured data"; grep "order 1" "$TMP/out.log"; }
grep -q "pri=155 .*msgid=TEXT .*msg=quote \" and \] in it$" "$TMP/out.log" && ok "an error entry: severity 3; the message as is" || bad "an error entry: severity 3"
: >"$TMP/out.log"
"$EX" "$R" 2 >/dev/null 2>&1
"$RL" forward "$R" --syslog udp://127.0.0.1:$PORT --exit-when-idle 2>/dev/null
wait_lines "app=ringlog" 5
n=$(grep -c "^proto=1 pri=1[0-9] app=ringlog" "$TMP/out.log")
[ "$n" -eq 5 ] && ok "5 entries over UDP, facility user" || bad "5 entries over UDP, facility user ($n)"

# The server restarts mid-stream: forward reconnects; what could not be
# sent is counted, and sent + unsent covers every entry.
: >"$TMP/out.log"
"$RL" forward "$R" --syslog tcp://127.0.0.1:$PORT 2>"$TMP/fwd2.err" &
fp=$!
sleep 0.3
yes "before the restart" | head -n 200 | "$RL" write "$R" >/dev/null 2>&1
wait_lines "before the restart" 200
kill "$RPID"; wait "$RPID" 2>/dev/null
start_rsyslog
yes "after the restart" | head -n 200 | "$RL" write "$R" >/dev/null 2>&1
wait_lines "after the restart" 150
sleep 1
kill -TERM "$fp"; wait "$fp"
b=$(grep -c "before the restart" "$TMP/out.log")
a=$(grep -c "after the restart" "$TMP/out.log")
sent=$(sed -n 's/.*: \([0-9]*\) sent to .*/\1/p' "$TMP/fwd2.err")
unsent=$(sed -n 's/.*, \([0-9]*\) unsent$/\1/p' "$TMP/fwd2.err")
[ "$b" -eq 200 ] && ok "200 of 200 before the restart" || bad "200 of 200 before the restart ($b)"
[ "$a" -gt 0 ] && ok "forward reconnected after the restart ($a after it)" || { bad "forward reconnected after the restart"; cat "$TMP/fwd2.err"; }
[ -n "$sent" ] && [ -n "$unsent" ] && [ $((sent + unsent)) -eq 400 ] && ok "sent + unsent = 400 calls ($sent + $unsent)" || bad "sent + unsent = 400 ($sent + $unsent)"
echo "syslog: $fails failed"
[ "$fails" -eq 0 ]
