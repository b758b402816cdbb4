/* session: the table of Bayeux sessions (clientId -> session), each
 * session's message queue and held connect, expiry after maxInterval.
 *
 * Threads: accept threads (handshake, connect, lookups, deliveries), the
 * sweeper (expiry) and the main thread (shutdown).
 *
 * Locks, in the project's one order:
 *   1. session table lock (session.c, rwlock) — the id -> session map;
 *   2. channel table lock (channel.c)          — subscriptions, both indexes;
 *   3. one session's `lock`                    — its queue, poll and timestamps;
 *   4. poll registry lock (poll.c)             — deadlines, browser counts.
 * A thread may skip levels but never take a lower-numbered lock while holding
 * a higher one. I/O (completing a poll) happens with no lock held.
 *
 * Ownership: sessions are reference-counted. The table holds one reference
 * until the session is removed; lookups hand out a reference the caller
 * releases. A removed session stays valid while references remain.
 */
#ifndef BAYEUX_SESSION_H
#define BAYEUX_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "poll.h"
#include "queue.h"

#define SESSION_ID_BYTES 16                     /* 128 random bits */
#define SESSION_ID_LEN (SESSION_ID_BYTES * 2)   /* as hex */

struct channel;

typedef struct session {
    char id[SESSION_ID_LEN + 1];   /* immutable */
    atomic_int refs;
    atomic_bool closed;            /* set once, under `lock`; readable anywhere */
    atomic_llong expires_at_ms;    /* 0 while a connect is held; see session_expire */
    /* the auth.h role: stored once by the handshake, before the clientId is
     * sent; atomic because the session is in the table before that store */
    _Atomic(const char *) role;

    /* guarded by the channel table lock (channel.c) */
    struct channel **subs;
    size_t nsubs, subs_cap;
    bool subs_closed;              /* no new subscriptions: the session is ending */

    /* guarded by `lock` */
    pthread_mutex_t lock;
    queue_t queue;                 /* outgoing messages (and, with acks, the unacknowledged) */
    uint64_t dropped;              /* messages dropped because the queue was full */
    poll_t *poll;                  /* the held connect, or NULL */
    bool connected;                /* a connect has been answered */
    bool advised_multiple;         /* the last advice sent was multiple-clients */
    char browser[SESSION_ID_LEN + 1];   /* its BAYEUX_BROWSER cookie, "" if none */
    double tokens;                 /* publish token bucket (config.publish_rate) */
    int64_t tokens_at_ms;          /* when tokens was last refilled */
} session_t;

/* Outcome of session_connect. */
enum connect_result {
    CONNECT_PARKED,    /* the poll is held; its conn now belongs to the session */
    CONNECT_FIRST,     /* first connect of the session: answer at once with advice */
    CONNECT_NOW,       /* answer at once (messages queued, or timeout 0) */
    CONNECT_MULTIPLE,  /* another session of this browser holds a connect */
    CONNECT_FULL,      /* config.max_polls connects are held: retry later */
    CONNECT_UNKNOWN    /* the session has ended */
};

typedef void (*session_end_fn)(session_t *s, void *ctx);

void session_table_init(void);
/* Answers every held connect (advice retry) and removes every session. */
void session_table_shutdown(void);

/* Fills out (SESSION_ID_LEN + 1 bytes) with 128 bits from the kernel CSPRNG
 * as hex. Returns 0, or -1 if the kernel could not supply randomness. */
int session_random_id(char *out);

/* Creates a session and adds it to the table. Returns it with one reference
 * for the caller, or NULL with errno EAGAIN when config.max_sessions exist,
 * or EIO when no random id could be made. */
session_t *session_create(void);

/* Returns the live session with this id and a reference, or NULL. */
session_t *session_lookup(const char *id);
session_t *session_ref(session_t *s);
void session_release(session_t *s);

/* Handles a /meta/connect: releases an older held connect (returned in
 * *replaced, to be completed by the caller with POLL_REPLACED); with acks,
 * drops what the client acknowledged (`ack`: its ext.ack, -1 if none), so
 * that anything sent but unacknowledged is answered at once; then either
 * parks p (held for timeout_ms, counted against `browser`) or tells the caller
 * to answer now. On anything but CONNECT_PARKED, p is untouched, the reply's
 * messages are in *msgs and *n (caller releases each message and frees
 * *msgs) and its ext.ack number in *ack_batch (-1 without acks); *advise
 * tells whether the reply must carry the standard advice (the first connect,
 * or the first after a multiple-clients advice). A parked poll gets that flag
 * in p->advise instead. */
enum connect_result session_connect(session_t *s, poll_t *p, const char *browser,
                                    long timeout_ms, int64_t ack, message_t ***msgs, size_t *n,
                                    poll_t **replaced, bool *advise, int64_t *ack_batch);

/* Turns the ack extension on for s (at handshake, before its first connect). */
void session_enable_ack(session_t *s);
/* The browser (BAYEUX_BROWSER cookie) of s: stored at handshake, copied out
 * (SESSION_ID_LEN + 1 bytes; "" when unknown). */
void session_set_browser(session_t *s, const char *browser);
void session_browser(session_t *s, char *out);

/* Takes one publish token from s's bucket (config.publish_rate per second,
 * up to config.publish_burst). Returns 0, or the milliseconds until a token
 * will be there (>= 1) when the bucket is empty. */
long session_take_publish_token(session_t *s);

/* Queues m (a new reference is taken) and answers the held connect if any. */
void session_enqueue(session_t *s, message_t *m);

/* Ends a session (disconnect): removes it from the table and every channel,
 * answers its held connect, calls the end listeners. Idempotent. */
void session_remove(session_t *s);

/* Sweeper: ends every session whose last connect ended more than maxInterval
 * ago with no connect since. Returns how many were expired. */
size_t session_expire(int64_t now_ms);

/* Sweeper: answers held connects whose timeout passed. Returns how many. */
size_t session_expire_polls(int64_t now_ms);

/* Sweeper: releases held connects the web server gave up (poll_conn_dead);
 * their sessions stay and queue what comes until the client reconnects.
 * Returns how many were released. */
size_t session_release_dead_polls(void);

/* Registers fn to be called (no locks held) when any session ends.
 * Only before threads start. */
void session_on_end(session_end_fn fn, void *ctx);

size_t session_count(void);

#endif
