/*
 * Lanes: who may write where.  A lane has exactly one writer at a time,
 * named by its owner word (layout.h).  A thread claims a lane at its first
 * log call to a region (one compare-and-swap), keeps it in thread-local
 * storage and gives it back when it exits or the handle is closed; lanes
 * of a process that died are reclaimed by the next thread that needs one.
 * The last `pool` lanes are never kept: they are lent for one call at a
 * time to threads that found no lane of their own.  docs/DESIGN.md,
 * "Lanes", gives the lifecycle and the invariants (INV-n) cited here.
 *
 * None of this runs on the common path of a log call: rl_put finds its lane
 * in rl_tls with one compare.  It may run in a signal handler (a thread's
 * first call, a nested call): only compare-and-swap, no lock, no
 * allocation; liveness checks make async-signal-safe system calls.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__thread struct rl_tls rl_tls __attribute__((tls_model("initial-exec")));
_Atomic uint32_t rl_fork_gen;

/* Open handles by tag, for the thread-exit destructor: a thread's cache
 * may name a handle that was closed (and its region unmapped) since. */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle_ent {
    uint32_t tag;
    ringlog *log;
} *handles;
static size_t nhandles, caphandles;
static pthread_key_t exit_key;
/* The tags of open handles, readable without a lock (rl_lane_get runs in
 * signal handlers): a thread's cache slot whose tag is not here belongs
 * to a closed handle, which gave its lanes back, so the slot may be
 * reused.  While any open handle found no free cell, every tag counts as
 * open (slots are then never reused early: safe, not stale). */
#define OPEN_TAGS 1024u
static _Atomic uint32_t open_tags[OPEN_TAGS];
static _Atomic uint32_t unlisted_open;

static int tag_open(uint32_t tag)
{
    if (atomic_load_explicit(&unlisted_open, memory_order_acquire))
        return 1;
    for (unsigned i = 0; i < OPEN_TAGS; i++)
        if (atomic_load_explicit(&open_tags[i], memory_order_acquire) == tag)
            return 1;
    return 0;
}
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* Liveness checks one claim may run when no lane is free (each may read
 * /proc): bounds the cost of a first call in a region full of live
 * threads. */
#define MAX_DEATH_CHECKS 64u

static void on_thread_exit(void *arg);
static void make_key(void)
{
    pthread_key_create(&exit_key, on_thread_exit);
}

int rl_handles_add(ringlog *log);
int rl_handles_add(ringlog *log)
{
    pthread_once(&key_once, make_key);
    pthread_mutex_lock(&handles_lock);
    if (nhandles == caphandles) {
        size_t cap = caphandles ? caphandles * 2 : 16;
        struct handle_ent *h = realloc(handles, cap * sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&handles_lock);
            return RINGLOG_ENOMEM;
        }
        handles = h;
        caphandles = cap;
    }
    handles[nhandles].tag = log->tag;
    handles[nhandles].log = log;
    nhandles++;
    log->listed = 0;
    for (unsigned i = 0; i < OPEN_TAGS; i++) {
        uint32_t z = 0;
        if (atomic_compare_exchange_strong_explicit(&open_tags[i], &z, log->tag,
                                                    memory_order_release, memory_order_relaxed)) {
            log->listed = i + 1;
            break;
        }
    }
    if (!log->listed)
        atomic_fetch_add_explicit(&unlisted_open, 1, memory_order_release);
    pthread_mutex_unlock(&handles_lock);
    return 0;
}

void rl_handles_remove(ringlog *log);
void rl_handles_remove(ringlog *log)
{
    pthread_mutex_lock(&handles_lock);
    for (size_t i = 0; i < nhandles; i++)
        if (handles[i].log == log) {
            handles[i] = handles[--nhandles];
            break;
        }
    pthread_mutex_unlock(&handles_lock);
}

static uint32_t my_tid(void)
{
    if (RL_UNLIKELY(rl_tls.tid == 0))
        rl_tls.tid = rl_plat_tid();
    return rl_tls.tid;
}

void rl_lanes_fork_child(void)
{
    /* Handles inherited from the parent claim registry slots of their own
     * (rl_current_owner); the child's only thread drops the parent's lanes
     * from its cache. */
    atomic_fetch_add_explicit(&rl_fork_gen, 1, memory_order_relaxed);
    memset(rl_tls.slot, 0, sizeof rl_tls.slot);
    rl_tls.tid = 0;
}

uint32_t rl_current_owner(ringlog *log)
{
    uint32_t gen = atomic_load_explicit(&rl_fork_gen, memory_order_relaxed);
    if (RL_LIKELY(gen == log->fork_gen))
        return log->owner;
    /* First lane claim in a forked child: the inherited registry id names
     * the parent, whose death would let others reclaim our lanes.  Claim
     * our own (a few system calls, once per fork). */
    uint32_t owner;
    if (rl_registry_claim(&log->g, &owner) != 0)
        return 0;
    log->owner = owner;
    log->fork_gen = gen;
    return owner;
}

/* Give a lane back if it is still ours.  Release: everything we wrote to
 * it happens-before the next holder's claim (acquire). */
static void give_back(struct rl_lane *l, uint64_t own)
{
    atomic_compare_exchange_strong_explicit(&l->owner, &own, rl_own_free(own),
                                            memory_order_release, memory_order_relaxed);
}

static void on_thread_exit(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&handles_lock);
    for (unsigned d = 0; d < RL_NEST; d++)
        for (unsigned k = 0; k < RL_TLS_REGIONS; k++) {
            struct rl_tls_slot *s = &rl_tls.slot[d][k];
            if (!s->tag)
                continue;
            /* Only through a handle still open: a closed one released its
             * lanes and its mapping may be gone. */
            for (size_t i = 0; i < nhandles; i++)
                if (handles[i].tag == s->tag) {
                    give_back(s->lane, s->own);
                    break;
                }
            s->tag = 0;
        }
    pthread_mutex_unlock(&handles_lock);
}

/*
 * The lane's holder is gone (its process died, INV-L3): take it.  The
 * reclaimer is its writer from the compare-and-swap on; an entry the dead
 * holder had begun but not published (its header at `head` names the next
 * sequence number) is counted as abandoned and its number spent, so that
 * readers report it as a gap.  Returns 1 when the lane is now `mine`.
 */
int rl_lane_reclaim(struct rl_region *g, uint32_t i, uint64_t seen, uint64_t mine)
{
    struct rl_lane *l = rl_lane_at(g, i);
    if (!atomic_compare_exchange_strong_explicit(&l->owner, &seen, mine, memory_order_acquire,
                                                 memory_order_relaxed))
        return 0;
    uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
    uint64_t s = atomic_load_explicit(&l->seq, memory_order_relaxed);
    /* The holder may have died between publishing its entry (head) and
     * counting it (seq): the newest entry below the head then carries seq
     * itself.  Walk the head's sub-buffer for it, so that no number is
     * handed out twice. */
    if (h) {
        struct rl_walk w;
        uint64_t from = (h - 1) & ~(g->sub - 1), pos, len, last = 0;
        int have = 0, k;
        rl_walk_init(&w, g, l, from, h);
        while ((k = rl_walk_next(&w, &pos, &len)) != RL_WALK_END)
            if (k == RL_WALK_ENTRY) {
                last = atomic_load_explicit(rl_lane_word(g, l, pos + 8), memory_order_relaxed);
                have = 1;
            }
        uint64_t ls = rl_seq_extend(last & RL_SEQ_MASK, s);
        if (have && (int64_t)(ls - s) >= 0 && ls - s < g->size) {
            s = ls + 1;
            atomic_store_explicit(&l->seq, s, memory_order_release);
        }
    }
    /* A call begun and not published: its header at the head names the
     * next number. */
    if ((h & (g->sub - 1)) + RL_EHDR <= g->sub) {
        uint64_t so = atomic_load_explicit(rl_lane_word(g, l, h + 8), memory_order_relaxed);
        if ((so & RL_SEQ_MASK) == (s & RL_SEQ_MASK) && (uint32_t)(so >> RL_SEQ_BITS) ==
                                                           rl_own_reg(seen)) {
            atomic_store_explicit(&l->abandoned,
                                  atomic_load_explicit(&l->abandoned, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            /* Zero the stale header so that a second reclaim does not count
             * it again. */
            atomic_store_explicit(rl_lane_word(g, l, h + 8), 0, memory_order_relaxed);
            atomic_store_explicit(&l->seq, s + 1, memory_order_release);
        }
    }
    atomic_store_explicit(&l->inflight, 0, memory_order_relaxed);
    return 1;
}

/* Is the holder named by owner word `w` gone?  Only a dead process proves
 * it (INV-L3): a stopped or slow thread keeps its lane. */
static int holder_dead(struct rl_region *g, uint64_t w, unsigned *checks)
{
    uint32_t reg = rl_own_reg(w);
    if (reg == 0 || reg >= RL_REGISTRY_COUNT)
        return 1; /* not a holder any writer could be */
    unsigned st = rl_reg_state(atomic_load_explicit(&g->registry[reg].word, memory_order_acquire));
    if (st == RL_REG_DEAD)
        return 1;
    if (*checks >= MAX_DEATH_CHECKS)
        return 0;
    (*checks)++;
    return rl_registry_check_dead(g, reg);
}

/* Try lanes [from, to) starting at `start`: free ones first, then those of
 * dead holders.  Returns the lane or -1. */
static int64_t take_lane(struct rl_region *g, uint32_t from, uint32_t to, uint32_t start,
                         uint32_t tid, uint32_t reg, unsigned state, uint64_t *own)
{
    uint32_t n = to - from;
    if (!n)
        return -1;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = from + (start + k) % n;
        struct rl_lane *l = rl_lane_at(g, i);
        uint64_t w = atomic_load_explicit(&l->owner, memory_order_relaxed);
        if (rl_own_state(w) != RL_LANE_FREE)
            continue;
        uint64_t mine = rl_own_make(w, tid, reg, state);
        /* Acquire: the previous holder's writes (release at give-back)
         * happen-before ours (INV-L1). */
        if (atomic_compare_exchange_strong_explicit(&l->owner, &w, mine, memory_order_acquire,
                                                    memory_order_relaxed)) {
            *own = mine;
            return i;
        }
    }
    unsigned checks = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = from + (start + k) % n;
        struct rl_lane *l = rl_lane_at(g, i);
        uint64_t w = atomic_load_explicit(&l->owner, memory_order_relaxed);
        if (rl_own_state(w) == RL_LANE_FREE || rl_own_reg(w) == reg || !holder_dead(g, w, &checks))
            continue;
        /* Re-read: the registry check may have taken a while. */
        uint64_t mine = rl_own_make(w, tid, reg, state);
        if (rl_lane_reclaim(g, i, w, mine)) {
            *own = mine;
            return i;
        }
    }
    return -1;
}

/* The published position of a lane just taken: the previous holder's last
 * stores (its give-back released them, our claim acquired). */
static void load_pos(struct rl_lane *l, struct rl_wpos *p)
{
    p->head = atomic_load_explicit(&l->head, memory_order_relaxed);
    p->seq = atomic_load_explicit(&l->seq, memory_order_relaxed);
    p->limit = atomic_load_explicit(&l->limit, memory_order_relaxed);
}

int rl_lane_get(ringlog *log, unsigned depth, struct rl_lane_ref *out, int *lent)
{
    struct rl_region *g = &log->g;
    *lent = 0;
    uint32_t tid = my_tid();
    out->tid = tid;
    if (depth < RL_NEST) {
        struct rl_tls_slot *s = rl_tls.slot[depth];
        for (unsigned k = 1; k < RL_TLS_REGIONS; k++)
            if (s[k].tag == log->tag) {
                /* Most recently used first: the log path looks at [0] only. */
                struct rl_tls_slot t = s[k];
                s[k] = s[0];
                s[0] = t;
                out->lane = s[0].lane;
                out->index = s[0].index;
                out->own = s[0].own;
                out->pos = &s[0].pos;
                return 0;
            }
    }
    uint32_t reg = rl_current_owner(log);
    if (RL_UNLIKELY(reg == 0))
        return -1;
    uint32_t keep = g->nlanes - g->pool;
    uint64_t own = 0;
    int64_t i = -1;
    int cacheable = depth < RL_NEST && rl_tls.slot[depth][RL_TLS_REGIONS - 1].tag == 0;
    if (depth < RL_NEST && !cacheable) {
        /* A full cache: slots of handles closed since are free again (their
         * lanes were given back at close). */
        struct rl_tls_slot *s = rl_tls.slot[depth];
        for (unsigned k = RL_TLS_REGIONS; k-- > 0;)
            if (!tag_open(s[k].tag)) {
                memmove(&s[k], &s[k + 1], (RL_TLS_REGIONS - 1 - k) * sizeof *s);
                s[RL_TLS_REGIONS - 1].tag = 0;
                cacheable = 1;
                break;
            }
    }
    if (cacheable)
        i = take_lane(g, 0, keep, tid * RL_HASH_MUL % (keep ? keep : 1), tid, reg, RL_LANE_THREAD,
                      &own);
    if (i >= 0) {
        struct rl_tls_slot *s = rl_tls.slot[depth];
        memmove(&s[1], &s[0], (RL_TLS_REGIONS - 1) * sizeof *s);
        s[0].tag = log->tag;
        s[0].index = (uint32_t)i;
        s[0].lane = rl_lane_at(g, (uint32_t)i);
        s[0].own = own;
        load_pos(s[0].lane, &s[0].pos);
        out->pos = &s[0].pos;
        /* Run the exit destructor for this thread.  glibc's setspecific
         * for a key below 32 only stores into the thread's own array. */
        if (!pthread_getspecific(exit_key))
            pthread_setspecific(exit_key, &rl_tls);
    } else {
        i = take_lane(g, keep, g->nlanes, tid % (g->pool ? g->pool : 1), tid, reg, RL_LANE_LENT,
                      &own);
        if (i < 0)
            return -1;
        *lent = 1;
        load_pos(rl_lane_at(g, (uint32_t)i), &out->own_pos);
        out->pos = &out->own_pos;
    }
    atomic_fetch_add_explicit(&rl_lane_at(g, (uint32_t)i)->claims, 1, memory_order_relaxed);
    out->lane = rl_lane_at(g, (uint32_t)i);
    out->index = (uint32_t)i;
    out->own = own;
    return 0;
}

void rl_lane_return(ringlog *log, const struct rl_lane_ref *ref)
{
    (void)log;
    give_back(ref->lane, ref->own);
}

void rl_lanes_release_all(ringlog *log)
{
    struct rl_region *g = &log->g;
    if (!g->map.writable)
        return;
    for (uint32_t i = 0; i < g->nlanes; i++) {
        struct rl_lane *l = rl_lane_at(g, i);
        uint64_t w = atomic_load_explicit(&l->owner, memory_order_relaxed);
        if (rl_own_state(w) != RL_LANE_FREE && rl_own_reg(w) == log->owner)
            give_back(l, w);
    }
    /* Unlisted after the lanes are back: a thread that then finds our tag
     * missing may reuse its cache slot. */
    if (log->listed)
        atomic_store_explicit(&open_tags[log->listed - 1], 0, memory_order_release);
    else
        atomic_fetch_sub_explicit(&unlisted_open, 1, memory_order_release);
    /* This thread's cache names them no more (other threads' caches are
     * keyed by a tag no handle will have again). */
    for (unsigned d = 0; d < RL_NEST; d++)
        for (unsigned k = 0; k < RL_TLS_REGIONS; k++)
            if (rl_tls.slot[d][k].tag == log->tag)
                rl_tls.slot[d][k].tag = 0;
}
