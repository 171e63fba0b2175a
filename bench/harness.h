/*
 * The one workload every logger in `make bench` runs (bench/README.md).
 * Header-only, C11 and C++: each bench program defines its loggers as
 * `struct bench_logger`s and calls bench_main().
 *
 * Output: one tab-separated line per measurement,
 *     R <logger> <message> <scenario> <metric> <value>
 * which bench/report.sh aggregates over runs (medians, spread, ratios).
 *
 * Messages (identical for every logger):
 *   static  "static message, no argument"
 *   ints    "x=%d y=%d z=%f" with two ints and a double
 *   str     "id=%d name=%s" with an int and a 20-character string
 */
#ifndef RINGLOG_BENCH_HARNESS_H
#define RINGLOG_BENCH_HARNESS_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define BENCH_BURST 20
enum bench_msg { MSG_STATIC = 0, MSG_INTS = 1, MSG_STR = 2 };
static const char *const bench_msg_name[] = {"static", "ints", "str"};
static const char bench_name20[] = "abcdefghijklmnopqrst";

struct bench_logger {
    const char *name;
    /* Prepare for a scenario; `small` asks for a buffer too small for the
     * burst (full-buffer runs), `overwrite` for overwrite-oldest instead of
     * drop where the logger has both.  Returns 0, or -1 when the logger
     * cannot run it (the reason is printed as an N line). */
    int (*setup)(int small, int overwrite);
#define BENCH_SETUP_TPUT 2 /* `small` value: the throughput run's buffer */
    /* One log call of message kind `msg`, iteration `i`, from thread `t`. */
    void (*log)(int msg, int i, int t);
    /* Wait until everything logged so far is with its consumer (read by a
     * reader, written to the file, ...). */
    void (*drain)(void);
    /* Messages dropped so far, and bytes stored per message (0: unknown). */
    uint64_t (*dropped)(void);
    double (*bytes_per_msg)(int msg);
    void (*teardown)(void);
    const char *done_means; /* what drain() waits for */
    /* Non-zero: the throughput run gets its own setup(BENCH_SETUP_TPUT, 0),
     * a buffer sized for the burst, instead of the latency runs' default
     * one (for ringlog: 1 MiB rings keep the latency runs inside the TLB's
     * reach; the throughput run wants room for the burst). */
    int tput_own_buffer;
};

static double bench_tsc_ns;
static int bench_bursts = 2000;
static uint64_t bench_tput_n = 10000000;

static uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void bench_calibrate(void)
{
    uint64_t n0 = bench_now_ns(), t0 = __rdtsc();
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    uint64_t n1 = bench_now_ns(), t1 = __rdtsc();
    bench_tsc_ns = (double)(n1 - n0) / (double)(t1 - t0);
}

/* Serialised reads: nothing of the timed call moves across them. */
static inline uint64_t bench_t0(void)
{
    _mm_lfence();
    return __rdtsc();
}
static inline uint64_t bench_t1(void)
{
    unsigned aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
}

static void bench_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double bench_pct(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static void bench_out(const char *lg, const char *msg, const char *scen, const char *metric,
                      double v)
{
    printf("R\t%s\t%s\t%s\t%s\t%.3f\n", lg, msg, scen, metric, v);
}

static void bench_pause(void)
{
    struct timespec p = {0, 1000000};
    nanosleep(&p, NULL);
}

/* Latency of one producer thread: bursts of 20 calls ~1 ms apart.  Burst
 * mean: a burst timed whole / 20.  Per call: a second burst with every call
 * timed; call 1 (cold after the pause) reported apart from calls 2-20. */
struct bench_lat {
    double *bm, *pc, *first;
    size_t nbm, npc, nfirst;
};


/* Sample arrays are written between timed calls; a page fault there (the
 * first store to each page of a fresh allocation) would still slow the next
 * timed call, so every page is touched before the run.  Volatile stores: gcc
 * folds malloc + memset(0) into calloc, which touches nothing. */
static double *bench_alloc(size_t n)
{
    size_t bytes = sizeof(double) * (n ? n : 1);
    double *v = (double *)malloc(bytes);
    if (!v) {
        perror("bench: malloc");
        exit(1);
    }
    for (size_t off = 0; off < bytes; off += 4096)
        ((volatile unsigned char *)v)[off] = 0;
    return v;
}

static void bench_lat_run(const struct bench_logger *L, int msg, int t, struct bench_lat *r)
{
    size_t B = (size_t)bench_bursts;
    r->bm = bench_alloc(B);
    r->pc = bench_alloc((size_t)B * (BENCH_BURST - 1));
    r->first = bench_alloc(B);
    r->nbm = r->npc = r->nfirst = 0;
    int i = 0;
    for (size_t b = 0; b < B; b++) {
        uint64_t a = bench_t0();
        for (int k = 0; k < BENCH_BURST; k++)
            L->log(msg, i++, t);
        uint64_t z = bench_t1();
        r->bm[r->nbm++] = (double)(z - a) * bench_tsc_ns / BENCH_BURST;
        bench_pause();
        for (int k = 0; k < BENCH_BURST; k++) {
            uint64_t c0 = bench_t0();
            L->log(msg, i++, t);
            uint64_t c1 = bench_t1();
            double ns = (double)(c1 - c0) * bench_tsc_ns;
            if (k == 0)
                r->first[r->nfirst++] = ns;
            else
                r->pc[r->npc++] = ns;
        }
        bench_pause();
    }
    qsort(r->bm, r->nbm, sizeof(double), bench_cmp);
    qsort(r->pc, r->npc, sizeof(double), bench_cmp);
    qsort(r->first, r->nfirst, sizeof(double), bench_cmp);
}

static void bench_lat_print(const char *lg, const char *msg, const char *scen, struct bench_lat *r)
{
    bench_out(lg, msg, scen, "burst_p50", bench_pct(r->bm, r->nbm, 0.5));
    bench_out(lg, msg, scen, "burst_p99", bench_pct(r->bm, r->nbm, 0.99));
    bench_out(lg, msg, scen, "call_p50", bench_pct(r->pc, r->npc, 0.5));
    bench_out(lg, msg, scen, "call_p90", bench_pct(r->pc, r->npc, 0.9));
    bench_out(lg, msg, scen, "call_p99", bench_pct(r->pc, r->npc, 0.99));
    bench_out(lg, msg, scen, "call_p999", bench_pct(r->pc, r->npc, 0.999));
    bench_out(lg, msg, scen, "call_max", r->npc ? r->pc[r->npc - 1] : 0);
    bench_out(lg, msg, scen, "first_p50", bench_pct(r->first, r->nfirst, 0.5));
    bench_out(lg, msg, scen, "first_p99", bench_pct(r->first, r->nfirst, 0.99));
    free(r->bm);
    free(r->pc);
    free(r->first);
}

struct bench_thr {
    const struct bench_logger *L;
    int msg, t;
    pthread_barrier_t *bar;
    struct bench_lat lat;
};

static void *bench_thr_main(void *arg)
{
    struct bench_thr *a = (struct bench_thr *)arg;
    bench_pin(a->t);
    pthread_barrier_wait(a->bar);
    bench_lat_run(a->L, a->msg, a->t, &a->lat);
    return NULL;
}

/* Throughput: n messages as fast as one thread can, then drain. */
static void bench_throughput(const struct bench_logger *L, int msg, const char *scen)
{
    uint64_t n = bench_tput_n;
    uint64_t d0 = L->dropped ? L->dropped() : 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++)
        L->log(msg, (int)i, 0);
    uint64_t t1 = bench_now_ns();
    if (L->drain)
        L->drain();
    uint64_t t2 = bench_now_ns();
    uint64_t d = (L->dropped ? L->dropped() : 0) - d0;
    bench_out(L->name, bench_msg_name[msg], scen, "msgs_per_s", (double)n * 1e9 / (double)(t2 - t0));
    bench_out(L->name, bench_msg_name[msg], scen, "producer_msgs_per_s",
              (double)n * 1e9 / (double)(t1 - t0));
    bench_out(L->name, bench_msg_name[msg], scen, "dropped", (double)d);
    if (L->bytes_per_msg)
        bench_out(L->name, bench_msg_name[msg], scen, "bytes_per_msg", L->bytes_per_msg(msg));
}

/* Full buffer: calls back to back into a buffer too small for them, every
 * call timed; the consumer (if any) runs as usual.  Flat percentiles mean
 * the producer never waits for room. */
static void bench_full(const struct bench_logger *L, const char *scen)
{
    size_t n = (size_t)(bench_tput_n / 5);
    double *v = bench_alloc(n);
    uint64_t d0 = L->dropped ? L->dropped() : 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t a = bench_t0();
        L->log(MSG_INTS, (int)i, 0);
        uint64_t z = bench_t1();
        v[i] = (double)(z - a) * bench_tsc_ns;
    }
    uint64_t t1 = bench_now_ns();
    if (L->drain)
        L->drain();
    qsort(v, n, sizeof(double), bench_cmp);
    const char *lg = L->name;
    bench_out(lg, "ints", scen, "call_p50", bench_pct(v, n, 0.5));
    bench_out(lg, "ints", scen, "call_p99", bench_pct(v, n, 0.99));
    bench_out(lg, "ints", scen, "call_p999", bench_pct(v, n, 0.999));
    bench_out(lg, "ints", scen, "call_max", v[n - 1]);
    bench_out(lg, "ints", scen, "producer_msgs_per_s", (double)n * 1e9 / (double)(t1 - t0));
    bench_out(lg, "ints", scen, "lost_pct",
              100.0 * (double)((L->dropped ? L->dropped() : 0) - d0) / (double)n);
    free(v);
}

/*
 * The run: for each logger, latency of the three messages with one
 * producer, latency with two producers (one per CPU) for "ints",
 * throughput of "ints", and the full-buffer runs (drop and overwrite) when
 * `full` is set.
 */
static int bench_main(int argc, char **argv, const struct bench_logger *const *loggers, int full)
{
    int full_only = -1; /* --full-only=drop|overwrite: just that full-buffer run */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-full") == 0)
            full = 0;
        else if (strcmp(argv[i], "--full-only=drop") == 0)
            full_only = 0;
        else if (strcmp(argv[i], "--full-only=overwrite") == 0)
            full_only = 1;
        else if (strncmp(argv[i], "--bursts=", 9) == 0)
            bench_bursts = atoi(argv[i] + 9);
        else if (strncmp(argv[i], "--msgs=", 7) == 0)
            bench_tput_n = strtoull(argv[i] + 7, NULL, 10);
    }
    bench_calibrate();
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (const struct bench_logger *const *lp = loggers; *lp; lp++) {
        const struct bench_logger *L = *lp;
        if (full_only >= 0) {
            if (L->setup(1, full_only) == 0) {
                bench_pin(0);
                bench_full(L, full_only ? "full_overwrite" : "full_drop");
                L->teardown();
            }
            continue;
        }
        if (L->setup(0, 0) != 0)
            continue;
        if (L->done_means)
            printf("D\t%s\t%s\n", L->name, L->done_means);
        bench_pin(0);
        for (int m = 0; m < 3; m++) {
            struct bench_lat r;
            bench_lat_run(L, m, 0, &r);
            bench_lat_print(L->name, bench_msg_name[m], "lat1", &r);
        }
        /* Two producers, one per CPU. */
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        struct bench_thr th[2];
        pthread_t tid[2];
        for (int t = 0; t < 2; t++) {
            th[t].L = L;
            th[t].msg = MSG_INTS;
            th[t].t = t;
            th[t].bar = &bar;
            pthread_create(&tid[t], NULL, bench_thr_main, &th[t]);
        }
        for (int t = 0; t < 2; t++)
            pthread_join(tid[t], NULL);
        pthread_barrier_destroy(&bar);
        bench_lat_print(L->name, "ints", "lat2", &th[0].lat);
        free(th[1].lat.bm);
        free(th[1].lat.pc);
        free(th[1].lat.first);
        bench_pin(0);
        if (L->drain)
            L->drain();
        if (L->tput_own_buffer) {
            L->teardown();
            if (L->setup(BENCH_SETUP_TPUT, 0) != 0)
                continue;
            bench_pin(0);
        }
        bench_throughput(L, MSG_INTS, "tput");
        L->teardown();
        if (!full)
            continue;
        for (int ow = 0; ow < 2; ow++) {
            if (L->setup(1, ow) != 0)
                continue;
            bench_pin(0);
            bench_full(L, ow ? "full_overwrite" : "full_drop");
            L->teardown();
        }
    }
    return 0;
}

#endif
