/* status: GET <endpoint>/status -> one JSON object: version, uptime, table
 * sizes, members, the queue high-water mark, delivery latency, limits, the
 * backplane's state and the counters of stats.c; ?format=prometheus gives
 * the same figures in the Prometheus text format.
 *
 * Threads: accept threads; the start time is written once before they run.
 * Access: only clients on a loopback address get an answer; the web server
 * snippet can narrow it further (as with mod_status).
 */
#include "status.h"

#include <string.h>
#include <unistd.h>

#include "backplane.h"
#include "buf.h"
#include "channel.h"
#include "chat.h"
#include "config.h"
#include "poll.h"
#include "session.h"
#include "stats.h"

static int64_t started_ms;

void status_init(void)
{
    started_ms = poll_now_ms();
}

/* True when the query asks for the Prometheus text format (format=prometheus). */
static bool wants_prometheus(const char *query)
{
    for (const char *p = query; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n == 17 && memcmp(p, "format=prometheus", 17) == 0)
            return true;
        p += n + (p[n] == '&');
    }
    return false;
}

/* The table sizes and build as Prometheus gauges, then the counters and
 * the backplane's state. */
static void status_prometheus(buf_t *b)
{
    struct { const char *name, *help; double v; } g[] = {
        { "sessions", "Bayeux sessions.", (double)session_count() },
        { "held_polls", "Connects held open.", (double)poll_registry_count() },
        { "channels", "Channels with subscribers.", (double)channel_count() },
        { "rooms", "Chat rooms (with members here or on other responders).", (double)chat_room_count() },
        { "members", "Chat members on this responder (once per room).", (double)chat_member_count() },
        { "uptime_seconds", "Seconds since the responder started.",
          (double)((poll_now_ms() - started_ms) / 1000) },
    };
    for (size_t i = 0; i < sizeof g / sizeof *g; i++)
        stats_prometheus_metric(b, g[i].name, "gauge", g[i].help, g[i].v);
    buf_printf(b, "# HELP bayeux_build_info The responder's version.\n# TYPE bayeux_build_info gauge\n"
                  "bayeux_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    stats_prometheus(b);
    backplane_status_prometheus(b);
}

/* The path of the request without its query, e.g. "/cometd/status". */
static bool path_is_status(const char *uri)
{
    if (!uri)
        return false;
    size_t n = strcspn(uri, "?");
    static const char tail[] = "/status";
    return n >= sizeof tail - 1 && memcmp(uri + n - (sizeof tail - 1), tail, sizeof tail - 1) == 0;
}

static bool loopback(const char *addr)
{
    return addr && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
                    strncmp(addr, "::ffff:127.", 11) == 0);
}

bool status_handle(const struct http_request *req, struct bayeux_reply *out)
{
    if (strcmp(req->method, "GET") != 0 || !path_is_status(req->path))
        return false;
    buf_t b = BUF_INIT;
    if (!loopback(req->remote_addr)) {
        out->status = 404;
        out->content_type = "text/plain;charset=UTF-8";
        buf_puts(&b, "not found\n");
        out->body = buf_steal(&b, &out->len);
        return true;
    }
    if (wants_prometheus(req->query)) {
        status_prometheus(&b);
        out->status = 200;
        out->content_type = "text/plain; version=0.0.4; charset=utf-8";
        out->body = buf_steal(&b, &out->len);
        return true;
    }
    /* the pid says which responder answered, behind a balancer */
    buf_printf(&b, "{\"version\":\"%s\",\"pid\":%ld,\"uptime_s\":%lld,\"sessions\":%zu,\"held_polls\":%zu,"
                   "\"channels\":%zu,\"rooms\":%zu,\"members\":%zu,\"queue_high_water\":%llu,",
               PACKAGE_VERSION, (long)getpid(), (long long)((poll_now_ms() - started_ms) / 1000), session_count(),
               poll_registry_count(), channel_count(), chat_room_count(), chat_member_count(),
               (unsigned long long)stats_queue_high_water());
    stats_latency_json(&b);
    buf_putc(&b, ',');
    buf_printf(&b, "\"limits\":{\"max_body\":%zu,\"max_batch\":%zu,\"max_message\":%zu,"
                   "\"max_subscriptions\":%zu,\"max_sessions\":%zu,\"max_polls\":%zu,"
                   "\"max_queue\":%zu,\"publish_rate\":%g,\"publish_burst\":%g},",
               config.max_body, config.max_batch, config.max_message, config.max_subscriptions,
               config.max_sessions, config.max_polls, config.max_queue, config.publish_rate,
               config.publish_burst);
    backplane_status_json(&b);
    buf_puts(&b, "\"counters\":{");
    stats_json(&b);
    buf_puts(&b, "}}\n");
    out->status = 200;
    out->content_type = "application/json;charset=UTF-8";
    out->body = buf_steal(&b, &out->len);
    return true;
}
