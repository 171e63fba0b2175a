/*
 * ringlog top: a live view of regions, like htop for logs.  A peeking
 * reader per region (it consumes nothing): every refresh it reads what
 * came since the last one, counts it per lane, process and level, keeps
 * the newest messages, and shows the region's counters changing.
 * Built with ncurses when the build finds it (libncurses-dev).
 */
#include "tool.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char top_help[] =
    "Usage: ringlog top NAME... [--interval SECONDS]\n"
    "\n"
    "A live view of one or more regions (Tab switches between them): per lane\n"
    "and per process the entries per second, the loss and overwrite counters\n"
    "as they change, the entries per level, and the newest messages.  It is a\n"
    "peeking reader: it consumes nothing and changes nothing, except when you\n"
    "press t.\n"
    "\n"
    "Keys:\n"
    "  q        quit                    p, space  pause / resume\n"
    "  l        minimum level of the messages shown (cycles all..critical)\n"
    "  /        search: show only messages containing a text (empty: all)\n"
    "  t        raise a trigger in the region (a recorder writes a snapshot)\n"
    "  Tab      next region\n"
    "\n"
    "Options:\n"
    "  -i, --interval SECONDS  refresh period (default 1; 0.1..60)\n"
    "  -h, --help              show this help\n";

#ifndef RINGLOG_HAVE_NCURSES
int cmd_top(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(top_help, stdout);
            return 0;
        }
    die(EXIT_RUNTIME, "this ringlog was built without ncurses: apt-get install libncurses-dev "
                      "and rebuild (make)");
}
#else
#include <curses.h>

#define NEWEST 200
#define MAXPIDS 64
#define MSG_MAX 200

struct msg {
    uint64_t time_ns;
    unsigned level;
    uint32_t pid, tid;
    char text[MSG_MAX];
};

struct pidrate {
    uint32_t pid;
    uint64_t total, tick;
};

struct view_state {
    const char *name;
    ringlog_reader *r;
    unsigned nlanes;
    struct ringlog_stats *prev, *cur;
    struct ringlog_stats tprev, tcur;
    uint64_t levels[8];
    struct pidrate pids[MAXPIDS];
    unsigned npids;
    struct msg newest[NEWEST];
    unsigned head, count;
    double tick_s;
    char err[160];
};

static volatile sig_atomic_t top_stop;
static void on_stop(int sig)
{
    (void)sig;
    top_stop = 1;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int take_entry(void *arg, const struct ringlog_entry *e)
{
    struct view_state *v = arg;
    v->levels[e->level < 7 ? e->level : 7]++;
    unsigned k;
    for (k = 0; k < v->npids && v->pids[k].pid != e->pid; k++)
        ;
    if (k == v->npids && v->npids < MAXPIDS)
        v->pids[v->npids++] = (struct pidrate){e->pid, 0, 0};
    if (k < v->npids) {
        v->pids[k].total++;
        v->pids[k].tick++;
    }
    struct msg *m = &v->newest[v->head];
    v->head = (v->head + 1) % NEWEST;
    if (v->count < NEWEST)
        v->count++;
    m->time_ns = e->time_ns;
    m->level = e->level;
    m->pid = e->pid;
    m->tid = e->tid;
    if (e->type == RINGLOG_TYPE_DEFERRED) {
        ringlog_entry_text(v->r, e, m->text, sizeof m->text);
    } else if (e->type == RINGLOG_TYPE_TEXT || e->type == RINGLOG_TYPE_TRIGGER) {
        size_t n = e->length < sizeof m->text - 1 ? e->length : sizeof m->text - 1;
        size_t o = 0;
        if (e->type == RINGLOG_TYPE_TRIGGER)
            o = (size_t)snprintf(m->text, sizeof m->text, "TRIGGER #%u: ", e->remarks);
        if (n > sizeof m->text - 1 - o)
            n = sizeof m->text - 1 - o;
        memcpy(m->text + o, e->data, n);
        m->text[o + n] = 0;
    } else {
        snprintf(m->text, sizeof m->text, "(type %u, %zu bytes)", e->type, e->length);
    }
    /* Keep the screen sane: control characters become '.'. */
    for (char *c = m->text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '.';
    return 0;
}

static void refresh_state(struct view_state *v)
{
    for (unsigned k = 0; k < v->npids; k++)
        v->pids[k].tick = 0;
    struct ringlog_handler h = {take_entry, NULL, v};
    /* Bounded: at most 64 reads a refresh, however fast the writers. */
    for (int i = 0; i < 64 && ringlog_read(v->r, &h, 0) > 0; i++)
        ;
    memcpy(v->prev, v->cur, v->nlanes * sizeof *v->cur);
    v->tprev = v->tcur;
    int n = ringlog_reader_stats(v->r, &v->tcur, v->cur, v->nlanes);
    if (n < 0)
        snprintf(v->err, sizeof v->err, "statistics: %s", ringlog_strerror(n));
}

static double rate(uint64_t now, uint64_t before, double s)
{
    return s > 0 && now >= before ? (double)(now - before) / s : 0;
}

static void fmt_rate(char *b, size_t n, double r)
{
    if (r >= 1e6)
        snprintf(b, n, "%.1fM", r / 1e6);
    else if (r >= 1e3)
        snprintf(b, n, "%.1fK", r / 1e3);
    else
        snprintf(b, n, "%.0f", r);
}

static const char *lvl(unsigned l)
{
    return l <= RINGLOG_LEVEL_CRITICAL ? ringlog_level_name(l) : "?";
}

static void draw(struct view_state *v, unsigned nregions, unsigned which, int paused,
                 int min_level, const char *search, const char *note)
{
    erase();
    int rows = LINES, y = 0;
    char r1[32];
    mvprintw(y++, 0, "ringlog top  %s  (%u of %u)%s  messages: %s%s%s%s%s", v->name, which + 1,
             nregions, paused ? "  [paused]" : "",
             min_level < 0 ? "all levels" : lvl((unsigned)min_level),
             min_level < 0 ? "" : " and above", search[0] ? "  search: " : "", search,
             note[0] ? "  " : "");
    if (note[0])
        printw("%s", note);
    fmt_rate(r1, sizeof r1, rate(v->tcur.written, v->tprev.written, v->tick_s));
    mvprintw(y++, 0, "total: %s calls/s  written %llu  read %llu  lost %llu  overwritten %llu  "
                     "buffered %llu  abandoned %llu",
             r1, (unsigned long long)v->tcur.written, (unsigned long long)v->tcur.read,
             (unsigned long long)v->tcur.lost, (unsigned long long)v->tcur.overwritten,
             (unsigned long long)v->tcur.buffered, (unsigned long long)v->tcur.abandoned);
    mvprintw(y++, 0, "levels:");
    for (unsigned l = 0; l < 7; l++)
        printw(" %s %llu", lvl(l), (unsigned long long)v->levels[l]);
    if (v->err[0])
        mvprintw(y++, 0, "%s", v->err);
    y++;
    attron(A_BOLD);
    mvprintw(y++, 0, "%-5s %10s %12s %10s %12s", "LANE", "CALLS/S", "WRITTEN", "LOST",
             "OVERWRITTEN");
    attroff(A_BOLD);
    int lane_rows = 0;
    for (unsigned i = 0; i < v->nlanes && y < rows / 2; i++) {
        if (!v->cur[i].written)
            continue;
        fmt_rate(r1, sizeof r1, rate(v->cur[i].written, v->prev[i].written, v->tick_s));
        mvprintw(y++, 0, "%-5u %10s %12llu %10llu %12llu", i, r1,
                 (unsigned long long)v->cur[i].written, (unsigned long long)v->cur[i].lost,
                 (unsigned long long)v->cur[i].overwritten);
        lane_rows++;
    }
    if (!lane_rows)
        mvprintw(y++, 0, "(no lane written yet)");
    y++;
    attron(A_BOLD);
    mvprintw(y++, 0, "%-8s %10s %12s", "PID", "ENTRIES/S", "SEEN");
    attroff(A_BOLD);
    for (unsigned k = 0; k < v->npids && y < rows * 2 / 3; k++) {
        fmt_rate(r1, sizeof r1, v->tick_s > 0 ? v->pids[k].tick / v->tick_s : 0);
        mvprintw(y++, 0, "%-8u %10s %12llu", v->pids[k].pid, r1,
                 (unsigned long long)v->pids[k].total);
    }
    y++;
    attron(A_BOLD);
    mvprintw(y++, 0, "newest messages");
    attroff(A_BOLD);
    /* Newest first, filtered. */
    for (unsigned k = 0; k < v->count && y < rows - 1; k++) {
        const struct msg *m = &v->newest[(v->head + NEWEST - 1 - k) % NEWEST];
        if (min_level >= 0 && m->level < (unsigned)min_level)
            continue;
        if (search[0] && !strstr(m->text, search))
            continue;
        char ts[64];
        fmt_time_us(ts, sizeof ts, m->time_ns, 0);
        mvprintw(y++, 0, "%.15s %-8s %7u %s", ts + 11, lvl(m->level), m->pid, m->text);
    }
    mvprintw(rows - 1, 0, "q quit  p pause  l level  / search  t trigger  Tab next region");
    refresh();
}

enum { T_HELP = 1, T_INTERVAL };

int cmd_top(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, T_HELP}, {"interval", 'i', OPT_VALUE, T_INTERVAL},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    int id;
    double interval = 1.0;
    const char *names[16];
    unsigned n = 0;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case T_HELP: fputs(top_help, stdout); return 0;
        case T_INTERVAL:
            interval = parse_seconds(st.name, st.value);
            if (interval < 0.1 || interval > 60)
                usage_error("--interval: 0.1 to 60 seconds");
            break;
        case OPT_POSITIONAL:
            if (n == 16)
                usage_error("at most 16 regions");
            names[n++] = st.value;
            break;
        default: break;
        }
    }
    if (!n)
        usage_error("missing region NAME");
    static struct view_state vs[16];
    for (unsigned i = 0; i < n; i++) {
        struct view_state *v = &vs[i];
        v->name = names[i];
        v->r = open_reader_or_die(names[i], RINGLOG_READER_PEEK);
        struct ringlog_info info;
        if (ringlog_reader_info(v->r, &info) != 0)
            die(EXIT_RUNTIME, "%s: %s", names[i], ringlog_errmsg());
        v->nlanes = info.nrings;
        v->prev = calloc(v->nlanes, sizeof *v->prev);
        v->cur = calloc(v->nlanes, sizeof *v->cur);
        if (!v->prev || !v->cur)
            die(EXIT_RUNTIME, "out of memory");
        refresh_state(v);
    }
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    if (!initscr())
        die(EXIT_RUNTIME, "cannot start the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    timeout(100);
    unsigned which = 0;
    int paused = 0, min_level = -1;
    char search[64] = "", note[96] = "";
    double last = mono_s();
    for (unsigned i = 0; i < n; i++)
        vs[i].tick_s = 0;
    draw(&vs[which], n, which, paused, min_level, search, note);
    while (!top_stop) {
        int c = getch();
        int redraw = 0;
        if (c == 'q' || c == 'Q')
            break;
        if (c == 'p' || c == ' ') {
            paused = !paused;
            redraw = 1;
        } else if (c == 'l') {
            min_level = min_level >= RINGLOG_LEVEL_CRITICAL ? -1 : min_level + 1;
            redraw = 1;
        } else if (c == '\t') {
            which = (which + 1) % n;
            redraw = 1;
        } else if (c == '/') {
            mvprintw(LINES - 1, 0, "search: ");
            clrtoeol();
            echo();
            timeout(-1);
            getnstr(search, sizeof search - 1);
            noecho();
            timeout(100);
            redraw = 1;
        } else if (c == 't') {
            ringlog *log = NULL;
            struct ringlog_options o = {.flags = RINGLOG_OPEN_EXISTING};
            int rc = ringlog_open(vs[which].name, &o, &log);
            if (rc == 0) {
                ringlog_trigger(log, "ringlog top: key t");
                ringlog_close(log);
                snprintf(note, sizeof note, "trigger raised");
            } else {
                snprintf(note, sizeof note, "trigger: %s", ringlog_strerror(rc));
            }
            redraw = 1;
        }
        double now = mono_s();
        if (now - last >= interval) {
            if (!paused)
                for (unsigned i = 0; i < n; i++) {
                    vs[i].tick_s = now - last;
                    refresh_state(&vs[i]);
                }
            last = now;
            redraw = 1;
        }
        if (redraw)
            draw(&vs[which], n, which, paused, min_level, search, note);
    }
    endwin();
    for (unsigned i = 0; i < n; i++) {
        ringlog_reader_close(vs[i].r);
        free(vs[i].prev);
        free(vs[i].cur);
    }
    return 0;
}
#endif
