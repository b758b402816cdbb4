/* fuzz_request: libFuzzer target for the HTTP-level decoding of requests —
 * request_decode, request_form_param, request_cookie, request_jsonp_valid —
 * with every field drawn from the input and checked against what request.h
 * promises (and, for form parameters and JSONP names, against a small
 * independent decoder written here).
 *
 * Threads: libFuzzer's one thread. No state survives an input.
 *
 * Input: newline-separated fields, the last one taking the rest:
 *   method \n content-type \n query \n cookie \n body
 * A field the input ends before is NULL (the header is absent); a present but
 * empty line is "". Every string is copied into an allocation of its exact
 * size (the body without a NUL), so ASan sees any read past its end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken promise of request.h and aborts, so libFuzzer keeps the input. */
static void fail(const char *what)
{
    fprintf(stderr, "fuzz_request: %s\n", what);
    abort();
}

/* A NUL-terminated copy of p[0..n), sized exactly. */
static char *dup_exact(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Takes the next newline-terminated field of [*p, end), or NULL at the end. */
static char *next_field(const char **p, const char *end)
{
    if (*p >= end)
        return NULL;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *f = dup_exact(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return f;
}

/* -------------------------------------------------- reference decoders --- */

static bool ref_jsonp_valid(const char *s, size_t n)
{
    if (n < 1 || n > JSONP_CALLBACK_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int ref_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The value of the first `name` parameter of form[0..n), decoded into out
 * (n + 1 bytes); returns its length, or -1 when absent. A key without '='
 * has the empty value; a malformed %-escape stays as it is. */
static long ref_form_param(const char *form, size_t n, const char *name, char *out)
{
    size_t nlen = strlen(name), i = 0;
    for (;;) {
        if (i >= n)   /* an empty last segment ("", "a=1&") is never a match */
            return -1;
        size_t start = i;
        while (i < n && form[i] != '&')
            i++;
        size_t stop = i, eq = start;
        while (eq < stop && form[eq] != '=')
            eq++;
        if (eq - start == nlen && memcmp(form + start, name, nlen) == 0) {
            size_t o = 0;
            for (size_t k = eq < stop ? eq + 1 : stop; k < stop; k++) {
                if (form[k] == '+') {
                    out[o++] = ' ';
                } else if (form[k] == '%' && k + 2 < stop && ref_hex(form[k + 1]) >= 0 &&
                           ref_hex(form[k + 2]) >= 0) {
                    out[o++] = (char)(ref_hex(form[k + 1]) * 16 + ref_hex(form[k + 2]));
                    k += 2;
                } else {
                    out[o++] = form[k];
                }
            }
            return (long)o;
        }
        i++;
    }
}

/* ------------------------------------------------------------- checks --- */

static void check_form_param(const char *form, size_t n, const char *name)
{
    size_t len = 12345;
    char *got = request_form_param(form, n, name, &len);
    char *want = malloc(n + 1);
    if (!want)
        abort();
    long want_len = ref_form_param(form, n, name, want);
    if ((got == NULL) != (want_len < 0))
        fail("request_form_param: found/absent differs from the reference");
    if (got) {
        if (len != (size_t)want_len || memcmp(got, want, len) != 0)
            fail("request_form_param: decoded value differs from the reference");
        if (got[len] != '\0')
            fail("request_form_param: value not NUL-terminated");
        free(got);
    }
    free(want);
}

static void check_cookie(const char *header, const char *name, size_t out_size)
{
    char *out = malloc(out_size);   /* exact size: ASan sees an overflow */
    if (!out)
        abort();
    if (request_cookie(header, name, out, out_size)) {
        size_t vlen = strnlen(out, out_size);
        if (vlen == 0 || vlen >= out_size)
            fail("request_cookie: value empty or not terminated within out_size");
        if (!header || !strstr(header, out))
            fail("request_cookie: value is not part of the header");
        if (strchr(out, ';') || out[vlen - 1] == ' ' || out[vlen - 1] == '\t')
            fail("request_cookie: value holds a separator or trailing blank");
    }
    free(out);
}

static void check_decode(const struct http_request *req)
{
    struct decoded_request out;
    const char *why = NULL;
    int status = request_decode(req, &out, &why);
    if (status != 0) {
        if (status != 400 && status != 405 && status != 413)
            fail("request_decode: unexpected HTTP status");
        if (!why || !why[0])
            fail("request_decode: error without a reason");
        if (out.json)
            fail("request_decode: error left out->json allocated (the caller does not free it)");
        return;
    }
    if (!out.json || out.json[out.json_len] != '\0')
        fail("request_decode: json missing or not NUL-terminated at json_len");
    size_t cb = strnlen(out.jsonp, sizeof out.jsonp);
    if (cb >= sizeof out.jsonp || (cb && !ref_jsonp_valid(out.jsonp, cb)))
        fail("request_decode: invalid JSONP callback accepted");
    if (strnlen(out.browser, sizeof out.browser) >= sizeof out.browser)
        fail("request_decode: browser cookie not terminated");
    if (strcmp(req->method, "GET") == 0 && !cb)
        fail("request_decode: GET accepted without a callback");
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        fail("request_decode: a method other than GET and POST accepted");
    free(out.json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *method = next_field(&p, end);
    char *content_type = next_field(&p, end);
    char *query = next_field(&p, end);
    char *cookie = next_field(&p, end);
    size_t body_len = (size_t)(end - p);
    char *body = malloc(body_len ? body_len : 1);
    if (!body)
        abort();
    memcpy(body, p, body_len);

    struct http_request req = {
        .method = method ? method : "", .content_type = content_type, .query = query,
        .cookie = cookie, .https = size & 1, .body = body, .body_len = body_len,
    };
    check_decode(&req);

    /* the helpers on their own, with names and sizes taken from the input */
    if (request_jsonp_valid(body, body_len) != ref_jsonp_valid(body, body_len))
        fail("request_jsonp_valid differs from the reference");
    check_form_param(body, body_len, content_type ? content_type : "message");
    check_form_param(body, body_len, "jsonp");
    if (query)
        check_form_param(query, strlen(query), "message");
    check_cookie(cookie, "BAYEUX_BROWSER", BROWSER_ID_MAX + 1);
    check_cookie(cookie, method ? method : "x", 1 + (body_len ? (unsigned char)body[0] % 70 : 0));

    free(method);
    free(content_type);
    free(query);
    free(cookie);
    free(body);
    return 0;
}
