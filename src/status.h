/* status: the responder's state and counters as JSON, answered to a GET of
 * <endpoint>/status from a loopback address.
 *
 * Threads: any accept thread; reads the tables' counts and stats.h counters.
 */
#ifndef BAYEUX_STATUS_H
#define BAYEUX_STATUS_H

#include <stdbool.h>

#include "bayeux.h"
#include "request.h"

/* Records the start time for uptime. Before threads start. */
void status_init(void);

/* True when req is a status request; out then holds the reply (200 with the
 * JSON, or 404 for a client not on a loopback address). */
bool status_handle(const struct http_request *req, struct bayeux_reply *out);

#endif
