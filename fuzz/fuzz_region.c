/*
 * Fuzz target: the region validator and both readers (peek and consume)
 * over hostile bytes.  Built two ways from this one file:
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
 *   3:    a valid region holding one call-site record and one deferred entry
 *         built from the input (argument types, format, payload), so the
 *         fuzzer works on the argument decoder and the checked formatter;
 *   even: the bytes are a region image as is (exercises the header checks);
 *   odd:  a region with a valid header is built, and the rest of the input
 *         is poured cyclically over the ring headers, stamps and entries, so
 *         the fuzzer spends its time in the walkers rather than on the
 *         header checksum.
 *
 * Sparse snapshots.  The smallest region is ~90 KB (the 64 KiB producer
 * registry, a 16 KiB dictionary, a 4 KiB ring), mostly zero, so a real
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

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    (void)arg;
    /* Touch every byte handed out: ASan proves they are ours. */
    const unsigned char *p = e->data;
    for (size_t i = 0; i < e->length; i++)
        sink += p[i];
    sink += e->index + e->time_ns + e->cpu + e->pid;
    /* Format it as a tool would: small buffer first, then the full size. */
    char small[64];
    size_t n = ringlog_entry_text(cur_reader, e, small, sizeof small);
    if (print_entries) /* replay with RINGLOG_FUZZ_PRINT=1 to see them */
        printf("entry %llu type %u: %s%s\n", (unsigned long long)e->index, e->type, small,
               n >= sizeof small ? "..." : "");
    if (n >= sizeof small && n < (1u << 20)) {
        char *big = malloc(n + 1);
        if (big) {
            size_t m = ringlog_entry_text(cur_reader, e, big, n + 1);
            if (m != n || strlen(big) > n)
                abort(); /* the length must not depend on the buffer */
            free(big);
        }
    }
    struct ringlog_site_info si;
    if (ringlog_entry_site(cur_reader, e, &si) == 0)
        sink += strlen(si.file) + strlen(si.function) + strlen(si.format) + si.line;
    return 0;
}

static int on_gap(void *arg, uint64_t first, uint64_t count)
{
    (void)arg;
    sink += first + count;
    return 0;
}

static void exercise(void *base, size_t size)
{
    struct ringlog_handler h = {on_entry, on_gap, NULL};
    for (unsigned mode = 0; mode < 2; mode++) {
        ringlog_reader *r;
        if (rl_reader_open_memory(base, size, mode ? RINGLOG_READER_CONSUME : RINGLOG_READER_PEEK,
                                  &r) != 0)
            return;
        ringlog_reader_set_abandon_ms(r, 0);
        cur_reader = r;
        struct ringlog_stats tot, per[4];
        ringlog_reader_stats(r, &tot, per, 4);
        sink += tot.buffered;
        for (int i = 0; i < 4; i++)
            ringlog_read(r, &h, 0);
        ringlog_reader_close(r);
    }
}

/* Input: nargs, types[nargs], format length, format, then the payload. */
static void deferred_entry(unsigned char *m, uint64_t dict_off, uint64_t rings_off,
                           uint64_t nslots, const uint8_t *in, size_t n)
{
    size_t k = 0;
    unsigned nargs = in[k++] % (RINGLOG_MAX_ARGS + 1);
    uint8_t types[RINGLOG_MAX_ARGS];
    for (unsigned i = 0; i < nargs; i++)
        types[i] = k < n ? in[k++] % 12 : RINGLOG_ARG_I32;
    size_t fl = k < n ? in[k++] : 0;
    char fmt[256];
    if (fl > n - k)
        fl = n - k;
    memcpy(fmt, in + k, fl);
    fmt[fl] = 0;
    k += fl;
    fl = strlen(fmt);
    const uint8_t *payload = in + k;
    size_t plen = n - k;
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
    unsigned char *p = m + dict_off + off + sizeof r;
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
    memcpy(m + dict_off + off, &r, sizeof r);
    /* One committed entry at position 0 of ring 0. */
    if (plen > (nslots - 1) * RL_SLOT_SIZE)
        plen = (nslots - 1) * RL_SLOT_SIZE;
    struct rl_ring *ring = (struct rl_ring *)(m + rings_off);
    uint64_t slots = rl_entry_slots(plen);
    _Atomic uint64_t *seq = (_Atomic uint64_t *)((unsigned char *)ring + RL_RING_HDR_SIZE);
    unsigned char *data = (unsigned char *)ring + RL_RING_HDR_SIZE + nslots * 8;
    struct rl_entry_hdr eh;
    memset(&eh, 0, sizeof eh);
    eh.index = 0;
    eh.length = (uint32_t)plen;
    eh.remarks = off / 8;
    eh.type = RINGLOG_TYPE_DEFERRED;
    eh.level = 2;
    memcpy(data, &eh, sizeof eh);
    memcpy(data + sizeof eh, payload, plen);
    atomic_store(&seq[0], rl_stamp(0, 1, RL_ST_COMMITTED));
    atomic_store(&ring->head, slots);
    atomic_store(&((struct rl_header *)m)->next_index, 1);
}

static void build_region(const uint8_t *data, size_t size)
{
    uint32_t nrings = 1 + (size > 1 ? data[1] % 3 : 0);
    uint64_t nslots = (uint64_t)RL_MIN_SLOTS << (size > 2 ? data[2] % 3 : 0);
    uint64_t stride = RL_RING_HDR_SIZE + nslots * 8 + nslots * RL_SLOT_SIZE;
    uint64_t dict_off = RL_HEADER_SIZE + (uint64_t)RL_REGISTRY_COUNT * 16;
    uint64_t rings_off = dict_off + RL_DICT_MIN;
    size_t total = rings_off + nrings * stride;
    unsigned char *m = aligned_alloc(64, total);
    if (!m)
        return;
    memset(m, 0, total);
    struct rl_header *h = (struct rl_header *)m;
    h->version = RINGLOG_LAYOUT_VERSION;
    h->header_size = RL_HEADER_SIZE;
    h->region_size = total;
    h->nrings = nrings;
    h->slot_size = RL_SLOT_SIZE;
    h->ring_slots = nslots;
    h->rings_offset = rings_off;
    h->ring_stride = stride;
    h->registry_offset = RL_HEADER_SIZE;
    h->registry_count = RL_REGISTRY_COUNT;
    h->dict_offset = dict_off;
    h->dict_size = RL_DICT_MIN;
    h->policy = size > 3 ? data[3] & 1 : 0;
    h->clock = RL_CLOCK_MONOTONIC;
    h->clock_hz = 1000000000u;
    h->checksum = rl_checksum(m + 8, 116);
    atomic_store(&h->magic, RINGLOG_MAGIC);
    /* The rest: 8-byte words.  Head/tail words get small values near each
     * other so walks happen; everything else is poured over the rings. */
    const uint8_t *in = data + 4;
    size_t n = size > 4 ? size - 4 : 0;
    if (n == 0)
        goto out;
    size_t k = 0;
    if (data[0] == 3) {
        deferred_entry(m, dict_off, rings_off, nslots, in, n);
        goto out;
    }
    /* The dictionary's header, buckets and first records, from the input. */
    for (size_t i = 0; i < 4096; i++)
        m[dict_off + i] = in[k++ % n];
    for (uint32_t r = 0; r < nrings; r++) {
        struct rl_ring *ring = (struct rl_ring *)(m + rings_off + r * stride);
        uint64_t tail = in[k++ % n] * 7u, span = (uint64_t)in[k++ % n] * 4u;
        atomic_store(&ring->tail, tail);
        atomic_store(&ring->head, tail + span);
        atomic_store(&h->next_index, in[k++ % n]);
        unsigned char *body = (unsigned char *)ring + RL_RING_HDR_SIZE;
        size_t blen = (size_t)(nslots * 8 + nslots * RL_SLOT_SIZE);
        /* Stamps: mostly plausible ones for nearby positions, from input. */
        _Atomic uint64_t *seq = (_Atomic uint64_t *)body;
        for (uint64_t i = 0; i < nslots; i++) {
            uint8_t b = in[k++ % n];
            uint64_t pos = tail + ((i - tail) & (nslots - 1));
            atomic_store(&seq[i], b < 200 ? rl_stamp(pos - (b % 3 == 0 ? nslots : 0),
                                                     b % 5, b & 3)
                                          : (uint64_t)b * 0x0101010101010101ull);
        }
        for (size_t i = nslots * 8; i < blen; i++)
            body[i] = in[k++ % n];
    }
out:
    exercise(m, total);
    free(m);
}

/* ------------------------------------------------------ snapshot files */

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
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
    if (snap_fd < 0) {
        snap_fd = memfd_create("ringlog-fuzz-snapshot", MFD_CLOEXEC);
        if (snap_fd < 0) {
            char tmp[] = "/tmp/ringlog-fuzz-XXXXXX";
            snap_fd = mkstemp(tmp);
            if (snap_fd < 0)
                return;
            unlink(tmp);
        }
    }
    if (ftruncate(snap_fd, 0) != 0)
        return;
    for (size_t done = 0; done < size;) {
        ssize_t k = pwrite(snap_fd, f + done, size - done, (off_t)done);
        if (k <= 0)
            return;
        done += (size_t)k;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", snap_fd);
    ringlog_reader *r;
    if (ringlog_reader_open(path, flags & 4 ? RINGLOG_READER_CONSUME : RINGLOG_READER_PEEK,
                            &r) != 0) {
        sink += strlen(ringlog_errmsg());
        return;
    }
    ringlog_reader_set_abandon_ms(r, 0);
    cur_reader = r;
    struct ringlog_info info;
    if (ringlog_reader_info(r, &info) == 0)
        sink += info.next_index + info.sites + info.dict_used + info.triggers +
                (info.snapshot_reason ? strlen(info.snapshot_reason) : 0) + strlen(info.clock);
    struct ringlog_stats tot, per[4];
    ringlog_reader_stats(r, &tot, per, 4);
    sink += tot.buffered + tot.lost;
    struct ringlog_handler h = {on_entry, on_gap, NULL};
    for (int i = 0; i < 4; i++)
        if (ringlog_read(r, &h, 0) <= 0)
            break;
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
        exercise(m, size);
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
