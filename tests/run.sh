#!/bin/sh
# The test suite (`make test`).  Each line below is one test; the last line
# printed is "N passed, M failed" and the exit status is non-zero on any
# failure.  RINGLOG_QUICK=1 runs only the normal build (no sanitizers, no
# second compiler).  Everything is built and run by Makefile targets (this
# script only chooses them), so each test runs alone as it runs here:
# `make check T=test_basic [SAN=asan|tsan]`, `make check-headers`, ...
#
# Tiers:
#   unit + stress + kill + signal + fmt  normal -O2 build (gcc)
#   fuzz corpus replay                   ASan+UBSan, every input in fuzz/corpus
#   ASan+UBSan                           all tests again, smaller stress
#   TSan (clang)                         the Makefile's TSAN_TESTS, smaller stress
#   libFuzzer (clang)                    FUZZ_SECONDS (default 20) from fuzz/corpus
#   warnings                             gcc and clang -Werror builds of everything
#   headers                              include/ringlog.h as C11 and as C++
#   tool                                 `ringlog` end to end (demo, dump, stats, errors)
#   Python reader                        tests/test_python.py under pytest (python3-pytest)
#   capture, top                         `ringlog run` (LD_PRELOAD), `ringlog top` under tmux
#   journald, rsyslog                    `ringlog forward` into a real journald / rsyslog
#   tail --json                          read by jq and rsyslog imfile + mmjsonparse
#   ctf                                  `ringlog export --ctf` read back by babeltrace2
set -u
cd "$(dirname "$0")/.." || exit 2
JOBS=${JOBS:-2}
MK="${MAKE:-make} -s --no-print-directory"
NORMAL="BUILD=build SAN="
ASAN="BUILD=build-asan SAN=asan"
TSAN="BUILD=build-tsan SAN=tsan CC=clang"
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
pass=0
fail=0
failed=""

run() {
    name=$1
    shift
    log="$LOGDIR/$(echo "$name" | tr ' /' '__').log"
    start=$(date +%s)
    if "$@" >"$log" 2>&1; then
        pass=$((pass + 1))
        echo "PASS  $name ($(($(date +%s) - start)) s)"
        grep -E '^(stress|kill|signal|demo|fmt|fuzz|deferred)' "$log" | sed 's/^/      /' | head -n 12
    else
        fail=$((fail + 1))
        failed="$failed\n  $name"
        echo "FAIL  $name ($(($(date +%s) - start)) s); last lines of $log:"
        tail -n 25 "$log" | sed 's/^/      | /'
    fi
}

tests_of() { # build dir -> test binaries present
    for t in "$1"/tests/test_*; do [ -x "$t" ] && echo "$t"; done
}

# --- normal build ---------------------------------------------------------
for t in $(tests_of build); do
    run "$(basename "$t")" $MK $NORMAL check T="$(basename "$t")"
done
run "fuzz corpus replay (normal build)" $MK $NORMAL check-replay
if [ -x build/ringlog ]; then
    run "tool end to end" $MK $NORMAL check-tool
fi
run "continuous recording (rotation, zstd, full disk)" $MK $NORMAL check-record
run "Python reader" $MK $NORMAL check-python
run "capture (ringlog run, LD_PRELOAD)" $MK $NORMAL check-capture
run "ringlog top under tmux" $MK $NORMAL check-top
run "forward to a real journald" $MK $NORMAL check-journald
run "forward to a real rsyslog (TCP, UDP, restart)" $MK $NORMAL check-syslog
run "tail --json read by jq and rsyslog imfile+mmjsonparse" $MK $NORMAL check-jsonl
run "CTF export read by babeltrace2" $MK $NORMAL check-ctf
run "header compiles as C11 and C++" $MK $NORMAL check-headers
run "unloggable argument types fail to compile" $MK $NORMAL check-bad-arg
run "deferred macros from C++11 (g++ and clang++)" $MK $NORMAL check-cxx

if [ "${RINGLOG_QUICK:-0}" != 1 ]; then
    # --- ASan + UBSan -------------------------------------------------------
    if $MK -j"$JOBS" $ASAN lib tests >"$LOGDIR/build-asan.log" 2>&1; then
        pass=$((pass + 1)); echo "PASS  build with ASan+UBSan"
        for t in $(tests_of build-asan); do
            run "asan $(basename "$t")" $MK $ASAN check T="$(basename "$t")"
        done
        run "asan fuzz corpus replay" $MK $ASAN check-replay
    else
        fail=$((fail + 1)); failed="$failed\n  build with ASan+UBSan"
        echo "FAIL  build with ASan+UBSan"; tail -n 20 "$LOGDIR/build-asan.log"
    fi
    # --- TSan (clang: its TSan knows C11 atomics best) ----------------------
    if command -v clang >/dev/null 2>&1; then
        if $MK -j"$JOBS" $TSAN lib tests >"$LOGDIR/build-tsan.log" 2>&1; then
            pass=$((pass + 1)); echo "PASS  build with TSan (clang)"
            # (2>/dev/null: the notice of child makes under a parent `make -jN`)
            for t in $($MK print-TSAN_TESTS 2>/dev/null); do
                [ -x build-tsan/tests/$t ] && run "tsan $t" $MK $TSAN check T="$t"
            done
        else
            fail=$((fail + 1)); failed="$failed\n  build with TSan"
            echo "FAIL  build with TSan"; tail -n 20 "$LOGDIR/build-tsan.log"
        fi
        run "libFuzzer for FUZZ_SECONDS=${FUZZ_SECONDS:-20}" env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" sh fuzz/run.sh
        run "clang -Werror build" $MK -j"$JOBS" BUILD=build-clang CC=clang CFLAGS_EXTRA=-Werror all tests
    else
        # The TSan, libFuzzer and clang tiers are part of the suite: a
        # machine without clang fails them rather than skipping in silence.
        fail=$((fail + 1)); failed="$failed\n  clang tiers (TSan, libFuzzer, clang -Werror): clang not installed"
        echo "FAIL  clang tiers: clang not installed (apt-get install -y clang libclang-rt-14-dev)"
    fi
    run "gcc -Werror build" $MK -j"$JOBS" BUILD=build-werror CC=gcc CFLAGS_EXTRA=-Werror all tests
fi

if [ "$fail" -gt 0 ]; then
    printf "failed:$failed\n"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
