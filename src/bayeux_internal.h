/* bayeux_internal: state of one batch while its messages are processed,
 * shared by bayeux.c (framing, routing, publish) and bayeux_meta.c (the
 * /meta handlers). Threads: the request's accept thread only.
 */
#ifndef BAYEUX_BAYEUX_INTERNAL_H
#define BAYEUX_BAYEUX_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>

#include "bayeux.h"
#include "buf.h"
#include "policy.h"
#include "request.h"
#include "session.h"

struct batch {
    const struct http_request *http;
    const struct decoded_request *req;
    buf_t before;            /* replies so far: "r1,r2," */
    buf_t after;             /* replies after the held connect: ",r3,r4" */
    bool deferred;           /* a connect is waiting for the end of the batch */
    session_t *connect_session;  /* its session (reference) */
    char *connect_id;        /* its id as JSON, or NULL */
    long connect_timeout;
    int64_t connect_ack;     /* its ext.ack (ack extension), -1 if none */
    char headers[BAYEUX_HEADERS_MAX];
};

/* One message being processed: its parsed fields. */
struct msg {
    struct json_object *obj;
    const char *channel;     /* NULL if missing */
    bool channel_invalid;    /* the channel string holds a NUL (channel is cut there) */
    char *id;                /* the id serialized as JSON, or NULL; owned */
    const char *client_id;   /* NULL if missing */
};

/* Starts a reply object in the batch: `{"id":..,"channel":..,` — the caller
 * appends its fields and calls reply_end. */
buf_t *reply_begin(struct batch *b, const struct msg *m);
void reply_end(struct batch *b, buf_t *r);

/* Appends a whole failed reply with the error and, where the error needs it,
 * handshake advice. extra_field (e.g. the echoed subscription) may be NULL. */
void reply_error(struct batch *b, const struct msg *m, enum bayeux_error err,
                 const char *args, const char *extra_field);

/* reply_error with a number (a limit, a wait in ms) as the error's args. */
void reply_error_count(struct batch *b, const struct msg *m, enum bayeux_error err,
                       unsigned long long n, const char *extra_field);

/* Looks up m's session: on failure appends the error reply and returns NULL. */
session_t *batch_session(struct batch *b, const struct msg *m);

void meta_handshake(struct batch *b, const struct msg *m);
void meta_connect(struct batch *b, const struct msg *m);
void meta_subscribe(struct batch *b, const struct msg *m, bool subscribe);
void meta_disconnect(struct batch *b, const struct msg *m);

#endif
