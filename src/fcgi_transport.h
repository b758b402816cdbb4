/* fcgi_transport: the FastCGI side — listen socket, accept threads, reading
 * requests, writing replies, and completing held requests for the poll
 * registry. The only module that knows libfcgi.
 *
 * Threads: `--threads` accept threads, each accepting into its own heap
 * FCGX_Request. A request's params and body are copied out, then libfcgi's
 * request object (11 KB of buffers) is freed and only the socket and request
 * id are kept (struct conn, ~50 bytes) — for held polls too. Replies are
 * written as FastCGI records in one write() and the socket is closed, which
 * skips libfcgi's lingering close (up to 2 s per request).
 * Ownership: a conn is owned by exactly one party: the accept thread, then
 * either itself (immediate reply) or a poll (held connect); whoever writes
 * the reply releases it. A held one is watched (watch.h): when the web
 * server closes it, transport_conn_dead turns true and the poll registry is
 * told, so the sweeper releases it.
 */
#ifndef BAYEUX_FCGI_TRANSPORT_H
#define BAYEUX_FCGI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

/* Opens the listen socket: `listen` is NULL (use fd 0, as given by the web
 * server), a unix socket path, or HOST:PORT. Returns 0 or -1 (logged). */
int transport_open(const char *listen, int backlog, int socket_mode);

/* Starts n accept threads. Returns 0 or -1. */
int transport_start(int n);

/* Stops accepting and joins the accept threads; held requests stay held. */
void transport_stop(void);

/* Closes the listen socket (and removes a unix socket file we created). */
void transport_close(void);

/* The poll registry's completion callback: writes the reply on conn, closes
 * it and frees conn. */
void transport_complete(void *conn, int status, const char *content_type,
                        const char *extra_headers, const char *body, size_t len);

/* The poll registry's hang-up test: true once the web server closed conn. */
bool transport_conn_dead(void *conn);

#endif
