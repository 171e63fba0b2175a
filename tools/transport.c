/*
 * ringlog forward's transport: the syslog server's socket, and the clock
 * and nap both senders use.
 */
#include "transport.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* The syslog server: connect (TCP) or just a socket (UDP, unix). */
int syslog_connect(struct forwarder *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = socket(f->sa.ss_family, (f->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (f->fd < 0)
        return -1;
    if (f->tcp) {
        /* A stream never blocks for ever on a server that stopped reading:
         * a send (and connect) that cannot finish in 2 s fails; RELP then
         * treats the session as broken, tcp:// reconnects once and counts
         * the message unsent. */
        struct timeval tv = {2, 0};
        setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (f->tcp && connect(f->fd, (struct sockaddr *)&f->sa, f->salen) != 0) {
        close(f->fd);
        f->fd = -1;
        return -1;
    }
    return 0;
}

/* Writes the n pieces (changed in place) as one stream write where the
 * socket takes it all: one system call per message, not one per piece. */
int send_iov(int fd, struct iovec *iov, int n)
{
    struct msghdr mh = {0};
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)n;
    while (mh.msg_iovlen) { /* bounded: each round writes bytes or fails */
        ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1; /* also EAGAIN: a send timeout (RELP) ran out */
        while (mh.msg_iovlen && (size_t)k >= mh.msg_iov->iov_len) {
            k -= (ssize_t)mh.msg_iov->iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }
        if (mh.msg_iovlen) {
            mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + k;
            mh.msg_iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

