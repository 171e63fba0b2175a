/* Writes the real-region seeds of fuzz/corpus (layout 4: lanes):
 *   real-region-overwritten     a one-lane region, as mapped, overwritten
 *                               many times over, with calls of a second
 *                               thread that found no lane (nolane);
 *   snapshot-one-image          snapshot files as ringlog_snapshot writes
 *   snapshot-two-images         them (one image; two, with a post window
 *                               in which another thread logs on the pool
 *                               lane);
 *   sparse-snapshot-*           snapshots of the smallest lanes the
 *                               library allows, in the sparse form of
 *                               fuzz/fuzz_region.c, a few KB each so they fit
 *                               fuzz/run.sh's -max_len: few entries of every
 *                               kind (text, raw, deferred, trigger), one and
 *                               two images, three lanes with one wrapped,
 *                               a full lane under the drop policy, and
 *                               copies with a checksum broken.
 * The hand-made seeds next to them (deferred-entry, lanes-*) and the
 * hashed names (inputs libFuzzer found) are not written here.
 * Rerun after a layout change:
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude fuzz/make_seeds.c build/libringlog.a -lpthread \
 *      -o build/make_seeds && build/make_seeds fuzz/corpus */
#include "ringlog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

static void put(FILE *o, size_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        fputc((int)(v >> (8 * i)) & 0xff, o);
}

/* Rewrites file `from` as `to` in the sparse form: "RLSPARSE", flags,
 * size (3 bytes), then (offset:3, length:2, bytes) for each run of bytes
 * that are not zero, runs closer than 16 zero bytes merged.  With `flip`,
 * the byte at offset flip - 1 is changed first (with flags bit 0, "keep
 * the checksums": a seed for a checksum mismatch). */
static int write_sparse(const char *from, const char *to, unsigned flags, size_t flip)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return -1;
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    if (flip && flip <= n)
        buf[flip - 1] ^= 0x20;
    FILE *o = fopen(to, "wb");
    if (!o || n >= (1u << 24))
        return -1;
    fwrite("RLSPARSE", 1, 8, o);
    put(o, flags, 1);
    put(o, n, 3);
    for (size_t i = 0; i < n;) {
        if (!buf[i]) {
            i++;
            continue;
        }
        size_t end = i, zeros = 0;
        for (size_t j = i; j < n && j - i < 65535 && zeros < 16; j++) {
            zeros = buf[j] ? 0 : zeros + 1;
            if (buf[j])
                end = j + 1;
        }
        put(o, i, 3);
        put(o, end - i, 2);
        fwrite(buf + i, 1, end - i, o);
        i = end;
    }
    return fclose(o) == 0 ? 0 : -1;
}

static void few_entries(ringlog *log, int i)
{
    unsigned char bytes[4] = {0xde, 0xad, 0xbe, 0xef};
    RINGLOG_INFO(log, "order %d filled at %.2f by %s", i, i * 1.5, "desk");
    RINGLOG_WARN(log, "%lld %llu %Lf %p %c %.*s %.3s", -1ll * i, 7ull * i, (long double)i / 3,
                 (void *)bytes, 'a' + i % 26, RINGLOG_BYTES(bytes, 4), "abcdef");
    ringlog_printf(log, RINGLOG_LEVEL_DEBUG, "text %d", i);
    ringlog_write(log, RINGLOG_LEVEL_ERROR, RINGLOG_TYPE_RAW, (uint32_t)i, bytes, 4);
}

/* Logs during ringlog_snapshot's post window, so the second image holds
 * entries (and a call site) the first does not.  Another thread than the
 * one that logged so far: it takes a lane of its own, or borrows the pool
 * lane for each call, or finds none (nolane). */
/* Logs from a thread of its own, which gives its lane back when it ends. */
static void *other_logger(void *arg)
{
    few_entries(arg, 1000);
    few_entries(arg, 1001);
    return NULL;
}

static void in_thread(void *(*fn)(void *), ringlog *log)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, log) == 0)
        pthread_join(t, NULL);
}

static void *late_logger(void *arg)
{
    ringlog *log = arg;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    few_entries(log, 100);
    RINGLOG_ERROR(log, "late site %u %s", 7u, "after the trigger");
    return NULL;
}

static int snap(const char *name, const char *dir, const char *file, const char *reason,
                unsigned post_ms, ringlog *late, int sparse)
{
    char path[4096], sp[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pthread_t t;
    int th = late && pthread_create(&t, NULL, late_logger, late) == 0;
    int rc = ringlog_snapshot(name, path, reason, post_ms);
    if (th)
        pthread_join(t, NULL);
    if (rc == 0 && sparse) {
        snprintf(sp, sizeof sp, "%s/sparse-%s", dir, file);
        rc = write_sparse(path, sp, 0, 0);
        if (sparse > 1)
            unlink(path);
    }
    return rc;
}

static int open_region(const char *name, unsigned nlanes, int policy, ringlog **log)
{
    /* The smallest geometry there is: 4 KiB lanes (two 2 KiB sub-buffers),
     * a 16 KiB dictionary.  Lanes from two on include one pool lane. */
    struct ringlog_options o = {.ring_size = 4096, .nrings = nlanes, .dict_size = 16384,
                                .policy = policy, .flags = RINGLOG_OPEN_EXCL};
    if (ringlog_open(name, &o, log) != 0) {
        fprintf(stderr, "make_seeds: %s\n", ringlog_errmsg());
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char name[64], path[4096], shm[128];
    snprintf(name, sizeof name, "ringlog-seeds-%d", (int)getpid());
    snprintf(shm, sizeof shm, "/dev/shm/%s", name);
    ringlog *log;
    int rc = 0;

    /* 1. One lane, overwritten many times over; a second thread finds no
     *    lane (the only one is this thread's, and there is no pool). */
    if (open_region(name, 1, RINGLOG_OVERWRITE, &log))
        return 1;
    for (int i = 0; i < 300; i++)
        few_entries(log, i);
    in_thread(other_logger, log);
    ringlog_trigger(log, "seed trigger");
    snprintf(path, sizeof path, "%s/real-region-overwritten", dir);
    rc |= copy_file(shm, path);
    ringlog_close(log);
    ringlog_unlink(name);

    /* 2. Two lanes (this thread's and the pool lane), a few entries: raw
     *    and sparse snapshots, one image and two (entries and a new call
     *    site arrive in the post window, on the pool lane). */
    if (open_region(name, 2, RINGLOG_OVERWRITE, &log))
        return 1;
    few_entries(log, 1);
    few_entries(log, 2);
    ringlog_trigger(log, "seed trigger");
    rc |= snap(name, dir, "snapshot-one-image", "seed", 0, NULL, 1);
    rc |= snap(name, dir, "snapshot-two-images", "seed, with a post-trigger image", 30, log, 1);
    /* The checksum-rejection paths: a byte of the reason (header CRC), of
     * the first image's dictionary buckets (image CRC), of the first
     * image's region header, its lane count (its FNV checksum; image CRCs
     * recomputed) changed. */
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/snapshot-two-images", dir);
    snprintf(to, sizeof to, "%s/sparse-snapshot-bad-header-crc", dir);
    rc |= write_sparse(from, to, 1, 64 + 1);
    snprintf(to, sizeof to, "%s/sparse-snapshot-bad-image-crc", dir);
    rc |= write_sparse(from, to, 1, 4096 + 4096 + 65536 + 64 * 2 + 1);
    snprintf(to, sizeof to, "%s/sparse-snapshot-bad-region-checksum", dir);
    rc |= write_sparse(from, to, 2, 4096 + 24 + 1);
    ringlog_close(log);
    ringlog_unlink(name);

    /* 3. Three lanes: lane 0 wrapped (pads, overwritten entries), another
     *    thread's few entries in a lane it gave back when it ended, the
     *    post window's on a lane again; two images.  Sparse form only. */
    if (open_region(name, 3, RINGLOG_OVERWRITE, &log))
        return 1;
    for (int i = 0; i < 40; i++)
        few_entries(log, i);
    in_thread(other_logger, log);
    ringlog_trigger(log, "three lanes");
    rc |= snap(name, dir, "snapshot-three-lanes-wrapped", "three lanes, lane 0 wrapped", 30, log,
               2);
    ringlog_close(log);
    ringlog_unlink(name);

    /* 4. Drop policy, one lane logged past full: calls refused (gaps at
     *    the end of the lane).  Sparse form only. */
    if (open_region(name, 1, RINGLOG_DROP, &log))
        return 1;
    for (int i = 0; i < 40; i++)
        few_entries(log, i);
    ringlog_trigger(log, "full lane");
    rc |= snap(name, dir, "snapshot-drop-full", "one lane, drop policy, full", 0, NULL, 2);
    ringlog_close(log);
    ringlog_unlink(name);
    if (rc)
        fprintf(stderr, "make_seeds: failed: %s\n", ringlog_errmsg());
    return rc ? 1 : 0;
}
