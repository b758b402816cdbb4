/* test_chat: the chat service in process — validation, the membership
 * table (join, re-join, rename, name taken, leave, session end, empty rooms
 * dropped) and private-message routing — through the protocol engine. */
#include <stdarg.h>
#include <stdio.h>

#include "bayeux.h"
#include "chat.h"
#include "config.h"
#include "chat_client.h"
#include "fake_conn.h"
#include "poll.h"
#include "service.h"
#include "session.h"
#include "unit.h"

static void setup(void)
{
    chat_client_setup();
}

static void test_validation(void)
{
    char room[CHAT_ROOM_MAX + 1];
    CU_ASSERT_TRUE(chat_room_parse("demo", room));
    CU_ASSERT_STRING_EQUAL(room, "demo");
    CU_ASSERT_TRUE(chat_room_parse("/chat/demo", room));
    CU_ASSERT_STRING_EQUAL(room, "demo");
    CU_ASSERT_FALSE(chat_room_parse("", room));
    CU_ASSERT_FALSE(chat_room_parse("a/b", room));
    CU_ASSERT_FALSE(chat_room_parse("a b", room));
    CU_ASSERT_FALSE(chat_room_parse("*", room));
    CU_ASSERT_FALSE(chat_room_parse("**", room));
    CU_ASSERT_FALSE(chat_room_parse(NULL, room));
    char longroom[80];
    memset(longroom, 'r', 65);
    longroom[65] = '\0';
    CU_ASSERT_FALSE(chat_room_parse(longroom, room));
    longroom[64] = '\0';
    CU_ASSERT_TRUE(chat_room_parse(longroom, room));

    CU_ASSERT_TRUE(chat_user_valid("alice"));
    CU_ASSERT_TRUE(chat_user_valid("Zoë 李"));
    CU_ASSERT_TRUE(chat_user_valid("<img src=x onerror=alert(1)>"));   /* text, rendered as text */
    CU_ASSERT_FALSE(chat_user_valid(""));
    CU_ASSERT_FALSE(chat_user_valid("   "));
    CU_ASSERT_FALSE(chat_user_valid("a\tb"));
    CU_ASSERT_FALSE(chat_user_valid("a\x7f"));
    CU_ASSERT_FALSE(chat_user_valid("a\xc2\x85"));            /* U+0085, a C1 control */
    CU_ASSERT_FALSE(chat_user_valid("a\xe2\x80\xa8"));        /* U+2028 line separator */
    CU_ASSERT_TRUE(chat_user_valid("abcdefghijklmnopqrstuvwxyz012345"));    /* 32 */
    CU_ASSERT_FALSE(chat_user_valid("abcdefghijklmnopqrstuvwxyz0123456"));  /* 33 */
    CU_ASSERT_TRUE(chat_user_valid("éééééééééééééééééééééééééééééééé"));     /* 32 chars, 64 bytes */

    CU_ASSERT_TRUE(chat_text_valid("hello"));
    CU_ASSERT_FALSE(chat_text_valid(""));
    CU_ASSERT_FALSE(chat_text_valid("line\nbreak"));
    char big[CHAT_TEXT_MAX_BYTES + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_FALSE(chat_text_valid(big));
    big[CHAT_TEXT_MAX_BYTES] = '\0';
    CU_ASSERT_TRUE(chat_text_valid(big));
}

static void test_membership(void)
{
    setup();
    char a[40], b[40], c[40];
    client(a, "[\"/chat/demo\",\"/members/demo\",\"/rooms\"]");
    client(b, NULL);
    client(c, NULL);

    CU_ASSERT_PTR_NOT_NULL(strstr(join(a, "alice", "demo"), "\"successful\":true"));
    CU_ASSERT_PTR_NOT_NULL(strstr(join(b, "bob", "/chat/demo"), "\"successful\":true"));
    /* another session may not take a name in use */
    CU_ASSERT_PTR_NOT_NULL(strstr(join(c, "alice", "demo"), "\"error\":\"409:alice:name_taken\""));
    /* but the same name in another room is free */
    CU_ASSERT_PTR_NOT_NULL(strstr(join(c, "alice", "other"), "\"successful\":true"));
    buf_t names = BUF_INIT;
    CU_ASSERT_EQUAL(chat_room_members("demo", &names), 2);
    CU_ASSERT_STRING_EQUAL(names.data, "[\"alice\",\"bob\"]");
    CU_ASSERT_EQUAL(chat_room_count(), 2);

    const char *q = drain(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "{\"channel\":\"/chat/demo\",\"data\":{\"user\":\"bob\",\"membership\":\"join\",\"chat\":\"bob has joined\"}}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "{\"channel\":\"/members/demo\",\"data\":[\"alice\",\"bob\"]}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "{\"channel\":\"/rooms\",\"data\":[{\"room\":\"demo\",\"members\":2},{\"room\":\"other\",\"members\":1}]}"));

    /* a re-join with the same name: the list again, no second notice */
    join(b, "bob", "demo");
    q = drain(a);
    CU_ASSERT_PTR_NULL(strstr(q, "bob has joined"));
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "/members/demo"));

    /* a new name in the same room replaces the old one */
    join(b, "robert", "demo");
    buf_reset(&names);
    chat_room_members("demo", &names);
    CU_ASSERT_STRING_EQUAL(names.data, "[\"alice\",\"robert\"]");
    q = drain(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "bob has left"));
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "robert has joined"));

    /* invalid input */
    CU_ASSERT_PTR_NOT_NULL(strstr(join(c, "x", "a b"), "400:a b:room_invalid"));
    CU_ASSERT_PTR_NOT_NULL(strstr(join(c, "", "demo"), "400::user_invalid"));

    /* leave, then the session's end: rooms emptied are dropped */
    post("[{\"channel\":\"/service/members\",\"clientId\":\"%s\",\"data\":{\"room\":\"demo\",\"leave\":true}}]", b);
    buf_reset(&names);
    CU_ASSERT_EQUAL(chat_room_members("demo", &names), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(drain(a), "robert has left"));
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", c);
    CU_ASSERT_EQUAL(chat_room_count(), 1);   /* "other" had only c */
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
    buf_release(&names);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", b);
}

static void test_chat_as_joined_name(void)
{
    setup();
    char a[40], b[40];
    client(a, "[\"/chat/demo\"]");
    client(b, NULL);
    join(a, "alice", "demo");
    /* not joined: refused */
    CU_ASSERT_PTR_NOT_NULL(strstr(post("[{\"channel\":\"/chat/demo\",\"clientId\":\"%s\",\"data\":{\"chat\":\"x\"}}]", b),
                                  "403:/chat/demo:not_joined"));
    join(b, "bob", "demo");
    drain(a);
    /* the client's user field is ignored: no impersonation */
    post("[{\"channel\":\"/chat/demo\",\"clientId\":\"%s\",\"data\":{\"user\":\"alice\",\"chat\":\"hi\",\"membership\":\"join\"}}]", b);
    CU_ASSERT_PTR_NOT_NULL(strstr(drain(a), "{\"channel\":\"/chat/demo\",\"data\":{\"user\":\"bob\",\"chat\":\"hi\"}}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(post("[{\"channel\":\"/chat/demo\",\"clientId\":\"%s\",\"data\":{\"chat\":\"\"}}]", b),
                                  "400::chat_invalid"));
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", b);
}

static void test_private_routing(void)
{
    setup();
    char a[40], b[40], c[40];
    client(a, "[\"/chat/demo\"]");
    client(b, "[\"/chat/demo\"]");
    client(c, "[\"/chat/demo\"]");
    join(a, "alice", "demo");
    join(b, "bob", "demo");
    join(c, "carol", "demo");
    drain(a);
    drain(b);
    drain(c);

    const char *r = post("[{\"channel\":\"/service/privatechat\",\"clientId\":\"%s\",\"data\":{\"room\":\"demo\",\"chat\":\"psst\",\"peer\":\"alice\"},\"id\":\"p\"}]", b);
    CU_ASSERT_STRING_EQUAL(r, "[{\"id\":\"p\",\"channel\":\"/service/privatechat\",\"successful\":true}]");
    const char *want = "{\"channel\":\"/chat/demo\",\"data\":{\"user\":\"bob\",\"chat\":\"psst\",\"scope\":\"private\",\"peer\":[\"alice\"]}}";
    CU_ASSERT_PTR_NOT_NULL(strstr(drain(a), want));   /* the peer */
    CU_ASSERT_PTR_NOT_NULL(strstr(drain(b), want));   /* the sender */
    CU_ASSERT_PTR_NULL(strstr(drain(c), "psst"));     /* nobody else */

    /* an unknown peer: an error and nothing delivered, even to known ones */
    r = post("[{\"channel\":\"/service/privatechat\",\"clientId\":\"%s\",\"data\":{\"room\":\"demo\",\"chat\":\"x2\",\"peer\":[\"alice\",\"zed\"]}}]", b);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "404:zed:peer_unknown"));
    CU_ASSERT_PTR_NULL(strstr(drain(a), "x2"));
    /* a peer listed twice, and the sender among the peers, get it once */
    post("[{\"channel\":\"/service/privatechat\",\"clientId\":\"%s\",\"data\":{\"room\":\"demo\",\"chat\":\"dup\",\"peer\":[\"alice\",\"alice\",\"bob\"]}}]", b);
    const char *qa = drain(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(qa, "dup"));
    CU_ASSERT_PTR_NULL(strstr(strstr(qa, "dup") + 3, "dup\""));
    /* not joined */
    post("[{\"channel\":\"/service/members\",\"clientId\":\"%s\",\"data\":{\"room\":\"demo\",\"leave\":true}}]", c);
    r = post("[{\"channel\":\"/service/privatechat\",\"clientId\":\"%s\",\"data\":{\"room\":\"demo\",\"chat\":\"x\",\"peer\":\"alice\"}}]", c);
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "403:/chat/demo:not_joined"));

    /* the room list on demand, to the caller alone */
    post("[{\"channel\":\"/service/rooms\",\"clientId\":\"%s\",\"data\":{}}]", c);
    CU_ASSERT_PTR_NOT_NULL(strstr(drain(c), "{\"channel\":\"/service/rooms\",\"data\":[{\"room\":\"demo\",\"members\":2}]}"));
    CU_ASSERT_PTR_NULL(strstr(drain(a), "/service/rooms"));
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", b);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", c);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
}

static void test_server_lists_are_server_only(void)
{
    setup();
    char a[40];
    client(a, NULL);
    join(a, "alice", "demo");
    CU_ASSERT_PTR_NOT_NULL(strstr(post("[{\"channel\":\"/members/demo\",\"clientId\":\"%s\",\"data\":[\"mallory\"]}]", a),
                                  "403:/members/demo:publish_denied"));
    CU_ASSERT_PTR_NOT_NULL(strstr(post("[{\"channel\":\"/rooms\",\"clientId\":\"%s\",\"data\":[]}]", a),
                                  "403:/rooms:publish_denied"));
    /* only a boolean true leaves */
    post("[{\"channel\":\"/service/members\",\"clientId\":\"%s\",\"data\":{\"room\":\"demo\",\"leave\":\"false\"}}]", a);
    CU_ASSERT_EQUAL(chat_room_members("demo", NULL), 1);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
}

/* At shutdown every held connect gets the retry advice, even when the chat
 * service's leave notices for other members are broadcast meanwhile. */
static void test_shutdown_answers_with_retry_advice(void)
{
    setup();
    char a[40], b[40];
    client(a, "[\"/chat/demo\"]");
    client(b, "[\"/chat/demo\"]");
    join(a, "alice", "demo");
    join(b, "bob", "demo");
    drain(a);
    drain(b);
    static struct fake_conn ca, cb;
    char body[256];
    struct http_request req = { .method = "POST", .body = body };
    struct bayeux_reply r1, r2;
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", a);
    req.body_len = strlen(body);
    bayeux_handle(&req, &ca, &r1);
    CU_ASSERT_TRUE(r1.parked);
    snprintf(body, sizeof body, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", b);
    req.body_len = strlen(body);
    bayeux_handle(&req, &cb, &r2);
    CU_ASSERT_TRUE(r2.parked);
    session_table_shutdown();
    CU_ASSERT_EQUAL(ca.completed, 1);
    CU_ASSERT_EQUAL(cb.completed, 1);
    CU_ASSERT_PTR_NOT_NULL(ca.body && strstr(ca.body, "\"reconnect\":\"retry\",\"interval\":500"));
    CU_ASSERT_PTR_NOT_NULL(cb.body && strstr(cb.body, "\"reconnect\":\"retry\",\"interval\":500"));
    CU_ASSERT_EQUAL(chat_room_count(), 0);
    fake_reset(&ca);
    fake_reset(&cb);
}

static void test_cleanup(void)
{
    bayeux_reply_release(&reply);
    session_table_shutdown();
    CU_ASSERT_EQUAL(chat_room_count(), 0);
    chat_shutdown();
    service_clear();
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_validation),
    UNIT_TEST(test_membership),
    UNIT_TEST(test_chat_as_joined_name),
    UNIT_TEST(test_private_routing),
    UNIT_TEST(test_server_lists_are_server_only),
    UNIT_TEST(test_shutdown_answers_with_retry_advice),
    UNIT_TEST(test_cleanup),
};
UNIT_MAIN("chat", tests)
