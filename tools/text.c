/*
 * Text the commands print: growable buffers, escaping for terminals and
 * JSON, times and sizes.
 */
#include "tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------- formatting */

void fmt_time_us(char *buf, size_t size, uint64_t ns, int utc)
{
    /* tail and dump format one timestamp per entry; entries come in bursts
     * within the same second, so the calendar part is cached. */
    static _Thread_local time_t cached_sec = (time_t)-1;
    static _Thread_local int cached_utc = -1;
    static _Thread_local char cached_date[40], cached_off[16];
    time_t sec = (time_t)(ns / 1000000000u);
    unsigned us = (unsigned)(ns % 1000000000u / 1000u);
    if (sec != cached_sec || utc != cached_utc) {
        struct tm tm;
        if (utc ? !gmtime_r(&sec, &tm) : !localtime_r(&sec, &tm)) {
            snprintf(buf, size, "@%llu.%06u", (unsigned long long)sec, us);
            return;
        }
        strftime(cached_date, sizeof cached_date, "%Y-%m-%dT%H:%M:%S", &tm);
        if (utc) {
            strcpy(cached_off, "Z");
        } else {
            long off = tm.tm_gmtoff;
            char sign = off < 0 ? '-' : '+';
            if (off < 0)
                off = -off;
            snprintf(cached_off, sizeof cached_off, "%c%02ld:%02ld", sign, (off / 3600) % 100,
                     off / 60 % 60);
        }
        cached_sec = sec;
        cached_utc = utc;
    }
    snprintf(buf, size, "%s.%06u%s", cached_date, us, cached_off);
}

void fmt_time_ns(char *buf, size_t size, uint64_t ns)
{
    time_t sec = (time_t)(ns / 1000000000u);
    unsigned frac = (unsigned)(ns % 1000000000u);
    struct tm tm;
    char date[40];
    if (!gmtime_r(&sec, &tm)) {
        snprintf(buf, size, "@%llu.%09u", (unsigned long long)sec, frac);
        return;
    }
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%09uZ", date, frac);
}

void fmt_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    uint64_t v = bytes;
    while (u < 4 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u == 0 && bytes >= 10240) {
        /* not a round number: one decimal is enough to compare sizes */
        double d = (double)bytes;
        u = 0;
        while (u < 4 && d >= 1024) {
            d /= 1024;
            u++;
        }
        snprintf(buf, size, "%.1f %s", d, units[u]);
        return;
    }
    snprintf(buf, size, "%llu %s", (unsigned long long)v, units[u]);
}

const char *policy_name(int policy)
{
    switch (policy) {
    case RINGLOG_OVERWRITE: return "overwrite";
    case RINGLOG_DROP: return "drop";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------ sbuf */

static void sb_grow(struct sbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        die(EXIT_RUNTIME, "out of memory");
    b->p = p;
    b->cap = cap;
}

void sb_reset(struct sbuf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

void sb_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void sb_add(struct sbuf *b, const void *data, size_t len)
{
    sb_grow(b, len);
    if (len) /* an empty payload may come with data == NULL */
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = 0;
}

void sb_putc(struct sbuf *b, char c)
{
    sb_grow(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

void sb_puts(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    /* Most pieces are short: format on the stack, and only a long one a
     * second time, into the buffer grown to fit. */
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    sb_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static const char hexdig[] = "0123456789abcdef";

void sb_hex(struct sbuf *b, const unsigned char *s, size_t len)
{
    sb_grow(b, 2 * len);
    for (size_t i = 0; i < len; i++) {
        b->p[b->len++] = hexdig[s[i] >> 4];
        b->p[b->len++] = hexdig[s[i] & 15];
    }
    b->p[b->len] = 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the byte at s
 * does not start one (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

static void sb_hexbyte(struct sbuf *b, const char *prefix, unsigned char c)
{
    sb_puts(b, prefix);
    sb_putc(b, hexdig[c >> 4]);
    sb_putc(b, hexdig[c & 15]);
}

void sb_text_escaped(struct sbuf *b, const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7F) {
            size_t j = i;
            while (j < len && s[j] >= 0x20 && s[j] < 0x7F)
                j++;
            sb_add(b, s + i, j - i);
            i = j;
            continue;
        }
        switch (c) {
        case '\n': sb_puts(b, "\\n"); i++; continue;
        case '\t': sb_puts(b, "\\t"); i++; continue;
        case '\r': sb_puts(b, "\\r"); i++; continue;
        default: break;
        }
        size_t n = c < 0x80 ? 0 : utf8_len(s + i, len - i);
        /* C1 controls (U+0080..U+009F, bytes C2 80..C2 9F) include CSI and
         * would let a log message drive the terminal: escaped too. */
        if (n == 0 || (n == 2 && c == 0xC2 && s[i + 1] < 0xA0)) {
            sb_hexbyte(b, "\\x", c);
            i++;
            continue;
        }
        sb_add(b, s + i, n);
        i += n;
    }
}

void sb_json_escaped(struct sbuf *b, const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            size_t j = i;
            while (j < len && s[j] >= 0x20 && s[j] < 0x7F && s[j] != '"' && s[j] != '\\')
                j++;
            sb_add(b, s + i, j - i);
            i = j;
            continue;
        }
        switch (c) {
        case '"': sb_puts(b, "\\\""); i++; continue;
        case '\\': sb_puts(b, "\\\\"); i++; continue;
        case '\n': sb_puts(b, "\\n"); i++; continue;
        case '\t': sb_puts(b, "\\t"); i++; continue;
        case '\r': sb_puts(b, "\\r"); i++; continue;
        case '\b': sb_puts(b, "\\b"); i++; continue;
        case '\f': sb_puts(b, "\\f"); i++; continue;
        default: break;
        }
        size_t n = c < 0x80 ? 0 : utf8_len(s + i, len - i);
        if (n == 0) {
            /* Control characters, DEL and bytes outside valid UTF-8 */
            sb_hexbyte(b, "\\u00", c);
            i++;
            continue;
        }
        /* Valid JSON either way, but C1 controls (NEL among them) and
         * U+2028/U+2029 end lines for some line splitters (Python's
         * str.splitlines, JavaScript before ES2019): escape them so that
         * one object stays one line. */
        if (n == 2 && c == 0xC2 && s[i + 1] < 0xA0) {
            sb_hexbyte(b, "\\u00", s[i + 1]);
            i += 2;
            continue;
        }
        if (n == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
            sb_puts(b, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
            i += 3;
            continue;
        }
        sb_add(b, s + i, n);
        i += n;
    }
}

int sb_write_stdout(const struct sbuf *b)
{
    if (b->len && fwrite(b->p, 1, b->len, stdout) != b->len)
        return -1;
    return 0;
}

