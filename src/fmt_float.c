/* The formatter's floating-point engine: %f %e %g %a for double and long
 * double; the format loop is fmt.c, the contract (async-signal-safe: no
 * malloc, no locale, bounded stack) fmt.h.
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
#include "fmt_float.h"

#include <float.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Floating point: decoding.                                                 */

void rl_fmt_decode_double(struct fmt_fp *f, double d)
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
void rl_fmt_decode_ldouble(struct fmt_fp *f, const long double *ld)
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
    rl_fmt_decode_double(f, d);
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

void rl_fmt_float(struct fmt_out *o, const struct fmt_spec *sp, const struct fmt_fp *f)
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
