/* Async-signal-safe printf-family formatter; see fmt.h for the contract.
 *
 * This file is the format loop: specification parsing, argument classes,
 * integers, strings, positional arguments, %m and wide characters.  The
 * exact floating-point engine (%e %f %g %a, long double decoding) is in
 * fmt_float.c; fmt_float.h holds what the two share.
 */
#include "fmt.h"
#include "fmt_float.h"
#include "platform.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <wchar.h>

/* ------------------------------------------------------------------------ */
/* Text and integers.                                                        */

/* Text (%s, %c, "(nil)", "(null)"): padded with spaces only, as glibc does
 * even under the 0 flag. */
static void fmt_text(struct fmt_out *o, const struct fmt_spec *sp, const char *s, size_t n)
{
    size_t pad = fmt_padding(sp, n);
    if (!(sp->flags & FMT_MINUS))
        fmt_pad(o, ' ', pad);
    fmt_put(o, s, n);
    if (sp->flags & FMT_MINUS)
        fmt_pad(o, ' ', pad);
}

/* Integers and non-null %p. */
static void fmt_integer(struct fmt_out *o, const struct fmt_spec *sp, uint64_t mag, int neg,
                        int is_signed)
{
    static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
    char digs[24], *end = digs + sizeof digs, *p = end;
    char pre[3];
    size_t npre = 0, nd, zeros = 0, pad;
    char conv = sp->conv;
    unsigned flags = sp->flags;

    /* glibc honours + and space for %p too: it formats it as a signed %#lx. */
    if (is_signed || conv == 'p') {
        if (neg)
            pre[npre++] = '-';
        else if (flags & FMT_PLUS)
            pre[npre++] = '+';
        else if (flags & FMT_SPACE)
            pre[npre++] = ' ';
    }
    if (!(sp->prec == 0 && mag == 0)) {
        uint64_t v = mag;
        switch (conv) {
        case 'o':
            do *--p = (char)('0' + (v & 7)); while (v >>= 3);
            break;
        case 'x': case 'p':
            do *--p = lower[v & 15]; while (v >>= 4);
            break;
        case 'X':
            do *--p = upper[v & 15]; while (v >>= 4);
            break;
        default:
            do *--p = (char)('0' + v % 10); while (v /= 10);
            break;
        }
    }
    nd = (size_t)(end - p);
    if (sp->prec > 0 && (size_t)sp->prec > nd)
        zeros = (size_t)sp->prec - nd;
    /* # on %o raises the precision just enough for a leading 0. */
    if (conv == 'o' && (flags & FMT_HASH) && zeros == 0 && (nd == 0 || *p != '0'))
        zeros = 1;
    if (((conv == 'x' || conv == 'X') && (flags & FMT_HASH) && mag != 0) || conv == 'p') {
        pre[npre++] = '0';
        pre[npre++] = conv == 'X' ? 'X' : 'x';
    }
    pad = fmt_padding(sp, npre + zeros + nd);
    if (flags & FMT_MINUS) {
        fmt_put(o, pre, npre);
        fmt_pad(o, '0', zeros);
        fmt_put(o, p, nd);
        fmt_pad(o, ' ', pad);
        return;
    }
    /* The 0 flag is ignored once a precision is given. */
    if ((flags & FMT_ZERO) && sp->prec < 0) {
        zeros += pad;
    } else {
        fmt_pad(o, ' ', pad);
    }
    fmt_put(o, pre, npre);
    fmt_pad(o, '0', zeros);
    fmt_put(o, p, nd);
}

/* ------------------------------------------------------------------------ */
/* The format loop.                                                          */

static unsigned fmt_int_size(enum fmt_len len)
{
    switch (len) {
    case FMT_LEN_HH: return 1;
    case FMT_LEN_H: return 2;
    case FMT_LEN_L: return sizeof(long);
    case FMT_LEN_LL: return sizeof(long long);
    case FMT_LEN_J: return sizeof(intmax_t);
    case FMT_LEN_Z: return sizeof(size_t);
    case FMT_LEN_T: return sizeof(ptrdiff_t);
    case FMT_LEN_BIGL: return sizeof(long long); /* glibc: %Ld is long long */
    case FMT_LEN_NONE: break;
    }
    return sizeof(int);
}

/* Saturates at limit+1 so that no digit string can overflow. */
static unsigned fmt_parse_num(const char **pp, unsigned limit)
{
    const char *p = *pp;
    unsigned v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v <= limit)
            v = v * 10 + (unsigned)(*p - '0');
        p++;
    }
    *pp = p;
    return v;
}

static const char fmt_marker[] = "<?>";

/* %m's text: errno's description, or glibc's "Unknown error N". */
static const char *rl_fmt_errno_text(int e, char *tmp, size_t cap)
{
    const char *t = rl_plat_errno_text(e);
    if (t)
        return t;
    char digs[16], *q = digs + sizeof digs;
    unsigned u = e < 0 ? 0u - (unsigned)e : (unsigned)e;
    *--q = 0;
    do
        *--q = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (e < 0)
        *--q = '-';
    size_t n = sizeof "Unknown error " - 1, k = strlen(q);
    if (n + k + 1 > cap)
        return "Unknown error";
    memcpy(tmp, "Unknown error ", n);
    memcpy(tmp + n, q, k + 1);
    return tmp;
}

/* A `*` argument, taken as the int it was passed as. */
static int fmt_fetch_star(rl_fmt_fetch fetch, void *ctx, int role, int *neg, uint64_t *mag)
{
    const uint64_t sign = UINT64_C(1) << (sizeof(int) * CHAR_BIT - 1), mask = sign | (sign - 1);
    union rl_fmt_val v;
    uint64_t u;
    v.q.role = role;
    v.q.prec = -1;
    if (!fetch || fetch(ctx, RL_FMT_INT, sizeof(int), &v))
        return -1;
    u = (uint64_t)v.i & mask;
    *neg = (u & sign) != 0;
    *mag = *neg ? (0 - u) & mask : u;
    return 0;
}

/* "n$" at *pp: a 1-based argument position (positional formats, POSIX).
 * Returns 0 when there is none (*pp unchanged), 1 with *pos set (above
 * RL_FMT_MAX_POS when out of range, which the caller refuses). */
static int fmt_parse_pos(const char **pp, unsigned *pos)
{
    const char *q = *pp;
    if (*q < '1' || *q > '9')
        return 0;
    unsigned n = fmt_parse_num(&q, RL_FMT_MAX_POS);
    if (*q != '$')
        return 0;
    *pos = n;
    *pp = q + 1;
    return 1;
}

/* Where a conversion's arguments come from: 0 = the next in order. */
struct fmt_pos {
    unsigned v, w, p;
};

enum { FMT_SPEC_OK, FMT_SPEC_END, FMT_SPEC_BAD };

/* Parses one specification from just after its '%' up to and including
 * the conversion character; *pp is left after what was parsed.  END: the
 * format ends inside it; BAD: a position of 0 or above RL_FMT_MAX_POS. */
static int fmt_parse_spec(const char **pp, struct fmt_spec *sp, struct fmt_pos *pos, int *star_w,
                          int *star_p, unsigned *err)
{
    const char *p = *pp;
    int bad = 0;
    sp->flags = 0;
    sp->width = 0;
    sp->prec = -1;
    sp->len = FMT_LEN_NONE;
    pos->v = pos->w = pos->p = 0;
    *star_w = *star_p = 0;
    if (fmt_parse_pos(&p, &pos->v) && pos->v > RL_FMT_MAX_POS)
        bad = 1;
    for (;; p++) {
        switch (*p) {
        case '-': sp->flags |= FMT_MINUS; continue;
        case '+': sp->flags |= FMT_PLUS; continue;
        case ' ': sp->flags |= FMT_SPACE; continue;
        case '#': sp->flags |= FMT_HASH; continue;
        case '0': sp->flags |= FMT_ZERO; continue;
        case '\'': continue; /* grouping: a no-op in the C locale */
        case 'I': continue;  /* glibc's locale digits: ASCII in the C locale */
        default: break;
        }
        break;
    }
    if (*p == '*') {
        *star_w = 1;
        p++;
        if (fmt_parse_pos(&p, &pos->w) && pos->w > RL_FMT_MAX_POS)
            bad = 1;
    } else {
        unsigned w = fmt_parse_num(&p, RL_FMT_MAX_WIDTH);
        if (w > RL_FMT_MAX_WIDTH) {
            w = RL_FMT_MAX_WIDTH;
            *err |= RL_FMT_ERR_SPEC;
        }
        sp->width = w;
    }
    if (*p == '.') {
        p++;
        if (*p == '*') {
            *star_p = 1;
            p++;
            if (fmt_parse_pos(&p, &pos->p) && pos->p > RL_FMT_MAX_POS)
                bad = 1;
        } else {
            unsigned pr = fmt_parse_num(&p, RL_FMT_MAX_PREC);
            if (pr > RL_FMT_MAX_PREC) {
                pr = RL_FMT_MAX_PREC;
                *err |= RL_FMT_ERR_SPEC;
            }
            sp->prec = (int)pr;
        }
    }
    switch (*p) {
    case 'h':
        sp->len = p[1] == 'h' ? FMT_LEN_HH : FMT_LEN_H;
        p += p[1] == 'h' ? 2 : 1;
        break;
    case 'l':
        sp->len = p[1] == 'l' ? FMT_LEN_LL : FMT_LEN_L;
        p += p[1] == 'l' ? 2 : 1;
        break;
    case 'j': sp->len = FMT_LEN_J; p++; break;
    case 'z': sp->len = FMT_LEN_Z; p++; break;
    case 't': sp->len = FMT_LEN_T; p++; break;
    case 'L': sp->len = FMT_LEN_BIGL; p++; break;
    default: break;
    }
    sp->conv = *p;
    if (!sp->conv) {
        *pp = p;
        return FMT_SPEC_END;
    }
    *pp = p + 1;
    return bad ? FMT_SPEC_BAD : FMT_SPEC_OK;
}

static int fmt_wide(const struct fmt_spec *sp)
{
    return sp->conv == 'C' || sp->conv == 'S' || sp->len == FMT_LEN_L || sp->len == FMT_LEN_LL;
}

#define FMT_NO_ARG (-1)

/* The one table of what a conversion's value is fetched as: its class and
 * size, or FMT_NO_ARG ('%' and unknown conversions). */
static int fmt_value_class(const struct fmt_spec *sp, unsigned *size)
{
    switch (sp->conv) {
    case 'd': case 'i': *size = fmt_int_size(sp->len); return RL_FMT_INT;
    case 'o': case 'u': case 'x': case 'X': *size = fmt_int_size(sp->len); return RL_FMT_UINT;
    case 'p': case 'n': *size = sizeof(void *); return RL_FMT_PTR;
    case 'c': case 'C': *size = sizeof(int); return RL_FMT_CHAR; /* int or wint_t, promoted */
    case 's': case 'S': *size = sizeof(void *); return fmt_wide(sp) ? RL_FMT_WSTR : RL_FMT_STR;
    case 'm': *size = sizeof(int); return RL_FMT_ERRNO;
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
        if (sp->len == FMT_LEN_BIGL || sp->len == FMT_LEN_LL) {
            *size = sizeof(long double);
            return RL_FMT_LDOUBLE;
        }
        *size = sizeof(double);
        return RL_FMT_DOUBLE;
    default: return FMT_NO_ARG;
    }
}

/* UTF-8 of one code point; what is not a scalar value becomes U+FFFD (glibc
 * would fail the whole call with EILSEQ). */
size_t rl_fmt_utf8(uint32_t c, char *b)
{
    if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        c = 0xfffd;
    if (c < 0x80) {
        b[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        b[0] = (char)(0xc0 | c >> 6);
        b[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        b[0] = (char)(0xe0 | c >> 12);
        b[1] = (char)(0x80 | (c >> 6 & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | c >> 18);
    b[1] = (char)(0x80 | (c >> 12 & 0x3f));
    b[2] = (char)(0x80 | (c >> 6 & 0x3f));
    b[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* %ls of wide characters: as glibc, the precision counts output bytes and
 * no character is cut in half. */
static void fmt_wtext(struct fmt_out *o, const struct fmt_spec *sp, const wchar_t *w, size_t wlen)
{
    size_t lim = sp->prec >= 0 ? (size_t)sp->prec : SIZE_MAX, bytes = 0, n = 0;
    char b[4];
    while (n < wlen && w[n]) {
        size_t k = rl_fmt_utf8((uint32_t)w[n], b);
        if (k > lim - bytes)
            break;
        bytes += k;
        n++;
    }
    size_t pad = fmt_padding(sp, bytes);
    if (!(sp->flags & FMT_MINUS))
        fmt_pad(o, ' ', pad);
    for (size_t i = 0; i < n; i++)
        fmt_put(o, b, rl_fmt_utf8((uint32_t)w[i], b));
    if (sp->flags & FMT_MINUS)
        fmt_pad(o, ' ', pad);
}

/* A positional format's arguments, fetched once in position order (so the
 * caller's fetch stays sequential), then handed out by position. */
struct fmt_args {
    union rl_fmt_val v[RL_FMT_MAX_POS + 1];
    signed char cls[RL_FMT_MAX_POS + 1]; /* -1: not used by the format */
    unsigned char size[RL_FMT_MAX_POS + 1], role[RL_FMT_MAX_POS + 1], ok[RL_FMT_MAX_POS + 1];
    short prec[RL_FMT_MAX_POS + 1];
    unsigned q[3], nq, k; /* the positions the current conversion takes, in order */
};

static void fmt_args_use(struct fmt_args *a, unsigned pos, int cls, unsigned size, int role,
                         int prec, unsigned *err)
{
    if (!pos) {
        *err |= RL_FMT_ERR_SPEC; /* mixes numbered and unnumbered arguments */
        return;
    }
    if (a->cls[pos] < 0) {
        a->cls[pos] = (signed char)cls;
        a->size[pos] = (unsigned char)size;
        a->role[pos] = (unsigned char)role;
        a->prec[pos] = (short)prec;
    }
    /* A second use of another class is refused when it is formatted. */
}

/* Returns non-zero when the format numbers its arguments ("%2$s"); then
 * they have been fetched into *a. */
static int fmt_args_collect(const char *p, rl_fmt_fetch fetch, void *ctx, struct fmt_args *a,
                            unsigned *err)
{
    unsigned maxpos = 0, mixed = 0;
    int any = 0;
    for (unsigned i = 0; i <= RL_FMT_MAX_POS; i++)
        a->cls[i] = -1, a->ok[i] = 0;
    for (const char *s = p; (s = strchr(s, '%')) != NULL;) {
        struct fmt_spec sp;
        struct fmt_pos pos;
        int sw, spr;
        unsigned e = 0;
        s++;
        if (*s == '%') {
            s++;
            continue;
        }
        int rc = fmt_parse_spec(&s, &sp, &pos, &sw, &spr, &e);
        if (rc == FMT_SPEC_END)
            break;
        if (pos.v || pos.w || pos.p)
            any = 1;
        unsigned size;
        int cls = rc == FMT_SPEC_OK ? fmt_value_class(&sp, &size) : FMT_NO_ARG;
        if (cls == FMT_NO_ARG)
            continue;
        if (sw)
            fmt_args_use(a, pos.w, RL_FMT_INT, sizeof(int), RL_FMT_ROLE_WIDTH, -1, &mixed);
        if (spr)
            fmt_args_use(a, pos.p, RL_FMT_INT, sizeof(int), RL_FMT_ROLE_PREC, -1, &mixed);
        if (cls != RL_FMT_ERRNO)
            fmt_args_use(a, pos.v, cls, size, RL_FMT_ROLE_VALUE, sp.prec, &mixed);
        unsigned m = pos.v > pos.w ? pos.v : pos.w;
        m = m > pos.p ? m : pos.p;
        maxpos = m > maxpos ? m : maxpos;
    }
    if (!any)
        return 0;
    *err |= mixed;
    for (unsigned i = 1; i <= maxpos; i++) {
        if (a->cls[i] < 0) {
            /* A hole: its type is unknown, so nothing after it can be read. */
            *err |= RL_FMT_ERR_SPEC;
            break;
        }
        a->v[i].q.role = a->role[i];
        a->v[i].q.prec = a->prec[i];
        a->ok[i] = fetch && fetch(ctx, (enum rl_fmt_class)a->cls[i], a->size[i], &a->v[i]) == 0;
    }
    return 1;
}

static int fmt_is_int_class(int cls)
{
    return cls == RL_FMT_INT || cls == RL_FMT_UINT || cls == RL_FMT_CHAR;
}

static int fmt_args_fetch(void *ctx, enum rl_fmt_class cls, unsigned size, union rl_fmt_val *out)
{
    struct fmt_args *a = ctx;
    if (a->k >= a->nq)
        return -1;
    unsigned pos = a->q[a->k++];
    if (!pos || !a->ok[pos] || a->size[pos] != size)
        return -1;
    /* An integer read as another integer class of its size is what va_arg
     * would give ("%1$d %1$x"); the formatter masks it to `size`. */
    if (a->cls[pos] != (int)cls && !(fmt_is_int_class(a->cls[pos]) && fmt_is_int_class(cls)))
        return -1;
    *out = a->v[pos];
    return 0;
}

size_t rl_format(char *buf, size_t cap, const char *fmt, rl_fmt_fetch fetch, void *ctx,
                 unsigned *errs)
{
    struct fmt_out o;
    unsigned err = 0;
    const char *p = fmt;
    struct fmt_args args;
    int positional;

    if (!buf)
        cap = 0;
    o.buf = buf;
    o.lim = cap ? cap - 1 : 0;
    o.len = 0;
    if (!p) {
        p = "";
        err |= RL_FMT_ERR_SPEC;
    }
    positional = fmt_args_collect(p, fetch, ctx, &args, &err);

    while (*p) {
        const char *start;
        struct fmt_spec sp;
        struct fmt_pos pos;
        union rl_fmt_val v;
        int star_w, star_p, cls;
        unsigned size;
        rl_fmt_fetch f = fetch;
        void *fc = ctx;

        if (*p != '%') {
            const char *q = p;
            while (*q && *q != '%')
                q++;
            fmt_put(&o, p, (size_t)(q - p));
            p = q;
            continue;
        }
        start = p++;
        if (*p == '%') {
            fmt_putc(&o, '%');
            p++;
            continue;
        }
        int rc = fmt_parse_spec(&p, &sp, &pos, &star_w, &star_p, &err);
        if (rc == FMT_SPEC_END) {
            fmt_put(&o, start, (size_t)(p - start));
            err |= RL_FMT_ERR_SPEC;
            break;
        }
        if (sp.conv == '%' && rc == FMT_SPEC_OK) {
            fmt_putc(&o, '%'); /* "%5%": glibc prints a bare % */
            continue;
        }
        cls = rc == FMT_SPEC_OK ? fmt_value_class(&sp, &size) : FMT_NO_ARG;
        if (cls == FMT_NO_ARG) {
            fmt_put(&o, start, (size_t)(p - start));
            err |= RL_FMT_ERR_SPEC;
            continue;
        }
        if (positional) {
            args.nq = args.k = 0;
            if (star_w)
                args.q[args.nq++] = pos.w;
            if (star_p)
                args.q[args.nq++] = pos.p;
            if (cls != RL_FMT_ERRNO)
                args.q[args.nq++] = pos.v;
            f = fmt_args_fetch;
            fc = &args;
        }

        if (star_w) {
            int neg;
            uint64_t w;
            if (fmt_fetch_star(f, fc, RL_FMT_ROLE_WIDTH, &neg, &w))
                goto missing;
            if (neg)
                sp.flags |= FMT_MINUS;
            if (w > RL_FMT_MAX_WIDTH) {
                w = RL_FMT_MAX_WIDTH;
                err |= RL_FMT_ERR_SPEC;
            }
            sp.width = (size_t)w;
        }
        if (star_p) {
            int neg;
            uint64_t pr;
            if (fmt_fetch_star(f, fc, RL_FMT_ROLE_PREC, &neg, &pr))
                goto missing;
            if (!neg && pr > RL_FMT_MAX_PREC) {
                pr = RL_FMT_MAX_PREC;
                err |= RL_FMT_ERR_SPEC;
            }
            sp.prec = neg ? -1 : (int)pr;
        }
        if (sp.flags & FMT_MINUS)
            sp.flags &= ~(unsigned)FMT_ZERO;
        if (cls == RL_FMT_ERRNO) {
            f = fetch; /* %m's errno is the caller's, never a numbered argument */
            fc = ctx;
        }
        memset(&v, 0, sizeof v);
        v.q.role = RL_FMT_ROLE_VALUE;
        v.q.prec = sp.prec;
        if (!f || f(fc, (enum rl_fmt_class)cls, size, &v))
            goto missing;

        switch (sp.conv) {
        case 'd': case 'i': {
            uint64_t u, mask;
            int neg;
            u = (uint64_t)v.i;
            mask = size >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * size)) - 1;
            u &= mask;
            neg = (int)((u >> (8 * (size >= 8 ? 8 : size) - 1)) & 1);
            fmt_integer(&o, &sp, neg ? (0 - u) & mask : u, neg, 1);
            break;
        }
        case 'o': case 'u': case 'x': case 'X': {
            uint64_t u = v.u;
            if (size < 8)
                u &= (UINT64_C(1) << (8 * size)) - 1;
            fmt_integer(&o, &sp, u, 0, 0);
            break;
        }
        case 'p':
            if (!v.p)
                fmt_text(&o, &sp, "(nil)", 5);
            else
                fmt_integer(&o, &sp, (uint64_t)(uintptr_t)v.p, 0, 0);
            break;
        case 'n':
            err |= RL_FMT_ERR_SPEC; /* never write through an argument */
            break;
        case 'm': {
            char tmp[48];
            const char *t = rl_fmt_errno_text((int)v.i, tmp, sizeof tmp);
            size_t n = strlen(t);
            if (sp.prec >= 0 && (size_t)sp.prec < n)
                n = (size_t)sp.prec;
            fmt_text(&o, &sp, t, n);
            break;
        }
        case 'c': case 'C':
            if (fmt_wide(&sp)) {
                char b[4];
                fmt_text(&o, &sp, b, rl_fmt_utf8((uint32_t)v.i, b));
            } else {
                unsigned char uc = (unsigned char)v.i;
                char c;
                memcpy(&c, &uc, 1);
                fmt_text(&o, &sp, &c, 1);
            }
            break;
        case 's': case 'S': {
            size_t lim, n;
            if (!v.s.ptr) {
                /* glibc prints "(null)" only when it fits the precision. */
                if (sp.prec < 0 || sp.prec >= 6)
                    fmt_text(&o, &sp, "(null)", 6);
                else
                    fmt_text(&o, &sp, "", 0);
                break;
            }
            if (cls == RL_FMT_WSTR && v.s.wide) {
                fmt_wtext(&o, &sp, (const wchar_t *)(const void *)v.s.ptr, v.s.len);
                break;
            }
            lim = v.s.len;
            if (sp.prec >= 0 && (size_t)sp.prec < lim)
                lim = (size_t)sp.prec;
            if (lim == SIZE_MAX) {
                n = strlen(v.s.ptr);
            } else {
                const char *nul = memchr(v.s.ptr, 0, lim);
                n = nul ? (size_t)(nul - v.s.ptr) : lim;
            }
            fmt_text(&o, &sp, v.s.ptr, n);
            break;
        }
        default: { /* f F e E g G a A */
            struct fmt_fp fp;
            if (cls == RL_FMT_LDOUBLE)
                rl_fmt_decode_ldouble(&fp, &v.ld);
            else
                rl_fmt_decode_double(&fp, v.d);
            rl_fmt_float(&o, &sp, &fp);
            break;
        }
        }
        continue;
    missing:
        fmt_put(&o, fmt_marker, sizeof fmt_marker - 1);
        err |= RL_FMT_ERR_ARG;
    }

    if (cap)
        buf[o.len < o.lim ? o.len : o.lim] = '\0';
    if (errs)
        *errs = err;
    return o.len;
}

/* ------------------------------------------------------------------------ */
/* va_list front end.                                                        */

struct fmt_va {
    va_list ap;
    int saved_errno; /* for %m: errno when the caller called us */
};

static int fmt_va_fetch(void *ctx, enum rl_fmt_class cls, unsigned size, union rl_fmt_val *out)
{
    struct fmt_va *c = ctx;
    switch (cls) {
    case RL_FMT_INT:
        if (size <= sizeof(int))
            out->i = va_arg(c->ap, int);
        else if (size == sizeof(long))
            out->i = va_arg(c->ap, long);
        else
            out->i = va_arg(c->ap, long long);
        return 0;
    case RL_FMT_UINT:
        if (size <= sizeof(int))
            out->u = va_arg(c->ap, unsigned);
        else if (size == sizeof(long))
            out->u = va_arg(c->ap, unsigned long);
        else
            out->u = va_arg(c->ap, unsigned long long);
        return 0;
    case RL_FMT_CHAR:
        out->i = va_arg(c->ap, int);
        return 0;
    case RL_FMT_DOUBLE:
        out->d = va_arg(c->ap, double);
        return 0;
    case RL_FMT_LDOUBLE:
        out->ld = va_arg(c->ap, long double);
        return 0;
    case RL_FMT_PTR:
        out->p = va_arg(c->ap, const void *);
        return 0;
    case RL_FMT_STR:
    case RL_FMT_WSTR:
        out->s.ptr = (const char *)va_arg(c->ap, const void *);
        out->s.len = SIZE_MAX;
        out->s.wide = cls == RL_FMT_WSTR;
        return 0;
    case RL_FMT_ERRNO:
        out->i = c->saved_errno;
        return 0;
    }
    return -1;
}

size_t rl_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
    struct fmt_va c;
    size_t n;
    c.saved_errno = errno;
    va_copy(c.ap, ap);
    n = rl_format(buf, cap, fmt, fmt_va_fetch, &c, NULL);
    va_end(c.ap);
    errno = c.saved_errno;
    return n;
}

size_t rl_sformat(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    n = rl_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}
