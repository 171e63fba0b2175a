/*
 * ringlog export NAME|FILE --ctf DIR: a peeking reader's one pass written
 * as a CTF 1.8 trace (babeltrace2, Trace Compass): one stream file per
 * lane, then the TSDL metadata, last, since the event classes of call
 * sites are known only once every entry has been read.
 *
 * Layout choices (docs/DESIGN.md, "CTF export"):
 *   - every type is byte-aligned (align = 8), so an event is its fields
 *     packed, in host byte order, and nothing here computes padding;
 *   - one clock of 1 GHz counting ns since the Unix epoch (UTC), so
 *     babeltrace2 shows real times; event timestamps strictly increase in
 *     the reader's index order (a tie or a late entry is moved to the
 *     previous event's time + 1 ns; the true time stays in `time_ns`), so
 *     babeltrace2's muxer, which orders by time, keeps the index order;
 *   - packets of at most PACKET_MAX bytes (or one event, if bigger) are
 *     written as they fill: memory is at most a packet per lane met.
 */
#include "tool.h"
#include "view.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char export_help[] =
    "Usage: ringlog export NAME|FILE --ctf DIR [--force] [--quiet]\n"
    "\n"
    "Write every entry the region (or snapshot file) still holds as a CTF 1.8\n"
    "trace in DIR, for babeltrace2 and Trace Compass: `metadata` (TSDL) and one\n"
    "stream file per lane (lane_N; nolane for calls that found no lane).\n"
    "Like dump, export is a peeking reader: it changes nothing in the region.\n"
    "\n"
    "Event classes:\n"
    "  ringlog:text     text entries: msg\n"
    "  ringlog:site_ID  deferred entries of call site ID: msg (formatted), then\n"
    "                   the arguments typed: arg0, arg1... (int32/64, uint32/64,\n"
    "                   double, string, pointer as hex uint64, bytes as a\n"
    "                   uint8 sequence), errno for %m, suppressed for rate-limited\n"
    "                   sites; the class's loglevel and model.emf.uri\n"
    "                   (\"FILE:LINE FUNCTION\") name the site\n"
    "  ringlog:deferred deferred entries whose site or arguments are unreadable: msg\n"
    "  ringlog:trigger  msg (the reason);  ringlog:crash: msg, signo, addr, ip\n"
    "  ringlog:raw      other types: msg (a description), data (uint8 sequence)\n"
    "  ringlog:gap      calls that never arrived: first_index, count, lane, first_seq\n"
    "Every event has the context index, time_ns, timestamp (raw clock), level,\n"
    "lane, pid, tid, seq, flags and remarks, as in `ringlog dump --json`.  The\n"
    "packet context counts the lane's lost calls so far in events_discarded.\n"
    "\n"
    "The clock counts ns since the Unix epoch (UTC).  Event times strictly\n"
    "increase in the reader's order: an entry that ties with the one before\n"
    "it, or came late, is shown 1 ns after it (its own time is in time_ns).\n"
    "\n"
    "Options:\n"
    "      --ctf DIR     the trace directory: created, or empty, or (--force)\n"
    "                    holding an earlier export, whose files are replaced\n"
    "  -f, --force       replace an earlier export in DIR\n"
    "  -q, --quiet       no summary line on stderr\n"
    "  -h, --help        show this help\n"
    "\n"
    "Read it with: babeltrace2 --clock-gmt DIR\n"
    "Exit status: 0 success, 1 runtime failure (unreadable input, corrupt\n"
    "spans skipped, a write error), 2 usage error.\n";

enum { O_CTF = 1, O_FORCE, O_QUIET, O_HELP };

#define PACKET_MAX (64u * 1024u)
/* packet.header: magic, stream_id, stream_instance_id */
#define PH_SIZE 16u
/* packet.context: timestamp_begin, timestamp_end, content_size, packet_size,
 * packet_seq_num, events_discarded, cpu_id */
#define PC_SIZE 52u
#define PKT_HEAD (PH_SIZE + PC_SIZE)

/* Fixed event classes; call sites' classes follow from SITE_CLASS0. */
enum { EC_TEXT = 0, EC_GAP, EC_TRIGGER, EC_CRASH, EC_RAW, EC_DEFERRED, SITE_CLASS0 = 16 };

struct stream {
    unsigned char *buf; /* the packet being built, its head left for flush */
    size_t len, cap;
    uint64_t ts_begin, ts_end, seq_num, discarded;
    uint32_t lane;
    int used;           /* has a file */
};

struct site_class {
    uint32_t site, cls, nargs, level, line;
    uint8_t types[RINGLOG_MAX_ARGS];
    char *file, *func;
};

struct exporter {
    ringlog_reader *r;
    const char *dir;
    struct stream *streams; /* [nlanes] and the lane-less at nlanes */
    uint32_t nlanes;
    struct site_class *sites; /* open addressing by site id, at most half full */
    size_t nsites, capsites;
    uint32_t next_class;
    uint64_t last_ts;
    int have_ts;
    /* Gaps met before the first entry: their time is the first entry's. */
    struct ringlog_gap *pending;
    size_t npending, cappending;
    struct sbuf ev;
    char *msg; /* formatted text of the entry at hand */
    size_t msgcap;
    uint64_t events, entries, gaps, lost, moved, max_shift, end;
    int failed; /* a write error: reported once, stops the read */
};

/* ------------------------------------------------------------ output */

static void put(struct sbuf *b, const void *p, size_t n) { sb_add(b, p, n); }
static void put_u8(struct sbuf *b, uint8_t v) { put(b, &v, 1); }
static void put_u32(struct sbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct sbuf *b, uint64_t v) { put(b, &v, 8); }

/* A CTF string ends at its first NUL: a NUL inside the text becomes
 * U+FFFD, so that the fields after it stay where the metadata says. */
static void put_str(struct sbuf *b, const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        if (!z) {
            put(b, p, (size_t)(end - p));
            break;
        }
        put(b, p, (size_t)(z - p));
        put(b, "\xef\xbf\xbd", 3);
        p = z + 1;
    }
    put_u8(b, 0);
}

static int write_all(int fd, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static void stream_path(const struct exporter *x, const struct stream *s, char *buf, size_t cap)
{
    if (s->lane == RINGLOG_NO_LANE)
        snprintf(buf, cap, "%s/nolane", x->dir);
    else
        snprintf(buf, cap, "%s/lane_%" PRIu32, x->dir, s->lane);
}

static void fail_write(struct exporter *x, const char *path)
{
    if (!x->failed)
        warnx_("%s: %s", path, strerror(errno));
    x->failed = 1;
}

/* Fills in the packet's head and appends it to the lane's file.  Files
 * are opened per packet so that a region of many lanes needs no more
 * descriptors than one. */
static void flush_packet(struct exporter *x, struct stream *s)
{
    if (s->len <= PKT_HEAD || x->failed)
        return;
    unsigned char *h = s->buf;
    uint32_t magic = 0xC1FC1FC1u, stream_id = 0;
    uint64_t inst = s->lane, bits = (uint64_t)s->len * 8;
    memcpy(h, &magic, 4);
    memcpy(h + 4, &stream_id, 4);
    memcpy(h + 8, &inst, 8);
    memcpy(h + 16, &s->ts_begin, 8);
    memcpy(h + 24, &s->ts_end, 8);
    memcpy(h + 32, &bits, 8); /* content_size */
    memcpy(h + 40, &bits, 8); /* packet_size: no padding after the content */
    memcpy(h + 48, &s->seq_num, 8);
    memcpy(h + 56, &s->discarded, 8);
    memcpy(h + 64, &s->lane, 4);
    char path[PATH_MAX];
    stream_path(x, s, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, s->buf, s->len) != 0) {
        fail_write(x, path);
        if (fd >= 0)
            close(fd);
        return;
    }
    if (close(fd) != 0)
        fail_write(x, path);
    s->used = 1;
    s->seq_num++;
    s->len = PKT_HEAD;
}

static struct stream *stream_of(struct exporter *x, uint32_t lane)
{
    uint32_t i = lane < x->nlanes ? lane : x->nlanes;
    struct stream *s = &x->streams[i];
    s->lane = lane < x->nlanes ? lane : RINGLOG_NO_LANE;
    return s;
}

/* Appends the event built in x->ev (header + context + payload) to its
 * lane's packet, starting a new packet when it would pass PACKET_MAX. */
static void emit(struct exporter *x, struct stream *s, uint64_t ts)
{
    size_t n = x->ev.len;
    if (s->len > PKT_HEAD && s->len + n > PACKET_MAX)
        flush_packet(x, s);
    if (x->failed)
        return;
    if (s->len == 0)
        s->len = PKT_HEAD;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap *= 2;
        unsigned char *p = realloc(s->buf, cap);
        if (!p)
            die(EXIT_RUNTIME, "out of memory");
        s->buf = p;
        s->cap = cap;
    }
    if (s->len == PKT_HEAD)
        s->ts_begin = ts;
    s->ts_end = ts;
    memcpy(s->buf + s->len, x->ev.p, n);
    s->len += n;
    x->events++;
}

/* The next event time: `t` itself unless that would not come after the
 * last event's (a tie, or a late entry). */
static uint64_t next_ts(struct exporter *x, uint64_t t)
{
    if (x->have_ts && t <= x->last_ts) {
        uint64_t shift = x->last_ts + 1 - t;
        if (shift > x->max_shift)
            x->max_shift = shift;
        x->moved++;
        t = x->last_ts + 1;
    }
    x->last_ts = t;
    x->have_ts = 1;
    return t;
}

static void ev_begin(struct exporter *x, uint32_t cls, uint64_t ts, uint64_t index,
                     uint64_t time_ns, uint64_t raw, uint32_t level, uint32_t lane, uint32_t pid,
                     uint32_t tid, uint64_t seq, uint32_t flags, uint32_t remarks)
{
    struct sbuf *b = &x->ev;
    sb_reset(b);
    put_u32(b, cls);
    put_u64(b, ts);
    put_u64(b, index);
    put_u64(b, time_ns);
    put_u64(b, raw);
    put_u32(b, level);
    put_u32(b, lane);
    put_u32(b, pid);
    put_u32(b, tid);
    put_u64(b, seq);
    put_u32(b, flags);
    put_u32(b, remarks);
}

/* ------------------------------------------------------- call sites */

static struct site_class *site_slot(struct exporter *x, uint32_t id)
{
    size_t i = (id * 0x9E3779B1u) & (x->capsites - 1);
    while (x->sites[i].cls && x->sites[i].site != id)
        i = (i + 1) & (x->capsites - 1);
    return &x->sites[i];
}

static char *dup_or_die(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        die(EXIT_RUNTIME, "out of memory");
    return d;
}

/* The class of a deferred entry's site, made at its first entry; NULL
 * when the site's argument types changed (a corrupt region), so that the
 * entry goes to ringlog:deferred rather than under the wrong fields. */
static const struct site_class *site_class(struct exporter *x, const struct ringlog_entry *e,
                                           const struct ringlog_arg *a, unsigned n)
{
    if (2 * (x->nsites + 1) > x->capsites) {
        size_t old = x->capsites;
        struct site_class *t = x->sites;
        x->capsites = old ? 2 * old : 64;
        x->sites = calloc(x->capsites, sizeof *x->sites);
        if (!x->sites)
            die(EXIT_RUNTIME, "out of memory");
        for (size_t i = 0; i < old; i++)
            if (t[i].cls)
                *site_slot(x, t[i].site) = t[i];
        free(t);
    }
    struct site_class *c = site_slot(x, e->remarks);
    if (c->cls) {
        if (c->nargs != n)
            return NULL;
        for (unsigned i = 0; i < n; i++)
            if (c->types[i] != a[i].type)
                return NULL;
        return c;
    }
    struct ringlog_site_info si;
    if (ringlog_entry_site(x->r, e, &si) != 0)
        return NULL;
    c->site = e->remarks;
    c->cls = x->next_class++;
    c->nargs = n;
    c->level = si.level;
    c->line = si.line;
    for (unsigned i = 0; i < n; i++)
        c->types[i] = (uint8_t)a[i].type;
    c->file = dup_or_die(si.file);
    c->func = dup_or_die(si.function);
    x->nsites++;
    return c;
}

/* ------------------------------------------------------------ entries */

static const char *entry_text(struct exporter *x, const struct ringlog_entry *e, size_t *len)
{
    for (;;) {
        size_t n = ringlog_entry_text(x->r, e, x->msg, x->msgcap);
        if (n < x->msgcap) {
            *len = n;
            return x->msg;
        }
        /* Too long for the buffer: grow to the full length, format again. */
        size_t cap = x->msgcap ? x->msgcap : 1024;
        while (cap <= n)
            cap *= 2;
        char *p = realloc(x->msg, cap);
        if (!p)
            die(EXIT_RUNTIME, "out of memory");
        x->msg = p;
        x->msgcap = cap;
    }
}

static void put_args(struct exporter *x, const struct ringlog_arg *a, unsigned n)
{
    struct sbuf *b = &x->ev;
    for (unsigned i = 0; i < n; i++) {
        switch (a[i].type) {
        case RINGLOG_ARG_I32:
        case RINGLOG_ARG_U32:
        case RINGLOG_ARG_BLEN:
        case RINGLOG_ARG_ERRNO:
            put_u32(b, (uint32_t)a[i].u);
            break;
        case RINGLOG_ARG_F64:
        case RINGLOG_ARG_LDBL:
            put(b, &a[i].f, 8);
            break;
        case RINGLOG_ARG_STR:
            if (a[i].flags & RINGLOG_ARGF_NULL)
                put_str(b, "(null)", 6);
            else
                put_str(b, a[i].str, a[i].len);
            break;
        case RINGLOG_ARG_BYTES:
            put_u32(b, (uint32_t)a[i].len);
            if (a[i].len)
                put(b, a[i].str, a[i].len);
            break;
        default: /* I64, U64, PTR, SUPPRESSED */
            put_u64(b, a[i].u);
            break;
        }
    }
}

static void emit_gap(struct exporter *x, const struct ringlog_gap *g, uint64_t ts)
{
    struct stream *s = stream_of(x, g->lane);
    /* The count goes to the packet that holds the gap event, and to the
     * following ones: events_discarded counts the lane's losses so far. */
    s->discarded += g->count;
    /* A gap has no time of its own (time_ns and timestamp 0): its event
     * time only places it in the index order. */
    ev_begin(x, EC_GAP, ts, g->first_index, 0, 0, 0, g->lane, 0, 0, g->first_seq, 0, 0);
    put_u64(&x->ev, g->first_index);
    put_u64(&x->ev, g->count);
    put_u32(&x->ev, g->lane);
    put_u64(&x->ev, g->first_seq);
    emit(x, s, ts);
}

static int on_export_entry(void *arg, const struct ringlog_entry *e)
{
    struct exporter *x = arg;
    if (!x->have_ts && x->npending) {
        /* Gaps before the first entry: just before it, in index order. */
        x->last_ts = e->time_ns - x->npending - 1;
        x->have_ts = e->time_ns > x->npending;
        for (size_t i = 0; i < x->npending; i++)
            emit_gap(x, &x->pending[i], next_ts(x, x->have_ts ? x->last_ts + 1 : 0));
        x->npending = 0;
    }
    uint64_t ts = next_ts(x, e->time_ns);
    size_t mlen;
    const char *msg = entry_text(x, e, &mlen);
    uint32_t cls;
    struct ringlog_arg a[RINGLOG_MAX_ARGS];
    int na = 0;
    const struct site_class *sc = NULL;
    switch (e->type) {
    case RINGLOG_TYPE_TEXT: cls = EC_TEXT; break;
    case RINGLOG_TYPE_TRIGGER: cls = EC_TRIGGER; break;
    case RINGLOG_TYPE_CRASH: cls = EC_CRASH; break;
    case RINGLOG_TYPE_DEFERRED:
        na = ringlog_entry_args(x->r, e, a, RINGLOG_MAX_ARGS);
        if (na >= 0 && na <= RINGLOG_MAX_ARGS)
            sc = site_class(x, e, a, (unsigned)na);
        cls = sc ? sc->cls : EC_DEFERRED;
        break;
    default: cls = EC_RAW; break;
    }
    ev_begin(x, cls, ts, e->index, e->time_ns, e->timestamp, e->level, e->lane, e->pid, e->tid,
             e->seq, e->flags, e->remarks);
    put_str(&x->ev, msg, mlen);
    if (sc) {
        put_args(x, a, (unsigned)na);
    } else if (cls == EC_CRASH) {
        struct ringlog_crash c;
        memset(&c, 0, sizeof c);
        if (e->length) /* a short (corrupt) one: the rest reads as 0 */
            memcpy(&c, e->data, e->length < sizeof c ? e->length : sizeof c);
        put_u32(&x->ev, c.signo);
        put_u64(&x->ev, c.addr);
        put_u64(&x->ev, c.ip);
    } else if (cls == EC_RAW) {
        uint32_t n = e->length > UINT32_MAX ? UINT32_MAX : (uint32_t)e->length;
        put_u32(&x->ev, n);
        put(&x->ev, e->data, n);
    }
    emit(x, stream_of(x, e->lane), ts);
    x->entries++;
    x->end = e->index + 1;
    return x->failed;
}

static int on_export_gap(void *arg, uint64_t first, uint64_t count)
{
    struct exporter *x = arg;
    struct ringlog_gap g;
    if (ringlog_gap_info(x->r, &g) != 0)
        g = (struct ringlog_gap){first, count, RINGLOG_NO_LANE, 0, 0};
    x->gaps++;
    x->lost += count;
    x->end = first + count;
    if (!x->have_ts) {
        if (x->npending == x->cappending) {
            size_t cap = x->cappending ? 2 * x->cappending : 16;
            struct ringlog_gap *p = realloc(x->pending, cap * sizeof *p);
            if (!p)
                die(EXIT_RUNTIME, "out of memory");
            x->pending = p;
            x->cappending = cap;
        }
        x->pending[x->npending++] = g;
        return 0;
    }
    emit_gap(x, &g, next_ts(x, x->last_ts + 1));
    return x->failed;
}

/* ------------------------------------------------------------ metadata */

/* A TSDL string literal of untrusted text: quotes, backslashes and
 * anything outside printable ASCII become '?'. */
static void tsdl_quoted(struct sbuf *b, const char *s)
{
    sb_putc(b, '"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        sb_putc(b, c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?');
    }
    sb_putc(b, '"');
}

/* CTF log levels (syslog's, then LTTng's finer debug levels). */
static int ctf_loglevel(uint32_t level)
{
    static const int map[] = {14, 13, 6, 5, 4, 3, 2};
    return level < sizeof map / sizeof map[0] ? map[level] : -1;
}

static const char *arg_type_name(uint8_t t)
{
    switch (t) {
    case RINGLOG_ARG_I32:
    case RINGLOG_ARG_BLEN:
    case RINGLOG_ARG_ERRNO: return "int32_t";
    case RINGLOG_ARG_U32: return "uint32_t";
    case RINGLOG_ARG_I64: return "int64_t";
    case RINGLOG_ARG_PTR: return "xuint64_t";
    case RINGLOG_ARG_F64:
    case RINGLOG_ARG_LDBL: return "double_t";
    case RINGLOG_ARG_STR: return "string";
    default: return "uint64_t"; /* U64, SUPPRESSED */
    }
}

static void event_head(struct sbuf *b, const char *name, uint32_t id)
{
    sb_printf(b, "event {\n\tname = \"%s\";\n\tid = %" PRIu32 ";\n\tstream_id = 0;\n", name, id);
}

static void write_metadata(struct exporter *x, const char *region, const struct ringlog_info *in)
{
    struct sbuf b = {0};
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const char *order = "be";
#else
    const char *order = "le";
#endif
    sb_puts(&b, "/* CTF 1.8 */\n\n");
    sb_puts(&b, "/* Written by `ringlog export --ctf`: every type is byte-aligned. */\n");
    sb_puts(&b, "typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
                "typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
                "typealias integer { size = 32; align = 8; signed = true; } := int32_t;\n"
                "typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
                "typealias integer { size = 64; align = 8; signed = true; } := int64_t;\n"
                "typealias integer { size = 64; align = 8; signed = false; base = 16; } := xuint64_t;\n"
                "typealias floating_point { exp_dig = 11; mant_dig = 53; align = 8; } := double_t;\n\n");
    sb_printf(&b,
              "trace {\n\tmajor = 1;\n\tminor = 8;\n\tbyte_order = %s;\n"
              "\tpacket.header := struct {\n\t\tuint32_t magic;\n\t\tuint32_t stream_id;\n"
              "\t\tuint64_t stream_instance_id;\n\t};\n};\n\n",
              order);
    sb_puts(&b, "env {\n\tdomain = \"ringlog\";\n\ttracer_name = \"ringlog\";\n");
    sb_printf(&b, "\ttracer_major = %d;\n\ttracer_minor = %d;\n\ttracer_patch = %d;\n",
              RINGLOG_VERSION_MAJOR, RINGLOG_VERSION_MINOR, RINGLOG_VERSION_PATCH);
    sb_puts(&b, "\tregion = ");
    tsdl_quoted(&b, region);
    sb_puts(&b, ";\n\tregion_clock = ");
    tsdl_quoted(&b, in->clock);
    sb_printf(&b, ";\n\tregion_lanes = %" PRIu32 ";\n\tregion_created_ns = %" PRIu64 ";\n",
              in->nrings, in->created_ns);
    if (in->snapshot_reason) {
        sb_puts(&b, "\tsnapshot_reason = ");
        tsdl_quoted(&b, in->snapshot_reason);
        sb_printf(&b, ";\n\tsnapshot_ns = %" PRIu64 ";\n", in->snapshot_ns);
    }
    sb_puts(&b, "};\n\n");
    sb_puts(&b, "clock {\n\tname = ringlog;\n"
                "\tdescription = \"ns since the Unix epoch (UTC), from the region's clock\";\n"
                "\tfreq = 1000000000;\n\tprecision = 1;\n\toffset_s = 0;\n\toffset = 0;\n"
                "\tabsolute = true;\n};\n\n"
                "typealias integer { size = 64; align = 8; signed = false; "
                "map = clock.ringlog.value; } := ts_t;\n\n");
    sb_puts(&b, "stream {\n\tid = 0;\n"
                "\tpacket.context := struct {\n\t\tts_t timestamp_begin;\n\t\tts_t timestamp_end;\n"
                "\t\tuint64_t content_size;\n\t\tuint64_t packet_size;\n"
                "\t\tuint64_t packet_seq_num;\n\t\tuint64_t events_discarded;\n"
                "\t\tuint32_t cpu_id;\n\t};\n"
                "\tevent.header := struct {\n\t\tuint32_t id;\n\t\tts_t timestamp;\n\t};\n"
                "\tevent.context := struct {\n\t\tuint64_t index;\n\t\tuint64_t time_ns;\n"
                "\t\tuint64_t timestamp;\n\t\tuint32_t level;\n\t\tuint32_t lane;\n"
                "\t\tuint32_t pid;\n\t\tuint32_t tid;\n\t\tuint64_t seq;\n"
                "\t\tuint32_t flags;\n\t\tuint32_t remarks;\n\t};\n};\n\n");
    event_head(&b, "ringlog:text", EC_TEXT);
    sb_puts(&b, "\tfields := struct { string msg; };\n};\n\n");
    event_head(&b, "ringlog:gap", EC_GAP);
    sb_puts(&b, "\tfields := struct { uint64_t first_index; uint64_t count; uint32_t lane; "
                "uint64_t first_seq; };\n};\n\n");
    event_head(&b, "ringlog:trigger", EC_TRIGGER);
    sb_puts(&b, "\tfields := struct { string msg; };\n};\n\n");
    event_head(&b, "ringlog:crash", EC_CRASH);
    sb_puts(&b, "\tloglevel = 0;\n\tfields := struct { string msg; uint32_t signo; "
                "xuint64_t addr; xuint64_t ip; };\n};\n\n");
    event_head(&b, "ringlog:raw", EC_RAW);
    sb_puts(&b, "\tfields := struct { string msg; uint32_t length; uint8_t data[length]; };\n};\n\n");
    event_head(&b, "ringlog:deferred", EC_DEFERRED);
    sb_puts(&b, "\tfields := struct { string msg; };\n};\n\n");
    for (size_t i = 0; i < x->capsites; i++) {
        const struct site_class *c = &x->sites[i];
        if (!c->cls)
            continue;
        char name[64];
        snprintf(name, sizeof name, "ringlog:site_%" PRIu32, c->site);
        event_head(&b, name, c->cls);
        if (ctf_loglevel(c->level) >= 0)
            sb_printf(&b, "\tloglevel = %d;\n", ctf_loglevel(c->level));
        /* The site, for people: TSDL has no attributes of its own for it. */
        char uri[2 * PATH_MAX];
        snprintf(uri, sizeof uri, "%s:%" PRIu32 " %s", c->file, c->line, c->func);
        sb_puts(&b, "\tmodel.emf.uri = ");
        tsdl_quoted(&b, uri);
        sb_puts(&b, ";\n\tfields := struct {\n\t\tstring msg;\n");
        for (uint32_t k = 0; k < c->nargs; k++) {
            uint8_t t = c->types[k];
            if (t == RINGLOG_ARG_BYTES)
                sb_printf(&b, "\t\tuint32_t arg%" PRIu32 "_len;\n\t\tuint8_t arg%" PRIu32
                              "[arg%" PRIu32 "_len];\n",
                          k, k, k);
            else if (t == RINGLOG_ARG_ERRNO)
                sb_printf(&b, "\t\t%s _errno;\n", arg_type_name(t));
            else if (t == RINGLOG_ARG_SUPPRESSED)
                sb_printf(&b, "\t\t%s suppressed;\n", arg_type_name(t));
            else
                sb_printf(&b, "\t\t%s arg%" PRIu32 ";\n", arg_type_name(t), k);
        }
        sb_puts(&b, "\t};\n};\n\n");
    }
    /* Written to a temporary name and renamed: a DIR with a `metadata` is
     * a finished export. */
    char tmp[PATH_MAX], path[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.metadata.tmp", x->dir);
    snprintf(path, sizeof path, "%s/metadata", x->dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, b.p, b.len) != 0 || close(fd) != 0) {
        fail_write(x, tmp);
    } else if (rename(tmp, path) != 0) {
        fail_write(x, path);
    }
    if (x->failed)
        unlink(tmp);
    sb_free(&b);
}

/* ------------------------------------------------------------ DIR */

static int is_export_file(const char *n)
{
    return strcmp(n, "metadata") == 0 || strcmp(n, ".metadata.tmp") == 0 ||
           strcmp(n, "nolane") == 0 ||
           (strncmp(n, "lane_", 5) == 0 && n[5] && strspn(n + 5, "0123456789") == strlen(n + 5));
}

/* DIR made, or found empty, or (force) emptied of an earlier export.
 * Anything else in it is left alone and refused: babeltrace2 would read
 * every file of the directory as a stream. */
static void prepare_dir(const char *dir, int force)
{
    if (mkdir(dir, 0755) == 0)
        return;
    if (errno != EEXIST)
        die(EXIT_RUNTIME, "%s: cannot create: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d)
        die(EXIT_RUNTIME, "%s: %s", dir, strerror(errno));
    struct dirent *de;
    int ours = 0, others = 0;
    char first_other[256] = "";
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (is_export_file(de->d_name)) {
            ours++;
        } else if (!others++) {
            snprintf(first_other, sizeof first_other, "%s", de->d_name);
        }
    }
    closedir(d);
    if (others)
        die(EXIT_RUNTIME, "%s is not empty (it holds '%s'%s, not an export's): choose another DIR",
            dir, first_other, others > 1 ? " and more" : "");
    if (!ours)
        return;
    if (!force)
        die(EXIT_RUNTIME, "%s holds an earlier export: --force replaces it", dir);
    d = opendir(dir);
    if (!d)
        die(EXIT_RUNTIME, "%s: %s", dir, strerror(errno));
    while ((de = readdir(d))) {
        if (!is_export_file(de->d_name))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (unlink(p) != 0 && errno != ENOENT)
            die(EXIT_RUNTIME, "%s: cannot remove: %s", p, strerror(errno));
    }
    closedir(d);
}

/* ------------------------------------------------------------ command */

int cmd_export(int argc, char **argv)
{
    static const struct opt_def defs[] = {
        {"ctf", 0, OPT_VALUE, O_CTF},
        {"force", 'f', OPT_NONE, O_FORCE},
        {"quiet", 'q', OPT_NONE, O_QUIET},
        {"help", 'h', OPT_NONE, O_HELP},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    opt_init(&st, argc, argv);
    const char *name = NULL, *dir = NULL;
    int force = 0, quiet = 0, id;
    while ((id = opt_next(&st, defs)) != OPT_END) {
        switch (id) {
        case O_CTF: dir = st.value; break;
        case O_FORCE: force = 1; break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: fputs(export_help, stdout); return 0;
        case OPT_POSITIONAL:
            if (name)
                usage_error("unexpected argument '%s'", st.value);
            name = st.value;
            break;
        }
    }
    if (!name)
        usage_error("missing NAME|FILE");
    if (!dir)
        usage_error("missing --ctf DIR (the only format so far)");
    if (!*dir)
        usage_error("--ctf: empty directory name");
    if (strlen(dir) > PATH_MAX - 64)
        usage_error("--ctf: directory name too long");

    /* Opened before DIR is touched: a refused input leaves no directory. */
    ringlog_reader *r = open_reader_or_die(name, RINGLOG_READER_PEEK);
    struct ringlog_info info;
    int n = ringlog_reader_info(r, &info);
    if (n != 0)
        die(EXIT_RUNTIME, "%s: %s", name, tool_describe(n, name));
    prepare_dir(dir, force);

    struct exporter x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.dir = dir;
    x.nlanes = info.nrings;
    x.next_class = SITE_CLASS0;
    x.streams = calloc((size_t)x.nlanes + 1, sizeof *x.streams);
    if (!x.streams)
        die(EXIT_RUNTIME, "out of memory");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* As dump: a peeking reader delivers what it holds up to a bound on
     * its memory per call; stop at the index the region had reached at
     * the start, so that a busy region cannot keep the export going. */
    struct ringlog_handler h = {on_export_entry, on_export_gap, &x};
    do
        n = ringlog_read(r, &h, 0);
    while (n > 0 && !x.failed && x.end < info.next_index);
    int status = 0;
    if (n < 0) {
        warnx_("%s: reading: %s", name, tool_describe(n, name));
        status = EXIT_RUNTIME;
    }
    if (x.npending) { /* only gaps: at the region's creation time */
        x.last_ts = info.created_ns;
        x.have_ts = 1;
        for (size_t i = 0; i < x.npending; i++)
            emit_gap(&x, &x.pending[i], next_ts(&x, x.last_ts + 1));
        x.npending = 0;
    }
    for (uint32_t i = 0; i <= x.nlanes; i++)
        flush_packet(&x, &x.streams[i]);
    if (!x.failed)
        write_metadata(&x, name, &info);
    if (x.failed)
        status = EXIT_RUNTIME;

    if (report_unread(r, name, "entries there could not be read"))
        status = EXIT_RUNTIME;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!quiet && !x.failed) {
        unsigned files = 0;
        for (uint32_t i = 0; i <= x.nlanes; i++)
            files += (unsigned)x.streams[i].used;
        fprintf(stderr,
                "ringlog: export: %s -> %s: %" PRIu64 " entries, %" PRIu64 " gaps (%" PRIu64
                " calls lost), %zu call sites, %u stream files, %.3f s",
                name, dir, x.entries, x.gaps, x.lost, x.nsites, files, secs);
        if (x.moved)
            fprintf(stderr, "; %" PRIu64 " times moved to keep the order (at most %" PRIu64 " ns)",
                    x.moved, x.max_shift);
        fputc('\n', stderr);
    }
    for (uint32_t i = 0; i <= x.nlanes; i++)
        free(x.streams[i].buf);
    free(x.streams);
    for (size_t i = 0; i < x.capsites; i++) {
        free(x.sites[i].file);
        free(x.sites[i].func);
    }
    free(x.sites);
    free(x.pending);
    sb_free(&x.ev);
    free(x.msg);
    ringlog_reader_close(r);
    return status;
}
