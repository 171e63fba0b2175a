/*
 * The entry view shared by `ringlog tail` and `ringlog dump` (view.c):
 * decode once, filter, render.
 */
#ifndef RINGLOG_TOOL_VIEW_H
#define RINGLOG_TOOL_VIEW_H

#include "tool.h"

#include <regex.h>

struct view {
    /* filters */
    int min_level;  /* -1: all */
    long cpu;       /* lane filter (--lane, formerly --cpu); -1: all */
    regex_t re;
    int have_re;
    /* output */
    int json;
    int color;
    int utc;
    int where;            /* show file:line of deferred entries */
    ringlog_reader *rd;   /* formats deferred entries */
    /* state */
    struct sbuf line;
    struct sbuf text; /* NUL-terminated copy of a message, for regexec */
    struct sbuf msg;  /* a deferred entry, formatted */
    int write_error;  /* errno of a failed write to stdout, 0 when fine */
    uint64_t entries, gaps;
    uint64_t end; /* index after the last item delivered, filtered or not */
    /* Text output with a filter: gaps between shown entries are summed into
     * one line, printed before the next shown entry, instead of burying the
     * rare entries the filter is for under the gaps of hidden ones. */
    uint64_t pend_count, pend_first, pend_last;
    /* Names after the first (dump reads several files one after the
     * other; other commands refuse them). */
    const char **more;
    int nmore;
};

/* An entry decoded once: its message (text, a trigger's reason, or a
 * deferred entry formatted from the region's dictionary) and call site.
 * Filters and both renderers read this, never the entry's bytes again. */
struct decoded {
    const struct ringlog_entry *e;
    const unsigned char *msg; /* NULL for binary payloads */
    size_t msg_len;
    int have_site;
    const char *file, *function;
    unsigned line;
};

/* Decodes e with reader rd (whose region's dictionary formats deferred
 * entries) into *d; scratch holds a formatted message. */
void decode_entry(ringlog_reader *rd, const struct ringlog_entry *e, struct decoded *d,
                  struct sbuf *scratch);
/* Filter, then render, an entry decoded once; non-zero when stdout failed. */
int show_entry(struct view *v, const struct decoded *d);
/* ringlog_handler callbacks over a view whose reader is v->rd. */
int on_entry(void *arg, const struct ringlog_entry *e);
int on_gap(void *arg, uint64_t first, uint64_t count);
/* Writes v->line to stdout; non-zero (and v->write_error) when it failed. */
int flush_line(struct view *v);
/* Prints the summed gaps of a filtered view, if any. */
int flush_pending_gap(struct view *v);

void view_init(struct view *v);
void view_free(struct view *v);
/* Parses the options tail and dump share; returns the region name. */
const char *parse_view_args(int argc, char **argv, struct view *v, const char *help,
                            int allow_json, int *no_color);
/* Refuses (exit 2) a --lane the region does not have. */
void check_lane_filter(const struct view *v, ringlog_reader *r, const char *name);
int want_color(int no_color);
/* Ends a command's output: 0, or EXIT_RUNTIME when stdout failed (not EPIPE). */
int finish_output(struct view *v);
/* Warns when r read a damaged snapshot; returns 1 then. */
int report_unread(ringlog_reader *r, const char *name, const char *cost);

#endif
