/*
 * ringlog record: the flight recorder (ringlog_recorder_start) in a process
 * of its own, until SIGINT or SIGTERM.
 */
#include "tool.h"

#include <pthread.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { R_HELP = 1, R_DIR, R_KEEP, R_POST, R_ONCE };

static const char record_help[] =
    "Usage: ringlog record NAME --dir DIR [--keep N] [--post SECONDS] [--once]\n"
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
    "Options:\n"
    "  --dir DIR       where snapshots go (created if missing; checked at start\n"
    "                  by creating and removing a file in it)\n"
    "  --keep N        keep the newest N snapshots of NAME in DIR (default 10, 0: all)\n"
    "  --post SECONDS  post-trigger window (default 0)\n"
    "  --once          exit after the first snapshot\n"
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

int cmd_record(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, R_HELP}, {"dir", 'd', OPT_VALUE, R_DIR},
        {"keep", 'k', OPT_VALUE, R_KEEP}, {"post", 'p', OPT_VALUE, R_POST},
        {"once", 0, OPT_NONE, R_ONCE},    {NULL, 0, OPT_NONE, 0},
    };
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
    ringlog_recorder *rec;
    int rc = ringlog_recorder_start(name, &ro, &rec);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    fprintf(stderr, "ringlog: record: waiting for triggers on %s\n", name);
    while (!(once && atomic_load(&snapshots_done) > 0)) {
        int sig = 0;
        if (sigwait(&wait_set, &sig) == 0 && sig != SIGUSR1)
            break;
    }
    ringlog_recorder_stop(rec);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return atomic_load(&failures) ? EXIT_RUNTIME : 0;
}
