/* session: session table, per-session queues and held connects, expiry.
 *
 * Threads and locks: see session.h for the lock order. The table lock guards
 * `table.map`; each session's own lock guards its queue and held poll.
 */
#include "session.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "channel.h"
#include "config.h"
#include "dict.h"
#include "log.h"
#include "stats.h"

static struct {
    pthread_rwlock_t lock;     /* guards map */
    dict_t map;                /* id -> session_t*, holding one reference each */
} table = { .lock = PTHREAD_RWLOCK_INITIALIZER };

#define MAX_END_LISTENERS 8
static struct {
    session_end_fn fn;
    void *ctx;
} end_listeners[MAX_END_LISTENERS];   /* written only before threads start */
static size_t n_end_listeners;

void session_on_end(session_end_fn fn, void *ctx)
{
    assert(n_end_listeners < MAX_END_LISTENERS);
    end_listeners[n_end_listeners].fn = fn;
    end_listeners[n_end_listeners].ctx = ctx;
    n_end_listeners++;
}

void session_table_init(void)
{
}

int session_random_id(char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[SESSION_ID_BYTES];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[SESSION_ID_LEN] = '\0';
    return 0;
}

/* ------------------------------------------------------- references --- */

session_t *session_ref(session_t *s)
{
    int old = atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    assert(old > 0);
    (void)old;
    return s;
}

static void session_free(session_t *s)
{
    assert(s->poll == NULL && s->nsubs == 0);
    queue_release(&s->queue);
    free(s->subs);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void session_release(session_t *s)
{
    if (!s)
        return;
    int old = atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel);
    assert(old > 0);
    if (old == 1)
        session_free(s);
}

static int64_t expiry_from(int64_t now_ms)
{
    return now_ms + config.max_interval_ms;
}

session_t *session_create(void)
{
    session_t *s = xcalloc(1, sizeof *s);
    if (session_random_id(s->id) < 0) {
        log_error("no randomness from the kernel: %s", strerror(errno));
        free(s);
        errno = EIO;
        return NULL;
    }
    atomic_init(&s->refs, 2);   /* the table's and the caller's */
    atomic_init(&s->closed, false);
    atomic_init(&s->expires_at_ms, expiry_from(poll_now_ms()));
    pthread_mutex_init(&s->lock, NULL);
    s->tokens = config.publish_burst;
    s->tokens_at_ms = poll_now_ms();

    pthread_rwlock_wrlock(&table.lock);
    if (table.map.count >= config.max_sessions) {
        pthread_rwlock_unlock(&table.lock);
        pthread_mutex_destroy(&s->lock);
        free(s);
        errno = EAGAIN;
        return NULL;
    }
    /* 128 random bits do not collide in practice; a duplicate is a broken RNG */
    if (dict_get(&table.map, s->id))
        abort();
    dict_put(&table.map, s->id, s);
    pthread_rwlock_unlock(&table.lock);
    return s;
}

session_t *session_lookup(const char *id)
{
    if (!id || strlen(id) != SESSION_ID_LEN)
        return NULL;
    pthread_rwlock_rdlock(&table.lock);
    session_t *s = dict_get(&table.map, id);
    if (s)
        session_ref(s);
    pthread_rwlock_unlock(&table.lock);
    if (s && atomic_load(&s->closed)) {
        session_release(s);
        return NULL;
    }
    return s;
}

size_t session_count(void)
{
    pthread_rwlock_rdlock(&table.lock);
    size_t n = table.map.count;
    pthread_rwlock_unlock(&table.lock);
    return n;
}

/* ------------------------------------------------------ publish rate --- */

long session_take_publish_token(session_t *s)
{
    if (config.publish_rate <= 0)
        return 0;
    long wait_ms = 0;
    int64_t now = poll_now_ms();
    pthread_mutex_lock(&s->lock);
    s->tokens += (double)(now - s->tokens_at_ms) * config.publish_rate / 1000.0;
    if (s->tokens > config.publish_burst)
        s->tokens = config.publish_burst;
    s->tokens_at_ms = now;
    if (s->tokens >= 1.0)
        s->tokens -= 1.0;
    else
        wait_ms = (long)((1.0 - s->tokens) * 1000.0 / config.publish_rate) + 1;
    pthread_mutex_unlock(&s->lock);
    return wait_ms;
}

/* ------------------------------------------------------------ queue --- */

static void messages_release(message_t **msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        message_release(msgs[i]);
    free(msgs);
}

/* The messages of a reply to s (see queue_take) and its ext.ack number.
 * Call with s->lock held. */
static message_t **take_messages(session_t *s, size_t *n, int64_t *batch)
{
    size_t resent;
    message_t **msgs = queue_take(&s->queue, n, batch, &resent);
    if (resent)
        stats_add(STAT_RESENT, resent);
    if (*n) {
        stats_add(STAT_DELIVERED, *n);
        /* latency counts each message's first trip only (resent ones lead) */
        int64_t now = poll_now_ms();
        for (size_t i = resent; i < *n; i++)
            stats_delivery_latency(now - msgs[i]->created_ms);
    }
    return msgs;
}

/* Detaches the held poll, if any. Call with s->lock held. A held poll means
 * nothing was waiting, so its reply, if it goes out without messages, acks
 * the last batch again. */
static poll_t *take_poll(session_t *s)
{
    poll_t *p = s->poll;
    if (p) {
        s->poll = NULL;
        poll_registry_unpark(p);
        p->ack_batch = s->queue.ack ? (int64_t)s->queue.batch : -1;
        atomic_store(&s->expires_at_ms, expiry_from(poll_now_ms()));
    }
    return p;
}

void session_enable_ack(session_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->queue.ack = true;
    pthread_mutex_unlock(&s->lock);
}

void session_set_browser(session_t *s, const char *browser)
{
    /* only what this server hands out: the id travels in the backplane's
     * member entries, which are tab- and newline-separated */
    bool ours = strlen(browser) == SESSION_ID_LEN &&
                strspn(browser, "0123456789abcdefABCDEF") == SESSION_ID_LEN;
    pthread_mutex_lock(&s->lock);
    snprintf(s->browser, sizeof s->browser, "%s", ours ? browser : "");
    pthread_mutex_unlock(&s->lock);
}

void session_browser(session_t *s, char *out)
{
    pthread_mutex_lock(&s->lock);
    memcpy(out, s->browser, sizeof s->browser);
    pthread_mutex_unlock(&s->lock);
}

void session_enqueue(session_t *s, message_t *m)
{
    poll_t *p = NULL;
    message_t **msgs = NULL;
    size_t n = 0;
    bool dropped;
    uint64_t total_dropped;

    pthread_mutex_lock(&s->lock);
    if (atomic_load(&s->closed)) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    dropped = queue_push(&s->queue, m, config.max_queue);
    stats_add(STAT_QUEUED, 1);   /* every copy passes here: publishes, chat lists, replies */
    stats_queue_depth(queue_length(&s->queue));
    if (dropped) {
        s->dropped++;
        stats_add(STAT_DROPPED, 1);
    }
    total_dropped = s->dropped;
    p = take_poll(s);
    if (p)
        msgs = take_messages(s, &n, &p->ack_batch);
    pthread_mutex_unlock(&s->lock);

    /* a full queue means a client that stopped polling; say so now and then */
    static struct log_throttle full_queues;
    if (dropped)
        log_throttled(&full_queues, LOG_WARN, "session %.8s...: queue full (%zu), %llu messages dropped so far",
                      s->id, config.max_queue, (unsigned long long)total_dropped);
    if (p) {
        poll_complete(p, POLL_MESSAGES, msgs, n);
        messages_release(msgs, n);
    }
}

/* ----------------------------------------------------------- connect --- */

enum connect_result session_connect(session_t *s, poll_t *p, const char *browser,
                                    long timeout_ms, int64_t ack, message_t ***msgs, size_t *n,
                                    poll_t **replaced, bool *advise, int64_t *ack_batch)
{
    enum connect_result r;
    int64_t now = poll_now_ms();
    *msgs = NULL;
    *n = 0;
    *replaced = NULL;

    pthread_mutex_lock(&s->lock);
    if (atomic_load(&s->closed)) {
        pthread_mutex_unlock(&s->lock);
        return CONNECT_UNKNOWN;
    }
    *replaced = take_poll(s);
    if (s->queue.ack)
        queue_ack(&s->queue, ack);
    bool first = !s->connected;
    s->connected = true;
    /* advice goes out on the first connect and again whenever it changes */
    *advise = first || s->advised_multiple;
    /* anything left (new, or sent and not acknowledged) goes out now */
    if (first || timeout_ms <= 0 || queue_length(&s->queue) > 0) {
        r = first ? CONNECT_FIRST : CONNECT_NOW;
        s->advised_multiple = false;
    } else {
        p->owner = s;
        p->deadline_ms = now + timeout_ms;
        enum park_result pr = poll_registry_park(p, browser, config.max_sessions_per_browser,
                                                 config.max_polls);
        if (pr == PARK_OK) {
            p->advise = *advise;
            s->advised_multiple = false;
            s->poll = p;
            atomic_store(&s->expires_at_ms, 0);
            pthread_mutex_unlock(&s->lock);
            return CONNECT_PARKED;
        }
        if (pr == PARK_FULL) {
            /* the advice it would have carried goes with a later connect */
            r = CONNECT_FULL;
            *advise = false;
        } else {
            r = CONNECT_MULTIPLE;
            s->advised_multiple = true;
            *advise = false;
        }
    }
    *msgs = take_messages(s, n, ack_batch);
    atomic_store(&s->expires_at_ms, expiry_from(now));
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* ----------------------------------------------------------- removal --- */

/* Finishes ending a session already marked closed (with its poll `p` and
 * queue taken under its lock): table, channels, the held connect, listeners.
 * Consumes the table's reference. */
static void session_finish_removal(session_t *s, poll_t *p, enum poll_reason reason)
{
    pthread_rwlock_wrlock(&table.lock);
    session_t *removed = dict_remove(&table.map, s->id);
    pthread_rwlock_unlock(&table.lock);
    assert(removed == s);
    (void)removed;

    channel_unsubscribe_all(s);
    if (p)
        poll_complete(p, reason, NULL, 0);
    for (size_t i = 0; i < n_end_listeners; i++)
        end_listeners[i].fn(s, end_listeners[i].ctx);
    session_release(s);   /* the table's reference */
}

/* Marks s closed, takes its poll and drops its queue (*undelivered: how
 * many messages it held). Call with s->lock held. Returns false if it was
 * already closed. */
static bool close_locked(session_t *s, poll_t **p, size_t *undelivered)
{
    if (atomic_load(&s->closed))
        return false;
    atomic_store(&s->closed, true);
    *p = take_poll(s);
    *undelivered = queue_length(&s->queue);
    queue_release(&s->queue);
    return true;
}

static void session_remove_with(session_t *s, enum poll_reason reason)
{
    poll_t *p = NULL;
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    bool closing = close_locked(s, &p, &n);
    pthread_mutex_unlock(&s->lock);
    if (!closing)
        return;
    session_finish_removal(s, p, reason);
}

void session_remove(session_t *s)
{
    session_remove_with(s, POLL_CLOSED);
}

struct collect {
    session_t **v;
    size_t n, cap;
    int64_t now;
};

static void collect_push(struct collect *c, session_t *s)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = session_ref(s);
}

static void collect_expired(void *value, void *ctx)
{
    session_t *s = value;
    struct collect *c = ctx;
    long long at = atomic_load(&s->expires_at_ms);
    if (at != 0 && at <= c->now)
        collect_push(c, s);
}

size_t session_expire(int64_t now_ms)
{
    struct collect c = { .now = now_ms };
    pthread_rwlock_rdlock(&table.lock);
    dict_each(&table.map, collect_expired, &c);
    pthread_rwlock_unlock(&table.lock);

    size_t expired = 0;
    for (size_t i = 0; i < c.n; i++) {
        session_t *s = c.v[i];
        poll_t *p = NULL;
        size_t n = 0;
        bool closing = false;
        pthread_mutex_lock(&s->lock);
        /* re-check under the lock: a connect may have come in meanwhile */
        long long at = atomic_load(&s->expires_at_ms);
        if (s->poll == NULL && at != 0 && at <= now_ms)
            closing = close_locked(s, &p, &n);
        pthread_mutex_unlock(&s->lock);
        if (closing) {
            if (n)
                log_debug("session %.8s... expired with %zu undelivered messages", s->id, n);
            session_finish_removal(s, p, POLL_CLOSED);
            expired++;
        }
        session_release(s);
    }
    free(c.v);
    return expired;
}

static void take_owner(void *owner, void *ctx)
{
    collect_push(ctx, owner);
}

/* Answers, for `reason`, the held poll of each collected session that
 * still has one for which still_due(poll, now) holds: the poll seen while
 * collecting may have been answered and replaced meanwhile. Releases the
 * collected references. Returns how many were answered. */
static size_t answer_collected(struct collect *c, bool (*still_due)(const poll_t *, int64_t),
                               enum poll_reason reason)
{
    size_t done = 0;
    for (size_t i = 0; i < c->n; i++) {
        session_t *s = c->v[i];
        poll_t *p = NULL;
        pthread_mutex_lock(&s->lock);
        if (s->poll && still_due(s->poll, c->now))
            p = take_poll(s);
        pthread_mutex_unlock(&s->lock);
        if (p) {
            poll_complete(p, reason, NULL, 0);
            done++;
        }
        session_release(s);
    }
    free(c->v);
    return done;
}

static bool poll_timed_out(const poll_t *p, int64_t now_ms)
{
    return p->deadline_ms <= now_ms;
}

static bool poll_dead(const poll_t *p, int64_t now_ms)
{
    (void)now_ms;
    return poll_conn_dead(p);
}

size_t session_expire_polls(int64_t now_ms)
{
    struct collect c = { .now = now_ms };
    poll_registry_expire(now_ms, take_owner, &c);
    return answer_collected(&c, poll_timed_out, POLL_TIMEOUT);
}

size_t session_release_dead_polls(void)
{
    struct collect c = { 0 };
    poll_registry_collect_dead(take_owner, &c);
    return answer_collected(&c, poll_dead, POLL_ABANDONED);
}

/* ---------------------------------------------------------- shutdown --- */

static void collect_all(void *value, void *ctx)
{
    collect_push(ctx, value);
}

void session_table_shutdown(void)
{
    struct collect c = { 0 };
    pthread_rwlock_rdlock(&table.lock);
    dict_each(&table.map, collect_all, &c);
    pthread_rwlock_unlock(&table.lock);
    /* Two passes: first close every session and answer its held connect
     * with the shutdown advice; only then remove them, so that what the end
     * listeners broadcast (chat leave notices) reaches closed sessions only
     * and cannot answer a held connect without that advice. */
    bool *closing = xcalloc(c.n ? c.n : 1, sizeof *closing);
    for (size_t i = 0; i < c.n; i++) {
        poll_t *p = NULL;
        size_t n = 0;
        pthread_mutex_lock(&c.v[i]->lock);
        closing[i] = close_locked(c.v[i], &p, &n);
        pthread_mutex_unlock(&c.v[i]->lock);
        if (p)
            poll_complete(p, POLL_SHUTDOWN, NULL, 0);
    }
    for (size_t i = 0; i < c.n; i++) {
        if (closing[i])
            session_finish_removal(c.v[i], NULL, POLL_SHUTDOWN);
        session_release(c.v[i]);
    }
    free(closing);
    free(c.v);
    pthread_rwlock_wrlock(&table.lock);
    dict_release(&table.map);
    pthread_rwlock_unlock(&table.lock);
}
