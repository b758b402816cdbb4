/* poll: registry of held connects (deadline heap, per-browser counts) and
 * their completion through the transport's callback.
 *
 * Threads: see poll.h. The registry lock is a leaf: nothing else is locked
 * while it is held, and completion (I/O) happens with no lock held.
 */
#include "poll.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dict.h"

/* How long clients wait before reconnecting when the server stops: long
 * enough for the web server to start the next responder. */
#define SHUTDOWN_RETRY_INTERVAL_MS 500

static struct {
    pthread_mutex_t lock;       /* guards everything below */
    poll_t **heap;              /* binary min-heap by deadline_ms */
    size_t len, cap;
    dict_t browsers;            /* browser id -> struct browser_count */
} registry = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct browser_count {
    char id[BROWSER_ID_MAX + 1];
    int held;
};

static poll_complete_fn complete_cb;   /* set once before threads start */
static poll_dead_fn dead_cb;           /* likewise; NULL: conns never die */
static atomic_bool hangup_pending;     /* a conn died since the last collection */

int64_t poll_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec poll_deadline(clockid_t clock, long ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

void poll_registry_init(poll_complete_fn complete, poll_dead_fn dead)
{
    complete_cb = complete;
    dead_cb = dead;
}

void poll_registry_hangup(void)
{
    atomic_store(&hangup_pending, true);
}

bool poll_conn_dead(const poll_t *p)
{
    return dead_cb && dead_cb(p->conn);
}

size_t poll_registry_collect_dead(void (*take)(void *owner, void *ctx), void *ctx)
{
    if (!atomic_exchange(&hangup_pending, false))
        return 0;
    size_t n = 0;
    pthread_mutex_lock(&registry.lock);
    /* a poll in the heap is alive: completing it unparks it first, under
     * this lock, so its conn cannot be freed during the scan */
    for (size_t i = 0; i < registry.len; i++) {
        if (poll_conn_dead(registry.heap[i])) {
            take(registry.heap[i]->owner, ctx);
            n++;
        }
    }
    pthread_mutex_unlock(&registry.lock);
    return n;
}

static void free_browser(void *value, void *ctx)
{
    (void)ctx;
    free(value);
}

void poll_registry_shutdown(void)
{
    pthread_mutex_lock(&registry.lock);
    /* polls are owned by their sessions, which complete them at shutdown */
    free(registry.heap);
    registry.heap = NULL;
    registry.len = registry.cap = 0;
    dict_each(&registry.browsers, free_browser, NULL);
    dict_release(&registry.browsers);
    pthread_mutex_unlock(&registry.lock);
}

/* Copies s (may be NULL: "") to *at and returns where it was put. */
static const char *text_put(char **at, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *dst = *at;
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
    *at += n + 1;
    return dst;
}

poll_t *poll_create(void *conn, const char *jsonp, const char *before, const char *after,
                    const char *connect_id)
{
    size_t len = (jsonp ? strlen(jsonp) : 0) + (before ? strlen(before) : 0) +
                 (after ? strlen(after) : 0) + (connect_id ? strlen(connect_id) : 0) + 4;
    poll_t *p = xmalloc(sizeof *p + len);
    memset(p, 0, sizeof *p);
    p->conn = conn;
    p->heap_index = SIZE_MAX;
    p->ack_batch = -1;
    char *at = p->text;
    p->before = text_put(&at, before);
    p->after = text_put(&at, after);
    p->jsonp = text_put(&at, jsonp);
    p->connect_id = connect_id ? text_put(&at, connect_id) : NULL;
    return p;
}

static void poll_free(poll_t *p)
{
    free(p);
}

void *poll_discard(poll_t *p)
{
    assert(p->heap_index == SIZE_MAX && !p->browser);
    void *conn = p->conn;
    poll_free(p);
    return conn;
}

/* ---------------------------------------------------------------- heap --- */

static void heap_set(size_t i, poll_t *p)
{
    registry.heap[i] = p;
    p->heap_index = i;
}

static void heap_up(size_t i)
{
    poll_t *p = registry.heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (registry.heap[parent]->deadline_ms <= p->deadline_ms)
            break;
        heap_set(i, registry.heap[parent]);
        i = parent;
    }
    heap_set(i, p);
}

static void heap_down(size_t i)
{
    poll_t *p = registry.heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t best = p->deadline_ms;
        if (l < registry.len && registry.heap[l]->deadline_ms < best)
            m = l, best = registry.heap[l]->deadline_ms;
        if (r < registry.len && registry.heap[r]->deadline_ms < best)
            m = r;
        if (m == i)
            break;
        heap_set(i, registry.heap[m]);
        i = m;
    }
    heap_set(i, p);
}

static void heap_remove(poll_t *p)
{
    size_t i = p->heap_index;
    assert(i < registry.len && registry.heap[i] == p);
    poll_t *last = registry.heap[--registry.len];
    p->heap_index = SIZE_MAX;
    if (last != p) {
        heap_set(i, last);
        heap_up(i);
        heap_down(last->heap_index);
    }
}

/* ------------------------------------------------------------ browsers --- */

/* Counts one more held poll for browser id; returns the registry's copy of
 * the id, or NULL when the browser already holds max. */
static const char *browser_hold(const char *id, int max)
{
    struct browser_count *b = dict_get(&registry.browsers, id);
    if (b && b->held >= max)
        return NULL;
    if (!b) {
        b = xcalloc(1, sizeof *b);
        snprintf(b->id, sizeof b->id, "%s", id);
        dict_put(&registry.browsers, b->id, b);
    }
    b->held++;
    return b->id;
}

static void browser_unhold(const char *id)
{
    struct browser_count *b = dict_get(&registry.browsers, id);
    assert(b && b->held > 0);
    if (--b->held == 0) {
        dict_remove(&registry.browsers, id);
        free(b);
    }
}

/* ------------------------------------------------------------ registry --- */

enum park_result poll_registry_park(poll_t *p, const char *browser, int max_per_browser,
                                    size_t max_total)
{
    pthread_mutex_lock(&registry.lock);
    if (registry.len >= max_total) {
        pthread_mutex_unlock(&registry.lock);
        return PARK_FULL;
    }
    if (browser && browser[0]) {
        p->browser = browser_hold(browser, max_per_browser);
        if (!p->browser) {
            pthread_mutex_unlock(&registry.lock);
            return PARK_BROWSER_FULL;
        }
    }
    if (registry.len == registry.cap) {
        registry.cap = registry.cap ? registry.cap * 2 : 1024;
        registry.heap = xrealloc(registry.heap, registry.cap * sizeof *registry.heap);
    }
    registry.heap[registry.len] = p;
    p->heap_index = registry.len++;
    heap_up(p->heap_index);
    pthread_mutex_unlock(&registry.lock);
    return PARK_OK;
}

void poll_registry_unpark(poll_t *p)
{
    pthread_mutex_lock(&registry.lock);
    if (p->heap_index != SIZE_MAX)
        heap_remove(p);
    if (p->browser) {
        browser_unhold(p->browser);
        p->browser = NULL;
    }
    pthread_mutex_unlock(&registry.lock);
}

size_t poll_registry_expire(int64_t now_ms, void (*take)(void *owner, void *ctx), void *ctx)
{
    size_t n = 0;
    pthread_mutex_lock(&registry.lock);
    while (registry.len > 0 && registry.heap[0]->deadline_ms <= now_ms) {
        poll_t *p = registry.heap[0];
        heap_remove(p);
        take(p->owner, ctx);
        n++;
    }
    pthread_mutex_unlock(&registry.lock);
    return n;
}

size_t poll_registry_count(void)
{
    pthread_mutex_lock(&registry.lock);
    size_t n = registry.len;
    pthread_mutex_unlock(&registry.lock);
    return n;
}

/* ---------------------------------------------------------- completion --- */

const char *poll_content_type(const char *jsonp)
{
    return jsonp && jsonp[0] ? "text/javascript;charset=UTF-8" : "application/json;charset=UTF-8";
}

void poll_build_body(buf_t *out, const char *jsonp, message_t *const *msgs, size_t n,
                     const char *replies, size_t replies_len)
{
    size_t total = replies_len + 16 + (jsonp ? strlen(jsonp) + 8 : 0);
    for (size_t i = 0; i < n; i++)
        total += msgs[i]->len + 1;
    buf_reserve(out, total);
    if (jsonp && jsonp[0]) {
        /* the leading empty comment defeats content-sniffing attacks on JSONP */
        buf_puts(out, "/**/");
        buf_puts(out, jsonp);
        buf_putc(out, '(');
    }
    buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, ',');
        buf_append(out, msgs[i]->json, msgs[i]->len);
    }
    if (replies_len) {
        if (n)
            buf_putc(out, ',');
        buf_append(out, replies, replies_len);
    }
    buf_putc(out, ']');
    if (jsonp && jsonp[0])
        buf_puts(out, ");");
}

void poll_advice_standard(buf_t *out)
{
    buf_printf(out, "{\"reconnect\":\"retry\",\"interval\":%ld,\"timeout\":%ld}",
               config.interval_ms, config.timeout_ms);
}

void poll_connect_reply(buf_t *out, const char *connect_id, enum poll_reason reason, bool advise,
                        int64_t ack_batch)
{
    buf_putc(out, '{');
    if (connect_id) {
        buf_puts(out, "\"id\":");
        buf_puts(out, connect_id);
        buf_putc(out, ',');
    }
    buf_puts(out, "\"channel\":\"/meta/connect\",\"successful\":true");
    if (ack_batch >= 0)
        buf_printf(out, ",\"ext\":{\"ack\":%lld}", (long long)ack_batch);
    if (reason == POLL_CLOSED)
        buf_puts(out, ",\"advice\":{\"reconnect\":\"none\"}");
    else if (reason == POLL_SHUTDOWN)
        buf_printf(out, ",\"advice\":{\"reconnect\":\"retry\",\"interval\":%d}",
                   SHUTDOWN_RETRY_INTERVAL_MS);
    else if (reason == POLL_MULTIPLE)
        buf_printf(out, ",\"advice\":{\"multiple-clients\":true,\"reconnect\":\"retry\","
                        "\"interval\":%ld}", config.multi_client_interval_ms);
    else if (advise) {
        buf_puts(out, ",\"advice\":");
        poll_advice_standard(out);
    }
    buf_putc(out, '}');
}

void poll_send(void *conn, int status, const char *content_type, const char *extra_headers,
               const char *body, size_t len)
{
    complete_cb(conn, status, content_type, extra_headers, body, len);
}

void poll_complete(poll_t *p, enum poll_reason reason, message_t *const *msgs, size_t n)
{
    assert(p->heap_index == SIZE_MAX && !p->browser);   /* unparked first */
    buf_t replies = BUF_INIT;
    buf_puts(&replies, p->before);
    poll_connect_reply(&replies, p->connect_id, reason, p->advise, p->ack_batch);
    buf_puts(&replies, p->after);
    buf_t body = BUF_INIT;
    poll_build_body(&body, p->jsonp, msgs, n, replies.data, replies.len);
    buf_release(&replies);
    complete_cb(p->conn, 200, poll_content_type(p->jsonp), NULL, body.data, body.len);
    buf_release(&body);
    poll_free(p);
}
