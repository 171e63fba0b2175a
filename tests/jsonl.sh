#!/bin/sh
# `ringlog tail --json` read by real JSON-lines consumers: jq, and rsyslog's
# imfile + mmjsonparse (rsyslog started by the test in the foreground with
# its own configuration and work directory, never as a service; no
# imuxsock/imklog: it touches nothing on the host).  tail follows a region
# into a file while entries are written: deferred entries (examples/orders)
# and text entries with everything JSON must escape (quotes, backslashes,
# control characters, NUL, U+2028, invalid UTF-8, a 2000-byte line that
# escapes to 12 000 bytes).  Checked: every line parses (jq, and rsyslog
# with zero failures), the count parsed equals the entries written and the
# lines tail printed, and the fields rsyslog parsed equal tail's, which
# equal `ringlog dump --json` and the text written.
# rsyslog's JSON library (libfastjson) keeps strings as C strings: a message
# with \u0000 parses, but rsyslog sees it cut at the NUL; those messages are
# compared up to their first NUL (and counted).
# Usage: tests/jsonl.sh BUILD_DIR.  Needs jq and rsyslogd (Debian: rsyslog).
set -u
B=${1:-build}
RL=$(cd "$B" && pwd)/ringlog
EX=$(cd "$B" && pwd)/examples/orders
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
RSD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
if [ ! -x "$RSD" ] || ! command -v jq >/dev/null; then
    bad "rsyslogd and jq are needed (apt-get install rsyslog jq; .ci/run does)"; echo "jsonl: $fails failed"; exit 1
fi
TMP=$(mktemp -d /tmp/ringlog-jsonl.XXXXXX)
RPID=
TPID=
cleanup() {
    [ -n "$TPID" ] && kill "$TPID" 2>/dev/null
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    [ -n "$RPID" ] && wait "$RPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
count() { # lines of a file, 0 when it does not exist
    if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}
wait_count() { # wait_count FILE N SECONDS: until FILE has N lines or time is up
    i=0
    while [ "$i" -lt $(($3 * 10)) ] && [ "$(count "$1")" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
}

# rsyslog: imfile follows tail's output; mmjsonparse with an empty cookie
# parses plain JSON; parsed lines go to ok.log as JSON rebuilt from the
# parsed fields ($!index, $!level, ...; :::json escapes the strings),
# failures to failed.log as rsyslog received them.  maxMessageSize: the
# longest line here is 12 kB (rsyslog's default cuts at 8 kB).
cat >"$TMP/rsyslog.conf" <<CONF
global(workDirectory="$TMP" maxMessageSize="64k")
module(load="imfile")
module(load="mmjsonparse")
input(type="imfile" file="$TMP/tail.jsonl" tag="ringlog" ruleset="jsonl")
template(name="fields" type="string"
         string="{\"index\":%\$!index%,\"level\":\"%\$!level%\",\"type\":%\$!type%,\"lane\":%\$!lane%,\"seq\":%\$!seq%,\"line\":\"%\$!line%\",\"message\":\"%\$!message:::json%\"}\n")
ruleset(name="jsonl") {
    action(type="mmjsonparse" cookie="")
    if \$parsesuccess == "OK" then {
        action(type="omfile" file="$TMP/ok.log" template="fields")
    } else {
        action(type="omfile" file="$TMP/failed.log")
    }
}
CONF
if ! "$RSD" -N1 -f "$TMP/rsyslog.conf" >"$TMP/rsyslogd.check" 2>&1; then
    bad "rsyslog accepts the configuration"; cat "$TMP/rsyslogd.check"; echo "jsonl: $fails failed"; exit 1
fi

R="$TMP/jsonl.rlog"
# Batch A, before tail starts: 201 deferred entries and text entries that
# need escaping; `ringlog dump --json` of it is the reference.
"$EX" "$R" 100 >/dev/null 2>&1
{
    printf 'double "quotes" and a backslash \\ and \\n as text\n'
    printf 'controls: \001 \002 \033[31m red \033[0m tab\there del\177 cr\r end\n'
    printf 'a NUL: before\000after\n'
    printf '\000 a NUL first\n'
    printf 'UTF-8: caf\303\251 \342\202\254 \360\237\230\200 line-sep\342\200\250 para-sep\342\200\251 c1\302\205\n'
    printf 'invalid UTF-8: \377 \376 lone \303 overlong \300\257 surrogate \355\240\200 cut \342\202\n'
    printf '{"not": "an object"} [1,2] ]} \\u0041\n'
    head -c 2000 /dev/zero | tr '\000' '\001'; echo
} | "$RL" write "$R" >/dev/null 2>&1
"$RL" write "$R" --level error 'error: "x" \ y' >/dev/null 2>&1
"$RL" dump "$R" --json >"$TMP/dump.jsonl"
na=$(count "$TMP/dump.jsonl")

"$RSD" -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslogd.pid" >"$TMP/rsyslogd.out" 2>&1 &
RPID=$!
"$RL" tail "$R" --json >"$TMP/tail.jsonl" 2>"$TMP/tail.err" &
TPID=$!

# Batch B, while tail follows: more deferred entries (a second producer
# process) and 500 text lines with escapes (valid UTF-8, no NUL: kept
# to compare byte for byte with what jq decodes), some at other levels.
"$EX" "$R" 150 >/dev/null 2>&1
awk 'BEGIN { for (i = 0; i < 500; i++)
    printf "line %d \"q\" \\ back\\slash\ttab \001 \037 caf\303\251 \360\237\230\200 {\"k\":%d}\n", i, i }' >"$TMP/b.txt"
"$RL" write "$R" <"$TMP/b.txt" >/dev/null 2>&1
for l in warn notice critical; do "$RL" write "$R" --level $l "level $l \"$l\"" >/dev/null 2>&1; done

written=$("$RL" stats "$R" --json | jq '.total.written')
wait_count "$TMP/tail.jsonl" "$written" 10
kill "$TPID"; wait "$TPID" 2>/dev/null; TPID=
nt=$(count "$TMP/tail.jsonl")
[ "$na" -eq 210 ] && ok "batch A: dump --json shows the 210 entries written before tail ($na)" || bad "batch A: 210 entries before tail ($na)"
[ "$written" -eq $((na + 301 + 500 + 3)) ] && ok "$written entries written" || bad "entries written: $written, not $((na + 804))"
[ "$nt" -eq "$written" ] && ok "tail --json printed one line per entry written ($nt of $written)" || { bad "tail --json printed one line per entry ($nt of $written)"; cat "$TMP/tail.err"; }

# jq: the whole file parses, each line is one object with the keys.
jq -c . "$TMP/tail.jsonl" >"$TMP/jq.out" 2>"$TMP/jq.err" && ok "jq -c . over tail's output exits 0" || { bad "jq -c . over tail's output"; head -3 "$TMP/jq.err"; }
[ "$(count "$TMP/jq.out")" -eq "$nt" ] && ok "jq reads $nt values" || bad "jq reads $(count "$TMP/jq.out") values, not $nt"
n=$(jq -e -s '[.[] | select(type == "object" and (.index|type) == "number" and (.message|type) == "string"
                             and (.level|type) == "string" and (has("gap") or has("not_shown") | not))] | length' "$TMP/tail.jsonl")
[ "$n" = "$nt" ] && ok "every line is an entry object with index, level, message (no gap, nothing skipped)" || bad "entry objects: $n of $nt"
n=$(jq -s '[.[].index] == [range(length)]' "$TMP/tail.jsonl")
[ "$n" = true ] && ok "indices run 0..$((nt - 1)) in order" || bad "indices run 0..$((nt - 1)) in order"

# tail's batch A equals dump's, field for field.
fields='{index,time,level,type,lane,tid,seq,pid,flags,file,line,function,message}'
jq -c "$fields" "$TMP/dump.jsonl" >"$TMP/dump.f"
head -n "$na" "$TMP/tail.jsonl" | jq -c "$fields" >"$TMP/tail.f"
cmp -s "$TMP/dump.f" "$TMP/tail.f" && ok "tail's first $na entries equal dump --json's, every field" || { bad "tail's first $na entries equal dump --json's"; diff "$TMP/dump.f" "$TMP/tail.f" | head -6 | cut -c1-300; }
# escapes as documented: invalid bytes as \u00XX, controls escaped, U+2028 escaped
grep -q 'invalid UTF-8: \\u00ff \\u00fe lone \\u00c3 overlong \\u00c0\\u00af surrogate \\u00ed\\u00a0\\u0080 cut \\u00e2\\u0082"' "$TMP/tail.jsonl" &&
    ok "invalid UTF-8 bytes are \\u00XX" || { bad "invalid UTF-8 bytes are \\u00XX"; grep 'invalid UTF-8' "$TMP/tail.jsonl"; }
grep -q '"a NUL: before\\u0000after"' "$TMP/tail.jsonl" && grep -q 'line-sep\\u2028 para-sep\\u2029' "$TMP/tail.jsonl" &&
    ok "NUL as \\u0000, U+2028 and U+2029 escaped" || bad "NUL as \\u0000, U+2028 and U+2029 escaped"
# batch B's text lines decode to the bytes written
jq -r 'select(.type == 1 and (.message | startswith("line "))) | .message' "$TMP/tail.jsonl" >"$TMP/b.got"
cmp -s "$TMP/b.txt" "$TMP/b.got" && ok "jq -r decodes the 500 lines written during tail to the same bytes" || { bad "the 500 lines written during tail decode to the same bytes"; diff "$TMP/b.txt" "$TMP/b.got" | head -4 | cut -c1-300; }
n=$(jq -s '[.[] | select(.type == 5 and .file == "examples/orders.c")] | length' "$TMP/tail.jsonl")
[ "$n" -eq $((201 + 301)) ] && ok "502 deferred entries with their call site" || bad "deferred entries with their call site: $n, not 502"

# rsyslog: every line parsed, none failed, fields equal tail's.
wait_count "$TMP/ok.log" "$nt" 20
nok=$(count "$TMP/ok.log")
nf=$(count "$TMP/failed.log")
[ "$nok" -eq "$nt" ] && ok "rsyslog imfile + mmjsonparse parsed $nok of $nt lines" || { bad "rsyslog parsed $nok of $nt lines"; tail -5 "$TMP/rsyslogd.out"; }
[ "$nf" -eq 0 ] && ok "rsyslog: zero parse failures" || { bad "rsyslog: $nf parse failures"; head -c 600 "$TMP/failed.log"; echo; }
jq -c . "$TMP/ok.log" >/dev/null 2>&1 && ok "rsyslog's output (fields re-escaped by rsyslog) parses with jq" || bad "rsyslog's output parses with jq"
# libfastjson keeps strings as C strings: compare up to the first NUL.
cut0='(.message | split("\u0000") | .[0] // "")'
jq -c "{index,level,type,lane,seq,line:(.line // \"\" | tostring),message:$cut0}" "$TMP/tail.jsonl" | sort >"$TMP/tail.r"
jq -c '{index,level,type,lane,seq,line,message}' "$TMP/ok.log" 2>/dev/null | sort >"$TMP/ok.r"
nnul=$(jq -s '[.[] | select(.message | index("\u0000") != null)] | length' "$TMP/tail.jsonl")
cmp -s "$TMP/tail.r" "$TMP/ok.r" && ok "rsyslog's \$!index, \$!level, \$!type, \$!lane, \$!seq, \$!line, \$!message equal tail's for all $nt ($nnul messages with NUL: up to it)" ||
    { bad "rsyslog's fields equal tail's"; diff "$TMP/tail.r" "$TMP/ok.r" | head -6 | cut -c1-300; }
n=$(jq -s '[.[] | select(.message == "error: \"x\" \\ y" and .level == "error")] | length' "$TMP/ok.log" 2>/dev/null)
[ "$n" = 1 ] && ok "rsyslog: \$!level and \$!message of the error entry" || bad "rsyslog: the error entry ($n)"

kill "$RPID"; wait "$RPID" 2>/dev/null; RPID=
echo "jsonl: $fails failed"
[ "$fails" -eq 0 ]
