#!/bin/sh
# `ringlog top` under tmux: it draws the region's lanes, processes, levels
# and newest messages, and its keys pause, filter, search, raise a trigger
# and quit.  Usage: tests/top.sh path/to/ringlog
set -u
RL=${1:-build/ringlog}
T=ringlog-toptest-$$
S=ringlog-top-$$
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
if ! command -v tmux >/dev/null 2>&1; then
    bad "tmux is not installed (.ci/run installs it)"; echo "top: $fails failed"; exit 1
fi
if ! "$RL" top --help >/dev/null 2>&1 || "$RL" top nothing-$$ 2>&1 | grep -q "without ncurses"; then
    bad "ringlog was built without ncurses (apt-get install libncurses-dev)"; echo "top: $fails failed"; exit 1
fi
cleanup() {
    tmux -L "$S" kill-server 2>/dev/null
    [ -n "${wp:-}" ] && kill "$wp" 2>/dev/null
    "$RL" rm "$T" >/dev/null 2>&1
}
trap cleanup EXIT
"$RL" demo --name "$T" --keep --seconds 0 --threads 1 --ring-size 65536 >/dev/null 2>&1
# A writer: warn lines, one in ten an error with "disk" in it.
( i=0; while [ $i -lt 3000 ]; do
      if [ $((i % 10)) -eq 0 ]; then echo "disk error $i"; else echo "routine $i"; fi
      i=$((i + 1)); sleep 0.005
  done | "$RL" write "$T" --level warn ) &
wp=$!
"$RL" write "$T" --level error "an error entry" >/dev/null 2>&1
pane() { tmux -L "$S" capture-pane -t top -p; }
wait_for() { # wait_for PATTERN: up to 5 s
    i=0
    while [ $i -lt 50 ]; do pane | grep -q "$1" && return 0; sleep 0.1; i=$((i + 1)); done
    return 1
}
TERM=xterm tmux -L "$S" new-session -d -s top -x 140 -y 45 "$RL top $T --interval 0.2"
wait_for "routine" && ok "top shows the newest messages" || { bad "top shows the newest messages"; pane | head -20; }
pane | grep -q "^ringlog top  $T  (1 of 1)" && ok "header names the region" || bad "header names the region"
pane | grep -q "^total: .* calls/s  written [0-9]*" && ok "total counters" || bad "total counters"
pane | grep -Eq "^[0-9]+ +[0-9.]+K? +[0-9]+ +0 +0$" && ok "a lane row with its rate and counters" || bad "a lane row with its rate and counters"
pane | grep -q "levels: .*warn [1-9]" && ok "entries per level" || bad "entries per level"
w1=$(pane | sed -n 's/^total: .*  written \([0-9]*\) .*/\1/p')
sleep 0.6
w2=$(pane | sed -n 's/^total: .*  written \([0-9]*\) .*/\1/p')
[ -n "$w1" ] && [ -n "$w2" ] && [ "$w2" -gt "$w1" ] && ok "counters change live ($w1 -> $w2)" || { bad "counters change live ($w1 -> $w2)"; pane | head -8; }
tmux -L "$S" send-keys -t top p
wait_for "\[paused\]" && ok "p pauses" || bad "p pauses"
w1=$(pane | sed -n 's/^total: .*  written \([0-9]*\) .*/\1/p')
sleep 0.6
w2=$(pane | sed -n 's/^total: .*  written \([0-9]*\) .*/\1/p')
[ "$w1" = "$w2" ] && ok "paused: the numbers stand still" || bad "paused: the numbers stand still ($w1 -> $w2)"
tmux -L "$S" send-keys -t top p
for k in 1 2 3 4 5 6; do tmux -L "$S" send-keys -t top l; done
wait_for "messages: error and above" && ok "l sets the level filter" || bad "l sets the level filter"
sleep 0.5
n=$(pane | grep -c " warn  ")
[ "$n" -eq 0 ] && ok "the error filter hides warn messages" || bad "the error filter hides warn messages ($n shown)"
tmux -L "$S" send-keys -t top l l # critical, then all levels again
wait_for "messages: all levels" || bad "l cycles back to all levels"
tmux -L "$S" send-keys -t top / disk Enter
wait_for "search: disk" && ok "/ sets a search" || bad "/ sets a search"
sleep 0.5
n=$(pane | grep -c "routine")
m=$(pane | grep -c "disk error")
[ "$n" -eq 0 ] && [ "$m" -gt 0 ] && ok "the search shows only matching messages ($m)" || bad "the search shows only matching messages ($m shown, $n others)"
t0=$("$RL" stats "$T" | sed -n 's/^triggers: *\([0-9]*\).*/\1/p')
tmux -L "$S" send-keys -t top t
wait_for "trigger raised" && ok "t raises a trigger" || bad "t raises a trigger"
t1=$("$RL" stats "$T" | sed -n 's/^triggers: *\([0-9]*\).*/\1/p')
[ "$t1" -eq $((t0 + 1)) ] && ok "the region counts it ($t0 -> $t1)" || bad "the region counts it ($t0 -> $t1)"
tmux -L "$S" send-keys -t top q
sleep 0.5
tmux -L "$S" has-session -t top 2>/dev/null && bad "q quits" || ok "q quits"
"$RL" stats "$T" --json | grep -q '"read":0,' && ok "top consumed nothing" || bad "top consumed nothing"
echo "top: $fails failed"
[ "$fails" -eq 0 ]
