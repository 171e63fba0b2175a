/*
 * ringlog record: the flight recorder (ringlog_recorder_start) in a process
 * of its own, until SIGINT or SIGTERM; with --continuous, also continuous
 * recording (ringlog_continuous_start) into rotating files.
 */
#include "tool.h"

#include <pthread.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    R_HELP = 1, R_DIR, R_KEEP, R_POST, R_ONCE, R_CONT, R_MAXSIZE, R_MAXFILES, R_MAXAGE,
    R_COMPRESS, R_FLUSH, R_NOSNAP,
};

static const char record_help[] =
    "Usage: ringlog record NAME --dir DIR [--keep N] [--post SECONDS] [--once]\n"
    "       ringlog record NAME --dir DIR --continuous [--max-file-size BYTES]\n"
    "                      [--max-files N] [--max-age SECONDS] [--compress zstd[:LEVEL]]\n"
    "                      [--flush SECONDS] [--no-snapshots]\n"
    "\n"
    "Wait for triggers on region NAME (ringlog_trigger(), `ringlog trigger`,\n"
    "the crash handler) without polling, and on each write a snapshot file into\n"
    "DIR: NAME-<UTC time>-t<first trigger>.rlsnap.  A snapshot holds everything\n"
    "the rings held at the first trigger of a burst and, once the burst is over\n"
    "(no trigger for 100 ms) and the --post window has passed, a second image:\n"
    "a burst gives one snapshot, not a storm, and every trigger is in exactly\n"
    "one file, which holds its TRIGGER entry.  The header names the first\n"
    "trigger's reason.  When a producer process dies without a trigger\n"
    "(SIGKILL, a crash without the crash handler; checked once a second) it\n"
    "writes NAME-<UTC time>-died<PID>.rlsnap.  Files are written under a\n"
    "temporary name, fsync'd and renamed.  Read them with `ringlog dump FILE`.\n"
    "Prints one line per snapshot: its path and the triggers it covers.\n"
    "\n"
    "With --continuous it is also the region's consuming reader (like tail; one\n"
    "at a time) and writes every entry, in index order, with every gap, into\n"
    "recording files NAME-<UTC time>-i<first index>.rlrec in DIR, rotated at\n"
    "--max-file-size.  Each file stands alone (header, the call sites its\n"
    "entries use, a summary at its end): `ringlog dump FILE`, `stats FILE` and\n"
    "`export FILE` read it, while it is written too.  Consecutive files\n"
    "continue the index with nothing lost or repeated.  Prints one line per\n"
    "file closed, and a summary on exit.  Triggers still write snapshots,\n"
    "which then hold what was not yet recorded (the trigger and after);\n"
    "the history before it is in the recording files.  A write error (a full\n"
    "disk, a removed directory) stops recording with exit status 1; the file\n"
    "is cut back to its last whole block, and entries read but not written\n"
    "are counted.\n"
    "\n"
    "Options:\n"
    "  --dir DIR       where snapshots go (created if missing; checked at start\n"
    "                  by creating and removing a file in it)\n"
    "  --keep N        keep the newest N snapshots of NAME in DIR (default 10, 0: all)\n"
    "  --post SECONDS  post-trigger window (default 0)\n"
    "  --once          exit after the first snapshot\n"
    "  --continuous    record everything into rotating files (above)\n"
    "  --max-file-size BYTES  rotate after this size (default 64M; K, M, G)\n"
    "  --max-files N   keep the newest N recording files of NAME (default: all)\n"
    "  --max-age SECONDS  remove recording files older than this (default: never)\n"
    "  --compress zstd[:LEVEL]  zstd-compress blocks (level 1..19, default 3)\n"
    "  --flush SECONDS longest an entry waits in memory (default 1)\n"
    "  --no-snapshots  continuous recording only: no trigger snapshots\n"
    "  -h, --help      show this help\n"
    "\n"
    "Stops on SIGINT or SIGTERM.\n";

static _Atomic int snapshots_done, failures;

static pthread_t record_main;
static int record_once;

static void on_snapshot(void *arg, const char *path, uint32_t first, uint32_t last, int err)
{
    (void)arg;
    if (path && first) {
        printf("%s (triggers %u..%u)\n", path, first, last);
        fflush(stdout);
    } else if (path) {
        printf("%s (a producer died without a trigger)\n", path);
        fflush(stdout);
    } else {
        warnx_("snapshot for triggers %u..%u failed: %s", first, last, tool_describe(err, NULL));
        atomic_fetch_add(&failures, 1);
    }
    atomic_fetch_add(&snapshots_done, 1);
    if (record_once)
        pthread_kill(record_main, SIGUSR1); /* wake the main thread's sigwait */
}

static _Atomic int cont_failed;

static void on_file(void *arg, const char *path, const struct ringlog_continuous_file *f, int err)
{
    (void)arg;
    if (err) {
        warnx_("recording stopped: %s", ringlog_errmsg());
        atomic_store(&cont_failed, 1);
        pthread_kill(record_main, SIGUSR1);
        return;
    }
    printf("%s (indices %llu..%llu: %llu entries, %llu in gaps; %llu bytes)\n", path,
           (unsigned long long)f->first_index, (unsigned long long)f->next_index,
           (unsigned long long)f->entries, (unsigned long long)f->gap_calls,
           (unsigned long long)f->bytes);
    fflush(stdout);
}

static void parse_compress(const char *v, struct ringlog_continuous_options *co)
{
    if (strncmp(v, "zstd", 4) != 0 || (v[4] && v[4] != ':'))
        usage_error("--compress: expected zstd or zstd:LEVEL, got '%s'", v);
    co->flags |= RINGLOG_CONTINUOUS_ZSTD;
    if (v[4])
        co->zstd_level = (int)parse_count("--compress zstd:LEVEL", v + 5, 1, 19);
}

int cmd_record(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, R_HELP}, {"dir", 'd', OPT_VALUE, R_DIR},
        {"keep", 'k', OPT_VALUE, R_KEEP}, {"post", 'p', OPT_VALUE, R_POST},
        {"once", 0, OPT_NONE, R_ONCE},    {"continuous", 'c', OPT_NONE, R_CONT},
        {"max-file-size", 0, OPT_VALUE, R_MAXSIZE}, {"max-files", 0, OPT_VALUE, R_MAXFILES},
        {"max-age", 0, OPT_VALUE, R_MAXAGE}, {"compress", 'z', OPT_VALUE, R_COMPRESS},
        {"flush", 0, OPT_VALUE, R_FLUSH}, {"no-snapshots", 0, OPT_NONE, R_NOSNAP},
        {NULL, 0, OPT_NONE, 0},
    };
    struct ringlog_continuous_options co = {.on_file = on_file};
    int continuous = 0, no_snap = 0, cont_only = 0;
    struct opt_state st;
    const char *name = NULL;
    struct ringlog_recorder_options ro = {.keep = 10, .on_snapshot = on_snapshot};
    int once = 0, id;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case R_HELP: fputs(record_help, stdout); return 0;
        case R_DIR: ro.dir = st.value; break;
        case R_KEEP: ro.keep = (unsigned)parse_count(st.name, st.value, 0, 1000000); break;
        case R_POST: {
            double s = parse_seconds(st.name, st.value);
            if (s > 3600)
                usage_error("--post: at most 3600 seconds");
            ro.post_ms = (unsigned)(s * 1000 + 0.5);
            break;
        }
        case R_ONCE: once = 1; break;
        case R_CONT: continuous = 1; break;
        case R_MAXSIZE:
            co.max_file_size = parse_size(st.name, st.value, 4096, UINT64_C(1) << 40);
            cont_only = 1;
            break;
        case R_MAXFILES:
            co.max_files = (unsigned)parse_count(st.name, st.value, 1, 1000000);
            cont_only = 1;
            break;
        case R_MAXAGE: {
            double s = parse_seconds(st.name, st.value);
            if (s < 1 || s > 100.0 * 365 * 86400)
                usage_error("--max-age: between 1 second and 100 years");
            co.max_age_s = (unsigned)s;
            cont_only = 1;
            break;
        }
        case R_COMPRESS: parse_compress(st.value, &co); cont_only = 1; break;
        case R_FLUSH: {
            double s = parse_seconds(st.name, st.value);
            if (s < 0.001 || s > 3600)
                usage_error("--flush: between 0.001 and 3600 seconds");
            co.flush_ms = (unsigned)(s * 1000 + 0.5);
            cont_only = 1;
            break;
        }
        case R_NOSNAP: no_snap = 1; cont_only = 1; break;
        case OPT_POSITIONAL:
            if (name)
                usage_error("unexpected argument '%s'", st.value);
            name = st.value;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    if (!ro.dir)
        usage_error("missing --dir DIR");
    if (cont_only && !continuous)
        usage_error("--max-file-size, --max-files, --max-age, --compress, --flush and "
                    "--no-snapshots need --continuous");
    if (continuous && once)
        usage_error("--once and --continuous do not go together");
    co.dir = ro.dir;

    /* The main thread sleeps in sigwait until SIGINT or SIGTERM, or until
     * the recorder thread (after a snapshot, with --once) sends SIGUSR1:
     * no wake-ups while nothing happens.  Blocked before the recorder
     * thread starts, so that it inherits the mask and never takes them. */
    sigset_t wait_set, old_set;
    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGINT);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &wait_set, &old_set);
    record_main = pthread_self();
    record_once = once;
    ringlog_recorder *rec = NULL;
    ringlog_continuous *cont = NULL;
    int rc = 0;
    if (continuous) {
        rc = ringlog_continuous_start(name, &co, &cont);
        if (rc != 0)
            die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    }
    if (!no_snap && (rc = ringlog_recorder_start(name, &ro, &rec)) != 0) {
        if (cont)
            ringlog_continuous_stop(cont, NULL);
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    }
    if (cont)
        fprintf(stderr, "ringlog: record: recording %s into %s%s\n", name, ro.dir,
                rec ? ", and waiting for triggers" : "");
    else
        fprintf(stderr, "ringlog: record: waiting for triggers on %s\n", name);
    while (!(once && atomic_load(&snapshots_done) > 0) && !atomic_load(&cont_failed)) {
        int sig = 0;
        if (sigwait(&wait_set, &sig) == 0 && sig != SIGUSR1)
            break;
    }
    int status = 0;
    if (cont) {
        struct ringlog_continuous_stats cs;
        rc = ringlog_continuous_stop(cont, &cs);
        double per = cs.entries ? (double)cs.bytes / (double)cs.entries : 0;
        fprintf(stderr,
                "ringlog: record: %llu entries and %llu calls in gaps into %llu files, "
                "%llu bytes (%.1f bytes/entry; %llu before compression)\n",
                (unsigned long long)cs.entries, (unsigned long long)cs.gap_calls,
                (unsigned long long)cs.files, (unsigned long long)cs.bytes, per,
                (unsigned long long)cs.raw_bytes);
        if (rc) {
            warnx_("%s", ringlog_errmsg());
            if (cs.unsaved)
                warnx_("%llu entries and gap calls were read from the region but could not be "
                       "saved; the files written so far are whole",
                       (unsigned long long)cs.unsaved);
            status = EXIT_RUNTIME;
        }
    }
    if (rec)
        ringlog_recorder_stop(rec);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return atomic_load(&failures) || status ? EXIT_RUNTIME : 0;
}
