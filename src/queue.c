/*
 * The pop-all queue (include/ringlog_queue.h; protocol in docs/DESIGN.md,
 * "The pop-all queue").
 *
 * Two lanes, each a ring of `cap` slots.  Producers push into the current
 * lane; pop-all makes the other lane current, waits until no producer is
 * inside the old one, and hands it to the consumer whole.  Inside a lane a
 * slot is taken by ticket (fetch_add) and stamped with it, so a slot's stamp
 * never repeats (no ABA), a producer overtaken by a later lap finds out by a
 * failed compare-and-swap, and the consumer walks tickets in push order.
 */
#include "ringlog_queue.h"

#include <errno.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { Q_EMPTY = 0, Q_WRITING = 1, Q_COMMITTED = 2 };

static inline uint64_t qstamp(uint64_t ticket, unsigned st) { return ticket << 2 | st; }
static inline uint64_t qticket(uint64_t s) { return s >> 2; }
static inline unsigned qstate(uint64_t s) { return (unsigned)(s & 3u); }

struct qslot {
    _Atomic uint64_t stamp;
    uint32_t len;
    uint32_t pad;
    /* item_size bytes follow, rounded up to 8 */
};

struct lane {
    alignas(64) _Atomic uint64_t reserve; /* next ticket */
    alignas(64) _Atomic uint32_t users;   /* producers inside the lane */
    /* First ticket not yet handed to the consumer.  Written by the consumer
     * only while the lane is not current and has no users. */
    uint64_t start;
    unsigned char *slots;
};

struct ringlog_queue {
    struct lane lane[2];
    alignas(64) _Atomic unsigned current;
    int held; /* consumer holds a batch */
    uint64_t *late; /* consumer's: tickets older than the batch window, sorted */
    size_t cap, item_size, stride;
    alignas(64) _Atomic uint64_t pushed, popped, overwritten, dropped;
};

static struct qslot *slot_at(const ringlog_queue *q, const struct lane *l, uint64_t ticket)
{
    return (struct qslot *)(l->slots + (ticket % q->cap) * q->stride);
}

/* "Allocated at create" must also mean "faulted in at create": calloc of a
 * large block maps zero pages lazily, and the first push to each page would
 * then take a page fault (microseconds) inside the push.  Volatile stores,
 * so the compiler cannot fold them into the calloc. */
static void *alloc_touched(size_t n, size_t size)
{
    unsigned char *p = calloc(n, size);
    if (p)
        for (size_t off = 0; off < n * size; off += 4096)
            ((volatile unsigned char *)p)[off] = 0;
    return p;
}

int ringlog_queue_create(const struct ringlog_queue_options *o, ringlog_queue **out)
{
    if (!out)
        return RINGLOG_EINVAL;
    *out = NULL;
    size_t cap = o && o->capacity ? o->capacity : 4096;
    size_t isz = o && o->item_size ? o->item_size : 64;
    if (cap > ((size_t)1 << 28) || isz > ((size_t)1 << 20))
        return RINGLOG_EINVAL;
    ringlog_queue *q = aligned_alloc(64, (sizeof *q + 63) & ~(size_t)63);
    if (!q)
        return RINGLOG_ENOMEM;
    memset(q, 0, sizeof *q);
    q->cap = cap;
    q->item_size = isz;
    q->stride = sizeof(struct qslot) + ((isz + 7) & ~(size_t)7);
    q->late = alloc_touched(cap, sizeof *q->late);
    if (!q->late) {
        ringlog_queue_destroy(q);
        return RINGLOG_ENOMEM;
    }
    for (int i = 0; i < 2; i++) {
        q->lane[i].slots = alloc_touched(cap, q->stride);
        if (!q->lane[i].slots) {
            ringlog_queue_destroy(q);
            return RINGLOG_ENOMEM;
        }
    }
    *out = q;
    return 0;
}

void ringlog_queue_destroy(ringlog_queue *q)
{
    if (!q)
        return;
    free(q->lane[0].slots);
    free(q->lane[1].slots);
    free(q->late);
    free(q);
}

/* Stores the item under some ticket of lane l.  Returns 0, 1 if it
 * overwrote an unpopped item, RINGLOG_DROPPED if every slot it tried was
 * being written by another producer. */
static int put(ringlog_queue *q, struct lane *l, const void *item, size_t len)
{
    for (size_t tries = 0; tries < q->cap; tries++) {
        uint64_t t = atomic_fetch_add_explicit(&l->reserve, 1, memory_order_relaxed);
        struct qslot *s = slot_at(q, l, t);
        uint64_t old = atomic_load_explicit(&s->stamp, memory_order_acquire);
        /* Still being written by an earlier lap, or already taken by a later
         * one (we were preempted): leave this ticket empty, take another. */
        if (qstate(old) == Q_WRITING || qticket(old) >= t)
            continue;
        if (!atomic_compare_exchange_strong_explicit(&s->stamp, &old, qstamp(t, Q_WRITING),
                                                     memory_order_acquire, memory_order_relaxed))
            continue;
        int overwrote = qstate(old) == Q_COMMITTED && qticket(old) >= l->start;
        s->len = (uint32_t)len;
        memcpy(s + 1, item, len);
        atomic_store_explicit(&s->stamp, qstamp(t, Q_COMMITTED), memory_order_release);
        if (overwrote)
            atomic_fetch_add_explicit(&q->overwritten, 1, memory_order_relaxed);
        return overwrote;
    }
    atomic_fetch_add_explicit(&q->dropped, 1, memory_order_relaxed);
    return RINGLOG_DROPPED;
}

int ringlog_queue_push(ringlog_queue *q, const void *item, size_t len)
{
    if (!q || (!item && len))
        return RINGLOG_EINVAL;
    if (len > q->item_size)
        len = q->item_size;
    atomic_fetch_add_explicit(&q->pushed, 1, memory_order_relaxed);
    for (;;) {
        unsigned c = atomic_load_explicit(&q->current, memory_order_seq_cst);
        struct lane *l = &q->lane[c];
        /* Enter, then check the lane is still current.  With the consumer's
         * "switch current, then read users" this is a store-load pattern on
         * two locations: both sides need seq_cst so that at least one sees
         * the other (we retreat, or it waits for us). */
        atomic_fetch_add_explicit(&l->users, 1, memory_order_seq_cst);
        if (atomic_load_explicit(&q->current, memory_order_seq_cst) != c) {
            atomic_fetch_sub_explicit(&l->users, 1, memory_order_release);
            continue;
        }
        int rc = put(q, l, item, len);
        /* Release: our slot writes happen-before the consumer's walk. */
        atomic_fetch_sub_explicit(&l->users, 1, memory_order_release);
        return rc;
    }
}

long ringlog_queue_pop_all(ringlog_queue *q, struct ringlog_queue_batch *b)
{
    if (!q || !b)
        return RINGLOG_EINVAL;
    if (q->held)
        return RINGLOG_EBUSY;
    unsigned c = atomic_load_explicit(&q->current, memory_order_relaxed);
    struct lane *l = &q->lane[c];
    if (atomic_load_explicit(&l->reserve, memory_order_relaxed) == l->start)
        return 0; /* nothing pushed since the last pop: return at once */
    atomic_store_explicit(&q->current, c ^ 1u, memory_order_seq_cst);
    /* Wait for producers still inside the old lane: each is a few stores
     * from leaving, unless it was preempted there. */
    for (unsigned spins = 0; atomic_load_explicit(&l->users, memory_order_seq_cst) != 0; spins++) {
        if (spins < 64) {
            sched_yield();
        } else {
            struct timespec ts = {0, 10000};
            nanosleep(&ts, NULL);
        }
    }
    uint64_t end = atomic_load_explicit(&l->reserve, memory_order_relaxed);
    uint64_t first = end - l->start > q->cap ? end - q->cap : l->start;
    /* The window [first, end) holds each slot once.  A slot whose ticket in
     * the window was skipped (its earlier writer was still busy) may still
     * hold that earlier writer's item: a "late" item, older than the
     * window, delivered first. */
    size_t n = 0, nlate = 0;
    for (uint64_t t = first; t < end; t++) {
        uint64_t st = atomic_load_explicit(&slot_at(q, l, t)->stamp, memory_order_relaxed);
        if (st == qstamp(t, Q_COMMITTED))
            n++;
        else if (qstate(st) == Q_COMMITTED && qticket(st) >= l->start && qticket(st) < first)
            q->late[nlate++] = qticket(st);
    }
    /* Few, and nearly sorted: insertion sort. */
    for (size_t i = 1; i < nlate; i++)
        for (size_t j = i; j > 0 && q->late[j - 1] > q->late[j]; j--) {
            uint64_t x = q->late[j];
            q->late[j] = q->late[j - 1];
            q->late[j - 1] = x;
        }
    *b = (struct ringlog_queue_batch){n + nlate, q, c, first, end, 0, nlate};
    q->held = 1;
    atomic_fetch_add_explicit(&q->popped, n + nlate, memory_order_relaxed);
    return (long)(n + nlate);
}

const void *ringlog_queue_next(struct ringlog_queue_batch *b, size_t *len)
{
    if (!b || !b->q)
        return NULL;
    const ringlog_queue *q = b->q;
    const struct lane *l = &q->lane[b->lane];
    if (b->late_next < b->late_count) {
        struct qslot *s = slot_at(q, l, q->late[b->late_next++]);
        if (len)
            *len = s->len;
        return s + 1;
    }
    while (b->next_ticket < b->end_ticket) {
        uint64_t t = b->next_ticket++;
        struct qslot *s = slot_at(q, l, t);
        /* No producer is in this lane any more: the stamp cannot change. */
        if (atomic_load_explicit(&s->stamp, memory_order_relaxed) != qstamp(t, Q_COMMITTED))
            continue; /* a ticket left empty, or overwritten by a later lap */
        if (len)
            *len = s->len;
        return s + 1;
    }
    return NULL;
}

void ringlog_queue_release(struct ringlog_queue_batch *b)
{
    if (!b || !b->q)
        return;
    ringlog_queue *q = b->q;
    struct lane *l = &q->lane[b->lane];
    /* Published to producers by the seq_cst store of `current` that makes
     * this lane current again. */
    l->start = b->end_ticket;
    q->held = 0;
    b->q = NULL;
}

void ringlog_queue_stats(ringlog_queue *q, struct ringlog_queue_stats *s)
{
    if (!q || !s)
        return;
    s->pushed = atomic_load_explicit(&q->pushed, memory_order_relaxed);
    s->popped = atomic_load_explicit(&q->popped, memory_order_relaxed);
    s->overwritten = atomic_load_explicit(&q->overwritten, memory_order_relaxed);
    s->dropped = atomic_load_explicit(&q->dropped, memory_order_relaxed);
    uint64_t out = s->popped + s->overwritten + s->dropped;
    s->queued = s->pushed > out ? s->pushed - out : 0;
}
