/* LTTng-UST tracepoint provider for `make bench`: the three messages of the
 * workload as tracepoints (fields are recorded raw; babeltrace2 formats). */
#undef TRACEPOINT_PROVIDER
#define TRACEPOINT_PROVIDER ringlog_bench

#undef TRACEPOINT_INCLUDE
#define TRACEPOINT_INCLUDE "./lttng_tp.h"

#if !defined(RINGLOG_BENCH_LTTNG_TP_H) || defined(TRACEPOINT_HEADER_MULTI_READ)
#define RINGLOG_BENCH_LTTNG_TP_H

#include <lttng/tracepoint.h>

TRACEPOINT_EVENT(ringlog_bench, static_msg, TP_ARGS(), TP_FIELDS())
TRACEPOINT_EVENT(ringlog_bench, ints, TP_ARGS(int, x, int, y, double, z),
                 TP_FIELDS(ctf_integer(int, x, x) ctf_integer(int, y, y) ctf_float(double, z, z)))
TRACEPOINT_EVENT(ringlog_bench, str, TP_ARGS(int, id, const char *, name),
                 TP_FIELDS(ctf_integer(int, id, id) ctf_string(name, name)))

#endif

#include <lttng/tracepoint-event.h>
