/*
 * Producer handles: ringlog_open and ringlog_close.  The top of the
 * producer side: a handle is a region (region.c), a registry slot, lanes
 * (lane.c) and possibly the crash handler (crash.c); nothing below calls
 * back up here.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, rl_lanes_fork_child);
}

int ringlog_open(const char *name, const struct ringlog_options *opts, ringlog **out)
{
    if (!out)
        return rl_fail(RINGLOG_EINVAL, "out is NULL");
    *out = NULL;
    pthread_once(&fork_once, install_fork_handler);
    ringlog *log = calloc(1, sizeof *log);
    if (!log)
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    int rc = rl_region_open(&log->g, name, opts, 1, 1);
    if (rc) {
        free(log);
        return rc;
    }
    log->fork_gen = atomic_load_explicit(&rl_fork_gen, memory_order_relaxed);
    /* Never 0 (a site's "not registered"); 2^32 opens before a repeat. */
    static _Atomic uint32_t next_tag;
    do
        log->tag = atomic_fetch_add_explicit(&next_tag, 1, memory_order_relaxed) + 1;
    while (log->tag == 0);
    rc = rl_registry_claim(&log->g, &log->owner);
    if (rc == 0 && (rc = rl_handles_add(log)) != 0)
        rl_registry_release(&log->g, log->owner);
    if (rc) {
        rl_region_close(&log->g);
        free(log);
        return rc;
    }
    log->name = strdup(name);
    *out = log;
    return 0;
}

void ringlog_close(ringlog *log)
{
    if (!log)
        return;
    rl_crash_forget(log); /* no signal handler may log into freed memory */
    rl_handles_remove(log);
    if (log->fork_gen == atomic_load_explicit(&rl_fork_gen, memory_order_relaxed)) {
        rl_lanes_release_all(log);
        rl_registry_release(&log->g, log->owner);
    }
    rl_region_close(&log->g);
    free(log->name);
    free(log);
}

/* The process-wide default region, and the run-time level. */

static _Atomic(ringlog *) default_log;

void ringlog_set_default(ringlog *log)
{
    atomic_store_explicit(&default_log, log, memory_order_release);
}

ringlog *ringlog_get_default(void)
{
    return atomic_load_explicit(&default_log, memory_order_acquire);
}

int ringlog_enabled(const ringlog *log, unsigned level)
{
    if (!log && !(log = atomic_load_explicit(&default_log, memory_order_acquire)))
        return 0;
    return rl_level_on(log, level);
}

int ringlog_set_level(ringlog *log, unsigned level)
{
    if (!log || level > 255)
        return rl_fail(RINGLOG_EINVAL, "level %u: must be 0..255", level);
    if (!log->g.map.writable)
        return rl_fail(RINGLOG_EACCES, "region mapped read-only");
    atomic_store_explicit(&log->g.hdr->min_level, level, memory_order_relaxed);
    return 0;
}

int ringlog_get_level(ringlog *log)
{
    if (!log)
        return rl_fail(RINGLOG_EINVAL, "NULL log");
    uint32_t l = atomic_load_explicit(&log->g.hdr->min_level, memory_order_relaxed);
    return l > 255 ? 255 : (int)l;
}

