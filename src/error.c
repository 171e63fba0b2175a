/* Error codes, the per-thread detail message, level names. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static _Thread_local char errbuf[512];

int rl_fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return err;
}

const char *ringlog_errmsg(void)
{
    return errbuf;
}

const char *ringlog_strerror(int err)
{
    switch (err) {
    case RINGLOG_OK: return "success";
    case RINGLOG_EINVAL: return "invalid argument";
    case RINGLOG_ENOENT: return "no such region";
    case RINGLOG_EEXIST: return "region already exists";
    case RINGLOG_EACCES: return "permission denied";
    case RINGLOG_ENOMEM: return "out of memory";
    case RINGLOG_EFORMAT: return "not a ringlog region or corrupt header";
    case RINGLOG_EVERSION: return "unsupported region layout version";
    case RINGLOG_EMISMATCH: return "region exists with a different geometry";
    case RINGLOG_EBUSY: return "region already has a consuming reader";
    case RINGLOG_EIO: return "system call failed";
    case RINGLOG_ENOSPC: return "producer registry full";
    case RINGLOG_ETIMEDOUT: return "region creator did not finish initialising";
    case RINGLOG_DROPPED: return "entry dropped: ring full";
    case RINGLOG_TOO_BIG: return "entry larger than a ring";
    default: return "unknown error";
    }
}

static const char *const level_names[] = {"trace", "debug", "info",    "notice",
                                          "warn",  "error", "critical"};

const char *ringlog_level_name(unsigned level)
{
    return level < sizeof level_names / sizeof level_names[0] ? level_names[level] : "level?";
}

int ringlog_level_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    if (s[0] >= '0' && s[0] <= '6' && s[1] == 0)
        return s[0] - '0';
    for (unsigned i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return (int)i;
    if (strcasecmp(s, "warning") == 0)
        return RINGLOG_LEVEL_WARN;
    if (strcasecmp(s, "crit") == 0)
        return RINGLOG_LEVEL_CRITICAL;
    return -1;
}
