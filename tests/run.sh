#!/bin/sh
# The test suite (`make test`).  Each line below is one test; the last line
# printed is "N passed, M failed" and the exit status is non-zero on any
# failure.  RINGLOG_QUICK=1 runs only the normal build (no sanitizers, no
# second compiler).
#
# Tiers:
#   unit + stress + kill + signal + fmt  normal -O2 build (gcc)
#   fuzz corpus replay                   ASan+UBSan, every input in fuzz/corpus
#   ASan+UBSan                           all tests again, smaller stress
#   TSan (clang)                         stress and basic, smaller stress
#   libFuzzer (clang)                    FUZZ_SECONDS (default 20) from fuzz/corpus
#   warnings                             gcc and clang -Werror builds of everything
#   headers                              include/ringlog.h as C11 and as C++
#   tool                                 `ringlog` end to end (demo, dump, stats, errors)
set -u
cd "$(dirname "$0")/.." || exit 2
JOBS=${JOBS:-2}
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
    run "$(basename "$t")" "$t"
done
run "fuzz corpus replay (normal build)" sh -c \
    "cc -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -Isrc fuzz/fuzz_region.c build/libringlog.a -lpthread -o build/fuzz_region_replay && build/fuzz_region_replay fuzz/corpus"
if [ -x build/ringlog ]; then
    run "tool end to end" sh tests/tool.sh build/ringlog
fi
run "header compiles as C11 and C++" sh -c \
    "printf '#include \"ringlog.h\"\n#include \"ringlog_queue.h\"\nint main(void){return 0;}\n' > build/hdr.c &&
     cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c build/hdr.c -o build/hdr.o &&
     printf '#include \"ringlog.h\"\n#include \"ringlog_queue.h\"\nint main(){return 0;}\n' > build/hdr.cc &&
     c++ -std=c++11 -Wall -Wextra -Werror -Iinclude -c build/hdr.cc -o build/hdr_cc.o"
run "unloggable argument types fail to compile" sh -c '
    cc -std=c11 -Wall -Wextra -Werror -Wno-format -Iinclude -c tests/bad_arg.c -o build/bad_arg.o || exit 1
    for bad in BAD_STRUCT:ringlog_argument_type_cannot_be_logged BAD_INT128:ringlog_argument_type_cannot_be_logged \
               BAD_COMPLEX:ringlog_argument_type_cannot_be_logged BAD_MANY:ringlog_error_at_most_16_arguments; do
        if cc -std=c11 -Wno-format -Iinclude -D${bad%%:*} -c tests/bad_arg.c -o build/bad_arg.o 2>build/bad_arg.err; then
            echo "${bad%%:*} compiled"; exit 1
        fi
        grep -q "${bad#*:}" build/bad_arg.err || { cat build/bad_arg.err; exit 1; }
    done'
run "deferred macros from C++11 (g++ and clang++)" sh -c \
    "c++ -std=c++11 -Wall -Wextra -Werror -Iinclude tests/cxx_deferred.cc build/libringlog.a -lpthread -o build/cxx_deferred &&
     build/cxx_deferred &&
     if command -v clang++ >/dev/null; then
         clang++ -std=c++11 -Wall -Wextra -Werror -Iinclude tests/cxx_deferred.cc build/libringlog.a -lpthread -o build/cxx_deferred_clang && build/cxx_deferred_clang;
     fi"

if [ "${RINGLOG_QUICK:-0}" != 1 ]; then
    # --- ASan + UBSan -------------------------------------------------------
    if make -s -j"$JOBS" BUILD=build-asan SAN=asan lib tests >"$LOGDIR/build-asan.log" 2>&1; then
        pass=$((pass + 1)); echo "PASS  build with ASan+UBSan"
        for t in $(tests_of build-asan); do
            run "asan $(basename "$t")" env RINGLOG_STRESS_SCALE=25 \
                ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$t"
        done
        run "asan fuzz corpus replay" sh -c \
            "cc -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc fuzz/fuzz_region.c build-asan/libringlog.a -lpthread -o build-asan/fuzz_region_replay && build-asan/fuzz_region_replay fuzz/corpus"
    else
        fail=$((fail + 1)); failed="$failed\n  build with ASan+UBSan"
        echo "FAIL  build with ASan+UBSan"; tail -n 20 "$LOGDIR/build-asan.log"
    fi
    # --- TSan (clang: its TSan knows C11 atomics best) ----------------------
    if command -v clang >/dev/null 2>&1; then
        if make -s -j"$JOBS" BUILD=build-tsan SAN=tsan CC=clang lib tests >"$LOGDIR/build-tsan.log" 2>&1; then
            pass=$((pass + 1)); echo "PASS  build with TSan (clang)"
            for t in test_stress test_basic test_queue test_snapshot test_deferred test_stopped; do
                [ -x build-tsan/tests/$t ] && run "tsan $t" env RINGLOG_STRESS_SCALE=10 \
                    TSAN_OPTIONS=halt_on_error=1:exitcode=66 build-tsan/tests/$t
            done
        else
            fail=$((fail + 1)); failed="$failed\n  build with TSan"
            echo "FAIL  build with TSan"; tail -n 20 "$LOGDIR/build-tsan.log"
        fi
        run "libFuzzer for FUZZ_SECONDS=${FUZZ_SECONDS:-20}" env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" sh fuzz/run.sh
        run "clang -Werror build" make -s -j"$JOBS" BUILD=build-clang CC=clang CFLAGS_EXTRA=-Werror all tests
    else
        # The TSan, libFuzzer and clang tiers are part of the suite: a
        # machine without clang fails them rather than skipping in silence.
        fail=$((fail + 1)); failed="$failed\n  clang tiers (TSan, libFuzzer, clang -Werror): clang not installed"
        echo "FAIL  clang tiers: clang not installed (apt-get install -y clang libclang-rt-14-dev)"
    fi
    run "gcc -Werror build" make -s -j"$JOBS" BUILD=build-werror CC=gcc CFLAGS_EXTRA=-Werror all tests
fi

if [ "$fail" -gt 0 ]; then
    printf "failed:$failed\n"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
