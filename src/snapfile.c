/*
 * The snapshot file format: its checksum and its parser.  docs/FORMAT.md,
 * "Snapshot files", gives the layout.  Used by the snapshot writer
 * (snapshot.c) and by the reader (reader.c) to open files; it uses
 * neither, so both can depend on it.
 */
#include "internal.h"

#include <string.h>

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    static _Atomic int ready;
    if (!atomic_load_explicit(&ready, memory_order_acquire)) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c; /* idempotent: racing initialisers write the same */
        }
        atomic_store_explicit(&ready, 1, memory_order_release);
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

uint32_t rl_crc32(const void *p, size_t n)
{
    return crc32_update(0, p, n);
}

/* Parses and checks a snapshot held in memory (64-byte aligned).  On
 * success fills the image regions (views into buf). */
int rl_snapshot_parse(unsigned char *buf, size_t size, struct rl_region img[2], unsigned *nimg,
                      const struct rl_snap_header **hdr)
{
    if (size < RL_SNAP_HEADER_SIZE)
        return rl_fail(RINGLOG_EFORMAT, "snapshot truncated: %zu bytes, header needs %u", size,
                       RL_SNAP_HEADER_SIZE);
    struct rl_snap_header *sh = (struct rl_snap_header *)(void *)buf;
    if (memcmp(sh->magic, RL_SNAP_MAGIC, 8) != 0)
        return rl_fail(RINGLOG_EFORMAT, "not a ringlog snapshot (bad magic)");
    if (sh->version != RL_SNAP_VERSION)
        return rl_fail(RINGLOG_EVERSION, "snapshot version %u; this build reads version %u only",
                       sh->version, RL_SNAP_VERSION);
    uint32_t stored = sh->header_crc;
    sh->header_crc = 0;
    uint32_t sum = rl_crc32(buf, RL_SNAP_HEADER_SIZE);
    sh->header_crc = stored;
    if (sum != stored)
        return rl_fail(RINGLOG_EFORMAT, "snapshot header checksum mismatch (stored %08x, computed %08x)",
                       stored, sum);
    if (sh->header_size != RL_SNAP_HEADER_SIZE || sh->nimages < 1 || sh->nimages > 2)
        return rl_fail(RINGLOG_EFORMAT, "snapshot header: size %u, %u images: unexpected",
                       sh->header_size, sh->nimages);
    uint64_t isz = sh->image_size;
    if (isz < RL_HEADER_SIZE || isz % 64 != 0 || isz > (size - RL_SNAP_HEADER_SIZE) / sh->nimages ||
        RL_SNAP_HEADER_SIZE + isz * sh->nimages != size)
        return rl_fail(RINGLOG_EFORMAT,
                       "snapshot truncated or padded: %zu bytes for %u images of %llu bytes", size,
                       sh->nimages, (unsigned long long)isz);
    for (unsigned i = 0; i < sh->nimages; i++) {
        unsigned char *im = buf + RL_SNAP_HEADER_SIZE + i * isz;
        uint32_t c = rl_crc32(im, (size_t)isz);
        if (c != sh->image_crc[i])
            return rl_fail(RINGLOG_EFORMAT, "snapshot image %u checksum mismatch (stored %08x, computed %08x)",
                           i + 1, sh->image_crc[i], c);
        memset(&img[i], 0, sizeof img[i]);
        int rc = rl_region_validate(&img[i], im, (size_t)isz);
        if (rc)
            return rc;
        /* The reader walks both images with the first one's geometry: the
         * post-trigger image must be the same region, shape for shape. */
        const struct rl_header_fixed *a = &img[0].fixed, *b = &img[i].fixed;
        if (i > 0 && (a->region_size != b->region_size || a->lane_size != b->lane_size ||
                      a->nlanes != b->nlanes || a->nsub != b->nsub || a->pool != b->pool ||
                      a->dict_size != b->dict_size || a->policy != b->policy ||
                      a->clock != b->clock))
            return rl_fail(RINGLOG_EFORMAT,
                           "snapshot image 2 has another geometry than image 1 (%u lanes of %llu "
                           "bytes against %u of %llu)",
                           b->nlanes, (unsigned long long)b->lane_size, a->nlanes,
                           (unsigned long long)a->lane_size);
    }
    *nimg = sh->nimages;
    *hdr = sh;
    return 0;
}
