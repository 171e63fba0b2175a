/*
 * Taking snapshots: what a region held when a trigger fired (and,
 * optionally, a second image taken after a post-trigger window), written to
 * disk checksummed and self-describing.  The file format itself (checksum,
 * parsing) is snapfile.c's, which the reader uses too.
 *
 * An image is a copy of the whole region taken with relaxed 64-bit loads
 * while producers keep writing.  A copied entry may have been reused while
 * we copied; the same rule as the peeking reader applies (DESIGN.md): after
 * an acquire fence, any position below the lane's live tail may have been
 * reused, so each image's tail is raised to the live tail.  What remains
 * between tail and head was not reused during the copy.
 */
#include "internal.h"

_Static_assert(sizeof(((struct rl_snap_header *)0)->reason) == RINGLOG_REASON_MAX,
               "a snapshot keeps a whole trigger reason");

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies the live region into dst (g->fixed.region_size bytes, 8-aligned). */
static void copy_image(const struct rl_region *g, unsigned char *dst)
{
    const _Atomic uint64_t *src = (const _Atomic uint64_t *)(const void *)g->hdr;
    uint64_t words = g->fixed.region_size / 8;
    for (uint64_t i = 0; i < words; i++) {
        uint64_t w = atomic_load_explicit(&src[i], memory_order_relaxed);
        memcpy(dst + i * 8, &w, 8);
    }
    /* Pairs with each producer's release fence before its stores: if the
     * copy holds any byte of a reuse, the tail we load now shows it. */
    atomic_thread_fence(memory_order_acquire);
    struct rl_region img = {0};
    rl_region_validate(&img, dst, g->fixed.region_size);
    for (uint32_t i = 0; i < g->nlanes; i++) {
        uint64_t live = atomic_load_explicit(&rl_lane_at(g, i)->tail, memory_order_relaxed);
        struct rl_lane *il = rl_lane_at(&img, i);
        uint64_t t = atomic_load_explicit(&il->tail, memory_order_relaxed);
        uint64_t h = atomic_load_explicit(&il->head, memory_order_relaxed);
        if (live > t)
            t = live;
        if (h < t)
            h = t;
        atomic_store_explicit(&il->tail, t, memory_order_relaxed);
        atomic_store_explicit(&il->head, h, memory_order_relaxed);
    }
    atomic_store_explicit(&((struct rl_header *)(void *)dst)->consumer, 0, memory_order_relaxed);
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The trigger entries a snapshot covers, looked up in its images: the
 * first one's reason and time go into the file's header. */
struct trig_find {
    uint32_t after;      /* numbers up to this one were named by earlier files */
    uint32_t best, high; /* lowest and highest newer number found */
    int found;
    uint64_t ns;
    char reason[RINGLOG_REASON_MAX + 1];
};
/* Trigger numbers (remarks) come from trigger_seq in the order triggers
 * start, the count in the order they finish, so the two need not agree:
 * the file names the oldest trigger newer than any named before. */
static int trig_entry(void *arg, const struct ringlog_entry *e)
{
    struct trig_find *f = arg;
    if (e->type != RINGLOG_TYPE_TRIGGER || (int32_t)(e->remarks - f->after) <= 0)
        return 0;
    if (!f->found || (int32_t)(e->remarks - f->high) > 0)
        f->high = e->remarks;
    if (f->found && (int32_t)(e->remarks - f->best) >= 0)
        return 0;
    f->found = 1;
    f->best = e->remarks;
    f->ns = e->time_ns;
    size_t n = e->length < RINGLOG_REASON_MAX ? e->length : RINGLOG_REASON_MAX;
    memcpy(f->reason, e->data, n);
    f->reason[n] = 0;
    for (size_t i = 0; i < n; i++) /* a header field: printable text only */
        if ((unsigned char)f->reason[i] < 0x20 || f->reason[i] == 0x7f)
            f->reason[i] = '?';
    return 0;
}

static void find_trigger(unsigned char *image, size_t size, struct trig_find *f)
{
    ringlog_reader *r;
    if (rl_reader_open_memory(image, size, RINGLOG_READER_PEEK, &r) != 0)
        return;
    struct ringlog_handler h = {trig_entry, NULL, f};
    while (ringlog_read(r, &h, 0) > 0) {
    }
    ringlog_reader_close(r);
}

/* Copies an image, then lets writers evict (and the consumer claim) again:
 * a trigger froze them (DESIGN.md "Snapshots").  Only the recorder lifts,
 * and only a freeze whose every trigger is in the copy: none was in flight
 * (numbers taken == count finished) when the freeze was read, and no
 * trigger touched the word since (each changes it; the CAS fails). */
static void copy_and_thaw(struct rl_snap_job *j, unsigned char *dst)
{
    struct rl_header *hd = j->g.hdr;
    uint64_t frozen = atomic_load_explicit(&hd->freeze_until, memory_order_seq_cst);
    uint32_t started = atomic_load_explicit(&hd->trigger_seq, memory_order_seq_cst);
    uint32_t done = atomic_load_explicit(&hd->triggers, memory_order_seq_cst);
    copy_image(&j->g, dst);
    if (j->lift && j->g.map.writable && frozen && started == done)
        atomic_compare_exchange_strong_explicit(&hd->freeze_until, &frozen, 0,
                                                memory_order_seq_cst, memory_order_seq_cst);
}

static void snap_start(struct rl_snap_job *j)
{
    memset(j->buf, 0, RL_SNAP_HEADER_SIZE);
    j->nimg = 1;
    j->taken_ns = rl_plat_real_ns();
    /* Read before the copy: a trigger's count moves only after its entry is
     * in its lane, so every trigger counted here has its entry in the image
     * (unless its lane refused it). */
    j->covered = atomic_load_explicit(&j->g.hdr->triggers, memory_order_acquire);
    copy_and_thaw(j, j->buf + RL_SNAP_HEADER_SIZE);
}

int rl_snap_begin_at(struct rl_snap_job *j, const struct rl_region *g, unsigned char *buf,
                     size_t cap)
{
    memset(j, 0, sizeof *j);
    j->g = *g;
    j->borrowed = 1;
    j->lift = 1; /* only the recorder copies from a region it keeps mapped */
    j->isz = (size_t)g->fixed.region_size;
    if (cap < RL_SNAP_HEADER_SIZE + j->isz)
        return rl_fail(RINGLOG_EINVAL, "snapshot buffer of %zu bytes: too small", cap);
    j->buf = buf;
    j->cap = cap;
    snap_start(j);
    return 0;
}

int rl_snap_begin(struct rl_snap_job *j, const char *name)
{
    memset(j, 0, sizeof *j);
    struct ringlog_options o = {.flags = RINGLOG_OPEN_EXISTING};
    /* Writable when we may: to lift the freeze of a trigger after the copy. */
    int rc = rl_region_open(&j->g, name, &o, 1, 0);
    if (rc == RINGLOG_EACCES)
        rc = rl_region_open(&j->g, name, &o, 0, 0);
    if (rc)
        return rc;
    j->isz = (size_t)j->g.fixed.region_size;
    j->cap = RL_SNAP_HEADER_SIZE + j->isz;
    j->buf = aligned_alloc(64, j->cap);
    if (!j->buf) {
        rl_region_close(&j->g);
        return rl_fail(RINGLOG_ENOMEM, "no memory for a %zu-byte snapshot", j->isz);
    }
    snap_start(j);
    return 0;
}

int rl_snap_again(struct rl_snap_job *j)
{
    if (j->nimg == 1 && j->cap < RL_SNAP_HEADER_SIZE + 2 * j->isz) {
        if (j->borrowed)
            return rl_fail(RINGLOG_EINVAL, "snapshot buffer too small for a second image");
        unsigned char *b = aligned_alloc(64, RL_SNAP_HEADER_SIZE + 2 * j->isz);
        if (!b)
            return rl_fail(RINGLOG_ENOMEM, "no memory for a %zu-byte post-trigger image", j->isz);
        memcpy(b, j->buf, RL_SNAP_HEADER_SIZE + j->isz);
        free(j->buf);
        j->buf = b;
        j->cap = RL_SNAP_HEADER_SIZE + 2 * j->isz;
    }
    j->nimg = 2;
    j->post_ns = rl_plat_real_ns() - j->taken_ns;
    j->covered = atomic_load_explicit(&j->g.hdr->triggers, memory_order_acquire);
    copy_and_thaw(j, j->buf + RL_SNAP_HEADER_SIZE + j->isz);
    return 0;
}

void rl_snap_abort(struct rl_snap_job *j)
{
    if (!j->borrowed) {
        if (j->buf)
            rl_region_close(&j->g);
        free(j->buf);
    }
    j->buf = NULL;
}

/* A buffer of the caller's stays with the caller. */
static void drop_buf(int borrowed, unsigned char *buf)
{
    if (!borrowed)
        free(buf);
}

int rl_snap_finish(struct rl_snap_job *j, const char *path, const char *reason, uint32_t first,
                   uint32_t *named)
{
    unsigned char *buf = j->buf;
    size_t isz = j->isz;
    unsigned nimg = j->nimg;
    int borrowed = j->borrowed;
    struct rl_header_fixed fx = j->g.fixed;
    if (!borrowed)
        rl_region_close(&j->g);
    j->buf = NULL;

    struct rl_snap_header *sh = (struct rl_snap_header *)(void *)buf;
    memcpy(sh->magic, RL_SNAP_MAGIC, 8);
    sh->version = RL_SNAP_VERSION;
    sh->header_size = RL_SNAP_HEADER_SIZE;
    sh->image_size = isz;
    sh->nimages = nimg;
    sh->trigger = j->covered;
    sh->taken_ns = j->taken_ns;
    sh->post_ns = nimg > 1 ? j->post_ns : 0;
    if (first && first - 1 != j->covered) {
        /* Which triggers, and the first one's own reason and time. */
        struct trig_find f = {named ? *named : first - 1, 0, 0, 0, 0, {0}};
        for (unsigned i = 0; i < nimg; i++)
            find_trigger(buf + RL_SNAP_HEADER_SIZE + i * isz, isz, &f);
        if (named && f.found)
            *named = f.high;
        sh->first_trigger = first;
        sh->last_trigger = j->covered;
        sh->trigger_ns = f.ns;
        unsigned more = j->covered - first;
        char extra[64] = "";
        if (more)
            snprintf(extra, sizeof extra, " (and %u more trigger%s)", more, more > 1 ? "s" : "");
        if (f.found)
            snprintf(sh->reason, sizeof sh->reason, "trigger %u: %.*s%s", f.best,
                     (int)(sizeof sh->reason - 80), f.reason, extra);
        else
            snprintf(sh->reason, sizeof sh->reason, "trigger %u (its entry was not kept)%s",
                     first, extra);
    } else if (reason) {
        snprintf(sh->reason, sizeof sh->reason, "%s", reason);
    }
    for (unsigned i = 0; i < nimg; i++)
        sh->image_crc[i] = rl_crc32(buf + RL_SNAP_HEADER_SIZE + i * isz, isz);
    /* The piece table: a flipped bit later costs one lane, not the file. */
    uint32_t npieces = 3 + fx.nlanes;
    size_t tsize = (size_t)nimg * npieces * 4;
    uint32_t *table = malloc(tsize);
    if (!table) {
        drop_buf(borrowed, buf);
        return rl_fail(RINGLOG_ENOMEM, "no memory for the snapshot's checksum table");
    }
    for (unsigned i = 0; i < nimg; i++)
        for (uint32_t k = 0; k < npieces; k++) {
            uint64_t off = 0, len = 0;
            rl_snap_piece(&fx, isz, k, &off, &len);
            table[(size_t)i * npieces + k] =
                rl_crc32(buf + RL_SNAP_HEADER_SIZE + i * isz + off, (size_t)len);
        }
    sh->npieces = npieces;
    sh->table_offset = RL_SNAP_HEADER_SIZE + (uint64_t)nimg * isz;
    sh->table_crc = rl_crc32(table, tsize);
    sh->header_crc = 0;
    sh->header_crc = rl_crc32(buf, RL_SNAP_HEADER_SIZE);

    /* Temporary name, fsync, rename: a crash never leaves a half file under
     * the final name. */
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%u", path, rl_plat_pid()) >= sizeof tmp) {
        drop_buf(borrowed, buf);
        free(table);
        return rl_fail(RINGLOG_EINVAL, "%s: path too long", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        drop_buf(borrowed, buf);
        free(table);
        return rl_fail(e == EACCES ? RINGLOG_EACCES : RINGLOG_EIO, "%s: %s", tmp, strerror(e));
    }
    int bad = write_all(fd, buf, RL_SNAP_HEADER_SIZE + nimg * isz) ||
              write_all(fd, table, tsize) || fsync(fd) != 0;
    free(table);
    int e = errno;
    bad |= close(fd) != 0;
    drop_buf(borrowed, buf);
    if (bad || rename(tmp, path) != 0) {
        e = bad ? e : errno;
        unlink(tmp);
        return rl_fail(RINGLOG_EIO, "%s: cannot write snapshot: %s", path, strerror(e));
    }
    /* Make the rename itself durable. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int ringlog_snapshot(const char *name, const char *path, const char *reason, unsigned post_ms)
{
    if (!name || !path)
        return rl_fail(RINGLOG_EINVAL, "NULL name or path");
    struct rl_snap_job j;
    int rc = rl_snap_begin(&j, name);
    if (rc)
        return rc;
    if (post_ms) {
        rl_plat_sleep_ns((uint64_t)post_ms * 1000000u);
        if ((rc = rl_snap_again(&j)) != 0) {
            rl_snap_abort(&j);
            return rc;
        }
    }
    return rl_snap_finish(&j, path, reason, 0, NULL);
}
