// The deferred-logging macros from C++11: argument types come from
// templates instead of _Generic.  Built and run by tests/run.sh.
#include "ringlog.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

enum class Side : unsigned char { Buy = 1, Sell = 2 };
enum Plain { A = 7 };
struct Order {
    int id;
};

static ringlog_reader *rd;
static int failures;
static std::string got;

static int grab(void *, const struct ringlog_entry *e)
{
    char buf[1024];
    size_t n = ringlog_entry_text(rd, e, buf, sizeof buf);
    got.assign(buf, n < sizeof buf ? n : sizeof buf - 1);
    return 1;
}

static void expect(const char *want, int line)
{
    got.clear();
    struct ringlog_handler h = {grab, nullptr, nullptr};
    ringlog_read(rd, &h, 100);
    if (got != want) {
        std::fprintf(stderr, "cxx_deferred.cc:%d: got \"%s\", want \"%s\"\n", line, got.c_str(), want);
        failures++;
    }
}

int main()
{
    char name[64];
    std::snprintf(name, sizeof name, "ringlog-test-cxx-%d", (int)getpid());
    ringlog_unlink(name);
    ringlog *log = nullptr;
    ringlog_options o = {};
    o.nrings = 1;
    if (ringlog_open(name, &o, &log) != 0 || ringlog_reader_open(name, 0, &rd) != 0) {
        std::fprintf(stderr, "open: %s\n", ringlog_errmsg());
        return 1;
    }
    std::string who = "alice";
    Order ord = {5};
    const char arr[] = "array";
    RINGLOG_INFO(log, "order %d by %s at %.2f", ord.id, who.c_str(), 101.255);
    expect("order 5 by alice at 101.25", __LINE__);
    RINGLOG_WARN(log, "side %d plain %d flag %d", (int)Side::Sell, A, true);
    expect("side 2 plain 7 flag 1", __LINE__);
    RINGLOG_ERROR(log, "%s %Lf %llu %hu", arr, (long double)0.5, 18446744073709551615ull,
                  (unsigned short)65535);
    expect("array 0.500000 18446744073709551615 65535", __LINE__);
    RINGLOG_DEBUG(log, "no arguments");
    expect("no arguments", __LINE__);
    RINGLOG_INFO(log, "%p", (void *)nullptr);
    expect("(nil)", __LINE__);
    unsigned char bytes[3] = {0xde, 0xad, 0x01};
    RINGLOG_INFO(log, "%.*s", RINGLOG_BYTES(bytes, 3));
    expect("dead01", __LINE__);
    for (int i = 0; i < 3; i++)
        RINGLOG_INFO_EVERY(2, log, "every %d", i);
    expect("every 0", __LINE__);
    expect("every 2 [ringlog: 1 similar calls suppressed]", __LINE__);
    RINGLOG_WARN_LIMIT(100, log, "limited %d", 7);
    expect("limited 7", __LINE__);
    ringlog_set_default(log);
    RINGLOG_DEFAULT_CRITICAL("default %c", 'x');
    expect("default x", __LINE__);
    ringlog_set_default(nullptr);
    ringlog_reader_close(rd);
    ringlog_close(log);
    ringlog_unlink(name);
    if (failures) {
        std::fprintf(stderr, "cxx_deferred: %d failed\n", failures);
        return 1;
    }
    std::printf("cxx_deferred: all passed\n");
    return 0;
}
