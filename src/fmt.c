/* Async-signal-safe printf-family formatter; see fmt.h for the contract.
 *
 * Decimal floating point is exact.  The value m*2^e2 (m < 2^64) is expanded
 * into base-1e9 limbs:
 *   e2 >= 0: the integer m*2^e2 is built directly in base 1e9 by repeated
 *            multiplication by 2^29 (at most 549 limbs for long double).
 *   e2 <  0: the integer part (< 2^64, three limbs) is converted directly and
 *            the binary fraction is kept as a big binary number; each
 *            multiplication by 1e9 pushes out the next limb exactly.
 * Only the limbs needed for the requested precision are produced; whether
 * anything non-zero lies beyond them is kept in a sticky flag, which is all
 * round-half-even needs.  So precision 4096 of 1e-4951 costs a few thousand
 * limbs of work and ~4.4 KiB of stack, never the ~16 KiB a full expansion of
 * an x87 denormal would take.
 */
#include "fmt.h"
#include "platform.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <string.h>
#include <wchar.h>

/* ------------------------------------------------------------------------ */
/* Output sink: truncating, counting the full length like snprintf.          */

struct fmt_out {
    char *buf;
    size_t lim; /* bytes we may store (cap - 1): the last one is kept for NUL */
    size_t len; /* length of the full output so far, saturating */
};

static void fmt_put(struct fmt_out *o, const char *s, size_t n)
{
    if (o->len < o->lim) {
        size_t room = o->lim - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len = n > SIZE_MAX - o->len ? SIZE_MAX : o->len + n;
}

static void fmt_pad(struct fmt_out *o, char c, size_t n)
{
    if (o->len < o->lim) {
        size_t room = o->lim - o->len;
        memset(o->buf + o->len, c, n < room ? n : room);
    }
    o->len = n > SIZE_MAX - o->len ? SIZE_MAX : o->len + n;
}

static void fmt_putc(struct fmt_out *o, char c)
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

static size_t fmt_padding(const struct fmt_spec *sp, size_t body)
{
    return sp->width > body ? sp->width - body : 0;
}

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
/* Floating point: decoding.                                                 */

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

static void fmt_decode_double(struct fmt_fp *f, double d)
{
    uint64_t bits, frac;
    unsigned bexp;
    memcpy(&bits, &d, sizeof bits);
    frac = bits & ((UINT64_C(1) << 52) - 1);
    bexp = (unsigned)(bits >> 52) & 0x7ff;
    f->neg = (int)(bits >> 63);
    f->kind = 53;
    f->bexp = bexp;
    f->cls = FMT_FP_FINITE;
    if (bexp == 0x7ff) {
        f->cls = frac ? FMT_FP_NAN : FMT_FP_INF;
        f->m = 0;
        f->e2 = 0;
    } else if (bexp == 0) {
        f->m = frac;
        f->e2 = -1074;
    } else {
        f->m = frac | (UINT64_C(1) << 52);
        f->e2 = (int)bexp - 1075;
    }
}

#if LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384 && \
    (defined(__x86_64__) || defined(__i386__))
#define FMT_LDBL_X87 1
#endif

/* Reads the bytes only: an untrusted long double may be a pseudo-denormal,
 * unnormal or pseudo-NaN, which must not reach the FPU. */
static void fmt_decode_ldouble(struct fmt_fp *f, const long double *ld)
{
#ifdef FMT_LDBL_X87
    unsigned char b[10];
    uint64_t m;
    unsigned se, bexp;
    memcpy(b, ld, sizeof b);
    memcpy(&m, b, 8);
    se = (unsigned)b[8] | (unsigned)b[9] << 8;
    bexp = se & 0x7fff;
    f->neg = (int)(se >> 15);
    f->kind = 64;
    f->bexp = bexp;
    f->cls = FMT_FP_FINITE;
    f->m = m;
    if (bexp == 0x7fff) {
        /* Like glibc's isnanl: the explicit integer bit does not count. */
        f->cls = (m << 1) ? FMT_FP_NAN : FMT_FP_INF;
        f->m = 0;
        f->e2 = 0;
    } else {
        f->e2 = (bexp ? (int)bexp : 1) - 16383 - 63;
    }
#else
    double d;
#if LDBL_MANT_DIG == DBL_MANT_DIG
    memcpy(&d, ld, sizeof d);
#else
    d = (double)*ld;
#endif
    fmt_decode_double(f, d);
#endif
}

/* ------------------------------------------------------------------------ */
/* Floating point: %a, following glibc's printf_fphex digit by digit.        */

static size_t fmt_udec(char *end, unsigned v)
{
    char *p = end;
    do *--p = (char)('0' + v % 10); while (v /= 10);
    return (size_t)(end - p);
}

static void fmt_hexfloat(struct fmt_out *o, const struct fmt_spec *sp, const struct fmt_fp *f,
                         char sign)
{
    const char *hex = sp->conv == 'A' ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned char dig[16];
    int nd, lead, ex, p, i;
    char ebuf[8];
    size_t elen, body, pad, fill;

    if (f->kind == 64) {
        /* x87: the leading hex digit is the top nibble of the explicit
         * 64-bit mantissa, so 1.0L prints as 0x8p-3. */
        lead = (int)(f->m >> 60);
        for (i = 0; i < 15; i++)
            dig[i] = (unsigned char)((f->m >> (56 - 4 * i)) & 15);
        nd = 15;
        ex = f->bexp ? (int)f->bexp - 16386 : (f->m ? -16385 : 0);
    } else {
        uint64_t frac = f->m & ((UINT64_C(1) << 52) - 1);
        lead = f->bexp != 0;
        for (i = 0; i < 13; i++)
            dig[i] = (unsigned char)((frac >> (48 - 4 * i)) & 15);
        nd = 13;
        ex = f->bexp ? (int)f->bexp - 1023 : (frac ? -1022 : 0);
    }
    while (nd > 0 && dig[nd - 1] == 0)
        nd--;
    p = sp->prec;
    if (p < 0) {
        p = nd;
    } else if (p < nd) {
        int next = dig[p], last = p ? dig[p - 1] : lead;
        if (next > 8 || (next == 8 && (nd > p + 1 || (last & 1)))) {
            int c;
            for (c = p - 1; c >= 0; c--) {
                if (dig[c] < 15) {
                    dig[c]++;
                    break;
                }
                dig[c] = 0;
            }
            /* glibc does not renormalise a double (0x1.f -> 0x2), but an x87
             * leading f overflows to 0x1 with the exponent moved by 4. */
            if (c < 0) {
                if (lead < 15) {
                    lead++;
                } else {
                    lead = 1;
                    ex += 4;
                }
            }
        }
        nd = p;
    }
    elen = fmt_udec(ebuf + sizeof ebuf, (unsigned)(ex < 0 ? -ex : ex));
    body = (sign != 0) + 2 + 1 + (p > 0 || (sp->flags & FMT_HASH)) + (size_t)p + 2 + elen;
    pad = fmt_padding(sp, body);
    if (!(sp->flags & (FMT_MINUS | FMT_ZERO)))
        fmt_pad(o, ' ', pad);
    if (sign)
        fmt_putc(o, sign);
    fmt_putc(o, '0');
    fmt_putc(o, sp->conv == 'A' ? 'X' : 'x');
    if (!(sp->flags & FMT_MINUS) && (sp->flags & FMT_ZERO))
        fmt_pad(o, '0', pad);
    fmt_putc(o, hex[lead]);
    if (p > 0 || (sp->flags & FMT_HASH))
        fmt_putc(o, '.');
    fill = (size_t)p;
    for (i = 0; i < nd && i < p; i++, fill--)
        fmt_putc(o, hex[dig[i]]);
    fmt_pad(o, '0', fill);
    fmt_putc(o, sp->conv == 'A' ? 'P' : 'p');
    fmt_putc(o, ex < 0 ? '-' : '+');
    fmt_put(o, ebuf + sizeof ebuf - elen, elen);
    if (sp->flags & FMT_MINUS)
        fmt_pad(o, ' ', pad);
}

/* ------------------------------------------------------------------------ */
/* Floating point: exact decimal expansion.                                  */

#define FMT_MAX2(a, b) ((a) > (b) ? (a) : (b))
/* Limbs: the whole integer part of the largest long double (4933 digits),
 * or integer part (<= 3 limbs) plus the fraction limbs a precision of
 * RL_FMT_MAX_PREC needs; one spare limb at each end for rounding carries. */
#define FMT_DEC_LIMBS \
    FMT_MAX2(FMT_MAX2(LDBL_MAX_10_EXP, DBL_MAX_10_EXP) / 9 + 4, RL_FMT_MAX_PREC / 9 + 10)
/* 32-bit words of the binary fraction of the smallest long double. */
#define FMT_BIN_WORDS \
    ((FMT_MAX2(LDBL_MANT_DIG - LDBL_MIN_EXP, DBL_MANT_DIG - DBL_MIN_EXP) + 31) / 32 + 1)

#define FMT_1E9 1000000000u

static const uint32_t fmt_p10[10] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u,
                                     10000000u, 100000000u, 1000000000u};

/* Limb k (a <= k < z) weighs 1e9^(r-1-k): limbs before index r are the
 * integer part.  r may lie outside [a, z] (and be negative) once leading zero
 * fraction limbs are skipped.  Limbs outside [a, z) are zero. */
struct fmt_dec {
    uint32_t d[FMT_DEC_LIMBS];
    int a, z, r;
    int sticky; /* non-zero digits exist below limb z-1 */
};

static int fmt_fdiv9(int m)
{
    return m >= 0 ? m / 9 : -((8 - m) / 9);
}

static int fmt_ndig(uint32_t v)
{
    int n = 1;
    while (n < 10 && v >= fmt_p10[n])
        n++;
    return n;
}

/* Expand m*2^e2 (m != 0).  fixed: keep fraction digits down to digit
 * want+1 after the point (%f with precision want).  Otherwise keep want+1
 * significant digits.  The digit after the last kept one is always present,
 * so rounding is exact given `sticky`. */
static void fmt_dec_build(struct fmt_dec *D, uint64_t m, int e2, int fixed, int want)
{
    int need = want / 9 + 2;
    int tz = __builtin_ctzll(m);

    m >>= tz;
    e2 += tz;
    D->sticky = 0;
    if (e2 >= 0) {
        D->a = D->z = D->r = FMT_DEC_LIMBS;
        while (m) {
            D->d[--D->a] = (uint32_t)(m % FMT_1E9);
            m /= FMT_1E9;
        }
        while (e2 > 0) {
            int sh = e2 < 29 ? e2 : 29, k;
            uint64_t carry = 0;
            for (k = D->z - 1; k >= D->a; k--) {
                uint64_t t = ((uint64_t)D->d[k] << sh) + carry;
                D->d[k] = (uint32_t)(t % FMT_1E9);
                carry = t / FMT_1E9;
            }
            while (carry) {
                D->d[--D->a] = (uint32_t)(carry % FMT_1E9);
                carry /= FMT_1E9;
            }
            while (D->d[D->z - 1] == 0)
                D->z--;
            e2 -= sh;
        }
        return;
    }

    {
        int j = -e2;
        uint64_t ip = j >= 64 ? 0 : m >> j;
        uint64_t fr = j >= 64 ? m : m & ((UINT64_C(1) << j) - 1);
        uint32_t t[3], w[FMT_BIN_WORDS];
        int n = 0, W, sh, lo, top, capz, found;
        uint64_t low;

        D->a = D->z = 1; /* d[0] is room for a rounding carry */
        while (ip) {
            t[n++] = (uint32_t)(ip % FMT_1E9);
            ip /= FMT_1E9;
        }
        while (n)
            D->d[D->z++] = t[--n];
        D->r = D->z;
        if (!fr)
            return;

        /* The fraction fr/2^j as w[0..W) / 2^(32W), w[0] least significant.
         * Only words [lo, top) can be non-zero; the rest are never read. */
        W = (j + 31) / 32;
        sh = 32 * W - j;
        low = fr << sh;
        w[0] = (uint32_t)low;
        top = 1;
        if (W > 1)
            w[top++] = (uint32_t)(low >> 32);
        if (W > 2)
            w[top++] = sh ? (uint32_t)(fr >> (64 - sh)) : 0;
        lo = 0;
        while (w[lo] == 0)
            lo++;
        while (w[top - 1] == 0)
            top--;

        found = fixed || D->z > D->a;
        capz = fixed ? D->r + want / 9 + 1 : found ? D->a + need : INT_MAX;
        while (D->z < capz && lo < top) {
            uint64_t carry = 0;
            uint32_t limb = 0;
            int i;
            for (i = lo; i < top; i++) {
                uint64_t v = (uint64_t)w[i] * FMT_1E9 + carry;
                w[i] = (uint32_t)v;
                carry = v >> 32;
            }
            if (top < W) {
                if (carry)
                    w[top++] = (uint32_t)carry;
            } else {
                limb = (uint32_t)carry;
            }
            while (lo < top && w[lo] == 0)
                lo++;
            while (top > lo && w[top - 1] == 0)
                top--;
            if (!found) {
                /* Leading zero limbs of a small value are not stored: %e
                 * of 1e-4000 only needs the limbs after them. */
                if (!limb) {
                    D->r--;
                    continue;
                }
                found = 1;
                capz = D->z + need;
            }
            D->d[D->z++] = limb;
        }
        D->sticky = lo < top;
    }
}

/* Decimal exponent of the leading digit; 0 for zero. */
static int fmt_dec_exp(const struct fmt_dec *D)
{
    int k = D->a;
    while (k < D->z && D->d[k] == 0)
        k++;
    if (k == D->z)
        return 0;
    return 9 * (D->r - 1 - k) + fmt_ndig(D->d[k]) - 1;
}

/* Round half-even so that the last digit kept weighs 10^m0. */
static void fmt_dec_round(struct fmt_dec *D, int m0)
{
    int q = fmt_fdiv9(m0), s = m0 - 9 * q, k0 = D->r - 1 - q, k, more, up;
    uint32_t i = fmt_p10[s], cur, x, half;

    if (k0 >= D->z)
        return; /* every dropped digit is an exact zero (sticky is 0 here) */
    while (D->a > k0)
        D->d[--D->a] = 0; /* %f of a value < 1: k0 is the units limb */
    cur = D->d[k0];
    if (s) {
        x = cur % i;
        half = i / 2;
        k = k0 + 1;
    } else {
        x = k0 + 1 < D->z ? D->d[k0 + 1] : 0;
        half = FMT_1E9 / 2;
        k = k0 + 2;
    }
    more = D->sticky;
    for (; !more && k < D->z; k++)
        more = D->d[k] != 0;
    up = x > half || (x == half && (more || ((cur / i) & 1)));
    D->d[k0] = cur - (s ? x : 0);
    D->z = k0 + 1;
    D->sticky = 0;
    if (up) {
        k = k0;
        D->d[k] += i;
        while (D->d[k] >= FMT_1E9) {
            D->d[k] -= FMT_1E9;
            if (k == D->a)
                D->d[--D->a] = 0;
            D->d[--k]++;
        }
    }
    while (D->z > D->a && D->d[D->z - 1] == 0)
        D->z--;
}

/* Emit the digits weighing 10^hi down to 10^lo (hi >= lo). */
static void fmt_dec_digits(struct fmt_out *o, const struct fmt_dec *D, int hi, int lo)
{
    int m = hi;
    while (m >= lo) {
        int q = fmt_fdiv9(m), s = m - 9 * q, k = D->r - 1 - q, n = s + 1, t;
        uint32_t v = k >= D->a && k < D->z ? D->d[k] : 0;
        if (n > m - lo + 1)
            n = m - lo + 1;
        if (!v) {
            fmt_pad(o, '0', (size_t)n);
        } else {
            char c[9];
            for (t = 8; t >= 0; t--) {
                c[t] = (char)('0' + v % 10);
                v /= 10;
            }
            fmt_put(o, c + 8 - s, (size_t)n);
        }
        m -= n;
    }
}

/* Weight of the last non-zero digit; the value must be non-zero. */
static int fmt_dec_last(const struct fmt_dec *D)
{
    int k = D->z - 1, tz = 0;
    uint32_t v;
    while (D->d[k] == 0)
        k--;
    v = D->d[k];
    while (v % 10 == 0) {
        v /= 10;
        tz++;
    }
    return 9 * (D->r - 1 - k) + tz;
}

/* Kept out of line: its ~4.3 KiB frame is only paid by %e %f %g. */
static __attribute__((noinline)) void fmt_decfloat(struct fmt_out *o, const struct fmt_spec *sp,
                                                   const struct fmt_fp *f, char sign)
{
    struct fmt_dec D;
    char lc = (char)(sp->conv | 0x20);
    int upper = sp->conv != lc;
    int alt = (sp->flags & FMT_HASH) != 0;
    int zero = f->m == 0;
    int p = sp->prec < 0 ? 6 : sp->prec;
    int e = 0, e_pre = 0, use_e, frac, ihi = -1;
    char ebuf[8];
    size_t elen = 0, body, pad;

    if (lc == 'g' && p == 0)
        p = 1;
    if (zero) {
        D.a = D.z = D.r = 1;
        D.sticky = 0;
    } else if (lc == 'f') {
        fmt_dec_build(&D, f->m, f->e2, 1, p);
        fmt_dec_round(&D, -p);
    } else {
        /* %e keeps p+1 significant digits, %g keeps p. */
        int sig = lc == 'e' ? p + 1 : p;
        fmt_dec_build(&D, f->m, f->e2, 0, sig);
        e_pre = fmt_dec_exp(&D);
        fmt_dec_round(&D, e_pre - (sig - 1));
        e = fmt_dec_exp(&D); /* 9.99 may have become 10.0 */
    }

    if (lc == 'g') {
        if (p > e && e >= -4) {
            use_e = 0;
            frac = p - 1 - e;
        } else {
            use_e = 1;
            frac = p - 1;
        }
        if (alt && use_e && e_pre < p && e_pre >= -4) {
            /* glibc quirk, matched on purpose: when rounding carries %#g
             * from fixed into exponent style (999999.5 -> 1.e+06), it
             * prints no fraction digits. */
            frac = 0;
        } else if (!alt) {
            int keep = 0;
            if (!zero) {
                int last = fmt_dec_last(&D);
                keep = use_e ? e - last : -last;
            }
            if (keep < 0)
                keep = 0;
            if (frac > keep)
                frac = keep;
        }
    } else {
        use_e = lc == 'e';
        frac = p;
    }

    if (use_e) {
        elen = fmt_udec(ebuf + sizeof ebuf, (unsigned)(e < 0 ? -e : e));
        if (elen < 2)
            ebuf[sizeof ebuf - ++elen] = '0';
        body = 1 + 2 + elen;
    } else {
        int k;
        for (k = D.a; k < D.z && k < D.r; k++) {
            if (D.d[k]) {
                ihi = 9 * (D.r - 1 - k) + fmt_ndig(D.d[k]) - 1;
                break;
            }
        }
        body = ihi >= 0 ? (size_t)ihi + 1 : 1;
    }
    body += (sign != 0) + (frac > 0 || alt) + (size_t)frac;

    pad = fmt_padding(sp, body);
    if (!(sp->flags & (FMT_MINUS | FMT_ZERO)))
        fmt_pad(o, ' ', pad);
    if (sign)
        fmt_putc(o, sign);
    if (!(sp->flags & FMT_MINUS) && (sp->flags & FMT_ZERO))
        fmt_pad(o, '0', pad);
    if (use_e) {
        fmt_dec_digits(o, &D, e, e);
        if (frac > 0 || alt)
            fmt_putc(o, '.');
        if (frac > 0)
            fmt_dec_digits(o, &D, e - 1, e - frac);
        fmt_putc(o, upper ? 'E' : 'e');
        fmt_putc(o, e < 0 ? '-' : '+');
        fmt_put(o, ebuf + sizeof ebuf - elen, elen);
    } else {
        if (ihi >= 0)
            fmt_dec_digits(o, &D, ihi, 0);
        else
            fmt_putc(o, '0');
        if (frac > 0 || alt)
            fmt_putc(o, '.');
        if (frac > 0)
            fmt_dec_digits(o, &D, -1, -frac);
    }
    if (sp->flags & FMT_MINUS)
        fmt_pad(o, ' ', pad);
}

static void fmt_float(struct fmt_out *o, const struct fmt_spec *sp, const struct fmt_fp *f)
{
    char sign = f->neg ? '-' : (sp->flags & FMT_PLUS) ? '+' : (sp->flags & FMT_SPACE) ? ' ' : 0;
    char lc = (char)(sp->conv | 0x20);

    if (f->cls != FMT_FP_FINITE) {
        int upper = sp->conv != lc;
        const char *t = f->cls == FMT_FP_INF ? (upper ? "INF" : "inf") : (upper ? "NAN" : "nan");
        size_t pad = fmt_padding(sp, 3 + (sign != 0));
        /* No zero padding for inf/nan, like glibc. */
        if (!(sp->flags & FMT_MINUS))
            fmt_pad(o, ' ', pad);
        if (sign)
            fmt_putc(o, sign);
        fmt_put(o, t, 3);
        if (sp->flags & FMT_MINUS)
            fmt_pad(o, ' ', pad);
        return;
    }
    if (lc == 'a')
        fmt_hexfloat(o, sp, f, sign);
    else
        fmt_decfloat(o, sp, f, sign);
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
                fmt_decode_ldouble(&fp, &v.ld);
            else
                fmt_decode_double(&fp, v.d);
            fmt_float(&o, &sp, &fp);
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
