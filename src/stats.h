/* stats: the responder's counters — messages in, out and dropped, limits hit,
 * errors by code, the queue high-water mark and the delivery latency
 * histogram — for the status endpoint and the logs.
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
    STAT_DELIVERED,         /* message copies sent to clients in replies */
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
/* A limit was hit: counts it (c is a STAT_LIMIT_* counter) and logs it, at
 * most one line per limit every LOG_THROTTLE_MS; the limits that protect
 * the server (sessions, polls) at warn, those on one client's requests at info. */
void stats_limit(enum stat_counter c);
uint64_t stats_get(enum stat_counter c);

/* Counts one Bayeux error reply with this code (300..599). */
void stats_error(int code);

/* A session's queue holds `len` messages: raises the high-water mark. */
void stats_queue_depth(size_t len);
uint64_t stats_queue_high_water(void);

/* One message went out `ms` after it was made (published here or received
 * from another responder): counted in the delivery latency histogram. */
void stats_delivery_latency(int64_t ms);

/* Appends "delivery_latency_ms":{count, mean, p50, p90, p99, max} (the
 * percentiles are the upper bounds of their histogram buckets). */
void stats_latency_json(buf_t *out);

/* Appends the counters as JSON object members ("name":n,...), no braces. */
void stats_json(buf_t *out);
/* The counters in the Prometheus text format (bayeux_<name>_total, and
 * bayeux_errors_total{code="..."}), the queue high-water mark and the
 * histogram bayeux_delivery_latency_seconds, with HELP and TYPE lines. */
void stats_prometheus(buf_t *out);

/* One metric in the Prometheus text format: HELP, TYPE ("gauge" or
 * "counter") and the sample bayeux_<name> (counters: name ends in _total). */
void stats_prometheus_metric(buf_t *out, const char *name, const char *type, const char *help, double v);

#endif
