/* test_bayeux: the protocol engine in process — batch parsing and
 * validation, every Bayeux error, handshake, held connect, publish,
 * /service routing and JSONP framing — with no FastCGI involved. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>

#include "bayeux.h"
#include "config.h"
#include "fake_conn.h"
#include "poll.h"
#include "service.h"
#include "session.h"
#include "unit.h"

static struct bayeux_reply reply;

static void setup(void)
{
    static bool once;
    config_defaults(&config);
    poll_registry_init(fake_complete, fake_dead);
    if (!once) {
        service_register_builtin();
        once = true;
    }
}

/* POSTs body as JSON; returns the reply body (valid until the next call). */
static const char *post_on(struct fake_conn *conn, const char *body, const char *cookie)
{
    bayeux_reply_release(&reply);
    struct http_request req = { .method = "POST", .content_type = "application/json",
                                .cookie = cookie, .body = body, .body_len = strlen(body) };
    bayeux_handle(&req, conn, &reply);
    return reply.parked ? NULL : reply.body;
}

static const char *post(const char *body)
{
    static struct fake_conn unused;
    return post_on(&unused, body, NULL);
}

/* Handshakes and returns a new clientId (static buffer per slot). */
static const char *handshake(int slot)
{
    static char ids[4][64];
    const char *r = post("[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                         "\"supportedConnectionTypes\":[\"long-polling\"],\"id\":\"1\"}]");
    const char *at = strstr(r, "\"clientId\":\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    snprintf(ids[slot], sizeof ids[slot], "%.32s", at + 12);
    return ids[slot];
}

static const char *postf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *postf(const char *fmt, ...)
{
    static char body[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return post(body);
}

static void test_malformed_batches_are_http_400(void)
{
    setup();
    const char *bad[] = {
        "[{\"channel\":\"/meta/connect\",", "[]", "{}x", "[1]", "[{}, 2]", "\"str\"", "42",
        "[{\"channel\":'x'}]", "[{\"a\":\"\xff\xfe\"}]", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        post(bad[i]);
        CU_ASSERT_EQUAL(reply.status, 400);
        CU_ASSERT_STRING_EQUAL(reply.content_type, "text/plain;charset=UTF-8");
        CU_ASSERT_TRUE(reply.len > 0 && reply.len < 100);
    }
    /* nesting deeper than the limit */
    char deep[400] = "[{\"channel\":\"/x\",\"data\":";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    post(deep);
    CU_ASSERT_EQUAL(reply.status, 400);
}

static void test_wrong_method_is_405(void)
{
    setup();
    bayeux_reply_release(&reply);
    struct http_request req = { .method = "PUT", .body = "[]", .body_len = 2 };
    static struct fake_conn c;
    bayeux_handle(&req, &c, &reply);
    CU_ASSERT_EQUAL(reply.status, 405);
    CU_ASSERT_PTR_NOT_NULL(strstr(reply.headers, "Allow: GET, POST"));
}

static void test_handshake(void)
{
    setup();
    const char *r = post("{\"channel\":\"/meta/handshake\",\"version\":\"1.0\",\"id\":7}");
    CU_ASSERT_EQUAL(reply.status, 200);
    CU_ASSERT_STRING_EQUAL(reply.content_type, "application/json;charset=UTF-8");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "[{\"id\":7,\"channel\":\"/meta/handshake\",\"successful\":true,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"advice\":{\"reconnect\":\"retry\",\"interval\":0,\"timeout\":25000}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reply.headers, "Set-Cookie: BAYEUX_BROWSER="));
    CU_ASSERT_PTR_NOT_NULL(strstr(reply.headers, "HttpOnly"));
    /* a browser that has the cookie keeps it */
    static struct fake_conn c;
    post_on(&c, "[{\"channel\":\"/meta/handshake\"}]", "BAYEUX_BROWSER=abc");
    CU_ASSERT_STRING_EQUAL(reply.headers, "");
    /* other messages in a handshake batch are ignored */
    r = post("[{\"channel\":\"/chat/a\",\"data\":1},{\"channel\":\"/meta/handshake\"}]");
    CU_ASSERT_PTR_NULL(strstr(r, "/chat/a"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "/meta/handshake"));
    /* failures */
    r = post("[{\"channel\":\"/meta/handshake\",\"supportedConnectionTypes\":[\"flash\"]}]");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":false,\"error\":\"301:flash:connection_type_unsupported\""));
    r = post("[{\"channel\":\"/meta/handshake\",\"version\":\"2.0\"}]");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "300:2.0:version_unsupported"));
}

static void test_message_errors(void)
{
    setup();
    const char *id = handshake(0);
    const char *r;
    r = post("[{\"data\":{},\"id\":\"23\"}]");
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"23\",\"successful\":false,\"error\":\"400::channel_missing\"}]");
    r = post("[{\"channel\":\"/meta/connect\",\"clientId\":\"nosuch\",\"id\":\"10\"}]");
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"10\",\"channel\":\"/meta/connect\",\"successful\":false,"
                              "\"error\":\"402::session_unknown\",\"advice\":{\"reconnect\":\"handshake\",\"interval\":0}}]");
    r = post("[{\"channel\":\"/meta/subscribe\",\"subscription\":\"/a\"}]");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "402::client_id_missing"));
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\"}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "400::subscription_missing"));
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"chat\"}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"subscription\":\"chat\",\"successful\":false,\"error\":\"405:chat:channel_invalid\""));
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"/meta/connect\"}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "403:/meta/connect:subscribe_denied"));
    r = postf("[{\"channel\":\"/meta/foo\",\"clientId\":\"%s\",\"data\":{}}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "403:/meta/foo:publish_denied"));
    r = postf("[{\"channel\":\"/chat/*\",\"clientId\":\"%s\",\"data\":{}}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "405:/chat/*:channel_invalid"));
    r = postf("[{\"channel\":\"/chat/a\",\"clientId\":\"%s\"}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "400::data_missing"));
    r = postf("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"connectionType\":\"flash\"}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "301:flash:connection_type_unsupported"));
    /* one connect per request */
    const char *b2 = handshake(1);
    r = post_on(&(struct fake_conn){ 0 }, "", NULL);   /* reset reply */
    char twice[512];
    snprintf(twice, sizeof twice, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"advice\":{\"timeout\":0}},"
             "{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"c2\"}]", id, b2);
    r = post(twice);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "{\"id\":\"c2\",\"channel\":\"/meta/connect\",\"successful\":false,\"error\":\"400::connect_repeated\"}"));
    /* array subscriptions are all or nothing */
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":[\"/ok\",\"bad\"]}]", id);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "405:bad:channel_invalid"));
}

static void test_connect_publish_receive(void)
{
    setup();
    const char *a = handshake(0), *b = handshake(1);
    const char *r;
    r = postf("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"connectionType\":\"long-polling\",\"id\":\"2\"}]", a);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":true,\"advice\":{"));   /* first: at once */
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":[\"/chat/demo\",\"/chat/*\"],\"id\":\"3\"}]", a);
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"3\",\"channel\":\"/meta/subscribe\",\"subscription\":[\"/chat/demo\",\"/chat/*\"],\"successful\":true}]");

    static struct fake_conn held;
    char body[256];
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"4\"}]", a);
    CU_ASSERT_PTR_NULL(post_on(&held, body, NULL));
    CU_ASSERT_TRUE(reply.parked);
    CU_ASSERT_EQUAL(held.completed, 0);

    snprintf(body, sizeof body, "[{\"channel\":\"/chat/demo\",\"clientId\":\"%s\",\"data\":{\"chat\":\"h\\u00e9/\"},\"id\":\"5\"}]", b);
    r = post(body);
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"5\",\"channel\":\"/chat/demo\",\"successful\":true}]");
    CU_ASSERT_EQUAL(held.completed, 1);
    /* delivered once although two subscriptions match; no clientId; slash unescaped */
    CU_ASSERT_STRING_EQUAL(held.body, "[{\"channel\":\"/chat/demo\",\"data\":{\"chat\":\"h\xc3\xa9/\"},\"id\":\"5\"},"
                                      "{\"id\":\"4\",\"channel\":\"/meta/connect\",\"successful\":true}]");
    fake_reset(&held);
}

static void test_batch_publish_then_connect_in_one_request(void)
{
    setup();
    const char *a = handshake(0);
    char body[512];
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", a);
    post(body);
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"/x\"}]", a);
    post(body);
    /* Faye puts a connect and a publish in one POST: the publish reaches the
     * publisher's own queue, so the connect returns at once with it */
    snprintf(body, sizeof body,
             "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"c\"},"
             "{\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":1,\"id\":\"p\"}]", a, a);
    static struct fake_conn c;
    const char *r = post_on(&c, body, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r, "[{\"channel\":\"/x\",\"data\":1,\"id\":\"p\"},"
                              "{\"id\":\"c\",\"channel\":\"/meta/connect\",\"successful\":true},"
                              "{\"id\":\"p\",\"channel\":\"/x\",\"successful\":true}]");
}

static void test_service_echo_not_broadcast(void)
{
    setup();
    const char *a = handshake(0), *spy = handshake(1);
    char body[512];
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":[\"/**\",\"/service/**\"]}]", spy);
    const char *r = post(body);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":true"));
    for (const char *const *id = (const char *const[]){ a, spy, NULL }; *id; id++) {
        snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", *id);
        post(body);
    }
    snprintf(body, sizeof body, "[{\"channel\":\"/service/echo\",\"clientId\":\"%s\",\"data\":{\"q\":1},\"id\":\"e\"}]", a);
    r = post(body);
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"e\",\"channel\":\"/service/echo\",\"successful\":true}]");
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"advice\":{\"timeout\":0}}]", a);
    r = post(body);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "{\"channel\":\"/service/echo\",\"data\":{\"q\":1}}"));
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"advice\":{\"timeout\":0}}]", spy);
    r = post(body);
    CU_ASSERT_PTR_NULL(strstr(r, "/service/echo"));
}

static void test_jsonp(void)
{
    setup();
    bayeux_reply_release(&reply);
    struct http_request req = {
        .method = "GET",
        .query = "jsonp=_cb.1&message=%5B%7B%22channel%22%3A%22%2Fmeta%2Fhandshake%22%7D%5D",
    };
    static struct fake_conn c;
    bayeux_handle(&req, &c, &reply);
    CU_ASSERT_EQUAL(reply.status, 200);
    CU_ASSERT_STRING_EQUAL(reply.content_type, "text/javascript;charset=UTF-8");
    CU_ASSERT_NSTRING_EQUAL(reply.body, "/**/_cb.1([{\"channel\":\"/meta/handshake\",\"successful\":true", 57);
    CU_ASSERT_STRING_EQUAL(reply.body + reply.len - 3, "]);");
    bayeux_reply_release(&reply);
    req.query = "jsonp=alert(1)&message=%5B%5D";
    bayeux_handle(&req, &c, &reply);
    CU_ASSERT_EQUAL(reply.status, 400);
}

static void test_disconnect(void)
{
    setup();
    const char *a = handshake(0);
    const char *r = postf("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\",\"id\":\"41\"}]", a);
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"41\",\"channel\":\"/meta/disconnect\",\"successful\":true}]");
    r = postf("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", a);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "402::session_unknown"));
}

/* Every limit of config.h answers with its own error and leaves the rest of
 * the batch, and other sessions, alone. */
static void test_limits(void)
{
    setup();
    const char *a = handshake(0);
    const char *r;
    char body[4096];

    /* messages per request: HTTP 413 */
    config.max_batch = 3;
    buf_t big = BUF_INIT;
    buf_putc(&big, '[');
    for (int i = 0; i < 4; i++)
        buf_printf(&big, "%s{\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":%d}", i ? "," : "", a, i);
    buf_putc(&big, ']');
    post(big.data);
    CU_ASSERT_EQUAL(reply.status, 413);
    CU_ASSERT_PTR_NOT_NULL(strstr(reply.body, "at most 3"));
    buf_release(&big);
    config.max_batch = 100;

    /* message size: that message fails, the next one in the batch is published */
    config.max_message = 64;
    r = postf("[{\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":\"%070d\",\"id\":\"1\"},"
              "{\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":1,\"id\":\"2\"}]", a, 0, a);
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"1\",\"channel\":\"/x\",\"successful\":false,"
                              "\"error\":\"413:64:message_too_large\"},"
                              "{\"id\":\"2\",\"channel\":\"/x\",\"successful\":true}]");
    config.max_message = 65536;

    /* subscriptions per session: all or nothing, repeats count once */
    config.max_subscriptions = 3;
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":[\"/s/1\",\"/s/2\",\"/s/1\"]}]", a);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":true"));
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":[\"/s/2\",\"/s/3\",\"/s/4\"]}]", a);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":false,\"error\":\"403:3:too_many_subscriptions\""));
    r = postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":[\"/s/2\",\"/s/3\"]}]", a);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":true"));   /* /s/4 was not added */
    config.max_subscriptions = 100;

    /* publish rate: past the burst a 429 with the wait, other sessions unaffected */
    config.publish_rate = 1;
    config.publish_burst = 2;
    const char *b = handshake(1);   /* its bucket starts full: 2 */
    for (int i = 0; i < 2; i++) {
        r = postf("[{\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":1}]", b);
        CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":true"));
    }
    r = postf("[{\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":1}]", b);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":false,\"error\":\"429:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r, ":publish_rate_exceeded\""));
    const char *c = handshake(2);
    r = postf("[{\"channel\":\"/x\",\"clientId\":\"%s\",\"data\":1}]", c);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":true"));
    config.publish_rate = 0;

    /* sessions in total: 503 with handshake advice after a pause */
    config.max_sessions = session_count();
    r = post("[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
             "\"supportedConnectionTypes\":[\"long-polling\"]}]");
    CU_ASSERT_STRING_EQUAL(r, "[{\"channel\":\"/meta/handshake\",\"successful\":false,"
                              "\"error\":\"503::too_many_sessions\","
                              "\"advice\":{\"reconnect\":\"handshake\",\"interval\":5000}}]");
    config.max_sessions = 100000;

    /* held connects in total: 503 with retry advice; the session lives on */
    postf("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", c);   /* first: at once */
    config.max_polls = poll_registry_count();
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"9\"}]", c);
    r = post(body);
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"9\",\"channel\":\"/meta/connect\",\"successful\":false,"
                              "\"error\":\"503::too_many_polls\","
                              "\"advice\":{\"reconnect\":\"retry\",\"interval\":1000}}]");
    config.max_polls = 1000000;
    static struct fake_conn held;
    CU_ASSERT_PTR_NULL(post_on(&held, body, NULL));
    CU_ASSERT_TRUE(reply.parked);
    r = postf("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", c);
    CU_ASSERT_EQUAL(held.completed, 1);
    fake_reset(&held);
}

/* The ack extension: negotiated at handshake; every connect reply carries a
 * batch number; a connect acking an older batch gets the unacknowledged
 * messages again, at once and in order, before newer ones. */
static void test_ack_extension(void)
{
    setup();
    const char *r = post("[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                         "\"supportedConnectionTypes\":[\"long-polling\"],\"ext\":{\"ack\":true}}]");
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(r, ",\"ext\":{\"ack\":true}"));
    char a[33];
    snprintf(a, sizeof a, "%.32s", strstr(r, "\"clientId\":\"") + 12);
    const char *pub = handshake(1);

    r = postf("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"1\",\"ext\":{\"ack\":0}}]", a);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"successful\":true,\"ext\":{\"ack\":0}"));
    postf("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":\"/ack\"}]", a);

    /* held, then answered by a publish: batch 1 */
    static struct fake_conn held;
    char body[256];
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"2\",\"ext\":{\"ack\":0}}]", a);
    CU_ASSERT_PTR_NULL(post_on(&held, body, NULL));
    postf("[{\"channel\":\"/ack\",\"clientId\":\"%s\",\"data\":\"m1\"}]", pub);
    CU_ASSERT_EQUAL(held.completed, 1);
    CU_ASSERT_STRING_EQUAL(held.body, "[{\"channel\":\"/ack\",\"data\":\"m1\"},"
                                      "{\"id\":\"2\",\"channel\":\"/meta/connect\",\"successful\":true,\"ext\":{\"ack\":1}}]");
    fake_reset(&held);

    /* that reply was lost: the client acks 0 again and gets m1 back, with m2 */
    postf("[{\"channel\":\"/ack\",\"clientId\":\"%s\",\"data\":\"m2\"}]", pub);
    r = postf("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"3\",\"ext\":{\"ack\":0}}]", a);
    CU_ASSERT_STRING_EQUAL(r, "[{\"channel\":\"/ack\",\"data\":\"m1\"},{\"channel\":\"/ack\",\"data\":\"m2\"},"
                              "{\"id\":\"3\",\"channel\":\"/meta/connect\",\"successful\":true,\"ext\":{\"ack\":2}}]");
    /* acking 2 leaves nothing: the next connect is held */
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"id\":\"4\",\"ext\":{\"ack\":2}}]", a);
    CU_ASSERT_PTR_NULL(post_on(&held, body, NULL));
    CU_ASSERT_TRUE(reply.parked);
    postf("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
    CU_ASSERT_EQUAL(held.completed, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(held.body, "\"ext\":{\"ack\":2}"));
    fake_reset(&held);

    /* without ext.ack at handshake there is no ext in connect replies */
    const char *plain = handshake(2);
    r = postf("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"ext\":{\"ack\":5}}]", plain);
    CU_ASSERT_PTR_NULL(strstr(r, "\"ext\""));
}

static void test_cleanup(void)
{
    bayeux_reply_release(&reply);
    session_table_shutdown();
    CU_ASSERT_EQUAL(session_count(), 0);
    service_clear();
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_malformed_batches_are_http_400),
    UNIT_TEST(test_wrong_method_is_405),
    UNIT_TEST(test_handshake),
    UNIT_TEST(test_message_errors),
    UNIT_TEST(test_connect_publish_receive),
    UNIT_TEST(test_batch_publish_then_connect_in_one_request),
    UNIT_TEST(test_service_echo_not_broadcast),
    UNIT_TEST(test_jsonp),
    UNIT_TEST(test_disconnect),
    UNIT_TEST(test_limits),
    UNIT_TEST(test_ack_extension),
    UNIT_TEST(test_cleanup),
};
UNIT_MAIN("bayeux", tests)
