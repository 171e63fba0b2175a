/*
 * The producer: write an entry into the calling thread's lane and publish
 * it with one release store.  docs/DESIGN.md, "Writing", gives the
 * protocol and the invariants (INV-n) cited below.
 *
 * A lane has one writer (INV-L1), so the common path is plain: read the
 * clock, store the header and payload words, store the new head (release)
 * and the new sequence number (release).  No compare-and-swap, no shared
 * counter, no line another writer writes.  The rare paths (a new
 * sub-buffer, a full lane) are in make_room.  Everything here runs in
 * signal handlers too: no lock, no allocation, no system call, never a
 * wait on another writer.
 */
#include "fmt.h"
#include "internal.h"

#include <string.h>

static inline uint64_t ld(_Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}
/* A single-writer counter: a load and a store, no read-modify-write. */
static inline void bump(_Atomic uint64_t *p)
{
    atomic_store_explicit(p, ld(p) + 1, memory_order_relaxed);
}

/*
 * Overwrite policy, entering the sub-buffer that starts at position p:
 * its previous content, [p - S, p - S + sub), must leave the lane first.
 * Entries in it the consumer has not claimed are counted as overwritten;
 * the tail moves over them by compare-and-swap (the consumer moves it
 * too), once per sub-buffer, not per call.  Refused (-1) while a snapshot
 * freezes the region, except for a trigger's own entry (`exempt`): the
 * trigger freezes the region before it logs it.
 */
static int evict(struct rl_region *g, struct rl_lane *l, uint64_t p, uint64_t now, int exempt)
{
    if (p < g->size)
        return 0; /* first lap: nothing there */
    uint64_t floor = p - g->size + g->sub;
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
    if (t >= floor) {
        /* Consumed already.  The fence makes a peeking reader that sees
         * our next stores also see this tail (INV-R4), as after an
         * eviction. */
        atomic_thread_fence(memory_order_release);
        return 0;
    }
    /* A snapshot is copying: keep the history (DESIGN.md, "Snapshots").
     * Signed: clocks of two CPUs may differ by a hair. */
    uint64_t until = atomic_load_explicit(&g->hdr->freeze_until, memory_order_relaxed);
    if (RL_UNLIKELY(until && (int64_t)(until - now) > 0) && !exempt)
        return -1;
    /* Bounded: every failed CAS means the consumer moved the tail forward,
     * and it never passes our head.  The bound only matters for corrupt
     * words. */
    for (unsigned pass = 0; pass < 1024 && t < floor; pass++) {
        uint64_t n = 0, q = t < floor - g->sub ? floor - g->sub : t, pos, len;
        /* Count entries in [q, floor): our own earlier writes, walked with
         * the one walker and its rule for a corrupt length (the region is
         * shared, so it may be corrupt). */
        struct rl_walk w;
        int k;
        rl_walk_init(&w, g, l, q, floor);
        while ((k = rl_walk_next(&w, &pos, &len)) != RL_WALK_END)
            n += k == RL_WALK_ENTRY;
        if (atomic_compare_exchange_strong_explicit(&l->tail, &t, floor, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            atomic_store_explicit(&l->overwritten, ld(&l->overwritten) + n, memory_order_relaxed);
            /* A peeking reader that sees any byte we store from now on must
             * also see the tail move (its acquire fence before it re-reads
             * the tail pairs with this one). */
            atomic_thread_fence(memory_order_release);
            return 0;
        }
    }
    /* The consumer passed floor meanwhile (or the words are corrupt): the
     * same fence as after an eviction (INV-R4). */
    atomic_thread_fence(memory_order_release);
    return 0;
}

/*
 * The next `need` bytes do not fit where the head is, or start a new
 * sub-buffer: pad to the sub-buffer's end when needed, make room (evict
 * under overwrite, check the consumer's tail under drop).  On success *h is
 * where the entry goes; the pad, if any, is published with the entry.
 */
static int make_room(struct rl_region *g, struct rl_lane *l, struct rl_wpos *wp, uint64_t *h,
                     uint64_t need, uint64_t now, int exempt)
{
    uint64_t p = *h, in = p & (g->sub - 1);
    uint64_t pad = in && in + need > g->sub ? g->sub - in : 0;
    uint64_t at = p + pad; /* where the entry will start */
    if (g->policy == RINGLOG_DROP) {
        uint64_t limit = wp->limit;
        if (at + need > limit) {
            /* Acquire: the consumer copied out what it claimed before it
             * moved the tail (its release); we reuse that space only now. */
            limit = atomic_load_explicit(&l->tail, memory_order_acquire) + g->size;
            wp->limit = limit;
            atomic_store_explicit(&l->limit, limit, memory_order_relaxed);
            if (at + need > limit)
                return -1;
            /* We are about to reuse space the consumer released: a peeking
             * reader that sees our stores must see its tail (INV-R4). */
            atomic_thread_fence(memory_order_release);
        }
    } else if ((at & (g->sub - 1)) == 0 && evict(g, l, at, now, exempt) != 0) {
        if (pad) {
            /* The pad alone: it fills our own sub-buffer, always allowed. */
            if (pad >= RL_EHDR)
                atomic_store_explicit(rl_lane_word(g, l, p + 16), RL_LEN_PAD | pad,
                                      memory_order_relaxed);
            *h = at;
            wp->head = at;
            atomic_store_explicit(&l->head, at, memory_order_release);
        }
        return -2;
    }
    if (pad >= RL_EHDR) {
        _Atomic uint64_t *w = rl_lane_word(g, l, p);
        atomic_store_explicit(&w[0], now, memory_order_relaxed);
        atomic_store_explicit(&w[1], 0, memory_order_relaxed);
        atomic_store_explicit(&w[2], RL_LEN_PAD | pad, memory_order_relaxed);
        atomic_store_explicit(&w[3], 0, memory_order_relaxed);
    }
    *h = at;
    return 0;
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

/* A call that stores nothing still spends its sequence number, so that
 * readers report it as a gap: nothing is lost silently. */
static int refuse(struct rl_lane *l, struct rl_wpos *wp, _Atomic uint64_t *why, int rc)
{
    bump(&l->lost);
    if (why)
        bump(why);
    wp->seq++;
    atomic_store_explicit(&l->seq, wp->seq, memory_order_release);
    return rc;
}

static int lane_put(struct rl_region *g, struct rl_lane *l, struct rl_wpos *wp, uint32_t reg,
                    uint32_t tid, unsigned level, unsigned type, uint32_t remarks, unsigned flags,
                    const void *data, size_t len)
{
    uint64_t s = wp->seq, h = wp->head;
    if (RL_UNLIKELY(len > g->sub - RL_EHDR))
        return refuse(l, wp, &l->too_big, RINGLOG_TOO_BIG);
    uint64_t need = rl_entry_bytes(len);
    uint64_t now = rl_ticks(g->clock);
    /* Readers hold back entries newer than this until we publish (INV-W3);
     * rl_put clears it. */
    atomic_store_explicit(&l->inflight, now, memory_order_relaxed);
    uint64_t in = h & (g->sub - 1);
    if (RL_UNLIKELY(in == 0 || in + need > g->sub ||
                    (g->policy == RINGLOG_DROP && h + need > wp->limit))) {
        int rc = make_room(g, l, wp, &h, need, now, (flags & RL_PUT_EXEMPT) != 0);
        if (rc)
            return refuse(l, wp, rc == -2 ? &l->frozen : NULL, RINGLOG_DROPPED);
    }
    RL_ASSERT((h & (g->sub - 1)) + need <= g->sub); /* INV-W2 */
    _Atomic uint64_t *w = rl_lane_word(g, l, h);
    atomic_store_explicit(&w[0], now, memory_order_relaxed);
    atomic_store_explicit(&w[1], rl_seqown(s, reg), memory_order_relaxed);
    atomic_store_explicit(&w[2], (uint64_t)len | (uint64_t)remarks << 32, memory_order_relaxed);
    atomic_store_explicit(&w[3],
                          (uint64_t)(type & 0xffffu) | (uint64_t)(level & 0xffu) << 16 |
                              (uint64_t)(flags & 0xffu) << 24 | (uint64_t)tid << 32,
                          memory_order_relaxed);
    if (len)
        copy_in(w + 4, data, len);
    /* Publish (INV-W1): a reader that loads this head (acquire) sees every
     * word above.  Then the call's sequence number, after the head: a
     * reader that sees seq = s + 1 sees the entry too. */
    wp->head = h + need;
    wp->seq = s + 1;
    atomic_store_explicit(&l->head, h + need, memory_order_release);
    atomic_store_explicit(&l->seq, s + 1, memory_order_release);
    /* Take the next entries' lines for writing now (a burst's next calls
     * then find them ours: the reader may still hold copies from the last
     * lap, and taking them back is what a store would otherwise wait for). */
    rl_plat_prefetch_write(rl_lane_word(g, l, h + need + 64));
    return 0;
}

static void auto_trigger(ringlog *log, unsigned level);

int rl_put(ringlog *log, unsigned level, unsigned type, uint32_t remarks, unsigned flags,
           const void *data, size_t len)
{
    struct rl_region *g = &log->g;
    unsigned d = rl_tls.depth;
    /* Depth first: a signal handler that interrupts us from here on logs
     * at the next depth, into another lane (INV-L2). */
    rl_tls.depth = d + 1;
    atomic_signal_fence(memory_order_seq_cst);
    struct rl_lane_ref ref;
    int lent = 0, rc;
    struct rl_tls_slot *ts = &rl_tls.slot[d < RL_NEST ? d : 0][0];
    if (RL_LIKELY(d < RL_NEST && ts->tag == log->tag)) {
        ref.lane = ts->lane;
        ref.tid = rl_tls.tid;
        ref.pos = &ts->pos;
    } else if (rl_lane_get(log, d, &ref, &lent) != 0) {
        /* No lane: lost, counted where every reader sees it. */
        atomic_fetch_add_explicit(&g->hdr->nolane, 1, memory_order_relaxed);
        rc = RINGLOG_DROPPED;
        goto out;
    }
    rc = lane_put(g, ref.lane, ref.pos, log->owner, ref.tid, level, type, remarks, flags, data,
                  len);
    /* After head and seq (program order of release stores). */
    atomic_store_explicit(&ref.lane->inflight, 0, memory_order_release);
    if (lent)
        rl_lane_return(log, &ref);
out:
    atomic_signal_fence(memory_order_seq_cst);
    rl_tls.depth = d;
    /* The same line as min_level, which the caller has just read. */
    uint32_t ta = atomic_load_explicit(&g->hdr->trigger_level, memory_order_relaxed);
    if (RL_UNLIKELY(ta && level + 1 >= ta && type != RINGLOG_TYPE_TRIGGER))
        auto_trigger(log, level);
    return rc;
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

/* An entry at the auto-trigger level: one trigger per interval, won by
 * the one call whose CAS moves the last-trigger time (the others, and the
 * calls within the interval, only read it). */
static void auto_trigger(ringlog *log, unsigned level)
{
    struct rl_header *hd = log->g.hdr;
    uint32_t ms = atomic_load_explicit(&hd->trigger_interval_ms, memory_order_relaxed);
    uint64_t now = rl_ticks(log->g.clock);
    uint64_t last = atomic_load_explicit(&hd->last_auto_trigger, memory_order_relaxed);
    if (last && now - last < rl_ms_ticks(&log->g, ms ? ms : 1000))
        return;
    if (!atomic_compare_exchange_strong_explicit(&hd->last_auto_trigger, &last, now ? now : 1,
                                                 memory_order_relaxed, memory_order_relaxed))
        return;
    /* A reason built without snprintf: this may run in a signal handler. */
    char reason[48] = "auto-trigger at level ";
    size_t n = strlen(reason);
    const char *name = level <= RINGLOG_LEVEL_CRITICAL ? ringlog_level_name(level) : "high-level";
    for (size_t i = 0; name[i] && n < sizeof reason - 8; i++)
        reason[n++] = name[i];
    reason[n] = 0;
    ringlog_trigger(log, reason);
}

int ringlog_set_trigger_level(ringlog *log, int level, unsigned interval_ms)
{
    if (!log || level > 255)
        return rl_fail(RINGLOG_EINVAL, "trigger level %d: must be 0..255, or < 0 for off", level);
    if (!log->g.map.writable)
        return rl_fail(RINGLOG_EACCES, "region mapped read-only");
    struct rl_header *hd = log->g.hdr;
    atomic_store_explicit(&hd->trigger_interval_ms, interval_ms, memory_order_relaxed);
    atomic_store_explicit(&hd->trigger_level, level < 0 ? 0u : (uint32_t)level + 1,
                          memory_order_relaxed);
    return 0;
}

int ringlog_get_trigger_level(ringlog *log, unsigned *interval_ms)
{
    if (!log)
        return rl_fail(RINGLOG_EINVAL, "NULL log");
    struct rl_header *hd = log->g.hdr;
    if (interval_ms) {
        uint32_t ms = atomic_load_explicit(&hd->trigger_interval_ms, memory_order_relaxed);
        *interval_ms = ms ? ms : 1000;
    }
    uint32_t t = atomic_load_explicit(&hd->trigger_level, memory_order_relaxed);
    return t ? (int)(t > 256 ? 255 : t - 1) : -1;
}

int ringlog_trigger(ringlog *log, const char *reason)
{
    if (RL_UNLIKELY(!log))
        return RINGLOG_EINVAL;
    size_t n = 0;
    while (reason && n < RINGLOG_REASON_MAX && reason[n])
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
    /* seq_cst here and on the freeze word: a copier that reads the freeze,
     * then this number and the count, and lifts the freeze only when they
     * agree, either sees us in flight or finds the word changed by us
     * (snapshot.c, copy_and_thaw). */
    uint32_t number = atomic_fetch_add_explicit(seq, 1, memory_order_seq_cst) + 1;
    /* With a recorder attached, hold the history until it has copied it:
     * writers stop evicting and the consumer stops claiming (DESIGN.md,
     * "Snapshots").  Before the entry: a consumer that copies the entry
     * (its head load is an acquire of our publishing release) then sees
     * the freeze, and leaves the entry for the snapshot.  Raised, never
     * lowered, by racing triggers; it expires by itself should the
     * recorder die. */
    struct rl_header *hd = log->g.hdr;
    uint32_t rpid = atomic_load_explicit(&hd->recorder_pid, memory_order_relaxed);
    if (rpid && rl_plat_proc_alive(rpid, 0)) {
        /* Always a new value, never lower: a copier's lift (a CAS from the
         * value it read before its copy) then fails for every trigger that
         * froze after that read. */
        uint64_t until = rl_ticks(log->g.clock) + rl_ms_ticks(&log->g, RL_FREEZE_MS);
        uint64_t cur = atomic_load_explicit(&hd->freeze_until, memory_order_seq_cst);
        for (;;) {
            uint64_t want = (int64_t)(until - cur) > 0 ? until : cur + 1;
            if (atomic_compare_exchange_weak_explicit(&hd->freeze_until, &cur, want,
                                                      memory_order_seq_cst,
                                                      memory_order_seq_cst))
                break;
        }
    }
    /* The entry before the count, so a recorder woken below finds it in
     * the rings; the freeze never refuses it (evict's `exempt`). */
    int rc = rl_put(log, RINGLOG_LEVEL_CRITICAL, RINGLOG_TYPE_TRIGGER, number, RL_PUT_EXEMPT,
                    reason, n);
    atomic_fetch_add_explicit(word, 1, memory_order_release);
    rl_plat_futex_wake(word);
    return rc;
}
