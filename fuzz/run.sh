#!/bin/sh
# Build the libFuzzer target (the Makefile's SAN=fuzz build: clang, ASan+UBSan,
# the library with -fsanitize=fuzzer-no-link) and fuzz for FUZZ_SECONDS
# (default 60), starting from fuzz/corpus.  FUZZ_OUT (default build-fuzz) is
# the build directory; new inputs go to $FUZZ_OUT/corpus; merge the
# interesting ones into fuzz/corpus with
#   $FUZZ_OUT/fuzz_region -merge=1 -max_len=32768 fuzz/corpus $FUZZ_OUT/corpus
# Extra libFuzzer flags may follow on the command line (e.g. -jobs=2).
set -eu
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-build-fuzz}
# The sparse snapshot seeds (fuzz/make_seeds.c) are up to ~12 KB.
MAX_LEN=${FUZZ_MAX_LEN:-32768}
${MAKE:-make} -s --no-print-directory -j"${JOBS:-2}" BUILD="$OUT" SAN=fuzz CC=clang "$OUT/fuzz_region"
mkdir -p "$OUT/corpus"
"$OUT/fuzz_region" -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" -timeout=10 \
    -print_final_stats=1 "$@" "$OUT/corpus" fuzz/corpus
