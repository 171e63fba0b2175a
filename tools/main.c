/*
 * ringlog — command-line tool: command dispatch and the helpers every
 * command shares (errors, option and number parsing, time and text
 * formatting).  Uses only the public API of <ringlog.h>.
 */
#include "tool.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

const char *tool_cmd;

static const char main_help[] =
    "Usage: ringlog COMMAND [OPTIONS]\n"
    "\n"
    "Inspect, follow and exercise ringlog shared-memory log regions.\n"
    "\n"
    "Commands:\n"
    "  demo    producer threads at full speed plus a reader; prints rates and\n"
    "          statistics and checks that they balance\n"
    "  tail    follow a region live like tail -f (consumes entries)\n"
    "  dump    print every entry a region still holds, changing nothing\n"
    "  stats   per-ring and total counters and region facts\n"
    "  ls      list the regions in shared memory\n"
    "  rm      remove regions\n"
    "  write   log one text entry (or one per line of standard input)\n"
    "  trigger raise a trigger (recorders write a snapshot)\n"
    "  record  wait for triggers and write snapshot files\n"
    "  level   show or set a region's run-time minimum level\n"
    "  help    show this text, or `ringlog help COMMAND`\n"
    "\n"
    "NAME is a shared-memory name (\"app\" or \"/app\") or, when it contains a\n"
    "'/' after its first character, a file path (\"./app.rlog\").\n"
    "`ringlog COMMAND --help` describes each command; `ringlog --version`\n"
    "prints the version; see also ringlog(1).\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

/* ------------------------------------------------------------- errors */

static void vline(const char *fmt, va_list ap)
{
    /* Build the line first so that it reaches stderr in one write even when
     * other threads print at the same time. */
    char buf[1024];
    int off = tool_cmd ? snprintf(buf, sizeof buf, "ringlog: %s: ", tool_cmd)
                       : snprintf(buf, sizeof buf, "ringlog: ");
    vsnprintf(buf + off, sizeof buf - (size_t)off, fmt, ap);
    fflush(stdout);
    fprintf(stderr, "%s\n", buf);
}

void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
    exit(code);
}

void warnx_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (tool_cmd)
        die(EXIT_USAGE, "%s (see 'ringlog %s --help')", msg, tool_cmd);
    die(EXIT_USAGE, "%s (see 'ringlog --help')", msg);
}

const char *tool_describe(int err, const char *name)
{
    static char buf[640];
    const char *what = ringlog_strerror(err);
    const char *detail = ringlog_errmsg();
    /* The caller prints the region's name itself: drop it from the detail,
     * and the detail altogether when it only repeats the error's name. */
    size_t nl = name ? strlen(name) : 0;
    if (detail && nl && strncmp(detail, name, nl) == 0 && strncmp(detail + nl, ": ", 2) == 0)
        detail += nl + 2;
    if (detail && *detail && strcasecmp(detail, what) != 0)
        snprintf(buf, sizeof buf, "%s (%s)", what, detail);
    else
        snprintf(buf, sizeof buf, "%s", what);
    return buf;
}

ringlog_reader *open_reader_or_die(const char *name, unsigned flags)
{
    ringlog_reader *r = NULL;
    int rc = ringlog_reader_open(name, flags, &r);
    if (rc != 0) {
        const char *why = tool_describe(rc, name);
        /* A bare name is a shared-memory name; point out the file of the
         * same name when that is what the user probably meant. */
        struct stat st;
        if (rc == RINGLOG_ENOENT && !strchr(name, '/') && stat(name, &st) == 0 &&
            S_ISREG(st.st_mode))
            die(EXIT_RUNTIME, "%s: %s; for the file of that name write ./%s", name, why, name);
        die(EXIT_RUNTIME, "%s: %s", name, why);
    }
    return r;
}

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

/* -------------------------------------------------------- dispatch */

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"demo", cmd_demo}, {"tail", cmd_tail}, {"dump", cmd_dump},   {"stats", cmd_stats},
    {"ls", cmd_ls},     {"rm", cmd_rm},     {"write", cmd_write}, {"trigger", cmd_trigger}, {"record", cmd_record},
    {"level", cmd_level}, {NULL, NULL},
};

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int run_command(const struct command *c, int argc, char **argv)
{
    tool_cmd = c->name;
    return c->fn(argc, argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(main_help, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("ringlog %d.%d.%d\n", RINGLOG_VERSION_MAJOR, RINGLOG_VERSION_MINOR,
               RINGLOG_VERSION_PATCH);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0 ||
            strcmp(argv[2], "help") == 0) {
            fputs(main_help, stdout);
            return 0;
        }
        const struct command *c = find_command(argv[2]);
        if (!c)
            usage_error("unknown command '%s'", argv[2]);
        char *args[] = {argv[2], (char *)"--help", NULL};
        return run_command(c, 2, args);
    }
    const struct command *c = find_command(cmd);
    if (!c) {
        if (cmd[0] == '-')
            usage_error("unknown option '%s'; options follow the command", cmd);
        usage_error("unknown command '%s'", cmd);
    }
    return run_command(c, argc - 1, argv + 1);
}
