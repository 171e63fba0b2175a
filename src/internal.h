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
    unsigned char *lanes; /* lane 0 */
    unsigned char *dict;  /* call-site dictionary */
    uint32_t dict_size;
    uint64_t stride;
    uint64_t size;     /* S: entry bytes per lane */
    uint64_t mask;     /* S - 1 */
    uint64_t sub;      /* bytes per sub-buffer */
    uint32_t nsub;
    uint32_t nlanes;
    uint32_t pool;     /* lanes [nlanes - pool, nlanes) are lent per call */
    int policy;
    int clock;
    /* The header's immutable part, copied once and validated: the shared
     * bytes may change under us, the copy cannot. */
    struct rl_header_fixed {
        uint64_t region_size, lane_size, lanes_offset, lane_stride, registry_offset, dict_offset;
        uint32_t dict_size;
        uint64_t clock_hz, clock_base, mono_base_ns, real_base_ns;
        uint32_t version, nlanes, nsub, pool, policy, clock, creator_pid;
    } fixed;
};

static inline struct rl_lane *rl_lane_at(const struct rl_region *g, uint32_t i)
{
    return (struct rl_lane *)(g->lanes + (uint64_t)i * g->stride);
}
/* A lane's entry bytes as 64-bit words: copies in and out use relaxed
 * atomic word accesses, so a reader racing an evicting writer is a
 * detected, defined race (copy-and-validate) rather than undefined
 * behaviour. */
static inline _Atomic uint64_t *rl_lane_words(const struct rl_region *g, struct rl_lane *l)
{
    (void)g;
    return (_Atomic uint64_t *)((unsigned char *)l + RL_LANE_HDR_SIZE);
}
/* The word at position `pos` (8-aligned) of a lane. */
static inline _Atomic uint64_t *rl_lane_word(const struct rl_region *g, struct rl_lane *l,
                                             uint64_t pos)
{
    return rl_lane_words(g, l) + ((pos & g->mask) >> 3);
}

/*
 * The one walker over a lane's entries, with the one rule for a corrupt
 * length (used by readers, statistics, snapshots, tests and the fuzz
 * target).  From an entry boundary `pos` up to `end`:
 *   - fewer than 32 bytes left in the sub-buffer, or a pad: skip to the
 *     sub-buffer's end (RL_WALK_SKIP);
 *   - a length whose entry would cross the sub-buffer's end: skip to the
 *     sub-buffer's end (RL_WALK_CORRUPT);
 *   - an entry that would end beyond `end`: stop (RL_WALK_END);
 *   - else RL_WALK_ENTRY with its position and payload length.
 * Every step moves at least 8 bytes, so a walk ends within S / 8 steps.
 */
enum { RL_WALK_END = 0, RL_WALK_ENTRY = 1, RL_WALK_SKIP = 2, RL_WALK_CORRUPT = 3 };
struct rl_walk {
    const struct rl_region *g;
    struct rl_lane *l;
    uint64_t pos, end;
};
static inline void rl_walk_init(struct rl_walk *w, const struct rl_region *g, struct rl_lane *l,
                                uint64_t pos, uint64_t end)
{
    w->g = g;
    w->l = l;
    w->pos = pos & ~(uint64_t)(RL_ALIGN - 1);
    w->end = end;
}
static inline int rl_walk_next(struct rl_walk *w, uint64_t *pos, uint64_t *len)
{
    const struct rl_region *g = w->g;
    if (w->pos >= w->end)
        return RL_WALK_END;
    uint64_t p = w->pos, rest = g->sub - (p & (g->sub - 1));
    if (rest < RL_EHDR) {
        w->pos = p + rest;
        return RL_WALK_SKIP;
    }
    uint32_t n = (uint32_t)atomic_load_explicit(rl_lane_word(g, w->l, p + 16),
                                                memory_order_relaxed);
    if (n & RL_LEN_PAD) {
        w->pos = p + rest;
        return RL_WALK_SKIP;
    }
    uint64_t k = rl_entry_bytes(n);
    if (k > rest) {
        w->pos = p + rest;
        return RL_WALK_CORRUPT;
    }
    if (p + k > w->end)
        return RL_WALK_END;
    w->pos = p + k;
    *pos = p;
    *len = n;
    return RL_WALK_ENTRY;
}

struct ringlog {
    struct rl_region g;
    uint32_t owner;     /* registry index, 1..4095 */
    uint32_t fork_gen;  /* rl_fork_gen when `owner` was claimed */
    uint32_t tag;       /* unique in this process: keys thread lanes and call sites' ids */
    uint32_t listed;    /* cell + 1 in lane.c's table of open tags, 0 when not listed */
    char *name;
};

/* How long an entry may be stuck half-written before its writer's process
 * is checked: the consumer's default abandon_ms, and the period at which
 * overwriting producers blocked by it check (produce.c). */
#define RL_ABANDON_MS 50u
/* Longest a trigger holds writers from evicting while a recorder copies. */
#define RL_FREEZE_MS 250u
/* rl_put flags above the stored byte: the trigger's own entry may evict
 * while the region is frozen (only ringlog_trigger passes it). */
#define RL_PUT_EXEMPT 0x100u

/* The region's run-time minimum level (ringlog_set_level): one relaxed
 * load; a change reaches other producers "soon", which is all a filter
 * needs. */
static inline int rl_level_on(const ringlog *log, unsigned level)
{
    return level >= atomic_load_explicit(&log->g.hdr->min_level, memory_order_relaxed);
}

/* Knuth's multiplicative hash constant (2^32 / golden ratio): spreads
 * small consecutive integers (thread ids, site ids) over a table. */
#define RL_HASH_MUL 2654435761u

/* lane.c: bumped in every forked child; a handle whose fork_gen differs
 * belongs to the parent's registry slot and must claim its own before
 * logging (rl_current_owner). */
extern _Atomic uint32_t rl_fork_gen;

/* region.c */
int rl_region_open(struct rl_region *g, const char *name, const struct ringlog_options *o,
                   int writable, int may_create);
int rl_region_validate(struct rl_region *g, const void *base, size_t size);
/* The invariants of a quiescent region (region.c): lanes' bounds, the walk
 * from tail to head, seq order and exact accounting per lane.  Returns the
 * problems found, the first described in why (cap bytes; 0: none). */
int rl_lane_check(const struct rl_region *g, uint32_t i, char *why, size_t cap);
int rl_region_check(const struct rl_region *g, char *why, size_t cap);
void rl_region_close(struct rl_region *g);
int rl_registry_claim(struct rl_region *g, uint32_t *owner);
void rl_registry_release(struct rl_region *g, uint32_t owner);
/* Marks owner DEAD when its process is gone; returns 1 if dead. */
int rl_registry_check_dead(struct rl_region *g, uint32_t owner);
uint64_t rl_ticks(int clock);
/* Ticks in `ms` milliseconds of the region's clock. */
uint64_t rl_ms_ticks(const struct rl_region *g, uint64_t ms);
uint64_t rl_ticks_to_real_ns(const struct rl_region *g, uint64_t ticks);
void rl_lane_stats(const struct rl_region *g, uint32_t i, struct ringlog_stats *s);
int rl_stats(const struct rl_region *g, struct ringlog_stats *total,
             struct ringlog_stats *per_ring, unsigned max);

/* produce.c */
int rl_put(ringlog *log, unsigned level, unsigned type, uint32_t remarks, unsigned flags,
           const void *data, size_t len);
/* The calling thread's lanes, cached: one per nesting depth (a signal
 * handler that interrupts a log call writes to the next depth's lane) and
 * per region.  Initial-exec TLS: one load from the thread pointer. */
#define RL_NEST 3
#define RL_TLS_REGIONS 4
/* The writer's own copy of its lane's position: a lane has one writer,
 * so it never needs to load the words it publishes (a line the reader
 * keeps reading); it only stores them, and stores do not stall. */
struct rl_wpos {
    uint64_t head, seq, limit;
};
struct rl_tls_slot {
    uint32_t tag;   /* the handle's tag; 0: empty */
    uint32_t index; /* lane number */
    struct rl_lane *lane;
    uint64_t own;   /* the owner word we stored */
    struct rl_wpos pos;
};
struct rl_tls {
    unsigned depth; /* log calls of this thread in progress */
    uint32_t tid;
    struct rl_tls_slot slot[RL_NEST][RL_TLS_REGIONS];
};
extern __thread struct rl_tls rl_tls __attribute__((tls_model("initial-exec")));
/* The atfork child handler (handle.c installs it). */
void rl_lanes_fork_child(void);
/* lane.c: lanes of the calling thread (claim at first use, release at
 * thread exit or ringlog_close, reclaim from dead processes). */
struct rl_lane_ref {
    struct rl_lane *lane;
    uint32_t index;
    uint32_t tid;
    uint64_t own;
    struct rl_wpos *pos; /* the thread's cached copy, or `own_pos` for a lent lane */
    struct rl_wpos own_pos;
};
int rl_handles_add(ringlog *log);
void rl_handles_remove(ringlog *log);
/* The lane the caller writes to at nesting depth `depth` (0: not inside
 * another log call of this thread).  Returns 0, or -1 when no lane is free
 * (the call is lost and counted in the header's `nolane`).  *lent set: a
 * pool lane lent for this one call, give it back with rl_lane_return. */
int rl_lane_get(ringlog *log, unsigned depth, struct rl_lane_ref *out, int *lent);
void rl_lane_return(ringlog *log, const struct rl_lane_ref *ref);
/* ringlog_close: release every lane claimed through this handle. */
void rl_lanes_release_all(ringlog *log);
/* Takes a lane whose holder is gone: records an unfinished call. */
int rl_lane_reclaim(struct rl_region *g, uint32_t i, uint64_t seen, uint64_t mine);
uint32_t rl_current_owner(ringlog *log);

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
    uint32_t off; /* switched off (when copied) */
    uint8_t types[RINGLOG_MAX_ARGS];
    const char *fmt, *file, *func; /* into the same allocation */
};
struct rl_site_copy *rl_dict_copy(const struct rl_region *g, uint32_t id, const char **why);
/* A site's argument types are ones the decoder knows, in an order the
 * producer can make (ERRNO, SUPPRESSED only at the end). */
int rl_site_types_ok(const uint8_t *t, unsigned n);
/* Calls fn with the id of every site the dictionary's buckets reference
 * (each once); stops when fn returns non-zero.  Returns the count. */
int rl_dict_each(const struct rl_region *g, int (*fn)(void *arg, uint32_t id), void *arg);

/* deferred.c: reader side */
size_t rl_deferred_text(const struct rl_site_copy *site, const struct ringlog_entry *e, char *buf,
                        size_t cap);
/* ringlog_entry_args for a site the reader found (decode.c). */
int rl_entry_args(const struct rl_site_copy *site, const struct ringlog_entry *e,
                  struct ringlog_arg *out, unsigned max);

/* reader.c */
int rl_reader_open_memory(void *base, size_t size, unsigned flags, ringlog_reader **out);
/* The reader's validated copy of site `id` (NULL and *why when unknown or
 * corrupt), valid until the reader is closed; the region's fixed header;
 * whether it reads a live region (not a file). */
const struct rl_site_copy *rl_reader_site(ringlog_reader *r, uint32_t id, const char **why);
const struct rl_header_fixed *rl_reader_fixed(ringlog_reader *r);
int rl_reader_live(const ringlog_reader *r);
/* A consuming reader about to close: delivers every entry it has claimed
 * and not yet delivered (held back by the cut, or by a freeze), in order
 * among themselves.  Returns how many items it delivered. */
int rl_reader_flush_staged(ringlog_reader *r, const struct ringlog_handler *h);

/* recorder.c: create `dir` if missing, then create and remove a file in it,
 * so that a recorder that cannot save says so at start; `what` names the
 * files in the message ("snapshots"). */
int rl_probe_dir(const char *dir, const char *what);

/* recfile.c: reading recording files (continuous.c writes them). */
struct rl_rec_reader;
/* RINGLOG_ENOENT, quietly, when `name` is not a recording file. */
int rl_rec_open(const char *name, struct rl_rec_reader **out);
void rl_rec_close(struct rl_rec_reader *rr);
/* Delivers entries and gaps like ringlog_read (adds them to *n); 1 when a
 * callback stopped it, 0 at the end of what is written, or an error. */
int rl_rec_read(struct rl_rec_reader *rr, const struct ringlog_handler *h, struct ringlog_gap *cur,
                int *n);
const struct rl_site_copy *rl_rec_site(struct rl_rec_reader *rr, uint32_t id);
int rl_rec_sites(struct rl_rec_reader *rr, int (*fn)(void *arg, const struct rl_site_copy *c),
                 void *arg);
int rl_rec_stats(struct rl_rec_reader *rr, struct ringlog_stats *total,
                 struct ringlog_stats *per_ring, unsigned max);
void rl_rec_info(struct rl_rec_reader *rr, struct ringlog_info *info);
const struct ringlog_recording *rl_rec_about(const struct rl_rec_reader *rr);

/* zstd.c: libzstd loaded on first use (when built with <zstd.h>). */
int rl_zstd_available(const char **why);
size_t rl_zstd_bound(size_t n);
int rl_zstd_compress(void *dst, size_t cap, const void *src, size_t n, int level, size_t *out);
int rl_zstd_decompress(void *dst, size_t cap, const void *src, size_t n, size_t *out);

/* crash.c: ringlog_close of the handle the crash or trigger-signal handler
 * logs to detaches it (the crash handler is uninstalled). */
void rl_crash_forget(ringlog *log);

/* snapfile.c: the file format, shared by the writer and the reader. */
uint32_t rl_crc32(const void *p, size_t n);
/* Piece i of an image of geometry f: 0 the header and registry (up to the
 * dictionary), 1 the dictionary, 2 + k lane k, 2 + nlanes what follows the
 * lanes (often empty).  Returns 0 and the byte range, or -1 past the end. */
int rl_snap_piece(const struct rl_header_fixed *f, uint64_t image_size, uint32_t i, uint64_t *off,
                  uint64_t *len);
/* What a damaged snapshot could not give (rl_snapshot_parse). */
struct rl_snap_damage {
    unsigned pieces;  /* pieces that failed their checksums, or images dropped */
    char text[256];   /* which, for people; "" when undamaged */
};
/* Reads the snapshot file `name` whole into *out (aligned_alloc'd; the
 * caller frees it) and parses it.  RINGLOG_ENOENT, quietly, when `name` is
 * not a path to a snapshot file. */
int rl_snapshot_load(const char *name, unsigned char **out, struct rl_region img[2], unsigned *nimg,
                     const struct rl_snap_header **hdr, struct rl_snap_damage *dmg);
int rl_snapshot_parse(unsigned char *buf, size_t size, struct rl_region img[2], unsigned *nimg,
                      const struct rl_snap_header **hdr, struct rl_snap_damage *dmg);

/* snapshot.c: taking snapshots */
/* A snapshot in steps, for the recorder: begin copies the region (image 1),
 * again (re)takes the post-trigger image 2, finish writes the file and
 * frees (first != 0: the file covers triggers first..covered by count, and
 * its reason is the oldest TRIGGER entry numbered above *named, which is
 * then raised to the newest found), abort frees. */
struct rl_snap_job {
    struct rl_region g;
    unsigned char *buf;
    size_t cap;       /* bytes of buf */
    int borrowed;     /* g and buf are the caller's: finish and abort keep them */
    size_t isz;
    unsigned nimg;
    uint32_t covered; /* the region's trigger count read before the last image */
    int lift;         /* the recorder's job: lift the freeze after each copy */
    uint64_t taken_ns, post_ns;
};
int rl_snap_begin(struct rl_snap_job *j, const char *name);
/* The same from a region the caller keeps mapped, into the caller's
 * buffer of `cap` bytes (room for two images saves an allocation; a
 * buffer touched before saves page faults while writers are frozen). */
int rl_snap_begin_at(struct rl_snap_job *j, const struct rl_region *g, unsigned char *buf,
                     size_t cap);
int rl_snap_again(struct rl_snap_job *j);
int rl_snap_finish(struct rl_snap_job *j, const char *path, const char *reason, uint32_t first,
                   uint32_t *named);
void rl_snap_abort(struct rl_snap_job *j);


/* error.c */
int rl_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
