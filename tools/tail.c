/*
 * ringlog tail: the region's consuming reader, following it like tail -f.
 */
#include "view.h"

#include <ringlog_queue.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


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
    if (v.nmore)
        usage_error("unexpected argument '%s' (one region at a time)", v.more[0]);
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

