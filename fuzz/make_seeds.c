/* Writes the real-region seeds of fuzz/corpus: a small overwritten region
 * holding text, raw and deferred entries, and snapshots of it (one and two
 * images).  Rerun after a layout change:
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude fuzz/make_seeds.c build/libringlog.a -lpthread \
 *      -o build/make_seeds && build/make_seeds fuzz/corpus */
#include "ringlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    char name[64], path[4096], shm[128];
    snprintf(name, sizeof name, "ringlog-seeds-%d", (int)getpid());
    snprintf(shm, sizeof shm, "/dev/shm/%s", name);
    struct ringlog_options o = {.ring_size = 4096, .nrings = 1, .dict_size = 16384,
                                .flags = RINGLOG_OPEN_EXCL};
    ringlog *log;
    if (ringlog_open(name, &o, &log) != 0) {
        fprintf(stderr, "make_seeds: %s\n", ringlog_errmsg());
        return 1;
    }
    unsigned char bytes[4] = {0xde, 0xad, 0xbe, 0xef};
    for (int i = 0; i < 300; i++) {
        RINGLOG_INFO(log, "order %d filled at %.2f by %s", i, i * 1.5, "desk");
        RINGLOG_WARN(log, "%lld %llu %Lf %p %c %.*s %.3s", -1ll * i, 7ull * i, (long double)i / 3,
                     (void *)&o, 'a' + i % 26, RINGLOG_BYTES(bytes, 4), "abcdef");
        ringlog_printf(log, RINGLOG_LEVEL_DEBUG, "text %d", i);
        ringlog_write(log, RINGLOG_LEVEL_ERROR, RINGLOG_TYPE_RAW, (uint32_t)i, bytes, 4);
    }
    ringlog_trigger(log, "seed trigger");
    snprintf(path, sizeof path, "%s/real-region-overwritten", argv[1]);
    int rc = copy_file(shm, path);
    snprintf(path, sizeof path, "%s/snapshot-one-image", argv[1]);
    rc |= ringlog_snapshot(name, path, "seed", 0);
    snprintf(path, sizeof path, "%s/snapshot-two-images", argv[1]);
    rc |= ringlog_snapshot(name, path, "seed, with a post-trigger image", 1);
    ringlog_close(log);
    ringlog_unlink(name);
    if (rc)
        fprintf(stderr, "make_seeds: failed: %s\n", ringlog_errmsg());
    return rc ? 1 : 0;
}
