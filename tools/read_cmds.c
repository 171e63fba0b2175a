/*
 * Commands that read a region: tail (consuming, follows), dump (peeking,
 * once) and stats (counters and region facts).
 */
#include "tool.h"

#include <ringlog_queue.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <regex.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --------------------------------------------------- entry printing */

struct view {
    /* filters */
    int min_level;  /* -1: all */
    long cpu;       /* lane filter (--lane, formerly --cpu); -1: all */
    regex_t re;
    int have_re;
    /* output */
    int json;
    int color;
    int utc;
    int where;            /* show file:line of deferred entries */
    ringlog_reader *rd;   /* formats deferred entries */
    /* state */
    struct sbuf line;
    struct sbuf text; /* NUL-terminated copy of a message, for regexec */
    struct sbuf msg;  /* a deferred entry, formatted */
    int write_error;  /* errno of a failed write to stdout, 0 when fine */
    uint64_t entries, gaps;
    uint64_t end; /* index after the last item delivered, filtered or not */
    /* Text output with a filter: gaps between shown entries are summed into
     * one line, printed before the next shown entry, instead of burying the
     * rare entries the filter is for under the gaps of hidden ones. */
    uint64_t pend_count, pend_first, pend_last;
};

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

/* An entry decoded once: its message (text, a trigger's reason, or a
 * deferred entry formatted from the region's dictionary) and call site.
 * Filters and both renderers read this, never the entry's bytes again. */
struct decoded {
    const struct ringlog_entry *e;
    const unsigned char *msg; /* NULL for binary payloads */
    size_t msg_len;
    int have_site;
    const char *file, *function;
    unsigned line;
};

/* Decodes e with reader rd (whose region's dictionary formats deferred
 * entries) into *d; scratch holds a formatted message. */
static void decode_entry(ringlog_reader *rd, const struct ringlog_entry *e, struct decoded *d,
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

/* A snapshot file that failed some checksums was read in part: say what
 * was left out (the reader delivered everything that verified). */
static int snapshot_damaged(ringlog_reader *r, const char *name)
{
    struct ringlog_info info;
    if (ringlog_reader_info(r, &info) != 0 || !info.snapshot_damage)
        return 0;
    warnx_("%s: damaged snapshot, read in part: %s", name, info.snapshot_damage);
    return 1;
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

static int flush_line(struct view *v)
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
static int flush_pending_gap(struct view *v)
{
    if (!v->pend_count)
        return 0;
    sb_reset(&v->line);
    format_gap_text(v, v->pend_first, v->pend_count, v->pend_last);
    v->pend_count = 0;
    return flush_line(v);
}

/* Filter, then render, an entry decoded once. */
static int show_entry(struct view *v, const struct decoded *d)
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

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    struct view *v = arg;
    struct decoded d;
    decode_entry(v->rd, e, &d, &v->msg);
    return show_entry(v, &d);
}

static int on_gap(void *arg, uint64_t first, uint64_t count)
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

static int want_color(int no_color)
{
    /* NO_COLOR (https://no-color.org) wins over everything, as does a pipe. */
    return !no_color && getenv("NO_COLOR") == NULL && isatty(STDOUT_FILENO);
}

static void view_init(struct view *v)
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

static void view_free(struct view *v)
{
    if (v->have_re)
        regfree(&v->re);
    sb_free(&v->line);
    sb_free(&v->text);
    sb_free(&v->msg);
}

/* Ends the command after stdout failed.  A closed pipe (`ringlog dump x |
 * head`) is the reader's choice, not an error. */
static int finish_output(struct view *v)
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

/* ---------------------------------------------------------------- tail */

static const char tail_help[] =
    "Usage: ringlog tail NAME [--json] [--level L] [--lane N] [--grep REGEX]\n"
    "                         [--utc] [--where] [--no-color]\n"
    "\n"
    "Follow a region like tail -f: print each new entry as it is committed, all\n"
    "lanes merged in timestamp order, until interrupted (SIGINT or SIGTERM) or\n"
    "until the output pipe closes.  tail is the region's consuming reader:\n"
    "entries it reads are claimed and will not be seen by another consumer;\n"
    "only one consuming reader may be attached to a region at a time.  That\n"
    "holds for entries the filters hide too: they are consumed, not left in\n"
    "the lanes (where, under the drop policy, they would keep a lane full and\n"
    "refuse every later call).  Use `ringlog dump` to look without consuming.  A stuck output\n"
    "never holds the region back: tail claims entries into a buffer of its own\n"
    "(1024 entries, the pop-all queue of ringlog_queue.h) and, while its output\n"
    "moves, claims no faster than it prints; once nothing could be printed for\n"
    "10 ms (a terminal or pipe that does not drain) it keeps claiming, skips its\n"
    "oldest buffered lines and prints\n"
    "  -- N entries or gaps not shown: output too slow --\n"
    "\n"
    "Each entry prints as one line:\n"
    "  TIME cpuN LEVEL pid=PID tid=TID MESSAGE\n"
    "(cpuN names the lane the entry was written to).\n"
    "TIME is RFC 3339 local time with microseconds (UTC with --utc).  Text\n"
    "entries have control characters and invalid UTF-8 escaped (\\n, \\t, \\xHH);\n"
    "binary entries print as hex, at most 64 bytes, then \"…(N bytes)\".\n"
    "Indices that will never arrive print as\n"
    "  -- N entries lost (index FIRST..LAST) --\n"
    "\n"
    "With --json each entry or gap is one JSON object per line, with the keys\n"
    "of `ringlog dump --json`; output is flushed after each batch and always\n"
    "ends with a whole line; the note that the output was too slow is\n"
    "{\"not_shown\":N}.\n"
    "\n"
    "Options:\n"
    "  -j, --json        JSON lines (see `ringlog dump --help`)\n"
    "  -l, --level L     only entries at level L or above (trace, debug, info,\n"
    "                    notice, warn, error, critical, or 0..6)\n"
    "  -c, --lane N      only entries written to lane N (--cpu N: same; a\n"
    "                    lane number outside the region is an error)\n"
    "  -g, --grep REGEX  only text entries whose message matches the POSIX\n"
    "                    extended regular expression (binary entries never match)\n"
    "  -u, --utc         print times in UTC\n"
    "  -w, --where       prefix deferred entries (RINGLOG_INFO & co.) with the\n"
    "                    FILE:LINE of their call site\n"
    "      --no-color    no colors (colors are used only when stdout is a\n"
    "                    terminal and NO_COLOR is not set)\n"
    "  -h, --help        show this help\n";

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
static void check_lane_filter(const struct view *v, ringlog_reader *r, const char *name)
{
    struct ringlog_info info;
    if (v->cpu < 0 || ringlog_reader_info(r, &info) != 0)
        return;
    if ((unsigned long)v->cpu >= info.nrings)
        usage_error("--lane %ld: %s has lanes 0..%u", v->cpu, name, info.nrings - 1);
}

/* Parses the options tail and dump share; returns the region name. */
static const char *parse_view_args(int argc, char **argv, struct view *v, const char *help,
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
            if (name)
                usage_error("unexpected argument '%s' (one region at a time)", st.value);
            name = st.value;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    return name;
}

/* Set by a signal handler on the main thread, read by tail's capture thread
 * too: an atomic, not just volatile (lock-free, so async-signal-safe). */
static _Atomic int stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed pipe shows up as EPIPE from write, handled like the end. */
    signal(SIGPIPE, SIG_IGN);
}

/* True when stdout is a pipe whose reader has gone away.  A quiet region
 * gives tail nothing to write, so without this `ringlog tail x | head -1`
 * would wait for the next entry to learn of the EPIPE (as coreutils tail
 * does, poll reports POLLERR on such a pipe). */
static int output_gone(void)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
}

/*
 * tail runs as two threads joined by the pop-all queue (ringlog_queue.h):
 * the capture thread is the region's consumer and only copies what it
 * claims into the queue; the main thread takes everything queued in one
 * step, filters, formats and writes.
 *
 * While the printer makes progress, the capture thread waits for room
 * before the queue would overwrite: the region's ring is the bigger buffer,
 * and a backlog is printed whole, however fast it could be claimed.  When
 * the printer has printed nothing for TAIL_STUCK_MS (a terminal or pipe that
 * does not drain), the capture thread stops waiting: it keeps draining the
 * region, which therefore never fills behind a stuck output (under the drop
 * policy producers would drop), the queue overwrites its own oldest lines,
 * and tail says how many it skipped.  10 ms: at 1.6 M entries/s (one
 * `ringlog write` here) that is 16 000 entries, which a 2 MiB ring holds.
 */
#define TAIL_STUCK_MS 10
#define TAIL_QUEUE_ITEMS 1024
#define TAIL_PAYLOAD_MAX 4096 /* longer payloads are cut (binary: shown cut) */

/* What the capture thread queues: a gap, or an entry decoded there (the
 * consuming reader formats deferred entries) and packed as data: the
 * payload (binary entries) or message, then the site's file and function,
 * each NUL-terminated. */
struct tail_item {
    int gap;
    uint64_t first, count; /* a gap */
    struct ringlog_entry e; /* an entry: e.data is set by the printer */
    uint32_t msg_len;       /* UINT32_MAX: no message (binary) */
    uint32_t have_site, line, file_len, function_len;
    unsigned char data[TAIL_PAYLOAD_MAX];
};

struct tail_capture {
    ringlog_reader *r;
    ringlog_queue *q;
    struct sbuf scratch; /* the capture thread's: a deferred entry's message */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending; /* items pushed since the printer last looked */
    int done;    /* capture ended: reason in err */
    int err;
    pthread_cond_t progressed; /* the printer released a batch */
    _Atomic uint64_t lines;    /* items the printer has handled */
    /* The capture thread's own: the printer looked stuck at `stuck_lines`. */
    int printer_stuck;
    uint64_t stuck_lines;
};

static uint64_t tail_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* The CLOCK_REALTIME deadline `ms` from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static void tail_wake(struct tail_capture *c)
{
    pthread_mutex_lock(&c->mu);
    c->pending = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static int queue_has_room(ringlog_queue *q)
{
    struct ringlog_queue_stats qs;
    ringlog_queue_stats(q, &qs);
    return qs.queued + 8 < TAIL_QUEUE_ITEMS;
}

/* Called before every push: waits while the queue is nearly full and the
 * printer is moving. */
static void tail_make_room(struct tail_capture *c)
{
    if (queue_has_room(c->q))
        return;
    uint64_t lines = atomic_load_explicit(&c->lines, memory_order_relaxed);
    if (c->printer_stuck) {
        if (lines == c->stuck_lines)
            return; /* still stuck: let the queue overwrite */
        c->printer_stuck = 0;
    }
    tail_wake(c);
    pthread_mutex_lock(&c->mu);
    uint64_t moved_at = tail_now_ms();
    while (!queue_has_room(c->q) && !c->done && !stop_requested) {
        struct timespec until = deadline_in(5);
        pthread_cond_timedwait(&c->progressed, &c->mu, &until);
        uint64_t now = atomic_load_explicit(&c->lines, memory_order_relaxed);
        if (now != lines) {
            lines = now;
            moved_at = tail_now_ms();
        } else if (tail_now_ms() - moved_at >= TAIL_STUCK_MS) {
            c->printer_stuck = 1;
            c->stuck_lines = now;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static int capture_entry(void *arg, const struct ringlog_entry *e)
{
    struct tail_capture *c = arg;
    struct decoded d;
    decode_entry(c->r, e, &d, &c->scratch);
    struct tail_item it;
    it.gap = 0;
    it.e = *e;
    const unsigned char *body = d.msg ? d.msg : e->data;
    size_t blen = d.msg ? d.msg_len : e->length;
    size_t fl = d.have_site ? strlen(d.file) : 0, gl = d.have_site ? strlen(d.function) : 0;
    if (fl + gl + 2 > TAIL_PAYLOAD_MAX / 2)
        fl = gl = 0, d.have_site = 0; /* absurd site strings: left out */
    size_t room = TAIL_PAYLOAD_MAX - (d.have_site ? fl + gl + 2 : 0);
    size_t n = blen < room ? blen : room;
    if (n < blen)
        it.e.flags |= RINGLOG_FLAG_TRUNCATED;
    memcpy(it.data, body, n);
    it.msg_len = d.msg ? (uint32_t)n : UINT32_MAX;
    it.e.length = d.msg ? e->length : n;
    it.have_site = (uint32_t)d.have_site;
    it.line = d.line;
    it.file_len = (uint32_t)fl;
    it.function_len = (uint32_t)gl;
    if (d.have_site) {
        memcpy(it.data + n, d.file, fl + 1);
        memcpy(it.data + n + fl + 1, d.function, gl + 1);
        n += fl + gl + 2;
    }
    tail_make_room(c);
    ringlog_queue_push(c->q, &it, offsetof(struct tail_item, data) + n);
    return 0;
}

static int capture_gap(void *arg, uint64_t first, uint64_t count)
{
    struct tail_capture *c = arg;
    struct tail_item it;
    it.gap = 1;
    it.first = first;
    it.count = count;
    tail_make_room(c);
    ringlog_queue_push(c->q, &it, offsetof(struct tail_item, data));
    return 0;
}

static void *tail_capture_main(void *arg)
{
    struct tail_capture *c = arg;
    struct ringlog_handler h = {capture_entry, capture_gap, c};
    while (!stop_requested) {
        pthread_mutex_lock(&c->mu);
        int done = c->done;
        pthread_mutex_unlock(&c->mu);
        if (done)
            break;
        int n = ringlog_read(c->r, &h, 200);
        if (n < 0) {
            pthread_mutex_lock(&c->mu);
            c->err = n;
            pthread_mutex_unlock(&c->mu);
            break;
        }
        if (n > 0)
            tail_wake(c);
    }
    pthread_mutex_lock(&c->mu);
    c->done = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Prints one batch; returns the number of items it held. */
static long tail_print_batch(struct view *v, struct tail_capture *c, uint64_t *skipped_seen)
{
    ringlog_queue *q = c->q;
    struct ringlog_queue_batch b;
    long n = ringlog_queue_pop_all(q, &b);
    if (n <= 0)
        return 0;
    struct ringlog_queue_stats qs;
    ringlog_queue_stats(q, &qs);
    if (qs.overwritten + qs.dropped > *skipped_seen) {
        uint64_t k = qs.overwritten + qs.dropped - *skipped_seen;
        *skipped_seen = qs.overwritten + qs.dropped;
        sb_reset(&v->line);
        if (v->json)
            sb_printf(&v->line, "{\"not_shown\":%llu}\n", (unsigned long long)k);
        else
            sb_printf(&v->line, "-- %llu entries or gaps not shown: output too slow --\n",
                      (unsigned long long)k);
        flush_line(v);
    }
    const void *p;
    size_t len;
    while (!v->write_error && (p = ringlog_queue_next(&b, &len)) != NULL) {
        /* The header is copied out (no alignment is promised for items);
         * the payload is used where it lies. */
        struct tail_item it;
        memcpy(&it, p, offsetof(struct tail_item, data));
        if (it.gap) {
            on_gap(v, it.first, it.count);
        } else {
            const unsigned char *data = (const unsigned char *)p + offsetof(struct tail_item, data);
            struct decoded d;
            memset(&d, 0, sizeof d);
            d.e = &it.e;
            it.e.data = data;
            size_t body = it.msg_len == UINT32_MAX ? it.e.length : it.msg_len;
            if (it.msg_len != UINT32_MAX) {
                d.msg = data;
                d.msg_len = it.msg_len;
            }
            if (it.have_site) {
                d.have_site = 1;
                d.file = (const char *)data + body;
                d.function = (const char *)data + body + it.file_len + 1;
                d.line = it.line;
            }
            show_entry(v, &d);
        }
        atomic_fetch_add_explicit(&c->lines, 1, memory_order_relaxed);
    }
    ringlog_queue_release(&b);
    pthread_mutex_lock(&c->mu);
    pthread_cond_signal(&c->progressed);
    pthread_mutex_unlock(&c->mu);
    return n;
}

int cmd_tail(int argc, char **argv)
{
    struct view v;
    int no_color = 0;
    view_init(&v);
    const char *name = parse_view_args(argc, argv, &v, tail_help, 1, &no_color);
    v.color = !v.json && want_color(no_color);
    install_stop_handlers();

    struct tail_capture c;
    memset(&c, 0, sizeof c);
    c.r = open_reader_or_die(name, RINGLOG_READER_CONSUME);
    check_lane_filter(&v, c.r, name); /* before anything is consumed */
    /* The reader's default hold keeps it a little behind busy writers (it
     * naps rather than polling their lines); new entries show within its
     * idle back-off, 10 ms at most. */
    struct ringlog_queue_options qo = {.capacity = TAIL_QUEUE_ITEMS,
                                       .item_size = sizeof(struct tail_item)};
    int rc = ringlog_queue_create(&qo, &c.q);
    if (rc) {
        warnx_("tail: cannot allocate its buffer: %s", ringlog_strerror(rc));
        return EXIT_RUNTIME;
    }
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    pthread_cond_init(&c.progressed, NULL);
    /* SIGINT and SIGTERM go to the main thread, so that one blocked in a
     * write to a stuck pipe is interrupted. */
    sigset_t stop_sigs, old_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, &old_sigs);
    pthread_t th;
    int started = pthread_create(&th, NULL, tail_capture_main, &c) == 0;
    pthread_sigmask(SIG_SETMASK, &old_sigs, NULL);
    if (!started) {
        warnx_("tail: cannot start its capture thread");
        return EXIT_RUNTIME;
    }
    int status = 0;
    uint64_t skipped = 0;
    for (;;) {
        long n = tail_print_batch(&v, &c, &skipped);
        if (output_gone())
            v.write_error = EPIPE;
        /* Pipes are block-buffered: flush per batch so that `tail | grep`
         * shows entries as they come, not 4 KiB later. */
        if (n > 0 && !v.write_error && fflush(stdout) != 0)
            v.write_error = errno ? errno : EIO;
        if (v.write_error || stop_requested)
            break;
        if (n > 0)
            continue;
        pthread_mutex_lock(&c.mu);
        if (!c.pending && !c.done) {
            struct timespec until = deadline_in(200);
            pthread_cond_timedwait(&c.cv, &c.mu, &until);
        }
        int done = c.done;
        c.pending = 0;
        pthread_mutex_unlock(&c.mu);
        if (done) {
            /* What the capture thread queued last. */
            tail_print_batch(&v, &c, &skipped);
            break;
        }
    }
    pthread_mutex_lock(&c.mu);
    c.done = 1;
    pthread_cond_signal(&c.progressed); /* a capture thread waiting for room */
    int err = c.err;
    pthread_mutex_unlock(&c.mu);
    pthread_join(th, NULL);
    if (err < 0) {
        warnx_("%s: reading: %s", name, tool_describe(err, name));
        status = EXIT_RUNTIME;
    }
    ringlog_reader_close(c.r);
    sb_free(&c.scratch);
    ringlog_queue_destroy(c.q);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
    pthread_cond_destroy(&c.progressed);
    int out = finish_output(&v);
    view_free(&v);
    return status ? status : out;
}

/* ---------------------------------------------------------------- dump */

static const char dump_help[] =
    "Usage: ringlog dump NAME|FILE [--json] [--level L] [--lane N] [--grep REGEX]\n"
    "                   [--utc] [--where] [--no-color]\n"
    "\n"
    "Print every entry the region still holds, all lanes merged oldest first\n"
    "by timestamp, and the holes between them.  dump is a peeking reader: it maps the\n"
    "region read-only and changes nothing, so it may run next to live\n"
    "producers and a consuming reader (entries written while it runs may or\n"
    "may not be included).  A FILE must contain a '/' (e.g. ./app.rlog).\n"
    "\n"
    "Deferred entries (RINGLOG_INFO & co.) are formatted from the region's\n"
    "call-site dictionary, so no producer binary is needed.\n"
    "Text output is the same as `ringlog tail`.  With --json each line is one\n"
    "JSON object:\n"
    "  {\"index\":N,\"time\":\"2026-11-25T05:06:07.123456789Z\",\"cpu\":N,\n"
    "   \"level\":\"info\",\"type\":N,\"remarks\":N,\"pid\":N,\"flags\":N,\"lane\":N,\n"
    "   \"tid\":N,\"seq\":N,\"message\":\"...\"}\n"
    "for a text entry (type 1), whose message is the payload as a JSON string:\n"
    "valid UTF-8 is copied, control characters (C1 controls and U+2028/U+2029\n"
    "too, so that no line splitter breaks an object) are escaped, and each\n"
    "byte that is not part of valid UTF-8 becomes \\u00XX (the code point of\n"
    "the byte's value, as if the byte were Latin-1).  Binary entries (type 2,\n"
    "crash entries and application types) have the whole payload as lowercase\n"
    "hex in \"message\", followed by \"encoding\":\"hex\" and, for older\n"
    "programs, the same hex again as \"data_hex\"; entries without \"encoding\"\n"
    "carry text.  time is RFC 3339 UTC with nanoseconds; level\n"
    "is the level name (or its number as a string when unknown); pid is 0\n"
    "when unknown; cpu and lane both name the lane the entry was written to,\n"
    "tid the writing thread, seq the entry's number in its lane; index is this\n"
    "reader's count of entries and lost calls, in delivery order; flags bit 0\n"
    "means the text was truncated, bit 7 that the entry came late.  Deferred entries\n"
    "(type 5, RINGLOG_INFO & co.) have their formatted \"message\" and, when the\n"
    "call site is known, \"file\", \"line\" and \"function\".  A hole is\n"
    "{\"gap\":FIRST,\"count\":N}.\n"
    "\n"
    "Options:\n"
    "  -j, --json        JSON lines as above\n"
    "  -l, --level L     only entries at level L or above\n"
    "  -c, --lane N      only entries of lane N (--cpu N: same)\n"
    "  -g, --grep REGEX  only text entries matching the POSIX extended regex\n"
    "  -u, --utc         text output: times in UTC (JSON is always UTC)\n"
    "  -w, --where       text output: FILE:LINE of deferred entries' call sites\n"
    "      --no-color    no colors (used only when stdout is a terminal and\n"
    "                    NO_COLOR is not set)\n"
    "  -h, --help        show this help\n";

int cmd_dump(int argc, char **argv)
{
    struct view v;
    int no_color = 0;
    view_init(&v);
    const char *name = parse_view_args(argc, argv, &v, dump_help, 1, &no_color);
    v.color = !v.json && want_color(no_color);
    signal(SIGPIPE, SIG_IGN);

    ringlog_reader *r = open_reader_or_die(name, RINGLOG_READER_PEEK);
    v.rd = r;
    check_lane_filter(&v, r, name);
    struct ringlog_handler h = {on_entry, on_gap, &v};
    /* A peeking reader delivers all it holds in one call, up to a bound on
     * its memory: go on while calls deliver something, but stop at the
     * index the region had reached when we started, so that a busy region
     * cannot keep dump going like tail. */
    struct ringlog_info info;
    int n = ringlog_reader_info(r, &info);
    if (n == 0) {
        do
            n = ringlog_read(r, &h, 0);
        while (n > 0 && !v.write_error && v.end < info.next_index);
    }
    int status = 0;
    if (n < 0) {
        warnx_("%s: reading: %s", name, tool_describe(n, name));
        status = EXIT_RUNTIME;
    } else if (!v.write_error) {
        flush_pending_gap(&v);
    }
    /* What could not be read is said, and the exit status says it too
     * (issue 11): a corrupt head or length hides entries behind it. */
    struct ringlog_info after;
    if (status == 0 && ringlog_reader_info(r, &after) == 0 && after.read_corrupt) {
        warnx_("%s: %llu corrupt span%s skipped (impossible head or entry length): entries "
               "there could not be read",
               name, (unsigned long long)after.read_corrupt, after.read_corrupt > 1 ? "s" : "");
        status = EXIT_RUNTIME;
    }
    if (status == 0 && snapshot_damaged(r, name))
        status = EXIT_RUNTIME;
    ringlog_reader_close(r);
    int out = finish_output(&v);
    view_free(&v);
    return status ? status : out;
}

/* --------------------------------------------------------------- stats */

static const char stats_help[] =
    "Usage: ringlog stats NAME|FILE [--json]\n"
    "\n"
    "Print the region's facts (layout version, lanes (\"rings\"), bytes per lane,\n"
    "policy, clock, calls made, creation time, creator pid) and its counters per\n"
    "lane and in total, through a peeking reader (nothing changes):\n"
    "  written      log calls made on the lane\n"
    "  read         entries claimed by a consuming reader\n"
    "  lost         calls refused: lane full (drop policy), too big, frozen by a\n"
    "               snapshot, or no lane free (total only)\n"
    "  overwritten  unread entries evicted by the overwrite policy\n"
    "  too_big      entries larger than a sub-buffer (also counted in lost)\n"
    "  wraps        times the lane's write position wrapped\n"
    "  bytes        lane bytes used so far (headers and padding included)\n"
    "  abandoned    calls cut short by a writer's death (found when its lane\n"
    "               was taken over)\n"
    "  buffered     entries still in the lane, unread\n"
    "and whether written == read + lost + overwritten + buffered + abandoned holds\n"
    "(\"balanced: yes\"); it holds whenever no log call is in progress (the\n"
    "counters are read one after the other, so while entries are being logged\n"
    "they need not agree, and stats says so).\n"
    "\n"
    "Options:\n"
    "  -j, --json   one JSON object: {\"rings\":[{\"ring\":0,\"written\":N,...}],\n"
    "               \"total\":{...},\"info\":{...},\"balanced\":true,\"busy\":false}\n"
    "               (busy: entries were logged while the counters were read)\n"
    "  -h, --help   show this help\n";

#define NSTAT 9

static const char *const stat_names[NSTAT] = {"written", "read",  "lost",      "overwritten",
                                              "too_big", "wraps", "bytes",     "abandoned",
                                              "buffered"};

static void stat_values(const struct ringlog_stats *s, uint64_t out[NSTAT])
{
    out[0] = s->written;
    out[1] = s->read;
    out[2] = s->lost;
    out[3] = s->overwritten;
    out[4] = s->too_big;
    out[5] = s->wraps;
    out[6] = s->bytes;
    out[7] = s->abandoned;
    out[8] = s->buffered;
}

static int stats_balanced(const struct ringlog_stats *s)
{
    return s->written == s->read + s->lost + s->overwritten + s->buffered + s->abandoned;
}

static int ndigits(uint64_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Prints per-ring rows and the total; columns as wide as their widest value. */
void print_stats_table(FILE *out, const struct ringlog_stats *per, unsigned n,
                       const struct ringlog_stats *total)
{
    int w[NSTAT];
    uint64_t v[NSTAT];
    for (int c = 0; c < NSTAT; c++)
        w[c] = (int)strlen(stat_names[c]);
    stat_values(total, v); /* totals are the widest values */
    for (int c = 0; c < NSTAT; c++)
        if (ndigits(v[c]) > w[c])
            w[c] = ndigits(v[c]);
    int rw = 5; /* "total" */
    fprintf(out, "%-*s", rw, "ring");
    for (int c = 0; c < NSTAT; c++)
        fprintf(out, "  %*s", w[c], stat_names[c]);
    fputc('\n', out);
    for (unsigned i = 0; i <= n; i++) {
        const struct ringlog_stats *s = i < n ? &per[i] : total;
        stat_values(s, v);
        if (i < n)
            fprintf(out, "%*u", rw, i);
        else
            fprintf(out, "%-*s", rw, "total");
        for (int c = 0; c < NSTAT; c++)
            fprintf(out, "  %*llu", w[c], (unsigned long long)v[c]);
        fputc('\n', out);
    }
}

void print_balance_line(FILE *out, const struct ringlog_stats *t, int busy)
{
    int ok = stats_balanced(t);
    fprintf(out,
            "balanced: %s (written %llu %s read %llu + lost %llu + overwritten %llu + "
            "buffered %llu + abandoned %llu = %llu)%s\n",
            ok ? "yes" : "no", (unsigned long long)t->written, ok ? "==" : "!=",
            (unsigned long long)t->read, (unsigned long long)t->lost,
            (unsigned long long)t->overwritten, (unsigned long long)t->buffered,
            (unsigned long long)t->abandoned,
            (unsigned long long)(t->read + t->lost + t->overwritten + t->buffered +
                                 t->abandoned),
            !ok && busy ? "; entries were being logged while the counters were read" : "");
}

void print_info(FILE *out, const char *name, const struct ringlog_info *in)
{
    char size[32], created[64];
    fmt_size(size, sizeof size, in->ring_size);
    fmt_time_us(created, sizeof created, in->created_ns, 0);
    fprintf(out, "region:      %s\n", name);
    fprintf(out, "version:     %u\n", in->version);
    fprintf(out, "rings:       %u\n", in->nrings);
    fprintf(out, "ring size:   %s (%llu bytes)\n", size, (unsigned long long)in->ring_size);
    fprintf(out, "policy:      %s\n", policy_name(in->policy));
    fprintf(out, "clock:       %s\n", in->clock ? in->clock : "?");
    fprintf(out, "next index:  %llu\n", (unsigned long long)in->next_index);
    fprintf(out, "created:     %s\n", created);
    fprintf(out, "creator pid: %u\n", in->creator_pid);
    fprintf(out, "triggers:    %u\n", in->triggers);
    fprintf(out, "min level:   %s (%u)\n",
            in->min_level <= RINGLOG_LEVEL_CRITICAL ? ringlog_level_name(in->min_level) : "number",
            in->min_level);
    fmt_size(size, sizeof size, in->dict_size);
    fprintf(out, "call sites:  %u in a %s dictionary, %llu bytes used", in->sites, size,
            (unsigned long long)in->dict_used);
    if (in->sites_refused)
        fprintf(out, "; %u registrations refused (full: those calls were logged as text)",
                in->sites_refused);
    fputc('\n', out);
    if (in->snapshot_reason) {
        char taken[64];
        fmt_time_us(taken, sizeof taken, in->snapshot_ns, 0);
        fprintf(out, "snapshot:    %s\n", in->snapshot_reason);
        fprintf(out, "taken:       %s\n", taken);
        if (in->snapshot_first_trigger)
            fprintf(out, "triggers:    %u..%u in this file\n", in->snapshot_first_trigger,
                    in->snapshot_last_trigger);
        if (in->snapshot_trigger_ns) {
            char at[64];
            fmt_time_us(at, sizeof at, in->snapshot_trigger_ns, 0);
            fprintf(out, "trigger at:  %s\n", at);
        }
    }
}

static void json_stats_obj(struct sbuf *b, const struct ringlog_stats *s, long ring)
{
    uint64_t v[NSTAT];
    stat_values(s, v);
    sb_putc(b, '{');
    if (ring >= 0)
        sb_printf(b, "\"ring\":%ld,", ring);
    for (int c = 0; c < NSTAT; c++)
        sb_printf(b, "%s\"%s\":%llu", c ? "," : "", stat_names[c], (unsigned long long)v[c]);
    sb_putc(b, '}');
}

int cmd_stats(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},
        {"json", 'j', OPT_NONE, O_JSON},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL;
    int json = 0, id;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case O_HELP: fputs(stats_help, stdout); return 0;
        case O_JSON: json = 1; break;
        case OPT_POSITIONAL:
            if (name)
                usage_error("unexpected argument '%s' (one region at a time)", st.value);
            name = st.value;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    signal(SIGPIPE, SIG_IGN);

    ringlog_reader *r = open_reader_or_die(name, RINGLOG_READER_PEEK);
    struct ringlog_info info;
    int rc = ringlog_reader_info(r, &info);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    unsigned cap = info.nrings ? info.nrings : 1;
    struct ringlog_stats total, *per = calloc(cap, sizeof *per);
    if (!per)
        die(EXIT_RUNTIME, "out of memory");
    /* The counters are read one after the other while producers may be
     * logging, so on a busy region they need not agree.  Try for a quiet
     * moment (the global index the same before and after) a few times. */
    int busy = 1;
    for (int attempt = 0; attempt < 5 && busy; attempt++) {
        uint64_t before = info.next_index;
        if (attempt) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            before = info.next_index;
        }
        rc = ringlog_reader_stats(r, &total, per, cap);
        if (rc < 0)
            die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
        int irc = ringlog_reader_info(r, &info);
        if (irc != 0)
            die(EXIT_RUNTIME, "%s: %s", name, tool_describe(irc, name));
        busy = info.next_index != before;
    }
    unsigned n = (unsigned)rc < cap ? (unsigned)rc : cap;

    if (json) {
        struct sbuf b = {0};
        char created[64];
        sb_puts(&b, "{\"rings\":[");
        for (unsigned i = 0; i < n; i++) {
            if (i)
                sb_putc(&b, ',');
            json_stats_obj(&b, &per[i], (long)i);
        }
        sb_puts(&b, "],\"total\":");
        json_stats_obj(&b, &total, -1);
        fmt_time_ns(created, sizeof created, info.created_ns);
        sb_puts(&b, ",\"info\":{\"name\":\"");
        sb_json_escaped(&b, (const unsigned char *)name, strlen(name));
        sb_printf(&b,
                  "\",\"version\":%u,\"nrings\":%u,\"ring_size\":%llu,\"policy\":\"%s\","
                  "\"clock\":\"%s\",\"next_index\":%llu,\"created\":\"%s\",\"created_ns\":%llu,"
                  "\"creator_pid\":%u,\"triggers\":%u,\"min_level\":%u,\"sites\":%u,"
                  "\"sites_refused\":%u,\"dict_size\":%llu,\"dict_used\":%llu},"
                  "\"balanced\":%s,\"busy\":%s}\n",
                  info.version, info.nrings, (unsigned long long)info.ring_size,
                  policy_name(info.policy), info.clock ? info.clock : "?",
                  (unsigned long long)info.next_index, created,
                  (unsigned long long)info.created_ns, info.creator_pid, info.triggers,
                  info.min_level, info.sites, info.sites_refused,
                  (unsigned long long)info.dict_size, (unsigned long long)info.dict_used,
                  stats_balanced(&total) ? "true" : "false", busy ? "true" : "false");
        if (sb_write_stdout(&b) != 0 && errno != EPIPE)
            warnx_("writing output: %s", strerror(errno));
        sb_free(&b);
    } else {
        print_info(stdout, name, &info);
        fputc('\n', stdout);
        print_stats_table(stdout, per, n, &total);
        fputc('\n', stdout);
        print_balance_line(stdout, &total, busy);
    }
    free(per);
    /* A corrupt head or length hides what is behind it from the counts
     * too: walk everything once (a peek, delivering nothing) and say so,
     * with a non-zero status (issue 11). */
    int status = 0;
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    do { /* a busy region has always more: a second at most */
        if (ringlog_read(r, NULL, 0) <= 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &w1);
    } while ((w1.tv_sec - w0.tv_sec) * 1000000000L + (w1.tv_nsec - w0.tv_nsec) < 1000000000L);
    if (ringlog_reader_info(r, &info) == 0 && info.read_corrupt) {
        warnx_("%s: %llu corrupt span%s (impossible head or entry length): the counters "
               "cannot account for what is there",
               name, (unsigned long long)info.read_corrupt, info.read_corrupt > 1 ? "s" : "");
        status = EXIT_RUNTIME;
    }
    if (snapshot_damaged(r, name))
        status = EXIT_RUNTIME;
    ringlog_reader_close(r);
    if (fflush(stdout) != 0 && errno != EPIPE)
        die(EXIT_RUNTIME, "writing output: %s", strerror(errno));
    return status;
}
