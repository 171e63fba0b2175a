/*
 * The reader: claims (or, peeking, copies) entries from every ring, puts
 * them back into global index order, and decides which missing indices
 * will never come.  Every byte of the region is untrusted here: lengths are
 * bounded by the ring, loops by the ring size, and nothing read from the
 * region is ever used as a pointer.
 *
 * Gap resolution (DESIGN.md, "Which indices will never come"): a snapshot
 * takes the global index G, then every ring's head.  A producer reserves
 * space before it takes its index, so every index below G lives at a
 * position below that ring's snapshot head.  Once every ring's tail has
 * passed its snapshot head, each index below G has been claimed by us or
 * reclaimed by a producer: whatever we do not hold is lost.
 */
#include "fmt.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_MAX_ENTRIES (4u << 20) /* stop claiming beyond this many pending */
#define CLAIM_BATCH 512u             /* per ring per pass: keeps the heap small and hot */
#define IDLE_SLEEP_MIN_NS 50000u     /* 50 us */
#define IDLE_SLEEP_MAX_NS 10000000u  /* 10 ms */
#define ZERO_TIMEOUT_BUDGET_NS 100000000u /* timeout 0: at most 100 ms of claiming */

struct pend {
    uint64_t index;
    uint32_t ring;
    unsigned char *copy; /* 32-byte header + payload */
};

struct ring_state {
    uint64_t stuck_pos;   /* position we found in flight, + 1 (0 = none) */
    uint64_t stuck_since; /* mono ns when first found */
    uint64_t stuck_head;  /* the ring's head when first found */
    uint64_t seen_head;   /* read-behind: the head last seen, and since when */
    uint64_t seen_since;
};

struct ringlog_reader {
    struct rl_region g;
    unsigned flags;
    uint32_t pid;
    int have_claim;
    uint64_t lag_slots; /* read-behind distance (ringlog_reader_set_lag), 0 = off */
    uint64_t flush_ns;
    uint64_t abandon_ns;
    struct ring_state *rs;
    struct pend *heap;
    size_t nheap, capheap;
    uint64_t next;  /* next index to deliver */
    uint64_t open_g; /* next_index when we attached */
    int started;    /* next is meaningful */
    int snap_valid;
    uint64_t snap_g;
    uint64_t *snap_head;
    uint64_t late;  /* entries older than what we already resolved */
    /* Snapshot files: the file's bytes, and its post-trigger image. */
    unsigned char *snapfile;
    struct rl_region g2;
    int have_g2;
    const struct rl_snap_header *snap; /* in snapfile, checked by rl_snapshot_parse */
    char snap_reason[257];             /* its reason, NUL-terminated for sure */
    /* Call sites met so far: validated private copies, by id (open
     * addressing, at most half full).  Records never change once
     * published, so a copy stays right for the reader's lifetime. */
    struct rl_site_copy **sites;
    size_t nsites, capsites;
};

/* -------------------------------------------------------------- the heap */

static int heap_push(struct ringlog_reader *r, struct pend p)
{
    if (r->nheap == r->capheap) {
        size_t cap = r->capheap ? r->capheap * 2 : 1024;
        struct pend *h = realloc(r->heap, cap * sizeof *h);
        if (!h)
            return RINGLOG_ENOMEM;
        r->heap = h;
        r->capheap = cap;
    }
    size_t i = r->nheap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (r->heap[up].index <= p.index)
            break;
        r->heap[i] = r->heap[up];
        i = up;
    }
    r->heap[i] = p;
    return 0;
}

static struct pend heap_pop(struct ringlog_reader *r)
{
    struct pend top = r->heap[0];
    struct pend last = r->heap[--r->nheap];
    size_t i = 0, n = r->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && r->heap[c + 1].index < r->heap[c].index)
            c++;
        if (last.index <= r->heap[c].index)
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (n)
        r->heap[i] = last;
    return top;
}

/* ------------------------------------------------------------ copy out */

static void copy_out(unsigned char *dst, const _Atomic uint64_t *src, size_t len)
{
    size_t i = 0;
    for (; len >= 8; len -= 8, dst += 8, i++) {
        uint64_t w = atomic_load_explicit(&src[i], memory_order_relaxed);
        memcpy(dst, &w, 8);
    }
    if (len) {
        uint64_t w = atomic_load_explicit(&src[i], memory_order_relaxed);
        memcpy(dst, &w, len);
    }
}

/* Copies the entry at position t (whose stamp said COMMITTED) into a new
 * buffer.  Returns NULL with *k = 1 when the stored length is impossible. */
static unsigned char *copy_entry(struct rl_region *g, struct rl_ring *ring, uint64_t t,
                                 uint64_t *k, int *oom)
{
    _Atomic uint64_t *e = &rl_data(g, ring)[(t & g->mask) * 4];
    uint64_t room = g->nslots - (t & g->mask);
    uint32_t len = (uint32_t)atomic_load_explicit(&e[2], memory_order_relaxed);
    *k = rl_entry_slots(len);
    *oom = 0;
    if (*k > room) {
        *k = 1;
        return NULL;
    }
    unsigned char *c = malloc(RL_SLOT_SIZE + (size_t)len);
    if (!c) {
        *oom = 1;
        return NULL;
    }
    copy_out(c, e, RL_SLOT_SIZE + (size_t)len);
    /* The copy may have raced a reuse of the space; the caller validates
     * against the tail before trusting it.  The length it trusts is the one
     * bounded above, not the (possibly newer) one in the copy. */
    struct rl_entry_hdr *h = (struct rl_entry_hdr *)c;
    h->length = len;
    return c;
}

static uint32_t entry_pid(const struct ringlog_reader *r, uint16_t owner)
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

/* Counters and region facts: of a snapshot's last image, which accounts
 * for everything the file holds. */
static const struct rl_region *latest(const struct ringlog_reader *r)
{
    return r->have_g2 ? &r->g2 : &r->g;
}

/* --------------------------------------------------------- open / close */

static int claim_consumer(struct ringlog_reader *r)
{
    _Atomic uint64_t *c = &r->g.hdr->consumer;
    uint64_t mine = (uint64_t)r->pid << 32 | 1;
    for (int tries = 0; tries < 4; tries++) {
        uint64_t cur = atomic_load_explicit(c, memory_order_acquire);
        if (cur != 0) {
            uint32_t holder = (uint32_t)(cur >> 32);
            if (rl_plat_proc_alive(holder, 0))
                return rl_fail(RINGLOG_EBUSY, "process %u is already consuming this region",
                               holder);
        }
        if (atomic_compare_exchange_strong_explicit(c, &cur, mine, memory_order_acq_rel,
                                                    memory_order_acquire))
            return 0;
    }
    return rl_fail(RINGLOG_EBUSY, "could not take the consumer claim");
}

/* If `name` is a path to a snapshot file, read and check it whole.
 * Returns RINGLOG_ENOENT (quietly) when it is not a snapshot file. */
static int open_snapshot(struct ringlog_reader *r, const char *name)
{
    if (!name || !rl_plat_is_path(name))
        return RINGLOG_ENOENT;
    FILE *f = fopen(name, "rb");
    if (!f)
        return RINGLOG_ENOENT;
    char magic[8];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, RL_SNAP_MAGIC, 8) != 0) {
        fclose(f);
        return RINGLOG_ENOENT;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
        (uint64_t)st.st_size > ((uint64_t)1 << 40)) {
        fclose(f);
        return rl_fail(RINGLOG_EFORMAT, "%s: snapshot of unreadable size", name);
    }
    size_t size = (size_t)st.st_size;
    unsigned char *buf = aligned_alloc(64, (size + 63) & ~(size_t)63);
    if (!buf) {
        fclose(f);
        return rl_fail(RINGLOG_ENOMEM, "%s: no memory for %zu bytes", name, size);
    }
    rewind(f);
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    struct rl_region img[2];
    unsigned nimg = 0;
    const struct rl_snap_header *sh = NULL;
    int rc = got == size ? rl_snapshot_parse(buf, size, img, &nimg, &sh)
                         : rl_fail(RINGLOG_EIO, "%s: short read", name);
    if (rc) {
        /* Name the file in the message, keep the reason. */
        char why[400];
        snprintf(why, sizeof why, "%s", ringlog_errmsg());
        free(buf);
        return rl_fail(rc, "%s: %s", name, why);
    }
    r->snapfile = buf;
    r->g = img[0];
    if (nimg > 1) {
        r->g2 = img[1];
        r->have_g2 = 1;
    }
    r->snap = sh;
    memcpy(r->snap_reason, sh->reason, 256);
    r->snap_reason[256] = 0;
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
    r->abandon_ns = (uint64_t)RL_ABANDON_MS * 1000 * 1000;
    struct ringlog_options o = {.flags = RINGLOG_OPEN_EXISTING};
    int rc = open_snapshot(r, name);
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
    }
    int peek = (flags & RINGLOG_READER_PEEK) != 0;
    r->rs = calloc(r->g.nrings, sizeof *r->rs);
    r->snap_head = calloc(r->g.nrings, sizeof *r->snap_head);
    if (!r->rs || !r->snap_head) {
        ringlog_reader_close(r);
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    }
    r->open_g = atomic_load_explicit(&r->g.hdr->next_index, memory_order_acquire);
    if (!peek) {
        rc = claim_consumer(r);
        if (rc) {
            ringlog_reader_close(r);
            return rc;
        }
        r->have_claim = 1;
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
    r->flags = flags;
    r->pid = rl_plat_pid();
    int rc = rl_region_validate(&r->g, base, size);
    if (rc) {
        free(r);
        return rc;
    }
    r->rs = calloc(r->g.nrings, sizeof *r->rs);
    r->snap_head = calloc(r->g.nrings, sizeof *r->snap_head);
    if (!r->rs || !r->snap_head) {
        free(r->rs);
        free(r->snap_head);
        free(r);
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    }
    r->open_g = atomic_load_explicit(&r->g.hdr->next_index, memory_order_acquire);
    *out = r;
    return 0;
}

void ringlog_reader_close(ringlog_reader *r)
{
    if (!r)
        return;
    if (r->have_claim) {
        uint64_t mine = (uint64_t)r->pid << 32 | 1;
        atomic_compare_exchange_strong_explicit(&r->g.hdr->consumer, &mine, 0,
                                                memory_order_release, memory_order_relaxed);
    }
    while (r->nheap)
        free(heap_pop(r).copy);
    free(r->heap);
    free(r->rs);
    free(r->snap_head);
    rl_region_close(&r->g);
    free(r->snapfile);
    for (size_t i = 0; i < r->capsites; i++)
        free(r->sites[i]);
    free(r->sites);
    free(r);
}

void ringlog_reader_set_abandon_ms(ringlog_reader *r, unsigned ms)
{
    if (r)
        r->abandon_ns = (uint64_t)ms * 1000 * 1000;
}

void ringlog_reader_set_lag(ringlog_reader *r, size_t lag_bytes, unsigned flush_ms)
{
    if (!r)
        return;
    uint64_t slots = lag_bytes / RL_SLOT_SIZE;
    if (slots > r->g.nslots / 4)
        slots = r->g.nslots / 4;
    r->lag_slots = slots;
    r->flush_ns = (uint64_t)flush_ms * 1000 * 1000;
}

/*
 * Read-behind: while a ring's producers are active, claim only up to
 * lag_slots before its head.  A consumer that reads right behind the
 * producer (and the hardware prefetcher, which fetches the lines after the
 * ones it reads) takes lines the producer is about to write, and every
 * such write then waits for the line to come back.  Returns the position
 * up to which entries may be claimed now.
 */
static uint64_t claim_limit(struct ringlog_reader *r, uint32_t ri, uint64_t t, uint64_t h)
{
    if (!r->lag_slots)
        return h;
    struct ring_state *st = &r->rs[ri];
    uint64_t now = rl_plat_mono_ns();
    if (h != st->seen_head) {
        st->seen_head = h;
        st->seen_since = now;
    }
    if (now - st->seen_since >= r->flush_ns)
        return h; /* quiet for flush_ms: take everything */
    return h - t > r->lag_slots ? h - r->lag_slots : t;
}

/* ------------------------------------------------------------- claiming */

/* Decides whether an in-flight slot at t has waited long enough to be
 * taken from its producer (INV-4, INV-5). */
static int may_steal(struct ringlog_reader *r, uint32_t ring, uint64_t t, uint64_t s, int marked,
                     uint64_t head)
{
    struct ring_state *st = &r->rs[ring];
    uint64_t now = rl_plat_mono_ns();
    if (st->stuck_pos != t + 1) {
        /* Slots of a reservation we already waited for (below the head we
         * saw then) have been reserved at least that long: do not make each
         * slot of a dead writer's span wait the whole period again. */
        int same_span = st->stuck_pos != 0 && t + 1 > st->stuck_pos && t < st->stuck_head && !marked;
        st->stuck_pos = t + 1;
        if (!same_span) {
            st->stuck_since = now;
            st->stuck_head = head;
            return 0;
        }
    }
    if (now - st->stuck_since < r->abandon_ns)
        return 0;
    if (!marked)
        return 1; /* an unmarked reservation may always be stolen */
    if (rl_registry_check_dead(&r->g, rl_stamp_owner(s)))
        return 1;
    st->stuck_since = now; /* alive: check again after another period */
    return 0;
}

static struct ringlog_entry make_entry(const struct ringlog_reader *r, uint32_t ring,
                                       const struct rl_entry_hdr *eh, const void *payload)
{
    struct ringlog_entry e = {
        .index = eh->index,
        .timestamp = eh->timestamp,
        .time_ns = rl_ticks_to_real_ns(&r->g, eh->timestamp),
        .cpu = ring,
        .level = eh->level,
        .type = eh->type,
        .remarks = eh->remarks,
        .flags = eh->flags,
        .pid = entry_pid(r, eh->owner),
        .length = eh->length,
        .data = payload,
    };
    return e;
}

/*
 * Zero copy, where it is safe: under the drop policy nobody but us moves
 * the tail, so an entry at the front of its ring stays intact until we
 * release it.  When it is also the next index, hand the callback the ring's
 * own bytes and release afterwards.  (Under overwrite a producer may reclaim
 * it at any moment: those entries are always copied and claimed first.)
 * Returns the entry's slots if delivered (0 if not), with *stop set from
 * the callback.  The caller releases them, in batches (claim_ring).
 */
static uint64_t deliver_in_place(struct ringlog_reader *r, const struct ringlog_handler *h,
                                 struct rl_ring *ring, uint32_t ri, uint64_t t, int *stop)
{
    struct rl_region *g = &r->g;
    _Atomic uint64_t *e = &rl_data(g, ring)[(t & g->mask) * 4];
    uint64_t index = atomic_load_explicit(&e[0], memory_order_relaxed);
    if (index != r->next || (r->nheap && r->heap[0].index == index))
        return 0;
    struct rl_entry_hdr eh;
    copy_out((unsigned char *)&eh, e, sizeof eh);
    uint64_t k = rl_entry_slots(eh.length);
    if (k > g->nslots - (t & g->mask))
        return 0; /* impossible length: the copying path releases it */
    struct ringlog_entry ent = make_entry(r, ri, &eh, (const unsigned char *)e + RL_SLOT_SIZE);
    r->next++;
    *stop = h->entry ? h->entry(h->arg, &ent) : 0;
    r->rs[ri].stuck_pos = 0;
    return k;
}

/* Entries delivered in place and not yet released: [from, to), n of them.
 * One tail CAS and one counter update per batch instead of per entry, so
 * the consumer writes the lines producers read (tail, read) rarely. */
struct zc_batch {
    uint64_t from, to, n;
};

static void zc_release(struct rl_ring *ring, struct zc_batch *b)
{
    if (!b->n)
        return;
    uint64_t f = b->from;
    /* Under the drop policy only the consumer moves the tail, so this
     * succeeds unless the region's words were corrupted under us. */
    if (atomic_compare_exchange_strong_explicit(&ring->tail, &f, b->to, memory_order_acq_rel,
                                                memory_order_relaxed))
        atomic_fetch_add_explicit(&ring->read, b->n, memory_order_relaxed);
    b->n = 0;
}

/* Moves every committed entry at the front of one ring into the heap, or
 * straight to the callback when it may (deliver_in_place).  Returns the
 * number claimed or delivered, or an error; *n counts deliveries. */
static int claim_ring(struct ringlog_reader *r, uint32_t ri, const struct ringlog_handler *hd,
                      int *n, int *stop)
{
    struct rl_region *g = &r->g;
    struct rl_ring *ring = rl_ring_at(g, ri);
    _Atomic uint64_t *seq = rl_seq(g, ring);
    int claimed = 0;
    int zero_copy = hd && r->started && g->policy == RINGLOG_DROP;
    struct zc_batch zb = {0, 0, 0};
    /* Each pass moves the tail (or our unreleased batch) or returns; 2N + 2
     * passes bound the loop even when producers keep moving the tail under
     * us or the bytes are junk. */
    for (uint64_t pass = 0; pass < 2 * g->nslots + 2; pass++) {
        if (claimed >= (int)CLAIM_BATCH)
            break;
        uint64_t t = zb.n ? zb.to : atomic_load_explicit(&ring->tail, memory_order_acquire);
        uint64_t h = atomic_load_explicit(&ring->head, memory_order_acquire);
        if (t >= h || h - t > g->nslots)
            break; /* empty, or a corrupt head we will not walk */
        if (t >= claim_limit(r, ri, t, h))
            break; /* stay behind the producers */
        _Atomic uint64_t *slot = &seq[t & g->mask];
        uint64_t s = atomic_load_explicit(slot, memory_order_acquire);
        uint64_t room = g->nslots - (t & g->mask);
        uint64_t step = 1;
        if (zero_copy && rl_stamp_is_for(s, t) && rl_stamp_state(s) == RL_ST_COMMITTED) {
            uint64_t k = deliver_in_place(r, hd, ring, ri, t, stop);
            if (k) {
                if (!zb.n)
                    zb.from = t;
                zb.to = t + k;
                zb.n++;
                (*n)++;
                claimed++;
                if (*stop)
                    break;
                continue;
            }
        }
        /* Anything else works on the real tail: release the batch first. */
        zc_release(ring, &zb);
        if (!rl_stamp_is_for(s, t)) {
            if (!rl_stamp_older(s, t))
                continue; /* our tail is stale: the ring moved on */
            if (!may_steal(r, ri, t, s, 0, h))
                break;
            if (atomic_compare_exchange_strong_explicit(slot, &s, rl_stamp(t, 0, RL_ST_RESERVED),
                                                        memory_order_relaxed,
                                                        memory_order_relaxed))
                atomic_fetch_add_explicit(&ring->abandoned, 1, memory_order_relaxed);
            continue; /* the slot is now abandoned (by us or whoever won) */
        }
        switch (rl_stamp_state(s)) {
        case RL_ST_COMMITTED: {
            /* A full heap takes only entries older than everything in it:
             * one of them may be the index delivery is waiting for. */
            if (r->nheap >= HEAP_MAX_ENTRIES &&
                atomic_load_explicit(&rl_data(g, ring)[(t & g->mask) * 4], memory_order_relaxed) >=
                    r->heap[0].index)
                return claimed;
            int oom = 0;
            unsigned char *c = copy_entry(g, ring, t, &step, &oom);
            if (oom)
                return RINGLOG_ENOMEM;
            /* Claim: moving the tail over the entry proves nobody reused it
             * while we copied (producers reuse only after the tail passed). */
            if (!atomic_compare_exchange_strong_explicit(&ring->tail, &t, t + step,
                                                         memory_order_acq_rel,
                                                         memory_order_relaxed)) {
                free(c);
                continue;
            }
            if (!c) { /* impossible length: one slot released, counted */
                atomic_fetch_add_explicit(&ring->abandoned, 1, memory_order_relaxed);
                continue;
            }
            atomic_fetch_add_explicit(&ring->read, 1, memory_order_relaxed);
            struct pend p = {((struct rl_entry_hdr *)c)->index, ri, c};
            if (r->started && p.index < r->next) {
                r->late++;
                free(c);
                continue;
            }
            if (heap_push(r, p)) {
                free(c);
                return RINGLOG_ENOMEM;
            }
            claimed++;
            r->rs[ri].stuck_pos = 0;
            continue;
        }
        case RL_ST_PAD:
            step = room;
            break;
        case RL_ST_RESERVED:
            if (rl_stamp_owner(s) != 0) {
                if (!may_steal(r, ri, t, s, 1, h))
                    return claimed;
                if (atomic_compare_exchange_strong_explicit(slot, &s,
                                                            rl_stamp(t, 0, RL_ST_RESERVED),
                                                            memory_order_relaxed,
                                                            memory_order_relaxed))
                    atomic_fetch_add_explicit(&ring->abandoned, 1, memory_order_relaxed);
                continue;
            }
            break; /* abandoned: one slot */
        }
        atomic_compare_exchange_strong_explicit(&ring->tail, &t, t + step, memory_order_acq_rel,
                                                memory_order_relaxed);
    }
    zc_release(ring, &zb);
    return claimed;
}

/* Peek: copy what each ring holds between its tail and its head without
 * changing anything; entries reclaimed while we copied are discarded. */
static int peek_ring(struct ringlog_reader *r, struct rl_region *g, uint32_t ri, uint64_t head)
{
    struct rl_ring *ring = rl_ring_at(g, ri);
    _Atomic uint64_t *seq = rl_seq(g, ring);
    uint64_t t = atomic_load_explicit(&ring->tail, memory_order_acquire);
    int got = 0;
    if (head < t || head - t > g->nslots)
        return 0;
    for (uint64_t steps = 0; t < head && steps <= g->nslots; steps++) {
        if (r->nheap >= HEAP_MAX_ENTRIES)
            break;
        uint64_t s = atomic_load_explicit(&seq[t & g->mask], memory_order_acquire);
        uint64_t room = g->nslots - (t & g->mask);
        if (!rl_stamp_is_for(s, t)) {
            t++;
            continue;
        }
        if (rl_stamp_state(s) == RL_ST_PAD) {
            t += room;
            continue;
        }
        if (rl_stamp_state(s) != RL_ST_COMMITTED) {
            t++;
            continue;
        }
        uint64_t k = 1;
        int oom = 0;
        unsigned char *c = copy_entry(g, ring, t, &k, &oom);
        if (oom)
            return RINGLOG_ENOMEM;
        /* Pairs with the producer's release fence before its stores: if we
         * saw any of them, we see the tail that let it reuse this space. */
        atomic_thread_fence(memory_order_acquire);
        uint64_t nt = atomic_load_explicit(&ring->tail, memory_order_relaxed);
        if (c && nt <= t) {
            struct pend p = {((struct rl_entry_hdr *)c)->index, ri, c};
            if (r->started && p.index < r->next) {
                free(c);
            } else if (heap_push(r, p)) {
                free(c);
                return RINGLOG_ENOMEM;
            } else {
                got++;
            }
        } else {
            free(c);
        }
        if (nt > t) { /* reclaimed under us: continue from the new tail */
            t = nt;
            continue;
        }
        t += k;
    }
    return got;
}

/* ------------------------------------------------------------ delivery */

static int deliver_entry(struct ringlog_reader *r, const struct ringlog_handler *h,
                         struct pend p)
{
    struct ringlog_entry e =
        make_entry(r, p.ring, (const struct rl_entry_hdr *)p.copy, p.copy + RL_SLOT_SIZE);
    int stop = h && h->entry ? h->entry(h->arg, &e) : 0;
    free(p.copy);
    return stop;
}

/* Delivers, in order, everything that is known: entries whose index is
 * next, and gaps the last resolved snapshot proved.  *n counts items. */
static int deliver(struct ringlog_reader *r, const struct ringlog_handler *h, uint64_t upto,
                   int *n)
{
    while (r->nheap) {
        uint64_t top = r->heap[0].index;
        if (top < r->next) { /* duplicate or corrupt index */
            free(heap_pop(r).copy);
            r->late++;
            continue;
        }
        if (top == r->next) {
            r->next++;
            (*n)++;
            if (deliver_entry(r, h, heap_pop(r)))
                return 1;
            continue;
        }
        if (r->next >= upto)
            break;
        uint64_t end = top < upto ? top : upto;
        uint64_t first = r->next;
        r->next = end;
        (*n)++;
        if (h && h->gap && h->gap(h->arg, first, end - first))
            return 1;
    }
    if (r->next < upto) {
        uint64_t first = r->next;
        r->next = upto;
        (*n)++;
        if (h && h->gap && h->gap(h->arg, first, upto - first))
            return 1;
    }
    return 0;
}

static void take_snapshot(struct ringlog_reader *r)
{
    /* G before the heads: an index below G was taken after its space was
     * reserved, so the reservation is below the head we load next
     * (acquire pairs with the producer's release increment, INV-3). */
    r->snap_g = atomic_load_explicit(&r->g.hdr->next_index, memory_order_acquire);
    for (uint32_t i = 0; i < r->g.nrings; i++)
        r->snap_head[i] = atomic_load_explicit(&rl_ring_at(&r->g, i)->head, memory_order_acquire);
    r->snap_valid = 1;
}

static int snapshot_resolved(struct ringlog_reader *r)
{
    for (uint32_t i = 0; i < r->g.nrings; i++) {
        uint64_t t = atomic_load_explicit(&rl_ring_at(&r->g, i)->tail, memory_order_acquire);
        if (t < r->snap_head[i])
            return 0;
    }
    return 1;
}

static int read_consume(struct ringlog_reader *r, const struct ringlog_handler *h, int *n,
                        int *progress)
{
    if (!r->snap_valid)
        take_snapshot(r);
    if (r->started && deliver(r, h, r->next, n))
        return 1;
    for (uint32_t i = 0; i < r->g.nrings; i++) {
        int stop = 0;
        int rc = claim_ring(r, i, h, n, &stop);
        if (rc < 0)
            return rc;
        *progress += rc;
        if (stop)
            return 1;
    }
    uint64_t upto = r->next; /* nothing proven lost yet */
    if (snapshot_resolved(r)) {
        upto = r->snap_g;
        if (!r->started) {
            /* Start at the oldest entry still held, or at the index of our
             * arrival if everything older is gone: indices before that were
             * consumed or reclaimed before we were here to see them. */
            uint64_t first = r->open_g < upto ? r->open_g : upto;
            r->next = r->nheap && r->heap[0].index < first ? r->heap[0].index : first;
            r->started = 1;
        }
        r->snap_valid = 0;
    }
    if (!r->started)
        return 0;
    return deliver(r, h, upto > r->next ? upto : r->next, n);
}

static int read_peek(struct ringlog_reader *r, const struct ringlog_handler *h, int *n)
{
    take_snapshot(r);
    for (uint32_t i = 0; i < r->g.nrings; i++) {
        int rc = peek_ring(r, &r->g, i, r->snap_head[i]);
        if (rc < 0)
            return rc;
    }
    /* A snapshot's post-trigger image: the same region a little later.
     * Entries held by both images are delivered once (equal indices). */
    for (uint32_t i = 0; r->have_g2 && i < r->g2.nrings; i++) {
        struct rl_ring *ring = rl_ring_at(&r->g2, i);
        int rc = peek_ring(r, &r->g2, i, atomic_load_explicit(&ring->head, memory_order_acquire));
        if (rc < 0)
            return rc;
    }
    if (!r->started) {
        if (!r->nheap)
            return 0;
        r->next = r->heap[0].index;
        r->started = 1;
    }
    /* Without claiming we cannot prove anything lost beyond what we hold:
     * gaps are only the holes between entries we copied. */
    uint64_t upto = r->next;
    for (size_t i = 0; i < r->nheap; i++)
        if (r->heap[i].index + 1 > upto)
            upto = r->heap[i].index + 1;
    int stop = deliver(r, h, upto, n);
    /* Entries not delivered (callback stopped us) are copied again next time. */
    while (r->nheap)
        free(heap_pop(r).copy);
    return stop;
}

int ringlog_read(ringlog_reader *r, const struct ringlog_handler *h, int timeout_ms)
{
    if (!r)
        return rl_fail(RINGLOG_EINVAL, "reader is NULL");
    uint64_t start = rl_plat_mono_ns();
    uint64_t sleep_ns = IDLE_SLEEP_MIN_NS;
    for (;;) {
        int n = 0, progress = 0;
        int rc = (r->flags & RINGLOG_READER_PEEK) ? read_peek(r, h, &n)
                                                  : read_consume(r, h, &n, &progress);
        if (rc < 0)
            return rc;
        if (n > 0 || rc > 0)
            return n;
        uint64_t now = rl_plat_mono_ns();
        /* Claimed but nothing deliverable yet: claiming is work, not
         * waiting, so go on without sleeping.  A new reader proving where to
         * start must claim what the rings held at its first snapshot (bounded
         * by their size); after that, stay within the timeout, and for
         * timeout 0 within a short budget. */
        uint64_t budget = timeout_ms > 0 ? (uint64_t)timeout_ms * 1000000u : ZERO_TIMEOUT_BUDGET_NS;
        if (progress && (!r->started || timeout_ms < 0 || now - start < budget))
            continue;
        if (timeout_ms == 0)
            return n;
        if (timeout_ms > 0 && now - start >= (uint64_t)timeout_ms * 1000000u)
            return 0;
        /* Idle: producers never wake us (that would be a system call on
         * their path), so back off from 50 us to 10 ms. */
        uint64_t left = timeout_ms > 0 ? (uint64_t)timeout_ms * 1000000u - (now - start) : sleep_ns;
        rl_plat_sleep_ns(sleep_ns < left ? sleep_ns : left);
        if (sleep_ns < IDLE_SLEEP_MAX_NS)
            sleep_ns *= 2;
    }
}

int ringlog_reader_stats(ringlog_reader *r, struct ringlog_stats *total,
                         struct ringlog_stats *per_ring, unsigned max)
{
    if (!r)
        return rl_fail(RINGLOG_EINVAL, "reader is NULL");
    return rl_stats(latest(r), total, per_ring, max);
}

int ringlog_reader_info(ringlog_reader *r, struct ringlog_info *info)
{
    if (!r || !info)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    const struct rl_header_fixed *hd = &r->g.fixed;
    info->version = hd->version;
    info->nrings = hd->nrings;
    info->ring_size = hd->ring_slots * RL_SLOT_SIZE;
    info->policy = (int)hd->policy;
    info->next_index = atomic_load_explicit(&latest(r)->hdr->next_index, memory_order_relaxed);
    info->created_ns = hd->real_base_ns;
    info->creator_pid = hd->creator_pid;
    info->clock = hd->clock == RL_CLOCK_TSC ? "tsc" : "monotonic";
    info->triggers = atomic_load_explicit(&latest(r)->hdr->triggers, memory_order_acquire);
    const struct rl_snap_header *sh = r->snap;
    info->snapshot_reason = sh ? r->snap_reason : NULL;
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
    size_t i = (id * 2654435761u) & (cap - 1);
    while (t[i] && t[i]->id != id)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static const struct rl_site_copy *reader_site(ringlog_reader *r, uint32_t id, const char **why)
{
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

int ringlog_entry_site(ringlog_reader *r, const struct ringlog_entry *e,
                       struct ringlog_site_info *out)
{
    if (!r || !e || !out)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    if (e->type != RINGLOG_TYPE_DEFERRED)
        return rl_fail(RINGLOG_ENOENT, "entry of type %u has no call site", e->type);
    const char *why = NULL;
    const struct rl_site_copy *c = reader_site(r, e->remarks, &why);
    if (!c)
        return rl_fail(RINGLOG_ENOENT, "site %u: %s", e->remarks, why);
    out->format = c->fmt;
    out->file = c->file;
    out->function = c->func;
    out->line = c->line;
    out->level = c->level;
    out->nargs = c->nargs;
    out->id = c->id;
    return 0;
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
