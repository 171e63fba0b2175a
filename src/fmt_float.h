/* What the format loop (fmt.c) and the floating-point engine (fmt_float.c)
 * share: the output sink, the conversion specification and a decoded
 * floating-point value.  Internal to the formatter; the contract, including
 * async-signal safety (no malloc, no locale, bounded stack), is in fmt.h.
 */
#ifndef RINGLOG_FMT_FLOAT_H
#define RINGLOG_FMT_FLOAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Output sink: truncating, counting the full length like snprintf.          */

struct fmt_out {
    char *buf;
    size_t lim; /* bytes we may store (cap - 1): the last one is kept for NUL */
    size_t len; /* length of the full output so far, saturating */
};

static inline void fmt_put(struct fmt_out *o, const char *s, size_t n)
{
    if (o->len < o->lim) {
        size_t room = o->lim - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len = n > SIZE_MAX - o->len ? SIZE_MAX : o->len + n;
}

static inline void fmt_pad(struct fmt_out *o, char c, size_t n)
{
    if (o->len < o->lim) {
        size_t room = o->lim - o->len;
        memset(o->buf + o->len, c, n < room ? n : room);
    }
    o->len = n > SIZE_MAX - o->len ? SIZE_MAX : o->len + n;
}

static inline void fmt_putc(struct fmt_out *o, char c)
{
    if (o->len < o->lim)
        o->buf[o->len] = c;
    if (o->len != SIZE_MAX)
        o->len++;
}

/* ------------------------------------------------------------------------ */
/* Conversion specifications.                                               */

enum {
    FMT_MINUS = 1u,
    FMT_PLUS = 2u,
    FMT_SPACE = 4u,
    FMT_HASH = 8u,
    FMT_ZERO = 16u,
};

enum fmt_len { FMT_LEN_NONE, FMT_LEN_HH, FMT_LEN_H, FMT_LEN_L, FMT_LEN_LL,
               FMT_LEN_J, FMT_LEN_Z, FMT_LEN_T, FMT_LEN_BIGL };

struct fmt_spec {
    unsigned flags;
    size_t width;  /* <= RL_FMT_MAX_WIDTH */
    int prec;      /* -1: none; else <= RL_FMT_MAX_PREC */
    enum fmt_len len;
    char conv;
};

static inline size_t fmt_padding(const struct fmt_spec *sp, size_t body)
{
    return sp->width > body ? sp->width - body : 0;
}

/* ------------------------------------------------------------------------ */
/* Floating point: a decoded value.                                          */

enum { FMT_FP_FINITE, FMT_FP_INF, FMT_FP_NAN };

/* |value| = m * 2^e2.  kind says which binary format the bits came from,
 * because %a prints the format's own mantissa layout. */
struct fmt_fp {
    uint64_t m;
    int e2;
    int neg;
    int cls;
    int kind;     /* 53: IEEE double, 64: x87 80-bit */
    unsigned bexp; /* biased exponent field as stored */
};

/* Decoding, in fmt_float.c: a double, and a long double read from its bytes. */
void rl_fmt_decode_double(struct fmt_fp *f, double d);
void rl_fmt_decode_ldouble(struct fmt_fp *f, const long double *ld);

/* %f %F %e %E %g %G %a %A of a decoded value, padded per *sp, into *o. */
void rl_fmt_float(struct fmt_out *o, const struct fmt_spec *sp, const struct fmt_fp *f);

#endif
