#!/bin/sh
# Turns the raw lines of bench/run.sh (R/N/D lines of bench/harness.h) into
# the Markdown report: the median of the runs, with the spread (min-max)
# when there were several, ratios against ringlog-deferred, the targets of
# the performance issue, and bench/results/latency.png (gnuplot).
# Usage: bench/report.sh RAW.tsv RUNS
set -eu
RAW=$1
RUNS=${2:-1}
OUT=${BENCH_OUT:-bench/results}
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "# ringlog bench, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Machine: $(nproc) CPUs ($cpu), $(uname -r); compiler: $(cc --version | head -n1)."
echo "Runs: $RUNS; each number is the median of the runs, [min-max] when there were several."
echo "Reproduce: \`make bench\` (about 13 minutes on this machine; \`make bench-quick\` is one short run written to build/bench/quick/latest.md)."
echo
awk -F'\t' -v runs="$RUNS" -v out="$OUT" '
function med(key,   n, i, j, t, a) {
    n = split(vals[key], a, ",")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    lo[key] = a[1]; hi[key] = a[n]
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function has(l, m, s, k) { return ((l SUBSEP m SUBSEP s SUBSEP k) in vals) }
function v(l, m, s, k,   key) { key = l SUBSEP m SUBSEP s SUBSEP k; return (key in vals) ? med(key) : "" }
function fmt(x, l, m, s, k,   key, r) {
    if (x == "") return "-"
    r = (x >= 100 ? sprintf("%.0f", x) : sprintf("%.1f", x))
    key = l SUBSEP m SUBSEP s SUBSEP k
    if (runs > 1 && (key in lo) && lo[key] != hi[key])
        r = r sprintf(" [%s-%s]", (lo[key] >= 100 ? sprintf("%.0f", lo[key]) : sprintf("%.1f", lo[key])), (hi[key] >= 100 ? sprintf("%.0f", hi[key]) : sprintf("%.1f", hi[key])))
    return r
}
function cell(l, m, s, k) { return fmt(v(l, m, s, k), l, m, s, k) }
function big(x) { return x == "" ? "-" : (x >= 1e6 ? sprintf("%.2f M", x / 1e6) : sprintf("%.0f", x)) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
# (The test comes first: some awks create vals[key] before the right-hand side runs.)
$1 == "R" { key = $2 SUBSEP $3 SUBSEP $4 SUBSEP $5; if (key in vals) vals[key] = vals[key] "," $6; else vals[key] = $6; next }
$1 == "N" { note[$2 ": " $3] = 1; next }
$1 == "D" { done[$2] = $3; next }
END {
    nl = split("floor ringlog-deferred ringlog-deferred-tsc ringlog-eager ringlog-write ringlog-write-tsc layout3-deferred layout3-write ringlog-queue lttng-ust-discard lttng-ust-snapshot spdlog-async fprintf snprintf", L, " ")
    split("static ints str", M, " ")
    split("a static string|\"x=%d y=%d z=%f\" (two ints and a double)|\"id=%d name=%s\" (an int and a 20-character string)", MT, "|")
    print "## Latency, one producer thread (ns per call)"
    print ""
    print "One thread pinned to CPU 0 (consumers on CPU 1); 20-call bursts about 1 ms apart. *Burst mean*: each burst timed whole / 20 (resolves below the 10 ns tick). *Per call*: calls 2-20 of a burst each timed with serialised counter reads (which add about 25 ns); the first call after the pause apart. Ratios: burst-mean p50 over ringlog-deferred'"'"'s."
    for (mi = 1; mi <= 3; mi++) {
        m = M[mi]
        print ""
        print "### " MT[mi]
        print ""
        print "| logger | burst p50 | burst p99 | call p50 | p90 | p99 | p99.9 | max | first call p50 | vs ringlog-deferred |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        base = v("ringlog-deferred", m, "lat1", "burst_p50")
        for (i = 1; i <= nl; i++) {
            l = L[i]
            if (!has(l, m, "lat1", "burst_p50")) continue
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", l, cell(l, m, "lat1", "burst_p50"), cell(l, m, "lat1", "burst_p99"), cell(l, m, "lat1", "call_p50"), cell(l, m, "lat1", "call_p90"), cell(l, m, "lat1", "call_p99"), cell(l, m, "lat1", "call_p999"), cell(l, m, "lat1", "call_max"), cell(l, m, "lat1", "first_p50"), ratio(v(l, m, "lat1", "burst_p50"), base)
            if (m == "ints") printf "%s %s %s %s %s\n", l, v(l, m, "lat1", "call_p50"), v(l, m, "lat1", "call_p90"), v(l, m, "lat1", "call_p99"), v(l, m, "lat1", "call_p999") > (out "/latency.dat")
        }
    }
    close(out "/latency.dat")
    print ""
    print "## Two producer threads, one per CPU (\"x=%d y=%d z=%f\")"
    print ""
    print "| logger | burst p50 | call p50 | call p99.9 | burst p50 two / one |"
    print "|---|---:|---:|---:|---:|"
    for (i = 1; i <= nl; i++) {
        l = L[i]
        if (!has(l, "ints", "lat2", "burst_p50")) continue
        printf "| %s | %s | %s | %s | %s |\n", l, cell(l, "ints", "lat2", "burst_p50"), cell(l, "ints", "lat2", "call_p50"), cell(l, "ints", "lat2", "call_p999"), ratio(v(l, "ints", "lat2", "burst_p50"), v(l, "ints", "lat1", "burst_p50"))
    }
    print ""
    print "## Throughput, one producer (\"x=%d y=%d z=%f\")"
    print ""
    print "| logger | messages/s until done | producer messages/s | dropped | bytes per message | done means |"
    print "|---|---:|---:|---:|---:|---|"
    for (i = 1; i <= nl; i++) {
        l = L[i]
        if (!has(l, "ints", "tput", "producer_msgs_per_s")) continue
        d = has(l, "ints", "tput", "dropped") ? sprintf("%.0f", v(l, "ints", "tput", "dropped")) : (has(l, "ints", "tput", "discarded_session") ? sprintf("%.0f (whole session)", v(l, "ints", "tput", "discarded_session")) : "-")
        printf "| %s | %s | %s | %s | %s | %s |\n", l, big(v(l, "ints", "tput", "msgs_per_s")), big(v(l, "ints", "tput", "producer_msgs_per_s")), d, cell(l, "ints", "tput", "bytes_per_msg"), (l in done) ? done[l] : "-"
    }
    print ""
    print "## Full buffer (\"x=%d y=%d z=%f\", buffer far smaller than the run, every call timed)"
    print ""
    print "| logger | mode | call p50 | p99 | p99.9 | max | producer messages/s | lost % |"
    print "|---|---|---:|---:|---:|---:|---:|---:|"
    split("full_drop full_overwrite", S, " ")
    for (i = 1; i <= nl; i++) for (si = 1; si <= 2; si++) {
        l = L[i]; s = S[si]
        if (!has(l, "ints", s, "call_p50")) continue
        lost = has(l, "ints", s, "lost_pct") ? cell(l, "ints", s, "lost_pct") : (has(l, "ints", s, "discarded_session") ? sprintf("%.0f events (session)", v(l, "ints", s, "discarded_session")) : "-")
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", l, (si == 1 ? "drop newest" : "overwrite oldest"), cell(l, "ints", s, "call_p50"), cell(l, "ints", s, "call_p99"), cell(l, "ints", s, "call_p999"), cell(l, "ints", s, "call_max"), big(v(l, "ints", s, "producer_msgs_per_s")), lost
    }
    print ""
    print "## Reader, one core (\"x=%d y=%d z=%f\" entries)"
    print ""
    print "| reader | entries/s |"
    print "|---|---:|"
    if (has("ringlog-reader", "ints", "reader_raw", "entries_per_s")) printf "| ringlog consuming reader, raw delivery | %s |\n", big(v("ringlog-reader", "ints", "reader_raw", "entries_per_s"))
    if (has("ringlog-reader", "ints", "reader_text", "entries_per_s")) printf "| ringlog consuming reader + ringlog_entry_text | %s |\n", big(v("ringlog-reader", "ints", "reader_text", "entries_per_s"))
    if (has("babeltrace2", "ints", "reader_text", "entries_per_s")) printf "| babeltrace2, LTTng trace to text | %s |\n", big(v("babeltrace2", "ints", "reader_text", "entries_per_s"))
    split("2 64 1024", NL, " ")
    for (k = 1; k <= 3; k++)
        if (has("ringlog-reader", "ints", "merge_" NL[k], "entries_per_s")) printf "| ringlog consuming reader merging %s lanes, raw | %s |\n", NL[k], big(v("ringlog-reader", "ints", "merge_" NL[k], "entries_per_s"))
    for (k = 1; k <= 3; k++)
        if (has("ringlog-reader", "ints", "wake_" NL[k], "ms_p50")) printf "| an idle consuming reader over %s lanes notices a new entry after (ms, median [max] of 21) | %.1f [%.1f] |\n", NL[k], v("ringlog-reader", "ints", "wake_" NL[k], "ms_p50"), v("ringlog-reader", "ints", "wake_" NL[k], "ms_max")
    if (has("layout3-reader", "ints", "reader_raw", "entries_per_s")) printf "| layout 3 (per-CPU rings) consuming reader, raw | %s |\n", big(v("layout3-reader", "ints", "reader_raw", "entries_per_s"))
    if (has("layout3-reader", "ints", "reader_text", "entries_per_s")) printf "| layout 3 consuming reader + ringlog_entry_text | %s |\n", big(v("layout3-reader", "ints", "reader_text", "entries_per_s"))
    if (has("ringlog-queue", "ints", "popall", "ns_per_item")) {
        print ""
        print "## Pop-all queue, consumer side (one core, 32-byte items)"
        print ""
        print "| step | ns |"
        print "|---|---:|"
        printf "| pop_all of 16384 items + walking the batch + release, per item | %s |\n", cell("ringlog-queue", "ints", "popall", "ns_per_item")
        printf "| the same, whole batch | %s |\n", cell("ringlog-queue", "ints", "popall", "batch_ns")
        printf "| pop_all on an empty queue | %s |\n", cell("ringlog-queue", "ints", "popall", "empty_ns")
        print ""
        print "The producer side (`ringlog_queue_push`) is the ringlog-queue row of the latency tables."
    }
    print ""
    print "## Targets (region v2 issue), this run"
    print ""
    print "The floor is an unfenced TSC read plus one atomic increment. ringlog reads the region'"'"'s clock: the TSC after an lfence where the kernel offers the TSC as a clocksource, else CLOCK_MONOTONIC (this machine'"'"'s kernel withdraws the TSC: the plain rows use CLOCK_MONOTONIC, the -tsc rows force the fenced TSC with RINGLOG_CLOCK=tsc)."
    print ""
    fl = v("floor", "ints", "lat1", "burst_p50"); fl999 = v("floor", "ints", "lat1", "call_p999"); flf = v("floor", "ints", "lat1", "first_p50")
    split("ringlog-deferred ringlog-deferred-tsc", RD, " ")
    for (k = 1; k <= 2; k++) {
        l = RD[k]
        if (!has(l, "ints", "lat1", "burst_p50")) continue
        rd = v(l, "ints", "lat1", "burst_p50"); p999 = v(l, "ints", "lat1", "call_p999"); rf = v(l, "ints", "lat1", "first_p50")
        r2 = v(l, "ints", "lat2", "burst_p50")
        tgt(l ": burst p50 <= 1.5x floor", rd != "" && fl != "", rd / (fl ? fl : 1), "x floor", rd <= 1.5 * fl)
        tgt(l ": per-call p99.9 <= 3x floor'"'"'s p99.9", p999 != "" && fl999 != "", p999 / (fl999 ? fl999 : 1), "x", p999 <= 3 * fl999)
        tgt(l ": first call p50 <= 2x floor'"'"'s first call", rf != "" && flf != "", rf / (flf ? flf : 1), "x", rf <= 2 * flf)
        tgt(l ": two threads, each <= 1.1x one thread'"'"'s burst mean", r2 != "" && rd != "", r2 / (rd ? rd : 1), "x", r2 <= 1.1 * rd)
    }
    tp = v("ringlog-deferred", "ints", "tput", "msgs_per_s")
    tgt("one writer to a live consumer without loss >= half the floor'"'"'s rate (1 / floor burst p50)", tp != "" && fl != "", tp / 1e6, sprintf("M/s, half the floor: %.1f M/s, dropped %d", 0.5e3 / (fl ? fl : 1), v("ringlog-deferred", "ints", "tput", "dropped")), tp >= 0.5e9 / (fl ? fl : 1) && v("ringlog-deferred", "ints", "tput", "dropped") == 0)
    m64 = v("ringlog-reader", "ints", "merge_64", "entries_per_s")
    rt = v("ringlog-reader", "ints", "reader_text", "entries_per_s"); bt = v("babeltrace2", "ints", "reader_text", "entries_per_s")
    tgt("reader merging 64 lanes >= 20 M entries/s raw", m64 != "", m64 / 1e6, "M/s", m64 >= 20e6)
    tgt("reader formats >= 4 M entries/s", rt != "", rt / 1e6, "M/s", rt >= 4e6)
    tgt("reader >= 5x babeltrace2", rt != "" && bt != "", rt / (bt ? bt : 1), "x", rt >= 5 * bt)
    o3 = v("layout3-deferred", "ints", "lat1", "burst_p50"); n4 = v("ringlog-deferred", "ints", "lat1", "burst_p50")
    if (o3 != "" && n4 != "") printf "- layout 4 against layout 3, deferred burst p50: %.0f ns against %.0f ns (%.2fx)\n", n4, o3, n4 / o3
    o3t = v("layout3-deferred", "ints", "tput", "msgs_per_s")
    if (o3t != "" && tp != "") printf "- layout 4 against layout 3, one writer to a live consumer: %.2f M/s against %.2f M/s\n", tp / 1e6, o3t / 1e6
    nn = 0
    for (k in note) nn++
    if (nn) {
        print ""
        print "## Not measured"
        print ""
        for (k in note) print "- " k
    }
}
function tgt(what, ok, x, unit, met) {
    if (!ok) { printf "- %s: not measured\n", what; return }
    printf "- %s: **%s** (%.2f %s)\n", what, met ? "met" : "missed", x, unit
}
' "$RAW"
if command -v gnuplot >/dev/null 2>&1 && [ -s "$OUT/latency.dat" ]; then
    gnuplot <<EOF 2>/dev/null || true
set terminal pngcairo size 1000,560 noenhanced
set output "$OUT/latency.png"
set title "Per-call latency, \"x=%d y=%d z=%f\", one producer (calls 2-20 of 20-call bursts)"
set ylabel "ns (log scale)"
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set xtics rotate by -25
set key top left
set grid ytics
plot "$OUT/latency.dat" using 2:xtic(1) title "p50", '' using 3 title "p90", '' using 4 title "p99", '' using 5 title "p99.9"
EOF
    echo
    echo "![per-call latency percentiles](latency.png)"
fi
