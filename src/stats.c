/* stats: relaxed atomic counters, the queue high-water mark and the delivery
 * latency histogram, in JSON and the Prometheus text format.
 *
 * Threads: any. No locks: each figure is one atomic, and a reader wants
 * figures, not a consistent cut.
 */
#include "stats.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>

#include "log.h"

static atomic_uint_fast64_t counters[STAT_COUNT_];
static atomic_uint_fast64_t queue_high_water;

/* Delivery latency: fixed buckets (upper bounds in ms; the last is +Inf),
 * one atomic each, so counting costs one add and no lock. */
static const int64_t latency_le_ms[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000 };
#define LATENCY_BUCKETS (sizeof latency_le_ms / sizeof *latency_le_ms + 1)
static struct {
    atomic_uint_fast64_t bucket[LATENCY_BUCKETS];   /* not cumulative */
    atomic_uint_fast64_t sum_ms, max_ms;   /* the count is the buckets' total */
} latency;

/* Bayeux error codes are three digits, 300..599 */
#define ERROR_CODE_MIN 300
#define ERROR_CODE_MAX 599
static atomic_uint_fast64_t errors[ERROR_CODE_MAX - ERROR_CODE_MIN + 1];

/* Each counter's name (its JSON key; bayeux_<name>_total in Prometheus)
 * and what it counts. */
static const struct {
    const char *name, *help;
    int log;   /* limits: the level stats_limit logs at */
} counter_info[STAT_COUNT_] = {
    [STAT_REQUESTS] = { "requests", "Requests answered or held." },
    [STAT_PUBLISHED] = { "messages_published", "Broadcast messages accepted." },
    [STAT_QUEUED] = { "messages_queued", "Message copies queued to sessions (fan-out, the chat's own lists and notices included)." },
    [STAT_DELIVERED] = { "messages_delivered", "Message copies sent to clients in replies (resent ones included)." },
    [STAT_DROPPED] = { "messages_dropped", "Queued messages dropped because a session's queue was full." },
    [STAT_RESENT] = { "messages_resent", "Messages sent again after a lost reply (ack extension)." },
    [STAT_SESSIONS_EXPIRED] = { "sessions_expired", "Sessions expired after max-interval without a connect." },
    [STAT_LIMIT_BODY] = { "limit_body", "Requests refused: body over --max-body.", LOG_INFO },
    [STAT_LIMIT_BATCH] = { "limit_batch", "Requests refused: more messages than --max-batch.", LOG_INFO },
    [STAT_LIMIT_MESSAGE] = { "limit_message", "Messages refused: over --max-message.", LOG_INFO },
    [STAT_LIMIT_SUBSCRIPTIONS] = { "limit_subscriptions", "Subscribes refused: over --max-subscriptions.", LOG_INFO },
    [STAT_LIMIT_SESSIONS] = { "limit_sessions", "Handshakes refused: --max-sessions reached.", LOG_WARN },
    [STAT_LIMIT_POLLS] = { "limit_polls", "Connects refused: --max-polls reached.", LOG_WARN },
    [STAT_LIMIT_RATE] = { "limit_publish_rate", "Publishes refused: over --publish-rate.", LOG_INFO },
    [STAT_HTTP_ERRORS] = { "http_errors", "Requests answered with an HTTP error status." },
};

void stats_add(enum stat_counter c, uint64_t n)
{
    assert(c < STAT_COUNT_);
    atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

void stats_limit(enum stat_counter c)
{
    static struct log_throttle throttle[STAT_COUNT_];
    assert(c >= STAT_LIMIT_BODY && c <= STAT_LIMIT_RATE);
    stats_add(c, 1);
    log_throttled(&throttle[c], (enum log_level)counter_info[c].log, "limit: %s", counter_info[c].help);
}

uint64_t stats_get(enum stat_counter c)
{
    assert(c < STAT_COUNT_);
    return atomic_load_explicit(&counters[c], memory_order_relaxed);
}

void stats_error(int code)
{
    if (code >= ERROR_CODE_MIN && code <= ERROR_CODE_MAX)
        atomic_fetch_add_explicit(&errors[code - ERROR_CODE_MIN], 1, memory_order_relaxed);
}

/* Raises *v to at least x. */
static void atomic_max(atomic_uint_fast64_t *v, uint64_t x)
{
    uint_fast64_t cur = atomic_load_explicit(v, memory_order_relaxed);
    while (cur < x && !atomic_compare_exchange_weak_explicit(v, &cur, x, memory_order_relaxed,
                                                               memory_order_relaxed))
        ;
}

void stats_queue_depth(size_t len)
{
    atomic_max(&queue_high_water, len);
}

uint64_t stats_queue_high_water(void)
{
    return atomic_load_explicit(&queue_high_water, memory_order_relaxed);
}

void stats_delivery_latency(int64_t ms)
{
    if (ms < 0)
        ms = 0;
    size_t i = 0;
    while (i < LATENCY_BUCKETS - 1 && ms > latency_le_ms[i])
        i++;
    atomic_fetch_add_explicit(&latency.bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency.sum_ms, (uint64_t)ms, memory_order_relaxed);
    atomic_max(&latency.max_ms, (uint64_t)ms);
}

/* A snapshot of the histogram. */
struct latency_snap {
    uint64_t bucket[LATENCY_BUCKETS], count, sum_ms, max_ms;
};

static void latency_snapshot(struct latency_snap *s)
{
    s->count = 0;
    for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
        s->bucket[i] = atomic_load_explicit(&latency.bucket[i], memory_order_relaxed);
        s->count += s->bucket[i];   /* the buckets' own total: percentiles stay in range */
    }
    s->sum_ms = atomic_load_explicit(&latency.sum_ms, memory_order_relaxed);
    s->max_ms = atomic_load_explicit(&latency.max_ms, memory_order_relaxed);
}

/* The upper bound of the bucket holding the q-th quantile (the maximum for
 * the last bucket, or when it is lower); 0 with no samples. */
static uint64_t latency_quantile(const struct latency_snap *s, double q)
{
    if (!s->count)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)s->count + 0.5), seen = 0;
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < LATENCY_BUCKETS - 1; i++) {
        seen += s->bucket[i];
        if (seen >= rank)
            return (uint64_t)latency_le_ms[i] < s->max_ms ? (uint64_t)latency_le_ms[i] : s->max_ms;
    }
    return s->max_ms;
}

void stats_latency_json(buf_t *out)
{
    struct latency_snap s;
    latency_snapshot(&s);
    buf_printf(out, "\"delivery_latency_ms\":{\"count\":%llu,\"mean\":%.1f,\"p50\":%llu,\"p90\":%llu,"
                    "\"p99\":%llu,\"max\":%llu}",
               (unsigned long long)s.count, s.count ? (double)s.sum_ms / (double)s.count : 0.0,
               (unsigned long long)latency_quantile(&s, 0.5), (unsigned long long)latency_quantile(&s, 0.9),
               (unsigned long long)latency_quantile(&s, 0.99), (unsigned long long)s.max_ms);
}

void stats_json(buf_t *out)
{
    for (int i = 0; i < STAT_COUNT_; i++)
        buf_printf(out, "%s\"%s\":%llu", i ? "," : "", counter_info[i].name,
                   (unsigned long long)stats_get((enum stat_counter)i));
    buf_puts(out, ",\"errors\":{");
    int first = 1;
    for (int code = ERROR_CODE_MIN; code <= ERROR_CODE_MAX; code++) {
        uint64_t n = atomic_load_explicit(&errors[code - ERROR_CODE_MIN], memory_order_relaxed);
        if (!n)
            continue;
        buf_printf(out, "%s\"%d\":%llu", first ? "" : ",", code, (unsigned long long)n);
        first = 0;
    }
    buf_putc(out, '}');
}

void stats_prometheus_metric(buf_t *out, const char *name, const char *type, const char *help, double v)
{
    buf_printf(out, "# HELP bayeux_%s %s\n# TYPE bayeux_%s %s\nbayeux_%s %.0f\n", name, help, name, type, name, v);
}

void stats_prometheus(buf_t *out)
{
    for (int i = 0; i < STAT_COUNT_; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s_total", counter_info[i].name);
        stats_prometheus_metric(out, name, "counter", counter_info[i].help,
                                (double)stats_get((enum stat_counter)i));
    }
    buf_puts(out, "# HELP bayeux_errors_total Bayeux error replies by code.\n"
                  "# TYPE bayeux_errors_total counter\n");
    for (int code = ERROR_CODE_MIN; code <= ERROR_CODE_MAX; code++) {
        uint64_t n = atomic_load_explicit(&errors[code - ERROR_CODE_MIN], memory_order_relaxed);
        if (n)
            buf_printf(out, "bayeux_errors_total{code=\"%d\"} %llu\n", code, (unsigned long long)n);
    }
    stats_prometheus_metric(out, "queue_high_water", "gauge", "Most messages one session's queue has held.",
                            (double)stats_queue_high_water());
    struct latency_snap s;
    latency_snapshot(&s);
    buf_puts(out, "# HELP bayeux_delivery_latency_seconds From a message's publication to the reply that "
                  "carries it to a client.\n# TYPE bayeux_delivery_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < LATENCY_BUCKETS - 1; i++) {
        cum += s.bucket[i];
        buf_printf(out, "bayeux_delivery_latency_seconds_bucket{le=\"%g\"} %llu\n",
                   (double)latency_le_ms[i] / 1000.0, (unsigned long long)cum);
    }
    buf_printf(out, "bayeux_delivery_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
                    "bayeux_delivery_latency_seconds_sum %.3f\nbayeux_delivery_latency_seconds_count %llu\n",
               (unsigned long long)s.count, (double)s.sum_ms / 1000.0, (unsigned long long)s.count);
}
