/*
 * One write(2, ...) of a 40-byte line, per call (p50/p99 over 200 000
 * calls in batches of 100), stderr to /dev/null: run once plainly and
 * once under `ringlog run` to price the capture.  Prints
 * "capture LABEL p50_ns p99_ns".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 100
#define BATCHES 2000

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static const char line[] = "worker 3: retrying connection to db1\n";
    static double v[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < BATCH; i++)
            if (write(2, line, sizeof line - 1) < 0)
                return 1;
        v[b] = (now_ns() - t0) / BATCH;
    }
    qsort(v, BATCHES, sizeof *v, cmp);
    printf("capture\t%s\t%.1f\t%.1f\n", argc > 1 ? argv[1] : "plain", v[BATCHES / 2],
           v[BATCHES * 99 / 100]);
    return 0;
}
