/* backplane: several responders as one chat service, joined through Redis
 * pub/sub (--redis URL). Every broadcast a client publishes here is also
 * published to Redis; every broadcast another responder published there is
 * delivered to the subscribers here. Without --redis nothing of this runs.
 *
 * Threads: accept threads queue outgoing messages (backplane_publish); a
 * publisher thread sends them to Redis, pipelined; a subscriber thread
 * receives the other responders' messages and delivers them locally.
 * Lock: `bp.lock` (backplane.c) guards the outgoing queue, the state and
 * the subscriber's connection pointer; it is a leaf: nothing else is locked
 * while it is held and no I/O happens under it.
 *
 * Each responder has a random node id that travels with its messages; a
 * node skips its own messages coming back from Redis, as it delivered them
 * locally already: every subscriber gets a message exactly once.
 *
 * Chat membership: each node writes its members to a Redis hash that
 * expires unless the node heartbeats, and announces every change; the
 * subscriber feeds the others' changes to cluster.c (consistency rules
 * there). After every (re)connect the publisher writes the whole local
 * membership again, so a Redis that restarted empty is refilled.
 */
#ifndef BAYEUX_BACKPLANE_H
#define BAYEUX_BACKPLANE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "message.h"

/* Checks --redis before anything opens: returns 0 (also for NULL), or -1
 * after logging a bad URL. */
int backplane_check_url(const char *url);
/* Parses redis://HOST[:PORT] (or HOST:PORT) and starts the two threads;
 * connecting happens in them, with retries, so a Redis that is down at start
 * only delays cross-node delivery. Returns 0, or -1 after logging (bad URL,
 * no threads). */
int backplane_start(const char *url);
void backplane_stop(void);

/* Queues m (a reference is taken) for the other responders. No-op without
 * --redis. Past the queue bound the oldest waiting message is dropped. */
void backplane_publish(const char *channel, message_t *m);

/* A member of this responder joined (left) a room: queued for the members
 * hash and the other responders, in order with the change counter. Called
 * under the chat lock (lock order: chat, then backplane). No-op without
 * --redis. */
void backplane_member_join(const char *room, const char *user, const char *browser);
void backplane_member_leave(const char *room, const char *user);
/* A private message for the named members (peers[0..n)) of `room` on
 * other responders; m is referenced. No-op without --redis. */
void backplane_private(const char *room, const char *const *peers, size_t n, message_t *m);

/* Appends the backplane's state as a JSON object member ("redis":{...}),
 * or nothing without --redis. */
void backplane_status_json(buf_t *out);
/* The same in the Prometheus text format (bayeux_redis_*), or nothing. */
void backplane_status_prometheus(buf_t *out);

#endif
