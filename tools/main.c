/*
 * ringlog — command-line tool: command dispatch, and the errors every
 * command reports the same way.  Option and number parsing are in opts.c,
 * text buffers, escaping and time formatting in text.c.  Uses only the
 * public API of <ringlog.h>.
 */
#include "tool.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

const char *tool_cmd;

static const char main_help[] =
    "Usage: ringlog COMMAND [OPTIONS]\n"
    "\n"
    "Inspect, follow and exercise ringlog shared-memory log regions.\n"
    "\n"
    "Commands:\n"
    "  demo    producer threads at full speed plus a reader; prints rates and\n"
    "          statistics and checks that they balance\n"
    "  tail    follow a region live like tail -f (consumes entries)\n"
    "  dump    print every entry a region still holds, changing nothing\n"
    "  stats   per-ring and total counters and region facts\n"
    "  ls      list the regions in shared memory\n"
    "  rm      remove regions\n"
    "  write   log one text entry (or one per line of standard input)\n"
    "  trigger raise a trigger (recorders write a snapshot)\n"
    "  record  wait for triggers and write snapshot files\n"
    "  level   show or set a region's run-time minimum level (and auto-trigger)\n"
    "  sites   list the call sites; switch some off or on in every process\n"
    "  run     run a program, capturing its stderr, syslog and err/warn lines\n"
    "  top     a live view of regions: rates, counters, levels, newest messages\n"
    "  forward consume a region into journald (native protocol, with fields)\n"
    "  export  write what a region or snapshot holds as a CTF trace (babeltrace2)\n"
    "  help    show this text, or `ringlog help COMMAND`\n"
    "\n"
    "NAME is a shared-memory name (\"app\" or \"/app\") or, when it contains a\n"
    "'/' after its first character, a file path (\"./app.rlog\").\n"
    "`ringlog COMMAND --help` describes each command; `ringlog --version`\n"
    "prints the version; see also ringlog(1).\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

/* ------------------------------------------------------------- errors */

static void vline(const char *fmt, va_list ap)
{
    /* Build the line first so that it reaches stderr in one write even when
     * other threads print at the same time. */
    char buf[1024];
    int off = tool_cmd ? snprintf(buf, sizeof buf, "ringlog: %s: ", tool_cmd)
                       : snprintf(buf, sizeof buf, "ringlog: ");
    vsnprintf(buf + off, sizeof buf - (size_t)off, fmt, ap);
    fflush(stdout);
    fprintf(stderr, "%s\n", buf);
}

void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
    exit(code);
}

void warnx_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (tool_cmd)
        die(EXIT_USAGE, "%s (see 'ringlog %s --help')", msg, tool_cmd);
    die(EXIT_USAGE, "%s (see 'ringlog --help')", msg);
}

const char *tool_describe(int err, const char *name)
{
    static char buf[640];
    const char *what = ringlog_strerror(err);
    const char *detail = ringlog_errmsg();
    /* The caller prints the region's name itself: drop it from the detail,
     * and the detail altogether when it only repeats the error's name. */
    size_t nl = name ? strlen(name) : 0;
    if (detail && nl && strncmp(detail, name, nl) == 0 && strncmp(detail + nl, ": ", 2) == 0)
        detail += nl + 2;
    if (detail && *detail && strcasecmp(detail, what) != 0)
        snprintf(buf, sizeof buf, "%s (%s)", what, detail);
    else
        snprintf(buf, sizeof buf, "%s", what);
    return buf;
}

ringlog_reader *open_reader_or_die(const char *name, unsigned flags)
{
    ringlog_reader *r = NULL;
    int rc = ringlog_reader_open(name, flags, &r);
    if (rc != 0) {
        const char *why = tool_describe(rc, name);
        /* A bare name is a shared-memory name; point out the file of the
         * same name when that is what the user probably meant. */
        struct stat st;
        if (rc == RINGLOG_ENOENT && !strchr(name, '/') && stat(name, &st) == 0 &&
            S_ISREG(st.st_mode))
            die(EXIT_RUNTIME, "%s: %s; for the file of that name write ./%s", name, why, name);
        die(EXIT_RUNTIME, "%s: %s", name, why);
    }
    return r;
}

/* -------------------------------------------------------- dispatch */

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"demo", cmd_demo}, {"tail", cmd_tail}, {"dump", cmd_dump},   {"stats", cmd_stats},
    {"ls", cmd_ls},     {"rm", cmd_rm},     {"write", cmd_write}, {"trigger", cmd_trigger}, {"record", cmd_record},
    {"level", cmd_level}, {"sites", cmd_sites}, {"run", cmd_run}, {"top", cmd_top}, {"forward", cmd_forward},
    {"export", cmd_export}, {NULL, NULL},
};

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int run_command(const struct command *c, int argc, char **argv)
{
    tool_cmd = c->name;
    return c->fn(argc, argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(main_help, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("ringlog %d.%d.%d\n", RINGLOG_VERSION_MAJOR, RINGLOG_VERSION_MINOR,
               RINGLOG_VERSION_PATCH);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0 ||
            strcmp(argv[2], "help") == 0) {
            fputs(main_help, stdout);
            return 0;
        }
        const struct command *c = find_command(argv[2]);
        if (!c)
            usage_error("unknown command '%s'", argv[2]);
        char *args[] = {argv[2], (char *)"--help", NULL};
        return run_command(c, 2, args);
    }
    const struct command *c = find_command(cmd);
    if (!c) {
        if (cmd[0] == '-')
            usage_error("unknown option '%s'; options follow the command", cmd);
        usage_error("unknown command '%s'", cmd);
    }
    return run_command(c, argc - 1, argv + 1);
}
