/*
 * Deferred logging: the macros users write.  Included by ringlog.h.
 *
 *     RINGLOG_INFO(log, "order %d filled at %.2f", id, price);
 *
 * Each call site is described once, in a static struct ringlog_site built
 * at compile time (format, level, file, line, function, argument types).  A
 * call copies into the entry only the site's id in the region's dictionary
 * and the raw argument values; a reader formats them later, in another
 * process if need be (ringlog_entry_text).
 *
 * The format must be a string literal and is checked against the arguments
 * by the compiler (-Wformat).  Arguments are captured by type:
 *   integers of every width       value (1-4 byte types as 4 bytes, others 8)
 *   float, double, long double    value (float as double)
 *   char * (also signed, const)   for %s: the bytes, copied now, at most the
 *                                 conversion's precision (%.20s, %.*s) and
 *                                 RINGLOG_STRING_MAX; NULL prints "(null)";
 *                                 for %p and others: the pointer
 *   unsigned char *               with %.*s, a byte buffer: exactly that many
 *                                 bytes (NULs included), shown in hex;
 *                                 RINGLOG_BYTES(p, n) passes one.  With a
 *                                 plain %s or %.Ns, a C string, as char *
 *   wchar_t * under %ls           its text, converted to UTF-8 now (the
 *                                 precision counts bytes, as in glibc)
 *   other pointers                the pointer value (%p)
 *   anything else (a struct, __int128, _Complex): fails to compile (gcc and
 *                                 clang), naming ringlog_argument_type_cannot_be_logged;
 *                                 so does a bit-field under gcc (cast it:
 *                                 (unsigned)s.flags), which clang promotes
 * At most RINGLOG_MAX_ARGS arguments (more fails to compile).
 *
 * Every conversion -Wformat accepts is formatted as glibc would in the C
 * locale, including numbered arguments ("%2$s %1$d", "%*3$d"), %m (errno
 * at the call, stored with the entry; the call leaves errno unchanged),
 * %lc/%ls (as UTF-8, whatever the locale) and the I flag (ASCII digits).
 * %n writes nothing.  A format the compiler would have warned about is
 * printed with a [ringlog: ...] remark and the raw values, never with
 * undefined behaviour.
 *
 * Levels: calls below RINGLOG_MIN_LEVEL (a compile-time constant; define it
 * before including ringlog.h) vanish, arguments unevaluated.  Calls below
 * the region's run-time minimum (ringlog_set_level, `ringlog level`), and
 * calls of a site switched off (ringlog_site_switch, `ringlog sites
 * --off`), cost one call and a few loads and evaluate no argument.
 */
#ifndef RINGLOG_LOG_H
#define RINGLOG_LOG_H

#ifndef RINGLOG_MIN_LEVEL
#define RINGLOG_MIN_LEVEL 0
#endif

/* Level-specific macros; `log` may be NULL for the default region. */
#define RINGLOG_TRACE(log, ...) RINGLOG_LOG(log, RINGLOG_LEVEL_TRACE, __VA_ARGS__)
#define RINGLOG_DEBUG(log, ...) RINGLOG_LOG(log, RINGLOG_LEVEL_DEBUG, __VA_ARGS__)
#define RINGLOG_INFO(log, ...) RINGLOG_LOG(log, RINGLOG_LEVEL_INFO, __VA_ARGS__)
#define RINGLOG_NOTICE(log, ...) RINGLOG_LOG(log, RINGLOG_LEVEL_NOTICE, __VA_ARGS__)
#define RINGLOG_WARN(log, ...) RINGLOG_LOG(log, RINGLOG_LEVEL_WARN, __VA_ARGS__)
#define RINGLOG_ERROR(log, ...) RINGLOG_LOG(log, RINGLOG_LEVEL_ERROR, __VA_ARGS__)
#define RINGLOG_CRITICAL(log, ...) RINGLOG_LOG(log, RINGLOG_LEVEL_CRITICAL, __VA_ARGS__)

/* The same into the process-wide default region (ringlog_set_default). */
#define RINGLOG_DEFAULT_TRACE(...) RINGLOG_LOG(NULL, RINGLOG_LEVEL_TRACE, __VA_ARGS__)
#define RINGLOG_DEFAULT_DEBUG(...) RINGLOG_LOG(NULL, RINGLOG_LEVEL_DEBUG, __VA_ARGS__)
#define RINGLOG_DEFAULT_INFO(...) RINGLOG_LOG(NULL, RINGLOG_LEVEL_INFO, __VA_ARGS__)
#define RINGLOG_DEFAULT_NOTICE(...) RINGLOG_LOG(NULL, RINGLOG_LEVEL_NOTICE, __VA_ARGS__)
#define RINGLOG_DEFAULT_WARN(...) RINGLOG_LOG(NULL, RINGLOG_LEVEL_WARN, __VA_ARGS__)
#define RINGLOG_DEFAULT_ERROR(...) RINGLOG_LOG(NULL, RINGLOG_LEVEL_ERROR, __VA_ARGS__)
#define RINGLOG_DEFAULT_CRITICAL(...) RINGLOG_LOG(NULL, RINGLOG_LEVEL_CRITICAL, __VA_ARGS__)

/* A byte buffer argument, for a "%.*s" conversion: shown in hex. */
#define RINGLOG_BYTES(p, n) (int)(n), (const unsigned char *)(p)
/* A string of known length (need not be NUL-terminated), for "%.*s". */
#define RINGLOG_STR(p, n) (int)(n), (const char *)(p)

/*
 * Any level; `level` must be a constant expression.  The `"" fmt` makes a
 * non-literal format a compile error; the static site is initialised at
 * compile time, so the first call costs a registration and later calls a
 * load of the site's cached id.
 */
#define RINGLOG_LOG(log, level, ...)                                                              \
    do {                                                                                          \
        if ((level) >= RINGLOG_MIN_LEVEL) {                                                       \
            ringlog *ringlog_l_ = (log);                                                          \
            static struct ringlog_site ringlog_site_ = {                                          \
                "" RINGLOG_FIRST_(__VA_ARGS__), __FILE__, __func__, __LINE__, (level),            \
                RINGLOG_NARGS_(__VA_ARGS__), 0, {RINGLOG_TYPES_(__VA_ARGS__)}, {0}};              \
            if (ringlog_site_on_(ringlog_l_, (level), &ringlog_site_))                            \
                ringlog_log_(ringlog_l_, &ringlog_site_, __VA_ARGS__);                            \
        }                                                                                         \
    } while (0)

/*
 * Rate-limited calls: RINGLOG_INFO_EVERY(n, log, fmt, ...) logs the 1st,
 * (n+1)th, (2n+1)th... call of its site; RINGLOG_INFO_LIMIT(per_second,
 * log, fmt, ...) at most per_second calls of its site in each second of
 * the monotonic clock (0: none).  Across all threads of the process (the
 * state is the site's, static).  A call let through after suppressed ones
 * carries their count: its text ends "[ringlog: N similar calls
 * suppressed]" and it is flagged RINGLOG_FLAG_SUPPRESSED.  A suppressed
 * call evaluates no argument after the format.  Lock-free and
 * async-signal-safe like every log call.
 */
#define RINGLOG_LOG_RATED_(log, level, every, per_s, ...)                                         \
    do {                                                                                          \
        if ((level) >= RINGLOG_MIN_LEVEL) {                                                       \
            ringlog *ringlog_l_ = (log);                                                          \
            static struct ringlog_site ringlog_site_ = {                                          \
                "" RINGLOG_FIRST_(__VA_ARGS__), __FILE__, __func__, __LINE__, (level),            \
                RINGLOG_NARGS_(__VA_ARGS__), RINGLOG_SITE_COUNTED,                                \
                {RINGLOG_TYPES_(__VA_ARGS__)}, {0}};                                              \
            if (ringlog_site_on_(ringlog_l_, (level), &ringlog_site_)) {                          \
                static struct ringlog_limit ringlog_lim_;                                         \
                uint64_t ringlog_sup_ = 0;                                                        \
                if (ringlog_limit_pass_(&ringlog_lim_, (every), (per_s), &ringlog_sup_))          \
                    ringlog_log_counted_(ringlog_l_, &ringlog_site_, ringlog_sup_, __VA_ARGS__);  \
            }                                                                                     \
        }                                                                                         \
    } while (0)
#define RINGLOG_LOG_EVERY(n, log, level, ...) RINGLOG_LOG_RATED_(log, level, (n) ? (n) : 1, 0, __VA_ARGS__)
#define RINGLOG_LOG_LIMIT(per_s, log, level, ...) RINGLOG_LOG_RATED_(log, level, 0, (per_s), __VA_ARGS__)

#define RINGLOG_TRACE_EVERY(n, log, ...) RINGLOG_LOG_EVERY(n, log, RINGLOG_LEVEL_TRACE, __VA_ARGS__)
#define RINGLOG_DEBUG_EVERY(n, log, ...) RINGLOG_LOG_EVERY(n, log, RINGLOG_LEVEL_DEBUG, __VA_ARGS__)
#define RINGLOG_INFO_EVERY(n, log, ...) RINGLOG_LOG_EVERY(n, log, RINGLOG_LEVEL_INFO, __VA_ARGS__)
#define RINGLOG_NOTICE_EVERY(n, log, ...) RINGLOG_LOG_EVERY(n, log, RINGLOG_LEVEL_NOTICE, __VA_ARGS__)
#define RINGLOG_WARN_EVERY(n, log, ...) RINGLOG_LOG_EVERY(n, log, RINGLOG_LEVEL_WARN, __VA_ARGS__)
#define RINGLOG_ERROR_EVERY(n, log, ...) RINGLOG_LOG_EVERY(n, log, RINGLOG_LEVEL_ERROR, __VA_ARGS__)
#define RINGLOG_CRITICAL_EVERY(n, log, ...) RINGLOG_LOG_EVERY(n, log, RINGLOG_LEVEL_CRITICAL, __VA_ARGS__)
#define RINGLOG_TRACE_LIMIT(r, log, ...) RINGLOG_LOG_LIMIT(r, log, RINGLOG_LEVEL_TRACE, __VA_ARGS__)
#define RINGLOG_DEBUG_LIMIT(r, log, ...) RINGLOG_LOG_LIMIT(r, log, RINGLOG_LEVEL_DEBUG, __VA_ARGS__)
#define RINGLOG_INFO_LIMIT(r, log, ...) RINGLOG_LOG_LIMIT(r, log, RINGLOG_LEVEL_INFO, __VA_ARGS__)
#define RINGLOG_NOTICE_LIMIT(r, log, ...) RINGLOG_LOG_LIMIT(r, log, RINGLOG_LEVEL_NOTICE, __VA_ARGS__)
#define RINGLOG_WARN_LIMIT(r, log, ...) RINGLOG_LOG_LIMIT(r, log, RINGLOG_LEVEL_WARN, __VA_ARGS__)
#define RINGLOG_ERROR_LIMIT(r, log, ...) RINGLOG_LOG_LIMIT(r, log, RINGLOG_LEVEL_ERROR, __VA_ARGS__)
#define RINGLOG_CRITICAL_LIMIT(r, log, ...) RINGLOG_LOG_LIMIT(r, log, RINGLOG_LEVEL_CRITICAL, __VA_ARGS__)

/* ----------------------------------------------------------- machinery */

#ifndef __cplusplus
#if defined(__GNUC__) || defined(__clang__)
/* _Generic sends every type it does not list to `default`; only pointers
 * may end there (va_arg of a struct or __int128 as a pointer would be
 * undefined), so anything else gets code 0xff and fails to compile with
 * "negative width in bit-field 'ringlog_argument_type_cannot_be_logged'":
 * cast such an argument to an integer, floating or pointer type. */
#define RINGLOG_ARG_DEFAULT_(x) (__builtin_classify_type(x) == 5 ? RINGLOG_ARG_PTR : 0xff)
#define RINGLOG_ARG_TYPE(x)                                                                       \
    (RINGLOG_ARG_TYPE_RAW_(x) +                                                                   \
     0 * sizeof(struct {                                                                          \
         int ringlog_argument_type_cannot_be_logged : RINGLOG_ARG_TYPE_RAW_(x) == 0xff ? -1 : 1;  \
     }))
#else
#define RINGLOG_ARG_DEFAULT_(x) RINGLOG_ARG_PTR
#define RINGLOG_ARG_TYPE(x) RINGLOG_ARG_TYPE_RAW_(x)
#endif
#define RINGLOG_ARG_TYPE_RAW_(x)                                                                  \
    _Generic((x),                                                                                 \
        _Bool: RINGLOG_ARG_I32, char: RINGLOG_ARG_I32, signed char: RINGLOG_ARG_I32,              \
        unsigned char: RINGLOG_ARG_U32, short: RINGLOG_ARG_I32, unsigned short: RINGLOG_ARG_U32,  \
        int: RINGLOG_ARG_I32, unsigned int: RINGLOG_ARG_U32,                                      \
        long: (sizeof(long) == 8 ? RINGLOG_ARG_I64 : RINGLOG_ARG_I32),                            \
        unsigned long: (sizeof(long) == 8 ? RINGLOG_ARG_U64 : RINGLOG_ARG_U32),                   \
        long long: RINGLOG_ARG_I64, unsigned long long: RINGLOG_ARG_U64,                          \
        float: RINGLOG_ARG_F64, double: RINGLOG_ARG_F64, long double: RINGLOG_ARG_LDBL,           \
        char *: RINGLOG_ARG_STR, const char *: RINGLOG_ARG_STR,                                   \
        signed char *: RINGLOG_ARG_STR, const signed char *: RINGLOG_ARG_STR,                     \
        unsigned char *: RINGLOG_ARG_BYTES, const unsigned char *: RINGLOG_ARG_BYTES,             \
        default: RINGLOG_ARG_DEFAULT_(x))
#else
#include <type_traits>
template <typename T, bool P = std::is_pointer<T>::value, bool E = std::is_enum<T>::value>
struct ringlog_arg_type_ {
    static_assert(P, "ringlog: this argument type cannot be logged (cast it)");
    enum { value = RINGLOG_ARG_PTR };
};
template <typename T>
struct ringlog_arg_type_<T, false, true> : ringlog_arg_type_<typename std::underlying_type<T>::type> {};
#define RINGLOG_ARG_TYPE_IS_(T, code)                                                             \
    template <> struct ringlog_arg_type_<T, false, false> { enum { value = code }; };
RINGLOG_ARG_TYPE_IS_(bool, RINGLOG_ARG_I32)
RINGLOG_ARG_TYPE_IS_(char, RINGLOG_ARG_I32)
RINGLOG_ARG_TYPE_IS_(signed char, RINGLOG_ARG_I32)
RINGLOG_ARG_TYPE_IS_(unsigned char, RINGLOG_ARG_U32)
RINGLOG_ARG_TYPE_IS_(short, RINGLOG_ARG_I32)
RINGLOG_ARG_TYPE_IS_(unsigned short, RINGLOG_ARG_U32)
RINGLOG_ARG_TYPE_IS_(int, RINGLOG_ARG_I32)
RINGLOG_ARG_TYPE_IS_(unsigned int, RINGLOG_ARG_U32)
RINGLOG_ARG_TYPE_IS_(long, sizeof(long) == 8 ? RINGLOG_ARG_I64 : RINGLOG_ARG_I32)
RINGLOG_ARG_TYPE_IS_(unsigned long, sizeof(long) == 8 ? RINGLOG_ARG_U64 : RINGLOG_ARG_U32)
RINGLOG_ARG_TYPE_IS_(long long, RINGLOG_ARG_I64)
RINGLOG_ARG_TYPE_IS_(unsigned long long, RINGLOG_ARG_U64)
RINGLOG_ARG_TYPE_IS_(float, RINGLOG_ARG_F64)
RINGLOG_ARG_TYPE_IS_(double, RINGLOG_ARG_F64)
RINGLOG_ARG_TYPE_IS_(long double, RINGLOG_ARG_LDBL)
#undef RINGLOG_ARG_TYPE_IS_
#define RINGLOG_ARG_PTR_IS_(T, code)                                                              \
    template <> struct ringlog_arg_type_<T, true, false> { enum { value = code }; };
RINGLOG_ARG_PTR_IS_(char *, RINGLOG_ARG_STR)
RINGLOG_ARG_PTR_IS_(const char *, RINGLOG_ARG_STR)
RINGLOG_ARG_PTR_IS_(signed char *, RINGLOG_ARG_STR)
RINGLOG_ARG_PTR_IS_(const signed char *, RINGLOG_ARG_STR)
RINGLOG_ARG_PTR_IS_(unsigned char *, RINGLOG_ARG_BYTES)
RINGLOG_ARG_PTR_IS_(const unsigned char *, RINGLOG_ARG_BYTES)
#undef RINGLOG_ARG_PTR_IS_
#define RINGLOG_ARG_TYPE(x) ((unsigned char)ringlog_arg_type_<typename std::decay<decltype(x)>::type>::value)
#endif

/* 17 to 24 arguments expand to an undeclared identifier that says why. */
#define RINGLOG_NARGS_(...)                                                                       \
    RINGLOG_NARGS_I_(__VA_ARGS__, RINGLOG_TOO_MANY_, RINGLOG_TOO_MANY_, RINGLOG_TOO_MANY_,        \
                     RINGLOG_TOO_MANY_, RINGLOG_TOO_MANY_, RINGLOG_TOO_MANY_, RINGLOG_TOO_MANY_,  \
                     RINGLOG_TOO_MANY_, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, ~)
#define RINGLOG_NARGS_I_(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, \
                         a17, a18, a19, a20, a21, a22, a23, a24, n, ...) n
#define RINGLOG_TOO_MANY_ ringlog_error_at_most_16_arguments_per_call
#define RINGLOG_TY_ringlog_error_at_most_16_arguments_per_call(...) \
    ringlog_error_at_most_16_arguments_per_call
#define RINGLOG_FIRST_(...) RINGLOG_FIRST_I_(__VA_ARGS__, ~)
#define RINGLOG_FIRST_I_(f, ...) f
#define RINGLOG_CAT_(a, b) RINGLOG_CAT_I_(a, b)
#define RINGLOG_CAT_I_(a, b) a##b
/* Type codes of the arguments after the format, as an initializer list. */
#define RINGLOG_TYPES_(...) RINGLOG_CAT_(RINGLOG_TY_, RINGLOG_NARGS_(__VA_ARGS__))(__VA_ARGS__)
#define RINGLOG_TY_0(f) 0
#define RINGLOG_TY_1(f, a1) RINGLOG_ARG_TYPE(a1)
#define RINGLOG_TY_2(f, a1, a2) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2)
#define RINGLOG_TY_3(f, a1, a2, a3) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3)
#define RINGLOG_TY_4(f, a1, a2, a3, a4) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4)
#define RINGLOG_TY_5(f, a1, a2, a3, a4, a5) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5)
#define RINGLOG_TY_6(f, a1, a2, a3, a4, a5, a6) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6)
#define RINGLOG_TY_7(f, a1, a2, a3, a4, a5, a6, a7) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7)
#define RINGLOG_TY_8(f, a1, a2, a3, a4, a5, a6, a7, a8) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8)
#define RINGLOG_TY_9(f, a1, a2, a3, a4, a5, a6, a7, a8, a9) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9)
#define RINGLOG_TY_10(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9), RINGLOG_ARG_TYPE(a10)
#define RINGLOG_TY_11(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9), RINGLOG_ARG_TYPE(a10), RINGLOG_ARG_TYPE(a11)
#define RINGLOG_TY_12(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9), RINGLOG_ARG_TYPE(a10), RINGLOG_ARG_TYPE(a11), RINGLOG_ARG_TYPE(a12)
#define RINGLOG_TY_13(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9), RINGLOG_ARG_TYPE(a10), RINGLOG_ARG_TYPE(a11), RINGLOG_ARG_TYPE(a12), RINGLOG_ARG_TYPE(a13)
#define RINGLOG_TY_14(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9), RINGLOG_ARG_TYPE(a10), RINGLOG_ARG_TYPE(a11), RINGLOG_ARG_TYPE(a12), RINGLOG_ARG_TYPE(a13), RINGLOG_ARG_TYPE(a14)
#define RINGLOG_TY_15(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9), RINGLOG_ARG_TYPE(a10), RINGLOG_ARG_TYPE(a11), RINGLOG_ARG_TYPE(a12), RINGLOG_ARG_TYPE(a13), RINGLOG_ARG_TYPE(a14), RINGLOG_ARG_TYPE(a15)
#define RINGLOG_TY_16(f, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16) RINGLOG_ARG_TYPE(a1), RINGLOG_ARG_TYPE(a2), RINGLOG_ARG_TYPE(a3), RINGLOG_ARG_TYPE(a4), RINGLOG_ARG_TYPE(a5), RINGLOG_ARG_TYPE(a6), RINGLOG_ARG_TYPE(a7), RINGLOG_ARG_TYPE(a8), RINGLOG_ARG_TYPE(a9), RINGLOG_ARG_TYPE(a10), RINGLOG_ARG_TYPE(a11), RINGLOG_ARG_TYPE(a12), RINGLOG_ARG_TYPE(a13), RINGLOG_ARG_TYPE(a14), RINGLOG_ARG_TYPE(a15), RINGLOG_ARG_TYPE(a16)

#endif /* RINGLOG_LOG_H */
