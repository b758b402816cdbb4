/* test_cluster: the other responders' members as cluster.c keeps them —
 * loads on first word and on gaps, changes applied in order, old ones
 * skipped, silent and departed nodes dropped, a name held on two nodes
 * counted once — and what local chat users see of it (lists, notices,
 * names taken), with a fake loader in place of Redis. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chat.h"
#include "chat_client.h"
#include "cluster.h"
#include "config.h"
#include "poll.h"
#include "unit.h"

#define N1 "11111111111111111111111111111111"
#define N2 "22222222222222222222222222222222"

/* What the fake Redis hash of every node holds; loads counted. */
static struct {
    uint64_t seq;
    const char *keys[8];
    size_t n;
    bool fail;
    int loads;
    char browser[SESSION_ID_LEN + 1];   /* of every member */
} hash;

static int fake_load(const char *node, uint64_t *seq, struct cluster_member **v, size_t *n)
{
    (void)node;
    hash.loads++;
    if (hash.fail)
        return -1;
    *seq = hash.seq;
    *v = xcalloc(hash.n + 1, sizeof **v);
    for (size_t i = 0; i < hash.n; i++) {
        (*v)[i].key = xstrdup(hash.keys[i]);
        memcpy((*v)[i].browser, hash.browser, sizeof hash.browser);
    }
    *n = hash.n;
    return 0;
}

static void set_hash(uint64_t seq, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    hash.seq = seq;
    hash.n = n;
    for (size_t i = 0; i < n; i++)
        hash.keys[i] = va_arg(ap, const char *);
    va_end(ap);
}

static const char *names(const char *room)
{
    static buf_t b = BUF_INIT;
    buf_reset(&b);
    chat_room_members(room, &b);
    return b.data;
}

static void setup(void)
{
    chat_client_setup();
    cluster_init(fake_load);
    memset(&hash, 0, sizeof hash);
}

static void test_first_word_loads(void)
{
    setup();
    set_hash(3, 2, "r\nann", "r\nbob");
    cluster_on_change(N1, 4, "r\ncid", "", true, 1000);
    CU_ASSERT_EQUAL(hash.loads, 1);
    CU_ASSERT_STRING_EQUAL(names("r"), "[\"ann\",\"bob\"]");   /* the hash is what counts */

    cluster_on_change(N1, 4, "r\ncid", "", true, 1000);             /* the next change applies */
    CU_ASSERT_STRING_EQUAL(names("r"), "[\"ann\",\"bob\",\"cid\"]");
    cluster_on_change(N1, 4, "r\ncid", "", false, 1000);            /* an old one is skipped */
    CU_ASSERT_STRING_EQUAL(names("r"), "[\"ann\",\"bob\",\"cid\"]");
    CU_ASSERT_EQUAL(hash.loads, 1);

    set_hash(9, 1, "r\nann");                                   /* a gap: load again */
    cluster_on_change(N1, 9, "r\nann", "", true, 1000);
    CU_ASSERT_EQUAL(hash.loads, 2);
    CU_ASSERT_STRING_EQUAL(names("r"), "[\"ann\"]");

    cluster_on_heartbeat(N1, 9, 1500);                          /* nothing missed */
    CU_ASSERT_EQUAL(hash.loads, 2);
    set_hash(10, 0);
    cluster_on_heartbeat(N1, 10, 1500);                         /* a missed change */
    CU_ASSERT_EQUAL(hash.loads, 3);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
    cluster_on_bye(N1);
}

static void test_silent_node_dropped(void)
{
    setup();
    set_hash(1, 2, "a\nx", "b\ny");
    cluster_on_heartbeat(N1, 1, 1000);
    CU_ASSERT_EQUAL(chat_room_count(), 2);
    CU_ASSERT_EQUAL(cluster_tick(1000 + CLUSTER_NODE_TTL_MS), 0);
    cluster_on_heartbeat(N1, 1, 2000);                           /* alive: heard again */
    CU_ASSERT_EQUAL(cluster_tick(2000 + CLUSTER_NODE_TTL_MS), 0);
    CU_ASSERT_EQUAL(cluster_tick(2001 + CLUSTER_NODE_TTL_MS), 1);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
    buf_t st = BUF_INIT;
    cluster_status_json(&st);
    CU_ASSERT_STRING_EQUAL(st.data, "\"nodes\":0,\"remote_members\":0");
    buf_release(&st);
}

static void test_failed_load_retried(void)
{
    setup();
    hash.fail = true;
    cluster_on_heartbeat(N1, 5, 1000);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
    cluster_on_change(N1, 6, "r\nz", "", true, 1000);   /* unsynced: loads, not applies */
    CU_ASSERT_EQUAL(hash.loads, 2);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
    hash.fail = false;
    set_hash(6, 1, "r\nz");
    cluster_on_heartbeat(N1, 6, 1000);
    CU_ASSERT_STRING_EQUAL(names("r"), "[\"z\"]");
    cluster_on_bye(N1);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
}

static void test_name_on_two_nodes_once(void)
{
    setup();
    set_hash(1, 1, "r\nx");
    cluster_on_heartbeat(N1, 1, 1000);
    cluster_on_heartbeat(N2, 1, 1000);
    CU_ASSERT_STRING_EQUAL(names("r"), "[\"x\"]");
    cluster_on_bye(N1);
    CU_ASSERT_STRING_EQUAL(names("r"), "[\"x\"]");   /* still held on N2 */
    cluster_on_bye(N2);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
}

static void test_local_users_see_remote_members(void)
{
    setup();
    char a[40], b[40];
    client(a, "[\"/chat/mix\",\"/members/mix\",\"/rooms\"]");
    client(b, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(join(a, "alice", "mix"), "\"successful\":true"));
    drain(a);

    set_hash(1, 0);
    cluster_on_heartbeat(N1, 1, 1000);
    cluster_on_change(N1, 2, "mix\nrita", "", true, 1000);
    const char *q = drain(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "\"data\":{\"user\":\"rita\",\"membership\":\"join\",\"chat\":\"rita has joined\"}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "{\"channel\":\"/members/mix\",\"data\":[\"alice\",\"rita\"]}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "{\"channel\":\"/rooms\",\"data\":[{\"room\":\"mix\",\"members\":2}]}"));

    /* a name held elsewhere is taken here too */
    CU_ASSERT_PTR_NOT_NULL(strstr(join(b, "rita", "mix"), "\"error\":\"409:rita:name_taken\""));
    /* a private message to her goes out (to the backplane, off here) */
    CU_ASSERT_PTR_NOT_NULL(strstr(post("[{\"channel\":\"/service/privatechat\",\"clientId\":\"%s\","
                                       "\"data\":{\"room\":\"mix\",\"chat\":\"hi\",\"peer\":\"rita\"}}]", a),
                                  "\"successful\":true"));
    CU_ASSERT_PTR_NOT_NULL(strstr(drain(a), "\"scope\":\"private\""));   /* the sender's copy */

    /* one routed here for alice reaches alice only */
    const char *pm = "{\"channel\":\"/chat/mix\",\"data\":{\"user\":\"rita\",\"chat\":\"back\",\"scope\":\"private\",\"peer\":[\"alice\"]}}";
    chat_remote_private("mix", "nobody\talice", pm, strlen(pm));
    CU_ASSERT_PTR_NOT_NULL(strstr(drain(a), "\"chat\":\"back\""));
    CU_ASSERT_PTR_NULL(strstr(drain(b), "\"chat\":\"back\""));

    /* the node goes: she leaves, alice stays */
    CU_ASSERT_EQUAL(cluster_tick(1001 + CLUSTER_NODE_TTL_MS), 1);
    q = drain(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "rita has left"));
    CU_ASSERT_PTR_NOT_NULL(strstr(q, "{\"channel\":\"/members/mix\",\"data\":[\"alice\"]}"));
    CU_ASSERT_STRING_EQUAL(names("mix"), "[\"alice\"]");

    /* a local member whose name a remote one also holds: listed once */
    set_hash(1, 1, "mix\nalice");
    cluster_on_heartbeat(N2, 1, 5000);
    CU_ASSERT_STRING_EQUAL(names("mix"), "[\"alice\"]");
    CU_ASSERT_PTR_NULL(strstr(drain(a), "alice has joined"));
    cluster_on_bye(N2);
    CU_ASSERT_STRING_EQUAL(names("mix"), "[\"alice\"]");
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", b);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
}

struct snap {
    buf_t keys;
    int ends;
};

static void snap_each(const char *room, const char *user, const char *browser, void *ctx)
{
    struct snap *sn = ctx;
    CU_ASSERT_EQUAL(strlen(browser), SESSION_ID_LEN);   /* the handshake gave one */
    buf_printf(&sn->keys, "%s/%s;", room, user);
}

static void snap_end(void *ctx)
{
    ((struct snap *)ctx)->ends++;
}

/* Every local member, once, then the end: what the backplane writes. */
static void test_local_snapshot(void)
{
    setup();
    char a[40];
    client(a, NULL);
    join(a, "snap", "s1");
    join(a, "snap", "s2");
    struct snap sn = { BUF_INIT, 0 };
    chat_local_members(snap_each, snap_end, &sn);
    CU_ASSERT_EQUAL(sn.ends, 1);
    CU_ASSERT_TRUE(strcmp(sn.keys.data, "s1/snap;s2/snap;") == 0 || strcmp(sn.keys.data, "s2/snap;s1/snap;") == 0);
    buf_release(&sn.keys);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
}

/* A user whose responder died, back through this one before the dead one
 * is dropped, takes the name back: same browser. Another browser may not. */
static void test_same_browser_takes_name_back(void)
{
    setup();
    char a[40], b[40];
    client(a, NULL);
    client(b, NULL);
    session_t *sa = session_lookup(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
    session_browser(sa, hash.browser);
    session_release(sa);
    set_hash(1, 1, "back\nsam");
    cluster_on_heartbeat(N1, 1, 1000);
    CU_ASSERT_PTR_NOT_NULL(strstr(join(b, "sam", "back"), "\"error\":\"409:sam:name_taken\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(join(a, "sam", "back"), "\"successful\":true"));
    CU_ASSERT_STRING_EQUAL(names("back"), "[\"sam\"]");
    cluster_on_bye(N1);                                  /* the ghost goes; sam stays */
    CU_ASSERT_STRING_EQUAL(names("back"), "[\"sam\"]");
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", a);
    post("[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", b);
    CU_ASSERT_EQUAL(chat_room_count(), 0);
}

static void test_cleanup(void)
{
    cluster_shutdown();
    bayeux_reply_release(&reply);
    session_table_shutdown();
    chat_shutdown();
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_first_word_loads),
    UNIT_TEST(test_silent_node_dropped),
    UNIT_TEST(test_failed_load_retried),
    UNIT_TEST(test_name_on_two_nodes_once),
    UNIT_TEST(test_local_users_see_remote_members),
    UNIT_TEST(test_local_snapshot),
    UNIT_TEST(test_same_browser_takes_name_back),
    UNIT_TEST(test_cleanup),
};

UNIT_MAIN("cluster", tests)
