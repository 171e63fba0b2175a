/*
 * Lanes under the loads issue 9 names:
 *   - 2 000 threads that each log and exit (lanes given back and reused,
 *     nothing lost, accounting exact), and more threads at once than there
 *     are lanes (the pool and the lane-less loss, counted and reported);
 *   - fork in the middle of logging (children claim lanes of their own);
 *   - snapshots under full load: writers at full speed on every CPU, 20
 *     triggers, and every snapshot file holds its trigger entry and at
 *     least 90% of the history its lane could hold before it.
 */
#include "check.h"
#include "internal.h"
#include "ringlog.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static ringlog *lg;

/* ------------------------------------------------ per-writer bookkeeping */

#define MAXW 4096
struct verify {
    uint64_t entries, gap_calls, nolane_gaps, bad;
    /* per writer id (remarks): next number expected */
    uint32_t next[MAXW];
    uint32_t lanes_seen[1024];
    unsigned nlanes_seen;
    ringlog_reader *r;
};

static int v_entry(void *arg, const struct ringlog_entry *e)
{
    struct verify *v = arg;
    v->entries++;
    if (e->type != RINGLOG_TYPE_RAW || e->length != 4 || e->remarks >= MAXW) {
        v->bad++;
        return 0;
    }
    uint32_t n;
    memcpy(&n, e->data, 4);
    /* A writer's entries come in its order (it may lose some: a gap). */
    if (n < v->next[e->remarks])
        v->bad++;
    v->next[e->remarks] = n + 1;
    unsigned k;
    for (k = 0; k < v->nlanes_seen && v->lanes_seen[k] != e->lane; k++) {
    }
    if (k == v->nlanes_seen && k < 1024)
        v->lanes_seen[v->nlanes_seen++] = e->lane;
    return 0;
}

static int v_gap(void *arg, uint64_t first, uint64_t count)
{
    struct verify *v = arg;
    (void)first;
    struct ringlog_gap g;
    if (ringlog_gap_info(v->r, &g) == 0 && g.lane == RINGLOG_NO_LANE)
        v->nolane_gaps += count;
    v->gap_calls += count;
    return 0;
}

/* ------------------------------------------------- threads that come and go */

struct wargs {
    uint32_t id, n;
    _Atomic uint64_t *stored, *refused;
};

static void *writer(void *arg)
{
    struct wargs *a = arg;
    for (uint32_t i = 0; i < a->n; i++) {
        int rc = ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, a->id, &i, sizeof i);
        atomic_fetch_add(rc == 0 ? a->stored : a->refused, 1);
    }
    return NULL;
}

/* A fresh drop-policy region in `lg` and a consuming reader in v->r. */
static void open_pair(const char *name, size_t lane, unsigned nlanes, struct verify *v)
{
    ringlog_unlink(name);
    struct ringlog_options o = {.ring_size = lane, .nrings = nlanes, .policy = RINGLOG_DROP,
                                .flags = RINGLOG_OPEN_EXCL};
    CHECK_EQ(ringlog_open(name, &o, &lg), 0);
    memset(v, 0, sizeof *v);
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &v->r), 0);
}

static void drain(ringlog_reader *r, struct verify *v)
{
    struct ringlog_handler h = {v_entry, v_gap, v};
    while (ringlog_read(r, &h, 50) > 0) {
    }
}

/* `total` threads, `wave` at a time, each logging `per` entries. */
static void threads_come_and_go(unsigned total, unsigned wave, unsigned per, unsigned nlanes)
{
    const char *name = test_region_name("lanes");
    static struct verify v;
    open_pair(name, 1 << 20, nlanes, &v);
    struct ringlog_handler h = {v_entry, v_gap, &v};
    _Atomic uint64_t stored = 0, refused = 0;
    static struct wargs a[MAXW];
    pthread_t *th = calloc(wave, sizeof *th);
    for (unsigned base = 0; base < total; base += wave) {
        unsigned n = total - base < wave ? total - base : wave;
        for (unsigned k = 0; k < n; k++) {
            a[base + k] = (struct wargs){base + k, per, &stored, &refused};
            pthread_create(&th[k], NULL, writer, &a[base + k]);
        }
        for (unsigned k = 0; k < n; k++)
            pthread_join(th[k], NULL);
        ringlog_read(v.r, &h, 0);
    }
    free(th);
    drain(v.r, &v);
    struct ringlog_stats t;
    ringlog_stats(lg, &t, NULL, 0);
    uint64_t calls = (uint64_t)total * per;
    CHECK_EQ(atomic_load(&stored) + atomic_load(&refused), calls);
    CHECK_EQ(t.written, calls);
    CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered + t.abandoned);
    {
        char why[200] = "";
        CHECK_EQ(rl_region_check(&lg->g, why, sizeof why), 0); /* every lane's invariants */
        if (why[0])
            fprintf(stderr, "region check: %s\n", why);
    }
    CHECK_EQ(v.entries, atomic_load(&stored));
    CHECK_EQ(v.entries + v.gap_calls, calls);
    CHECK_EQ(v.gap_calls, t.lost);
    CHECK_EQ(v.bad, 0);
    CHECK(v.nlanes_seen <= nlanes);
    printf("lanes: %u threads (%u at once) on %u lanes: %llu entries, %llu lost (%llu with no "
           "lane), %u lanes used\n",
           total, wave, nlanes, (unsigned long long)v.entries, (unsigned long long)t.lost,
           (unsigned long long)v.nolane_gaps, v.nlanes_seen);
    if (wave < nlanes - (nlanes >= 16 ? nlanes / 8 : 1)) {
        CHECK_EQ(t.lost, 0); /* every thread found a lane of its own */
    } else {
        CHECK(t.lost == v.gap_calls); /* lost, but each one counted and reported */
    }
    ringlog_reader_close(v.r);
    ringlog_close(lg);
    ringlog_unlink(name);
}

/* ---------------------------------------------------- fork while logging */

static _Atomic int go_on;
static void *busy_writer(void *arg)
{
    struct wargs *a = arg;
    for (uint32_t i = 0; atomic_load(&go_on); i++) {
        ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, a->id, &i, sizeof i);
        atomic_fetch_add(a->stored, 1);
    }
    return NULL;
}

static void fork_while_logging(void)
{
    const char *name = test_region_name("forks");
    static struct verify v;
    open_pair(name, 4 << 20, 32, &v);
    struct ringlog_handler h = {v_entry, v_gap, &v};
    _Atomic uint64_t stored = 0;
    struct wargs a[2] = {{1, 0, &stored, NULL}, {2, 0, &stored, NULL}};
    atomic_store(&go_on, 1);
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        pthread_create(&th[k], NULL, busy_writer, &a[k]);
    /* The main thread logs too, and forks between its calls; each child
     * (writer id 100 + k) logs 1000 entries through the inherited handle
     * and exits. */
    enum { FORKS = 20, CHILD_N = 1000 };
    uint32_t mine = 0;
    for (int k = 0; k < FORKS; k++) {
        for (int i = 0; i < 100; i++, mine++)
            ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 3, &mine, sizeof mine);
        pid_t c = fork();
        if (c == 0) {
            for (uint32_t i = 0; i < CHILD_N; i++)
                if (ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 100 + (uint32_t)k, &i,
                                  sizeof i) != 0)
                    _exit(1);
            ringlog_close(lg);
            _exit(0);
        }
        int st;
        while (waitpid(c, &st, WNOHANG) == 0)
            ringlog_read(v.r, &h, 1);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    atomic_store(&go_on, 0);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    drain(v.r, &v);
    struct ringlog_stats t;
    ringlog_stats(lg, &t, NULL, 0);
    uint64_t calls = atomic_load(&stored) + mine + (uint64_t)FORKS * CHILD_N;
    CHECK_EQ(t.written, calls);
    CHECK_EQ(v.entries + v.gap_calls, calls);
    CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered + t.abandoned);
    {
        char why[200] = "";
        CHECK_EQ(rl_region_check(&lg->g, why, sizeof why), 0); /* every lane's invariants */
        if (why[0])
            fprintf(stderr, "region check: %s\n", why);
    }
    CHECK_EQ(v.bad, 0);
    for (int k = 0; k < FORKS; k++)
        CHECK_EQ(v.next[100 + k], CHILD_N); /* every child's entries, all of them */
    CHECK_EQ(v.next[3], mine);
    printf("fork: %d children forked while 3 threads logged: %llu entries, %llu lost, "
           "%u lanes used\n",
           FORKS, (unsigned long long)v.entries, (unsigned long long)t.lost, v.nlanes_seen);
    ringlog_reader_close(v.r);
    ringlog_close(lg);
    ringlog_unlink(name);
}

/* ------------------------------------------- snapshots under full load */

#define TRIGGERS 20
static char snap_paths[64][512];
static _Atomic int nsnaps;
static _Atomic uint32_t covered_triggers;
static void on_snap(void *arg, const char *path, uint32_t first, uint32_t last, int err)
{
    (void)arg;
    if (!err && first && last >= first)
        atomic_fetch_add(&covered_triggers, last - first + 1);
    int i = atomic_fetch_add(&nsnaps, 1);
    if (i < 64)
        snprintf(snap_paths[i], sizeof snap_paths[i], "%s", path && !err ? path : "");
}

static _Atomic uint32_t trigger_now; /* set by main: the next writer-0 call triggers */
static void *loud_writer(void *arg)
{
    struct wargs *a = arg;
    char pad[40] = {0};
    for (uint32_t i = 0; atomic_load_explicit(&go_on, memory_order_relaxed); i++) {
        memcpy(pad, &i, 4);
        ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, a->id, pad, sizeof pad);
        if (a->id == 0 && atomic_load_explicit(&trigger_now, memory_order_relaxed)) {
            atomic_store(&trigger_now, 0);
            ringlog_trigger(lg, "under load");
        }
    }
    return NULL;
}

struct snapcheck {
    uint32_t number;   /* trigger number to find */
    int found;
    uint32_t lane;
    uint64_t seq;
    /* entries of the trigger's lane, and their bytes, before it */
    uint64_t before_n, before_bytes, lane_next, contiguous_from;
};
static int s_entry(void *arg, const struct ringlog_entry *e)
{
    struct snapcheck *c = arg;
    if (e->type == RINGLOG_TYPE_TRIGGER && e->remarks == c->number && !c->found) {
        c->found = 1;
        c->lane = e->lane;
        c->seq = e->seq;
    }
    return 0;
}

/* Bytes of the trigger's lane held before the trigger entry, walking back
 * from it without a gap. */
struct lanewalk {
    uint32_t lane;
    uint64_t upto, n, bytes, last_seq;
    int have;
};
static int w_entry(void *arg, const struct ringlog_entry *e)
{
    struct lanewalk *w = arg;
    if (e->lane != w->lane || e->seq >= w->upto)
        return 0;
    if (w->have && e->seq != w->last_seq + 1) {
        w->n = 0; /* a gap: only what follows it counts */
        w->bytes = 0;
    }
    w->have = 1;
    w->last_seq = e->seq;
    w->n++;
    w->bytes += rl_entry_bytes(e->length);
    return 0;
}

static void snapshots_under_load(void)
{
    const char *name = test_region_name("snapload");
    ringlog_unlink(name);
    const size_t lane = 1 << 20;
    struct ringlog_options o = {.ring_size = lane, .nrings = 4, .flags = RINGLOG_OPEN_EXCL};
    CHECK_EQ(ringlog_open(name, &o, &lg), 0);
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/ringlog-snapload-%d", (int)getpid());
    ringlog_recorder *rec;
    struct ringlog_recorder_options ro = {.dir = dir, .on_snapshot = on_snap};
    CHECK_EQ(ringlog_recorder_start(name, &ro, &rec), 0);
    atomic_store(&go_on, 1);
    unsigned ncpu = rl_plat_online_cpus();
    unsigned nw = ncpu < 2 ? 2 : ncpu;
    pthread_t th[64];
    static struct wargs a[64];
    for (unsigned k = 0; k < nw && k < 64; k++) {
        a[k] = (struct wargs){k, 0, NULL, NULL};
        pthread_create(&th[k], NULL, loud_writer, &a[k]);
    }
    struct timespec warm = {0, 300 * 1000 * 1000};
    nanosleep(&warm, NULL); /* every lane wrapped many times */
    for (int t = 0; t < TRIGGERS; t++) {
        atomic_store(&trigger_now, 1);
        /* Bursts end after 100 ms without a trigger: space them out. */
        struct timespec gap = {0, 180 * 1000 * 1000};
        nanosleep(&gap, NULL);
    }
    struct timespec tail = {0, 400 * 1000 * 1000};
    nanosleep(&tail, NULL);
    atomic_store(&go_on, 0);
    for (unsigned k = 0; k < nw && k < 64; k++)
        pthread_join(th[k], NULL);
    ringlog_recorder_stop(rec);
    struct ringlog_stats st;
    ringlog_stats(lg, &st, NULL, 0);
    /* Every trigger covered by exactly one file (a burst shares one). */
    CHECK_EQ(atomic_load(&covered_triggers), TRIGGERS);
    CHECK(atomic_load(&nsnaps) >= 1);
    /* What a lane always holds under overwrite: all but one sub-buffer. */
    uint64_t capacity = lane - lane / lg->g.nsub;
    uint64_t worst = UINT64_MAX;
    int n = atomic_load(&nsnaps) < 64 ? atomic_load(&nsnaps) : 64;
    for (int i = 0; i < n; i++) {
        CHECK(snap_paths[i][0] != 0);
        ringlog_reader *r;
        if (!snap_paths[i][0] || ringlog_reader_open(snap_paths[i], RINGLOG_READER_PEEK, &r) != 0) {
            CHECK(!"snapshot readable");
            continue;
        }
        struct ringlog_info in;
        ringlog_reader_info(r, &in);
        struct snapcheck c = {.number = in.snapshot_first_trigger};
        struct ringlog_handler h = {s_entry, NULL, &c};
        while (ringlog_read(r, &h, 0) > 0) {
        }
        ringlog_reader_close(r);
        CHECK(c.found); /* the trigger's own entry */
        if (!c.found)
            continue;
        CHECK_EQ(ringlog_reader_open(snap_paths[i], RINGLOG_READER_PEEK, &r), 0);
        struct lanewalk w = {.lane = c.lane, .upto = c.seq};
        struct ringlog_handler h2 = {w_entry, NULL, &w};
        while (ringlog_read(r, &h2, 0) > 0) {
        }
        ringlog_reader_close(r);
        CHECK(w.have && w.last_seq + 1 == c.seq); /* right up to the trigger */
        CHECK(w.bytes * 10 >= capacity * 9);
        if (w.bytes < worst)
            worst = w.bytes;
        unlink(snap_paths[i]);
    }
    printf("snapshots under load: %u writers, %d triggers, %d files; each held its trigger and "
           "at least %llu of %llu bytes of its lane's history (%.1f%%); %llu calls lost while "
           "frozen of %llu\n",
           nw, TRIGGERS, n, (unsigned long long)worst, (unsigned long long)capacity,
           worst == UINT64_MAX ? 0.0 : 100.0 * (double)worst / (double)capacity,
           (unsigned long long)st.lost, (unsigned long long)st.written);
    rmdir(dir);
    ringlog_close(lg);
    ringlog_unlink(name);
}

int main(void)
{
    int scale = getenv("RINGLOG_STRESS_SCALE") ? atoi(getenv("RINGLOG_STRESS_SCALE")) : 100;
    unsigned per = scale >= 100 ? 100 : 20;
    threads_come_and_go(2000, 10, per, 16);
    threads_come_and_go(400, 64, per, 16);
    fork_while_logging();
    snapshots_under_load();
    return check_report("test_lanes");
}
