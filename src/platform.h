/*
 * Everything ringlog needs from the operating system, in one small
 * interface: a port (Windows, a kernel module) is one new platform_*.c.
 * Functions marked HOT are called on the producer's log path and must be
 * async-signal-safe, lock-free and free of system calls.
 */
#ifndef RINGLOG_PLATFORM_H
#define RINGLOG_PLATFORM_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* HOT: CPU the caller runs on now (may be stale by the time it is used). */
unsigned rl_plat_cpu(void);
/* HOT: timestamp counter (TSC) ticks. */
uint64_t rl_plat_tsc(void);
/* HOT: CLOCK_MONOTONIC in ns (vDSO, no system call on Linux). */
uint64_t rl_plat_mono_ns(void);
uint64_t rl_plat_real_ns(void);
/* HOT: CLOCK_MONOTONIC to the last timer tick (a few ms): for per-second
 * rate limits, where a few ns matter and a few ms do not. */
uint64_t rl_plat_coarse_ns(void);

/* HOT: take the two cache lines from `p` on for writing ahead of time (the
 * writer's next entries), where the CPU can (prefetchw), otherwise a read
 * prefetch.  A prefetch never faults, so `p` + 64 may lie past a mapping. */
void rl_plat_prefetch_write(const void *p);

/* True when the TSC is invariant (constant and non-stop) on this machine. */
int rl_plat_tsc_usable(void);
/* Measured TSC frequency in Hz (takes about 20 ms), 0 if unusable. */
uint64_t rl_plat_tsc_hz(void);

/* errno's description ("No such file or directory"), NULL when the value
 * has none; async-signal-safe (a constant string, no locale): %m. */
const char *rl_plat_errno_text(int err);

unsigned rl_plat_possible_cpus(void);
unsigned rl_plat_online_cpus(void);

/* A mapped region. */
struct rl_map {
    void *base;
    size_t size;
    int writable;
    uint64_t age_ns; /* since the object's last change (0 when unknown) */
};

/* Open or create the object `name` (shared-memory name or file path, see
 * rl_plat_is_path).  create: 0 = must exist, 1 = create if absent,
 * 2 = create, must not exist.  On create of a new object, *created = 1 and
 * the object has `size` zero bytes.  Returns 0 or a RINGLOG_E* code with
 * ringlog_errmsg set. */
int rl_plat_map(const char *name, int create, size_t size, mode_t mode, int writable,
                struct rl_map *m, int *created);
void rl_plat_unmap(struct rl_map *m);
int rl_plat_unlink(const char *name);
int rl_plat_is_path(const char *name);
/* Calls fn with the name of every shared-memory object; returns the count
 * or an error. */
int rl_plat_list_shm(void (*fn)(void *arg, const char *name), void *arg);
/* The names in directory `dir` that want() accepts, sorted by strcmp (the
 * recorders' file names sort oldest first); the caller frees each name and
 * *out.  Returns the count (0 when the directory cannot be read). */
size_t rl_plat_dir_names(const char *dir, int (*want)(void *arg, const char *name), void *arg,
                         char ***out);
/* Reads up to `cap` bytes from the start of object `name` without mapping
 * it, following no final symlink and opening nothing but regular files;
 * *size is the object's size.  0, or a RINGLOG_E* code (RINGLOG_EFORMAT:
 * not a regular file) with ringlog_errmsg set. */
int rl_plat_peek(const char *name, void *buf, size_t cap, size_t *got, uint64_t *size);

/* Process identity for liveness checks of producers and readers.  These
 * and the futex wake are reached from log calls (a fork's first call, a
 * ring blocked by a dead writer, a trigger): they are async-signal-safe and
 * leave errno as they found it. */
uint32_t rl_plat_pid(void);
/* The calling thread's id (a system call: callers cache it). */
uint32_t rl_plat_tid(void);
uint64_t rl_plat_proc_start(uint32_t pid); /* 0 when the process does not exist */
/* 1 alive, 0 dead (or zombie, or pid reused: start time differs). */
int rl_plat_proc_alive(uint32_t pid, uint64_t start);

void rl_plat_sleep_ns(uint64_t ns);

/* Cross-process wait on a 32-bit word in shared memory: sleep while *word
 * == expected, at most timeout_ns (UINT64_MAX: no limit).  Wake: all
 * sleepers.  Wake is async-signal-safe (one system call). */
void rl_plat_futex_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns);
void rl_plat_futex_wake(_Atomic uint32_t *word);

#endif
