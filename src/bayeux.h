/* bayeux: the protocol engine — one HTTP request in, one HTTP reply out (or
 * a held connect): decode, parse the batch, validate each message, run meta
 * handlers, publish, and frame the replies. No FastCGI types here.
 *
 * Threads: any accept thread; each call works on its own request. json-c
 * objects never leave the calling thread; what crosses threads is bytes.
 */
#ifndef BAYEUX_BAYEUX_H
#define BAYEUX_BAYEUX_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

#define BAYEUX_HEADERS_MAX 256

struct bayeux_reply {
    bool parked;                       /* conn now belongs to a held connect */
    int status;                        /* HTTP status, when not parked */
    const char *content_type;          /* static string */
    char headers[BAYEUX_HEADERS_MAX];  /* extra header lines, each ending "\r\n" */
    char *body;                        /* owned by the reply; bayeux_reply_release */
    size_t len;
};

/* Handles req. `conn` is the transport's handle for this request: when the
 * reply is a held connect, out->parked is true and the poll registry now owns
 * conn (it will complete it through the transport's callback). Otherwise the
 * caller sends out->status/body on conn itself. */
void bayeux_handle(const struct http_request *req, void *conn, struct bayeux_reply *out);

void bayeux_reply_release(struct bayeux_reply *out);

#endif
