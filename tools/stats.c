/*
 * ringlog stats: every counter per lane and in total, and the region's
 * facts; the tables the demo prints too.
 */
#include "view.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { O_HELP = 1, O_JSON };


static const char stats_help[] =
    "Usage: ringlog stats NAME|FILE [--json]\n"
    "\n"
    "Print the region's facts (layout version, lanes (\"rings\"), bytes per lane,\n"
    "policy, clock, calls made, creation time, creator pid) and its counters per\n"
    "lane and in total, through a peeking reader (nothing changes):\n"
    "  written      log calls made on the lane\n"
    "  read         entries claimed by a consuming reader\n"
    "  lost         calls refused: lane full (drop policy), too big, frozen by a\n"
    "               snapshot, or no lane free (total only)\n"
    "  overwritten  unread entries evicted by the overwrite policy\n"
    "  too_big      entries larger than a sub-buffer (also counted in lost)\n"
    "  wraps        times the lane's write position wrapped\n"
    "  bytes        lane bytes used so far (headers and padding included)\n"
    "  abandoned    calls cut short by a writer's death (found when its lane\n"
    "               was taken over)\n"
    "  buffered     entries still in the lane, unread\n"
    "and whether written == read + lost + overwritten + buffered + abandoned holds\n"
    "(\"balanced: yes\"); it holds whenever no log call is in progress (the\n"
    "counters are read one after the other, so while entries are being logged\n"
    "they need not agree, and stats says so).\n"
    "\n"
    "Options:\n"
    "  -j, --json   one JSON object: {\"rings\":[{\"ring\":0,\"written\":N,...}],\n"
    "               \"total\":{...},\"info\":{...},\"balanced\":true,\"busy\":false}\n"
    "               (busy: entries were logged while the counters were read)\n"
    "  -h, --help   show this help\n";

#define NSTAT 9

static const char *const stat_names[NSTAT] = {"written", "read",  "lost",      "overwritten",
                                              "too_big", "wraps", "bytes",     "abandoned",
                                              "buffered"};

static void stat_values(const struct ringlog_stats *s, uint64_t out[NSTAT])
{
    out[0] = s->written;
    out[1] = s->read;
    out[2] = s->lost;
    out[3] = s->overwritten;
    out[4] = s->too_big;
    out[5] = s->wraps;
    out[6] = s->bytes;
    out[7] = s->abandoned;
    out[8] = s->buffered;
}

static int stats_balanced(const struct ringlog_stats *s)
{
    return s->written == s->read + s->lost + s->overwritten + s->buffered + s->abandoned;
}

static int ndigits(uint64_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Prints per-ring rows and the total; columns as wide as their widest value. */
void print_stats_table(FILE *out, const struct ringlog_stats *per, unsigned n,
                       const struct ringlog_stats *total)
{
    int w[NSTAT];
    uint64_t v[NSTAT];
    for (int c = 0; c < NSTAT; c++)
        w[c] = (int)strlen(stat_names[c]);
    stat_values(total, v); /* totals are the widest values */
    for (int c = 0; c < NSTAT; c++)
        if (ndigits(v[c]) > w[c])
            w[c] = ndigits(v[c]);
    int rw = 5; /* "total" */
    fprintf(out, "%-*s", rw, "ring");
    for (int c = 0; c < NSTAT; c++)
        fprintf(out, "  %*s", w[c], stat_names[c]);
    fputc('\n', out);
    for (unsigned i = 0; i <= n; i++) {
        const struct ringlog_stats *s = i < n ? &per[i] : total;
        stat_values(s, v);
        if (i < n)
            fprintf(out, "%*u", rw, i);
        else
            fprintf(out, "%-*s", rw, "total");
        for (int c = 0; c < NSTAT; c++)
            fprintf(out, "  %*llu", w[c], (unsigned long long)v[c]);
        fputc('\n', out);
    }
}

void print_balance_line(FILE *out, const struct ringlog_stats *t, int busy)
{
    int ok = stats_balanced(t);
    fprintf(out,
            "balanced: %s (written %llu %s read %llu + lost %llu + overwritten %llu + "
            "buffered %llu + abandoned %llu = %llu)%s\n",
            ok ? "yes" : "no", (unsigned long long)t->written, ok ? "==" : "!=",
            (unsigned long long)t->read, (unsigned long long)t->lost,
            (unsigned long long)t->overwritten, (unsigned long long)t->buffered,
            (unsigned long long)t->abandoned,
            (unsigned long long)(t->read + t->lost + t->overwritten + t->buffered +
                                 t->abandoned),
            !ok && busy ? "; entries were being logged while the counters were read" : "");
}

void print_info(FILE *out, const char *name, const struct ringlog_info *in)
{
    char size[32], created[64];
    fmt_size(size, sizeof size, in->ring_size);
    fmt_time_us(created, sizeof created, in->created_ns, 0);
    fprintf(out, "region:      %s\n", name);
    fprintf(out, "version:     %u\n", in->version);
    fprintf(out, "rings:       %u\n", in->nrings);
    fprintf(out, "ring size:   %s (%llu bytes)\n", size, (unsigned long long)in->ring_size);
    fprintf(out, "policy:      %s\n", policy_name(in->policy));
    fprintf(out, "clock:       %s\n", in->clock ? in->clock : "?");
    fprintf(out, "next index:  %llu\n", (unsigned long long)in->next_index);
    fprintf(out, "created:     %s\n", created);
    fprintf(out, "creator pid: %u\n", in->creator_pid);
    fprintf(out, "triggers:    %u\n", in->triggers);
    fprintf(out, "min level:   %s (%u)\n",
            in->min_level <= RINGLOG_LEVEL_CRITICAL ? ringlog_level_name(in->min_level) : "number",
            in->min_level);
    fmt_size(size, sizeof size, in->dict_size);
    if (in->dict_size)
        fprintf(out, "call sites:  %u in a %s dictionary, %llu bytes used", in->sites, size,
                (unsigned long long)in->dict_used);
    else /* a recording file: the sites its entries use */
        fprintf(out, "call sites:  %u", in->sites);
    if (in->sites_refused)
        fprintf(out, "; %u registrations refused (full: those calls were logged as text)",
                in->sites_refused);
    fputc('\n', out);
    if (in->snapshot_reason) {
        char taken[64];
        fmt_time_us(taken, sizeof taken, in->snapshot_ns, 0);
        fprintf(out, "snapshot:    %s\n", in->snapshot_reason);
        fprintf(out, "taken:       %s\n", taken);
        if (in->snapshot_first_trigger)
            fprintf(out, "triggers:    %u..%u in this file\n", in->snapshot_first_trigger,
                    in->snapshot_last_trigger);
        if (in->snapshot_trigger_ns) {
            char at[64];
            fmt_time_us(at, sizeof at, in->snapshot_trigger_ns, 0);
            fprintf(out, "trigger at:  %s\n", at);
        }
    }
}

/* What a recording file says of itself (ringlog_reader_recording). */
static void print_recording(FILE *out, const struct ringlog_recording *rc)
{
    char opened[64], closed[64];
    fmt_time_us(opened, sizeof opened, rc->opened_ns, 0);
    fprintf(out, "recording:   of region %s, file %u of its run %016llx\n", rc->region,
            rc->file_no, (unsigned long long)rc->run_id);
    fprintf(out, "indices:     %llu..%llu (%llu)\n", (unsigned long long)rc->first_index,
            (unsigned long long)rc->next_index,
            (unsigned long long)(rc->next_index - rc->first_index));
    fprintf(out, "opened:      %s\n", opened);
    if (rc->closed_ns) {
        fmt_time_us(closed, sizeof closed, rc->closed_ns, 0);
        fprintf(out, "closed:      %s (%s)\n", closed,
                rc->closed_why == 0 ? "rotated" : "recording stopped");
    } else {
        fprintf(out, "closed:      no (being written, or its recorder died)\n");
    }
    fprintf(out, "blocks:      %llu, %llu zstd-compressed; %llu bytes of records\n",
            (unsigned long long)rc->blocks, (unsigned long long)rc->zstd_blocks,
            (unsigned long long)rc->raw_bytes);
    if (rc->closed_ns) {
        const struct ringlog_stats *t = &rc->region_total;
        fprintf(out,
                "region then: written %llu, read %llu, lost %llu, overwritten %llu, "
                "abandoned %llu, buffered %llu\n",
                (unsigned long long)t->written, (unsigned long long)t->read,
                (unsigned long long)t->lost, (unsigned long long)t->overwritten,
                (unsigned long long)t->abandoned, (unsigned long long)t->buffered);
    }
    fputs("counters:    of this file: read = its entries, lost = its calls in gaps\n", out);
}

static void json_stats_obj(struct sbuf *b, const struct ringlog_stats *s, long ring)
{
    uint64_t v[NSTAT];
    stat_values(s, v);
    sb_putc(b, '{');
    if (ring >= 0)
        sb_printf(b, "\"ring\":%ld,", ring);
    for (int c = 0; c < NSTAT; c++)
        sb_printf(b, "%s\"%s\":%llu", c ? "," : "", stat_names[c], (unsigned long long)v[c]);
    sb_putc(b, '}');
}

int cmd_stats(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, O_HELP},
        {"json", 'j', OPT_NONE, O_JSON},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL;
    int json = 0, id;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case O_HELP: fputs(stats_help, stdout); return 0;
        case O_JSON: json = 1; break;
        case OPT_POSITIONAL:
            if (name)
                usage_error("unexpected argument '%s' (one region at a time)", st.value);
            name = st.value;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    signal(SIGPIPE, SIG_IGN);

    ringlog_reader *r = open_reader_or_die(name, RINGLOG_READER_PEEK);
    struct ringlog_info info;
    int rc = ringlog_reader_info(r, &info);
    if (rc != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
    unsigned cap = info.nrings ? info.nrings : 1;
    struct ringlog_stats total, *per = calloc(cap, sizeof *per);
    if (!per)
        die(EXIT_RUNTIME, "out of memory");
    /* The counters are read one after the other while producers may be
     * logging, so on a busy region they need not agree.  Try for a quiet
     * moment (the global index the same before and after) a few times. */
    int busy = 1;
    for (int attempt = 0; attempt < 5 && busy; attempt++) {
        uint64_t before = info.next_index;
        if (attempt) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            before = info.next_index;
        }
        rc = ringlog_reader_stats(r, &total, per, cap);
        if (rc < 0)
            die(EXIT_RUNTIME, "%s: %s", name, tool_describe(rc, name));
        int irc = ringlog_reader_info(r, &info);
        if (irc != 0)
            die(EXIT_RUNTIME, "%s: %s", name, tool_describe(irc, name));
        busy = info.next_index != before;
    }
    unsigned n = (unsigned)rc < cap ? (unsigned)rc : cap;
    struct ringlog_recording rec;
    int is_rec = ringlog_reader_recording(r, &rec) == 0;

    if (json) {
        struct sbuf b = {0};
        char created[64];
        sb_puts(&b, "{\"rings\":[");
        for (unsigned i = 0; i < n; i++) {
            if (i)
                sb_putc(&b, ',');
            json_stats_obj(&b, &per[i], (long)i);
        }
        sb_puts(&b, "],\"total\":");
        json_stats_obj(&b, &total, -1);
        fmt_time_ns(created, sizeof created, info.created_ns);
        sb_puts(&b, ",\"info\":{\"name\":\"");
        sb_json_escaped(&b, (const unsigned char *)name, strlen(name));
        sb_printf(&b,
                  "\",\"version\":%u,\"nrings\":%u,\"ring_size\":%llu,\"policy\":\"%s\","
                  "\"clock\":\"%s\",\"next_index\":%llu,\"created\":\"%s\",\"created_ns\":%llu,"
                  "\"creator_pid\":%u,\"triggers\":%u,\"min_level\":%u,\"sites\":%u,"
                  "\"sites_refused\":%u,\"dict_size\":%llu,\"dict_used\":%llu},"
                  "\"balanced\":%s,\"busy\":%s",
                  info.version, info.nrings, (unsigned long long)info.ring_size,
                  policy_name(info.policy), info.clock ? info.clock : "?",
                  (unsigned long long)info.next_index, created,
                  (unsigned long long)info.created_ns, info.creator_pid, info.triggers,
                  info.min_level, info.sites, info.sites_refused,
                  (unsigned long long)info.dict_size, (unsigned long long)info.dict_used,
                  stats_balanced(&total) ? "true" : "false", busy ? "true" : "false");
        if (is_rec) {
            sb_puts(&b, ",\"recording\":{\"region\":\"");
            sb_json_escaped(&b, (const unsigned char *)rec.region, strlen(rec.region));
            sb_printf(&b,
                      "\",\"first_index\":%llu,\"next_index\":%llu,\"opened_ns\":%llu,"
                      "\"closed_ns\":%llu,\"closed_why\":%u,\"run_id\":%llu,\"file_no\":%u,"
                      "\"blocks\":%llu,\"zstd_blocks\":%llu,\"raw_bytes\":%llu,"
                      "\"region_total\":",
                      (unsigned long long)rec.first_index, (unsigned long long)rec.next_index,
                      (unsigned long long)rec.opened_ns, (unsigned long long)rec.closed_ns,
                      rec.closed_why, (unsigned long long)rec.run_id, rec.file_no,
                      (unsigned long long)rec.blocks, (unsigned long long)rec.zstd_blocks,
                      (unsigned long long)rec.raw_bytes);
            json_stats_obj(&b, &rec.region_total, -1);
            sb_putc(&b, '}');
        }
        sb_puts(&b, "}\n");
        if (sb_write_stdout(&b) != 0 && errno != EPIPE)
            warnx_("writing output: %s", strerror(errno));
        sb_free(&b);
    } else {
        print_info(stdout, name, &info);
        if (is_rec)
            print_recording(stdout, &rec);
        fputc('\n', stdout);
        print_stats_table(stdout, per, n, &total);
        fputc('\n', stdout);
        print_balance_line(stdout, &total, busy);
    }
    free(per);
    /* A corrupt head or length hides what is behind it from the counts
     * too: walk everything once (a peek, delivering nothing) and say so,
     * with a non-zero status (issue 11). */
    int status = 0;
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    do { /* a busy region has always more: a second at most */
        if (ringlog_read(r, NULL, 0) <= 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &w1);
    } while ((w1.tv_sec - w0.tv_sec) * 1000000000L + (w1.tv_nsec - w0.tv_nsec) < 1000000000L);
    if (report_unread(r, name, "the counters cannot account for what is there"))
        status = EXIT_RUNTIME;
    ringlog_reader_close(r);
    if (fflush(stdout) != 0 && errno != EPIPE)
        die(EXIT_RUNTIME, "writing output: %s", strerror(errno));
    return status;
}

