/*
 * Continuous recording: the region's consuming reader, writing what it
 * reads into rotating recording files (docs/FORMAT.md, "Recording files").
 *
 * One thread does everything: it reads, appends records to a block in
 * memory, and writes the block when it is big enough or old enough.  A
 * block is written whole with one write() after its header, so a reader of
 * the file in progress sees whole blocks or a short tail it ignores; on a
 * failed write the file is cut back to its last whole block.  Rotation
 * closes a file with an END record after its last block, so the next file
 * starts exactly at the index where this one stopped.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK_TARGET (256u * 1024)     /* write a block once it holds this much, */
#define BLOCK_MIN 2048u                /* or half max_file_size, not less than this */
#define DEFAULT_FILE_SIZE (64ull << 20)
#define DEFAULT_FLUSH_MS 1000u
#define STOP_DRAIN_NS 2000000000ull    /* stop: read what is there for at most 2 s */

struct ringlog_continuous {
    struct ringlog_continuous_options o;
    char *dir, *base;
    ringlog_reader *r;
    pthread_t thread;
    _Atomic int stop;
    int err;                 /* the error that stopped recording */
    char errmsg[512];
    uint64_t run_id;
    /* The file being written. */
    int fd;
    char path[4096];
    uint32_t file_no;
    uint64_t file_bytes;     /* what is on disk, whole blocks only */
    struct ringlog_continuous_file cur;
    uint32_t *site_set;      /* call sites written to this file (open addressing) */
    size_t nset, capset;
    /* The block being filled. */
    unsigned char *blk;
    size_t blen, bcap;
    uint64_t blk_items;      /* entries and gap calls in it */
    uint64_t blk_since;      /* monotonic ns of its first record */
    size_t blk_target;       /* written once it holds this much */
    unsigned char *zbuf;
    size_t zcap;
    uint64_t next_index;
    struct ringlog_continuous_stats st;
};

/* Recording stops with `err`; the message rl_fail left in this thread is
 * kept for ringlog_continuous_stop's caller, in another thread. */
static int stop_with(struct ringlog_continuous *c, int err)
{
    c->err = err;
    snprintf(c->errmsg, sizeof c->errmsg, "%s", ringlog_errmsg());
    return err;
}

static int fail_here(struct ringlog_continuous *c, int err, const char *fmt, const char *what, int e)
{
    return stop_with(c, rl_fail(err, fmt, what, strerror(e)));
}

static int blk_reserve(struct ringlog_continuous *c, size_t more)
{
    if (c->blen + more <= c->bcap)
        return 0;
    size_t cap = c->bcap ? c->bcap : BLOCK_TARGET * 2;
    while (cap < c->blen + more)
        cap *= 2;
    unsigned char *p = realloc(c->blk, cap);
    if (!p) {
        return stop_with(c, rl_fail(RINGLOG_ENOMEM, "no memory for a %zu-byte block", cap));
    }
    c->blk = p;
    c->bcap = cap;
    return 0;
}

/* Appends a record of `kind` with `body` (n bytes) and `tail` (m bytes). */
static int open_file(struct ringlog_continuous *c);

static int put_rec(struct ringlog_continuous *c, unsigned kind, const void *body, size_t n,
                   const void *tail, size_t m)
{
    /* After a rotation the next file starts with the next record, so that
     * no file is empty and its name has the time of its first entry. */
    if (c->fd < 0 && (c->err || open_file(c)))
        return c->err;
    size_t len = (sizeof(struct rl_rec_rec) + n + m + 7) & ~(size_t)7;
    if (blk_reserve(c, len))
        return c->err;
    struct rl_rec_rec h = {(uint32_t)len, (uint16_t)kind, 0};
    unsigned char *p = c->blk + c->blen;
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, body, n);
    if (m)
        memcpy(p + sizeof h + n, tail, m);
    memset(p + sizeof h + n + m, 0, len - sizeof h - n - m);
    if (!c->blen)
        c->blk_since = rl_plat_mono_ns();
    c->blen += len;
    return 0;
}

/* write() all of it, or report why not. */
static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : ENOSPC;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int flush_block(struct ringlog_continuous *c)
{
    if (!c->blen || c->err)
        return c->err;
    const unsigned char *stored = c->blk;
    size_t slen = c->blen;
    struct rl_rec_block bh = {RL_REC_BLOCK_MAGIC, 0, (uint32_t)c->blen, 0, 0, 0};
    if (c->o.flags & RINGLOG_CONTINUOUS_ZSTD) {
        size_t need = rl_zstd_bound(c->blen), z = 0;
        if (need > c->zcap) {
            unsigned char *p = realloc(c->zbuf, need);
            if (!p)
                return fail_here(c, RINGLOG_ENOMEM, "%s: %s", "compression buffer", ENOMEM);
            c->zbuf = p;
            c->zcap = need;
        }
        int rc = rl_zstd_compress(c->zbuf, c->zcap, c->blk, c->blen, c->o.zstd_level, &z);
        if (rc)
            return stop_with(c, rc);
        if (z < c->blen) { /* else stored as it is */
            stored = c->zbuf;
            slen = z;
            bh.flags = RL_REC_B_ZSTD;
        }
    }
    bh.stored_len = (uint32_t)slen;
    bh.crc = rl_crc32(stored, slen);
    bh.hcrc = rl_crc32(&bh, offsetof(struct rl_rec_block, hcrc));
    int e = write_all(c->fd, &bh, sizeof bh);
    if (!e)
        e = write_all(c->fd, stored, slen);
    /* Writes into a file whose name was removed (with its directory,
     * say) succeed and vanish at close: check that the name still leads
     * to our file. */
    struct stat a, b;
    int gone = !e && (fstat(c->fd, &a) != 0 || stat(c->path, &b) != 0 || a.st_ino != b.st_ino ||
                      a.st_dev != b.st_dev);
    if (gone) {
        /* Everything this file held goes with it. */
        c->st.unsaved += c->cur.entries + c->cur.gap_calls;
        c->st.entries -= c->cur.entries;
        c->st.gap_calls -= c->cur.gap_calls;
        c->blen = 0;
        c->blk_items = 0;
        return stop_with(c, rl_fail(RINGLOG_EIO,
                                    "%s: removed while being written (its directory too?)",
                                    c->path));
    }
    if (e) {
        /* Keep the file whole: what a reader finds ends at the last good
         * block.  The block's entries were read from the region and are
         * gone from it: count them. */
        if (ftruncate(c->fd, (off_t)c->file_bytes) != 0) {
            /* Nothing more to do: readers ignore a short tail. */
        }
        c->st.unsaved += c->blk_items;
        c->blen = 0;
        c->blk_items = 0;
        return fail_here(c, RINGLOG_EIO, "%s: %s", c->path, e);
    }
    /* Each block brings the sites its entries use, so that a damaged
     * block costs its own entries only. */
    c->nset = 0;
    if (c->capset)
        memset(c->site_set, 0, c->capset * sizeof *c->site_set);
    c->file_bytes += sizeof bh + slen;
    c->cur.bytes = c->file_bytes;
    c->st.bytes += sizeof bh + slen;
    c->st.raw_bytes += c->blen;
    c->blen = 0;
    c->blk_items = 0;
    return 0;
}

static int in_set(struct ringlog_continuous *c, uint32_t id)
{
    if (!c->capset)
        return 0;
    for (size_t i = (id * RL_HASH_MUL) & (c->capset - 1); c->site_set[i];
         i = (i + 1) & (c->capset - 1))
        if (c->site_set[i] == id)
            return 1;
    return 0;
}

static void add_set(struct ringlog_continuous *c, uint32_t id)
{
    if (2 * (c->nset + 1) > c->capset) {
        size_t cap = c->capset ? c->capset * 2 : 256;
        uint32_t *t = calloc(cap, sizeof *t);
        if (!t)
            return; /* the site is written again with the next entry: harmless */
        for (size_t i = 0; i < c->capset; i++)
            if (c->site_set[i]) {
                size_t j = (c->site_set[i] * RL_HASH_MUL) & (cap - 1);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = c->site_set[i];
            }
        free(c->site_set);
        c->site_set = t;
        c->capset = cap;
    }
    size_t j = (id * RL_HASH_MUL) & (c->capset - 1);
    while (c->site_set[j])
        j = (j + 1) & (c->capset - 1);
    c->site_set[j] = id;
    c->nset++;
}

/* The first entry of a call site in a file brings the site's record, so
 * that each file formats its entries alone. */
static int put_site(struct ringlog_continuous *c, uint32_t id)
{
    const char *why;
    const struct rl_site_copy *s = rl_reader_site(c->r, id, &why);
    if (!s)
        return 0; /* unknown or corrupt: the entry reads as such from the file too */
    struct rl_rec_site rs = {id,
                             s->line,
                             s->level,
                             s->nargs,
                             s->off,
                             (uint32_t)strlen(s->fmt),
                             (uint32_t)strlen(s->file),
                             (uint32_t)strlen(s->func)};
    size_t n = rs.nargs + rs.fmt_len + 1 + rs.file_len + 1 + rs.func_len + 1;
    unsigned char *t = malloc(n);
    if (!t)
        return fail_here(c, RINGLOG_ENOMEM, "%s: %s", "site record", ENOMEM);
    unsigned char *p = t;
    memcpy(p, s->types, rs.nargs);
    p += rs.nargs;
    memcpy(p, s->fmt, rs.fmt_len + 1);
    p += rs.fmt_len + 1;
    memcpy(p, s->file, rs.file_len + 1);
    p += rs.file_len + 1;
    memcpy(p, s->func, rs.func_len + 1);
    int rc = put_rec(c, RL_REC_SITE, &rs, sizeof rs, t, n);
    free(t);
    if (!rc)
        add_set(c, id);
    return rc;
}

static int rotate_if_full(struct ringlog_continuous *c);

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    struct ringlog_continuous *c = arg;
    if (e->type == RINGLOG_TYPE_DEFERRED && !in_set(c, e->remarks) && put_site(c, e->remarks))
        return 1;
    uint32_t len = e->length > RL_REC_ENTRY_MAX ? RL_REC_ENTRY_MAX : (uint32_t)e->length;
    struct rl_rec_entry re = {e->index, e->timestamp, e->time_ns, e->seq,   e->lane,
                              e->level, e->type,      e->remarks, e->flags, e->pid,
                              e->tid,   len};
    if (len < e->length)
        re.flags |= RINGLOG_FLAG_TRUNCATED;
    if (put_rec(c, RL_REC_ENTRY, &re, sizeof re, e->data, len))
        return 1;
    c->blk_items++;
    c->cur.entries++;
    c->st.entries++;
    c->next_index = e->index + 1;
    if (c->blen >= c->blk_target && (flush_block(c) || rotate_if_full(c)))
        return 1;
    return 0;
}

static int on_gap(void *arg, uint64_t first, uint64_t count)
{
    struct ringlog_continuous *c = arg;
    struct ringlog_gap g;
    ringlog_gap_info(c->r, &g);
    struct rl_rec_gap rg = {first, count, g.first_seq, g.lane, 0};
    if (put_rec(c, RL_REC_GAP, &rg, sizeof rg, NULL, 0))
        return 1;
    c->blk_items += count;
    c->cur.gap_calls += count;
    c->st.gap_calls += count;
    c->next_index = first + count;
    return 0;
}

static int open_file(struct ringlog_continuous *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
    if ((size_t)snprintf(c->path, sizeof c->path, "%s/%s-%s-i%010llu.rlrec", c->dir, c->base,
                         when, (unsigned long long)c->next_index) >= sizeof c->path)
        return fail_here(c, RINGLOG_EINVAL, "%s: %s", c->dir, ENAMETOOLONG);
    c->fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    /* A recording restarted within the second, from index 0 again. */
    for (unsigned k = 1; c->fd < 0 && errno == EEXIST && k < 100; k++) {
        snprintf(c->path, sizeof c->path, "%s/%s-%s-i%010llu-%u.rlrec", c->dir, c->base, when,
                 (unsigned long long)c->next_index, k);
        c->fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (c->fd < 0)
        return fail_here(c, RINGLOG_EIO, "%s: cannot create: %s", c->path, errno);
    const struct rl_header_fixed *f = rl_reader_fixed(c->r);
    struct rl_rec_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, RL_REC_MAGIC, 8);
    h.version = RL_REC_VERSION;
    h.header_size = RL_REC_HEADER_SIZE;
    h.region_version = f->version;
    h.nlanes = f->nlanes;
    h.lane_size = f->lane_size;
    h.created_ns = f->real_base_ns;
    h.opened_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    h.first_index = c->next_index;
    h.clock_hz = f->clock_hz;
    h.policy = f->policy;
    h.clock = f->clock;
    h.creator_pid = f->creator_pid;
    h.file_no = c->file_no++;
    h.run_id = c->run_id;
    h.flags = (c->o.flags & RINGLOG_CONTINUOUS_ZSTD) ? RL_REC_F_ZSTD : 0;
    size_t nl = strlen(c->base) < sizeof h.name ? strlen(c->base) : sizeof h.name;
    h.name_len = (uint32_t)nl;
    memcpy(h.name, c->base, nl);
    h.crc = rl_crc32(&h, offsetof(struct rl_rec_header, crc));
    int e = write_all(c->fd, &h, sizeof h);
    if (e) {
        close(c->fd);
        c->fd = -1;
        unlink(c->path);
        return fail_here(c, RINGLOG_EIO, "%s: %s", c->path, e);
    }
    c->file_bytes = sizeof h;
    memset(&c->cur, 0, sizeof c->cur);
    c->cur.first_index = c->next_index;
    c->cur.bytes = c->file_bytes;
    c->st.files++;
    return 0;
}

/* NAME-YYYYmmddTHHMMSSZ-i<digits>[-k].rlrec: a file of this region's
 * recordings, not of a region whose name merely starts like it. */
static int is_ours(const char *f, size_t len, const char *base, size_t blen)
{
    static const char shape[] = "-ddddddddTddddddZ-i";
    if (len < blen + sizeof shape - 1 + 1 + 6 || strncmp(f, base, blen) != 0 ||
        strcmp(f + len - 6, ".rlrec") != 0)
        return 0;
    const char *p = f + blen;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        char want = shape[i];
        if (want == 'd' ? (p[i] < '0' || p[i] > '9') : p[i] != want)
            return 0;
    }
    /* Then the index, an optional -k, and nothing but the suffix. */
    const char *q = p + sizeof shape - 1, *end = f + len - 6;
    size_t digits = 0;
    while (q < end && *q >= '0' && *q <= '9')
        q++, digits++;
    if (!digits)
        return 0;
    if (q < end && *q == '-') {
        q++;
        digits = 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++, digits++;
        if (!digits)
            return 0;
    }
    return q == end;
}

struct rec_names {
    const char *base, *cur; /* cur: the file being written, "" if none */
    size_t blen;
};

static int recording_file(void *arg, const char *name)
{
    const struct rec_names *rn = arg;
    return is_ours(name, strlen(name), rn->base, rn->blen) && strcmp(name, rn->cur) != 0;
}

/* Oldest first by name (the UTC time and the index in the name order
 * them), never the file being written. */
static void prune(struct ringlog_continuous *c)
{
    if (!c->o.max_files && !c->o.max_age_s)
        return;
    const char *slash = strrchr(c->path, '/');
    struct rec_names rn = {c->base, c->fd < 0 ? "" : slash ? slash + 1 : c->path,
                           strlen(c->base)};
    char **names;
    size_t n = rl_plat_dir_names(c->dir, recording_file, &rn, &names);
    time_t now = time(NULL);
    /* The file being written, or the one the next record opens, counts
     * as one of max_files. */
    size_t keep = c->o.max_files ? c->o.max_files - 1 : n;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", c->dir, names[i]);
        struct stat sb;
        int old = c->o.max_age_s && stat(path, &sb) == 0 &&
                  now - sb.st_mtime > (time_t)c->o.max_age_s;
        if (i + keep < n || old)
            unlink(path);
        free(names[i]);
    }
    free(names);
}

/* Closes the file with its END record: why 0 rotated, 1 stopped. */
static int close_file(struct ringlog_continuous *c, uint32_t why)
{
    if (c->fd < 0)
        return c->err;
    if (!c->err) {
        struct ringlog_stats t;
        memset(&t, 0, sizeof t);
        ringlog_reader_stats(c->r, &t, NULL, 0);
        struct rl_rec_end end = {c->next_index, c->cur.entries, c->cur.gap_calls,
                                 rl_plat_real_ns(), t.written, t.read, t.lost, t.overwritten,
                                 t.abandoned, t.buffered, why, 0};
        if (put_rec(c, RL_REC_END, &end, sizeof end, NULL, 0) == 0)
            flush_block(c);
    }
    c->cur.next_index = c->next_index;
    int synced = c->err ? 0 : fsync(c->fd) == 0;
    if (!c->err && !synced)
        fail_here(c, RINGLOG_EIO, "%s: fsync: %s", c->path, errno);
    close(c->fd);
    c->fd = -1;
    if (!c->err && c->o.on_file)
        c->o.on_file(c->o.arg, c->path, &c->cur, 0);
    return c->err;
}

/* Rotation: a file past max_file_size is closed; the next record opens
 * the next file. */
static int rotate_if_full(struct ringlog_continuous *c)
{
    if (c->fd < 0 || c->file_bytes < c->o.max_file_size)
        return 0;
    if (close_file(c, 0))
        return c->err;
    prune(c);
    return 0;
}

static void report_error(struct ringlog_continuous *c)
{
    if (c->o.on_file) {
        rl_fail(c->err, "%s", c->errmsg);
        c->cur.next_index = c->next_index;
        c->o.on_file(c->o.arg, c->path, &c->cur, c->err);
    }
}

static int count_entry(void *arg, const struct ringlog_entry *e)
{
    (void)e;
    ((struct ringlog_continuous *)arg)->st.unsaved++;
    return 0;
}

static int count_gap(void *arg, uint64_t first, uint64_t count)
{
    (void)first;
    ((struct ringlog_continuous *)arg)->st.unsaved += count;
    return 0;
}

static void *continuous_main(void *arg)
{
    struct ringlog_continuous *c = arg;
    const struct ringlog_handler h = {on_entry, on_gap, c};
    const uint64_t flush_ns = (uint64_t)c->o.flush_ms * 1000000u;
    uint64_t drain_until = 0;
    while (!c->err) {
        int stopping = atomic_load_explicit(&c->stop, memory_order_acquire);
        if (stopping && !drain_until)
            drain_until = rl_plat_mono_ns() + STOP_DRAIN_NS;
        int n = ringlog_read(c->r, &h, stopping ? 0 : 100);
        if (c->err)
            break;
        if (n < 0) {
            char why[400]; /* rl_fail writes the buffer ringlog_errmsg reads */
            snprintf(why, sizeof why, "%s", ringlog_errmsg());
            stop_with(c, rl_fail(n, "reading the region: %s", why));
            break;
        }
        uint64_t now = rl_plat_mono_ns();
        if (c->blen && (stopping || now - c->blk_since >= flush_ns) && flush_block(c))
            break;
        if (rotate_if_full(c))
            break;
        if (stopping && (n == 0 || now >= drain_until))
            break;
    }
    /* What the reader claimed but held back (behind the clock, or for a
     * snapshot) is ours to write: the region counts it as read. */
    if (!c->err) {
        rl_reader_flush_staged(c->r, &h);
        if (c->blen)
            flush_block(c);
    }
    if (c->err) {
        /* Nothing more can be written: count what was read and not saved. */
        c->st.unsaved += c->blk_items;
        c->blk_items = 0;
        c->blen = 0;
        const struct ringlog_handler count = {count_entry, count_gap, c};
        rl_reader_flush_staged(c->r, &count);
        if (c->fd >= 0) {
            close(c->fd);
            c->fd = -1;
        }
        report_error(c);
    } else if (close_file(c, 1)) {
        report_error(c);
    }
    return NULL;
}

int ringlog_continuous_start(const char *name, const struct ringlog_continuous_options *opts,
                             ringlog_continuous **out)
{
    if (!name || !opts || !opts->dir || !out)
        return rl_fail(RINGLOG_EINVAL, "name, options, options->dir and out are required");
    *out = NULL;
    if (opts->zstd_level < 0 || opts->zstd_level > 19)
        return rl_fail(RINGLOG_EINVAL, "zstd level %d: expected 1..19", opts->zstd_level);
    if (opts->max_file_size && opts->max_file_size < 4096)
        return rl_fail(RINGLOG_EINVAL, "max_file_size %llu: at least 4096 bytes",
                       (unsigned long long)opts->max_file_size);
    const char *why;
    if ((opts->flags & RINGLOG_CONTINUOUS_ZSTD) && !rl_zstd_available(&why))
        return rl_fail(RINGLOG_EINVAL, "zstd compression: %s", why);
    int rc = rl_probe_dir(opts->dir, "recording files");
    if (rc)
        return rc;
    struct ringlog_continuous *c = calloc(1, sizeof *c);
    if (!c)
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    c->o = *opts;
    c->fd = -1;
    if (!c->o.max_file_size)
        c->o.max_file_size = DEFAULT_FILE_SIZE;
    if (!c->o.flush_ms)
        c->o.flush_ms = DEFAULT_FLUSH_MS;
    /* A file passes max_file_size by at most one block: at most half. */
    c->blk_target = c->o.max_file_size / 2 < BLOCK_TARGET ? (size_t)(c->o.max_file_size / 2)
                                                           : BLOCK_TARGET;
    if (c->blk_target < BLOCK_MIN)
        c->blk_target = BLOCK_MIN;
    if (!c->o.zstd_level)
        c->o.zstd_level = 3;
    const char *slash = strrchr(name, '/');
    c->dir = strdup(opts->dir);
    c->base = strdup(slash ? slash + 1 : name);
    c->o.dir = c->dir;
    c->run_id = rl_plat_real_ns() ^ ((uint64_t)rl_plat_pid() << 40);
    rc = c->dir && c->base ? ringlog_reader_open(name, RINGLOG_READER_CONSUME, &c->r)
                           : rl_fail(RINGLOG_ENOMEM, "out of memory");
    if (!rc && !rl_reader_live(c->r))
        rc = rl_fail(RINGLOG_EINVAL, "%s: a file, not a region: nothing to record", name);
    if (!rc && open_file(c))
        rc = rl_fail(c->err, "%s", c->errmsg);
    if (!rc && pthread_create(&c->thread, NULL, continuous_main, c) != 0)
        rc = rl_fail(RINGLOG_ENOMEM, "cannot start the recording thread");
    if (rc) {
        if (c->fd >= 0) {
            close(c->fd);
            unlink(c->path);
        }
        ringlog_reader_close(c->r);
        free(c->dir);
        free(c->base);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int ringlog_continuous_stop(ringlog_continuous *c, struct ringlog_continuous_stats *st)
{
    if (!c)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    atomic_store_explicit(&c->stop, 1, memory_order_release);
    pthread_join(c->thread, NULL);
    if (st)
        *st = c->st;
    int rc = c->err ? rl_fail(c->err, "%s", c->errmsg) : 0;
    ringlog_reader_close(c->r);
    free(c->blk);
    free(c->zbuf);
    free(c->site_set);
    free(c->dir);
    free(c->base);
    free(c);
    return rc;
}
