/* bayeux: request -> batch -> per-message routing -> framed reply.
 *
 * Threads: the request's accept thread. Owns nothing beyond the call: the
 * batch's json-c objects are freed before returning; a held connect leaves
 * with its poll (poll.h), which owns the connection from then on.
 */
#include "bayeux.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "backplane.h"
#include "bayeux_internal.h"
#include "channel_name.h"
#include "config.h"
#include "deliver.h"
#include "json_check.h"
#include "log.h"
#include "message.h"
#include "poll.h"
#include "service.h"
#include "stats.h"
#include "status.h"

/* Deepest JSON nesting accepted; deeper requests are rejected as malformed. */
#define JSON_MAX_DEPTH 64

/* ------------------------------------------------------------ replies --- */

static buf_t *reply_target(struct batch *b)
{
    return b->deferred ? &b->after : &b->before;
}

buf_t *reply_begin(struct batch *b, const struct msg *m)
{
    buf_t *r = reply_target(b);
    if (b->deferred)
        buf_putc(r, ',');
    buf_putc(r, '{');
    if (m->id) {
        buf_puts(r, "\"id\":");
        buf_puts(r, m->id);
        buf_putc(r, ',');
    }
    if (m->channel) {
        buf_puts(r, "\"channel\":");
        buf_put_json_string(r, m->channel);
        buf_putc(r, ',');
    }
    return r;
}

void reply_end(struct batch *b, buf_t *r)
{
    buf_putc(r, '}');
    if (!b->deferred)
        buf_putc(r, ',');
}

void reply_error(struct batch *b, const struct msg *m, enum bayeux_error err,
                 const char *args, const char *extra_field)
{
    buf_t *r = reply_begin(b, m);
    if (extra_field) {
        buf_puts(r, extra_field);
        buf_putc(r, ',');
    }
    buf_puts(r, "\"successful\":false,\"error\":");
    buf_t e = BUF_INIT;
    policy_error_format(&e, err, args);
    buf_put_json_string(r, e.data);
    buf_release(&e);
    size_t mark = r->len;
    buf_puts(r, ",\"advice\":");
    if (!policy_error_advice(r, err))
        buf_truncate(r, mark);
    reply_end(b, r);
    stats_error(policy_error_code(err));
    log_debug("bayeux error %d for %s", policy_error_code(err), m->channel ? m->channel : "-");
}

void reply_error_count(struct batch *b, const struct msg *m, enum bayeux_error err,
                       unsigned long long n, const char *extra_field)
{
    char args[32];
    snprintf(args, sizeof args, "%llu", n);
    reply_error(b, m, err, args, extra_field);
}

session_t *batch_session(struct batch *b, const struct msg *m)
{
    if (!m->client_id) {
        reply_error(b, m, BERR_CLIENT_ID_MISSING, NULL, NULL);
        return NULL;
    }
    session_t *s = session_lookup(m->client_id);
    if (!s)
        reply_error(b, m, BERR_SESSION_UNKNOWN, NULL, NULL);
    return s;
}

/* ------------------------------------------------------------ publish --- */

static void publish(struct batch *b, const struct msg *m)
{
    enum bayeux_error err = policy_check_publish(m->channel);
    if (err != BERR_NONE) {
        reply_error(b, m, err, m->channel, NULL);
        return;
    }
    struct json_object *data = NULL;
    if (!json_object_object_get_ex(m->obj, "data", &data)) {
        reply_error(b, m, BERR_DATA_MISSING, NULL, NULL);
        return;
    }
    session_t *s = batch_session(b, m);
    if (!s)
        return;
    /* the --policy decides per session role, for /service channels too */
    if (!auth_may_publish(atomic_load_explicit(&s->role, memory_order_acquire), m->channel)) {
        reply_error(b, m, BERR_PUBLISH_DENIED, m->channel, NULL);
        session_release(s);
        return;
    }

    size_t data_len = 0;
    const char *data_json = json_object_to_json_string_length(
        data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &data_len);
    /* what a delivered copy holds: the data, the channel and the id */
    if (data_len + strlen(m->channel) + (m->id ? strlen(m->id) : 0) > config.max_message) {
        stats_limit(STAT_LIMIT_MESSAGE);
        reply_error_count(b, m, BERR_MESSAGE_TOO_LARGE, config.max_message, NULL);
        session_release(s);
        return;
    }
    long wait_ms = session_take_publish_token(s);
    if (wait_ms > 0) {
        stats_limit(STAT_LIMIT_RATE);
        reply_error_count(b, m, BERR_PUBLISH_RATE, (unsigned long long)wait_ms, NULL);
        session_release(s);
        return;
    }

    struct service_call call = {
        .session = s, .channel = m->channel, .data = data,
        .data_json = data_json, .data_len = data_len, .message = m->obj,
    };
    bool service = channel_name_check(m->channel, false, NULL) == CHANNEL_SERVICE;
    err = service ? service_dispatch(&call) : service_filter(&call);
    if (err != BERR_NONE) {
        reply_error(b, m, err, call.error_args.data, NULL);
    } else if (!service) {
        if (call.data_out.len) {
            data_json = call.data_out.data;
            data_len = call.data_out.len;
        }
        /* the id is kept so receivers can tell messages apart; the
         * publisher's clientId is never copied into the delivered message */
        char *id_plain = NULL;
        struct json_object *id;
        if (json_object_object_get_ex(m->obj, "id", &id) && json_object_is_type(id, json_type_string))
            id_plain = (char *)json_object_get_string(id);
        message_t *msg = message_create(m->channel, data_json, data_len, id_plain);
        stats_add(STAT_PUBLISHED, 1);
        deliver_publish(m->channel, msg);
        backplane_publish(m->channel, msg);   /* and to the other responders, if any */
        message_release(msg);
    }
    buf_release(&call.error_args);
    buf_release(&call.data_out);
    if (err == BERR_NONE) {
        buf_t *r = reply_begin(b, m);
        buf_puts(r, "\"successful\":true");
        reply_end(b, r);
    }
    session_release(s);
}

/* ------------------------------------------------------------ routing --- */

/* Reads the fields every message may carry. id: strings and numbers are
 * echoed as they came; other types are ignored. */
static void msg_init(struct msg *m, struct json_object *obj)
{
    memset(m, 0, sizeof *m);
    m->obj = obj;
    struct json_object *v;
    if (json_object_object_get_ex(obj, "channel", &v) && json_object_is_type(v, json_type_string)) {
        m->channel = json_cstr(v);
        /* a NUL inside would name another channel: refused as invalid */
        m->channel_invalid = !m->channel;
        if (!m->channel)
            m->channel = json_object_get_string(v);
    }
    /* a clientId with a NUL inside is no session's: "" is never found */
    if (json_object_object_get_ex(obj, "clientId", &v) && json_object_is_type(v, json_type_string))
        m->client_id = json_cstr(v) ? json_cstr(v) : "";
    if (json_object_object_get_ex(obj, "id", &v) &&
        (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
         json_object_is_type(v, json_type_double)))
        m->id = xstrdup(json_object_to_json_string_ext(
            v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void route(struct batch *b, const struct msg *m)
{
    const char *ch = m->channel;
    if (!ch) {
        reply_error(b, m, BERR_CHANNEL_MISSING, NULL, NULL);
        return;
    }
    if (m->channel_invalid) {
        reply_error(b, m, BERR_CHANNEL_INVALID, ch, NULL);
        return;
    }
    if (strncmp(ch, "/meta/", 6) == 0) {
        if (strcmp(ch, "/meta/connect") == 0)
            meta_connect(b, m);
        else if (strcmp(ch, "/meta/subscribe") == 0)
            meta_subscribe(b, m, true);
        else if (strcmp(ch, "/meta/unsubscribe") == 0)
            meta_subscribe(b, m, false);
        else if (strcmp(ch, "/meta/disconnect") == 0)
            meta_disconnect(b, m);
        else if (strcmp(ch, "/meta/handshake") == 0)
            meta_handshake(b, m);   /* only reached if not first; see bayeux_handle */
        else
            reply_error(b, m, channel_name_check(ch, false, NULL) == CHANNEL_INVALID
                                  ? BERR_CHANNEL_INVALID : BERR_PUBLISH_DENIED, ch, NULL);
        return;
    }
    publish(b, m);
}

/* ------------------------------------------------------------ framing --- */

static void reply_http_error(struct bayeux_reply *out, int status, const char *why)
{
    out->status = status;
    out->content_type = "text/plain;charset=UTF-8";
    buf_t body = BUF_INIT;
    buf_printf(&body, "%s\n", why);
    out->body = buf_steal(&body, &out->len);
    if (status == 405)
        snprintf(out->headers, sizeof out->headers, "Allow: GET, POST\r\n");
}

/* Parses the batch text: an array of objects or one object. Returns a new
 * array (caller puts it), or NULL with *why set. */
static struct json_object *parse_batch(const char *text, size_t len, const char **why)
{
    if (!json_text_check(text, len, why))
        return NULL;
    struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok) {
        *why = "out of memory";
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!root && jerr == json_tokener_continue) {
        /* a bare number ("42") is complete only once the text is known to
         * end; anything else still open is truncated */
        root = json_tokener_parse_ex(tok, "", 1);
        jerr = root ? json_tokener_success : json_tokener_continue;
        end = len;
    }
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        *why = jerr == json_tokener_continue ? "truncated JSON" : "malformed JSON";
        return NULL;
    }
    for (; end < len; end++) {
        char c = text[end];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            json_object_put(root);
            *why = "trailing data after JSON";
            return NULL;
        }
    }
    if (json_object_is_type(root, json_type_object)) {
        struct json_object *arr = json_object_new_array();
        json_object_array_add(arr, root);
        root = arr;
    }
    if (!json_object_is_type(root, json_type_array)) {
        json_object_put(root);
        *why = "a Bayeux request is a JSON array of messages";
        return NULL;
    }
    size_t n = json_object_array_length(root);
    if (n == 0) {
        json_object_put(root);
        *why = "empty message batch";
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!json_object_is_type(json_object_array_get_idx(root, i), json_type_object)) {
            json_object_put(root);
            *why = "every message must be a JSON object";
            return NULL;
        }
    }
    return root;
}

/* Strips the trailing separator of b->before, leaving "r1,r2". */
static void before_trim(struct batch *b)
{
    if (b->before.len && b->before.data[b->before.len - 1] == ',')
        b->before.data[--b->before.len] = '\0';
}

/* Ends a batch that has a connect waiting: parks it or answers it now. */
static void finish_connect(struct batch *b, void *conn, struct bayeux_reply *out)
{
    poll_t *p = poll_create(conn, b->req->jsonp, b->before.data, b->after.data, b->connect_id);
    message_t **msgs;
    size_t n;
    poll_t *replaced;
    bool advise;
    int64_t ack_batch;
    enum connect_result r = session_connect(b->connect_session, p, b->req->browser,
                                            b->connect_timeout, b->connect_ack, &msgs, &n,
                                            &replaced, &advise, &ack_batch);
    if (replaced)
        poll_complete(replaced, POLL_REPLACED, NULL, 0);
    if (r == CONNECT_PARKED) {
        out->parked = true;
        return;
    }
    poll_discard(p);

    buf_t replies = BUF_INIT;
    if (b->before.len)
        buf_append(&replies, b->before.data, b->before.len);
    if (r == CONNECT_UNKNOWN || r == CONNECT_FULL) {
        struct msg m = { .channel = "/meta/connect", .id = b->connect_id };
        b->deferred = false;
        size_t mark = b->before.len;
        if (r == CONNECT_FULL)
            stats_limit(STAT_LIMIT_POLLS);
        reply_error(b, &m, r == CONNECT_FULL ? BERR_TOO_MANY_POLLS : BERR_SESSION_UNKNOWN,
                    NULL, NULL);
        buf_append(&replies, b->before.data + mark, b->before.len - mark - 1);
    } else {
        poll_connect_reply(&replies, b->connect_id,
                           r == CONNECT_MULTIPLE ? POLL_MULTIPLE : POLL_MESSAGES, advise,
                           ack_batch);
    }
    if (b->after.len)
        buf_append(&replies, b->after.data, b->after.len);

    buf_t body = BUF_INIT;
    poll_build_body(&body, b->req->jsonp, msgs, n, replies.data ? replies.data : "", replies.len);
    out->body = buf_steal(&body, &out->len);
    buf_release(&replies);
    for (size_t i = 0; i < n; i++)
        message_release(msgs[i]);
    free(msgs);
}

void bayeux_handle(const struct http_request *http, void *conn, struct bayeux_reply *out)
{
    memset(out, 0, sizeof *out);
    if (status_handle(http, out))
        return;
    struct decoded_request req;
    const char *why = NULL;
    int status = request_decode(http, &req, &why);
    if (status) {
        reply_http_error(out, status, why);
        return;
    }
    struct json_object *batch_json = parse_batch(req.json, req.json_len, &why);
    if (!batch_json) {
        free(req.json);
        reply_http_error(out, 400, why);
        return;
    }

    struct batch b = { .http = http, .req = &req };
    size_t n = json_object_array_length(batch_json);
    if (n > config.max_batch) {
        char why_batch[80];
        snprintf(why_batch, sizeof why_batch, "too many messages in one request (at most %zu)",
                 config.max_batch);
        stats_limit(STAT_LIMIT_BATCH);
        reply_http_error(out, 413, why_batch);
        json_object_put(batch_json);
        free(req.json);
        return;
    }

    /* a handshake makes the rest of its batch meaningless: only it is answered */
    struct json_object *handshake = NULL;
    for (size_t i = 0; i < n && !handshake; i++) {
        struct json_object *ch, *o = json_object_array_get_idx(batch_json, i);
        if (json_object_object_get_ex(o, "channel", &ch) &&
            json_object_is_type(ch, json_type_string) &&
            strcmp(json_object_get_string(ch), "/meta/handshake") == 0)
            handshake = o;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(batch_json, i);
        if (handshake && o != handshake)
            continue;
        struct msg m;
        msg_init(&m, o);
        route(&b, &m);
        free(m.id);
    }

    out->status = 200;
    out->content_type = poll_content_type(req.jsonp);
    memcpy(out->headers, b.headers, sizeof out->headers);
    if (b.deferred) {
        finish_connect(&b, conn, out);
        session_release(b.connect_session);
    } else {
        before_trim(&b);
        buf_t body = BUF_INIT;
        poll_build_body(&body, req.jsonp, NULL, 0, b.before.data ? b.before.data : "",
                        b.before.len);
        out->body = buf_steal(&body, &out->len);
    }
    free(b.connect_id);
    buf_release(&b.before);
    buf_release(&b.after);
    json_object_put(batch_json);
    free(req.json);
}

void bayeux_reply_release(struct bayeux_reply *out)
{
    free(out->body);
    out->body = NULL;
}
