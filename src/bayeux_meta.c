/* bayeux_meta: the /meta handlers — handshake, connect, subscribe,
 * unsubscribe, disconnect — each appending its reply to the batch.
 *
 * Threads: the request's accept thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bayeux_internal.h"
#include "channel.h"
#include "channel_name.h"
#include "json_check.h"
#include "config.h"
#include "log.h"
#include "poll.h"
#include "stats.h"

static const char *const connection_types[] = { "long-polling", "callback-polling" };

static bool connection_type_known(const char *t)
{
    for (size_t i = 0; i < sizeof connection_types / sizeof *connection_types; i++)
        if (strcmp(t, connection_types[i]) == 0)
            return true;
    return false;
}

static const char *json_text(struct json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* The `args` of an error about value o: a string as it is, an array of
 * strings joined with commas, anything else as JSON. Written into out. */
static const char *error_args(struct json_object *o, buf_t *out)
{
    if (json_object_is_type(o, json_type_string)) {
        buf_puts(out, json_object_get_string(o));
    } else if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++) {
            struct json_object *e = json_object_array_get_idx(o, i);
            if (i)
                buf_putc(out, ',');
            buf_puts(out, json_object_is_type(e, json_type_string) ? json_object_get_string(e)
                                                                   : json_text(e));
        }
    } else {
        buf_puts(out, json_text(o));
    }
    return out->data ? out->data : "";
}

/* Appends the error reply for err about value o. */
static void reply_error_about(struct batch *b, const struct msg *m, enum bayeux_error err,
                              struct json_object *o)
{
    buf_t args = BUF_INIT;
    reply_error(b, m, err, error_args(o, &args), NULL);
    buf_release(&args);
}

/* ---------------------------------------------------------- handshake --- */

/* True when a handshake asks for the ack extension: ext.ack is true. */
static bool wants_ack(struct json_object *msg)
{
    struct json_object *ext, *ack;
    return json_object_object_get_ex(msg, "ext", &ext) && json_object_is_type(ext, json_type_object) &&
           json_object_object_get_ex(ext, "ack", &ack) && json_object_is_type(ack, json_type_boolean) &&
           json_object_get_boolean(ack);
}

void meta_handshake(struct batch *b, const struct msg *m)
{
    struct json_object *v;
    if (json_object_object_get_ex(m->obj, "version", &v)) {
        const char *ver = json_cstr(v) ? json_cstr(v) : "";
        if (strtol(ver, NULL, 10) != 1) {
            reply_error_about(b, m, BERR_VERSION_UNSUPPORTED, v);
            return;
        }
    }
    if (json_object_object_get_ex(m->obj, "supportedConnectionTypes", &v)) {
        bool shared = false;
        if (json_object_is_type(v, json_type_array)) {
            size_t n = json_object_array_length(v);
            for (size_t i = 0; i < n && !shared; i++) {
                struct json_object *t = json_object_array_get_idx(v, i);
                shared = json_cstr(t) && connection_type_known(json_cstr(t));
            }
        }
        if (!shared) {
            reply_error_about(b, m, BERR_CONNECTION_TYPE, v);
            return;
        }
    }
    /* who the client is: ext.auth against --auth-file (anonymous without) */
    struct json_object *ext = NULL;
    const char *role;
    json_object_object_get_ex(m->obj, "ext", &ext);
    if (auth_handshake(ext, &role) != BERR_NONE) {
        static struct log_throttle refused;   /* a guessing client would flood the log */
        log_throttled(&refused, LOG_INFO, "handshake refused from %s: ext.auth %s",
                      b->http->remote_addr ? b->http->remote_addr : "-",
                      ext && json_object_object_get_ex(ext, "auth", NULL) ? "wrong" : "missing");
        reply_error(b, m, BERR_HANDSHAKE_DENIED, NULL, NULL);
        return;
    }

    session_t *s = session_create();
    if (!s) {
        bool full = errno == EAGAIN;
        if (full)
            stats_limit(STAT_LIMIT_SESSIONS);
        reply_error(b, m, full ? BERR_TOO_MANY_SESSIONS : BERR_INTERNAL, NULL, NULL);
        return;
    }
    atomic_store_explicit(&s->role, role, memory_order_release);
    /* a browser without the cookie gets one: it lets the server notice
     * several tabs of one browser long-polling at once */
    if (!b->req->browser[0]) {
        char browser[SESSION_ID_LEN + 1];
        if (session_random_id(browser) == 0) {
            snprintf(b->headers, sizeof b->headers,
                     "Set-Cookie: BAYEUX_BROWSER=%s; Path=/; HttpOnly%s\r\n", browser,
                     b->http->https ? "; Secure" : "");
            session_set_browser(s, browser);
        }
    } else {
        session_set_browser(s, b->req->browser);
    }
    buf_t *r = reply_begin(b, m);
    buf_puts(r, "\"successful\":true,\"clientId\":\"");
    buf_puts(r, s->id);
    buf_puts(r, "\",\"version\":\"1.0\",\"supportedConnectionTypes\":[\"long-polling\","
                "\"callback-polling\"],\"advice\":");
    poll_advice_standard(r);
    if (wants_ack(m->obj)) {
        session_enable_ack(s);
        buf_puts(r, ",\"ext\":{\"ack\":true}");
    }
    reply_end(b, r);
    log_debug("session %.8s... handshake", s->id);
    session_release(s);
}

/* ------------------------------------------------------------ connect --- */

void meta_connect(struct batch *b, const struct msg *m)
{
    struct json_object *v;
    if (json_object_object_get_ex(m->obj, "connectionType", &v) &&
        !(json_cstr(v) && connection_type_known(json_cstr(v)))) {
        reply_error_about(b, m, BERR_CONNECTION_TYPE, v);
        return;
    }
    session_t *s = batch_session(b, m);
    if (!s)
        return;

    long timeout = config.timeout_ms;
    struct json_object *advice, *t;
    if (json_object_object_get_ex(m->obj, "advice", &advice) &&
        json_object_is_type(advice, json_type_object) &&
        json_object_object_get_ex(advice, "timeout", &t) &&
        (json_object_is_type(t, json_type_int) || json_object_is_type(t, json_type_double))) {
        /* a client may ask for less than the server's timeout, never more */
        double want = json_object_get_double(t);
        if (want >= 0 && want < (double)timeout)
            timeout = (long)want;
    }
    if (b->deferred) {
        /* one request holds one connect: a second one (maybe for another
         * session, which would then not count as connected) is refused */
        reply_error(b, m, BERR_CONNECT_REPEATED, NULL, NULL);
        session_release(s);
        return;
    }
    /* answered at the end of the batch, after the batch's publishes have
     * queued what they will for this session */
    b->deferred = true;
    b->connect_session = s;
    b->connect_id = m->id ? xstrdup(m->id) : NULL;
    b->connect_timeout = timeout;
    b->connect_ack = -1;
    struct json_object *ext, *ack;
    if (json_object_object_get_ex(m->obj, "ext", &ext) && json_object_is_type(ext, json_type_object) &&
        json_object_object_get_ex(ext, "ack", &ack) && json_object_is_type(ack, json_type_int)) {
        int64_t n = json_object_get_int64(ack);
        if (n >= 0)
            b->connect_ack = n;
    }
}

/* ---------------------------------------------------------- subscribe --- */

void meta_subscribe(struct batch *b, const struct msg *m, bool subscribe)
{
    struct json_object *sub;
    if (!json_object_object_get_ex(m->obj, "subscription", &sub) ||
        !(json_object_is_type(sub, json_type_string) || json_object_is_type(sub, json_type_array))) {
        reply_error(b, m, BERR_SUBSCRIPTION_MISSING, NULL, NULL);
        return;
    }
    buf_t echo = BUF_INIT;
    buf_puts(&echo, "\"subscription\":");
    buf_puts(&echo, json_text(sub));

    /* validate every pattern before changing anything: all or nothing */
    size_t n = json_object_is_type(sub, json_type_array) ? json_object_array_length(sub) : 1;
    enum bayeux_error err = n == 0 ? BERR_SUBSCRIPTION_MISSING : BERR_NONE;
    const char *bad = NULL;
    for (size_t i = 0; i < n && err == BERR_NONE; i++) {
        struct json_object *p = json_object_is_type(sub, json_type_array)
                                    ? json_object_array_get_idx(sub, i) : sub;
        if (!json_cstr(p)) {
            /* not a string, or a NUL inside that would name another channel */
            err = BERR_CHANNEL_INVALID;
            bad = json_text(p);
        } else if (subscribe) {
            err = policy_check_subscribe(json_object_get_string(p));
            bad = json_object_get_string(p);
        } else if (channel_name_check(json_object_get_string(p), true, NULL) == CHANNEL_INVALID) {
            err = BERR_CHANNEL_INVALID;
            bad = json_object_get_string(p);
        }
    }
    if (err != BERR_NONE) {
        reply_error(b, m, err, bad, echo.data);
        buf_release(&echo);
        return;
    }
    session_t *s = batch_session(b, m);
    if (!s) {
        buf_release(&echo);
        return;
    }
    /* the --policy decides per session role; /service patterns too */
    const char *role = atomic_load_explicit(&s->role, memory_order_acquire);
    for (size_t i = 0; i < n && subscribe; i++) {
        struct json_object *p = json_object_is_type(sub, json_type_array)
                                    ? json_object_array_get_idx(sub, i) : sub;
        if (!auth_may_subscribe(role, json_object_get_string(p))) {
            reply_error(b, m, BERR_SUBSCRIBE_DENIED, json_object_get_string(p), echo.data);
            buf_release(&echo);
            session_release(s);
            return;
        }
    }
    /* /service subscriptions are accepted but not recorded: nothing is ever
     * broadcast there */
    const char **patterns = xmalloc(n * sizeof *patterns);
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_is_type(sub, json_type_array)
                                    ? json_object_array_get_idx(sub, i) : sub;
        const char *pattern = json_object_get_string(p);
        if (channel_name_check(pattern, true, NULL) == CHANNEL_BROADCAST)
            patterns[np++] = pattern;
    }
    int rc = 0;
    if (subscribe)
        rc = channel_subscribe(s, patterns, np, config.max_subscriptions);
    else
        for (size_t i = 0; i < np; i++)
            channel_unsubscribe(s, patterns[i]);
    free(patterns);
    if (rc == CHANNEL_SUB_LIMIT) {
        stats_limit(STAT_LIMIT_SUBSCRIPTIONS);
        reply_error_count(b, m, BERR_TOO_MANY_SUBSCRIPTIONS, config.max_subscriptions, echo.data);
    } else if (rc != 0) {
        reply_error(b, m, BERR_SESSION_UNKNOWN, NULL, echo.data);
    } else {
        buf_t *r = reply_begin(b, m);
        buf_append(r, echo.data, echo.len);
        buf_puts(r, ",\"successful\":true");
        reply_end(b, r);
    }
    buf_release(&echo);
    session_release(s);
}

/* --------------------------------------------------------- disconnect --- */

void meta_disconnect(struct batch *b, const struct msg *m)
{
    session_t *s = batch_session(b, m);
    if (!s)
        return;
    session_remove(s);
    buf_t *r = reply_begin(b, m);
    buf_puts(r, "\"successful\":true");
    reply_end(b, r);
    log_debug("session %.8s... disconnected", s->id);
    session_release(s);
}
