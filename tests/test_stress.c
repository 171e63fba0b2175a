/*
 * Stress: producer threads in one or several processes, a consuming reader
 * running alongside, both policies.  Every entry carries an identity
 * (producer, sequence) and a payload derived from it, so the test proves:
 *   - no torn or half-overwritten entry is ever delivered;
 *   - indices strictly increase and each index is delivered or reported as
 *     a gap exactly once (entries + gap indices == next_index);
 *   - each producer's entries arrive in its program order, at most once;
 *   - the statistics balance: written == read + lost + overwritten +
 *     buffered, written == calls made, read == entries delivered,
 *     lost + overwritten == indices reported as gaps.
 *
 * usage: test_stress [--policy overwrite|drop] [--threads N] [--procs N]
 *                    [--count N] [--ring-size BYTES] [--rings N]
 * Without arguments it runs the standard matrix.
 */
#include "check.h"
#include "ringlog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MAX_PRODUCERS 64

struct cfg {
    int policy, threads, procs;
    long count;
    size_t ring_size;
    unsigned rings;
};

/* Shared with child processes (MAP_SHARED anonymous). */
struct shared {
    _Atomic long calls, stored, refused;
    _Atomic int start;
};

struct prod_arg {
    const char *name;
    int id;
    long count;
    struct shared *sh;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Payload: producer id, sequence, then bytes derived from both; length
 * varies so that entries cover 1..8 slots and wrap the ring at odd places. */
static size_t make_payload(unsigned char *buf, uint32_t id, uint32_t seq)
{
    size_t len = 8 + (size_t)(mix((uint64_t)id << 32 | seq) % 220);
    memcpy(buf, &id, 4);
    memcpy(buf + 4, &seq, 4);
    uint64_t x = mix(((uint64_t)id << 32 | seq) + 1);
    for (size_t i = 8; i < len; i++)
        buf[i] = (unsigned char)(x >> (8 * (i % 8))) ^ (unsigned char)i;
    return len;
}

static void *producer(void *p)
{
    struct prod_arg *a = p;
    ringlog *log;
    if (ringlog_open(a->name, NULL, &log) != 0) {
        fprintf(stderr, "producer: open: %s\n", ringlog_errmsg());
        exit(3);
    }
    while (!atomic_load(&a->sh->start)) {
    }
    unsigned char buf[256];
    long stored = 0, refused = 0;
    for (long s = 0; s < a->count; s++) {
        size_t len = make_payload(buf, (uint32_t)a->id, (uint32_t)s);
        int rc = ringlog_write(log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, (uint32_t)a->id, buf,
                               len);
        if (rc == 0)
            stored++;
        else if (rc == RINGLOG_DROPPED)
            refused++;
    }
    atomic_fetch_add(&a->sh->calls, a->count);
    atomic_fetch_add(&a->sh->stored, stored);
    atomic_fetch_add(&a->sh->refused, refused);
    ringlog_close(log);
    return NULL;
}

struct verify {
    uint64_t entries, gap_indices, last;
    int any;
    long order_errors, torn, dup_or_reorder;
    int64_t last_seq[MAX_PRODUCERS];
};

static int v_entry(void *arg, const struct ringlog_entry *e)
{
    struct verify *v = arg;
    if (v->any && e->index <= v->last)
        v->order_errors++;
    v->any = 1;
    v->last = e->index;
    v->entries++;
    unsigned char want[256];
    uint32_t id = 0, seq = 0;
    if (e->length >= 8) {
        memcpy(&id, e->data, 4);
        memcpy(&seq, (const char *)e->data + 4, 4);
    }
    if (e->length < 8 || id >= MAX_PRODUCERS || e->remarks != id) {
        v->torn++;
        return 0;
    }
    size_t len = make_payload(want, id, seq);
    if (len != e->length || memcmp(want, e->data, len) != 0)
        v->torn++;
    if ((int64_t)seq <= v->last_seq[id])
        v->dup_or_reorder++;
    v->last_seq[id] = seq;
    return 0;
}

static int v_gap(void *arg, uint64_t first, uint64_t count)
{
    struct verify *v = arg;
    if ((v->any && first <= v->last) || count == 0)
        v->order_errors++;
    v->any = 1;
    v->last = first + count - 1;
    v->gap_indices += count;
    return 0;
}

static int run(const struct cfg *c)
{
    const char *name = test_region_name("stress");
    int fails_before = check_failures;
    ringlog_unlink(name);
    struct ringlog_options o = {.ring_size = c->ring_size, .policy = c->policy,
                                .nrings = c->rings, .flags = RINGLOG_OPEN_EXCL};
    ringlog *log;
    if (ringlog_open(name, &o, &log) != 0) {
        fprintf(stderr, "open: %s\n", ringlog_errmsg());
        return 1;
    }
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(sh, 0, sizeof *sh);
    int nprod = c->threads * c->procs;
    if (nprod > MAX_PRODUCERS)
        nprod = MAX_PRODUCERS;
    static struct prod_arg args[MAX_PRODUCERS];
    pid_t kids[16];
    pthread_t th[MAX_PRODUCERS];
    int nkids = 0;
    fflush(stdout); /* or each child prints our buffered lines again */
    for (int p = 0; p < c->procs; p++) {
        if (c->procs > 1) {
            pid_t k = fork();
            if (k == 0) {
                for (int t = 0; t < c->threads; t++) {
                    int id = p * c->threads + t;
                    args[id] = (struct prod_arg){name, id, c->count, sh};
                    pthread_create(&th[t], NULL, producer, &args[id]);
                }
                for (int t = 0; t < c->threads; t++)
                    pthread_join(th[t], NULL);
                _exit(0);
            }
            kids[nkids++] = k;
        } else {
            for (int t = 0; t < c->threads; t++) {
                args[t] = (struct prod_arg){name, t, c->count, sh};
                pthread_create(&th[t], NULL, producer, &args[t]);
            }
        }
    }
    static struct verify v;
    memset(&v, 0, sizeof v);
    for (int i = 0; i < MAX_PRODUCERS; i++)
        v.last_seq[i] = -1;
    struct ringlog_handler h = {v_entry, v_gap, &v};
    atomic_store(&sh->start, 1);
    long expect = (long)nprod * c->count;
    /* Read while they write. */
    while (atomic_load(&sh->calls) < expect) {
        int n = ringlog_read(r, &h, 10);
        CHECK(n >= 0);
        if (nkids) {
            int st;
            for (int k = 0; k < nkids; k++)
                if (kids[k] && waitpid(kids[k], &st, WNOHANG) == kids[k]) {
                    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                    kids[k] = 0;
                }
        }
    }
    if (c->procs <= 1)
        for (int t = 0; t < c->threads; t++)
            pthread_join(th[t], NULL);
    for (int k = 0; k < nkids; k++)
        if (kids[k]) {
            int st;
            waitpid(kids[k], &st, 0);
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
    while (ringlog_read(r, &h, 100) > 0) {
    }
    struct ringlog_stats t;
    ringlog_stats(log, &t, NULL, 0);
    struct ringlog_info info;
    ringlog_reader_info(r, &info);

    CHECK_EQ(v.order_errors, 0);
    CHECK_EQ(v.torn, 0);
    CHECK_EQ(v.dup_or_reorder, 0);
    CHECK_EQ(atomic_load(&sh->calls), expect);
    CHECK_EQ(t.written, expect);
    CHECK_EQ(atomic_load(&sh->stored) + atomic_load(&sh->refused), expect);
    CHECK_EQ(t.buffered, 0);
    CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered);
    CHECK_EQ(t.read, v.entries);
    CHECK_EQ(t.lost, atomic_load(&sh->refused));
    CHECK_EQ(v.entries + v.gap_indices, info.next_index);
    CHECK_EQ(v.gap_indices, t.lost + t.overwritten);
    CHECK_EQ(info.next_index, expect);
    if (c->policy == RINGLOG_DROP)
        CHECK_EQ(t.overwritten, 0);
    printf("stress %-9s threads=%d procs=%d ring=%zu: written %llu read %llu lost %llu "
           "overwritten %llu gaps %llu abandoned %llu -> %s\n",
           c->policy == RINGLOG_DROP ? "drop" : "overwrite", c->threads, c->procs, c->ring_size,
           (unsigned long long)t.written, (unsigned long long)t.read, (unsigned long long)t.lost,
           (unsigned long long)t.overwritten, (unsigned long long)v.gap_indices,
           (unsigned long long)t.abandoned, check_failures == fails_before ? "ok" : "FAILED");
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
    munmap(sh, sizeof *sh);
    return 0;
}

int main(int argc, char **argv)
{
    struct cfg c = {RINGLOG_OVERWRITE, 4, 1, 200000, 64 * 1024, 0};
    long scale = getenv("RINGLOG_STRESS_SCALE") ? atol(getenv("RINGLOG_STRESS_SCALE")) : 100;
    if (argc > 1) {
        for (int i = 1; i + 1 < argc; i += 2) {
            if (!strcmp(argv[i], "--policy"))
                c.policy = !strcmp(argv[i + 1], "drop") ? RINGLOG_DROP : RINGLOG_OVERWRITE;
            else if (!strcmp(argv[i], "--threads"))
                c.threads = atoi(argv[i + 1]);
            else if (!strcmp(argv[i], "--procs"))
                c.procs = atoi(argv[i + 1]);
            else if (!strcmp(argv[i], "--count"))
                c.count = atol(argv[i + 1]);
            else if (!strcmp(argv[i], "--ring-size"))
                c.ring_size = (size_t)atol(argv[i + 1]);
            else if (!strcmp(argv[i], "--rings"))
                c.rings = (unsigned)atoi(argv[i + 1]);
        }
        run(&c);
        return check_report("test_stress");
    }
    /* The matrix: RINGLOG_STRESS_SCALE (percent) shrinks it for sanitizer builds. */
    long n = 200000 * scale / 100;
    struct cfg m[] = {
        {RINGLOG_OVERWRITE, 4, 1, n, 64 * 1024, 0},
        {RINGLOG_DROP, 4, 1, n, 64 * 1024, 0},
        {RINGLOG_OVERWRITE, 3, 1, n, 4096, 1},  /* all on one tiny ring */
        {RINGLOG_DROP, 3, 1, n, 4096, 1},
        {RINGLOG_OVERWRITE, 2, 3, n / 2, 16 * 1024, 0},
        {RINGLOG_DROP, 2, 3, n / 2, 1 << 20, 0}, /* big ring: mostly no loss */
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        run(&m[i]);
    return check_report("test_stress");
}
