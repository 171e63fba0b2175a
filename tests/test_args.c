/*
 * ringlog_entry_args: the typed arguments of deferred entries, as the call
 * site recorded them (what `ringlog export --ctf` writes as fields), and
 * its refusals: other entry types, unknown sites, payloads that do not
 * match the site's types, a NULL output with room asked for.
 */
#include "check.h"
#include "ringlog.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <wchar.h>

#define NMAX 8

struct seen {
    int n;                   /* entries met */
    int rc[NMAX];            /* ringlog_entry_args of each */
    struct ringlog_arg a[NMAX][RINGLOG_MAX_ARGS];
    char str[NMAX][RINGLOG_MAX_ARGS][RINGLOG_STRING_MAX + 1]; /* strings copied out */
    int small_rc;            /* with max = 1, on the first entry */
    int null_rc;             /* out NULL, max > 0 */
    ringlog_reader *r;
};

static int on_entry(void *arg, const struct ringlog_entry *e)
{
    struct seen *s = arg;
    if (s->n >= NMAX)
        return 1;
    int k = s->n++;
    s->rc[k] = ringlog_entry_args(s->r, e, s->a[k], RINGLOG_MAX_ARGS);
    for (int i = 0; i < s->rc[k] && i < RINGLOG_MAX_ARGS; i++)
        if (s->a[k][i].str) {
            size_t n = s->a[k][i].len <= RINGLOG_STRING_MAX ? s->a[k][i].len : 0;
            memcpy(s->str[k][i], s->a[k][i].str, n);
            s->str[k][i][n] = 0;
        }
    if (k == 0) {
        struct ringlog_arg one[1];
        s->small_rc = ringlog_entry_args(s->r, e, one, 1);
        s->null_rc = ringlog_entry_args(s->r, e, NULL, 4);
    }
    return 0;
}

int main(void)
{
    const char *name = test_region_name("args");
    ringlog_unlink(name);
    struct ringlog_options o = {.ring_size = 64 * 1024, .nrings = 2};
    ringlog *log;
    CHECK_EQ(ringlog_open(name, &o, &log), 0);

    /* 0: integers of each width and sign, a double, strings. */
    RINGLOG_INFO(log, "i=%d u=%u I=%lld U=%llu f=%g s=%s", -7, 4000000000u, (long long)INT64_MIN,
                 (unsigned long long)UINT64_MAX, 2.5, "héllo");
    /* 1: NULL string, bytes, long double, pointer, a wide string. */
    unsigned char raw[3] = {1, 2, 0xff};
    const char *nul = getenv("RINGLOG_TEST_UNSET_"); /* NULL the compiler cannot see */
    RINGLOG_WARN(log, "%s %.*s %Lg %p %ls", nul, RINGLOG_BYTES(raw, 3), 1.5L,
                 (void *)0x1234, L"w\u00e9");
    /* 2: %m records errno after the arguments. */
    errno = ENOENT;
    RINGLOG_ERROR(log, "open: %m (%d)", 3);
    /* 3: a string longer than a string argument keeps: cut. */
    char big[RINGLOG_STRING_MAX + 100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    RINGLOG_INFO(log, "%s", big);
    /* 4: not deferred. */
    ringlog_printf(log, RINGLOG_LEVEL_INFO, "plain %d", 1);

    ringlog_reader *r;
    CHECK_EQ(ringlog_reader_open(name, RINGLOG_READER_PEEK, &r), 0);
    static struct seen s;
    s.r = r;
    struct ringlog_handler h = {on_entry, NULL, &s};
    CHECK_EQ(ringlog_read(r, &h, 0), 5);
    CHECK_EQ(s.n, 5);

    CHECK_EQ(s.rc[0], 6);
    CHECK_EQ(s.small_rc, 6); /* the count, whatever max */
    CHECK_EQ(s.null_rc, RINGLOG_EINVAL);
    struct ringlog_arg *a = s.a[0];
    CHECK_EQ(a[0].type, RINGLOG_ARG_I32);
    CHECK(a[0].i == -7);
    CHECK_EQ(a[1].type, RINGLOG_ARG_U32);
    CHECK(a[1].u == 4000000000u);
    CHECK_EQ(a[2].type, RINGLOG_ARG_I64);
    CHECK(a[2].i == INT64_MIN);
    CHECK_EQ(a[3].type, RINGLOG_ARG_U64);
    CHECK(a[3].u == UINT64_MAX);
    CHECK_EQ(a[4].type, RINGLOG_ARG_F64);
    CHECK(a[4].f == 2.5);
    CHECK_EQ(a[5].type, RINGLOG_ARG_STR);
    CHECK_EQ(a[5].len, strlen("héllo"));
    CHECK(strcmp(s.str[0][5], "héllo") == 0);
    CHECK_EQ(a[5].flags, 0);

    a = s.a[1];
    CHECK_EQ(s.rc[1], 6); /* string, BLEN + bytes, long double, pointer, wide string */
    CHECK_EQ(a[0].type, RINGLOG_ARG_STR);
    CHECK_EQ(a[0].flags, RINGLOG_ARGF_NULL);
    CHECK(a[0].str == NULL && a[0].len == 0);
    CHECK_EQ(a[1].type, RINGLOG_ARG_BLEN);
    CHECK(a[1].i == 3);
    CHECK_EQ(a[2].type, RINGLOG_ARG_BYTES);
    CHECK_EQ(a[2].len, 3);
    CHECK(memcmp(s.str[1][2], raw, 3) == 0);
    CHECK_EQ(a[3].type, RINGLOG_ARG_LDBL);
    CHECK(a[3].f == 1.5);
    CHECK_EQ(a[4].type, RINGLOG_ARG_PTR);
    CHECK(a[4].u == 0x1234);
    CHECK_EQ(a[5].type, RINGLOG_ARG_STR); /* wide strings are captured as UTF-8 */
    CHECK(strcmp(s.str[1][5], "w\xc3\xa9") == 0);

    a = s.a[2];
    CHECK_EQ(s.rc[2], 2);
    CHECK_EQ(a[0].type, RINGLOG_ARG_I32);
    CHECK(a[0].i == 3);
    CHECK_EQ(a[1].type, RINGLOG_ARG_ERRNO);
    CHECK(a[1].i == ENOENT);

    a = s.a[3];
    CHECK_EQ(s.rc[3], 1);
    CHECK_EQ(a[0].flags, RINGLOG_ARGF_CUT);
    CHECK_EQ(a[0].len, RINGLOG_STRING_MAX);

    CHECK_EQ(s.rc[4], RINGLOG_ENOENT);

    /* Untrusted payloads: a forged entry naming site 0's id whose bytes do
     * not match its types (too short, too long, a string length past the
     * end), and one naming a site that does not exist. */
    struct ringlog_site_info si;
    struct ringlog_entry e;
    memset(&e, 0, sizeof e);
    e.type = RINGLOG_TYPE_DEFERRED;
    unsigned ids[1] = {0};
    /* Site ids are the dictionary's offsets: look for entry 0's site. */
    for (uint32_t id = 1; id < 100000 && !ids[0]; id++) {
        e.remarks = id;
        if (ringlog_entry_site(r, &e, &si) == 0 && si.nargs == 6 &&
            strncmp(si.format, "i=%d", 4) == 0)
            ids[0] = id;
    }
    CHECK(ids[0] != 0);
    e.remarks = ids[0];
    unsigned char pay[64];
    memset(pay, 0, sizeof pay);
    struct ringlog_arg out[RINGLOG_MAX_ARGS];
    e.data = pay;
    /* 4+4+8+8+8 bytes, then a string length of 0xff00 with no room. */
    e.length = 34;
    pay[32] = 0x00;
    pay[33] = 0x01; /* length 256 with no bytes after */
    CHECK_EQ(ringlog_entry_args(r, &e, out, RINGLOG_MAX_ARGS), RINGLOG_EFORMAT);
    e.length = 10;
    CHECK_EQ(ringlog_entry_args(r, &e, out, RINGLOG_MAX_ARGS), RINGLOG_EFORMAT);
    pay[32] = 2;
    pay[33] = 0;
    e.length = 36;
    CHECK_EQ(ringlog_entry_args(r, &e, out, RINGLOG_MAX_ARGS), 6);
    e.length = 37; /* one byte too many */
    CHECK_EQ(ringlog_entry_args(r, &e, out, RINGLOG_MAX_ARGS), RINGLOG_EFORMAT);
    e.data = NULL;
    CHECK_EQ(ringlog_entry_args(r, &e, out, RINGLOG_MAX_ARGS), RINGLOG_EINVAL);
    e.data = pay;
    e.remarks = 0x7fffffff;
    CHECK_EQ(ringlog_entry_args(r, &e, out, RINGLOG_MAX_ARGS), RINGLOG_ENOENT);
    CHECK_EQ(ringlog_entry_args(NULL, &e, out, 1), RINGLOG_EINVAL);
    CHECK_EQ(ringlog_entry_args(r, NULL, out, 1), RINGLOG_EINVAL);

    ringlog_reader_close(r);
    ringlog_close(log);
    ringlog_unlink(name);
    return check_report("test_args");
}
