/* Linux implementation of platform.h. */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define RL_HAVE_TSC 1
#else
#define RL_HAVE_TSC 0
#endif

unsigned rl_plat_cpu(void)
{
    /* glibc >= 2.35 answers from the rseq area the kernel keeps current:
     * a load, not a system call. */
    int c = sched_getcpu();
    return c < 0 ? 0u : (unsigned)c;
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
/* PREFETCHW exists where CPUID says 3DNowPrefetch (all AMD64 AMD parts,
 * Intel since Broadwell); elsewhere its opcode may fault. */
static int have_prefetchw(void)
{
    static _Atomic int known; /* 0 unknown, 1 no, 2 yes: racing first calls agree */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (RL_UNLIKELY(k == 0)) {
        unsigned a, b, c, d;
        k = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 8)) ? 2 : 1;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k == 2;
}
#endif

void rl_plat_prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    if (have_prefetchw()) {
        const char *c = (const char *)p;
        __asm__ volatile("prefetchw %0\n\tprefetchw %1" : : "m"(c[0]), "m"(c[64]));
        return;
    }
#endif
    __builtin_prefetch(p, 1, 3);
    __builtin_prefetch((const char *)p + 64, 1, 3);
}

uint64_t rl_plat_tsc(void)
{
#if RL_HAVE_TSC
    /* lfence first: rdtsc alone may read the counter before earlier loads
     * have completed, so an entry logged right after seeing another
     * thread's write (its cause) could be stamped before that write was
     * made.  (rdtscp would do, but not every virtual CPU has it.) */
    _mm_lfence();
    return __rdtsc();
#else
    return rl_plat_mono_ns();
#endif
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rl_plat_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t rl_plat_real_ns(void) { return clock_ns(CLOCK_REALTIME); }
/* The vDSO's coarse clock: the last tick's time, a few ns to read. */
uint64_t rl_plat_coarse_ns(void) { return clock_ns(CLOCK_MONOTONIC_COARSE); }

int rl_plat_tsc_usable(void)
{
#if RL_HAVE_TSC
    if (getenv("RINGLOG_NO_TSC"))
        return 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[4096];
    int constant = 0, nonstop = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    if (!(constant && nonstop))
        return 0;
    /* Invariant is not enough: the TSCs of all CPUs must agree, or entries
     * of two lanes would be ordered by which CPU they ran on.  The kernel
     * checks that and withdraws the TSC as a clocksource when they do not
     * (or when booted with tsc=unstable, as some virtual machines are):
     * trust it only while the kernel offers it.  RINGLOG_CLOCK=tsc
     * overrides, for machines known to be synchronised. */
    const char *force = getenv("RINGLOG_CLOCK");
    if (force && strcmp(force, "tsc") == 0)
        return 1;
    char cs[256] = "";
    FILE *c = fopen("/sys/devices/system/clocksource/clocksource0/available_clocksource", "r");
    if (c) {
        if (!fgets(cs, sizeof cs, c))
            cs[0] = 0;
        fclose(c);
    }
    char *save = NULL;
    for (char *t = strtok_r(cs, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
        if (strcmp(t, "tsc") == 0)
            return 1;
    return 0;
#else
    return 0;
#endif
}

uint64_t rl_plat_tsc_hz(void)
{
#if RL_HAVE_TSC
    /* Two 10 ms windows; keep the one least disturbed by preemption
     * (the shortest measured wall-clock span around the TSC reads). */
    uint64_t best_hz = 0, best_err = UINT64_MAX;
    for (int i = 0; i < 2; i++) {
        uint64_t m0 = rl_plat_mono_ns(), t0 = rl_plat_tsc(), m0b = rl_plat_mono_ns();
        rl_plat_sleep_ns(10 * 1000 * 1000);
        uint64_t m1 = rl_plat_mono_ns(), t1 = rl_plat_tsc(), m1b = rl_plat_mono_ns();
        uint64_t err = (m0b - m0) + (m1b - m1);
        uint64_t ns = ((m1 + m1b) / 2) - ((m0 + m0b) / 2);
        if (ns == 0)
            continue;
        uint64_t hz = (uint64_t)((double)(t1 - t0) * 1e9 / (double)ns);
        if (err < best_err) {
            best_err = err;
            best_hz = hz;
        }
    }
    return best_hz;
#else
    return 0;
#endif
}

unsigned rl_plat_possible_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n < 1 ? 1u : (unsigned)n;
}

unsigned rl_plat_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

int rl_plat_is_path(const char *name)
{
    /* "/app" is a shared-memory name; "/var/log/app" and "./app" are paths. */
    return strchr(name + (name[0] == '/'), '/') != NULL;
}

static int map_errno(int e)
{
    switch (e) {
    case ENOENT: return RINGLOG_ENOENT;
    case EEXIST: return RINGLOG_EEXIST;
    case EACCES: case EPERM: case EROFS: return RINGLOG_EACCES;
    case ENOMEM: return RINGLOG_ENOMEM;
    case EINVAL: case ENAMETOOLONG: return RINGLOG_EINVAL;
    default: return RINGLOG_EIO;
    }
}

/* The one rule for names (FORMAT.md, "Names"): a shared-memory name is
 * one file name of /dev/shm, so not empty, not "." or "..", at most
 * NAME_MAX bytes; a path's components are the file system's business, but
 * a too-long one is named here rather than as a bare ENAMETOOLONG. */
static int check_name(const char *name)
{
    if (rl_plat_is_path(name)) {
        size_t len = strlen(name), comp = 0, longest = 0;
        for (size_t i = 0; i <= len; i++) {
            if (name[i] == '/' || !name[i]) {
                longest = comp > longest ? comp : longest;
                comp = 0;
            } else {
                comp++;
            }
        }
        if (len >= PATH_MAX || longest > NAME_MAX)
            return rl_fail(RINGLOG_EINVAL,
                           "%.40s...: path too long (at most %d bytes, %d per component; this "
                           "one has %zu, its longest component %zu)",
                           name, PATH_MAX - 1, NAME_MAX, len, longest);
        return 0;
    }
    const char *n = name + (name[0] == '/');
    size_t len = strlen(n);
    if (len == 0 || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
        return rl_fail(RINGLOG_EINVAL, "'%s' is not a region name (a name of /dev/shm: not empty, "
                       "not . or ..)", name);
    if (len > NAME_MAX)
        return rl_fail(RINGLOG_EINVAL,
                       "%.40s...: region name too long (at most %d bytes; this one has %zu)", n,
                       NAME_MAX, len);
    return 0;
}

static int open_object(const char *name, int flags, mode_t mode)
{
    if (rl_plat_is_path(name))
        return open(name, flags | O_CLOEXEC, mode);
    char buf[NAME_MAX + 2];
    int n = snprintf(buf, sizeof buf, "/%s", name + (name[0] == '/'));
    if (n <= 1 || (size_t)n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return shm_open(buf, flags, mode);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older headers lack it */
#endif

/*
 * A producer's first store to a page must not happen inside a log call.
 * Measured on this project's VM (bench/proto/first_touch.c): after
 * MAP_POPULATE or MADV_POPULATE_WRITE, with no page fault counted, the first
 * user-space store to each page still took microseconds; once every page
 * had been written from user space, the stall was gone.  So every page is
 * written once here, with an atomic add of zero, which changes no byte that
 * concurrent producers may be writing.  MADV_POPULATE_WRITE (Linux 5.14+;
 * ignored where missing) is kept because it populates the mapping in one
 * call: opening a 2 x 32 MiB region took about 140 ms with it and 175 ms
 * without (bench/proto/open_cost.c).
 */
static void prefault_writable(void *base, size_t len)
{
    (void)madvise(base, len, MADV_POPULATE_WRITE); /* speed only: the loop does the work */
    long pg = sysconf(_SC_PAGESIZE);
    size_t step = pg > 0 ? (size_t)pg : 4096;
    for (size_t off = 0; off + sizeof(uint64_t) <= len; off += step)
        atomic_fetch_add_explicit((_Atomic uint64_t *)((char *)base + off), 0,
                                  memory_order_relaxed);
}

int rl_plat_map(const char *name, int create, size_t size, mode_t mode, int writable,
                struct rl_map *m, int *created)
{
    if (check_name(name))
        return RINGLOG_EINVAL;
    int fd = -1;
    *created = 0;
    int acc = writable ? O_RDWR : O_RDONLY;
    if (create) {
        fd = open_object(name, acc | O_CREAT | O_EXCL, mode);
        if (fd >= 0) {
            /* The umask must not narrow what the caller asked for. */
            /* Allocate every block now: on a sparse region a full /dev/shm
             * (a container's 64 MiB, say) would surface later as SIGBUS in
             * a log call.  Here it is a clear ENOSPC from open. */
            int e = 0;
            if (fchmod(fd, mode) != 0 || ftruncate(fd, (off_t)size) != 0)
                e = errno;
            else
                e = posix_fallocate(fd, 0, (off_t)size);
            if (e != 0) {
                close(fd);
                rl_plat_unlink(name);
                return rl_fail(map_errno(e), "%s: cannot size region to %zu bytes: %s", name,
                               size, strerror(e));
            }
            *created = 1;
        } else if (errno != EEXIST || create == 2) {
            int e = errno;
            return rl_fail(map_errno(e), "%s: cannot create: %s", name, strerror(e));
        }
    }
    if (fd < 0) {
        fd = open_object(name, acc, 0);
        if (fd < 0) {
            int e = errno;
            return rl_fail(map_errno(e), "%s: %s", name,
                           e == ENOENT ? "no such region" : strerror(e));
        }
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return rl_fail(map_errno(e), "%s: %s", name, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rl_fail(RINGLOG_EFORMAT, "%s: not a regular file", name);
    }
    {
        struct timespec now;
        uint64_t changed = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t t = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
        m->age_ns = t > changed ? t - changed : 0;
    }
    if (st.st_size <= 0) {
        /* Possibly a region whose creator has not sized it yet: let the
         * caller decide whether to wait. */
        close(fd);
        m->base = NULL;
        m->size = 0;
        m->writable = writable;
        return 0;
    }
    size_t len = (size_t)st.st_size;
    void *p = mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return rl_fail(map_errno(e), "%s: cannot map %zu bytes: %s", name, len, strerror(e));
    if (writable)
        prefault_writable(p, len);
    m->base = p;
    m->size = len;
    m->writable = writable;
    return 0;
}

void rl_plat_unmap(struct rl_map *m)
{
    if (m->base)
        munmap(m->base, m->size);
    m->base = NULL;
    m->size = 0;
}

int rl_plat_unlink(const char *name)
{
    if (check_name(name))
        return RINGLOG_EINVAL;
    int rc;
    if (rl_plat_is_path(name)) {
        rc = unlink(name);
    } else {
        char buf[NAME_MAX + 2];
        int n = snprintf(buf, sizeof buf, "/%s", name + (name[0] == '/'));
        if (n <= 1 || (size_t)n >= sizeof buf)
            return rl_fail(RINGLOG_EINVAL, "%s: bad region name", name);
        rc = shm_unlink(buf);
    }
    if (rc != 0) {
        int e = errno;
        return rl_fail(map_errno(e), "%s: %s", name,
                       e == ENOENT ? "no such region" : strerror(e));
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t rl_plat_dir_names(const char *dir, int (*want)(void *arg, const char *name), void *arg,
                         char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!want(arg, de->d_name))
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
    *out = names;
    return n;
}

int rl_plat_list_shm(void (*fn)(void *arg, const char *name), void *arg)
{
    DIR *d = opendir("/dev/shm");
    if (!d)
        return rl_fail(RINGLOG_EIO, "/dev/shm: %s", strerror(errno));
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        fn(arg, de->d_name);
        count++;
    }
    closedir(d);
    return count;
}

int rl_plat_peek(const char *name, void *buf, size_t cap, size_t *got, uint64_t *size)
{
    /* A path is looked at with lstat first: opening a device or a FIFO to
     * read it could have side effects. */
    if (check_name(name))
        return RINGLOG_EINVAL;
    struct stat st;
    if (rl_plat_is_path(name) && lstat(name, &st) != 0)
        return rl_fail(map_errno(errno), "%s: %s", name, strerror(errno));
    if (rl_plat_is_path(name) && !S_ISREG(st.st_mode))
        return rl_fail(RINGLOG_EFORMAT, "%s: not a regular file", name);
    *got = 0;
    int fd = open_object(name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW, 0);
    if (fd < 0) {
        int e = errno;
        /* The size, at least, for a listing of what we may not read. */
        char path[300];
        if (rl_plat_is_path(name) ? stat(name, &st) == 0
                                  : ((size_t)snprintf(path, sizeof path, "/dev/shm/%s",
                                                      name + (name[0] == '/')) < sizeof path &&
                                     stat(path, &st) == 0))
            *size = (uint64_t)st.st_size;
        return rl_fail(map_errno(e), "%s: %s", name, strerror(e));
    }
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = rl_fail(RINGLOG_EIO, "%s: %s", name, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = rl_fail(RINGLOG_EFORMAT, "%s: not a regular file", name);
    } else {
        *size = (uint64_t)st.st_size;
        while (*got < cap) {
            ssize_t n = pread(fd, (char *)buf + *got, cap - *got, (off_t)*got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = rl_fail(RINGLOG_EIO, "%s: %s", name, strerror(errno));
                break;
            }
            if (n == 0)
                break;
            *got += (size_t)n;
        }
    }
    close(fd);
    return rc;
}

uint32_t rl_plat_pid(void) { return (uint32_t)getpid(); }
uint32_t rl_plat_tid(void) { return (uint32_t)gettid(); }

/* The liveness check below also runs in log calls (an overwriting producer
 * blocked by a stuck writer, produce.c), possibly in a signal handler: only
 * async-signal-safe calls (open, read, close, kill) and hand-rolled
 * formatting and parsing, no snprintf or strtoull. */
static void proc_path(char *out, uint32_t pid, const char *leaf)
{
    char digits[16];
    int n = 0;
    do {
        digits[n++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid);
    memcpy(out, "/proc/", 6);
    out += 6;
    while (n)
        *out++ = digits[--n];
    *out++ = '/';
    size_t len = strlen(leaf);
    memcpy(out, leaf, len + 1);
}

static uint64_t parse_u64(const char *p)
{
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10)
        v = v * 10 + (uint64_t)(*p++ - '0');
    return v;
}

/* Reads /proc/PID/stat: state letter and start time (field 22).  Returns
 * 0 on success, -1 with errno when the file cannot be read or parsed. */
static int proc_stat(uint32_t pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    proc_path(path, pid, "stat");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n <= 0) {
        errno = n < 0 ? e : EIO;
        return -1;
    }
    buf[n] = 0;
    /* The command name may hold spaces and parentheses: find the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ') {
        errno = EIO;
        return -1;
    }
    p += 2;
    *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p) {
            errno = EIO;
            return -1;
        }
        p++;
    }
    *start = parse_u64(p);
    return 0;
}

uint64_t rl_plat_proc_start(uint32_t pid)
{
    int saved_errno = errno;
    char st;
    uint64_t start;
    int rc = proc_stat(pid, &st, &start);
    errno = saved_errno;
    if (rc != 0)
        return 0;
    return start ? start : 1;
}

/* A thread-group leader that called pthread_exit shows as a zombie while
 * its other threads run: the process is alive if it has more than one. */
static int other_threads_alive(uint32_t pid)
{
    char path[64], buf[4096];
    proc_path(path, pid, "status");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *t = strstr(buf, "\nThreads:");
    if (!t)
        return 0;
    t += 9;
    while (*t == ' ' || *t == '\t')
        t++;
    return parse_u64(t) > 1;
}

static int proc_alive(uint32_t pid, uint64_t start)
{
    /* Declare a process dead only on proof: it does not exist, it is a
     * zombie with no thread left, or its pid now belongs to a process that
     * started at another time.  Anything we cannot see (hidepid /proc, no
     * /proc, another user) counts as alive: wrongly calling a live writer
     * dead would let others overwrite the entry it is writing. */
    if (pid == 0)
        return 0;
    /* Not a pid (a corrupt registry word): kill() would address a process
     * group.  Nothing proves it dead. */
    if ((pid_t)pid <= 0)
        return 1;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0;
    /* kill() says it exists (or that we may not signal it): from here on
     * only /proc can prove it dead, and /proc may be absent or hidden. */
    char st;
    uint64_t now;
    if (proc_stat(pid, &st, &now) != 0) {
        /* ENOENT: it exited between the two looks, or /proc does not show
         * it; a second kill() tells which. */
        int dead = (errno == ENOENT || errno == ESRCH) && kill((pid_t)pid, 0) != 0 &&
                   errno == ESRCH;
        return !dead;
    }
    if (start != 0 && now != 0 && now != start)
        return 0;
    if (st == 'Z' || st == 'X')
        return other_threads_alive(pid);
    return 1;
}

int rl_plat_proc_alive(uint32_t pid, uint64_t start)
{
    int saved_errno = errno;
    int alive = proc_alive(pid, start);
    errno = saved_errno;
    return alive;
}

void rl_plat_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void rl_plat_futex_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
    struct timespec ts, *tp = NULL;
    if (timeout_ns != UINT64_MAX) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
        ts.tv_nsec = (long)(timeout_ns % 1000000000u);
        tp = &ts;
    }
    /* Not FUTEX_PRIVATE: the word is shared between processes. */
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, tp, NULL, 0);
}

void rl_plat_futex_wake(_Atomic uint32_t *word)
{
    int saved_errno = errno;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
    errno = saved_errno;
}

const char *rl_plat_errno_text(int err)
{
    /* glibc 2.32+: the C locale's text, with no buffer and no lock, unlike
     * strerror (locale) and strerror_r. */
    return strerrordesc_np(err);
}
