/* A producer that leaves its log behind: logs COUNT orders into region NAME
 * with the deferred macros and exits without reading.  Read them with
 * `ringlog dump NAME --where`.  Usage: build/examples/orders NAME [COUNT] */
#include <ringlog.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s NAME [COUNT]\n", argv[0]);
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 10;
    ringlog *log;
    if (ringlog_open(argv[1], NULL, &log) != 0) {
        fprintf(stderr, "orders: %s\n", ringlog_errmsg());
        return 1;
    }
    ringlog_set_default(log);
    for (int i = 0; i < count; i++) {
        RINGLOG_DEBUG(log, "pricing order %d", i);
        RINGLOG_INFO(log, "order %d filled: %u lots of %s at %.2f", i, 100u + (unsigned)i,
                     i % 2 ? "ACME" : "INIT", 10.0 + i * 0.25);
    }
    RINGLOG_DEFAULT_WARN("done after %d orders", count);
    ringlog_set_default(NULL);
    ringlog_close(log);
    return 0;
}
