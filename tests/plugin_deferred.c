/* Loaded by test_deferred with dlopen: its call sites live in a shared
 * object that the region's creator never saw.  Built with -fPIC -shared;
 * ringlog's symbols come from the test executable (-rdynamic). */
#include "ringlog.h"

__attribute__((visibility("default"))) int plugin_log(ringlog *log, int round);
int plugin_log(ringlog *log, int round)
{
    RINGLOG_NOTICE(log, "plugin round %d: %s %.3f", round, "loaded", round * 0.5);
    RINGLOG_DEBUG(log, "plugin second site %u", (unsigned)round);
    return 2;
}
