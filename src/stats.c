/* stats: relaxed atomic counters and their JSON form.
 *
 * Threads: any. No locks: each counter is one atomic, and a reader wants
 * figures, not a consistent cut.
 */
#include "stats.h"

#include <assert.h>
#include <stdatomic.h>

static atomic_uint_fast64_t counters[STAT_COUNT_];

/* Bayeux error codes are three digits, 300..599 */
#define ERROR_CODE_MIN 300
#define ERROR_CODE_MAX 599
static atomic_uint_fast64_t errors[ERROR_CODE_MAX - ERROR_CODE_MIN + 1];

/* Each counter's name (its JSON key; bayeux_<name>_total in Prometheus)
 * and what it counts. */
static const struct {
    const char *name, *help;
} counter_info[STAT_COUNT_] = {
    [STAT_REQUESTS] = { "requests", "Requests answered or held." },
    [STAT_PUBLISHED] = { "messages_published", "Broadcast messages accepted." },
    [STAT_QUEUED] = { "messages_queued", "Message copies queued to sessions (fan-out)." },
    [STAT_DROPPED] = { "messages_dropped", "Queued messages dropped because a session's queue was full." },
    [STAT_RESENT] = { "messages_resent", "Messages sent again after a lost reply (ack extension)." },
    [STAT_SESSIONS_EXPIRED] = { "sessions_expired", "Sessions expired after max-interval without a connect." },
    [STAT_LIMIT_BODY] = { "limit_body", "Requests refused: body over --max-body." },
    [STAT_LIMIT_BATCH] = { "limit_batch", "Requests refused: more messages than --max-batch." },
    [STAT_LIMIT_MESSAGE] = { "limit_message", "Messages refused: over --max-message." },
    [STAT_LIMIT_SUBSCRIPTIONS] = { "limit_subscriptions", "Subscribes refused: over --max-subscriptions." },
    [STAT_LIMIT_SESSIONS] = { "limit_sessions", "Handshakes refused: --max-sessions reached." },
    [STAT_LIMIT_POLLS] = { "limit_polls", "Connects refused: --max-polls reached." },
    [STAT_LIMIT_RATE] = { "limit_publish_rate", "Publishes refused: over --publish-rate." },
    [STAT_HTTP_ERRORS] = { "http_errors", "Requests answered with an HTTP error status." },
};

void stats_add(enum stat_counter c, uint64_t n)
{
    assert(c < STAT_COUNT_);
    atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
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

void stats_prometheus(buf_t *out)
{
    for (int i = 0; i < STAT_COUNT_; i++)
        buf_printf(out, "# HELP bayeux_%s_total %s\n# TYPE bayeux_%s_total counter\n"
                        "bayeux_%s_total %llu\n",
                   counter_info[i].name, counter_info[i].help, counter_info[i].name, counter_info[i].name,
                   (unsigned long long)stats_get((enum stat_counter)i));
    buf_puts(out, "# HELP bayeux_errors_total Bayeux error replies by code.\n"
                  "# TYPE bayeux_errors_total counter\n");
    for (int code = ERROR_CODE_MIN; code <= ERROR_CODE_MAX; code++) {
        uint64_t n = atomic_load_explicit(&errors[code - ERROR_CODE_MIN], memory_order_relaxed);
        if (n)
            buf_printf(out, "bayeux_errors_total{code=\"%d\"} %llu\n", code, (unsigned long long)n);
    }
}
