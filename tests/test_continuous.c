/*
 * Continuous recording: producers at full speed into a small region while
 * a recorder writes rotating files; then every file is read back.  Every
 * index from 0 to the end is in exactly one file, once, as an entry or in a
 * gap; the entries equal the region's `read`, the gaps its lost +
 * overwritten + abandoned; each lane's entries come in sequence; every
 * deferred entry formats from its own file's sites.  Then the same with
 * zstd, and damaged files: a flipped byte costs one block (reported, and
 * its indices come out as a gap), a cut file reads to its last whole block,
 * a recording file removed while written stops recording with an error.
 */
#include "check.h"
#include "internal.h"
#include "ringlog.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#define THREADS 3
#define PER_THREAD 60000

static const char *g_name;

static void *producer(void *arg)
{
    long t = (long)arg;
    ringlog *log;
    if (ringlog_open(g_name, NULL, &log) != 0)
        return NULL;
    for (unsigned i = 0; i < PER_THREAD; i++) {
        if (i % 7 == 0)
            ringlog_printf(log, RINGLOG_LEVEL_WARN, "text %ld %u", t, i);
        else
            RINGLOG_INFO(log, "thread %ld call %u of %s at %.1f", t, i, "producer", i * 0.5);
    }
    ringlog_close(log);
    return NULL;
}

struct files {
    char *names[4096];
    size_t n;
};

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_files(const char *dir, struct files *f)
{
    f->n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL && f->n < 4096) {
        size_t len = strlen(de->d_name);
        if (len > 6 && strcmp(de->d_name + len - 6, ".rlrec") == 0) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            f->names[f->n++] = strdup(p);
        }
    }
    if (d)
        closedir(d);
    qsort(f->names, f->n, sizeof *f->names, name_cmp);
}

static void free_files(struct files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->names[i]);
    f->n = 0;
}

struct readback {
    ringlog_reader *r;
    uint64_t next;          /* the next index expected */
    uint64_t entries, gap_calls, nolane_gap_calls;
    int index_ok, seq_ok, text_ok;
    uint64_t lane_seq[512];
    int lane_seen[512];
    uint64_t bad_text;
};

static int rb_entry(void *arg, const struct ringlog_entry *e)
{
    struct readback *b = arg;
    if (e->index != b->next)
        b->index_ok = 0;
    b->next = e->index + 1;
    b->entries++;
    if (e->lane < 512) {
        if (b->lane_seen[e->lane] && e->seq <= b->lane_seq[e->lane])
            b->seq_ok = 0;
        b->lane_seq[e->lane] = e->seq;
        b->lane_seen[e->lane] = 1;
    }
    char t[256];
    ringlog_entry_text(b->r, e, t, sizeof t);
    long th;
    unsigned i;
    char who[32];
    double at;
    int ok = 0;
    if (e->type == RINGLOG_TYPE_DEFERRED)
        ok = sscanf(t, "thread %ld call %u of %31s at %lf", &th, &i, who, &at) == 4 &&
             strcmp(who, "producer") == 0 && at == i * 0.5 && !strstr(t, "[ringlog");
    else if (e->type == RINGLOG_TYPE_TEXT)
        ok = sscanf(t, "text %ld %u", &th, &i) == 2 && i % 7 == 0;
    else
        ok = 1; /* triggers */
    if (!ok && b->bad_text++ < 3)
        fprintf(stderr, "unexpected text: %s\n", t);
    return 0;
}

static int rb_gap(void *arg, uint64_t first, uint64_t count)
{
    struct readback *b = arg;
    if (first != b->next)
        b->index_ok = 0;
    b->next = first + count;
    b->gap_calls += count;
    struct ringlog_gap g;
    ringlog_gap_info(b->r, &g);
    if (g.lane == RINGLOG_NO_LANE)
        b->nolane_gap_calls += count;
    return 0;
}

/* Reads every file in order; returns the number of files read. */
static size_t read_all(const struct files *f, struct readback *b, uint32_t *damaged)
{
    memset(b, 0, sizeof *b);
    b->index_ok = b->seq_ok = b->text_ok = 1;
    *damaged = 0;
    size_t read = 0;
    for (size_t k = 0; k < f->n; k++) {
        if (ringlog_reader_open(f->names[k], RINGLOG_READER_PEEK, &b->r) != 0) {
            fprintf(stderr, "%s: %s\n", f->names[k], ringlog_errmsg());
            continue;
        }
        struct ringlog_info in;
        ringlog_reader_info(b->r, &in);
        *damaged += in.snapshot_damaged;
        const struct ringlog_handler h = {rb_entry, rb_gap, b};
        for (int guard = 0; guard < 1000000 && ringlog_read(b->r, &h, 0) > 0; guard++)
            ;
        ringlog_reader_close(b->r);
        b->r = NULL;
        read++;
    }
    return read;
}

static void run(const char *tag, unsigned flags, uint64_t file_size)
{
    g_name = test_region_name(tag);
    ringlog_unlink(g_name);
    struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = 8};
    ringlog *log;
    CHECK(ringlog_open(g_name, &o, &log) == 0);
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/ringlog-cont-%s-%d", tag, (int)getpid());
    struct ringlog_continuous_options co = {
        .dir = dir, .max_file_size = file_size, .flags = flags, .flush_ms = 20};
    ringlog_continuous *c;
    int rc = ringlog_continuous_start(g_name, &co, &c);
    CHECK(rc == 0);
    if (rc) {
        fprintf(stderr, "%s\n", ringlog_errmsg());
        ringlog_close(log);
        return;
    }
    /* A second consuming reader is refused while recording runs. */
    ringlog_reader *other;
    CHECK(ringlog_reader_open(g_name, RINGLOG_READER_CONSUME, &other) == RINGLOG_EBUSY);
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, producer, (void *)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    ringlog_trigger(log, "the end");
    struct ringlog_continuous_stats cs;
    CHECK(ringlog_continuous_stop(c, &cs) == 0);
    struct ringlog_stats tot;
    CHECK(ringlog_stats(log, &tot, NULL, 0) >= 0);
    uint64_t calls = (uint64_t)THREADS * PER_THREAD + 1;
    CHECK_EQ(tot.written, calls);
    CHECK_EQ(tot.buffered, 0);
    CHECK_EQ(cs.entries, tot.read);
    CHECK_EQ(cs.gap_calls, tot.lost + tot.overwritten + tot.abandoned);
    CHECK_EQ(cs.unsaved, 0);

    struct files f;
    list_files(dir, &f);
    CHECK(f.n >= 3); /* rotated several times */
    CHECK_EQ(cs.files, f.n);
    struct readback b;
    uint32_t damaged;
    CHECK_EQ(read_all(&f, &b, &damaged), f.n);
    CHECK_EQ(damaged, 0);
    CHECK(b.index_ok);
    CHECK(b.seq_ok);
    CHECK_EQ(b.bad_text, 0);
    CHECK_EQ(b.next, calls);
    CHECK_EQ(b.entries, tot.read);
    CHECK_EQ(b.gap_calls, tot.lost + tot.overwritten + tot.abandoned);
    CHECK_EQ(b.nolane_gap_calls, 0);
    printf("%s: %zu files, %llu entries, %llu in gaps, %llu bytes (%.1f bytes/entry)\n", tag,
           f.n, (unsigned long long)b.entries, (unsigned long long)b.gap_calls,
           (unsigned long long)cs.bytes, cs.entries ? (double)cs.bytes / cs.entries : 0.0);
    if (flags & RINGLOG_CONTINUOUS_ZSTD)
        CHECK(cs.bytes < cs.raw_bytes / 2);

    /* Per-file counters: written == read + lost, and the file's indices. */
    ringlog_reader *r;
    CHECK(ringlog_reader_open(f.names[1], RINGLOG_READER_PEEK, &r) == 0);
    struct ringlog_stats ft;
    CHECK(ringlog_reader_stats(r, &ft, NULL, 0) == 8);
    CHECK_EQ(ft.written, ft.read + ft.lost);
    CHECK(ft.read > 0);
    uint32_t seen = 0;
    CHECK(ringlog_reader_wait_trigger(r, &seen, 0) == RINGLOG_EINVAL);
    ringlog_reader_close(r);

    /* A flipped byte in the middle of a file's second block. */
    {
        int fd = open(f.names[0], O_RDWR);
        struct stat st;
        fstat(fd, &st);
        off_t at = (off_t)(RL_REC_HEADER_SIZE + st.st_size) / 2;
        unsigned char x;
        CHECK(pread(fd, &x, 1, at) == 1);
        x ^= 0x40;
        CHECK(pwrite(fd, &x, 1, at) == 1);
        close(fd);
        CHECK_EQ(read_all(&f, &b, &damaged), f.n);
        CHECK_EQ(damaged, 1);
        CHECK(b.index_ok);           /* the block's indices came as a gap */
        CHECK(b.nolane_gap_calls > 0);
        CHECK_EQ(b.next, calls);
        CHECK(b.entries < tot.read);
        CHECK_EQ(b.bad_text, 0);
    }
    /* The last file cut in the middle of its last block: read to the block
     * before, no error (a recording killed while writing). */
    {
        const char *last = f.names[f.n - 1];
        struct stat st;
        stat(last, &st);
        CHECK(truncate(last, st.st_size - 10) == 0);
        CHECK(ringlog_reader_open(last, RINGLOG_READER_PEEK, &r) == 0);
        struct readback one;
        memset(&one, 0, sizeof one);
        one.r = r;
        one.index_ok = 1;
        struct ringlog_info in;
        ringlog_reader_info(r, &in);
        one.next = in.next_index; /* unused */
        const struct ringlog_handler h = {rb_entry, NULL, &one};
        while (ringlog_read(r, &h, 0) > 0)
            ;
        CHECK_EQ(in.snapshot_damaged, 0);
        ringlog_reader_close(r);
        /* A header cut short, and a wrong version, are refused clearly. */
        CHECK(truncate(last, 100) == 0);
        CHECK(ringlog_reader_open(last, RINGLOG_READER_PEEK, &r) == RINGLOG_EFORMAT);
        CHECK(strstr(ringlog_errmsg(), "cut short") != NULL);
    }
    for (size_t k = 0; k < f.n; k++)
        unlink(f.names[k]);
    free_files(&f);
    rmdir(dir);
    ringlog_close(log);
    ringlog_unlink(g_name);
}

static _Atomic uint64_t files_seen; /* written by the recording thread */
static _Atomic int errors_seen;

static void count_file(void *arg, const char *path, const struct ringlog_continuous_file *f,
                       int err)
{
    (void)arg, (void)path, (void)f;
    if (err)
        errors_seen++;
    else
        files_seen++;
}

/* Rotation keeps at most max_files; a removed file stops recording. */
static void pruning_and_removal(void)
{
    g_name = test_region_name("prune");
    ringlog_unlink(g_name);
    struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = 8};
    ringlog *log;
    CHECK(ringlog_open(g_name, &o, &log) == 0);
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/ringlog-cont-prune-%d", (int)getpid());
    struct ringlog_continuous_options co = {.dir = dir, .max_file_size = 8192, .max_files = 3,
                                            .flush_ms = 5, .on_file = count_file};
    ringlog_continuous *c;
    CHECK(ringlog_continuous_start(g_name, &co, &c) == 0);
    for (int i = 0; i < 20000; i++) {
        RINGLOG_INFO(log, "entry %d", i);
        if (i % 500 == 0)
            usleep(2000);
    }
    usleep(200000);
    struct files f;
    list_files(dir, &f);
    CHECK(f.n <= 3);
    CHECK(files_seen >= 5);
    free_files(&f);
    /* Remove the files, the one being written among them: its next block
     * notices.  (Right after a rotation no file is open: try again.) */
    for (int i = 0; i < 2000 && !errors_seen; i++) {
        list_files(dir, &f);
        for (size_t k = 0; k < f.n; k++)
            unlink(f.names[k]);
        free_files(&f);
        RINGLOG_INFO(log, "after removal %d", i);
        usleep(1000);
    }
    struct ringlog_continuous_stats cs;
    CHECK(ringlog_continuous_stop(c, &cs) != 0);
    CHECK(strstr(ringlog_errmsg(), "removed") != NULL);
    CHECK_EQ(errors_seen, 1);
    list_files(dir, &f);
    for (size_t k = 0; k < f.n; k++)
        unlink(f.names[k]);
    free_files(&f);
    rmdir(dir);
    ringlog_close(log);
    ringlog_unlink(g_name);
}

/* Triggers while recording continuously under full load: the consumer
 * must leave each trigger's entry in the lanes until the recorder's copy,
 * so every snapshot holds its trigger; the recording holds them all too. */
static _Atomic int stop_producing;
static _Atomic uint64_t snaps_written;

static void *busy_producer(void *arg)
{
    ringlog *log = arg;
    for (unsigned i = 0; !atomic_load_explicit(&stop_producing, memory_order_relaxed); i++)
        RINGLOG_INFO(log, "busy %u", i);
    return NULL;
}

static _Atomic uint32_t snaps_last; /* the last trigger covered by a file */

static void on_snap(void *arg, const char *path, uint32_t first, uint32_t last, int err)
{
    (void)arg, (void)path, (void)first;
    if (!err) {
        atomic_fetch_add(&snaps_written, 1);
        if (last > atomic_load(&snaps_last))
            atomic_store(&snaps_last, last);
    }
}

struct trig_seen {
    unsigned char seen[64];
};

static int trig_entry(void *arg, const struct ringlog_entry *e)
{
    struct trig_seen *t = arg;
    if (e->type == RINGLOG_TYPE_TRIGGER && e->remarks < 64)
        t->seen[e->remarks] = 1;
    return 0;
}

static void read_triggers(const char *dir, const char *suffix, struct trig_seen *t)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name), sl = strlen(suffix);
        if (len <= sl || strcmp(de->d_name + len - sl, suffix) != 0)
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        ringlog_reader *r;
        if (ringlog_reader_open(p, RINGLOG_READER_PEEK, &r) != 0)
            continue;
        const struct ringlog_handler h = {trig_entry, NULL, t};
        for (int guard = 0; guard < 100000 && ringlog_read(r, &h, 0) > 0; guard++)
            ;
        ringlog_reader_close(r);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void triggers_while_recording(void)
{
    enum { TRIGGERS = 8 };
    g_name = test_region_name("trig");
    ringlog_unlink(g_name);
    struct ringlog_options o = {.ring_size = 256 * 1024, .nrings = 8};
    ringlog *log;
    CHECK(ringlog_open(g_name, &o, &log) == 0);
    char rdir[256], sdir[256];
    snprintf(rdir, sizeof rdir, "/tmp/ringlog-cont-trig-%d", (int)getpid());
    snprintf(sdir, sizeof sdir, "/tmp/ringlog-cont-snaps-%d", (int)getpid());
    struct ringlog_continuous_options co = {.dir = rdir, .max_file_size = 1 << 20, .flush_ms = 20};
    ringlog_continuous *c;
    CHECK(ringlog_continuous_start(g_name, &co, &c) == 0);
    struct ringlog_recorder_options ro = {.dir = sdir, .on_snapshot = on_snap};
    ringlog_recorder *rec;
    CHECK(ringlog_recorder_start(g_name, &ro, &rec) == 0);
    pthread_t th;
    pthread_create(&th, NULL, busy_producer, log);
    for (int k = 0; k < TRIGGERS; k++) {
        usleep(30000);
        ringlog_trigger(log, "while recording");
        usleep(150000); /* a burst of one: the recorder's file is written */
    }
    atomic_store(&stop_producing, 1);
    pthread_join(th, NULL);
    for (int i = 0; i < 500 && atomic_load(&snaps_last) < TRIGGERS; i++)
        usleep(10000);
    ringlog_recorder_stop(rec);
    struct ringlog_continuous_stats cs;
    CHECK(ringlog_continuous_stop(c, &cs) == 0);
    /* One file per burst: under a slow build two triggers may share one. */
    CHECK(atomic_load(&snaps_written) >= 1 && atomic_load(&snaps_written) <= TRIGGERS);
    CHECK_EQ(atomic_load(&snaps_last), TRIGGERS);
    struct trig_seen in_snaps, in_rec;
    memset(&in_snaps, 0, sizeof in_snaps);
    memset(&in_rec, 0, sizeof in_rec);
    read_triggers(sdir, ".rlsnap", &in_snaps);
    read_triggers(rdir, ".rlrec", &in_rec);
    int snap_has = 0, rec_has = 0;
    for (int k = 1; k <= TRIGGERS; k++) {
        snap_has += in_snaps.seen[k];
        rec_has += in_rec.seen[k];
    }
    printf("triggers while recording: %d of %d in snapshots, %d in the recording, "
           "%llu entries recorded\n",
           snap_has, TRIGGERS, rec_has, (unsigned long long)cs.entries);
    CHECK_EQ(snap_has, TRIGGERS);
    CHECK_EQ(rec_has, TRIGGERS);
    ringlog_close(log);
    ringlog_unlink(g_name);
}

/* --- the freeze, seen by a consumer (review findings F1, F3, F4) --------- */

static int trig_got, plain_got;
static int count_trig(void *a, const struct ringlog_entry *e)
{
    (void)a;
    if (e->type == RINGLOG_TYPE_TRIGGER)
        trig_got++;
    else
        plain_got++;
    return 0;
}

static void freeze_and_consumer(void)
{
    const char *name = test_region_name("freeze");
    ringlog_unlink(name);
    struct ringlog_options o = {.nrings = 16};
    ringlog *log;
    CHECK(ringlog_open(name, &o, &log) == 0);
    ringlog_reader *r;
    CHECK(ringlog_reader_open(name, RINGLOG_READER_CONSUME, &r) == 0);
    struct ringlog_handler h = {count_trig, NULL, NULL};
    ringlog_printf(log, RINGLOG_LEVEL_INFO, "history");
    /* A recorder attached (a live pid: ours) that has not copied yet. */
    atomic_store(&log->g.hdr->recorder_pid, (uint32_t)getpid());
    ringlog_trigger(log, "boom");
    usleep(1000);
    ringlog_read(r, &h, 20);
    CHECK_EQ(trig_got, 0); /* left for the snapshot */
    /* A snapshot taken by hand does not lift the recorder's freeze. */
    char snap[256];
    snprintf(snap, sizeof snap, "/tmp/ringlog-cont-manual-%d.rlsnap", (int)getpid());
    CHECK(ringlog_snapshot(name, snap, "by hand", 0) == 0);
    unlink(snap);
    CHECK(atomic_load(&log->g.hdr->freeze_until) != 0);
    ringlog_read(r, &h, 20);
    CHECK_EQ(trig_got, 0);
    /* Nobody lifts it: the consumer waits RL_FREEZE_MS at most, then goes on. */
    for (int i = 0; i < 100 && !trig_got; i++)
        ringlog_read(r, &h, 20);
    CHECK_EQ(trig_got, 1);
    CHECK_EQ(plain_got, 1);

    /* A storm of triggers nobody copies for: the consumer still moves. */
    trig_got = plain_got = 0;
    uint64_t t0 = rl_plat_mono_ns();
    while (rl_plat_mono_ns() - t0 < 1500000000ull) {
        ringlog_trigger(log, "storm");
        ringlog_printf(log, RINGLOG_LEVEL_INFO, "during the storm");
        ringlog_read(r, &h, 5);
    }
    printf("trigger storm without copies: %d entries delivered in 1.5 s\n", plain_got);
    CHECK(plain_got > 10);

    /* Entries the consumer claimed but held back (a call in progress on
     * another lane holds the cut) are delivered by the final flush, not
     * lost when the reader closes. */
    atomic_store(&log->g.hdr->recorder_pid, 0);
    while (ringlog_read(r, &h, 50) > 0)
        ;
    plain_got = 0;
    atomic_store(&rl_lane_at(&log->g, 15)->inflight, rl_ticks(log->g.clock));
    ringlog_printf(log, RINGLOG_LEVEL_INFO, "held back");
    ringlog_read(r, &h, 5);
    struct ringlog_stats st;
    ringlog_reader_stats(r, &st, NULL, 0);
    CHECK_EQ(st.read, st.written); /* claimed: every call read */
    CHECK_EQ(plain_got, 0);                 /* ... but held back */
    CHECK_EQ(rl_reader_flush_staged(r, &h), 1);
    CHECK_EQ(plain_got, 1);
    atomic_store(&rl_lane_at(&log->g, 15)->inflight, 0);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* --- hostile indices in a recording file (review finding R1) ------------ */

static unsigned char hb[4096];
static size_t hbl;
static void h_rec(unsigned kind, const void *b, size_t n)
{
    struct rl_rec_rec h = {(uint32_t)((8 + n + 7) & ~(size_t)7), (uint16_t)kind, 0};
    memcpy(hb + hbl, &h, 8);
    memcpy(hb + hbl + 8, b, n);
    hbl += h.len;
}
static void h_entry(uint64_t idx)
{
    struct rl_rec_entry e;
    memset(&e, 0, sizeof e);
    e.index = idx;
    h_rec(RL_REC_ENTRY, &e, sizeof e);
}
static void h_gap(uint64_t f, uint64_t c)
{
    struct rl_rec_gap g;
    memset(&g, 0, sizeof g);
    g.first_index = f;
    g.count = c;
    g.lane = RINGLOG_NO_LANE;
    h_rec(RL_REC_GAP, &g, sizeof g);
}

struct mono {
    uint64_t next;
    int ok;
    uint64_t items;
};
static int mono_entry(void *a, const struct ringlog_entry *e)
{
    struct mono *m = a;
    m->ok &= e->index >= m->next;
    m->next = e->index + 1;
    m->items++;
    return 0;
}
static int mono_gap(void *a, uint64_t f, uint64_t c)
{
    struct mono *m = a;
    m->ok &= f >= m->next && c > 0 && c <= (UINT64_C(1) << 48);
    m->next = f + c;
    m->items++;
    return 0;
}

static void hostile_indices(void)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/ringlog-cont-hostile-%d.rlrec", (int)getpid());
    for (int mode = 0; mode < 3; mode++) {
        struct rl_rec_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, RL_REC_MAGIC, 8);
        h.version = RL_REC_VERSION;
        h.header_size = RL_REC_HEADER_SIZE;
        h.nlanes = 1;
        h.clock_hz = 1000000000;
        h.name_len = 1;
        h.name[0] = 'x';
        h.crc = rl_crc32(&h, offsetof(struct rl_rec_header, crc));
        hbl = 0;
        if (mode == 0) {
            h_entry(0);
            h_entry(UINT64_MAX);
            h_entry(3);
        } else if (mode == 1) {
            h_entry(0);
            h_gap(UINT64_MAX - 5, 100);
            h_entry(50);
        } else {
            h_entry(0);
            h_entry(UINT64_C(1) << 62);
            h_entry(1);
        }
        struct rl_rec_block b = {RL_REC_BLOCK_MAGIC, 0, (uint32_t)hbl, (uint32_t)hbl,
                                 rl_crc32(hb, hbl), 0};
        b.hcrc = rl_crc32(&b, offsetof(struct rl_rec_block, hcrc));
        FILE *f = fopen(path, "wb");
        fwrite(&h, sizeof h, 1, f);
        fwrite(&b, sizeof b, 1, f);
        fwrite(hb, hbl, 1, f);
        fclose(f);
        ringlog_reader *r;
        CHECK(ringlog_reader_open(path, RINGLOG_READER_PEEK, &r) == 0);
        struct ringlog_stats t;
        ringlog_reader_stats(r, &t, NULL, 0);
        CHECK(t.written < 100);
        CHECK_EQ(t.written, t.read + t.lost);
        struct mono m = {0, 1, 0};
        struct ringlog_handler hh = {mono_entry, mono_gap, &m};
        while (ringlog_read(r, &hh, 0) > 0)
            ;
        CHECK(m.ok);
        CHECK(m.next < 100);
        struct ringlog_info in;
        ringlog_reader_info(r, &in);
        CHECK(in.read_corrupt > 0);
        ringlog_reader_close(r);
    }
    unlink(path);
}

int main(void)
{
    run("plain", 0, 32 * 1024);
    const char *why;
#ifdef RINGLOG_HAVE_ZSTD
    CHECK(rl_zstd_available(&why)); /* built with <zstd.h>: libzstd.so.1 must load */
#endif
    if (rl_zstd_available(&why))
        run("zstd", RINGLOG_CONTINUOUS_ZSTD, 8 * 1024);
    else
        printf("zstd: skipped: %s\n", why);
    pruning_and_removal();
    triggers_while_recording();
    freeze_and_consumer();
    hostile_indices();
    /* Bad options are refused at start, clearly. */
    ringlog_continuous *c;
    struct ringlog_continuous_options co = {.dir = "/tmp", .zstd_level = 40};
    CHECK(ringlog_continuous_start("x", &co, &c) == RINGLOG_EINVAL);
    co.zstd_level = 0;
    co.dir = "/etc/passwd";
    CHECK(ringlog_continuous_start("x", &co, &c) == RINGLOG_EINVAL);
    CHECK(strstr(ringlog_errmsg(), "not a directory") != NULL);
    return check_report("continuous");
}
