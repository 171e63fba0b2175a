/*
 * Option and number parsing for every command: one-line errors naming the
 * option, exit status 2.
 */
#include "tool.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --------------------------------------------------------- options */

void opt_init(struct opt_state *st, int argc, char **argv)
{
    memset(st, 0, sizeof *st);
    st->argc = argc;
    st->argv = argv;
    st->i = 1;
}

int opt_next(struct opt_state *st, const struct opt_def *defs)
{
    static char name_buf[128];
    if (st->i >= st->argc)
        return OPT_END;
    char *a = st->argv[st->i++];
    st->value = NULL;
    if (st->only_positional || a[0] != '-' || a[1] == 0) {
        st->value = a; /* "-" alone is a positional, as usual */
        return OPT_POSITIONAL;
    }
    if (strcmp(a, "--") == 0) {
        st->only_positional = 1;
        return opt_next(st, defs);
    }
    const struct opt_def *d = NULL;
    const char *inline_val = NULL;
    if (a[1] == '-') {
        const char *n = a + 2;
        const char *eq = strchr(n, '=');
        size_t nl = eq ? (size_t)(eq - n) : strlen(n);
        for (const struct opt_def *p = defs; p->name; p++)
            if (strlen(p->name) == nl && strncmp(p->name, n, nl) == 0)
                d = p;
        snprintf(name_buf, sizeof name_buf, "--%.*s", (int)(nl < 100 ? nl : 100), n);
        if (!d)
            usage_error("unknown option '%s'", name_buf);
        if (eq) {
            if (d->arg == OPT_NONE)
                usage_error("option '%s' takes no value", name_buf);
            inline_val = eq + 1;
        }
    } else {
        for (const struct opt_def *p = defs; p->name; p++)
            if (p->short_name && p->short_name == a[1])
                d = p;
        snprintf(name_buf, sizeof name_buf, "-%c", a[1]);
        if (!d)
            usage_error("unknown option '%s'", a);
        if (a[2]) {
            if (d->arg == OPT_NONE)
                usage_error("unknown option '%s'", a);
            inline_val = a + 2; /* -n3 */
        }
    }
    st->name = name_buf;
    if (d->arg == OPT_VALUE) {
        if (inline_val) {
            st->value = inline_val;
        } else if (st->i < st->argc) {
            st->value = st->argv[st->i++];
        } else {
            usage_error("option '%s' needs a value", name_buf);
        }
    }
    return d->id;
}

/* --------------------------------------------------------- numbers */

static uint64_t parse_u64(const char *what, const char *s, const char **end)
{
    /* strtoull would accept leading blanks and a minus sign (wrapping it
     * around); only plain digits are a count here. */
    if (!s || !(*s >= '0' && *s <= '9'))
        usage_error("%s: not a number: '%s'", what, s ? s : "");
    errno = 0;
    char *e;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno == ERANGE)
        usage_error("%s: number too large: '%s'", what, s);
    *end = e;
    return v;
}

uint64_t parse_count(const char *what, const char *s, uint64_t min, uint64_t max)
{
    const char *end;
    uint64_t v = parse_u64(what, s, &end);
    if (*end)
        usage_error("%s: not a number: '%s'", what, s);
    if (v < min || v > max)
        usage_error("%s: %llu is out of range %llu..%llu", what, (unsigned long long)v,
                    (unsigned long long)min, (unsigned long long)max);
    return v;
}

uint64_t parse_size(const char *what, const char *s, uint64_t min, uint64_t max)
{
    const char *end;
    uint64_t v = parse_u64(what, s, &end);
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (shift && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
        end += strlen(end);
    else if (!shift && (strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
        end++;
    if (*end)
        usage_error("%s: not a number of bytes: '%s' (use digits with K, M or G)", what, s);
    if (shift && v > (UINT64_MAX >> shift))
        usage_error("%s: number too large: '%s'", what, s);
    v <<= shift;
    if (v < min || v > max)
        usage_error("%s: %s is out of range %llu..%llu bytes", what, s,
                    (unsigned long long)min, (unsigned long long)max);
    return v;
}

double parse_seconds(const char *what, const char *s)
{
    /* Digits with at most one '.', so that "nan", "inf", "1e9" and hex
     * floats (all of which strtod takes) are refused. */
    int dots = 0, digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p >= '0' && *p <= '9')
            digits++;
        else
            digits = -1000;
    }
    if (digits <= 0 || dots > 1)
        usage_error("%s: not a number of seconds: '%s'", what, s);
    double v = strtod(s, NULL);
    if (!isfinite(v) || v > 1e6)
        usage_error("%s: %s seconds is out of range 0..1000000", what, s);
    return v;
}

unsigned parse_level(const char *what, const char *s)
{
    int l = ringlog_level_parse(s);
    if (l < 0)
        usage_error("%s: unknown level '%s' (trace, debug, info, notice, warn, error, "
                    "critical or 0..6)",
                    what, s);
    return (unsigned)l;
}

