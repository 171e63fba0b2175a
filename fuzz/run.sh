#!/bin/sh
# Build the libFuzzer target with clang (ASan+UBSan) and fuzz for
# FUZZ_SECONDS (default 60), starting from fuzz/corpus.  FUZZ_OUT (default
# build-fuzz) is the build directory; new inputs go to $FUZZ_OUT/corpus;
# merge the interesting ones into fuzz/corpus with
#   $FUZZ_OUT/fuzz_region -merge=1 -max_len=32768 fuzz/corpus $FUZZ_OUT/corpus
# Extra libFuzzer flags may follow on the command line (e.g. -jobs=2).
set -eu
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-build-fuzz}
# The sparse snapshot seeds (fuzz/make_seeds.c) are up to ~12 KB.
MAX_LEN=${FUZZ_MAX_LEN:-32768}
mkdir -p "$OUT/obj" "$OUT/corpus"
rm -f "$OUT"/obj/*.o
FLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc"
# Two compilers at a time.
pids=""
n=0
for f in src/*.c; do
    clang $FLAGS -fsanitize=fuzzer-no-link -c "$f" -o "$OUT/obj/$(basename "$f" .c).o" &
    pids="$pids $!"
    n=$((n + 1))
    if [ $((n % 2)) -eq 0 ]; then
        for p in $pids; do wait "$p"; done
        pids=""
    fi
done
for p in $pids; do wait "$p"; done
clang $FLAGS -fsanitize=fuzzer -DRINGLOG_LIBFUZZER fuzz/fuzz_region.c "$OUT"/obj/*.o -lpthread \
    -o "$OUT/fuzz_region"
"$OUT/fuzz_region" -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" -timeout=10 \
    -print_final_stats=1 "$@" "$OUT/corpus" fuzz/corpus
