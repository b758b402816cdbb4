/* test_auth: the secrets file and handshake roles, the policy file and its
 * publish/subscribe decisions, and every load error with its file:line. */
#include "auth.h"
#include "channel_name.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_A "alpha-secret-0123456789"
#define SECRET_B "bravo-secret-0123456789"

/* ------------------------------------------------------------ helpers --- */

static char paths[4][64];
static int npaths;

/* Writes text to a new temporary file (mode 0600) and returns its path. */
static const char *tmpfile_with(const char *text)
{
    char *p = paths[npaths++ % 4];
    strcpy(p, "/tmp/test_auth_XXXXXX");
    int fd = mkstemp(p);
    CU_ASSERT_FATAL(fd >= 0);
    size_t n = strlen(text);
    CU_ASSERT_FATAL(write(fd, text, n) == (ssize_t)n);
    close(fd);
    return p;
}

static void remove_tmpfiles(void)
{
    for (int i = 0; i < 4; i++)
        if (paths[i][0])
            unlink(paths[i]);
    memset(paths, 0, sizeof paths);
    npaths = 0;
}

/* auth_load with the two texts (NULL: no such file); the messages it wrote
 * are returned in *msgs (caller frees). */
static int load(const char *secrets, const char *policy, bool required, char **msgs)
{
    size_t len;
    FILE *err = open_memstream(msgs, &len);
    const char *sp = secrets ? tmpfile_with(secrets) : NULL;
    const char *pp = policy ? tmpfile_with(policy) : NULL;
    int rc = auth_load(sp, pp, required, err);
    fclose(err);
    remove_tmpfiles();
    return rc;
}

static void load_ok(const char *secrets, const char *policy, bool required)
{
    char *msgs = NULL;
    CU_ASSERT_EQUAL_FATAL(load(secrets, policy, required, &msgs), 0);
    free(msgs);
}

/* The handshake decision for ext given as JSON text ("" for no ext). */
static enum bayeux_error hs(const char *ext_json, const char **role)
{
    struct json_object *ext = ext_json[0] ? json_tokener_parse(ext_json) : NULL;
    *role = "unset";
    enum bayeux_error e = auth_handshake(ext, role);
    json_object_put(ext);
    return e;
}

static void assert_role(const char *ext_json, const char *want)
{
    const char *role;
    CU_ASSERT_EQUAL(hs(ext_json, &role), BERR_NONE);
    CU_ASSERT_STRING_EQUAL(role, want);
}

static void assert_denied(const char *ext_json)
{
    const char *role;
    CU_ASSERT_EQUAL(hs(ext_json, &role), BERR_HANDSHAKE_DENIED);
}

/* The load fails and its message names `where` (file:line) and `what`. */
static void assert_load_error(const char *secrets, const char *policy, bool required,
                              int line, const char *what)
{
    char *msgs = NULL;
    CU_ASSERT_EQUAL(load(secrets, policy, required, &msgs), -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(msgs);
    if (line > 0) {
        char where[32];
        snprintf(where, sizeof where, ":%d: ", line);
        CU_ASSERT_PTR_NOT_NULL(strstr(msgs, where));
        CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "/tmp/test_auth_"));
    }
    if (!strstr(msgs, what))
        fprintf(stderr, "\nmessage '%s' lacks '%s'\n", msgs, what);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, what));
    free(msgs);
    /* nothing stays loaded after a failure */
    CU_ASSERT_FALSE(auth_has_policy());
    assert_role("{\"auth\":\"" SECRET_A "\"}", AUTH_ANONYMOUS);
}

/* ---------------------------------------------------------- handshake --- */

static void test_without_files_everyone_is_anonymous(void)
{
    auth_clear();
    assert_role("", AUTH_ANONYMOUS);
    assert_role("{\"auth\":\"anything\"}", AUTH_ANONYMOUS);
    assert_role("{\"auth\":5}", AUTH_ANONYMOUS);
    CU_ASSERT_FALSE(auth_has_policy());
    CU_ASSERT_TRUE(auth_may_publish(AUTH_ANONYMOUS, "/chat/a"));
    CU_ASSERT_TRUE(auth_may_publish(NULL, "/service/members"));
    CU_ASSERT_TRUE(auth_may_subscribe(AUTH_ANONYMOUS, "/**"));
}

static void test_secret_gives_role(void)
{
    load_ok("# roles\n\nmember " SECRET_A "\n  admin\t" SECRET_B "  # trailing comment\r\n",
            NULL, false);
    assert_role("{\"auth\":\"" SECRET_A "\"}", "member");
    assert_role("{\"auth\":\"" SECRET_B "\"}", "admin");
    assert_role("{\"auth\":\"" SECRET_A "\",\"other\":1}", "member");
    /* the role string belongs to the module and is the same every time */
    const char *r1, *r2;
    hs("{\"auth\":\"" SECRET_A "\"}", &r1);
    hs("{\"auth\":\"" SECRET_A "\"}", &r2);
    CU_ASSERT_PTR_EQUAL(r1, r2);
    auth_clear();
}

static void test_wrong_or_odd_secret_denied(void)
{
    load_ok("member " SECRET_A "\n", NULL, false);
    assert_denied("{\"auth\":\"wrong\"}");
    assert_denied("{\"auth\":\"\"}");
    assert_denied("{\"auth\":\"" SECRET_A "x\"}");            /* longer */
    assert_denied("{\"auth\":\"alpha-secret-012345678\"}");   /* a prefix */
    assert_denied("{\"auth\":\"Alpha-secret-0123456789\"}");  /* case matters */
    assert_denied("{\"auth\":\"" SECRET_A "\\u0000\"}");       /* embedded NUL */
    assert_denied("{\"auth\":null}");
    assert_denied("{\"auth\":42}");
    assert_denied("{\"auth\":true}");
    assert_denied("{\"auth\":[\"" SECRET_A "\"]}");
    assert_denied("{\"auth\":{\"secret\":\"" SECRET_A "\"}}");
    /* the role name is no secret */
    assert_denied("{\"auth\":\"member\"}");
    auth_clear();
}

static void test_missing_auth_is_anonymous_unless_required(void)
{
    load_ok("member " SECRET_A "\n", NULL, false);
    assert_role("", AUTH_ANONYMOUS);
    assert_role("{}", AUTH_ANONYMOUS);
    assert_role("{\"token\":\"x\"}", AUTH_ANONYMOUS);
    assert_role("7", AUTH_ANONYMOUS);           /* an ext that is no object has no auth */

    load_ok("member " SECRET_A "\n", NULL, true);
    assert_denied("");
    assert_denied("{}");
    assert_denied("7");
    assert_denied("{\"auth\":\"nope\"}");
    assert_role("{\"auth\":\"" SECRET_A "\"}", "member");
    auth_clear();
    /* cleared: required is gone too */
    assert_role("", AUTH_ANONYMOUS);
}

static void test_load_replaces_earlier(void)
{
    load_ok("member " SECRET_A "\n", "allow publish /a *\n", false);
    CU_ASSERT_TRUE(auth_has_policy());
    load_ok("admin " SECRET_B "\n", NULL, false);
    CU_ASSERT_FALSE(auth_has_policy());
    assert_denied("{\"auth\":\"" SECRET_A "\"}");
    assert_role("{\"auth\":\"" SECRET_B "\"}", "admin");
    auth_clear();
}

static void test_secret_file_errors(void)
{
    char *msgs = NULL;
    size_t len;
    FILE *err = open_memstream(&msgs, &len);
    CU_ASSERT_EQUAL(auth_load("/nonexistent/secrets", NULL, false, err), -1);
    fclose(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "cannot open /nonexistent/secrets"));
    free(msgs);

    assert_load_error("member\n", NULL, false, 1, "expected \"ROLE SECRET\"");
    assert_load_error("# c\nmember " SECRET_A " extra\n", NULL, false, 2, "expected \"ROLE SECRET\"");
    assert_load_error("mem/ber " SECRET_A "\n", NULL, false, 1, "role 'mem/ber'");
    assert_load_error("member short\n", NULL, false, 1, "must be 16-1024 bytes");
    assert_load_error("a " SECRET_A "\nb " SECRET_B "\nc " SECRET_A "\n", NULL, false, 3,
                      "given twice (roles 'a' and 'c')");
    assert_load_error("# nothing\n\n", NULL, false, 0, "no \"ROLE SECRET\" line");
    assert_load_error(NULL, NULL, true, 0, "--auth-required needs --auth-file");
    /* a secret may not start with '#': that is a comment */
    assert_load_error("member #" SECRET_A "\n", NULL, false, 1, "expected \"ROLE SECRET\"");
}

static void test_world_readable_secrets_warned(void)
{
    char *msgs = NULL;
    size_t len;
    const char *p = tmpfile_with("member " SECRET_A "\n");
    FILE *err = open_memstream(&msgs, &len);
    CU_ASSERT_EQUAL(auth_load(p, NULL, false, err), 0);
    fflush(err);
    CU_ASSERT_EQUAL(len, 0);                     /* 0600: quiet */
    chmod(p, 0644);
    CU_ASSERT_EQUAL(auth_load(p, NULL, false, err), 0);
    fclose(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "readable by every user"));
    free(msgs);
    remove_tmpfiles();
    auth_clear();
}

/* ------------------------------------------------------------- policy --- */

static void test_policy_file_errors(void)
{
    assert_load_error(NULL, "allow publish /a\n", false, 1, "expected \"allow|deny");
    assert_load_error(NULL, "\n# x\npermit publish /a *\n", false, 3, "neither allow nor deny");
    assert_load_error(NULL, "allow post /a *\n", false, 1, "ACTIONS must be");
    assert_load_error(NULL, "allow publish,,subscribe /a *\n", false, 1, "ACTIONS must be");
    assert_load_error(NULL, "allow publish, /a *\n", false, 1, "ACTIONS must be");
    assert_load_error(NULL, "allow publish /a/ *\n", false, 1, "not a channel name or pattern");
    assert_load_error(NULL, "allow publish /a/**/b *\n", false, 1, "not a channel name");
    assert_load_error(NULL, "allow publish chat *\n", false, 1, "not a channel name");
    assert_load_error(NULL, "allow subscribe /meta/** *\n", false, 1, "/meta channels");
    assert_load_error(NULL, "allow publish /a member,\n", false, 1, "ROLES must be");
    assert_load_error(NULL, "allow publish /a mem*ber\n", false, 1, "ROLES must be");
    assert_load_error(NULL, "allow publish /a *,member\n", false, 1, "ROLES must be");
    assert_load_error(NULL, "allow publish /a * extra\n", false, 1, "expected \"allow|deny");
    /* a good secrets file does not survive a bad policy */
    assert_load_error("member " SECRET_A "\n", "deny x /a *\n", false, 1, "ACTIONS must be");
}

static void test_policy_unknown_role_warned(void)
{
    char *msgs = NULL;
    CU_ASSERT_EQUAL(load("member " SECRET_A "\n",
                         "allow publish /a member,anonymous\nallow publish /b membr\n", false,
                         &msgs), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, ":2: warning: no secret gives role 'membr'"));
    CU_ASSERT_PTR_NULL(strstr(msgs, "'member'"));
    CU_ASSERT_PTR_NULL(strstr(msgs, "'anonymous'"));
    free(msgs);
    /* still loaded */
    CU_ASSERT_TRUE(auth_has_policy());
    auth_clear();
}

static void test_publish_first_match_decides(void)
{
    load_ok("member " SECRET_A "\nadmin " SECRET_B "\n",
            "# the chat\n"
            "deny publish /chat/locked member\n"
            "allow publish,subscribe /chat/** member,admin\n"
            "allow publish /service/members member\n"
            "allow subscribe /members/* *\n"
            "allow publish /open/* *\n",
            false);
    CU_ASSERT_TRUE(auth_may_publish("member", "/chat/demo"));
    CU_ASSERT_TRUE(auth_may_publish("member", "/chat/a/b/c"));
    CU_ASSERT_TRUE(auth_may_publish("admin", "/chat/locked"));
    CU_ASSERT_FALSE(auth_may_publish("member", "/chat/locked"));
    CU_ASSERT_FALSE(auth_may_publish(AUTH_ANONYMOUS, "/chat/demo"));
    CU_ASSERT_FALSE(auth_may_publish(NULL, "/chat/demo"));
    CU_ASSERT_FALSE(auth_may_publish("member", "/chat"));         /* a deep wildcard names what lies below only */
    CU_ASSERT_TRUE(auth_may_publish("member", "/service/members"));
    CU_ASSERT_FALSE(auth_may_publish("admin", "/service/members"));
    CU_ASSERT_FALSE(auth_may_publish("member", "/service/privatechat"));
    /* a subscribe-only rule does not allow publishing */
    CU_ASSERT_FALSE(auth_may_publish(AUTH_ANONYMOUS, "/members/demo"));
    CU_ASSERT_TRUE(auth_may_publish(AUTH_ANONYMOUS, "/open/x"));
    CU_ASSERT_FALSE(auth_may_publish(AUTH_ANONYMOUS, "/open/x/y"));
    /* nothing matches: deny */
    CU_ASSERT_FALSE(auth_may_publish("admin", "/elsewhere"));
    auth_clear();
    CU_ASSERT_TRUE(auth_may_publish(AUTH_ANONYMOUS, "/elsewhere"));
}

static void test_subscribe_must_be_covered(void)
{
    load_ok(NULL,
            "allow subscribe /chat/* *\n"
            "allow subscribe /deep/** *\n"
            "allow subscribe /one *\n",
            false);
    const char *a = AUTH_ANONYMOUS;
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/chat/demo"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/chat/*"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/chat/**"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/chat/demo/*"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/chat/demo/x"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/chat"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/**"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/*"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/deep/x"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/deep/x/y/z"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/deep/*"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/deep/**"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/deep/x/*"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/deep/x/**"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/deep"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/deeper/x"));       /* not a prefix by segment */
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/one"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/one/*"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/on"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "not a channel"));
    auth_clear();

    load_ok(NULL, "allow subscribe /** *\n", false);
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/**"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/*"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/x/y"));
    load_ok(NULL, "allow subscribe /* *\n", false);
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/*"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/x"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/x/y"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/**"));
    auth_clear();
}

static void test_subscribe_deny_meeting_part_refuses(void)
{
    load_ok(NULL,
            "deny subscribe /chat/secret *\n"
            "deny subscribe /admin/* *\n"
            "allow subscribe /** *\n",
            false);
    const char *a = AUTH_ANONYMOUS;
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/chat/demo"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/chat/secret"));
    /* both would deliver /chat/secret */
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/chat/*"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/chat/**"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/**"));
    /* these would not */
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/chat/secret/*"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/chat/demo/**"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/*"));
    /* the one-level deny of /admin meets /admin/x and everything below /admin,
     * not what lies two levels down */
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/admin/x"));
    CU_ASSERT_FALSE(auth_may_subscribe(a, "/admin/**"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/admin/x/y"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/admin/x/*"));
    CU_ASSERT_TRUE(auth_may_subscribe(a, "/admin"));
    auth_clear();
}

static void test_roles_and_actions_select_rules(void)
{
    load_ok("member " SECRET_A "\n",
            "allow subscribe /chat/** *\n"
            "deny subscribe /members/** anonymous\n"
            "allow subscribe,publish /members/** member\n",
            false);
    CU_ASSERT_TRUE(auth_may_subscribe(AUTH_ANONYMOUS, "/chat/**"));
    CU_ASSERT_TRUE(auth_may_subscribe("member", "/chat/x"));
    CU_ASSERT_FALSE(auth_may_subscribe(AUTH_ANONYMOUS, "/members/x"));
    CU_ASSERT_TRUE(auth_may_subscribe("member", "/members/*"));
    CU_ASSERT_FALSE(auth_may_subscribe("other", "/members/*"));
    CU_ASSERT_FALSE(auth_may_publish(AUTH_ANONYMOUS, "/chat/x"));   /* subscribe rule only */
    CU_ASSERT_TRUE(auth_may_publish("member", "/members/x"));
    auth_clear();
}

/* --------------------------------------------------- property (oracle) --- */

/* Every channel of a small universe: /s1[/s2[/s3[/s4]]] over segments a, b. */
#define UNIVERSE_DEPTH 4
static char universe[64][16];
static size_t nuniverse;

static void universe_build(const char *prefix, int depth)
{
    if (depth == UNIVERSE_DEPTH)
        return;
    for (int i = 0; i < 2; i++) {
        char *c = universe[nuniverse++];
        snprintf(c, sizeof universe[0], "%s/%c", prefix, "ab"[i]);
        universe_build(c, depth + 1);
    }
}

/* A random name or pattern of 1-3 segments over a, b (maybe ending in * or **). */
static void random_pattern(char *out, size_t size)
{
    size_t depth = 1 + unit_rand(3), n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < depth; i++) {
        const char *seg = "a";
        if (i == depth - 1) {
            static const char *const last[] = { "a", "b", "*", "**" };
            seg = last[unit_rand(4)];
        } else if (unit_rand(2)) {
            seg = "b";
        }
        n += (size_t)snprintf(out + n, size - n, "/%s", seg);
    }
}

struct oracle_rule {
    bool allow;
    char pat[16];
};

/* Per concrete channel: the first subscribe rule matching it decides. */
static bool oracle_channel(const struct oracle_rule *r, size_t n, const char *channel)
{
    for (size_t i = 0; i < n; i++)
        if (channel_name_matches(r[i].pat, channel))
            return r[i].allow;
    return false;
}

static void test_subscribe_never_lets_through_a_denied_channel(void)
{
    universe_build("", 0);
    for (int round = 0; round < 300; round++) {
        struct oracle_rule rules[4];
        size_t n = 1 + unit_rand(4);
        char text[256];
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
            rules[i].allow = unit_rand(3) != 0;
            random_pattern(rules[i].pat, sizeof rules[i].pat);
            len += (size_t)snprintf(text + len, sizeof text - len, "%s subscribe %s *\n",
                                    rules[i].allow ? "allow" : "deny", rules[i].pat);
        }
        load_ok(NULL, text, false);
        for (int q = 0; q < 20; q++) {
            char sub[16];
            random_pattern(sub, sizeof sub);
            bool allowed = auth_may_subscribe(AUTH_ANONYMOUS, sub);
            bool every = true, any = false;
            for (size_t c = 0; c < nuniverse; c++) {
                if (!channel_name_matches(sub, universe[c]))
                    continue;
                any = true;
                if (!oracle_channel(rules, n, universe[c]))
                    every = false;
            }
            /* sound: an allowed subscription delivers no denied channel */
            if (allowed && any && !every)
                fprintf(stderr, "\npolicy:\n%s allowed %s\n", text, sub);
            CU_ASSERT_FALSE(allowed && any && !every);
            /* a concrete name is decided exactly like a publish */
            if (!strchr(sub, '*'))
                CU_ASSERT_EQUAL(allowed, oracle_channel(rules, n, sub));
        }
    }
    auth_clear();
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_without_files_everyone_is_anonymous),
    UNIT_TEST(test_secret_gives_role),
    UNIT_TEST(test_wrong_or_odd_secret_denied),
    UNIT_TEST(test_missing_auth_is_anonymous_unless_required),
    UNIT_TEST(test_load_replaces_earlier),
    UNIT_TEST(test_secret_file_errors),
    UNIT_TEST(test_world_readable_secrets_warned),
    UNIT_TEST(test_policy_file_errors),
    UNIT_TEST(test_policy_unknown_role_warned),
    UNIT_TEST(test_publish_first_match_decides),
    UNIT_TEST(test_subscribe_must_be_covered),
    UNIT_TEST(test_subscribe_deny_meeting_part_refuses),
    UNIT_TEST(test_roles_and_actions_select_rules),
    UNIT_TEST(test_subscribe_never_lets_through_a_denied_channel),
};

UNIT_MAIN("auth", tests)
