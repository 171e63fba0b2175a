/*
 * A stopped writer costs no one else (issue: region v2).  One writer is
 * stopped at a random moment while it logs in a loop, possibly between
 * reading the clock and publishing; another writer on the same CPU then
 * logs 100 000 entries while a consuming reader runs.  Every one of the
 * second writer's entries must be delivered, in order, with no gap, in
 * both policies, for processes (SIGSTOP) and for threads (a thread held
 * inside a signal handler that interrupted its log call).
 */
#include "check.h"

#include <ringlog.h>

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define COUNT 100000u

static void pin_cpu0(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set); /* best effort */
}

struct seen {
    uint32_t pid;
    uint64_t n, gaps_in_lane, bad_order, next;
    uint32_t lane;
    int lane_known;
};

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    struct seen *s = arg;
    if (e->pid != s->pid || e->type != RINGLOG_TYPE_RAW || e->length != 4)
        return 0;
    uint32_t v;
    memcpy(&v, e->data, 4);
    if (v != s->next)
        s->bad_order++;
    s->next = v + 1;
    if (!s->lane_known) {
        s->lane = e->lane;
        s->lane_known = 1;
    }
    s->n++;
    return 0;
}

static ringlog_reader *reader_of_gap;
static int on_gap(void *arg, uint64_t first, uint64_t count)
{
    struct seen *s = arg;
    (void)first;
    (void)count;
    struct ringlog_gap g;
    if (ringlog_gap_info(reader_of_gap, &g) == 0 && s->lane_known && g.lane == s->lane)
        s->gaps_in_lane++;
    return 0;
}

/* Logs COUNT numbered entries at a modest pace. */
static void log_numbered(ringlog *log)
{
    for (uint32_t i = 0; i < COUNT; i++) {
        ringlog_write(log, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 1, &i, sizeof i);
        if (i % 100 == 99) {
            struct timespec ts = {0, 100 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

static void consume_until(ringlog_reader *r, struct seen *s, pid_t writer)
{
    struct ringlog_handler h = {on_entry, on_gap, s};
    reader_of_gap = r;
    int st;
    while (waitpid(writer, &st, WNOHANG) == 0)
        ringlog_read(r, &h, 5);
    while (ringlog_read(r, &h, 50) > 0) {
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A fresh region of 1 MiB lanes and its consuming reader. */
static void open_pair(const char *name, int policy, ringlog **log, ringlog_reader **r)
{
    ringlog_unlink(name);
    struct ringlog_options o = {.ring_size = 1 << 20, .policy = policy, .flags = RINGLOG_OPEN_EXCL};
    CHECK_EQ(ringlog_open(name, &o, log), 0);
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_CONSUME, r), 0);
}

static void processes(int policy, unsigned seed)
{
    const char *name = test_region_name(policy == RINGLOG_DROP ? "stopd" : "stopo");
    ringlog *log;
    ringlog_reader *r;
    open_pair(name, policy, &log, &r);
    pid_t a = fork();
    if (a == 0) {
        pin_cpu0();
        ringlog *l;
        if (ringlog_open(name, NULL, &l) != 0)
            _exit(1);
        for (uint32_t i = 0;; i++)
            ringlog_write(l, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 0, &i, 2);
    }
    /* Stop it at a random moment of its loop. */
    struct timespec ts = {0, (long)(1000000 + seed % 20000000)};
    nanosleep(&ts, NULL);
    kill(a, SIGSTOP);
    pid_t b = fork();
    if (b == 0) {
        pin_cpu0();
        ringlog *l;
        if (ringlog_open(name, NULL, &l) != 0)
            _exit(1);
        log_numbered(l);
        ringlog_close(l);
        _exit(0);
    }
    struct seen s = {.pid = (uint32_t)b};
    consume_until(r, &s, b);
    CHECK_EQ(s.n, COUNT);
    CHECK_EQ(s.bad_order, 0);
    CHECK_EQ(s.gaps_in_lane, 0);
    printf("stopped process, policy %s: the other writer delivered %llu of %u\n",
           policy == RINGLOG_DROP ? "drop" : "overwrite", (unsigned long long)s.n, COUNT);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* Threads: writer A is interrupted inside a log call (a signal whose
 * handler waits) and stays there while B logs. */
static sem_t held, release_a;
static _Atomic int a_go = 1;
static void hold_here(int sig)
{
    (void)sig;
    sem_post(&held);
    while (sem_wait(&release_a) != 0) {
    }
}
static void *thread_a(void *arg)
{
    ringlog *l = arg;
    pin_cpu0();
    for (uint32_t i = 0; atomic_load(&a_go); i++)
        ringlog_write(l, RINGLOG_LEVEL_INFO, RINGLOG_TYPE_RAW, 0, &i, 2);
    return NULL;
}
static void *thread_b(void *arg)
{
    pin_cpu0();
    log_numbered(arg);
    return NULL;
}

static void threads(int policy, unsigned seed)
{
    const char *name = test_region_name(policy == RINGLOG_DROP ? "stoptd" : "stopto");
    ringlog *log;
    ringlog_reader *r;
    open_pair(name, policy, &log, &r);
    sem_init(&held, 0, 0);
    sem_init(&release_a, 0, 0);
    struct sigaction sa = {0};
    sa.sa_handler = hold_here;
    sigaction(SIGUSR1, &sa, NULL);
    atomic_store(&a_go, 1);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, thread_a, log);
    struct timespec ts = {0, (long)(1000000 + seed % 20000000)};
    nanosleep(&ts, NULL);
    pthread_kill(ta, SIGUSR1);
    sem_wait(&held);
    pthread_create(&tb, NULL, thread_b, log);
    struct seen s = {.pid = (uint32_t)getpid()};
    struct ringlog_handler h = {on_entry, on_gap, &s};
    reader_of_gap = r;
    /* Only B's entries are numbered from 0 with remarks 1: count those. */
    int b_done = 0;
    while (s.n < COUNT) {
        int n = ringlog_read(r, &h, 100);
        if (n <= 0 && pthread_tryjoin_np(tb, NULL) == 0) {
            b_done = 1;
            while (ringlog_read(r, &h, 50) > 0) {
            }
            break;
        }
    }
    CHECK_EQ(s.n, COUNT);
    CHECK_EQ(s.gaps_in_lane, 0);
    printf("stopped thread, policy %s: the other writer delivered %llu of %u\n",
           policy == RINGLOG_DROP ? "drop" : "overwrite", (unsigned long long)s.n, COUNT);
    atomic_store(&a_go, 0);
    sem_post(&release_a);
    pthread_join(ta, NULL);
    if (!b_done)
        pthread_join(tb, NULL);
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
}

/* In the thread case A's entries have length 2, B's length 4: on_entry
 * counts only B's. */
int main(void)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    printf("seed %u\n", seed);
    for (int k = 0; k < 3; k++) {
        processes(RINGLOG_DROP, (unsigned)rand());
        processes(RINGLOG_OVERWRITE, (unsigned)rand());
    }
    threads(RINGLOG_DROP, (unsigned)rand());
    threads(RINGLOG_OVERWRITE, (unsigned)rand());
    return check_report("test_stopped");
}
