/* Async-signal-safe printf-family formatter.
 *
 * Safe to call from a signal handler: no malloc, no locale, no stdio, no
 * global mutable state, no libc call that could take a lock, bounded stack
 * (about 6 KiB in the worst case, for %e/%f/%g; -fstack-usage at -O2).
 *
 * The core (rl_format) never touches a va_list: it asks a fetch callback for
 * each argument by class and size, so the same code can format argument
 * values read back from untrusted stored data.  Any format string and any
 * fetched values are safe: no undefined behaviour, no read past a string's
 * bound, bounded time per conversion.
 *
 * Output equals glibc snprintf (C locale, default rounding mode) for:
 *   conversions  d i u o x X c s p %  f F e E g G a A
 *   flags        - + space # 0   (' is accepted and ignored, as in the C locale)
 *   width/prec   decimal or *; negative * width means '-', negative * precision
 *                means none.  Both are capped at RL_FMT_MAX_WIDTH/RL_FMT_MAX_PREC
 *                (4096): a larger value is treated as 4096 and RL_FMT_ERR_SPEC is
 *                set, so a hostile format cannot make one conversion run long.
 *   length       hh h l ll j z t L  (for integers L means long long, as in glibc;
 *                for floating point L and ll mean long double, others double)
 * Floating point is exact (big-integer expansion, round-half-even on the exact
 * value) for double and x87 80-bit long double.  Where long double is neither
 * (e.g. IEEE quad), it is converted to double first: exact for values a double
 * can hold.
 *
 * Also supported, beyond the C locale's snprintf:
 *   %m           errno's description (the fetch callback supplies errno with
 *                class RL_FMT_ERRNO; it is never a numbered argument).
 *   %lc, %C      a wide character, written as UTF-8 (no locale: what is not
 *                a Unicode scalar value becomes U+FFFD, where glibc fails).
 *   %ls, %S      a wide string (RL_FMT_WSTR), as UTF-8; the precision counts
 *                output bytes and never splits a character, as in glibc.
 *   positional   "%2$s %1$d", "*3$" and ".*4$", up to RL_FMT_MAX_POS
 *                arguments: the arguments are fetched once, in position
 *                order, so fetch stays sequential.  A format that numbers
 *                some arguments and not others, or skips a number, sets
 *                RL_FMT_ERR_SPEC (the arguments after a skipped number
 *                cannot be read: their type is unknown).
 *   I flag       (glibc's locale digits) accepted: ASCII in the C locale.
 *
 * Not supported, by design (sets RL_FMT_ERR_SPEC):
 *   %n           consumes its pointer argument, writes nothing, prints nothing.
 *   %b, %q and any unknown conversion: the whole specification is copied
 *   literally ("%-5y" stays "%-5y") and consumes no argument.
 *   A format ending inside a specification is copied literally (glibc fails).
 *
 * When fetch fails for a conversion (missing or mismatched argument) the
 * conversion prints "<?>" unpadded, RL_FMT_ERR_ARG is set, no further
 * argument is fetched for that conversion, and formatting goes on.
 */
#ifndef RINGLOG_FMT_H
#define RINGLOG_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RL_FMT_MAX_WIDTH 4096
#define RL_FMT_MAX_PREC 4096
#define RL_FMT_MAX_POS 32 /* highest argument number of a positional format */

/* What a conversion asks for.  `size` passed to the fetch callback: */
enum rl_fmt_class {
    RL_FMT_INT,     /* signed integer, `size` bytes (1,2,4,8); value in .i */
    RL_FMT_UINT,    /* unsigned integer, `size` bytes; value in .u */
    RL_FMT_DOUBLE,  /* double (also float promoted); .d */
    RL_FMT_LDOUBLE, /* long double (%Lf etc.); .ld, only its value bytes are read */
    RL_FMT_PTR,     /* %p; .p */
    RL_FMT_STR,     /* %s: .s.ptr + .s.len (bounded; ptr may be NULL => "(null)") */
    RL_FMT_CHAR,    /* %c, %lc: size is sizeof(int), the promoted type; .i */
    RL_FMT_WSTR,    /* %ls: .s, with .s.wide set when .s.ptr points to wchar_t
                       (.s.len then counts wchar_t) and clear when the fetch
                       hands out UTF-8 bytes instead (captured earlier) */
    RL_FMT_ERRNO,   /* %m: the errno to describe, in .i (no argument consumed) */
};

union rl_fmt_val {
    int64_t i;
    uint64_t u;
    double d;
    long double ld;
    const void *p;
    struct {
        const char *ptr;
        size_t len;
        int wide; /* RL_FMT_WSTR only */
    } s;
    /* Set by rl_format before each fetch (a fetch may ignore it): what the
     * argument is for and, for a value, the conversion's precision (-1:
     * none).  Lets a scanner learn how a format consumes its arguments. */
    struct {
        int role; /* enum rl_fmt_role */
        int prec;
    } q;
};

enum rl_fmt_role { RL_FMT_ROLE_VALUE = 0, RL_FMT_ROLE_WIDTH = 1, RL_FMT_ROLE_PREC = 2 };

/* Return 0 and fill *out, or non-zero when no argument of that class is
 * available (mismatch / missing).  Called once per argument, in format order
 * (a `*` width, then a `*` precision, then the value), or for a positional
 * format once per argument number, in number order; RL_FMT_ERRNO (%m) is
 * asked for where it occurs and is not an argument.  Integer values are
 * truncated to `size` bytes by the formatter, so a fetch may return any
 * 64-bit value.  For RL_FMT_STR the formatter never reads past s.len bytes
 * and stops at the first NUL within s.len (s.len = SIZE_MAX: NUL-terminated). */
typedef int (*rl_fmt_fetch)(void *ctx, enum rl_fmt_class cls, unsigned size,
                            union rl_fmt_val *out);

#define RL_FMT_ERR_ARG 0x1u  /* an argument was missing or of the wrong class */
#define RL_FMT_ERR_SPEC 0x2u /* invalid / unsupported conversion in the format */

/* Like snprintf: writes at most cap-1 chars + NUL (if cap > 0; buf may be
 * NULL when cap is 0), returns the length the full output would have
 * (saturating at SIZE_MAX).  *errs (may be NULL) gets RL_FMT_ERR_* bits.
 * fmt NULL formats as the empty string and sets RL_FMT_ERR_SPEC; fetch NULL
 * makes every argument missing. */
size_t rl_format(char *buf, size_t cap, const char *fmt, rl_fmt_fetch fetch, void *ctx,
                 unsigned *errs);

/* va_list wrapper around rl_format: arguments are read by class and size with
 * the C default argument promotions (1/2-byte ints and %c arrive as int,
 * float as double).  The caller's ap is left untouched (a copy is used). */
size_t rl_vformat(char *buf, size_t cap, const char *fmt, va_list ap);

/* UTF-8 of code point c into b[0..3]; what is not a Unicode scalar value
 * becomes U+FFFD.  Returns the byte count (1..4). */
size_t rl_fmt_utf8(uint32_t c, char *b);

size_t rl_sformat(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
