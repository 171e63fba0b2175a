/*
 * ringlog dump: a peeking reader's one pass over a region or snapshot file.
 */
#include "view.h"

#include <signal.h>
#include <string.h>


static const char dump_help[] =
    "Usage: ringlog dump NAME|FILE... [--json] [--level L] [--lane N] [--grep REGEX]\n"
    "                   [--utc] [--where] [--no-color]\n"
    "\n"
    "Print every entry the region still holds, all lanes merged oldest first\n"
    "by timestamp, and the holes between them.  dump is a peeking reader: it maps the\n"
    "region read-only and changes nothing, so it may run next to live\n"
    "producers and a consuming reader (entries written while it runs may or\n"
    "may not be included).  A FILE must contain a '/' (e.g. ./app.rlog).\n"
    "Several names are read one after the other: `ringlog dump DIR/app-*.rlrec`\n"
    "prints a continuous recording's files in order (their names sort by time\n"
    "and their indices continue one another).\n"
    "\n"
    "Deferred entries (RINGLOG_INFO & co.) are formatted from the region's\n"
    "call-site dictionary, so no producer binary is needed.\n"
    "Text output is the same as `ringlog tail`.  With --json each line is one\n"
    "JSON object:\n"
    "  {\"index\":N,\"time\":\"2026-11-25T05:06:07.123456789Z\",\"cpu\":N,\n"
    "   \"level\":\"info\",\"type\":N,\"remarks\":N,\"pid\":N,\"flags\":N,\"lane\":N,\n"
    "   \"tid\":N,\"seq\":N,\"message\":\"...\"}\n"
    "for a text entry (type 1), whose message is the payload as a JSON string:\n"
    "valid UTF-8 is copied, control characters (C1 controls and U+2028/U+2029\n"
    "too, so that no line splitter breaks an object) are escaped, and each\n"
    "byte that is not part of valid UTF-8 becomes \\u00XX (the code point of\n"
    "the byte's value, as if the byte were Latin-1).  Binary entries (type 2,\n"
    "crash entries and application types) have the whole payload as lowercase\n"
    "hex in \"message\", followed by \"encoding\":\"hex\" and, for older\n"
    "programs, the same hex again as \"data_hex\"; entries without \"encoding\"\n"
    "carry text.  time is RFC 3339 UTC with nanoseconds; level\n"
    "is the level name (or its number as a string when unknown); pid is 0\n"
    "when unknown; cpu and lane both name the lane the entry was written to,\n"
    "tid the writing thread, seq the entry's number in its lane; index is this\n"
    "reader's count of entries and lost calls, in delivery order; flags bit 0\n"
    "means the text was truncated, bit 7 that the entry came late.  Deferred entries\n"
    "(type 5, RINGLOG_INFO & co.) have their formatted \"message\" and, when the\n"
    "call site is known, \"file\", \"line\" and \"function\".  A hole is\n"
    "{\"gap\":FIRST,\"count\":N}.\n"
    "\n"
    "Options:\n"
    "  -j, --json        JSON lines as above\n"
    "  -l, --level L     only entries at level L or above\n"
    "  -c, --lane N      only entries of lane N (--cpu N: same)\n"
    "  -g, --grep REGEX  only text entries matching the POSIX extended regex\n"
    "  -u, --utc         text output: times in UTC (JSON is always UTC)\n"
    "  -w, --where       text output: FILE:LINE of deferred entries' call sites\n"
    "      --no-color    no colors (used only when stdout is a terminal and\n"
    "                    NO_COLOR is not set)\n"
    "  -h, --help        show this help\n";

/* One region or file: everything it holds, then what could not be read.
 * Returns 0, or EXIT_RUNTIME. */
static int dump_one(struct view *v, const char *name)
{
    ringlog_reader *r = open_reader_or_die(name, RINGLOG_READER_PEEK);
    v->rd = r;
    v->end = 0; /* each reader counts its own indices */
    check_lane_filter(v, r, name);
    struct ringlog_handler h = {on_entry, on_gap, v};
    /* A peeking reader delivers all it holds in one call, up to a bound on
     * its memory: go on while calls deliver something, but stop at the
     * index the region had reached when we started, so that a busy region
     * cannot keep dump going like tail. */
    struct ringlog_info info;
    int n = ringlog_reader_info(r, &info);
    if (n == 0) {
        do
            n = ringlog_read(r, &h, 0);
        while (n > 0 && !v->write_error && v->end < info.next_index);
    }
    int status = 0;
    if (n < 0) {
        warnx_("%s: reading: %s", name, tool_describe(n, name));
        status = EXIT_RUNTIME;
    } else if (!v->write_error) {
        flush_pending_gap(v);
    }
    if (status == 0 && report_unread(r, name, "entries there could not be read"))
        status = EXIT_RUNTIME;
    ringlog_reader_close(r);
    v->rd = NULL;
    return status;
}

int cmd_dump(int argc, char **argv)
{
    struct view v;
    int no_color = 0;
    view_init(&v);
    const char *name = parse_view_args(argc, argv, &v, dump_help, 1, &no_color);
    v.color = !v.json && want_color(no_color);
    signal(SIGPIPE, SIG_IGN);
    /* Several names: read one after the other (the files of a continuous
     * recording, in name order, continue each other's indices). */
    int status = dump_one(&v, name);
    for (int i = 0; i < v.nmore && !v.write_error; i++) {
        int st = dump_one(&v, v.more[i]);
        if (st)
            status = st;
    }
    int out = finish_output(&v);
    view_free(&v);
    return status ? status : out;
}
