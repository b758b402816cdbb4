/* queue: one session's outgoing messages — a ring of shared message
 * references, bounded, with the batches of the ack extension.
 *
 * Threads: none of its own; every queue is guarded by its session's lock.
 *
 * Without acks a reply takes the queue's messages away. With acks (the
 * Bayeux ack extension) a reply only marks them sent with a batch number;
 * they stay until the client acknowledges that batch on a later connect, and
 * everything sent but not acknowledged goes out again, in order, before newer
 * messages. The ring is [sent, awaiting ack | not yet sent].
 */
#ifndef BAYEUX_QUEUE_H
#define BAYEUX_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"

struct queue_entry {
    message_t *msg;       /* one reference, owned by the queue */
    uint64_t batch;       /* the reply that carried it; 0 while not yet sent */
};

typedef struct queue {
    struct queue_entry *ring;
    size_t head, len, cap;
    size_t sent;          /* ack: the first `sent` entries await an ack */
    uint64_t batch;       /* ack: number of the last reply that carried messages */
    bool ack;             /* the ack extension is on for this queue */
} queue_t;

/* Appends m (takes a new reference). When the queue holds `max` entries the
 * oldest (sent or not) is dropped first; returns true then. */
bool queue_push(queue_t *q, message_t *m, size_t max);

/* The messages for a reply, oldest first, in a new array with a reference
 * each (caller releases them and frees the array); *n gets the count.
 * Without acks the queue is emptied. With acks the messages stay: the unsent
 * ones are marked with a new batch number, and *batch gets the number the
 * reply must carry (also when there are no messages); *resent the count of
 * messages that had been sent before. Without acks *batch is -1. */
message_t **queue_take(queue_t *q, size_t *n, int64_t *batch, size_t *resent);

/* The client received every reply up to `batch`: drops what they carried.
 * A negative batch (a connect without ext.ack) acknowledges all sent. */
void queue_ack(queue_t *q, int64_t batch);

/* Messages waiting: sent-unacknowledged and unsent. */
static inline size_t queue_length(const queue_t *q)
{
    return q->len;
}

/* Drops every entry and frees the ring. */
void queue_release(queue_t *q);

#endif
