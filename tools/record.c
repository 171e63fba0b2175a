/*
 * ringlog record: the flight recorder.  Sleeps on the region's trigger word
 * (a futex: no CPU while nothing happens) and writes a snapshot per trigger
 * burst.
 */
#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { R_HELP = 1, R_DIR, R_KEEP, R_POST, R_ONCE };

static const char record_help[] =
    "Usage: ringlog record NAME --dir DIR [--keep N] [--post SECONDS] [--once]\n"
    "\n"
    "Wait for triggers on region NAME (ringlog_trigger(3), `ringlog trigger`)\n"
    "without polling, and on each write a snapshot file into DIR:\n"
    "NAME-<UTC time>-t<trigger>.rlsnap.  A snapshot holds everything the\n"
    "rings held at the trigger and, with --post, a second image taken SECONDS\n"
    "later.  Triggers that arrive while a snapshot is taken are covered by it:\n"
    "a burst gives one snapshot, not a storm.  Files are written under a\n"
    "temporary name, fsync'd and renamed.  Read them with `ringlog dump FILE`.\n"
    "\n"
    "Options:\n"
    "  --dir DIR       where snapshots go (created if missing)\n"
    "  --keep N        keep the newest N snapshots of NAME in DIR (default 10, 0: all)\n"
    "  --post SECONDS  post-trigger window (default 0)\n"
    "  --once          exit after the first snapshot\n"
    "  -h, --help      show this help\n"
    "\n"
    "Stops on SIGINT or SIGTERM.\n";

static volatile sig_atomic_t stop_requested;
static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int snap_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest snapshots of `base` in `dir` beyond `keep`; the UTC
 * time in the names makes name order the age order. */
static void prune(const char *dir, const char *base, unsigned keep)
{
    if (!keep)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0, blen = strlen(base);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] != '-' || len < 7 ||
            strcmp(de->d_name + len - 7, ".rlsnap") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *names);
            if (!p)
                break;
            names = p;
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, snap_name_cmp);
    for (size_t i = 0; i + keep < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (unlink(path) != 0)
            warnx_("%s: cannot remove: %s", path, strerror(errno));
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int cmd_record(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, R_HELP}, {"dir", 'd', OPT_VALUE, R_DIR},
        {"keep", 'k', OPT_VALUE, R_KEEP}, {"post", 'p', OPT_VALUE, R_POST},
        {"once", 0, OPT_NONE, R_ONCE},    {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL, *dir = NULL;
    unsigned keep = 10, post_ms = 0;
    int once = 0, id;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case R_HELP: fputs(record_help, stdout); return 0;
        case R_DIR: dir = st.value; break;
        case R_KEEP: keep = (unsigned)parse_count(st.name, st.value, 0, 1000000); break;
        case R_POST: {
            double s = parse_seconds(st.name, st.value);
            if (s > 3600)
                usage_error("--post: at most 3600 seconds");
            post_ms = (unsigned)(s * 1000 + 0.5);
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
    if (!dir)
        usage_error("missing --dir DIR");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        die(EXIT_RUNTIME, "%s: cannot create: %s", dir, strerror(errno));

    ringlog_reader *r;
    int rc = ringlog_reader_open(name, RINGLOG_READER_PEEK, &r);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, rl_describe(rc, name));
    struct ringlog_info info;
    ringlog_reader_info(r, &info);
    uint32_t seen = info.triggers;
    /* A region name may be a path: use its last component in file names. */
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "ringlog: record: waiting for triggers on %s (%u so far)\n", name, seen);
    int status = 0;
    while (!stop_requested) {
        uint32_t before = seen;
        rc = ringlog_reader_wait_trigger(r, &seen, 500);
        if (rc < 0)
            die(EXIT_RUNTIME, "%s: %s", name, ringlog_strerror(rc));
        if (rc == 0)
            continue;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        char stamp[32], path[4096], reason[96];
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
        snprintf(path, sizeof path, "%s/%s-%s.%03ldZ-t%u.rlsnap", dir, base, stamp,
                 now.tv_nsec / 1000000, seen);
        snprintf(reason, sizeof reason, "trigger %u%s", seen,
                 seen - before > 1 ? " (several since the last snapshot)" : "");
        rc = ringlog_snapshot(name, path, reason, post_ms);
        if (rc != 0) {
            warnx_("%s: snapshot failed: %s", path, ringlog_errmsg());
            status = EXIT_RUNTIME;
        } else {
            /* Triggers raised while we took it are in it: one file a burst. */
            ringlog_reader_info(r, &info);
            uint32_t covered = info.triggers;
            printf("%s (triggers %u..%u)\n", path, before + 1, covered);
            fflush(stdout);
            seen = covered;
            prune(dir, base, keep);
        }
        if (once)
            break;
    }
    ringlog_reader_close(r);
    return status;
}
