/*
 * Fuzz target: the region validator, the lane walker and the reader (peek
 * and consume), the call-site dictionary, the deferred-argument decoder and
 * formatter, and the snapshot parser, over hostile bytes (layout 4: lanes).
 * Built two ways from this one file:
 *   - with clang -fsanitize=fuzzer: a libFuzzer target (fuzz/run.sh);
 *   - without: a corpus replayer, `fuzz_region FILE|DIR...`, run by
 *     `make test` under ASan+UBSan.
 *
 * Input byte 0 selects the shape:
 *   "RLSPARSE...": a snapshot file in sparse form (below), expanded, its
 *         checksums recomputed, and opened like a user would: written to a
 *         memfd and opened by path with ringlog_reader_open, read whole,
 *         every entry formatted, info and stats taken;
 *   "RLSNAP01...": a snapshot file as is, same path (checksums patched
 *         unless bit 0 of byte 60, the reserved field, is set);
 *   "RLREC001...": a recording file (continuous recording), same path:
 *         the header's and every block's checksums patched unless bit 0 of
 *         byte 352 (padding) is set, so that mutations reach the blocks'
 *         records (entries, gaps, call sites, zstd frames);
 *   3:    a valid region holding one call-site record and one deferred entry
 *         built from the input (argument types, format, payload), so the
 *         fuzzer works on the argument decoder and the checked formatter;
 *   even: the bytes are a region image as is (exercises the header checks);
 *   odd:  a region with a valid header is built from the input (below), so
 *         the fuzzer spends its time in the walker and the reader rather
 *         than on the header checksum.
 * Region shapes are read by a peek reader over the bytes in memory
 * (rl_reader_open_memory, which only peeks whatever flags it is given).
 * Built regions (shapes 3 and odd) may also be read by a consuming reader
 * (the region written to a memfd and opened by path with
 * RINGLOG_READER_CONSUME: the claim, the hold behind the clock and the
 * in-flight cut run too), and be made into a snapshot file.
 *
 * Built regions.  Bytes 1..3 give the geometry and what is done with it:
 *   b1 % 4 + 1 lanes; b2 % 4: lanes of 4096 << that bytes (2 or 4
 *   sub-buffers); b3 bit 0 the drop policy, bit 1 the TSC clock, bits 2..3
 *   a consuming reader's lag (0: default, else ms + 1), bit 4 read by a
 *   consuming reader too, bit 5 then by a second one, bit 6 made into a
 *   snapshot file of two images (bit 7: one), read back by path.
 * The rest of the input (shape odd) is read in order, zero past its end:
 *   flags (1): 0 dictionary bytes poured (u16 length, then the bytes),
 *     1 a valid call-site record (as in shape 3), 2 nolane, 3 registry
 *     slots 1..3, 4 a consumer claim, 5 triggers and min_level, 6 clock
 *     base, wall-clock base and frequency (u64, u64, u32);
 *   per lane: mode (1): bits 0..1 the fill (0, 1 entries; 2 raw bytes
 *     poured over the lane: u16 end, u16 count, the bytes; 3 entries, then
 *     words patched: count, then u16 word index and u64 each), bits 2..4
 *     how head and tail relate (end of data, inside an entry, head behind
 *     tail, huge head, beyond the data, unaligned), bits 5..6 the first
 *     sequence number (small, near the 48-bit wrap, any); tail (u16 * 8,
 *     u8 % 8 wraps); sequence; timestamp base selector; entry count (u8);
 *     per entry a control byte (kind = c % 8: short, u8-long, u16-long
 *     (perhaps too big), deferred, pad, corrupt length, bytes skipped, raw
 *     bytes; bit 6 a gap in the sequence, bit 7 a timestamp going back)
 *     and its fields; then head, seq, counters, in-flight and owner words;
 *   for a snapshot (b3 bit 6): the header's trigger, taken time, reason
 *     (length, bytes), trigger time, first and last trigger; nolane and
 *     triggers added; then, for the second image, each lane written on
 *     from where the first image left it (as above, without tail and
 *     sequence; whole sub-buffers evicted when it overflows).
 * Entries are laid out as a writer does (8-aligned, a pad or nothing at a
 * sub-buffer's end), so mutations reach the walker with lengths, pads,
 * heads and tails near what a writer leaves and just off it.  Hand-made
 * seeds in this form: lanes-entries (three lanes, entries of every kind,
 * a site, gaps, a late entry, sequence numbers across 2^48, consumed
 * twice), lanes-corrupt (corrupt lengths, pads with junk, skipped and raw
 * bytes, an entry too big, patched words, a head inside an entry),
 * lanes-bad-heads (head behind the tail, near 2^64, beyond the data, an
 * unaligned tail), lanes-raw-tsc (raw bytes, the TSC clock, recent
 * timestamps, a call in flight), lanes-snapshot (two images, the second
 * evicting), and deferred-entry (shape 3).
 *
 * Sparse snapshots.  The smallest region is ~90 KB (the 64 KiB producer
 * registry, a 16 KiB dictionary, a 4 KiB lane), mostly zero, so a real
 * snapshot does not fit libFuzzer's -max_len.  The sparse form is
 *   0  8  "RLSPARSE"
 *   8  1  flags: bit 0 leave every checksum as given (the rejection paths);
 *               bit 1 leave the images' region-header checksums as given;
 *               bit 2 open with RINGLOG_READER_CONSUME (a file: peek anyway)
 *   9  3  size of the expanded file, little-endian (capped at SPARSE_MAX)
 *  12     records until the end: offset (3 bytes LE), length (2 bytes LE),
 *         then that many bytes, written at that offset of a zeroed file
 * (fuzz/make_seeds.c writes seeds in this form).  Unless told not to, the
 * harness then recomputes, as ringlog_snapshot would, each image's region
 * header checksum (FNV-1a of image bytes 8..123, at image byte 124), each
 * image's CRC-32 (file header bytes 48 + 4i) and the header CRC-32 (bytes
 * 0..4095 with bytes 56..59 zero, stored at 56): mutations reach the parser
 * and the readers behind the checksums.
 *
 * Besides the sanitizers, the harness checks what a reader promises of
 * any bytes: an entry fits a sub-buffer and names an existing lane, gap
 * information matches the gap callback, and an entry's text length does
 * not depend on the buffer it is formatted into.
 */
#include "internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPARSE_MAGIC "RLSPARSE"
#define SPARSE_MAX (1u << 20)

static uint64_t sink;

static ringlog_reader *cur_reader;
static int print_entries;
/* What the current reader's region promises: 0 when unknown. */
static uint32_t cur_nlanes;
static uint64_t cur_sub;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_region: reader broke a promise: %s\n", what);
    abort();
}

/* A recording file's entries are bounded by their records, not by a
 * sub-buffer. */
static int reading_recording;

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    (void)arg;
    if (cur_nlanes && e->lane >= cur_nlanes)
        fail("entry of a lane that does not exist");
    if (e->cpu != e->lane)
        fail("entry's cpu differs from its lane");
    if (cur_sub && !reading_recording && e->length > cur_sub - RL_EHDR)
        fail("entry larger than a sub-buffer");
    /* Touch every byte handed out: ASan proves they are ours. */
    const unsigned char *p = e->data;
    for (size_t i = 0; i < e->length; i++)
        sink += p[i];
    sink += e->index + e->time_ns + e->cpu + e->pid + e->tid + e->seq + e->flags;
    /* Format it as a tool would: small buffer first, then the full size. */
    char small[64];
    size_t n = ringlog_entry_text(cur_reader, e, small, sizeof small);
    if (strlen(small) >= sizeof small || (n < sizeof small && strlen(small) > n))
        fail("entry text overran its buffer");
    if (print_entries) /* replay with RINGLOG_FUZZ_PRINT=1 to see them */
        printf("entry %llu lane %u seq %llu type %u length %zu: %s%s\n",
               (unsigned long long)e->index, e->lane, (unsigned long long)e->seq, e->type,
               e->length, small, n >= sizeof small ? "..." : "");
    if (n >= sizeof small && n < (1u << 20)) {
        char *big = malloc(n + 1);
        if (big) {
            size_t m = ringlog_entry_text(cur_reader, e, big, n + 1);
            if (m != n || strlen(big) > n)
                fail("entry text length depends on the buffer");
            free(big);
        }
    }
    if (ringlog_entry_text(cur_reader, e, NULL, 0) != n)
        fail("entry text length without a buffer differs");
    struct ringlog_site_info si;
    if (ringlog_entry_site(cur_reader, e, &si) == 0)
        sink += strlen(si.file) + strlen(si.function) + strlen(si.format) + si.line + si.nargs;
    /* The typed arguments (what `ringlog export --ctf` writes): every
     * string handed out lies within the entry's payload. */
    struct ringlog_arg args[RINGLOG_MAX_ARGS];
    int na = ringlog_entry_args(cur_reader, e, args, RINGLOG_MAX_ARGS);
    if (na > RINGLOG_MAX_ARGS)
        fail("more arguments than a site can have");
    for (int i = 0; i < na; i++) {
        uint64_t fbits; /* the bits: a cast of NaN or a huge value is undefined */
        memcpy(&fbits, &args[i].f, sizeof fbits);
        sink += args[i].u + fbits + args[i].flags;
        if (args[i].str) {
            const char *d = e->data;
            if (args[i].str < d || args[i].len > e->length ||
                args[i].str + args[i].len > d + e->length)
                fail("argument string outside the payload");
            for (size_t k = 0; k < args[i].len; k++)
                sink += (unsigned char)args[i].str[k];
        }
    }
    return 0;
}

static int on_gap(void *arg, uint64_t first, uint64_t count)
{
    (void)arg;
    struct ringlog_gap gp;
    if (ringlog_gap_info(cur_reader, &gp) != 0 || gp.first_index != first || gp.count != count)
        fail("gap information differs from the gap reported");
    if (cur_nlanes && gp.lane >= cur_nlanes && gp.lane != RINGLOG_NO_LANE)
        fail("gap of a lane that does not exist");
    if (print_entries)
        printf("gap %llu+%llu lane %u seq %llu\n", (unsigned long long)first,
               (unsigned long long)count, gp.lane, (unsigned long long)gp.first_seq);
    sink += first + count + gp.first_seq;
    return 0;
}

/* Sub-buffer bytes of a valid region of lanes of `lane` bytes. */
static uint64_t sub_of(uint64_t lane)
{
    uint64_t n = lane / RL_MIN_SUB_BYTES;
    n = n < 2 ? 2 : n > RL_MAX_SUB ? RL_MAX_SUB : n;
    return lane / n;
}

/* Reads with reader r as a tool would: info, statistics, a few rounds.
 * timeout_ms: a consuming reader waits up to 100 ms for entries held
 * back (timestamps ahead of its clock, as fuzzed ones often are) when the
 * timeout is 0; 1 ms bounds that, and a round that delivers returns at
 * once. */
static void read_all(ringlog_reader *r, int rounds, int timeout_ms)
{
    cur_reader = r;
    cur_nlanes = 0;
    cur_sub = 0;
    struct ringlog_info info;
    if (ringlog_reader_info(r, &info) == 0) {
        cur_nlanes = info.nrings;
        cur_sub = sub_of(info.ring_size);
        sink += info.next_index + info.sites + info.dict_used + info.triggers + info.min_level +
                (info.snapshot_reason ? strlen(info.snapshot_reason) : 0) + strlen(info.clock);
    }
    struct ringlog_stats tot, per[4];
    ringlog_reader_stats(r, &tot, per, 4);
    sink += tot.buffered + tot.lost + tot.written;
    struct ringlog_handler h = {on_entry, on_gap, NULL};
    for (int i = 0; i < rounds; i++)
        if (ringlog_read(r, &h, timeout_ms) <= 0)
            break;
    if (ringlog_reader_info(r, &info) == 0)
        sink += info.read_corrupt + info.read_late;
    ringlog_reader_stats(r, &tot, per, 4);
    sink += tot.buffered;
}

static void exercise_memory(void *base, size_t size)
{
    ringlog_reader *r;
    if (rl_reader_open_memory(base, size, RINGLOG_READER_PEEK, &r) != 0) {
        sink += strlen(ringlog_errmsg());
        return;
    }
    read_all(r, 4, 0);
    ringlog_reader_close(r);
}

static int open_memfd(const char *name)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        char tmp[] = "/tmp/ringlog-fuzz-XXXXXX";
        fd = mkstemp(tmp);
        if (fd >= 0)
            unlink(tmp);
    }
    return fd;
}

/* Replaces the contents of fd with f[0, size). */
static int put_file(int fd, const unsigned char *f, size_t size)
{
    if (ftruncate(fd, 0) != 0)
        return -1;
    for (size_t done = 0; done < size;) {
        ssize_t k = pwrite(fd, f + done, size - done, (off_t)done);
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

static int region_fd = -1;

/* Might a consumer of region m hold an entry back?  It holds those
 * stamped later than its clock less a hold (at most a few ms here), and
 * those after a call in progress; with timeout 0 ringlog_read then waits
 * up to 100 ms for them.  A walk with the reader's rules over each lane's
 * [tail, head) tells, without a reader. */
static int may_hold(const unsigned char *m, size_t size)
{
    struct rl_region g;
    memset(&g, 0, sizeof g);
    if (rl_region_validate(&g, m, size) != 0)
        return 0;
    /* The reader's cut (round_of), a little earlier: its clock has moved
     * on by then, its hold is at most the lag (< 5 ms). */
    uint64_t now = rl_ticks(g.clock), margin = rl_ms_ticks(&g, 5);
    uint64_t cut = now - margin, oldest = now - rl_ms_ticks(&g, 100) - margin;
    for (uint32_t i = 0; i < g.nlanes; i++) {
        uint64_t f = atomic_load(&rl_lane_at(&g, i)->inflight);
        if (f && (int64_t)(f - oldest) > 0 && (int64_t)(f - cut) <= 0)
            cut = f - 1;
    }
    /* The checker, on any bytes: it must answer, never crash or hang. */
    char why[160];
    (void)rl_region_check(&g, why, sizeof why);
    for (uint32_t i = 0; i < g.nlanes; i++) {
        struct rl_lane *l = rl_lane_at(&g, i);
        uint64_t t = atomic_load(&l->tail), h = atomic_load(&l->head);
        if (h < t || h - t > g.size)
            continue; /* not read */
        struct rl_walk w;
        rl_walk_init(&w, &g, l, t, h);
        uint64_t pos, len;
        int k;
        while ((k = rl_walk_next(&w, &pos, &len)) != RL_WALK_END)
            if (k == RL_WALK_ENTRY &&
                (int64_t)(atomic_load(rl_lane_word(&g, l, pos)) - cut) > 0)
                return 1;
    }
    return 0;
}

/* A consuming reader, the way `ringlog tail` opens a region: by name (a
 * path to a memfd holding a copy of the bytes), mapped shared and
 * writable.  Only for regions whose magic is set: an attacher waits for a
 * creator to publish it.  With `again`, a second consumer follows, which
 * starts at the tails the first one left.  Reads wait 1 ms at most when
 * an entry may be held back (see read_all), else not at all. */
static void exercise_consume(const unsigned char *m, size_t size, unsigned lag, int again)
{
    if (region_fd < 0 && (region_fd = open_memfd("ringlog-fuzz-region")) < 0)
        return;
    if (put_file(region_fd, m, size) != 0)
        return;
    int timeout_ms = may_hold(m, size);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", region_fd);
    for (int k = 0; k < 1 + again; k++) {
        ringlog_reader *r;
        if (ringlog_reader_open(path, RINGLOG_READER_CONSUME, &r) != 0) {
            sink += strlen(ringlog_errmsg());
            return;
        }
        if (lag)
            ringlog_reader_set_lag(r, 0, lag - 1);
        read_all(r, 2, timeout_ms);
        ringlog_reader_close(r);
    }
}

/* ------------------------------------------------------ built regions */

/* The input, in order; zeros past its end. */
struct src {
    const uint8_t *p;
    size_t n, k;
};
static unsigned u8(struct src *s) { return s->k < s->n ? s->p[s->k++] : 0; }
static unsigned u16(struct src *s)
{
    unsigned a = u8(s);
    return a | u8(s) << 8;
}
static uint32_t u32(struct src *s)
{
    uint32_t a = u16(s);
    return a | (uint32_t)u16(s) << 16;
}
static uint64_t u64(struct src *s)
{
    uint64_t a = u32(s);
    return a | (uint64_t)u32(s) << 32;
}

struct built {
    unsigned char *m;
    size_t total;
    uint64_t dict_off, lanes_off, stride, S, sub;
    uint32_t nlanes;
    int clock;
};

static struct rl_header *hdr_of(struct built *b) { return (struct rl_header *)b->m; }
static struct rl_lane *lane_of(struct built *b, uint32_t i)
{
    return (struct rl_lane *)(b->m + b->lanes_off + i * b->stride);
}
/* Byte `pos` (a free-running position) of lane l's entry space. */
static unsigned char *at(struct built *b, struct rl_lane *l, uint64_t pos)
{
    return (unsigned char *)l + RL_LANE_HDR_SIZE + (pos & (b->S - 1));
}
static void put_bytes(struct built *b, struct rl_lane *l, uint64_t pos, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        *at(b, l, pos + i) = ((const unsigned char *)p)[i];
}

/* A zeroed region of valid geometry; the header is sealed by seal(). */
static int new_region(struct built *b, const uint8_t *data, size_t size)
{
    memset(b, 0, sizeof *b);
    b->nlanes = 1 + (size > 1 ? data[1] % 4 : 0);
    b->S = (uint64_t)RL_MIN_LANE << (size > 2 ? data[2] % 4 : 0);
    b->sub = sub_of(b->S);
    b->stride = RL_LANE_HDR_SIZE + b->S;
    b->dict_off = RL_HEADER_SIZE + (uint64_t)RL_REGISTRY_COUNT * sizeof(struct rl_registry_slot);
    b->lanes_off = b->dict_off + RL_DICT_MIN;
    b->total = b->lanes_off + b->nlanes * b->stride;
    b->m = aligned_alloc(64, b->total);
    if (!b->m)
        return -1;
    memset(b->m, 0, b->total);
    unsigned opt = size > 3 ? data[3] : 0;
    struct rl_header *h = hdr_of(b);
    h->version = RINGLOG_LAYOUT_VERSION;
    h->header_size = RL_HEADER_SIZE;
    h->region_size = b->total;
    h->nlanes = b->nlanes;
    h->nsub = (uint32_t)(b->S / b->sub);
    h->lane_size = b->S;
    h->lanes_offset = b->lanes_off;
    h->lane_stride = b->stride;
    h->registry_offset = RL_HEADER_SIZE;
    h->registry_count = RL_REGISTRY_COUNT;
    h->dict_offset = b->dict_off;
    h->dict_size = RL_DICT_MIN;
    h->pool = b->nlanes >= 16 ? b->nlanes / 8 : b->nlanes >= 2 ? 1 : 0;
    h->policy = opt & 1 ? RINGLOG_DROP : RINGLOG_OVERWRITE;
    h->clock = opt & 2 ? RL_CLOCK_TSC : RL_CLOCK_MONOTONIC;
    h->clock_hz = opt & 2 ? 3000000000u : 1000000000u;
    h->creator_pid = 1;
    h->real_base_ns = 1700000000000000000ull;
    b->clock = (int)h->clock;
    return 0;
}

/* As init_header: checksum over bytes 8..123, then the magic. */
static void seal(struct built *b)
{
    struct rl_header *h = hdr_of(b);
    h->checksum = rl_checksum(b->m + 8, 116);
    atomic_store(&h->magic, RINGLOG_MAGIC);
}

/* A call-site record at the start of the dictionary's arena, from the
 * input: nargs, types[nargs], format length, format.  Returns its id. */
static uint32_t put_site(struct built *b, struct src *s)
{
    unsigned nargs = u8(s) % (RINGLOG_MAX_ARGS + 1);
    uint8_t types[RINGLOG_MAX_ARGS];
    for (unsigned i = 0; i < nargs; i++)
        types[i] = s->k < s->n ? (uint8_t)(u8(s) % 12) : RINGLOG_ARG_I32;
    size_t fl = u8(s);
    char fmt[256];
    if (fl > s->n - (s->k < s->n ? s->k : s->n))
        fl = s->n - (s->k < s->n ? s->k : s->n);
    memcpy(fmt, s->p + s->k, fl);
    fmt[fl] = 0;
    s->k += fl;
    fl = strlen(fmt);
    /* The record, hashed as a producer would. */
    struct rl_dict_rec r;
    memset(&r, 0, sizeof r);
    size_t body = nargs + fl + 1 + 5 + 1 + 2 + 1;
    r.magic = RL_DICT_REC_MAGIC;
    r.size = (uint32_t)((sizeof r + body + 7) & ~(size_t)7);
    r.line = 42;
    r.level = 2;
    r.nargs = (uint8_t)nargs;
    r.fmt_len = (uint16_t)fl;
    r.file_len = 5;
    r.func_len = 2;
    uint32_t off = rl_dict_arena(RL_DICT_MIN);
    unsigned char *dict = b->m + b->dict_off;
    unsigned char *p = dict + off + sizeof r;
    memcpy(p, types, nargs);
    memcpy(p + nargs, fmt, fl + 1);
    memcpy(p + nargs + fl + 1, "fz.cc", 6);
    memcpy(p + nargs + fl + 1 + 6, "fn", 3);
    uint64_t hh = 0xcbf29ce484222325ull;
    const unsigned char *q = (const unsigned char *)&r.line;
    for (size_t i = 0; i < 16; i++)
        hh = (hh ^ q[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < body; i++)
        hh = (hh ^ p[i]) * 0x100000001b3ull;
    r.hash = hh;
    memcpy(dict + off, &r, sizeof r);
    struct rl_dict_hdr *dh = (struct rl_dict_hdr *)(void *)dict;
    atomic_store(&dh->used, off + r.size);
    atomic_store(&dh->records, 1);
    return off / 8;
}

static void put_entry(struct built *b, struct rl_lane *l, uint64_t pos, uint64_t ts, uint64_t seq,
                      uint32_t reg, uint32_t len, uint32_t remarks, unsigned type, unsigned level,
                      unsigned flags, uint32_t tid)
{
    struct rl_entry_hdr eh;
    memset(&eh, 0, sizeof eh);
    eh.timestamp = ts;
    eh.seqown = rl_seqown(seq, reg);
    eh.length = len;
    eh.remarks = remarks;
    eh.type = (uint16_t)type;
    eh.level = (uint8_t)level;
    eh.flags = (uint8_t)flags;
    eh.tid = tid;
    put_bytes(b, l, pos, &eh, sizeof eh);
}

/* Shape 3: one committed deferred entry at position 0 of lane 0. */
static void deferred_entry(struct built *b, struct src *s)
{
    uint32_t id = put_site(b, s);
    size_t plen = s->k < s->n ? s->n - s->k : 0;
    if (plen > b->sub - RL_EHDR)
        plen = b->sub - RL_EHDR;
    struct rl_lane *l = lane_of(b, 0);
    put_entry(b, l, 0, 1000, 0, 1, (uint32_t)plen, id, RINGLOG_TYPE_DEFERRED, 2, 0, 7);
    put_bytes(b, l, RL_EHDR, s->p + s->k, plen);
    atomic_store(&l->head, rl_entry_bytes(plen));
    atomic_store(&l->seq, 1);
}

/* Timestamps: small (long past), recent, or from the input (perhaps in the
 * future: a consuming reader holds those back). */
static uint64_t ts_base(struct built *b, struct src *s)
{
    unsigned sel = u8(s);
    switch (sel & 3) {
    case 2:
        return rl_ticks(b->clock) - (uint64_t)u16(s) * 1000u;
    case 3:
        return sel & 4 ? u64(s) : 1000u + u16(s);
    default:
        return 1000u + u16(s);
    }
}

/* Writes lane i's entries and words from the input (see the top). */
static void fill_lane(struct built *b, uint32_t i, struct src *s, uint32_t site, int cont)
{
    struct rl_lane *l = lane_of(b, i);
    uint64_t S = b->S, sub = b->sub;
    unsigned mode = u8(s);
    unsigned fill = mode & 3, ht = (mode >> 2) & 7, sq = (mode >> 5) & 3;
    uint64_t tail, seq, pos;
    if (cont) {
        /* A later image of the lane: written on from where it was. */
        tail = atomic_load(&l->tail);
        seq = atomic_load(&l->seq);
        pos = atomic_load(&l->head);
        if (pos < tail || pos - tail > S)
            pos = tail;
        pos &= ~(uint64_t)(RL_ALIGN - 1);
    } else {
        /* One read per statement where the order matters: argument and
         * operand order is unspecified in C. */
        tail = ((uint64_t)u16(s) * 8) % S;
        tail += (uint64_t)(u8(s) % 8) * S; /* wraps */
        if (ht == 7)
            tail += u8(s) % 8; /* unaligned: no writer leaves that */
        seq = sq == 2 ? RL_SEQ_MASK + 1 - u8(s) : sq == 3 ? u64(s) : u8(s);
        pos = tail & ~(uint64_t)(RL_ALIGN - 1);
    }
    uint64_t ts = ts_base(b, s);
    uint64_t end;
    if (fill == 2) {
        /* Raw bytes poured over the whole lane, cyclically. */
        end = tail + u16(s) % (S + S / 8);
        size_t len = u16(s), k0 = s->k < s->n ? s->k : s->n, rest = s->n - k0;
        if (len > rest)
            len = rest;
        unsigned char *body = (unsigned char *)l + RL_LANE_HDR_SIZE;
        for (uint64_t j = 0; len && j < S; j++)
            body[j] = s->p[k0 + j % len];
        s->k = k0 + len;
    } else {
        unsigned count = u8(s);
        uint64_t limit = pos + S;
        for (unsigned e = 0; e < count && pos < limit; e++) {
            unsigned c = u8(s), kind = c % 8;
            uint64_t rest = sub - (pos & (sub - 1));
            if (kind <= 3) {
                uint32_t len = kind == 0   ? (c >> 3) & 7
                               : kind == 1 ? u8(s)
                               : kind == 2 ? u16(s) % (uint32_t)(sub + 64)
                                           : u8(s);
                unsigned type = RINGLOG_TYPE_DEFERRED, level = u8(s), flags = u8(s);
                uint32_t remarks = site;
                if (kind != 3) {
                    static const unsigned types[8] = {
                        RINGLOG_TYPE_TEXT,  RINGLOG_TYPE_TEXT,    RINGLOG_TYPE_RAW,
                        RINGLOG_TYPE_TRIGGER, RINGLOG_TYPE_CRASH, RINGLOG_TYPE_DEFERRED,
                        RINGLOG_TYPE_USER,  0};
                    unsigned t = u8(s);
                    type = t < 8 ? types[t] : t < 128 ? types[t % 8] : u16(s);
                    remarks = t >= 128 ? u32(s) : u8(s);
                } else if (c & 8) {
                    remarks = u8(s) + site; /* near the site: not a record */
                }
                uint32_t reg = u8(s) % 5;
                uint32_t tid = u8(s);
                ts = c & 0x80 ? ts - u8(s) : ts + u8(s);
                if (c & 0x40)
                    seq += 1 + u8(s); /* calls lost before this one */
                uint64_t k = rl_entry_bytes(len);
                if (k > sub) { /* too big: counted, never stored */
                    seq++;
                    continue;
                }
                if (k > rest) { /* the writer moves to the next sub-buffer */
                    if (rest >= RL_EHDR)
                        put_entry(b, l, pos, ts, 0, 0, RL_LEN_PAD, 0, 0, 0, 0, 0);
                    pos += rest;
                }
                if (pos + k > limit)
                    break;
                put_entry(b, l, pos, ts, seq++, reg, len, remarks, type, level, flags, tid);
                for (uint32_t j = 0; j < len; j++)
                    *at(b, l, pos + RL_EHDR + j) = (unsigned char)u8(s);
                pos += k;
            } else if (kind == 4) { /* a pad to the sub-buffer's end */
                if (rest >= RL_EHDR)
                    put_entry(b, l, pos, ts, 0, 0, RL_LEN_PAD | (c & 8 ? u32(s) : 0), 0, 0, 0, 0,
                              0);
                pos += rest;
            } else if (kind == 5) { /* a corrupt length, then on */
                if (rest >= RL_EHDR)
                    put_entry(b, l, pos, ts, seq, i + 1, u32(s), 0, RINGLOG_TYPE_TEXT, 0, 0, 0);
                pos += c & 8 ? rest : 8 * (1 + u8(s) % 8);
            } else if (kind == 6) { /* bytes left as they were */
                pos += 8 * (1 + u8(s) % 32);
            } else { /* raw bytes */
                unsigned w = u8(s) % 64;
                for (unsigned j = 0; j < w; j++)
                    *at(b, l, pos + j) = (unsigned char)u8(s);
                pos += (w + 7) & ~7u;
            }
        }
        end = pos;
        /* Overwrite policy: whole sub-buffers evicted to make room. */
        if (end > tail + S)
            tail = (end - S + sub - 1) & ~(sub - 1);
        if (fill == 3) { /* words patched anywhere in the lane */
            for (unsigned n = u8(s) % 8; n > 0; n--) {
                uint64_t off = (uint64_t)u16(s) * 8, v = u64(s);
                put_bytes(b, l, off, &v, 8);
            }
        }
    }
    uint64_t head = end;
    switch (ht) {
    case 3: /* inside the data */
        head = end - 8 * (1 + (uint64_t)u8(s));
        break;
    case 4: /* behind the tail */
        head = tail - 1 - u8(s);
        break;
    case 5: /* far ahead: more than a lane's worth, or near 2^64 */
        head = u8(s) & 1 ? UINT64_MAX - u16(s) : tail + S + 8 * (uint64_t)u8(s);
        break;
    case 6: /* beyond what was written */
        head = end + 8 * (1 + (uint64_t)u8(s));
        break;
    case 7:
        head = end + u8(s) % 8;
        break;
    }
    unsigned sx = u8(s);
    uint64_t seqw = sx >= 0xf0 ? u64(s) : seq + (sx & 7); /* & 7: calls lost at the end */
    atomic_store(&l->tail, tail);
    atomic_store(&l->head, head);
    atomic_store(&l->seq, seqw);
    atomic_store(&l->lost, sx & 7);
    atomic_store(&l->too_big, u8(s));
    atomic_store(&l->overwritten, u8(s));
    atomic_store(&l->frozen, u8(s));
    atomic_store(&l->abandoned, u8(s));
    atomic_store(&l->read, u8(s));
    atomic_store(&l->claims, u8(s));
    atomic_store(&l->limit, tail + S);
    unsigned fl = u8(s);
    atomic_store(&l->inflight, fl & 1 ? rl_ticks(b->clock) - (uint64_t)u16(s) * 100u
                               : fl & 2 ? ts + u8(s)
                                        : 0);
    uint64_t own = 0;
    if (fl & 4) {
        uint32_t tid = u8(s);
        own = rl_own_make(0, tid, u8(s) % 5, RL_LANE_THREAD);
    } else if (fl & 8) {
        own = u64(s);
    }
    atomic_store(&l->owner, own);
}

/* The id of the site put_site stores, if the dictionary holds one. */
static uint32_t site_of(struct built *b)
{
    struct rl_dict_hdr *dh = (struct rl_dict_hdr *)(void *)(b->m + b->dict_off);
    return atomic_load(&dh->records) ? rl_dict_arena(RL_DICT_MIN) / 8 : 0;
}

static void snapshot_file(unsigned char *f, size_t size, unsigned flags);

/* A snapshot file of built region b, as ringlog_snapshot writes one: its
 * image, and with nimg 2 a later image of the same region in which every
 * lane was written on from the input (fill_lane, continuing).  Opened as
 * a file, so the reader continues each lane from the first image into
 * the second. */
static void built_snapshot(struct built *b, struct src *s, uint32_t site, unsigned nimg)
{
    size_t size = RL_SNAP_HEADER_SIZE + nimg * b->total;
    unsigned char *f = aligned_alloc(64, size);
    if (!f)
        return;
    memset(f, 0, RL_SNAP_HEADER_SIZE);
    struct rl_snap_header sh;
    memset(&sh, 0, sizeof sh);
    memcpy(sh.magic, RL_SNAP_MAGIC, 8);
    sh.version = RL_SNAP_VERSION;
    sh.header_size = RL_SNAP_HEADER_SIZE;
    sh.image_size = b->total;
    sh.nimages = nimg;
    sh.trigger = u8(s);
    sh.taken_ns = 1700000000000000000ull + u32(s);
    sh.post_ns = nimg > 1 ? 30000000u : 0;
    size_t rl = u8(s) % sizeof sh.reason;
    for (size_t i = 0; i < rl; i++)
        sh.reason[i] = (char)u8(s);
    sh.trigger_ns = u8(s) ? sh.taken_ns - 1000u : 0;
    sh.first_trigger = u8(s);
    sh.last_trigger = sh.first_trigger + u8(s) % 4;
    memcpy(f, &sh, sizeof sh);
    memcpy(f + RL_SNAP_HEADER_SIZE, b->m, b->total);
    if (nimg > 1) {
        struct built b2 = *b;
        b2.m = f + RL_SNAP_HEADER_SIZE + b->total;
        memcpy(b2.m, b->m, b->total);
        struct rl_header *h = hdr_of(&b2);
        atomic_store(&h->nolane, atomic_load(&h->nolane) + u8(s) % 4);
        atomic_store(&h->triggers, atomic_load(&h->triggers) + u8(s) % 4);
        for (uint32_t i = 0; i < b2.nlanes; i++)
            fill_lane(&b2, i, s, site, 1);
    }
    snapshot_file(f, size, 0);
    free(f);
}

static void build_region(const uint8_t *data, size_t size)
{
    struct built b;
    if (new_region(&b, data, size) != 0)
        return;
    struct src s = {data + 4, size > 4 ? size - 4 : 0, 0};
    unsigned opt = size > 3 ? data[3] : 0;
    if (data[0] == 3) {
        if (s.n)
            deferred_entry(&b, &s);
        seal(&b);
    } else {
        struct rl_header *h = hdr_of(&b);
        unsigned fl = u8(&s);
        uint32_t site = 0;
        if (fl & 1) {
            unsigned char *dict = b.m + b.dict_off;
            size_t n = u16(&s) % (RL_DICT_MIN + 1);
            for (size_t i = 0; i < n; i++)
                dict[i] = (unsigned char)u8(&s);
        }
        if (fl & 2)
            site = put_site(&b, &s);
        if (fl & 4)
            atomic_store(&h->nolane, u8(&s));
        if (fl & 8) {
            struct rl_registry_slot *reg = (struct rl_registry_slot *)(b.m + RL_HEADER_SIZE);
            for (unsigned i = 1; i < 4; i++) {
                unsigned st = u8(&s);
                atomic_store(&reg[i].word, rl_reg_with((uint64_t)st << 8, st & 4 ? u32(&s)
                                                                                 : u8(&s),
                                                       st % 4));
                reg[i].start_time = u8(&s);
            }
        }
        if (fl & 16)
            atomic_store(&h->consumer, (uint64_t)u32(&s) << 32 | 1);
        if (fl & 32) {
            atomic_store(&h->triggers, u8(&s));
            atomic_store(&h->min_level, u8(&s) % 8);
        }
        if (fl & 64) {
            h->clock_base = u64(&s);
            h->real_base_ns = u64(&s);
            h->clock_hz = u32(&s) | 1u;
        }
        seal(&b);
        for (uint32_t i = 0; i < b.nlanes; i++)
            fill_lane(&b, i, &s, site, 0);
    }
    exercise_memory(b.m, b.total);
    if (opt & 16)
        exercise_consume(b.m, b.total, (opt >> 2) & 3, (opt & 32) != 0);
    if (opt & 64)
        built_snapshot(&b, &s, site_of(&b), opt & 128 ? 1 : 2);
    free(b.m);
}

/* ------------------------------------------------------ snapshot files */

/* CRC-32 (IEEE), independent of the library's, eight bytes a step: the
 * images are large and mostly zero. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    static uint32_t t[8][256];
    if (!t[0][1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; i++)
            for (int k = 1; k < 8; k++)
                t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xffu];
    }
    uint32_t crc = 0xffffffffu;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t a = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                            (uint32_t)p[3] << 24);
        crc = t[7][a & 0xffu] ^ t[6][(a >> 8) & 0xffu] ^ t[5][(a >> 16) & 0xffu] ^
              t[4][a >> 24] ^ t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    }
    while (n--)
        crc = t[0][(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* Recomputes what ringlog_snapshot stores (docs/FORMAT.md, "Snapshot
 * files"), wherever the file holds the bytes a checksum covers. */
static void patch_checksums(unsigned char *f, size_t size, unsigned flags)
{
    if (flags & 1 || size < RL_SNAP_HEADER_SIZE)
        return;
    struct rl_snap_header sh;
    memcpy(&sh, f, sizeof sh);
    uint64_t isz = sh.image_size;
    unsigned nimg = sh.nimages < 2 ? sh.nimages : 2;
    for (unsigned i = 0; i < nimg && isz; i++) {
        if (isz > (size - RL_SNAP_HEADER_SIZE) / (i + 1))
            break; /* image i is not all there */
        unsigned char *im = f + RL_SNAP_HEADER_SIZE + i * isz;
        if (!(flags & 2) && isz >= 128) {
            uint32_t fnv = rl_checksum(im + 8, 116);
            memcpy(im + 124, &fnv, 4);
        }
        uint32_t c = crc32_ieee(im, (size_t)isz);
        memcpy(f + offsetof(struct rl_snap_header, image_crc) + 4 * i, &c, 4);
    }
    memset(f + offsetof(struct rl_snap_header, header_crc), 0, 4);
    uint32_t c = crc32_ieee(f, RL_SNAP_HEADER_SIZE);
    memcpy(f + offsetof(struct rl_snap_header, header_crc), &c, 4);
}

static unsigned char *expand_sparse(const uint8_t *d, size_t n, size_t *out, unsigned *flags)
{
    if (n < 12)
        return NULL;
    *flags = d[8];
    size_t size = (size_t)d[9] | (size_t)d[10] << 8 | (size_t)d[11] << 16;
    if (size > SPARSE_MAX)
        size = SPARSE_MAX;
    if (size < 8)
        size = 8;
    unsigned char *f = calloc(1, size);
    if (!f)
        return NULL;
    for (size_t k = 12; k + 5 <= n;) {
        size_t off = (size_t)d[k] | (size_t)d[k + 1] << 8 | (size_t)d[k + 2] << 16;
        size_t len = (size_t)d[k + 3] | (size_t)d[k + 4] << 8;
        k += 5;
        if (len > n - k)
            len = n - k;
        if (off < size)
            memcpy(f + off, d + k, len < size - off ? len : size - off);
        k += len;
    }
    /* Always a snapshot: anything else makes ringlog_reader_open treat the
     * path as a region file, which the other shapes cover in memory. */
    memcpy(f, RL_SNAP_MAGIC, 8);
    *out = size;
    return f;
}

static int snap_fd = -1;

/* Writes the file to a memfd (no disk, no fsync) and reads it the way
 * `ringlog dump FILE` does: ringlog_reader_open on the path. */
static void snapshot_file(unsigned char *f, size_t size, unsigned flags)
{
    patch_checksums(f, size, flags);
    if (snap_fd < 0 && (snap_fd = open_memfd("ringlog-fuzz-snapshot")) < 0)
        return;
    if (put_file(snap_fd, f, size) != 0)
        return;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", snap_fd);
    ringlog_reader *r;
    if (ringlog_reader_open(path, flags & 4 ? RINGLOG_READER_CONSUME : RINGLOG_READER_PEEK,
                            &r) != 0) {
        sink += strlen(ringlog_errmsg());
        return;
    }
    read_all(r, 4, 0);
    ringlog_reader_close(r);
}

/* Recording files: checksums patched as the writer would have, then read
 * by path like any file. */
static int rec_fd = -1;

static int count_site(void *arg, const struct ringlog_site_info *si)
{
    (void)arg;
    sink += strlen(si->format) + strlen(si->file) + strlen(si->function) + si->line + si->nargs;
    return 0;
}

static void recording_file(unsigned char *f, size_t size)
{
    if (size >= RL_REC_HEADER_SIZE && !(f[352] & 1)) {
        uint32_t c = rl_crc32(f, offsetof(struct rl_rec_header, crc));
        memcpy(f + offsetof(struct rl_rec_header, crc), &c, 4);
        size_t off = RL_REC_HEADER_SIZE;
        while (off + sizeof(struct rl_rec_block) <= size) {
            struct rl_rec_block b;
            memcpy(&b, f + off, sizeof b);
            if (b.stored_len > size - off - sizeof b)
                break;
            b.crc = rl_crc32(f + off + sizeof b, b.stored_len);
            b.hcrc = rl_crc32(&b, offsetof(struct rl_rec_block, hcrc));
            memcpy(f + off, &b, sizeof b);
            off += sizeof b + b.stored_len;
        }
    }
    if (rec_fd < 0 && (rec_fd = open_memfd("ringlog-fuzz-recording")) < 0)
        return;
    if (put_file(rec_fd, f, size) != 0)
        return;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", rec_fd);
    ringlog_reader *r;
    if (ringlog_reader_open(path, RINGLOG_READER_PEEK, &r) != 0) {
        sink += strlen(ringlog_errmsg());
        return;
    }
    struct ringlog_recording rc;
    if (ringlog_reader_recording(r, &rc) != 0)
        fail("a recording file's reader does not say it is one");
    sink += strlen(rc.region) + rc.first_index + rc.next_index + rc.blocks + rc.raw_bytes;
    ringlog_reader_sites(r, count_site, NULL);
    reading_recording = 1;
    read_all(r, 1000, 0);
    reading_recording = 0;
    ringlog_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        build_region(data, size);
    } else if (size >= 8 && memcmp(data, SPARSE_MAGIC, 8) == 0) {
        size_t n = 0;
        unsigned flags = 0;
        unsigned char *f = expand_sparse(data, size, &n, &flags);
        if (f) {
            snapshot_file(f, n, flags);
            free(f);
        }
    } else if (size >= 8 && memcmp(data, RL_REC_MAGIC, 8) == 0) {
        unsigned char *f = malloc(size);
        if (!f)
            return 0;
        memcpy(f, data, size);
        recording_file(f, size);
        free(f);
    } else if (size >= 8 && memcmp(data, RL_SNAP_MAGIC, 8) == 0) {
        unsigned char *f = malloc(size);
        if (!f)
            return 0;
        memcpy(f, data, size);
        snapshot_file(f, size, size > 60 && (data[60] & 1) ? 1 : 0);
        free(f);
    } else {
        unsigned char *m = aligned_alloc(64, (size + 63) & ~(size_t)63);
        if (!m)
            return 0;
        memcpy(m, data, size);
        exercise_memory(m, size);
        free(m);
    }
    return 0;
}

#ifndef RINGLOG_LIBFUZZER
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (print_entries)
        printf("== %s\n", path);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, errors = 0;
    print_entries = getenv("RINGLOG_FUZZ_PRINT") != NULL;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            while (d && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                    continue;
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                errors += replay_file(p);
                files++;
            }
            if (d)
                closedir(d);
        } else {
            errors += replay_file(argv[i]);
            files++;
        }
    }
    printf("fuzz_region: replayed %d inputs\n", files);
    return errors || files == 0;
}
#endif
