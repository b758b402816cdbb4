/* cors: which web origins may call the endpoint from a browser — the Origin
 * check, the CORS preflight answer and the headers of an allowed reply.
 *
 * Threads: cors_allow and cors_clear on the main thread while no other runs;
 * cors_check and cors_headers from any thread (the list is immutable then).
 * Owns: the allowed origins, kept in canonical form; the `echo` strings it
 * hands out point into that list and stay valid until cors_clear.
 *
 * Cross-origin requests are refused unless their origin was allowed.
 * Requests without an Origin header (non-browser clients, the script GETs of
 * callback-polling) are not cross-origin requests a browser guards, and pass.
 */
#ifndef BAYEUX_CORS_H
#define BAYEUX_CORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"

#define CORS_ORIGIN_MAX 300    /* longest origin accepted, bytes */

enum cors_verdict {
    CORS_PASS,       /* handle the request; add cors_headers(echo, false) to its reply */
    CORS_PREFLIGHT,  /* answer 204 with cors_headers(echo, true) and nothing else */
    CORS_REFUSED     /* answer 403, text/plain, with the reason *why */
};

/* Allows one origin, "scheme://host[:port]" with scheme http or https and no
 * path. Returns 0, or -1 after writing why to err. */
int cors_allow(const char *origin, FILE *err);

/* Forgets every allowed origin. */
void cors_clear(void);

/* Decides a request from its method, Origin and Host headers (each may be
 * NULL) and whether it came over TLS. *echo gets the origin to name in
 * Access-Control-Allow-Origin, or NULL when the reply needs no CORS headers
 * (no Origin, or same-origin). *why gets a static reason when refused. */
enum cors_verdict cors_check(const char *method, const char *origin, const char *host,
                             bool https, const char **echo, const char **why);

/* Appends the CORS header lines ("Name: value\r\n") for echo — none when it
 * is NULL — and, for a preflight, the allowed methods, headers and max-age. */
void cors_headers(buf_t *out, const char *echo, bool preflight);

/* Writes the canonical form of origin into out (CORS_ORIGIN_MAX + 1 bytes):
 * lower case, without the scheme's default port. Returns false when it is
 * not "http[s]://host[:port]". */
bool cors_canonical(const char *origin, char *out);

#endif
