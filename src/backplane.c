/* backplane: Redis pub/sub between responders — a pipelined publisher
 * thread, a subscriber thread, reconnection with back-off.
 *
 * Threads and lock: see backplane.h. Wire format of one Redis message on
 * BACKPLANE_CHANNEL: "<node id>\n<Bayeux channel>\n<message JSON>", the JSON
 * being the bytes every local subscriber gets (message.h), made once.
 */
#include "backplane.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "deliver.h"
#include "log.h"
#include "poll.h"
#include "session.h"
#include "stats.h"

#define BACKPLANE_CHANNEL "bayeux-fcgi:publish"
#define QUEUE_MAX 100000          /* outgoing messages waiting for Redis */
#define BATCH_MAX 256             /* PUBLISH commands pipelined at once */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 2000

struct outgoing {
    char *channel;
    message_t *msg;
};

static struct {
    pthread_mutex_t lock;         /* guards everything below it */
    pthread_cond_t wake;          /* the queue got a message, or stop */
    struct outgoing *ring;        /* QUEUE_MAX slots */
    size_t head, len;
    bool stop;
    redisContext *sub_ctx;        /* the subscriber's connection, for stop */
    bool pub_up, sub_up;          /* connected (for status) */

    /* set once before the threads start */
    bool enabled;
    char host[256];
    int port;
    char node[SESSION_ID_LEN + 1];
    pthread_t pub_thread, sub_thread;

    atomic_uint_fast64_t sent, received, dropped, reconnects;
} bp = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

/* -------------------------------------------------------- helpers --- */

static int parse_url(const char *url)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) == 0)
        p += 8;
    const char *colon = strrchr(p, ':');
    const char *slash = strchr(p, '/');
    size_t hlen = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
    if (hlen == 0 || hlen >= sizeof bp.host)
        return -1;
    memcpy(bp.host, p, hlen);
    bp.host[hlen] = '\0';
    bp.port = 6379;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || (*end && *end != '/') || v < 1 || v > 65535)
            return -1;
        bp.port = (int)v;
    }
    return 0;
}

/* Waits ms or until stop; returns true on stop. */
static bool wait_or_stop(long ms)
{
    struct timespec until = poll_deadline(CLOCK_REALTIME, ms);
    pthread_mutex_lock(&bp.lock);
    while (!bp.stop && pthread_cond_timedwait(&bp.wake, &bp.lock, &until) == 0)
        ;
    bool s = bp.stop;
    pthread_mutex_unlock(&bp.lock);
    return s;
}

static bool stopping(void)
{
    pthread_mutex_lock(&bp.lock);
    bool s = bp.stop;
    pthread_mutex_unlock(&bp.lock);
    return s;
}

/* Connects, retrying with back-off until it works or stop. Returns the
 * context or NULL on stop. `what` names the connection in the logs. */
static redisContext *connect_retrying(const char *what, bool *up)
{
    long backoff = BACKOFF_MIN_MS;
    bool warned = false;
    while (!stopping()) {
        struct timeval tv = { CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000 };
        redisContext *c = redisConnectWithTimeout(bp.host, bp.port, tv);
        if (c && !c->err) {
            redisSetTimeout(c, (struct timeval){ 0, 0 });   /* blocking from here */
            pthread_mutex_lock(&bp.lock);
            *up = true;
            pthread_mutex_unlock(&bp.lock);
            log_info("redis %s:%d: %s connected", bp.host, bp.port, what);
            return c;
        }
        if (!warned) {
            log_warn("redis %s:%d: %s: %s; local users are served, other responders are "
                     "not reached; retrying", bp.host, bp.port, what,
                     c ? c->errstr : "out of memory");
            warned = true;
        }
        if (c)
            redisFree(c);
        atomic_fetch_add(&bp.reconnects, 1);
        if (wait_or_stop(backoff))
            break;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

static void mark_down(bool *up)
{
    pthread_mutex_lock(&bp.lock);
    *up = false;
    pthread_mutex_unlock(&bp.lock);
}

/* ------------------------------------------------------ publisher --- */

void backplane_publish(const char *channel, message_t *m)
{
    if (!bp.enabled)
        return;
    struct outgoing dropped = { 0 };
    pthread_mutex_lock(&bp.lock);
    if (bp.len == QUEUE_MAX) {
        dropped = bp.ring[bp.head];
        bp.head = (bp.head + 1) % QUEUE_MAX;
        bp.len--;
    }
    bp.ring[(bp.head + bp.len) % QUEUE_MAX] =
        (struct outgoing){ .channel = xstrdup(channel), .msg = message_ref(m) };
    bp.len++;
    pthread_cond_signal(&bp.wake);
    pthread_mutex_unlock(&bp.lock);
    if (dropped.msg) {
        if (atomic_fetch_add(&bp.dropped, 1) % 1000 == 0)
            log_warn("redis: outgoing queue full (%d): oldest messages dropped", QUEUE_MAX);
        free(dropped.channel);
        message_release(dropped.msg);
    }
}

/* Takes up to BATCH_MAX queued messages, waiting for one; returns the count
 * (0 on stop). */
static size_t take_batch(struct outgoing *out)
{
    pthread_mutex_lock(&bp.lock);
    while (!bp.stop && bp.len == 0)
        pthread_cond_wait(&bp.wake, &bp.lock);
    size_t n = 0;
    while (!bp.stop && bp.len > 0 && n < BATCH_MAX) {
        out[n++] = bp.ring[bp.head];
        bp.head = (bp.head + 1) % QUEUE_MAX;
        bp.len--;
    }
    pthread_mutex_unlock(&bp.lock);
    return n;
}

static void outgoing_release(struct outgoing *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(o[i].channel);
        message_release(o[i].msg);
    }
}

/* Pipelines a PUBLISH for each message and reads the replies. Returns
 * false when the connection failed or Redis answered an error. */
static bool send_batch(redisContext *c, const struct outgoing *batch, size_t n, buf_t *payload)
{
    for (size_t i = 0; i < n; i++) {
        buf_reset(payload);
        buf_printf(payload, "%s\n%s\n", bp.node, batch[i].channel);
        buf_append(payload, batch[i].msg->json, batch[i].msg->len);
        if (redisAppendCommand(c, "PUBLISH %s %b", BACKPLANE_CHANNEL, payload->data,
                               payload->len) != REDIS_OK)
            return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        redisReply *r = NULL;
        ok = redisGetReply(c, (void **)&r) == REDIS_OK && r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject(r);
    }
    return ok;
}

static void *publisher_loop(void *arg)
{
    (void)arg;
    struct outgoing *batch = xmalloc(BATCH_MAX * sizeof *batch);
    redisContext *c = NULL;
    buf_t payload = BUF_INIT;
    for (;;) {
        /* connected before waiting, so the status says at once if Redis is down */
        if (!c && !(c = connect_retrying("publisher", &bp.pub_up)))
            break;
        size_t n = take_batch(batch);
        if (n == 0)
            break;
        /* a connection Redis dropped while idle shows only now: the batch
         * is sent once more on a new one (a dead server processed none of it) */
        bool ok = false;
        for (int attempt = 0; attempt < 2 && c && !ok; attempt++) {
            ok = send_batch(c, batch, n, &payload);
            if (!ok) {
                log_warn("redis %s:%d: publishing failed (%s)%s", bp.host, bp.port,
                         c->err ? c->errstr : "error reply",
                         attempt == 0 ? "; reconnecting" : "");
                redisFree(c);
                mark_down(&bp.pub_up);
                c = attempt == 0 ? connect_retrying("publisher", &bp.pub_up) : NULL;
            }
        }
        if (ok) {
            atomic_fetch_add(&bp.sent, n);
        } else {
            /* lost for the other nodes; local users had theirs already */
            log_warn("redis: %zu messages not sent to other responders", n);
            atomic_fetch_add(&bp.dropped, n);
        }
        outgoing_release(batch, n);
    }
    if (c)
        redisFree(c);
    buf_release(&payload);
    free(batch);
    return NULL;
}

/* ----------------------------------------------------- subscriber --- */

/* Delivers one message another responder published. */
static void deliver_remote(const char *payload, size_t len)
{
    const char *nl1 = memchr(payload, '\n', len);
    if (!nl1 || (size_t)(nl1 - payload) != SESSION_ID_LEN)
        goto bad;
    if (memcmp(payload, bp.node, SESSION_ID_LEN) == 0)
        return;   /* our own: delivered locally when it was published */
    const char *ch = nl1 + 1;
    const char *nl2 = memchr(ch, '\n', len - (size_t)(ch - payload));
    if (!nl2 || nl2 == ch || (size_t)(nl2 - ch) > 1024)
        goto bad;
    char channel[1025];
    memcpy(channel, ch, (size_t)(nl2 - ch));
    channel[nl2 - ch] = '\0';
    const char *json = nl2 + 1;
    size_t json_len = len - (size_t)(json - payload);
    if (json_len == 0 || json[0] != '{')
        goto bad;
    message_t *m = message_create_raw(json, json_len);
    stats_add(STAT_QUEUED, deliver_publish(channel, m));
    message_release(m);
    atomic_fetch_add(&bp.received, 1);
    return;
bad:
    log_warn("redis: a message on %s not from bayeux-fcgi was ignored", BACKPLANE_CHANNEL);
}

static void *subscriber_loop(void *arg)
{
    (void)arg;
    while (!stopping()) {
        redisContext *c = connect_retrying("subscriber", &bp.sub_up);
        if (!c)
            break;
        pthread_mutex_lock(&bp.lock);
        bool stop = bp.stop;
        if (!stop)
            bp.sub_ctx = c;
        pthread_mutex_unlock(&bp.lock);
        if (stop) {
            redisFree(c);
            break;
        }
        redisReply *r = redisCommand(c, "SUBSCRIBE %s", BACKPLANE_CHANNEL);
        if (r)
            freeReplyObject(r);
        while (r) {
            r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
                break;
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                r->element[0]->type == REDIS_REPLY_STRING &&
                strcmp(r->element[0]->str, "message") == 0 &&
                r->element[2]->type == REDIS_REPLY_STRING)
                deliver_remote(r->element[2]->str, r->element[2]->len);
            freeReplyObject(r);
        }
        pthread_mutex_lock(&bp.lock);
        bp.sub_ctx = NULL;
        stop = bp.stop;
        bp.sub_up = false;
        pthread_mutex_unlock(&bp.lock);
        if (!stop)
            log_warn("redis %s:%d: subscriber lost (%s); reconnecting", bp.host, bp.port,
                     c->err ? c->errstr : "closed");
        redisFree(c);
    }
    return NULL;
}

/* ------------------------------------------------------- lifetime --- */

int backplane_start(const char *url)
{
    if (!url)
        return 0;
    if (parse_url(url) < 0) {
        log_error("bad --redis URL '%s' (want redis://HOST[:PORT])", url);
        return -1;
    }
    if (session_random_id(bp.node) < 0) {
        log_error("no randomness for the backplane node id");
        return -1;
    }
    bp.ring = xcalloc(QUEUE_MAX, sizeof *bp.ring);
    bp.stop = false;
    bp.enabled = true;
    if (pthread_create(&bp.pub_thread, NULL, publisher_loop, NULL) != 0 ||
        pthread_create(&bp.sub_thread, NULL, subscriber_loop, NULL) != 0) {
        log_error("cannot start the backplane threads: %s", strerror(errno));
        return -1;
    }
    log_info("backplane: redis %s:%d, node %.8s...", bp.host, bp.port, bp.node);
    return 0;
}

void backplane_stop(void)
{
    if (!bp.enabled)
        return;
    pthread_mutex_lock(&bp.lock);
    bp.stop = true;
    pthread_cond_broadcast(&bp.wake);
    if (bp.sub_ctx)
        shutdown(bp.sub_ctx->fd, SHUT_RDWR);   /* wakes the blocked read */
    pthread_mutex_unlock(&bp.lock);
    pthread_join(bp.pub_thread, NULL);
    pthread_join(bp.sub_thread, NULL);
    while (bp.len) {
        outgoing_release(&bp.ring[bp.head], 1);
        bp.head = (bp.head + 1) % QUEUE_MAX;
        bp.len--;
    }
    free(bp.ring);
    bp.ring = NULL;
    bp.enabled = false;
}

void backplane_status_json(buf_t *out)
{
    if (!bp.enabled)
        return;
    pthread_mutex_lock(&bp.lock);
    bool up = bp.pub_up && bp.sub_up;
    size_t queued = bp.len;
    pthread_mutex_unlock(&bp.lock);
    buf_printf(out, "\"redis\":{\"state\":\"%s\",\"node\":\"%.8s\",\"queued\":%zu,\"sent\":%llu,"
                    "\"received\":%llu,\"dropped\":%llu,\"reconnects\":%llu},",
               up ? "connected" : "degraded", bp.node, queued,
               (unsigned long long)atomic_load(&bp.sent), (unsigned long long)atomic_load(&bp.received),
               (unsigned long long)atomic_load(&bp.dropped),
               (unsigned long long)atomic_load(&bp.reconnects));
}
