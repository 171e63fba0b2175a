/*
 * The crash handler: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT, log one
 * last entry (signal, fault address, instruction pointer, return addresses),
 * raise a trigger so a running recorder writes a snapshot, then let the
 * program die exactly as it would have: default action, same signal, core
 * dump unchanged.
 *
 * Only async-signal-safe work happens in the handler.  backtrace() is not
 * safe on its first call (it loads the unwinder), so it is called once at
 * install time; later calls only walk the stack.
 */
#include "internal.h"

#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NSIG_CRASH (sizeof crash_signals / sizeof crash_signals[0])

static ringlog *_Atomic crash_log;
static ringlog *_Atomic trigger_log;
static unsigned crash_flags;
static struct sigaction previous[NSIG_CRASH];

static void on_crash(int sig, siginfo_t *si, void *uc_);

static int is_ours(const struct sigaction *a)
{
    return (a->sa_flags & SA_SIGINFO) && a->sa_sigaction == on_crash;
}

/* The action the program had for `sig` before ours. */
static struct sigaction *previous_of(int sig)
{
    for (size_t i = 0; i < NSIG_CRASH; i++)
        if (crash_signals[i] == sig)
            return &previous[i];
    return NULL;
}

static void on_crash(int sig, siginfo_t *si, void *uc_)
{
    int saved_errno = errno;
    ringlog *log = atomic_load_explicit(&crash_log, memory_order_acquire);
    if (log) {
        struct ringlog_crash c;
        memset(&c, 0, sizeof c);
        c.signo = (uint32_t)sig;
        c.code = si ? (uint32_t)si->si_code : 0;
        c.pid = rl_plat_pid();
        c.addr = si ? (uint64_t)(uintptr_t)si->si_addr : 0;
#if defined(__x86_64__)
        const ucontext_t *uc = uc_;
        c.ip = uc ? (uint64_t)uc->uc_mcontext.gregs[REG_RIP] : 0;
#else
        (void)uc_;
#endif
        if (!(crash_flags & RINGLOG_CRASH_NO_BACKTRACE)) {
            void *frames[RINGLOG_CRASH_FRAMES + 2];
            int n = backtrace(frames, RINGLOG_CRASH_FRAMES + 2);
            /* Skip this handler and the signal trampoline. */
            for (int i = 2; i < n; i++)
                c.frames[c.nframes++] = (uint64_t)(uintptr_t)frames[i];
        }
        ringlog_write(log, RINGLOG_LEVEL_CRITICAL, RINGLOG_TYPE_CRASH, (uint32_t)sig, &c, sizeof c);
        static const char *const names[] = {[SIGSEGV] = "crash: SIGSEGV", [SIGBUS] = "crash: SIGBUS",
                                            [SIGFPE] = "crash: SIGFPE", [SIGILL] = "crash: SIGILL",
                                            [SIGABRT] = "crash: SIGABRT"};
        ringlog_trigger(log, sig < (int)(sizeof names / sizeof names[0]) && names[sig]
                                 ? names[sig]
                                 : "crash");
    }
    /* Then do what the program would have done without us: its own action
     * goes back in place (a re-fault goes straight to it), and a handler
     * of its own is called with the same arguments; it may recover and
     * return, and so do we. */
    struct sigaction *prev = previous_of(sig);
    struct sigaction dfl;
    if (!prev || is_ours(prev)) {
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        prev = &dfl;
    }
    sigaction(sig, prev, NULL);
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) {
            prev->sa_sigaction(sig, si, uc_);
            errno = saved_errno;
            return;
        }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        errno = saved_errno;
        return;
    }
    /* The default action: the signal again.  It stays blocked until this
     * handler returns; then the default action runs (a fault would have
     * re-executed anyway, and the kernel does not let a fault be ignored). */
    raise(sig);
    errno = saved_errno;
}

/* Puts back the program's actions where ours is still installed (one the
 * program installed after ours stays). */
static void restore_previous(void)
{
    for (size_t i = 0; i < NSIG_CRASH; i++) {
        struct sigaction cur;
        if (sigaction(crash_signals[i], NULL, &cur) == 0 && is_ours(&cur))
            sigaction(crash_signals[i], &previous[i], NULL);
    }
}

void rl_crash_forget(ringlog *log)
{
    ringlog *expect = log;
    if (atomic_compare_exchange_strong_explicit(&crash_log, &expect, NULL, memory_order_acq_rel,
                                                memory_order_relaxed))
        restore_previous();
    expect = log;
    /* The trigger signal's handler stays; without a log it does nothing. */
    atomic_compare_exchange_strong_explicit(&trigger_log, &expect, NULL, memory_order_acq_rel,
                                            memory_order_relaxed);
}

int ringlog_install_crash_handler(ringlog *log, unsigned flags)
{
    if (!log)
        return rl_fail(RINGLOG_EINVAL, "log is NULL");
    if (!(flags & RINGLOG_CRASH_NO_BACKTRACE)) {
        void *warm[4];
        backtrace(warm, 4); /* load the unwinder now, not in the handler */
    }
    crash_flags = flags;
    if (flags & RINGLOG_CRASH_ALTSTACK) {
        /* Stack overflows fault on the stack itself: handle on another.
         * Per thread: this covers the calling thread. */
        static void *alt;
        if (!alt)
            alt = malloc(1 << 16);
        stack_t ss = {.ss_sp = alt, .ss_size = 1 << 16, .ss_flags = 0};
        if (!alt || sigaltstack(&ss, NULL) != 0)
            return rl_fail(RINGLOG_EIO, "sigaltstack failed");
    }
    atomic_store_explicit(&crash_log, log, memory_order_release);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIG_CRASH; i++) {
        /* Installed again: keep what the program had before the first
         * time (saving ourselves would make the handler call itself). */
        struct sigaction cur;
        if (sigaction(crash_signals[i], NULL, &cur) == 0 && is_ours(&cur)) {
            if (sigaction(crash_signals[i], &sa, NULL) != 0)
                return rl_fail(RINGLOG_EIO, "sigaction(%d) failed", crash_signals[i]);
            continue;
        }
        if (sigaction(crash_signals[i], &sa, &previous[i]) != 0)
            return rl_fail(RINGLOG_EIO, "sigaction(%d) failed", crash_signals[i]);
    }
    return 0;
}

void ringlog_uninstall_crash_handler(void)
{
    if (!atomic_exchange_explicit(&crash_log, NULL, memory_order_acq_rel))
        return;
    restore_previous();
}

static void on_trigger_signal(int sig)
{
    ringlog *log = atomic_load_explicit(&trigger_log, memory_order_acquire);
    if (!log)
        return;
    int saved_errno = errno;
    char reason[16] = "signal ";
    int n = 7, v = sig, digits = v >= 10 ? 2 : 1;
    for (int i = digits - 1; i >= 0; i--, v /= 10)
        reason[n + i] = (char)('0' + v % 10);
    reason[n + digits] = 0;
    ringlog_trigger(log, reason);
    errno = saved_errno;
}

int ringlog_install_trigger_signal(ringlog *log, int signo)
{
    if (!log || signo <= 0 || signo >= 65 || signo == SIGKILL || signo == SIGSTOP)
        return rl_fail(RINGLOG_EINVAL, "bad log or signal %d", signo);
    atomic_store_explicit(&trigger_log, log, memory_order_release);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_trigger_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, NULL) != 0)
        return rl_fail(RINGLOG_EIO, "sigaction(%d) failed", signo);
    return 0;
}
