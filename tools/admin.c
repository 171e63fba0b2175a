/*
 * Commands that manage regions: ls, rm, write.
 */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { O_HELP = 1, O_FORCE, O_LEVEL };

/* ------------------------------------------------------------------ ls */

static const char ls_help[] =
    "Usage: ringlog ls\n"
    "\n"
    "List the ringlog regions in shared memory (/dev/shm): name and size of\n"
    "each, and for those this user may open: number of lanes, lane size,\n"
    "policy, calls made so far (lost ones included) and the creator's pid.\n"
    "Regions kept in ordinary files are not listed.  Also listed, with a\n"
    "note: objects a creator left unfinished when it died (empty, or with\n"
    "no magic; remove them with `ringlog rm NAME`), regions of a layout this\n"
    "build cannot read, and objects this user may not read (when large\n"
    "enough to be a region): whether those are regions cannot be told.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

struct region_ent {
    char *name;
    struct ringlog_probe p;
};

struct region_list {
    struct region_ent *v;
    size_t n, cap;
    int oom;
};

static void collect_region(void *arg, const char *name, const struct ringlog_probe *p)
{
    struct region_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct region_ent *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) {
        l->oom = 1;
        return;
    }
    l->v[l->n].name = copy;
    l->v[l->n].p = *p;
    l->n++;
}

static int cmp_region(const void *a, const void *b)
{
    return strcmp(((const struct region_ent *)a)->name, ((const struct region_ent *)b)->name);
}

/* Formatted columns of one line; column 0, the name, is not copied (a
 * shared-memory name may be up to NAME_MAX bytes). */
struct ls_row {
    char col[7][32];
};

int cmd_ls(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    int id;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        if (id == O_HELP) {
            fputs(ls_help, stdout);
            return 0;
        }
        if (id == OPT_POSITIONAL)
            usage_error("unexpected argument '%s'", st.value);
    }
    signal(SIGPIPE, SIG_IGN);

    struct region_list l = {0};
    int rc = ringlog_list_all(collect_region, &l);
    if (rc < 0)
        die(EXIT_RUNTIME, "listing regions: %s", tool_describe(rc, NULL));
    if (l.oom)
        die(EXIT_RUNTIME, "out of memory");
    if (l.n == 0)
        return 0;
    qsort(l.v, l.n, sizeof *l.v, cmp_region);

    /* Everything is formatted first so that the columns fit their content. */
    static const char *const head[7] = {"NAME",   "SIZE",  "LANES",  "LANE SIZE",
                                        "POLICY", "CALLS", "CREATOR"};
    struct ls_row *rows = calloc(l.n, sizeof *rows);
    char **notes = calloc(l.n, sizeof *notes);
    if (!rows || !notes)
        die(EXIT_RUNTIME, "out of memory");
    int w[7];
    for (int c = 0; c < 7; c++)
        w[c] = (int)strlen(head[c]);
    for (size_t i = 0; i < l.n; i++) {
        struct ls_row *row = &rows[i];
        const struct ringlog_probe *p = &l.v[i].p;
        fmt_size(row->col[1], sizeof row->col[1], p->size);
        ringlog_reader *r = NULL;
        struct ringlog_info in;
        int orc = -1;
        if (p->kind == RINGLOG_KIND_REGION)
            orc = ringlog_reader_open(l.v[i].name, RINGLOG_READER_PEEK, &r);
        if (orc == 0)
            orc = ringlog_reader_info(r, &in);
        if (orc == 0) {
            snprintf(row->col[2], sizeof row->col[2], "%u", in.nrings);
            fmt_size(row->col[3], sizeof row->col[3], in.ring_size);
            snprintf(row->col[4], sizeof row->col[4], "%s", policy_name(in.policy));
            snprintf(row->col[5], sizeof row->col[5], "%llu",
                     (unsigned long long)in.next_index);
            snprintf(row->col[6], sizeof row->col[6], "%u", in.creator_pid);
        } else {
            for (int c = 2; c < 7; c++)
                strcpy(row->col[c], "-");
            char note[300];
            if (p->kind == RINGLOG_KIND_UNFINISHED)
                snprintf(note, sizeof note,
                         "unfinished: its creator died before finishing; remove it with "
                         "'ringlog rm %s'",
                         l.v[i].name);
            else if (p->kind == RINGLOG_KIND_UNREADABLE)
                snprintf(note, sizeof note, "unreadable: %s", p->why);
            else if (p->kind == RINGLOG_KIND_SNAPSHOT)
                snprintf(note, sizeof note, "a snapshot file, version %u", p->version);
            else
                snprintf(note, sizeof note, "%s", tool_describe(orc, l.v[i].name));
            notes[i] = strdup(note);
        }
        if (r)
            ringlog_reader_close(r);
        if ((int)strlen(l.v[i].name) > w[0])
            w[0] = (int)strlen(l.v[i].name);
        for (int c = 1; c < 7; c++)
            if ((int)strlen(row->col[c]) > w[c])
                w[c] = (int)strlen(row->col[c]);
    }
    printf("%-*s  %*s  %*s  %*s  %-*s  %*s  %*s\n", w[0], head[0], w[1], head[1], w[2], head[2],
           w[3], head[3], w[4], head[4], w[5], head[5], w[6], head[6]);
    for (size_t i = 0; i < l.n; i++) {
        const struct ls_row *row = &rows[i];
        printf("%-*s  %*s  %*s  %*s  %-*s  %*s  %*s", w[0], l.v[i].name, w[1], row->col[1], w[2],
               row->col[2], w[3], row->col[3], w[4], row->col[4], w[5], row->col[5], w[6],
               row->col[6]);
        if (notes[i])
            printf("  (%s)", notes[i]);
        putchar('\n');
        free(notes[i]);
        free(l.v[i].name);
    }
    free(notes);
    free(rows);
    free(l.v);
    if (fflush(stdout) != 0 && errno != EPIPE)
        die(EXIT_RUNTIME, "writing output: %s", strerror(errno));
    return 0;
}

/* ------------------------------------------------------------------ rm */

static const char rm_help[] =
    "Usage: ringlog rm [--force] NAME...\n"
    "\n"
    "Remove each named region (shared-memory name or file path).  Processes\n"
    "that have it mapped keep using it; the memory is freed when the last\n"
    "one lets go.  A name that cannot be removed prints an error line and\n"
    "the exit status is 1, but the other names are still removed.\n"
    "\n"
    "Only ringlog objects are removed: regions (of any layout version),\n"
    "snapshot files, and the empty or never-initialised objects a creator\n"
    "leaves when it dies before finishing (zero length, or a header without\n"
    "its magic).  Anything else, or an object that cannot be read to check,\n"
    "is refused unless --force is given.\n"
    "\n"
    "Options:\n"
    "  -f, --force  remove NAME whatever it holds, and say nothing about\n"
    "               names that do not exist\n"
    "  -h, --help   show this help\n";

/*
 * Whether rm may remove NAME without --force: 0 yes (or NAME does not
 * exist, which ringlog_unlink reports), else 1 with the reason in why.
 * The library's probe judges the bytes: ringlog_reader_open refuses
 * exactly the objects rm must still remove (unknown layout versions,
 * corrupt headers, creators that died while initialising).
 */
static int refuse_rm(const char *name, char *why, size_t size)
{
    struct ringlog_probe p;
    if (ringlog_probe(name, &p) != 0)
        return 0; /* a name the library refuses: ringlog_unlink says so */
    switch (p.kind) {
    case RINGLOG_KIND_ABSENT:
    case RINGLOG_KIND_REGION:
    case RINGLOG_KIND_SNAPSHOT:
    case RINGLOG_KIND_UNFINISHED: return 0;
    default: snprintf(why, size, "%s", p.why); return 1;
    }
}

int cmd_rm(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},
        {"force", 'f', OPT_NONE, O_FORCE},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    int id, force = 0, nnames = 0;
    opt_init(&st, argc, argv);
    /* Options first, so that --force applies to every name wherever it is. */
    while ((id = opt_next(&st, opts)) != OPT_END) {
        if (id == O_HELP) {
            fputs(rm_help, stdout);
            return 0;
        }
        if (id == O_FORCE)
            force = 1;
        if (id == OPT_POSITIONAL)
            nnames++;
    }
    if (nnames == 0)
        usage_error("missing region NAME");
    int status = 0;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        if (id != OPT_POSITIONAL)
            continue;
        char why[160];
        if (!force && refuse_rm(st.value, why, sizeof why)) {
            warnx_("%s: %s; not removed (--force removes it anyway)", st.value, why);
            status = EXIT_RUNTIME;
            continue;
        }
        int rc = ringlog_unlink(st.value);
        if (rc == RINGLOG_ENOENT && force)
            continue;
        if (rc != 0) {
            warnx_("%s: %s", st.value, tool_describe(rc, st.value));
            status = EXIT_RUNTIME;
        }
    }
    return status;
}

/* --------------------------------------------------------------- write */

static const char write_help[] =
    "Usage: ringlog write NAME [--level L] [MESSAGE...]\n"
    "\n"
    "Log one text entry into an existing region: the MESSAGE words joined by\n"
    "spaces.  Without MESSAGE, log one entry per line of standard input\n"
    "(newline removed; NUL bytes are kept: dump shows them as \\x00).  Text\n"
    "longer than 2048 bytes is truncated and the entry flagged.  The region\n"
    "is never created: see `ringlog demo --keep` or ringlog_open() in\n"
    "ringlog.h for that.  Below the region's minimum level (`ringlog level`)\n"
    "nothing is stored, and write says so on standard error.\n"
    "\n"
    "Exit status is 1 when an entry was dropped (ring full under the drop\n"
    "policy) or too big; the loss is counted in the region's statistics.\n"
    "\n"
    "Options:\n"
    "  -l, --level L  level of the entries (default info): trace, debug, info,\n"
    "                 notice, warn, error, critical, or 0..6\n"
    "  -h, --help     show this help\n";

/* "warn (4)", or "200" for a level with no name. */
static const char *level_label(unsigned level)
{
    static char buf[2][32];
    static int k;
    char *b = buf[k++ & 1];
    if (level <= RINGLOG_LEVEL_CRITICAL)
        snprintf(b, sizeof buf[0], "%s (%u)", ringlog_level_name(level), level);
    else
        snprintf(b, sizeof buf[0], "%u", level);
    return b;
}

static int log_one(ringlog *log, unsigned level, const char *msg, size_t len, const char *name)
{
    int rc;
    if (len <= RINGLOG_PRINTF_MAX)
        rc = ringlog_write(log, level, RINGLOG_TYPE_TEXT, 0, msg, len); /* NULs and all */
    else if (!memchr(msg, 0, len))
        rc = ringlog_printf(log, level, "%s", msg); /* cut to the maximum, flagged */
    else {
        warnx_("%s: a line of %zu bytes with NUL bytes in it: stored cut to %d bytes", name, len,
               RINGLOG_PRINTF_MAX);
        rc = ringlog_write(log, level, RINGLOG_TYPE_TEXT, 0, msg, RINGLOG_PRINTF_MAX);
    }
    if (rc == 0)
        return 0;
    warnx_("%s: %s", name, ringlog_strerror(rc));
    return EXIT_RUNTIME;
}

int cmd_write(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},
        {"level", 'l', OPT_VALUE, O_LEVEL},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL;
    unsigned level = RINGLOG_LEVEL_INFO;
    struct sbuf msg = {0};
    int id, nwords = 0;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case O_HELP: fputs(write_help, stdout); return 0;
        case O_LEVEL: level = parse_level(st.name, st.value); break;
        case OPT_POSITIONAL:
            if (!name) {
                name = st.value;
                break;
            }
            if (nwords++)
                sb_putc(&msg, ' ');
            sb_puts(&msg, st.value);
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");

    struct ringlog_options o = {.flags = RINGLOG_OPEN_EXISTING};
    ringlog *log = NULL;
    int rc = ringlog_open(name, &o, &log);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    int status = 0;
    int min = ringlog_get_level(log);
    if (!ringlog_enabled(log, level))
        warnx_("%s: level %s is below the region's minimum level (%s): nothing is stored", name,
               level_label(level), level_label((unsigned)min));
    if (nwords) {
        status = log_one(log, level, msg.p, msg.len, name);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, stdin)) >= 0) {
            if (len > 0 && line[len - 1] == '\n')
                line[--len] = 0;
            if (log_one(log, level, line, (size_t)len, name))
                status = EXIT_RUNTIME;
        }
        free(line);
    }
    ringlog_close(log);
    sb_free(&msg);
    return status;
}

static const char trigger_help[] =
    "Usage: ringlog trigger NAME [REASON...]\n"
    "\n"
    "Raise a trigger in an existing region: log a trigger entry carrying\n"
    "REASON (the words joined by spaces, at most 256 bytes) and wake every\n"
    "process waiting for triggers on the region (a recorder writes a\n"
    "snapshot).  The region's trigger count goes up by one.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n";

/* NAME and the words after it, for commands whose only option is --help. */
static const char *name_and_words(int argc, char **argv, const char *help, struct sbuf *words,
                                  int *nwords)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL;
    int id;
    *nwords = 0;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case O_HELP: fputs(help, stdout); exit(0);
        case OPT_POSITIONAL:
            if (!name) {
                name = st.value;
                break;
            }
            if ((*nwords)++)
                sb_putc(words, ' ');
            sb_puts(words, st.value);
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    return name;
}

static ringlog *open_existing_or_die(const char *name)
{
    struct ringlog_options o = {.flags = RINGLOG_OPEN_EXISTING};
    ringlog *log = NULL;
    int rc = ringlog_open(name, &o, &log);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    return log;
}

int cmd_trigger(int argc, char **argv)
{
    struct sbuf reason = {0};
    int nwords;
    const char *name = name_and_words(argc, argv, trigger_help, &reason, &nwords);
    ringlog *log = open_existing_or_die(name);
    int rc = ringlog_trigger(log, nwords ? reason.p : "ringlog trigger");
    ringlog_close(log);
    sb_free(&reason);
    if (rc != 0) {
        warnx_("%s: trigger raised, but its entry was not stored: %s", name, ringlog_strerror(rc));
        return EXIT_RUNTIME;
    }
    return 0;
}

static const char level_help[] =
    "Usage: ringlog level NAME [LEVEL] [--trigger-at LEVEL|off]\n"
    "                                  [--trigger-interval SECONDS]\n"
    "\n"
    "Show or set the run-time minimum level of an existing region.  Log calls\n"
    "below it (the RINGLOG_INFO & co. macros, ringlog_printf, ringlog_write)\n"
    "store nothing and the macros evaluate none of their arguments; the change\n"
    "takes effect at once in every process logging to the region.  Triggers and\n"
    "crash entries are never filtered.  LEVEL is trace, debug, info, notice,\n"
    "warn, error, critical or a number 0..255; `trace` lets everything through.\n"
    "\n"
    "With --trigger-at, any entry at that level or above raises a trigger by\n"
    "itself (reason \"auto-trigger at level LEVEL\"), at most one per\n"
    "--trigger-interval (default 1 s), so that `ringlog record` saves the\n"
    "history of the first error with no change to the program.  Shows the\n"
    "auto-trigger setting too.\n"
    "\n"
    "Options:\n"
    "  -t, --trigger-at LEVEL|off    auto-trigger level, or off\n"
    "  -i, --trigger-interval SECONDS  at most one auto-trigger per this long\n"
    "                                (0.001..3600; default 1)\n"
    "  -h, --help     show this help\n";

static int parse_level_word(const char *w)
{
    int v = ringlog_level_parse(w);
    if (v < 0) {
        char *end;
        unsigned long u = strtoul(w, &end, 10);
        if (*w && !*end && u <= 255)
            v = (int)u;
    }
    if (v < 0)
        usage_error("unknown level '%s' (trace, debug, info, notice, warn, error, critical "
                    "or 0..255)",
                    w);
    return v;
}

enum { L_TRIGGER = 100, L_INTERVAL };

int cmd_level(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},
        {"trigger-at", 't', OPT_VALUE, L_TRIGGER},
        {"trigger-interval", 'i', OPT_VALUE, L_INTERVAL},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL, *level_word = NULL;
    int id, set_trigger = 0, trig = -1;
    unsigned interval_ms = 0;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case O_HELP: fputs(level_help, stdout); return 0;
        case L_TRIGGER:
            set_trigger = 1;
            trig = strcmp(st.value, "off") == 0 ? -1 : parse_level_word(st.value);
            break;
        case L_INTERVAL: {
            double sec = parse_seconds(st.name, st.value);
            if (sec < 0.001 || sec > 3600)
                usage_error("--trigger-interval: 0.001 to 3600 seconds");
            interval_ms = (unsigned)(sec * 1000 + 0.5);
            break;
        }
        case OPT_POSITIONAL:
            if (!name)
                name = st.value;
            else if (!level_word)
                level_word = st.value;
            else
                usage_error("one LEVEL at most (got '%s')", st.value);
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    if (interval_ms && !set_trigger)
        usage_error("--trigger-interval goes with --trigger-at");
    int want = level_word ? parse_level_word(level_word) : -1;
    ringlog *log = open_existing_or_die(name);
    int old = ringlog_get_level(log);
    unsigned old_iv = 0;
    int old_trig = ringlog_get_trigger_level(log, &old_iv);
    int rc = 0;
    if (want >= 0)
        rc = ringlog_set_level(log, (unsigned)want);
    if (rc == 0 && set_trigger)
        rc = ringlog_set_trigger_level(log, trig, interval_ms ? interval_ms : old_iv);
    unsigned iv = 0;
    int now_trig = ringlog_get_trigger_level(log, &iv);
    ringlog_close(log);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    if (want < 0)
        printf("%s: level %s\n", name, level_label((unsigned)old));
    else
        printf("%s: level %s, was %s\n", name, level_label((unsigned)want),
               level_label((unsigned)old));
    char now_s[64], old_s[64];
    if (now_trig < 0)
        snprintf(now_s, sizeof now_s, "off");
    else
        snprintf(now_s, sizeof now_s, "%s, at most one per %.3g s", level_label((unsigned)now_trig),
                 iv / 1000.0);
    if (old_trig < 0)
        snprintf(old_s, sizeof old_s, "off");
    else
        snprintf(old_s, sizeof old_s, "%s", level_label((unsigned)old_trig));
    if (set_trigger)
        printf("%s: auto-trigger %s, was %s\n", name, now_s, old_s);
    else
        printf("%s: auto-trigger %s\n", name, now_s);
    return 0;
}
