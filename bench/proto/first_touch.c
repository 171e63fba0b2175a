/*
 * first_touch: how long is the first store to each page of a fresh shared
 * mapping, depending on how the mapping was prepared?  The measurement
 * behind src/platform_linux.c's prefault_writable (bench/proto/README.md).
 *
 * 16 MiB of POSIX shared memory; 64-byte stores walked through it, each
 * timed with rdtsc, a 1 us sleep every 20 stores (like the bench's bursts).
 * Prints the page faults taken during the walk and how many stores took
 * over 4000 cycles.  MODE is a sum of:
 *   1 MAP_POPULATE   2 MADV_POPULATE_WRITE   4 posix_fallocate
 *   8 one atomic add of zero per page from user space before the walk
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

int main(int argc, char **argv)
{
    const size_t len = 16u << 20;
    int mode = argc > 1 ? atoi(argv[1]) : 0;
    int fd = shm_open("/ringlog-first-touch", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
        perror("shm");
        return 1;
    }
    shm_unlink("/ringlog-first-touch");
    if ((mode & 4) && posix_fallocate(fd, 0, (off_t)len) != 0)
        return 1;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | ((mode & 1) ? MAP_POPULATE : 0),
                   fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    if ((mode & 2) && madvise(p, len, MADV_POPULATE_WRITE) != 0)
        perror("madvise(MADV_POPULATE_WRITE)");
    if (mode & 8)
        for (size_t off = 0; off < len; off += 4096)
            __atomic_fetch_add((unsigned long *)(p + off), 0, __ATOMIC_RELAXED);
    long f0 = minor_faults();
    unsigned long slow = 0, worst = 0, stores = 0;
    for (size_t off = 0; off < len; off += 64, stores++) {
        if (stores % 20 == 0) {
            struct timespec ts = {0, 1000};
            nanosleep(&ts, NULL);
        }
        unsigned long long t0 = __rdtsc();
        memset(p + off, 1, 64);
        unsigned long long t = __rdtsc() - t0;
        slow += t > 4000;
        if (t > worst)
            worst = t;
    }
    printf("mode %2d: %lu stores, %ld page faults during the walk, %lu over 4000 cycles, worst %lu\n",
           mode, stores, minor_faults() - f0, slow, worst);
    return 0;
}
