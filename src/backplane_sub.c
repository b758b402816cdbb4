/* backplane_sub: the backplane's subscriber thread — other responders'
 * broadcasts delivered here, their membership news handed to cluster.c,
 * private messages for members here handed to the chat; and the second
 * connection that loads a node's members hash.
 *
 * Threads: the subscriber thread alone (load_ctx is its own). Wire format:
 * backplane.c.
 */
#include <errno.h>
#include <stdio.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/poll.h>

#include "backplane.h"
#include "backplane_internal.h"
#include "chat.h"
#include "cluster.h"
#include "deliver.h"
#include "log.h"
#include "poll.h"
#include "stats.h"

/* The subscriber thread's second connection, for loading other nodes'
 * members (a subscribed connection takes no other commands). */
static redisContext *load_ctx;

/* The browser id of a member entry's value or a join event: `len` bytes,
 * an id or "-" (out: ""). */
static void browser_of(const char *value, size_t len, char *out)
{
    size_t n = len == SESSION_ID_LEN ? len : 0;
    memcpy(out, value, n);
    out[n] = '\0';
}

/* cluster_load_fn over HGETALL of the node's hash. */
int backplane_load_members(const char *node, uint64_t *seq, struct cluster_member **out, size_t *n)
{
    if (!load_ctx) {
        struct timeval tv = { CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000 };
        load_ctx = redisConnectWithTimeout(bp.host, bp.port, tv);
        if (load_ctx && !load_ctx->err)
            redisSetTimeout(load_ctx, tv);   /* a hung Redis must not stall delivery long */
    }
    redisReply *r = load_ctx && !load_ctx->err
                        ? redisCommand(load_ctx, "HGETALL %s%s", MEMBERS_PREFIX, node) : NULL;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        log_warn("redis %s:%d: loading the members of %.8s... failed (%s); retrying", bp.host,
                 bp.port, node, load_ctx && load_ctx->err ? load_ctx->errstr : "bad reply");
        if (r)
            freeReplyObject(r);
        if (load_ctx)
            redisFree(load_ctx);
        load_ctx = NULL;
        return -1;
    }
    *seq = 0;
    *out = xcalloc(r->elements / 2 + 1, sizeof **out);
    *n = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(f->str, "#seq") == 0) {
            *seq = strtoull(v->str, NULL, 10);
        } else if (memchr(f->str, '\n', f->len) && strlen(f->str) == f->len) {
            (*out)[*n].key = xstrdup(f->str);
            browser_of(v->str, v->len, (*out)[*n].browser);
            (*n)++;
        }
    }
    freeReplyObject(r);
    return 0;
}

/* The counter after "!x\n" in a control message, or false. */
static bool parse_seq(const char *p, const char *end, uint64_t *seq, const char **rest)
{
    char *e;
    errno = 0;
    *seq = strtoull(p, &e, 10);
    if (e == p || e > end || errno)
        return false;
    *rest = e;
    return true;
}

/* A control message ("!...") of node `node`; text is NUL-terminated at end. */
static bool control(const char *node, const char *p, const char *end)
{
    int64_t now = poll_now_ms();
    uint64_t seq;
    const char *rest, *key;
    if ((strncmp(p, "!j\n", 3) == 0 || strncmp(p, "!l\n", 3) == 0) &&
        parse_seq(p + 3, end, &seq, &rest) && *rest == '\n' &&
        (key = memchr(rest + 1, '\n', (size_t)(end - rest - 1))) != NULL &&
        memchr(key + 1, '\n', (size_t)(end - key - 1))) {
        char browser[SESSION_ID_LEN + 1];
        browser_of(rest + 1, (size_t)(key - rest - 1), browser);
        cluster_on_change(node, seq, key + 1, browser, p[1] == 'j', now);
    } else if ((strncmp(p, "!hb\n", 4) == 0 && parse_seq(p + 4, end, &seq, &rest)) ||
               (strncmp(p, "!sync\n", 6) == 0 && parse_seq(p + 6, end, &seq, &rest))) {
        cluster_on_heartbeat(node, seq, now);
    } else if (strcmp(p, "!bye") == 0) {
        cluster_on_bye(node);
    } else if (strncmp(p, "!pm\n", 4) == 0) {
        const char *room = p + 4;
        const char *nl1 = memchr(room, '\n', (size_t)(end - room));
        const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
        if (!nl2 || nl1 == room || (size_t)(nl1 - room) > CHAT_ROOM_MAX || nl2[1] != '{')
            return false;
        char r[CHAT_ROOM_MAX + 1];
        memcpy(r, room, (size_t)(nl1 - room));
        r[nl1 - room] = '\0';
        char *peers = xmalloc((size_t)(nl2 - nl1));
        memcpy(peers, nl1 + 1, (size_t)(nl2 - nl1 - 1));
        peers[nl2 - nl1 - 1] = '\0';
        chat_remote_private(r, peers, nl2 + 1, (size_t)(end - nl2 - 1));
        free(peers);
    } else {
        return false;
    }
    return true;
}

/* Handles one Redis message of another responder: a broadcast is
 * delivered here, a control message goes to the cluster or the chat. */
static void deliver_remote(const char *payload, size_t len)
{
    const char *nl1 = memchr(payload, '\n', len);
    if (!nl1 || (size_t)(nl1 - payload) != SESSION_ID_LEN)
        goto bad;
    if (memcmp(payload, bp.node, SESSION_ID_LEN) == 0)
        return;   /* our own: delivered locally when it was published */
    if (nl1[1] == '!') {
        char node[SESSION_ID_LEN + 1];
        memcpy(node, payload, SESSION_ID_LEN);
        node[SESSION_ID_LEN] = '\0';
        if (!control(node, nl1 + 1, payload + len))   /* hiredis NUL-terminates */
            goto bad;
        atomic_fetch_add(&bp.received, 1);
        return;
    }
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
    deliver_publish(channel, m);
    message_release(m);
    atomic_fetch_add(&bp.received, 1);
    return;
bad:
    log_warn("redis: a message on %s not from bayeux-fcgi was ignored", BACKPLANE_CHANNEL);
}

void *backplane_subscriber_loop(void *arg)
{
    (void)arg;
    long lost_wait = BACKOFF_MIN_MS;
    while (!backplane_stopping()) {
        redisContext *c = backplane_connect("subscriber", &bp.sub_up, true);
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
        int64_t up_at = poll_now_ms();
        redisReply *sr = redisCommand(c, "SUBSCRIBE %s", BACKPLANE_CHANNEL);
        bool alive = sr && sr->type == REDIS_REPLY_ARRAY;
        if (sr && sr->type == REDIS_REPLY_ERROR)
            log_warn("redis %s:%d: SUBSCRIBE refused: %s", bp.host, bp.port, sr->str);
        if (sr)
            freeReplyObject(sr);
        int64_t tick_at = poll_now_ms() + CLUSTER_HEARTBEAT_MS;
        while (alive) {
            /* replies already read first; then wait at most a heartbeat, so
             * silent nodes are noticed while nothing arrives */
            redisReply *r = NULL;
            if (redisGetReplyFromReader(c, (void **)&r) != REDIS_OK)
                break;
            if (r) {
                if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                    r->element[0]->type == REDIS_REPLY_STRING &&
                    strcmp(r->element[0]->str, "message") == 0 &&
                    r->element[2]->type == REDIS_REPLY_STRING)
                    deliver_remote(r->element[2]->str, r->element[2]->len);
                freeReplyObject(r);
            } else {
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
                int k = poll(&pfd, 1, CLUSTER_HEARTBEAT_MS);
                if (k > 0)
                    alive = redisBufferRead(c) == REDIS_OK;
                else if (k < 0 && errno != EINTR)
                    alive = false;
            }
            if (poll_now_ms() >= tick_at) {
                cluster_tick(poll_now_ms());
                tick_at = poll_now_ms() + CLUSTER_HEARTBEAT_MS;
            }
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
        /* a connection that died young: wait longer each time */
        if (poll_now_ms() - up_at >= BACKOFF_MAX_MS)
            lost_wait = BACKOFF_MIN_MS;
        if (!stop && backplane_wait(backplane_backoff(&lost_wait), true))
            break;
    }
    if (load_ctx)
        redisFree(load_ctx);
    load_ctx = NULL;
    return NULL;
}
