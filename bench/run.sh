#!/bin/sh
# `make bench` (BENCH_QUICK=1: `make bench-quick`): every logger through the
# one workload of bench/harness.h, RUNS times, then bench/report.sh turns
# the raw lines into bench/results/latest.md and latency.png.
#
# Peers come from Debian packages, installed here when missing (root only):
#   libspdlog-dev            spdlog async logger
#   liblttng-ust-dev, lttng-tools, babeltrace2   LTTng-UST and its reader
#   gnuplot-nox              the chart
# A peer that cannot run is named in the table with the reason.
set -eu
cd "$(dirname "$0")/.."
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
    RUNS=${BENCH_RUNS:-1}; ARGS="--bursts=300 --msgs=1000000"
else
    RUNS=${BENCH_RUNS:-3}; ARGS="--bursts=2000 --msgs=10000000"
fi
# The quick run is a smoke test: it must not replace the committed 3-run results.
if [ "$QUICK" = 1 ]; then OUT=build/bench/quick; else OUT=bench/results; fi
B=build/bench
mkdir -p "$OUT" "$B"
RAW="$B/raw.tsv"
: >"$RAW"

need=""
pkg-config --exists spdlog 2>/dev/null || need="$need libspdlog-dev"
pkg-config --exists lttng-ust 2>/dev/null || need="$need liblttng-ust-dev"
command -v lttng >/dev/null 2>&1 || need="$need lttng-tools"
command -v babeltrace2 >/dev/null 2>&1 || need="$need babeltrace2"
command -v gnuplot >/dev/null 2>&1 || need="$need gnuplot-nox"
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "bench: installing$need" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need) >/dev/null 2>&1 ||
            echo "bench: could not install$need; those peers are skipped" >&2
    else
        echo "bench: missing$need (run as root to install); those peers are skipped" >&2
    fi
fi

make -s build/libringlog.a
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Iinclude -Ibench"
cc $CFLAGS bench/bench_ringlog.c build/libringlog.a -lpthread -o $B/bench_ringlog
# The same calls with the fenced TSC forced (RINGLOG_CLOCK=tsc), and the
# previous layout (per-CPU rings, commit c66102a) built from git history,
# so that every figure has its comparison in the same run.
OLD_COMMIT=${RINGLOG_BENCH_OLD:-c66102a}
HAVE_OLD=0
if [ "$OLD_COMMIT" != none ] && git rev-parse -q --verify "$OLD_COMMIT^{commit}" >/dev/null 2>&1; then
    rm -rf "$B/layout3"
    mkdir -p "$B/layout3"
    if git archive "$OLD_COMMIT" | tar -x -C "$B/layout3" &&
        make -s -C "$B/layout3" build/libringlog.a >"$B/layout3-build.log" 2>&1 &&
        cc -std=c11 -O2 -g -D_GNU_SOURCE -I"$B/layout3/include" -I"$B/layout3/bench" \
            "$B/layout3/bench/bench_ringlog.c" "$B/layout3/build/libringlog.a" \
            -lpthread -o $B/bench_layout3 2>>"$B/layout3-build.log"; then
        HAVE_OLD=1
    else
        printf 'N\tlayout3\tcommit %s did not build (%s)\n' "$OLD_COMMIT" "$B/layout3-build.log" >>"$RAW"
    fi
else
    printf 'N\tlayout3\tcommit %s not in this clone: layout 3 not measured\n' "$OLD_COMMIT" >>"$RAW"
fi
HAVE_SPDLOG=0
if pkg-config --exists spdlog 2>/dev/null &&
    c++ -std=c++17 -O2 -g -Wall -Wextra -Ibench $(pkg-config --cflags spdlog) bench/bench_spdlog.cc \
        $(pkg-config --libs spdlog) -lpthread -o $B/bench_spdlog 2>"$B/spdlog-build.log"; then
    HAVE_SPDLOG=1
else
    printf 'N\tspdlog-async\tnot built (libspdlog-dev missing or failed: %s)\n' "$B/spdlog-build.log" >>"$RAW"
fi
HAVE_LTTNG=0
# The provider header is included as "./lttng_tp.h": build from bench/.
if pkg-config --exists lttng-ust 2>/dev/null &&
    (cd bench && cc $CFLAGS -I../include -I. bench_lttng.c -llttng-ust -ldl -lpthread \
        -o ../$B/bench_lttng) 2>"$B/lttng-build.log"; then
    if lttng list >/dev/null 2>&1 || lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1; then
        sleep 1
        lttng list >/dev/null 2>&1 && HAVE_LTTNG=1
    fi
    [ "$HAVE_LTTNG" = 1 ] ||
        printf 'N\tlttng-ust\tlttng-sessiond could not start here: LTTng not measured\n' >>"$RAW"
else
    printf 'N\tlttng-ust\tnot built (liblttng-ust-dev missing or failed)\n' >>"$RAW"
fi

# One LTTng session: $1 name, $2 discard|snapshot, $3 sub-buffer size, $4 count.
lttng_session() {
    lttng destroy rlbench >/dev/null 2>&1 || true
    rm -rf "$B/lttng-trace"
    if [ "$2" = snapshot ]; then
        lttng create rlbench --snapshot --output="$B/lttng-trace" >/dev/null
        lttng enable-channel -u ch --overwrite --subbuf-size="$3" --num-subbuf="$4" >/dev/null
    else
        lttng create rlbench --output="$B/lttng-trace" >/dev/null
        lttng enable-channel -u ch --discard --subbuf-size="$3" --num-subbuf="$4" >/dev/null
    fi
    lttng enable-event -u -c ch 'ringlog_bench:*' >/dev/null
    lttng start >/dev/null
}
lttng_done() { # $1 logger name, $2 scenario: discarded events of the session
    lttng stop >/dev/null 2>&1 || true
    d=$(lttng list rlbench 2>/dev/null | sed -n 's/.*Discarded events: *\([0-9]*\).*/\1/p' | head -n1)
    if [ -n "$d" ]; then
        printf 'R\t%s\tints\t%s\tdiscarded_session\t%s\n' "$1" "$2" "$d" >>"$RAW"
    fi
}

for run in $(seq 1 "$RUNS"); do
    echo "bench: run $run of $RUNS" >&2
    $B/bench_ringlog $ARGS >>"$RAW"
    for l in deferred write; do
        RINGLOG_CLOCK=tsc $B/bench_ringlog ringlog-$l $ARGS | sed "s/\tringlog-$l\t/\tringlog-$l-tsc\t/" >>"$RAW"
        [ "$HAVE_OLD" = 1 ] && $B/bench_layout3 ringlog-$l $ARGS | sed "s/\tringlog-$l\t/\tlayout3-$l\t/" >>"$RAW"
    done
    [ "$HAVE_OLD" = 1 ] && $B/bench_layout3 reader $ARGS | grep 'ringlog-reader' |
        sed "s/\tringlog-reader\t/\tlayout3-reader\t/" >>"$RAW"
    [ "$HAVE_SPDLOG" = 1 ] && $B/bench_spdlog $ARGS >>"$RAW"
    if [ "$HAVE_LTTNG" = 1 ]; then
        lttng_session rlbench discard 1M 8
        $B/bench_lttng $ARGS --no-full --name=lttng-ust-discard >>"$RAW"
        lttng_done lttng-ust-discard tput
        # The reader peer: babeltrace2 turning this run's trace into text.
        t0=$(date +%s%N)
        n=$(babeltrace2 "$B/lttng-trace" 2>/dev/null | wc -l)
        t1=$(date +%s%N)
        bytes=$(du -sb "$B/lttng-trace" | cut -f1)
        if [ "$n" -gt 0 ]; then
            printf 'R\tbabeltrace2\tints\treader_text\tentries_per_s\t%s\n' \
                "$(awk -v n="$n" -v t="$((t1 - t0))" 'BEGIN{printf "%.0f", n * 1e9 / t}')" >>"$RAW"
            printf 'R\tlttng-ust-discard\tints\ttput\tbytes_per_msg\t%s\n' \
                "$(awk -v n="$n" -v b="$bytes" 'BEGIN{printf "%.1f", b / n}')" >>"$RAW"
        fi
        lttng_session rlbench snapshot 1M 8
        $B/bench_lttng $ARGS --no-full --name=lttng-ust-snapshot >>"$RAW"
        lttng_done lttng-ust-snapshot tput
        lttng_session rlbench discard 4k 4
        $B/bench_lttng $ARGS --full-only=drop --name=lttng-ust-discard >>"$RAW"
        lttng_done lttng-ust-discard full_drop
        lttng_session rlbench snapshot 4k 4
        $B/bench_lttng $ARGS --full-only=overwrite --name=lttng-ust-snapshot >>"$RAW"
        lttng_done lttng-ust-snapshot full_overwrite
        lttng destroy rlbench >/dev/null 2>&1 || true
        rm -rf "$B/lttng-trace"
    fi
done

BENCH_OUT="$OUT" sh bench/report.sh "$RAW" "$RUNS" >"$OUT/latest.md"

# Calls that store nothing, and the price of `ringlog run`'s capture of a
# write(2) line (issue 13): the median of RUNS runs of each.
make -s build/ringlog build/libringlog_capture.so
cc $CFLAGS bench/bench_calls.c build/libringlog.a -lpthread -o $B/bench_calls
cc $CFLAGS bench/bench_capture.c -o $B/bench_capture
: >"$B/calls.tsv"
for run in $(seq 1 "$RUNS"); do
    $B/bench_calls >>"$B/calls.tsv"
    $B/bench_capture plain 2>/dev/null >>"$B/calls.tsv"
    build/ringlog run ringlog-bench-capture -- $B/bench_capture captured 2>/dev/null >>"$B/calls.tsv"
done
build/ringlog rm ringlog-bench-capture >/dev/null 2>&1 || true
{
    echo
    echo "## Calls that store nothing; the capture of a write(2) line"
    echo
    echo "Per call, ns, median over $RUNS runs of each run's p50 and p99 (bench/bench_calls.c,"
    echo "bench/bench_capture.c; the capture writes a 38-byte line to stderr, /dev/null)."
    echo
    echo "| case | p50 | p99 |"
    echo "|---|---:|---:|"
    awk -F'\t' '{k=$1" "$2; p50[k]=p50[k]" "$3; p99[k]=p99[k]" "$4; if(!(k in seen)){seen[k]=1; order[n++]=k}}
        function med(s,  a, m, i, j, t) { m = split(s, a, " ");
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return a[int((m + 1) / 2)] }
        END { for (i = 0; i < n; i++) printf "| %s | %s | %s |\n", order[i], med(p50[order[i]]), med(p99[order[i]]) }' "$B/calls.tsv"
} >>"$OUT/latest.md"
cat "$OUT/latest.md"
