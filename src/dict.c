/*
 * The call-site dictionary: what a reader needs to format a deferred entry
 * (format, file, line, function, argument types), stored once per site in
 * the region so that any process, or a snapshot file, can format entries
 * without the producer's binary.  docs/DESIGN.md, "Call-site dictionary",
 * gives the registration protocol; docs/FORMAT.md the bytes.
 *
 * Registration runs on the first call of a site in a region, possibly in a
 * signal handler: no lock, no allocation, no system call, bounded loops.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n])
        n++;
    return n;
}

/* The record as it will be stored, built on the stack first so that the
 * hash and the comparison work on exactly the stored bytes. */
struct rec_view {
    struct rl_dict_rec h;
    size_t body; /* bytes after the 32-byte header, unpadded */
};

static int describe(const struct rl_site_desc *d, struct rec_view *v)
{
    size_t fl = bounded_len(d->fmt, RL_DICT_FMT_MAX);
    size_t il = bounded_len(d->file, RL_DICT_FILE_MAX);
    size_t nl = bounded_len(d->func, RL_DICT_FUNC_MAX);
    if (fl > RL_DICT_FMT_MAX || il > RL_DICT_FILE_MAX || nl > RL_DICT_FUNC_MAX ||
        d->nargs > RINGLOG_MAX_ARGS)
        return -1;
    memset(&v->h, 0, sizeof v->h);
    v->h.magic = RL_DICT_REC_MAGIC;
    v->h.line = d->line;
    v->h.level = (uint8_t)d->level;
    v->h.nargs = (uint8_t)d->nargs;
    v->h.fmt_len = (uint16_t)fl;
    v->h.file_len = (uint16_t)il;
    v->h.func_len = (uint16_t)nl;
    v->body = d->nargs + fl + 1 + il + 1 + nl + 1;
    v->h.size = (uint32_t)((sizeof v->h + v->body + 7) & ~(size_t)7);
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv64(h, &v->h.line, 16); /* line .. reserved */
    h = fnv64(h, d->types, d->nargs);
    h = fnv64(h, d->fmt, fl + 1);
    h = fnv64(h, d->file, il + 1);
    h = fnv64(h, d->func, nl + 1);
    v->h.hash = h;
    return 0;
}

/* Does the published record at `off` describe this site?  Bounds-checked:
 * a corrupt region must not crash a producer. */
static int matches(const struct rl_region *g, uint32_t off, const struct rec_view *v,
                   const struct rl_site_desc *d)
{
    uint32_t arena = rl_dict_arena(g->dict_size);
    if (off < arena || off > g->dict_size - sizeof(struct rl_dict_rec) || (off & 7))
        return 0;
    const unsigned char *r = g->dict + off;
    /* magic, size, hash, lengths; not the switch word, which changes */
    if (memcmp(r, &v->h, offsetof(struct rl_dict_rec, switches)) != 0)
        return 0;
    if (v->h.size > g->dict_size - off)
        return 0;
    const unsigned char *p = r + sizeof v->h;
    if (memcmp(p, d->types, d->nargs) != 0)
        return 0;
    p += d->nargs;
    if (memcmp(p, d->fmt, v->h.fmt_len + 1u) != 0)
        return 0;
    p += v->h.fmt_len + 1u;
    if (memcmp(p, d->file, v->h.file_len + 1u) != 0)
        return 0;
    p += v->h.file_len + 1u;
    return memcmp(p, d->func, v->h.func_len + 1u) == 0;
}

/* Claim arena space; 0 when full.  Bounded: each failed CAS means another
 * registration advanced `used`, and there are only so many bytes. */
static uint32_t alloc_rec(struct rl_region *g, struct rl_dict_hdr *dh, uint32_t size)
{
    uint32_t arena = rl_dict_arena(g->dict_size);
    uint32_t used = atomic_load_explicit(&dh->used, memory_order_relaxed);
    for (int tries = 0; tries < 1024; tries++) {
        if (used > g->dict_size - arena || size > g->dict_size - arena - used)
            return 0;
        if (atomic_compare_exchange_weak_explicit(&dh->used, &used, used + size,
                                                  memory_order_relaxed, memory_order_relaxed))
            return arena + used;
    }
    return 0;
}

static void write_rec(struct rl_region *g, uint32_t off, const struct rec_view *v,
                      const struct rl_site_desc *d)
{
    unsigned char *r = g->dict + off;
    unsigned char *p = r + sizeof v->h;
    memcpy(p, d->types, d->nargs);
    p += d->nargs;
    memcpy(p, d->fmt, v->h.fmt_len + 1u);
    p += v->h.fmt_len + 1u;
    memcpy(p, d->file, v->h.file_len + 1u);
    p += v->h.file_len + 1u;
    memcpy(p, d->func, v->h.func_len + 1u);
    p += v->h.func_len + 1u;
    memset(p, 0, (size_t)(r + v->h.size - p));
    memcpy(r, &v->h, sizeof v->h);
}

uint32_t rl_dict_register(struct rl_region *g, const struct rl_site_desc *d)
{
    if (!g->map.writable || !g->dict)
        return 0;
    struct rl_dict_hdr *dh = (struct rl_dict_hdr *)g->dict;
    _Atomic uint32_t *bucket = (_Atomic uint32_t *)(g->dict + sizeof *dh);
    uint32_t nb = rl_dict_buckets(g->dict_size), mask = nb - 1;
    struct rec_view v;
    if (describe(d, &v) != 0)
        return 0;
    uint32_t mine = 0; /* our record, written but not yet published */
    uint32_t b = (uint32_t)(v.h.hash ^ (v.h.hash >> 32)) & mask;
    for (uint32_t probe = 0; probe < nb; probe++, b = (b + 1) & mask) {
        /* Acquire: a bucket is published only after its record is whole. */
        uint32_t id = atomic_load_explicit(&bucket[b], memory_order_acquire);
        if (id == 0) {
            if (!mine) {
                mine = alloc_rec(g, dh, v.h.size);
                if (!mine)
                    break;
                write_rec(g, mine, &v, d);
            }
            uint32_t expect = 0;
            /* Release: whoever reads this bucket (acquire), or an entry
             * naming the id that a producer commits after reading it, sees
             * the record's bytes. */
            if (atomic_compare_exchange_strong_explicit(&bucket[b], &expect, mine / 8,
                                                        memory_order_release,
                                                        memory_order_acquire)) {
                atomic_fetch_add_explicit(&dh->records, 1, memory_order_relaxed);
                return mine / 8;
            }
            id = expect; /* lost the race for this bucket: is it our site? */
        }
        if (id <= g->dict_size / 8 && matches(g, id * 8, &v, d))
            return id; /* `mine`, if any, stays unreferenced: bounded waste */
    }
    atomic_fetch_add_explicit(&dh->full, 1, memory_order_relaxed);
    return 0;
}

int rl_site_types_ok(const uint8_t *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (t[i] < RINGLOG_ARG_I32 || t[i] > RINGLOG_ARG_SUPPRESSED ||
            (t[i] == RINGLOG_ARG_SUPPRESSED && i + 1 != n) || /* last */
            (t[i] == RINGLOG_ARG_ERRNO && i + 1 != n &&        /* last, or before it */
             !(i + 2 == n && t[i + 1] == RINGLOG_ARG_SUPPRESSED)))
            return 0;
    return 1;
}

struct rl_site_copy *rl_dict_copy(const struct rl_region *g, uint32_t id, const char **why)
{
    *why = "unknown call site";
    if (!g->dict || id == 0 || id > g->dict_size / 8)
        return NULL;
    uint32_t off = id * 8, arena = rl_dict_arena(g->dict_size);
    if (off < arena || off > g->dict_size - sizeof(struct rl_dict_rec))
        return NULL;
    /* Copy first, then check only the copy: the shared bytes may change. */
    struct rl_dict_rec h;
    memcpy(&h, g->dict + off, sizeof h);
    *why = "corrupt call-site record";
    if (h.magic != RL_DICT_REC_MAGIC || h.nargs > RINGLOG_MAX_ARGS || h.size < sizeof h ||
        h.size > g->dict_size - off || h.fmt_len > RL_DICT_FMT_MAX ||
        h.file_len > RL_DICT_FILE_MAX || h.func_len > RL_DICT_FUNC_MAX)
        return NULL;
    size_t body = (size_t)h.nargs + h.fmt_len + 1 + h.file_len + 1 + h.func_len + 1;
    if (body > h.size - sizeof h)
        return NULL;
    struct rl_site_copy *c = malloc(sizeof *c + body);
    if (!c) {
        *why = "out of memory";
        return NULL;
    }
    unsigned char *p = (unsigned char *)(c + 1);
    memcpy(p, g->dict + off + sizeof h, body);
    uint32_t sw = h.switches;
    h.switches = 0; /* hashed as zero: switching a site off keeps its record valid */
    uint64_t hash = fnv64(0xcbf29ce484222325ull, &h.line, 16);
    hash = fnv64(hash, p, body);
    if (!rl_site_types_ok(p, h.nargs))
        hash = ~h.hash; /* force the mismatch below */
    const char *fmt = (const char *)p + h.nargs, *file = fmt + h.fmt_len + 1,
               *func = file + h.file_len + 1;
    /* Each string must end exactly where its length says. */
    if (hash != h.hash || memchr(fmt, 0, h.fmt_len) || fmt[h.fmt_len] ||
        memchr(file, 0, h.file_len) || file[h.file_len] || memchr(func, 0, h.func_len) ||
        func[h.func_len]) {
        free(c);
        return NULL;
    }
    c->id = id;
    c->off = sw & 1;
    c->line = h.line;
    c->nargs = h.nargs;
    c->level = h.level;
    memset(c->types, 0, sizeof c->types);
    memcpy(c->types, p, h.nargs);
    c->fmt = fmt;
    c->file = file;
    c->func = func;
    *why = NULL;
    return c;
}

int rl_dict_each(const struct rl_region *g, int (*fn)(void *arg, uint32_t id), void *arg)
{
    if (!g->dict)
        return 0;
    const _Atomic uint32_t *b = (const _Atomic uint32_t *)(const void *)(g->dict + sizeof(struct rl_dict_hdr));
    uint32_t nb = rl_dict_buckets(g->dict_size), n = 0;
    for (uint32_t i = 0; i < nb; i++) {
        uint32_t id = atomic_load_explicit(&b[i], memory_order_acquire);
        if (!id)
            continue;
        n++;
        if (fn(arg, id))
            break;
    }
    return (int)n;
}
