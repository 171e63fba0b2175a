/*
 * rseq_reserve.c - prototype: what would restartable sequences (Linux rseq)
 * buy the ringlog producer?  Standalone; does not link ringlog.
 *
 * Variants, over a simple per-CPU ring (N 32-byte slots = 1 MiB, one 64-bit
 * stamp per slot, head/tail/written on separate cache lines):
 *   A floor: rdtsc + lock xadd on a global counter.
 *   B today: head CAS, stamp CAS (mark), global index xadd, stores, stamp CAS
 *     (commit), lock xadd on `written` - the src/produce.c protocol.
 *   C rseq: reserve + RESERVED stamp in one rseq critical section (plain
 *     stores, no lock prefix), index xadd, stores, COMMITTED by a plain release
 *     store, written++ in a second tiny critical section.
 *   D like C but the commit stays a CAS (keeps theft detection).
 * Then correctness: every timed phase is drained and checked by a consumer;
 * a 2-thread pinned run; a SIGALRM run whose handler logs too (nesting).
 *
 * Build: gcc -std=c11 -O2 -Wall -Wextra rseq_reserve.c -o rseq_reserve
 * Run:   ./rseq_reserve [reps=3] [bursts=2000]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define NSLOTS 32768u /* 1 MiB of 32-byte slots */
#define MASK (NSLOTS - 1)
#define K 2 /* header slot + 16-byte payload */
#define BURST 20
enum { ST_RESERVED = 1, ST_COMMITTED = 2, ST_PAD = 3 }; /* stamp bits 1..0 */
enum { OK, FULL, ABORTED, MOVED, STOLEN };               /* put / cs results */

struct ring {
    alignas(64) _Atomic uint64_t head;
    alignas(64) _Atomic uint64_t tail;
    alignas(64) _Atomic uint64_t written; /* C/D: only touched inside rseq on its CPU */
    _Atomic uint64_t written_remote;      /* ...so off-CPU increments need their own word */
    alignas(64) _Atomic uint64_t seq[NSLOTS];
    _Atomic uint64_t data[NSLOTS * 4];
};

static struct ring *rings[64];
static unsigned nrings;
alignas(64) static _Atomic uint64_t g_index;    /* the global entry index */
alignas(64) static _Atomic uint64_t floor_ctr;  /* variant A's counter */
alignas(64) static _Atomic uint64_t n_aborts, n_moved; /* slow paths only */
static volatile uint64_t sink;
static double tsc_ns;

/* Stamp as in src/layout.h: pos (50 bits) << 14 | owner << 2 | state.  The
 * shift by 14 drops the high bits, which is the & RL_POS_MASK. */
#define STAMP(pos, owner, st) ((uint64_t)(pos) << 14 | (uint64_t)(owner) << 2 | (st))
#define ENTRY_SLOTS(len) (1 + ((len) + 31) / 32)
/* glibc >= 2.35 registered this thread's struct rseq at tp + __rseq_offset. */
#define RSEQ_AREA() ((struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset))

/*
 * The critical-section frame shared by both sequences.  The descriptor goes
 * to section __rseq_cs (writable: it holds absolute addresses, relocated at
 * load time in a PIE).  Arming = storing its address to rseq->rseq_cs; from
 * then on, if the kernel preempts, migrates or signals us while the IP is in
 * [1f, 2f) it clears rseq_cs and resumes at 4f.  The cpu compare is the first
 * instruction inside the range, so a migration after it is caught; the last
 * instruction of the range is the single commit store.  The abort handler
 * lives out of line (no taken jump on the fast path) and is preceded by the
 * 4 signature bytes glibc registered, encoded as the tail of
 * "ud1 0x53053053(%rip),%edi" so disassemblers stay in sync and falling into
 * it traps.  Registers at 4f are whatever they were when interrupted: the
 * handler only sets rc.  Numeric labels, so duplication by inlining is fine.
 */
#define CS_BEGIN                                                                                   \
    ".pushsection __rseq_cs, \"aw\"\n\t.balign 32\n"                                               \
    "3:\n\t.long 0, 0\n\t.quad 1f, 2f - 1f, 4f\n\t" /* version, flags, start, length, abort */     \
    ".popsection\n\t"                                                                              \
    "xorl %k[rc], %k[rc]\n\tleaq 3b(%%rip), %[t]\n\tmovq %[t], %c[o_cs](%[rs])\n" /* arm */        \
    "1:\n\tcmpl %[cpu], %c[o_cpu](%[rs])\n\tjne 5f\n\t"
#define CS_END                                                                                     \
    "2:\n\t.pushsection __rseq_failure, \"ax\"\n\t"                                                \
    ".byte 0x0f, 0xb9, 0x3d\n\t.long %c[sig]\n" /* ud1 sig(%rip), %edi */                          \
    "4:\n\tmovl %[e_abort], %k[rc]\n\tjmp 7f\n"                                                    \
    "5:\n\tmovl %[e_moved], %k[rc]\n\tjmp 7f\n"                                                    \
    "6:\n\tmovl %[e_full], %k[rc]\n\tjmp 7f\n\t"                                                   \
    ".popsection\n7:\n"
#define CS_CONSTS                                                                                  \
    [o_cs] "i"(offsetof(struct rseq, rseq_cs)), [o_cpu] "i"(offsetof(struct rseq, cpu_id)),        \
        [sig] "i"(RSEQ_SIG), [e_abort] "i"(ABORTED), [e_moved] "i"(MOVED), [e_full] "i"(FULL)

/*
 * On `cpu`'s ring: if k slots fit before the ring end, reserve them and
 * store the RESERVED stamp; otherwise reserve the rest of the ring as a PAD
 * (the caller sees *need != k and goes again).  The stamp store is not
 * undone on abort: harmless, since it only touches a slot at >= head that
 * the space check already released, and readers never look at >= head.
 */
static inline int cs_reserve(struct rseq *rs, struct ring *r, uint32_t cpu, uint64_t k,
                             uint64_t ob, uint64_t *pos, uint64_t *need)
{
    uint64_t h, off, n, st, t;
    int rc;
    __asm__ __volatile__(CS_BEGIN
                         "movq %c[o_head](%[r]), %[h]\n\t"
                         "movq %[h], %[off]\n\tandq %[mask], %[off]\n\t" /* off = h & MASK */
                         "movq %[nslots], %[n]\n\tsubq %[off], %[n]\n\t" /* n = room to end */
                         "leaq 2(%[ob]), %[st]\n\t"                      /* st = owner|PAD */
                         "cmpq %[k], %[n]\n\t"
                         "cmovae %[k], %[n]\n\t"   /* fits: n = k, */
                         "cmovae %[ob], %[st]\n\t" /* st = owner|RESERVED */
                         "movq %[h], %[t]\n\taddq %[n], %[t]\n\t"
                         "subq %c[o_tail](%[r]), %[t]\n\t"
                         "cmpq %[nslots], %[t]\n\tja 6f\n\t" /* h + n - tail > N: full */
                         "movq %[h], %[t]\n\tshlq $14, %[t]\n\torq %[st], %[t]\n\t"
                         "movq %[t], %c[o_seq](%[r], %[off], 8)\n\t" /* seq[off] = stamp */
                         "leaq (%[h], %[n]), %[t]\n\t"
                         "movq %[t], %c[o_head](%[r])\n" /* commit: head = h + n */
                         CS_END
                         : [rc] "=&r"(rc), [h] "=&r"(h), [off] "=&r"(off), [n] "=&r"(n),
                           [st] "=&r"(st), [t] "=&r"(t)
                         : [rs] "r"(rs), [r] "r"(r), [cpu] "r"(cpu), [k] "r"(k), [ob] "r"(ob),
                           [mask] "i"(MASK), [nslots] "i"(NSLOTS),
                           [o_head] "i"(offsetof(struct ring, head)),
                           [o_tail] "i"(offsetof(struct ring, tail)),
                           [o_seq] "i"(offsetof(struct ring, seq)), CS_CONSTS
                         : "memory", "cc");
    *pos = h;
    *need = n;
    return rc;
}

/* *w += 1 on `cpu` without a lock prefix: load, add, commit store. */
static inline int cs_inc(struct rseq *rs, uint32_t cpu, _Atomic uint64_t *w)
{
    uint64_t t;
    int rc;
    __asm__ __volatile__(CS_BEGIN
                         "movq (%[w]), %[t]\n\taddq $1, %[t]\n\t"
                         "movq %[t], (%[w])\n" /* commit */
                         CS_END
                         : [rc] "=&r"(rc), [t] "=&r"(t)
                         : [rs] "r"(rs), [cpu] "r"(cpu), [w] "r"(w), CS_CONSTS
                         : "memory", "cc");
    return rc;
}

/* Index, timestamp, header and 16 payload bytes: the same for B, C and D. */
static inline void write_entry(struct ring *r, uint64_t pos, uint32_t owner, uint64_t k,
                               uint64_t p)
{
    uint64_t index = atomic_fetch_add_explicit(&g_index, 1, memory_order_release);
    uint64_t ts = __rdtsc();
    atomic_thread_fence(memory_order_release);
    _Atomic uint64_t *e = &r->data[(pos & MASK) * 4];
    atomic_store_explicit(&e[0], index, memory_order_relaxed);
    atomic_store_explicit(&e[1], ts, memory_order_relaxed);
    atomic_store_explicit(&e[2], 16 + (k - 2) * 32, memory_order_relaxed); /* length */
    atomic_store_explicit(&e[3], (uint64_t)owner << 48 | 7, memory_order_relaxed);
    atomic_store_explicit(&e[4], p, memory_order_relaxed);
    atomic_store_explicit(&e[5], ~p, memory_order_relaxed);
}

/* B: today's protocol, as in src/produce.c reserve() + rl_put().  All puts
 * are out of line, as rl_put() is behind ringlog_write(). */
__attribute__((noinline)) static int put_cas(uint32_t owner, uint64_t k, uint64_t p)
{
    int c = sched_getcpu(); /* what rl_plat_cpu() does */
    struct ring *r = rings[(unsigned)c < nrings ? (unsigned)c : 0];
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        uint64_t off = head & MASK, room = NSLOTS - off, need = k <= room ? k : room;
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head + need - tail > NSLOTS)
            return FULL;
        uint64_t expect = atomic_load_explicit(&r->seq[off], memory_order_relaxed);
        if (!atomic_compare_exchange_weak_explicit(&r->head, &head, head + need,
                                                   memory_order_relaxed, memory_order_relaxed))
            continue;
        int ok = atomic_compare_exchange_strong_explicit(
            &r->seq[off], &expect, STAMP(head, owner, need == k ? ST_RESERVED : ST_PAD),
            memory_order_release, memory_order_relaxed);
        if (need == k && !ok)
            return STOLEN;
        if (need == k)
            break;
        head += need; /* placed a pad up to the ring end */
    }
    write_entry(r, head, owner, k, p);
    uint64_t res = STAMP(head, owner, ST_RESERVED);
    int ok = atomic_compare_exchange_strong_explicit(&r->seq[head & MASK], &res,
                                                     STAMP(head, owner, ST_COMMITTED),
                                                     memory_order_release, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->written, 1, memory_order_relaxed);
    return ok ? OK : STOLEN;
}

/* C (cas_commit = 0) and D (cas_commit = 1). */
__attribute__((noinline)) static int put_rseq(int cas_commit, uint32_t owner, uint64_t k,
                                              uint64_t p)
{
    struct rseq *rs = RSEQ_AREA();
    struct ring *r;
    uint64_t pos, need, cpu;
    for (;;) {
        cpu = *(volatile uint32_t *)&rs->cpu_id; /* a plain load: what sched_getcpu() reads */
        if (cpu >= nrings)
            return FULL; /* -1/-2: not registered; or a CPU we have no ring for */
        r = rings[cpu];
        int rc = cs_reserve(rs, r, (uint32_t)cpu, k, (uint64_t)owner << 2 | ST_RESERVED, &pos,
                            &need);
        if (rc == OK && need == k)
            break;
        if (rc == OK)
            continue; /* placed a pad up to the ring end */
        if (rc == FULL)
            return FULL;
        atomic_fetch_add_explicit(rc == ABORTED ? &n_aborts : &n_moved, 1, memory_order_relaxed);
    }
    write_entry(r, pos, owner, k, p);
    _Atomic uint64_t *s = &r->seq[pos & MASK];
    uint64_t res = STAMP(pos, owner, ST_RESERVED), com = STAMP(pos, owner, ST_COMMITTED);
    int ret = OK;
    if (!cas_commit)
        atomic_store_explicit(s, com, memory_order_release); /* plain mov on x86 */
    else if (!atomic_compare_exchange_strong_explicit(s, &res, com, memory_order_release,
                                                      memory_order_relaxed))
        ret = STOLEN;
    /* written++, on the ring's CPU */
    for (int rc; (rc = cs_inc(rs, (uint32_t)cpu, &r->written)) != OK;) {
        atomic_fetch_add_explicit(rc == ABORTED ? &n_aborts : &n_moved, 1, memory_order_relaxed);
        if (rc == MOVED) { /* we left that CPU: a locked add, on a word rseq never writes */
            atomic_fetch_add_explicit(&r->written_remote, 1, memory_order_relaxed);
            break;
        }
    }
    return ret;
}

/* ---- checking: a consumer that validates what it releases ---- */
struct check {
    uint8_t *seen; /* per global index, relative to base */
    uint64_t base, nseen, entries, pads, bad, heads0, written0;
};

static void totals(uint64_t *heads, uint64_t *written)
{
    *heads = *written = 0;
    for (unsigned i = 0; i < nrings; i++) {
        *heads += atomic_load(&rings[i]->head);
        *written += atomic_load(&rings[i]->written) + atomic_load(&rings[i]->written_remote);
    }
}

static void check_begin(struct check *c, uint64_t maxcalls)
{
    *c = (struct check){.seen = calloc(maxcalls, 1), .nseen = maxcalls, .base = g_index};
    totals(&c->heads0, &c->written0);
}

/* Walk [tail, head): each position must hold a stamp for itself, COMMITTED
 * (by `owner` if nonzero) or PAD; each index must appear once; then release
 * the space.  Stops at the first bad slot. */
static void drain(struct ring *r, struct check *c, uint32_t owner)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    while (t < h) {
        uint64_t off = t & MASK, s = atomic_load_explicit(&r->seq[off], memory_order_acquire);
        if ((s >> 14) != (t << 14 >> 14) && ++c->bad) /* not a stamp for position t */
            break;
        if ((s & 3) == ST_PAD) {
            c->pads += NSLOTS - off;
            t += NSLOTS - off;
            continue;
        }
        _Atomic uint64_t *e = &r->data[off * 4];
        uint64_t idx = atomic_load(&e[0]) - c->base, k = ENTRY_SLOTS(atomic_load(&e[2]));
        if ((s & 3) != ST_COMMITTED || (owner && ((s >> 2) & 0xfff) != owner) ||
            idx >= c->nseen || c->seen[idx]++ || atomic_load(&e[5]) != ~atomic_load(&e[4]) ||
            off + k > NSLOTS) {
            c->bad++;
            break;
        }
        c->entries++;
        t += k;
    }
    atomic_store_explicit(&r->tail, h, memory_order_release);
}

/* Heads moved by exactly calls*k + pads, every call is one committed entry
 * with a distinct index, and written counted every call. */
static int check_end(const char *what, struct check *c, uint64_t calls, uint64_t slots)
{
    uint64_t heads, written, distinct = 0;
    totals(&heads, &written);
    for (uint64_t i = 0; i < c->nseen; i++)
        distinct += c->seen[i] != 0;
    int ok = !c->bad && c->entries == calls && distinct == calls &&
             heads - c->heads0 == slots + c->pads && written - c->written0 == calls;
    printf("check %-32s %s: %lu calls, heads +%lu (%lu + %lu pad), %lu committed, %lu distinct "
           "indices, written +%lu, bad %lu\n", what, ok ? "PASS" : "FAIL", calls,
           heads - c->heads0, slots, c->pads, c->entries, distinct, written - c->written0, c->bad);
    free(c->seen);
    return ok;
}

/* ---- timing ---- */
enum { V_FLOOR, V_CAS, V_RSEQ, V_RSEQ_CAS, NV };
static const char *vname[NV] = {"A floor: rdtsc + lock xadd", "B today: CAS x3 + xadd x2",
                                "C rseq, plain commit", "D rseq, CAS commit"};

static inline void call(int v, uint64_t i)
{
    switch (v) {
    case V_FLOOR: sink = __rdtsc(), atomic_fetch_add(&floor_ctr, 1); break;
    case V_CAS: put_cas(V_CAS, K, i); break;
    case V_RSEQ: put_rseq(0, V_RSEQ, K, i); break;
    case V_RSEQ_CAS: put_rseq(1, V_RSEQ_CAS, K, i); break;
    }
}

static int cmp_d(const void *a, const void *b)
{
    return (*(const double *)a > *(const double *)b) - (*(const double *)a < *(const double *)b);
}

/*
 * One repetition: `bursts` rounds, each timing one burst of every variant,
 * each burst after its own ~1 ms pause.  Interleaving makes slow drift on
 * this shared VM hit all variants alike.  B/C/D log as owner = variant, and
 * an untimed consumer drains and checks the rings after each burst.
 */
static int run(int nv, int bursts, double *p50, double *p99)
{
    double *bm = malloc(sizeof(double) * (size_t)(bursts * nv));
    uint64_t calls = (uint64_t)bursts * BURST * (uint64_t)(nv - 1);
    struct check c;
    check_begin(&c, calls);
    for (int b = 0; b < bursts; b++)
        for (int v = 0; v < nv; v++) {
            nanosleep(&(struct timespec){0, 1000000}, NULL);
            unsigned aux; /* lfence; rdtsc ... rdtscp; lfence: nothing leaks in or out */
            _mm_lfence();
            uint64_t t0 = __rdtsc();
            for (uint64_t i = 0; i < BURST; i++)
                call(v, (uint64_t)b * BURST + i);
            uint64_t t1 = __rdtscp(&aux);
            _mm_lfence();
            bm[v * bursts + b] = (double)(t1 - t0) * tsc_ns / BURST;
            for (unsigned r = 0; v != V_FLOOR && r < nrings; r++)
                drain(rings[r], &c, (uint32_t)v);
        }
    for (int v = 0; v < nv; v++) {
        double *x = bm + v * bursts;
        qsort(x, (size_t)bursts, sizeof *x, cmp_d);
        p50[v] = x[(size_t)(0.50 * (bursts - 1))], p99[v] = x[(size_t)(0.99 * (bursts - 1))];
        printf("%s  %c %.1f/%.1f", v ? "" : "this run, p50/p99 ns:", *vname[v], p50[v], p99[v]);
    }
    free(bm);
    printf("\n");
    return check_end(nv > 3 ? "timed B, C, D (owner = variant)" : "timed B", &c, calls, calls * K);
}

static void pin(pthread_t t, unsigned cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(t, sizeof set, &set);
}

/* ---- 2 threads pinned to CPUs 0 and 1, each logging to its CPU's ring via
 * rseq cpu_id: ring r must hold exactly thread r's entries (owner 10 + r). */
#define PER_THREAD 6000 /* 12000 slots: fits a ring without draining */
static pthread_barrier_t bar;
static void *worker(void *arg)
{
    unsigned cpu = (unsigned)(uintptr_t)arg;
    pin(pthread_self(), cpu);
    pthread_barrier_wait(&bar);
    for (uint64_t i = 0; i < PER_THREAD; i++)
        while (put_rseq(0, 10 + cpu, K, i) != OK) /* FULL cannot happen here */
            ;
    return NULL;
}

static int test_threads(void)
{
    struct check c;
    pthread_t th[2];
    check_begin(&c, 2 * PER_THREAD);
    pthread_barrier_init(&bar, NULL, 2);
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (unsigned r = 0; r < 2; r++)
        drain(rings[r], &c, 10 + r);
    return check_end("2 threads pinned, own rings", &c, 2 * PER_THREAD, 2 * PER_THREAD * K);
}

/* ---- signal nesting: one thread logs k = 3 entries (so pads get placed at
 * the ring end) while SIGALRM every 20 us logs k = 2 entries from its
 * handler on the same ring.  A signal delivered inside a critical section
 * must abort it; the handler's own critical sections run in between. */
static volatile uint64_t sig_calls;
static void on_alarm(int sig)
{
    (void)sig;
    if (put_rseq(0, 2, K, sig_calls) == OK)
        sig_calls++;
}

static int test_signal(void)
{
    enum { MAIN_CALLS = 2000000 };
    struct check c;
    uint64_t done = 0, ab0 = n_aborts;
    check_begin(&c, 2 * MAIN_CALLS);
    sigaction(SIGALRM, &(struct sigaction){.sa_handler = on_alarm, .sa_flags = SA_RESTART}, NULL);
    struct itimerval it = {{0, 20}, {0, 20}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (uint64_t i = 0; i < MAIN_CALLS; i++) {
        done += put_rseq(0, 1, 3, i) == OK;
        if (i % 256 == 255)
            drain(rings[0], &c, 0);
    }
    setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 0}}, NULL);
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGALRM);
    sigprocmask(SIG_BLOCK, &ss, NULL); /* no late handler after the final drain */
    for (unsigned r = 0; r < nrings; r++)
        drain(rings[r], &c, 0);
    printf("signal test: %lu handler entries, %lu aborted critical sections\n", sig_calls,
           n_aborts - ab0);
    return check_end("SIGALRM handler logging too", &c, done + sig_calls,
                     done * 3 + sig_calls * K) && done == MAIN_CALLS;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 3, bursts = argc > 2 ? atoi(argv[2]) : 2000, ok = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    nrings = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (unsigned)ncpu;
    for (unsigned i = 0; i < nrings; i++)
        if (!(rings[i] = aligned_alloc(64, sizeof(struct ring))) ||
            !memset(rings[i], 0, sizeof(struct ring)))
            return 1;
    /* glibc sets cpu_id to -1/-2 (uninitialised / failed) when not registered */
    int have_rseq = __rseq_size > 0 && (int32_t)RSEQ_AREA()->cpu_id >= 0;
    if (!have_rseq)
        printf("rseq NOT registered (__rseq_size %u: kernel without rseq, or "
               "GLIBC_TUNABLES=glibc.pthread.rseq=0): running A and B only\n", __rseq_size);
    else
        printf("rseq: glibc registered %u bytes at tp%+td, signature 0x%x\n", __rseq_size,
               __rseq_offset, RSEQ_SIG);

    pin(pthread_self(), 0);
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* 1 ms pauses, not 1.05: 3 reps in < 30 s */
    struct timespec a, b; /* TSC ticks -> ns, over 50 ms */
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t t0 = __rdtsc();
    nanosleep(&(struct timespec){0, 50000000}, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    tsc_ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
             (double)(__rdtsc() - t0);

    double p50[16][NV], p99[16][NV], floor50 = 0;
    reps = reps < 1 ? 1 : reps > 16 ? 16 : reps;
    int nv = have_rseq ? NV : V_RSEQ;
    for (int rep = 0; rep < reps; rep++)
        ok &= run(nv, bursts, p50[rep], p99[rep]);
    printf("timed runs: %lu aborts, %lu cpu mismatches\n\n"
           "%d bursts of %d calls, 1 ms apart, CPU 0; ns per call (burst mean); median of %d "
           "runs\n| variant | p50 | p99 | p50 / floor |\n|---|---:|---:|---:|\n",
           n_aborts, n_moved, bursts, BURST, reps);
    for (int v = 0; v < nv; v++) { /* medians over the repetitions */
        double x[16], y[16];
        for (int rep = 0; rep < reps; rep++)
            x[rep] = p50[rep][v], y[rep] = p99[rep][v];
        qsort(x, (size_t)reps, sizeof(double), cmp_d);
        qsort(y, (size_t)reps, sizeof(double), cmp_d);
        floor50 = v == V_FLOOR ? x[reps / 2] : floor50;
        printf("| %s | %.1f | %.1f | %.2f |\n", vname[v], x[reps / 2], y[reps / 2],
               x[reps / 2] / floor50);
    }
    if (have_rseq && nrings >= 2)
        ok &= test_threads();
    if (have_rseq)
        ok &= test_signal();
    printf("%s\n", ok ? "ALL CHECKS PASSED" : "SOME CHECK FAILED");
    return ok ? 0 : 1;
}
