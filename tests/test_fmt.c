/* rl_format / rl_sformat against glibc snprintf: a table of edge cases, a
 * seeded random differential test (RINGLOG_FMT_SEED, RINGLOG_FMT_CASES;
 * RINGLOG_STRESS_SCALE in percent shrinks it for sanitizer builds), the
 * fetch-callback error paths, and robustness against hostile formats and
 * argument values.  Prints the first mismatches and exits non-zero on any. */
#include "fmt.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <wchar.h>

#define BUFSZ 16384

static long n_pass, n_fail;
static int n_shown;

/* ---------------------------------------------------------------- helpers */

static void show(const char *label, const char *s, size_t n)
{
    size_t i;
    fprintf(stderr, "    %-6s [", label);
    for (i = 0; i < n && i < 300; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "%s] (%zu bytes)\n", i < n ? "..." : "", n);
}

static void fail_begin(const char *what, const char *fmt)
{
    n_fail++;
    if (n_shown++ < 10) {
        fprintf(stderr, "MISMATCH %s: format ", what);
        show("", fmt, strlen(fmt));
    }
}

static void expect_eq(const char *what, const char *fmt, const char *want, size_t wantn,
                      long wantret, const char *got, size_t gotn, long gotret)
{
    if (wantn == gotn && wantret == gotret && memcmp(want, got, wantn) == 0) {
        n_pass++;
        return;
    }
    fail_begin(what, fmt);
    if (n_shown <= 10) {
        fprintf(stderr, "    returns: want %ld got %ld\n", wantret, gotret);
        show("want", want, wantn);
        show("got", got, gotn);
    }
}

static void check(int cond, const char *what)
{
    if (cond) {
        n_pass++;
    } else {
        n_fail++;
        if (n_shown++ < 10)
            fprintf(stderr, "CHECK FAILED: %s\n", what);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1du;
}

static unsigned rn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* Helpers with their random draws sequenced, so that a seed reproduces the
 * same cases whatever order a compiler evaluates operands in. */
static uint64_t rnd_shr(unsigned add, unsigned n)
{
    uint64_t v = rnd();
    return v >> (add + rn(n));
}

static unsigned rn2(unsigned n, unsigned *second, unsigned n2)
{
    unsigned v = rn(n);
    *second = rn(n2);
    return v;
}

/* ------------------------------------------------- typed argument dispatch */

enum { T_I, T_U, T_L, T_UL, T_LL, T_ULL, T_D, T_LD, T_P, T_S };

struct arg {
    int type;
    union {
        int i;
        unsigned u;
        long l;
        unsigned long ul;
        long long ll;
        unsigned long long ull;
        double d;
        long double ld;
        void *p;
        const char *s;
    } v;
};

/* One conversion, optionally preceded by one or two `*` ints. */
#define CALL_ALL(FN, X)                                                                   \
    return nstar == 0 ? FN(b, cap, fmt, X)                                                \
           : nstar == 1 ? FN(b, cap, fmt, s1, X)                                          \
                        : FN(b, cap, fmt, s1, s2, X)
#define GEN_CALLER(NAME, FN, RT)                                                          \
    static RT NAME(char *b, size_t cap, const char *fmt, int nstar, int s1, int s2,       \
                   const struct arg *a)                                                   \
    {                                                                                     \
        switch (a->type) {                                                                \
        case T_I: CALL_ALL(FN, a->v.i);                                                   \
        case T_U: CALL_ALL(FN, a->v.u);                                                   \
        case T_L: CALL_ALL(FN, a->v.l);                                                   \
        case T_UL: CALL_ALL(FN, a->v.ul);                                                 \
        case T_LL: CALL_ALL(FN, a->v.ll);                                                 \
        case T_ULL: CALL_ALL(FN, a->v.ull);                                               \
        case T_D: CALL_ALL(FN, a->v.d);                                                   \
        case T_LD: CALL_ALL(FN, a->v.ld);                                                 \
        case T_P: CALL_ALL(FN, a->v.p);                                                   \
        default: CALL_ALL(FN, a->v.s);                                                    \
        }                                                                                 \
    }
GEN_CALLER(call_glibc, snprintf, int)
GEN_CALLER(call_rl, rl_sformat, size_t)

static char gbuf[BUFSZ + 64], rbuf[BUFSZ + 64];

/* Full-size and truncated (cap `small`) output must equal glibc's, and
 * nothing at or beyond cap may be touched. */
static void diff_case(const char *what, const char *fmt, int nstar, int s1, int s2,
                      const struct arg *a, size_t small)
{
    int gn = call_glibc(gbuf, BUFSZ, fmt, nstar, s1, s2, a);
    size_t rn_, want, i;
    int ok = 1;

    if (gn < 0 || gn >= BUFSZ)
        return; /* not a case glibc can answer */
    memset(rbuf, 0x5a, (size_t)gn + 8);
    rn_ = call_rl(rbuf, BUFSZ, fmt, nstar, s1, s2, a);
    expect_eq(what, fmt, gbuf, (size_t)gn + 1, gn, rbuf, rn_ < BUFSZ ? rn_ + 1 : 0, (long)rn_);

    /* Truncated: compare with glibc writing into the same cap. */
    if (small > (size_t)gn + 1)
        small = (size_t)gn + 1;
    memset(gbuf, 0x5a, small + 8);
    memset(rbuf, 0x5a, small + 8);
    gn = call_glibc(small ? gbuf : NULL, small, fmt, nstar, s1, s2, a);
    rn_ = call_rl(small ? rbuf : NULL, small, fmt, nstar, s1, s2, a);
    want = small + 8;
    for (i = 0; i < want; i++)
        if (gbuf[i] != rbuf[i])
            ok = 0;
    if (ok && (long)rn_ == gn) {
        n_pass++;
    } else {
        fail_begin("truncated", fmt);
        if (n_shown <= 10) {
            fprintf(stderr, "    cap %zu: returns want %d got %zu\n", small, gn, rn_);
            show("want", gbuf, small);
            show("got", rbuf, small);
        }
    }
}

/* ------------------------------------------------------------------ table */

struct tcase {
    const char *fmt;
    int nstar, s1, s2;
    struct arg a;
};

#define TI(f, x) {f, 0, 0, 0, {T_I, {.i = (x)}}}
#define TU(f, x) {f, 0, 0, 0, {T_U, {.u = (x)}}}
#define TL(f, x) {f, 0, 0, 0, {T_L, {.l = (x)}}}
#define TUL(f, x) {f, 0, 0, 0, {T_UL, {.ul = (x)}}}
#define TLL(f, x) {f, 0, 0, 0, {T_LL, {.ll = (x)}}}
#define TULL(f, x) {f, 0, 0, 0, {T_ULL, {.ull = (x)}}}
#define TD(f, x) {f, 0, 0, 0, {T_D, {.d = (x)}}}
#define TLD(f, x) {f, 0, 0, 0, {T_LD, {.ld = (x)}}}
#define TP(f, x) {f, 0, 0, 0, {T_P, {.p = (void *)(uintptr_t)(x)}}}
#define TS(f, x) {f, 0, 0, 0, {T_S, {.s = (x)}}}
#define TW(f, w, T, M, x) {f, 1, w, 0, {T, {.M = (x)}}}
#define TWP(f, w, p, T, M, x) {f, 2, w, p, {T, {.M = (x)}}}

static const struct tcase table[] = {
    /* integers */
    TI("%d", 0), TI("%d", 1), TI("%d", -1), TI("%d", INT_MAX), TI("%d", INT_MIN),
    TI("%i", 42), TI("%5d", -42), TI("%-5d|", -42), TI("%05d", -42), TI("%+d", 5),
    TI("% d", 5), TI("%+ d", 5), TI("% +d", -5), TI("%.0d", 0), TI("%+.0d", 0),
    TI("% .0d", 0), TI("%5.0d|", 0), TI("%-5.0d|", 0), TI("%.3d", 7), TI("%.3d", -7),
    TI("%08.3d", -7), TI("%-08d|", 7), TI("%0-8d|", 7), TI("%'d", 1234567),
    TI("%hhd", 300), TI("%hhd", -129), TI("%hd", 70000), TI("%hd", -32769), TI("%hhu", -1),
    TI("%hu", -1), TI("%hhx", 0x1ff), TI("%hho", -1),
    TL("%ld", LONG_MIN), TL("%ld", LONG_MAX), TLL("%lld", LLONG_MIN), TLL("%lld", LLONG_MAX),
    TLL("%Ld", -5), TULL("%Lu", ULLONG_MAX), TULL("%Lx", 0x123456789abULL),
    TL("%jd", LONG_MIN), TUL("%ju", ULONG_MAX), TUL("%zu", ULONG_MAX), TL("%zd", -3),
    TL("%td", LONG_MIN), TUL("%tx", ULONG_MAX),
    TU("%u", 0), TU("%u", UINT_MAX), TU("%+u", 5), TU("% u", 5), TU("%o", 8), TU("%#o", 8),
    TU("%#o", 0), TU("%#.0o", 0), TU("%.0o", 0), TU("%#.3o", 8), TU("%#5.3o", 8),
    TU("%#.5o", 8), TU("%#-10o|", 8), TU("%#010o", 8), TU("%x", 0xdeadbeef),
    TU("%X", 0xdeadbeef), TU("%#x", 0), TU("%#.0x", 0), TU("%.0x", 0), TU("%#x", 1),
    TU("%#X", 255), TU("%#010x", 1), TU("%#0 8x", 255), TU("%#-10x|", 255),
    TU("%#.8x", 255), TU("%#12.8X", 255), TU("%012.5x", 255), TULL("%llo", ULLONG_MAX),
    TULL("%#llo", ULLONG_MAX), TULL("%#llx", ULLONG_MAX), TU("%4096u", 1),
    TU("%.4096u", 1), TI("%-4096d|", -1),
    /* stars */
    TW("%*d", 5, T_I, i, 42), TW("%*d|", -5, T_I, i, 42), TW("%-*d|", -5, T_I, i, 42),
    TW("%.*d", -3, T_I, i, 5), TW("%.*d", 0, T_I, i, 0), TW("%.*f", -1, T_D, d, 1.5),
    TWP("%*.*f", 12, 3, T_D, d, 3.14159), TWP("%-*.*e|", 14, 2, T_D, d, -3.14159),
    TWP("%0*.*x", 10, 4, T_U, u, 0xab), TW("%0*d", -8, T_I, i, 42),
    /* characters and strings */
    TI("%c", 'x'), TI("%5c", 'x'), TI("%-5c|", 'x'), TI("%05c", 'x'), TI("%.0c", 'x'),
    TI("%+c", 'x'), TI("%c", 0), TI("%5c", 0), TI("%c", 255), TI("%c", 0x141),
    TS("%s", "hello"), TS("%10s", "hello"), TS("%-10s|", "hello"), TS("%010s", "hello"),
    TS("%.3s", "hello"), TS("%.0s", "hello"), TS("%10.3s", "hello"), TS("%-10.3s|", "hello"),
    TS("%.10s", "hello"), TS("%s", ""), TS("%5s", ""), TS("%hs", "abc"), TS("%hhs", "abc"),
    TS("%s", NULL), TS("%.3s", NULL), TS("%.5s", NULL), TS("%.6s", NULL), TS("%.7s", NULL),
    TS("%10s", NULL), TS("%-10s|", NULL), TS("%010s", NULL), TS("%10.2s|", NULL),
    /* pointers */
    TP("%p", 0), TP("%p", 0x1234), TP("%p", UINTPTR_MAX), TP("%10p", 0), TP("%-10p|", 0),
    TP("%010p", 0), TP("%.2p", 0), TP("%+p", 0), TP("%+p", 0x1234), TP("% p", 0x1234),
    TP("%020p", 0x1234), TP("%-20p|", 0x1234), TP("%.10p", 0x1234), TP("%#p", 1),
    TP("%lp", 1), TP("%hp", 0x12345), TP("%#.0p", 0),
    /* %% */
    TI("%% %d %%", 1), TI("%5%|%d", 2), TI("%-5%|%d", 3),
    /* floating point: rounding */
    TD("%.0f", 0.5), TD("%.0f", 1.5), TD("%.0f", 2.5), TD("%.0f", 3.5), TD("%.0f", -0.5),
    TD("%.0f", -2.5), TD("%.2f", 0.125), TD("%.2f", 0.375), TD("%.1f", 0.25), TD("%.1f", 0.35),
    TD("%.0e", 2.5), TD("%.0e", 3.5), TD("%.1e", 0.125), TD("%.3e", 1.0625),
    TD("%.0f", 0.49999999999999994), TD("%.15f", 0.1), TD("%.17f", 0.1), TD("%.55f", 0.1),
    TD("%.60f", 0.1), TD("%.20e", 0.1), TD("%f", 1e23), TD("%.0f", 1e23), TD("%e", 1e23),
    TD("%.17g", 1e23), TD("%.30g", 1e23), TD("%f", 9.9999996), TD("%.3f", 9.9995),
    TD("%.3f", 9.9994999), TD("%.2f", 99.995), TD("%.0f", 9.5), TD("%.0f", 99.5),
    TD("%.0f", 999999.5), TD("%.1f", 0.95), TD("%.1f", 0.05), TD("%.2f", 0.005),
    TD("%.3f", 0.0005), TD("%.0f", 0.0), TD("%.0f", 0.6), TD("%.0f", 0.4),
    /* %e %g edges */
    TD("%e", 0.0), TD("%.0e", 0.0), TD("%#.0e", 0.0), TD("%e", -0.0), TD("%g", 0.0),
    TD("%#g", 0.0), TD("%.0g", 0.0), TD("%#.0g", 0.0), TD("%g", -0.0), TD("%f", -0.0),
    TD("%+f", 0.0), TD("% f", 0.0), TD("%g", 100000.0), TD("%g", 1000000.0),
    TD("%g", 999999.5), TD("%g", 999999.4), TD("%g", 0.0001), TD("%g", 0.00001),
    TD("%g", 0.000099999), TD("%g", 0.00009999996), TD("%.3g", 9.9995), TD("%.3g", 99950000.0),
    TD("%.3g", 0.0001234567), TD("%#g", 1.0), TD("%#.3g", 1.0), TD("%#.0g", 1.0),
    TD("%.0g", 1.0), TD("%.1g", 0.95), TD("%.2g", 0.995), TD("%g", 1e-5), TD("%G", 1e-10),
    TD("%g", 123456789.0), TD("%.10g", 123456789.0), TD("%#.10g", 123456789.0),
    TD("%.20g", 1.0 / 3), TD("%#g", 999999.5), TD("%#G", 999999.5), TD("%#012g|", 999999.5),
    TD("%#.1g", 9.5), TD("%#.1g", 0.96), TD("%#.2g", -99.7), TD("%#g", 9.9999996e-5),
    TD("%#.3g", 9.9996e-6), TD("%#.3g", 99.95), TD("%#.3g", 999500.0), TD("%g", 1e300), TD("%g", 1e-300), TD("%#.0e", 3.0),
    TD("%#.0f", 3.0), TD("%#.0f", 0.5), TD("%E", 1.5e-300), TD("%e", 1e100),
    TD("%.3e", 9.9995e10), TD("%e", DBL_MAX), TD("%e", DBL_MIN), TD("%e", 4.9406564584124654e-324),
    TD("%.0e", 4.9406564584124654e-324), TD("%.20e", 4.9406564584124654e-324),
    TD("%g", 4.9406564584124654e-324), TD("%.3g", 2.2250738585072014e-308),
    TD("%.1074f", 4.9406564584124654e-324), TD("%.760e", 4.9406564584124654e-324),
    TD("%.1100g", 4.9406564584124654e-324), TD("%f", DBL_MAX), TD("%.400f", DBL_MAX),
    TD("%.4096f", DBL_MAX), TD("%.4096e", 1.0 / 3), TD("%.4096g", 0.1), TD("%.4096f", 1e-300),
    TD("%.1000f", 1e-300), TD("%.17g", 0.1), TD("%a", 0.1),
    /* flags and width on floats */
    TD("%10.3f", -1.5), TD("%-10.3f|", -1.5), TD("%010.3f", -1.5), TD("%+010.3f", 1.5),
    TD("% 010.3f", 1.5), TD("%-+10.3f|", 1.5), TD("%+.3e", 1.5), TD("% .3e", 1.5),
    TD("%012.3e", -1.5), TD("%012g", -1.5), TD("%-12g|", -1.5), TD("%'.3f", 1234567.5),
    TD("%lf", 1.5), TD("%hf", 1.5), TD("%jf", 1.5), TD("%zf", 1.5), TD("%tf", 1.5),
    TD("%F", 1.5), TD("%G", 1e-20), TD("%E", 12345.678),
    /* inf / nan */
    TD("%f", INFINITY), TD("%f", -INFINITY), TD("%F", INFINITY), TD("%e", -INFINITY),
    TD("%E", INFINITY), TD("%g", INFINITY), TD("%G", -INFINITY), TD("%a", INFINITY),
    TD("%A", -INFINITY), TD("%f", NAN), TD("%f", -NAN), TD("%F", NAN), TD("%E", -NAN),
    TD("%G", NAN), TD("%A", -NAN), TD("%+f", NAN), TD("% f", INFINITY), TD("%05f", INFINITY),
    TD("%-05f|", -INFINITY), TD("%010.3e", -NAN), TD("%+10f", INFINITY), TD("%#f", NAN),
    /* %a */
    TD("%a", 1.0), TD("%a", -1.0), TD("%A", 255.5), TD("%a", 0.0), TD("%a", -0.0), TD("%A", -0.0),
    TD("%.0a", 1.5), TD("%.0a", 2.5), TD("%.0a", 0x1.8p0), TD("%.0a", 0x1.fp0),
    TD("%.1a", 0x1.f8p0), TD("%.1a", 0x1.e8p0), TD("%.1a", 0x1.f88p0), TD("%.1a", 0x1.2cp0),
    TD("%.1a", 0x1.28p0), TD("%.1a", 0x1.38p0), TD("%.0a", 0x0.8p-1022), TD("%.0a", 0x0.cp-1022),
    TD("%#a", 1.0), TD("%#.0a", 1.0), TD("%010a", -1.0), TD("%-12a|", -1.0), TD("%+a", 1.0),
    TD("% a", 1.0), TD("%a", 4.9406564584124654e-324), TD("%.3a", 4.9406564584124654e-324),
    TD("%.0a", 4.9406564584124654e-324), TD("%a", DBL_MAX), TD("%.0a", DBL_MAX),
    TD("%.1a", DBL_MAX), TD("%a", DBL_MIN), TD("%.20a", 1.0), TD("%.13a", 0.1),
    TD("%.12a", 0.1), TD("%30.5A", -0.1), TD("%.4096a", 0.1),
    /* long double */
    TLD("%Lf", 1.5L), TLD("%Le", 1.5L), TLD("%Lg", 1.5L), TLD("%La", 1.0L), TLD("%LA", 1.5L),
    TLD("%.0La", 1.5L), TLD("%.1La", 15.9L), TLD("%.0La", 15.9L), TLD("%.0La", 0xf.8p0L),
    TLD("%.0La", 0xe.8p0L), TLD("%.0La", 0xe.cp0L), TLD("%.0La", 0x9.8p0L),
    TLD("%.0La", 0xf.fp0L), TLD("%La", 0.0L), TLD("%La", -0.0L), TLD("%Lf", -0.0L),
    TLD("%Lg", LDBL_MAX), TLD("%Le", LDBL_MAX), TLD("%.30Le", LDBL_MAX), TLD("%Lf", LDBL_MAX),
    TLD("%.4096Lf", LDBL_MAX), TLD("%La", LDBL_MAX), TLD("%.0La", LDBL_MAX),
    TLD("%.3La", LDBL_MAX), TLD("%Le", LDBL_MIN), TLD("%.2Le", -LDBL_MIN), TLD("%La", LDBL_MIN),
    TLD("%La", LDBL_MIN / 4), TLD("%Le", LDBL_TRUE_MIN), TLD("%La", LDBL_TRUE_MIN),
    TLD("%.2La", LDBL_TRUE_MIN), TLD("%.4096Le", LDBL_TRUE_MIN), TLD("%.4096Lf", LDBL_TRUE_MIN),
    TLD("%.4096Lg", LDBL_TRUE_MIN), TLD("%.4096Lg", LDBL_MIN), TLD("%.4096La", LDBL_MIN),
    TLD("%.0Lf", 2.5L), TLD("%.0Lf", 3.5L), TLD("%.2Lf", 0.125L), TLD("%.20Lf", 0.1L),
    TLD("%.30Lg", 0.1L), TLD("%Lf", (long double)INFINITY), TLD("%LF", -(long double)INFINITY),
    TLD("%Lf", (long double)NAN), TLD("%Le", -(long double)NAN), TLD("%LA", (long double)NAN),
    TLD("%Lg", 1e4000L), TLD("%.25Lg", 1e-4000L), TLD("%llf", 1.5L), TLD("%.10Lf", 1e19L),
    TLD("%Lf", 18446744073709551615.0L), TLD("%.30Lf", 0.3L),
};

static void test_table(void)
{
    size_t i;
    long before = n_fail;
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct tcase *t = &table[i];
        diff_case("table", t->fmt, t->nstar, t->s1, t->s2, &t->a, 1 + i % 9);
    }
    printf("fmt: %s table, %zu glibc cases\n", n_fail == before ? "ok" : "FAILED",
           sizeof table / sizeof table[0]);
}

/* ------------------------------------------------------ random differential */

static const char *const str_pool[] = {
    "", "a", "hello", "hello, world", "tab\there", "\xff\x80 high bytes",
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789",
};

static uint64_t rand_int_bits(void)
{
    static const uint64_t edge[] = {
        0, 1, (uint64_t)-1, 7, 8, 9, 10, 15, 16, 99, 100, 127, 128, 255, 256, (uint64_t)-128,
        (uint64_t)-129, 32767, 32768, 65535, 65536, (uint64_t)INT_MAX, (uint64_t)INT_MIN,
        (uint64_t)UINT_MAX, (uint64_t)LLONG_MAX, (uint64_t)LLONG_MIN, 1000000000,
        999999999, 0x8000000000000001u, 01234567, 0x123456789abcdefu};
    switch (rn(6)) {
    case 0: return edge[rn(sizeof edge / sizeof edge[0])];
    case 1: return rnd();
    case 2: return (uint64_t)((int64_t)rn(2001) - 1000);
    case 3: return rnd_shr(0, 64);
    case 4: return 0 - rnd_shr(1, 63);
    default: return rnd() & 0xffffffffu;
    }
}

static double pow10_of(int e)
{
    char s[16];
    snprintf(s, sizeof s, "1e%d", e);
    return strtod(s, NULL);
}

static double bits_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static double rand_double(void)
{
    static const double edge[] = {
        0.0, 1.0, 0.5, 0.125, 0.375, 2.5, 1.5, 9.5, 0.05, 0.005, 0.95, 1e23, 1e22, 1e21,
        DBL_MIN, DBL_MAX, 4.9406564584124654e-324, DBL_EPSILON, 0.1, 0.2, 0.3, 1.0 / 3,
        2.0 / 3, 9.999999e-5, 99999.95, 999999.5, 0.0001, 0.00001, 123456789012345678.0,
        9007199254740992.0, 9223372036854775808.0, 18446744073709551616.0, 1e15, 1e16, 1e17,
        5e-324, 2.2250738585072009e-308, 1.7976931348623157e308, 0.49999999999999994,
        4503599627370495.5, 1e-5, 1e-4, 9.9999996, 99.995, 0.015, 1.005, 2.675};
    double d;
    unsigned u, v;
    switch (rn(16)) {
    case 0: case 1: case 2:
        d = bits_double(rnd());
        break;
    case 3:
        d = edge[rn(sizeof edge / sizeof edge[0])];
        break;
    case 4:
        d = (double)((int)rn(2001) - 1000);
        break;
    case 5: /* exact binary halfway points for low precisions */
        u = rn2(100000, &v, 20);
        d = (double)(2 * u + 1) / (double)(1u << (1 + v));
        break;
    case 6:
        d = pow10_of((int)rn(640) - 325);
        break;
    case 7:
        d = ldexp(1.0, (int)rn(2100) - 1075);
        break;
    case 8: /* short decimals: x.xx5 and friends */
        u = rn2(10000000, &v, 9);
        d = (double)u / pow10_of((int)v);
        break;
    case 9:
        d = (double)(rnd() >> 11);
        d = ldexp(d, (int)rn(200) - 150);
        break;
    case 10: /* denormals */
        d = bits_double(rnd_shr(12, 52));
        break;
    case 11:
        d = rn(2) ? INFINITY : NAN;
        break;
    case 12:
        d = nextafter(DBL_MAX, 0) * (rn(2) ? 1 : 0.5);
        break;
    default:
        d = (double)(rnd() >> 11) / 9007199254740992.0;
        d *= pow10_of((int)rn(24) - 12);
        break;
    }
    return rn(2) ? -d : d;
}

#if LDBL_MANT_DIG == 64
static long double bits_x87(uint64_t m, unsigned se)
{
    long double ld = 0;
    unsigned char b[10];
    memcpy(b, &m, 8);
    b[8] = (unsigned char)se;
    b[9] = (unsigned char)(se >> 8);
    memcpy(&ld, b, 10);
    return ld;
}
#endif

static long double rand_ldouble(void)
{
    long double ld;
    unsigned r = rn(20);
#if LDBL_MANT_DIG == 64
    if (r < 6) {
        /* valid x87 encodings: mostly moderate exponents, a few full range */
        unsigned e = rn(10) ? 16383 + rn(2400) - 1200 : 1 + rn(0x7ffe);
        ld = bits_x87(rnd() | UINT64_C(1) << 63, e);
    } else if (r == 6) {
        ld = bits_x87(rnd_shr(1, 63), 0); /* denormal */
    } else if (r == 7) {
        static const long double edge[] = {LDBL_MAX, LDBL_MIN, LDBL_TRUE_MIN, 0.1L, 1e4932L,
                                           1e-4932L, 2.5L, 0.125L, 1e23L, 1e-4940L};
        ld = edge[rn(sizeof edge / sizeof edge[0])];
    } else if (r == 8) {
        ld = (long double)(2 * rnd() + 1);
        ld /= (long double)(UINT64_C(1) << (1 + rn(60)));
    } else
#endif
        if (r < 10) {
        unsigned u, v;
        u = rn2(100000, &v, 20);
        ld = (long double)(2 * u + 1) / (long double)(1u << (1 + v));
    } else {
        ld = (long double)rand_double();
    }
    (void)r;
    return rn(2) ? -ld : ld;
}

static int spec_int_type(int len, int is_signed)
{
    /* len: 0 none, 1 hh, 2 h, 3 l, 4 ll, 5 j, 6 z, 7 t */
    size_t sz = len == 3 ? sizeof(long) : len == 4 ? sizeof(long long)
              : len == 5 ? sizeof(intmax_t) : len == 6 ? sizeof(size_t)
              : len == 7 ? sizeof(ptrdiff_t) : sizeof(int);
    if (len == 3)
        return is_signed ? T_L : T_UL;
    if (len == 4)
        return is_signed ? T_LL : T_ULL;
    if (sz == sizeof(int))
        return is_signed ? T_I : T_U;
    if (sz == sizeof(long))
        return is_signed ? T_L : T_UL;
    return is_signed ? T_LL : T_ULL;
}

static void set_int(struct arg *a, uint64_t v)
{
    switch (a->type) {
    case T_I: a->v.i = (int)(int64_t)v; break; /* modular: gcc/clang define it */
    case T_U: a->v.u = (unsigned)v; break;
    case T_L: a->v.l = (long)(int64_t)v; break;
    case T_UL: a->v.ul = (unsigned long)v; break;
    case T_LL: a->v.ll = (long long)(int64_t)v; break;
    default: a->v.ull = (unsigned long long)v; break;
    }
}

static void rand_literal(char **p)
{
    static const char *const lit[] = {"", "", "", "x=", "[", "]", "abc ", " %% ", "|", "\t"};
    const char *s = lit[rn(sizeof lit / sizeof lit[0])];
    size_t n = strlen(s);
    memcpy(*p, s, n);
    *p += n;
}

static void test_random(long ncases)
{
    static const char convs[] = "ddiiuuooxxXXcspffFeeEggGaAfeg";
    static const char *const lens[] = {"", "hh", "h", "l", "ll", "j", "z", "t"};
    char fmt[128];
    long c, before = n_fail;
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (c = 0; c < ncases; c++) {
        char *p = fmt, conv = convs[rn(sizeof convs - 1)];
        int nstar = 0, sv[2] = {0, 0}, i;
        struct arg a;
        size_t small;
        unsigned r;

        rand_literal(&p);
        *p++ = '%';
        for (i = 0; i < 6; i++) /* flags, any order, repeats allowed */
            if (rn(100) < 14)
                *p++ = "-+ #0'"[rn(6)];
        r = rn(100);
        if (r < 35) {
        } else if (r < 75) {
            p += sprintf(p, "%u", 1 + rn(40));
        } else if (r < 85) {
            p += sprintf(p, "%u", 1 + rn(300));
        } else {
            *p++ = '*';
            sv[nstar++] = rn(5) ? (int)rn(81) - 40 : (int)rn(601) - 300;
        }
        r = rn(100);
        if (r < 30) {
        } else if (r < 38) {
            *p++ = '.';
        } else if (r < 75) {
            p += sprintf(p, ".%u", rn(41));
        } else if (r < 85) {
            p += sprintf(p, ".%u", rn(401));
        } else {
            *p++ = '.';
            *p++ = '*';
            sv[nstar++] = rn(5) ? (int)rn(50) - 10 : (int)rn(401);
        }

        switch (conv) {
        case 'd': case 'i': case 'u': case 'o': case 'x': case 'X': {
            int len = rn(2) ? 0 : (int)rn(8);
            p += sprintf(p, "%s%c", lens[len], conv);
            a.type = spec_int_type(len, conv == 'd' || conv == 'i');
            set_int(&a, rand_int_bits());
            break;
        }
        case 'c':
            p += sprintf(p, "%s%c", rn(8) ? "" : rn(2) ? "h" : "hh", conv);
            a.type = T_I;
            a.v.i = (int)rn(300) - 20;
            break;
        case 's':
            p += sprintf(p, "%s%c", rn(8) ? "" : "h", conv);
            a.type = T_S;
            a.v.s = rn(12) ? str_pool[rn(sizeof str_pool / sizeof str_pool[0])] : NULL;
            break;
        case 'p':
            *p++ = conv;
            a.type = T_P;
            a.v.p = rn(8) ? (void *)(uintptr_t)rnd_shr(0, 64) : NULL;
            break;
        default:
            if (rn(4) == 0) {
                p += sprintf(p, "L%c", conv);
                a.type = T_LD;
                a.v.ld = rand_ldouble();
            } else {
                p += sprintf(p, "%s%c", rn(6) ? "" : "l", conv);
                a.type = T_D;
                a.v.d = rand_double();
            }
            break;
        }
        rand_literal(&p);
        *p = 0;

        switch (rn(8)) {
        case 0: small = 0; break;
        case 1: small = 1; break;
        case 2: small = 7; break;
        default: small = rn(64); break;
        }
        diff_case("random", fmt, nstar, sv[0], sv[1], &a, small);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("fmt: %s random differential, %ld cases (seed %#llx), %.2f s\n",
           n_fail == before ? "ok" : "FAILED", ncases, (unsigned long long)rng_state,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* --------------------------------------------------------- fetch callback */

struct farg {
    enum rl_fmt_class cls;
    union rl_fmt_val v;
};

struct fctx {
    const struct farg *args;
    int n, next, calls;
};

/* A reader's fetch: one stored value per request, consumed even on a
 * class mismatch. */
static int test_fetch(void *ctx, enum rl_fmt_class cls, unsigned size, union rl_fmt_val *out)
{
    struct fctx *c = ctx;
    (void)size;
    c->calls++;
    if (c->next >= c->n)
        return -1;
    if (c->args[c->next].cls != cls) {
        c->next++;
        return -1;
    }
    *out = c->args[c->next++].v;
    return 0;
}

static void expect_fetch(const char *fmt, const struct farg *args, int n, const char *want,
                         unsigned want_err)
{
    char out[256];
    struct fctx c = {args, n, 0, 0};
    unsigned err = 0xff;
    size_t len = rl_format(out, sizeof out, fmt, test_fetch, &c, &err);
    expect_eq("fetch", fmt, want, strlen(want), (long)want_err, out, strlen(out), (long)err);
    check(len == strlen(want), "fetch: return value is the output length");
}

static void expect_rl(const char *fmt, const char *want, unsigned want_err)
{
    expect_fetch(fmt, NULL, 0, want, want_err);
}

static void test_fetch_paths(void)
{
    long before = n_fail;
    struct farg a1[] = {{RL_FMT_INT, {.i = 5}}, {RL_FMT_DOUBLE, {.d = 2.5}},
                        {RL_FMT_DOUBLE, {.d = 3.0}}};
    struct farg a2[] = {{RL_FMT_INT, {.i = 1}}};
    struct farg a3[] = {{RL_FMT_INT, {.i = 300}}, {RL_FMT_INT, {.i = 0x100000005}},
                        {RL_FMT_UINT, {.u = 0x1ffff}}, {RL_FMT_INT, {.i = INT64_MIN}},
                        {RL_FMT_UINT, {.u = UINT64_MAX}}, {RL_FMT_CHAR, {.i = 0x141}}};
    struct farg a4[] = {{RL_FMT_INT, {.i = 8}}, {RL_FMT_DOUBLE, {.d = 1.0}},
                        {RL_FMT_INT, {.i = 8}}, {RL_FMT_INT, {.i = 3}}};
    struct farg a5[] = {{RL_FMT_INT, {.i = INT32_MIN}}, {RL_FMT_INT, {.i = 7}},
                        {RL_FMT_INT, {.i = INT32_MAX}}, {RL_FMT_DOUBLE, {.d = 0.5}},
                        {RL_FMT_INT, {.i = -7}}, {RL_FMT_DOUBLE, {.d = 0.5}}};
    struct farg a6[] = {{RL_FMT_PTR, {.p = NULL}}, {RL_FMT_STR, {.s = {NULL, 0, 0}}},
                        {RL_FMT_LDOUBLE, {.ld = 2.5L}}};
    char *nonul;

    /* mismatch and missing arguments */
    expect_fetch("a=%d b=%s c=%.1f", a1, 3, "a=5 b=<?> c=3.0", RL_FMT_ERR_ARG);
    expect_fetch("x=%d y=%d z=%5.1f|", a2, 1, "x=1 y=<?> z=<?>|", RL_FMT_ERR_ARG);
    expect_fetch("%d", a1 + 1, 2, "<?>", RL_FMT_ERR_ARG);
    expect_fetch("%Lf", a1 + 1, 2, "<?>", RL_FMT_ERR_ARG);
    expect_fetch("%p %c %u", a1 + 1, 2, "<?> <?> <?>", RL_FMT_ERR_ARG);
    expect_fetch("%s", a1, 3, "<?>", RL_FMT_ERR_ARG);
    /* values are truncated to the conversion's size */
    expect_fetch("%hhd %d %hx %lld %llu %c", a3, 6,
                 "44 5 ffff -9223372036854775808 18446744073709551615 A", 0);
    /* a `*` that is missing or of the wrong class abandons the conversion */
    expect_fetch("[%*d] [%*d]", a4, 4, "[<?>] [       3]", RL_FMT_ERR_ARG);
    /* INT_MIN width: capped at 4096, left-justified; INT_MAX precision capped */
    {
        static char big[16384];
        struct fctx c = {a5, 6, 0, 0};
        unsigned err = 0;
        size_t n = rl_format(big, sizeof big, "%*d|%.*f|%*.1f", test_fetch, &c, &err);
        check(n == 4096 + 1 + 2 + 4096 + 1 + 7, "star extremes: length");
        check(big[0] == '7' && big[1] == ' ' && big[4096] == '|', "star extremes: INT_MIN width");
        check(memcmp(big + 4097, "0.5000", 6) == 0 && big[4097 + 4098] == '|',
              "star extremes: INT_MAX precision capped");
        check(memcmp(big + 4097 + 4099, "0.5    ", 7) == 0, "star extremes: negative width");
        check(err == RL_FMT_ERR_SPEC, "star extremes: SPEC error");
    }
    expect_fetch("%p %s %.1Lf", a6, 3, "(nil) (null) 2.5", 0);
    /* %hc and %hhc read an int (glibc agrees; ASan's printf interceptor does not know them) */
    expect_fetch("%hc%hhc", a3 + 5, 1, "A<?>", RL_FMT_ERR_ARG);
    /* no fetch at all */
    {
        char out[32];
        unsigned err = 0;
        size_t n = rl_format(out, sizeof out, "a%db%sc", NULL, NULL, &err);
        check(n == 9 && strcmp(out, "a<?>b<?>c") == 0 && err == RL_FMT_ERR_ARG, "NULL fetch");
        n = rl_format(out, sizeof out, NULL, NULL, NULL, &err);
        check(n == 0 && out[0] == 0 && err == RL_FMT_ERR_SPEC, "NULL format");
        n = rl_format(NULL, 0, "hello %d", NULL, NULL, NULL);
        check(n == 9, "NULL buffer, cap 0");
        out[0] = 'x';
        n = rl_format(out, 0, "hello", NULL, NULL, NULL);
        check(n == 5 && out[0] == 'x', "cap 0 leaves the buffer alone");
    }

    /* bounded strings: never read past len, stop at a NUL inside it */
    nonul = malloc(6);
    if (nonul) {
        struct farg s[4];
        memcpy(nonul, "abcdef", 6);
        s[0].cls = RL_FMT_STR; s[0].v.s.ptr = nonul; s[0].v.s.len = 6;
        s[1].cls = RL_FMT_STR; s[1].v.s.ptr = nonul; s[1].v.s.len = 3;
        s[2].cls = RL_FMT_STR; s[2].v.s.ptr = nonul; s[2].v.s.len = 6;
        s[3].cls = RL_FMT_STR; s[3].v.s.ptr = "ab\0cd"; s[3].v.s.len = 5;
        expect_fetch("%s|%s|%8.2s|%s", s, 4, "abcdef|abc|      ab|ab", 0);
        free(nonul);
    }

    /* %n is never honoured: it consumes its pointer (and a * width) and
     * prints nothing, so the conversions after it get their own arguments */
    {
        int sink = 77;
        struct farg an[] = {{RL_FMT_PTR, {.p = &sink}}, {RL_FMT_PTR, {.p = &sink}},
                            {RL_FMT_PTR, {.p = &sink}}, {RL_FMT_INT, {.i = 3}},
                            {RL_FMT_PTR, {.p = &sink}}, {RL_FMT_PTR, {.p = &sink}},
                            {RL_FMT_INT, {.i = 1}}};
        struct fctx c = {an, 7, 0, 0};
        char out[32];
        unsigned err = 0;
        size_t n = rl_format(out, sizeof out, "a%nb%hhn%5n%*n%lln%d", test_fetch, &c, &err);
        check(n == 3 && strcmp(out, "ab1") == 0 && sink == 77, "%n writes nothing");
        check(err == RL_FMT_ERR_SPEC && c.calls == 7 && c.next == 7,
              "%n: SPEC error, its argument consumed");
        n = rl_format(out, sizeof out, "%n", NULL, NULL, &err);
        check(strcmp(out, "<?>") == 0 && (err & RL_FMT_ERR_ARG), "%n without an argument");
        int target = 12345;
        n = rl_sformat(out, sizeof out, "x%ny", &target);
        check(n == 2 && strcmp(out, "xy") == 0 && target == 12345, "rl_sformat %n ignored");
    }

    /* unsupported conversions are copied literally */
    expect_rl("%y", "%y", RL_FMT_ERR_SPEC);
    expect_rl("%-5y|", "%-5y|", RL_FMT_ERR_SPEC);
    expect_rl("%5.3y", "%5.3y", RL_FMT_ERR_SPEC);
    /* %m asks for errno (never an argument); a numbered format with no
     * arguments to fetch */
    expect_rl("%m", "<?>", RL_FMT_ERR_ARG);
    expect_rl("%b %q %1$d", "%b %q <?>", RL_FMT_ERR_SPEC | RL_FMT_ERR_ARG);
    {
        /* wide conversions as UTF-8: %lc/%C a character (an unpaired
         * surrogate becomes U+FFFD), %ls/%S a wide string, or UTF-8 bytes a
         * reader captured earlier (s.wide clear); %Lc and %zs are narrow */
        static const wchar_t we[] = L"w\u00e9";
        struct farg aw[] = {{RL_FMT_CHAR, {.i = 'x'}},
                            {RL_FMT_WSTR, {.s = {(const char *)we, SIZE_MAX, 1}}},
                            {RL_FMT_CHAR, {.i = 'y'}},
                            {RL_FMT_STR, {.s = {"w", SIZE_MAX, 0}}},
                            {RL_FMT_CHAR, {.i = 0x20ac}},
                            {RL_FMT_INT, {.i = 4}},
                            {RL_FMT_WSTR, {.s = {"\xc3\xa9", 2, 0}}},
                            {RL_FMT_CHAR, {.i = 0xd800}},
                            {RL_FMT_INT, {.i = 5}}};
        expect_fetch("%lc %ls %Lc %zs %C %*S %lc %d", aw, 9,
                     "x w\xc3\xa9 y w \xe2\x82\xac   \xc3\xa9 \xef\xbf\xbd 5", 0);
        /* the precision counts bytes and never splits a character */
        struct farg ap2[] = {{RL_FMT_WSTR, {.s = {(const char *)we, SIZE_MAX, 1}}}};
        expect_fetch("[%.2ls]", ap2, 1, "[w]", 0);
        expect_rl("%lc|%d", "<?>|<?>", RL_FMT_ERR_ARG);
    }
    {
        /* Positional formats, %m, wide and the I flag against glibc through
         * the va_list front end. */
        char g[256], r[256];
        snprintf(g, sizeof g, "%2$s|%1$d|%2$.3s|%3$*4$d|%4$-3d|%3$x|%5$.*6$f", 42, "hello", 255,
                 6, 2.5, 3);
        rl_sformat(r, sizeof r, "%2$s|%1$d|%2$.3s|%3$*4$d|%4$-3d|%3$x|%5$.*6$f", 42, "hello",
                   255, 6, 2.5, 3);
        check(strcmp(g, r) == 0, "positional arguments as glibc");
        errno = EACCES;
        snprintf(g, sizeof g, "[%m] [%.6m] [%20m]");
        errno = EACCES;
        rl_sformat(r, sizeof r, "[%m] [%.6m] [%20m]");
        check(strcmp(g, r) == 0, "%m as glibc");
        check(errno == EACCES, "formatting keeps errno");
        errno = 99999;
        snprintf(g, sizeof g, "%m");
        errno = 99999;
        rl_sformat(r, sizeof r, "%m");
        check(strcmp(g, r) == 0, "%m of an unknown errno as glibc");
        snprintf(g, sizeof g, "%ls|%5lc|%.2ls|%-4ls|", L"wide", (wint_t)L'w', L"abc", L"x");
        rl_sformat(r, sizeof r, "%ls|%5lc|%.2ls|%-4ls|", L"wide", (wint_t)L'w', L"abc", L"x");
        check(strcmp(g, r) == 0, "ASCII wide conversions as glibc");
        struct farg two_ints[] = {{RL_FMT_INT, {.i = 12}}, {RL_FMT_INT, {.i = 34}}};
        /* clang reads %I as Microsoft's %I64d: a format kept from it. */
        const char *iflag = getenv("RINGLOG_TEST_NO_SUCH_VAR") ? "" : "%Id|%I5d";
        snprintf(g, sizeof g, iflag, 12, 34);
        rl_format(r, sizeof r, iflag, test_fetch, &(struct fctx){two_ints, 2, 0, 0}, NULL);
        check(strcmp(g, r) == 0, "the I flag as glibc in the C locale");
        /* mixing numbered and unnumbered, or skipping a number: refused */
        unsigned err = 0;
        struct farg two[] = {{RL_FMT_INT, {.i = 1}}, {RL_FMT_INT, {.i = 2}}};
        (void)two;
        struct fctx c = {two, 2, 0, 0};
        rl_format(r, sizeof r, "%1$d %d", test_fetch, &c, &err);
        check(strcmp(r, "1 <?>") == 0 && (err & RL_FMT_ERR_SPEC), "mixed numbering refused");
        c.next = 0;
        rl_format(r, sizeof r, "%1$d %3$d", test_fetch, &c, &err);
        check(strcmp(r, "1 <?>") == 0 && (err & RL_FMT_ERR_SPEC), "a skipped number refused");
        c.next = 0;
        rl_format(r, sizeof r, "%33$d", test_fetch, &c, &err);
        check(strcmp(r, "%33$d") == 0 && (err & RL_FMT_ERR_SPEC), "a number above the maximum");
    }
    expect_rl("abc%", "abc%", RL_FMT_ERR_SPEC);
    expect_rl("abc%-5", "abc%-5", RL_FMT_ERR_SPEC);
    expect_rl("abc%5.", "abc%5.", RL_FMT_ERR_SPEC);
    expect_rl("abc%ll", "abc%ll", RL_FMT_ERR_SPEC);
    expect_rl("100%% %5%", "100% %", 0);
    /* width / precision caps */
    {
        static char big[3 * 4096 + 64];
        struct farg one[] = {{RL_FMT_INT, {.i = 1}}};
        struct farg d1[] = {{RL_FMT_DOUBLE, {.d = 1.0}}};
        struct fctx c = {one, 1, 0, 0};
        unsigned err = 0;
        size_t n = rl_format(big, sizeof big, "%5000d", test_fetch, &c, &err);
        check(n == 4096 && big[4095] == '1' && err == RL_FMT_ERR_SPEC, "width capped");
        c.next = 0;
        n = rl_format(big, sizeof big, "%99999999999999999999999d", test_fetch, &c, &err);
        check(n == 4096 && err == RL_FMT_ERR_SPEC, "huge width capped");
        c.args = d1;
        c.next = 0;
        n = rl_format(big, sizeof big, "%.99999999999f", test_fetch, &c, &err);
        check(n == 4098 && err == RL_FMT_ERR_SPEC, "huge precision capped");
        c.next = 0;
        n = rl_format(big, sizeof big, "%.4096f", test_fetch, &c, &err);
        check(n == 4098 && err == 0, "precision 4096 allowed");
    }
    printf("fmt: %s fetch callback, errors, %%n, unsupported, caps\n",
           n_fail == before ? "ok" : "FAILED");
}

/* ------------------------------------------- hostile formats and values */

static int fuzz_fetch(void *ctx, enum rl_fmt_class cls, unsigned size, union rl_fmt_val *out)
{
    static const char text[] = "fuzz string";
    (void)ctx;
    (void)size;
    if (rn(50) == 0)
        return -1;
    memset(out, 0, sizeof *out);
    switch (cls) {
    case RL_FMT_INT: case RL_FMT_UINT: case RL_FMT_CHAR:
        out->u = rand_int_bits();
        if (rn(4) == 0) /* a `*` in range */
            out->i = (int)rn(600) - 300;
        break;
    case RL_FMT_DOUBLE:
        out->u = rnd();
        break;
    case RL_FMT_LDOUBLE: { /* any 80 bits: pseudo-denormals, unnormals, pseudo-NaNs */
        uint64_t m = rnd();
        unsigned se = (unsigned)rnd();
        if (rn(2))
            se = (se & 0x8000u) | (16383 + rn(200) - 100);
        memcpy(&out->ld, &m, 8);
        memcpy((char *)&out->ld + 8, &se, 2);
        break;
    }
    case RL_FMT_PTR:
        out->p = (const void *)(uintptr_t)rnd();
        break;
    case RL_FMT_STR:
        out->s.ptr = rn(5) ? text : NULL;
        out->s.len = rn(sizeof text + 2);
        break;
    case RL_FMT_WSTR: {
        static const wchar_t wtext[] = {L'w', 0xe9, 0xd800, 0x10ffff, 0x110000, -1, L'z', 0};
        out->s.wide = rn(2);
        out->s.ptr = !rn(5) ? NULL : out->s.wide ? (const char *)wtext : text;
        out->s.len = out->s.wide ? rn(sizeof wtext / sizeof wtext[0] + 2) : rn(sizeof text + 2);
        break;
    }
    case RL_FMT_ERRNO:
        out->i = (int)rnd();
        break;
    }
    return 0;
}

static void test_hostile(long n)
{
    static const char alphabet[] = "%%%%%%-+ #0'*.123456789hlLjztqdiouxXcspnfFeEgGaAmy% x$$ICS";
    static char out[4 * 4096 + 256];
    long before = n_fail, i;
    double worst = 0;

    for (i = 0; i < n; i++) {
        char fmt[24];
        unsigned len = 1 + rn(sizeof fmt - 1), k, err;
        size_t cap = rn(4) ? sizeof out : rn(40), got, j;
        struct timespec t0, t1;
        double dt;
        for (k = 0; k + 1 < len; k++)
            fmt[k] = alphabet[rn(sizeof alphabet - 1)];
        fmt[k] = 0;
        memset(out, 0x5a, cap + 8 < sizeof out ? cap + 8 : sizeof out);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        got = rl_format(out, cap, fmt, fuzz_fetch, NULL, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (dt > worst)
            worst = dt;
        if (cap) {
            size_t end = got < cap - 1 ? got : cap - 1;
            check(out[end] == 0, "hostile: NUL terminated at min(len, cap-1)");
            if (cap < sizeof out)
                for (j = cap; j < cap + 8; j++)
                    if (out[j] != 0x5a) {
                        check(0, "hostile: wrote past cap");
                        break;
                    }
        }
        check(got <= (size_t)(len / 2 + 1) * (4096 + 4096 + 4960 + 16), "hostile: length bound");
    }
    printf("fmt: %s hostile formats and argument bits, %ld cases, slowest call %.2f ms\n",
           n_fail == before ? "ok" : "FAILED", n, worst * 1e3);
}

/* Exact ties at every precision: (2r+1)*2^-k has exactly k fraction digits,
 * the last one a 5, so %.(k-1)f and %.(S-2)e (S significant digits) round a
 * true halfway value; neighbours and limb boundaries come along. */
static int sig_digits(const char *e_out)
{
    int n = 0, last = 0;
    const char *q;
    for (q = e_out; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9') {
            n++;
            if (*q != '0')
                last = n;
        }
    return last;
}

static void test_ties(long n)
{
    static char tmp[BUFSZ];
    long before = n_fail, i;
    char fmt[32];
    for (i = 0; i < n; i++) {
        struct arg a;
        int k, S, d, is_ld = LDBL_MANT_DIG == 64 && rn(3) == 0;
        if (is_ld) {
            uint64_t r = rnd_shr(0, 64);
            k = rn(8) ? 1 + (int)rn(120) : 1 + (int)rn(16440);
            a.type = T_LD;
            a.v.ld = ldexpl((long double)(r | 1), -k);
            if (a.v.ld == 0)
                continue;
            snprintf(tmp, sizeof tmp, "%.4000Le", a.v.ld);
        } else {
            uint64_t r = rnd_shr(11, 53);
            k = rn(8) ? 1 + (int)rn(80) : 1 + (int)rn(1074);
            a.type = T_D;
            a.v.d = ldexp((double)(r | 1), -k);
            if (a.v.d == 0)
                continue;
            snprintf(tmp, sizeof tmp, "%.1100e", a.v.d);
        }
        S = sig_digits(tmp);
        if (S < 2 || S > 3900)
            continue;
        for (d = -1; d <= 1; d++) {
            const char *L = is_ld ? "L" : "";
            if (k - 1 + d >= 0 && k - 1 + d <= 4096) {
                snprintf(fmt, sizeof fmt, "%%.%d%sf", k - 1 + d, L);
                diff_case("tie", fmt, 0, 0, 0, &a, rn(40));
            }
            if (S - 2 + d >= 0) {
                snprintf(fmt, sizeof fmt, "%%.%d%se", S - 2 + d, L);
                diff_case("tie", fmt, 0, 0, 0, &a, rn(40));
                snprintf(fmt, sizeof fmt, "%%#.%d%sg", S - 1 + d, L);
                diff_case("tie", fmt, 0, 0, 0, &a, rn(40));
            }
        }
    }
    printf("fmt: %s exact ties, %ld values\n", n_fail == before ? "ok" : "FAILED", n);
}

/* Worst cases for time: the largest expansions allowed. */
static void test_worst_time(void)
{
    static char out[16384];
    static const char *const fmts[] = {"%.4096Le", "%.4096Lf", "%.4096Lg", "%.4096La"};
    const long double vals[] = {LDBL_TRUE_MIN, LDBL_MAX, LDBL_MIN, -0x1.fffffffep-16000L};
    double worst = 0;
    size_t i, j;
    for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        for (j = 0; j < sizeof vals / sizeof vals[0]; j++) {
            struct timespec t0, t1;
            double dt;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            rl_sformat(out, sizeof out, fmts[i], vals[j]);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
            if (dt > worst)
                worst = dt;
            diff_case("worst", fmts[i], 0, 0, 0,
                      &(struct arg){T_LD, {.ld = vals[j]}}, 100);
        }
    printf("fmt: ok worst-case expansions, slowest %.2f ms per conversion\n", worst * 1e3);
}

/* The va_list front end leaves the caller's list alone. */
static size_t twice(char *a, char *b, size_t cap, const char *fmt, ...)
{
    va_list ap;
    size_t n1, n2;
    va_start(ap, fmt);
    n1 = rl_vformat(a, cap, fmt, ap);
    n2 = rl_vformat(b, cap, fmt, ap);
    va_end(ap);
    return n1 == n2 ? n1 : (size_t)-1;
}

static void test_vformat(void)
{
    char a[64], b[64];
    size_t n = twice(a, b, sizeof a, "%d %s %.2f %c", 7, "x", 2.345, 'q');
    check(n == 10 && strcmp(a, "7 x 2.35 q") == 0 && strcmp(a, b) == 0,
          "rl_vformat reuses the caller's va_list");
}

int main(void)
{
    long ncases = 200000;
    const char *s;

    if ((s = getenv("RINGLOG_FMT_SEED")) && *s)
        rng_state = strtoull(s, NULL, 0) | 1;
    if ((s = getenv("RINGLOG_FMT_CASES")) && *s)
        ncases = atol(s);
    else if ((s = getenv("RINGLOG_STRESS_SCALE")) && *s)
        ncases = ncases * atol(s) / 100;
    printf("fmt: seed %#llx\n", (unsigned long long)rng_state);

    test_table();
    test_fetch_paths();
    test_vformat();
    test_random(ncases);
    test_ties(ncases / 40);
    test_hostile(ncases / 4);
    test_worst_time();

    printf("fmt: %ld checks passed, %ld failed\n", n_pass, n_fail);
    if (n_fail) {
        printf("test_fmt: FAILED\n");
        return 1;
    }
    printf("test_fmt: ok\n");
    return 0;
}
