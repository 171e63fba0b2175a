/*
 * The recorder: a thread that sleeps on a region's trigger word and writes
 * one snapshot per trigger burst into a directory, keeping the newest N.
 * `ringlog record` is this thread plus signal handling; programs that want
 * no second process start it themselves (ringlog_recorder_start).
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ringlog_recorder {
    pthread_t thread;
    ringlog_reader *r;
    struct ringlog_recorder_options o;
    char *name, *dir, *base;
    _Atomic int stop;
    _Atomic uint64_t snapshots;
    uint32_t seen0; /* trigger count when start returned */
};

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Oldest first by name: the UTC time in the name orders them. */
static void prune(const char *dir, const char *base, unsigned keep)
{
    DIR *d = opendir(dir);
    if (!keep || !d) {
        if (d)
            closedir(d);
        return;
    }
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
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i + keep < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void *recorder_main(void *arg)
{
    struct ringlog_recorder *rec = arg;
    struct ringlog_info info;
    uint32_t seen = rec->seen0;
    while (!atomic_load_explicit(&rec->stop, memory_order_acquire)) {
        uint32_t before = seen;
        if (ringlog_reader_wait_trigger(rec->r, &seen, 200) != 1)
            continue;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        char stamp[32], path[4096], reason[96];
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
        snprintf(path, sizeof path, "%s/%s-%s.%03ldZ-t%u.rlsnap", rec->dir, rec->base, stamp,
                 now.tv_nsec / 1000000, seen);
        snprintf(reason, sizeof reason, "trigger %u%s", seen,
                 seen - before > 1 ? " (several since the last snapshot)" : "");
        int rc = ringlog_snapshot(rec->name, path, reason, rec->o.post_ms);
        /* Triggers raised while we took it are covered by it: one file a
         * burst, not a storm. */
        ringlog_reader_info(rec->r, &info);
        uint32_t covered = info.triggers;
        if (rc == 0) {
            atomic_fetch_add_explicit(&rec->snapshots, 1, memory_order_relaxed);
            prune(rec->dir, rec->base, rec->o.keep);
        }
        if (rec->o.on_snapshot)
            rec->o.on_snapshot(rec->o.arg, rc == 0 ? path : NULL, before + 1, covered, rc);
        seen = covered;
    }
    return NULL;
}

int ringlog_recorder_start(const char *name, const struct ringlog_recorder_options *opts,
                           ringlog_recorder **out)
{
    if (!name || !opts || !opts->dir || !out)
        return rl_fail(RINGLOG_EINVAL, "name, options, options->dir and out are required");
    *out = NULL;
    if (mkdir(opts->dir, 0700) != 0 && errno != EEXIST)
        return rl_fail(RINGLOG_EIO, "%s: cannot create: %s", opts->dir, strerror(errno));
    struct ringlog_recorder *rec = calloc(1, sizeof *rec);
    if (!rec)
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    rec->o = *opts;
    int rc = ringlog_reader_open(name, RINGLOG_READER_PEEK, &rec->r);
    if (rc) {
        free(rec);
        return rc;
    }
    /* The baseline is taken here, not in the thread: a trigger raised
     * after start returns must produce a snapshot however late the thread
     * is scheduled. */
    struct ringlog_info info;
    ringlog_reader_info(rec->r, &info);
    rec->seen0 = info.triggers;
    const char *slash = strrchr(name, '/');
    rec->name = strdup(name);
    rec->dir = strdup(opts->dir);
    rec->base = strdup(slash ? slash + 1 : name);
    rec->o.dir = rec->dir;
    if (!rec->name || !rec->dir || !rec->base ||
        pthread_create(&rec->thread, NULL, recorder_main, rec) != 0) {
        ringlog_reader_close(rec->r);
        free(rec->name);
        free(rec->dir);
        free(rec->base);
        free(rec);
        return rl_fail(RINGLOG_ENOMEM, "cannot start the recorder thread");
    }
    *out = rec;
    return 0;
}

uint64_t ringlog_recorder_stop(ringlog_recorder *rec)
{
    if (!rec)
        return 0;
    atomic_store_explicit(&rec->stop, 1, memory_order_release);
    pthread_join(rec->thread, NULL); /* it wakes at least every 200 ms */
    uint64_t n = atomic_load_explicit(&rec->snapshots, memory_order_relaxed);
    ringlog_reader_close(rec->r);
    free(rec->name);
    free(rec->dir);
    free(rec->base);
    free(rec);
    return n;
}
