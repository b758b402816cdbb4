/* test_channel_name: channel grammar, kinds, wildcard expansion and matching. */
#include "channel_name.h"
#include "unit.h"

#include <stdint.h>
#include <string.h>

/* scratch that fits every pattern of any valid name (see channel_name.h) */
#define EXPAND_MAX (CHANNEL_DEPTH_MAX + 2)
#define SCRATCH_LEN (EXPAND_MAX * (CHANNEL_NAME_MAX + 4))

static enum channel_kind check(const char *name, bool allow_wild)
{
    return channel_name_check(name, allow_wild, NULL);
}

static void test_valid_names(void)
{
    static const char *const ok[] = {
        "/a", "/chat/demo", "/a/b-c_d!~()$@.e", "/A/Z/0/9", "/x.y/z~", "/(a)/$b@",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        CU_ASSERT_EQUAL(check(ok[i], false), CHANNEL_BROADCAST);
        CU_ASSERT_EQUAL(check(ok[i], true), CHANNEL_BROADCAST);
    }
}

static void test_invalid_names(void)
{
    static const char *const bad[] = {
        "chat", "", "/", "/a/", "//a", "/a//b", "/a b", "/a/*/b", "/a/**/b", "/a/***",
        "/a/*b", "/a/b*", "/*/a", "a/b", "/a/b/", "/a\tb", "/a?b", "/a#b", "/a%20b",
        "/a+b", "/a:b", "/a,b", "/a\"b", "/a\\b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CU_ASSERT_EQUAL(check(bad[i], false), CHANNEL_INVALID);
        CU_ASSERT_EQUAL(check(bad[i], true), CHANNEL_INVALID);
    }
    CU_ASSERT_EQUAL(check(NULL, true), CHANNEL_INVALID);
    /* wildcards need allow_wild */
    CU_ASSERT_EQUAL(check("/a/*", false), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(check("/a/**", false), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(check("/*", false), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(check("/**", false), CHANNEL_INVALID);
    /* non-ASCII bytes (UTF-8 "café", a lone 0x80, 0xff) */
    CU_ASSERT_EQUAL(check("/caf\xc3\xa9", false), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(check("/a/\x80", false), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(check("/\xff", true), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(check("/a\x7f", true), CHANNEL_INVALID);
}

static void test_length_limit(void)
{
    char name[CHANNEL_NAME_MAX + 2];
    name[0] = '/';
    memset(name + 1, 'x', CHANNEL_NAME_MAX - 1);
    name[CHANNEL_NAME_MAX] = '\0';                 /* exactly CHANNEL_NAME_MAX bytes */
    CU_ASSERT_EQUAL(strlen(name), CHANNEL_NAME_MAX);
    CU_ASSERT_EQUAL(check(name, false), CHANNEL_BROADCAST);
    name[CHANNEL_NAME_MAX] = 'x';                  /* one byte longer */
    name[CHANNEL_NAME_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(check(name, false), CHANNEL_INVALID);
}

static void test_depth_limit(void)
{
    char name[2 * (CHANNEL_DEPTH_MAX + 1) + 1];
    for (int i = 0; i < CHANNEL_DEPTH_MAX + 1; i++)
        memcpy(name + 2 * i, "/a", 2);
    name[2 * CHANNEL_DEPTH_MAX] = '\0';            /* CHANNEL_DEPTH_MAX segments */
    CU_ASSERT_EQUAL(check(name, false), CHANNEL_BROADCAST);
    name[2 * CHANNEL_DEPTH_MAX] = '/';             /* one more */
    name[2 * (CHANNEL_DEPTH_MAX + 1)] = '\0';
    CU_ASSERT_EQUAL(check(name, false), CHANNEL_INVALID);
    /* a wildcard counts as a segment too */
    name[2 * CHANNEL_DEPTH_MAX + 1] = '*';
    CU_ASSERT_EQUAL(check(name, true), CHANNEL_INVALID);
    name[2 * (CHANNEL_DEPTH_MAX - 1) + 1] = '*';   /* 31 times "/a", then a one-level wildcard */
    name[2 * CHANNEL_DEPTH_MAX] = '\0';
    CU_ASSERT_EQUAL(check(name, true), CHANNEL_BROADCAST);
}

static void test_kinds(void)
{
    CU_ASSERT_EQUAL(check("/meta/connect", false), CHANNEL_META);
    CU_ASSERT_EQUAL(check("/meta", false), CHANNEL_META);
    CU_ASSERT_EQUAL(check("/meta/a/b", false), CHANNEL_META);
    CU_ASSERT_EQUAL(check("/meta/*", true), CHANNEL_META);
    CU_ASSERT_EQUAL(check("/meta/**", true), CHANNEL_META);
    CU_ASSERT_EQUAL(check("/metadata/x", false), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(check("/metax", false), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(check("/Meta/connect", false), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(check("/service/x", false), CHANNEL_SERVICE);
    CU_ASSERT_EQUAL(check("/service", false), CHANNEL_SERVICE);
    CU_ASSERT_EQUAL(check("/service/**", true), CHANNEL_SERVICE);
    CU_ASSERT_EQUAL(check("/services", false), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(check("/services/x", false), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(check("/a/meta", false), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(check("/a/service/x", false), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(check("/**", true), CHANNEL_BROADCAST);
}

static void test_wild_out(void)
{
    enum channel_wild w = CHANNEL_WILD_DEEP;
    CU_ASSERT_EQUAL(channel_name_check("/a/b", true, &w), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_NONE);
    CU_ASSERT_EQUAL(channel_name_check("/a/*", true, &w), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_ONE);
    CU_ASSERT_EQUAL(channel_name_check("/a/**", true, &w), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_DEEP);
    CU_ASSERT_EQUAL(channel_name_check("/*", true, &w), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_ONE);
    CU_ASSERT_EQUAL(channel_name_check("/**", true, &w), CHANNEL_BROADCAST);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_DEEP);
    CU_ASSERT_EQUAL(channel_name_check("/meta/**", true, &w), CHANNEL_META);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_DEEP);
    /* an invalid name leaves WILD_NONE, whatever was there before */
    w = CHANNEL_WILD_DEEP;
    CU_ASSERT_EQUAL(channel_name_check("/a/*", false, &w), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_NONE);
    w = CHANNEL_WILD_ONE;
    CU_ASSERT_EQUAL(channel_name_check("/a/**/b", true, &w), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_NONE);
    w = CHANNEL_WILD_ONE;
    CU_ASSERT_EQUAL(channel_name_check("bad", true, &w), CHANNEL_INVALID);
    CU_ASSERT_EQUAL(w, CHANNEL_WILD_NONE);
}

static void assert_expand(const char *name, const char *const *want, size_t nwant)
{
    const char *out[EXPAND_MAX];
    static char scratch[SCRATCH_LEN];
    size_t n = channel_name_expand(name, out, EXPAND_MAX, scratch, sizeof scratch);
    CU_ASSERT_EQUAL_FATAL(n, nwant);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(out[i], want[i]);
}

static void test_expand(void)
{
    static const char *const a[] = { "/a", "/*", "/**" };
    assert_expand("/a", a, 3);
    static const char *const abc[] = { "/a/b/c", "/a/b/*", "/a/b/**", "/a/**", "/**" };
    assert_expand("/a/b/c", abc, 5);
    static const char *const chat[] = { "/chat/demo", "/chat/*", "/chat/**", "/**" };
    assert_expand("/chat/demo", chat, 4);
    static const char *const meta[] = { "/meta/connect", "/meta/*", "/meta/**", "/**" };
    assert_expand("/meta/connect", meta, 4);
}

static void test_expand_deepest_fits(void)
{
    /* the deepest, longest valid name: every pattern fits the documented scratch */
    char name[CHANNEL_NAME_MAX + 1];
    size_t len = 0;
    for (int i = 0; i < CHANNEL_DEPTH_MAX; i++) {
        name[len++] = '/';
        size_t seg = i == 0 ? CHANNEL_NAME_MAX - 2 * CHANNEL_DEPTH_MAX + 1 : 1;
        memset(name + len, 's', seg);
        len += seg;
    }
    name[len] = '\0';
    CU_ASSERT_EQUAL_FATAL(len, CHANNEL_NAME_MAX);
    CU_ASSERT_EQUAL_FATAL(check(name, false), CHANNEL_BROADCAST);
    const char *out[EXPAND_MAX];
    size_t scratch_len = EXPAND_MAX * (len + 4);
    static char scratch[SCRATCH_LEN];
    size_t n = channel_name_expand(name, out, EXPAND_MAX, scratch, scratch_len);
    CU_ASSERT_EQUAL(n, CHANNEL_DEPTH_MAX + 2);
    CU_ASSERT_STRING_EQUAL(out[0], name);
    CU_ASSERT_STRING_EQUAL(out[n - 1], "/**");
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_TRUE(channel_name_matches(out[i], name));
}

static void test_expand_truncates(void)
{
    const char *out[EXPAND_MAX + 1];
    char scratch[64];

    /* max_out caps the count and out[] past it is not written */
    for (size_t max = 0; max <= 5; max++) {
        for (size_t i = 0; i <= EXPAND_MAX; i++)
            out[i] = NULL;
        size_t n = channel_name_expand("/a/b/c", out, max, scratch, sizeof scratch);
        CU_ASSERT_EQUAL(n, max);
        for (size_t i = max; i <= EXPAND_MAX; i++)
            CU_ASSERT_PTR_NULL(out[i]);
    }
    size_t n = channel_name_expand("/a/b/c", out, 2, scratch, sizeof scratch);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(out[0], "/a/b/c");
    CU_ASSERT_STRING_EQUAL(out[1], "/a/b/*");

    /* a scratch too small stops at the first pattern that does not fit and
     * never writes past scratch_len (the rest of the buffer is a canary) */
    static const size_t lens[] = { 0, 1, 6, 7, 13, 14, 21, 22, 27, 28, 31, 32 };
    static const size_t want[] = { 0, 0, 0, 1, 1,  2,  2,  3,  3,  4,  4,  5  };
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        memset(scratch, 0x5a, sizeof scratch);
        n = channel_name_expand("/a/b/c", out, EXPAND_MAX, scratch, lens[k]);
        CU_ASSERT_EQUAL(n, want[k]);
        for (size_t i = lens[k]; i < sizeof scratch; i++)
            if (scratch[i] != 0x5a) {
                CU_FAIL("channel_name_expand wrote past scratch_len");
                break;
            }
        for (size_t i = 0; i < n; i++)
            CU_ASSERT_TRUE(channel_name_matches(out[i], "/a/b/c"));
    }
}

static void test_matches(void)
{
    CU_ASSERT_TRUE(channel_name_matches("/foo/*", "/foo/bar"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/*", "/foo"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/*", "/foo/bar/baz"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/*", "/foobar/x"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/*", "/foobar"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/*", "/bar/foo"));

    CU_ASSERT_TRUE(channel_name_matches("/foo/**", "/foo/bar"));
    CU_ASSERT_TRUE(channel_name_matches("/foo/**", "/foo/bar/baz"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/**", "/foo"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/**", "/foobar"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/**", "/foobar/x"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/**", "/bar/foo/x"));

    static const char *const all[] = { "/a", "/foo/bar", "/meta/connect", "/x/y/z/w" };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        CU_ASSERT_TRUE(channel_name_matches("/**", all[i]));
    CU_ASSERT_TRUE(channel_name_matches("/*", "/a"));
    CU_ASSERT_FALSE(channel_name_matches("/*", "/a/b"));

    CU_ASSERT_TRUE(channel_name_matches("/foo/bar", "/foo/bar"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/bar", "/foo/ba"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/bar", "/foo/barx"));
    CU_ASSERT_FALSE(channel_name_matches("/foo/bar", "/foo/bar/x"));
    CU_ASSERT_FALSE(channel_name_matches("/foo", "/Foo"));
}


/* a name of 1..4 segments over a small alphabet, so that names share
 * prefixes and one segment can be a prefix of another */
static void gen_name(char *out, unsigned depth)
{
    static const char *const segs[] = { "a", "b", "ab", "a.b" };
    out[0] = '\0';
    for (unsigned i = 0; i < depth; i++) {
        strcat(out, "/");
        strcat(out, segs[unit_rand(4)]);
    }
}

static void test_matches_agrees_with_expand(void)
{
    enum { NNAMES = 300, NPATTERNS = 300 };
    static char names[NNAMES][64], patterns[NPATTERNS][64];
    for (int i = 0; i < NNAMES; i++) {
        gen_name(names[i], 1 + unit_rand(4));
        CU_ASSERT_EQUAL_FATAL(check(names[i], false), CHANNEL_BROADCAST);
    }
    for (int i = 0; i < NPATTERNS; i++) {
        gen_name(patterns[i], unit_rand(4));   /* a parent, possibly the root */
        switch (unit_rand(3)) {
        case 0: strcat(patterns[i], "/*"); break;
        case 1: strcat(patterns[i], "/**"); break;
        default: strcat(patterns[i], unit_rand(2) ? "/a" : "/ab"); break;
        }
        CU_ASSERT_NOT_EQUAL_FATAL(check(patterns[i], true), CHANNEL_INVALID);
    }

    size_t disagree = 0, matched = 0;
    for (int i = 0; i < NNAMES; i++) {
        const char *out[EXPAND_MAX];
        char scratch[EXPAND_MAX * (64 + 4)];
        size_t n = channel_name_expand(names[i], out, EXPAND_MAX, scratch, sizeof scratch);
        size_t depth = 0;
        for (const char *c = names[i]; *c; c++)
            depth += *c == '/';
        CU_ASSERT_EQUAL(n, depth + 2);   /* itself, parent "*", every ancestor "**" */
        /* every expansion is itself a valid pattern that matches */
        for (size_t k = 0; k < n; k++) {
            CU_ASSERT_NOT_EQUAL(check(out[k], true), CHANNEL_INVALID);
            CU_ASSERT_TRUE(channel_name_matches(out[k], names[i]));
        }
        for (int j = 0; j < NPATTERNS; j++) {
            bool listed = false;
            for (size_t k = 0; k < n && !listed; k++)
                listed = strcmp(out[k], patterns[j]) == 0;
            bool m = channel_name_matches(patterns[j], names[i]);
            matched += m;
            if (m != listed) {
                if (disagree++ < 5)
                    fprintf(stderr, "\n  disagree: pattern %s name %s matches=%d expanded=%d",
                            patterns[j], names[i], m, listed);
            }
        }
    }
    CU_ASSERT_EQUAL(disagree, 0);
    CU_ASSERT_TRUE(matched > 100);   /* the check was not vacuous */
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_valid_names),
    UNIT_TEST(test_invalid_names),
    UNIT_TEST(test_length_limit),
    UNIT_TEST(test_depth_limit),
    UNIT_TEST(test_kinds),
    UNIT_TEST(test_wild_out),
    UNIT_TEST(test_expand),
    UNIT_TEST(test_expand_deepest_fits),
    UNIT_TEST(test_expand_truncates),
    UNIT_TEST(test_matches),
    UNIT_TEST(test_matches_agrees_with_expand),
};
UNIT_MAIN("channel_name", tests)
