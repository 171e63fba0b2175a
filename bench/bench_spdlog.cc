// `make bench`, peer: spdlog's async logger writing to a file (Debian's
// libspdlog-dev, 1.10), through the same workload as ringlog
// (bench/harness.h).  Its background thread formats and writes.
#include "harness.h"

#include <atomic>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

static std::shared_ptr<spdlog::logger> sl;
static const char *path = "/tmp/ringlog-bench-spdlog.log";

static int sp_setup(int small, int overwrite)
{
    if (small && !overwrite) {
        std::printf("N\tspdlog-async\tfull_drop: spdlog 1.10 has no drop-newest policy "
                    "(block or overrun_oldest only)\n");
        return -1;
    }
    spdlog::drop_all();
    // The default queue (8192) for the latency runs; a small one, where the
    // oldest message is overwritten, for the full-buffer run.
    spdlog::init_thread_pool(small ? 1024 : 8192, 1, [] { bench_pin(1); });
    sl = spdlog::basic_logger_mt<spdlog::async_factory>("bench", path, true);
    if (small)
        sl = std::make_shared<spdlog::async_logger>(
            "bench-ow", sl->sinks().begin(), sl->sinks().end(), spdlog::thread_pool(),
            spdlog::async_overflow_policy::overrun_oldest);
    sl->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l %v");
    return 0;
}

static void sp_log(int msg, int i, int)
{
    switch (msg) {
    case MSG_STATIC: sl->info("static message, no argument"); break;
    case MSG_INTS: sl->info("x={} y={} z={:f}", i, i * 2, i * 0.5); break;
    default: sl->info("id={} name={}", i, bench_name20); break;
    }
}

// Done: the pool's thread has taken every message from the queue and the
// file sink has flushed what it wrote.
static void sp_drain()
{
    for (int spins = 0; spins < 200000 && spdlog::thread_pool()->queue_size() > 0; spins++) {
        struct timespec p = {0, 20000};
        nanosleep(&p, nullptr);
    }
    sl->flush();
    for (int spins = 0; spins < 200000 && spdlog::thread_pool()->queue_size() > 0; spins++) {
        struct timespec p = {0, 20000};
        nanosleep(&p, nullptr);
    }
}

static uint64_t sp_dropped()
{
    return spdlog::thread_pool()->overrun_counter();
}

static void sp_teardown()
{
    sp_drain();
    sl.reset();
    spdlog::shutdown();
    unlink(path);
}

int main(int argc, char **argv)
{
    static const struct bench_logger L = {
        "spdlog-async", sp_setup,    sp_log, sp_drain, sp_dropped, nullptr, sp_teardown,
        "the pool thread (other CPU) has dequeued every message and the file sink flushed", 0};
    static const struct bench_logger *const all[] = {&L, nullptr};
    return bench_main(argc, argv, all, 1);
}
