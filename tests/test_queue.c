/*
 * The pop-all queue: exact FIFO and overwrite accounting single-threaded,
 * then producers racing a consumer.  Every item carries (producer, seq):
 * each is popped at most once, each producer's items come out in push order,
 * and pushed == popped + overwritten + dropped once everything is popped.
 */
#include "check.h"
#include "ringlog_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static void test_single(void)
{
    ringlog_queue *q;
    struct ringlog_queue_options o = {.capacity = 8, .item_size = 16};
    CHECK_EQ(ringlog_queue_create(&o, &q), 0);
    struct ringlog_queue_batch b;
    CHECK_EQ(ringlog_queue_pop_all(q, &b), 0); /* empty: at once */
    int overwrote = 0;
    for (uint32_t i = 0; i < 20; i++)
        overwrote += ringlog_queue_push(q, &i, sizeof i) == 1;
    CHECK_EQ(overwrote, 12);
    CHECK_EQ(ringlog_queue_pop_all(q, &b), 8);
    CHECK_EQ(ringlog_queue_pop_all(q, &b), RINGLOG_EBUSY);
    uint32_t want = 12;
    size_t len;
    const void *p;
    while ((p = ringlog_queue_next(&b, &len)) != NULL) {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        CHECK_EQ(len, sizeof v);
        CHECK_EQ(v, want);
        want++;
    }
    CHECK_EQ(want, 20);
    ringlog_queue_release(&b);
    /* Pushes during a held batch go to the other lane; nothing is lost. */
    uint32_t x = 100;
    ringlog_queue_push(q, &x, sizeof x);
    CHECK_EQ(ringlog_queue_pop_all(q, &b), 1);
    ringlog_queue_release(&b);
    struct ringlog_queue_stats s;
    ringlog_queue_stats(q, &s);
    CHECK_EQ(s.pushed, 21);
    CHECK_EQ(s.popped, 9);
    CHECK_EQ(s.overwritten, 12);
    CHECK_EQ(s.dropped, 0);
    CHECK_EQ(s.queued, 0);
    /* Too long an item is cut to item_size. */
    char big[64] = {0};
    ringlog_queue_push(q, big, sizeof big);
    CHECK_EQ(ringlog_queue_pop_all(q, &b), 1);
    ringlog_queue_next(&b, &len);
    CHECK_EQ(len, 16);
    ringlog_queue_release(&b);
    ringlog_queue_destroy(q);
}

#define NPROD 4
static ringlog_queue *gq;
static _Atomic int done;
static long per_thread = 300000;

static void *producer(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    for (uint32_t s = 0; s < (uint32_t)per_thread; s++) {
        uint32_t item[4] = {id, s, ~s, id ^ s};
        ringlog_queue_push(gq, item, 8 + (s % 3) * 4);
    }
    return NULL;
}

static void test_concurrent(size_t cap)
{
    struct ringlog_queue_options o = {.capacity = cap, .item_size = 16};
    CHECK_EQ(ringlog_queue_create(&o, &gq), 0);
    atomic_store(&done, 0);
    pthread_t th[NPROD];
    for (uintptr_t i = 0; i < NPROD; i++)
        pthread_create(&th[i], NULL, producer, (void *)i);
    int64_t last[NPROD];
    for (int i = 0; i < NPROD; i++)
        last[i] = -1;
    long popped = 0, torn = 0, order = 0, batches = 0;
    for (int finished = 0; finished < 2;) {
        struct ringlog_queue_batch b;
        long n = ringlog_queue_pop_all(gq, &b);
        if (n > 0) {
            batches++;
            size_t len;
            const uint32_t *p;
            long seen = 0;
            while ((p = ringlog_queue_next(&b, &len)) != NULL) {
                seen++;
                uint32_t it[4] = {0, 0, 0, 0};
                memcpy(it, p, len < sizeof it ? len : sizeof it);
                if (it[0] >= NPROD || len != 8 + (it[1] % 3) * 4 || (len > 8 && it[2] != ~it[1]) ||
                    (len > 12 && it[3] != (it[0] ^ it[1]))) {
                    torn++;
                    continue;
                }
                if ((int64_t)it[1] <= last[it[0]])
                    order++;
                last[it[0]] = it[1];
            }
            CHECK_EQ(seen, n);
            popped += n;
            ringlog_queue_release(&b);
        }
        if (atomic_load(&done))
            finished += n == 0; /* one more empty pop after the producers end */
        else if (n <= 0) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
        if (!atomic_load(&done)) {
            struct ringlog_queue_stats s;
            ringlog_queue_stats(gq, &s);
            if (s.pushed == (uint64_t)(NPROD * per_thread))
                atomic_store(&done, 1);
        }
    }
    for (int i = 0; i < NPROD; i++)
        pthread_join(th[i], NULL);
    /* Anything pushed after the final pops. */
    struct ringlog_queue_batch b;
    long n;
    while ((n = ringlog_queue_pop_all(gq, &b)) > 0) {
        popped += n;
        ringlog_queue_release(&b);
    }
    struct ringlog_queue_stats s;
    ringlog_queue_stats(gq, &s);
    CHECK_EQ(torn, 0);
    CHECK_EQ(order, 0);
    CHECK_EQ(s.pushed, (uint64_t)(NPROD * per_thread));
    CHECK_EQ(s.popped, (uint64_t)popped);
    CHECK_EQ(s.pushed, s.popped + s.overwritten + s.dropped);
    printf("queue cap=%zu: pushed %llu popped %llu overwritten %llu dropped %llu in %ld batches\n",
           cap, (unsigned long long)s.pushed, (unsigned long long)s.popped,
           (unsigned long long)s.overwritten, (unsigned long long)s.dropped, batches);
    ringlog_queue_destroy(gq);
}

int main(void)
{
    if (getenv("RINGLOG_STRESS_SCALE"))
        per_thread = per_thread * atol(getenv("RINGLOG_STRESS_SCALE")) / 100;
    test_single();
    test_concurrent(64);
    test_concurrent(4096);
    test_concurrent(1 << 20);
    return check_report("test_queue");
}
