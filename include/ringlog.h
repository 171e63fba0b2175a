/*
 * ringlog — lock-free logging and flight recording in shared memory.
 *
 * Producers (any thread of any process, signal handlers included) write
 * entries into a named region of lanes: each thread writes to a lane of its
 * own, so a log call takes no lock, no locked instruction, makes no system
 * call, allocates nothing, never blocks and never waits for another writer.
 * When a lane is full it overwrites its oldest entries or drops the new
 * one, per the region's policy, and counts what it did.  (A thread's first
 * call claims its lane, which may check whether the holders of other lanes
 * still live: docs/DESIGN.md, "Lanes".)
 *
 * A reader merges the lanes into one order by timestamp (causes before
 * their effects) and reports every call that will never arrive as a gap
 * with its exact count.
 *
 * Concurrency contract (who may call what at the same time):
 *   - ringlog_write / ringlog_printf / ringlog_vprintf: any number of threads
 *     and processes at once, from signal handlers too, on one handle or many.
 *   - ringlog_stats: any time, from anyone.
 *   - ringlog_open / ringlog_close: not async-signal-safe; close only after
 *     every thread has stopped logging through the handle.
 *   - A reader handle belongs to one thread at a time.  At most one
 *     consuming reader per region; any number of peeking readers.
 */
#ifndef RINGLOG_H
#define RINGLOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RINGLOG_API __attribute__((visibility("default")))
#define RINGLOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RINGLOG_API
#define RINGLOG_PRINTF(f, a)
#endif

#define RINGLOG_VERSION_MAJOR 0
#define RINGLOG_VERSION_MINOR 1
#define RINGLOG_VERSION_PATCH 0

/* Errors: every function that can fail returns 0 or one of these (< 0).
 * ringlog_strerror() names it; ringlog_errmsg() gives the details of the
 * calling thread's last failure (which file, which field, which value). */
enum ringlog_error {
    RINGLOG_OK = 0,
    RINGLOG_EINVAL = -1,     /* bad argument or option */
    RINGLOG_ENOENT = -2,     /* no such region or file */
    RINGLOG_EEXIST = -3,     /* region exists and RINGLOG_OPEN_EXCL was given */
    RINGLOG_EACCES = -4,     /* permission denied */
    RINGLOG_ENOMEM = -5,     /* out of memory or address space */
    RINGLOG_EFORMAT = -6,    /* not a ringlog region, or corrupt header */
    RINGLOG_EVERSION = -7,   /* region has a layout version this build does not know */
    RINGLOG_EMISMATCH = -8,  /* region exists with other geometry than requested */
    RINGLOG_EBUSY = -9,      /* another live consuming reader holds the region */
    RINGLOG_EIO = -10,       /* system call failed (see ringlog_errmsg) */
    RINGLOG_ENOSPC = -11,    /* producer registry of the region is full */
    RINGLOG_ETIMEDOUT = -12, /* region creator did not finish initialising */
    /* Results of a log call; the call still "succeeded" from the caller's
     * point of view: nothing blocked and the loss is counted. */
    RINGLOG_DROPPED = -20,   /* lane full (drop policy), frozen by a snapshot, or no lane */
    RINGLOG_TOO_BIG = -21,   /* entry larger than a sub-buffer of a lane */
};

/* What a full lane does. */
enum ringlog_policy {
    RINGLOG_OVERWRITE = 0, /* default: reclaim the oldest entries (flight recorder) */
    RINGLOG_DROP = 1,      /* refuse the new entry and count it as lost */
};

/* Severity levels, syslog order reversed so that bigger is worse. */
enum ringlog_level {
    RINGLOG_LEVEL_TRACE = 0,
    RINGLOG_LEVEL_DEBUG = 1,
    RINGLOG_LEVEL_INFO = 2,
    RINGLOG_LEVEL_NOTICE = 3,
    RINGLOG_LEVEL_WARN = 4,
    RINGLOG_LEVEL_ERROR = 5,
    RINGLOG_LEVEL_CRITICAL = 6,
};

/* Entry type tags below 256 are ringlog's; applications use the rest. */
enum ringlog_type {
    RINGLOG_TYPE_TEXT = 1, /* payload is UTF-8 text (ringlog_printf) */
    RINGLOG_TYPE_RAW = 2,  /* payload is opaque bytes */
    RINGLOG_TYPE_TRIGGER = 3, /* a trigger was raised; payload is its reason, remarks its number */
    RINGLOG_TYPE_CRASH = 4,   /* the crash handler's last entry: struct ringlog_crash */
    RINGLOG_TYPE_DEFERRED = 5, /* RINGLOG_INFO & co.: remarks is the call site's id in the
                                  region's dictionary, payload its raw arguments */
    RINGLOG_TYPE_USER = 256,
};

/* Entry flags. */
#define RINGLOG_FLAG_TRUNCATED 0x01u /* formatted text or a string argument was cut to fit */
#define RINGLOG_FLAG_SUPPRESSED 0x02u /* a rate-limited call (RINGLOG_*_EVERY, _LIMIT): calls of
                                         its site were suppressed before it (how many: its text) */
#define RINGLOG_FLAG_LATE 0x80u      /* set by the reader: delivered after an entry with a
                                        later timestamp (its writer was held up between
                                        reading the clock and publishing) */

/* ringlog_open flags. */
#define RINGLOG_OPEN_EXCL 0x1u     /* fail with RINGLOG_EEXIST if the region exists */
#define RINGLOG_OPEN_EXISTING 0x2u /* never create; fail with RINGLOG_ENOENT */

/* Region description.  A zero field means "the default". */
struct ringlog_options {
    size_t ring_size;   /* bytes of entry space per lane; default 256 KiB, rounded
                           up to a power of two, at least 4 KiB, at most 1 GiB; an
                           entry fills at most one sub-buffer (a sixteenth of a
                           lane of 128 KiB or more, 8 KiB from 16 KiB, half below) */
    unsigned nrings;    /* lanes: default 4 per possible CPU, at least 16; an
                           eighth (one below 16 lanes) are lent per call to
                           threads that found none of their own */
    int policy;         /* enum ringlog_policy; default RINGLOG_OVERWRITE */
    mode_t mode;        /* permissions of a new region; default 0600 */
    unsigned flags;     /* RINGLOG_OPEN_* */
    size_t dict_size;   /* bytes for the call-site dictionary of deferred
                           logging; default 256 KiB (about 3000 sites), a
                           power of two from 16 KiB to 64 MiB */
};

typedef struct ringlog ringlog;               /* producer handle */
typedef struct ringlog_reader ringlog_reader; /* reader handle */

/*
 * Create or attach to a region.  `name` is either a shared-memory name
 * ("app" or "/app", kept in /dev/shm) or a file path (anything containing
 * a '/' after its first character, e.g. "./app.rlog" or "/var/log/app.rlog").
 * `opts` may be NULL.  When the region exists its geometry is used; asking
 * for a different non-default geometry is RINGLOG_EMISMATCH.
 */
RINGLOG_API int ringlog_open(const char *name, const struct ringlog_options *opts,
                             ringlog **out);
RINGLOG_API void ringlog_close(ringlog *log);
/* Remove a region's name (shared memory or file). Mappings stay valid. */
RINGLOG_API int ringlog_unlink(const char *name);

/* Raw entry: type tag (0..65535), level (0..255), 32-bit remarks, payload
 * bytes.  Lock-free, async-signal-safe, never blocks.  Returns 0 when
 * stored, else RINGLOG_DROPPED or RINGLOG_TOO_BIG (already counted in the
 * statistics), or RINGLOG_EINVAL for a NULL log, NULL data with a length,
 * or a type or level out of range (nothing stored or counted). */
RINGLOG_API int ringlog_write(ringlog *log, unsigned level, unsigned type, uint32_t remarks,
                              const void *data, size_t len);

/* Formatted text entry.  Formats with ringlog's own async-signal-safe
 * printf (no locale, no malloc); text beyond RINGLOG_PRINTF_MAX bytes is cut
 * and the entry flagged RINGLOG_FLAG_TRUNCATED.  Same guarantees as
 * ringlog_write. */
#define RINGLOG_PRINTF_MAX 2048
RINGLOG_API int ringlog_printf(ringlog *log, unsigned level, const char *fmt, ...)
    RINGLOG_PRINTF(3, 4);
RINGLOG_API int ringlog_vprintf(ringlog *log, unsigned level, const char *fmt, va_list ap)
    RINGLOG_PRINTF(3, 0);

/* ------------------------------------------------------ deferred logging */

/* Run-time minimum level of a region (default 0: everything).  Calls below
 * it (macros, ringlog_printf, ringlog_write) store nothing and return 0;
 * triggers and crash entries are never filtered.  Takes effect at once in
 * every process logging to the region. */
RINGLOG_API int ringlog_set_level(ringlog *log, unsigned level);
RINGLOG_API int ringlog_get_level(ringlog *log);
/* Auto-trigger, region-wide (every process at once): an entry at `level`
 * or above raises a trigger (ringlog_trigger, reason "auto-trigger at
 * level LEVEL"), at most one per `interval_ms` (0: 1000) however many such
 * entries come, so a recorder fires on the first error with no code
 * change.  level < 0 turns it off.  The entry that fires it is logged
 * first.  Costs the calls below `level` nothing; the first qualifying call
 * per interval makes the trigger's futex wake.  0 or RINGLOG_EINVAL /
 * RINGLOG_EACCES (region mapped read-only). */
RINGLOG_API int ringlog_set_trigger_level(ringlog *log, int level, unsigned interval_ms);
/* The auto-trigger level (-1: off) and, in *interval_ms if not NULL, its
 * interval. */
RINGLOG_API int ringlog_get_trigger_level(ringlog *log, unsigned *interval_ms);
/* Switch call sites of deferred logging off (on = 0) or back on (on = 1)
 * in every process using the region, at once: the sites whose file is
 * `file` or ends in "/" + `file` (NULL: any file), at `line` (0: any line),
 * whose format matches the fnmatch(3) pattern `format_glob` (NULL: any).
 * A switched-off call stores nothing and counts nowhere, like a call below
 * the minimum level, and costs about as little (one more load of a line
 * every call reads).  Returns the number of sites that matched, or
 * RINGLOG_EINVAL / RINGLOG_EACCES (read-only mapping). */
RINGLOG_API int ringlog_site_switch(ringlog *log, const char *file, unsigned line,
                                    const char *format_glob, int on);
/* 1 when a call at `level` would be stored (log NULL: the default region;
 * 0 when there is none).  What the macros test before evaluating arguments. */
RINGLOG_API int ringlog_enabled(const ringlog *log, unsigned level);

/* The process-wide default region of the RINGLOG_DEFAULT_* macros and of
 * log == NULL.  Set it before logging; clear it (NULL) before closing it. */
RINGLOG_API void ringlog_set_default(ringlog *log);
RINGLOG_API ringlog *ringlog_get_default(void);

/* Argument type codes (stored in the dictionary; docs/FORMAT.md). */
enum ringlog_arg_type {
    RINGLOG_ARG_I32 = 1,   /* int and narrower, signed; 4 bytes */
    RINGLOG_ARG_U32 = 2,   /* unsigned int and narrower; 4 bytes */
    RINGLOG_ARG_I64 = 3,   /* long long (and long on LP64); 8 bytes */
    RINGLOG_ARG_U64 = 4,
    RINGLOG_ARG_F64 = 5,   /* float, double; 8 bytes */
    RINGLOG_ARG_LDBL = 6,  /* long double; 16 bytes */
    RINGLOG_ARG_PTR = 7,   /* any pointer shown as %p; 8 bytes */
    RINGLOG_ARG_STR = 8,   /* char *: 2-byte length, then the bytes */
    RINGLOG_ARG_BYTES = 9, /* unsigned char *: 2-byte length, then the bytes */
    RINGLOG_ARG_BLEN = 10, /* the int precision of a BYTES argument; 4 bytes */
    RINGLOG_ARG_ERRNO = 11, /* errno at the call, for %m; 4 bytes, after the arguments */
    RINGLOG_ARG_SUPPRESSED = 12, /* a rate-limited site: calls suppressed since the
                                    last one let through; 8 bytes, last */
};
#define RINGLOG_MAX_ARGS 16
#define RINGLOG_STRING_MAX 512    /* bytes kept of one string argument */
#define RINGLOG_DEFERRED_MAX 4096 /* bytes of arguments in one entry */

/* A call site, built by the macros as a static object.  The first fields
 * are filled at compile time; `priv_` belongs to the library (the site's id
 * per region, and how to capture its strings), written once per process. */
struct ringlog_site {
    const char *format;
    const char *file;
    const char *function;
    uint32_t line;
    uint8_t level;
    uint8_t nargs;
    uint16_t flags_;
    uint8_t types[RINGLOG_MAX_ARGS]; /* enum ringlog_arg_type */
    uint64_t priv_[6];
};
/* What the macros call: `fmt` is site->format again, followed by the
 * arguments.  Same guarantees as ringlog_write (lock-free, async-signal-
 * safe, never blocks).  The first call of a site in a region registers it
 * in the region's dictionary (lock-free, a few hundred ns); when the
 * dictionary is full the call is formatted at once into a TEXT entry
 * instead, so nothing is lost. */
RINGLOG_API int ringlog_log_(ringlog *log, struct ringlog_site *site, const char *fmt, ...)
    RINGLOG_PRINTF(3, 4);
/* What the macros test before evaluating arguments: the run-time level and
 * the site's switch (ringlog_site_switch).  One call, a few loads. */
RINGLOG_API int ringlog_site_on_(ringlog *log, unsigned level, struct ringlog_site *site);
/* Rate-limited sites (RINGLOG_*_EVERY, RINGLOG_*_LIMIT): the state of one
 * site, and the macros' calls.  ringlog_limit_pass_ is lock-free and
 * async-signal-safe: one atomic add (every N) or a CAS on a one-second
 * window (per second); it returns 1 when the call may log, with the number
 * of calls suppressed since the last one let through in *suppressed. */
struct ringlog_limit {
    uint64_t priv_[2];
};
#define RINGLOG_SITE_COUNTED 0x1u /* ringlog_site.flags_: a rate-limited site */
RINGLOG_API int ringlog_limit_pass_(struct ringlog_limit *lim, unsigned every,
                                    unsigned per_second, uint64_t *suppressed);
RINGLOG_API int ringlog_log_counted_(ringlog *log, struct ringlog_site *site, uint64_t suppressed,
                                     const char *fmt, ...) RINGLOG_PRINTF(4, 5);

/* Raise a trigger: logs a RINGLOG_TYPE_TRIGGER entry carrying `reason`
 * (cut at RINGLOG_REASON_MAX bytes; may be NULL), counts it in the region,
 * and wakes every process waiting in ringlog_reader_wait_trigger (a
 * recorder writes a snapshot).  Lock-free and async-signal-safe; it makes
 * the futex wake's system call and, with a recorder attached, checks that
 * the recorder lives (kill and a /proc read) before freezing eviction.  Returns what logging the entry returned; the trigger
 * is raised even when the entry was dropped. */
#define RINGLOG_REASON_MAX 256 /* bytes of a trigger's reason kept */
RINGLOG_API int ringlog_trigger(ringlog *log, const char *reason);

/* Write a snapshot of region `name` to `path`: a copy of everything its
 * lanes hold now and, when post_ms > 0, a second copy taken post_ms later
 * (what arrived after the trigger), with the reason, the time and CRC-32
 * checksums.  Written to a temporary name, fsync'd, then renamed.  Readable
 * with ringlog_reader_open(path, RINGLOG_READER_PEEK) and `ringlog dump`.
 * Not for the log path: it allocates and makes system calls. */
RINGLOG_API int ringlog_snapshot(const char *name, const char *path, const char *reason,
                                 unsigned post_ms);

/* The crash handler (opt-in).  On SIGSEGV, SIGBUS, SIGFPE, SIGILL or
 * SIGABRT it logs a RINGLOG_TYPE_CRASH entry (struct ringlog_crash, remarks =
 * signal), raises a trigger, then puts back the action the program had
 * before and does what it would have done: a handler of the program's own
 * is called with the same arguments (and may recover); otherwise the signal
 * is raised again under the default action, so the process dies as it
 * would have, core dump included.  Only async-signal-safe code runs in the
 * handler.  One handle per process (the last installed wins);
 * ringlog_close of that handle uninstalls it.  Not thread-safe to install. */
#define RINGLOG_CRASH_NO_BACKTRACE 0x1u /* do not record return addresses */
#define RINGLOG_CRASH_ALTSTACK 0x2u     /* run on an alternate stack (calling thread) */
#define RINGLOG_CRASH_FRAMES 32
struct ringlog_crash {
    uint32_t signo, code; /* signal and si_code */
    uint32_t pid, nframes;
    uint64_t addr;        /* si_addr: the faulting address */
    uint64_t ip;          /* instruction pointer (x86-64), else 0 */
    uint64_t frames[RINGLOG_CRASH_FRAMES]; /* return addresses, innermost first */
};
RINGLOG_API int ringlog_install_crash_handler(ringlog *log, unsigned flags);
RINGLOG_API void ringlog_uninstall_crash_handler(void);

/* Raise a trigger ("signal N") whenever the process receives `signo`
 * (e.g. SIGUSR2): `kill -USR2 PID` then makes a recorder snapshot. */
RINGLOG_API int ringlog_install_trigger_signal(ringlog *log, int signo);

/* The recorder, in-process: a thread that sleeps on the region's triggers
 * (a futex, no polling) and writes one snapshot file per trigger burst into
 * `dir` as NAME-<UTC time>-t<first trigger>.rlsnap, keeping the newest
 * `keep` (0: all).  A burst ends when no trigger has come for 100 ms (and
 * post_ms is over).  The lanes are copied at its first trigger (image 1)
 * and again at each later trigger and when post_ms is over (image 2, each
 * copy replacing the last).  While the recorder runs, a trigger stops
 * writers from evicting history until its copy is taken (at most 250 ms;
 * calls that find their lane full meanwhile are lost and counted), so the
 * file holds the first trigger's entry and all its lane held before it.
 * Every trigger raised after start returns is covered by exactly one
 * file.  Files are written by a second thread; the recorder keeps a buffer
 * of two region images ready.  It also writes a snapshot
 * (NAME-<time>-died<pid>.rlsnap, on_snapshot with first = last = 0) when a
 * producer process dies without a trigger; it checks once a second.  It dies
 * with its process: to record crashes, run `ringlog record` (the same
 * thread) in a process of its own. */
typedef struct ringlog_recorder ringlog_recorder;
struct ringlog_recorder_options {
    const char *dir;   /* required; created if missing */
    unsigned keep;     /* newest snapshots kept; 0 keeps all */
    unsigned post_ms;  /* post-trigger window, see ringlog_snapshot */
    /* Called from the recorder thread after each attempt: path NULL and
     * err < 0 on failure; triggers first..last are covered. */
    void (*on_snapshot)(void *arg, const char *path, uint32_t first, uint32_t last, int err);
    void *arg;
};
RINGLOG_API int ringlog_recorder_start(const char *name, const struct ringlog_recorder_options *opts,
                                       ringlog_recorder **out);
/* Stops (at once; within a second in a rare race) and frees; returns the
 * number of snapshots written.  A snapshot being written is finished. */
RINGLOG_API uint64_t ringlog_recorder_stop(ringlog_recorder *rec);

/* Continuous recording: a thread that is the region's consuming reader and
 * writes everything it reads, in index order with every gap, into
 * recording files in `dir`, named NAME-<UTC time>-i<first index>.rlrec.
 * Each file stands alone (its own header and the call sites its entries
 * use) and reads like a region: ringlog_reader_open(path, PEEK), `ringlog
 * dump`, `stats`, `export`.  Entries are written in blocks with a CRC-32
 * (zstd-compressed with RINGLOG_CONTINUOUS_ZSTD), at most flush_ms after
 * they were read, so a crash of the recording process loses at most that
 * much; the file in progress is always readable up to its last block.
 * A file is closed (with a summary and the region's counters, then
 * fsync'd) when it passes max_file_size; the next one continues the
 * index where it ended, so nothing is lost or duplicated between files.
 * After each rotation the oldest files of NAME beyond max_files, or older
 * than max_age_s, are removed.  On a write error (a full disk, a removed
 * directory) the file is cut back to its last whole block, recording
 * stops, on_file reports the error, and the entries it had read but not
 * written are counted as `unsaved`; entries not yet read stay in the
 * region.  Not for the log path: it allocates, and makes system calls. */
typedef struct ringlog_continuous ringlog_continuous;
#define RINGLOG_CONTINUOUS_ZSTD 0x1u /* compress blocks with zstd (libzstd.so.1) */
struct ringlog_continuous_file {
    uint64_t first_index, next_index; /* indices [first, next) are in it */
    uint64_t entries, gap_calls;      /* entries, and calls reported as gaps */
    uint64_t bytes;                   /* the file's size */
};
struct ringlog_continuous_options {
    const char *dir;        /* required; created if missing */
    uint64_t max_file_size; /* bytes; 0: 64 MiB */
    unsigned max_files;     /* files of NAME kept in dir; 0: no limit */
    unsigned max_age_s;     /* older files are removed; 0: no limit */
    unsigned flags;         /* RINGLOG_CONTINUOUS_* */
    int zstd_level;         /* 1..19; 0: 3 */
    unsigned flush_ms;      /* longest an entry waits in memory; 0: 1000 */
    /* Called from the recording thread when a file is closed (err 0), or
     * with err < 0 when recording stopped on an error (path: the file
     * being written; ringlog_errmsg() has the detail). */
    void (*on_file)(void *arg, const char *path, const struct ringlog_continuous_file *f,
                    int err);
    void *arg;
};
struct ringlog_continuous_stats {
    uint64_t entries, gap_calls; /* written to files */
    uint64_t files;              /* files started */
    uint64_t bytes;              /* bytes written, compressed or not */
    uint64_t raw_bytes;          /* bytes of records before compression */
    uint64_t unsaved;            /* entries and gap calls read but not written (an error) */
};
RINGLOG_API int ringlog_continuous_start(const char *name,
                                         const struct ringlog_continuous_options *opts,
                                         ringlog_continuous **out);
/* Stops: reads what the region holds now, writes it, closes the file, and
 * frees.  Fills *st (may be NULL).  Returns 0, or the error that stopped
 * recording early (ringlog_errmsg() says what). */
RINGLOG_API int ringlog_continuous_stop(ringlog_continuous *c, struct ringlog_continuous_stats *st);

/* Counters, per lane and in total.  At quiescence (no log call in progress):
 *     written == read + lost + overwritten + buffered + abandoned
 * `too_big` is part of `lost`.  The total also counts calls that found no
 * lane free, in `written` and `lost`. */
struct ringlog_stats {
    uint64_t written;     /* log calls made on this lane */
    uint64_t read;        /* entries claimed by a consuming reader */
    uint64_t lost;        /* calls refused: lane full, too big, frozen by a snapshot */
    uint64_t overwritten; /* unread entries evicted by the overwrite policy */
    uint64_t too_big;     /* entries larger than a sub-buffer (also in lost) */
    uint64_t wraps;       /* times the lane's write position wrapped */
    uint64_t bytes;       /* bytes of lane space used so far (headers, padding) */
    uint64_t abandoned;   /* calls cut short by their writer's death */
    uint64_t buffered;    /* entries still in the lane, unread */
};

/* Fill `total` (may be NULL) and up to `max` per-lane records.  Returns the
 * number of lanes of the region (which may exceed `max`), or an error. */
RINGLOG_API int ringlog_stats(ringlog *log, struct ringlog_stats *total,
                              struct ringlog_stats *per_ring, unsigned max);

/* ------------------------------------------------------------------ reader */

/* An entry as delivered to a reader callback.  `data` points into the
 * reader's private copy and is valid only during the callback. */
struct ringlog_entry {
    uint64_t index;     /* this reader's running count of entries and lost calls */
    uint64_t timestamp; /* raw clock value as stored */
    uint64_t time_ns;   /* nanoseconds since the Unix epoch, UTC */
    uint32_t cpu;       /* lane the entry was written to (same as `lane`) */
    uint32_t level;
    uint32_t type;
    uint32_t remarks;
    uint32_t flags;     /* RINGLOG_FLAG_* */
    uint32_t pid;       /* producer process, 0 when unknown */
    size_t length;
    const void *data;
    uint32_t lane;      /* lane the entry was written to (same as cpu) */
    uint32_t tid;       /* producer thread id */
    uint64_t seq;       /* the entry's number in its lane: calls made on the lane before it */
};

/* Calls that will never arrive, as a reader reports them: `count` calls of
 * lane `lane` from sequence number `first_seq` on (dropped, overwritten,
 * too big, cut short by a writer's death), or, with lane RINGLOG_NO_LANE,
 * calls that found no lane free.  `first_index` is where they would have
 * been in the reader's index order. */
#define RINGLOG_NO_LANE 0xffffffffu
struct ringlog_gap {
    uint64_t first_index;
    uint64_t count;
    uint32_t lane;
    uint32_t reserved;
    uint64_t first_seq;
};

/* The text of an entry, like snprintf (returns the full length, writes at
 * most cap - 1 bytes and a NUL): TEXT entries as stored, DEFERRED entries
 * formatted from the region's dictionary, others described briefly.  The
 * dictionary and arguments are untrusted: conversions are checked against
 * the recorded argument types, %n is never honoured, widths and precisions
 * are bounded; on a mismatch, an unknown site or a truncated argument the
 * text ends with a "[ringlog: ...]" remark listing the raw values. */
RINGLOG_API size_t ringlog_entry_text(ringlog_reader *r, const struct ringlog_entry *e, char *buf,
                                      size_t cap);
/* Where a DEFERRED entry was logged.  Strings stay valid until the reader
 * is closed.  Returns 0, or RINGLOG_ENOENT for other entries and unknown or
 * corrupt sites. */
struct ringlog_site_info {
    const char *format;
    const char *file;
    const char *function;
    uint32_t line;
    uint32_t level;
    uint32_t nargs;
    uint32_t id;
    uint32_t off; /* switched off (ringlog_site_switch) */
};
/* Every call site in the region's dictionary, once each, in no set order;
 * the strings are valid during the callback.  Returns the count, or a
 * RINGLOG_E* code; fn returning non-zero stops the walk. */
RINGLOG_API int ringlog_reader_sites(ringlog_reader *r,
                                     int (*fn)(void *arg, const struct ringlog_site_info *si),
                                     void *arg);
RINGLOG_API int ringlog_entry_site(ringlog_reader *r, const struct ringlog_entry *e,
                                   struct ringlog_site_info *out);
/* The typed arguments of a DEFERRED entry, as its call site recorded
 * them: for exporters that keep values as values (numbers stay numbers)
 * rather than as the formatted text.  The payload is checked against the
 * site's types, whole and within bounds, before anything is returned. */
#define RINGLOG_ARGF_NULL 0x1u /* STR, BYTES: a NULL pointer was passed (str NULL, len 0) */
#define RINGLOG_ARGF_CUT 0x2u  /* STR, BYTES: cut to RINGLOG_STRING_MAX bytes at the call */
struct ringlog_arg {
    uint32_t type;   /* enum ringlog_arg_type */
    uint32_t flags;  /* RINGLOG_ARGF_* */
    int64_t i;       /* I32, I64, BLEN, ERRNO: the value (sign-extended); U32, U64,
                        PTR, SUPPRESSED: the same bits as u */
    uint64_t u;      /* every integer type: the value's bits (I32 sign-extended) */
    double f;        /* F64; LDBL rounded to double */
    const char *str; /* STR (UTF-8, wide strings converted), BYTES: not NUL-terminated;
                        valid while the entry is (during the callback) */
    size_t len;      /* bytes at str */
};
/* Fills up to `max` of `out` in call order (ERRNO and SUPPRESSED, when the
 * site has them, come last) and returns the site's argument count, which
 * may exceed `max`.  RINGLOG_ENOENT for other entry types and unknown or
 * corrupt sites, RINGLOG_EFORMAT when the payload does not match the
 * site's types (ringlog_entry_text still describes such an entry),
 * RINGLOG_EINVAL for NULL arguments. */
RINGLOG_API int ringlog_entry_args(ringlog_reader *r, const struct ringlog_entry *e,
                                   struct ringlog_arg *out, unsigned max);

/* Callbacks; either may be NULL.  Returning non-zero stops ringlog_read
 * after the current item (it returns what was delivered so far). */
struct ringlog_handler {
    int (*entry)(void *arg, const struct ringlog_entry *e);
    int (*gap)(void *arg, uint64_t first_index, uint64_t count);
    void *arg;
};
/* Inside a gap callback: the lane and sequence numbers of that gap. */
RINGLOG_API int ringlog_gap_info(ringlog_reader *r, struct ringlog_gap *out);

/* Reader modes. */
#define RINGLOG_READER_CONSUME 0x0u /* claim entries: each is delivered once,
                                      to one consuming reader (tail, drain) */
#define RINGLOG_READER_PEEK 0x1u    /* look without changing anything (dump);
                                      maps the region read-only */

/* `name` may also be a snapshot file (ringlog_snapshot); it is checked
 * whole (checksums, every field) and read as a peeking reader.  Or a
 * recording file (ringlog_continuous_start): read as a peeking reader, its
 * indices as the recording delivered them; ringlog_read returns 0 at the
 * end of what is written (more may come while it is being recorded). */
RINGLOG_API int ringlog_reader_open(const char *name, unsigned flags, ringlog_reader **out);
RINGLOG_API void ringlog_reader_close(ringlog_reader *r);

/*
 * Deliver entries in index order, and gaps for indices that will never
 * arrive.  timeout_ms: 0 returns at once with what is ready; > 0 waits up to
 * that long while nothing is ready (sleeping, not spinning); < 0 waits until
 * something is delivered.  Returns the number of entries and gaps delivered
 * (0 on timeout) or an error.
 */
RINGLOG_API int ringlog_read(ringlog_reader *r, const struct ringlog_handler *h, int timeout_ms);

/* Same counters as ringlog_stats, read through a reader handle. */
RINGLOG_API int ringlog_reader_stats(ringlog_reader *r, struct ringlog_stats *total,
                                     struct ringlog_stats *per_ring, unsigned max);

/* Region facts for tools. */
struct ringlog_info {
    uint32_t version;      /* layout version */
    uint32_t nrings;       /* lanes */
    uint64_t ring_size;    /* entry bytes per lane */
    int policy;
    uint64_t next_index;   /* log calls made so far (every lane's, and the lane-less) */
    uint64_t created_ns;   /* creation wall-clock time, ns since epoch */
    uint32_t creator_pid;
    const char *clock;     /* "tsc" or "monotonic" */
    uint32_t triggers;     /* triggers raised so far (wraps at 2^32) */
    /* Set when the reader reads a snapshot file, else NULL / 0. */
    const char *snapshot_reason;
    uint64_t snapshot_ns;  /* when it was taken, ns since the epoch */
    /* Call-site dictionary of deferred logging. */
    uint64_t dict_size;    /* bytes */
    uint64_t dict_used;    /* bytes of it holding records */
    uint32_t sites;        /* call sites registered */
    uint32_t sites_refused;/* registrations refused, dictionary full (logged as text) */
    uint32_t min_level;    /* run-time minimum level */
    /* Snapshot files written by a recorder: the first covered trigger's
     * time (0 unknown) and the triggers covered (0, 0: not a trigger's). */
    uint64_t snapshot_trigger_ns;
    uint32_t snapshot_first_trigger, snapshot_last_trigger;
    /* This reader so far: entries delivered late (RINGLOG_FLAG_LATE), and
     * corrupt spans skipped (impossible lengths or heads). */
    uint64_t read_late, read_corrupt;
    /* A damaged snapshot file: pieces (a lane, the dictionary, an image's
     * header) that failed their checksums and were left out, and which, in
     * words; for a recording file, its blocks that failed (their indices
     * are delivered as a gap); 0 and NULL when the file is whole (or not
     * a file). */
    uint32_t snapshot_damaged;
    const char *snapshot_damage;
};
RINGLOG_API int ringlog_reader_info(ringlog_reader *r, struct ringlog_info *info);

/* A reader of a recording file: what the file says of itself.  Returns 0,
 * or RINGLOG_ENOENT when the reader reads something else. */
struct ringlog_recording {
    const char *region;        /* the recorded region's name */
    uint64_t first_index;      /* indices [first_index, next_index) are in the file */
    uint64_t next_index;
    uint64_t opened_ns;        /* when the file was started, ns since the epoch */
    uint64_t closed_ns;        /* when it was closed; 0: still written, or cut short */
    uint64_t run_id;           /* the same in every file of one recording */
    uint32_t file_no;          /* 0 for a recording's first file, then 1, 2... */
    uint32_t closed_why;       /* 0 rotated, 1 recording stopped (when closed_ns) */
    uint64_t blocks, zstd_blocks; /* blocks read whole, and how many were compressed */
    uint64_t raw_bytes;        /* bytes of records in them, uncompressed */
    struct ringlog_stats region_total; /* the region's counters at close (when closed_ns) */
};
RINGLOG_API int ringlog_reader_recording(ringlog_reader *r, struct ringlog_recording *out);

/* Sleep (no polling: a futex in the region) until the region's trigger
 * count differs from *seen, at most timeout_ms (< 0: no limit).  Returns 1
 * and updates *seen when a trigger came, 0 on timeout.  Start with *seen
 * from ringlog_reader_info's `triggers` to wait for the next one. */
RINGLOG_API int ringlog_reader_wait_trigger(ringlog_reader *r, uint32_t *seen, int timeout_ms);

/* The hold of a consuming reader: it delivers only entries at least
 * `flush_ms` older than its clock (default 0.1 ms), so that writers
 * between reading the clock and publishing are not overtaken, and it polls
 * no more often than that while entries wait (a reader right behind the
 * writers takes the cache lines they write).  `lag_bytes` is ignored (it
 * set a read-behind distance in layout 3). */
RINGLOG_API void ringlog_reader_set_lag(ringlog_reader *r, size_t lag_bytes, unsigned flush_ms);

/* Ignored since layout 4: there are no shared reservations for a reader to
 * take back (a dead writer's lane is reclaimed by the next writer that
 * needs one).  Kept for source compatibility. */
RINGLOG_API void ringlog_reader_set_abandon_ms(ringlog_reader *r, unsigned ms);

RINGLOG_API const char *ringlog_strerror(int err);
RINGLOG_API const char *ringlog_errmsg(void);
RINGLOG_API const char *ringlog_level_name(unsigned level);
/* Parses "info", "INFO", "2"...; returns -1 when unknown. */
RINGLOG_API int ringlog_level_parse(const char *s);

/* Shared-memory regions of this machine (names without the leading '/').
 * Calls fn for each ringlog region found in /dev/shm; returns the count. */
RINGLOG_API int ringlog_list(void (*fn)(void *arg, const char *name, uint64_t size), void *arg);

/* What an object holds, judged from its first bytes without opening it as
 * a region (which refuses layout versions it does not know and regions
 * their creator never finished): what `ringlog ls` and `ringlog rm` need. */
enum ringlog_kind {
    RINGLOG_KIND_ABSENT = 0,     /* no such object */
    RINGLOG_KIND_REGION = 1,     /* a region, of any layout version (`version`) */
    RINGLOG_KIND_SNAPSHOT = 2,   /* a snapshot file (`version`) */
    RINGLOG_KIND_UNFINISHED = 3, /* left by a creator that died before finishing:
                                    empty, or a header without its magic */
    RINGLOG_KIND_UNREADABLE = 4, /* cannot be opened to look (`err`: RINGLOG_EACCES...) */
    RINGLOG_KIND_OTHER = 5,      /* not ringlog's (`why` says what it is not) */
    RINGLOG_KIND_RECORDING = 6,  /* a recording file (ringlog_continuous_start; `version`) */
};
struct ringlog_probe {
    int kind;         /* enum ringlog_kind */
    uint32_t version; /* REGION, SNAPSHOT: the format version stored */
    uint64_t size;    /* bytes, when it could be stat'ed */
    int err;          /* UNREADABLE: the RINGLOG_E* code; ringlog_errmsg has the detail */
    char why[160];    /* UNREADABLE, OTHER: why, for people */
};
/* Fills *out for `name` (a shared-memory name or a path).  Returns 0, or
 * RINGLOG_EINVAL for a NULL argument or a name no object can have. */
RINGLOG_API int ringlog_probe(const char *name, struct ringlog_probe *out);
/* Every ringlog object of /dev/shm, including the unfinished and the
 * unreadable (those of another user, at least as big as the smallest
 * region), each with its probe; objects of other programs are left out.
 * Returns the count called back, or a RINGLOG_E* code. */
RINGLOG_API int ringlog_list_all(void (*fn)(void *arg, const char *name,
                                            const struct ringlog_probe *p),
                                 void *arg);

#ifdef __cplusplus
}
#endif

#include "ringlog_log.h"

#endif /* RINGLOG_H */
