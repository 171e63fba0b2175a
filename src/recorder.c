/*
 * The recorder: a thread that sleeps on a region's trigger word and writes
 * one snapshot per trigger burst into a directory, keeping the newest N.
 * `ringlog record` is this thread plus signal handling; programs that want
 * no second process start it themselves (ringlog_recorder_start).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A snapshot copied and waiting to be written: the copying thread goes
 * back to the triggers while the writing thread names, writes and syncs
 * the file, so that a trigger never waits for a disk (writers are frozen
 * until their trigger's image is copied). */
struct pending {
    struct rl_snap_job j;
    unsigned char *buf; /* room for two images; ours to recycle */
    char path[4096];
    char reason[RINGLOG_REASON_MAX];
    int has_reason;
    uint32_t first, covered;
};
#define QUEUE_MAX 4u

struct ringlog_recorder {
    pthread_t thread, writer;
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct pending *queue[QUEUE_MAX];
    unsigned qhead, qlen;
    int qdone;
    /* A buffer for the next snapshot, touched in advance so that copying
     * while writers are frozen takes no page faults (one at a time; more
     * in flight allocate their own). */
    unsigned char *spare;
    size_t bufsize;
    struct ringlog_recorder_options o;
    char *name, *dir, *base;
    _Atomic int stop;
    _Atomic uint64_t snapshots;
    uint32_t seen0; /* trigger count when start returned */
    uint32_t named; /* highest trigger number a file has named */
    struct rl_region g; /* the region (writable when we may: the freeze), mapped once */
    /* Per registry slot, the pid and generation of the last holder whose
     * death was handled. */
    uint64_t *reported;
};

/* How often the recorder looks for producers that died without raising a
 * trigger (SIGKILL, a crash without the crash handler).  The trigger wait
 * itself is a futex; this scan is a few kill(pid, 0) calls a second. */
#define DEATH_SCAN_MS 1000u

static uint64_t reg_holder(uint64_t w)
{
    return w & ~(uint64_t)0xffu; /* pid and generation, not the state */
}

/* Slots whose holder is now dead and was not reported yet; their pids go
 * into pids[] (at most max).  With report == 0 only records the baseline. */
static unsigned scan_deaths(struct ringlog_recorder *rec, uint32_t *pids, unsigned max, int report)
{
    unsigned n = 0;
    for (uint32_t i = 1; i < RL_REGISTRY_COUNT; i++) {
        struct rl_registry_slot *s = &rec->g.registry[i];
        uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
        unsigned st = rl_reg_state(w);
        if ((st != RL_REG_LIVE && st != RL_REG_DEAD) || reg_holder(w) == rec->reported[i])
            continue;
        uint64_t start = s->start_time;
        /* Re-check: a slot re-claimed between the two loads would pair the
         * new holder's start time with the old pid. */
        if (atomic_load_explicit(&s->word, memory_order_acquire) != w)
            continue;
        if (st == RL_REG_LIVE && rl_plat_proc_alive(rl_reg_pid(w), start))
            continue;
        rec->reported[i] = reg_holder(w);
        if (report && n < max)
            pids[n++] = rl_reg_pid(w);
    }
    return n;
}

struct snap_names {
    const char *dir, *base;
    size_t blen;
};

/* NAME-... .rlsnap files; on the way, removes the temporary file of a
 * recorder that died while writing it. */
static int snapshot_file(void *arg, const char *name)
{
    const struct snap_names *sn = arg;
    size_t len = strlen(name);
    if (strncmp(name, sn->base, sn->blen) != 0 || name[sn->blen] != '-')
        return 0;
    const char *tmp = strstr(name, ".rlsnap.tmp.");
    if (tmp) {
        long pid = strtol(tmp + 12, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", sn->dir, name);
            unlink(path);
        }
        return 0;
    }
    return len >= 7 && strcmp(name + len - 7, ".rlsnap") == 0;
}

/* Oldest first by name: the UTC time in the name orders them. */
static void prune(const char *dir, const char *base, unsigned keep)
{
    if (!keep)
        return;
    struct snap_names sn = {dir, base, strlen(base)};
    char **names;
    size_t n = rl_plat_dir_names(dir, snapshot_file, &sn, &names);
    for (size_t i = 0; i < n; i++) {
        if (i + keep < n) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            unlink(path);
        }
        free(names[i]);
    }
    free(names);
}

/* A burst of triggers gives one file: after the first, the recorder waits
 * until none has come for BURST_QUIET_MS (and the post window is over),
 * but never longer than BURST_MAX_MS past the post window, then takes the
 * second image.  The first image is taken at once, so waiting loses none of
 * the history before the first trigger. */
#define BURST_QUIET_MS 100u
#define BURST_MAX_MS 2000u

static uint64_t mono_ms(void)
{
    return rl_plat_mono_ns() / 1000000u;
}

/* Sleeps on the region's trigger word until it moves past *seen, a wake
 * (ringlog_recorder_stop makes one), or timeout_ms.  Returns 1 and updates
 * *seen when a trigger came.  A stop that lands just before the sleep is
 * noticed at the timeout, at most DEATH_SCAN_MS later. */
static int wait_for_trigger(struct ringlog_recorder *rec, uint32_t *seen, uint64_t timeout_ms)
{
    _Atomic uint32_t *word = &rec->g.hdr->triggers;
    uint32_t cur = atomic_load_explicit(word, memory_order_acquire);
    if (cur == *seen && timeout_ms && !atomic_load_explicit(&rec->stop, memory_order_acquire)) {
        rl_plat_futex_wait(word, cur, timeout_ms * 1000000u);
        cur = atomic_load_explicit(word, memory_order_acquire);
    }
    if (cur == *seen)
        return 0;
    *seen = cur;
    return 1;
}

/* DIR/NAME-<UTC time of `now`>-<what><n>.rlsnap */
static void snap_path(const struct ringlog_recorder *rec, const struct timespec *now,
                      const char *what, uint32_t n, char *path, size_t cap)
{
    struct tm tm;
    gmtime_r(&now->tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(path, cap, "%s/%s-%s.%03ldZ-%s%u.rlsnap", rec->dir, rec->base, stamp,
             now->tv_nsec / 1000000, what, n);
}

/* After rl_snap_finish: count a written file, apply --keep, tell the
 * caller (first = last = 0: a death's snapshot). */
static void snap_done(struct ringlog_recorder *rec, int rc, const char *path, uint32_t first,
                      uint32_t last)
{
    if (rc == 0) {
        atomic_fetch_add_explicit(&rec->snapshots, 1, memory_order_relaxed);
        prune(rec->dir, rec->base, rec->o.keep);
    }
    if (rec->o.on_snapshot)
        rec->o.on_snapshot(rec->o.arg, rc == 0 ? path : NULL, first, last, rc);
}

/* A pending snapshot with a buffer: the spare if there is one. */
static struct pending *acquire(struct ringlog_recorder *rec)
{
    struct pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_lock(&rec->qlock);
    p->buf = rec->spare;
    rec->spare = NULL;
    pthread_mutex_unlock(&rec->qlock);
    if (!p->buf && !(p->buf = aligned_alloc(64, rec->bufsize))) {
        free(p);
        return NULL;
    }
    return p;
}

static void release(struct ringlog_recorder *rec, struct pending *p)
{
    pthread_mutex_lock(&rec->qlock);
    if (!rec->spare) {
        rec->spare = p->buf;
        p->buf = NULL;
    }
    pthread_mutex_unlock(&rec->qlock);
    free(p->buf);
    free(p);
}

/* Hands a copied snapshot to the writing thread; waits while QUEUE_MAX
 * are already waiting (a disk that slow holds the copies back, bounded). */
static void enqueue(struct ringlog_recorder *rec, struct pending *p)
{
    pthread_mutex_lock(&rec->qlock);
    while (rec->qlen == QUEUE_MAX)
        pthread_cond_wait(&rec->qcond, &rec->qlock);
    rec->queue[(rec->qhead + rec->qlen++) % QUEUE_MAX] = p;
    pthread_cond_broadcast(&rec->qcond);
    pthread_mutex_unlock(&rec->qlock);
}

static void *writer_main(void *arg)
{
    struct ringlog_recorder *rec = arg;
    for (;;) {
        pthread_mutex_lock(&rec->qlock);
        while (!rec->qlen && !rec->qdone)
            pthread_cond_wait(&rec->qcond, &rec->qlock);
        if (!rec->qlen) {
            pthread_mutex_unlock(&rec->qlock);
            return NULL;
        }
        struct pending *p = rec->queue[rec->qhead];
        rec->qhead = (rec->qhead + 1) % QUEUE_MAX;
        rec->qlen--;
        pthread_cond_broadcast(&rec->qcond);
        pthread_mutex_unlock(&rec->qlock);
        int rc = rl_snap_finish(&p->j, p->path, p->has_reason ? p->reason : NULL, p->first,
                                p->has_reason ? NULL : &rec->named);
        snap_done(rec, rc, p->path, p->first, p->first ? p->covered : 0);
        release(rec, p);
    }
}

static void *recorder_main(void *arg)
{
    struct ringlog_recorder *rec = arg;
    uint32_t seen = rec->seen0;
    uint64_t next_scan = mono_ms() + DEATH_SCAN_MS;
    while (!atomic_load_explicit(&rec->stop, memory_order_acquire)) {
        uint32_t before = seen;
        uint32_t dead[8];
        unsigned ndead = 0;
        /* Asleep on the trigger futex until a trigger, the next death scan
         * or a stop (ringlog_recorder_stop wakes the futex). */
        uint64_t now_ms = mono_ms();
        if (!wait_for_trigger(rec, &seen, now_ms < next_scan ? next_scan - now_ms : 0)) {
            if (mono_ms() < next_scan)
                continue;
            next_scan = mono_ms() + DEATH_SCAN_MS;
            if ((ndead = scan_deaths(rec, dead, 8, 1)) == 0)
                continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct pending *p = acquire(rec);
        if (!p) {
            snap_done(rec, rl_fail(RINGLOG_ENOMEM, "no memory for a snapshot"), NULL, before + 1,
                      seen);
            continue;
        }
        /* From our own mapping, into a buffer touched before: the copy is
         * all the time writers stay frozen. */
        int rc = rl_snap_begin_at(&p->j, &rec->g, p->buf, rec->bufsize);
        uint32_t covered = seen;
        if (ndead) {
            /* No trigger: a producer died (its last entries are in the
             * rings).  One image; the reason names the dead. */
            int k = snprintf(p->reason, sizeof p->reason,
                             "producer%s died without a trigger: pid", ndead > 1 ? "s" : "");
            for (unsigned i = 0; i < ndead && k > 0 && (size_t)k < sizeof p->reason - 12; i++)
                k += snprintf(p->reason + k, sizeof p->reason - (size_t)k, " %u", dead[i]);
            p->has_reason = 1;
            snap_path(rec, &now, "died", dead[0], p->path, sizeof p->path);
            if (rc == 0) {
                enqueue(rec, p);
            } else {
                snap_done(rec, rc, p->path, 0, 0);
                release(rec, p);
            }
            continue;
        }
        if (rc == 0) {
            uint64_t t0 = mono_ms(), last = t0, post_end = t0 + rec->o.post_ms;
            uint64_t cap = post_end + BURST_MAX_MS;
            for (;;) {
                uint64_t t = mono_ms(), until = last + BURST_QUIET_MS;
                if (until < post_end)
                    until = post_end;
                if (until > cap)
                    until = cap;
                if (t >= until || atomic_load_explicit(&rec->stop, memory_order_acquire))
                    break;
                if (wait_for_trigger(rec, &seen, until - t)) {
                    last = mono_ms();
                    /* A later trigger of the burst froze the writers too:
                     * copy its moment now (image 2), not at the burst's
                     * end, which would hold them frozen meanwhile. */
                    if ((rc = rl_snap_again(&p->j)) != 0)
                        break;
                }
            }
            /* The post-trigger window's image, or triggers counted since
             * the last image (seen moved past what it covers). */
            if (rc == 0 && (rec->o.post_ms || seen != p->j.covered))
                rc = rl_snap_again(&p->j);
            covered = p->j.covered;
        }
        snap_path(rec, &now, "t", before + 1, p->path, sizeof p->path);
        p->first = before + 1;
        p->covered = covered;
        if (rc == 0) {
            /* A process that died by now (typically the one whose crash
             * handler raised this trigger) has its last entries in these
             * images: its death needs no file of its own. */
            scan_deaths(rec, NULL, 0, 0);
            enqueue(rec, p);
        } else {
            rl_snap_abort(&p->j);
            covered = seen; /* a failed attempt is reported, not retried for ever */
            snap_done(rec, rc, p->path, before + 1, covered);
            release(rec, p);
        }
        /* Triggers counted after the last image are not in this file: the
         * next round takes them (at once, the count already moved). */
        seen = covered;
    }
    return NULL;
}

/* A recorder that cannot save must say so when it starts, not when the
 * first trigger comes: create the directory if missing, then create and
 * remove a file in it, the way a snapshot will. */
int rl_probe_dir(const char *dir, const char *what)
{
    if (!*dir)
        return rl_fail(RINGLOG_EINVAL, "the directory for %s is an empty string", what);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return rl_fail(errno == EACCES ? RINGLOG_EACCES : RINGLOG_EIO, "%s: cannot create: %s",
                       dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0)
        return rl_fail(RINGLOG_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return rl_fail(RINGLOG_EINVAL, "%s: not a directory", dir);
    char probe[4096];
    if ((size_t)snprintf(probe, sizeof probe, "%s/.ringlog-probe.%u", dir, rl_plat_pid()) >=
        sizeof probe)
        return rl_fail(RINGLOG_EINVAL, "%s: path too long", dir);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        return rl_fail(e == EACCES || e == EPERM || e == EROFS ? RINGLOG_EACCES : RINGLOG_EIO,
                       "%s: cannot write %s here: %s", dir, what, strerror(e));
    }
    close(fd);
    unlink(probe);
    return 0;
}

int ringlog_recorder_start(const char *name, const struct ringlog_recorder_options *opts,
                           ringlog_recorder **out)
{
    if (!name || !opts || !opts->dir || !out)
        return rl_fail(RINGLOG_EINVAL, "name, options, options->dir and out are required");
    *out = NULL;
    int rc = rl_probe_dir(opts->dir, "snapshots");
    if (rc)
        return rc;
    struct ringlog_recorder *rec = calloc(1, sizeof *rec);
    if (!rec)
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    rec->o = *opts;
    struct ringlog_options ro = {.flags = RINGLOG_OPEN_EXISTING};
    /* Writable when we may: triggers then freeze the history until we
     * have copied it (DESIGN.md, "Snapshots"). */
    rc = rl_region_open(&rec->g, name, &ro, 1, 0);
    if (rc == RINGLOG_EACCES)
        rc = rl_region_open(&rec->g, name, &ro, 0, 0);
    if (rc) {
        free(rec);
        return rc;
    }
    rec->bufsize = RL_SNAP_HEADER_SIZE + 2 * (size_t)rec->g.fixed.region_size;
    rec->spare = aligned_alloc(64, rec->bufsize);
    if (!rec->spare) {
        size_t want = rec->bufsize;
        rl_region_close(&rec->g);
        free(rec);
        return rl_fail(RINGLOG_ENOMEM, "no memory for a %zu-byte snapshot buffer", want);
    }
    memset(rec->spare, 0, rec->bufsize); /* touched now, not while writers wait */
    rec->reported = calloc(RL_REGISTRY_COUNT, sizeof *rec->reported);
    if (!rec->reported) {
        rl_region_close(&rec->g);
        free(rec->spare);
        free(rec);
        return rl_fail(RINGLOG_ENOMEM, "out of memory");
    }
    /* The baselines are taken here, not in the thread: a trigger raised
     * after start returns must produce a snapshot however late the thread
     * is scheduled; deaths and trigger numbers from before are not the
     * recorder's business. */
    rec->seen0 = atomic_load_explicit(&rec->g.hdr->triggers, memory_order_acquire);
    scan_deaths(rec, NULL, 0, 0);
    rec->named = atomic_load_explicit(&rec->g.hdr->trigger_seq, memory_order_relaxed);
    const char *slash = strrchr(name, '/');
    rec->name = strdup(name);
    rec->dir = strdup(opts->dir);
    rec->base = strdup(slash ? slash + 1 : name);
    rec->o.dir = rec->dir;
    pthread_mutex_init(&rec->qlock, NULL);
    pthread_cond_init(&rec->qcond, NULL);
    int have_writer = 0;
    if (!rec->name || !rec->dir || !rec->base ||
        !(have_writer = pthread_create(&rec->writer, NULL, writer_main, rec) == 0) ||
        pthread_create(&rec->thread, NULL, recorder_main, rec) != 0) {
        if (have_writer) {
            pthread_mutex_lock(&rec->qlock);
            rec->qdone = 1;
            pthread_cond_broadcast(&rec->qcond);
            pthread_mutex_unlock(&rec->qlock);
            pthread_join(rec->writer, NULL);
        }
        rl_region_close(&rec->g);
        free(rec->spare);
        free(rec->reported);
        free(rec->name);
        free(rec->dir);
        free(rec->base);
        free(rec);
        return rl_fail(RINGLOG_ENOMEM, "cannot start the recorder thread");
    }
    /* From now on triggers freeze writers until we have copied. */
    if (rec->g.map.writable)
        atomic_store_explicit(&rec->g.hdr->recorder_pid, rl_plat_pid(), memory_order_relaxed);
    *out = rec;
    return 0;
}

uint64_t ringlog_recorder_stop(ringlog_recorder *rec)
{
    if (!rec)
        return 0;
    atomic_store_explicit(&rec->stop, 1, memory_order_release);
    /* Wakes every waiter on the region's trigger word: ours sees the stop
     * flag, others find the count unchanged and sleep again. */
    rl_plat_futex_wake(&rec->g.hdr->triggers);
    pthread_join(rec->thread, NULL);
    /* Snapshots copied are written before we return. */
    pthread_mutex_lock(&rec->qlock);
    rec->qdone = 1;
    pthread_cond_broadcast(&rec->qcond);
    pthread_mutex_unlock(&rec->qlock);
    pthread_join(rec->writer, NULL);
    uint64_t n = atomic_load_explicit(&rec->snapshots, memory_order_relaxed);
    uint32_t me = rl_plat_pid();
    if (rec->g.map.writable)
        atomic_compare_exchange_strong_explicit(&rec->g.hdr->recorder_pid, &me, 0,
                                                memory_order_relaxed, memory_order_relaxed);
    rl_region_close(&rec->g);
    free(rec->spare);
    free(rec->reported);
    free(rec->name);
    free(rec->dir);
    free(rec->base);
    free(rec);
    return n;
}
