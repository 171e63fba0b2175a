/*
 * ringlog forward --syslog relp://HOST:PORT: RELP, rsyslog's Reliable Event
 * Logging Protocol (librelp's doc/relp.md), by hand.  Every frame, both ways, is
 *   TXNR SP COMMAND SP DATALEN [SP DATA] LF
 * The session opens with command "open" (offers relp_version, relp_software,
 * commands=syslog), each message is a "syslog" command whose DATA is the
 * RFC 5424 message tcp:// sends, and the server answers every command with
 * "rsp" and the same TXNR, in order, DATA "200 OK" (or a 500 error).  TXNR
 * 0 carries hints, such as "serverclose" before the server goes away.
 *
 * A message is counted sent only when its "200" has come back.  Until then
 * it stays in a bounded window; when the connection breaks, forward connects
 * again (backing off, for a bounded time) and resends the whole window in
 * order on the new session (whose TXNRs start at 1 again, as librelp's server
 * requires), counting the resends: the server may have taken a message whose
 * answer was lost, so a resend can be a duplicate, never a loss.  What could
 * not be delivered in that time, or the server refused, is counted unsent.
 * Everything the server sends is untrusted: lengths and digits are bounded,
 * an answer out of order ends the session.
 */
#include "relp.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    RELP_WINDOW = 128,              /* unacknowledged messages at most */
    RELP_WINDOW_BYTES = 1 << 20,    /* ... and their bytes */
    RELP_MAX_DATA = 128 * 1024,     /* a message's size: RELP v1's fixed maximum */
    RELP_RSP_MAX = 4096,            /* DATALEN of a frame from the server */
    RELP_TXNR_MAX = 999999999,      /* then 1 again */
    RELP_GIVE_UP_MS = 10000,        /* reconnecting, before the window is given up */
    RELP_ACK_WAIT_MS = 5000,        /* a full window waits this long for an answer */
    RELP_OPEN_WAIT_MS = 2000,       /* for the answer to "open" */
    RELP_BLAME_MAX = 3,             /* sessions that broke with a message first in line */
    RELP_DOWN_MS = 1000,            /* after giving up: count unsent, retry then */
};

struct relp_msg {
    struct sbuf data;  /* the RFC 5424 message */
    uint32_t txnr;     /* in the current session, when written */
    int written;       /* written on an earlier session: writing it again is a resend */
    int blame;         /* sessions that broke while it was the oldest unanswered */
};

struct relp {
    struct relp_msg slot[RELP_WINDOW];
    unsigned head, count; /* the window, oldest first */
    unsigned nwritten;    /* the first nwritten of it are written on this session */
    size_t bytes;
    uint32_t txnr;        /* the next one on this session */
    int open;             /* fd connected and "open" answered */
    int opening;          /* waiting for the answer to "open" (TXNR 1) */
    int open_ok;          /* ... which accepted syslog */
    uint32_t close_txnr;  /* the final "close", answered when it is 0 again */
    int stalls;           /* full-window waits in a row that got no answer */
    int fast_breaks;      /* sessions in a row that broke within a second */
    long long open_ms;    /* when this session opened */
    long long progress_ms; /* the last answer, or when the window last became non-empty */
    int warned;
    long long down_until; /* after giving up: no reconnecting before then */
    int down;
    uint64_t resent, refused;
    size_t rxlen;
    char rx[RELP_RSP_MAX + 64]; /* one whole frame always fits */
};

static struct relp_msg *relp_at(struct relp *r, unsigned i)
{
    return &r->slot[(r->head + i) % RELP_WINDOW];
}

static void relp_pop(struct relp *r)
{
    struct relp_msg *m = relp_at(r, 0);
    r->bytes -= m->data.len;
    m->written = m->blame = 0;
    r->head = (r->head + 1) % RELP_WINDOW;
    r->count--;
    if (r->nwritten)
        r->nwritten--;
}

static uint32_t relp_next_txnr(struct relp *r)
{
    uint32_t t = r->txnr;
    r->txnr = t >= RELP_TXNR_MAX ? 1 : t + 1;
    return t;
}

static int relp_write_frame(struct forwarder *f, uint32_t txnr, const char *cmd, const char *data,
                            size_t len)
{
    char head[64];
    int n = snprintf(head, sizeof head, "%u %s %zu%s", txnr, cmd, len, len ? " " : "");
    struct iovec iov[3] = {{head, (size_t)n}, {(void *)data, len}, {"\n", 1}};
    return send_iov(f->fd, iov, 3);
}

/* The server's "open" answer: "200 OK", then offers one a line; it must
 * offer the syslog command. */
static int relp_open_accepted(const char *d, size_t n)
{
    if (n < 3 || memcmp(d, "200", 3) != 0)
        return 0;
    const char *end = d + n, *line = memchr(d, '\n', n);
    while (line && line < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        if ((size_t)(eol - line) > 9 && memcmp(line, "commands=", 9) == 0) {
            for (const char *v = line + 9; v < eol;) {
                const char *c = memchr(v, ',', (size_t)(eol - v));
                if (!c)
                    c = eol;
                if (c - v == 6 && memcmp(v, "syslog", 6) == 0)
                    return 1;
                v = c + 1;
            }
        }
        line = eol;
    }
    return 0;
}

/* One frame from the server; -1 ends the session. */
static int relp_frame(struct forwarder *f, uint32_t txnr, const char *cmd, const char *data,
                      size_t len)
{
    struct relp *r = f->relp;
    if (txnr == 0) /* a hint: "serverclose" means the server is going away */
        return strcmp(cmd, "serverclose") == 0 ? -1 : 0;
    if (strcmp(cmd, "rsp") != 0)
        return -1; /* a server issues no commands */
    if (r->opening) {
        if (txnr != 1)
            return -1;
        r->opening = 0;
        r->open_ok = relp_open_accepted(data, len);
        return 0;
    }
    if (r->close_txnr && txnr == r->close_txnr) {
        r->close_txnr = 0;
        return 0;
    }
    /* Answers come in the order of the commands: always the oldest. */
    if (r->nwritten == 0 || txnr != relp_at(r, 0)->txnr)
        return -1;
    if (len >= 3 && memcmp(data, "200", 3) == 0) {
        f->sent++;
    } else {
        f->unsent++; /* refused: resending would be refused again */
        r->refused++;
    }
    relp_pop(r);
    r->stalls = 0;
    r->progress_ms = now_ms();
    return 0;
}

static int relp_digits(const char *p, size_t n, size_t *i, uint32_t *v)
{
    int k = 0;
    *v = 0;
    for (; *i < n && p[*i] >= '0' && p[*i] <= '9'; (*i)++, k++) {
        if (k == 9) /* NUMBER = 1*9DIGIT */
            return -1;
        *v = *v * 10 + (uint32_t)(p[*i] - '0');
    }
    return k;
}

/* Takes the whole frames out of r->rx; -1 on a malformed one. */
static int relp_parse(struct forwarder *f)
{
    struct relp *r = f->relp;
    size_t pos = 0;
    for (;;) { /* bounded: each round consumes a frame of at least 8 bytes */
        const char *p = r->rx + pos;
        size_t n = r->rxlen - pos, i = 0;
        uint32_t txnr, dlen;
        char cmd[33];
        int k = relp_digits(p, n, &i, &txnr);
        if (k < 0 || (i < n && (k == 0 || p[i] != ' ')))
            return -1;
        if (i++ >= n)
            break;
        for (k = 0; i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')); i++) {
            if (k == 32)
                return -1;
            cmd[k++] = p[i];
        }
        cmd[k] = 0;
        if (i < n && (k == 0 || p[i] != ' '))
            return -1;
        if (i++ >= n)
            break;
        k = relp_digits(p, n, &i, &dlen);
        if (k < 0 || dlen > RELP_RSP_MAX)
            return -1;
        if (i >= n)
            break;
        if (k == 0)
            return -1;
        const char *data = "";
        if (dlen) {
            if (p[i] != ' ')
                return -1;
            if (n - i < (size_t)dlen + 2)
                break;
            data = p + i + 1;
            i += 1 + dlen;
        }
        if (p[i] != '\n')
            return -1;
        if (relp_frame(f, txnr, cmd, data, dlen) != 0)
            return -1;
        pos += i + 1;
    }
    memmove(r->rx, r->rx + pos, r->rxlen - pos);
    r->rxlen -= pos;
    return r->rxlen == sizeof r->rx ? -1 : 0;
}

/* Reads what the server sent, waiting up to wait_ms for something;
 * -1 when the session is over (end of file, error, bad frame). */
static int relp_read(struct forwarder *f, int wait_ms)
{
    struct relp *r = f->relp;
    struct pollfd pfd = {f->fd, POLLIN, 0};
    int rc = poll(&pfd, 1, wait_ms);
    if (rc <= 0)
        return rc < 0 && errno != EINTR ? -1 : 0;
    for (int i = 0; i < 64; i++) { /* bounded; what is left waits for the next call */
        ssize_t k = recv(f->fd, r->rx + r->rxlen, sizeof r->rx - r->rxlen, MSG_DONTWAIT);
        if (k == 0)
            return -1;
        if (k < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        r->rxlen += (size_t)k;
        if (relp_parse(f) != 0)
            return -1;
    }
    return 0;
}

static void relp_drop_fd(struct forwarder *f)
{
    struct relp *r = f->relp;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    r->open = r->opening = 0;
    r->rxlen = 0;
    r->close_txnr = 0;
    for (unsigned i = 0; i < r->nwritten; i++)
        relp_at(r, i)->written = 1;
    r->nwritten = 0;
}

/* Connects and opens a session: 0 when the server accepted it. */
static int relp_open(struct forwarder *f)
{
    static const char offers[] = "relp_version=0\nrelp_software=ringlog\ncommands=syslog";
    struct relp *r = f->relp;
    relp_drop_fd(f);
    if (syslog_connect(f) != 0)
        return -1;
    r->txnr = 1;
    r->opening = 1;
    r->open_ok = 0;
    if (relp_write_frame(f, relp_next_txnr(r), "open", offers, sizeof offers - 1) != 0)
        goto fail;
    long long deadline = now_ms() + RELP_OPEN_WAIT_MS;
    while (r->opening) { /* bounded by the deadline */
        long long left = deadline - now_ms();
        if (left <= 0 || relp_read(f, (int)left) != 0)
            goto fail;
    }
    if (!r->open_ok)
        goto fail;
    r->open = 1;
    r->open_ms = now_ms();
    return 0;
fail:
    relp_drop_fd(f);
    return -1;
}

/* Writes the window's messages not yet written on this session, in order. */
static int relp_write_pending(struct forwarder *f)
{
    struct relp *r = f->relp;
    while (r->nwritten < r->count) {
        struct relp_msg *m = relp_at(r, r->nwritten);
        m->txnr = relp_next_txnr(r);
        if (relp_write_frame(f, m->txnr, "syslog", m->data.p, m->data.len) != 0)
            return -1;
        if (m->written)
            r->resent++;
        r->nwritten++;
    }
    return 0;
}

/* Nothing could be delivered for RELP_GIVE_UP_MS: the window is counted
 * unsent, and new messages are too until RELP_DOWN_MS has passed. */
static void relp_give_up(struct forwarder *f)
{
    struct relp *r = f->relp;
    relp_drop_fd(f);
    f->unsent += r->count;
    while (r->count)
        relp_pop(r);
    r->down = 1;
    r->down_until = now_ms() + RELP_DOWN_MS;
}

/* (Re)connects, backing off from 100 ms to 1 s, until deadline; then
 * resends the window.  -1 when no session could be had. */
static int relp_reconnect(struct forwarder *f, long long deadline)
{
    struct relp *r = f->relp;
    long backoff = 100;
    for (;;) { /* bounded by the deadline */
        if (relp_open(f) == 0) {
            if (relp_write_pending(f) == 0) {
                r->down = 0;
                return 0;
            }
            relp_drop_fd(f);
        }
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        sleep_ms(backoff < left ? backoff : (long)left);
        backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
    }
}

/* The session broke: the oldest unanswered message takes the blame (a
 * message the server cannot take would otherwise break every session), then
 * connect again and resend.  Sessions that keep breaking at once are
 * reconnected with a growing pause, and a window that has had no answer
 * for RELP_GIVE_UP_MS is given up: a server that accepts sessions and then
 * breaks them costs bounded time, not a loop. */
static void relp_broken(struct forwarder *f)
{
    struct relp *r = f->relp;
    long long now = now_ms();
    if (r->open) {
        r->fast_breaks = now - r->open_ms < 1000 ? r->fast_breaks + 1 : 0;
        if (r->nwritten && ++relp_at(r, 0)->blame >= RELP_BLAME_MAX) {
            if (!r->warned++)
                warnx_("a message broke %d RELP sessions in a row: counted unsent (and any "
                       "more such)", RELP_BLAME_MAX);
            f->unsent++;
            relp_pop(r);
        }
    }
    relp_drop_fd(f);
    if (r->count && now - r->progress_ms >= RELP_GIVE_UP_MS) {
        relp_give_up(f);
        return;
    }
    if (r->fast_breaks) {
        int k = r->fast_breaks < 5 ? r->fast_breaks : 5;
        sleep_ms(50L << k > 1000 ? 1000 : 50L << k);
    }
    long long deadline = r->count ? r->progress_ms + RELP_GIVE_UP_MS : now_ms() + RELP_GIVE_UP_MS;
    if (relp_reconnect(f, deadline) != 0)
        relp_give_up(f);
}

/* Takes in the answers that have arrived, without waiting; reconnects a
 * broken session that has messages to resend. */
void relp_pump(struct forwarder *f)
{
    struct relp *r = f->relp;
    if (r->open && relp_read(f, 0) != 0)
        relp_broken(f);
    else if (!r->open && r->count && !r->down)
        relp_broken(f);
}

void relp_send(struct forwarder *f)
{
    struct relp *r = f->relp;
    size_t len = f->dgram.len;
    if (len > RELP_MAX_DATA) {
        f->unsent++;
        return;
    }
    if (r->down) {
        if (now_ms() < r->down_until || relp_reconnect(f, 0) != 0) {
            if (now_ms() >= r->down_until)
                r->down_until = now_ms() + RELP_DOWN_MS;
            f->unsent++;
            return;
        }
    } else if (!r->open) {
        /* the first message, or after a give-up: wait for a server */
        if (relp_reconnect(f, now_ms() + RELP_GIVE_UP_MS) != 0) {
            relp_give_up(f);
            f->unsent++;
            return;
        }
    }
    /* Answers are taken in when half the window waits for them (and after
     * each batch the reader hands over): two system calls per many
     * messages, not per message. */
    if (r->count >= RELP_WINDOW / 2 || r->bytes >= RELP_WINDOW_BYTES / 2)
        relp_pump(f);
    /* A full window waits for answers; no answer in RELP_ACK_WAIT_MS breaks
     * the session, twice in a row gives the window up.  Bounded: each round
     * waits at most that long, and ends a session or takes an answer. */
    while (r->count && (r->count == RELP_WINDOW || r->bytes + len > RELP_WINDOW_BYTES)) {
        if (!r->open) {
            relp_broken(f);
            continue;
        }
        long long deadline = now_ms() + RELP_ACK_WAIT_MS;
        unsigned before = r->count;
        int broke = 0;
        while (r->count == before && !broke) {
            long long left = deadline - now_ms();
            if (left <= 0)
                break;
            broke = relp_read(f, (int)left) != 0;
        }
        if (broke) {
            relp_broken(f);
        } else if (r->count == before) {
            if (++r->stalls >= 2)
                relp_give_up(f);
            else
                relp_broken(f);
        }
        if (r->down)
            break;
    }
    if (r->down) { /* given up: not even a session to queue for */
        f->unsent++;
        return;
    }
    if (!r->count)
        r->progress_ms = now_ms();
    struct relp_msg *m = &r->slot[(r->head + r->count) % RELP_WINDOW];
    sb_reset(&m->data);
    sb_add(&m->data, f->dgram.p, len);
    m->written = m->blame = 0;
    r->count++;
    r->bytes += len;
    if (r->open && relp_write_pending(f) != 0)
        relp_broken(f);
}

/* At the end: wait (bounded) for the window's answers, reconnecting if
 * need be; what is still unanswered is unsent.  Then "close". */
void relp_finish(struct forwarder *f)
{
    struct relp *r = f->relp;
    long long deadline = now_ms() + RELP_GIVE_UP_MS;
    while (r->count) { /* bounded by the deadline */
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        if (!r->open) {
            if (r->down || relp_reconnect(f, deadline) != 0)
                break;
            continue;
        }
        if (relp_read(f, left < 100 ? (int)left : 100) != 0)
            relp_drop_fd(f);
    }
    f->unsent += r->count;
    while (r->count)
        relp_pop(r);
    if (r->open) {
        r->close_txnr = relp_next_txnr(r);
        if (relp_write_frame(f, r->close_txnr, "close", "", 0) == 0) {
            long long end = now_ms() + 1000;
            while (r->close_txnr && now_ms() < end && relp_read(f, 100) == 0)
                ;
        }
    }
    relp_drop_fd(f);
    for (unsigned i = 0; i < RELP_WINDOW; i++)
        sb_free(&r->slot[i].data);
}

struct relp *relp_new(void)
{
    return calloc(1, sizeof(struct relp));
}

uint64_t relp_resent(const struct relp *r)
{
    return r->resent;
}
