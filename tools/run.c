/*
 * ringlog run: start a program with libringlog_capture.so preloaded, so
 * that what it writes to stderr (and stdout), syslog(3) and err/warn/
 * perror become entries of a region.
 */
#include "tool.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char run_help[] =
    "Usage: ringlog run NAME [--stdout] [--quiet] [--level L] -- CMD [ARGS...]\n"
    "\n"
    "Run CMD with libringlog_capture.so preloaded (LD_PRELOAD): every line it\n"
    "writes to stderr becomes a text entry of region NAME (created with the\n"
    "defaults if missing), with its pid and thread id, at level L (default\n"
    "warn); syslog(3) calls become entries at their priority's level\n"
    "(LOG_ERR: error, LOG_WARNING: warn, ...), and so do err(3), warn(3) and\n"
    "perror(3), which write to stderr.  The output still reaches its\n"
    "destination unless --quiet; errno and return values are the program's.\n"
    "Partial lines are joined per thread; a line over 2048 bytes is cut and\n"
    "flagged.  Lines are classed by the descriptor they are written to: a\n"
    "shell's builtins (echo, printf) write `>&2` output through descriptor 1,\n"
    "so capture a script with --stdout.\n"
    "Children inherit the capture through the environment; to stop\n"
    "it in a child, unset LD_PRELOAD or RINGLOG_CAPTURE there.  Programs\n"
    "linked statically, or setuid, cannot be captured (the loader ignores\n"
    "LD_PRELOAD for them).  Exits with CMD's status.\n"
    "\n"
    "Options:\n"
    "  -o, --stdout    capture stdout too (level info)\n"
    "  -q, --quiet     do not pass the captured output on\n"
    "  -l, --level L   level of stderr lines (default warn)\n"
    "  -h, --help      show this help\n";

enum { R_HELP = 1, R_STDOUT, R_QUIET, R_LEVEL };

/* The capture library: $RINGLOG_CAPTURE_LIB, else next to this binary
 * (the build tree), else ../lib/ringlog/ from it (installed). */
static const char *capture_lib(char *buf, size_t cap)
{
    const char *env = getenv("RINGLOG_CAPTURE_LIB");
    if (env && *env)
        return env;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = 0;
    char *dir = dirname(self);
    snprintf(buf, cap, "%s/libringlog_capture.so", dir);
    if (access(buf, R_OK) == 0)
        return buf;
    snprintf(buf, cap, "%s/../lib/ringlog/libringlog_capture.so", dir);
    if (access(buf, R_OK) == 0)
        return buf;
    return NULL;
}

int cmd_run(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, R_HELP},     {"stdout", 'o', OPT_NONE, R_STDOUT},
        {"quiet", 'q', OPT_NONE, R_QUIET},   {"level", 'l', OPT_VALUE, R_LEVEL},
        {NULL, 0, OPT_NONE, 0},
    };
    /* Everything after "--" is the command, untouched by option parsing. */
    int dash = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    if (!dash || dash + 1 >= argc) {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                fputs(run_help, stdout);
                return 0;
            }
        usage_error("missing -- CMD [ARGS...]");
    }
    struct opt_state st;
    const char *name = NULL, *level = NULL;
    int id, out = 0, quiet = 0;
    opt_init(&st, dash, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case R_HELP: fputs(run_help, stdout); return 0;
        case R_STDOUT: out = 1; break;
        case R_QUIET: quiet = 1; break;
        case R_LEVEL:
            if (ringlog_level_parse(st.value) < 0)
                usage_error("--level: unknown level '%s'", st.value);
            level = st.value;
            break;
        case OPT_POSITIONAL:
            if (name)
                usage_error("unexpected argument '%s' (the command goes after --)", st.value);
            name = st.value;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    char libbuf[PATH_MAX + 64];
    const char *lib = capture_lib(libbuf, sizeof libbuf);
    if (!lib)
        die(EXIT_RUNTIME, "libringlog_capture.so not found (next to ringlog, in ../lib/ringlog/, "
                          "or set RINGLOG_CAPTURE_LIB)");
    /* Create the region now, so that an error is said here, once. */
    ringlog *log = NULL;
    int rc = ringlog_open(name, NULL, &log);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    ringlog_close(log);
    const char *old = getenv("LD_PRELOAD");
    size_t need = strlen(lib) + (old ? strlen(old) + 1 : 0) + 1;
    char *pre = malloc(need);
    if (!pre)
        die(EXIT_RUNTIME, "out of memory");
    snprintf(pre, need, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", pre, 1);
    setenv("RINGLOG_CAPTURE", name, 1);
    setenv("RINGLOG_CAPTURE_STDOUT", out ? "1" : "0", 1);
    setenv("RINGLOG_CAPTURE_QUIET", quiet ? "1" : "0", 1);
    if (level)
        setenv("RINGLOG_CAPTURE_LEVEL", level, 1);
    execvp(argv[dash + 1], argv + dash + 1);
    die(errno == ENOENT ? 127 : 126, "%s: %s", argv[dash + 1], strerror(errno));
}
