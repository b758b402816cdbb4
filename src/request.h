/* request: turn an HTTP request (method, headers, query, body) into the JSON
 * text of a Bayeux batch — JSON bodies, form-encoded `message=` bodies and
 * callback-polling (JSONP) GETs — or into an HTTP error.
 *
 * Threads: the accept thread handling the request; no shared state.
 * No FastCGI types: the transport fills struct http_request.
 */
#ifndef BAYEUX_REQUEST_H
#define BAYEUX_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define JSONP_CALLBACK_MAX 64
#define BROWSER_ID_MAX 64

struct http_request {
    const char *method;        /* "GET", "POST", ... */
    const char *content_type;  /* may be NULL */
    const char *query;         /* query string without '?', may be NULL */
    const char *cookie;        /* the Cookie header, may be NULL */
    const char *path;          /* REQUEST_URI (path and query), may be NULL */
    const char *remote_addr;   /* the client's address (REMOTE_ADDR), may be NULL */
    bool https;                /* request arrived over TLS */
    const char *body;          /* request body (not NUL-terminated) */
    size_t body_len;
};

struct decoded_request {
    char *json;                         /* batch text; owned, free() it */
    size_t json_len;
    char jsonp[JSONP_CALLBACK_MAX + 1]; /* callback name, "" for plain JSON */
    char browser[BROWSER_ID_MAX + 1];   /* BAYEUX_BROWSER cookie, "" if none */
};

/* Decodes req into *out. Returns 0 on success (out->json set), or an HTTP
 * status (400, 405) with *why set to a short static explanation. */
int request_decode(const struct http_request *req, struct decoded_request *out, const char **why);

/* True when name is a safe JSONP callback: 1..64 of [A-Za-z0-9._-]. */
bool request_jsonp_valid(const char *name, size_t len);

/* Finds parameter `name` in an application/x-www-form-urlencoded string and
 * returns its decoded value (caller frees), or NULL when absent. *len gets
 * the decoded length (the value may hold NUL bytes). */
char *request_form_param(const char *form, size_t form_len, const char *name, size_t *len);

/* Copies the value of cookie `name` from a Cookie header into out (size
 * out_size). Returns false if absent or too long. */
bool request_cookie(const char *header, const char *name, char *out, size_t out_size);

#endif
