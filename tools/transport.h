/*
 * What ringlog forward's two parts share (forward.c: journald, syslog over
 * UDP, TCP and a Unix socket; relp.c: its RELP client): the forwarder's
 * state and the socket it sends on (transport.c).
 */
#ifndef RINGLOG_TOOL_TRANSPORT_H
#define RINGLOG_TOOL_TRANSPORT_H

#include "view.h"

#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

struct relp; /* the RELP client's state (relp.c) */

struct forwarder {
    const char *region;
    ringlog_reader *r;
    int fd;
    struct sockaddr_un addr;
    socklen_t alen;
    /* syslog */
    int syslog, tcp, facility;
    struct relp *relp;          /* relp://: also tcp */
    long long peer_checked_ms; /* tcp://: when the server's side was last looked at */
    struct sockaddr_storage sa;
    socklen_t salen;
    char host[256];
    struct sbuf dgram, scratch;
    uint64_t sent, unsent, gaps, gap_calls;
};

/* Monotonic milliseconds; a nap. */
long long now_ms(void);
void sleep_ms(long ms);
/* (Re)connects f->fd to the syslog server; 0 or -1. */
int syslog_connect(struct forwarder *f);
/* writev all of it (short writes, EINTR); 0 or -1. */
int send_iov(int fd, struct iovec *iov, int n);

#endif
