/*
 * Deferred logging, the reader side: parse a deferred entry's payload by
 * its call site's recorded types and format it, checking every conversion
 * against those types (the region is untrusted input).  The producer side
 * is deferred.c; the payload encoding is FORMAT.md's.
 */
#include "fmt.h"
#include "internal.h"

#include <stdarg.h>
#include <string.h>


struct arg {
    uint8_t type;
    uint8_t cut, null;
    uint16_t len;
    uint64_t u;
    double d;
    long double ld;
    const unsigned char *bytes;
};

struct fctx {
    const struct arg *a;
    unsigned n, next;
    unsigned mismatch, missing;
    char *hex; /* scratch for BYTES shown in hex */
    size_t hex_used, hex_cap;
};

static int is_int(unsigned t)
{
    return t == RINGLOG_ARG_I32 || t == RINGLOG_ARG_U32 || t == RINGLOG_ARG_I64 ||
           t == RINGLOG_ARG_U64 || t == RINGLOG_ARG_BLEN;
}

static int deferred_fetch(void *ctx, enum rl_fmt_class cls, unsigned size, union rl_fmt_val *out)
{
    (void)size;
    struct fctx *c = ctx;
    int role = out->q.role;
    if (cls == RL_FMT_ERRNO) {
        /* Stored after the arguments; it is not one of them. */
        for (unsigned i = c->n; i-- > 0;)
            if (c->a[i].type == RINGLOG_ARG_ERRNO) {
                out->i = (int32_t)(uint32_t)c->a[i].u;
                return 0;
            }
        c->mismatch = 1;
        return -1;
    }
    if (c->next >= c->n) {
        c->missing = 1;
        return -1;
    }
    const struct arg *a = &c->a[c->next++];
    switch (cls) {
    case RL_FMT_INT:
    case RL_FMT_UINT:
    case RL_FMT_CHAR:
        if (!is_int(a->type))
            break;
        if (a->type == RINGLOG_ARG_BLEN && role == RL_FMT_ROLE_PREC)
            out->i = -1; /* the byte count: the hex shows them all */
        else if (a->type == RINGLOG_ARG_I32 || a->type == RINGLOG_ARG_BLEN)
            out->i = (int32_t)(uint32_t)a->u;
        else
            out->u = a->u;
        return 0;
    case RL_FMT_DOUBLE:
        if (a->type == RINGLOG_ARG_F64)
            out->d = a->d;
        else if (a->type == RINGLOG_ARG_LDBL)
            out->d = (double)a->ld;
        else
            break;
        return 0;
    case RL_FMT_LDOUBLE:
        if (a->type == RINGLOG_ARG_LDBL)
            out->ld = a->ld;
        else if (a->type == RINGLOG_ARG_F64)
            out->ld = a->d;
        else
            break;
        return 0;
    case RL_FMT_PTR:
        if (a->type != RINGLOG_ARG_PTR)
            break;
        out->p = (const void *)(uintptr_t)a->u;
        return 0;
    case RL_FMT_ERRNO: /* handled above */
        break;
    case RL_FMT_WSTR: /* captured as UTF-8 */
    case RL_FMT_STR:
        if (a->type == RINGLOG_ARG_STR) {
            out->s.ptr = a->null ? NULL : (const char *)a->bytes;
            out->s.len = a->len;
            out->s.wide = 0;
            return 0;
        }
        if (cls == RL_FMT_WSTR)
            break;
        if (a->type == RINGLOG_ARG_BYTES) {
            if (a->null) {
                out->s.ptr = NULL;
                out->s.len = 0;
                return 0;
            }
            static const char digits[] = "0123456789abcdef";
            size_t need = 2u * a->len;
            if (need > c->hex_cap - c->hex_used)
                break;
            char *h = c->hex + c->hex_used;
            for (unsigned k = 0; k < a->len; k++) {
                h[2 * k] = digits[a->bytes[k] >> 4];
                h[2 * k + 1] = digits[a->bytes[k] & 15];
            }
            c->hex_used += need;
            out->s.ptr = h;
            out->s.len = need;
            return 0;
        }
        break;
    }
    c->mismatch = 1;
    return -1;
}

/* Parses the payload by the site's types; -1 when it does not fit. */
static int decode(const struct rl_site_copy *site, const unsigned char *p, size_t len,
                  struct arg *a)
{
    size_t off = 0;
    for (unsigned i = 0; i < site->nargs; i++) {
        struct arg *x = &a[i];
        memset(x, 0, sizeof *x);
        x->type = site->types[i];
        size_t k;
        switch (x->type) {
        case RINGLOG_ARG_I32:
        case RINGLOG_ARG_BLEN:
        case RINGLOG_ARG_ERRNO:
        case RINGLOG_ARG_U32: {
            uint32_t v;
            if (len - off < 4)
                return -1;
            memcpy(&v, p + off, 4);
            x->u = x->type == RINGLOG_ARG_U32 ? v : (uint64_t)(int64_t)(int32_t)v;
            k = 4;
            break;
        }
        case RINGLOG_ARG_F64:
            if (len - off < 8)
                return -1;
            memcpy(&x->d, p + off, 8);
            k = 8;
            break;
        case RINGLOG_ARG_LDBL: {
            if (len - off < 16)
                return -1;
            unsigned char b[sizeof(long double) > 16 ? sizeof(long double) : 16] = {0};
            memcpy(b, p + off, 16);
            memcpy(&x->ld, b, sizeof x->ld);
            k = 16;
            break;
        }
        case RINGLOG_ARG_STR:
        case RINGLOG_ARG_BYTES: {
            uint16_t l;
            if (len - off < 2)
                return -1;
            memcpy(&l, p + off, 2);
            if (l == RL_STR_NULL) {
                x->null = 1;
                k = 2;
                break;
            }
            x->cut = (l & RL_STR_CUT) != 0;
            x->len = l & (uint16_t)~RL_STR_CUT;
            if (x->len > RINGLOG_STRING_MAX || len - off - 2 < x->len)
                return -1;
            x->bytes = p + off + 2;
            k = 2u + x->len;
            break;
        }
        default: /* I64, U64, PTR */
            if (len - off < 8)
                return -1;
            memcpy(&x->u, p + off, 8);
            k = 8;
            break;
        }
        off += k;
    }
    return off == len ? 0 : -1;
}

/* Appends to buf as snprintf would, tracking the full length. */
struct out {
    char *buf;
    size_t cap, len;
};
static void out_put(struct out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - 1 - o->len, k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->buf[o->len + k] = '\0';
    }
    o->len += n;
}
static void out_fmt(struct out *o, const char *fmt, ...)
{
    char tmp[96];
    va_list ap;
    va_start(ap, fmt);
    size_t n = rl_vformat(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    out_put(o, tmp, n < sizeof tmp ? n : sizeof tmp - 1);
}
static void out_str(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
}
static void out_quoted(struct out *o, const unsigned char *s, size_t n)
{
    out_put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            out_put(o, (const char *)&ch, 1);
        else
            out_fmt(o, "\\x%02x", ch);
    }
    out_put(o, "\"", 1);
}

static void raw_values(struct out *o, const struct arg *a, unsigned n)
{
    out_str(o, "args:");
    for (unsigned i = 0; i < n; i++) {
        const struct arg *x = &a[i];
        out_put(o, i ? ", " : " ", i ? 2 : 1);
        switch (x->type) {
        case RINGLOG_ARG_I32:
        case RINGLOG_ARG_BLEN:
        case RINGLOG_ARG_I64: out_fmt(o, "%lld", (long long)x->u); break;
        case RINGLOG_ARG_U32:
        case RINGLOG_ARG_U64: out_fmt(o, "%llu", (unsigned long long)x->u); break;
        case RINGLOG_ARG_F64: out_fmt(o, "%.17g", x->d); break;
        case RINGLOG_ARG_LDBL: out_fmt(o, "%.21Lg", x->ld); break;
        case RINGLOG_ARG_PTR: out_fmt(o, "%p", (void *)(uintptr_t)x->u); break;
        case RINGLOG_ARG_ERRNO: out_fmt(o, "errno %lld", (long long)x->u); break;
        case RINGLOG_ARG_SUPPRESSED: out_fmt(o, "suppressed %llu", (unsigned long long)x->u); break;
        case RINGLOG_ARG_STR:
            if (x->null)
                out_put(o, "(null)", 6);
            else
                out_quoted(o, x->bytes, x->len);
            break;
        case RINGLOG_ARG_BYTES:
            if (x->null)
                out_put(o, "(null)", 6);
            for (unsigned k = 0; !x->null && k < x->len; k++)
                out_fmt(o, "%02x", x->bytes[k]);
            break;
        }
        if (x->cut)
            out_put(o, "\xe2\x80\xa6", 3);
    }
}

size_t rl_deferred_text(const struct rl_site_copy *site, const struct ringlog_entry *e, char *buf,
                        size_t cap)
{
    struct out o = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    struct arg a[RINGLOG_MAX_ARGS];
    if (decode(site, e->data, e->length, a) != 0) {
        out_fmt(&o, "[ringlog: arguments of site %u do not match its %u types (%zu bytes)",
                site->id, site->nargs, e->length);
        out_put(&o, "]", 1);
        return o.len;
    }
    char hex[2 * RINGLOG_DEFERRED_MAX];
    struct fctx c = {a, site->nargs, 0, 0, 0, hex, 0, sizeof hex};
    unsigned errs = 0;
    size_t n = rl_format(cap ? buf : NULL, cap, site->fmt, deferred_fetch, &c, &errs);
    o.len = n;
    int cut = 0;
    for (unsigned i = 0; i < site->nargs; i++)
        cut |= a[i].cut;
    if (c.mismatch || c.missing || cut || (errs & RL_FMT_ERR_SPEC)) {
        out_str(&o, " [ringlog: ");
        if (c.mismatch)
            out_str(&o, "format does not match the argument types; ");
        else if (c.missing)
            out_str(&o, "missing argument; ");
        else if (errs & RL_FMT_ERR_SPEC)
            out_str(&o, "unsupported or capped conversion; ");
        else
            out_str(&o, "string cut to fit; ");
        raw_values(&o, a, site->nargs);
        out_put(&o, "]", 1);
    }
    /* A rate-limited site: the calls held back before this one. */
    for (unsigned i = site->nargs; i-- > 0;)
        if (a[i].type == RINGLOG_ARG_SUPPRESSED) {
            if (a[i].u)
                out_fmt(&o, " [ringlog: %llu similar calls suppressed]",
                        (unsigned long long)a[i].u);
            break;
        }
    return o.len;
}

/* The typed arguments (ringlog_entry_args): the same checked decode as the
 * text. */
int rl_entry_args(const struct rl_site_copy *site, const struct ringlog_entry *e,
                  struct ringlog_arg *out, unsigned max)
{
    struct arg a[RINGLOG_MAX_ARGS];
    if (decode(site, e->data, e->length, a) != 0)
        return rl_fail(RINGLOG_EFORMAT, "arguments of site %u do not match its %u types (%zu bytes)",
                       site->id, site->nargs, e->length);
    for (unsigned k = 0; k < site->nargs && k < max; k++) {
        const struct arg *x = &a[k];
        struct ringlog_arg *o = &out[k];
        memset(o, 0, sizeof *o);
        o->type = x->type;
        o->u = x->u;
        o->i = (int64_t)x->u;
        if (x->type == RINGLOG_ARG_F64)
            o->f = x->d;
        else if (x->type == RINGLOG_ARG_LDBL)
            o->f = (double)x->ld;
        else if (x->type == RINGLOG_ARG_STR || x->type == RINGLOG_ARG_BYTES) {
            o->flags = (x->null ? RINGLOG_ARGF_NULL : 0u) | (x->cut ? RINGLOG_ARGF_CUT : 0u);
            o->str = x->null ? NULL : (const char *)x->bytes;
            o->len = x->null ? 0 : x->len;
        }
    }
    return (int)site->nargs;
}
