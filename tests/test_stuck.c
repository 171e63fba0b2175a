/*
 * A producer killed between marking its reservation and committing it, in
 * an overwrite-policy region with no consumer (the flight-recorder set-up):
 * the other producers of that ring must be blocked for a bounded time only.
 *
 * White-box: a child process claims a registry slot and then stamps a
 * reservation RESERVED under its owner id exactly as a producer does before
 * it writes (src/produce.c, steps C and D), and stops there.  Proves:
 *   - while the child lives, the parent's calls are dropped and the entry
 *     is never overtaken (INV-5), however long it waits;
 *   - once the child is dead, the parent's calls succeed again within
 *     STUCK_CHECK_MS plus one check (bounded, documented in DESIGN.md), the
 *     stolen slots are counted as abandoned, and the statistics balance.
 */
#include "check.h"
#include "internal.h"
#include "ringlog.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Logs for `ms` milliseconds; counts calls that stored their entry. */
static uint64_t log_for(ringlog *log, uint64_t ms, uint64_t *calls, uint64_t *first_ok_ms)
{
    unsigned char payload[100];
    memset(payload, 0x5a, sizeof payload);
    uint64_t ok = 0, start = now_ms(), end = start + ms;
    *first_ok_ms = UINT64_MAX;
    while (now_ms() < end) {
        for (int i = 0; i < 64; i++) {
            int rc = ringlog_write(log, RINGLOG_LEVEL_INFO, 1, 0, payload, sizeof payload);
            (*calls)++;
            if (rc == 0) {
                ok++;
                if (*first_ok_ms == UINT64_MAX)
                    *first_ok_ms = now_ms() - start;
            }
        }
    }
    return ok;
}

int main(void)
{
    const char *region = test_region_name("stuck");
    ringlog_unlink(region);
    struct ringlog_options o = {.ring_size = 4096, .nrings = 1, .policy = RINGLOG_OVERWRITE};
    ringlog *log;
    if (ringlog_open(region, &o, &log) != 0) {
        fprintf(stderr, "open: %s\n", ringlog_errmsg());
        return 1;
    }
    struct rl_region *g = &log->g;
    struct rl_ring *ring = rl_ring_at(g, 0);
    uint64_t pos = atomic_load(&ring->head);

    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        ringlog *clog;
        if (ringlog_open(region, NULL, &clog) != 0)
            _exit(2);
        /* Reserve two slots and mark the first RESERVED, then stop: what a
         * producer leaves when it dies after its mark, before its commit. */
        struct rl_ring *cr = rl_ring_at(&clog->g, 0);
        uint64_t h = pos;
        if (!atomic_compare_exchange_strong(&cr->head, &h, pos + 2))
            _exit(3);
        atomic_store(&rl_seq(&clog->g, cr)[pos & clog->g.mask],
                     rl_stamp(pos, clog->owner, RL_ST_RESERVED));
        char c = 1;
        if (write(fds[1], &c, 1) != 1)
            _exit(4);
        for (;;)
            pause();
    }
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
    uint64_t reserved = atomic_load(&rl_seq(g, ring)[pos & g->mask]);
    CHECK_EQ(rl_stamp_state(reserved), RL_ST_RESERVED);

    /* Alive: after the ring fills, every call is dropped, for 300 ms (six
     * liveness checks), and the reservation stays. */
    uint64_t calls = 0, first_ok;
    log_for(log, 50, &calls, &first_ok);
    uint64_t ok_alive = log_for(log, 300, &calls, &first_ok);
    CHECK_EQ(ok_alive, 0);
    CHECK_EQ(atomic_load(&rl_seq(g, ring)[pos & g->mask]), reserved);
    CHECK_EQ(atomic_load(&ring->tail), pos);

    kill(child, SIGKILL);
    int st;
    waitpid(child, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* Dead: calls succeed again within one check period (50 ms) and the
     * time to run the check; 1 s is a generous bound for a loaded CI. */
    errno = 4242; /* the liveness check (kill: ESRCH) inside log calls leaves it */
    uint64_t ok_dead = log_for(log, 1000, &calls, &first_ok);
    CHECK_EQ(errno, 4242);
    CHECK(ok_dead > 1000);
    CHECK(first_ok < 1000);
    printf("stuck: a dead writer's reservation blocked the ring for %llu ms after the kill "
           "(alive: %llu ok in 300 ms)\n",
           (unsigned long long)first_ok, (unsigned long long)ok_alive);
    CHECK(atomic_load(&ring->tail) > pos);

    struct ringlog_stats s;
    CHECK(ringlog_stats(log, &s, NULL, 0) == 1);
    CHECK(s.abandoned >= 1);
    CHECK_EQ(s.written, calls);
    CHECK_EQ(s.written, s.read + s.lost + s.overwritten + s.buffered);
    printf("stuck: written %llu lost %llu overwritten %llu buffered %llu abandoned %llu\n",
           (unsigned long long)s.written, (unsigned long long)s.lost,
           (unsigned long long)s.overwritten, (unsigned long long)s.buffered,
           (unsigned long long)s.abandoned);
    ringlog_close(log);
    ringlog_unlink(region);
    return check_report("test_stuck");
}
