/*
 * The reader: copies (claiming, or peeking) what every lane published,
 * merges the lanes into one order by timestamp, and reports every call
 * that will never arrive as a gap with its exact count.  Every byte of the
 * region is untrusted here: positions are bounded by the lane, lengths by
 * the walker (rl_walk_next), loops by the lane size, and nothing read from
 * the region is ever used as a pointer.
 *
 * docs/DESIGN.md, "Reading", gives the protocol: two passes over the lane
 * heads per round (what is below the first pass's head is safe to deliver:
 * its causes are staged too), the merge that stops at the first unsafe
 * entry, and the hold that keeps a consuming reader a little behind the
 * clock so that writers between clock read and publish are not overtaken.
 */
#include "fmt.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IDLE_SLEEP_MIN_NS 50000u     /* 50 us */
#define IDLE_SLEEP_MAX_NS 10000000u  /* 10 ms */
#define ZERO_TIMEOUT_BUDGET_NS 100000000u /* timeout 0: at most 100 ms of claiming */
#define DEFAULT_HOLD_NS 100000u      /* 100 us */
#define INFLIGHT_MAX_NS 20000000u    /* a call in progress longer holds no one back */
#define CHUNK_BYTES (64u * 1024)     /* copied per lane and round: staging stays small and hot */

/* A staged record: where it was, its full sequence number, then the entry
 * header and payload as copied (padded to 8). */
struct staged {
    uint64_t pos;
    uint64_t seq;
    struct rl_entry_hdr h;
};

struct hkey {
    uint64_t ts;
    uint32_t lane;
};

struct lane_rs {
    uint64_t pos;      /* next position to copy */
    uint64_t next_seq; /* next sequence number to deliver */
    uint64_t pub_seq;  /* seq published, read in pass 1 */
    uint64_t safe;     /* h1: positions below are safe to deliver */
    uint64_t copied_to; /* where the last copy ended */
    uint64_t h2;       /* the head loaded when copying (pass 2) */
    uint64_t inflight; /* the lane's call in progress, read in pass 1 */
    uint32_t pid_owner, pid; /* the last writer id seen, and its pid */
    uint64_t checked_own; /* owner word last checked for a death (peek) */
    int known;         /* next_seq is meaningful */
    unsigned char *buf; /* staged records in [rd, len) */
    size_t rd, len, cap;
};

struct ringlog_reader {
    struct rl_region g;
    unsigned flags;
    uint32_t pid;
    int have_claim;
    int live;            /* a region mapped from its name (not a file image or bytes) */
    uint64_t hold_ticks, inflight_max;
    uint32_t nlanes;
    struct lane_rs *ls;
    struct hkey *heap; /* lanes with staged entries, by their front's (timestamp, lane) */
    size_t nheap;
    /* Clock to wall time without a division per entry: an exact anchor,
     * and a 32.32 fixed-point rate for ticks within 2^31 of it. */
    uint64_t anchor_ticks, anchor_ns, ns_per_tick32;
    int anchored;
    uint64_t ordinal;    /* next delivery index */
    uint64_t last_ts;    /* timestamp of the last entry delivered */
    uint64_t late, corrupt;
    uint64_t nolane_seen;
    int nolane_known;
    int dirty;           /* a round staged or delivered something */
    /* A consumer waiting out a snapshot's freeze: since when (monotonic
     * ns, 0: not waiting), and until when it no longer waits (a freeze
     * nobody lifted: a recorder stopped, or triggers faster than copies). */
    uint64_t freeze_t0, freeze_ignore_until;
    struct ringlog_gap cur_gap; /* the gap being delivered */
    /* Snapshot files: the file's bytes, and its post-trigger image. */
    unsigned char *snapfile;
    struct rl_region g2;
    int have_g2;
    const struct rl_snap_header *snap; /* in snapfile, checked by rl_snapshot_parse */
    struct rl_snap_damage snap_damage;  /* what a damaged snapshot could not give */
    char snap_reason[RINGLOG_REASON_MAX + 1];             /* its reason, NUL-terminated for sure */
    /* Call sites met so far: validated private copies, by id (open
     * addressing, at most half full).  Records never change once
     * published, so a copy stays right for the reader's lifetime. */
    struct rl_site_copy **sites;
    size_t nsites, capsites;
    /* A recording file (recfile.c): everything goes through it. */
    struct rl_rec_reader *rec;
};

static uint64_t ld(_Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static uint32_t entry_pid(const struct ringlog_reader *r, uint32_t owner)
{
    if (owner == 0 || owner >= RL_REGISTRY_COUNT)
        return 0;
    uint32_t pid = rl_reg_pid(atomic_load_explicit(&r->g.registry[owner].word, memory_order_relaxed));
    /* A snapshot's post-trigger image also holds producers that arrived
     * after the first image was taken. */
    if (!pid && r->have_g2)
        pid = rl_reg_pid(atomic_load_explicit(&r->g2.registry[owner].word, memory_order_relaxed));
    return pid;
}

/* A lane's entries mostly come from one writer: remember its pid. */
static uint32_t lane_pid(const struct ringlog_reader *r, struct lane_rs *s, uint32_t owner)
{
    if (owner != s->pid_owner || !s->pid) {
        s->pid_owner = owner;
        s->pid = entry_pid(r, owner);
    }
    return s->pid;
}

/* Counters and region facts: of a snapshot's last image, which accounts
 * for everything the file holds. */
static const struct rl_region *latest(const struct ringlog_reader *r)
{
    return r->have_g2 ? &r->g2 : &r->g;
}

/* --------------------------------------------------------- open / close */

/* The consumer claim word: pid << 32 | state, 1 claiming (start time not
 * yet stored: judged by pid alone), 2 held. */
static int claim_consumer(struct ringlog_reader *r)
{
    _Atomic uint64_t *c = &r->g.hdr->consumer;
    uint64_t claiming = (uint64_t)r->pid << 32 | 1;
    for (int tries = 0; tries < 4; tries++) {
        uint64_t cur = atomic_load_explicit(c, memory_order_acquire);
        if (cur != 0) {
            uint32_t holder = (uint32_t)(cur >> 32);
            /* The holder's start time guards against a reused pid. */
            uint64_t start = (cur & 0xff) == 2 ? atomic_load_explicit(&r->g.hdr->consumer_start,
                                                                      memory_order_relaxed)
                                               : 0;
            if (atomic_load_explicit(c, memory_order_acquire) == cur &&
                rl_plat_proc_alive(holder, start))
                return rl_fail(RINGLOG_EBUSY, "process %u is already consuming this region",
                               holder);
        }
        if (atomic_compare_exchange_strong_explicit(c, &cur, claiming, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            atomic_store_explicit(&r->g.hdr->consumer_start, rl_plat_proc_start(r->pid),
                                  memory_order_relaxed);
            /* Release: the start time is there for whoever sees state 2. */
            atomic_store_explicit(c, (uint64_t)r->pid << 32 | 2, memory_order_release);
            return 0;
        }
    }
    return rl_fail(RINGLOG_EBUSY, "could not take the consumer claim");
}

/* If `name` is a path to a snapshot file, read and check it whole
 * (snapfile.c).  Returns RINGLOG_ENOENT (quietly) when it is not one. */
static int open_snapshot(struct ringlog_reader *r, const char *name)
{
    struct rl_region img[2];
    unsigned nimg = 0;
    const struct rl_snap_header *sh = NULL;
    unsigned char *buf = NULL;
    int rc = rl_snapshot_load(name, &buf, img, &nimg, &sh, &r->snap_damage);
    if (rc)
        return rc;
    r->snapfile = buf;
    r->g = img[0];
    if (nimg > 1) {
        r->g2 = img[1];
        r->have_g2 = 1;
    }
    r->snap = sh;
    memcpy(r->snap_reason, sh->reason, RINGLOG_REASON_MAX);
    r->snap_reason[RINGLOG_REASON_MAX] = 0;
    return 0;
}

static int init_lanes(struct ringlog_reader *r)
{
    r->nlanes = r->g.nlanes;
    r->ls = calloc(r->nlanes, sizeof *r->ls);
    r->heap = calloc(r->nlanes, sizeof *r->heap);
    r->hold_ticks = rl_ms_ticks(&r->g, 1000) / (1000000000u / DEFAULT_HOLD_NS);
    r->inflight_max = rl_ms_ticks(&r->g, 1000) / (1000000000u / INFLIGHT_MAX_NS);
    if (!r->ls || !r->heap)
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    /* A consumer starts at each lane's tail; what was lost before it came
     * is in the statistics, not its gaps. */
    for (uint32_t i = 0; i < r->nlanes; i++) {
        struct rl_lane *l = rl_lane_at(&r->g, i);
        r->ls[i].pos = atomic_load_explicit(&l->tail, memory_order_acquire);
    }
    return 0;
}

int ringlog_reader_open(const char *name, unsigned flags, ringlog_reader **out)
{
    if (!out)
        return rl_fail(RINGLOG_EINVAL, "out is NULL");
    *out = NULL;
    if (flags & ~RINGLOG_READER_PEEK)
        return rl_fail(RINGLOG_EINVAL, "unknown reader flags 0x%x", flags);
    struct ringlog_reader *r = calloc(1, sizeof *r);
    if (!r)
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    r->flags = flags;
    r->pid = rl_plat_pid();
    struct ringlog_options o = {.flags = RINGLOG_OPEN_EXISTING};
    int rc = open_snapshot(r, name);
    if (rc == RINGLOG_ENOENT) {
        rc = rl_rec_open(name, &r->rec);
        if (rc == 0) {
            r->flags = RINGLOG_READER_PEEK;
            *out = r;
            return 0;
        }
    }
    if (rc == 0) {
        r->flags = flags = RINGLOG_READER_PEEK; /* a file on disk: nothing to consume */
    } else if (rc != RINGLOG_ENOENT) {
        free(r);
        return rc;
    } else {
        rc = rl_region_open(&r->g, name, &o, !(flags & RINGLOG_READER_PEEK), 0);
        if (rc) {
            free(r);
            return rc;
        }
        r->live = 1;
    }
    if ((rc = init_lanes(r)) != 0) {
        ringlog_reader_close(r);
        return rc;
    }
    if (!(flags & RINGLOG_READER_PEEK)) {
        rc = claim_consumer(r);
        if (rc) {
            ringlog_reader_close(r);
            return rc;
        }
        r->have_claim = 1;
        /* The consumer's tail positions, after the claim. */
        for (uint32_t i = 0; i < r->nlanes; i++)
            r->ls[i].pos = atomic_load_explicit(&rl_lane_at(&r->g, i)->tail, memory_order_acquire);
        r->nolane_seen = ld(&r->g.hdr->nolane);
        r->nolane_known = 1;
        /* Calls made from now on are ours to account for: each lane's
         * losses are gaps from here (entries still held from before come
         * first, without gaps between them). */
        for (uint32_t i = 0; i < r->nlanes; i++) {
            r->ls[i].next_seq = atomic_load_explicit(&rl_lane_at(&r->g, i)->seq,
                                                     memory_order_acquire);
            r->ls[i].known = 1;
        }
    }
    *out = r;
    return 0;
}

/* A reader over bytes already in memory (fuzzing, snapshot files): the
 * bytes are validated like a mapped region; the caller keeps them alive. */
int rl_reader_open_memory(void *base, size_t size, unsigned flags, ringlog_reader **out)
{
    *out = NULL;
    struct ringlog_reader *r = calloc(1, sizeof *r);
    if (!r)
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    r->flags = flags | RINGLOG_READER_PEEK;
    r->pid = rl_plat_pid();
    int rc = rl_region_validate(&r->g, base, size);
    if (rc == 0)
        rc = init_lanes(r);
    if (rc) {
        free(r->ls);
        free(r->heap);
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void ringlog_reader_close(ringlog_reader *r)
{
    if (!r)
        return;
    if (r->have_claim) {
        uint64_t mine = (uint64_t)r->pid << 32 | 2;
        atomic_compare_exchange_strong_explicit(&r->g.hdr->consumer, &mine, 0,
                                                memory_order_release, memory_order_relaxed);
    }
    for (uint32_t i = 0; r->ls && i < r->nlanes; i++)
        free(r->ls[i].buf);
    free(r->ls);
    free(r->heap);
    rl_rec_close(r->rec);
    rl_region_close(&r->g);
    free(r->snapfile);
    for (size_t i = 0; i < r->capsites; i++)
        free(r->sites[i]);
    free(r->sites);
    free(r);
}

void ringlog_reader_set_abandon_ms(ringlog_reader *r, unsigned ms)
{
    /* Layout 4 has no shared reservations for a reader to take back: a
     * dead writer's lane is reclaimed by the next writer that needs one. */
    (void)r;
    (void)ms;
}

void ringlog_reader_set_lag(ringlog_reader *r, size_t lag_bytes, unsigned flush_ms)
{
    (void)lag_bytes;
    if (r)
        r->hold_ticks = rl_ms_ticks(&r->g, flush_ms);
}

/* ------------------------------------------------------------- staging */

static struct staged *stage_at(struct lane_rs *s, size_t off)
{
    return (struct staged *)(void *)(s->buf + off);
}
static size_t staged_size(const struct staged *st)
{
    return sizeof *st + ((st->h.length + 7u) & ~(size_t)7u);
}

static int stage_reserve(struct lane_rs *s, size_t more)
{
    if (s->rd && (s->rd > s->len / 2 || s->len + more > s->cap)) {
        memmove(s->buf, s->buf + s->rd, s->len - s->rd);
        s->len -= s->rd;
        s->rd = 0;
    }
    if (s->len + more <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + more)
        cap *= 2;
    unsigned char *b = realloc(s->buf, cap);
    if (!b)
        return RINGLOG_ENOMEM;
    s->buf = b;
    s->cap = cap;
    return 0;
}

/* Copies the entries of [from, to) into the lane's staging buffer; *end
 * is where the walk stopped: an entry boundary, beyond `to` when a pad or a
 * sub-buffer's tail runs past it, never beyond `head`. */
static int copy_lane(struct ringlog_reader *r, const struct rl_region *g, uint32_t i,
                     uint64_t from, uint64_t to, uint64_t head, uint64_t *end, uint64_t *count)
{
    struct lane_rs *s = &r->ls[i];
    struct rl_lane *l = rl_lane_at(g, i);
    struct rl_walk w;
    rl_walk_init(&w, g, l, from, to);
    uint64_t pos, len;
    int k;
    uint64_t ref = s->known ? s->next_seq : s->pub_seq, n = 0;
    while ((k = rl_walk_next(&w, &pos, &len)) != RL_WALK_END) {
        if (k == RL_WALK_CORRUPT)
            r->corrupt++;
        if (k != RL_WALK_ENTRY)
            continue;
        struct staged *st = stage_at(s, s->len);
        _Atomic uint64_t *src = rl_lane_word(g, l, pos);
        uint64_t *dst = (uint64_t *)(void *)&st->h;
        /* The header's four words, then the payload's (the lane is
         * contiguous within a sub-buffer, which the entry never leaves). */
        dst[0] = atomic_load_explicit(&src[0], memory_order_relaxed);
        dst[1] = atomic_load_explicit(&src[1], memory_order_relaxed);
        dst[2] = atomic_load_explicit(&src[2], memory_order_relaxed);
        dst[3] = atomic_load_explicit(&src[3], memory_order_relaxed);
        size_t pw = (size_t)((len + 7) >> 3);
        for (size_t j = 0; j < pw; j++)
            dst[4 + j] = atomic_load_explicit(&src[4 + j], memory_order_relaxed);
        /* Trust the length the walker bounded, not a newer one copied. */
        st->h.length = (uint32_t)len;
        st->pos = pos;
        st->seq = rl_seq_extend(st->h.seqown & RL_SEQ_MASK, ref);
        ref = st->seq + 1;
        s->len += sizeof *st + pw * 8;
        n++;
    }
    *end = w.pos < head ? w.pos : head;
    *count = n;
    return 0;
}

#define FREEZE_IGNORE_NS 1000000000ull /* after a freeze nobody lifted in time */

/* Must a consumer leave this lane's entries for a snapshot being copied?
 * A trigger freezes before it publishes its entry, and the caller loaded
 * the lane's head with acquire: if what it would copy holds the entry, the
 * freeze is visible here (DESIGN.md, "The consumer and the freeze").  A
 * wait lasts at most RL_FREEZE_MS; one that long (nobody lifted it) makes
 * the consumer ignore freezes for a second, so that a recorder that stopped
 * copying, or a storm of triggers, slows it but never stops it. */
static int frozen_for_consumer(struct ringlog_reader *r, const struct rl_region *g)
{
    uint64_t until = atomic_load_explicit(&g->hdr->freeze_until, memory_order_relaxed);
    if (!until || (int64_t)(until - rl_ticks(g->clock)) <= 0) {
        r->freeze_t0 = 0;
        return 0;
    }
    uint64_t now = rl_plat_mono_ns();
    if (now < r->freeze_ignore_until)
        return 0;
    if (!r->freeze_t0) {
        r->freeze_t0 = now;
        return 1;
    }
    if (now - r->freeze_t0 > (uint64_t)RL_FREEZE_MS * 1000000u) {
        r->freeze_ignore_until = now + FREEZE_IGNORE_NS;
        r->freeze_t0 = 0;
        return 0;
    }
    return 1;
}

/* Pass 2 for one lane: copy what is new, then prove it intact (claim the
 * space, or see that the tail did not pass it). */
static int take_lane(struct ringlog_reader *r, const struct rl_region *g, uint32_t i,
                     int consume)
{
    struct lane_rs *s = &r->ls[i];
    struct rl_lane *l = rl_lane_at(g, i);
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
    uint64_t h = atomic_load_explicit(&l->head, memory_order_acquire);
    /* Pass 2's head: a lane that holds more than we copied stops the
     * merge when its staged entries run out (merge, INV-R1). */
    s->h2 = h;
    if (h < t || h - t > g->size) {
        r->corrupt++;
        s->h2 = s->copied_to; /* nothing here is provable: it blocks no one */
        return 0;
    }
    if (s->len - s->rd >= CHUNK_BYTES && !r->snapfile)
        return 0; /* enough staged: take more when the merge has used it */
    if (t > s->pos)
        s->pos = t; /* evicted before we came to it: the writer counted it */
    if (h <= s->pos) {
        s->copied_to = s->pos;
        return 0;
    }
    /* Copy nothing while a snapshot is being taken: the lane then blocks
     * the merge like any lane copied short (INV-R1). */
    if (consume && frozen_for_consumer(r, g)) {
        s->copied_to = s->pos;
        return 0;
    }
    uint64_t head = h;
    for (int tries = 0; tries < 64; tries++) {
        /* A chunk at a time: the rest comes next round (merge() stops at a
         * lane whose copy was cut short). */
        uint64_t chunk = g->sub > CHUNK_BYTES ? g->sub : CHUNK_BYTES; /* an entry fits */
        if (r->snapfile)
            chunk = g->size; /* a file: each image whole, the first before the second */
        uint64_t want = head - s->pos > chunk ? s->pos + chunk : head;
        /* Room first: compaction moves the staged records. */
        int rc = stage_reserve(s, (size_t)(want - s->pos) +
                                      sizeof(struct staged) * ((want - s->pos) / RL_EHDR + 1));
        if (rc)
            return rc;
        size_t mark = s->len;
        uint64_t copied = 0;
        rc = copy_lane(r, g, i, s->pos, want, head, &h, &copied);
        if (h == s->pos) {
            /* Not one whole entry below `want`, though a chunk holds the
             * largest: a length that claims more than the head holds.
             * Skip what is left (counted). */
            r->corrupt++;
            h = head;
        }
        if (rc)
            return rc;
        uint64_t nt;
        if (consume) {
            /* Claim: moving the tail over the copies proves the writer did
             * not evict them meanwhile (it evicts by moving the tail first). */
            nt = s->pos;
            if (atomic_compare_exchange_strong_explicit(&l->tail, &nt, h, memory_order_acq_rel,
                                                        memory_order_acquire)) {
                if (copied)
                    atomic_fetch_add_explicit(&l->read, copied, memory_order_relaxed);
                s->pos = h;
                s->copied_to = h;
                r->dirty = 1;
                return 0;
            }
        } else {
            /* Pairs with the writer's release fence after its eviction: if
             * the copy holds any byte written after it, this load shows the
             * tail it moved. */
            atomic_thread_fence(memory_order_acquire);
            nt = atomic_load_explicit(&l->tail, memory_order_relaxed);
            if (nt <= s->pos) {
                s->pos = h;
                s->copied_to = h;
                if (s->len != mark || h < head)
                    r->dirty = 1;
                return 0;
            }
        }
        /* Evicted under us: copy again from the new tail (the writer
         * counted what it evicted as overwritten). */
        s->len = mark;
        s->pos = nt;
        if (nt >= head) {
            s->copied_to = nt;
            return 0;
        }
    }
    return 0;
}

/* -------------------------------------------------------------- merging */

static const struct staged *front(const struct ringlog_reader *r, uint32_t i)
{
    const struct lane_rs *s = &r->ls[i];
    return s->rd < s->len ? (const struct staged *)(const void *)(s->buf + s->rd) : NULL;
}

static int before(struct hkey a, struct hkey b)
{
    if (a.ts != b.ts)
        return (int64_t)(a.ts - b.ts) < 0;
    return a.lane < b.lane;
}

static struct hkey key_of(const struct ringlog_reader *r, uint32_t i)
{
    struct hkey k = {front(r, i)->h.timestamp, i};
    return k;
}

static void heap_up(struct ringlog_reader *r, size_t i)
{
    struct hkey v = r->heap[i];
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(v, r->heap[up]))
            break;
        r->heap[i] = r->heap[up];
        i = up;
    }
    r->heap[i] = v;
}

static void heap_down(struct ringlog_reader *r, size_t i)
{
    struct hkey v = r->heap[i];
    size_t n = r->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(r->heap[c + 1], r->heap[c]))
            c++;
        if (!before(r->heap[c], v))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    r->heap[i] = v;
}

/* Wall-clock ns of a timestamp: exact at the anchor (one division), and
 * within half a nanosecond for ticks less than 2^31 away from it. */
static uint64_t wall_ns(struct ringlog_reader *r, uint64_t ticks)
{
    int64_t d = (int64_t)(ticks - r->anchor_ticks);
    if (!r->anchored || d < -(INT64_C(1) << 31) || d > (INT64_C(1) << 31)) {
        const struct rl_header_fixed *f = &r->g.fixed;
        uint64_t hz = f->clock_hz ? f->clock_hz : 1000000000u;
        r->anchor_ticks = ticks;
        r->anchor_ns = rl_ticks_to_real_ns(&r->g, ticks);
        r->ns_per_tick32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
        r->anchored = 1;
        return r->anchor_ns;
    }
    return r->anchor_ns + (uint64_t)(((__int128)d * (__int128)r->ns_per_tick32) >> 32);
}

static int emit_gap(struct ringlog_reader *r, const struct ringlog_handler *h, uint32_t lane,
                    uint64_t first_seq, uint64_t count, int *n)
{
    uint64_t first = r->ordinal;
    r->ordinal += count;
    (*n)++;
    struct ringlog_gap gp = {first, count, lane, 0, first_seq};
    r->cur_gap = gp;
    return h && h->gap ? h->gap(h->arg, first, count) : 0;
}

static int deliver_one(struct ringlog_reader *r, const struct ringlog_handler *h, uint32_t i,
                       int *n)
{
    struct lane_rs *s = &r->ls[i];
    const struct staged *st = front(r, i);
    if (!s->known) {
        s->next_seq = st->seq;
        s->known = 1;
    }
    if ((int64_t)(st->seq - s->next_seq) > 0 &&
        emit_gap(r, h, i, s->next_seq, st->seq - s->next_seq, n))
        return 1;
    if ((int64_t)(st->seq - s->next_seq) >= 0)
        s->next_seq = st->seq + 1;
    struct ringlog_entry e = {
        .index = r->ordinal++,
        .timestamp = st->h.timestamp,
        .time_ns = wall_ns(r, st->h.timestamp),
        .cpu = i,
        .level = st->h.level,
        .type = st->h.type,
        .remarks = st->h.remarks,
        .flags = st->h.flags,
        .pid = lane_pid(r, s, (uint32_t)(st->h.seqown >> RL_SEQ_BITS)),
        .length = st->h.length,
        .data = (const unsigned char *)(st + 1),
        .lane = i,
        .tid = st->h.tid,
        .seq = st->seq,
    };
    if ((int64_t)(e.timestamp - r->last_ts) < 0 && r->ordinal > 1) {
        e.flags |= RINGLOG_FLAG_LATE;
        r->late++;
    } else {
        r->last_ts = e.timestamp;
    }
    s->rd += staged_size(st);
    if (s->rd == s->len)
        s->rd = s->len = 0;
    (*n)++;
    return h && h->entry ? h->entry(h->arg, &e) : 0;
}

/* Delivers, in merged order, everything safe and at or below `cut`.
 * Returns 1 when the callback asked to stop. */
static int merge(struct ringlog_reader *r, const struct ringlog_handler *h, uint64_t cut, int all,
                 int *n)
{
    r->nheap = 0;
    for (uint32_t i = 0; i < r->nlanes; i++) {
        if (front(r, i)) {
            r->heap[r->nheap++] = key_of(r, i);
            heap_up(r, r->nheap - 1);
        } else if (!all && r->ls[i].copied_to < r->ls[i].h2) {
            /* A lane that holds entries but staged none this round (its
             * copy stopped at a pad before an entry too long for what was
             * left of the chunk): its next entry may come before anything
             * staged, even be the cause of one (INV-R1).  It is not in the
             * heap, so the dry-lane stop below never sees it: wait for the
             * next round, whose copy starts at that entry. */
            return 0;
        }
    }
    while (r->nheap) {
        uint32_t i = r->heap[0].lane;
        /* The next lane in order: until this lane's front passes it, its
         * entries come one after the other without touching the heap. */
        struct hkey next = {UINT64_MAX, UINT32_MAX};
        if (r->nheap > 1)
            next = r->nheap > 2 && before(r->heap[2], r->heap[1]) ? r->heap[2] : r->heap[1];
        for (;;) {
            const struct staged *st = front(r, i);
            /* The first entry in order that may still have an unseen cause,
             * or is too recent: everything after it waits too. */
            if (!all && (st->pos >= r->ls[i].safe || (int64_t)(st->h.timestamp - cut) > 0))
                return 0;
            if (deliver_one(r, h, i, n))
                return 1;
            if (!front(r, i)) {
                /* Dry, but the lane held more than we copied this round
                 * (cut short, or skipped): its next entry may come before
                 * anything else staged, even be the cause of one (INV-R1). */
                if (r->ls[i].copied_to < r->ls[i].h2)
                    return 0;
                r->heap[0] = r->heap[--r->nheap];
                if (r->nheap)
                    heap_down(r, 0);
                break;
            }
            struct hkey k = key_of(r, i);
            if (r->nheap > 1 && !before(k, next)) {
                r->heap[0] = k;
                heap_down(r, 0);
                break;
            }
        }
    }
    return 0;
}

/* Calls that will never come and have no entry after them in their lane:
 * each lane's published seq says how many calls were made. */
/* A peeking reader cannot wait for a writer to reclaim the lane of one
 * that died in the middle of a call (and after a crash nobody may): when
 * the holder's process is gone and the header at the head names the next
 * number, that call will never come; report it.  Checked once per owner
 * word (a liveness check reads /proc). */
static int dead_holder_call(struct ringlog_reader *r, uint32_t i)
{
    struct lane_rs *s = &r->ls[i];
    const struct rl_region *g = &r->g;
    struct rl_lane *l = rl_lane_at(g, i);
    uint64_t own = ld(&l->owner);
    if (own == s->checked_own || rl_own_state(own) == RL_LANE_FREE)
        return 0;
    s->checked_own = own;
    uint32_t reg = rl_own_reg(own);
    if (reg == 0 || reg >= RL_REGISTRY_COUNT)
        return 0;
    uint64_t w = atomic_load_explicit(&g->registry[reg].word, memory_order_acquire);
    int dead = rl_reg_state(w) == RL_REG_DEAD ||
               (rl_reg_state(w) == RL_REG_LIVE &&
                !rl_plat_proc_alive(rl_reg_pid(w), g->registry[reg].start_time));
    if (!dead)
        return 0;
    uint64_t hd = ld(&l->head);
    if ((hd & (g->sub - 1)) + RL_EHDR > g->sub)
        return 0;
    uint64_t so = ld(rl_lane_word(g, l, hd + 8));
    return (so & RL_SEQ_MASK) == (s->pub_seq & RL_SEQ_MASK) && (uint32_t)(so >> RL_SEQ_BITS) == reg;
}

static int trailing_gaps(struct ringlog_reader *r, const struct ringlog_handler *h, int *n)
{
    for (uint32_t i = 0; i < r->nlanes; i++) {
        struct lane_rs *s = &r->ls[i];
        if (front(r, i) || s->copied_to < s->safe)
            continue;
        if (!s->known) {
            s->next_seq = s->pub_seq;
            s->known = 1;
            continue;
        }
        if ((int64_t)(s->pub_seq - s->next_seq) > 0) {
            uint64_t first = s->next_seq;
            s->next_seq = s->pub_seq;
            if (emit_gap(r, h, i, first, s->pub_seq - first, n))
                return 1;
        }
        if ((r->flags & RINGLOG_READER_PEEK) && r->live && s->next_seq == s->pub_seq &&
            dead_holder_call(r, i)) {
            s->next_seq = s->pub_seq + 1;
            if (emit_gap(r, h, i, s->pub_seq, 1, n))
                return 1;
        }
    }
    uint64_t nl = ld(&latest(r)->hdr->nolane);
    if (!r->nolane_known) {
        r->nolane_seen = nl;
        r->nolane_known = 1;
    } else if (nl > r->nolane_seen) {
        uint64_t c = nl - r->nolane_seen;
        r->nolane_seen = nl;
        if (emit_gap(r, h, UINT32_MAX, 0, c, n))
            return 1;
    }
    return 0;
}

/* Pass 1 over region g: what each lane has published. */
static void pass1(struct ringlog_reader *r, const struct rl_region *g)
{
    for (uint32_t i = 0; i < r->nlanes; i++) {
        struct rl_lane *l = rl_lane_at(g, i);
        /* seq before head: every call counted in seq has its entry below
         * the head we load next (the writer stores head, then seq). */
        r->ls[i].pub_seq = atomic_load_explicit(&l->seq, memory_order_acquire);
        r->ls[i].safe = atomic_load_explicit(&l->head, memory_order_acquire);
        r->ls[i].inflight = ld(&l->inflight);
    }
}

static int round_of(struct ringlog_reader *r, const struct ringlog_handler *h, int *n)
{
    int consume = !(r->flags & RINGLOG_READER_PEEK);
    r->dirty = 0;
    uint64_t now = rl_ticks(r->g.clock);
    if (!r->snapfile) {
        pass1(r, &r->g);
        for (uint32_t i = 0; i < r->nlanes; i++) {
            int rc = take_lane(r, &r->g, i, consume);
            if (rc)
                return rc;
        }
    } else {
        /* A snapshot: its images in order, the second continuing each
         * lane where the first ended. */
        const struct rl_region *img[2] = {&r->g, &r->g2};
        for (unsigned k = 0; k < (r->have_g2 ? 2u : 1u); k++) {
            pass1(r, img[k]);
            for (uint32_t i = 0; i < r->nlanes; i++) {
                int rc = take_lane(r, img[k], i, 0);
                if (rc)
                    return rc;
            }
        }
    }
    uint64_t cut = UINT64_MAX;
    if (consume) {
        /* Behind the clock by the hold, and behind every call in progress
         * that has not been held up for long (INV-R2). */
        cut = now - r->hold_ticks;
        uint64_t oldest = now - r->inflight_max;
        for (uint32_t i = 0; i < r->nlanes; i++) {
            uint64_t f = r->ls[i].inflight;
            if (f && (int64_t)(f - oldest) > 0 && (int64_t)(f - cut) <= 0)
                cut = f - 1;
        }
    }
    int stop = merge(r, h, cut, !consume, n);
    if (!stop)
        stop = trailing_gaps(r, h, n);
    return stop;
}

/* Entries staged but held back by the cut. */
static int held(const struct ringlog_reader *r)
{
    for (uint32_t i = 0; i < r->nlanes; i++)
        if (front(r, i))
            return 1;
    return 0;
}

int ringlog_read(ringlog_reader *r, const struct ringlog_handler *h, int timeout_ms)
{
    if (!r)
        return rl_fail(RINGLOG_EINVAL, "reader is NULL");
    if (r->rec) {
        /* A file: what is written is ready; nothing to wait for. */
        int n = 0, rc = rl_rec_read(r->rec, h, &r->cur_gap, &n);
        return rc < 0 ? rc : n;
    }
    uint64_t start = rl_plat_mono_ns();
    uint64_t sleep_ns = IDLE_SLEEP_MIN_NS;
    /* How long held-back entries may keep a timeout-0 read waiting (a
     * call in progress holds the cut for at most this long), and how long
     * to nap while they wait: the hold, not less (a reader polling right
     * behind the writers takes the lines they are writing). */
    const uint64_t held_max_ns = INFLIGHT_MAX_NS;
    uint64_t hold_ns = r->hold_ticks * 1000000000u /
                       (r->g.fixed.clock_hz ? r->g.fixed.clock_hz : 1000000000u);
    if (hold_ns < IDLE_SLEEP_MIN_NS)
        hold_ns = IDLE_SLEEP_MIN_NS;
    for (;;) {
        int n = 0;
        int rc = round_of(r, h, &n);
        if (rc < 0)
            return rc;
        if (n > 0 || rc > 0)
            return n;
        uint64_t now = rl_plat_mono_ns();
        int waiting = held(r);
        uint64_t budget = timeout_ms > 0 ? (uint64_t)timeout_ms * 1000000u : ZERO_TIMEOUT_BUDGET_NS;
        /* Claimed and nothing held back: more may be ready at once. */
        if (r->dirty && !waiting && (timeout_ms < 0 || now - start < budget))
            continue;
        /* Entries held back by the hold come within it, even for timeout 0. */
        if (timeout_ms == 0 && !(waiting && now - start < held_max_ns))
            return n;
        if (timeout_ms > 0 && now - start >= (uint64_t)timeout_ms * 1000000u)
            return 0;
        /* Idle: producers never wake us (that would be a system call on
         * their path), so back off from 50 us to 10 ms. */
        uint64_t left = timeout_ms > 0 ? (uint64_t)timeout_ms * 1000000u - (now - start) : sleep_ns;
        uint64_t nap = sleep_ns < left ? sleep_ns : left;
        if (waiting)
            nap = hold_ns < left ? hold_ns : left;
        rl_plat_sleep_ns(nap);
        if (!waiting && (sleep_ns *= 2) > IDLE_SLEEP_MAX_NS)
            sleep_ns = IDLE_SLEEP_MAX_NS;
    }
}

int ringlog_gap_info(ringlog_reader *r, struct ringlog_gap *out)
{
    if (!r || !out)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    *out = r->cur_gap;
    return 0;
}

int ringlog_reader_stats(ringlog_reader *r, struct ringlog_stats *total,
                         struct ringlog_stats *per_ring, unsigned max)
{
    if (!r)
        return rl_fail(RINGLOG_EINVAL, "reader is NULL");
    if (r->rec)
        return rl_rec_stats(r->rec, total, per_ring, max);
    return rl_stats(latest(r), total, per_ring, max);
}

int ringlog_reader_info(ringlog_reader *r, struct ringlog_info *info)
{
    if (!r || !info)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    if (r->rec) {
        rl_rec_info(r->rec, info);
        return 0;
    }
    const struct rl_header_fixed *hd = &r->g.fixed;
    info->version = hd->version;
    info->nrings = hd->nlanes;
    info->ring_size = hd->lane_size;
    info->policy = (int)hd->policy;
    /* Calls made so far: every lane's sequence plus the lane-less. */
    uint64_t calls = ld(&latest(r)->hdr->nolane);
    for (uint32_t i = 0; i < hd->nlanes; i++)
        calls += ld(&rl_lane_at(latest(r), i)->seq);
    info->next_index = calls;
    info->read_late = r->late;
    info->read_corrupt = r->corrupt;
    info->created_ns = hd->real_base_ns;
    info->creator_pid = hd->creator_pid;
    info->clock = hd->clock == RL_CLOCK_TSC ? "tsc" : "monotonic";
    info->triggers = atomic_load_explicit(&latest(r)->hdr->triggers, memory_order_acquire);
    const struct rl_snap_header *sh = r->snap;
    info->snapshot_reason = sh ? r->snap_reason : NULL;
    info->snapshot_damaged = r->snap_damage.pieces;
    info->snapshot_damage = r->snap_damage.text[0] ? r->snap_damage.text : NULL;
    info->snapshot_ns = sh ? sh->taken_ns : 0;
    info->snapshot_trigger_ns = sh ? sh->trigger_ns : 0;
    info->snapshot_first_trigger = sh ? sh->first_trigger : 0;
    info->snapshot_last_trigger = sh ? sh->last_trigger : 0;
    const struct rl_region *dg = latest(r);
    const struct rl_dict_hdr *dh = (const struct rl_dict_hdr *)dg->dict;
    info->dict_size = dg->dict_size;
    info->dict_used = atomic_load_explicit(&dh->used, memory_order_relaxed);
    info->sites = atomic_load_explicit(&dh->records, memory_order_relaxed);
    info->sites_refused = atomic_load_explicit(&dh->full, memory_order_relaxed);
    info->min_level = atomic_load_explicit(&latest(r)->hdr->min_level, memory_order_relaxed);
    return 0;
}

int ringlog_reader_wait_trigger(ringlog_reader *r, uint32_t *seen, int timeout_ms)
{
    if (!r || !seen)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    if (r->rec)
        return rl_fail(RINGLOG_EINVAL, "a recording file raises no triggers");
    _Atomic uint32_t *word = &r->g.hdr->triggers;
    uint64_t start = rl_plat_mono_ns();
    for (;;) {
        uint32_t cur = atomic_load_explicit(word, memory_order_acquire);
        if (cur != *seen) {
            *seen = cur;
            return 1;
        }
        uint64_t left = UINT64_MAX;
        if (timeout_ms >= 0) {
            uint64_t spent = rl_plat_mono_ns() - start, limit = (uint64_t)timeout_ms * 1000000u;
            if (spent >= limit)
                return 0;
            left = limit - spent;
        }
        /* Returns at a wake, a signal, a timeout, or at once if the word
         * already moved: each case re-checks above. */
        rl_plat_futex_wait(word, cur, left);
    }
}

/* ------------------------------------------------------ deferred entries */

static struct rl_site_copy **site_slot(struct rl_site_copy **t, size_t cap, uint32_t id)
{
    size_t i = (id * RL_HASH_MUL) & (cap - 1);
    while (t[i] && t[i]->id != id)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static const struct rl_site_copy *reader_site(ringlog_reader *r, uint32_t id, const char **why)
{
    if (r->rec) {
        const struct rl_site_copy *c = rl_rec_site(r->rec, id);
        *why = c ? NULL : "unknown call site";
        return c;
    }
    if (r->capsites) {
        struct rl_site_copy *c = *site_slot(r->sites, r->capsites, id);
        if (c)
            return c;
    }
    /* A snapshot's post-trigger image holds every site of the first. */
    struct rl_site_copy *c = rl_dict_copy(r->have_g2 ? &r->g2 : &r->g, id, why);
    if (!c)
        return NULL;
    if (2 * (r->nsites + 1) > r->capsites) {
        size_t cap = r->capsites ? 2 * r->capsites : 64;
        struct rl_site_copy **t = calloc(cap, sizeof *t);
        if (!t) {
            free(c);
            *why = "out of memory";
            return NULL;
        }
        for (size_t i = 0; i < r->capsites; i++)
            if (r->sites[i])
                *site_slot(t, cap, r->sites[i]->id) = r->sites[i];
        free(r->sites);
        r->sites = t;
        r->capsites = cap;
    }
    *site_slot(r->sites, r->capsites, id) = c;
    r->nsites++;
    return c;
}

/* The site of a DEFERRED entry, or NULL with the reason set (ENOENT). */
static const struct rl_site_copy *entry_site(ringlog_reader *r, const struct ringlog_entry *e)
{
    if (e->type != RINGLOG_TYPE_DEFERRED) {
        rl_fail(RINGLOG_ENOENT, "entry of type %u has no call site", e->type);
        return NULL;
    }
    const char *why = NULL;
    const struct rl_site_copy *c = reader_site(r, e->remarks, &why);
    if (!c)
        rl_fail(RINGLOG_ENOENT, "site %u: %s", e->remarks, why);
    return c;
}

static struct ringlog_site_info site_info(const struct rl_site_copy *c)
{
    struct ringlog_site_info si = {c->fmt,   c->file, c->func, c->line,
                                   c->level, c->nargs, c->id,  c->off};
    return si;
}

int ringlog_entry_site(ringlog_reader *r, const struct ringlog_entry *e,
                       struct ringlog_site_info *out)
{
    if (!r || !e || !out)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    const struct rl_site_copy *c = entry_site(r, e);
    if (!c)
        return RINGLOG_ENOENT;
    *out = site_info(c);
    return 0;
}

int ringlog_entry_args(ringlog_reader *r, const struct ringlog_entry *e, struct ringlog_arg *out,
                       unsigned max)
{
    if (!r || !e || (!out && max) || (!e->data && e->length))
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    const struct rl_site_copy *c = entry_site(r, e);
    return c ? rl_entry_args(c, e, out, max) : RINGLOG_ENOENT;
}

struct sites_ctx {
    const struct rl_region *g;
    int (*fn)(void *arg, const struct ringlog_site_info *si);
    void *arg;
    int stopped;
};

static int each_site(void *arg, uint32_t id)
{
    struct sites_ctx *c = arg;
    const char *why;
    struct rl_site_copy *sc = rl_dict_copy(c->g, id, &why);
    if (!sc)
        return 0; /* a corrupt record: not a site */
    struct ringlog_site_info si = site_info(sc);
    c->stopped = c->fn(c->arg, &si) != 0;
    free(sc);
    return c->stopped;
}

static int each_rec_site(void *arg, const struct rl_site_copy *sc)
{
    struct sites_ctx *c = arg;
    struct ringlog_site_info si = site_info(sc);
    return c->fn(c->arg, &si) != 0;
}

int ringlog_reader_sites(ringlog_reader *r, int (*fn)(void *arg, const struct ringlog_site_info *si),
                         void *arg)
{
    if (!r || !fn)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    if (r->rec) {
        struct sites_ctx c = {NULL, fn, arg, 0};
        return rl_rec_sites(r->rec, each_rec_site, &c);
    }
    /* The latest image's dictionary: a snapshot's second image has every
     * site the first has. */
    struct sites_ctx c = {latest(r), fn, arg, 0};
    return rl_dict_each(c.g, each_site, &c);
}

size_t ringlog_entry_text(ringlog_reader *r, const struct ringlog_entry *e, char *buf, size_t cap)
{
    if (!buf)
        cap = 0;
    if (!r || !e) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    if (e->type == RINGLOG_TYPE_DEFERRED) {
        const char *why = NULL;
        const struct rl_site_copy *c = reader_site(r, e->remarks, &why);
        if (c)
            return rl_deferred_text(c, e, buf, cap);
        return rl_sformat(buf, cap, "[ringlog: %s %u, %zu bytes of arguments]", why, e->remarks,
                          e->length);
    }
    if (e->type == RINGLOG_TYPE_TEXT || e->type == RINGLOG_TYPE_TRIGGER) {
        size_t n = e->length;
        if (cap) {
            size_t k = n < cap - 1 ? n : cap - 1;
            memcpy(buf, e->data, k);
            buf[k] = '\0';
        }
        return n;
    }
    return rl_sformat(buf, cap, "[type %u, remarks %u, %zu bytes]", e->type, e->remarks,
                      e->length);
}

const struct rl_site_copy *rl_reader_site(ringlog_reader *r, uint32_t id, const char **why)
{
    return reader_site(r, id, why);
}

const struct rl_header_fixed *rl_reader_fixed(ringlog_reader *r)
{
    return &r->g.fixed;
}

int rl_reader_live(const ringlog_reader *r)
{
    return r->live;
}

int ringlog_reader_recording(ringlog_reader *r, struct ringlog_recording *out)
{
    if (!r || !out)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    if (!r->rec)
        return rl_fail(RINGLOG_ENOENT, "not a recording file");
    *out = *rl_rec_about(r->rec);
    return 0;
}

int rl_reader_flush_staged(ringlog_reader *r, const struct ringlog_handler *h)
{
    if (!r || r->rec)
        return 0;
    int n = 0;
    /* Claimed already: the cut and the safety of unseen lanes no longer
     * matter to a reader about to close. */
    merge(r, h, UINT64_MAX, 1, &n);
    return n;
}
