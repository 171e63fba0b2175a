/*
 * ringlog_queue — a bounded, in-process, multi-producer pop-all queue.
 *
 * The flight-recorder queue of the second seed design: producers push
 * fixed-size items without locks, never fail and never block; when the
 * queue is full the oldest item is overwritten and counted.  One consumer
 * takes everything queued in a single step (pop-all) and then walks it with
 * plain loads, in push order.  All memory is allocated at create.
 *
 * Concurrency contract:
 *   ringlog_queue_push       any number of threads at once, signal handlers
 *                            included (async-signal-safe, lock-free)
 *   ringlog_queue_pop_all,
 *   ringlog_queue_release    one consumer thread at a time; one batch held
 *                            at a time (release it before the next pop-all)
 *   ringlog_queue_stats      anyone, any time
 * docs/DESIGN.md ("The pop-all queue") gives the protocol.
 */
#ifndef RINGLOG_QUEUE_H
#define RINGLOG_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "ringlog.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ringlog_queue ringlog_queue;

struct ringlog_queue_options {
    size_t capacity;  /* items held before the oldest is overwritten; default 4096.
                         Keep it above the number of pushes that can be in
                         progress at once (threads, plus signal handlers that
                         push): a push is dropped only when every slot is
                         being written by another push at that instant */
    size_t item_size; /* largest item in bytes; default 64 */
};

/* A popped batch: walk it with ringlog_queue_next, then release it.
 * Only `count` is for the caller; the rest is the walk's state. */
struct ringlog_queue_batch {
    size_t count; /* items in the batch */
    ringlog_queue *q;
    unsigned lane;
    uint64_t next_ticket, end_ticket;
    size_t late_next, late_count;
};

struct ringlog_queue_stats {
    uint64_t pushed;      /* push calls */
    uint64_t popped;      /* items handed to the consumer */
    uint64_t overwritten; /* items overwritten before they were popped */
    uint64_t dropped;     /* pushes that found every slot mid-write (see DESIGN.md) */
    uint64_t queued;      /* items waiting now (exact at quiescence) */
};

RINGLOG_API int ringlog_queue_create(const struct ringlog_queue_options *opts,
                                     ringlog_queue **out);
RINGLOG_API void ringlog_queue_destroy(ringlog_queue *q);

/* Copies `len` bytes (<= item_size, else truncated and counted as one push)
 * into the queue.  Returns 0, or 1 when an older item was overwritten to make
 * room, or RINGLOG_DROPPED in the case described in DESIGN.md. */
RINGLOG_API int ringlog_queue_push(ringlog_queue *q, const void *item, size_t len);

/* Takes everything queued.  Returns the number of items (0 at once when the
 * queue is empty), or RINGLOG_EBUSY if the previous batch was not released. */
RINGLOG_API long ringlog_queue_pop_all(ringlog_queue *q, struct ringlog_queue_batch *b);
/* Next item of the batch in push order, or NULL at the end. */
RINGLOG_API const void *ringlog_queue_next(struct ringlog_queue_batch *b, size_t *len);
/* Gives the batch's memory back to the producers. */
RINGLOG_API void ringlog_queue_release(struct ringlog_queue_batch *b);

RINGLOG_API void ringlog_queue_stats(ringlog_queue *q, struct ringlog_queue_stats *s);

#ifdef __cplusplus
}
#endif
#endif
