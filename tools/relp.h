/*
 * ringlog forward --syslog relp://HOST:PORT: the RELP client (relp.c).
 */
#ifndef RINGLOG_TOOL_RELP_H
#define RINGLOG_TOOL_RELP_H

#include "transport.h"

struct relp *relp_new(void);
/* Queues f->dgram (an RFC 5424 message) and writes it; counts in f. */
void relp_send(struct forwarder *f);
/* Reads answers, reconnects a broken session: call while idle. */
void relp_pump(struct forwarder *f);
/* Waits (bounded) for the last answers, counts the rest unsent, closes. */
void relp_finish(struct forwarder *f);
uint64_t relp_resent(const struct relp *r);

#endif
