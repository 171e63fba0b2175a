/*
 * Shared declarations of the ringlog command-line tool.  The tool uses only
 * the public API in <ringlog.h>; everything here is tool-side plumbing:
 * option parsing, number parsing, error reporting, time and text formatting.
 */
#ifndef RINGLOG_TOOL_H
#define RINGLOG_TOOL_H

#include <ringlog.h>

#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define TOOL_NORETURN __attribute__((noreturn))
#define TOOL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TOOL_NORETURN
#define TOOL_PRINTF(f, a)
#endif

/* Exit codes: runtime failures and usage errors are told apart so that
 * scripts can distinguish "the region is broken" from "I called it wrong". */
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* ------------------------------------------------------------- errors */

/* The command being run ("demo", "dump", ...), for error messages. */
extern const char *tool_cmd;

/* "ringlog: CMD: message" on stderr, then exit(code). */
TOOL_NORETURN void die(int code, const char *fmt, ...) TOOL_PRINTF(2, 3);
/* Same line without exiting. */
void warnx_(const char *fmt, ...) TOOL_PRINTF(1, 2);
/* Usage error: one line pointing at `ringlog CMD --help`, exit 2. */
TOOL_NORETURN void usage_error(const char *fmt, ...) TOOL_PRINTF(1, 2);
/* Describes a library error: ringlog_strerror plus ringlog_errmsg when that
 * adds something (without a leading "NAME: " when name is given, since the
 * caller prints the name).  Must be called right after the failing call
 * (the detail message is per thread and overwritten by the next failure).
 * The result lives in a static buffer. */
const char *tool_describe(int err, const char *name);

/* --------------------------------------------------------- options */

enum opt_arg { OPT_NONE, OPT_VALUE };

struct opt_def {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    enum opt_arg arg;
    int id; /* returned by opt_next */
};

struct opt_state {
    int argc;
    char **argv;
    int i;               /* next argv element */
    int only_positional; /* after "--" */
    const char *value;   /* value of the option just returned */
    const char *name;    /* spelling of the option just returned, for errors */
};

#define OPT_END (-1)
#define OPT_POSITIONAL (-2)

/* argv[0] is the command name and is skipped. */
void opt_init(struct opt_state *st, int argc, char **argv);
/* Returns an opt_def id, OPT_POSITIONAL (st->value is the argument) or
 * OPT_END.  Unknown options and missing or unexpected values are usage
 * errors (the process exits).  Options and positionals may be mixed. */
int opt_next(struct opt_state *st, const struct opt_def *defs);

/* --------------------------------------------------------- numbers */

/* Plain non-negative integer in [min, max].  `what` names the option. */
uint64_t parse_count(const char *what, const char *s, uint64_t min, uint64_t max);
/* Byte size with optional K, M, G suffix (powers of 1024; "KiB"/"KB" too). */
uint64_t parse_size(const char *what, const char *s, uint64_t min, uint64_t max);
/* Non-negative decimal number of seconds ("2", "0.5"). */
double parse_seconds(const char *what, const char *s);
/* Level name or number, via ringlog_level_parse. */
unsigned parse_level(const char *what, const char *s);

/* ------------------------------------------------------- formatting */

/* RFC 3339: local time with microseconds and numeric offset
 * ("2026-11-25T06:06:07.123456+01:00"), or UTC ("...Z") when utc != 0. */
void fmt_time_us(char *buf, size_t size, uint64_t ns, int utc);
/* RFC 3339 UTC with nanoseconds ("2026-11-25T05:06:07.123456789Z"). */
void fmt_time_ns(char *buf, size_t size, uint64_t ns);
/* Human size: "1 MiB", "4 KiB", "1000 B". */
void fmt_size(char *buf, size_t size, uint64_t bytes);
const char *policy_name(int policy);

/* A growable byte buffer, so that one line is built and written at once. */
struct sbuf {
    char *p;
    size_t len, cap;
};
void sb_reset(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_putc(struct sbuf *b, char c);
void sb_add(struct sbuf *b, const void *data, size_t len);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) TOOL_PRINTF(2, 3);
/* Text for a terminal: valid UTF-8 passes, control characters and invalid
 * bytes become \n, \t, \r or \xHH. */
void sb_text_escaped(struct sbuf *b, const unsigned char *s, size_t len);
/* JSON string body (no quotes): RFC 8259 escapes; a byte that is not part
 * of valid UTF-8 becomes \u00XX (the code point of the same value). */
void sb_json_escaped(struct sbuf *b, const unsigned char *s, size_t len);
/* Lowercase hex of the bytes. */
void sb_hex(struct sbuf *b, const unsigned char *s, size_t len);

/* Writes the buffer to stdout; returns 0, or -1 on a write error (errno set;
 * EPIPE when the reader of a pipe went away). */
int sb_write_stdout(const struct sbuf *b);

/* -------------------------------------------------------- commands */

int cmd_demo(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_trigger(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_level(int argc, char **argv);
int cmd_sites(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* Shared by stats and demo (read_cmds.c). */
void print_info(FILE *out, const char *name, const struct ringlog_info *in);
/* Per-ring rows and a total row; columns as wide as their widest value. */
void print_stats_table(FILE *out, const struct ringlog_stats *per, unsigned n,
                       const struct ringlog_stats *total);
/* "balanced: yes (written W == read R + lost L + overwritten O + buffered B = S)";
 * busy: the region was being written to while the counters were read,
 * which explains a "no". */
void print_balance_line(FILE *out, const struct ringlog_stats *t, int busy);

/* Opens a reader, or exits with one error line naming the region. */
ringlog_reader *open_reader_or_die(const char *name, unsigned flags);

#endif /* RINGLOG_TOOL_H */
