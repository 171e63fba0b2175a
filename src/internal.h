/* Library internals shared between the region, producer and reader code. */
#ifndef RINGLOG_INTERNAL_H
#define RINGLOG_INTERNAL_H

#include "layout.h"
#include "platform.h"
#include "ringlog.h"

#include <assert.h>
#include <stdbool.h>

#define RL_LIKELY(x) __builtin_expect(!!(x), 1)
#define RL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Invariant checks: cheap ones stay in debug builds (NDEBUG off). */
#define RL_ASSERT(x) assert(x)

/* Geometry of a mapped, validated region, resolved once at open. */
struct rl_region {
    struct rl_map map;
    struct rl_header *hdr;
    struct rl_registry_slot *registry;
    unsigned char *rings; /* ring 0 */
    unsigned char *dict;  /* call-site dictionary */
    uint32_t dict_size;
    uint64_t stride;
    uint64_t nslots; /* N */
    uint64_t mask;   /* N - 1 */
    uint32_t nrings;
    int policy;
    int clock;
    /* The header's immutable part, copied once and validated: the shared
     * bytes may change under us, the copy cannot. */
    struct rl_header_fixed {
        uint64_t region_size, ring_slots, rings_offset, ring_stride, registry_offset, dict_offset;
        uint32_t dict_size;
        uint64_t clock_hz, clock_base, mono_base_ns, real_base_ns;
        uint32_t version, nrings, policy, clock, creator_pid;
    } fixed;
};

static inline struct rl_ring *rl_ring_at(const struct rl_region *g, uint32_t r)
{
    return (struct rl_ring *)(g->rings + (uint64_t)r * g->stride);
}
static inline _Atomic uint64_t *rl_seq(const struct rl_region *g, struct rl_ring *ring)
{
    (void)g; /* same signature as rl_data: the seq array starts at a fixed offset */
    return (_Atomic uint64_t *)((unsigned char *)ring + RL_RING_HDR_SIZE);
}
/* Slot data as 64-bit words: copies in and out use relaxed atomic word
 * accesses, so a reader racing an overwriting producer is a detected,
 * defined race (copy-and-validate) rather than undefined behaviour. */
static inline _Atomic uint64_t *rl_data(const struct rl_region *g, struct rl_ring *ring)
{
    return (_Atomic uint64_t *)((unsigned char *)ring + RL_RING_HDR_SIZE + 8 * g->nslots);
}

struct ringlog {
    struct rl_region g;
    uint32_t owner;     /* registry index, 1..4095 */
    uint32_t fork_gen;  /* rl_fork_gen when `owner` was claimed */
    uint32_t tag;       /* unique in this process: keys call sites' cached ids */
    char *name;
};

/* How long an entry may be stuck half-written before its writer's process
 * is checked: the consumer's default abandon_ms, and the period at which
 * overwriting producers blocked by it check (produce.c). */
#define RL_ABANDON_MS 50u

/* The region's run-time minimum level (ringlog_set_level): one relaxed
 * load; a change reaches other producers "soon", which is all a filter
 * needs. */
static inline int rl_level_on(const ringlog *log, unsigned level)
{
    return level >= atomic_load_explicit(&log->g.hdr->min_level, memory_order_relaxed);
}

/* Bumped in every forked child: a handle whose fork_gen differs belongs to
 * the parent's registry slot and must claim its own before logging. */
extern _Atomic uint32_t rl_fork_gen;

/* region.c */
int rl_region_open(struct rl_region *g, const char *name, const struct ringlog_options *o,
                   int writable, int may_create);
int rl_region_validate(struct rl_region *g, const void *base, size_t size);
void rl_region_close(struct rl_region *g);
int rl_registry_claim(struct rl_region *g, uint32_t *owner);
void rl_registry_release(struct rl_region *g, uint32_t owner);
/* Marks owner DEAD when its process is gone; returns 1 if dead. */
int rl_registry_check_dead(struct rl_region *g, uint32_t owner);
uint64_t rl_ticks(int clock);
uint64_t rl_ticks_to_real_ns(const struct rl_region *g, uint64_t ticks);
void rl_ring_stats(const struct rl_region *g, uint32_t r, struct ringlog_stats *s);
int rl_stats(const struct rl_region *g, struct ringlog_stats *total,
             struct ringlog_stats *per_ring, unsigned max);

/* produce.c */
int rl_put(ringlog *log, unsigned level, unsigned type, uint32_t remarks, unsigned flags,
           const void *data, size_t len);

/* dict.c */
struct rl_site_desc {
    const char *fmt, *file, *func;
    uint32_t line, nargs;
    unsigned level;
    const uint8_t *types; /* effective types, as stored */
};
/* Registers (or finds) a site; returns its id, 0 when the dictionary is
 * full or the site cannot be stored.  Lock-free, async-signal-safe. */
uint32_t rl_dict_register(struct rl_region *g, const struct rl_site_desc *d);
/* Validated private copy of record `id`; NULL (and *why set) when absent or
 * corrupt.  Caller frees. */
struct rl_site_copy {
    uint32_t id, line, nargs, level;
    uint8_t types[RINGLOG_MAX_ARGS];
    const char *fmt, *file, *func; /* into the same allocation */
};
struct rl_site_copy *rl_dict_copy(const struct rl_region *g, uint32_t id, const char **why);

/* deferred.c: reader side */
size_t rl_deferred_text(const struct rl_site_copy *site, const struct ringlog_entry *e, char *buf,
                        size_t cap);

/* reader.c */
int rl_reader_open_memory(void *base, size_t size, unsigned flags, ringlog_reader **out);

/* crash.c: ringlog_close of the handle the crash or trigger-signal handler
 * logs to detaches it (the crash handler is uninstalled). */
void rl_crash_forget(ringlog *log);

/* snapshot.c */
uint32_t rl_crc32(const void *p, size_t n);
/* A snapshot in steps, for the recorder: begin copies the region (image 1),
 * again (re)takes the post-trigger image 2, finish writes the file and
 * frees (first != 0: the file covers triggers first..covered by count, and
 * its reason is the oldest TRIGGER entry numbered above *named, which is
 * then raised to the newest found), abort frees. */
struct rl_snap_job {
    struct rl_region g;
    unsigned char *buf;
    size_t isz;
    unsigned nimg;
    uint32_t covered; /* the region's trigger count read before the last image */
    uint64_t taken_ns, post_ns;
};
int rl_snap_begin(struct rl_snap_job *j, const char *name);
int rl_snap_again(struct rl_snap_job *j);
int rl_snap_finish(struct rl_snap_job *j, const char *path, const char *reason, uint32_t first,
                   uint32_t *named);
void rl_snap_abort(struct rl_snap_job *j);
int rl_snapshot_parse(unsigned char *buf, size_t size, struct rl_region img[2], unsigned *nimg,
                      const struct rl_snap_header **hdr);

/* error.c */
int rl_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
