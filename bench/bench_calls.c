/*
 * The cost of calls that store nothing, per call (p50/p99 of 1000-call
 * batches, TSC-free: CLOCK_MONOTONIC over each batch): a call below the
 * run-time level, a switched-off site, a suppressed RINGLOG_*_EVERY and
 * RINGLOG_*_LIMIT call; and a stored deferred call for scale.  One line
 * per case: "calls CASE p50_ns p99_ns".
 */
#include <ringlog.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 1000
#define BATCHES 2000

static ringlog *lg;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *v)
{
    qsort(v, BATCHES, sizeof *v, cmp);
    printf("calls\t%s\t%.2f\t%.2f\n", name, v[BATCHES / 2], v[BATCHES * 99 / 100]);
}

#define MEASURE(name, stmt)                                                                       \
    do {                                                                                          \
        static double v[BATCHES];                                                                 \
        for (int b = 0; b < BATCHES; b++) {                                                       \
            double t0 = now_ns();                                                                 \
            for (int i = 0; i < BATCH; i++) {                                                     \
                stmt;                                                                             \
            }                                                                                     \
            v[b] = (now_ns() - t0) / BATCH;                                                       \
        }                                                                                         \
        report(name, v);                                                                          \
    } while (0)

static void site_off(int i)
{
    RINGLOG_INFO(lg, "switched off %d", i);
}

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "ringlog-bench-calls-%d", (int)getpid());
    struct ringlog_options o = {.ring_size = 1u << 20, .nrings = 4};
    if (ringlog_open(name, &o, &lg) != 0) {
        fprintf(stderr, "bench_calls: %s\n", ringlog_errmsg());
        return 1;
    }
    MEASURE("stored_deferred", RINGLOG_INFO(lg, "stored %d", i));
    ringlog_set_level(lg, RINGLOG_LEVEL_WARN);
    MEASURE("below_level", RINGLOG_INFO(lg, "filtered %d", i));
    ringlog_set_level(lg, RINGLOG_LEVEL_TRACE);
    site_off(0);
    ringlog_site_switch(lg, NULL, 0, "switched off*", 0);
    MEASURE("site_off", site_off(i));
    MEASURE("every_suppressed", RINGLOG_INFO_EVERY(1000000000, lg, "every %d", i));
    MEASURE("limit_suppressed", RINGLOG_INFO_LIMIT(1, lg, "limit %d", i));
    ringlog_close(lg);
    ringlog_unlink(name);
    return 0;
}
