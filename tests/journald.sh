#!/bin/sh
# `ringlog forward --journald` into a real systemd-journald, started
# standalone in a private mount namespace (a tmpfs on /run: the host's is
# untouched), read back with `journalctl -o json` and checked with jq.
# Usage: tests/journald.sh BUILD_DIR.  Needs root (the namespace), systemd
# (Debian 12 ships it even where it is not PID 1) and jq.
set -u
B=${1:-build}
RL=$(cd "$B" && pwd)/ringlog
EX=$(cd "$B" && pwd)/examples/orders
JD=/lib/systemd/systemd-journald
if [ "$(id -u)" -ne 0 ] || [ ! -x "$JD" ] || ! command -v unshare >/dev/null || ! command -v jq >/dev/null; then
    echo "not ok - journald test needs root, $JD, unshare and jq"
    echo "journald: 1 failed"
    exit 1
fi
TMP=$(mktemp -d /tmp/ringlog-journald.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/inner.sh" <<INNER
set -u
mount -t tmpfs tmpfs /run || exit 3
mkdir -p /run/systemd/journal /run/log/journal
$JD >/dev/null 2>&1 &
jp=\$!
i=0
while [ \$i -lt 50 ] && [ ! -S /run/systemd/journal/socket ]; do sleep 0.1; i=\$((i + 1)); done
R="$TMP/fwd.rlog"
"$EX" "\$R" 4 >/dev/null 2>&1
printf 'plain line\nsecond\\\\nline\n' | "$RL" write "\$R" --level error >/dev/null 2>&1
"$RL" forward "\$R" --journald --exit-when-idle 2>"$TMP/fwd.err"
echo \$? >"$TMP/fwd.rc"
# A region that loses calls while forward consumes it (a consumer reports
# as gaps what is lost after it attached): its gaps go too.
D="$TMP/drop.rlog"
"$RL" demo --seconds 0 --threads 1 --ring-size 4096 --policy drop --keep --name "\$D" >/dev/null 2>&1
"$RL" forward "\$D" --journald --exit-when-idle 2>"$TMP/drop.err" &
fp=\$!
sleep 0.3
yes "a line to overflow a small lane" | head -n 100000 | "$RL" write "\$D" >/dev/null 2>&1
wait \$fp
"$RL" stats "\$D" --json >"$TMP/drop.stats"
# journald writes asynchronously: give it a moment, then read it all.
sleep 1
journalctl -D /run/log/journal -o json >"$TMP/journal.json" 2>/dev/null
kill -TERM \$jp; wait \$jp 2>/dev/null
"$RL" rm "\$R" "\$D" >/dev/null 2>&1
INNER
unshare --mount --propagation private sh "$TMP/inner.sh"
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
J="$TMP/journal.json"
[ "$(cat "$TMP/fwd.rc" 2>/dev/null)" = 0 ] && ok "forward exits 0 ($(cat "$TMP/fwd.err"))" || { bad "forward exits 0"; cat "$TMP/fwd.err"; }
q() { jq -r "select(.RINGLOG_REGION != null and (.RINGLOG_REGION | endswith(\"fwd.rlog\"))) | $1" "$J" 2>/dev/null; }
n=$(q '.MESSAGE' | wc -l)
[ "$n" -eq 11 ] && ok "all 11 entries arrived (9 deferred, 2 text)" || bad "all 11 entries arrived ($n)"
q 'select(.MESSAGE == "order 1 filled: 101 lots of ACME at 10.25") | [.PRIORITY, .CODE_FILE, .CODE_FUNC, .SYSLOG_IDENTIFIER] | join(" ")' | grep -qx "6 examples/orders.c main ringlog" &&
    ok "a deferred entry: MESSAGE formatted, PRIORITY 6, CODE_FILE, CODE_FUNC" || bad "a deferred entry's fields"
q 'select(.MESSAGE == "done after 4 orders") | .CODE_LINE' | grep -qx '[0-9][0-9]*' && ok "CODE_LINE" || bad "CODE_LINE"
q 'select(.MESSAGE == "plain line") | .PRIORITY' | grep -qx 3 && ok "an error entry: PRIORITY 3" || bad "an error entry: PRIORITY 3"
q 'select(.MESSAGE == "second\\nline") | .PRIORITY' | grep -qx 3 && ok "a message with a newline (binary field form)" || bad "a message with a newline (binary field form)"
m=$(q '[.SYSLOG_PID, .RINGLOG_INDEX, .RINGLOG_LANE, .RINGLOG_CPU, .RINGLOG_TID, .RINGLOG_SEQ, .RINGLOG_TIME_NS] | map(select(. != null)) | length' | sort -u)
[ "$m" = 7 ] && ok "every entry has SYSLOG_PID and the RINGLOG_* fields" || bad "every entry has SYSLOG_PID and the RINGLOG_* fields ($m)"
idx=$(q '.RINGLOG_INDEX' | sort -n | tr '\n' ' ')
[ "$idx" = "0 1 2 3 4 5 6 7 8 9 10 " ] && ok "indices 0..10, each once" || bad "indices 0..10, each once ($idx)"
lost=$(sed -n 's/.*"total":{[^}]*"lost":\([0-9]*\).*/\1/p' "$TMP/drop.stats")
gapsum=$(jq -r 'select(.RINGLOG_GAP_COUNT != null and (.RINGLOG_REGION | endswith("drop.rlog"))) | .RINGLOG_GAP_COUNT' "$J" | awk '{s += $1} END {print s + 0}')
[ -n "$lost" ] && [ "$lost" -gt 0 ] && [ "$gapsum" -eq "$lost" ] && ok "gaps forwarded: they count the $lost lost calls exactly" || bad "gaps forwarded ($gapsum of $lost)"
# No journald: counted as unsent, exit 1, nothing hangs.
"$RL" demo --seconds 0 --threads 1 --ring-size 4096 --keep --name "$TMP/nj.rlog" >/dev/null 2>&1
"$RL" write "$TMP/nj.rlog" one two >/dev/null 2>&1
"$RL" forward "$TMP/nj.rlog" --journald "$TMP/no-such-socket" --exit-when-idle 2>"$TMP/nj.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "0 sent to journald .*, 1 unsent" "$TMP/nj.err" && ok "no journald: counted unsent, exit 1" || { bad "no journald: counted unsent, exit 1 ($rc)"; cat "$TMP/nj.err"; }
"$RL" rm "$TMP/nj.rlog" >/dev/null 2>&1
echo "journald: $fails failed"
[ "$fails" -eq 0 ]
