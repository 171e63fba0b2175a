/*
 * `make bench`, C side: ringlog's calls, the pop-all queue, the floor,
 * snprintf and fprintf, all through bench/harness.h's one workload.  Also
 * the reader's rate (delivering raw entries, and formatting them to text).
 */
#include "harness.h"
#include "ringlog.h"
#include "ringlog_queue.h"

#include <stdatomic.h>

/* ------------------------------------------------------------ floor etc. */

static _Atomic uint64_t floor_counter;
static volatile char sink[256];

static int nop_setup(int small, int ow)
{
    (void)ow;
    return small ? -1 : 0;
}
static void nop_teardown(void) {}

static void floor_log(int msg, int i, int t)
{
    (void)msg, (void)i, (void)t;
    sink[0] = (char)__rdtsc();
    atomic_fetch_add_explicit(&floor_counter, 1, memory_order_relaxed);
}

static void snprintf_log(int msg, int i, int t)
{
    char buf[128];
    (void)t;
    switch (msg) {
    case MSG_STATIC: snprintf(buf, sizeof buf, "static message, no argument"); break;
    case MSG_INTS: snprintf(buf, sizeof buf, "x=%d y=%d z=%f", i, i * 2, i * 0.5); break;
    default: snprintf(buf, sizeof buf, "id=%d name=%s", i, bench_name20); break;
    }
    sink[1] = buf[0];
}

static FILE *ff;
static int fprintf_setup(int small, int ow)
{
    (void)ow;
    if (small)
        return -1;
    ff = fopen("/tmp/ringlog-bench-fprintf.log", "w");
    return ff ? 0 : -1;
}
static void fprintf_log(int msg, int i, int t)
{
    (void)t;
    switch (msg) {
    case MSG_STATIC: fprintf(ff, "static message, no argument\n"); break;
    case MSG_INTS: fprintf(ff, "x=%d y=%d z=%f\n", i, i * 2, i * 0.5); break;
    default: fprintf(ff, "id=%d name=%s\n", i, bench_name20); break;
    }
}
static void fprintf_drain(void)
{
    fflush(ff);
}
static void fprintf_teardown(void)
{
    fclose(ff);
    unlink("/tmp/ringlog-bench-fprintf.log");
}

/* ----------------------------------------------------------- ringlog */

static ringlog *lg;
static char rname[64];
static pthread_t reader_tid;
static _Atomic int reader_stop;
static _Atomic int reader_ready; /* 1: attached, -1: could not attach */

static int count_entry(void *arg, const struct ringlog_entry *e)
{
    (void)e;
    ++*(uint64_t *)arg;
    return 0;
}

/* The consumer, on the other CPU: claims entries as they come.  Knobs for
 * experiments (bench/README.md): RINGLOG_BENCH_READER_CPU, _POLL_US
 * (drain, then sleep that long), RINGLOG_BENCH_NO_READER. */
static void *reader_main(void *arg)
{
    (void)arg;
    bench_pin(getenv("RINGLOG_BENCH_READER_CPU") ? atoi(getenv("RINGLOG_BENCH_READER_CPU")) : 1);
    ringlog_reader *r;
    if (ringlog_reader_open(rname, RINGLOG_READER_CONSUME, &r) != 0) {
        atomic_store(&reader_ready, -1);
        return NULL;
    }
    atomic_store(&reader_ready, 1);
    uint64_t n = 0;
    struct ringlog_handler h = {count_entry, NULL, &n};
    /* The reader's own hold unless told (RINGLOG_BENCH_HOLD_MS), as
     * `ringlog tail` uses it. */
    const char *hold = getenv("RINGLOG_BENCH_HOLD_MS");
    if (hold)
        ringlog_reader_set_lag(r, 0, (unsigned)atoi(hold));
    const char *e = getenv("RINGLOG_BENCH_POLL_US");
    long poll_us = e ? atol(e) : -1;
    while (!atomic_load(&reader_stop)) {
        if (poll_us < 0) {
            ringlog_read(r, &h, 5);
        } else {
            while (ringlog_read(r, &h, 0) > 0)
                ;
            struct timespec p = {0, poll_us * 1000};
            nanosleep(&p, NULL);
        }
    }
    ringlog_reader_close(r);
    return NULL;
}

static int ringlog_setup(int small, int ow)
{
    snprintf(rname, sizeof rname, "ringlog-bench-%d", (int)getpid());
    ringlog_unlink(rname);
    /* Latency: the library's default ring (1 MiB per CPU), which stays
     * within the TLB's reach; throughput: 8 MiB, which holds the burst the
     * consumer has not claimed yet (bench/README.md). */
    const char *env = getenv(small == BENCH_SETUP_TPUT ? "RINGLOG_BENCH_TPUT_RING" : "RINGLOG_BENCH_RING");
    size_t ring = env ? (size_t)atol(env) : small == BENCH_SETUP_TPUT ? 8u << 20 : 0;
    struct ringlog_options o = {.ring_size = small == 1 ? 64 * 1024 : ring,
                                .policy = ow ? RINGLOG_OVERWRITE : RINGLOG_DROP};
    if (ringlog_open(rname, &o, &lg) != 0) {
        printf("N\tringlog\t%s\n", ringlog_errmsg());
        return -1;
    }
    atomic_store(&reader_stop, 0);
    atomic_store(&reader_ready, 0);
    if (!getenv("RINGLOG_BENCH_NO_READER")) {
        pthread_create(&reader_tid, NULL, reader_main, NULL);
        /* The run starts once the consumer is attached (opening maps and
         * prefaults the region, some milliseconds for big rings), or a
         * throughput run would fill the rings before anyone reads. */
        while (atomic_load(&reader_ready) == 0) {
            struct timespec p = {0, 100000};
            nanosleep(&p, NULL);
        }
    }
    return 0;
}

static void ringlog_drain(void)
{
    if (getenv("RINGLOG_BENCH_NO_READER"))
        return;
    /* Done: the consumer has claimed every entry written (or it was lost). */
    for (int spins = 0; spins < 20000; spins++) {
        struct ringlog_stats s;
        ringlog_stats(lg, &s, NULL, 0);
        if (s.buffered == 0 && s.written == s.read + s.lost + s.overwritten)
            return;
        struct timespec p = {0, 50000};
        nanosleep(&p, NULL);
    }
}

static uint64_t ringlog_dropped(void)
{
    struct ringlog_stats s;
    ringlog_stats(lg, &s, NULL, 0);
    return s.lost + s.overwritten;
}

static double ringlog_bpm(int msg)
{
    (void)msg;
    struct ringlog_stats s;
    ringlog_stats(lg, &s, NULL, 0);
    return s.written ? (double)s.bytes / (double)(s.written - s.lost) : 0;
}

static void ringlog_teardown(void)
{
    atomic_store(&reader_stop, 1);
    if (!getenv("RINGLOG_BENCH_NO_READER"))
        pthread_join(reader_tid, NULL);
    ringlog_close(lg);
    ringlog_unlink(rname);
}

static void deferred_log(int msg, int i, int t)
{
    (void)t;
    switch (msg) {
    case MSG_STATIC: RINGLOG_INFO(lg, "static message, no argument"); break;
    case MSG_INTS: RINGLOG_INFO(lg, "x=%d y=%d z=%f", i, i * 2, i * 0.5); break;
    default: RINGLOG_INFO(lg, "id=%d name=%s", i, bench_name20); break;
    }
}

static void eager_log(int msg, int i, int t)
{
    (void)t;
    switch (msg) {
    case MSG_STATIC: ringlog_printf(lg, RINGLOG_LEVEL_INFO, "static message, no argument"); break;
    case MSG_INTS: ringlog_printf(lg, RINGLOG_LEVEL_INFO, "x=%d y=%d z=%f", i, i * 2, i * 0.5); break;
    default: ringlog_printf(lg, RINGLOG_LEVEL_INFO, "id=%d name=%s", i, bench_name20); break;
    }
}

/* Raw: the same values as bytes, no format at all. */
static void write_log(int msg, int i, int t)
{
    (void)t;
    struct {
        int32_t a, b;
        double c;
    } v = {i, i * 2, i * 0.5};
    switch (msg) {
    case MSG_STATIC: ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 1, NULL, 0); break;
    case MSG_INTS: ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 2, &v, sizeof v); break;
    default: ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 3, bench_name20, 20); break;
    }
}

/* ------------------------------------------------------- pop-all queue */

static ringlog_queue *qq;
static pthread_t q_tid;
static _Atomic int q_stop;
static _Atomic uint64_t q_popped;

static void *queue_consumer(void *arg)
{
    (void)arg;
    bench_pin(1);
    while (!atomic_load(&q_stop)) {
        struct ringlog_queue_batch b;
        long n = ringlog_queue_pop_all(qq, &b);
        if (n > 0) {
            size_t len;
            while (ringlog_queue_next(&b, &len))
                ;
            ringlog_queue_release(&b);
            atomic_fetch_add(&q_popped, (uint64_t)n);
        } else {
            struct timespec p = {0, 20000};
            nanosleep(&p, NULL);
        }
    }
    return NULL;
}

static int queue_setup(int small, int ow)
{
    struct ringlog_queue_options o = {.capacity = small ? 1024 : 1u << 20, .item_size = 32};
    (void)ow; /* the queue always overwrites the oldest */
    if (small && !ow)
        return -1;
    if (ringlog_queue_create(&o, &qq) != 0)
        return -1;
    atomic_store(&q_stop, 0);
    atomic_store(&q_popped, 0);
    pthread_create(&q_tid, NULL, queue_consumer, NULL);
    return 0;
}

static void queue_log(int msg, int i, int t)
{
    (void)t;
    struct {
        int32_t kind, a, b;
        double c;
    } v = {msg, i, i * 2, i * 0.5};
    ringlog_queue_push(qq, &v, sizeof v);
}

static uint64_t queue_dropped(void)
{
    struct ringlog_queue_stats s;
    ringlog_queue_stats(qq, &s);
    return s.overwritten;
}

static void queue_drain(void)
{
    for (int spins = 0; spins < 20000; spins++) {
        struct ringlog_queue_stats s;
        ringlog_queue_stats(qq, &s);
        if (s.pushed == s.popped + s.overwritten + s.dropped)
            return;
        struct timespec p = {0, 50000};
        nanosleep(&p, NULL);
    }
}

static void queue_teardown(void)
{
    atomic_store(&q_stop, 1);
    pthread_join(q_tid, NULL);
    ringlog_queue_destroy(qq);
}

/* ------------------------------------------------------------- reader */

static int text_entry(void *arg, const struct ringlog_entry *e)
{
    char buf[256];
    ringlog_reader *r = *(ringlog_reader **)arg;
    ringlog_entry_text(r, e, buf, sizeof buf);
    sink[2] = buf[0];
    return 0;
}

/* Entries per second a consuming reader delivers from a full region, raw
 * and formatted to text, one core. */
static void reader_rate(void)
{
    const uint64_t n = bench_tput_n / 5;
    for (int text = 0; text < 2; text++) {
        snprintf(rname, sizeof rname, "ringlog-bench-rd-%d", (int)getpid());
        ringlog_unlink(rname);
        struct ringlog_options o = {.ring_size = 256u << 20, .nrings = 1, .policy = RINGLOG_DROP};
        if (ringlog_open(rname, &o, &lg) != 0)
            return;
        bench_pin(0);
        /* The reader is attached first, as a live consumer is. */
        ringlog_reader *r;
        ringlog_reader_open(rname, RINGLOG_READER_CONSUME, &r);
        uint64_t got = 0;
        ringlog_reader *rp = r;
        struct ringlog_handler h = {text ? text_entry : count_entry, NULL,
                                    text ? (void *)&rp : (void *)&got};
        ringlog_read(r, &h, 0);
        uint64_t t0 = 0, t1 = 0;
        /* Twice, the second timed: the first also grows the reader's
         * staging buffer (page faults), which a live consumer does once. */
        for (int round = 0; round < 2; round++) {
            for (uint64_t i = 0; i < n; i++)
                RINGLOG_INFO(lg, "x=%d y=%d z=%f", (int)i, (int)i * 2, (int)i * 0.5);
            struct timespec settle = {0, 2 * 1000 * 1000}; /* past the reader's hold */
            nanosleep(&settle, NULL);
            t0 = bench_now_ns();
            while (ringlog_read(r, &h, 0) > 0)
                ;
            t1 = bench_now_ns();
        }
        bench_out("ringlog-reader", "ints", text ? "reader_text" : "reader_raw", "entries_per_s",
                  (double)n * 1e9 / (double)(t1 - t0));
        ringlog_reader_close(r);
        ringlog_close(lg);
        ringlog_unlink(rname);
    }
}

/* The reader merging many lanes: N threads (one lane each) fill a region,
 * then one consuming reader drains it, raw; entries per second for N = 2,
 * 64 and 1024 lanes. */
struct merge_arg {
    uint32_t n;
    pthread_barrier_t *done;
};
static void *merge_writer(void *arg)
{
    struct merge_arg *a = arg;
    for (uint32_t i = 0; i < a->n; i++)
        ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 2, &i, sizeof i);
    /* Keep the lane until every writer has written: no two share one. */
    pthread_barrier_wait(a->done);
    return NULL;
}

static void reader_merge_rate(void)
{
    static const unsigned lanes[] = {2, 64, 1024};
    const uint64_t total = bench_tput_n / 5 < 2000000 ? bench_tput_n / 5 : 2000000;
    for (unsigned k = 0; k < sizeof lanes / sizeof lanes[0]; k++) {
        unsigned n = lanes[k];
        uint32_t per = (uint32_t)(total / n);
        size_t lane = 4096;
        while (lane < (size_t)per * 48 + 16384)
            lane <<= 1;
        snprintf(rname, sizeof rname, "ringlog-bench-mg-%d", (int)getpid());
        ringlog_unlink(rname);
        /* Enough lanes that each thread keeps one of its own (1/8 are a pool). */
        struct ringlog_options o = {.ring_size = lane, .nrings = n + n / 7 + 2,
                                    .policy = RINGLOG_DROP};
        if (ringlog_open(rname, &o, &lg) != 0) {
            printf("N\tringlog-reader\tmerge of %u lanes: %s\n", n, ringlog_errmsg());
            continue;
        }
        ringlog_reader *r;
        ringlog_reader_open(rname, RINGLOG_READER_CONSUME, &r);
        uint64_t got = 0;
        struct ringlog_handler h = {count_entry, NULL, &got};
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 64 * 1024);
        pthread_t *th = calloc(n, sizeof *th);
        uint64_t t0 = 0, t1 = 0;
        /* Twice: the first drain also grows the reader's staging buffers
         * (page faults); the second is the steady state a live consumer
         * works in, and is the one timed. */
        for (int round = 0; round < 2; round++) {
            pthread_barrier_t done;
            pthread_barrier_init(&done, NULL, n + 1);
            struct merge_arg a = {per, &done};
            for (unsigned i = 0; i < n; i++)
                pthread_create(&th[i], &at, merge_writer, &a);
            pthread_barrier_wait(&done);
            for (unsigned i = 0; i < n; i++)
                pthread_join(th[i], NULL);
            pthread_barrier_destroy(&done);
            bench_pin(0);
            struct timespec settle = {0, 2 * 1000 * 1000}; /* past the reader's hold */
            nanosleep(&settle, NULL);
            got = 0;
            t0 = bench_now_ns();
            while (ringlog_read(r, &h, 0) > 0)
                ;
            t1 = bench_now_ns();
        }
        free(th);
        char scen[32];
        snprintf(scen, sizeof scen, "merge_%u", n);
        bench_out("ringlog-reader", "ints", scen, "entries_per_s",
                  (double)got * 1e9 / (double)(t1 - t0));
        ringlog_reader_close(r);
        ringlog_close(lg);
        ringlog_unlink(rname);
    }
}

/* How long an idle consuming reader takes to deliver a new entry, with
 * 2, 64 and 1024 lanes: a reader in ringlog_read(r, h, -1) sleeps with a
 * back-off while nothing comes (producers never wake it); the median over
 * 21 entries written at random moments of its back-off. */
struct wake_arg {
    ringlog_reader *r;
    _Atomic uint64_t written_ns, seen_ns;
    _Atomic int stop;
};
static int wake_entry(void *arg, const struct ringlog_entry *e)
{
    (void)e;
    struct wake_arg *w = arg;
    atomic_store(&w->seen_ns, bench_now_ns());
    return 0;
}
static void *wake_reader(void *arg)
{
    struct wake_arg *w = arg;
    bench_pin(1);
    struct ringlog_handler h = {wake_entry, NULL, w};
    while (!atomic_load(&w->stop))
        ringlog_read(w->r, &h, 100);
    return NULL;
}
static int cmp_u64(const void *a, const void *b);
static void reader_wake_latency(void)
{
    static const unsigned lanes[] = {2, 64, 1024};
    for (unsigned k = 0; k < sizeof lanes / sizeof lanes[0]; k++) {
        snprintf(rname, sizeof rname, "ringlog-bench-wk-%d", (int)getpid());
        ringlog_unlink(rname);
        struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = lanes[k] + lanes[k] / 7 + 2};
        if (ringlog_open(rname, &o, &lg) != 0)
            continue;
        struct wake_arg w;
        memset(&w, 0, sizeof w);
        ringlog_reader_open(rname, RINGLOG_READER_CONSUME, &w.r);
        pthread_t t;
        pthread_create(&t, NULL, wake_reader, &w);
        bench_pin(0);
        enum { N = 21 };
        uint64_t lat[N];
        srand(7);
        for (int i = 0; i < N; i++) {
            /* Idle long enough for the back-off to reach its longest nap. */
            struct timespec idle = {0, (long)(30 + rand() % 20) * 1000 * 1000};
            nanosleep(&idle, NULL);
            atomic_store(&w.seen_ns, 0);
            uint64_t t0 = bench_now_ns();
            ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 0, &i, sizeof i);
            while (atomic_load(&w.seen_ns) == 0 && bench_now_ns() - t0 < 1000000000u) {
                struct timespec p = {0, 20000};
                nanosleep(&p, NULL);
            }
            uint64_t seen = atomic_load(&w.seen_ns);
            lat[i] = seen > t0 ? seen - t0 : 0;
        }
        atomic_store(&w.stop, 1);
        pthread_join(t, NULL);
        qsort(lat, N, sizeof lat[0], cmp_u64);
        char scen[32];
        snprintf(scen, sizeof scen, "wake_%u", lanes[k]);
        bench_out("ringlog-reader", "ints", scen, "ms_p50", (double)lat[N / 2] / 1e6);
        bench_out("ringlog-reader", "ints", scen, "ms_max", (double)lat[N - 1] / 1e6);
        ringlog_reader_close(w.r);
        ringlog_close(lg);
        ringlog_unlink(rname);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The pop-all queue's consumer side, one core: take a full queue of 16384
 * items in one pop_all, walk the batch, release it; ns per item (median of
 * 201 rounds), and the cost of a pop_all on an empty queue. */
static void queue_popall_rate(void)
{
    enum { CAP = 16384, ROUNDS = 201 };
    struct ringlog_queue_options o = {.capacity = CAP, .item_size = 32};
    ringlog_queue *q;
    if (ringlog_queue_create(&o, &q) != 0)
        return;
    bench_pin(0);
    static double per_item[ROUNDS], empty[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < CAP; i++) {
            struct {
                int32_t kind, a, b;
                double c;
            } v = {1, i, i * 2, i * 0.5};
            ringlog_queue_push(q, &v, sizeof v);
        }
        struct ringlog_queue_batch b;
        uint64_t t0 = bench_now_ns();
        long n = ringlog_queue_pop_all(q, &b);
        size_t len, items = 0;
        const void *it;
        while ((it = ringlog_queue_next(&b, &len)) != NULL)
            items += len != 0;
        ringlog_queue_release(&b);
        uint64_t t1 = bench_now_ns();
        for (int k = 0; k < 1000; k++) /* empty: each returns at once */
            if (ringlog_queue_pop_all(q, &b) > 0)
                ringlog_queue_release(&b);
        uint64_t t2 = bench_now_ns();
        per_item[round] = n > 0 && items ? (double)(t1 - t0) / (double)items : 0;
        empty[round] = (double)(t2 - t1) / 1000;
    }
    qsort(per_item, ROUNDS, sizeof per_item[0], cmp_double);
    qsort(empty, ROUNDS, sizeof empty[0], cmp_double);
    bench_out("ringlog-queue", "ints", "popall", "ns_per_item", per_item[ROUNDS / 2]);
    bench_out("ringlog-queue", "ints", "popall", "batch_ns", per_item[ROUNDS / 2] * CAP);
    bench_out("ringlog-queue", "ints", "popall", "empty_ns", empty[ROUNDS / 2]);
    ringlog_queue_destroy(q);
}

static const struct bench_logger L_floor = {"floor", nop_setup, floor_log, NULL, NULL, NULL,
                                            nop_teardown, "nothing to hand over", 0};
static const struct bench_logger L_snprintf = {"snprintf", nop_setup, snprintf_log, NULL, NULL,
                                               NULL, nop_teardown, "formatting only", 0};
static const struct bench_logger L_fprintf = {
    "fprintf", fprintf_setup, fprintf_log, fprintf_drain, NULL, NULL, fprintf_teardown,
    "fflush: all text handed to the kernel (page cache)", 0};
static const struct bench_logger L_deferred = {
    "ringlog-deferred", ringlog_setup, deferred_log, ringlog_drain, ringlog_dropped, ringlog_bpm,
    ringlog_teardown, "the consuming reader (other CPU) has claimed every entry", 1};
static const struct bench_logger L_eager = {
    "ringlog-eager", ringlog_setup, eager_log, ringlog_drain, ringlog_dropped, ringlog_bpm,
    ringlog_teardown, "the consuming reader (other CPU) has claimed every entry", 1};
static const struct bench_logger L_write = {
    "ringlog-write", ringlog_setup, write_log, ringlog_drain, ringlog_dropped, ringlog_bpm,
    ringlog_teardown, "the consuming reader (other CPU) has claimed every entry", 1};
static const struct bench_logger L_queue = {
    "ringlog-queue", queue_setup, queue_log, queue_drain, queue_dropped, NULL, queue_teardown,
    "the pop-all consumer (other CPU) has taken every item", 0};

int main(int argc, char **argv)
{
    static const struct bench_logger *const all[] = {&L_floor,  &L_deferred, &L_eager,
                                                     &L_write,  &L_queue,    &L_snprintf,
                                                     &L_fprintf, NULL};
    /* Optional: one logger by name, or "reader" for the reader's rate. */
    const struct bench_logger *only[2] = {NULL, NULL};
    int reader_only = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        for (int k = 0; all[k]; k++)
            if (strcmp(argv[i], all[k]->name) == 0)
                only[0] = all[k];
        reader_only |= strcmp(argv[i], "reader") == 0;
        if (!only[0] && !reader_only) {
            fprintf(stderr, "bench_ringlog: unknown logger '%s'\n", argv[i]);
            return 2;
        }
    }
    int rc = reader_only ? 0 : bench_main(argc, argv, only[0] ? only : all, 1);
    if (!only[0]) {
        bench_calibrate();
        reader_rate();
        reader_merge_rate();
        reader_wake_latency();
        queue_popall_rate();
    }
    return rc;
}
