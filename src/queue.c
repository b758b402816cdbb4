/* queue: ring buffer of message references with ack batches.
 *
 * Threads: callers hold the owning session's lock; nothing here locks.
 */
#include "queue.h"

#include <stdlib.h>

#include "buf.h"

static struct queue_entry *at(const queue_t *q, size_t i)
{
    return &q->ring[(q->head + i) % q->cap];
}

/* Removes the oldest entry, releasing its message. */
static void pop_front(queue_t *q)
{
    struct queue_entry *e = at(q, 0);
    message_release(e->msg);
    q->head = (q->head + 1) % q->cap;
    q->len--;
    if (q->sent)
        q->sent--;
}

bool queue_push(queue_t *q, message_t *m, size_t max)
{
    bool dropped = false;
    if (q->len >= max && q->len > 0) {
        pop_front(q);
        dropped = true;
    }
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        struct queue_entry *r = xmalloc(cap * sizeof *r);
        for (size_t i = 0; i < q->len; i++)
            r[i] = *at(q, i);
        free(q->ring);
        q->ring = r;
        q->cap = cap;
        q->head = 0;
    }
    *at(q, q->len) = (struct queue_entry){ .msg = message_ref(m), .batch = 0 };
    q->len++;
    return dropped;
}

message_t **queue_take(queue_t *q, size_t *n, int64_t *batch, size_t *resent)
{
    *n = q->len;
    *resent = q->ack ? q->sent : 0;
    if (!q->len) {
        *batch = q->ack ? (int64_t)q->batch : -1;
        return NULL;
    }
    message_t **out = xmalloc(q->len * sizeof *out);
    if (!q->ack) {
        for (size_t i = 0; i < q->len; i++)
            out[i] = at(q, i)->msg;   /* the queue's references move out */
        q->head = q->len = 0;
        *batch = -1;
        return out;
    }
    /* every reply with messages gets a number of its own: the client acking
     * it proves it got all that was sent up to then */
    q->batch++;
    for (size_t i = 0; i < q->len; i++) {
        struct queue_entry *e = at(q, i);
        out[i] = message_ref(e->msg);
        if (i >= q->sent)
            e->batch = q->batch;
    }
    q->sent = q->len;
    *batch = (int64_t)q->batch;
    return out;
}

void queue_ack(queue_t *q, int64_t batch)
{
    while (q->sent > 0 && (batch < 0 || at(q, 0)->batch <= (uint64_t)batch))
        pop_front(q);
}

void queue_release(queue_t *q)
{
    while (q->len)
        pop_front(q);
    free(q->ring);
    q->ring = NULL;
    q->cap = q->head = q->sent = 0;
}
