/* backplane: Redis between responders — a pipelined publisher thread, a
 * subscriber thread, reconnection with back-off, the members hash.
 *
 * Threads and lock: see backplane.h. Wire format of one Redis message on
 * BACKPLANE_CHANNEL, always "<node id>\n" then one of
 *   "<Bayeux channel>\n<message JSON>"       a broadcast (channel starts "/"),
 *                                           the bytes local subscribers get
 *   "!j\n<seq>\n<browser>\n<room>\n<user>"   a member joined (change seq;
 *                                           browser id or "-")
 *   "!l\n<seq>\n-\n<room>\n<user>"           a member left
 *   "!hb\n<seq>" and "!sync\n<seq>"          alive; last change seq
 *   "!bye"                                  stopped
 *   "!pm\n<room>\n<peer>[\t<peer>...]\n<JSON>"  a private message
 * Each node's members: hash MEMBERS_PREFIX<node>, field "<room>\n<user>",
 * value the browser id or "-", plus "#seq"; expires CLUSTER_KEY_TTL_MS after the node's last heartbeat.
 */
#include "backplane.h"
#include "backplane_internal.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "chat.h"
#include "cluster.h"
#include "log.h"
#include "poll.h"
#include "session.h"
#include "stats.h"

struct backplane_state bp = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

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

bool backplane_stopping(void)
{
    pthread_mutex_lock(&bp.lock);
    bool s = bp.stop;
    pthread_mutex_unlock(&bp.lock);
    return s;
}

/* Waits ms or until stop, ticking the cluster every heartbeat when `tick`
 * (the subscriber: silent nodes are dropped while Redis is away too).
 * Returns true on stop. */
bool backplane_wait(long ms, bool tick)
{
    while (ms > 0) {
        long slice = tick && ms > CLUSTER_HEARTBEAT_MS ? CLUSTER_HEARTBEAT_MS : ms;
        if (wait_or_stop(slice))
            return true;
        if (tick)
            cluster_tick(poll_now_ms());
        ms -= slice;
    }
    return false;
}

long backplane_backoff(long *ms)
{
    long now = *ms;
    *ms = *ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *ms * 2;
    return now;
}

/* Connects, retrying with back-off until it works or stop. Returns the
 * context or NULL on stop. `what` names the connection in the logs. */
redisContext *backplane_connect(const char *what, bool *up, bool tick)
{
    long backoff = BACKOFF_MIN_MS;
    bool warned = false;
    while (!backplane_stopping()) {
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
        if (backplane_wait(backoff, tick))
            break;
        backplane_backoff(&backoff);
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

static void outgoing_release(struct outgoing *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(o[i].text);
        if (o[i].msg)
            message_release(o[i].msg);
    }
}

static bool is_member_change(const struct outgoing *o)
{
    return o->kind == OUT_JOIN || o->kind == OUT_LEAVE;
}

/* Queues o (its text and reference now the queue's); bp.lock held. Past
 * the bound the oldest item is dropped into *dropped for the caller to
 * release after unlocking; a dropped member change forces a snapshot. */
static void queue_push_locked(struct outgoing o, struct outgoing *dropped)
{
    if (bp.len == QUEUE_MAX) {
        *dropped = bp.ring[bp.head];
        if (is_member_change(dropped))
            bp.resync = true;
        bp.head = (bp.head + 1) % QUEUE_MAX;
        bp.len--;
    }
    bp.ring[(bp.head + bp.len) % QUEUE_MAX] = o;
    bp.len++;
    pthread_cond_signal(&bp.wake);
}

static void dropped_release(struct outgoing *dropped)
{
    if (!dropped->text)
        return;
    static struct log_throttle full;   /* publishes drive it while Redis is away */
    atomic_fetch_add(&bp.dropped, 1);
    log_throttled(&full, LOG_WARN, "redis: outgoing queue full (%d): oldest messages dropped", QUEUE_MAX);
    outgoing_release(dropped, 1);
}

void backplane_publish(const char *channel, message_t *m)
{
    if (!bp.enabled)
        return;
    struct outgoing dropped = { 0 };
    pthread_mutex_lock(&bp.lock);
    queue_push_locked((struct outgoing){ OUT_MESSAGE, xstrdup(channel), message_ref(m), 0, "" },
                      &dropped);
    pthread_mutex_unlock(&bp.lock);
    dropped_release(&dropped);
}

static void member_change(enum out_kind kind, const char *room, const char *user,
                          const char *browser)
{
    if (!bp.enabled)
        return;
    buf_t key = BUF_INIT;
    buf_printf(&key, "%s\n%s", room, user);
    struct outgoing dropped = { 0 };
    pthread_mutex_lock(&bp.lock);
    struct outgoing o = { kind, buf_steal(&key, NULL), NULL, 0, "" };
    snprintf(o.browser, sizeof o.browser, "%s", browser);
    o.seq = ++bp.seq;
    queue_push_locked(o, &dropped);
    pthread_mutex_unlock(&bp.lock);
    dropped_release(&dropped);
}

void backplane_member_join(const char *room, const char *user, const char *browser)
{
    member_change(OUT_JOIN, room, user, browser);
}

void backplane_member_leave(const char *room, const char *user)
{
    member_change(OUT_LEAVE, room, user, "");
}

void backplane_private(const char *room, const char *const *peers, size_t n, message_t *m)
{
    if (!bp.enabled)
        return;
    buf_t text = BUF_INIT;
    buf_puts(&text, room);
    for (size_t i = 0; i < n; i++) {
        buf_putc(&text, i ? '\t' : '\n');
        buf_puts(&text, peers[i]);
    }
    struct outgoing dropped = { 0 };
    pthread_mutex_lock(&bp.lock);
    queue_push_locked((struct outgoing){ OUT_PRIVATE, buf_steal(&text, NULL), message_ref(m), 0, "" },
                      &dropped);
    pthread_mutex_unlock(&bp.lock);
    dropped_release(&dropped);
}

/* Takes up to BATCH_MAX queued items, waiting for one until `until` (a
 * heartbeat is due then). Returns the count; *stop on stop. */
static size_t take_batch(struct outgoing *out, const struct timespec *until, bool *stop)
{
    pthread_mutex_lock(&bp.lock);
    while (!bp.stop && bp.len == 0 && !bp.resync &&
           pthread_cond_timedwait(&bp.wake, &bp.lock, until) == 0)
        ;
    size_t n = 0;
    while (!bp.stop && bp.len > 0 && n < BATCH_MAX) {
        out[n++] = bp.ring[bp.head];
        bp.head = (bp.head + 1) % QUEUE_MAX;
        bp.len--;
    }
    *stop = bp.stop;
    pthread_mutex_unlock(&bp.lock);
    return n;
}

/* Reads `n` replies of a pipeline; false on a lost connection or an error
 * reply. */
static bool read_replies(redisContext *c, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r)
            return false;
        if (r->type == REDIS_REPLY_ERROR) {
            log_warn("redis: %s", r->str);
            ok = false;
        }
        freeReplyObject(r);
    }
    return ok;
}

/* Appends PUBLISH of "<node>\n<head>" + body to the pipeline. */
static int append_publish(redisContext *c, buf_t *payload, const char *head, const char *body,
                          size_t len)
{
    buf_reset(payload);
    buf_printf(payload, "%s\n%s", bp.node, head);
    buf_append(payload, body, len);
    return redisAppendCommand(c, "PUBLISH %s %b", BACKPLANE_CHANNEL, payload->data, payload->len);
}

/* Pipelines the commands of each item and reads the replies. Returns false
 * when the connection failed or Redis answered an error; *sent_seq is the
 * last member change sent. */
static bool send_batch(redisContext *c, const struct outgoing *batch, size_t n, buf_t *payload,
                       uint64_t *sent_seq)
{
    size_t replies = 0;
    buf_t head = BUF_INIT;
    int rc = REDIS_OK;
    for (size_t i = 0; i < n && rc == REDIS_OK; i++) {
        const struct outgoing *o = &batch[i];
        buf_reset(&head);
        switch (o->kind) {
        case OUT_MESSAGE:
            buf_printf(&head, "%s\n", o->text);
            rc = append_publish(c, payload, head.data, o->msg->json, o->msg->len);
            replies++;
            break;
        case OUT_PRIVATE:
            buf_printf(&head, "!pm\n%s\n", o->text);
            rc = append_publish(c, payload, head.data, o->msg->json, o->msg->len);
            replies++;
            break;
        case OUT_JOIN:
        case OUT_LEAVE: {
            char seq[24];
            snprintf(seq, sizeof seq, "%" PRIu64, o->seq);
            /* a leave's counter is written after the field goes: a load in
             * between sees the older counter and applies the leave again */
            const char *browser = o->browser[0] ? o->browser : "-";
            if (o->kind == OUT_JOIN) {
                rc = redisAppendCommand(c, "HSET %s %s %s #seq %s", bp.key, o->text, browser, seq);
                replies++;
            } else {
                rc = redisAppendCommand(c, "HDEL %s %s", bp.key, o->text);
                if (rc == REDIS_OK)
                    rc = redisAppendCommand(c, "HSET %s #seq %s", bp.key, seq);
                replies += 2;
            }
            buf_printf(&head, "!%c\n%s\n%s\n", o->kind == OUT_JOIN ? 'j' : 'l', seq, browser);
            if (rc == REDIS_OK)
                rc = append_publish(c, payload, head.data, o->text, strlen(o->text));
            replies++;
            *sent_seq = o->seq;
            break;
        }
        }
    }
    buf_release(&head);
    return rc == REDIS_OK && read_replies(c, replies);
}

struct snapshot {
    char **keys;
    char (*browsers)[SESSION_ID_LEN + 1];
    size_t n, cap;
    uint64_t seq;
};

static void snapshot_each(const char *room, const char *user, const char *browser, void *ctx)
{
    struct snapshot *sn = ctx;
    if (sn->n == sn->cap) {
        sn->cap = sn->cap ? sn->cap * 2 : 64;
        sn->keys = xrealloc(sn->keys, sn->cap * sizeof *sn->keys);
        sn->browsers = xrealloc(sn->browsers, sn->cap * sizeof *sn->browsers);
    }
    buf_t k = BUF_INIT;
    buf_printf(&k, "%s\n%s", room, user);
    snprintf(sn->browsers[sn->n], sizeof sn->browsers[sn->n], "%s", browser[0] ? browser : "-");
    sn->keys[sn->n++] = buf_steal(&k, NULL);
}

/* Under the chat lock (no change can be queued): the snapshot holds every
 * change queued so far, so they leave the queue. */
static void snapshot_end(void *ctx)
{
    struct snapshot *sn = ctx;
    struct outgoing *gone = NULL;
    size_t ngone = 0;
    pthread_mutex_lock(&bp.lock);
    size_t kept = 0;
    gone = xmalloc((bp.len + 1) * sizeof *gone);
    for (size_t i = 0; i < bp.len; i++) {
        struct outgoing *o = &bp.ring[(bp.head + i) % QUEUE_MAX];
        if (is_member_change(o))
            gone[ngone++] = *o;
        else
            bp.ring[(bp.head + kept++) % QUEUE_MAX] = *o;
    }
    bp.len = kept;
    sn->seq = bp.seq;
    bp.resync = false;
    pthread_mutex_unlock(&bp.lock);
    outgoing_release(gone, ngone);
    free(gone);
}

/* Writes this node's whole membership to Redis (after every connect, or
 * after a dropped change) and announces it. Returns false on failure; the
 * caller reconnects and so snapshots again. */
static bool send_snapshot(redisContext *c, buf_t *payload, uint64_t *sent_seq)
{
    struct snapshot sn = { 0 };
    chat_local_members(snapshot_each, snapshot_end, &sn);
    size_t replies = 0;
    int rc = redisAppendCommand(c, "MULTI");
    if (rc == REDIS_OK)
        rc = redisAppendCommand(c, "DEL %s", bp.key);
    replies += 2;
    const char **argv = xmalloc((2 + 2 * SNAPSHOT_CHUNK) * sizeof *argv);
    size_t *argl = xmalloc((2 + 2 * SNAPSHOT_CHUNK) * sizeof *argl);
    for (size_t i = 0; i < sn.n && rc == REDIS_OK; i += SNAPSHOT_CHUNK) {
        int argc = 0;
        argv[argc] = "HSET", argl[argc++] = 4;
        argv[argc] = bp.key, argl[argc++] = strlen(bp.key);
        for (size_t j = i; j < sn.n && j < i + SNAPSHOT_CHUNK; j++) {
            argv[argc] = sn.keys[j], argl[argc++] = strlen(sn.keys[j]);
            argv[argc] = sn.browsers[j], argl[argc++] = strlen(sn.browsers[j]);
        }
        rc = redisAppendCommandArgv(c, argc, argv, argl);
        replies++;
    }
    char seq[24];
    snprintf(seq, sizeof seq, "%" PRIu64, sn.seq);
    if (rc == REDIS_OK)
        rc = redisAppendCommand(c, "HSET %s #seq %s", bp.key, seq);
    if (rc == REDIS_OK)
        rc = redisAppendCommand(c, "PEXPIRE %s %d", bp.key, CLUSTER_KEY_TTL_MS);
    if (rc == REDIS_OK)
        rc = redisAppendCommand(c, "EXEC");
    replies += 3;
    if (rc == REDIS_OK)
        rc = append_publish(c, payload, "!sync\n", seq, strlen(seq));
    replies++;
    bool ok = rc == REDIS_OK && read_replies(c, replies);
    if (ok)
        *sent_seq = sn.seq;
    for (size_t i = 0; i < sn.n; i++)
        free(sn.keys[i]);
    free(sn.keys);
    free(sn.browsers);
    free(argv);
    free(argl);
    return ok;
}

static bool send_heartbeat(redisContext *c, buf_t *payload, uint64_t sent_seq)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%" PRIu64, sent_seq);
    int rc = redisAppendCommand(c, "PEXPIRE %s %d", bp.key, CLUSTER_KEY_TTL_MS);
    if (rc == REDIS_OK)
        rc = append_publish(c, payload, "!hb\n", seq, strlen(seq));
    return rc == REDIS_OK && read_replies(c, 2);
}

/* The publisher's connection failed doing `what`: logged, closed, down. */
static void publisher_lost(redisContext *c, const char *what, bool reconnecting)
{
    log_warn("redis %s:%d: %s failed (%s)%s", bp.host, bp.port, what,
             c->err ? c->errstr : "error reply", reconnecting ? "; reconnecting" : "");
    redisFree(c);
    mark_down(&bp.pub_up);
}

/* Connects and writes the snapshot, retrying until both worked; NULL on stop. */
static redisContext *publisher_connect(buf_t *payload, uint64_t *sent_seq)
{
    long backoff = BACKOFF_MIN_MS;
    for (;;) {
        redisContext *c = backplane_connect("publisher", &bp.pub_up, false);
        if (!c || send_snapshot(c, payload, sent_seq))
            return c;
        publisher_lost(c, "writing the members", true);
        if (backplane_wait(backplane_backoff(&backoff), false))
            return NULL;
    }
}

/* Drops member changes from a batch (a new snapshot holds them); returns
 * the new count. */
static size_t batch_without_changes(struct outgoing *batch, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_member_change(&batch[i]))
            outgoing_release(&batch[i], 1);
        else
            batch[kept++] = batch[i];
    }
    return kept;
}

static void *publisher_loop(void *arg)
{
    (void)arg;
    struct outgoing *batch = xmalloc(BATCH_MAX * sizeof *batch);
    redisContext *c = NULL;
    buf_t payload = BUF_INIT;
    uint64_t sent_seq = 0;
    int64_t beat_at = 0;
    for (;;) {
        /* connected before waiting, so the status says at once if Redis is down */
        if (!c && !(c = publisher_connect(&payload, &sent_seq)))
            break;
        bool stop = false;
        if (poll_now_ms() >= beat_at) {
            if (!send_heartbeat(c, &payload, sent_seq)) {
                publisher_lost(c, "heartbeat", true);
                c = NULL;
                continue;
            }
            beat_at = poll_now_ms() + CLUSTER_HEARTBEAT_MS;
        }
        struct timespec until = poll_deadline(CLOCK_REALTIME, beat_at - poll_now_ms());
        size_t n = take_batch(batch, &until, &stop);
        if (stop) {
            outgoing_release(batch, n);
            break;
        }
        pthread_mutex_lock(&bp.lock);
        bool resync = bp.resync;
        pthread_mutex_unlock(&bp.lock);
        if (resync) {
            /* a change was dropped from the queue: the whole membership
             * again, which also holds the changes taken in this batch */
            n = batch_without_changes(batch, n);
            if (!send_snapshot(c, &payload, &sent_seq)) {
                publisher_lost(c, "writing the members", true);
                if (!(c = publisher_connect(&payload, &sent_seq))) {
                    outgoing_release(batch, n);
                    break;
                }
            }
        }
        if (n == 0)
            continue;
        /* a connection Redis dropped while idle shows only now: the batch
         * is sent once more on a new one (a dead server processed none of
         * it), without its member changes: the new connection's snapshot
         * holds them */
        bool ok = false;
        for (int attempt = 0; attempt < 2 && c && !ok && n; attempt++) {
            ok = send_batch(c, batch, n, &payload, &sent_seq);
            if (!ok) {
                publisher_lost(c, "publishing", attempt == 0);
                c = attempt == 0 ? publisher_connect(&payload, &sent_seq) : NULL;
                n = batch_without_changes(batch, n);
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
    if (c) {
        /* stopping: the others drop our members now, not after the TTL */
        redisAppendCommand(c, "DEL %s", bp.key);
        append_publish(c, &payload, "!bye", "", 0);
        read_replies(c, 2);
        redisFree(c);
    }
    buf_release(&payload);
    free(batch);
    return NULL;
}

/* ------------------------------------------------------- lifetime --- */

int backplane_check_url(const char *url)
{
    if (url && parse_url(url) < 0) {
        log_error("bad --redis URL '%s' (want redis://HOST[:PORT])", url);
        return -1;
    }
    return 0;
}

int backplane_start(const char *url)
{
    if (!url)
        return 0;
    if (backplane_check_url(url) < 0)
        return -1;
    if (session_random_id(bp.node) < 0) {
        log_error("no randomness for the backplane node id");
        return -1;
    }
    snprintf(bp.key, sizeof bp.key, "%s%s", MEMBERS_PREFIX, bp.node);
    bp.ring = xcalloc(QUEUE_MAX, sizeof *bp.ring);
    bp.stop = false;
    bp.enabled = true;
    cluster_init(backplane_load_members);
    if (pthread_create(&bp.pub_thread, NULL, publisher_loop, NULL) != 0 ||
        pthread_create(&bp.sub_thread, NULL, backplane_subscriber_loop, NULL) != 0) {
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
    cluster_shutdown();
    while (bp.len) {
        outgoing_release(&bp.ring[bp.head], 1);
        bp.head = (bp.head + 1) % QUEUE_MAX;
        bp.len--;
    }
    free(bp.ring);
    bp.ring = NULL;
    bp.enabled = false;
}

/* The backplane's figures at one moment, for both status formats. */
struct bp_figures {
    bool up;
    size_t queued, nodes, members;
    double sent, received, dropped, reconnects;
};

static void figures(struct bp_figures *f)
{
    pthread_mutex_lock(&bp.lock);
    f->up = bp.pub_up && bp.sub_up;
    f->queued = bp.len;
    pthread_mutex_unlock(&bp.lock);
    cluster_counts(&f->nodes, &f->members);
    f->sent = (double)atomic_load(&bp.sent);
    f->received = (double)atomic_load(&bp.received);
    f->dropped = (double)atomic_load(&bp.dropped);
    f->reconnects = (double)atomic_load(&bp.reconnects);
}

void backplane_status_json(buf_t *out)
{
    if (!bp.enabled)
        return;
    struct bp_figures f;
    figures(&f);
    buf_printf(out, "\"redis\":{\"state\":\"%s\",\"node\":\"%.8s\",\"nodes\":%zu,\"remote_members\":%zu,"
                    "\"queued\":%zu,\"sent\":%.0f,\"received\":%.0f,\"dropped\":%.0f,\"reconnects\":%.0f},",
               f.up ? "connected" : "degraded", bp.node, f.nodes, f.members, f.queued, f.sent, f.received,
               f.dropped, f.reconnects);
}

void backplane_status_prometheus(buf_t *out)
{
    if (!bp.enabled)
        return;
    struct bp_figures f;
    figures(&f);
    struct { const char *name, *type, *help; double v; } g[] = {
        { "redis_up", "gauge", "1 while both Redis connections (publish and subscribe) are up.", f.up },
        { "redis_nodes", "gauge", "Other responders heard from through Redis.", (double)f.nodes },
        { "redis_remote_members", "gauge", "Chat members on the other responders.", (double)f.members },
        { "redis_queued", "gauge", "Messages waiting to be sent to Redis.", (double)f.queued },
        { "redis_sent_total", "counter", "Messages sent to Redis.", f.sent },
        { "redis_received_total", "counter", "Messages received from Redis.", f.received },
        { "redis_dropped_total", "counter", "Messages for Redis dropped: its queue was full.", f.dropped },
        { "redis_reconnects_total", "counter", "Connection attempts to Redis that failed (each is retried).",
          f.reconnects },
    };
    for (size_t i = 0; i < sizeof g / sizeof *g; i++)
        stats_prometheus_metric(out, g[i].name, g[i].type, g[i].help, g[i].v);
}
