/* fake_conn: a stand-in for the transport's connection in unit tests — the
 * poll registry's completion callback records the reply into it.
 */
#ifndef BAYEUX_TESTS_FAKE_CONN_H
#define BAYEUX_TESTS_FAKE_CONN_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct fake_conn {
    int completed;          /* times the reply was written (must end at 1) */
    bool dead;              /* the web server gave it up (watch.h) */
    int status;
    char content_type[64];
    char *body;
};

static inline void fake_complete(void *conn, int status, const char *content_type,
                                 const char *extra_headers, const char *body, size_t len)
{
    (void)extra_headers;
    struct fake_conn *c = conn;
    c->completed++;
    c->status = status;
    snprintf(c->content_type, sizeof c->content_type, "%s", content_type);
    free(c->body);
    c->body = xstrndup(body, len);
}

static inline bool fake_dead(void *conn)
{
    return ((struct fake_conn *)conn)->dead;
}

static inline void fake_reset(struct fake_conn *c)
{
    free(c->body);
    memset(c, 0, sizeof *c);
}

#endif
