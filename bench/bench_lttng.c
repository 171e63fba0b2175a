/*
 * `make bench`, peer: LTTng-UST tracepoints (Debian's liblttng-ust-dev),
 * through the same workload as ringlog (bench/harness.h).  bench/run.sh
 * creates the session (discard or snapshot mode, normal or small buffers)
 * before each run and names the logger with --name=.
 */
#define TRACEPOINT_DEFINE
#define TRACEPOINT_CREATE_PROBES
#include "lttng_tp.h"

#include "harness.h"

static int lt_setup(int small, int overwrite)
{
    (void)small;
    (void)overwrite;
    return 0; /* the session outside decides the buffers and the mode */
}

static void lt_log(int msg, int i, int t)
{
    (void)t;
    switch (msg) {
    case MSG_STATIC: tracepoint(ringlog_bench, static_msg); break;
    case MSG_INTS: tracepoint(ringlog_bench, ints, i, i * 2, i * 0.5); break;
    default: tracepoint(ringlog_bench, str, i, bench_name20); break;
    }
}

static void lt_teardown(void) {}

int main(int argc, char **argv)
{
    static struct bench_logger L = {
        "lttng-ust", lt_setup, lt_log, NULL, NULL, NULL, lt_teardown,
        "in the per-CPU buffers (the consumer daemon writes sub-buffers out on its own)", 0};
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--name=", 7) == 0)
            L.name = argv[i] + 7;
    static const struct bench_logger *const all[] = {&L, NULL};
    return bench_main(argc, argv, all, 0);
}
