/* service: server-side handlers for the /service channels. Messages published
 * there go to the handler registered for the channel, never to subscribers.
 *
 * Threads: handlers are registered by the main thread before the accept
 * threads start (the table is then read-only) and run on the accept thread
 * that received the message, with no lock held. A handler may publish with
 * deliver_publish or answer with deliver_to_session.
 */
#ifndef BAYEUX_SERVICE_H
#define BAYEUX_SERVICE_H

#include <json-c/json.h>

#include "buf.h"
#include "policy.h"
#include "session.h"

struct service_call {
    session_t *session;          /* the publisher (a reference is held for the call) */
    const char *channel;         /* the concrete /service/... channel */
    struct json_object *data;    /* the message's data, borrowed, may be NULL */
    const char *data_json;       /* data serialized, "null" when absent */
    size_t data_len;
    struct json_object *message; /* the whole message, borrowed */
    buf_t error_args;            /* handler may put the args of its error here */
    buf_t data_out;              /* a filter may put replacement data (JSON) here */
};

/* Returns BERR_NONE on success, or the Bayeux error for the publisher. */
typedef enum bayeux_error (*service_fn)(struct service_call *call, void *ctx);

/* Routes messages on channels matching `pattern` (may end in * or **) to fn.
 * The first registration that matches wins. Before threads start only. */
void service_register(const char *pattern, service_fn fn, void *ctx);

/* Runs the handler for call->channel. Unhandled channels succeed silently
 * (as CometD does). Returns the handler's result. */
enum bayeux_error service_dispatch(struct service_call *call);

/* A filter sees every publish to a broadcast channel matching its pattern
 * before it is delivered: it may refuse it (returns an error) or replace its
 * data (writes the new JSON into call->data_out). Same threads as handlers. */
typedef enum bayeux_error (*service_filter_fn)(struct service_call *call, void *ctx);
void service_register_filter(const char *pattern, service_filter_fn fn, void *ctx);

/* Runs the first filter matching call->channel; BERR_NONE when none does. */
enum bayeux_error service_filter(struct service_call *call);

/* Registers the built-in services (/service/echo). */
void service_register_builtin(void);

void service_clear(void);

#endif
