/*
 * Regions: create, attach, validate (the bytes are untrusted), the producer
 * registry, clock conversion and statistics.  The handles built on them
 * (ringlog_open/close) are handle.c's.
 */
#include "internal.h"

#include <stdio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RL_DEFAULT_LANE_SIZE (256u << 10)
#define RL_INIT_WAIT_NS (2ull * 1000 * 1000 * 1000)

uint64_t rl_ticks(int clock)
{
    return clock == RL_CLOCK_TSC ? rl_plat_tsc() : rl_plat_mono_ns();
}

uint64_t rl_ms_ticks(const struct rl_region *g, uint64_t ms)
{
    uint64_t hz = g->fixed.clock_hz ? g->fixed.clock_hz : 1000000000u;
    return hz / 1000u * ms;
}

uint64_t rl_ticks_to_real_ns(const struct rl_region *g, uint64_t ticks)
{
    const struct rl_header_fixed *h = &g->fixed;
    uint64_t hz = h->clock_hz ? h->clock_hz : 1000000000u;
    /* Signed difference: entries may predate the calibration by a hair. */
    int64_t d = (int64_t)(ticks - h->clock_base);
    __int128 ns = (__int128)d * 1000000000 / (__int128)hz;
    return (uint64_t)((__int128)h->real_base_ns + ns);
}

/* Sizes derived from the geometry. */
static uint64_t lane_stride_for(uint64_t lane)
{
    return RL_LANE_HDR_SIZE + lane;
}
static uint64_t registry_bytes(void)
{
    return (uint64_t)RL_REGISTRY_COUNT * sizeof(struct rl_registry_slot);
}
static uint32_t nsub_for(uint64_t lane)
{
    uint64_t n = lane / RL_MIN_SUB_BYTES;
    return n < 2 ? 2 : n > RL_MAX_SUB ? RL_MAX_SUB : (uint32_t)n;
}
static uint32_t pool_for(uint32_t nlanes)
{
    return nlanes >= 16 ? nlanes / 8 : nlanes >= 2 ? 1 : 0;
}

static void resolve(struct rl_region *g, const struct rl_header *h)
{
    unsigned char *base = (unsigned char *)g->hdr;
    struct rl_header_fixed *f = &g->fixed;
    f->region_size = h->region_size;
    f->lane_size = h->lane_size;
    f->lanes_offset = h->lanes_offset;
    f->lane_stride = h->lane_stride;
    f->registry_offset = h->registry_offset;
    f->dict_offset = h->dict_offset;
    f->dict_size = h->dict_size;
    f->clock_hz = h->clock_hz;
    f->clock_base = h->clock_base;
    f->mono_base_ns = h->mono_base_ns;
    f->real_base_ns = h->real_base_ns;
    f->version = h->version;
    f->nlanes = h->nlanes;
    f->nsub = h->nsub;
    f->pool = h->pool;
    f->policy = h->policy;
    f->clock = h->clock;
    f->creator_pid = h->creator_pid;
    g->registry = (struct rl_registry_slot *)(base + f->registry_offset);
    g->lanes = base + f->lanes_offset;
    g->dict = base + f->dict_offset;
    g->dict_size = f->dict_size;
    g->stride = f->lane_stride;
    g->size = f->lane_size;
    g->mask = f->lane_size - 1;
    g->nsub = f->nsub;
    g->sub = f->lane_size / f->nsub;
    g->nlanes = f->nlanes;
    g->pool = f->pool;
    g->policy = (int)f->policy;
    g->clock = (int)f->clock;
}

int rl_region_validate(struct rl_region *g, const void *base, size_t size)
{
    /* Keeps g->map: the caller owns the mapping. */
    struct rl_map keep = g->map;
    memset(g, 0, sizeof *g);
    g->map = keep;
    if (size < RL_HEADER_SIZE)
        return rl_fail(RINGLOG_EFORMAT, "%zu bytes: too small for a ringlog region", size);
    uint64_t magic =
        atomic_load_explicit(&((const struct rl_header *)base)->magic, memory_order_acquire);
    if (magic != RINGLOG_MAGIC)
        return rl_fail(RINGLOG_EFORMAT, "no ringlog magic (found 0x%016llx)",
                       (unsigned long long)magic);
    /* Check and use a private copy of the immutable part: whoever can write
     * the shared bytes cannot change the geometry between check and use. */
    struct rl_header copy; /* only bytes 0..255 are copied and read */
    memcpy(&copy, base, 256);
    const struct rl_header *h = &copy;
    if (h->version != RINGLOG_LAYOUT_VERSION)
        return rl_fail(RINGLOG_EVERSION,
                       "layout version %u%s; this build of ringlog reads version %u only",
                       h->version,
                       h->version < RINGLOG_LAYOUT_VERSION
                           ? " (made by an older ringlog: read it with that version, or "
                             "remove it and let producers create a new one)"
                           : " (made by a newer ringlog)",
                       RINGLOG_LAYOUT_VERSION);
    uint32_t sum = rl_checksum((const unsigned char *)h + 8, 116);
    if (sum != h->checksum)
        return rl_fail(RINGLOG_EFORMAT, "header checksum mismatch (stored %08x, computed %08x)",
                       h->checksum, sum);
    uint64_t S = h->lane_size;
    if (h->header_size != RL_HEADER_SIZE)
        return rl_fail(RINGLOG_EFORMAT, "header size %u, not %u", h->header_size,
                       RL_HEADER_SIZE);
    if (S < RL_MIN_LANE || S > RL_MAX_LANE || (S & (S - 1)) != 0)
        return rl_fail(RINGLOG_EFORMAT, "lane of %llu bytes: not a power of two in [%u, %u]",
                       (unsigned long long)S, RL_MIN_LANE, RL_MAX_LANE);
    if (h->nsub != nsub_for(S))
        return rl_fail(RINGLOG_EFORMAT, "%u sub-buffers for a lane of %llu bytes (expected %u)",
                       h->nsub, (unsigned long long)S, nsub_for(S));
    if (h->nlanes < 1 || h->nlanes > RL_MAX_LANES || h->pool != pool_for(h->nlanes))
        return rl_fail(RINGLOG_EFORMAT, "%u lanes with a pool of %u: out of range", h->nlanes,
                       h->pool);
    if (h->registry_count != RL_REGISTRY_COUNT || h->registry_offset != RL_HEADER_SIZE)
        return rl_fail(RINGLOG_EFORMAT, "registry at %llu with %u slots: unexpected",
                       (unsigned long long)h->registry_offset, h->registry_count);
    uint64_t dict_off = RL_HEADER_SIZE + registry_bytes();
    uint32_t ds = h->dict_size;
    if (h->dict_offset != dict_off || ds < RL_DICT_MIN || ds > RL_DICT_MAX || (ds & (ds - 1)))
        return rl_fail(RINGLOG_EFORMAT,
                       "dictionary at %llu of %u bytes: expected %llu, a power of two in [%u, %u]",
                       (unsigned long long)h->dict_offset, ds, (unsigned long long)dict_off,
                       RL_DICT_MIN, RL_DICT_MAX);
    uint64_t lanes_off = dict_off + ds;
    uint64_t stride = lane_stride_for(S);
    if (h->lanes_offset != lanes_off || h->lane_stride != stride)
        return rl_fail(RINGLOG_EFORMAT, "lanes at %llu stride %llu: expected %llu stride %llu",
                       (unsigned long long)h->lanes_offset, (unsigned long long)h->lane_stride,
                       (unsigned long long)lanes_off, (unsigned long long)stride);
    /* nlanes <= 2^16 and stride <= 2^30 + 256: the product cannot overflow. */
    uint64_t need = lanes_off + (uint64_t)h->nlanes * stride;
    if (h->region_size != need)
        return rl_fail(RINGLOG_EFORMAT, "region size %llu does not match geometry (%llu)",
                       (unsigned long long)h->region_size, (unsigned long long)need);
    if (need > size)
        return rl_fail(RINGLOG_EFORMAT, "region truncated: %zu bytes of %llu", size,
                       (unsigned long long)need);
    if (h->policy > RINGLOG_DROP)
        return rl_fail(RINGLOG_EFORMAT, "unknown policy %u", h->policy);
    if (h->clock != RL_CLOCK_TSC && h->clock != RL_CLOCK_MONOTONIC)
        return rl_fail(RINGLOG_EFORMAT, "unknown clock %u", h->clock);
    if (h->clock_hz == 0)
        return rl_fail(RINGLOG_EFORMAT, "clock frequency is zero");
    g->hdr = (struct rl_header *)base;
    resolve(g, h);
    return 0;
}

static int geometry(const struct ringlog_options *o, uint64_t *lane, uint32_t *nlanes,
                    uint32_t *dict_size)
{
    size_t ds = o && o->dict_size ? o->dict_size : RL_DICT_DEFAULT;
    if (ds < RL_DICT_MIN || ds > RL_DICT_MAX || (ds & (ds - 1)))
        return rl_fail(RINGLOG_EINVAL, "dict_size %zu: must be a power of two from %u to %u", ds,
                       RL_DICT_MIN, RL_DICT_MAX);
    *dict_size = (uint32_t)ds;
    uint64_t size = o && o->ring_size ? o->ring_size : RL_DEFAULT_LANE_SIZE;
    if (size < RL_MIN_LANE || size > RL_MAX_LANE)
        return rl_fail(RINGLOG_EINVAL, "ring_size (bytes per lane) %llu: must be between %u and %u",
                       (unsigned long long)size, RL_MIN_LANE, RL_MAX_LANE);
    uint64_t n = RL_MIN_LANE;
    while (n < size)
        n <<= 1;
    unsigned cpus = rl_plat_possible_cpus();
    unsigned r = o && o->nrings ? o->nrings : (cpus * 4 > 16 ? cpus * 4 : 16);
    if (r > RL_MAX_LANES)
        return rl_fail(RINGLOG_EINVAL, "nrings (lanes) %u: at most %u", r, RL_MAX_LANES);
    if (o && o->policy != RINGLOG_OVERWRITE && o->policy != RINGLOG_DROP)
        return rl_fail(RINGLOG_EINVAL, "policy %d: use RINGLOG_OVERWRITE or RINGLOG_DROP",
                       o->policy);
    *lane = n;
    *nlanes = r;
    return 0;
}

static void init_header(struct rl_header *h, uint64_t lane, uint32_t nlanes, uint32_t dict_size,
                        int policy)
{
    h->version = RINGLOG_LAYOUT_VERSION;
    h->header_size = RL_HEADER_SIZE;
    h->nlanes = nlanes;
    h->nsub = nsub_for(lane);
    h->pool = pool_for(nlanes);
    h->lane_size = lane;
    h->registry_offset = RL_HEADER_SIZE;
    h->registry_count = RL_REGISTRY_COUNT;
    h->dict_offset = RL_HEADER_SIZE + registry_bytes();
    h->dict_size = dict_size;
    h->lanes_offset = h->dict_offset + dict_size;
    h->lane_stride = lane_stride_for(lane);
    h->region_size = h->lanes_offset + (uint64_t)nlanes * h->lane_stride;
    h->policy = (uint32_t)policy;
    h->creator_pid = rl_plat_pid();
    uint64_t hz = rl_plat_tsc_usable() ? rl_plat_tsc_hz() : 0;
    if (hz) {
        h->clock = RL_CLOCK_TSC;
        h->clock_hz = hz;
    } else {
        h->clock = RL_CLOCK_MONOTONIC;
        h->clock_hz = 1000000000u;
    }
    /* Take the three readings as close together as possible. */
    h->mono_base_ns = rl_plat_mono_ns();
    h->clock_base = rl_ticks((int)h->clock);
    h->real_base_ns = rl_plat_real_ns();
    h->checksum = rl_checksum((const unsigned char *)h + 8, 116);
    /* Everything above (and the zeroed lanes) happens-before any attacher
     * that sees the magic: the attacher's acquire load pairs with this. */
    atomic_store_explicit(&h->magic, RINGLOG_MAGIC, memory_order_release);
}

int rl_region_open(struct rl_region *g, const char *name, const struct ringlog_options *o,
                   int writable, int may_create)
{
    memset(g, 0, sizeof *g);
    if (!name || !*name || (name[0] == '/' && !name[1]))
        return rl_fail(RINGLOG_EINVAL, "empty region name");
    uint64_t lane = 0;
    uint32_t nlanes = 0, dict_size = 0;
    int rc = geometry(o, &lane, &nlanes, &dict_size);
    if (rc)
        return rc;
    unsigned flags = o ? o->flags : 0;
    int create = 0;
    if (may_create && !(flags & RINGLOG_OPEN_EXISTING))
        create = (flags & RINGLOG_OPEN_EXCL) ? 2 : 1;
    size_t size = RL_HEADER_SIZE + registry_bytes() + dict_size +
                  (size_t)nlanes * lane_stride_for(lane);
    mode_t mode = o && o->mode ? o->mode : 0600;

    uint64_t deadline = rl_plat_mono_ns() + RL_INIT_WAIT_NS;
    for (;;) {
        int created = 0;
        rc = rl_plat_map(name, create, size, mode, writable, &g->map, &created);
        if (rc)
            return rc;
        if (created) {
            struct rl_header *h = (struct rl_header *)g->map.base;
            init_header(h, lane, nlanes, dict_size, o ? o->policy : RINGLOG_OVERWRITE);
            rc = rl_region_validate(g, g->map.base, g->map.size);
            if (rc)
                rl_plat_unmap(&g->map);
            return rc;
        }
        /* Attaching: the creator may still be between ftruncate and the
         * magic store.  Wait for it, boundedly. */
        struct rl_map m = g->map;
        if (m.size > 0 && m.size < RL_REGION_MIN_BYTES) {
            rl_plat_unmap(&g->map);
            return rl_fail(RINGLOG_EFORMAT, "%s: %zu bytes, too small for a ringlog region", name,
                           m.size);
        }
        int initialising = m.size == 0 ||
                           atomic_load_explicit(&((struct rl_header *)m.base)->magic,
                                                memory_order_acquire) == 0;
        if (!initialising) {
            rc = rl_region_validate(g, m.base, m.size);
            if (rc) {
                rl_plat_unmap(&g->map);
                return rc;
            }
            break;
        }
        /* Only the immutable fields (bytes 8..127) are stored before the
         * magic: anything else there means no ringlog creator made it. */
        int half_made = 1;
        for (size_t i = 128; m.size && half_made && i < RL_HEADER_SIZE; i++)
            half_made = ((const unsigned char *)m.base)[i] == 0;
        rl_plat_unmap(&m);
        if (!half_made)
            return rl_fail(RINGLOG_EFORMAT, "%s: not a ringlog region (no magic)", name);
        /* A creator initialises within milliseconds of creating the object:
         * one that has not changed for longer than we would wait is left
         * by a creator that died (a post-mortem dump need not wait). */
        if (rl_plat_mono_ns() > deadline || m.age_ns > RL_INIT_WAIT_NS)
            return rl_fail(RINGLOG_ETIMEDOUT,
                           "%s: header never initialised (creator died?); remove it with "
                           "'ringlog rm %s'",
                           name, name);
        rl_plat_sleep_ns(1000 * 1000);
    }
    /* Attached to an existing region: explicit geometry must agree. */
    if (o && ((o->ring_size && lane != g->size) || (o->nrings && nlanes != g->nlanes) ||
              (o->policy && o->policy != g->policy) ||
              (o->dict_size && dict_size != g->dict_size))) {
        rl_plat_unmap(&g->map);
        return rl_fail(RINGLOG_EMISMATCH,
                       "%s exists with %u lanes of %llu bytes, policy %s; asked for %u lanes "
                       "of %llu bytes, policy %s",
                       name, g->nlanes, (unsigned long long)g->size,
                       g->policy == RINGLOG_DROP ? "drop" : "overwrite", nlanes,
                       (unsigned long long)lane,
                       o->policy == RINGLOG_DROP ? "drop" : "overwrite");
    }
    return 0;
}

void rl_region_close(struct rl_region *g)
{
    rl_plat_unmap(&g->map);
    memset(g, 0, sizeof *g);
}

/* ---------------------------------------------------------------- registry */

int rl_registry_check_dead(struct rl_region *g, uint32_t owner)
{
    if (owner == 0 || owner >= RL_REGISTRY_COUNT)
        return 1;
    struct rl_registry_slot *s = &g->registry[owner];
    uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
    unsigned st = rl_reg_state(w);
    if (st == RL_REG_DEAD || st == RL_REG_FREE)
        return 1;
    /* CLAIMING: the pid is already in the word; a claimer killed before it
     * stored LIVE must not hold the slot for ever.  Its start time may not
     * be written yet, so only the pid is checked. */
    uint64_t start = st == RL_REG_LIVE ? s->start_time : 0;
    /* start_time was written before LIVE (release); re-check the word so a
     * re-claim between our two loads is not mistaken for the old holder. */
    if (atomic_load_explicit(&s->word, memory_order_acquire) != w)
        return 0;
    if (rl_plat_proc_alive(rl_reg_pid(w), start))
        return 0;
    /* Producers read DEAD (acquire) before stealing the owner's
     * reservations.  The CAS fails if the slot changed hands meanwhile. */
    return atomic_compare_exchange_strong_explicit(&s->word, &w, rl_reg_with(w, rl_reg_pid(w), RL_REG_DEAD),
                                                   memory_order_acq_rel, memory_order_acquire) ||
           rl_reg_state(w) == RL_REG_DEAD;
}

static int try_claim(struct rl_region *g, uint32_t i, unsigned from, uint32_t *owner)
{
    struct rl_registry_slot *s = &g->registry[i];
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    if (rl_reg_state(w) != from)
        return 0;
    uint32_t pid = rl_plat_pid();
    uint64_t claiming = rl_reg_with(rl_reg_next_gen(w), pid, RL_REG_CLAIMING);
    if (!atomic_compare_exchange_strong_explicit(&s->word, &w, claiming, memory_order_acquire,
                                                 memory_order_relaxed))
        return 0;
    s->start_time = rl_plat_proc_start(pid);
    atomic_store_explicit(&s->word, rl_reg_with(claiming, pid, RL_REG_LIVE), memory_order_release);
    *owner = i;
    return 1;
}

int rl_registry_claim(struct rl_region *g, uint32_t *owner)
{
    if (!g->map.writable)
        return rl_fail(RINGLOG_EACCES, "region mapped read-only");
    /* Start the search at a pid-dependent place so that slots of dead
     * processes (whose abandoned reservations may still name them) are
     * reused as late as possible. */
    uint32_t start = 1 + rl_plat_pid() % (RL_REGISTRY_COUNT - 1);
    for (uint32_t k = 0; k < RL_REGISTRY_COUNT - 1; k++) {
        uint32_t i = 1 + (start - 1 + k) % (RL_REGISTRY_COUNT - 1);
        if (try_claim(g, i, RL_REG_FREE, owner))
            return 0;
    }
    for (uint32_t i = 1; i < RL_REGISTRY_COUNT; i++) {
        rl_registry_check_dead(g, i);
        if (try_claim(g, i, RL_REG_DEAD, owner))
            return 0;
    }
    return rl_fail(RINGLOG_ENOSPC, "all %u producer slots are held by live processes",
                   RL_REGISTRY_COUNT - 1);
}

void rl_registry_release(struct rl_region *g, uint32_t owner)
{
    if (owner == 0 || owner >= RL_REGISTRY_COUNT || !g->map.writable)
        return;
    struct rl_registry_slot *s = &g->registry[owner];
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    /* The pid stays: readers of entries this handle wrote still name it. */
    atomic_store_explicit(&s->word, rl_reg_with(w, rl_reg_pid(w), RL_REG_FREE), memory_order_release);
}

/* -------------------------------------------------------------- statistics */

static uint64_t ld(_Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

/* Entries between tail and head, walked with rl_lane_walk's rules.  The
 * lane may be live and its bytes corrupt: bounded by the lane size. */
static uint64_t count_buffered(const struct rl_region *g, struct rl_lane *l)
{
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
    uint64_t h = atomic_load_explicit(&l->head, memory_order_acquire);
    uint64_t n = 0;
    if (h < t || h - t > g->size)
        return 0;
    struct rl_walk w;
    rl_walk_init(&w, g, l, t, h);
    uint64_t pos, len;
    int k;
    while ((k = rl_walk_next(&w, &pos, &len)) != RL_WALK_END)
        if (k == RL_WALK_ENTRY)
            n++;
    return n;
}

/* The invariants of a quiescent lane (no call in flight), checked like
 * concurrencykit's ck_ring_valid: for tests after a run and for the fuzz
 * target on any bytes.  Returns the problems found (0: valid); the first
 * is described in why. */
int rl_lane_check(const struct rl_region *g, uint32_t i, char *why, size_t cap)
{
    struct rl_lane *l = rl_lane_at(g, i);
    uint64_t t = ld(&l->tail), h = ld(&l->head), seq = ld(&l->seq), rd = ld(&l->read);
    int bad = 0;
#define RL_CHECK_FAIL(...)                                                                        \
    do {                                                                                          \
        if (!bad++ && cap)                                                                        \
            snprintf(why, cap, __VA_ARGS__);                                                      \
    } while (0)
    if (h < t || h - t > g->size) {
        RL_CHECK_FAIL("lane %u: head %llu, tail %llu: more than the lane holds", i,
                      (unsigned long long)h, (unsigned long long)t);
        return bad;
    }
    if (h & (RL_ALIGN - 1) || t & (RL_ALIGN - 1))
        RL_CHECK_FAIL("lane %u: head or tail not %u-aligned", i, RL_ALIGN);
    struct rl_walk w;
    rl_walk_init(&w, g, l, t, h);
    uint64_t pos = 0, len, last = 0, n = 0, at = w.pos;
    int k, have = 0;
    while ((k = rl_walk_next(&w, &pos, &len)) != RL_WALK_END) {
        if (k == RL_WALK_CORRUPT)
            RL_CHECK_FAIL("lane %u: a length at %llu crosses its sub-buffer", i,
                          (unsigned long long)at);
        at = w.pos;
        if (k != RL_WALK_ENTRY)
            continue;
        uint64_t so = atomic_load_explicit(rl_lane_word(g, l, pos + 8), memory_order_relaxed);
        uint64_t s = rl_seq_extend(so & RL_SEQ_MASK, seq);
        if (have && s <= last)
            RL_CHECK_FAIL("lane %u: entry at %llu has seq %llu after %llu", i,
                          (unsigned long long)pos, (unsigned long long)s, (unsigned long long)last);
        if (s >= seq)
            RL_CHECK_FAIL("lane %u: entry seq %llu not below the lane's %llu", i,
                          (unsigned long long)s, (unsigned long long)seq);
        last = s;
        have = 1;
        n++;
    }
    if (w.pos != h && w.pos < h)
        RL_CHECK_FAIL("lane %u: the walk stopped at %llu, head %llu", i,
                      (unsigned long long)w.pos, (unsigned long long)h);
    if (rd > seq)
        RL_CHECK_FAIL("lane %u: read %llu above written %llu", i, (unsigned long long)rd,
                      (unsigned long long)seq);
    uint64_t acc = rd + ld(&l->lost) + ld(&l->overwritten) + n + ld(&l->abandoned);
    if (acc != seq)
        RL_CHECK_FAIL("lane %u: written %llu, read + lost + overwritten + buffered + abandoned "
                      "%llu",
                      i, (unsigned long long)seq, (unsigned long long)acc);
#undef RL_CHECK_FAIL
    return bad;
}

int rl_region_check(const struct rl_region *g, char *why, size_t cap)
{
    int bad = 0;
    for (uint32_t i = 0; i < g->nlanes; i++)
        bad += rl_lane_check(g, i, bad ? NULL : why, bad ? 0 : cap);
    return bad;
}

void rl_lane_stats(const struct rl_region *g, uint32_t i, struct ringlog_stats *s)
{
    struct rl_lane *l = rl_lane_at(g, i);
    memset(s, 0, sizeof *s);
    s->written = ld(&l->seq);
    s->read = ld(&l->read);
    s->too_big = ld(&l->too_big);
    s->lost = ld(&l->lost);
    s->overwritten = ld(&l->overwritten);
    s->abandoned = ld(&l->abandoned);
    uint64_t head = ld(&l->head);
    s->wraps = head ? (head - 1) / g->size : 0; /* times position 0 was reused */
    s->bytes = head;
    s->buffered = count_buffered(g, l);
}

int rl_stats(const struct rl_region *g, struct ringlog_stats *total,
             struct ringlog_stats *per_ring, unsigned max)
{
    if (total)
        memset(total, 0, sizeof *total);
    for (uint32_t r = 0; r < g->nlanes; r++) {
        struct ringlog_stats s;
        rl_lane_stats(g, r, &s);
        if (per_ring && r < max)
            per_ring[r] = s;
        if (total) {
            total->written += s.written;
            total->read += s.read;
            total->lost += s.lost;
            total->overwritten += s.overwritten;
            total->too_big += s.too_big;
            total->wraps += s.wraps;
            total->bytes += s.bytes;
            total->abandoned += s.abandoned;
            total->buffered += s.buffered;
        }
    }
    /* Calls that found no lane: written and lost, in no lane. */
    if (total) {
        uint64_t nl = atomic_load_explicit(&g->hdr->nolane, memory_order_relaxed);
        total->written += nl;
        total->lost += nl;
    }
    return (int)g->nlanes;
}

/* ------------------------------------------------------------- public API */

int ringlog_unlink(const char *name)
{
    if (!name || !*name)
        return rl_fail(RINGLOG_EINVAL, "empty region name");
    return rl_plat_unlink(name);
}

int ringlog_stats(ringlog *log, struct ringlog_stats *total, struct ringlog_stats *per_ring,
                  unsigned max)
{
    if (!log)
        return rl_fail(RINGLOG_EINVAL, "log is NULL");
    return rl_stats(&log->g, total, per_ring, max);
}

int ringlog_probe(const char *name, struct ringlog_probe *out)
{
    if (!name || !out)
        return rl_fail(RINGLOG_EINVAL, "NULL argument");
    memset(out, 0, sizeof *out);
    if (!*name)
        return rl_fail(RINGLOG_EINVAL, "empty region name");
    unsigned char h[RL_HEADER_SIZE];
    size_t got = 0;
    int rc = rl_plat_peek(name, h, sizeof h, &got, &out->size);
    if (rc == RINGLOG_ENOENT) {
        out->kind = RINGLOG_KIND_ABSENT;
        return 0;
    }
    if (rc == RINGLOG_EINVAL)
        return rc;
    if (rc == RINGLOG_EFORMAT) {
        out->kind = RINGLOG_KIND_OTHER;
        snprintf(out->why, sizeof out->why, "not a regular file");
        return 0;
    }
    if (rc) {
        out->kind = RINGLOG_KIND_UNREADABLE;
        out->err = rc;
        const char *detail = ringlog_errmsg();
        size_t nl = strlen(name);
        if (strncmp(detail, name, nl) == 0 && strncmp(detail + nl, ": ", 2) == 0)
            detail += nl + 2; /* the caller names the object */
        snprintf(out->why, sizeof out->why, "cannot check that it is a ringlog region: %s",
                 detail);
        return 0;
    }
    uint64_t magic = 0;
    if (got >= 8)
        memcpy(&magic, h, 8);
    if (got >= 12 && magic == RINGLOG_MAGIC) {
        out->kind = RINGLOG_KIND_REGION;
        memcpy(&out->version, h + 8, 4);
        return 0;
    }
    if (got >= 12 && memcmp(h, RL_SNAP_MAGIC, 8) == 0) {
        out->kind = RINGLOG_KIND_SNAPSHOT;
        memcpy(&out->version, h + 8, 4);
        return 0;
    }
    if (got >= 12 && memcmp(h, RL_REC_MAGIC, 8) == 0) {
        out->kind = RINGLOG_KIND_RECORDING;
        memcpy(&out->version, h + 8, 4);
        return 0;
    }
    /* A creator stores the magic last: dying between creating and sizing
     * the object leaves it empty; after, a header page with no magic in
     * which only the immutable fields (bytes 8..127) may have been stored. */
    int zero_rest = got == sizeof h;
    for (size_t i = 128; zero_rest && i < sizeof h; i++)
        zero_rest = h[i] == 0;
    if (out->size == 0 || (magic == 0 && out->size >= RL_REGION_MIN_BYTES && zero_rest)) {
        out->kind = RINGLOG_KIND_UNFINISHED;
        return 0;
    }
    out->kind = RINGLOG_KIND_OTHER;
    if (got < sizeof h || out->size < RL_REGION_MIN_BYTES)
        snprintf(out->why, sizeof out->why, "not a ringlog region: %llu bytes, too small",
                 (unsigned long long)out->size);
    else if (magic == 0)
        snprintf(out->why, sizeof out->why,
                 "not a ringlog region: no magic, and not a region left half made");
    else
        snprintf(out->why, sizeof out->why,
                 "not a ringlog region: no ringlog magic (found 0x%016llx)",
                 (unsigned long long)magic);
    return 0;
}

struct list_all {
    void (*fn)(void *arg, const char *name, const struct ringlog_probe *p);
    void *arg;
    int n;
};

static void list_one(void *arg, const char *name)
{
    struct list_all *l = arg;
    struct ringlog_probe p;
    if (ringlog_probe(name, &p) != 0)
        return;
    if (p.kind == RINGLOG_KIND_ABSENT || p.kind == RINGLOG_KIND_OTHER)
        return; /* gone meanwhile, or another program's */
    if (p.kind == RINGLOG_KIND_UNREADABLE && p.size < RL_REGION_MIN_BYTES) {
        /* Small and closed to us: semaphores and the like; but a size we
         * could not learn is still shown. */
        if (p.size)
            return;
    }
    l->fn(l->arg, name, &p);
    l->n++;
}

int ringlog_list_all(void (*fn)(void *arg, const char *name, const struct ringlog_probe *p),
                     void *arg)
{
    if (!fn)
        return rl_fail(RINGLOG_EINVAL, "fn is NULL");
    struct list_all l = {fn, arg, 0};
    int rc = rl_plat_list_shm(list_one, &l);
    return rc < 0 ? rc : l.n;
}

struct list_regions {
    void (*fn)(void *arg, const char *name, uint64_t size);
    void *arg;
    int n;
};

static void list_region(void *arg, const char *name, const struct ringlog_probe *p)
{
    struct list_regions *l = arg;
    if (p->kind == RINGLOG_KIND_REGION) {
        l->fn(l->arg, name, p->size);
        l->n++;
    }
}

int ringlog_list(void (*fn)(void *arg, const char *name, uint64_t size), void *arg)
{
    if (!fn)
        return rl_fail(RINGLOG_EINVAL, "fn is NULL");
    struct list_regions l = {fn, arg, 0};
    int rc = ringlog_list_all(list_region, &l);
    return rc < 0 ? rc : l.n;
}
