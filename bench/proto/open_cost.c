/*
 * open_cost: how long ringlog_open takes to create a region, now that it
 * allocates every block and writes every page (src/platform_linux.c,
 * prefault_writable).  Three times: 2 rings of RING_MIB MiB (default 32).
 */
#define _GNU_SOURCE
#include <ringlog.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 32;
    for (int k = 0; k < 3; k++) {
        ringlog *lg;
        struct ringlog_options o = {.ring_size = mib << 20, .nrings = 2};
        ringlog_unlink("ringlog-open-cost");
        double t0 = now_ms();
        if (ringlog_open("ringlog-open-cost", &o, &lg) != 0) {
            fprintf(stderr, "open_cost: %s\n", ringlog_errmsg());
            return 1;
        }
        printf("ringlog_open, 2 x %zu MiB: %.1f ms\n", mib, now_ms() - t0);
        ringlog_close(lg);
        ringlog_unlink("ringlog-open-cost");
    }
    return 0;
}
