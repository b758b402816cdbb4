/* test_session: the session table, per-session queue, held connects,
 * multiple-clients counting, poll timeouts and session expiry. */
#include <stdio.h>

#include "channel.h"
#include "config.h"
#include "fake_conn.h"
#include "poll.h"
#include "session.h"
#include "unit.h"

static int ended;
static void on_end(session_t *s, void *ctx)
{
    (void)s;
    (void)ctx;
    ended++;
}

static void setup(void)
{
    config_defaults(&config);
    poll_registry_init(fake_complete, fake_dead);
}

static message_t *msg(const char *text)
{
    char data[64];
    snprintf(data, sizeof data, "\"%s\"", text);
    return message_create("/chat/a", data, strlen(data), NULL);
}

/* Connects and, when not parked, releases what session_connect drained. */
static enum connect_result connect_now(session_t *s, poll_t *p, const char *browser, long timeout,
                                       size_t *n_out)
{
    message_t **msgs;
    size_t n;
    poll_t *replaced;
    bool advise;
    int64_t ack_batch;
    enum connect_result r = session_connect(s, p, browser, timeout, -1, &msgs, &n, &replaced, &advise, &ack_batch);
    if (replaced)
        poll_complete(replaced, POLL_REPLACED, NULL, 0);
    for (size_t i = 0; i < n; i++)
        message_release(msgs[i]);
    free(msgs);
    if (n_out)
        *n_out = n;
    return r;
}

static void test_create_lookup(void)
{
    setup();
    session_t *s = session_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(strlen(s->id), 32);
    CU_ASSERT_EQUAL(strspn(s->id, "0123456789abcdef"), 32);
    session_t *t = session_create();
    CU_ASSERT_STRING_NOT_EQUAL(s->id, t->id);
    session_t *found = session_lookup(s->id);
    CU_ASSERT_PTR_EQUAL(found, s);
    session_release(found);
    CU_ASSERT_PTR_NULL(session_lookup("nosuchclient"));
    CU_ASSERT_PTR_NULL(session_lookup(NULL));
    session_remove(s);
    CU_ASSERT_PTR_NULL(session_lookup(s->id));
    session_remove(s);   /* idempotent */
    session_release(s);
    session_remove(t);
    session_release(t);
    CU_ASSERT_EQUAL(session_count(), 0);
}

static void test_connect_first_then_park_then_deliver(void)
{
    setup();
    session_t *s = session_create();
    struct fake_conn c1 = { 0 }, c2 = { 0 }, c3 = { 0 };
    poll_t *p1 = poll_create(&c1, NULL, "", "", "\"2\"");
    CU_ASSERT_EQUAL(connect_now(s, p1, "", 5000, NULL), CONNECT_FIRST);
    poll_discard(p1);

    /* timeout 0 answers at once */
    poll_t *p2 = poll_create(&c2, NULL, "", "", "\"3\"");
    CU_ASSERT_EQUAL(connect_now(s, p2, "", 0, NULL), CONNECT_NOW);
    poll_discard(p2);

    poll_t *p3 = poll_create(&c3, NULL, "", "", "\"4\"");
    CU_ASSERT_EQUAL(connect_now(s, p3, "", 5000, NULL), CONNECT_PARKED);
    CU_ASSERT_EQUAL(poll_registry_count(), 1);
    CU_ASSERT_EQUAL(atomic_load(&s->expires_at_ms), 0);   /* held: never expires */
    CU_ASSERT_EQUAL(c3.completed, 0);

    message_t *m = msg("hello");
    session_enqueue(s, m);
    message_release(m);
    CU_ASSERT_EQUAL(c3.completed, 1);
    CU_ASSERT_EQUAL(c3.status, 200);
    CU_ASSERT_STRING_EQUAL(c3.body, "[{\"channel\":\"/chat/a\",\"data\":\"hello\"},"
                                    "{\"id\":\"4\",\"channel\":\"/meta/connect\",\"successful\":true}]");
    CU_ASSERT_EQUAL(poll_registry_count(), 0);
    CU_ASSERT_NOT_EQUAL(atomic_load(&s->expires_at_ms), 0);
    fake_reset(&c3);
    session_remove(s);
    session_release(s);
}

static void test_queued_messages_return_at_once_in_order(void)
{
    setup();
    session_t *s = session_create();
    struct fake_conn c = { 0 };
    poll_t *p = poll_create(&c, NULL, "", "", NULL);
    connect_now(s, p, "", 5000, NULL);
    poll_discard(p);
    for (int i = 0; i < 3; i++) {
        char t[8];
        snprintf(t, sizeof t, "m%d", i);
        message_t *m = msg(t);
        session_enqueue(s, m);
        message_release(m);
    }
    message_t **msgs;
    size_t n;
    poll_t *replaced;
    bool advise;
    int64_t ack_batch;
    p = poll_create(&c, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(session_connect(s, p, "", 5000, -1, &msgs, &n, &replaced, &advise, &ack_batch), CONNECT_NOW);
    CU_ASSERT_FALSE(advise);
    poll_discard(p);
    CU_ASSERT_PTR_NULL(replaced);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs[0]->json, "m0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs[2]->json, "m2"));
    for (size_t i = 0; i < n; i++)
        message_release(msgs[i]);
    free(msgs);
    session_remove(s);
    session_release(s);
}

static void test_queue_bound_drops_oldest(void)
{
    setup();
    config.max_queue = 3;
    session_t *s = session_create();
    for (int i = 0; i < 5; i++) {
        char t[8];
        snprintf(t, sizeof t, "m%d", i);
        message_t *m = msg(t);
        session_enqueue(s, m);
        message_release(m);
    }
    CU_ASSERT_EQUAL(s->dropped, 2);
    CU_ASSERT_EQUAL(queue_length(&s->queue), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(s->queue.ring[s->queue.head].msg->json, "m2"));
    session_remove(s);
    session_release(s);
}

static void test_newer_connect_replaces_older(void)
{
    setup();
    session_t *s = session_create();
    struct fake_conn c1 = { 0 }, c2 = { 0 };
    poll_t *p = poll_create(&c1, NULL, "", "", NULL);
    connect_now(s, p, "", 5000, NULL);   /* first */
    poll_discard(p);
    p = poll_create(&c1, NULL, "", "", "\"a\"");
    CU_ASSERT_EQUAL(connect_now(s, p, "", 5000, NULL), CONNECT_PARKED);
    poll_t *p2 = poll_create(&c2, NULL, "", "", "\"b\"");
    CU_ASSERT_EQUAL(connect_now(s, p2, "", 5000, NULL), CONNECT_PARKED);
    CU_ASSERT_EQUAL(c1.completed, 1);   /* the older one was answered */
    CU_ASSERT_PTR_NOT_NULL(strstr(c1.body, "\"id\":\"a\""));
    CU_ASSERT_EQUAL(c2.completed, 0);
    CU_ASSERT_EQUAL(poll_registry_count(), 1);
    session_remove(s);   /* answers the held one with reconnect none */
    CU_ASSERT_EQUAL(c2.completed, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(c2.body, "\"reconnect\":\"none\""));
    CU_ASSERT_EQUAL(poll_registry_count(), 0);
    fake_reset(&c1);
    fake_reset(&c2);
    session_release(s);
}

static void test_multiple_clients_per_browser(void)
{
    setup();
    session_t *a = session_create(), *b = session_create();
    struct fake_conn ca = { 0 }, cb = { 0 };
    poll_t *p;
    p = poll_create(&ca, NULL, "", "", NULL);
    connect_now(a, p, "br1", 5000, NULL);
    poll_discard(p);
    p = poll_create(&cb, NULL, "", "", NULL);
    connect_now(b, p, "br1", 5000, NULL);
    poll_discard(p);

    p = poll_create(&ca, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(connect_now(a, p, "br1", 5000, NULL), CONNECT_PARKED);
    poll_t *pb = poll_create(&cb, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(connect_now(b, pb, "br1", 5000, NULL), CONNECT_MULTIPLE);
    poll_discard(pb);
    /* another browser is not affected */
    pb = poll_create(&cb, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(connect_now(b, pb, "br2", 5000, NULL), CONNECT_PARKED);
    CU_ASSERT_TRUE(pb->advise);   /* the advice changed back: it is sent again */
    /* once a's poll is answered, br1 may hold again */
    session_remove(a);
    session_remove(b);
    CU_ASSERT_EQUAL(ca.completed, 1);
    CU_ASSERT_EQUAL(cb.completed, 1);
    fake_reset(&ca);
    fake_reset(&cb);
    session_release(a);
    session_release(b);
}

static void test_poll_timeout(void)
{
    setup();
    session_t *s = session_create();
    struct fake_conn c = { 0 };
    poll_t *p = poll_create(&c, NULL, "", "", NULL);
    connect_now(s, p, "", 5000, NULL);
    poll_discard(p);
    p = poll_create(&c, NULL, "", "", "\"9\"");
    CU_ASSERT_EQUAL(connect_now(s, p, "", 50, NULL), CONNECT_PARKED);
    int64_t now = poll_now_ms();
    CU_ASSERT_EQUAL(session_expire_polls(now), 0);   /* not yet due */
    CU_ASSERT_EQUAL(c.completed, 0);
    CU_ASSERT_EQUAL(session_expire_polls(now + 100), 1);
    CU_ASSERT_EQUAL(c.completed, 1);
    CU_ASSERT_STRING_EQUAL(c.body, "[{\"id\":\"9\",\"channel\":\"/meta/connect\",\"successful\":true}]");
    CU_ASSERT_EQUAL(poll_registry_count(), 0);
    fake_reset(&c);
    session_remove(s);
    session_release(s);
}

/* A held connect the web server gave up is released at the next sweep; a
 * message published after that waits in the queue for the next connect. */
static void test_dead_poll_released(void)
{
    setup();
    session_t *s = session_create();
    struct fake_conn c = { 0 }, live = { 0 };
    poll_t *p = poll_create(&c, NULL, "", "", NULL);
    connect_now(s, p, "", 5000, NULL);
    poll_discard(p);
    p = poll_create(&c, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(connect_now(s, p, "", 60000, NULL), CONNECT_PARKED);
    session_t *t = session_create();
    poll_t *q = poll_create(&live, NULL, "", "", NULL);
    connect_now(t, q, "", 5000, NULL);
    poll_discard(q);
    q = poll_create(&live, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(connect_now(t, q, "", 60000, NULL), CONNECT_PARKED);

    CU_ASSERT_EQUAL(session_release_dead_polls(), 0);   /* no hang-up signalled */
    c.dead = true;
    CU_ASSERT_EQUAL(session_release_dead_polls(), 0);   /* dead, but not signalled yet */
    poll_registry_hangup();
    CU_ASSERT_EQUAL(session_release_dead_polls(), 1);
    CU_ASSERT_EQUAL(c.completed, 1);
    CU_ASSERT_EQUAL(live.completed, 0);
    CU_ASSERT_EQUAL(poll_registry_count(), 1);
    CU_ASSERT_EQUAL(session_release_dead_polls(), 0);

    message_t *m = msg("after");
    session_enqueue(s, m);
    message_release(m);
    size_t n;
    struct fake_conn c2 = { 0 };
    p = poll_create(&c2, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(connect_now(s, p, "", 60000, &n), CONNECT_NOW);
    CU_ASSERT_EQUAL(n, 1);
    poll_discard(p);
    fake_reset(&c);
    session_remove(s);
    session_remove(t);
    CU_ASSERT_EQUAL(live.completed, 1);
    fake_reset(&live);
    session_release(s);
    session_release(t);
}

static void test_session_expiry(void)
{
    setup();
    config.max_interval_ms = 100;
    session_on_end(on_end, NULL);
    ended = 0;
    session_t *idle = session_create();
    session_t *held = session_create();
    CU_ASSERT_EQUAL(channel_subscribe(idle, (const char *[]){ "/chat/a" }, 1, 100), 0);
    struct fake_conn c = { 0 };
    poll_t *p = poll_create(&c, NULL, "", "", NULL);
    connect_now(held, p, "", 60000, NULL);
    poll_discard(p);
    p = poll_create(&c, NULL, "", "", NULL);
    CU_ASSERT_EQUAL(connect_now(held, p, "", 60000, NULL), CONNECT_PARKED);

    int64_t now = poll_now_ms();
    CU_ASSERT_EQUAL(session_expire(now), 0);
    CU_ASSERT_EQUAL(session_expire(now + 500), 1);   /* only the idle one */
    CU_ASSERT_EQUAL(ended, 1);
    CU_ASSERT_PTR_NULL(session_lookup(idle->id));
    CU_ASSERT_EQUAL(idle->nsubs, 0);
    CU_ASSERT_EQUAL(channel_count(), 0);
    /* a subscription after expiry is refused */
    CU_ASSERT_EQUAL(channel_subscribe(idle, (const char *[]){ "/chat/a" }, 1, 100), -1);
    session_t *h = session_lookup(held->id);
    CU_ASSERT_PTR_EQUAL(h, held);
    session_release(h);
    session_release(idle);
    session_table_shutdown();   /* answers the held connect with retry advice */
    CU_ASSERT_EQUAL(c.completed, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.body, "\"reconnect\":\"retry\""));
    CU_ASSERT_EQUAL(session_count(), 0);
    fake_reset(&c);
    session_release(held);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_create_lookup),
    UNIT_TEST(test_connect_first_then_park_then_deliver),
    UNIT_TEST(test_queued_messages_return_at_once_in_order),
    UNIT_TEST(test_queue_bound_drops_oldest),
    UNIT_TEST(test_newer_connect_replaces_older),
    UNIT_TEST(test_multiple_clients_per_browser),
    UNIT_TEST(test_poll_timeout),
    UNIT_TEST(test_dead_poll_released),
    UNIT_TEST(test_session_expiry),
};
UNIT_MAIN("session", tests)
