/* Compile test (tests/run.sh): an argument type the deferred macros cannot
 * capture must fail to compile, never reach va_arg as a pointer.  Built once
 * as is (must compile: every kind of pointer is fine) and once with each
 * BAD_* macro (must fail, naming the reason). */
#include "ringlog.h"

struct pair { int a, b; };
struct opaque;

void bad_arg_case(ringlog *log, struct pair s, struct opaque *o, int arr[3], const char *str,
                  void (*fp)(void));
void bad_arg_case(ringlog *log, struct pair s, struct opaque *o, int arr[3], const char *str,
                  void (*fp)(void))
{
    char buf[8] = "abc";
    RINGLOG_INFO(log, "%p %p %s %s %p", (void *)o, (void *)arr, str, buf, (void *)NULL);
#if defined(BAD_STRUCT)
    RINGLOG_INFO(log, "%d", s);
#elif defined(BAD_INT128)
    __int128 q = 1;
    RINGLOG_INFO(log, "%d", q);
#elif defined(BAD_COMPLEX)
    _Complex double c = 1;
    RINGLOG_INFO(log, "%f", c);
#elif defined(BAD_MANY)
    RINGLOG_INFO(log, "%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6, 7,
                 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
#endif
    (void)s;
    (void)fp;
}
