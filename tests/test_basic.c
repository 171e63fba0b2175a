/* Single-threaded behaviour: write, read back, order, gaps, policies,
 * statistics, errors. */
#include "check.h"
#include "internal.h"
#include "ringlog.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

struct collect {
    uint64_t n, gaps, gap_count, last, last_seq;
    int order_ok;
    uint32_t payload_sum;
    char last_text[256];
};

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    struct collect *c = arg;
    if (c->n + c->gaps && e->index <= c->last)
        c->order_ok = 0;
    c->last = e->index;
    c->last_seq = e->seq; /* the call's number in its lane */
    c->n++;
    if (e->type == RINGLOG_TYPE_TEXT) {
        size_t n = e->length < sizeof c->last_text - 1 ? e->length : sizeof c->last_text - 1;
        memcpy(c->last_text, e->data, n);
        c->last_text[n] = 0;
    } else if (e->length == 4) {
        uint32_t v;
        memcpy(&v, e->data, 4);
        c->payload_sum += v;
    }
    return 0;
}

static int on_gap(void *arg, uint64_t first, uint64_t count)
{
    struct collect *c = arg;
    if (c->n + c->gaps && first <= c->last)
        c->order_ok = 0;
    c->last = first + count - 1;
    c->gaps++;
    c->gap_count += count;
    return 0;
}

static void drain(ringlog_reader *r, struct collect *c)
{
    struct ringlog_handler h = {on_entry, on_gap, c};
    while (ringlog_read(r, &h, 50) > 0) {
    }
}

static void balanced(ringlog *log)
{
    struct ringlog_stats t;
    CHECK(ringlog_stats(log, &t, NULL, 0) > 0);
    CHECK_EQ(t.written, t.read + t.lost + t.overwritten + t.buffered);
    char why[200] = "";
    CHECK_EQ(rl_region_check(&log->g, why, sizeof why), 0);
    if (why[0])
        fprintf(stderr, "region check: %s\n", why);
}

static void test_roundtrip(void)
{
    const char *name = test_region_name("rt");
    struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = 2};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    for (uint32_t i = 0; i < 100; i++)
        CHECK_EQ(ringlog_write(log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, i, &i, sizeof i), 0);
    CHECK_EQ(ringlog_printf(log, RINGLOG_LEVEL_WARN, "hello %d %s", 42, "world"), 0);
    CHECK_EQ(ringlog_write(log, 300, RINGLOG_TYPE_RAW, 0, "x", 1), RINGLOG_EINVAL);
    CHECK_EQ(ringlog_write(log, 2, 70000, 0, "x", 1), RINGLOG_EINVAL);
    CHECK_EQ(ringlog_write(log, 2, 1, 0, NULL, 1), RINGLOG_EINVAL);
    struct collect c = {.order_ok = 1};
    drain(r, &c);
    CHECK_EQ(c.n, 101);
    CHECK_EQ(c.gaps, 0);
    CHECK(c.order_ok);
    CHECK_EQ(c.payload_sum, 4950);
    CHECK(strcmp(c.last_text, "hello 42 world") == 0);
    struct ringlog_stats t;
    ringlog_stats(log, &t, NULL, 0);
    CHECK_EQ(t.written, 101);
    CHECK_EQ(t.read, 101);
    CHECK_EQ(t.buffered, 0);
    balanced(log);
    /* A second consuming reader is refused while the first lives. */
    ringlog_reader *r2;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r2), RINGLOG_EBUSY);
    ringlog_reader_close(r);
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r2), 0);
    ringlog_reader_close(r2);
    ringlog_close(log);
    CHECK_EQ(ringlog_unlink(name), 0);
}

/* Overwrite: a reader that comes late sees the newest entries, a gap for
 * the rest, and the statistics balance. */
static void test_overwrite(void)
{
    const char *name = test_region_name("ow");
    struct ringlog_options o = {.ring_size = 4096, .nrings = 1};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    char msg[40] = "0123456789012345678901234567890123456";
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(ringlog_write(log, 2, RINGLOG_TYPE_RAW, (uint32_t)i, msg, sizeof msg), 0);
    struct ringlog_stats t;
    ringlog_stats(log, &t, NULL, 0);
    CHECK_EQ(t.written, 1000);
    CHECK(t.overwritten > 900);
    CHECK_EQ(t.buffered + t.overwritten, 1000);
    ringlog_reader *peek;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &peek), 0);
    struct collect p = {.order_ok = 1};
    struct ringlog_handler h = {on_entry, on_gap, &p};
    CHECK(ringlog_read(peek, &h, 0) > 0);
    CHECK_EQ(p.n, t.buffered);
    CHECK_EQ(p.last_seq, 999);
    ringlog_reader_close(peek);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    struct collect c = {.order_ok = 1};
    drain(r, &c);
    CHECK_EQ(c.n, t.buffered);
    CHECK_EQ(c.last_seq, 999);
    CHECK(c.order_ok);
    balanced(log);
    /* Now the reader is started: new losses show as gaps. */
    for (int i = 0; i < 1000; i++)
        ringlog_write(log, 2, RINGLOG_TYPE_RAW, (uint32_t)i, msg, sizeof msg);
    struct collect c2 = {.order_ok = 1, .last = c.last};
    c2.n = 0;
    struct ringlog_handler h2 = {on_entry, on_gap, &c2};
    while (ringlog_read(r, &h2, 50) > 0) {
    }
    CHECK_EQ(c2.n + c2.gap_count, 1000);
    CHECK(c2.gaps >= 1);
    CHECK_EQ(c2.last_seq, 1999);
    balanced(log);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

static void test_drop(void)
{
    const char *name = test_region_name("drop");
    struct ringlog_options o = {.ring_size = 4096, .nrings = 1, .policy = RINGLOG_DROP};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    int stored = 0, dropped = 0;
    for (int i = 0; i < 500; i++) {
        int rc = ringlog_write(log, 2, RINGLOG_TYPE_RAW, 0, &i, sizeof i);
        if (rc == 0)
            stored++;
        else if (rc == RINGLOG_DROPPED)
            dropped++;
    }
    CHECK_EQ(stored + dropped, 500);
    CHECK_EQ(stored, 102); /* 2 sub-buffers of 2048 bytes, 51 40-byte entries each */
    struct collect c = {.order_ok = 1};
    drain(r, &c);
    CHECK_EQ(c.n, 102);
    CHECK_EQ(c.gap_count, 398);
    CHECK(c.order_ok);
    struct ringlog_stats t;
    ringlog_stats(log, &t, NULL, 0);
    CHECK_EQ(t.lost, 398);
    CHECK_EQ(t.overwritten, 0);
    balanced(log);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

static void test_too_big_and_wrap(void)
{
    const char *name = test_region_name("big");
    struct ringlog_options o = {.ring_size = 4096, .nrings = 1};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    static char big[8192];
    /* A 4 KiB lane has two sub-buffers of 2 KiB; an entry fills one at most. */
    CHECK_EQ(ringlog_write(log, 2, RINGLOG_TYPE_RAW, 0, big, 2048 - 32 + 1), RINGLOG_TOO_BIG);
    /* The largest entry fits only at the start of a sub-buffer: a pad first. */
    CHECK_EQ(ringlog_write(log, 2, RINGLOG_TYPE_RAW, 0, big, 100), 0);
    CHECK_EQ(ringlog_write(log, 2, RINGLOG_TYPE_RAW, 0, big, 2048 - 32), 0);
    CHECK_EQ(ringlog_write(log, 2, RINGLOG_TYPE_RAW, 0, big, 2048 - 32), 0);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    struct collect c = {.order_ok = 1};
    drain(r, &c);
    CHECK_EQ(c.n, 2);     /* the third evicted the sub-buffer of the small one */
    CHECK_EQ(c.last_seq, 3);
    struct ringlog_stats t;
    ringlog_stats(log, &t, NULL, 0);
    CHECK_EQ(t.too_big, 1);
    CHECK_EQ(t.lost, 1);
    CHECK_EQ(t.overwritten, 1);
    CHECK_EQ(t.read, 2);
    CHECK_EQ(t.wraps, 1);
    balanced(log);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

static void test_errors(void)
{
    ringlog *log;
    ringlog_reader *r;
    CHECK_EQ(ringlog_open("", NULL, &log), RINGLOG_EINVAL);
    CHECK_EQ(ringlog_reader_open("ringlog-test-does-not-exist", 0, &r), RINGLOG_ENOENT);
    CHECK(strstr(ringlog_errmsg(), "no such region") != NULL);
    CHECK_EQ(ringlog_reader_open("/etc/passwd", RINGLOG_READER_PEEK, &r), RINGLOG_EFORMAT);
    struct ringlog_options bad = {.ring_size = 100};
    CHECK_EQ(ringlog_open(test_region_name("bad"), &bad, &log), RINGLOG_EINVAL);
    struct ringlog_options badp = {.policy = 7};
    CHECK_EQ(ringlog_open(test_region_name("bad"), &badp, &log), RINGLOG_EINVAL);

    const char *name = test_region_name("err");
    struct ringlog_options o = {.ring_size = 8192, .nrings = 1};
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    ringlog *log2;
    struct ringlog_options excl = {.flags = RINGLOG_OPEN_EXCL};
    CHECK_EQ(ringlog_open(name, &excl, &log2), RINGLOG_EEXIST);
    struct ringlog_options other = {.ring_size = 16384};
    CHECK_EQ(ringlog_open(name, &other, &log2), RINGLOG_EMISMATCH);
    CHECK_EQ(ringlog_open(name, NULL, &log2), 0); /* defaults attach to anything */
    ringlog_close(log2);
    /* A newer layout version is refused clearly. */
    struct rl_header *h = log->g.hdr;
    h->version = 99;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &r), RINGLOG_EVERSION);
    CHECK(strstr(ringlog_errmsg(), "version 99") != NULL);
    h->version = RINGLOG_LAYOUT_VERSION;
    h->version = 3; /* the layout before lanes: refused, saying what to do */
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &r), RINGLOG_EVERSION);
    CHECK(strstr(ringlog_errmsg(), "older ringlog") != NULL);
    h->version = RINGLOG_LAYOUT_VERSION;
    h->lane_size = 3;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &r), RINGLOG_EFORMAT);
    CHECK(strstr(ringlog_errmsg(), "checksum") != NULL);
    h->lane_size = 8192;
    ringlog_close(log);
    CHECK_EQ(ringlog_unlink(name), 0);
    CHECK_EQ(ringlog_unlink(name), RINGLOG_ENOENT);
}

/* A region in a plain file outlives its writer and is read post-mortem. */
static void test_file_region(void)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/ringlog-test-file-%d.rlog", (int)getpid());
    struct ringlog_options o = {.ring_size = 8192, .nrings = 2, .mode = 0640};
    ringlog *log;
    CHECK_EQ(ringlog_open(path, &o, &log), 0);
    for (int i = 0; i < 10; i++)
        ringlog_printf(log, RINGLOG_LEVEL_INFO, "line %d", i);
    ringlog_close(log);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(path, RINGLOG_READER_PEEK, &r), 0);
    struct collect c = {.order_ok = 1};
    struct ringlog_handler h = {on_entry, on_gap, &c};
    CHECK_EQ(ringlog_read(r, &h, 0), 10);
    CHECK(strcmp(c.last_text, "line 9") == 0);
    struct ringlog_info info;
    CHECK_EQ(ringlog_reader_info(r, &info), 0);
    CHECK_EQ(info.nrings, 2);
    CHECK_EQ(info.ring_size, 8192);
    CHECK_EQ(info.next_index, 10);
    ringlog_reader_close(r);
    CHECK_EQ(ringlog_unlink(path), 0);
}

/* A file whose creator died before writing the header: a fresh one is
 * waited for (its creator may still be at work), one that has not changed
 * for longer than that wait is refused at once. */
static void test_uninitialised_file(void)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/ringlog-test-empty-%d.rlog", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fclose(f);
    struct timespec old[2] = {{time(NULL) - 60, 0}, {time(NULL) - 60, 0}};
    CHECK_EQ(utimensat(AT_FDCWD, path, old, 0), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(path, RINGLOG_READER_PEEK, &r), RINGLOG_ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    CHECK(s < 1.0);
    CHECK(strstr(ringlog_errmsg(), "ringlog rm") != NULL);
    unlink(path);
}

/* A holder that died in the middle of a call (its header written, the
 * entry not published): the next thread to need the lane reclaims it,
 * counts the call as abandoned and spends its number, so the reader
 * reports it as a gap of exactly one between the two entries. */
static void test_dead_holder(void)
{
    const char *name = test_region_name("dead");
    struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = 1, .policy = RINGLOG_DROP};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    ringlog_reader *r; /* from the start: every call is its to account for */
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    pid_t k = fork();
    if (k == 0) {
        ringlog *cl;
        if (ringlog_open(name, NULL, &cl) != 0 || ringlog_printf(cl, 2, "before") != 0)
            _exit(1);
        /* Half a call: the header of the next entry, never published. */
        struct rl_lane *l = rl_tls.slot[0][0].lane;
        uint64_t h = atomic_load(&l->head), sq = atomic_load(&l->seq);
        atomic_store(rl_lane_word(&cl->g, l, h + 8), rl_seqown(sq, cl->owner));
        atomic_store(rl_lane_word(&cl->g, l, h + 16), 5);
        _exit(0); /* no ringlog_close: the lane stays named after us */
    }
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* Post mortem, before anyone reclaims the lane: a peeking reader
     * reports the call the dead writer never finished (issue 11, item 6). */
    ringlog_reader *pk;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &pk), 0);
    struct collect pc = {.order_ok = 1};
    struct ringlog_handler ph = {on_entry, on_gap, &pc};
    while (ringlog_read(pk, &ph, 0) > 0) {
    }
    CHECK_EQ(pc.n, 1);
    CHECK_EQ(pc.gap_count, 1);
    ringlog_reader_close(pk);
    CHECK_EQ(ringlog_printf(log, 2, "after"), 0); /* one lane: ours only by reclaim */
    struct ringlog_stats t;
    ringlog_stats(log, &t, NULL, 0);
    CHECK_EQ(t.abandoned, 1);
    CHECK_EQ(t.written, 3);
    struct collect c = {.order_ok = 1};
    struct ringlog_handler hd = {on_entry, on_gap, &c};
    for (int i = 0; i < 50 && c.n < 2; i++)
        ringlog_read(r, &hd, 20);
    CHECK_EQ(c.n, 2);
    CHECK_EQ(c.gaps, 1);
    CHECK(strcmp(c.last_text, "after") == 0);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* A corrupt head word (far beyond the tail) hides nothing else: the reader
 * skips that lane, says so (read_corrupt), and writers of other lanes go on. */
static void test_corrupt_head(void)
{
    const char *name = test_region_name("head");
    struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = 4, .policy = RINGLOG_DROP};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    CHECK_EQ(ringlog_printf(log, 2, "mine"), 0);
    /* Another lane, corrupt. */
    uint32_t mine = rl_tls.slot[0][0].index;
    struct rl_lane *other = rl_lane_at(&log->g, mine == 0 ? 1 : 0);
    atomic_store(&other->head, (uint64_t)1 << 40);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &r), 0);
    struct collect c = {.order_ok = 1};
    struct ringlog_handler hd = {on_entry, on_gap, &c};
    while (ringlog_read(r, &hd, 0) > 0) {
    }
    CHECK_EQ(c.n, 1);
    struct ringlog_info in;
    CHECK_EQ(ringlog_reader_info(r, &in), 0);
    CHECK(in.read_corrupt > 0);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* Liveness: ourselves alive, a reaped child dead, a wrong start time dead. */
static void test_liveness(void)
{
    uint32_t me = rl_plat_pid();
    CHECK(rl_plat_proc_alive(me, rl_plat_proc_start(me)));
    CHECK(!rl_plat_proc_alive(me, rl_plat_proc_start(me) + 12345));
    pid_t k = fork();
    if (k == 0)
        _exit(0);
    int st;
    waitpid(k, &st, 0);
    CHECK(!rl_plat_proc_alive((uint32_t)k, 0));
}

struct trig_seen {
    int n;
    uint32_t remarks;
    char reason[64];
};
static int on_trigger_entry(void *arg, const struct ringlog_entry *e)
{
    struct trig_seen *t = arg;
    if (e->type == RINGLOG_TYPE_TRIGGER) {
        t->n++;
        t->remarks = e->remarks;
        size_t n = e->length < sizeof t->reason - 1 ? e->length : sizeof t->reason - 1;
        memcpy(t->reason, e->data, n);
        t->reason[n] = 0;
    }
    return 0;
}

/* A trigger raised in another process wakes a waiter at once (futex, no
 * polling) and shows in the log as an entry. */
static void test_trigger(void)
{
    const char *name = test_region_name("trig");
    struct ringlog_options o = {.ring_size = 8192, .nrings = 1};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &r), 0);
    struct ringlog_info info;
    ringlog_reader_info(r, &info);
    CHECK_EQ(info.triggers, 0);
    uint32_t seen = info.triggers;
    CHECK_EQ(ringlog_reader_wait_trigger(r, &seen, 50), 0); /* times out */
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        ringlog *l2;
        if (ringlog_open(name, NULL, &l2) != 0)
            _exit(1);
        ringlog_trigger(l2, "boom in child");
        ringlog_close(l2);
        _exit(0);
    }
    uint64_t t0 = rl_plat_mono_ns();
    CHECK_EQ(ringlog_reader_wait_trigger(r, &seen, 5000), 1);
    uint64_t waited_ms = (rl_plat_mono_ns() - t0) / 1000000;
    CHECK(waited_ms >= 90 && waited_ms < 2000);
    CHECK_EQ(seen, 1);
    int st;
    waitpid(k, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct trig_seen ts = {0};
    struct ringlog_handler h = {on_trigger_entry, NULL, &ts};
    ringlog_read(r, &h, 0);
    CHECK_EQ(ts.n, 1);
    CHECK_EQ(ts.remarks, 1);
    CHECK(strcmp(ts.reason, "boom in child") == 0);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* The hold: a consuming reader stays behind the clock by flush_ms (set
 * with ringlog_reader_set_lag), so entries newer than that wait; after it,
 * they all come, in order. */
static void test_hold(void)
{
    const char *name = test_region_name("lag");
    struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = 2, .flags = RINGLOG_OPEN_EXCL};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    struct collect c = {.order_ok = 1};
    struct ringlog_handler h = {on_entry, on_gap, &c};
    ringlog_read(r, &h, 0); /* start: nothing yet */
    ringlog_reader_set_lag(r, 0, 300);
    for (uint32_t i = 0; i < 40; i++)
        ringlog_write(log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, i, &i, sizeof i);
    ringlog_read(r, &h, 0);
    CHECK_EQ(c.n, 0); /* all newer than the hold */
    struct timespec ts = {0, 350 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ringlog_read(r, &h, 0);
    CHECK_EQ(c.n, 40);
    CHECK_EQ(c.last_seq, 39);
    CHECK(c.order_ok);
    CHECK_EQ(c.gaps, 0);
    balanced(log);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* INV-R1 where a lane's copy stops at a pad: a consumer that has read up
 * to 30 KiB into a 64 KiB sub-buffer (a 1 MiB lane), then a 40 KiB entry
 * e1 (it does not fit: a pad, then e1 in the next sub-buffer), then, after
 * it in time and through memory (a join), a 2-byte entry e2 of another
 * thread.  The round whose copy starts at the pad stages nothing of the
 * lane; e1 must still come before e2, and neither late. */
struct order_probe {
    int first_type_len; /* length of the first of the two delivered */
    int got, late;
};

static int probe_entry(void *arg, const struct ringlog_entry *e)
{
    struct order_probe *p = arg;
    if (e->length != 40 * 1024 && e->length != 2)
        return 0;
    if (!p->got++)
        p->first_type_len = (int)e->length;
    if (e->flags & RINGLOG_FLAG_LATE)
        p->late++;
    return 0;
}

static ringlog *probe_log;
static void *write_e2(void *arg)
{
    (void)arg;
    ringlog_write(probe_log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 2, "e2", 2);
    return NULL;
}

static void test_pad_then_long_entry(void)
{
    const char *name = test_region_name("padorder");
    ringlog_unlink(name);
    struct ringlog_options o = {.ring_size = 1u << 20, .nrings = 4, .policy = RINGLOG_DROP,
                                .flags = RINGLOG_OPEN_EXCL};
    CHECK_EQ(ringlog_open(name, &o, &probe_log), 0);
    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r), 0);
    ringlog_reader_set_lag(r, 0, 1); /* a 1 ms hold: quick rounds */
    static char small[1000], big[40 * 1024];
    for (int i = 0; i < 30; i++)
        ringlog_write(probe_log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 1, small, sizeof small);
    struct collect c = {.order_ok = 1};
    struct ringlog_handler h = {on_entry, on_gap, &c};
    for (int i = 0; i < 200 && c.n < 30; i++)
        ringlog_read(r, &h, 10);
    CHECK_EQ(c.n, 30);
    CHECK_EQ(ringlog_write(probe_log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 1, big, sizeof big), 0);
    pthread_t t;
    pthread_create(&t, NULL, write_e2, NULL);
    pthread_join(t, NULL);
    /* Past the hold: the next round may deliver both. */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    struct order_probe p = {0, 0, 0};
    struct ringlog_handler hp = {probe_entry, NULL, &p};
    for (int i = 0; i < 300 && p.got < 2; i++)
        ringlog_read(r, &hp, 10);
    CHECK_EQ(p.got, 2);
    CHECK_EQ(p.first_type_len, 40 * 1024); /* e1, the cause, first */
    CHECK_EQ(p.late, 0);
    ringlog_reader_close(r);
    ringlog_close(probe_log);
    ringlog_unlink(name);
}

int main(void)
{
    test_pad_then_long_entry();
    test_hold();
    test_trigger();
    test_dead_holder();
    test_corrupt_head();
    test_liveness();
    test_roundtrip();
    test_overwrite();
    test_drop();
    test_too_big_and_wrap();
    test_errors();
    test_file_region();
    test_uninitialised_file();
    return check_report("test_basic");
}
