#!/bin/sh
# Build the libFuzzer target with clang (ASan+UBSan) and fuzz for
# FUZZ_SECONDS (default 60), starting from fuzz/corpus.  New inputs go to
# build-fuzz/corpus; merge the interesting ones into fuzz/corpus with
#   build-fuzz/fuzz_region -merge=1 fuzz/corpus build-fuzz/corpus
set -eu
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
OUT=build-fuzz
mkdir -p "$OUT/obj" "$OUT/corpus"
FLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc"
for f in src/*.c; do
    clang $FLAGS -fsanitize=fuzzer-no-link -c "$f" -o "$OUT/obj/$(basename "$f" .c).o"
done
clang $FLAGS -fsanitize=fuzzer -DRINGLOG_LIBFUZZER fuzz/fuzz_region.c "$OUT"/obj/*.o -lpthread \
    -o "$OUT/fuzz_region"
"$OUT/fuzz_region" -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=10 \
    -print_final_stats=1 "$OUT/corpus" fuzz/corpus
