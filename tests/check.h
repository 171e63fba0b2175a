/* Minimal test harness: CHECK records a failure and goes on; each test
 * program prints one line per failed check and exits non-zero if any. */
#ifndef RINGLOG_TEST_CHECK_H
#define RINGLOG_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        check_count++;                                                                   \
        if (!(cond)) {                                                                   \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                                \
    } while (0)

#define CHECK_EQ(a, b)                                                                   \
    do {                                                                                 \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
        check_count++;                                                                   \
        if (va_ != vb_) {                                                                \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%llu != %llu)\n", __FILE__, \
                    __LINE__, #a, #b, va_, vb_);                                         \
        }                                                                                \
    } while (0)

/* A region name unique to this test process. */
static inline const char *test_region_name(const char *tag)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "ringlog-test-%s-%d", tag, (int)getpid());
    return buf;
}

static inline int check_report(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d of %d checks failed\n", name, check_failures, check_count);
    else
        printf("%s: all %d checks passed\n", name, check_count);
    return check_failures ? 1 : 0;
}

#endif
