/* stats: the responder's counters — messages in, out and dropped, limits hit,
 * errors by code — for the status endpoint and the logs.
 *
 * Threads: any thread counts; counters are relaxed atomics, read as a
 * snapshot that is consistent per counter, not across counters.
 */
#ifndef BAYEUX_STATS_H
#define BAYEUX_STATS_H

#include <stdint.h>

#include "buf.h"

enum stat_counter {
    STAT_REQUESTS,          /* requests answered or held */
    STAT_PUBLISHED,         /* broadcast messages accepted */
    STAT_QUEUED,            /* message copies queued to sessions (fan-out) */
    STAT_DROPPED,           /* queued messages dropped: a session's queue was full */
    STAT_RESENT,            /* messages sent again after a lost reply (ack extension) */
    STAT_SESSIONS_EXPIRED,
    STAT_LIMIT_BODY,        /* HTTP 413: body too large */
    STAT_LIMIT_BATCH,       /* HTTP 413: too many messages in a request */
    STAT_LIMIT_MESSAGE,
    STAT_LIMIT_SUBSCRIPTIONS,
    STAT_LIMIT_SESSIONS,
    STAT_LIMIT_POLLS,
    STAT_LIMIT_RATE,
    STAT_HTTP_ERRORS,       /* requests answered with an HTTP error status */
    STAT_COUNT_
};

void stats_add(enum stat_counter c, uint64_t n);
uint64_t stats_get(enum stat_counter c);

/* Counts one Bayeux error reply with this code (300..599). */
void stats_error(int code);

/* Appends the counters as JSON object members ("name":n,...), no braces. */
void stats_json(buf_t *out);
/* The counters in the Prometheus text format (bayeux_<name>_total, and
 * bayeux_errors_total{code="..."}), with HELP and TYPE lines. */
void stats_prometheus(buf_t *out);

#endif
