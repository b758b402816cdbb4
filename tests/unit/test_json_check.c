/* test_json_check: what json-c would let through — invalid UTF-8 (overlong,
 * surrogates, past U+10FFFF), NaN/Infinity, integers beyond 64 bits, NULs
 * inside strings — is caught; valid JSON passes untouched. */
#include "json_check.h"
#include "unit.h"

static bool check(const char *s)
{
    const char *why = NULL;
    bool ok = json_text_check(s, strlen(s), &why);
    CU_ASSERT_TRUE(ok || why != NULL);
    return ok;
}

static void test_valid_json_passes(void)
{
    const char *good[] = {
        "[{\"channel\":\"/a\",\"data\":{\"x\":1.5e3,\"y\":-0,\"z\":[true,false,null]}}]",
        "[\"h\xc3\xa9\", \"\xe2\x82\xac\", \"\xf0\x9f\x98\x80\", \"\xef\xbf\xbf\", \"\xf4\x8f\xbf\xbf\"]",
        "[18446744073709551615, -9223372036854775808, 00012, 1e400, -1.5E+9]",
        "[\"NaN\", \"Infinity\", \"\\\"N\", \"a\\\\\"]",
        "[\"\\u0000\"]",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CU_ASSERT_TRUE(check(good[i]));
}

static void test_invalid_utf8_refused(void)
{
    const char *bad[] = {
        "[\"\xc0\xaf\"]",                 /* overlong '/' */
        "[\"\xe0\x80\xaf\"]",
        "[\"\xf0\x80\x80\xaf\"]",
        "[\"\xed\xa0\x80\"]",             /* surrogate */
        "[\"\xed\xbf\xbf\"]",
        "[\"\xf4\x90\x80\x80\"]",         /* past U+10FFFF */
        "[\"\xf5\x80\x80\x80\"]",
        "[\"\x80\"]", "[\"\xc3\"]", "[\"\xe2\x82\"]", "[\"\xff\"]",
        "[1]\xc3",                        /* outside strings too */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_FALSE(check(bad[i]));
    CU_ASSERT_TRUE(json_utf8_valid("h\xc3\xa9", 3));
    CU_ASSERT_FALSE(json_utf8_valid("\xed\xa0\x80", 3));
}

static void test_nan_infinity_refused(void)
{
    CU_ASSERT_FALSE(check("[NaN]"));
    CU_ASSERT_FALSE(check("[{\"data\":Infinity}]"));
    CU_ASSERT_FALSE(check("[-Infinity]"));
}

static void test_integers_beyond_64_bits_refused(void)
{
    CU_ASSERT_FALSE(check("[18446744073709551616]"));
    CU_ASSERT_FALSE(check("[-9223372036854775809]"));
    CU_ASSERT_FALSE(check("[{\"id\":123456789012345678901234567890}]"));
    CU_ASSERT_TRUE(check("[123456789012345678901234567890.0]"));   /* a double: kept as text */
}

static void test_cstr(void)
{
    struct json_object *plain = json_object_new_string("abc");
    struct json_object *nul = json_object_new_string_len("a\0b", 3);
    struct json_object *num = json_object_new_int(1);
    CU_ASSERT_STRING_EQUAL(json_cstr(plain), "abc");
    CU_ASSERT_PTR_NULL(json_cstr(nul));
    CU_ASSERT_PTR_NULL(json_cstr(num));
    CU_ASSERT_PTR_NULL(json_cstr(NULL));
    json_object_put(plain);
    json_object_put(nul);
    json_object_put(num);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_valid_json_passes),
    UNIT_TEST(test_invalid_utf8_refused),
    UNIT_TEST(test_nan_infinity_refused),
    UNIT_TEST(test_integers_beyond_64_bits_refused),
    UNIT_TEST(test_cstr),
};

UNIT_MAIN("json_check", tests)
