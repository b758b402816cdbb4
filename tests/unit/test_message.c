/* test_message: message JSON and refcounts, and poll.c's reply framing helpers. */
#include "message.h"
#include "config.h"
#include "poll.h"
#include "unit.h"

#include <string.h>

static void assert_message(message_t *m, const char *want)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(m->json, want);
    CU_ASSERT_EQUAL(m->len, strlen(want));
    CU_ASSERT_EQUAL(m->json[m->len], '\0');
    CU_ASSERT_EQUAL(atomic_load(&m->refs), 1);
    message_release(m);
}

static void test_create(void)
{
    assert_message(message_create("/chat/a", "{\"x\":1}", 7, "7"),
                   "{\"channel\":\"/chat/a\",\"data\":{\"x\":1},\"id\":\"7\"}");
    assert_message(message_create("/chat/a", "{\"x\":1}", 7, NULL),
                   "{\"channel\":\"/chat/a\",\"data\":{\"x\":1}}");
    assert_message(message_create("/a", "\"text\"", 6, ""),
                   "{\"channel\":\"/a\",\"data\":\"text\",\"id\":\"\"}");
    /* only data_len bytes of the data are used */
    assert_message(message_create("/a", "[1,2]garbage", 5, NULL),
                   "{\"channel\":\"/a\",\"data\":[1,2]}");
}

static void test_create_escapes(void)
{
    assert_message(message_create("/a\"b\\c", "1", 1, NULL),
                   "{\"channel\":\"/a\\\"b\\\\c\",\"data\":1}");
    assert_message(message_create("/a\n\r\t\b\f\x01\x1f", "null", 4, NULL),
                   "{\"channel\":\"/a\\n\\r\\t\\b\\f\\u0001\\u001f\",\"data\":null}");
    assert_message(message_create("/caf\xc3\xa9", "0", 1, "i\"d"),
                   "{\"channel\":\"/caf\xc3\xa9\",\"data\":0,\"id\":\"i\\\"d\"}");
    assert_message(message_create("/a", "true", 4, "</script>"),
                   "{\"channel\":\"/a\",\"data\":true,\"id\":\"</script>\"}");
}

static void test_create_large(void)
{
    enum { N = 100000 };
    static char data[N + 2];
    data[0] = '"';
    memset(data + 1, 'd', N);
    data[N + 1] = '"';
    message_t *m = message_create("/big", data, sizeof data, "1");
    CU_ASSERT_EQUAL(m->len, strlen("{\"channel\":\"/big\",\"data\":") + sizeof data +
                                strlen(",\"id\":\"1\"}"));
    CU_ASSERT_EQUAL(strlen(m->json), m->len);
    CU_ASSERT_STRING_EQUAL(m->json + m->len - 12, "d\",\"id\":\"1\"}");
    message_release(m);
}

static void test_create_raw(void)
{
    static const char raw[] = "{\"channel\":\"/x\",\"data\":{}}";
    message_t *m = message_create_raw(raw, strlen(raw));
    assert_message(m, raw);
    m = message_create_raw("{}trailing", 2);
    assert_message(m, "{}");
    m = message_create_raw("", 0);
    assert_message(m, "");
}

static void test_refcount(void)
{
    message_t *m = message_create("/a", "1", 1, NULL);
    CU_ASSERT_EQUAL(atomic_load(&m->refs), 1);
    CU_ASSERT_PTR_EQUAL(message_ref(m), m);
    CU_ASSERT_PTR_EQUAL(message_ref(m), m);
    CU_ASSERT_EQUAL(atomic_load(&m->refs), 3);
    message_release(m);
    CU_ASSERT_EQUAL(atomic_load(&m->refs), 2);
    message_release(m);
    CU_ASSERT_EQUAL(atomic_load(&m->refs), 1);
    CU_ASSERT_STRING_EQUAL(m->json, "{\"channel\":\"/a\",\"data\":1}");   /* still alive */
    message_release(m);   /* to zero exactly once: freed (ASan sees any later use) */
    message_release(NULL);   /* no-op */
}

/* --------------------------------------------------------- framing --- */

static message_t *m1, *m2;

static void make_messages(void)
{
    m1 = message_create("/a", "1", 1, NULL);
    m2 = message_create("/b", "\"x\"", 3, "9");
}

static void free_messages(void)
{
    message_release(m1);
    message_release(m2);
}

#define M1 "{\"channel\":\"/a\",\"data\":1}"
#define M2 "{\"channel\":\"/b\",\"data\":\"x\",\"id\":\"9\"}"

static void assert_body(const char *jsonp, message_t *const *msgs, size_t n, const char *replies,
                        const char *want)
{
    buf_t b = BUF_INIT;
    poll_build_body(&b, jsonp, msgs, n, replies, replies ? strlen(replies) : 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
    CU_ASSERT_STRING_EQUAL(b.data, want);
    CU_ASSERT_EQUAL(b.len, strlen(want));
    buf_release(&b);
}

static void test_build_body(void)
{
    make_messages();
    message_t *both[] = { m1, m2 };
    assert_body(NULL, NULL, 0, "{\"a\":1}", "[{\"a\":1}]");
    assert_body(NULL, NULL, 0, "{\"a\":1},{\"b\":2}", "[{\"a\":1},{\"b\":2}]");
    assert_body(NULL, both, 2, "", "[" M1 "," M2 "]");
    assert_body(NULL, both, 2, NULL, "[" M1 "," M2 "]");
    assert_body(NULL, both, 1, "{\"a\":1}", "[" M1 ",{\"a\":1}]");
    assert_body(NULL, both, 2, "{\"a\":1}", "[" M1 "," M2 ",{\"a\":1}]");
    assert_body(NULL, NULL, 0, "", "[]");
    assert_body("", both, 1, "", "[" M1 "]");   /* empty callback: plain JSON */
    free_messages();
}

static void test_build_body_jsonp(void)
{
    make_messages();
    message_t *both[] = { m1, m2 };
    assert_body("cb", both, 2, "{\"a\":1}", "/**/cb([" M1 "," M2 ",{\"a\":1}]);");
    assert_body("cb", NULL, 0, "{\"a\":1}", "/**/cb([{\"a\":1}]);");
    assert_body("_cometd.jsonp-1", both, 1, "", "/**/_cometd.jsonp-1([" M1 "]);");
    assert_body("cb", NULL, 0, "", "/**/cb([]);");
    free_messages();
}

static void test_build_body_appends(void)
{
    make_messages();
    buf_t b = BUF_INIT;
    buf_puts(&b, "prefix:");
    const char *replies = "{\"a\":1}XXXX";
    poll_build_body(&b, NULL, &m1, 1, replies, 7);   /* only replies_len bytes */
    CU_ASSERT_STRING_EQUAL(b.data, "prefix:[" M1 ",{\"a\":1}]");
    CU_ASSERT_EQUAL(b.len, strlen(b.data));
    buf_release(&b);

    /* many messages: the reserve estimate is only a hint */
    enum { N = 500 };
    message_t *v[N];
    for (size_t i = 0; i < N; i++)
        v[i] = i % 2 ? m2 : m1;
    poll_build_body(&b, "cb", v, N, "{}", 2);
    size_t want = strlen("/**/cb([") + (N / 2) * (strlen(M1) + strlen(M2)) + N + 2 + 3;
    CU_ASSERT_EQUAL(b.len, want);
    CU_ASSERT_EQUAL(strlen(b.data), want);
    CU_ASSERT_EQUAL(strncmp(b.data, "/**/cb([" M1 "," M2 ",", strlen("/**/cb([" M1 "," M2 ",")), 0);
    CU_ASSERT_STRING_EQUAL(b.data + b.len - 7, "},{}]);");
    buf_release(&b);
    free_messages();
}

static void assert_connect(const char *id, enum poll_reason reason, bool advise, const char *want)
{
    buf_t b = BUF_INIT;
    poll_connect_reply(&b, id, reason, advise, -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
    CU_ASSERT_STRING_EQUAL(b.data, want);
    CU_ASSERT_EQUAL(b.len, strlen(want));
    buf_release(&b);
}

#define OK "\"channel\":\"/meta/connect\",\"successful\":true"
#define STD_ADVICE ",\"advice\":{\"reconnect\":\"retry\",\"interval\":0,\"timeout\":25000}"

static void test_connect_reply_plain(void)
{
    config_defaults(&config);
    /* messages, timeout and replacement carry no advice of their own */
    static const enum poll_reason plain[] = { POLL_MESSAGES, POLL_TIMEOUT, POLL_REPLACED };
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        assert_connect("\"4\"", plain[i], false, "{\"id\":\"4\"," OK "}");
        assert_connect(NULL, plain[i], false, "{" OK "}");
        assert_connect("\"4\"", plain[i], true, "{\"id\":\"4\"," OK STD_ADVICE "}");
        assert_connect(NULL, plain[i], true, "{" OK STD_ADVICE "}");
    }
    /* the id is JSON already and is copied as it is */
    assert_connect("4", POLL_TIMEOUT, false, "{\"id\":4," OK "}");
    assert_connect("\"a\\\"b\"", POLL_TIMEOUT, false, "{\"id\":\"a\\\"b\"," OK "}");
}

static void test_connect_reply_own_advice(void)
{
    config_defaults(&config);
    /* these reasons carry their own advice, advise or not */
    for (int advise = 0; advise <= 1; advise++) {
        assert_connect("\"5\"", POLL_CLOSED, advise,
                       "{\"id\":\"5\"," OK ",\"advice\":{\"reconnect\":\"none\"}}");
        assert_connect(NULL, POLL_CLOSED, advise, "{" OK ",\"advice\":{\"reconnect\":\"none\"}}");
        assert_connect("\"6\"", POLL_SHUTDOWN, advise,
                       "{\"id\":\"6\"," OK ",\"advice\":{\"reconnect\":\"retry\",\"interval\":500}}");
        assert_connect(NULL, POLL_SHUTDOWN, advise,
                       "{" OK ",\"advice\":{\"reconnect\":\"retry\",\"interval\":500}}");
        assert_connect("\"7\"", POLL_MULTIPLE, advise,
                       "{\"id\":\"7\"," OK ",\"advice\":{\"multiple-clients\":true,"
                       "\"reconnect\":\"retry\",\"interval\":2000}}");
        assert_connect(NULL, POLL_MULTIPLE, advise,
                       "{" OK ",\"advice\":{\"multiple-clients\":true,"
                       "\"reconnect\":\"retry\",\"interval\":2000}}");
    }
}

static void test_connect_reply_follows_config(void)
{
    config_defaults(&config);
    config.interval_ms = 1500;
    config.timeout_ms = 30000;
    config.multi_client_interval_ms = 4000;
    assert_connect(NULL, POLL_TIMEOUT, true,
                   "{" OK ",\"advice\":{\"reconnect\":\"retry\",\"interval\":1500,\"timeout\":30000}}");
    assert_connect(NULL, POLL_MULTIPLE, false,
                   "{" OK ",\"advice\":{\"multiple-clients\":true,"
                   "\"reconnect\":\"retry\",\"interval\":4000}}");
    buf_t b = BUF_INIT;
    poll_advice_standard(&b);
    CU_ASSERT_STRING_EQUAL(b.data, "{\"reconnect\":\"retry\",\"interval\":1500,\"timeout\":30000}");
    buf_release(&b);
    config_defaults(&config);
}

static void test_content_type(void)
{
    CU_ASSERT_STRING_EQUAL(poll_content_type(NULL), "application/json;charset=UTF-8");
    CU_ASSERT_STRING_EQUAL(poll_content_type(""), "application/json;charset=UTF-8");
    CU_ASSERT_STRING_EQUAL(poll_content_type("cb"), "text/javascript;charset=UTF-8");
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_create),
    UNIT_TEST(test_create_escapes),
    UNIT_TEST(test_create_large),
    UNIT_TEST(test_create_raw),
    UNIT_TEST(test_refcount),
    UNIT_TEST(test_build_body),
    UNIT_TEST(test_build_body_jsonp),
    UNIT_TEST(test_build_body_appends),
    UNIT_TEST(test_connect_reply_plain),
    UNIT_TEST(test_connect_reply_own_advice),
    UNIT_TEST(test_connect_reply_follows_config),
    UNIT_TEST(test_content_type),
};
UNIT_MAIN("message", tests)
