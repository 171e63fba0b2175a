/*
 * The producer: reserve, write, commit.  docs/DESIGN.md gives the protocol
 * and the invariants (INV-n) cited below.  Everything here runs in signal
 * handlers too: no locks, no system calls, no allocation, and never a wait
 * on another producer (the one we would wait for may be the code we
 * interrupted).
 */
#include "fmt.h"
#include "internal.h"

#include <string.h>

enum { RES_OK = 0, RES_FULL = 1, RES_STOLEN = 2 };

static uint32_t current_owner(ringlog *log)
{
    uint32_t gen = atomic_load_explicit(&rl_fork_gen, memory_order_relaxed);
    if (RL_LIKELY(gen == log->fork_gen))
        return log->owner;
    /* First log call in a forked child: the inherited owner id names the
     * parent, whose death would let others steal our reservations.  Claim
     * our own (a few system calls, once per fork). */
    uint32_t owner;
    if (rl_registry_claim(&log->g, &owner) != 0)
        return 0; /* registry full: refuse this call, try again next time */
    log->owner = owner;
    log->fork_gen = gen;
    return owner;
}

/*
 * Mark slot `pos` with `stamp`.  `expect` is what the slot held just before
 * the head moved over `pos`; any other value means a reclaimer stamped it
 * ABANDONED since (INV-4: a reservation that is not marked may be stolen,
 * and a stolen one is never written), or that the ring lapped us while we
 * were preempted and the slot now belongs to a later position.  Stamps carry
 * their position, so the old value can never come back (no ABA).
 */
static int mark(_Atomic uint64_t *slot, uint64_t expect, uint64_t stamp)
{
    /* Release: a reclaimer that reads our stamp (acquire) and then our
     * owner's registry word sees that word as it was when we claimed it, not
     * a DEAD left by an earlier holder of the same owner id. */
    return atomic_compare_exchange_strong_explicit(slot, &expect, stamp, memory_order_release,
                                                   memory_order_relaxed)
               ? RES_OK
               : RES_STOLEN;
}

/* Units released per tail CAS when overwriting: one CAS and one counter
 * update then pay for many entries, and the entry headers we walk are the
 * lines we are about to write anyway. */
#define RECLAIM_BATCH 64u

/*
 * The entry at tail position t is RESERVED by `owner`, who is not marked
 * dead, and blocks an overwriting producer.  Without a consumer nobody else
 * would ever check the owner, so the blocked producers do: once the entry
 * has blocked the ring for RL_ABANDON_MS, one of them (one per period and
 * ring: the stuck_ticks CAS) runs the liveness check, which makes system
 * calls (kill, /proc reads; all async-signal-safe).  This is the only place
 * a log call makes a system call, and only while its ring is blocked, which
 * means the call is being dropped anyway.  Returns 1 if the owner is now
 * marked dead.
 */
static int stuck_owner_dead(struct rl_region *g, struct rl_ring *ring, uint64_t t, uint32_t owner)
{
    uint64_t now = rl_ticks(g->clock);
    uint64_t hz = g->fixed.clock_hz ? g->fixed.clock_hz : 1000000000u;
    int64_t period = (int64_t)(hz / 1000u * RL_ABANDON_MS);
    uint64_t pos = atomic_load_explicit(&ring->stuck_pos, memory_order_relaxed);
    uint64_t since = atomic_load_explicit(&ring->stuck_ticks, memory_order_relaxed);
    if (pos != t + 1) {
        /* The first to be blocked by this entry starts its clock.  A racer
         * that reads the new position with an old time checks at once:
         * one check too many, harmless (the check errs towards alive). */
        if (atomic_compare_exchange_strong_explicit(&ring->stuck_pos, &pos, t + 1,
                                                    memory_order_relaxed, memory_order_relaxed))
            atomic_store_explicit(&ring->stuck_ticks, now, memory_order_relaxed);
        return 0;
    }
    /* Signed: clocks of two CPUs may differ by a hair. */
    if ((int64_t)(now - since) < period)
        return 0;
    if (!atomic_compare_exchange_strong_explicit(&ring->stuck_ticks, &since, now,
                                                 memory_order_relaxed, memory_order_relaxed))
        return 0;
    return rl_registry_check_dead(g, owner);
}

/*
 * The oldest unit is being written (RESERVED) or was never marked.  Take it
 * if that is safe (INV-4, INV-5) and release that one slot.  Returns 0 when
 * the caller should look at the ring again, -1 when a live producer is
 * writing it and the new entry must be dropped instead.
 */
static int reclaim_stuck(struct rl_region *g, struct rl_ring *ring, uint64_t t, uint64_t s)
{
    _Atomic uint64_t *slot = &rl_seq(g, ring)[t & g->mask];
    if (!rl_stamp_is_for(s, t)) {
        /* A stamp newer than t: the ring moved on since we read the tail
         * (stealing now would destroy a live entry of a later lap). */
        if (!rl_stamp_older(s, t))
            return 0;
        /* Reserved but never marked: its producer is dead or has not run
         * for a whole lap of the ring.  Stamp it abandoned; if it ever
         * resumes, its mark fails and it counts the entry as lost. */
    } else {
        /* INV-5: only over a writer proven dead.  The check's acquire
         * load (or its DEAD CAS) orders it before our steal. */
        uint32_t owner = rl_stamp_owner(s);
        struct rl_registry_slot *reg = &g->registry[owner];
        if (rl_reg_state(atomic_load_explicit(&reg->word, memory_order_acquire)) != RL_REG_DEAD &&
            !stuck_owner_dead(g, ring, t, owner))
            return -1;
    }
    if (!atomic_compare_exchange_strong_explicit(slot, &s, rl_stamp(t, 0, RL_ST_RESERVED),
                                                 memory_order_relaxed, memory_order_relaxed))
        return 0;
    atomic_fetch_add_explicit(&ring->abandoned, 1, memory_order_relaxed);
    atomic_compare_exchange_strong_explicit(&ring->tail, &t, t + 1, memory_order_acq_rel,
                                            memory_order_relaxed);
    return 0;
}

/*
 * Overwrite policy: release the oldest units of the ring (entries, pads,
 * abandoned slots) from tail position t, at least `want` slots' worth when
 * they are there, in one CAS.  While the tail stays at t nothing in
 * [t, pos) can change under us: committed entries, pads and abandoned slots
 * only change after the tail passed them, and we stop before anything still
 * being written.
 */
static int reclaim_oldest(struct rl_region *g, struct rl_ring *ring, uint64_t t, uint64_t head,
                          uint64_t want)
{
    _Atomic uint64_t *seq = rl_seq(g, ring);
    uint64_t pos = t, entries = 0;
    unsigned units = 0;
    while (pos < head && units < RECLAIM_BATCH && pos - t < want) {
        uint64_t s = atomic_load_explicit(&seq[pos & g->mask], memory_order_acquire);
        uint64_t room = g->nslots - (pos & g->mask);
        uint64_t k = 1;
        unsigned st = rl_stamp_state(s);
        if (!rl_stamp_is_for(s, pos) || (st == RL_ST_RESERVED && rl_stamp_owner(s) != 0)) {
            if (units)
                break; /* release what we have; the next call looks at this one */
            return reclaim_stuck(g, ring, t, s);
        }
        if (st == RL_ST_COMMITTED) {
            uint64_t w2 = atomic_load_explicit(&rl_data(g, ring)[(pos & g->mask) * 4 + 2],
                                               memory_order_relaxed);
            k = rl_entry_slots((uint32_t)w2);
            if (k > room) { /* corrupt length: release one slot alone, never more */
                if (units)
                    break;
                k = 1;
            }
            entries++;
        } else if (st == RL_ST_PAD) {
            k = room;
        }
        pos += k;
        units++;
    }
    /* Acquire/release: readers that claimed before us finish copying before
     * we (or the writer we hand the space to) store into it. */
    if (units && atomic_compare_exchange_strong_explicit(&ring->tail, &t, pos, memory_order_acq_rel,
                                                         memory_order_relaxed) &&
        entries)
        atomic_fetch_add_explicit(&ring->overwritten, entries, memory_order_relaxed);
    return 0;
}

/*
 * Reserve `k` contiguous slots (1 <= k <= N).  On success *pos is the first
 * and its slot is marked RESERVED by `owner`.  An entry never crosses the
 * end of the ring: when it would, the rest of the ring is first reserved as
 * a pad of its own.
 */
static int reserve(struct rl_region *g, struct rl_ring *ring, uint64_t k, uint32_t owner,
                   uint64_t *pos)
{
    _Atomic uint64_t *seq = rl_seq(g, ring);
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    /* Every pass either moves the ring on or loses a race to someone who
     * did; the bound only matters when the region's words are corrupt
     * (a tail above the head, a huge head - tail): then we drop, not spin. */
    for (uint64_t pass = 0; pass < 4 * g->nslots + 1024; pass++) {
        uint64_t off = head & g->mask;
        int pad = off + k > g->nslots;
        uint64_t need = pad ? g->nslots - off : k;
        /* The hint first (the producers' own line); the real tail only
         * when the hint says there is no room.  Acquire, on either: the
         * hint was stored (release) by a producer right after its acquire
         * load of the real tail, which pairs with the release of whoever
         * moved the tail; so what they read of the space we are about to
         * reuse was read before, through either path (happens-before is
         * transitive). */
        uint64_t tail = atomic_load_explicit(&ring->tail_hint, memory_order_acquire);
        /* A hint above our head: our head is stale, or the hint word is
         * corrupt.  Either way the real tail decides, and rewriting the
         * hint from it repairs a corrupt one (otherwise every call would
         * spin to the pass limit and drop). */
        if (RL_UNLIKELY(tail > head) || head + need - tail > g->nslots) {
            tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
            if (RL_UNLIKELY(tail > head)) {
                head = atomic_load_explicit(&ring->head, memory_order_relaxed);
                continue;
            }
            /* Racing stores may set it back a little: that only costs
             * another look at the real tail. */
            atomic_store_explicit(&ring->tail_hint, tail, memory_order_release);
        }
        if (head + need - tail > g->nslots) {
            if (g->policy == RINGLOG_DROP ||
                reclaim_oldest(g, ring, tail, head, need + (g->nslots >> 6)) < 0)
                return RES_FULL;
            head = atomic_load_explicit(&ring->head, memory_order_relaxed);
            continue;
        }
        /* The slot's stamp as it is while nobody owns `head`: after the tail
         * passed the previous occupant (acquire above), nothing but the owner
         * of `head` or a reclaimer of `head` changes it. */
        uint64_t expect = atomic_load_explicit(&seq[off], memory_order_relaxed);
        if (!atomic_compare_exchange_weak_explicit(&ring->head, &head, head + need,
                                                   memory_order_relaxed, memory_order_relaxed))
            continue;
        if (pad) {
            /* A stolen pad is still a pad: nothing to undo. */
            mark(&seq[off], expect, rl_stamp(head, owner, RL_ST_PAD));
            head += need;
            continue;
        }
        RL_ASSERT(off + k <= g->nslots); /* INV-2 */
        *pos = head;
        return mark(&seq[off], expect, rl_stamp(head, owner, RL_ST_RESERVED));
    }
    return RES_FULL;
}

static void copy_in(_Atomic uint64_t *dst, const void *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0;
    for (; len >= 8; len -= 8, p += 8, i++) {
        uint64_t w;
        memcpy(&w, p, 8);
        atomic_store_explicit(&dst[i], w, memory_order_relaxed);
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        atomic_store_explicit(&dst[i], w, memory_order_relaxed);
    }
}

/* A log call that stores nothing still takes an index, so that the reader
 * reports the loss as a gap in the order instead of losing it silently. */
static int refuse(struct rl_region *g, struct rl_ring *ring, _Atomic uint64_t *counter, int rc)
{
    atomic_fetch_add_explicit(&g->hdr->next_index, 1, memory_order_release);
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ring->written, 1, memory_order_relaxed);
    return rc;
}

int rl_put(ringlog *log, unsigned level, unsigned type, uint32_t remarks, unsigned flags,
               const void *data, size_t len)
{
    struct rl_region *g = &log->g;
    uint32_t owner = current_owner(log);
    unsigned cpu = rl_plat_cpu();
    uint32_t r = cpu < g->nrings ? cpu : cpu % g->nrings;
    struct rl_ring *ring = rl_ring_at(g, r);
    if (RL_UNLIKELY(owner == 0))
        return refuse(g, ring, &ring->aborted, RINGLOG_DROPPED);

    if (RL_UNLIKELY(len > (g->nslots - 1) * RL_SLOT_SIZE))
        return refuse(g, ring, &ring->too_big, RINGLOG_TOO_BIG);
    uint64_t k = rl_entry_slots(len), pos = 0;
    int rc = reserve(g, ring, k, owner, &pos);
    if (RL_UNLIKELY(rc != RES_OK))
        return refuse(g, ring, rc == RES_FULL ? &ring->dropped : &ring->aborted,
                      RINGLOG_DROPPED);

    /* Release: the reservation (head, mark) is visible to any reader that
     * sees this index or a later one (INV-3). */
    uint64_t index = atomic_fetch_add_explicit(&g->hdr->next_index, 1, memory_order_release);
    uint64_t ts = rl_ticks(g->clock);
    /* A peeking reader that sees any byte we store below must also see the
     * tail move that let us reuse the space (fence pairs with its acquire
     * fence before it re-reads the tail). */
    atomic_thread_fence(memory_order_release);
    _Atomic uint64_t *e = &rl_data(g, ring)[(pos & g->mask) * 4];
    atomic_store_explicit(&e[0], index, memory_order_relaxed);
    atomic_store_explicit(&e[1], ts, memory_order_relaxed);
    atomic_store_explicit(&e[2], (uint64_t)len | (uint64_t)remarks << 32, memory_order_relaxed);
    atomic_store_explicit(&e[3],
                          (uint64_t)(r & 0xffffu) | (uint64_t)(type & 0xffffu) << 16 |
                              (uint64_t)(level & 0xffu) << 32 | (uint64_t)(flags & 0xffu) << 40 |
                              (uint64_t)owner << 48,
                          memory_order_relaxed);
    if (len)
        copy_in(e + 4, data, len);
    /* Commit: release publishes the entry to readers' acquire loads of the
     * stamp (INV-1).  A CAS, not a store: if we were wrongly judged dead and
     * our reservation stolen (INV-5 rests on the liveness check), the entry
     * is lost and counted, never resurrected over someone else's slot. */
    uint64_t reserved = rl_stamp(pos, owner, RL_ST_RESERVED);
    if (RL_UNLIKELY(!atomic_compare_exchange_strong_explicit(
            &rl_seq(g, ring)[pos & g->mask], &reserved, rl_stamp(pos, owner, RL_ST_COMMITTED),
            memory_order_release, memory_order_relaxed))) {
        atomic_fetch_add_explicit(&ring->aborted, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&ring->written, 1, memory_order_relaxed);
        return RINGLOG_DROPPED;
    }
    atomic_fetch_add_explicit(&ring->written, 1, memory_order_relaxed);
    return 0;
}

int ringlog_write(ringlog *log, unsigned level, unsigned type, uint32_t remarks, const void *data,
                  size_t len)
{
    if (RL_UNLIKELY(!log || (!data && len) || level > 255 || type > 0xffff))
        return RINGLOG_EINVAL;
    if (RL_UNLIKELY(!rl_level_on(log, level)))
        return 0; /* filtered: not an entry, not a loss */
    return rl_put(log, level, type, remarks, 0, data, len);
}

int ringlog_vprintf(ringlog *log, unsigned level, const char *fmt, va_list ap)
{
    if (RL_UNLIKELY(!log || !fmt || level > 255))
        return RINGLOG_EINVAL;
    if (RL_UNLIKELY(!rl_level_on(log, level)))
        return 0;
    char buf[RINGLOG_PRINTF_MAX + 1];
    size_t n = rl_vformat(buf, sizeof buf, fmt, ap);
    unsigned flags = 0;
    if (n > RINGLOG_PRINTF_MAX) {
        n = RINGLOG_PRINTF_MAX;
        flags |= RINGLOG_FLAG_TRUNCATED;
    }
    return rl_put(log, level, RINGLOG_TYPE_TEXT, 0, flags, buf, n);
}

int ringlog_printf(ringlog *log, unsigned level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ringlog_vprintf(log, level, fmt, ap);
    va_end(ap);
    return rc;
}

int ringlog_trigger(ringlog *log, const char *reason)
{
    if (RL_UNLIKELY(!log))
        return RINGLOG_EINVAL;
    size_t n = 0;
    while (reason && n < 256 && reason[n])
        n++;
    _Atomic uint32_t *word = &log->g.hdr->triggers;
    _Atomic uint32_t *seq = &log->g.hdr->trigger_seq;
    /* A region made by a build without trigger_seq counted in `triggers`
     * only: continue from there (a lost race only repeats this). */
    uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);
    uint32_t done = atomic_load_explicit(word, memory_order_relaxed);
    if (RL_UNLIKELY((int32_t)(done - s) > 0))
        atomic_compare_exchange_strong_explicit(seq, &s, done, memory_order_relaxed,
                                                memory_order_relaxed);
    uint32_t number = atomic_fetch_add_explicit(seq, 1, memory_order_relaxed) + 1;
    /* The entry first, so a recorder woken below finds it in the rings. */
    int rc = rl_put(log, RINGLOG_LEVEL_CRITICAL, RINGLOG_TYPE_TRIGGER, number, 0, reason, n);
    atomic_fetch_add_explicit(word, 1, memory_order_release);
    rl_plat_futex_wake(word);
    return rc;
}
