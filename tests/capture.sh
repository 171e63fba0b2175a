#!/bin/sh
# `ringlog run` and libringlog_capture.so with real programs: a C program
# writing to stderr every way (tests/capture_prog.c), coreutils, a shell
# script, syslog.  Usage: tests/capture.sh BUILD_DIR
set -u
B=${1:-build}
RL=$B/ringlog
P=$B/tests/capture_prog
TMP=$(mktemp -d /tmp/ringlog-capture.XXXXXX)
R="$TMP/cap.rlog"
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
trap 'rm -rf "$TMP"' EXIT

"$RL" run "$R" -- "$P" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] && ok "the program's exit status and its own errno checks (status $rc)" || { bad "the program ran as before (status $rc)"; cat "$TMP/out"; }
grep -qx "stdout line" "$TMP/out" && ok "stdout still reaches its destination" || bad "stdout still reaches its destination"
grep -qx "plain fprintf" "$TMP/err" && grep -q "^capture_prog: warnx says 42" "$TMP/err" &&
    ok "stderr still reaches its destination" || bad "stderr still reaches its destination"
"$RL" dump "$R" --json >"$TMP/dump"
has() { grep -q "\"level\":\"$1\",.*\"message\":\"$2\"" "$TMP/dump"; }
has warn "plain fprintf" && ok "an fprintf line at warn" || bad "an fprintf line at warn"
has warn "partial line" && ok "partial writes joined into one line" || bad "partial writes joined into one line"
has warn "raw write" && ok "a write(2) line" || bad "a write(2) line"
has warn "perror says: No such file or directory" && ok "perror" || bad "perror"
has warn "capture_prog: warn says: Permission denied" && ok "warn(3)" || bad "warn(3)"
has warn "capture_prog: warnx says 42" && ok "warnx(3)" || bad "warnx(3)"
has error "syslog error 7" && ok "syslog LOG_ERR at error" || bad "syslog LOG_ERR at error"
has info "syslog info" && ok "syslog LOG_INFO at info" || bad "syslog LOG_INFO at info"
has warn "from the child" && ok "a forked child's line" || bad "a forked child's line"
has warn "no newline at the end" && ok "the last partial line, at exit" || bad "the last partial line, at exit"
grep -q '"message":"stdout line"' "$TMP/dump" && bad "stdout not captured without --stdout" || ok "stdout not captured without --stdout"
n=$(grep -c '"message":"thread [0-2] line [0-9]*"' "$TMP/dump")
[ "$n" -eq 300 ] && ok "300 lines of 3 threads, none torn ($n)" || bad "300 lines of 3 threads, none torn ($n)"
tids=$(grep '"message":"thread ' "$TMP/dump" | sed 's/.*"tid":\([0-9]*\).*/\1/' | sort -u | wc -l)
[ "$tids" -eq 3 ] && ok "each thread's lines carry its thread id (3 ids)" || bad "each thread's lines carry its thread id ($tids ids)"
pid=$(grep '"message":"plain fprintf"' "$TMP/dump" | sed 's/.*"pid":\([0-9]*\).*/\1/')
cpid=$(grep '"message":"from the child"' "$TMP/dump" | sed 's/.*"pid":\([0-9]*\).*/\1/')
[ -n "$pid" ] && [ -n "$cpid" ] && [ "$pid" != "$cpid" ] && ok "the child's line names the child's pid" || bad "the child's line names the child's pid"

# --stdout, --quiet, --level; coreutils and a shell script.
"$RL" run "$R" --stdout --quiet --level error -- "$P" >"$TMP/out" 2>"$TMP/err"
[ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ] && ok "--quiet: nothing passed on" || bad "--quiet: nothing passed on"
"$RL" dump "$R" --json >"$TMP/dump"
has info "stdout line" && ok "--stdout: stdout lines at info" || bad "--stdout: stdout lines at info"
has error "plain fprintf" && ok "--level error: stderr lines at error" || bad "--level error: stderr lines at error"
"$RL" run "$R" -- ls /nonexistent-ringlog >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] && ok "ls keeps its exit status (2)" || bad "ls keeps its exit status ($rc)"
"$RL" dump "$R" | grep -q "ls: cannot access '/nonexistent-ringlog': No such file or directory" && ok "coreutils' error captured" || bad "coreutils' error captured"
printf '#!/bin/sh\nls /nonexistent-from-script\necho "script says" >&2\nexit 5\n' >"$TMP/s.sh"
chmod +x "$TMP/s.sh"
"$RL" run "$R" -- "$TMP/s.sh" 2>/dev/null
rc=$?
[ "$rc" -eq 5 ] && "$RL" dump "$R" | grep -q "ls: cannot access '/nonexistent-from-script'" && ok "a shell script: its commands' stderr, its status kept" || bad "a shell script: its commands' stderr, its status kept ($rc)"
# A shell's builtins write redirected output through descriptor 1 (dash
# dup2s 2 onto 1): --stdout captures them.
"$RL" run "$R" --stdout -- "$TMP/s.sh" 2>/dev/null
"$RL" dump "$R" | grep -q "script says" && ok "a builtin's >&2 with --stdout" || bad "a builtin's >&2 with --stdout"
# Python writes fd 2 itself and must find it (fileno(stderr) == 2).
if command -v python3 >/dev/null 2>&1; then
    "$RL" run "$R" -- python3 -c 'import sys; sys.stderr.write("from python\n")' 2>/dev/null
    rc=$?
    [ "$rc" -eq 0 ] && "$RL" dump "$R" | grep -q "from python" && ok "python's stderr" || bad "python's stderr ($rc)"
fi
# A line over 2048 bytes with NUL bytes: every byte kept, pieces flagged.
if command -v python3 >/dev/null 2>&1; then
    "$RL" rm "$R" >/dev/null 2>&1
    "$RL" run "$R" -- python3 -c 'import os; os.write(2, b"a" * 1000 + b"\0" * 2000 + b"\n")' 2>/dev/null
    "$RL" dump "$R" --json | grep '"flags":1,' | grep -q '"message":"a\{1000\}\(\\u0000\)\{1048\}"' &&
        ok "a long line with NUL bytes: the first piece whole (2048 bytes), flagged" ||
        bad "a long line with NUL bytes: the first piece whole (2048 bytes), flagged"
fi
head -c 3000 /dev/urandom >"$TMP/bin"
"$RL" run "$R" -- sh -c "cat '$TMP/bin' >&2" 2>"$TMP/binout"
cmp -s "$TMP/bin" "$TMP/binout" && ok "binary output passes through unchanged" || bad "binary output passes through unchanged"
"$RL" run "$R" -- /nonexistent-cmd 2>"$TMP/err"
rc=$?
[ "$rc" -eq 127 ] && ok "a missing command: status 127" || bad "a missing command: status 127 ($rc)"
"$RL" rm "$R" >/dev/null 2>&1
echo "capture: $fails failed"
[ "$fails" -eq 0 ]
