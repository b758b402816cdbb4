/* backplane_internal: what the backplane's files share — the wire
 * constants, the outgoing queue item, the one state struct `bp` (defined in
 * backplane.c; its lock is documented there and in backplane.h), and the
 * connection helpers both threads use. Not for other modules.
 */
#ifndef BAYEUX_BACKPLANE_INTERNAL_H
#define BAYEUX_BACKPLANE_INTERNAL_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "message.h"
#include "session.h"

#define BACKPLANE_CHANNEL "bayeux-fcgi:publish"
#define MEMBERS_PREFIX "bayeux-fcgi:members:"
#define SNAPSHOT_CHUNK 512        /* members per HSET in a snapshot */
#define QUEUE_MAX 100000          /* outgoing messages waiting for Redis */
#define BATCH_MAX 256             /* PUBLISH commands pipelined at once */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 2000

enum out_kind { OUT_MESSAGE, OUT_JOIN, OUT_LEAVE, OUT_PRIVATE };

struct outgoing {
    enum out_kind kind;
    char *text;          /* channel | "<room>\n<user>" | "<room>\n<peers>" */
    message_t *msg;      /* OUT_MESSAGE, OUT_PRIVATE */
    uint64_t seq;        /* OUT_JOIN, OUT_LEAVE */
    char browser[SESSION_ID_LEN + 1];   /* OUT_JOIN: the member's, or "" */
};

struct backplane_state {
    pthread_mutex_t lock;         /* guards everything below it */
    pthread_cond_t wake;          /* the queue got a message, or stop */
    struct outgoing *ring;        /* QUEUE_MAX slots */
    size_t head, len;
    bool stop;
    redisContext *sub_ctx;        /* the subscriber's connection, for stop */
    bool pub_up, sub_up;          /* connected (for status) */
    uint64_t seq;                 /* the last member change queued */
    bool resync;                  /* a change was dropped: snapshot again */

    /* set once before the threads start */
    bool enabled;
    char host[256];
    int port;
    char node[SESSION_ID_LEN + 1];
    char key[sizeof MEMBERS_PREFIX + SESSION_ID_LEN];   /* our members hash */
    pthread_t pub_thread, sub_thread;

    atomic_uint_fast64_t sent, received, dropped, reconnects;
};

extern struct backplane_state bp;

/* Connects, retrying with back-off until it works or stop; the subscriber
 * passes tick so silent nodes are dropped while Redis is away. Returns the
 * context (owned by the caller) or NULL on stop. */
redisContext *backplane_connect(const char *what, bool *up, bool tick);
/* Waits ms or until stop (ticking the cluster every heartbeat when tick);
 * true on stop. */
bool backplane_wait(long ms, bool tick);
/* The next wait of a back-off: returns *ms and doubles it, up to the
 * maximum. A connection Redis accepts and drops at once (protected mode,
 * an error reply) must not be retried in a tight loop. */
long backplane_backoff(long *ms);
/* true once backplane_stop began. */
bool backplane_stopping(void);
/* cluster_load_fn over HGETALL (backplane_sub.c, subscriber thread). */
struct cluster_member;
int backplane_load_members(const char *node, uint64_t *seq, struct cluster_member **v, size_t *n);
/* The subscriber thread (backplane_sub.c). */
void *backplane_subscriber_loop(void *arg);

#endif
