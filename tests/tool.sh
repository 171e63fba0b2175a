#!/bin/sh
# End-to-end test of the `ringlog` tool: usage: tests/tool.sh path/to/ringlog
# Each check prints "ok - what" or "not ok - what"; exits non-zero on any failure.
set -u
RL=${1:-build/ringlog}
NAME="ringlog-tooltest-$$"
TMP=$(mktemp -d /tmp/ringlog-tool.XXXXXX)
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
expect() { # expect "what" command...  (must succeed)
    what=$1; shift
    if "$@" >"$TMP/out" 2>"$TMP/err"; then ok "$what"; else bad "$what (exit $?)"; sed 's/^/    /' "$TMP/err" | head -5; fi
}
expect_fail() { # expect_fail "what" pattern command...  (must fail with one clear line)
    what=$1; pat=$2; shift 2
    if "$@" >"$TMP/out" 2>"$TMP/err"; then
        bad "$what (succeeded)"
    elif grep -q "$pat" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -le 2 ]; then
        ok "$what"
    else
        bad "$what (stderr did not say '$pat')"; sed 's/^/    /' "$TMP/err" | head -5
    fi
}
trap '"$RL" rm "$NAME" >/dev/null 2>&1; rm -rf "$TMP"' EXIT

expect "help" "$RL" --help
for c in demo tail dump stats ls rm write trigger record level; do
    expect "$c --help" "$RL" "$c" --help
done

# The demo balances and keeps order, in both policies.
expect "demo (overwrite)" "$RL" demo --seconds 1 --threads 2
grep -q "balanced: yes" "$TMP/out" && ok "demo says balanced" || bad "demo says balanced"
cat "$TMP/out" | sed -n '1,40p' | grep -E "entries/s|balanced" | sed 's/^/demo: /'
expect "demo (drop, tiny ring)" "$RL" demo --seconds 1 --threads 3 --policy drop --ring-size 4096
grep -q "balanced: yes" "$TMP/out" && ok "drop demo balanced" || bad "drop demo balanced"

# A kept region: dump, stats, ls, rm.
expect "demo --keep --no-reader" "$RL" demo --seconds 0.3 --threads 2 --name "$NAME" --keep --no-reader --ring-size 65536
expect "ls lists it" "$RL" ls
grep -q "$NAME" "$TMP/out" && ok "ls shows the region" || bad "ls shows the region"
expect "stats" "$RL" stats "$NAME"
expect "stats --json" "$RL" stats "$NAME" --json
grep -q '"written"' "$TMP/out" && grep -q '"overwritten"' "$TMP/out" && ok "stats json keys" || bad "stats json keys"
"$RL" stats "$NAME" --json >"$TMP/s1"
expect "dump" "$RL" dump "$NAME"
[ -s "$TMP/out" ] && ok "dump printed entries" || bad "dump printed entries"
expect "dump --json" "$RL" dump "$NAME" --json
head -n 1 "$TMP/out" | grep -q '"index"' && ok "dump json has index" || bad "dump json has index"
grep -q '"time":"[0-9-]*T[0-9:.]*Z"' "$TMP/out" && ok "dump json time is RFC 3339" || bad "dump json time is RFC 3339"
"$RL" stats "$NAME" --json >"$TMP/s2"
cmp -s "$TMP/s1" "$TMP/s2" && ok "dump changed nothing" || bad "dump changed nothing"
expect "trigger" "$RL" trigger "$NAME" disk on fire
"$RL" dump "$NAME" --json | grep -q '"type":3,"remarks":1,.*"message":"disk on fire"' && ok "trigger entry in dump" || bad "trigger entry in dump"
# The recorder: one snapshot for a trigger, readable by dump.
"$RL" record "$NAME" --dir "$TMP/snaps" --once --post 0.1 >"$TMP/rec" 2>/dev/null &
recpid=$!
sleep 0.3
"$RL" trigger "$NAME" "recorder test" >/dev/null 2>&1
wait $recpid && ok "record --once exits after a snapshot" || bad "record --once exits after a snapshot"
snap=$(ls "$TMP"/snaps/*.rlsnap 2>/dev/null | head -n 1)
[ -n "$snap" ] && ok "record wrote a snapshot" || bad "record wrote a snapshot"
[ -n "$snap" ] && "$RL" dump "$snap" | grep -q "TRIGGER #2: recorder test" && ok "dump reads the snapshot" || bad "dump reads the snapshot"
expect "rm" "$RL" rm "$NAME"
expect_fail "rm again fails" "$NAME" "$RL" rm "$NAME"

# Deferred entries: formatted by dump from the region's dictionary, with
# their call site; the run-time level filters in the producer.
EX=$(dirname "$RL")/examples/orders
DN="$NAME-deferred"
if [ -x "$EX" ]; then
    expect "orders example logs" "$EX" "$DN" 3
    expect "dump --where" "$RL" dump "$DN" --where --no-color
    grep -q "examples/orders.c:[0-9]*: order 1 filled: 101 lots of ACME at 10.25$" "$TMP/out" \
        && ok "dump formats deferred entries with file:line" || bad "dump formats deferred entries with file:line"
    expect "dump --json" "$RL" dump "$DN" --json
    grep -q '"file":"examples/orders.c","line":[0-9]*,"function":"main","message":"done after 3 orders"' "$TMP/out" \
        && ok "json has file, line, function, message" || bad "json has file, line, function, message"
    expect "dump --grep on deferred text" "$RL" dump "$DN" --grep "lots of INIT"
    [ "$(grep -c 'lots of INIT' "$TMP/out")" -eq 2 ] && ok "grep matched formatted text" || bad "grep matched formatted text"
    expect "level set" "$RL" level "$DN" info
    grep -q "level info (2), was trace (0)" "$TMP/out" && ok "level reports the change" || bad "level reports the change"
    "$RL" rm "$DN" >/dev/null 2>&1
    "$EX" "$DN" 2 >/dev/null 2>&1 # recreated: level back to trace
    expect "level set again" "$RL" level "$DN" warn
    "$EX" "$DN" 2 >/dev/null 2>&1
    expect "dump after level" "$RL" dump "$DN"
    [ "$(grep -c 'pricing order' "$TMP/out")" -eq 2 ] && [ "$(grep -c 'done after' "$TMP/out")" -eq 2 ] \
        && [ "$(grep -c 'filled' "$TMP/out")" -eq 2 ] \
        && ok "level warn filtered debug and info of the second run only" \
        || bad "level warn filtered debug and info of the second run only"
    expect "stats shows call sites" "$RL" stats "$DN"
    grep -q "call sites:  3 in a 256 KiB dictionary" "$TMP/out" && ok "stats counts 3 call sites" || bad "stats counts 3 call sites"
    expect_fail "bad level" "unknown level" "$RL" level "$DN" loud
    "$RL" rm "$DN" >/dev/null 2>&1
else
    bad "examples/orders not built"
fi

# Errors: one clear line, non-zero exit.
expect_fail "dump of a missing region" "no such region" "$RL" dump "ringlog-no-such-$$"
expect_fail "dump of a non-region file" "not a ringlog region" "$RL" dump /etc/passwd
expect_fail "unknown command" "unknown" "$RL" frobnicate
expect_fail "bad option" "unknown option" "$RL" demo --frobnicate
expect_fail "bad number" "number" "$RL" demo --threads many

# A region too big for its filesystem fails ringlog_open with a clear
# ENOSPC (its blocks are allocated at creation) instead of a later SIGBUS
# in a log call, and leaves no file behind.  Needs a private mount
# namespace for a 1 MiB tmpfs (root); skipped where that is not allowed.
if [ "$(id -u)" = 0 ] && unshare -m sh -c "mount -t tmpfs -o size=1m tmpfs '$TMP'" 2>/dev/null; then
    unshare -m sh -c "mkdir -p '$TMP/small' && mount -t tmpfs -o size=1m tmpfs '$TMP/small' &&
        '$RL' demo --name '$TMP/small/big.rlog' --ring-size 1048576 --seconds 0.1 --keep --no-reader >'$TMP/small.out' 2>'$TMP/small.err'; echo \$? >'$TMP/small.rc';
        ls '$TMP/small' >'$TMP/small.ls'" 2>/dev/null
    rc=$(cat "$TMP/small.rc" 2>/dev/null || echo missing)
    if [ "$rc" != 0 ] && [ "$rc" != missing ] && [ "$rc" -lt 128 ] && grep -q "No space left" "$TMP/small.err" && [ ! -s "$TMP/small.ls" ]; then
        ok "region larger than its filesystem: clear ENOSPC at open, nothing left behind"
    else
        bad "region larger than its filesystem (exit $rc)"; sed 's/^/    /' "$TMP/small.err" 2>/dev/null | head -3
    fi
else
    ok "# skip: region larger than its filesystem (needs root and unshare -m)"
fi

echo "tool: $fails failed"
[ "$fails" -eq 0 ]
