/* policy: who may do what on which channel, and every Bayeux error string.
 *
 * All protocol errors are built here, in the `code:args:message` form of the
 * Bayeux specification, so that codes stay consistent and documented in one
 * table (policy.c). Threads: any; no state.
 */
#ifndef BAYEUX_POLICY_H
#define BAYEUX_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum bayeux_error {
    BERR_NONE = 0,
    BERR_VERSION_UNSUPPORTED,      /* 300 */
    BERR_CONNECTION_TYPE,          /* 301 */
    BERR_CHANNEL_MISSING,          /* 400 */
    BERR_SUBSCRIPTION_MISSING,     /* 400 */
    BERR_DATA_MISSING,             /* 400 */
    BERR_CLIENT_ID_MISSING,        /* 402, with handshake advice */
    BERR_SESSION_UNKNOWN,          /* 402, with handshake advice */
    BERR_PUBLISH_DENIED,           /* 403 */
    BERR_SUBSCRIBE_DENIED,         /* 403 */
    BERR_CHANNEL_INVALID,          /* 405 */
    BERR_CONNECT_REPEATED,         /* 400: a second /meta/connect in one batch */
    BERR_INTERNAL,                 /* 500 */
    /* the chat service (chat.c) */
    BERR_ROOM_INVALID,             /* 400 */
    BERR_USER_INVALID,             /* 400 */
    BERR_CHAT_INVALID,             /* 400 */
    BERR_NOT_JOINED,               /* 403 */
    BERR_PEER_UNKNOWN,             /* 404 */
    BERR_NAME_TAKEN,               /* 409 */
    /* limits (config.h) and authorization */
    BERR_MESSAGE_TOO_LARGE,        /* 413, args: the limit in bytes */
    BERR_TOO_MANY_SUBSCRIPTIONS,   /* 403, args: the limit */
    BERR_PUBLISH_RATE,             /* 429, args: milliseconds until a publish is allowed */
    BERR_TOO_MANY_SESSIONS,        /* 503, with handshake advice after a pause */
    BERR_TOO_MANY_POLLS,           /* 503, with retry advice after a pause */
    BERR_HANDSHAKE_DENIED,         /* 403, with advice reconnect none */
    BERR_COUNT_
};

/* Appends "code:args:message" (as a raw string, not JSON-quoted) to out.
 * `args` may be NULL; it is truncated to 128 bytes. */
void policy_error_format(buf_t *out, enum bayeux_error err, const char *args);

/* Appends the advice object an error reply carries (e.g.
 * {"reconnect":"handshake","interval":0}) and returns true, or returns false
 * for errors without advice. */
bool policy_error_advice(buf_t *out, enum bayeux_error err);

/* Numeric code of an error (300..500). */
int policy_error_code(enum bayeux_error err);

/* Decides whether a session may publish to / subscribe to a channel name
 * that has already passed channel_name_check. Returns BERR_NONE or the error. */
enum bayeux_error policy_check_publish(const char *channel);
enum bayeux_error policy_check_subscribe(const char *subscription);

#endif
