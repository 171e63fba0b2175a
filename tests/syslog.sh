#!/bin/sh
# `ringlog forward --syslog` into a real rsyslog, started by the test in the
# foreground on loopback ports with its own configuration (never as a
# service): over TCP (octet-counted), UDP and RELP (imrelp), RFC 5424 parsed
# by rsyslog, counts and content checked from its output file; rsyslog
# restarted mid-stream over RELP (nothing lost, duplicates at most the
# resends) and between bursts over TCP (nothing lost).
# Usage: tests/syslog.sh BUILD_DIR.  Needs rsyslogd (Debian: rsyslog),
# imrelp (rsyslog-relp) and ss (iproute2).
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
# Free ports: the test's pid spread over 20000..29999 (TCP and UDP), the
# next one for RELP.
PORT=$((20000 + $$ % 10000))
RPORT=$((PORT + 1))
cat >"$TMP/rsyslog.conf" <<CONF
global(workDirectory="$TMP")
module(load="imudp")
module(load="imtcp")
module(load="imrelp")
input(type="imudp" address="127.0.0.1" port="$PORT")
input(type="imtcp" address="127.0.0.1" port="$PORT")
input(type="imrelp" address="127.0.0.1" port="$RPORT")
template(name="fields" type="string"
         string="proto=%protocol-version% pri=%pri% app=%app-name% procid=%procid% msgid=%msgid% sd=%structured-data% msg=%msg%\n")
action(type="omfile" file="$TMP/out.log" template="fields")
CONF
# Listening on 127.0.0.1:PORT?  (ss from iproute2: /bin/sh is dash here,
# which has no /dev/tcp.)
listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
start_rsyslog() { # both ports listening within 5 s, or say so
    "$RSD" -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslogd.pid" >"$TMP/rsyslogd.out" 2>&1 &
    RPID=$!
    i=0
    while [ $i -lt 50 ] && ! { listening $PORT && listening $RPORT; }; do sleep 0.1; i=$((i + 1)); done
    [ $i -lt 50 ] || { bad "rsyslog listens on TCP $PORT and RELP $RPORT within 5 s (rsyslog-relp and iproute2 installed?)"; cat "$TMP/rsyslogd.out"; }
}
stop_rsyslog() { # SIGTERM, and wait (bounded: 5 s) until it has exited
    kill -TERM "$RPID" 2>/dev/null
    i=0
    while [ $i -lt 50 ] && kill -0 "$RPID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$RPID" 2>/dev/null
    wait "$RPID" 2>/dev/null
    RPID=
}
start_rsyslog
sent_of() { sed -n 's/.*: \([0-9]*\) sent to .*/\1/p' "$1"; }
resent_of() { sed -n 's/.*, \([0-9]*\) resent, .*/\1/p' "$1"; }
unsent_of() { sed -n 's/.*, \([0-9]*\) unsent$/\1/p' "$1"; }
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

# The server restarts between two bursts over plain TCP: forward sees the
# closed connection before writing and connects anew, so nothing is lost.
# (Mid-stream, plain TCP cannot know what the server took: RELP below.)
: >"$TMP/out.log"
"$RL" forward "$R" --syslog tcp://127.0.0.1:$PORT 2>"$TMP/fwd2.err" &
fp=$!
sleep 0.3
yes "before the restart" | head -n 200 | "$RL" write "$R" >/dev/null 2>&1
wait_lines "before the restart" 200
stop_rsyslog
start_rsyslog
yes "after the restart" | head -n 200 | "$RL" write "$R" >/dev/null 2>&1
wait_lines "after the restart" 200
kill -TERM "$fp"; wait "$fp"
b=$(grep -c "before the restart" "$TMP/out.log")
a=$(grep -c "after the restart" "$TMP/out.log")
sent=$(sent_of "$TMP/fwd2.err")
unsent=$(unsent_of "$TMP/fwd2.err")
[ "$b" -eq 200 ] && ok "200 of 200 before the restart" || bad "200 of 200 before the restart ($b)"
[ "$a" -eq 200 ] && ok "200 of 200 after a restart between bursts over TCP" || { bad "200 of 200 after a restart between bursts over TCP ($a)"; cat "$TMP/fwd2.err"; }
[ "$sent" = 400 ] && [ "$unsent" = 0 ] && ok "400 sent, 0 unsent" || { bad "400 sent, 0 unsent ($sent, $unsent)"; cat "$TMP/fwd2.err"; }

# RELP: every message answered by rsyslog; counts and content exact.
: >"$TMP/out.log"
R3="$TMP/relp.rlog"
"$EX" "$R3" 4 >/dev/null 2>&1
"$RL" write "$R3" --level error 'quote " and ] in it' >/dev/null 2>&1
seq 1 300 | sed 's/^/relp line /' | "$RL" write "$R3" >/dev/null 2>&1
"$RL" forward "$R3" --syslog relp://127.0.0.1:$RPORT --facility local3 --exit-when-idle 2>"$TMP/fwd3.err"
rc=$?
[ "$rc" -eq 0 ] && ok "forward over RELP exits 0" || { bad "forward over RELP exits 0 ($rc)"; cat "$TMP/fwd3.err"; }
wait_lines "app=ringlog" 310
n=$(grep -c "^proto=1 .*app=ringlog" "$TMP/out.log")
[ "$n" -eq 310 ] && ok "all 310 entries arrived over RELP as RFC 5424 ($n)" || { bad "all 310 entries arrived over RELP ($n)"; cat "$TMP/fwd3.err" "$TMP/rsyslogd.out"; }
seq 1 300 | sed 's/^/relp line /' >"$TMP/want"
sed -n 's/.*msg=\(relp line [0-9]*\)$/\1/p' "$TMP/out.log" >"$TMP/got"
cmp -s "$TMP/want" "$TMP/got" && ok "the 300 lines over RELP, each once, in order" || bad "the 300 lines over RELP, each once, in order ($(wc -l <"$TMP/got"))"
grep -q "^proto=1 pri=158 app=ringlog procid=[0-9]* msgid=DEFERRED sd=\[ringlog@32473 region=\"[^\"]*relp.rlog\" index=\"[0-9]*\" lane=\"[0-9]*\" tid=\"[0-9]*\" seq=\"[0-9]*\" file=\"examples/orders.c\" line=\"[0-9]*\" function=\"main\"\] msg=order 1 filled: 101 lots of ACME at 10.25$" "$TMP/out.log" &&
    ok "RELP: the same RFC 5424 message as TCP (PRI, PROCID, MSGID, structured data)" || { bad "RELP: the same RFC 5424 message as TCP"; grep "order 1" "$TMP/out.log"; }
grep -q "pri=155 .*msgid=TEXT .*msg=quote \" and \] in it$" "$TMP/out.log" && ok "RELP: an error entry, severity 3, the message as is" || bad "RELP: an error entry"
grep -q ": 310 sent to relp://127.0.0.1:$RPORT (0 of them gaps covering 0 calls), 0 resent, 0 unsent$" "$TMP/fwd3.err" &&
    ok "RELP summary: 310 sent, 0 resent, 0 unsent" || { bad "RELP summary: 310 sent, 0 resent, 0 unsent"; cat "$TMP/fwd3.err"; }

# rsyslog restarted (SIGTERM) in the middle of a RELP stream: 5000 entries
# written over about 2 s while forward runs, and 1000 more in one burst as
# rsyslog is told to stop (so that some are in flight: resends); every
# index arrives at least once, duplicates are at most the resends, sent =
# distinct arrivals, and nothing is unsent.
: >"$TMP/out.log"
R4="$TMP/restart.rlog"
"$RL" demo --seconds 0.01 --threads 1 --ring-size 4M --keep --name "$R4" >/dev/null 2>&1 ||
    bad "ringlog demo could not create $R4"
"$RL" forward "$R4" --syslog relp://127.0.0.1:$RPORT 2>"$TMP/fwd4.err" &
fp=$!
sleep 0.3
(
    i=0
    while [ $i -lt 50 ]; do
        seq $((i * 100 + 1)) $((i * 100 + 100)) | sed 's/^/relp entry /' | "$RL" write "$R4" >/dev/null 2>&1
        sleep 0.04
        i=$((i + 1))
    done
) &
wp=$!
sleep 1
before=$(grep -c "relp entry" "$TMP/out.log")
seq 1 1000 | sed 's/^/relp entry burst /' | "$RL" write "$R4" >/dev/null 2>&1 &
bp=$!
sleep 0.01
stop_rsyslog
wait "$bp"
start_rsyslog
wait "$wp"
distinct() { grep "msg=relp entry" "$TMP/out.log" | grep -o 'index="[0-9]*"' | sort -u | wc -l; }
i=0 # bounded: 15 s
while [ $i -lt 150 ] && [ "$(distinct)" -lt 6000 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -TERM "$fp"; wait "$fp"
rc=$?
lines=$(grep -c "msg=relp entry" "$TMP/out.log")
d=$(distinct)
m=$(sed -n 's/.*msg=\(relp entry .*[0-9]\)$/\1/p' "$TMP/out.log" | sort -u | wc -l)
sent=$(sent_of "$TMP/fwd4.err")
resent=$(resent_of "$TMP/fwd4.err")
unsent=$(unsent_of "$TMP/fwd4.err")
echo "# RELP restart: $before lines before it; $lines lines, $d distinct indexes; $(cat "$TMP/fwd4.err")"
[ "$before" -gt 0 ] && [ "$before" -lt 5000 ] && ok "rsyslog restarted mid-stream ($before of 5000 before)" || bad "rsyslog restarted mid-stream ($before of 5000 before)"
[ "$d" -eq 6000 ] && [ "$m" -eq 6000 ] && ok "RELP across a restart: every one of 6000 indexes arrived" || { bad "RELP across a restart: every one of 6000 indexes arrived ($d indexes, $m messages)"; cat "$TMP/fwd4.err"; }
[ -n "$resent" ] && [ $((lines - d)) -le "$resent" ] && ok "duplicates ($((lines - d))) at most the resends ($resent)" || bad "duplicates ($((lines - d))) at most the resends ($resent)"
[ "$sent" = "$d" ] && ok "sent = distinct arrivals ($sent)" || bad "sent = distinct arrivals ($sent, $d)"
[ "$unsent" = 0 ] && [ "$rc" -eq 0 ] && ok "nothing unsent, exit 0" || bad "nothing unsent, exit 0 ($unsent, $rc)"
# A misbehaving RELP server (tests/relp_fake.py): refusals are counted
# unsent; "serverclose" and a malformed answer end the session, and forward
# reconnects and resends; counts exact, duplicates at most the resends.
FPORT=$((RPORT + 1))
R5="$TMP/fake.rlog"
for mode in refuse serverclose garbage; do
    : >"$TMP/fake.out"
    python3 "$(dirname "$0")/relp_fake.py" $mode $FPORT "$TMP/fake.out" &
    sp=$!
    i=0
    while [ $i -lt 50 ] && ! listening $FPORT; do sleep 0.1; i=$((i + 1)); done
    "$RL" demo --seconds 0.01 --threads 1 --keep --name "$R5" >/dev/null 2>&1
    seq 1 300 | sed 's/^/fake line /' | "$RL" write "$R5" >/dev/null 2>&1
    timeout 60 "$RL" forward "$R5" --syslog relp://127.0.0.1:$FPORT --exit-when-idle 2>"$TMP/fwd5.err"
    rc=$?
    kill -TERM $sp 2>/dev/null; wait $sp 2>/dev/null
    "$RL" rm "$R5" >/dev/null 2>&1 || rm -f "$R5"
    sent=$(sent_of "$TMP/fwd5.err"); resent=$(resent_of "$TMP/fwd5.err"); unsent=$(unsent_of "$TMP/fwd5.err")
    lines=$(grep -c "fake line" "$TMP/fake.out")
    d=$(grep -o "fake line [0-9]*$" "$TMP/fake.out" | sort -u | wc -l)
    if [ $mode = refuse ]; then
        [ "$rc" -eq 1 ] && [ "$sent" = 150 ] && [ "$unsent" = 150 ] && [ "$lines" -eq 300 ] &&
            ok "fake RELP server refusing every other message: 150 sent, 150 unsent, exit 1" ||
            { bad "fake RELP server refusing every other message (rc $rc, $lines lines)"; cat "$TMP/fwd5.err"; }
    else
        [ "$rc" -eq 0 ] && [ "$sent" = 300 ] && [ "$unsent" = 0 ] && [ "$d" -eq 300 ] &&
            [ "$resent" -gt 0 ] && [ $((lines - d)) -le "$resent" ] &&
            ok "fake RELP server, $mode: all 300 arrived, duplicates $((lines - d)) <= resent $resent" ||
            { bad "fake RELP server, $mode (rc $rc, $lines lines, $d distinct)"; cat "$TMP/fwd5.err"; }
    fi
done

echo "syslog: $fails failed"
[ "$fails" -eq 0 ]
