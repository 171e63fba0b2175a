/*
 * ringlog forward: the region's consuming reader, handing each entry to a
 * system log.  --journald: journald's native protocol (one datagram per
 * entry on its socket, with fields), no libsystemd needed.
 */
#include "relp.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char forward_help[] =
    "Usage: ringlog forward NAME --journald [SOCKET] [--exit-when-idle]\n"
    "       ringlog forward NAME --syslog URL [--facility F] [--exit-when-idle]\n"
    "\n"
    "With --syslog, each entry goes as an RFC 5424 message to URL:\n"
    "udp://HOST:PORT (one datagram each), tcp://HOST:PORT (octet-counted\n"
    "framing, RFC 6587; reconnected when the server restarts), relp://HOST:PORT\n"
    "(RELP, rsyslog's imrelp: acknowledged, see below) or unix:PATH (a\n"
    "datagram socket such as /dev/log).  PRI is the facility (default user;\n"
    "a name or 0..23) and the level's severity as for journald below; the\n"
    "timestamp is the entry's, APP-NAME ringlog, PROCID the writer's pid,\n"
    "MSGID TEXT, DEFERRED, TRIGGER, BINARY or GAP, and structured data\n"
    "[ringlog@32473 region index lane tid seq] plus file, line and function\n"
    "for a deferred entry.  A message that cannot be sent (after one\n"
    "reconnection) is counted as unsent.\n"
    "\n"
    "Plain TCP syslog has no acknowledgements: forward looks for a closed\n"
    "connection before writing and reconnects, so a server restarted between\n"
    "bursts loses nothing, but messages a server had accepted into its socket\n"
    "and not yet written when it died are lost without being counted (they\n"
    "count as sent).  relp:// gives exact accounting: a message counts as sent\n"
    "only when the server has answered it; up to 128 (1 MiB) wait for their\n"
    "answers, and when the connection breaks forward reconnects (backing off,\n"
    "up to 10 s) and sends every unanswered one again, in order.  A resent\n"
    "message the server had taken before can arrive twice: the summary counts\n"
    "the resends, so duplicates are at most that number.  What could not be\n"
    "delivered within 10 s, or the server refused, is counted unsent.\n"
    "\n"
    "Consume region NAME (as `ringlog tail` does: one consuming reader per\n"
    "region) and send each entry to journald over its native protocol, one\n"
    "datagram per entry on SOCKET (default /run/systemd/journal/socket), with\n"
    "the fields\n"
    "  MESSAGE           the text (a deferred entry formatted; binary as hex)\n"
    "  PRIORITY          from the level: trace, debug 7; info 6; notice 5;\n"
    "                    warn 4; error 3; critical and above 2\n"
    "  SYSLOG_IDENTIFIER ringlog, SYSLOG_PID the writer's pid\n"
    "  CODE_FILE, CODE_LINE, CODE_FUNC   a deferred entry's call site\n"
    "  RINGLOG_REGION, RINGLOG_INDEX, RINGLOG_LANE, RINGLOG_CPU, RINGLOG_TID,\n"
    "  RINGLOG_SEQ, RINGLOG_LEVEL, RINGLOG_TYPE, RINGLOG_FLAGS, and RINGLOG_TIME_NS\n"
    "  (when the entry was written; journald stamps its own receive time).\n"
    "Calls that will never arrive are sent as one message each, \"N entries\n"
    "lost\", PRIORITY 4, with RINGLOG_GAP_FIRST and RINGLOG_GAP_COUNT.  An entry\n"
    "journald does not take (not running, restarted) is retried once 100 ms\n"
    "later, then counted as unsent; the summary on standard error at the end\n"
    "says how many were sent, lost upstream and unsent, and the exit status is\n"
    "1 when any was unsent.  Runs until SIGINT or SIGTERM, or with\n"
    "--exit-when-idle once nothing new has come for 500 ms.\n"
    "\n"
    "Options:\n"
    "  -J, --journald [SOCKET]  forward to journald\n"
    "  -S, --syslog URL         forward to a syslog server (see above)\n"
    "  -f, --facility F         syslog facility: kern user mail daemon auth syslog\n"
    "                           lpr news uucp cron authpriv ftp local0..local7, or 0..23\n"
    "      --exit-when-idle     stop after 500 ms with nothing new\n"
    "  -h, --help               show this help\n";

static volatile sig_atomic_t fwd_stop;
static void on_stop(int sig)
{
    (void)sig;
    fwd_stop = 1;
}

/* One field: KEY=value, or, when the value holds a newline, the binary
 * form (KEY, newline, 64-bit little-endian length, value, newline). */
static void field(struct sbuf *b, const char *key, const void *val, size_t n)
{
    if (!memchr(val, '\n', n)) {
        sb_puts(b, key);
        sb_putc(b, '=');
        sb_add(b, val, n);
        sb_putc(b, '\n');
        return;
    }
    sb_puts(b, key);
    sb_putc(b, '\n');
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)n >> (8 * i));
    sb_add(b, len, 8);
    sb_add(b, val, n);
    sb_putc(b, '\n');
}

static void fieldf(struct sbuf *b, const char *key, unsigned long long v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%llu", v);
    field(b, key, t, (size_t)n);
}

static int priority(unsigned level)
{
    static const int p[] = {7, 7, 6, 5, 4, 3, 2};
    return level < 7 ? p[level] : 2;
}

/* Plain TCP has no acknowledgements: a write into a connection whose
 * server has exited succeeds, and the message is gone.  So before writing,
 * look whether the server closed its side (a restart between two bursts)
 * and connect anew first.  A non-blocking recv() costs a system call, so
 * it is done at most once per millisecond: a steady stream pays it once
 * per hundreds of messages, the first message after a pause always.
 * Whatever a server sends is read and dropped (syslog servers send
 * nothing), so that bytes in the queue cannot hide its end of file. */
static void tcp_check_peer(struct forwarder *f)
{
    long long ms = now_ms();
    if (f->fd < 0 || ms == f->peer_checked_ms)
        return;
    f->peer_checked_ms = ms;
    char junk[256];
    for (int i = 0; i < 4; i++) { /* bounded: at most 1 KiB dropped per check */
        ssize_t k = recv(f->fd, junk, sizeof junk, MSG_DONTWAIT);
        if (k > 0)
            continue;
        if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            syslog_connect(f); /* closed or reset: a fresh connection */
        return;
    }
}

static void send_syslog(struct forwarder *f)
{
    if (f->relp) {
        relp_send(f);
        return;
    }
    if (f->tcp)
        tcp_check_peer(f);
    for (int attempt = 0; attempt < 2; attempt++) {
        int ok;
        if (f->tcp) {
            char len[24];
            int n = snprintf(len, sizeof len, "%zu ", f->dgram.len);
            struct iovec iov[2] = {{len, (size_t)n}, {f->dgram.p, f->dgram.len}};
            ok = f->fd >= 0 && send_iov(f->fd, iov, 2) == 0;
        } else {
            ok = f->fd >= 0 && sendto(f->fd, f->dgram.p, f->dgram.len, MSG_NOSIGNAL,
                                      (struct sockaddr *)&f->sa, f->salen) == (ssize_t)f->dgram.len;
        }
        if (ok) {
            f->sent++;
            return;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        syslog_connect(f); /* a restarted server: a new connection */
    }
    f->unsent++;
}

/* RFC 5424 PARAM-VALUE: '"', '\\' and ']' escaped. */
static void sd_param(struct sbuf *b, const char *name, const char *v, size_t n)
{
    sb_printf(b, " %s=\"", name);
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"' || v[i] == '\\' || v[i] == ']')
            sb_putc(b, '\\');
        sb_putc(b, v[i]);
    }
    sb_putc(b, '"');
}

static void syslog_head(struct forwarder *f, unsigned level, uint64_t time_ns, uint32_t pid,
                        const char *msgid)
{
    struct sbuf *b = &f->dgram;
    sb_reset(b);
    char ts[64];
    if (time_ns)
        fmt_time_us(ts, sizeof ts, time_ns, 1);
    else
        snprintf(ts, sizeof ts, "-");
    sb_printf(b, "<%d>1 %s %s ringlog ", f->facility * 8 + priority(level), ts, f->host);
    if (pid)
        sb_printf(b, "%u", pid);
    else
        sb_putc(b, '-');
    sb_printf(b, " %s [ringlog@32473", msgid);
    sd_param(b, "region", f->region, strlen(f->region));
}

static void send_dgram(struct forwarder *f)
{
    if (f->syslog) {
        send_syslog(f);
        return;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (sendto(f->fd, f->dgram.p, f->dgram.len, MSG_NOSIGNAL, (struct sockaddr *)&f->addr,
                   f->alen) == (ssize_t)f->dgram.len) {
            f->sent++;
            return;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    f->unsent++;
}

static void syslog_entry(struct forwarder *f, const struct ringlog_entry *e,
                         const struct decoded *d)
{
    const char *msgid = e->type == RINGLOG_TYPE_DEFERRED  ? "DEFERRED"
                        : e->type == RINGLOG_TYPE_TEXT    ? "TEXT"
                        : e->type == RINGLOG_TYPE_TRIGGER ? "TRIGGER"
                                                          : "BINARY";
    syslog_head(f, e->level, e->time_ns, e->pid, msgid);
    struct sbuf *b = &f->dgram;
    sb_printf(b, " index=\"%llu\" lane=\"%u\" tid=\"%u\" seq=\"%llu\"",
              (unsigned long long)e->index, e->lane, e->tid, (unsigned long long)e->seq);
    if (d->have_site) {
        sd_param(b, "file", d->file, strlen(d->file));
        sb_printf(b, " line=\"%u\"", d->line);
        sd_param(b, "function", d->function, strlen(d->function));
    }
    sb_puts(b, "] ");
    if (d->msg)
        sb_add(b, d->msg, d->msg_len);
    else
        sb_hex(b, e->data, e->length);
    send_dgram(f);
}

static int fwd_entry(void *arg, const struct ringlog_entry *e)
{
    struct forwarder *f = arg;
    struct decoded d;
    decode_entry(f->r, e, &d, &f->scratch);
    if (f->syslog) {
        syslog_entry(f, e, &d);
        return 0;
    }
    struct sbuf *b = &f->dgram;
    sb_reset(b);
    if (d.msg) {
        field(b, "MESSAGE", d.msg, d.msg_len);
    } else {
        struct sbuf hex = {0};
        sb_hex(&hex, e->data, e->length);
        field(b, "MESSAGE", hex.p ? hex.p : "", hex.len);
        sb_free(&hex);
    }
    fieldf(b, "PRIORITY", (unsigned long long)priority(e->level));
    field(b, "SYSLOG_IDENTIFIER", "ringlog", 7);
    if (e->pid)
        fieldf(b, "SYSLOG_PID", e->pid);
    if (d.have_site) {
        field(b, "CODE_FILE", d.file, strlen(d.file));
        fieldf(b, "CODE_LINE", d.line);
        field(b, "CODE_FUNC", d.function, strlen(d.function));
    }
    field(b, "RINGLOG_REGION", f->region, strlen(f->region));
    fieldf(b, "RINGLOG_INDEX", e->index);
    fieldf(b, "RINGLOG_LANE", e->lane);
    fieldf(b, "RINGLOG_CPU", e->cpu);
    fieldf(b, "RINGLOG_TID", e->tid);
    fieldf(b, "RINGLOG_SEQ", e->seq);
    fieldf(b, "RINGLOG_LEVEL", e->level);
    fieldf(b, "RINGLOG_TYPE", e->type);
    fieldf(b, "RINGLOG_FLAGS", e->flags);
    fieldf(b, "RINGLOG_TIME_NS", e->time_ns);
    send_dgram(f);
    return 0;
}

static int fwd_gap(void *arg, uint64_t first, uint64_t count)
{
    struct forwarder *f = arg;
    f->gaps++;
    f->gap_calls += count;
    struct sbuf *b = &f->dgram;
    sb_reset(b);
    char msg[96];
    int n = snprintf(msg, sizeof msg, "%llu entries lost (index %llu..%llu)",
                     (unsigned long long)count, (unsigned long long)first,
                     (unsigned long long)(first + count - 1));
    if (f->syslog) {
        syslog_head(f, RINGLOG_LEVEL_WARN, 0, 0, "GAP");
        sb_printf(b, " first=\"%llu\" count=\"%llu\"] %s", (unsigned long long)first,
                  (unsigned long long)count, msg);
        send_dgram(f);
        return 0;
    }
    field(b, "MESSAGE", msg, (size_t)n);
    field(b, "PRIORITY", "4", 1);
    field(b, "SYSLOG_IDENTIFIER", "ringlog", 7);
    field(b, "RINGLOG_REGION", f->region, strlen(f->region));
    fieldf(b, "RINGLOG_GAP_FIRST", first);
    fieldf(b, "RINGLOG_GAP_COUNT", count);
    send_dgram(f);
    return 0;
}

enum { F_HELP = 1, F_JOURNALD, F_IDLE, F_SYSLOG, F_FACILITY };

static int parse_facility(const char *s)
{
    static const char *const names[] = {"kern", "user", "mail", "daemon", "auth", "syslog",
                                        "lpr", "news", "uucp", "cron", "authpriv", "ftp"};
    for (int i = 0; i < 12; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    if (strncmp(s, "local", 5) == 0 && s[5] >= '0' && s[5] <= '7' && !s[6])
        return 16 + (s[5] - '0');
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end && v >= 0 && v <= 23)
        return (int)v;
    usage_error("--facility: unknown facility '%s'", s);
}

/* udp://HOST:PORT, tcp://HOST:PORT, relp://HOST:PORT, unix:PATH */
static void parse_target(struct forwarder *f, const char *url)
{
    memset(&f->sa, 0, sizeof f->sa);
    if (strncmp(url, "unix:", 5) == 0) {
        struct sockaddr_un *u = (struct sockaddr_un *)&f->sa;
        u->sun_family = AF_UNIX;
        if (strlen(url + 5) == 0 || strlen(url + 5) >= sizeof u->sun_path)
            usage_error("--syslog: bad unix socket path in '%s'", url);
        strcpy(u->sun_path, url + 5);
        f->salen = (socklen_t)sizeof *u;
        return;
    }
    int relp = strncmp(url, "relp://", 7) == 0;
    int tcp = relp || strncmp(url, "tcp://", 6) == 0;
    if (!tcp && strncmp(url, "udp://", 6) != 0)
        usage_error("--syslog: '%s' is not udp://HOST:PORT, tcp://HOST:PORT, relp://HOST:PORT "
                    "or unix:PATH", url);
    char host[256];
    snprintf(host, sizeof host, "%s", url + (relp ? 7 : 6));
    char *colon = strrchr(host, ':');
    if (!colon || !colon[1])
        usage_error("--syslog: '%s' has no :PORT", url);
    *colon = 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res)
        die(EXIT_RUNTIME, "--syslog %s: %s", url, gai_strerror(rc));
    memcpy(&f->sa, res->ai_addr, res->ai_addrlen);
    f->salen = res->ai_addrlen;
    freeaddrinfo(res);
    f->tcp = tcp;
    if (relp) {
        f->relp = relp_new();
        if (!f->relp)
            die(EXIT_RUNTIME, "out of memory");
    }
}

int cmd_forward(int argc, char **argv)
{
    static const struct opt_def opts[] = {
        {"help", 'h', OPT_NONE, F_HELP},
        {"journald", 'J', OPT_NONE, F_JOURNALD},
        {"exit-when-idle", 0, OPT_NONE, F_IDLE},
        {"syslog", 'S', OPT_VALUE, F_SYSLOG},
        {"facility", 'f', OPT_VALUE, F_FACILITY},
        {NULL, 0, OPT_NONE, 0},
    };
    struct opt_state st;
    const char *name = NULL, *sock = NULL, *url = NULL;
    int id, journald = 0, idle_exit = 0, npos = 0, facility = 1;
    opt_init(&st, argc, argv);
    while ((id = opt_next(&st, opts)) != OPT_END) {
        switch (id) {
        case F_HELP: fputs(forward_help, stdout); return 0;
        case F_JOURNALD: journald = 1; break;
        case F_IDLE: idle_exit = 1; break;
        case F_SYSLOG: url = st.value; break;
        case F_FACILITY: facility = parse_facility(st.value); break;
        case OPT_POSITIONAL:
            if (npos == 0)
                name = st.value;
            else if (npos == 1 && journald)
                sock = st.value;
            else
                usage_error("unexpected argument '%s'", st.value);
            npos++;
            break;
        default: break;
        }
    }
    if (!name)
        usage_error("missing region NAME");
    if (!journald == !url)
        usage_error("say where to: --journald [SOCKET] or --syslog URL (one of them)");
    struct forwarder f;
    memset(&f, 0, sizeof f);
    f.region = name;
    f.fd = -1;
    if (url) {
        f.syslog = 1;
        f.facility = facility;
        parse_target(&f, url);
        if (gethostname(f.host, sizeof f.host) != 0 || !f.host[0])
            snprintf(f.host, sizeof f.host, "-");
        f.host[sizeof f.host - 1] = 0;
        /* TCP: a server not there yet is retried at each message; RELP
         * connects at the first message. */
        if (!f.relp && syslog_connect(&f) != 0 && !f.tcp)
            die(EXIT_RUNTIME, "--syslog %s: %s", url, strerror(errno));
    } else {
        if (!sock)
            sock = "/run/systemd/journal/socket";
        f.addr.sun_family = AF_UNIX;
        if (strlen(sock) >= sizeof f.addr.sun_path)
            usage_error("socket path too long: %s", sock);
        strcpy(f.addr.sun_path, sock);
        f.alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock) + 1);
        f.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (f.fd < 0)
            die(EXIT_RUNTIME, "socket: %s", strerror(errno));
    }
    f.r = open_reader_or_die(name, RINGLOG_READER_CONSUME);
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    struct ringlog_handler h = {fwd_entry, fwd_gap, &f};
    struct timespec idle0;
    clock_gettime(CLOCK_MONOTONIC, &idle0);
    while (!fwd_stop) {
        int n = ringlog_read(f.r, &h, 100);
        if (n < 0) {
            warnx_("%s: reading: %s", name, tool_describe(n, name));
            break;
        }
        if (f.relp) /* answers, and a restarted server, also while idle */
            relp_pump(&f);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (n > 0)
            idle0 = now;
        else if (idle_exit && (now.tv_sec - idle0.tv_sec) * 1000 +
                                      (now.tv_nsec - idle0.tv_nsec) / 1000000 >= 500)
            break;
    }
    ringlog_reader_close(f.r);
    char resent[48] = "";
    if (f.relp) {
        relp_finish(&f);
        snprintf(resent, sizeof resent, ", %llu resent", (unsigned long long)relp_resent(f.relp));
        free(f.relp);
    }
    if (f.fd >= 0)
        close(f.fd);
    sb_free(&f.dgram);
    sb_free(&f.scratch);
    fprintf(stderr, "ringlog: forward: %s: %llu sent to %s (%llu of them gaps covering %llu "
                    "calls)%s, %llu unsent\n",
            name, (unsigned long long)f.sent, url ? url : "journald", (unsigned long long)f.gaps,
            (unsigned long long)f.gap_calls, resent, (unsigned long long)f.unsent);
    return f.unsent ? EXIT_RUNTIME : 0;
}
