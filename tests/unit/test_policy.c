/* test_policy: Bayeux error strings and codes, publish/subscribe permissions. */
#include "policy.h"
#include "unit.h"

#include <string.h>

static void assert_format(enum bayeux_error err, const char *args, const char *want)
{
    buf_t b = BUF_INIT;
    policy_error_format(&b, err, args);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
    CU_ASSERT_STRING_EQUAL(b.data, want);
    CU_ASSERT_EQUAL(b.len, strlen(want));
    buf_release(&b);
}

static void test_format_each_error(void)
{
    assert_format(BERR_VERSION_UNSUPPORTED, "\"2.0\"", "300:\"2.0\":version_unsupported");
    assert_format(BERR_CONNECTION_TYPE, "[\"flash\"]",
                  "301:[\"flash\"]:connection_type_unsupported");
    assert_format(BERR_CHANNEL_MISSING, NULL, "400::channel_missing");
    assert_format(BERR_SUBSCRIPTION_MISSING, NULL, "400::subscription_missing");
    assert_format(BERR_DATA_MISSING, "/chat/a", "400:/chat/a:data_missing");
    assert_format(BERR_CLIENT_ID_MISSING, NULL, "402::client_id_missing");
    assert_format(BERR_SESSION_UNKNOWN, NULL, "402::session_unknown");
    assert_format(BERR_PUBLISH_DENIED, "/meta/foo", "403:/meta/foo:publish_denied");
    assert_format(BERR_SUBSCRIBE_DENIED, "/meta/**", "403:/meta/**:subscribe_denied");
    assert_format(BERR_CHANNEL_INVALID, "/bad name", "405:/bad name:channel_invalid");
    assert_format(BERR_INTERNAL, NULL, "500::internal_error");
}

static void test_format_empty_args_like_null(void)
{
    assert_format(BERR_SESSION_UNKNOWN, "", "402::session_unknown");
    assert_format(BERR_INTERNAL, "", "500::internal_error");
    /* args are copied raw: colons and quotes are not escaped */
    assert_format(BERR_CHANNEL_INVALID, "a:b", "405:a:b:channel_invalid");
}

static void test_format_truncates_args(void)
{
    char args[201], want[300];
    memset(args, 'x', 200);
    args[200] = '\0';

    /* 200 bytes: only the first 128 are kept */
    snprintf(want, sizeof want, "400:%.128s:channel_missing", args);
    assert_format(BERR_CHANNEL_MISSING, args, want);
    CU_ASSERT_EQUAL(strlen(want), 4 + 128 + 16);

    /* exactly 128 bytes: kept whole */
    args[128] = '\0';
    snprintf(want, sizeof want, "400:%s:channel_missing", args);
    assert_format(BERR_CHANNEL_MISSING, args, want);

    /* 129 bytes: the last one goes */
    args[128] = 'y';
    args[129] = '\0';
    args[127] = 'z';
    snprintf(want, sizeof want, "405:%.128s:channel_invalid", args);
    assert_format(BERR_CHANNEL_INVALID, args, want);
    CU_ASSERT_PTR_NULL(strchr(want, 'y'));
    CU_ASSERT_PTR_NOT_NULL(strchr(want, 'z'));

    /* never cut inside a UTF-8 sequence: 127 x and a 2-byte é over the limit */
    memset(args, 'x', 127);
    memcpy(args + 127, "\xc3\xa9tail", 7);
    snprintf(want, sizeof want, "405:%.127s:channel_invalid", args);
    assert_format(BERR_CHANNEL_INVALID, args, want);
}

static void test_format_appends(void)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "\"error\":\"");
    policy_error_format(&b, BERR_SESSION_UNKNOWN, NULL);
    buf_putc(&b, '"');
    CU_ASSERT_STRING_EQUAL(b.data, "\"error\":\"402::session_unknown\"");
    policy_error_format(&b, BERR_CHANNEL_MISSING, NULL);
    CU_ASSERT_STRING_EQUAL(b.data, "\"error\":\"402::session_unknown\"400::channel_missing");
    buf_release(&b);
}

static void test_advice(void)
{
    for (int e = BERR_NONE + 1; e < BERR_COUNT_; e++) {
        buf_t b = BUF_INIT;
        bool has = policy_error_advice(&b, (enum bayeux_error)e);
        switch (e) {
        case BERR_SESSION_UNKNOWN:
        case BERR_CLIENT_ID_MISSING:
            CU_ASSERT_STRING_EQUAL(b.data, "{\"reconnect\":\"handshake\",\"interval\":0}");
            break;
        case BERR_TOO_MANY_SESSIONS:
            CU_ASSERT_STRING_EQUAL(b.data, "{\"reconnect\":\"handshake\",\"interval\":5000}");
            break;
        case BERR_TOO_MANY_POLLS:
            CU_ASSERT_STRING_EQUAL(b.data, "{\"reconnect\":\"retry\",\"interval\":1000}");
            break;
        case BERR_HANDSHAKE_DENIED:
            CU_ASSERT_STRING_EQUAL(b.data, "{\"reconnect\":\"none\"}");
            break;
        default:
            CU_ASSERT_FALSE(has);
            CU_ASSERT_EQUAL(b.len, 0);
            continue;
        }
        CU_ASSERT_TRUE(has);
        buf_release(&b);
    }
}

static void test_error_codes(void)
{
    static const int want[BERR_COUNT_] = {
        [BERR_NONE] = 0,
        [BERR_VERSION_UNSUPPORTED] = 300,
        [BERR_CONNECTION_TYPE] = 301,
        [BERR_CHANNEL_MISSING] = 400,
        [BERR_SUBSCRIPTION_MISSING] = 400,
        [BERR_DATA_MISSING] = 400,
        [BERR_CLIENT_ID_MISSING] = 402,
        [BERR_SESSION_UNKNOWN] = 402,
        [BERR_PUBLISH_DENIED] = 403,
        [BERR_SUBSCRIBE_DENIED] = 403,
        [BERR_CHANNEL_INVALID] = 405,
        [BERR_CONNECT_REPEATED] = 400,
        [BERR_INTERNAL] = 500,
        [BERR_ROOM_INVALID] = 400,
        [BERR_USER_INVALID] = 400,
        [BERR_CHAT_INVALID] = 400,
        [BERR_NOT_JOINED] = 403,
        [BERR_PEER_UNKNOWN] = 404,
        [BERR_NAME_TAKEN] = 409,
        [BERR_MESSAGE_TOO_LARGE] = 413,
        [BERR_TOO_MANY_SUBSCRIPTIONS] = 403,
        [BERR_PUBLISH_RATE] = 429,
        [BERR_TOO_MANY_SESSIONS] = 503,
        [BERR_TOO_MANY_POLLS] = 503,
        [BERR_HANDSHAKE_DENIED] = 403,
    };
    for (int e = BERR_NONE; e < BERR_COUNT_; e++)
        CU_ASSERT_EQUAL(policy_error_code((enum bayeux_error)e), want[e]);

    /* the code printed by policy_error_format is policy_error_code */
    for (int e = BERR_NONE + 1; e < BERR_COUNT_; e++) {
        buf_t b = BUF_INIT;
        policy_error_format(&b, (enum bayeux_error)e, NULL);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%d::", want[e]);
        CU_ASSERT_EQUAL(strncmp(b.data, prefix, strlen(prefix)), 0);
        CU_ASSERT_TRUE(b.len > strlen(prefix));   /* a message follows */
        buf_release(&b);
    }
}

static void test_check_publish(void)
{
    CU_ASSERT_EQUAL(policy_check_publish("/chat/a"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_publish("/a"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_publish("/service/x"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_publish("/metadata/x"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_publish("/meta/x"), BERR_PUBLISH_DENIED);
    CU_ASSERT_EQUAL(policy_check_publish("/meta/connect"), BERR_PUBLISH_DENIED);
    CU_ASSERT_EQUAL(policy_check_publish("/meta"), BERR_PUBLISH_DENIED);
    CU_ASSERT_EQUAL(policy_check_publish("/chat/*"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_publish("/chat/**"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_publish("/**"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_publish("/service/*"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_publish("bad"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_publish(""), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_publish("/a//b"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_publish("/a b"), BERR_CHANNEL_INVALID);
}

static void test_check_subscribe(void)
{
    CU_ASSERT_EQUAL(policy_check_subscribe("/chat/**"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_subscribe("/chat/*"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_subscribe("/chat/a"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_subscribe("/**"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_subscribe("/service/x"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_subscribe("/services"), BERR_NONE);
    CU_ASSERT_EQUAL(policy_check_subscribe("/meta/connect"), BERR_SUBSCRIBE_DENIED);
    CU_ASSERT_EQUAL(policy_check_subscribe("/meta/**"), BERR_SUBSCRIBE_DENIED);
    CU_ASSERT_EQUAL(policy_check_subscribe("/meta/*"), BERR_SUBSCRIBE_DENIED);
    CU_ASSERT_EQUAL(policy_check_subscribe("/meta"), BERR_SUBSCRIBE_DENIED);
    CU_ASSERT_EQUAL(policy_check_subscribe("x"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_subscribe(""), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_subscribe("/a/*/b"), BERR_CHANNEL_INVALID);
    CU_ASSERT_EQUAL(policy_check_subscribe("/a/"), BERR_CHANNEL_INVALID);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_format_each_error),
    UNIT_TEST(test_format_empty_args_like_null),
    UNIT_TEST(test_format_truncates_args),
    UNIT_TEST(test_format_appends),
    UNIT_TEST(test_advice),
    UNIT_TEST(test_error_codes),
    UNIT_TEST(test_check_publish),
    UNIT_TEST(test_check_subscribe),
};
UNIT_MAIN("policy", tests)
