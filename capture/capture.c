/*
 * libringlog_capture.so: log what an unmodified program writes to stderr
 * (and stdout when asked), its syslog(3) calls and its err/warn/perror
 * messages into a ringlog region, one entry per line, with the writing
 * thread's pid and tid.  Loaded with LD_PRELOAD, usually by `ringlog run`.
 *
 * Environment (read once, at load):
 *   RINGLOG_CAPTURE=NAME        the region (created with the defaults if missing)
 *   RINGLOG_CAPTURE_STDOUT=1    capture stdout too
 *   RINGLOG_CAPTURE_QUIET=1     do not pass the output on to its destination
 *   RINGLOG_CAPTURE_LEVEL=L     level of stderr lines (default warn; stdout: info)
 *
 * How: glibc's stdio writes through an internal write that LD_PRELOAD
 * cannot interpose, so the stderr and stdout FILEs are replaced by
 * fopencookie streams whose write function logs and then writes to the
 * original descriptor; write(2)/writev(2) on descriptors 1 and 2 are
 * interposed for programs that bypass stdio; syslog and vsyslog (and their
 * _FORTIFY_SOURCE forms) are interposed and passed on.  Lines are joined
 * per thread and per stream in a fixed buffer (no allocation: write may be
 * called from a signal handler); a line longer than the buffer is logged
 * in pieces, flagged truncated.  errno and every return value are the
 * program's own.
 */
#include "internal.h" /* rl_put: a cut piece is flagged, NUL bytes and all */

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#define LINE_MAX_ 2048 /* RINGLOG_PRINTF_MAX */

static ringlog *cap_log;
static int cap_stdout, cap_quiet;
static unsigned cap_err_level = RINGLOG_LEVEL_WARN, cap_out_level = RINGLOG_LEVEL_INFO;
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static void (*real_vsyslog)(int, const char *, va_list);

/* A partial line of one stream, per thread. */
struct pending {
    size_t n;
    char buf[LINE_MAX_];
};
static _Thread_local struct pending pend[2]; /* 0: stdout, 1: stderr */
static _Thread_local int in_capture;         /* our own writes are not captured */

static void emit(int which, const char *p, size_t n, int cut)
{
    unsigned level = which ? cap_err_level : cap_out_level;
    if (n && p[n - 1] == '\r')
        n--;
    if (!rl_level_on(cap_log, level))
        return;
    rl_put(cap_log, level, RINGLOG_TYPE_TEXT, 0, cut ? RINGLOG_FLAG_TRUNCATED : 0, p, n);
}

/* Splits what the program wrote into lines, joining partial ones. */
static void capture_bytes(int which, const char *p, size_t n)
{
    if (!cap_log || in_capture)
        return;
    int saved = errno;
    in_capture = 1;
    struct pending *pd = &pend[which];
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        while (pd->n + k > sizeof pd->buf) {
            size_t room = sizeof pd->buf - pd->n;
            memcpy(pd->buf + pd->n, p, room);
            emit(which, pd->buf, sizeof pd->buf, 1);
            pd->n = 0;
            p += room;
            n -= room;
            k -= room;
        }
        memcpy(pd->buf + pd->n, p, k);
        pd->n += k;
        if (!nl)
            break;
        emit(which, pd->buf, pd->n, 0);
        pd->n = 0;
        p += k + 1;
        n -= k + 1;
    }
    in_capture = 0;
    errno = saved;
}

static int which_fd(int fd)
{
    if (fd == 2)
        return 1;
    if (fd == 1 && cap_stdout)
        return 0;
    return -1;
}

static ssize_t pass_on(int fd, const void *p, size_t n)
{
    if (cap_quiet)
        return (ssize_t)n;
    return real_write(fd, p, n);
}

ssize_t write(int fd, const void *buf, size_t count)
{
    if (!real_write)
        real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    int w = which_fd(fd);
    if (w < 0 || in_capture)
        return real_write(fd, buf, count);
    ssize_t r = pass_on(fd, buf, count);
    int saved = errno;
    if (r > 0)
        capture_bytes(w, buf, (size_t)r);
    errno = saved;
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    if (!real_writev)
        real_writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    int w = which_fd(fd);
    if (w < 0 || in_capture)
        return real_writev(fd, iov, iovcnt);
    ssize_t r = cap_quiet ? 0 : real_writev(fd, iov, iovcnt);
    int saved = errno;
    if (cap_quiet)
        for (int i = 0; i < iovcnt; i++)
            r += (ssize_t)iov[i].iov_len;
    size_t left = r > 0 ? (size_t)r : 0;
    for (int i = 0; i < iovcnt && left; i++) {
        size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
        capture_bytes(w, iov[i].iov_base, k);
        left -= k;
    }
    errno = saved;
    return r;
}

/* The replacement stdio streams: stdio's buffering stays as it was (the
 * stream's mode is copied), only the final write is ours. */
static ssize_t cookie_write(void *cookie, const char *p, size_t n)
{
    int fd = (int)(intptr_t)cookie;
    ssize_t r = pass_on(fd, p, n);
    int saved = errno;
    if (r > 0)
        capture_bytes(fd == 2 ? 1 : 0, p, (size_t)r);
    errno = saved;
    return r;
}

static FILE *wrap(FILE *orig, int fd, int mode)
{
    cookie_io_functions_t io = {NULL, cookie_write, NULL, NULL};
    FILE *f = fopencookie((void *)(intptr_t)fd, "w", io);
    if (!f)
        return orig;
    setvbuf(f, NULL, mode, 0);
    /* fileno(stderr) must still say 2: programs ask it (isatty, Python's
     * sys.stderr).  glibc's cookie streams write through the cookie only,
     * never through _fileno. */
    f->_fileno = fd;
    return f;
}

static void flush_pending(void)
{
    if (!cap_log)
        return;
    fflush(stdout);
    fflush(stderr);
    for (int w = 0; w < 2; w++)
        if (pend[w].n) {
            emit(w, pend[w].buf, pend[w].n, 0);
            pend[w].n = 0;
        }
}

static unsigned syslog_level(int prio)
{
    switch (prio & LOG_PRIMASK) {
    case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return RINGLOG_LEVEL_CRITICAL;
    case LOG_ERR: return RINGLOG_LEVEL_ERROR;
    case LOG_WARNING: return RINGLOG_LEVEL_WARN;
    case LOG_NOTICE: return RINGLOG_LEVEL_NOTICE;
    case LOG_INFO: return RINGLOG_LEVEL_INFO;
    default: return RINGLOG_LEVEL_DEBUG;
    }
}

static void capture_syslog(int prio, const char *fmt, va_list ap)
{
    if (!cap_log || in_capture)
        return;
    int saved = errno;
    in_capture = 1;
    char text[LINE_MAX_];
    va_list cp;
    va_copy(cp, ap);
    /* %m is errno's text, as syslog has it. */
    errno = saved;
    vsnprintf(text, sizeof text, fmt, cp);
    va_end(cp);
    ringlog_write(cap_log, syslog_level(prio), RINGLOG_TYPE_TEXT, 0, text, strlen(text));
    in_capture = 0;
    errno = saved;
}

void vsyslog(int prio, const char *fmt, va_list ap)
{
    if (!real_vsyslog)
        real_vsyslog = (void (*)(int, const char *, va_list))dlsym(RTLD_NEXT, "vsyslog");
    capture_syslog(prio, fmt, ap);
    if (!cap_quiet && real_vsyslog)
        real_vsyslog(prio, fmt, ap);
}

void syslog(int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsyslog(prio, fmt, ap);
    va_end(ap);
}

/* _FORTIFY_SOURCE builds call these instead. */
void __vsyslog_chk(int prio, int flag, const char *fmt, va_list ap);
void __syslog_chk(int prio, int flag, const char *fmt, ...);
void __vsyslog_chk(int prio, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    vsyslog(prio, fmt, ap);
}
void __syslog_chk(int prio, int flag, const char *fmt, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, fmt);
    vsyslog(prio, fmt, ap);
    va_end(ap);
}

__attribute__((constructor)) static void capture_init(void)
{
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    const char *name = getenv("RINGLOG_CAPTURE");
    if (!name || !*name)
        return;
    cap_stdout = getenv("RINGLOG_CAPTURE_STDOUT") && *getenv("RINGLOG_CAPTURE_STDOUT") == '1';
    cap_quiet = getenv("RINGLOG_CAPTURE_QUIET") && *getenv("RINGLOG_CAPTURE_QUIET") == '1';
    const char *lv = getenv("RINGLOG_CAPTURE_LEVEL");
    if (lv && ringlog_level_parse(lv) >= 0)
        cap_err_level = (unsigned)ringlog_level_parse(lv);
    int saved = errno;
    if (ringlog_open(name, NULL, &cap_log) != 0) {
        cap_log = NULL;
        errno = saved;
        return; /* the program runs as if not captured */
    }
    /* stderr is unbuffered, stdout line-buffered on a terminal, else full. */
    stderr = wrap(stderr, 2, _IONBF);
    if (cap_stdout) {
        fflush(stdout);
        stdout = wrap(stdout, 1, isatty(1) ? _IOLBF : _IOFBF);
    }
    atexit(flush_pending);
    errno = saved;
}

__attribute__((destructor)) static void capture_fini(void)
{
    flush_pending();
}
