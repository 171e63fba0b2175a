/*
 * Producers SIGKILLed at random moments, in the middle of log calls.
 * Proves:
 *   - no torn entry is ever delivered, during the run or post mortem;
 *   - every entry a producer saw stored (ringlog_write returned 0) before it
 *     died is delivered, when nothing could be lost (drop policy, big ring);
 *   - the reader is not stalled: it gets past what the dead left
 *     half-written within its abandon timeout, and the statistics balance
 *     up to one entry per killed thread (the one it was writing);
 *   - a surviving producer keeps logging into the same rings afterwards.
 */
#include "check.h"
#include "ringlog.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define NPROC 4
#define NTHR 2
#define NPROD (NPROC * NTHR + 1) /* + the survivor */
#define SURVIVOR (NPROD - 1)

struct shared {
    _Atomic int64_t stored_upto[NPROD]; /* highest seq stored, -1 none */
    _Atomic int go;
};

static struct shared *sh;
static const char *region;

static size_t make_payload(unsigned char *buf, uint32_t id, uint32_t seq)
{
    size_t len = 8 + (seq * 7u + id * 13u) % 120;
    memcpy(buf, &id, 4);
    memcpy(buf + 4, &seq, 4);
    for (size_t i = 8; i < len; i++)
        buf[i] = (unsigned char)(id * 31u + seq * 17u + i);
    return len;
}

struct parg {
    int id;
    long count; /* < 0: forever */
    int pace;   /* pause 20 us every 16 calls: keeps a big ring from filling */
};

static void *produce(void *p)
{
    struct parg *a = p;
    ringlog *log;
    if (ringlog_open(region, NULL, &log) != 0)
        _exit(3);
    unsigned char buf[160];
    for (uint32_t s = 0; a->count < 0 || s < (uint32_t)a->count; s++) {
        size_t len = make_payload(buf, (uint32_t)a->id, s);
        if (ringlog_write(log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, (uint32_t)a->id, buf, len) == 0)
            atomic_store_explicit(&sh->stored_upto[a->id], s, memory_order_release);
        if (a->pace && s % 16 == 15) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    ringlog_close(log);
    return NULL;
}

struct verify {
    uint64_t entries, gap_indices, last;
    int any;
    long torn, order;
    int64_t last_seq[NPROD];
    unsigned char *seen[NPROD]; /* bitmap of seqs delivered */
    size_t seen_bits;
};

static int v_entry(void *arg, const struct ringlog_entry *e)
{
    struct verify *v = arg;
    if (v->any && e->index <= v->last)
        v->order++;
    v->any = 1;
    v->last = e->index;
    v->entries++;
    uint32_t id, seq;
    unsigned char want[160];
    if (e->length < 8) {
        v->torn++;
        return 0;
    }
    memcpy(&id, e->data, 4);
    memcpy(&seq, (const char *)e->data + 4, 4);
    if (id >= NPROD || e->remarks != id) {
        v->torn++;
        return 0;
    }
    size_t len = make_payload(want, id, seq);
    if (len != e->length || memcmp(want, e->data, len) != 0)
        v->torn++;
    if ((int64_t)seq <= v->last_seq[id])
        v->order++;
    v->last_seq[id] = seq;
    if (seq < v->seen_bits)
        v->seen[id][seq / 8] |= (unsigned char)(1u << (seq % 8));
    return 0;
}

static int v_gap(void *arg, uint64_t first, uint64_t count)
{
    struct verify *v = arg;
    if (v->any && first <= v->last)
        v->order++;
    v->any = 1;
    v->last = first + count - 1;
    v->gap_indices += count;
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run(int policy, size_t ring_size, int live_reader, int pace, unsigned seed)
{
    region = test_region_name(policy == RINGLOG_DROP ? "kill-drop" : "kill-ow");
    ringlog_unlink(region);
    struct ringlog_options o = {.ring_size = ring_size, .policy = policy,
                                .flags = RINGLOG_OPEN_EXCL};
    ringlog *log;
    CHECK_EQ(ringlog_open(region, &o, &log), 0);
    for (int i = 0; i < NPROD; i++)
        sh->stored_upto[i] = -1;
    ringlog_reader *r = NULL;
    CHECK_EQ(ringlog_reader_open(region, RINGLOG_READER_CONSUME, &r), 0);
    static struct verify v;
    memset(&v, 0, sizeof v);
    v.seen_bits = 8u << 20;
    for (int i = 0; i < NPROD; i++) {
        v.last_seq[i] = -1;
        v.seen[i] = calloc(v.seen_bits / 8, 1);
    }
    struct ringlog_handler h = {v_entry, v_gap, &v};

    fflush(stdout);
    pid_t kids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        kids[p] = fork();
        if (kids[p] == 0) {
            pthread_t th[NTHR];
            static struct parg a[NTHR];
            for (int t = 0; t < NTHR; t++) {
                a[t] = (struct parg){p * NTHR + t, -1, pace};
                pthread_create(&th[t], NULL, produce, &a[t]);
            }
            for (int t = 0; t < NTHR; t++)
                pthread_join(th[t], NULL);
            _exit(0);
        }
    }
    /* Kill them one by one at random moments while (maybe) reading. */
    srand(seed);
    for (int p = 0; p < NPROC; p++) {
        uint64_t until = now_ms() + 5 + (uint64_t)(rand() % 40);
        while (now_ms() < until)
            if (live_reader)
                ringlog_read(r, &h, 1);
        kill(kids[p], SIGKILL);
        int st;
        waitpid(kids[p], &st, 0);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    }
    /* Drain: what the dead left half-written must not hold us up for
     * longer than the abandon timeout per reservation. */
    uint64_t t0 = now_ms();
    while (ringlog_read(r, &h, 200) > 0) {
    }
    uint64_t drain_ms = now_ms() - t0;
    CHECK(drain_ms < 5000);

    /* A survivor logs into the same rings; the reader gets all of it. */
    struct parg sa = {SURVIVOR, 20000, 0};
    pthread_t sth;
    pthread_create(&sth, NULL, produce, &sa);
    pthread_join(sth, NULL);
    while (ringlog_read(r, &h, 200) > 0) {
    }

    struct ringlog_stats t;
    ringlog_stats(log, &t, NULL, 0);
    struct ringlog_info info;
    ringlog_reader_info(r, &info);
    CHECK_EQ(v.torn, 0);
    CHECK_EQ(v.order, 0);
    CHECK_EQ(t.buffered, 0);
    CHECK_EQ(v.entries + v.gap_indices, info.next_index);
    CHECK_EQ(t.read, v.entries);
    /* A thread killed inside a log call leaves at most one entry counted
     * wrong: committed but not yet counted written, index taken but never
     * committed, or an entry it was overwriting released but not yet
     * counted overwritten.  Nothing else may be off. */
    int64_t out = (int64_t)(t.read + t.lost + t.overwritten);
    int64_t slack = NPROC * NTHR;
    CHECK(llabs(out - (int64_t)t.written) <= slack);
    CHECK(llabs((int64_t)v.gap_indices - (int64_t)(t.lost + t.overwritten)) <= slack);
    /* Survivor: everything it stored arrived. */
    CHECK_EQ(v.last_seq[SURVIVOR], atomic_load(&sh->stored_upto[SURVIVOR]));
    if (pace) {
        CHECK_EQ(t.lost, 0); /* the test is sized so that nothing is lost */
        CHECK_EQ(t.overwritten, 0);
        /* Nothing could be lost: every stored entry of the dead is here. */
        long missing = 0;
        for (int id = 0; id < NPROD; id++) {
            int64_t upto = atomic_load(&sh->stored_upto[id]);
            for (int64_t s = 0; s <= upto && (size_t)s < v.seen_bits; s++)
                if (!(v.seen[id][s / 8] & (1u << (s % 8))))
                    missing++;
        }
        CHECK_EQ(missing, 0);
    }
    printf("kill %-9s ring=%zu reader=%s: written %llu read %llu lost %llu overwritten %llu "
           "abandoned %llu gaps %llu, drain %llu ms\n",
           policy == RINGLOG_DROP ? "drop" : "overwrite", ring_size,
           live_reader ? "live" : "after", (unsigned long long)t.written,
           (unsigned long long)t.read, (unsigned long long)t.lost,
           (unsigned long long)t.overwritten, (unsigned long long)t.abandoned,
           (unsigned long long)v.gap_indices, (unsigned long long)drain_ms);
    for (int i = 0; i < NPROD; i++)
        free(v.seen[i]);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(region);
}

int main(int argc, char **argv)
{
    unsigned seed = argc > 1 ? (unsigned)atoi(argv[1]) : (unsigned)getpid();
    printf("test_kill seed %u\n", seed);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    /* Big drop ring: nothing may be lost, so every stored entry must arrive. */
    run(RINGLOG_DROP, 64u << 20, 1, 1, seed);
    run(RINGLOG_DROP, 64u << 20, 0, 1, seed + 1);
    /* Small rings at full speed: dead reservations must not block for good. */
    run(RINGLOG_OVERWRITE, 16 * 1024, 1, 0, seed + 2);
    run(RINGLOG_DROP, 16 * 1024, 1, 0, seed + 3);
    run(RINGLOG_OVERWRITE, 16 * 1024, 0, 0, seed + 4);
    return check_report("test_kill");
}
