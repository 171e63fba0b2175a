/*
 * What tail and dump share: their options, an entry decoded once (message
 * and call site, from the region's dictionary for deferred entries), the
 * filters, and the text and JSON renderings of entries and gaps.
 */
#include "view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>



#define RAW_HEX_MAX 64 /* bytes of a binary payload shown in text output */

static const char *level_color(unsigned level)
{
    switch (level) {
    case RINGLOG_LEVEL_TRACE: return "\033[2m";
    case RINGLOG_LEVEL_DEBUG: return "\033[36m";
    case RINGLOG_LEVEL_INFO: return "\033[32m";
    case RINGLOG_LEVEL_NOTICE: return "\033[1;34m";
    case RINGLOG_LEVEL_WARN: return "\033[33m";
    case RINGLOG_LEVEL_ERROR: return "\033[31m";
    case RINGLOG_LEVEL_CRITICAL: return "\033[1;31m";
    default: return "\033[35m";
    }
}

#define COLOR_RESET "\033[0m"
#define COLOR_DIM "\033[2m"
#define COLOR_GAP "\033[1;35m"

/* Level names are the library's; an unknown level prints as its number so
 * that nothing is hidden. */
static const char *level_str(unsigned level, char *buf, size_t size)
{
    if (level <= RINGLOG_LEVEL_CRITICAL)
        return ringlog_level_name(level);
    snprintf(buf, size, "%u", level);
    return buf;
}


/* Decodes e with reader rd (whose region's dictionary formats deferred
 * entries) into *d; scratch holds a formatted message. */
void decode_entry(ringlog_reader *rd, const struct ringlog_entry *e, struct decoded *d,
                         struct sbuf *scratch)
{
    memset(d, 0, sizeof *d);
    d->e = e;
    if (e->type == RINGLOG_TYPE_TEXT || e->type == RINGLOG_TYPE_TRIGGER) {
        d->msg = e->data;
        d->msg_len = e->length;
    } else if (e->type == RINGLOG_TYPE_DEFERRED) {
        char small[512];
        size_t n = ringlog_entry_text(rd, e, small, sizeof small);
        sb_reset(scratch);
        if (n < sizeof small) {
            sb_add(scratch, small, n);
        } else {
            char *big = malloc(n + 1);
            if (big) {
                ringlog_entry_text(rd, e, big, n + 1);
                sb_add(scratch, big, n);
                free(big);
            } else {
                sb_add(scratch, small, sizeof small - 1);
            }
        }
        d->msg = (const unsigned char *)scratch->p;
        d->msg_len = scratch->len;
        struct ringlog_site_info si;
        if (ringlog_entry_site(rd, e, &si) == 0) {
            d->have_site = 1;
            d->file = si.file; /* the reader's: valid until its next read */
            d->function = si.function;
            d->line = si.line;
        }
    }
}

/* What the reader could not read, said (issue 11): corrupt spans (an
 * impossible head or length hides what is behind it; `cost` says what that
 * means to the command), and the parts of a damaged snapshot or recording
 * file that failed their checksums (the reader delivered everything that
 * verified).  Returns 1 when there was any: the command's exit status says
 * it too. */
int report_unread(ringlog_reader *r, const char *name, const char *cost)
{
    struct ringlog_info info;
    if (ringlog_reader_info(r, &info) != 0)
        return 0;
    if (info.read_corrupt)
        warnx_("%s: %llu corrupt span%s (impossible head or entry length): %s", name,
               (unsigned long long)info.read_corrupt, info.read_corrupt > 1 ? "s" : "", cost);
    if (info.snapshot_damage) {
        struct ringlog_recording rec;
        warnx_("%s: damaged %s, read in part: %s", name,
               ringlog_reader_recording(r, &rec) == 0 ? "recording file" : "snapshot",
               info.snapshot_damage);
    }
    return info.read_corrupt || info.snapshot_damage;
}

static int passes_filters(struct view *v, const struct decoded *d)
{
    const struct ringlog_entry *e = d->e;
    if (v->min_level >= 0 && e->level < (unsigned)v->min_level)
        return 0;
    if (v->cpu >= 0 && e->cpu != (unsigned long)v->cpu)
        return 0;
    if (v->have_re) {
        /* Only text has a message to match; binary payloads never match. */
        if (!d->msg)
            return 0;
        sb_reset(&v->text);
        sb_add(&v->text, d->msg, d->msg_len); /* NUL-terminated for regexec */
        if (regexec(&v->re, v->text.p, 0, NULL, 0) != 0)
            return 0;
    }
    return 1;
}

static void format_text_line(struct view *v, const struct decoded *d)
{
    const struct ringlog_entry *e = d->e;
    struct sbuf *b = &v->line;
    char ts[64], lbuf[16];
    const char *lname = level_str(e->level, lbuf, sizeof lbuf);
    fmt_time_us(ts, sizeof ts, e->time_ns, v->utc);
    if (v->color)
        sb_printf(b, COLOR_DIM "%s" COLOR_RESET " cpu%u %s%-8s" COLOR_RESET " ", ts, e->cpu,
                  level_color(e->level), lname);
    else
        sb_printf(b, "%s cpu%u %-8s ", ts, e->cpu, lname);
    if (e->pid)
        sb_printf(b, "pid=%u ", e->pid);
    else
        sb_puts(b, "pid=? ");
    if (e->tid)
        sb_printf(b, "tid=%u ", e->tid);
    const unsigned char *pl = e->data;
    if (e->type == RINGLOG_TYPE_DEFERRED) {
        if (v->where && d->have_site)
            sb_printf(b, "%s:%u: ", d->file, d->line);
        sb_text_escaped(b, d->msg, d->msg_len);
    } else if (e->type == RINGLOG_TYPE_TRIGGER) {
        sb_printf(b, "TRIGGER #%u: ", e->remarks);
        sb_text_escaped(b, d->msg, d->msg_len);
    } else if (e->type == RINGLOG_TYPE_CRASH && e->length == sizeof(struct ringlog_crash)) {
        struct ringlog_crash c;
        memcpy(&c, pl, sizeof c);
        sb_printf(b, "CRASH pid %u signal %u (code %u) at 0x%llx, ip 0x%llx, backtrace", c.pid,
                  c.signo, c.code, (unsigned long long)c.addr, (unsigned long long)c.ip);
        for (uint32_t i = 0; i < c.nframes && i < RINGLOG_CRASH_FRAMES; i++)
            sb_printf(b, " 0x%llx", (unsigned long long)c.frames[i]);
    } else if (e->type == RINGLOG_TYPE_TEXT) {
        sb_text_escaped(b, d->msg, d->msg_len);
        if (e->flags & RINGLOG_FLAG_TRUNCATED)
            sb_puts(b, " \xe2\x80\xa6[truncated]");
    } else {
        if (e->type == RINGLOG_TYPE_RAW)
            sb_printf(b, "raw remarks=%u: ", e->remarks);
        else
            sb_printf(b, "type=%u remarks=%u: ", e->type, e->remarks);
        size_t n = e->length < RAW_HEX_MAX ? e->length : RAW_HEX_MAX;
        sb_hex(b, pl, n);
        if (e->length > n)
            sb_printf(b, "\xe2\x80\xa6(%zu bytes)", e->length);
        else if (e->length == 0)
            sb_puts(b, "(0 bytes)");
    }
    sb_putc(b, '\n');
}

static void format_json_line(struct view *v, const struct decoded *d)
{
    const struct ringlog_entry *e = d->e;
    struct sbuf *b = &v->line;
    char ts[64], lbuf[16];
    fmt_time_ns(ts, sizeof ts, e->time_ns);
    sb_printf(b,
              "{\"index\":%llu,\"time\":\"%s\",\"cpu\":%u,\"level\":\"%s\",\"type\":%u,"
              "\"remarks\":%u,\"pid\":%u,\"flags\":%u,\"lane\":%u,\"tid\":%u,\"seq\":%llu,",
              (unsigned long long)e->index, ts, e->cpu, level_str(e->level, lbuf, sizeof lbuf),
              e->type, e->remarks, e->pid, e->flags, e->lane, e->tid, (unsigned long long)e->seq);
    if (e->type == RINGLOG_TYPE_DEFERRED) {
        if (d->have_site) {
            sb_puts(b, "\"file\":\"");
            sb_json_escaped(b, (const unsigned char *)d->file, strlen(d->file));
            sb_printf(b, "\",\"line\":%u,\"function\":\"", d->line);
            sb_json_escaped(b, (const unsigned char *)d->function, strlen(d->function));
            sb_puts(b, "\",");
        }
        sb_puts(b, "\"message\":\"");
        sb_json_escaped(b, d->msg, d->msg_len);
    } else if (e->type == RINGLOG_TYPE_TEXT || e->type == RINGLOG_TYPE_TRIGGER) {
        sb_puts(b, "\"message\":\"");
        sb_json_escaped(b, d->msg, d->msg_len);
    } else {
        /* Every entry line has a message, so that consumers need no case
         * for binary payloads; "encoding" says it is hex, and data_hex
         * stays for the programs written before message was added. */
        sb_puts(b, "\"message\":\"");
        sb_hex(b, e->data, e->length);
        sb_puts(b, "\",\"encoding\":\"hex\",\"data_hex\":\"");
        sb_hex(b, e->data, e->length);
    }
    sb_puts(b, "\"}\n");
}

int flush_line(struct view *v)
{
    if (sb_write_stdout(&v->line) != 0) {
        v->write_error = errno ? errno : EIO;
        return 1; /* stop ringlog_read: nobody is listening */
    }
    return 0;
}

static int filtering(const struct view *v)
{
    return v->min_level >= 0 || v->cpu >= 0 || v->have_re;
}

static void format_gap_text(struct view *v, uint64_t first, uint64_t count, uint64_t last)
{
    const char *c0 = v->color ? COLOR_GAP : "", *c1 = v->color ? COLOR_RESET : "";
    if (count == 1 && first == last)
        sb_printf(&v->line, "%s-- 1 entry lost (index %llu) --%s\n", c0,
                  (unsigned long long)first, c1);
    else if (first + count - 1 == last)
        sb_printf(&v->line, "%s-- %llu entries lost (index %llu..%llu) --%s\n", c0,
                  (unsigned long long)count, (unsigned long long)first,
                  (unsigned long long)last, c1);
    else
        sb_printf(&v->line, "%s-- %llu %s lost between index %llu and %llu --%s\n", c0,
                  (unsigned long long)count, count == 1 ? "entry" : "entries",
                  (unsigned long long)first, (unsigned long long)last, c1);
}

/* Prints the summed gaps of a filtered view, if any; returns non-zero when
 * stdout failed. */
int flush_pending_gap(struct view *v)
{
    if (!v->pend_count)
        return 0;
    sb_reset(&v->line);
    format_gap_text(v, v->pend_first, v->pend_count, v->pend_last);
    v->pend_count = 0;
    return flush_line(v);
}

/* Filter, then render, an entry decoded once. */
int show_entry(struct view *v, const struct decoded *d)
{
    v->end = d->e->index + 1;
    if (!passes_filters(v, d))
        return 0;
    if (flush_pending_gap(v))
        return 1;
    v->entries++;
    sb_reset(&v->line);
    if (v->json)
        format_json_line(v, d);
    else
        format_text_line(v, d);
    return flush_line(v);
}

int on_entry(void *arg, const struct ringlog_entry *e)
{
    struct view *v = arg;
    struct decoded d;
    decode_entry(v->rd, e, &d, &v->msg);
    return show_entry(v, &d);
}

int on_gap(void *arg, uint64_t first, uint64_t count)
{
    struct view *v = arg;
    v->gaps++;
    v->end = first + count;
    if (count == 0)
        return 0;
    if (!v->json && filtering(v)) {
        if (!v->pend_count)
            v->pend_first = first;
        v->pend_count += count;
        v->pend_last = first + count - 1;
        return 0;
    }
    sb_reset(&v->line);
    /* JSON keeps every gap exact: programs may account for each index. */
    if (v->json)
        sb_printf(&v->line, "{\"gap\":%llu,\"count\":%llu}\n", (unsigned long long)first,
                  (unsigned long long)count);
    else
        format_gap_text(v, first, count, first + count - 1);
    return flush_line(v);
}

int want_color(int no_color)
{
    /* NO_COLOR (https://no-color.org) wins over everything, as does a pipe. */
    return !no_color && getenv("NO_COLOR") == NULL && isatty(STDOUT_FILENO);
}

void view_init(struct view *v)
{
    memset(v, 0, sizeof *v);
    v->min_level = -1;
    v->cpu = -1;
}

static void view_set_grep(struct view *v, const char *pattern)
{
    if (v->have_re)
        regfree(&v->re);
    int rc = regcomp(&v->re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &v->re, msg, sizeof msg);
        usage_error("--grep: bad regular expression '%s': %s", pattern, msg);
    }
    v->have_re = 1;
}

void view_free(struct view *v)
{
    if (v->have_re)
        regfree(&v->re);
    sb_free(&v->line);
    sb_free(&v->text);
    sb_free(&v->msg);
    free(v->more);
}

/* Ends the command after stdout failed.  A closed pipe (`ringlog dump x |
 * head`) is the reader's choice, not an error. */
int finish_output(struct view *v)
{
    int err = v->write_error;
    if (!err && fflush(stdout) != 0)
        err = errno ? errno : EIO;
    if (!err)
        return 0;
    if (err == EPIPE)
        return 0;
    warnx_("writing output: %s", strerror(err));
    return EXIT_RUNTIME;
}

enum { O_HELP = 1, O_LEVEL, O_CPU, O_GREP, O_UTC, O_NOCOLOR, O_JSON, O_WHERE };

static const struct opt_def view_opts[] = {
    {"help", 'h', OPT_NONE, O_HELP},     {"level", 'l', OPT_VALUE, O_LEVEL},
    {"lane", 'c', OPT_VALUE, O_CPU},     {"cpu", 0, OPT_VALUE, O_CPU},
    {"grep", 'g', OPT_VALUE, O_GREP},
    {"utc", 'u', OPT_NONE, O_UTC},       {"no-color", 0, OPT_NONE, O_NOCOLOR},
    {"json", 'j', OPT_NONE, O_JSON},     {"where", 'w', OPT_NONE, O_WHERE},
    {NULL, 0, OPT_NONE, 0},
};

/* A lane the region does not have would filter out everything, silently
 * (and under tail, consume it): refuse it, naming the lanes there are. */
void check_lane_filter(const struct view *v, ringlog_reader *r, const char *name)
{
    struct ringlog_info info;
    if (v->cpu < 0 || ringlog_reader_info(r, &info) != 0)
        return;
    if ((unsigned long)v->cpu >= info.nrings)
        usage_error("--lane %ld: %s has lanes 0..%u", v->cpu, name, info.nrings - 1);
}

/* Parses the options tail and dump share; returns the region name. */
const char *parse_view_args(int argc, char **argv, struct view *v, const char *help,
                                   int allow_json, int *no_color)
{
    struct opt_state st;
    const char *name = NULL;
    int id;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, view_opts)) != OPT_END) {
        switch (id) {
        case O_HELP: fputs(help, stdout); exit(0);
        case O_LEVEL: v->min_level = (int)parse_level(st.name, st.value); break;
        case O_CPU: v->cpu = (long)parse_count(st.name, st.value, 0, UINT32_MAX); break;
        case O_GREP: view_set_grep(v, st.value); break;
        case O_UTC: v->utc = 1; break;
        case O_WHERE: v->where = 1; break;
        case O_NOCOLOR: *no_color = 1; break;
        case O_JSON:
            if (!allow_json)
                usage_error("unknown option '%s'", st.name);
            v->json = 1;
            break;
        case OPT_POSITIONAL:
            if (name) {
                const char **m = realloc(v->more, (size_t)(v->nmore + 1) * sizeof *m);
                if (!m)
                    die(EXIT_RUNTIME, "out of memory");
                v->more = m;
                v->more[v->nmore++] = st.value;
                break;
            }
            name = st.value;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    return name;
}

