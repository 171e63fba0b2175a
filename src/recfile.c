/*
 * Reading recording files (docs/FORMAT.md, "Recording files"), the reader
 * behind ringlog_reader_open(path) for what continuous recording wrote.
 *
 * Every byte of the file is untrusted.  Blocks are checked (header CRC,
 * bounds, payload CRC, exact decompressed size) before a record is looked
 * at; records are bounded by their block; a block that fails is skipped,
 * counted, and the indices it held come out as a gap.  A short block at the
 * end is a file still being written (or cut by a crash): reading stops
 * before it.  Opening scans the file once, so that the sites, the counters
 * and the damage are known before the first entry is read.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORED_MAX (RL_REC_RAW_MAX + RL_REC_RAW_MAX / 128 + 4096) /* zstd's bound, rounded up */
#define ITEMS_PER_READ 4096u /* one ringlog_read call delivers at most this many */
#define RESYNC_CHUNK 65536u

struct rl_rec_reader {
    int fd;
    char *path;
    struct rl_rec_header h;
    char name[257];
    /* Where reading is: the next block, and the records of the current. */
    uint64_t off;
    unsigned char *raw, *stored;
    size_t raw_cap, stored_cap, rlen, rpos;
    uint64_t expect;       /* the next index */
    uint64_t corrupt;      /* records skipped while reading (damaged blocks are `damaged`) */
    /* What the opening scan found. */
    struct rl_site_copy **sites;
    size_t nsites, capsites;
    struct ringlog_stats *lanes; /* per lane, then the total */
    uint64_t next_index, triggers;
    uint32_t damaged;
    char damage[400];
    struct ringlog_recording about;
    uint64_t cur_zstd; /* the block just loaded was compressed */
};

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int grow(unsigned char **p, size_t *cap, size_t want)
{
    if (want <= *cap)
        return 0;
    unsigned char *q = realloc(*p, want);
    if (!q)
        return -1;
    *p = q;
    *cap = want;
    return 0;
}

static int block_header_ok(const struct rl_rec_block *b)
{
    if (b->magic != RL_REC_BLOCK_MAGIC || b->hcrc != rl_crc32(b, offsetof(struct rl_rec_block, hcrc)))
        return 0;
    if (b->raw_len == 0 || b->raw_len > RL_REC_RAW_MAX || (b->flags & ~RL_REC_B_ZSTD))
        return 0;
    if (b->flags & RL_REC_B_ZSTD)
        return b->stored_len > 0 && b->stored_len <= STORED_MAX;
    return b->stored_len == b->raw_len;
}

/* The next offset after `off` where a block header checks out, or the end. */
static uint64_t resync(struct rl_rec_reader *rr, uint64_t off, uint64_t end)
{
    unsigned char buf[RESYNC_CHUNK + sizeof(struct rl_rec_block)];
    for (uint64_t at = off + 1; at + sizeof(struct rl_rec_block) <= end; at += RESYNC_CHUNK) {
        size_t n = end - at < sizeof buf ? (size_t)(end - at) : sizeof buf;
        if (read_at(rr->fd, buf, n, at))
            return end;
        for (size_t i = 0; i + sizeof(struct rl_rec_block) <= n && i < RESYNC_CHUNK; i++) {
            struct rl_rec_block b;
            memcpy(&b, buf + i, sizeof b);
            if (block_header_ok(&b))
                return at + i;
        }
    }
    return end;
}

static void note_damage(struct rl_rec_reader *rr, uint64_t off, const char *why)
{
    rr->damaged++;
    if (rr->damaged == 1)
        snprintf(rr->damage, sizeof rr->damage, "the block at byte %llu %s",
                 (unsigned long long)off, why);
    else
        snprintf(rr->damage, sizeof rr->damage, "%u blocks were left out (the first: at byte %llu)",
                 rr->damaged, (unsigned long long)off);
}

/* Loads the block at rr->off into rr->raw.  Returns 1 when a block was
 * loaded, 0 at the end (or before a block still being written), and moves
 * rr->off past what it used or skipped.  `scan`: count damage. */
static int load_block(struct rl_rec_reader *rr, int scan)
{
    for (int tries = 0; tries < 1000000; tries++) {
        struct stat st;
        if (fstat(rr->fd, &st) != 0)
            return 0;
        uint64_t end = (uint64_t)st.st_size, off = rr->off;
        struct rl_rec_block b;
        if (off + sizeof b > end || read_at(rr->fd, &b, sizeof b, off))
            return 0;
        if (!block_header_ok(&b)) {
            uint64_t next = resync(rr, off, end);
            if (next >= end && end - off < sizeof b + RL_REC_RAW_MAX && b.magic == RL_REC_BLOCK_MAGIC)
                return 0; /* most likely a block being written: wait for it */
            if (scan)
                note_damage(rr, off, "has a damaged header");
            rr->off = next;
            continue;
        }
        if (off + sizeof b + b.stored_len > end)
            return 0; /* not all written yet */
        if (grow(&rr->stored, &rr->stored_cap, b.stored_len) || grow(&rr->raw, &rr->raw_cap, b.raw_len))
            return rl_fail(RINGLOG_ENOMEM, "%s: no memory for a %u-byte block", rr->path, b.raw_len);
        rr->off = off + sizeof b + b.stored_len;
        const char *bad = NULL;
        int zr = 0;
        if (read_at(rr->fd, rr->stored, b.stored_len, off + sizeof b)) {
            bad = "cannot be read";
        } else if (rl_crc32(rr->stored, b.stored_len) != b.crc) {
            bad = "failed its checksum";
        } else if (b.flags & RL_REC_B_ZSTD) {
            size_t got = 0;
            zr = rl_zstd_decompress(rr->raw, b.raw_len, rr->stored, b.stored_len, &got);
            if (zr)
                bad = "could not be decompressed: ";
            else if (got != b.raw_len)
                bad = "decompressed to the wrong size";
        } else {
            memcpy(rr->raw, rr->stored, b.raw_len);
        }
        if (bad) {
            if (scan) {
                char why[200];
                snprintf(why, sizeof why, "%s%s", bad, zr ? ringlog_errmsg() : "");
                note_damage(rr, off, why);
            }
            continue;
        }
        rr->rlen = b.raw_len;
        rr->rpos = 0;
        rr->cur_zstd = (b.flags & RL_REC_B_ZSTD) != 0;
        return 1;
    }
    return 0;
}

/* The next record of the current block: kind, body and its length, or 0
 * when the block is done.  A record that does not fit ends the block. */
static int next_rec(struct rl_rec_reader *rr, const unsigned char **body, size_t *blen)
{
    if (rr->rpos + sizeof(struct rl_rec_rec) > rr->rlen)
        return 0;
    struct rl_rec_rec h;
    memcpy(&h, rr->raw + rr->rpos, sizeof h);
    if (h.len < sizeof h || (h.len & 7) || h.len > rr->rlen - rr->rpos || h.kind == 0) {
        rr->corrupt++;
        rr->rpos = rr->rlen;
        return 0;
    }
    *body = rr->raw + rr->rpos + sizeof h;
    *blen = h.len - sizeof h;
    rr->rpos += h.len;
    return h.kind;
}

static struct rl_site_copy **site_slot(struct rl_rec_reader *rr, uint32_t id)
{
    size_t i = (id * RL_HASH_MUL) & (rr->capsites - 1);
    while (rr->sites[i] && rr->sites[i]->id != id)
        i = (i + 1) & (rr->capsites - 1);
    return &rr->sites[i];
}

/* A SITE record, checked like a dictionary record (dict.c). */
static void add_site(struct rl_rec_reader *rr, const unsigned char *p, size_t n)
{
    struct rl_rec_site s;
    if (n < sizeof s)
        return;
    memcpy(&s, p, sizeof s);
    if (s.id == 0 || s.nargs > RINGLOG_MAX_ARGS || s.fmt_len > RL_DICT_FMT_MAX ||
        s.file_len > RL_DICT_FILE_MAX || s.func_len > RL_DICT_FUNC_MAX)
        return;
    size_t body = (size_t)s.nargs + s.fmt_len + 1 + s.file_len + 1 + s.func_len + 1;
    if (body > n - sizeof s)
        return;
    const unsigned char *b = p + sizeof s;
    if (!rl_site_types_ok(b, s.nargs))
        return;
    const char *fmt = (const char *)b + s.nargs, *file = fmt + s.fmt_len + 1,
               *func = file + s.file_len + 1;
    if (memchr(fmt, 0, s.fmt_len) || fmt[s.fmt_len] || memchr(file, 0, s.file_len) ||
        file[s.file_len] || memchr(func, 0, s.func_len) || func[s.func_len])
        return;
    if (2 * (rr->nsites + 1) > rr->capsites) {
        size_t cap = rr->capsites ? 2 * rr->capsites : 64;
        struct rl_site_copy **t = calloc(cap, sizeof *t), **old = rr->sites;
        if (!t)
            return;
        size_t oldcap = rr->capsites;
        rr->sites = t;
        rr->capsites = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i])
                *site_slot(rr, old[i]->id) = old[i];
        free(old);
    }
    struct rl_site_copy **slot = site_slot(rr, s.id);
    if (*slot)
        return; /* the first record of an id wins */
    struct rl_site_copy *c = malloc(sizeof *c + body);
    if (!c)
        return;
    unsigned char *q = (unsigned char *)(c + 1);
    memcpy(q, b, body);
    c->id = s.id;
    c->line = s.line;
    c->level = s.level;
    c->nargs = s.nargs;
    c->off = s.off & 1;
    memset(c->types, 0, sizeof c->types);
    memcpy(c->types, q, s.nargs);
    c->fmt = (const char *)q + s.nargs;
    c->file = c->fmt + s.fmt_len + 1;
    c->func = c->file + s.file_len + 1;
    *slot = c;
    rr->nsites++;
}

/* An ENTRY record: its payload within the record and the writer's cap,
 * its lane one of the region's, its fields as wide as a region's. */
static int get_entry(const unsigned char *p, size_t n, uint32_t nlanes, struct rl_rec_entry *e)
{
    if (n < sizeof *e)
        return -1;
    memcpy(e, p, sizeof *e);
    return e->length > n - sizeof *e || e->length > RL_REC_ENTRY_MAX || e->lane >= nlanes ||
                   e->level > 255 || e->type > 0xffff || e->flags > 0xff
               ? -1
               : 0;
}

/* Indices a file may hold: from its first_index, at most 2^48 of them, so
 * that nothing derived from them (gaps, counts) can wrap. */
#define INDEX_SPAN (UINT64_C(1) << 48)
static int span_ok(const struct rl_rec_reader *rr, uint64_t first, uint64_t count)
{
    uint64_t base = rr->h.first_index;
    return first >= base && first - base < INDEX_SPAN && count <= INDEX_SPAN - (first - base);
}

/* The opening scan: sites, counters, damage, where the indices end. */
static int scan(struct rl_rec_reader *rr)
{
    uint32_t nl = rr->h.nlanes;
    struct ringlog_stats *tot = &rr->lanes[nl];
    rr->next_index = rr->h.first_index;
    uint64_t expect = rr->h.first_index;
    int rc;
    while ((rc = load_block(rr, 1)) == 1) {
        rr->about.blocks++;
        rr->about.zstd_blocks += rr->cur_zstd;
        rr->about.raw_bytes += rr->rlen;
        const unsigned char *b;
        size_t n;
        int kind;
        while ((kind = next_rec(rr, &b, &n)) != 0) {
            if (kind == RL_REC_SITE) {
                add_site(rr, b, n);
            } else if (kind == RL_REC_ENTRY) {
                struct rl_rec_entry e;
                /* The rules rl_rec_read applies: what it drops is not
                 * counted either. */
                if (get_entry(b, n, nl, &e) || !span_ok(rr, e.index, 1) || e.index < expect)
                    continue;
                expect = e.index + 1;
                if (e.lane < nl) {
                    rr->lanes[e.lane].written++;
                    rr->lanes[e.lane].read++;
                }
                tot->written++;
                tot->read++;
                rr->triggers += e.type == RINGLOG_TYPE_TRIGGER;
                if (e.index >= rr->next_index)
                    rr->next_index = e.index + 1;
            } else if (kind == RL_REC_GAP && n >= sizeof(struct rl_rec_gap)) {
                struct rl_rec_gap g;
                memcpy(&g, b, sizeof g);
                if (g.count == 0 || !span_ok(rr, g.first_index, g.count) ||
                    g.first_index < expect || (g.lane >= nl && g.lane != RINGLOG_NO_LANE))
                    continue;
                expect = g.first_index + g.count;
                if (g.lane < nl) {
                    rr->lanes[g.lane].written += g.count;
                    rr->lanes[g.lane].lost += g.count;
                }
                tot->written += g.count;
                tot->lost += g.count;
                if (g.first_index + g.count > rr->next_index)
                    rr->next_index = g.first_index + g.count;
            } else if (kind == RL_REC_END && n >= sizeof(struct rl_rec_end)) {
                struct rl_rec_end e;
                memcpy(&e, b, sizeof e);
                if (e.next_index > rr->next_index && span_ok(rr, e.next_index, 0))
                    rr->next_index = e.next_index;
                struct ringlog_stats *t = &rr->about.region_total;
                rr->about.closed_ns = e.closed_ns;
                rr->about.closed_why = e.why;
                t->written = e.written;
                t->read = e.read;
                t->lost = e.lost;
                t->overwritten = e.overwritten;
                t->abandoned = e.abandoned;
                t->buffered = e.buffered;
            }
        }
    }
    if (rc < 0)
        return rc;
    /* Indices the file should hold but does not: damaged blocks. */
    uint64_t have = tot->written;
    uint64_t span = rr->next_index - rr->h.first_index;
    if (span > have) {
        tot->written += span - have;
        tot->lost += span - have;
    }
    rr->off = rr->h.header_size;
    rr->rlen = rr->rpos = 0;
    rr->corrupt = 0;
    rr->about.region = rr->name;
    rr->about.first_index = rr->h.first_index;
    rr->about.next_index = rr->next_index;
    rr->about.opened_ns = rr->h.opened_ns;
    rr->about.run_id = rr->h.run_id;
    rr->about.file_no = rr->h.file_no;
    return 0;
}

const struct ringlog_recording *rl_rec_about(const struct rl_rec_reader *rr)
{
    return &rr->about;
}

int rl_rec_open(const char *name, struct rl_rec_reader **out)
{
    *out = NULL;
    if (!name || !rl_plat_is_path(name))
        return RINGLOG_ENOENT;
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RINGLOG_ENOENT;
    struct rl_rec_header h;
    if (read_at(fd, &h, 8, 0) || memcmp(h.magic, RL_REC_MAGIC, 8) != 0) {
        close(fd);
        return RINGLOG_ENOENT;
    }
    int rc = 0;
    if (read_at(fd, &h, sizeof h, 0))
        rc = rl_fail(RINGLOG_EFORMAT, "%s: a recording file cut short in its header", name);
    else if (h.crc != rl_crc32(&h, offsetof(struct rl_rec_header, crc)))
        rc = rl_fail(RINGLOG_EFORMAT, "%s: the recording file's header failed its checksum", name);
    else if (h.version != RL_REC_VERSION)
        rc = rl_fail(RINGLOG_EVERSION,
                     "%s: recording file version %u; this ringlog reads version %u", name,
                     h.version, RL_REC_VERSION);
    else if (h.header_size != RL_REC_HEADER_SIZE || h.nlanes == 0 || h.nlanes > RL_MAX_LANES ||
             h.name_len > sizeof h.name || h.clock_hz == 0)
        rc = rl_fail(RINGLOG_EFORMAT, "%s: the recording file's header is inconsistent", name);
    if (rc) {
        close(fd);
        return rc;
    }
    struct rl_rec_reader *rr = calloc(1, sizeof *rr);
    if (!rr || !(rr->path = strdup(name)) ||
        !(rr->lanes = calloc((size_t)h.nlanes + 1, sizeof *rr->lanes))) {
        if (rr)
            free(rr->path);
        free(rr);
        close(fd);
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    }
    rr->fd = fd;
    rr->h = h;
    memcpy(rr->name, h.name, h.name_len);
    rr->name[h.name_len] = 0;
    rr->off = h.header_size;
    rr->expect = h.first_index;
    if ((rc = scan(rr)) != 0) {
        rl_rec_close(rr);
        return rc;
    }
    *out = rr;
    return 0;
}

void rl_rec_close(struct rl_rec_reader *rr)
{
    if (!rr)
        return;
    close(rr->fd);
    for (size_t i = 0; i < rr->capsites; i++)
        free(rr->sites[i]);
    free(rr->sites);
    free(rr->lanes);
    free(rr->raw);
    free(rr->stored);
    free(rr->path);
    free(rr);
}

static int deliver_gap(struct rl_rec_reader *rr, const struct ringlog_handler *h,
                       struct ringlog_gap *cur, struct ringlog_gap g, int *n)
{
    *cur = g;
    rr->expect = g.first_index + g.count;
    (*n)++;
    return h && h->gap ? h->gap(h->arg, g.first_index, g.count) : 0;
}

int rl_rec_read(struct rl_rec_reader *rr, const struct ringlog_handler *h, struct ringlog_gap *cur,
                int *n)
{
    while ((unsigned)*n < ITEMS_PER_READ) {
        const unsigned char *b;
        size_t len;
        int kind = next_rec(rr, &b, &len);
        if (!kind) {
            int rc = load_block(rr, 0);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                /* The end: indices the file accounts for (its END record,
                 * or records the opening scan saw) but no record delivered
                 * were in a damaged block. */
                if (rr->expect < rr->next_index) {
                    struct ringlog_gap lost = {rr->expect, rr->next_index - rr->expect,
                                               RINGLOG_NO_LANE, 0, 0};
                    if (deliver_gap(rr, h, cur, lost, n))
                        return 1;
                }
                return 0;
            }
            continue;
        }
        if (kind == RL_REC_SITE) {
            add_site(rr, b, len); /* a file that grew since it was opened */
            continue;
        }
        if (kind != RL_REC_ENTRY && kind != RL_REC_GAP)
            continue; /* END, or a kind from a later compatible version */
        uint64_t first;
        struct rl_rec_entry e;
        struct rl_rec_gap g;
        if (kind == RL_REC_ENTRY) {
            if (get_entry(b, len, rr->h.nlanes, &e)) {
                rr->corrupt++;
                continue;
            }
            first = e.index;
            if (!span_ok(rr, first, 1)) {
                rr->corrupt++;
                continue;
            }
        } else {
            if (len < sizeof g) {
                rr->corrupt++;
                continue;
            }
            memcpy(&g, b, sizeof g);
            first = g.first_index;
            if (g.count == 0 || !span_ok(rr, g.first_index, g.count) ||
                (g.lane >= rr->h.nlanes && g.lane != RINGLOG_NO_LANE)) {
                rr->corrupt++;
                continue;
            }
        }
        if (first < rr->expect) { /* going back: a damaged or forged record */
            rr->corrupt++;
            continue;
        }
        /* Indices skipped without a GAP record: a block that was lost. */
        if (first > rr->expect) {
            struct ringlog_gap lost = {rr->expect, first - rr->expect, RINGLOG_NO_LANE, 0, 0};
            if (deliver_gap(rr, h, cur, lost, n))
                return 1;
        }
        if (kind == RL_REC_GAP) {
            struct ringlog_gap gg = {g.first_index, g.count, g.lane, 0, g.first_seq};
            if (deliver_gap(rr, h, cur, gg, n))
                return 1;
            continue;
        }
        struct ringlog_entry en = {
            .index = e.index,
            .timestamp = e.timestamp,
            .time_ns = e.time_ns,
            .cpu = e.lane,
            .level = e.level,
            .type = e.type,
            .remarks = e.remarks,
            .flags = e.flags,
            .pid = e.pid,
            .length = e.length,
            .data = b + sizeof e,
            .lane = e.lane,
            .tid = e.tid,
            .seq = e.seq,
        };
        rr->expect = e.index + 1;
        (*n)++;
        if (h && h->entry && h->entry(h->arg, &en))
            return 1;
    }
    return 0;
}

const struct rl_site_copy *rl_rec_site(struct rl_rec_reader *rr, uint32_t id)
{
    return rr->capsites ? *site_slot(rr, id) : NULL;
}

int rl_rec_sites(struct rl_rec_reader *rr, int (*fn)(void *arg, const struct rl_site_copy *c),
                 void *arg)
{
    int count = 0;
    for (size_t i = 0; i < rr->capsites; i++)
        if (rr->sites[i]) {
            count++;
            if (fn(arg, rr->sites[i]))
                break;
        }
    return count;
}

int rl_rec_stats(struct rl_rec_reader *rr, struct ringlog_stats *total,
                 struct ringlog_stats *per_ring, unsigned max)
{
    uint32_t nl = rr->h.nlanes;
    if (total)
        *total = rr->lanes[nl];
    for (unsigned i = 0; per_ring && i < max && i < nl; i++)
        per_ring[i] = rr->lanes[i];
    return (int)nl;
}

void rl_rec_info(struct rl_rec_reader *rr, struct ringlog_info *info)
{
    memset(info, 0, sizeof *info);
    info->version = rr->h.region_version;
    info->nrings = rr->h.nlanes;
    info->ring_size = rr->h.lane_size;
    info->policy = (int)rr->h.policy;
    info->next_index = rr->next_index;
    info->created_ns = rr->h.created_ns;
    info->creator_pid = rr->h.creator_pid;
    info->clock = rr->h.clock == RL_CLOCK_TSC ? "tsc" : "monotonic";
    info->triggers = (uint32_t)rr->triggers;
    info->sites = (uint32_t)rr->nsites;
    info->read_corrupt = rr->corrupt;
    info->snapshot_damaged = rr->damaged;
    info->snapshot_damage = rr->damaged ? rr->damage : NULL;
}
