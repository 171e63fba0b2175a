/*
 * ringlog demo: producer threads log at full speed into a fresh region
 * while a consuming reader checks everything it can about what comes out:
 * global index order, per-thread order, payload integrity, that every index
 * is either delivered or reported lost, and that the counters balance.  It
 * doubles as a smoke test of a build on a new machine.
 */
#include "tool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char demo_help[] =
    "Usage: ringlog demo [--threads N] [--seconds S] [--policy overwrite|drop]\n"
    "                    [--ring-size BYTES] [--name NAME] [--keep] [--no-reader]\n"
    "\n"
    "Create a fresh region, start N producer threads that log as fast as they\n"
    "can for S seconds, alternating formatted text entries\n"
    "(\"thread T seq N value V\") and raw binary entries (thread and sequence\n"
    "number), while a consuming reader reads everything and checks it:\n"
    "indices strictly increase, every thread's sequence numbers strictly\n"
    "increase, payloads are intact, and every index is either delivered or\n"
    "reported as a gap.  When the producers stop, the reader drains the\n"
    "region.  Then the demo prints the rates, gaps, every counter per lane\n"
    "and in total, and whether written == read + lost + overwritten + buffered\n"
    "holds (\"balanced: yes\").\n"
    "\n"
    "Options:\n"
    "  -t, --threads N        producer threads (default: online CPUs, at least 2)\n"
    "  -s, --seconds S        how long the producers run; fractions allowed\n"
    "                         (default 2)\n"
    "  -p, --policy P         what a full lane does: overwrite (default) or drop\n"
    "  -r, --ring-size BYTES  bytes per lane, K/M/G suffixes allowed (default 1M;\n"
    "                         rounded up to a power of two, 4K..1G).  The region\n"
    "                         has the library's default lanes (16 or more) unless\n"
    "                         that would pass 1 GiB: then THREADS + 1\n"
    "  -n, --name NAME        region name (default ringlog-demo-PID); it must not\n"
    "                         exist yet\n"
    "  -k, --keep             do not remove the region at the end (look at it\n"
    "                         with `ringlog dump NAME` and `ringlog stats NAME`)\n"
    "      --no-reader        producers only: nothing is read, so the region is\n"
    "                         left full (overwrite) for a later dump\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 when every check passed, 1 when the counters do not balance,\n"
    "order was violated, an entry was corrupt or an index went missing.\n";

enum { O_HELP = 1, O_THREADS, O_SECONDS, O_POLICY, O_RING, O_NAME, O_KEEP, O_NOREADER };

#define DEMO_MAGIC 0x444c4752u /* "RGLD" */
#define DRAIN_LIMIT_NS (5ull * 1000000000u)

/* Payload of the raw entries. */
struct demo_raw {
    uint32_t magic;
    uint32_t thread;
    uint64_t seq;
};

/* Mostly chatter with a little of everything, so that `tail --level` and
 * colors have something to show.  A pure function of the sequence number
 * lets the reader check the level of every entry. */
static unsigned level_for(uint64_t seq)
{
    static const unsigned char mix[16] = {2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 3, 4, 5, 6};
    return mix[(seq >> 1) & 15];
}

static uint64_t now_ns(int clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static atomic_int stop_producers;
/* Producers wait here until every one is created: a producer that logs at
 * once starves the thread still creating the others (hundreds of threads
 * then take seconds to start and the run overshoots). */
static atomic_int start_gate;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;

static void open_gate(void)
{
    pthread_mutex_lock(&gate_lock);
    atomic_store_explicit(&start_gate, 1, memory_order_release);
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}
static atomic_int producers_done;
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* ------------------------------------------------------------ producers */

struct producer {
    pthread_t tid;
    ringlog *log;
    unsigned id;
    /* filled in when the thread ends, so the hot loop shares no cache line */
    uint64_t calls, stored, dropped, too_big, failed;
    int first_error;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    uint64_t seq = 0, stored = 0, dropped = 0, too_big = 0, failed = 0;
    struct demo_raw raw = {DEMO_MAGIC, p->id, 0};
    pthread_mutex_lock(&gate_lock);
    while (!atomic_load_explicit(&start_gate, memory_order_acquire))
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    while (!atomic_load_explicit(&stop_producers, memory_order_relaxed)) {
        int rc;
        unsigned level = level_for(seq);
        if (seq & 1) {
            raw.seq = seq;
            rc = ringlog_write(p->log, level, RINGLOG_TYPE_RAW, p->id, &raw, sizeof raw);
        } else {
            rc = ringlog_printf(p->log, level, "thread %d seq %llu value %f", (int)p->id,
                                (unsigned long long)seq, (double)seq / 4.0);
        }
        seq++;
        if (rc == 0) {
            stored++;
        } else if (rc == RINGLOG_DROPPED) {
            dropped++;
        } else if (rc == RINGLOG_TOO_BIG) {
            too_big++;
        } else {
            if (!failed)
                p->first_error = rc;
            failed++;
        }
    }
    p->calls = seq;
    p->stored = stored;
    p->dropped = dropped;
    p->too_big = too_big;
    p->failed = failed;
    return NULL;
}

/* --------------------------------------------------------------- reader */

struct checker {
    ringlog_reader *r;
    unsigned nthreads;
    uint32_t pid;
    uint64_t t_min_ns, t_max_ns; /* plausible entry times (wall clock) */
    uint64_t *next_seq;          /* per thread: last sequence seen + 1, 0 = none */

    uint64_t entries, text, raw;
    uint64_t gaps, gap_entries;
    uint64_t order_violations; /* an index not above the previous one */
    uint64_t seq_violations;   /* a thread's sequence not above its previous one */
    uint64_t corrupt;          /* payload, type, level or pid not as written */
    uint64_t bad_time;         /* time_ns outside the run */
    uint64_t skipped;          /* indices neither delivered nor reported lost */
    int started;
    uint64_t first_index, next_index;
    char first_problem[256];

    int error; /* ringlog_read failure */
    char error_msg[640];
    int drain_timeout;
    uint64_t t_end_ns, drain_ns;
};

static void problem(struct checker *c, uint64_t *counter, const struct ringlog_entry *e,
                    const char *what)
{
    (*counter)++;
    if (!c->first_problem[0])
        snprintf(c->first_problem, sizeof c->first_problem,
                 "index %llu (cpu %u, type %u, %zu bytes): %s", (unsigned long long)e->index,
                 e->cpu, e->type, e->length, what);
}

/* Parses a decimal number at *p, advancing it; returns 0 on no digits. */
static int parse_dec(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9' && v < UINT64_MAX / 10)
        v = v * 10 + (uint64_t)(*s++ - '0');
    if (s == *p)
        return 0;
    *p = s;
    *out = v;
    return 1;
}

static int expect_str(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* Checks "thread T seq N value V" exactly as printf("%f") of N/4 would
 * print it, without calling snprintf per entry (the reader must keep up
 * with all producers). */
static int parse_text(const struct ringlog_entry *e, uint64_t *thread, uint64_t *seq)
{
    static const char *const frac[4] = {".000000", ".250000", ".500000", ".750000"};
    const char *p = e->data, *end = p + e->length;
    uint64_t ip;
    if (!expect_str(&p, end, "thread ") || !parse_dec(&p, end, thread) ||
        !expect_str(&p, end, " seq ") || !parse_dec(&p, end, seq) ||
        !expect_str(&p, end, " value ") || !parse_dec(&p, end, &ip))
        return 0;
    return ip == *seq / 4 && expect_str(&p, end, frac[*seq % 4]) && p == end;
}

static void check_index(struct checker *c, uint64_t first, uint64_t count)
{
    if (!c->started) {
        c->started = 1;
        c->first_index = c->next_index = first;
    }
    if (first < c->next_index)
        c->order_violations++;
    else
        c->skipped += first - c->next_index;
    if (first + count > c->next_index)
        c->next_index = first + count;
}

static int check_entry(void *arg, const struct ringlog_entry *e)
{
    struct checker *c = arg;
    uint64_t before = c->order_violations;
    check_index(c, e->index, 1);
    if (c->order_violations != before && !c->first_problem[0])
        snprintf(c->first_problem, sizeof c->first_problem, "index %llu delivered out of order",
                 (unsigned long long)e->index);
    c->entries++;

    uint64_t thread = 0, seq = 0;
    if (e->type == RINGLOG_TYPE_TEXT) {
        c->text++;
        if (!parse_text(e, &thread, &seq) || (seq & 1) || (e->flags & ~RINGLOG_FLAG_LATE) != 0) {
            problem(c, &c->corrupt, e, "text is not what was written");
            return 0;
        }
    } else if (e->type == RINGLOG_TYPE_RAW) {
        struct demo_raw raw;
        c->raw++;
        if (e->length != sizeof raw) {
            problem(c, &c->corrupt, e, "raw entry has the wrong length");
            return 0;
        }
        memcpy(&raw, e->data, sizeof raw);
        thread = raw.thread;
        seq = raw.seq;
        if (raw.magic != DEMO_MAGIC || !(seq & 1) || e->remarks != raw.thread) {
            problem(c, &c->corrupt, e, "raw payload or remarks is not what was written");
            return 0;
        }
    } else {
        problem(c, &c->corrupt, e, "unexpected entry type");
        return 0;
    }
    if (thread >= c->nthreads) {
        problem(c, &c->corrupt, e, "thread number out of range");
        return 0;
    }
    if (e->level != level_for(seq))
        problem(c, &c->corrupt, e, "wrong level");
    if (e->pid != c->pid)
        problem(c, &c->corrupt, e, "wrong producer pid");
    if (e->time_ns < c->t_min_ns || e->time_ns > c->t_max_ns)
        problem(c, &c->bad_time, e, "timestamp outside the run");
    if (c->next_seq[thread] > seq)
        problem(c, &c->seq_violations, e, "thread's sequence number went backwards");
    c->next_seq[thread] = seq + 1;
    return 0;
}

static int check_gap(void *arg, uint64_t first, uint64_t count)
{
    struct checker *c = arg;
    uint64_t before = c->order_violations;
    check_index(c, first, count);
    if (c->order_violations != before && !c->first_problem[0])
        snprintf(c->first_problem, sizeof c->first_problem, "gap at index %llu out of order",
                 (unsigned long long)first);
    c->gaps++;
    c->gap_entries += count;
    return 0;
}

static void *reader_main(void *arg)
{
    struct checker *c = arg;
    struct ringlog_handler h = {check_entry, check_gap, c};
    /* The timeout bounds how late the reader notices the producers ended. */
    while (!atomic_load_explicit(&producers_done, memory_order_acquire)) {
        int n = ringlog_read(c->r, &h, 100);
        if (n < 0) {
            c->error = n;
            snprintf(c->error_msg, sizeof c->error_msg, "%s", tool_describe(n, NULL));
            return NULL;
        }
    }
    /* Drain: done when a read finds nothing and no entry is left buffered. */
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    for (;;) {
        int n = ringlog_read(c->r, &h, 10);
        if (n < 0) {
            c->error = n;
            snprintf(c->error_msg, sizeof c->error_msg, "%s", tool_describe(n, NULL));
            break;
        }
        if (n == 0) {
            struct ringlog_stats t;
            int rc = ringlog_reader_stats(c->r, &t, NULL, 0);
            if (rc < 0) {
                c->error = rc;
                snprintf(c->error_msg, sizeof c->error_msg, "%s", tool_describe(rc, NULL));
                break;
            }
            if (t.buffered == 0)
                break;
        }
        if (now_ns(CLOCK_MONOTONIC) - t0 > DRAIN_LIMIT_NS) {
            c->drain_timeout = 1;
            break;
        }
    }
    c->t_end_ns = now_ns(CLOCK_MONOTONIC);
    c->drain_ns = c->t_end_ns - t0;
    return NULL;
}

/* ------------------------------------------------------------ the demo */

struct demo {
    unsigned threads;
    double seconds;
    int policy;
    uint64_t ring_size;
    const char *name;
    int keep, no_reader;
};

static void parse_demo_args(int argc, char **argv, struct demo *d)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},        {"threads", 't', OPT_VALUE, O_THREADS},
        {"seconds", 's', OPT_VALUE, O_SECONDS}, {"policy", 'p', OPT_VALUE, O_POLICY},
        {"ring-size", 'r', OPT_VALUE, O_RING},  {"name", 'n', OPT_VALUE, O_NAME},
        {"keep", 'k', OPT_NONE, O_KEEP},        {"no-reader", 0, OPT_NONE, O_NOREADER},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    int id;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case O_HELP: fputs(demo_help, stdout); exit(0);
        case O_THREADS: d->threads = (unsigned)parse_count(st.name, st.value, 1, 4096); break;
        case O_SECONDS: d->seconds = parse_seconds(st.name, st.value); break;
        case O_POLICY:
            if (strcmp(st.value, "overwrite") == 0)
                d->policy = RINGLOG_OVERWRITE;
            else if (strcmp(st.value, "drop") == 0)
                d->policy = RINGLOG_DROP;
            else
                usage_error("%s: unknown policy '%s' (overwrite or drop)", st.name, st.value);
            break;
        case O_RING: d->ring_size = parse_size(st.name, st.value, 4096, 1ull << 30); break;
        case O_NAME:
            if (!st.value[0])
                usage_error("%s: empty name", st.name);
            d->name = st.value;
            break;
        case O_KEEP: d->keep = 1; break;
        case O_NOREADER: d->no_reader = 1; break;
        case OPT_POSITIONAL: usage_error("unexpected argument '%s'", st.value);
        default: break;
        }
    }
}

static void fmt_rate(char *buf, size_t size, double per_s)
{
    if (per_s >= 1e6)
        snprintf(buf, size, "%.2f M entries/s", per_s / 1e6);
    else if (per_s >= 1e3)
        snprintf(buf, size, "%.1f K entries/s", per_s / 1e3);
    else
        snprintf(buf, size, "%.0f entries/s", per_s);
}

/* One "check:" line; returns 1 when it failed. */
static int check_line(int ok, const char *fmt, ...) TOOL_PRINTF(2, 3);
static int check_line(int ok, const char *fmt, ...)
{
    va_list ap;
    printf("  %-4s ", ok ? "ok" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    return !ok;
}

/* One run of the demo: what it owns, all released by finish_run. */
struct demo_run {
    const struct demo *d;
    ringlog *log;
    struct checker c;      /* c.r is the consuming reader, NULL with --no-reader */
    struct producer *prod; /* d->threads of them */
    unsigned started;      /* producer threads created (all joined by run_threads) */
    uint64_t t0, t1;       /* monotonic: the gate opened, the last producer returned */
};

/* What the report and the checks are made of, gathered after the run. */
struct demo_counts {
    struct ringlog_stats total;
    struct ringlog_stats *per; /* nrings lanes */
    int nrings;
    ringlog_reader *peek;      /* opened for the region's facts with --no-reader */
    struct ringlog_info info;  /* valid when have_info */
    int have_info;
    uint64_t calls, stored, dropped, too_big, failed; /* summed over the producers */
    int first_error;
};

/* Fills in the defaults that depend on the machine: threads and name. */
static void demo_defaults(struct demo *d, char *name_buf, size_t size)
{
    if (d->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        d->threads = n < 2 ? 2 : n > 4096 ? 4096 : (unsigned)n;
    }
    if (!d->name) {
        snprintf(name_buf, size, "ringlog-demo-%ld", (long)getpid());
        d->name = name_buf;
    }
}

/* Creates the region, which must not exist yet; exits when it cannot. */
static ringlog *create_region(const struct demo *d)
{
    struct ringlog_options o = {
        .ring_size = (size_t)d->ring_size, .policy = d->policy, .flags = RINGLOG_OPEN_EXCL};
    /* Big lanes times the default lane count (16 or more) is a region of
     * many GiB, every page of which is written at creation: a lane per
     * thread and one spare then.  And big regions take a while: say so. */
    long cpus = sysconf(_SC_NPROCESSORS_CONF);
    uint64_t dflt_lanes = cpus * 4 > 16 ? (uint64_t)cpus * 4 : 16;
    if (dflt_lanes * d->ring_size > (1ull << 30))
        o.nrings = d->threads + 1;
    uint64_t total_bytes = (o.nrings ? o.nrings : dflt_lanes) * d->ring_size;
    if (total_bytes >= (256ull << 20)) {
        char tb[32];
        fmt_size(tb, sizeof tb, total_bytes);
        fprintf(stderr, "ringlog: demo: creating a %s region (every page is written once now, "
                        "so that no log call takes a page fault): this takes a few seconds\n", tb);
    }
    ringlog *log = NULL;
    int rc = ringlog_open(d->name, &o, &log);
    if (rc != 0) {
        if (rc == RINGLOG_EEXIST)
            die(EXIT_RUNTIME, "%s: region already exists; pick another --name or remove it "
                              "with 'ringlog rm %s'",
                d->name, d->name);
        die(EXIT_RUNTIME, "%s: %s", d->name, tool_describe(rc, d->name));
    }
    return log;
}

/* SIGINT and SIGTERM only set `interrupted`: the start-up and the run stop
 * early and the demo still reaches finish_run, which removes the region. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Allocates the checker's and the producers' state and attaches the
 * reader; returns the exit status so far. */
static int prepare_run(struct demo_run *run)
{
    const struct demo *d = run->d;
    run->c.nthreads = d->threads;
    run->c.pid = (uint32_t)getpid();
    run->c.next_seq = calloc(d->threads, sizeof *run->c.next_seq);
    run->prod = calloc(d->threads, sizeof *run->prod);
    if (!run->c.next_seq || !run->prod) {
        warnx_("out of memory");
        return EXIT_RUNTIME;
    }
    int nlanes = ringlog_stats(run->log, NULL, NULL, 0);
    if (nlanes > 0 && d->threads > (unsigned)nlanes - (nlanes >= 16 ? nlanes / 8 : 1))
        warnx_("note: %u threads, %d lanes: threads without a lane of their own borrow the "
               "pool's for each call and lose the call when none is free (counted, never "
               "waiting)",
               d->threads, nlanes);
    /* The reader attaches before the first entry so that it starts at
     * index 0 and sees the whole run. */
    if (!d->no_reader) {
        int rc = ringlog_reader_open(d->name, RINGLOG_READER_CONSUME, &run->c.r);
        if (rc != 0) {
            warnx_("%s: opening the reader: %s", d->name, tool_describe(rc, d->name));
            return EXIT_RUNTIME;
        }
    }
    return 0;
}

/* Creates the producers, which wait at the gate.  A signal stops the
 * creation early: hundreds of threads take a while to start. */
static int start_producers(struct demo_run *run)
{
    for (; run->started < run->d->threads && !interrupted; run->started++) {
        struct producer *p = &run->prod[run->started];
        p->log = run->log;
        p->id = run->started;
        int rc = pthread_create(&p->tid, NULL, producer_main, p);
        if (rc != 0) {
            warnx_("starting producer thread %u: %s", run->started, strerror(rc));
            return EXIT_RUNTIME;
        }
    }
    return 0;
}

/* Sleeps until `seconds` after t0, in naps short enough to notice a signal. */
static void wait_run(double seconds, uint64_t t0)
{
    uint64_t run_ns = (uint64_t)(seconds * 1e9);
    while (!interrupted) {
        uint64_t el = now_ns(CLOCK_MONOTONIC) - t0;
        if (el >= run_ns)
            break;
        uint64_t left = run_ns - el;
        struct timespec ts = {0, (long)(left < 50000000u ? left : 50000000u)};
        nanosleep(&ts, NULL);
    }
}

/* Starts the reader and the producers, lets them run, stops the producers
 * and waits for the reader to drain.  Every thread started is joined on
 * every path; returns the exit status so far. */
static int run_threads(struct demo_run *run)
{
    struct checker *c = &run->c;
    uint64_t wall0 = now_ns(CLOCK_REALTIME);
    /* A second of slack each way for the calibration of the region's clock;
     * the drain takes at most DRAIN_LIMIT_NS after the run. */
    c->t_min_ns = wall0 - 1000000000u;
    c->t_max_ns = wall0 + (uint64_t)(run->d->seconds * 1e9) + DRAIN_LIMIT_NS + 2000000000u;
    pthread_t reader_tid;
    if (c->r) {
        int rc = pthread_create(&reader_tid, NULL, reader_main, c);
        if (rc != 0) {
            warnx_("starting the reader thread: %s", strerror(rc));
            return EXIT_RUNTIME;
        }
    }
    int status = start_producers(run);
    /* The run starts when everyone is ready (or as many as got started). */
    run->t0 = now_ns(CLOCK_MONOTONIC);
    open_gate();
    if (status == 0)
        wait_run(run->d->seconds, run->t0);
    atomic_store(&stop_producers, 1);
    for (unsigned i = 0; i < run->started; i++)
        pthread_join(run->prod[i].tid, NULL);
    run->t1 = now_ns(CLOCK_MONOTONIC);
    /* Every log call has returned: the reader may drain and stop. */
    atomic_store_explicit(&producers_done, 1, memory_order_release);
    if (c->r)
        pthread_join(reader_tid, NULL);
    if (interrupted)
        warnx_("interrupted: stopped after %.2f s", (double)(run->t1 - run->t0) / 1e9);
    return status;
}

/* Reads the region's counters and its facts and sums the producers' own
 * counts.  Returns the exit status so far; on success the caller frees
 * k->per and closes k->peek. */
static int collect_counts(const struct demo_run *run, struct demo_counts *k)
{
    const char *name = run->d->name;
    memset(k, 0, sizeof *k);
    k->nrings = ringlog_stats(run->log, &k->total, NULL, 0);
    if (k->nrings < 0) {
        warnx_("%s: statistics: %s", name, tool_describe(k->nrings, name));
        return EXIT_RUNTIME;
    }
    k->per = calloc((size_t)k->nrings + 1, sizeof *k->per);
    if (!k->per) {
        warnx_("out of memory");
        return EXIT_RUNTIME;
    }
    k->nrings = ringlog_stats(run->log, &k->total, k->per, (unsigned)k->nrings);
    /* The region's facts come through a reader: the run's own, or a
     * peeking one (which changes nothing) with --no-reader. */
    ringlog_reader *info_r = run->c.r;
    if (!info_r && ringlog_reader_open(name, RINGLOG_READER_PEEK, &info_r) != 0)
        info_r = NULL;
    k->have_info = info_r && ringlog_reader_info(info_r, &k->info) == 0;
    if (info_r != run->c.r)
        k->peek = info_r;
    for (unsigned i = 0; i < run->started; i++) {
        const struct producer *p = &run->prod[i];
        k->calls += p->calls;
        k->stored += p->stored;
        k->dropped += p->dropped;
        k->too_big += p->too_big;
        k->failed += p->failed;
        if (!k->first_error)
            k->first_error = p->first_error;
    }
    return 0;
}

/* The rates, what the reader saw, and every lane's counters. */
static void print_report(const struct demo_run *run, const struct demo_counts *k)
{
    const struct demo *d = run->d;
    const struct checker *c = &run->c;
    const struct ringlog_stats *t = &k->total;
    double run_s = (double)(run->t1 - run->t0) / 1e9;
    char rate[32], size[32];
    fmt_size(size, sizeof size, k->have_info ? k->info.ring_size : d->ring_size);
    printf("ringlog demo: %u producer threads for %.2f s into region %s\n", run->started, run_s,
           d->name);
    printf("region: %d lanes x %s, policy %s, clock %s, layout version %u\n", k->nrings, size,
           policy_name(d->policy), k->have_info ? k->info.clock : "?",
           k->have_info ? k->info.version : 0);
    putchar('\n');
    fmt_rate(rate, sizeof rate, run_s > 0 ? (double)t->written / run_s : 0);
    printf("written:  %llu entries, %s (%llu stored, %llu dropped, %llu too big)\n",
           (unsigned long long)t->written, rate, (unsigned long long)k->stored,
           (unsigned long long)k->dropped, (unsigned long long)k->too_big);
    if (c->r) {
        double read_s = (double)(c->t_end_ns - run->t0) / 1e9;
        fmt_rate(rate, sizeof rate, read_s > 0 ? (double)c->entries / read_s : 0);
        printf("read:     %llu entries, %s (%llu text, %llu raw; drained in %.1f ms)\n",
               (unsigned long long)c->entries, rate, (unsigned long long)c->text,
               (unsigned long long)c->raw, (double)c->drain_ns / 1e6);
        printf("gaps:     %llu entries lost in %llu gaps\n", (unsigned long long)c->gap_entries,
               (unsigned long long)c->gaps);
        printf("order violations: %llu\n",
               (unsigned long long)(c->order_violations + c->seq_violations));
    } else {
        printf("read:     nothing (--no-reader)\n");
    }
    putchar('\n');
    print_stats_table(stdout, k->per, (unsigned)k->nrings, t);
    putchar('\n');
    /* A demo that loses most of its entries looks broken unless told why. */
    if (t->overwritten)
        printf("overwritten: the producers outrun the reader on purpose; a full lane then\n"
               "evicts its oldest sub-buffer, and the entries in it that had not been read\n"
               "are counted overwritten and reported to the reader as gaps.\n\n");
    if (t->lost)
        printf("lost: calls refused (a full lane under the drop policy, a lane frozen for a\n"
               "snapshot, an entry too big, or no lane free), counted and reported as gaps.\n\n");
}

/* The reader's checks: what came out is what went in, in order, and every
 * index is accounted for.  Returns how many failed. */
static int check_reader(const struct checker *c, const struct demo_counts *k)
{
    const struct ringlog_stats *t = &k->total;
    uint64_t end = k->have_info ? k->info.next_index : c->next_index;
    uint64_t undelivered = end > c->next_index ? end - c->next_index : 0;
    int bad = 0;
    bad += check_line(c->error == 0, "reader errors: %s", c->error ? c->error_msg : "none");
    bad += check_line(c->order_violations == 0, "global index order: %llu violations",
                      (unsigned long long)c->order_violations);
    bad += check_line(c->seq_violations == 0, "per-thread sequence order: %llu violations",
                      (unsigned long long)c->seq_violations);
    bad += check_line(c->corrupt == 0, "entries intact: %llu corrupt",
                      (unsigned long long)c->corrupt);
    bad += check_line(c->bad_time == 0, "entry times within the run: %llu outside",
                      (unsigned long long)c->bad_time);
    bad += check_line(c->skipped == 0 && undelivered == 0 && c->first_index == 0,
                      "every index 0..%llu delivered or reported lost (%llu skipped, "
                      "%llu never delivered, first %llu)",
                      end ? (unsigned long long)(end - 1) : 0ull,
                      (unsigned long long)c->skipped, (unsigned long long)undelivered,
                      (unsigned long long)c->first_index);
    bad += check_line(c->entries == t->read, "entries delivered (%llu) == read (%llu)",
                      (unsigned long long)c->entries, (unsigned long long)t->read);
    bad += check_line(c->gap_entries == t->lost + t->overwritten,
                      "indices reported lost (%llu) == lost + overwritten (%llu)",
                      (unsigned long long)c->gap_entries,
                      (unsigned long long)(t->lost + t->overwritten));
    bad += check_line(!c->drain_timeout && t->buffered == 0,
                      "drained: %llu entries left buffered%s", (unsigned long long)t->buffered,
                      c->drain_timeout ? " after 5 s" : "");
    if (c->first_problem[0])
        printf("  first problem: %s\n", c->first_problem);
    return bad;
}

/* Prints the checks and the balance line; returns the exit status.  Each
 * check is a promise of the library: any failure is a bug. */
static int run_checks(const struct demo_run *run, const struct demo_counts *k)
{
    const struct ringlog_stats *t = &k->total;
    int bad = 0;
    int balanced = t->written == t->read + t->lost + t->overwritten + t->buffered + t->abandoned;
    printf("checks:\n");
    bad += check_line(k->calls == t->written, "log calls made (%llu) == written (%llu)",
                      (unsigned long long)k->calls, (unsigned long long)t->written);
    bad += check_line(k->dropped + k->too_big == t->lost,
                      "calls that returned DROPPED or TOO_BIG (%llu) == lost (%llu)",
                      (unsigned long long)(k->dropped + k->too_big), (unsigned long long)t->lost);
    bad += check_line(k->failed == 0, "log calls that failed otherwise: %llu%s%s",
                      (unsigned long long)k->failed, k->failed ? ", first: " : "",
                      k->failed ? ringlog_strerror(k->first_error) : "");
    for (int i = 0; i < k->nrings; i++) {
        const struct ringlog_stats *s = &k->per[i];
        if (s->written != s->read + s->lost + s->overwritten + s->buffered + s->abandoned)
            bad += check_line(0, "lane %d does not balance: written %llu, read+lost+"
                                 "overwritten+buffered+abandoned %llu",
                              i, (unsigned long long)s->written,
                              (unsigned long long)(s->read + s->lost + s->overwritten +
                                                   s->buffered + s->abandoned));
    }
    if (run->c.r)
        bad += check_reader(&run->c, k);
    putchar('\n');
    print_balance_line(stdout, t, 0);
    return !balanced || bad ? EXIT_RUNTIME : 0;
}

/* After a clean run: gather, report, check.  Returns the exit status. */
static int report_run(const struct demo_run *run)
{
    struct demo_counts k;
    if (collect_counts(run, &k) != 0)
        return EXIT_RUNTIME;
    print_report(run, &k);
    int status = run_checks(run, &k);
    if (k.peek)
        ringlog_reader_close(k.peek);
    free(k.per);
    if (run->d->keep)
        printf("region kept: %s\n", run->d->name);
    return status;
}

/* Every way out after the region was created ends here: the reader and the
 * handle are closed and the region removed unless --keep. */
static int finish_run(struct demo_run *run, int status)
{
    const struct demo *d = run->d;
    if (run->c.r)
        ringlog_reader_close(run->c.r);
    ringlog_close(run->log);
    if (!d->keep) {
        int rc = ringlog_unlink(d->name);
        if (rc != 0) {
            warnx_("%s: removing the region: %s", d->name, tool_describe(rc, d->name));
            status = EXIT_RUNTIME;
        }
    }
    free(run->c.next_seq);
    free(run->prod);
    fflush(stdout);
    return status;
}

int cmd_demo(int argc, char **argv)
{
    struct demo d = {0, 2.0, RINGLOG_OVERWRITE, 1u << 20, NULL, 0, 0};
    char default_name[64];
    parse_demo_args(argc, argv, &d);
    demo_defaults(&d, default_name, sizeof default_name);

    struct demo_run run;
    memset(&run, 0, sizeof run);
    run.d = &d;
    run.log = create_region(&d);
    /* From here on the region is ours: every way out goes through
     * finish_run, Ctrl-C included. */
    catch_signals();
    int status = prepare_run(&run);
    if (status == 0)
        status = run_threads(&run);
    if (status == 0)
        status = report_run(&run);
    return finish_run(&run, status);
}
