/*
 * Deferred logging, the producer side: capture a call site's arguments
 * raw, by the types the compiler saw (RINGLOG_INFO & co., ringlog_log.h),
 * after the site's rate limit and switch.  The reader side, which formats
 * them later, is decode.c.
 *
 * The producer half runs in signal handlers too: no lock, no allocation,
 * no system call; strings are read only up to the bound printf itself
 * would honour.
 */
#include "fmt.h"
#include "internal.h"

#include <errno.h>
#include <float.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The library's view of struct ringlog_site: priv_ holds atomics. */
struct rl_site {
    const char *format, *file, *function;
    uint32_t line;
    uint8_t level, nargs;
    uint16_t flags_;
    uint8_t types[RINGLOG_MAX_ARGS];
    /* tag << 32 | id of the last region the site was registered in; the id
     * is valid for handles with that tag.  0: never registered. */
    _Atomic uint64_t cache;
    /* How each string argument is captured, 4 per word (enum below), the
     * same in every region; stored before the first `cache` store. */
    _Atomic uint64_t plan[4];
    /* The site's switch as last read: tag << 32 | sites_gen << 1 | off
     * (ringlog_site_switch); re-read when the region's sites_gen moves. */
    _Atomic uint64_t sw;
};
_Static_assert(sizeof(struct rl_site) == sizeof(struct ringlog_site), "site layout");
_Static_assert(offsetof(struct rl_site, cache) == offsetof(struct ringlog_site, priv_),
               "site layout");
_Static_assert(offsetof(struct rl_site, types) == offsetof(struct ringlog_site, types),
               "site layout");
_Static_assert(RINGLOG_STRING_MAX < 0x7fff, "a precision above the maximum stays distinguishable");

/* String capture plan: a literal precision (0..PLAN_PREC_MAX; a larger
 * one is kept as PLAN_PREC_MAX, still above RINGLOG_STRING_MAX, so that a
 * string cut to the maximum is flagged like one under %s), PLAN_WIDE plus
 * one (%ls of a wchar_t *, captured as UTF-8; PLAN_WIDE_NONE: no
 * precision), or: */
enum {
    PLAN_PREC_MAX = 0x7fff,
    PLAN_WIDE = 0x8000,
    PLAN_WIDE_NONE = 0xfff0,
    PLAN_ERRNO = 0xfffc, /* at index nargs: the format has %m, errno follows the arguments */
    PLAN_NONE = 0xffff, /* no precision: a NUL-terminated string */
    PLAN_STAR = 0xfffe, /* precision is the previous (int) argument */
    PLAN_PTR = 0xfffd,  /* not printed by %s: keep the pointer only */
};

/* ------------------------------------------------------------ the plan */

struct scan {
    unsigned n;
    int uses_errno;
    struct {
        int role, prec;
        enum rl_fmt_class cls;
    } slot[RINGLOG_MAX_ARGS + 1];
};

/* Records how rl_format consumes arguments; hands out harmless values. */
static int scan_fetch(void *ctx, enum rl_fmt_class cls, unsigned size, union rl_fmt_val *out)
{
    (void)size;
    struct scan *s = ctx;
    if (cls == RL_FMT_ERRNO) { /* %m: errno, not an argument */
        s->uses_errno = 1;
        out->i = 0;
        return 0;
    }
    if (s->n < RINGLOG_MAX_ARGS + 1) {
        s->slot[s->n].role = out->q.role;
        s->slot[s->n].prec = out->q.prec;
        s->slot[s->n].cls = cls;
    }
    s->n++;
    memset(out, 0, sizeof *out);
    out->s.ptr = "";
    out->s.len = 0;
    return 0;
}

/* The plan and the types as stored, from the format: the one place where
 * deferred capture decides what a string argument means. */
static unsigned make_plan(const struct rl_site *s, uint16_t plan[RINGLOG_MAX_ARGS],
                          uint8_t eff[RINGLOG_MAX_ARGS])
{
    struct scan sc;
    sc.n = 0;
    sc.uses_errno = 0;
    rl_format(NULL, 0, s->format, scan_fetch, &sc, NULL);
    for (unsigned i = 0; i < RINGLOG_MAX_ARGS; i++) {
        plan[i] = 0;
        eff[i] = i < s->nargs ? s->types[i] : 0;
    }
    unsigned nargs = s->nargs;
    if (sc.uses_errno) {
        if (nargs == RINGLOG_MAX_ARGS)
            return 0; /* no room for errno: the site is formatted at the call */
        plan[nargs] = PLAN_ERRNO;
        eff[nargs++] = RINGLOG_ARG_ERRNO;
    }
    if (s->flags_ & RINGLOG_SITE_COUNTED) {
        if (nargs == RINGLOG_MAX_ARGS)
            return 0; /* formatted at the call, the count appended */
        eff[nargs++] = RINGLOG_ARG_SUPPRESSED;
    }
    for (unsigned i = 0; i < s->nargs; i++) {
        if (eff[i] == RINGLOG_ARG_PTR && i < sc.n && sc.slot[i].role == RL_FMT_ROLE_VALUE &&
            sc.slot[i].cls == RL_FMT_WSTR) {
            /* A wchar_t * under %ls: its text, as UTF-8. */
            int pr = sc.slot[i].prec;
            plan[i] = (uint16_t)(pr < 0 ? PLAN_WIDE_NONE
                                        : PLAN_WIDE | (unsigned)(pr < PLAN_PREC_MAX ? pr : PLAN_PREC_MAX));
            if (plan[i] > PLAN_WIDE_NONE)
                plan[i] = PLAN_WIDE_NONE - 1; /* a precision above the maximum string */
            eff[i] = RINGLOG_ARG_STR;
            continue;
        }
        if (eff[i] != RINGLOG_ARG_STR && eff[i] != RINGLOG_ARG_BYTES)
            continue;
        if (i >= sc.n || sc.slot[i].role != RL_FMT_ROLE_VALUE || sc.slot[i].cls != RL_FMT_STR) {
            plan[i] = PLAN_PTR;
            eff[i] = RINGLOG_ARG_PTR;
        } else if (i > 0 && sc.slot[i - 1].role == RL_FMT_ROLE_PREC &&
                   (s->types[i - 1] == RINGLOG_ARG_I32 || s->types[i - 1] == RINGLOG_ARG_U32)) {
            plan[i] = PLAN_STAR;
            if (eff[i] == RINGLOG_ARG_BYTES)
                eff[i - 1] = RINGLOG_ARG_BLEN;
        } else if (sc.slot[i].prec >= 0) {
            plan[i] = (uint16_t)(sc.slot[i].prec < PLAN_PREC_MAX ? sc.slot[i].prec
                                                                  : PLAN_PREC_MAX);
        } else {
            plan[i] = PLAN_NONE;
        }
        /* Only "%.*s" with its length (RINGLOG_BYTES) makes an unsigned
         * char * a byte buffer; under a plain "%s" or "%.5s" it is a C
         * string (a uint8_t * name), read to its NUL and printed as text,
         * as printf would. */
        if (eff[i] == RINGLOG_ARG_BYTES && plan[i] != PLAN_STAR)
            eff[i] = RINGLOG_ARG_STR;
    }
    return nargs;
}

static uint32_t site_register(ringlog *log, struct rl_site *s)
{
    if (s->nargs > RINGLOG_MAX_ARGS || !s->format || !s->file || !s->function)
        return 0;
    uint16_t plan[RINGLOG_MAX_ARGS];
    uint8_t eff[RINGLOG_MAX_ARGS];
    unsigned nargs = make_plan(s, plan, eff);
    if (!nargs && s->nargs)
        return 0;
    for (unsigned w = 0; w < 4; w++) {
        uint64_t v = 0;
        for (unsigned k = 0; k < 4; k++)
            v |= (uint64_t)plan[w * 4 + k] << (16 * k);
        /* Every thread computes the same words; relaxed suffices because
         * readers of the plan get here through `cache` (acquire). */
        atomic_store_explicit(&s->plan[w], v, memory_order_relaxed);
    }
    struct rl_site_desc d = {s->format, s->file, s->function, s->line, nargs, s->level, eff};
    uint32_t id = rl_dict_register(&log->g, &d);
    if (id)
        atomic_store_explicit(&s->cache, (uint64_t)log->tag << 32 | id, memory_order_release);
    return id;
}

/* ----------------------------------------------------------- capture */

static size_t capture_str(unsigned char *p, size_t room, const char *str, unsigned type,
                          unsigned plan, int64_t prev, unsigned *flags)
{
    uint16_t len;
    if (room < 2)
        return 0; /* cannot happen: room is reserved for every argument */
    if (!str) {
        len = RL_STR_NULL;
        memcpy(p, &len, 2);
        return 2;
    }
    size_t bound = SIZE_MAX; /* what printf would read at most */
    int exact = 0;                     /* bound given by a precision */
    if (plan == PLAN_STAR) {
        if (prev >= 0) {
            bound = (uint64_t)prev;
            exact = 1;
        }
    } else if (plan != PLAN_NONE) {
        bound = plan;
        exact = 1;
    }
    size_t cap = bound < RINGLOG_STRING_MAX ? bound : RINGLOG_STRING_MAX;
    if (cap > room - 2)
        cap = room - 2;
    size_t n;
    if (type == RINGLOG_ARG_BYTES && exact && plan == PLAN_STAR) {
        n = cap; /* a buffer of that many bytes, NULs included */
    } else {
        n = 0;
        while (n < cap && str[n])
            n++;
    }
    len = (uint16_t)n;
    /* Cut short of what the conversion would print: str[cap] is readable
     * (inside the precision, or before the NUL of a C string). */
    if (n == cap && cap < bound && (type == RINGLOG_ARG_BYTES || str[cap])) {
        len |= RL_STR_CUT;
        *flags |= RINGLOG_FLAG_TRUNCATED;
    }
    memcpy(p, &len, 2);
    memcpy(p + 2, str, n);
    return 2 + n;
}

/* A wide string under %ls, stored as a string of its UTF-8: what printf
 * would print (up to `bound` bytes, whole characters), at most
 * RINGLOG_STRING_MAX bytes; a cut is flagged. */
static size_t capture_wstr(unsigned char *p, size_t room, const wchar_t *w, unsigned plan,
                           unsigned *flags)
{
    uint16_t len;
    if (room < 2)
        return 0;
    if (!w) {
        len = RL_STR_NULL;
        memcpy(p, &len, 2);
        return 2;
    }
    size_t bound = plan == PLAN_WIDE_NONE ? SIZE_MAX : (plan & ~(unsigned)PLAN_WIDE);
    size_t cap = bound < RINGLOG_STRING_MAX ? bound : RINGLOG_STRING_MAX;
    if (cap > room - 2)
        cap = room - 2;
    size_t n = 0;
    char b[4];
    for (size_t i = 0; w[i]; i++) {
        size_t k = rl_fmt_utf8((uint32_t)w[i], b);
        if (k > cap - n) {
            if (k <= bound - n) { /* printf would have printed it */
                n |= RL_STR_CUT;
                *flags |= RINGLOG_FLAG_TRUNCATED;
            }
            break;
        }
        memcpy(p + 2 + n, b, k);
        n += k;
    }
    len = (uint16_t)n;
    memcpy(p, &len, 2);
    return 2 + (n & ~(size_t)RL_STR_CUT);
}

/* Encodes the arguments; returns the payload length. */
static size_t capture(const struct rl_site *s, unsigned char *buf, va_list ap, unsigned *flags,
                      int saved_errno, uint64_t suppressed)
{
    uint64_t plan[4];
/* Room for a string: what is left after 16 bytes for each later argument,
 * 4 for a trailing errno and 8 for a suppressed count. */
#define ROOM(i) (RINGLOG_DEFERRED_MAX - 12u - n - 16u * (s->nargs - 1 - (i)))
    for (unsigned w = 0; w < 4; w++)
        plan[w] = atomic_load_explicit(&s->plan[w], memory_order_relaxed);
    size_t n = 0;
    int64_t prev = -1; /* the previous argument when it was an int */
    for (unsigned i = 0; i < s->nargs; i++) {
        int64_t cur = -1;
        switch (s->types[i]) {
        case RINGLOG_ARG_I32: {
            int32_t v = va_arg(ap, int);
            memcpy(buf + n, &v, 4);
            n += 4;
            cur = v;
            break;
        }
        case RINGLOG_ARG_U32: {
            uint32_t v = va_arg(ap, unsigned);
            memcpy(buf + n, &v, 4);
            n += 4;
            cur = v;
            break;
        }
        case RINGLOG_ARG_I64:
        case RINGLOG_ARG_U64: {
            uint64_t v = va_arg(ap, unsigned long long);
            memcpy(buf + n, &v, 8);
            n += 8;
            break;
        }
        case RINGLOG_ARG_F64: {
            double v = va_arg(ap, double);
            memcpy(buf + n, &v, 8);
            n += 8;
            break;
        }
        case RINGLOG_ARG_LDBL: {
            long double v = va_arg(ap, long double);
            unsigned char b[16] = {0};
            /* x87: 10 value bytes, the rest is padding the CPU leaves as is. */
            memcpy(b, &v, LDBL_MANT_DIG == 64 ? 10 : (sizeof v < 16 ? sizeof v : 16));
            memcpy(buf + n, b, 16);
            n += 16;
            break;
        }
        case RINGLOG_ARG_STR:
        case RINGLOG_ARG_BYTES: {
            const char *str = va_arg(ap, const char *);
            unsigned pl = (unsigned)(plan[i / 4] >> (16 * (i % 4))) & 0xffffu;
            if (pl == PLAN_PTR) {
                uint64_t v = (uint64_t)(uintptr_t)str;
                memcpy(buf + n, &v, 8);
                n += 8;
                break;
            }
            n += capture_str(buf + n, ROOM(i), str, s->types[i], pl, prev, flags);
            break;
        }
        default: { /* PTR, and any code a corrupt site might carry */
            const void *ptr = va_arg(ap, const void *);
            unsigned pl = (unsigned)(plan[i / 4] >> (16 * (i % 4))) & 0xffffu;
            if (pl >= PLAN_WIDE && pl <= PLAN_WIDE_NONE) {
                n += capture_wstr(buf + n, ROOM(i), ptr, pl, flags);
                break;
            }
            uint64_t v = (uint64_t)(uintptr_t)ptr;
            memcpy(buf + n, &v, 8);
            n += 8;
            break;
        }
        }
        prev = cur;
    }
    if (s->nargs < RINGLOG_MAX_ARGS &&
        ((plan[s->nargs / 4] >> (16 * (s->nargs % 4))) & 0xffffu) == PLAN_ERRNO) {
        int32_t e = saved_errno;
        memcpy(buf + n, &e, 4);
        n += 4;
    }
    if (s->flags_ & RINGLOG_SITE_COUNTED) {
        memcpy(buf + n, &suppressed, 8);
        n += 8;
        if (suppressed)
            *flags |= RINGLOG_FLAG_SUPPRESSED;
    }
    return n;
}

/* The site's switch in this region, read after the generation that
 * covers it (acquire: the switch word was stored before the bump). */
static uint64_t site_switch_read(ringlog *log, struct rl_site *s, uint32_t id)
{
    const struct rl_region *g = &log->g;
    uint32_t gen = atomic_load_explicit(&g->hdr->sites_gen, memory_order_acquire);
    uint32_t off = 0;
    uint64_t at = (uint64_t)id * 8;
    if (g->dict && at >= rl_dict_arena(g->dict_size) &&
        at + sizeof(struct rl_dict_rec) <= g->dict_size) {
        const _Atomic uint32_t *w =
            (const _Atomic uint32_t *)(const void *)(g->dict + at +
                                                     offsetof(struct rl_dict_rec, switches));
        off = atomic_load_explicit(w, memory_order_relaxed) & 1;
    }
    uint64_t v = (uint64_t)log->tag << 32 | (uint64_t)(gen & 0x7fffffffu) << 1 | off;
    atomic_store_explicit(&s->sw, v, memory_order_relaxed);
    return v;
}

struct switch_ctx {
    struct rl_region *g;
    const char *file, *glob;
    unsigned line;
    int on, n;
};

static int file_matches(const char *site_file, const char *want)
{
    size_t a = strlen(site_file), b = strlen(want);
    if (a == b)
        return strcmp(site_file, want) == 0;
    return a > b && site_file[a - b - 1] == '/' && strcmp(site_file + a - b, want) == 0;
}

static int switch_one(void *arg, uint32_t id)
{
    struct switch_ctx *c = arg;
    const char *why;
    struct rl_site_copy *sc = rl_dict_copy(c->g, id, &why);
    if (!sc)
        return 0;
    int match = (!c->file || file_matches(sc->file, c->file)) && (!c->line || sc->line == c->line) &&
                (!c->glob || fnmatch(c->glob, sc->fmt, 0) == 0);
    free(sc);
    if (!match)
        return 0;
    _Atomic uint32_t *w = (_Atomic uint32_t *)(void *)(c->g->dict + (size_t)id * 8 +
                                                       offsetof(struct rl_dict_rec, switches));
    if (c->on)
        atomic_fetch_and_explicit(w, ~1u, memory_order_relaxed);
    else
        atomic_fetch_or_explicit(w, 1u, memory_order_relaxed);
    c->n++;
    return 0;
}

/* The macros' test before they evaluate any argument, and the only check
 * of a site's switch on the common path: the level, then the switch as
 * last read, re-read when the region's sites_gen moved (sites_gen shares
 * min_level's line: one compare while nothing changes).  A site not yet
 * registered in this region passes: log_site registers it and reads its
 * switch. */
int ringlog_site_on_(ringlog *log, unsigned level, struct ringlog_site *site)
{
    if (!log && !(log = ringlog_get_default()))
        return 0;
    if (!rl_level_on(log, level))
        return 0;
    struct rl_site *s = (struct rl_site *)(void *)site;
    uint64_t sw = atomic_load_explicit(&s->sw, memory_order_relaxed);
    uint32_t gen = atomic_load_explicit(&log->g.hdr->sites_gen, memory_order_relaxed);
    if (RL_LIKELY(sw >> 32 == log->tag && ((sw >> 1) & 0x7fffffffu) == (gen & 0x7fffffffu)))
        return !(sw & 1);
    uint64_t c = atomic_load_explicit(&s->cache, memory_order_acquire);
    if ((uint32_t)(c >> 32) != log->tag || (uint32_t)c == 0)
        return 1;
    return !(site_switch_read(log, s, (uint32_t)c) & 1);
}

int ringlog_site_switch(ringlog *log, const char *file, unsigned line, const char *format_glob,
                        int on)
{
    if (!log)
        return rl_fail(RINGLOG_EINVAL, "NULL log");
    if (!log->g.map.writable)
        return rl_fail(RINGLOG_EACCES, "region mapped read-only");
    struct switch_ctx c = {&log->g, file && *file ? file : NULL, format_glob, line, on != 0, 0};
    rl_dict_each(&log->g, switch_one, &c);
    /* After the switch words: a producer that sees the new generation
     * (acquire) sees them. */
    if (c.n)
        atomic_fetch_add_explicit(&log->g.hdr->sites_gen, 1, memory_order_release);
    return c.n;
}

static int log_site(ringlog *log, struct rl_site *s, uint64_t suppressed, va_list ap)
{
    int saved_errno = errno; /* for %m, and given back: logging never changes errno */
    if (!log && !(log = ringlog_get_default()))
        return RINGLOG_EINVAL;
    if (RL_UNLIKELY(!s || s->nargs > RINGLOG_MAX_ARGS))
        return RINGLOG_EINVAL;
    uint64_t c = atomic_load_explicit(&s->cache, memory_order_acquire);
    uint32_t id = (uint32_t)c;
    if (RL_UNLIKELY((uint32_t)(c >> 32) != log->tag || id == 0)) {
        /* First call in this region: register, then read the switch
         * (another process may have switched the site off already).  Later
         * calls had it checked by ringlog_site_on_ before their arguments. */
        id = site_register(log, s);
        if (id && (site_switch_read(log, s, id) & 1)) {
            errno = saved_errno;
            return 0; /* switched off: not an entry, not a loss */
        }
    }
    int rc;
    if (RL_LIKELY(id != 0)) {
        unsigned char buf[RINGLOG_DEFERRED_MAX];
        unsigned flags = 0;
        size_t n = capture(s, buf, ap, &flags, saved_errno, suppressed);
        rc = rl_put(log, s->level, RINGLOG_TYPE_DEFERRED, id, flags, buf, n);
    } else {
        /* Dictionary full (or the site is unusual): format now, lose nothing. */
        char text[RINGLOG_PRINTF_MAX + 64];
        errno = saved_errno;
        size_t n = rl_vformat(text, RINGLOG_PRINTF_MAX + 1, s->format, ap);
        unsigned flags = 0;
        if (n > RINGLOG_PRINTF_MAX) {
            n = RINGLOG_PRINTF_MAX;
            flags |= RINGLOG_FLAG_TRUNCATED;
        }
        if (suppressed) {
            n += rl_sformat(text + n, sizeof text - n, " [ringlog: %llu similar calls suppressed]",
                            (unsigned long long)suppressed);
            flags |= RINGLOG_FLAG_SUPPRESSED;
        }
        rc = rl_level_on(log, s->level)
                 ? rl_put(log, s->level, RINGLOG_TYPE_TEXT, 0, flags, text, n)
                 : 0;
    }
    errno = saved_errno;
    return rc;
}

int ringlog_log_(ringlog *log, struct ringlog_site *site, const char *fmt, ...)
{
    (void)fmt; /* site->format; passed so the compiler checks the arguments */
    va_list ap;
    va_start(ap, fmt);
    int rc = log_site(log, (struct rl_site *)(void *)site, 0, ap);
    va_end(ap);
    return rc;
}

int ringlog_log_counted_(ringlog *log, struct ringlog_site *site, uint64_t suppressed,
                         const char *fmt, ...)
{
    (void)fmt;
    va_list ap;
    va_start(ap, fmt);
    int rc = log_site(log, (struct rl_site *)(void *)site, suppressed, ap);
    va_end(ap);
    return rc;
}

/* One word per use: every N, a call counter; per second, the second it
 * counts (high 40 bits) and the calls let through in it (low 24).  And the
 * calls suppressed since the last one let through, handed to that one. */
_Static_assert(sizeof(struct ringlog_limit) == 2 * sizeof(_Atomic uint64_t), "limit layout");

int ringlog_limit_pass_(struct ringlog_limit *lim, unsigned every, unsigned per_second,
                        uint64_t *suppressed)
{
    _Atomic uint64_t *w = (_Atomic uint64_t *)(void *)&lim->priv_[0];
    _Atomic uint64_t *sup = (_Atomic uint64_t *)(void *)&lim->priv_[1];
    int pass = 0;
    if (every) {
        pass = atomic_fetch_add_explicit(w, 1, memory_order_relaxed) % every == 0;
    } else if (per_second) {
        uint64_t sec = (rl_plat_coarse_ns() / 1000000000u) & ((UINT64_C(1) << 40) - 1);
        uint64_t cap = per_second < 0xffffffu ? per_second : 0xffffffu;
        uint64_t cur = atomic_load_explicit(w, memory_order_relaxed);
        for (;;) {
            uint64_t next;
            if (cur >> 24 != sec)
                next = sec << 24 | 1;
            else if ((cur & 0xffffffu) < cap)
                next = cur + 1;
            else
                break;
            if (atomic_compare_exchange_weak_explicit(w, &cur, next, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                pass = 1;
                break;
            }
        }
    }
    if (!pass) {
        atomic_fetch_add_explicit(sup, 1, memory_order_relaxed);
        return 0;
    }
    *suppressed = atomic_exchange_explicit(sup, 0, memory_order_relaxed);
    return 1;
}
