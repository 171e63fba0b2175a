/*
 * The snapshot file format: its checksum and its parser.  docs/FORMAT.md,
 * "Snapshot files", gives the layout.  Used by the snapshot writer
 * (snapshot.c) and by the reader (reader.c) to open files; it uses
 * neither, so both can depend on it.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int rl_snap_piece(const struct rl_header_fixed *f, uint64_t image_size, uint32_t i, uint64_t *off,
                  uint64_t *len)
{
    uint64_t lanes_end = f->lanes_offset + (uint64_t)f->nlanes * f->lane_stride;
    if (i == 0) {
        *off = 0;
        *len = f->dict_offset;
    } else if (i == 1) {
        *off = f->dict_offset;
        *len = f->lanes_offset - f->dict_offset;
    } else if (i - 2 < f->nlanes) {
        *off = f->lanes_offset + (uint64_t)(i - 2) * f->lane_stride;
        *len = f->lane_stride;
    } else if (i - 2 == f->nlanes) {
        *off = lanes_end;
        *len = image_size > lanes_end ? image_size - lanes_end : 0;
    } else {
        return -1;
    }
    return 0;
}

static void damage_note(struct rl_snap_damage *d, const char *fmt, unsigned a, unsigned b)
{
    size_t n = strlen(d->text);
    if (n + 2 >= sizeof d->text)
        return;
    if (n)
        d->text[n++] = ';', d->text[n++] = ' ';
    snprintf(d->text + n, sizeof d->text - n, fmt, a, b);
}

/* An image whose whole CRC failed, checked piece by piece against the
 * table: a lane that fails is emptied (nothing of it is delivered), the
 * dictionary is kept (each record carries its own hash), a failed header
 * or registry loses the image.  Returns 0 when the image is usable. */
static int salvage_image(unsigned char *im, uint64_t isz, const struct rl_region *g,
                         const uint32_t *crc, unsigned idx, struct rl_snap_damage *d)
{
    const struct rl_header_fixed *f = &g->fixed;
    uint32_t npieces = 3 + f->nlanes;
    unsigned bad_lanes = 0, first_bad = 0;
    for (uint32_t i = 0; i < npieces; i++) {
        uint64_t off, len;
        if (rl_snap_piece(f, isz, i, &off, &len) != 0 || off > isz || len > isz - off)
            return -1;
        if (rl_crc32(im + off, (size_t)len) == crc[i])
            continue;
        d->pieces++;
        if (i == 0) {
            damage_note(d, "image %u: header or registry damaged, image dropped", idx + 1, 0);
            return -1;
        }
        if (i == 1) {
            damage_note(d, "image %u: dictionary damaged (its records are checked one by one)",
                        idx + 1, 0);
        } else if (i - 2 < f->nlanes) {
            /* Head, tail and read to one value: an empty lane, whose seq
             * (if it survived) still numbers later calls. */
            struct rl_lane *l = rl_lane_at(g, i - 2);
            uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
            atomic_store_explicit(&l->tail, h, memory_order_relaxed);
            atomic_store_explicit(&l->read, h, memory_order_relaxed);
            if (!bad_lanes++)
                first_bad = i - 2;
        }
    }
    if (bad_lanes == 1)
        damage_note(d, "image %u: lane %u damaged, not read", idx + 1, first_bad);
    else if (bad_lanes)
        damage_note(d, "image %u: %u lanes damaged, not read", idx + 1, bad_lanes);
    return 0;
}

/* Parses and checks a snapshot held in memory (64-byte aligned).  On
 * success fills the image regions (views into buf) and *dmg with what
 * had to be left out of a damaged file (version 2: piece checksums). */
int rl_snapshot_parse(unsigned char *buf, size_t size, struct rl_region img[2], unsigned *nimg,
                      const struct rl_snap_header **hdr, struct rl_snap_damage *dmg)
{
    memset(dmg, 0, sizeof *dmg);
    if (size < RL_SNAP_HEADER_SIZE)
        return rl_fail(RINGLOG_EFORMAT, "snapshot truncated: %zu bytes, header needs %u", size,
                       RL_SNAP_HEADER_SIZE);
    struct rl_snap_header *sh = (struct rl_snap_header *)(void *)buf;
    if (memcmp(sh->magic, RL_SNAP_MAGIC, 8) != 0)
        return rl_fail(RINGLOG_EFORMAT, "not a ringlog snapshot (bad magic)");
    if (sh->version != 1 && sh->version != RL_SNAP_VERSION)
        return rl_fail(RINGLOG_EVERSION, "snapshot version %u; this build reads versions 1 and %u",
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
    uint64_t table = sh->version >= 2 ? (uint64_t)sh->nimages * sh->npieces * 4 : 0;
    if (isz < RL_HEADER_SIZE || isz % 64 != 0 || isz > (size - RL_SNAP_HEADER_SIZE) / sh->nimages ||
        (sh->version >= 2 && (sh->npieces < 3 || sh->npieces > 3 + 65536 ||
                              sh->table_offset != RL_SNAP_HEADER_SIZE + isz * sh->nimages)) ||
        RL_SNAP_HEADER_SIZE + isz * sh->nimages + table != size)
        return rl_fail(RINGLOG_EFORMAT,
                       "snapshot truncated or padded: %zu bytes for %u images of %llu bytes", size,
                       sh->nimages, (unsigned long long)isz);
    const uint32_t *crcs = NULL;
    if (table && rl_crc32(buf + sh->table_offset, (size_t)table) == sh->table_crc)
        crcs = (const uint32_t *)(const void *)(buf + sh->table_offset);
    else if (table)
        damage_note(dmg, "piece checksum table damaged (only whole images can be checked)", 0, 0);
    unsigned good = 0;
    for (unsigned i = 0; i < sh->nimages; i++) {
        unsigned char *im = buf + RL_SNAP_HEADER_SIZE + i * isz;
        struct rl_region *g = &img[good];
        memset(g, 0, sizeof *g);
        uint32_t c = rl_crc32(im, (size_t)isz);
        if (c != sh->image_crc[i]) {
            /* Version 1, or a damaged table: nothing to salvage with. */
            if (!crcs)
                return rl_fail(RINGLOG_EFORMAT,
                               "snapshot image %u checksum mismatch (stored %08x, computed %08x)",
                               i + 1, sh->image_crc[i], c);
            if (rl_region_validate(g, im, (size_t)isz) != 0 || 3 + g->fixed.nlanes != sh->npieces ||
                salvage_image(im, isz, g, crcs + (size_t)i * sh->npieces, i, dmg) != 0) {
                if (!dmg->text[0] || !strstr(dmg->text, "dropped")) {
                    dmg->pieces++;
                    damage_note(dmg, "image %u: header damaged, image dropped", i + 1, 0);
                }
                continue;
            }
        } else {
            int rc = rl_region_validate(g, im, (size_t)isz);
            if (rc)
                return rc;
        }
        /* The reader walks both images with the first one's geometry: the
         * post-trigger image must be the same region, shape for shape. */
        const struct rl_header_fixed *a = &img[0].fixed, *b = &g->fixed;
        if (good > 0 && (a->region_size != b->region_size || a->lane_size != b->lane_size ||
                         a->nlanes != b->nlanes || a->nsub != b->nsub || a->pool != b->pool ||
                         a->dict_size != b->dict_size || a->policy != b->policy ||
                         a->clock != b->clock))
            return rl_fail(RINGLOG_EFORMAT,
                           "snapshot image 2 has another geometry than image 1 (%u lanes of %llu "
                           "bytes against %u of %llu)",
                           b->nlanes, (unsigned long long)b->lane_size, a->nlanes,
                           (unsigned long long)a->lane_size);
        good++;
    }
    if (!good)
        return rl_fail(RINGLOG_EFORMAT, "snapshot damaged beyond use: %s", dmg->text);
    *nimg = good;
    *hdr = sh;
    return 0;
}

int rl_snapshot_load(const char *name, unsigned char **out, struct rl_region img[2], unsigned *nimg,
                     const struct rl_snap_header **hdr, struct rl_snap_damage *dmg)
{
    if (!name || !rl_plat_is_path(name))
        return RINGLOG_ENOENT;
    FILE *f = fopen(name, "rb");
    if (!f)
        return RINGLOG_ENOENT;
    char magic[8];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, RL_SNAP_MAGIC, 8) != 0) {
        fclose(f);
        return RINGLOG_ENOENT;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
        (uint64_t)st.st_size > ((uint64_t)1 << 40)) {
        fclose(f);
        return rl_fail(RINGLOG_EFORMAT, "%s: snapshot of unreadable size", name);
    }
    size_t size = (size_t)st.st_size;
    unsigned char *buf = aligned_alloc(64, (size + 63) & ~(size_t)63);
    if (!buf) {
        fclose(f);
        return rl_fail(RINGLOG_ENOMEM, "%s: no memory for %zu bytes", name, size);
    }
    rewind(f);
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    int rc = got == size ? rl_snapshot_parse(buf, size, img, nimg, hdr, dmg)
                         : rl_fail(RINGLOG_EIO, "%s: short read", name);
    if (rc) {
        /* Name the file in the message, keep the reason. */
        char why[400];
        snprintf(why, sizeof why, "%s", ringlog_errmsg());
        free(buf);
        return rl_fail(rc, "%s: %s", name, why);
    }
    *out = buf;
    return 0;
}
