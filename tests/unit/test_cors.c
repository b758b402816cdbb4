/* test_cors: origin syntax and canonical form, same-origin and allowed
 * origins, preflights, refusals and the header lines of each answer. */
#include "cors.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static void assert_canonical(const char *origin, const char *want)
{
    char out[CORS_ORIGIN_MAX + 1];
    bool ok = cors_canonical(origin, out);
    if (!want) {
        CU_ASSERT_FALSE(ok);
        return;
    }
    CU_ASSERT_TRUE_FATAL(ok);
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_canonical_form(void)
{
    assert_canonical("http://example.com", "http://example.com");
    assert_canonical("https://Chat.Example.COM", "https://chat.example.com");
    assert_canonical("HTTPS://chat.example.com", "https://chat.example.com");
    assert_canonical("http://127.0.0.1:8080", "http://127.0.0.1:8080");
    assert_canonical("http://example.com:80", "http://example.com");
    assert_canonical("https://example.com:443", "https://example.com");
    assert_canonical("http://example.com:443", "http://example.com:443");
    assert_canonical("https://example.com:80", "https://example.com:80");
    assert_canonical("http://example.com:08080", "http://example.com:8080");
    assert_canonical("http://[::1]:8080", "http://[::1]:8080");
    assert_canonical("http://[FE80::1]", "http://[fe80::1]");
    assert_canonical("http://my_host-1.local", "http://my_host-1.local");
}

static void test_canonical_refuses(void)
{
    assert_canonical(NULL, NULL);
    assert_canonical("", NULL);
    assert_canonical("null", NULL);
    assert_canonical("*", NULL);
    assert_canonical("example.com", NULL);
    assert_canonical("ftp://example.com", NULL);
    assert_canonical("file://", NULL);
    assert_canonical("http://", NULL);
    assert_canonical("http://example.com/", NULL);
    assert_canonical("http://example.com/path", NULL);
    assert_canonical("http://example.com?q", NULL);
    assert_canonical("http://user@example.com", NULL);
    assert_canonical("http://example.com:", NULL);
    assert_canonical("http://example.com:0", NULL);
    assert_canonical("http://example.com:65536", NULL);
    assert_canonical("http://example.com:123456", NULL);
    assert_canonical("http://example.com:80x", NULL);
    assert_canonical("http://exa mple.com", NULL);
    assert_canonical("http://[]", NULL);
    assert_canonical("http://[::1", NULL);
    assert_canonical("http://example.com\r\nSet-Cookie: x=y", NULL);
    char big[CORS_ORIGIN_MAX + 10];
    strcpy(big, "http://");
    memset(big + 7, 'a', sizeof big - 8);
    big[sizeof big - 1] = '\0';
    assert_canonical(big, NULL);
    big[CORS_ORIGIN_MAX] = '\0';          /* exactly the longest */
    char out[CORS_ORIGIN_MAX + 1];
    CU_ASSERT_TRUE(cors_canonical(big, out));
}

static void test_allow_validates(void)
{
    char *msgs = NULL;
    size_t len;
    FILE *err = open_memstream(&msgs, &len);
    CU_ASSERT_EQUAL(cors_allow("https://chat.example.com", err), 0);
    CU_ASSERT_EQUAL(cors_allow("https://chat.example.com/", err), -1);
    CU_ASSERT_EQUAL(cors_allow("null", err), -1);
    CU_ASSERT_EQUAL(cors_allow("*", err), -1);
    fclose(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "--allow-origin 'https://chat.example.com/'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "--allow-origin 'null'"));
    free(msgs);
    cors_clear();
}

static enum cors_verdict check(const char *method, const char *origin, const char *host,
                               bool https, const char **echo)
{
    const char *why = "unset";
    enum cors_verdict v = cors_check(method, origin, host, https, echo, &why);
    if (v == CORS_REFUSED) {
        CU_ASSERT_PTR_NOT_NULL(why);
        CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "refused") : NULL);
        CU_ASSERT_PTR_NULL(*echo);
    } else {
        CU_ASSERT_PTR_NULL(why);
    }
    return v;
}

static void test_no_origin_passes(void)
{
    const char *echo = "unset";
    CU_ASSERT_EQUAL(check("POST", NULL, "example.com", false, &echo), CORS_PASS);
    CU_ASSERT_PTR_NULL(echo);
    CU_ASSERT_EQUAL(check("GET", "", NULL, false, &echo), CORS_PASS);
    CU_ASSERT_PTR_NULL(echo);
    /* OPTIONS without Origin is no preflight: the request goes on (to its 405) */
    CU_ASSERT_EQUAL(check("OPTIONS", NULL, "example.com", false, &echo), CORS_PASS);
}

static void test_same_origin_passes_without_headers(void)
{
    const char *echo = "unset";
    CU_ASSERT_EQUAL(check("POST", "http://127.0.0.1:8080", "127.0.0.1:8080", false, &echo),
                    CORS_PASS);
    CU_ASSERT_PTR_NULL(echo);
    CU_ASSERT_EQUAL(check("POST", "https://chat.example.com", "Chat.Example.com:443", true,
                          &echo), CORS_PASS);
    CU_ASSERT_EQUAL(check("POST", "https://chat.example.com", "chat.example.com", true, &echo),
                    CORS_PASS);
    CU_ASSERT_EQUAL(check("POST", "http://[::1]:81", "[::1]:81", false, &echo), CORS_PASS);
    /* another scheme, port or host is another origin */
    CU_ASSERT_EQUAL(check("POST", "http://chat.example.com", "chat.example.com", true, &echo),
                    CORS_REFUSED);
    CU_ASSERT_EQUAL(check("POST", "https://chat.example.com", "chat.example.com", false,
                          &echo), CORS_REFUSED);
    CU_ASSERT_EQUAL(check("POST", "http://127.0.0.1:8081", "127.0.0.1:8080", false, &echo),
                    CORS_REFUSED);
    CU_ASSERT_EQUAL(check("POST", "http://evil.example", "chat.example.com", false, &echo),
                    CORS_REFUSED);
    CU_ASSERT_EQUAL(check("POST", "http://chat.example.com.evil", "chat.example.com", false,
                          &echo), CORS_REFUSED);
    /* without Host nothing is same-origin */
    CU_ASSERT_EQUAL(check("POST", "http://chat.example.com", NULL, false, &echo), CORS_REFUSED);
    CU_ASSERT_EQUAL(check("POST", "null", "chat.example.com", false, &echo), CORS_REFUSED);
    CU_ASSERT_EQUAL(check("POST", "http://chat.example.com/", "chat.example.com", false, &echo),
                    CORS_REFUSED);
}

static void test_allowed_origin_echoed(void)
{
    CU_ASSERT_EQUAL(cors_allow("https://App.Example.com:443", stderr), 0);
    CU_ASSERT_EQUAL(cors_allow("http://localhost:3000", stderr), 0);
    CU_ASSERT_EQUAL(cors_allow("http://localhost:3000", stderr), 0);   /* twice: once */
    const char *echo = NULL;
    CU_ASSERT_EQUAL(check("POST", "https://app.example.com", "chat.example.com", true, &echo),
                    CORS_PASS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(echo);
    CU_ASSERT_STRING_EQUAL(echo, "https://app.example.com");
    CU_ASSERT_EQUAL(check("GET", "http://localhost:3000", "chat.example.com", false, &echo),
                    CORS_PASS);
    CU_ASSERT_STRING_EQUAL(echo, "http://localhost:3000");
    CU_ASSERT_EQUAL(check("POST", "http://localhost:3001", "chat.example.com", false, &echo),
                    CORS_REFUSED);
    CU_ASSERT_EQUAL(check("POST", "http://app.example.com", "chat.example.com", false, &echo),
                    CORS_REFUSED);
    /* preflights */
    CU_ASSERT_EQUAL(check("OPTIONS", "http://localhost:3000", "chat.example.com", false, &echo),
                    CORS_PREFLIGHT);
    CU_ASSERT_STRING_EQUAL(echo, "http://localhost:3000");
    CU_ASSERT_EQUAL(check("OPTIONS", "http://localhost:3001", "chat.example.com", false, &echo),
                    CORS_REFUSED);
    CU_ASSERT_EQUAL(check("OPTIONS", "http://chat.example.com", "chat.example.com", false,
                          &echo), CORS_PREFLIGHT);
    CU_ASSERT_PTR_NULL(echo);
    cors_clear();
    CU_ASSERT_EQUAL(check("POST", "http://localhost:3000", "chat.example.com", false, &echo),
                    CORS_REFUSED);
}

static void test_header_lines(void)
{
    buf_t b = BUF_INIT;
    cors_headers(&b, NULL, false);
    CU_ASSERT_EQUAL(b.len, 0);
    cors_headers(&b, "http://localhost:3000", false);
    CU_ASSERT_STRING_EQUAL(b.data, "Access-Control-Allow-Origin: http://localhost:3000\r\n"
                                   "Access-Control-Allow-Credentials: true\r\n"
                                   "Vary: Origin\r\n");
    buf_reset(&b);
    cors_headers(&b, "http://localhost:3000", true);
    CU_ASSERT_STRING_EQUAL(b.data, "Access-Control-Allow-Origin: http://localhost:3000\r\n"
                                   "Access-Control-Allow-Credentials: true\r\n"
                                   "Vary: Origin\r\n"
                                   "Access-Control-Allow-Methods: GET, POST\r\n"
                                   "Access-Control-Allow-Headers: Content-Type\r\n"
                                   "Access-Control-Max-Age: 86400\r\n");
    buf_release(&b);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_canonical_form),
    UNIT_TEST(test_canonical_refuses),
    UNIT_TEST(test_allow_validates),
    UNIT_TEST(test_no_origin_passes),
    UNIT_TEST(test_same_origin_passes_without_headers),
    UNIT_TEST(test_allowed_origin_echoed),
    UNIT_TEST(test_header_lines),
};

UNIT_MAIN("cors", tests)
