/*
 * ringlog sites: the call sites of a region's dictionary, and switching
 * them off or on for every process at once (ringlog_site_switch).
 */
#include "tool.h"

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char sites_help[] =
    "Usage: ringlog sites NAME [--off SPEC | --on SPEC] [--format GLOB]\n"
    "\n"
    "List the call sites of deferred logging (RINGLOG_INFO & co.) that region\n"
    "NAME knows: id, state (on or off), level, the entries of the site the\n"
    "region still holds, FILE:LINE and the format.  With --off or --on, first\n"
    "switch the matching sites off or back on, in every process using the\n"
    "region at once: a switched-off call stores nothing and counts nowhere,\n"
    "like a call below the minimum level, and costs about as little.\n"
    "\n"
    "SPEC is FILE:LINE, or FILE for every site of a file; FILE is the path\n"
    "the compiler saw or its last components (\"orders.c\", \"src/orders.c\").\n"
    "--format GLOB (an fnmatch(3) pattern, e.g. '*retry*') narrows the sites\n"
    "to those whose format matches; alone with --off/--on and SPEC '*' it\n"
    "selects by format only.\n"
    "\n"
    "Options:\n"
    "      --off SPEC     switch the matching sites off\n"
    "      --on SPEC      switch them back on\n"
    "  -f, --format GLOB  only sites whose format matches GLOB\n"
    "  -h, --help         show this help\n";

enum { S_HELP = 1, S_OFF, S_ON, S_FORMAT };

struct site_row {
    struct ringlog_site_info si;
    char *format, *file;
    uint64_t held;
};

struct site_list {
    struct site_row *v;
    size_t n, cap;
    uint64_t end; /* index after the last item the peek delivered */
};

static int add_site(void *arg, const struct ringlog_site_info *si)
{
    struct site_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct site_row *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    struct site_row *r = &l->v[l->n];
    r->si = *si;
    r->format = strdup(si->format);
    r->file = strdup(si->file);
    r->held = 0;
    if (!r->format || !r->file)
        return 1;
    l->n++;
    return 0;
}

static int count_gap(void *arg, uint64_t first, uint64_t count)
{
    struct site_list *l = arg;
    l->end = first + count;
    return 0;
}

static int count_entry(void *arg, const struct ringlog_entry *e)
{
    struct site_list *l = arg;
    l->end = e->index + 1;
    if (e->type != RINGLOG_TYPE_DEFERRED)
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].si.id == e->remarks) {
            l->v[i].held++;
            break;
        }
    return 0;
}

static int by_place(const void *a, const void *b)
{
    const struct site_row *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : (x->si.line > y->si.line) - (x->si.line < y->si.line);
}

/* FILE:LINE or FILE ("*": any file). */
static void parse_spec(const char *spec, char **file, unsigned *line)
{
    *line = 0;
    *file = strdup(spec);
    if (!*file)
        die(EXIT_RUNTIME, "out of memory");
    char *colon = strrchr(*file, ':');
    if (colon && colon[1]) {
        char *end;
        unsigned long v = strtoul(colon + 1, &end, 10);
        if (*end || v == 0 || v > 0xffffffffu)
            usage_error("bad line in '%s' (FILE:LINE, LINE from 1)", spec);
        *line = (unsigned)v;
        *colon = 0;
    }
    if (strcmp(*file, "*") == 0) {
        free(*file);
        *file = NULL;
    }
}

int cmd_sites(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, S_HELP}, {"off", 0, OPT_VALUE, S_OFF},
        {"on", 0, OPT_VALUE, S_ON},      {"format", 'f', OPT_VALUE, S_FORMAT},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL, *spec = NULL, *glob = NULL;
    int id, on = -1;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case S_HELP: fputs(sites_help, stdout); return 0;
        case S_OFF:
        case S_ON:
            if (spec)
                usage_error("one --off or --on at a time");
            spec = st.value;
            on = id == S_ON;
            break;
        case S_FORMAT: glob = st.value; break;
        case OPT_POSITIONAL:
            if (name)
                usage_error("unexpected argument '%s'", st.value);
            name = st.value;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    signal(SIGPIPE, SIG_IGN);
    if (spec) {
        char *file;
        unsigned line;
        parse_spec(spec, &file, &line);
        struct ringlog_options o = {.flags = RINGLOG_OPEN_EXISTING};
        ringlog *log = NULL;
        int rc = ringlog_open(name, &o, &log);
        if (rc != 0)
            die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
        int n = ringlog_site_switch(log, file, line, glob, on);
        ringlog_close(log);
        free(file);
        if (n < 0)
            die(EXIT_RUNTIME, "%s: %s", name, tool_describe(n, name));
        if (n == 0)
            die(EXIT_RUNTIME, "%s: no call site matches %s%s%s", name, spec,
                glob ? " and format " : "", glob ? glob : "");
        printf("%s: %d call site%s switched %s\n", name, n, n == 1 ? "" : "s", on ? "on" : "off");
    }

    ringlog_reader *r = open_reader_or_die(name, RINGLOG_READER_PEEK);
    struct site_list l = {0};
    int rc = ringlog_reader_sites(r, add_site, &l);
    if (rc < 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    /* What the region still holds of each site: one peek pass, up to the
     * calls made when it began, so that a busy region cannot keep it
     * going (as dump does). */
    struct ringlog_handler h = {count_entry, count_gap, &l};
    struct ringlog_info info;
    if (l.n && ringlog_reader_info(r, &info) == 0) {
        int n;
        do
            n = ringlog_read(r, &h, 0);
        while (n > 0 && l.end < info.next_index);
    }
    ringlog_reader_close(r);
    qsort(l.v, l.n, sizeof *l.v, by_place);
    if (l.n)
        printf("%6s  %-3s  %-8s  %8s  %s\n", "ID", "ON", "LEVEL", "HELD", "SITE  FORMAT");
    for (size_t i = 0; i < l.n; i++) {
        const struct site_row *s = &l.v[i];
        if (glob && !spec) {
            /* --format alone filters the listing. */
            if (fnmatch(glob, s->format, 0) != 0)
                continue;
        }
        struct sbuf fmt = {0};
        sb_text_escaped(&fmt, (const unsigned char *)s->format, strlen(s->format));
        sb_putc(&fmt, 0);
        printf("%6u  %-3s  %-8s  %8llu  %s:%u  %s\n", s->si.id, s->si.off ? "off" : "on",
               s->si.level <= RINGLOG_LEVEL_CRITICAL ? ringlog_level_name(s->si.level) : "?",
               (unsigned long long)s->held, s->file, s->si.line, fmt.p);
        sb_free(&fmt);
    }
    for (size_t i = 0; i < l.n; i++) {
        free(l.v[i].format);
        free(l.v[i].file);
    }
    free(l.v);
    if (fflush(stdout) != 0 && errno != EPIPE)
        die(EXIT_RUNTIME, "writing output: %s", strerror(errno));
    return 0;
}
