/* test_channel: the subscription table — both indexes kept in step, one
 * delivery per session however many patterns match, empty channels freed. */
#include "channel.h"
#include "channel_name.h"
#include "config.h"
#include "fake_conn.h"
#include "session.h"
#include "unit.h"

static size_t collect_for(const char *channel, session_t ***out)
{
    const char *patterns[CHANNEL_COLLECT_MAX];
    char scratch[CHANNEL_COLLECT_MAX * (CHANNEL_NAME_MAX + 4)];
    size_t n = channel_name_expand(channel, patterns, CHANNEL_COLLECT_MAX, scratch, sizeof scratch);
    return channel_collect(patterns, n, out);
}

static void release_all(session_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        session_release(v[i]);
    free(v);
}

static bool contains(session_t **v, size_t n, session_t *s)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == s)
            return true;
    return false;
}

static void test_subscribe_collect_dedup(void)
{
    config_defaults(&config);
    poll_registry_init(fake_complete, fake_dead);
    session_t *a = session_create(), *b = session_create(), *c = session_create();
    CU_ASSERT_EQUAL(channel_subscribe(a, (const char *[]){ "/chat/x" }, 1, 100), 0);
    CU_ASSERT_EQUAL(channel_subscribe(a, (const char *[]){ "/chat/*" }, 1, 100), 0);
    CU_ASSERT_EQUAL(channel_subscribe(a, (const char *[]){ "/**" }, 1, 100), 0);
    CU_ASSERT_EQUAL(channel_subscribe(a, (const char *[]){ "/chat/x" }, 1, 100), 0);   /* twice is once */
    CU_ASSERT_EQUAL(a->nsubs, 3);
    CU_ASSERT_EQUAL(channel_subscribe(b, (const char *[]){ "/chat/**" }, 1, 100), 0);
    CU_ASSERT_EQUAL(channel_subscribe(c, (const char *[]){ "/chat/y" }, 1, 100), 0);
    CU_ASSERT_EQUAL(channel_count(), 5);

    session_t **v;
    size_t n = collect_for("/chat/x", &v);
    CU_ASSERT_EQUAL(n, 2);               /* a once, b once, not c */
    CU_ASSERT_TRUE(contains(v, n, a));
    CU_ASSERT_TRUE(contains(v, n, b));
    release_all(v, n);

    n = collect_for("/chat/x/deep", &v);  /* one-level wildcard misses, deep one matches */
    CU_ASSERT_EQUAL(n, 2);
    release_all(v, n);

    n = collect_for("/other", &v);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_EQUAL(v[0], a);
    release_all(v, n);

    /* unsubscribe keeps both indexes in step and frees empty channels */
    CU_ASSERT_EQUAL(channel_unsubscribe(c, "/chat/y"), 0);
    CU_ASSERT_EQUAL(c->nsubs, 0);
    CU_ASSERT_EQUAL(channel_count(), 4);
    CU_ASSERT_EQUAL(channel_unsubscribe(c, "/never/subscribed"), 0);
    CU_ASSERT_EQUAL(channel_unsubscribe(b, "/chat/x"), 0);   /* not b's: no change */
    CU_ASSERT_EQUAL(b->nsubs, 1);

    channel_unsubscribe_all(a);
    CU_ASSERT_EQUAL(a->nsubs, 0);
    CU_ASSERT_EQUAL(channel_count(), 1);
    CU_ASSERT_EQUAL(channel_subscribe(a, (const char *[]){ "/chat/x" }, 1, 100), -1);   /* ending: refused */
    n = collect_for("/chat/x", &v);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_EQUAL(v[0], b);
    release_all(v, n);

    session_remove(a);
    session_remove(b);
    session_remove(c);
    CU_ASSERT_EQUAL(channel_count(), 0);
    session_release(a);
    session_release(b);
    session_release(c);
}

static void test_many_subscribers(void)
{
    config_defaults(&config);
    enum { N = 2000 };
    static session_t *s[N];
    for (int i = 0; i < N; i++) {
        s[i] = session_create();
        channel_subscribe(s[i], (const char *[]){ i % 2 ? "/room/1" : "/room/**" }, 1, 100);
    }
    session_t **v;
    size_t n = collect_for("/room/1", &v);
    CU_ASSERT_EQUAL(n, N);
    release_all(v, n);
    for (int i = 0; i < N; i += 3)
        session_remove(s[i]);
    n = collect_for("/room/1", &v);
    CU_ASSERT_EQUAL(n, N - (N + 2) / 3);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_FALSE(atomic_load(&v[i]->closed));
    release_all(v, n);
    for (int i = 0; i < N; i++) {
        session_remove(s[i]);
        session_release(s[i]);
    }
    CU_ASSERT_EQUAL(channel_count(), 0);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_subscribe_collect_dedup),
    UNIT_TEST(test_many_subscribers),
};
UNIT_MAIN("channel", tests)
