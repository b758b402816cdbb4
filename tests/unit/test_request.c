/* test_request: JSONP names, form parameters, cookies and request decoding. */
#include "request.h"
#include "buf.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* A copy of s without its NUL, in an allocation of exactly strlen(s) bytes,
 * so that ASan reports any read past the end of a body or form. */
static char *exact(const char *s, size_t *len)
{
    *len = strlen(s);
    char *p = xmalloc(*len);
    memcpy(p, s, *len);
    return p;
}

static bool jsonp_ok(const char *s)
{
    size_t n;
    char *p = exact(s, &n);
    bool ok = request_jsonp_valid(p, n);
    free(p);
    return ok;
}

static void test_jsonp_valid(void)
{
    CU_ASSERT_TRUE(jsonp_ok("cb"));
    CU_ASSERT_TRUE(jsonp_ok("_cometd.jsonp-1"));
    CU_ASSERT_TRUE(jsonp_ok("x"));
    CU_ASSERT_TRUE(jsonp_ok("jQuery3210_1234.cb"));
    char name[JSONP_CALLBACK_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[JSONP_CALLBACK_MAX] = '\0';
    CU_ASSERT_TRUE(jsonp_ok(name));                 /* 64 */
    name[JSONP_CALLBACK_MAX] = 'a';
    name[JSONP_CALLBACK_MAX + 1] = '\0';
    CU_ASSERT_FALSE(jsonp_ok(name));                /* 65 */
    CU_ASSERT_FALSE(request_jsonp_valid("", 0));
    CU_ASSERT_FALSE(request_jsonp_valid("cb", 0));
    CU_ASSERT_FALSE(jsonp_ok("alert(1)"));
    CU_ASSERT_FALSE(jsonp_ok("a b"));
    CU_ASSERT_FALSE(jsonp_ok("a;b"));
    CU_ASSERT_FALSE(jsonp_ok("<script>"));
    CU_ASSERT_FALSE(jsonp_ok("a/b"));
    CU_ASSERT_FALSE(jsonp_ok("a\"b"));
    CU_ASSERT_FALSE(jsonp_ok("a[0]"));
    CU_ASSERT_FALSE(jsonp_ok("caf\xc3\xa9"));
    CU_ASSERT_FALSE(request_jsonp_valid("a\0b", 3));  /* embedded NUL */
    CU_ASSERT_TRUE(request_jsonp_valid("cb;alert(1)", 2));  /* only len bytes count */
}

/* Looks name up in form (exact-size copy); returns the value or NULL. */
static char *param(const char *form, const char *name, size_t *len)
{
    size_t n;
    char *f = exact(form, &n);
    *len = 12345;
    char *v = request_form_param(f, n, name, len);
    free(f);
    return v;
}

static void assert_param(const char *form, const char *name, const char *want, size_t want_len)
{
    size_t len;
    char *v = param(form, name, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(len, want_len);
    if (len == want_len)
        CU_ASSERT_EQUAL(memcmp(v, want, want_len), 0);
    CU_ASSERT_EQUAL(v[len], '\0');
    free(v);
}

static void assert_no_param(const char *form, const char *name)
{
    size_t len;
    char *v = param(form, name, &len);
    CU_ASSERT_PTR_NULL(v);
    free(v);
}

static void test_form_param(void)
{
    assert_param("message=%5B%5D&jsonp=cb", "message", "[]", 2);
    assert_param("message=%5B%5D&jsonp=cb", "jsonp", "cb", 2);
    assert_param("a=b+c+%2B", "a", "b c +", 5);
    assert_param("m=%7b%22X%22%3a1%7D", "m", "{\"X\":1}", 7);   /* either hex case */
    assert_param("m=%zz", "m", "%zz", 3);            /* malformed kept literally */
    assert_param("m=%g1x", "m", "%g1x", 4);
    assert_param("m=%1g", "m", "%1g", 3);
    assert_param("m=x%4", "m", "x%4", 3);            /* truncated escape at the end */
    assert_param("m=x%", "m", "x%", 2);
    assert_param("m=x%4&n=1", "m", "x%4", 3);        /* ... and before an '&' */
    assert_param("m=%41", "m", "A", 1);              /* complete escape at the end */
    assert_param("m=%25%41", "m", "%A", 2);          /* decoded once only */
    assert_no_param("message=1&jsonp=cb", "callback");
    assert_no_param("", "message");
    assert_no_param("message=1", "mess");            /* a prefix of a key */
    assert_no_param("message=1", "messages");
    assert_param("xmessage=1&message=2", "message", "2", 1);
    assert_param("message2=1&message=2", "message", "2", 1);
    assert_param("message=1&message=2", "message", "1", 1);   /* the first wins */
    assert_param("message=&x=1", "message", "", 0);  /* empty value is not absent */
    assert_param("x=1&message=", "message", "", 0);
    assert_param("x=1&message", "message", "", 0);   /* key without '=' */
    assert_param("&&message=a=b&", "message", "a=b", 3);
    assert_param("m=a%00b", "m", "a\0b", 3);         /* encoded NUL keeps the length */
    assert_param("m=%00", "m", "\0", 1);
}

static void test_form_param_respects_length(void)
{
    static const char form[] = "message=abc&jsonp=cb";
    size_t len;
    char *v = request_form_param(form, 11, "message", &len);   /* "message=abc" */
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(v, "abc");
    free(v);
    CU_ASSERT_PTR_NULL(request_form_param(form, 11, "jsonp", &len));
    v = request_form_param(form, 9, "message", &len);          /* "message=a" */
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(v, "a");
    CU_ASSERT_EQUAL(len, 1);
    free(v);
    CU_ASSERT_PTR_NULL(request_form_param(form, 0, "message", &len));
}

static void test_cookie(void)
{
    char out[BROWSER_ID_MAX + 1];
    CU_ASSERT_TRUE(request_cookie("a=1; BAYEUX_BROWSER=abc; b=2", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "abc");
    CU_ASSERT_TRUE(request_cookie("BAYEUX_BROWSER=first", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "first");
    CU_ASSERT_TRUE(request_cookie("a=1;BAYEUX_BROWSER=x-y", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "x-y");
    CU_ASSERT_TRUE(request_cookie("  \tBAYEUX_BROWSER=sp  \t;b=2", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "sp");
    CU_ASSERT_TRUE(request_cookie("a=1 ;  BAYEUX_BROWSER=last ", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "last");
    CU_ASSERT_TRUE(request_cookie("XBAYEUX_BROWSER=1; BAYEUX_BROWSER=2", "BAYEUX_BROWSER", out,
                                  sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "2");
    CU_ASSERT_TRUE(request_cookie("flag; BAYEUX_BROWSER=v", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "v");

    strcpy(out, "untouched");
    CU_ASSERT_FALSE(request_cookie("a=1; b=2", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_FALSE(request_cookie("", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_FALSE(request_cookie(NULL, "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_FALSE(request_cookie("BAYEUX_BROWSERX=1", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_FALSE(request_cookie("BAYEUX_BROWSER", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_FALSE(request_cookie("BAYEUX_BROWSER=; a=1", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_FALSE(request_cookie("a=BAYEUX_BROWSER=1", "BAYEUX_BROWSER", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "untouched");

    /* the value and its NUL must fit */
    char small[4];
    CU_ASSERT_TRUE(request_cookie("k=abc", "k", small, sizeof small));
    CU_ASSERT_STRING_EQUAL(small, "abc");
    memcpy(small, "zzz", 4);
    CU_ASSERT_FALSE(request_cookie("k=abcd", "k", small, sizeof small));
    CU_ASSERT_STRING_EQUAL(small, "zzz");
    char longv[128];
    snprintf(longv, sizeof longv, "BAYEUX_BROWSER=%065d", 7);   /* 65 bytes */
    CU_ASSERT_FALSE(request_cookie(longv, "BAYEUX_BROWSER", out, sizeof out));
}

/* request_decode on a request whose body is an exact-size copy */
static int decode(const char *method, const char *ctype, const char *query, const char *cookie,
                  const char *body, struct decoded_request *out, const char **why)
{
    size_t blen = 0;
    char *b = body ? exact(body, &blen) : NULL;
    struct http_request req = {
        .method = method, .content_type = ctype, .query = query, .cookie = cookie,
        .body = b, .body_len = blen,
    };
    *why = NULL;
    int rc = request_decode(&req, out, why);
    free(b);
    return rc;
}

static void assert_ok(int rc, struct decoded_request *out, const char *json, const char *jsonp)
{
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out->json);
    CU_ASSERT_STRING_EQUAL(out->json, json);
    CU_ASSERT_EQUAL(out->json_len, strlen(json));
    CU_ASSERT_STRING_EQUAL(out->jsonp, jsonp);
    free(out->json);
    out->json = NULL;
}

static void assert_fail(int rc, int status, const struct decoded_request *out, const char *why)
{
    CU_ASSERT_EQUAL(rc, status);
    CU_ASSERT_PTR_NULL(out->json);
    CU_ASSERT_PTR_NOT_NULL(why);
    if (why)
        CU_ASSERT_TRUE(why[0] != '\0');
}

static void test_decode_get(void)
{
    struct decoded_request out;
    const char *why;
    int rc = decode("GET", NULL, "message=%5B%7B%22channel%22%3A%22%2Fmeta%2Fconnect%22%7D%5D"
                    "&jsonp=_cometd.jsonp-1", NULL, NULL, &out, &why);
    assert_ok(rc, &out, "[{\"channel\":\"/meta/connect\"}]", "_cometd.jsonp-1");
    rc = decode("GET", NULL, "jsonp=cb&message=%5B%5D", NULL, NULL, &out, &why);
    assert_ok(rc, &out, "[]", "cb");
    CU_ASSERT_STRING_EQUAL(out.browser, "");

    rc = decode("GET", NULL, "jsonp=cb", NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("GET", NULL, NULL, NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("GET", NULL, "message=%5B%5D", NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("GET", NULL, "message=%5B%5D&jsonp=", NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("GET", NULL, "message=%5B%5D&jsonp=alert(1)", NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("GET", NULL, "message=%5B%5D&jsonp=a%3Bb", NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("GET", NULL, "message=%5B%5D&jsonp=a%00b", NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);
}

static void test_decode_methods(void)
{
    struct decoded_request out;
    const char *why;
    static const char *const bad[] = { "PUT", "DELETE", "HEAD", "OPTIONS", "get", "post" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = decode(bad[i], "application/json", "message=%5B%5D&jsonp=cb", NULL, "[]",
                        &out, &why);
        assert_fail(rc, 405, &out, why);
    }
}

static void test_decode_post_json(void)
{
    struct decoded_request out;
    const char *why;
    const char *body = "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\"}]";
    int rc = decode("POST", "application/json;charset=UTF-8", NULL, NULL, body, &out, &why);
    assert_ok(rc, &out, body, "");
    rc = decode("POST", NULL, NULL, NULL, "{}", &out, &why);     /* no content type */
    assert_ok(rc, &out, "{}", "");
    rc = decode("POST", "text/plain", NULL, NULL, "not json", &out, &why);   /* parsed later */
    assert_ok(rc, &out, "not json", "");

    rc = decode("POST", "application/json", NULL, NULL, "", &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("POST", "application/json", NULL, NULL, NULL, &out, &why);
    assert_fail(rc, 400, &out, why);

    /* a callback may come in the query string of a POST */
    rc = decode("POST", "application/json", "jsonp=cb", NULL, "[]", &out, &why);
    assert_ok(rc, &out, "[]", "cb");
    rc = decode("POST", "application/json", "x=1", NULL, "[]", &out, &why);
    assert_ok(rc, &out, "[]", "");
    rc = decode("POST", "application/json", "jsonp=a(b)", NULL, "[]", &out, &why);
    assert_fail(rc, 400, &out, why);
}

static void test_decode_post_json_with_nul(void)
{
    /* the body is copied by length, NUL bytes included, and NUL-terminated */
    static const char body[] = { '[', '"', 'a', '\0', 'b', '"', ']' };
    char *b = xmalloc(sizeof body);
    memcpy(b, body, sizeof body);
    struct http_request req = { .method = "POST", .content_type = "application/json",
                                .body = b, .body_len = sizeof body };
    struct decoded_request out;
    const char *why = NULL;
    CU_ASSERT_EQUAL_FATAL(request_decode(&req, &out, &why), 0);
    CU_ASSERT_EQUAL(out.json_len, sizeof body);
    CU_ASSERT_EQUAL(memcmp(out.json, body, sizeof body), 0);
    CU_ASSERT_EQUAL(out.json[sizeof body], '\0');
    free(out.json);
    free(b);
}

static void test_decode_post_form(void)
{
    struct decoded_request out;
    const char *why;
    const char *form = "application/x-www-form-urlencoded";
    int rc = decode("POST", form, NULL, NULL, "message=%5B%7B%22id%22%3A%221%22%7D%5D", &out, &why);
    assert_ok(rc, &out, "[{\"id\":\"1\"}]", "");
    rc = decode("POST", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", NULL, NULL,
                "message=%5B%5D&jsonp=cb", &out, &why);
    assert_ok(rc, &out, "[]", "cb");
    rc = decode("POST", form, NULL, NULL, "message=[{}]", &out, &why);   /* unencoded */
    assert_ok(rc, &out, "[{}]", "");

    rc = decode("POST", form, NULL, NULL, "other=1", &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("POST", form, NULL, NULL, "", &out, &why);
    assert_fail(rc, 400, &out, why);
    rc = decode("POST", form, NULL, NULL, "message=%5B%5D&jsonp=%3Cscript%3E", &out, &why);
    assert_fail(rc, 400, &out, why);
}

static void test_decode_json_under_form_type(void)
{
    /* curl -d sends JSON as application/x-www-form-urlencoded */
    struct decoded_request out;
    const char *why;
    const char *form = "application/x-www-form-urlencoded";
    const char *body = "[{\"channel\":\"/meta/handshake\"}]";
    int rc = decode("POST", form, NULL, NULL, body, &out, &why);
    assert_ok(rc, &out, body, "");
    rc = decode("POST", form, NULL, NULL, " \r\n\t{\"a\":1}", &out, &why);
    assert_ok(rc, &out, " \r\n\t{\"a\":1}", "");
    rc = decode("POST", form, "jsonp=cb", NULL, "[]", &out, &why);
    assert_ok(rc, &out, "[]", "cb");
}

static void test_decode_browser_cookie(void)
{
    struct decoded_request out;
    const char *why;
    int rc = decode("POST", "application/json", NULL, "a=1; BAYEUX_BROWSER=abc123; b=2", "[]",
                    &out, &why);
    CU_ASSERT_STRING_EQUAL(out.browser, "abc123");
    assert_ok(rc, &out, "[]", "");
    rc = decode("GET", NULL, "message=%5B%5D&jsonp=cb", "BAYEUX_BROWSER=g1", NULL, &out, &why);
    CU_ASSERT_STRING_EQUAL(out.browser, "g1");
    assert_ok(rc, &out, "[]", "cb");

    /* an oversized cookie is treated as absent, not as an error */
    char cookie[128];
    snprintf(cookie, sizeof cookie, "BAYEUX_BROWSER=%0*d", BROWSER_ID_MAX + 1, 1);
    rc = decode("POST", "application/json", NULL, cookie, "[]", &out, &why);
    CU_ASSERT_STRING_EQUAL(out.browser, "");
    assert_ok(rc, &out, "[]", "");
    snprintf(cookie, sizeof cookie, "BAYEUX_BROWSER=%0*d", BROWSER_ID_MAX, 1);   /* fits */
    rc = decode("POST", "application/json", NULL, cookie, "[]", &out, &why);
    CU_ASSERT_STRING_EQUAL(out.browser, cookie + strlen("BAYEUX_BROWSER="));
    assert_ok(rc, &out, "[]", "");
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_jsonp_valid),
    UNIT_TEST(test_form_param),
    UNIT_TEST(test_form_param_respects_length),
    UNIT_TEST(test_cookie),
    UNIT_TEST(test_decode_get),
    UNIT_TEST(test_decode_methods),
    UNIT_TEST(test_decode_post_json),
    UNIT_TEST(test_decode_post_json_with_nul),
    UNIT_TEST(test_decode_post_form),
    UNIT_TEST(test_decode_json_under_form_type),
    UNIT_TEST(test_decode_browser_cookie),
};
UNIT_MAIN("request", tests)
