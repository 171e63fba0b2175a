/*
 * Flight recorder: a producer process logs, raises a trigger, logs a little
 * more and crashes (a real SIGSEGV); a recorder waiting on the trigger writes
 * a snapshot with a post-trigger window.  The snapshot must hold every entry
 * up to the crash, in order, with no gap; a corrupted or truncated snapshot
 * must be refused with a clear error.
 */
#include "check.h"
#include "internal.h"
#include "ringlog.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define PRE 500
#define POST 100

struct got {
    uint64_t n, gaps, last;
    int order_ok, triggers;
    int pre, post;
    int crashes;
    struct ringlog_crash crash;
};

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    struct got *g = arg;
    if (g->n && e->index <= g->last)
        g->order_ok = 0;
    g->last = e->index;
    g->n++;
    char t[64];
    size_t n = e->length < sizeof t - 1 ? e->length : sizeof t - 1;
    memcpy(t, e->data, n);
    t[n] = 0;
    int v;
    if (e->type == RINGLOG_TYPE_TRIGGER)
        g->triggers++;
    else if (e->type == RINGLOG_TYPE_CRASH && e->length == sizeof g->crash) {
        g->crashes++;
        memcpy(&g->crash, e->data, sizeof g->crash);
    }
    else if (sscanf(t, "pre %d", &v) == 1 && v == g->pre)
        g->pre++;
    else if (sscanf(t, "post %d", &v) == 1 && v == g->post)
        g->post++;
    return 0;
}

static int on_gap(void *arg, uint64_t first, uint64_t count)
{
    struct got *g = arg;
    (void)first;
    g->gaps += count;
    return 0;
}

static void crashing_producer(const char *name)
{
    ringlog *log;
    if (ringlog_open(name, NULL, &log) != 0)
        _exit(3);
    for (int i = 0; i < PRE; i++)
        ringlog_printf(log, RINGLOG_LEVEL_INFO, "pre %d", i);
    ringlog_trigger(log, "about to crash");
    for (int i = 0; i < POST; i++)
        ringlog_printf(log, RINGLOG_LEVEL_WARN, "post %d", i);
    signal(SIGSEGV, SIG_DFL);
    /* A real crash: a store to a read-only page. */
    volatile int *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *ro = 1;
    _exit(4);
}

static void expect_refused(const char *path, const char *what)
{
    ringlog_reader *r;
    int rc = ringlog_reader_open(path, RINGLOG_READER_PEEK, &r);
    CHECK_EQ(rc, RINGLOG_EFORMAT);
    CHECK(strstr(ringlog_errmsg(), what) != NULL);
    if (rc == 0)
        ringlog_reader_close(r);
}

/* A new region of its own for one case (overwrite policy). */
static ringlog *fresh_region(const char *name, size_t ring_size)
{
    ringlog_unlink(name);
    struct ringlog_options o = {.ring_size = ring_size, .flags = RINGLOG_OPEN_EXCL};
    ringlog *log = NULL;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    return log;
}

/* The same under the crash handler: the trigger comes from the crash. */
static void crash_handler_case(const char *name, const char *path)
{
    ringlog *log = fresh_region(name, 256 * 1024);
    ringlog_reader *w;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &w), 0);
    uint32_t seen = 0;
    volatile int *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        ringlog *l;
        /* The program has no SIGSEGV handler of its own (a sanitizer's
         * would be chained to, and report instead of dumping core). */
        signal(SIGSEGV, SIG_DFL);
        if (ringlog_open(name, NULL, &l) != 0 || ringlog_install_crash_handler(l, 0) != 0)
            _exit(3);
        for (int i = 0; i < PRE; i++)
            ringlog_printf(l, RINGLOG_LEVEL_INFO, "pre %d", i);
        *ro = 1;
        _exit(4);
    }
    CHECK_EQ(ringlog_reader_wait_trigger(w, &seen, 10000), 1);
    CHECK_EQ(ringlog_snapshot(name, path, "crash", 100), 0);
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV); /* died as it would have */
    ringlog_reader_close(w);
    ringlog_reader *r;
    int orc = ringlog_reader_open(path, RINGLOG_READER_PEEK, &r);
    CHECK_EQ(orc, 0);
    if (orc != 0) {
        ringlog_close(log);
        ringlog_unlink(name);
        return;
    }
    struct got g = {.order_ok = 1};
    struct ringlog_handler h = {on_entry, on_gap, &g};
    ringlog_read(r, &h, 0);
    CHECK_EQ(g.pre, PRE);
    CHECK_EQ(g.triggers, 1);
    CHECK_EQ(g.crashes, 1);
    CHECK_EQ(g.crash.signo, SIGSEGV);
    CHECK_EQ(g.crash.addr, (uint64_t)(uintptr_t)ro);
    CHECK(g.crash.nframes > 0);
    CHECK_EQ(g.crash.pid, (uint32_t)k);
    CHECK_EQ(g.gaps, 0);
    struct ringlog_stats t;
    ringlog_reader_stats(r, &t, NULL, 0);
    CHECK_EQ(t.written, PRE + 2); /* + the crash entry and the trigger */
    CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered);
    CHECK(g.order_ok);
    ringlog_reader_close(r);
    unlink(path);
    ringlog_close(log);
    ringlog_unlink(name);
}

static _Atomic int rec_calls;
static char rec_path[4096];
static void on_snap(void *arg, const char *path, uint32_t first, uint32_t last, int err)
{
    (void)arg;
    (void)first;
    (void)last;
    (void)err;
    if (path)
        snprintf(rec_path, sizeof rec_path, "%s", path);
    atomic_fetch_add(&rec_calls, 1);
}

/* In-process recorder; the producer triggers by signal (SIGUSR2) and is
 * then SIGKILLed: the snapshot holds everything, statistics balance. */
static void recorder_sigkill_case(const char *name)
{
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/ringlog-test-rec-%d", (int)getpid());
    ringlog *log = fresh_region(name, 256 * 1024);
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        ringlog *l;
        if (ringlog_open(name, NULL, &l) != 0 || ringlog_install_trigger_signal(l, SIGUSR2) != 0)
            _exit(3);
        for (int i = 0; i < PRE; i++)
            ringlog_printf(l, RINGLOG_LEVEL_INFO, "pre %d", i);
        if (write(pfd[1], "r", 1) != 1)
            _exit(5);
        for (;;)
            pause();
    }
    char c;
    CHECK_EQ(read(pfd[0], &c, 1), 1);
    /* Started after the fork: the child is forked from a single-threaded
     * process. */
    struct ringlog_recorder_options ro = {.dir = dir, .keep = 1, .post_ms = 50,
                                          .on_snapshot = on_snap};
    ringlog_recorder *rec;
    CHECK_EQ(ringlog_recorder_start(name, &ro, &rec), 0);
    kill(k, SIGUSR2);
    for (int i = 0; i < 200 && atomic_load(&rec_calls) == 0; i++) {
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(k, SIGKILL);
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK_EQ(ringlog_recorder_stop(rec), 1);
    CHECK_EQ(atomic_load(&rec_calls), 1);
    ringlog_reader *r;
    int orc = ringlog_reader_open(rec_path, RINGLOG_READER_PEEK, &r);
    CHECK_EQ(orc, 0);
    if (orc != 0)
        return;
    struct got g = {.order_ok = 1};
    struct ringlog_handler h = {on_entry, on_gap, &g};
    ringlog_read(r, &h, 0);
    CHECK_EQ(g.pre, PRE);
    CHECK_EQ(g.triggers, 1);
    CHECK_EQ(g.gaps, 0);
    struct ringlog_stats t;
    ringlog_reader_stats(r, &t, NULL, 0);
    CHECK_EQ(t.written, PRE + 1);
    CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered);
    ringlog_reader_close(r);
    unlink(rec_path);
    rmdir(dir);
    close(pfd[0]);
    close(pfd[1]);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* ---- the real recorder running while producers trigger, crash, die ---- */

#define MAXSNAP 16
static struct {
    _Atomic int n;
    char path[MAXSNAP][4096];
    uint32_t first[MAXSNAP], last[MAXSNAP];
} snaps;

static void collect(void *arg, const char *path, uint32_t first, uint32_t last, int err)
{
    (void)arg;
    (void)err;
    int i = atomic_load(&snaps.n);
    if (i < MAXSNAP && path) {
        snprintf(snaps.path[i], sizeof snaps.path[i], "%s", path);
        snaps.first[i] = first;
        snaps.last[i] = last;
        atomic_store(&snaps.n, i + 1);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until `want` snapshots were written and then `quiet_ms` pass with
 * no other (so that a storm would be seen); at most 10 s. */
static int wait_snaps(int want, long quiet_ms)
{
    for (int i = 0; i < 400 && atomic_load(&snaps.n) < want; i++)
        sleep_ms(25);
    sleep_ms(quiet_ms);
    return atomic_load(&snaps.n);
}

struct tcount {
    uint32_t first, last;
    unsigned in_range;
};
static int count_triggers(void *arg, const struct ringlog_entry *e)
{
    struct tcount *c = arg;
    if (e->type == RINGLOG_TYPE_TRIGGER && e->remarks >= c->first && e->remarks <= c->last)
        c->in_range++;
    return 0;
}

static void start_recorder(const char *name, const char *dir, unsigned post_ms,
                           ringlog_recorder **rec)
{
    memset(&snaps, 0, sizeof snaps);
    struct ringlog_recorder_options ro = {.dir = dir, .post_ms = post_ms, .on_snapshot = collect};
    CHECK_EQ(ringlog_recorder_start(name, &ro, rec), 0);
}

static void remove_snaps(const char *dir)
{
    for (int i = 0; i < atomic_load(&snaps.n); i++)
        unlink(snaps.path[i]);
    rmdir(dir);
}

/* Bursts: twenty triggers at once give one file; triggers 20 ms apart (some
 * arriving while the snapshot is being taken) are in the file that claims
 * them (each file holds the TRIGGER entry of every trigger it covers). */
static void recorder_burst_case(const char *name, const char *dir)
{
    ringlog *log = fresh_region(name, 256 * 1024);
    ringlog_recorder *rec;
    start_recorder(name, dir, 0, &rec);
    for (int i = 0; i < 20; i++)
        ringlog_trigger(log, "burst");
    CHECK_EQ(wait_snaps(1, 600), 1);
    CHECK_EQ(snaps.first[0], 1);
    CHECK_EQ(snaps.last[0], 20);
    for (int i = 0; i < 10; i++) {
        ringlog_printf(log, RINGLOG_LEVEL_INFO, "spread %d", i);
        ringlog_trigger(log, "spread");
        sleep_ms(20);
    }
    int n = wait_snaps(2, 600);
    CHECK(n >= 2);
    CHECK_EQ(snaps.last[n - 1], 30);
    uint32_t expect_first = 1;
    for (int i = 0; i < n; i++) {
        CHECK_EQ(snaps.first[i], expect_first);
        expect_first = snaps.last[i] + 1;
        ringlog_reader *r;
        CHECK_EQ(ringlog_reader_open(snaps.path[i], RINGLOG_READER_PEEK, &r), 0);
        struct tcount c = {snaps.first[i], snaps.last[i], 0};
        struct ringlog_handler h = {count_triggers, NULL, &c};
        while (ringlog_read(r, &h, 0) > 0) {
        }
        CHECK_EQ(c.in_range, snaps.last[i] - snaps.first[i] + 1);
        struct ringlog_info in;
        ringlog_reader_info(r, &in);
        CHECK(in.snapshot_reason && strstr(in.snapshot_reason, "trigger") &&
              (strstr(in.snapshot_reason, "burst") || strstr(in.snapshot_reason, "spread")));
        ringlog_reader_close(r);
    }
    printf("recorder: 20 triggers at once -> 1 snapshot; 10 triggers 20 ms apart -> %d more\n",
           n - 1);
    ringlog_recorder_stop(rec);
    remove_snaps(dir);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* The post-trigger image: a producer that first appears there has its pid,
 * and the file's counters are those of that last image. */
struct late {
    uint32_t pid;
    uint64_t index;
    int found;
};
static int find_late(void *arg, const struct ringlog_entry *e)
{
    struct late *l = arg;
    if (e->length == 4 && memcmp(e->data, "late", 4) == 0) {
        l->found = 1;
        l->pid = e->pid;
        l->index = e->index;
    }
    return 0;
}

static void recorder_post_image_case(const char *name, const char *dir)
{
    ringlog *log = fresh_region(name, 64 * 1024);
    ringlog_recorder *rec;
    start_recorder(name, dir, 400, &rec);
    ringlog_trigger(log, "post image");
    sleep_ms(100); /* image 1 is taken at once; the window runs 400 ms */
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        ringlog *l;
        if (ringlog_open(name, NULL, &l) != 0)
            _exit(3);
        ringlog_write(l, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_TEXT, 0, "late", 4);
        ringlog_close(l);
        _exit(0);
    }
    int st;
    waitpid(k, &st, 0);
    CHECK_EQ(wait_snaps(1, 200), 1);
    ringlog_recorder_stop(rec);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(snaps.path[0], RINGLOG_READER_PEEK, &r), 0);
    struct late l = {0, 0, 0};
    struct ringlog_handler h = {find_late, NULL, &l};
    while (ringlog_read(r, &h, 0) > 0) {
    }
    CHECK(l.found);
    CHECK_EQ(l.pid, (uint32_t)k);
    struct ringlog_info in;
    ringlog_reader_info(r, &in);
    CHECK(in.next_index > l.index);
    struct ringlog_stats t;
    ringlog_reader_stats(r, &t, NULL, 0);
    CHECK_EQ(t.written, 2); /* the trigger and the late entry */
    ringlog_reader_close(r);
    remove_snaps(dir);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* A producer process under a recorder that was running before it started:
 * mode 0 crashes with the crash handler (the crash raises the trigger),
 * mode 1 crashes without it, mode 2 is SIGKILLed; in 1 and 2 no trigger is
 * raised and the recorder notices the death.  The snapshot holds every
 * entry up to the end, with balanced statistics. */
static void recorder_death_case(const char *name, const char *dir, int mode)
{
    static const char *what[] = {"crash handler", "crash, no handler", "SIGKILL"};
    ringlog *log = fresh_region(name, 256 * 1024);
    int go[2], done[2];
    CHECK_EQ(pipe(go), 0);
    CHECK_EQ(pipe(done), 0);
    volatile int *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fflush(stdout);
    pid_t k = fork(); /* before the recorder's thread exists */
    if (k == 0) {
        char c;
        ringlog *l;
        if (read(go[0], &c, 1) != 1 || ringlog_open(name, NULL, &l) != 0)
            _exit(3);
        signal(SIGSEGV, SIG_DFL); /* no handler of the program's (nor a sanitizer's) */
        if (mode == 0 && ringlog_install_crash_handler(l, 0) != 0)
            _exit(3);
        for (int i = 0; i < PRE; i++)
            ringlog_printf(l, RINGLOG_LEVEL_INFO, "pre %d", i);
        if (mode == 2) {
            if (write(done[1], "d", 1) != 1)
                _exit(5);
            for (;;)
                pause();
        }
        *ro = 1;
        _exit(4);
    }
    ringlog_recorder *rec;
    start_recorder(name, dir, 0, &rec);
    CHECK_EQ(write(go[1], "g", 1), 1);
    char c;
    if (mode == 2) {
        CHECK_EQ(read(done[0], &c, 1), 1);
        kill(k, SIGKILL);
    }
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == (mode == 2 ? SIGKILL : SIGSEGV));
    /* With the handler the crash's trigger gives the snapshot; the death
     * that follows is then already covered (no second file). */
    CHECK_EQ(wait_snaps(1, mode == 0 ? 1500 : 300), 1);
    if (mode == 0)
        CHECK_EQ(snaps.first[0], 1);
    ringlog_recorder_stop(rec);
    if (atomic_load(&snaps.n) >= 1) {
        ringlog_reader *r;
        CHECK_EQ(ringlog_reader_open(snaps.path[0], RINGLOG_READER_PEEK, &r), 0);
        struct got g = {.order_ok = 1};
        struct ringlog_handler h = {on_entry, on_gap, &g};
        while (ringlog_read(r, &h, 0) > 0) {
        }
        CHECK_EQ(g.pre, PRE);
        CHECK_EQ(g.crashes, mode == 0 ? 1 : 0);
        CHECK_EQ(g.triggers, mode == 0 ? 1 : 0);
        CHECK_EQ(g.gaps, 0);
        CHECK(g.order_ok);
        struct ringlog_stats t;
        ringlog_reader_stats(r, &t, NULL, 0);
        CHECK_EQ(t.written, PRE + (mode == 0 ? 2 : 0));
        CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered);
        struct ringlog_info in;
        ringlog_reader_info(r, &in);
        CHECK(in.snapshot_reason &&
              strstr(in.snapshot_reason, mode == 0 ? "trigger 1: crash: SIGSEGV" : "died without a trigger"));
        printf("recorder: %s -> snapshot \"%s\", %llu entries\n", what[mode],
               in.snapshot_reason ? in.snapshot_reason : "?", (unsigned long long)g.n);
        ringlog_reader_close(r);
    }
    remove_snaps(dir);
    for (int i = 0; i < 2; i++) {
        close(go[i]);
        close(done[i]);
    }
    ringlog_close(log);
    ringlog_unlink(name);
}

/* Everything a region or snapshot holds, read by a peeking reader. */
static struct got peek_all(const char *name)
{
    struct got g = {.order_ok = 1};
    ringlog_reader *r;
    int rc = ringlog_reader_open(name, RINGLOG_READER_PEEK, &r);
    CHECK_EQ(rc, 0);
    if (rc != 0)
        return g;
    struct ringlog_handler h = {on_entry, on_gap, &g};
    while (ringlog_read(r, &h, 0) > 0) {
    }
    ringlog_reader_close(r);
    return g;
}

/* A program with a SIGSEGV handler of its own keeps it: ringlog logs the
 * crash, then hands over (the program's handler exits 42 here). */
/* Two threads, two lanes. */
static void *other_writer(void *arg)
{
    ringlog *log = arg;
    for (int i = 0; i < 300; i++)
        ringlog_printf(log, RINGLOG_LEVEL_INFO, "other %d", i);
    return NULL;
}

struct lanes_seen {
    uint64_t main, other;
    uint32_t main_lane, other_lane;
};

static int see_lane(void *arg, const struct ringlog_entry *e)
{
    struct lanes_seen *s = arg;
    if (e->length >= 5 && memcmp(e->data, "main ", 5) == 0) {
        s->main++;
        s->main_lane = e->lane;
    } else if (e->length >= 6 && memcmp(e->data, "other ", 6) == 0) {
        s->other++;
        s->other_lane = e->lane;
    }
    return 0;
}

static struct lanes_seen read_lanes(const char *path, struct ringlog_info *info, int *rc)
{
    struct lanes_seen s = {0};
    ringlog_reader *r;
    *rc = ringlog_reader_open(path, RINGLOG_READER_PEEK, &r);
    if (*rc)
        return s;
    struct ringlog_handler h = {see_lane, NULL, &s};
    while (ringlog_read(r, &h, 0) > 0) {
    }
    ringlog_reader_info(r, info);
    /* The text lives in the reader: keep a copy past its close. */
    static char text[256];
    if (info->snapshot_damage) {
        snprintf(text, sizeof text, "%s", info->snapshot_damage);
        info->snapshot_damage = text;
    }
    ringlog_reader_close(r);
    return s;
}

static void write_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

/* A damaged snapshot gives everything that verifies (issue 11, item 9):
 * a flipped byte in one lane loses that lane only, and says so; a damaged
 * image header loses the image; a damaged checksum table leaves the
 * whole-image checksum, which still vouches for an undamaged image. */
static void damaged_snapshot_case(const char *name, const char *path)
{
    ringlog *log = fresh_region(name, 64 * 1024);
    for (int i = 0; i < 300; i++)
        ringlog_printf(log, RINGLOG_LEVEL_INFO, "main %d", i);
    pthread_t t;
    pthread_create(&t, NULL, other_writer, log);
    pthread_join(t, NULL);
    CHECK_EQ(ringlog_snapshot(name, path, "damage test", 0), 0);
    ringlog_close(log);
    ringlog_unlink(name);

    struct ringlog_info info;
    int rc;
    struct lanes_seen s = read_lanes(path, &info, &rc);
    CHECK_EQ(rc, 0);
    CHECK(s.main == 300 && s.other == 300 && s.main_lane != s.other_lane);
    CHECK(info.snapshot_damaged == 0 && info.snapshot_damage == NULL);

    static _Alignas(64) unsigned char buf[8 << 20];
    FILE *f = fopen(path, "rb");
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const struct rl_snap_header *sh = (const void *)buf;
    const struct rl_header *im = (const void *)(buf + RL_SNAP_HEADER_SIZE);
    CHECK(sh->version == 2 && sh->nimages == 1 && sh->npieces == 3 + im->nlanes);
    size_t lane_at = RL_SNAP_HEADER_SIZE + im->lanes_offset + (size_t)s.other_lane * im->lane_stride;
    char bad[300];
    snprintf(bad, sizeof bad, "%s.bad", path);

    buf[lane_at + RL_LANE_HDR_SIZE + 200] ^= 0x10; /* inside an entry of "other" */
    write_file(bad, buf, n);
    s = read_lanes(bad, &info, &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(s.main, 300);
    CHECK_EQ(s.other, 0);
    CHECK_EQ(info.snapshot_damaged, 1);
    char want[64];
    snprintf(want, sizeof want, "lane %u damaged", (unsigned)((lane_at - RL_SNAP_HEADER_SIZE -
                                                              im->lanes_offset) / im->lane_stride));
    CHECK(info.snapshot_damage && strstr(info.snapshot_damage, want));

    /* The table damaged too: nothing vouches for the lane any more. */
    buf[sh->table_offset + 4] ^= 1;
    write_file(bad, buf, n);
    expect_refused(bad, "image 1 checksum mismatch");
    /* Only the table damaged: the image's own checksum holds; said. */
    buf[lane_at + RL_LANE_HDR_SIZE + 200] ^= 0x10;
    write_file(bad, buf, n);
    s = read_lanes(bad, &info, &rc);
    CHECK(rc == 0 && s.main == 300 && s.other == 300);
    CHECK(info.snapshot_damage && strstr(info.snapshot_damage, "table damaged"));
    buf[sh->table_offset + 4] ^= 1;

    /* The image's registry (piece 0, past the checked header page). */
    buf[RL_SNAP_HEADER_SIZE + im->registry_offset + 9] ^= 0x20;
    write_file(bad, buf, n);
    expect_refused(bad, "damaged beyond use");
    unlink(bad);
    unlink(path);
}

static void own_segv_handler(int sig)
{
    (void)sig;
    _exit(42);
}

static void crash_chain_case(const char *name)
{
    ringlog *log = fresh_region(name, 64 * 1024);
    volatile int *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        ringlog *l;
        signal(SIGSEGV, own_segv_handler);
        if (ringlog_open(name, NULL, &l) != 0 || ringlog_install_crash_handler(l, 0) != 0)
            _exit(3);
        *ro = 1;
        _exit(4);
    }
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    struct got g = peek_all(name);
    CHECK_EQ(g.crashes, 1);
    CHECK_EQ(g.triggers, 1);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* Installed twice, then abort(): one crash entry, one trigger, and the
 * process dies of SIGABRT (the second install must not chain to itself). */
static void crash_twice_case(const char *name)
{
    ringlog *log = fresh_region(name, 64 * 1024);
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        ringlog *l;
        signal(SIGABRT, SIG_DFL);
        if (ringlog_open(name, NULL, &l) != 0 || ringlog_install_crash_handler(l, 0) != 0 ||
            ringlog_install_crash_handler(l, 0) != 0)
            _exit(3);
        abort();
    }
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    struct got g = peek_all(name);
    CHECK_EQ(g.crashes, 1);
    CHECK_EQ(g.triggers, 1);
    CHECK_EQ(g.crash.signo, SIGABRT);
    ringlog_close(log);
    ringlog_unlink(name);
}

int main(void)
{
    const char *name = test_region_name("snap");
    char path[256], bad[300];
    snprintf(path, sizeof path, "/tmp/ringlog-test-snap-%d.rlsnap", (int)getpid());
    snprintf(bad, sizeof bad, "%s.bad", path);
    ringlog *log = fresh_region(name, 256 * 1024);

    /* The recorder: waits on the trigger without polling. */
    ringlog_reader *w;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &w), 0);
    struct ringlog_info info;
    ringlog_reader_info(w, &info);
    uint32_t seen = info.triggers;
    fflush(stdout);
    pid_t k = fork();
    if (k == 0)
        crashing_producer(name);
    CHECK_EQ(ringlog_reader_wait_trigger(w, &seen, 10000), 1);
    CHECK_EQ(ringlog_snapshot(name, path, "test trigger", 200), 0);
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    if (!WIFSIGNALED(st))
        fprintf(stderr, "child exit status %d\n", WEXITSTATUS(st));
    ringlog_reader_close(w);

    /* Everything up to the crash is in the snapshot, in order. */
    ringlog_reader *r;
    if (ringlog_reader_open(path, RINGLOG_READER_CONSUME, &r) != 0) { /* becomes a peek */
        fprintf(stderr, "cannot open the snapshot: %s\n", ringlog_errmsg());
        return check_report("test_snapshot") | 1;
    }
    struct got g = {.order_ok = 1};
    struct ringlog_handler h = {on_entry, on_gap, &g};
    while (ringlog_read(r, &h, 0) > 0) {
    }
    CHECK_EQ(g.pre, PRE);
    CHECK_EQ(g.post, POST);
    CHECK_EQ(g.triggers, 1);
    CHECK_EQ(g.n, PRE + POST + 1);
    CHECK_EQ(g.gaps, 0);
    CHECK(g.order_ok);
    CHECK_EQ(ringlog_reader_info(r, &info), 0);
    CHECK(info.snapshot_reason && strcmp(info.snapshot_reason, "test trigger") == 0);
    CHECK_EQ(info.triggers, 1);
    struct ringlog_stats t;
    ringlog_reader_stats(r, &t, NULL, 0);
    /* The statistics are those of the image at the trigger: at least what
     * was logged before it, and balanced. */
    CHECK(t.written >= PRE + 1 && t.written <= PRE + POST + 1);
    CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered);
    ringlog_reader_close(r);
    /* The live region still holds the same: the crash lost nothing. */
    CHECK_EQ(ringlog_stats(log, &t, NULL, 0) > 0, 1);
    CHECK_EQ(t.buffered, PRE + POST + 1);

    /* Damage: a truncated file, a flipped header bit. */
    FILE *f = fopen(path, "rb");
    static unsigned char buf[16 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(n > RL_SNAP_HEADER_SIZE);
    f = fopen(bad, "wb");
    fwrite(buf, 1, n - 100, f);
    fclose(f);
    expect_refused(bad, "truncated");
    buf[20] ^= 1; /* header field: header checksum catches it */
    f = fopen(bad, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_refused(bad, "header checksum");
    unlink(bad);
    unlink(path);
    ringlog_close(log);
    ringlog_unlink(name);
    damaged_snapshot_case(name, path);
    crash_handler_case(name, path);
    recorder_sigkill_case(name);
    crash_chain_case(name);
    crash_twice_case(name);
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/ringlog-test-rec2-%d", (int)getpid());
    recorder_burst_case(name, dir);
    recorder_post_image_case(name, dir);
    for (int mode = 0; mode < 3; mode++)
        recorder_death_case(name, dir, mode);
    return check_report("test_snapshot");
}
