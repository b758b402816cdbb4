/* poll: the registry of held /meta/connect requests ("polls"): their
 * deadlines, how many each browser holds, and how a held poll is completed —
 * through the callback the transport registered.
 *
 * Threads: accept threads park polls; accept threads (deliveries), the sweeper
 * (timeouts) and the main thread (shutdown) complete them.
 *
 * Ownership: a poll owns the transport's connection handle until it is
 * completed; completing writes the reply through the transport callback and
 * frees the poll. A parked poll belongs to its session (session->poll); the
 * heap here only indexes it. Whoever detaches it from the session completes it.
 *
 * Lock: `registry.lock` (poll.c) guards the deadline heap, each poll's
 * heap_index and the per-browser counts. Lock order: session lock, then the
 * registry lock; nothing is locked while holding the registry lock.
 */
#ifndef BAYEUX_POLL_H
#define BAYEUX_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "message.h"
#include "request.h"

/* Why a held poll is answered; decides the advice in the connect reply. */
enum poll_reason {
    POLL_MESSAGES,     /* messages arrived */
    POLL_TIMEOUT,      /* the timeout passed */
    POLL_REPLACED,     /* a newer connect of the same session arrived */
    POLL_CLOSED,       /* the session ended (disconnect, expiry) */
    POLL_SHUTDOWN,     /* the server is stopping */
    POLL_MULTIPLE,     /* (never held) another session of the browser holds one */
    POLL_ABANDONED     /* the web server gave the request up (its client reset) */
};

/* The transport's completion callback: writes an HTTP response on conn and
 * finishes it. Takes ownership of conn; body stays owned by the caller. */
typedef void (*poll_complete_fn)(void *conn, int status, const char *content_type,
                                 const char *extra_headers, const char *body, size_t len);

/* The transport's hang-up test: true when the web server has closed conn
 * (nobody will read a reply). Must be cheap and safe on a live conn. */
typedef bool (*poll_dead_fn)(void *conn);

typedef struct poll {
    void *conn;                     /* transport handle, owned */
    void *owner;                    /* the session holding this poll (not a reference) */
    int64_t deadline_ms;
    size_t heap_index;              /* SIZE_MAX when not in the heap; registry lock */
    const char *browser;            /* the browser it is counted against while
                                       parked (the registry's copy), or NULL */
    bool advise;                    /* the reply carries the standard advice */
    int64_t ack_batch;              /* ack extension: the batch number the reply
                                       carries in ext.ack, or -1; set by the
                                       owner under its lock before completing */
    /* the strings below live in `text`, allocated with the poll: a held poll
     * is one allocation of ~100 bytes plus the transport's conn */
    const char *before;             /* replies that precede the connect reply, "" or "a,b," */
    const char *after;              /* replies that follow it, "" or ",a,b" */
    const char *connect_id;         /* JSON of the connect's id, or NULL */
    const char *jsonp;              /* callback name, "" for JSON */
    char text[];
} poll_t;

void poll_registry_init(poll_complete_fn complete, poll_dead_fn dead);

/* Called by the transport (any thread) when some held request hung up:
 * the next poll_registry_collect_dead looks for them. */
void poll_registry_hangup(void);

/* If a hang-up was signalled since the last call, calls take(owner, ctx)
 * for every parked poll whose conn is dead, under the registry lock (take
 * may only take a reference on the owner); the polls stay parked. Returns
 * how many were found. */
size_t poll_registry_collect_dead(void (*take)(void *owner, void *ctx), void *ctx);

/* True when p's connection was given up by the web server. */
bool poll_conn_dead(const poll_t *p);
void poll_registry_shutdown(void);

/* Creates a poll that owns conn. before/after/connect_id are copied. */
poll_t *poll_create(void *conn, const char *jsonp, const char *before, const char *after,
                    const char *connect_id);

/* Outcome of poll_registry_park. */
enum park_result {
    PARK_OK,
    PARK_BROWSER_FULL,   /* the browser already holds max_per_browser polls */
    PARK_FULL            /* max_total polls are held */
};

/* Indexes p with its deadline and, when browser is not empty, counts it
 * against that browser (p->browser then points at the registry's copy).
 * Anything but PARK_OK leaves nothing changed. Call with the owner's session
 * lock held. */
enum park_result poll_registry_park(poll_t *p, const char *browser, int max_per_browser,
                                    size_t max_total);

/* Frees a poll that was never parked and returns its connection handle. */
void *poll_discard(poll_t *p);

/* Removes p from the index if it is there and uncounts its browser. Call with
 * the owner's session lock held, after detaching p from the session. */
void poll_registry_unpark(poll_t *p);

/* Removes every poll whose deadline is <= now from the index and calls
 * take(owner, ctx) for each, under the registry lock: take may only take a
 * reference on the owner. Returns the number taken. */
size_t poll_registry_expire(int64_t now_ms, void (*take)(void *owner, void *ctx), void *ctx);

/* Number of polls currently parked. */
size_t poll_registry_count(void);

/* Builds the reply of a held connect — its jsonp wrapper, the messages, the
 * batch's other replies and the connect reply for `reason` — writes it through
 * the transport callback and frees p. msgs are borrowed. */
void poll_complete(poll_t *p, enum poll_reason reason, message_t *const *msgs, size_t n);

/* Writes the body of a reply array: [m1,m2,...,<replies>] where replies is
 * already-joined JSON ("" for none), wrapped as /​**​/cb(...); when jsonp is set.
 * Shared by immediate replies and completed polls. */
void poll_build_body(buf_t *out, const char *jsonp, message_t *const *msgs, size_t n,
                     const char *replies, size_t replies_len);

/* The connect reply for a completion reason, appended to out. `advise` adds
 * the standard advice (first connect, or advice changed back) where the
 * reason has no advice of its own; ack_batch >= 0 adds ext.ack. */
void poll_connect_reply(buf_t *out, const char *connect_id, enum poll_reason reason, bool advise,
                        int64_t ack_batch);

/* The server's standard advice object: reconnect retry, interval, timeout. */
void poll_advice_standard(buf_t *out);

/* Content type for a reply: JSON or, with a callback, JavaScript. */
const char *poll_content_type(const char *jsonp);

/* Sends an immediate (non-held) reply through the transport callback. */
void poll_send(void *conn, int status, const char *content_type, const char *extra_headers,
               const char *body, size_t len);

int64_t poll_now_ms(void);

/* The absolute time ms from now on `clock`, for pthread timed waits. */
struct timespec poll_deadline(clockid_t clock, long ms);

#endif
