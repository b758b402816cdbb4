/* cors: the Origin check, preflight answers and CORS reply headers.
 *
 * Threads: the list is written on the main thread before the accept threads
 * start (cors_allow) and freed after they stop (cors_clear); the checks only
 * read it.
 * Owns: `allowed`, the canonical allowed origins.
 *
 * Origins are compared in the form browsers send them (lower-case scheme
 * and host, no default port), so "https://Chat.Example.com:443" given on
 * the command line matches the "https://chat.example.com" a browser sends.
 */
#include "cors.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char **allowed;
static size_t nallowed;

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

static bool ipv6_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == ':' || c == '.';
}

bool cors_canonical(const char *origin, char *out)
{
    if (!origin || strlen(origin) > CORS_ORIGIN_MAX)
        return false;
    bool tls;
    const char *p;
    if (strncasecmp(origin, "http://", 7) == 0) {
        tls = false;
        p = origin + 7;
    } else if (strncasecmp(origin, "https://", 8) == 0) {
        tls = true;
        p = origin + 8;
    } else {
        return false;
    }
    char *o = out;
    o += sprintf(o, "%s://", tls ? "https" : "http");
    const char *host = p;
    if (*p == '[') {
        for (p++; ipv6_char(*p); p++)
            ;
        if (*p != ']' || p == host + 1)
            return false;
        p++;
    } else {
        while (host_char(*p))
            p++;
        if (p == host)
            return false;
    }
    for (const char *h = host; h < p; h++)
        *o++ = lower(*h);
    if (*p == ':') {
        unsigned long port = 0;
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (unsigned long)(*p - '0');
        if (digits == 0 || digits > 5 || port == 0 || port > 65535)
            return false;
        /* the default port is never part of the origin a browser sends */
        if (port != (tls ? 443UL : 80UL))
            o += sprintf(o, ":%lu", port);
    }
    *o = '\0';
    return *p == '\0';
}

int cors_allow(const char *origin, FILE *err)
{
    char canon[CORS_ORIGIN_MAX + 1];
    if (!cors_canonical(origin, canon)) {
        fprintf(err, "bayeux-fcgi: --allow-origin '%s' is not http[s]://host[:port] "
                     "(no path, no trailing slash, at most %d bytes)\n", origin, CORS_ORIGIN_MAX);
        return -1;
    }
    for (size_t i = 0; i < nallowed; i++)
        if (strcmp(allowed[i], canon) == 0)
            return 0;
    allowed = xrealloc(allowed, (nallowed + 1) * sizeof *allowed);
    allowed[nallowed++] = xstrdup(canon);
    return 0;
}

void cors_clear(void)
{
    for (size_t i = 0; i < nallowed; i++)
        free(allowed[i]);
    free(allowed);
    allowed = NULL;
    nallowed = 0;
}

/* True when the canonical origin is the one the request was sent to. */
static bool same_origin(const char *canon, const char *host, bool https)
{
    char url[CORS_ORIGIN_MAX + 16], mine[CORS_ORIGIN_MAX + 1];
    if (!host || !*host)
        return false;
    int n = snprintf(url, sizeof url, "%s://%s", https ? "https" : "http", host);
    return n > 0 && (size_t)n < sizeof url && cors_canonical(url, mine) &&
           strcmp(mine, canon) == 0;
}

enum cors_verdict cors_check(const char *method, const char *origin, const char *host,
                             bool https, const char **echo, const char **why)
{
    *echo = NULL;
    *why = NULL;
    if (!origin || !*origin)
        return CORS_PASS;
    char canon[CORS_ORIGIN_MAX + 1];
    if (!cors_canonical(origin, canon)) {
        /* "null" (sandboxed frames, file: pages) lands here too: it names
         * no one, so it can never be allowed */
        *why = "cross-origin request refused: unrecognised Origin";
        return CORS_REFUSED;
    }
    bool same = same_origin(canon, host, https);
    if (!same) {
        for (size_t i = 0; i < nallowed && !*echo; i++)
            if (strcmp(allowed[i], canon) == 0)
                *echo = allowed[i];
        if (!*echo) {
            *why = "cross-origin request refused: origin not allowed";
            return CORS_REFUSED;
        }
    }
    return method && strcmp(method, "OPTIONS") == 0 ? CORS_PREFLIGHT : CORS_PASS;
}

void cors_headers(buf_t *out, const char *echo, bool preflight)
{
    if (echo)
        buf_printf(out, "Access-Control-Allow-Origin: %s\r\n"
                        "Access-Control-Allow-Credentials: true\r\n"
                        "Vary: Origin\r\n", echo);
    if (preflight)
        buf_puts(out, "Access-Control-Allow-Methods: GET, POST\r\n"
                      "Access-Control-Allow-Headers: Content-Type\r\n"
                      "Access-Control-Max-Age: 86400\r\n");
}
