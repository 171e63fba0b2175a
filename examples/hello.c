/* The smallest ringlog program: log a few entries, then read them back in
 * order.  Build: make; run: build/examples/hello */
#include <ringlog.h>
#include <stdio.h>

static int print_entry(void *arg, const struct ringlog_entry *e)
{
    ringlog_reader *r = arg;
    char text[256];
    /* Deferred entries are formatted here, in the reader, not when logged. */
    ringlog_entry_text(r, e, text, sizeof text);
    printf("#%llu cpu%u %s: %s\n", (unsigned long long)e->index, e->cpu,
           ringlog_level_name(e->level), text);
    return 0;
}

static int print_gap(void *arg, uint64_t first, uint64_t count)
{
    (void)arg;
    printf("-- %llu entries lost from #%llu --\n", (unsigned long long)count,
           (unsigned long long)first);
    return 0;
}

int main(void)
{
    ringlog *log;
    struct ringlog_options opts = {.ring_size = 64 * 1024}; /* zero fields: defaults */
    if (ringlog_open("hello-example", &opts, &log) != 0) {
        fprintf(stderr, "hello: %s\n", ringlog_errmsg());
        return 1;
    }
    for (int i = 0; i < 3; i++)
        RINGLOG_INFO(log, "order %d filled at %.2f by %s", i, 99.5 + i, "desk-7");
    ringlog_printf(log, RINGLOG_LEVEL_WARN, "formatted now: %d", 42);

    ringlog_reader *r;
    if (ringlog_reader_open("hello-example", RINGLOG_READER_CONSUME, &r) != 0) {
        fprintf(stderr, "hello: %s\n", ringlog_errmsg());
        return 1;
    }
    struct ringlog_handler h = {print_entry, print_gap, r};
    while (ringlog_read(r, &h, 50) > 0) {
    }
    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink("hello-example");
    return 0;
}
