#!/bin/sh
# `make bench`: hot-path costs, three runs, each row's median printed by the
# program per run.  (Peers — spdlog, LTTng-UST — are not measured yet.)
set -eu
cd "$(dirname "$0")/.."
make -s build/libringlog.a
mkdir -p build/bench bench/results
cc -std=c11 -O2 -g -D_GNU_SOURCE -Iinclude bench/bench_core.c build/libringlog.a -lpthread \
    -o build/bench/bench_core
BURSTS=${BENCH_BURSTS:-2000}
{
    echo "# ringlog bench, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); compiler: $(cc --version | head -n1)"
    for run in 1 2 3; do
        echo
        echo "## Run $run"
        echo
        build/bench/bench_core "$BURSTS"
    done
} | tee bench/results/latest.md
