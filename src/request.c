/* request: HTTP-level decoding of Bayeux requests (JSON, form, JSONP).
 *
 * Threads: the accept thread of the request; pure functions.
 */
#include "request.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

bool request_jsonp_valid(const char *name, size_t len)
{
    if (len == 0 || len > JSONP_CALLBACK_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isascii(c) && (isalnum(c) || c == '.' || c == '_' || c == '-')))
            return false;
    }
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes %XX and '+' (form encoding). Malformed escapes are kept literally. */
static char *url_decode(const char *s, size_t n, size_t *out_len)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
                   hexval((unsigned char)s[i + 2]) >= 0) {
            out[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

char *request_form_param(const char *form, size_t form_len, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    const char *p = form, *end = form + form_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : stop;
            return url_decode(v, (size_t)(stop - v), len);
        }
        if (stop == end)
            break;
        p = stop + 1;
    }
    return NULL;
}

bool request_cookie(const char *header, const char *name, char *out, size_t out_size)
{
    if (!header)
        return false;
    size_t nlen = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *semi = strchr(p, ';');
        const char *stop = semi ? semi : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq + 1;
            size_t vlen = (size_t)(stop - v);
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen == 0 || vlen >= out_size)
                return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = stop;
    }
    return false;
}

static bool is_form(const char *content_type)
{
    return content_type &&
           strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0;
}

/* Copies a validated callback into out->jsonp; returns false if invalid. */
static bool take_jsonp(struct decoded_request *out, const char *form, size_t len)
{
    size_t cb_len = 0;
    char *cb = request_form_param(form, len, "jsonp", &cb_len);
    if (!cb)
        return true;
    bool ok = request_jsonp_valid(cb, cb_len);
    if (ok)
        memcpy(out->jsonp, cb, cb_len + 1);
    free(cb);
    return ok;
}

static bool looks_like_json(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    return i < len && (body[i] == '[' || body[i] == '{');
}

int request_decode(const struct http_request *req, struct decoded_request *out, const char **why)
{
    memset(out, 0, sizeof *out);
    /* a malformed or oversized cookie is simply treated as absent */
    if (!request_cookie(req->cookie, "BAYEUX_BROWSER", out->browser, sizeof out->browser))
        out->browser[0] = '\0';

    if (strcmp(req->method, "GET") == 0) {
        const char *q = req->query ? req->query : "";
        size_t qlen = strlen(q);
        out->json = request_form_param(q, qlen, "message", &out->json_len);
        if (!out->json) {
            *why = "missing message parameter";
            return 400;
        }
        if (!take_jsonp(out, q, qlen)) {
            *why = "invalid jsonp callback name";
            goto fail;
        }
        if (!out->jsonp[0]) {
            *why = "GET needs a jsonp callback (callback-polling)";
            goto fail;
        }
        return 0;
    }
    if (strcmp(req->method, "POST") != 0) {
        *why = "method not allowed";
        return 405;
    }
    /* a JSON body under a form content type (curl's default) is still JSON */
    if (is_form(req->content_type) && !looks_like_json(req->body, req->body_len)) {
        out->json = request_form_param(req->body, req->body_len, "message", &out->json_len);
        if (!out->json) {
            *why = "missing message parameter";
            return 400;
        }
        if (!take_jsonp(out, req->body, req->body_len)) {
            *why = "invalid jsonp callback name";
            goto fail;
        }
        return 0;
    }
    if (req->body_len == 0) {
        *why = "empty request body";
        return 400;
    }
    /* JSONP callback may also come in the query string of a POST */
    if (req->query && !take_jsonp(out, req->query, strlen(req->query))) {
        *why = "invalid jsonp callback name";
        return 400;
    }
    out->json = xstrndup(req->body, req->body_len);
    out->json_len = req->body_len;
    return 0;

fail:
    free(out->json);
    out->json = NULL;
    return 400;
}
