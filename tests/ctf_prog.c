/* A producer for tests/ctf.sh: THREADS threads (a lane each) log COUNT
 * rounds of deferred calls whose typed arguments follow from the thread
 * and round numbers in their text (so the test can recompute every
 * argument from the message), with a text entry every fifth round.  The
 * region is made with RING bytes per lane and POLICY (drop|overwrite);
 * with SNAP, a snapshot of the region is written there at the end.
 * With CTF_PROG_FORGE=N in the environment it also writes N entries a
 * broken or hostile producer could: DEFERRED entries naming any site id
 * with random bytes, a text with a NUL and control characters, a raw
 * entry, a crash entry too short for its struct, an application type.
 * Usage: ctf_prog NAME THREADS COUNT RING POLICY [SNAP] */
#include <ringlog.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ringlog *lg;
static int count;

static void *producer(void *arg)
{
    int t = (int)(long)arg;
    static const char *const words[] = {"alpha", "beta gamma", "d\xc3\xa9j\xc3\xa0"};
    for (int k = 0; k < count; k++) {
        RINGLOG_INFO(lg, "t%d k%d i=%d u=%u I=%lld U=%llu d=%.3f s=%s", t, k, -1000 * k - t,
                     3000000000u + (unsigned)k, -100000000000LL * k - t,
                     10000000000000000000ull + (unsigned long long)k, 0.25 * k + t, words[k % 3]);
        if (k % 3 == 0) {
            errno = EAGAIN;
            RINGLOG_WARN(lg, "t%d k%d failed: %m", t, k);
        }
        if (k % 5 == 0)
            ringlog_printf(lg, RINGLOG_LEVEL_NOTICE, "t%d k%d plain text", t, k);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: ctf_prog NAME THREADS COUNT RING drop|overwrite [SNAP]\n");
        return 2;
    }
    int threads = atoi(argv[2]);
    count = atoi(argv[3]);
    struct ringlog_options o = {.ring_size = (size_t)atol(argv[4]),
                                .policy = strcmp(argv[5], "drop") == 0 ? RINGLOG_DROP
                                                                        : RINGLOG_OVERWRITE};
    if (threads < 1 || threads > 64 || ringlog_open(argv[1], &o, &lg) != 0) {
        fprintf(stderr, "ctf_prog: %s\n", ringlog_errmsg());
        return 1;
    }
    pthread_t th[64];
    for (int t = 0; t < threads; t++)
        pthread_create(&th[t], NULL, producer, (void *)(long)t);
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    const char *forge = getenv("CTF_PROG_FORGE");
    if (forge) {
        srand(7);
        for (int i = atoi(forge); i > 0; i--) {
            unsigned char junk[64];
            size_t n = (size_t)(rand() % 65);
            for (size_t k = 0; k < n; k++)
                junk[k] = (unsigned char)rand();
            ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_DEFERRED, (uint32_t)(rand() % 4096),
                          junk, n);
        }
        static const char text[] = "nul\0 inside\ttab\nnewline \"quoted\" back\\slash";
        ringlog_write(lg, RINGLOG_LEVEL_ERROR, RINGLOG_TYPE_TEXT, 0, text, sizeof text - 1);
        ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 9, "\x01\x02\xff", 3);
        ringlog_write(lg, RINGLOG_LEVEL_CRITICAL, RINGLOG_TYPE_CRASH, 0, "\x0b\0\0", 3);
        ringlog_write(lg, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_USER + 1, 5, "app", 3);
    }
    if (argc > 6 && ringlog_snapshot(argv[1], argv[6], "ctf test", 0) != 0) {
        fprintf(stderr, "ctf_prog: snapshot: %s\n", ringlog_errmsg());
        return 1;
    }
    ringlog_close(lg);
    return 0;
}
