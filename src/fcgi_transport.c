/* fcgi_transport: libfcgi accept threads and lean FastCGI replies.
 *
 * Threads: accept threads run accept_loop(); any thread may call
 * transport_complete on a conn it owns. Shared state: the listen socket
 * (immutable while threads run) and `stopping` (atomic).
 */
#include "fcgi_transport.h"


#include <errno.h>
#include <fcgiapp.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bayeux.h"
#include "buf.h"
#include "config.h"
#include "cors.h"
#include "log.h"
#include "poll.h"
#include "stats.h"
#include "watch.h"

/* A FastCGI connection reduced to what a reply needs. */
struct conn {
    int fd;
    uint16_t request_id;
    /* the allowed origin every reply names (cors.h), or NULL; kept here so
     * that a held connect answered later by another thread carries it too */
    const char *cors_origin;
    /* two references while the accepting thread handles the request: its
     * own and the one whoever completes the request drops; so a parked
     * request completed at once by another thread stays valid until the
     * accepting thread has put it under watch */
    atomic_int refs;
    struct watch_entry watch;   /* hang-up of a parked request (watch.h) */
};

static void conn_unref(struct conn *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        free(c);
}

/* A reply write that cannot finish in this time means the web server is
 * stuck; give up rather than hold the completing thread. */
#define WRITE_TIMEOUT_S 10

/* A request body that stops arriving for this long is dropped: Apache
 * streams bodies, and a trickling client must not keep an accept thread. */
#define READ_TIMEOUT_S 30

/* How long stopping waits for an accept thread to finish its request. */
#define STOP_WAIT_MS 5000

static int listen_fd = -1;
static bool own_socket;                 /* we created listen_fd (not fd 0) */
static char *unix_path;                 /* socket file we created, or NULL */
static atomic_bool stopping;
static pthread_t *threads;
static atomic_int *thread_tids;         /* kernel thread ids, for diagnostics */
static int nthreads;

/* --------------------------------------------------------- listening --- */

static int open_unix(const char *path, int backlog, int mode)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        log_error("socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_error("%s exists and is not a socket", path);
            return -1;
        }
        unlink(path);   /* a stale socket from an earlier run */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        chmod(path, (mode_t)mode) < 0 || listen(fd, backlog) < 0) {
        log_error("cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    unix_path = xstrdup(path);
    return fd;
}

static int open_tcp(const char *addr, int backlog)
{
    const char *colon = strrchr(addr, ':');
    char host[256];
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= sizeof host) {
        log_error("bad listen address: %s", addr);
        return -1;
    }
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV }, *ai;
    int rc = getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &ai);
    if (rc != 0) {
        log_error("bad listen address %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        log_error("cannot listen on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int transport_open(const char *listen_addr, int backlog, int socket_mode)
{
    if (!listen_addr) {
        struct stat st;
        if (fstat(0, &st) < 0 || !S_ISSOCK(st.st_mode)) {
            log_error("standard input is not a listening socket: start bayeux-fcgi from "
                      "a FastCGI server (lighttpd bin-path, spawn-fcgi, systemd) or use "
                      "--listen PATH|HOST:PORT");
            return -1;
        }
        listen_fd = 0;
        /* lighttpd's bin-path socket has a backlog of 1024; a burst of
         * reconnecting long-polls overflows it and lighttpd answers 500.
         * listen() again on a listening socket just raises the backlog. */
        if (listen(listen_fd, backlog) < 0)
            log_warn("cannot raise the listen backlog to %d: %s", backlog, strerror(errno));
        return 0;
    }
    /* HOST:PORT when the part after the last ':' is a number, else a path */
    const char *colon = strrchr(listen_addr, ':');
    bool tcp = colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
               !strchr(listen_addr, '/');
    listen_fd = tcp ? open_tcp(listen_addr, backlog) : open_unix(listen_addr, backlog, socket_mode);
    if (listen_fd < 0)
        return -1;
    own_socket = true;
    log_info("listening on %s", listen_addr);
    return 0;
}

void transport_close(void)
{
    watch_stop();
    if (own_socket)
        close(listen_fd);
    listen_fd = -1;
    own_socket = false;
    if (unix_path) {
        unlink(unix_path);
        free(unix_path);
        unix_path = NULL;
    }
}

/* ------------------------------------------------------------ replies --- */

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 204: return "No Content";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static void record_header(buf_t *out, int type, uint16_t id, size_t len)
{
    unsigned char h[8] = { 1, (unsigned char)type, (unsigned char)(id >> 8), (unsigned char)id,
                           (unsigned char)(len >> 8), (unsigned char)len, 0, 0 };
    buf_append(out, h, sizeof h);
}

/* Wraps payload into FCGI_STDOUT records, an empty STDOUT and END_REQUEST. */
static void frame_records(buf_t *out, uint16_t id, const char *payload, size_t len)
{
    enum { STDOUT = 6, END_REQUEST = 3, MAX_CONTENT = 65535 };
    buf_reserve(out, len + (len / MAX_CONTENT + 3) * 8 + 8);
    for (size_t off = 0; off < len;) {
        size_t n = len - off > MAX_CONTENT ? MAX_CONTENT : len - off;
        record_header(out, STDOUT, id, n);
        buf_append(out, payload + off, n);
        off += n;
    }
    record_header(out, STDOUT, id, 0);
    record_header(out, END_REQUEST, id, 8);
    static const unsigned char end_body[8] = { 0, 0, 0, 0, 0 /* FCGI_REQUEST_COMPLETE */, 0, 0, 0 };
    buf_append(out, end_body, sizeof end_body);
}

void transport_complete(void *conn_, int status, const char *content_type,
                        const char *extra_headers, const char *body, size_t len)
{
    struct conn *c = conn_;
    if (status >= 400) {
        /* worth a line now and then, not one each; the server's own faults
         * apart, so a flood of bad requests cannot hide them */
        static struct log_throttle client_errors, server_errors;
        bool server = status >= 500;
        const char *nl = len ? memchr(body, '\n', len) : NULL;
        int shown = (int)(nl ? (size_t)(nl - body) : len);
        stats_add(STAT_HTTP_ERRORS, 1);
        log_throttled(server ? &server_errors : &client_errors, server ? LOG_WARN : LOG_INFO, "HTTP %d: %.*s",
                      status, shown > 200 ? 200 : shown, body);
    }
    buf_t http = BUF_INIT;
    buf_reserve(&http, len + 256);
    buf_printf(&http, "Status: %d %s\r\n", status, status_text(status));
    /* a 204 has no body: no type and no length (RFC 9110) */
    if (status != 204)
        buf_printf(&http, "Content-Type: %s\r\n", content_type);
    buf_printf(&http, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s",
               extra_headers ? extra_headers : "");
    cors_headers(&http, c->cors_origin, false);
    if (status != 204)
        buf_printf(&http, "Content-Length: %zu\r\n", len);
    buf_puts(&http, "\r\n");
    buf_append(&http, body, len);
    buf_t rec = BUF_INIT;
    frame_records(&rec, c->request_id, http.data, http.len);
    buf_release(&http);

    /* SO_SNDTIMEO restarts with every call, and signals (shutdown wakes the
     * accept threads with SIGUSR1 every 50 ms) interrupt calls: the bound
     * is kept here as a deadline instead */
    int64_t give_up = poll_now_ms() + WRITE_TIMEOUT_S * 1000;
    for (size_t off = 0; off < rec.len;) {
        ssize_t n = write(c->fd, rec.data + off, rec.len - off);
        if (n < 0) {
            if (errno == EINTR && poll_now_ms() < give_up)
                continue;
            /* the web server dropped the request (client gone) or is stuck */
            log_debug("reply not written: %s", strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    buf_release(&rec);
    /* stdin was read to its end, so nothing unread can turn close into a reset */
    watch_done(&c->watch);   /* before close: the fd number may be reused at once */
    close(c->fd);
    conn_unref(c);
}

bool transport_conn_dead(void *conn)
{
    return watch_dead(&((struct conn *)conn)->watch);
}

/* ------------------------------------------------------------ accept --- */

static char *param_copy(FCGX_Request *r, const char *name)
{
    const char *v = FCGX_GetParam(name, r->envp);
    return v ? xstrdup(v) : NULL;
}

/* Reads stdin to its end. Keeps up to max bytes; *too_big when there were
 * more. Returns NULL when the body could not be read whole (timeout, reset). */
static char *read_body(FCGX_Request *r, size_t max, size_t *len, bool *too_big)
{
    buf_t b = BUF_INIT;
    char chunk[16384];
    *too_big = false;
    for (;;) {
        int n = FCGX_GetStr(chunk, sizeof chunk, r->in);
        if (n <= 0)
            break;
        if (b.len + (size_t)n > max)
            *too_big = true;   /* keep draining so the socket can close cleanly */
        else
            buf_append(&b, chunk, (size_t)n);
    }
    if (FCGX_GetError(r->in) != 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_steal(&b, len);
}

static void handle(FCGX_Request *r)
{
    struct timeval rtv = { .tv_sec = READ_TIMEOUT_S };
    setsockopt(r->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &rtv, sizeof rtv);
    size_t body_len;
    bool too_big;
    char *body = read_body(r, config.max_body, &body_len, &too_big);
    if (!body) {
        /* half a request cannot be answered; the web server sees the close */
        static struct log_throttle cut;
        log_throttled(&cut, LOG_INFO, "request body not received whole (timeout or reset); dropped");
        close(r->ipcFd);
        r->ipcFd = -1;
        FCGX_Free(r, 0);
        free(r);
        return;
    }
    struct conn *c = xcalloc(1, sizeof *c);
    atomic_init(&c->refs, 2);
    char *method = param_copy(r, "REQUEST_METHOD");
    char *ctype = param_copy(r, "CONTENT_TYPE");
    char *query = param_copy(r, "QUERY_STRING");
    char *cookie = param_copy(r, "HTTP_COOKIE");
    char *uri = param_copy(r, "REQUEST_URI");
    char *remote = param_copy(r, "REMOTE_ADDR");
    const char *https = FCGX_GetParam("HTTPS", r->envp);
    bool is_https = https && (strcmp(https, "on") == 0 || strcmp(https, "1") == 0);
    /* before anything else: a browser page of another origin gets nothing */
    const char *cors_why;
    enum cors_verdict cors = cors_check(method, FCGX_GetParam("HTTP_ORIGIN", r->envp),
                                        FCGX_GetParam("HTTP_HOST", r->envp), is_https,
                                        &c->cors_origin, &cors_why);

    c->fd = r->ipcFd;
    c->request_id = (uint16_t)r->requestId;
    /* libfcgi's buffers and params go now; the socket stays ours */
    FCGX_Free(r, 0);
    free(r);
    struct timeval tv = { .tv_sec = WRITE_TIMEOUT_S };
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    stats_add(STAT_REQUESTS, 1);
    if (cors == CORS_REFUSED) {
        buf_t why = BUF_INIT;
        buf_printf(&why, "%s\n", cors_why);
        log_debug("%s", cors_why);
        transport_complete(c, 403, "text/plain;charset=UTF-8", NULL, why.data, why.len);
        buf_release(&why);
    } else if (cors == CORS_PREFLIGHT) {
        buf_t allow = BUF_INIT;
        cors_headers(&allow, NULL, true);
        transport_complete(c, 204, "text/plain;charset=UTF-8", allow.data, "", 0);
        buf_release(&allow);
    } else if (too_big) {
        static const char msg[] = "request body too large\n";
        stats_limit(STAT_LIMIT_BODY);
        transport_complete(c, 413, "text/plain;charset=UTF-8", NULL, msg, sizeof msg - 1);
    } else {
        struct http_request req = {
            .method = method ? method : "GET", .content_type = ctype, .query = query,
            .cookie = cookie, .path = uri, .remote_addr = remote, .https = is_https,
            .body = body, .body_len = body_len,
        };
        struct bayeux_reply out;
        bayeux_handle(&req, c, &out);
        if (out.parked)
            watch_add(&c->watch, c->fd);   /* no-op if already completed */
        else
            transport_complete(c, out.status, out.content_type, out.headers, out.body, out.len);
        bayeux_reply_release(&out);
    }
    conn_unref(c);
    free(body);
    free(method);
    free(ctype);
    free(query);
    free(cookie);
    free(uri);
    free(remote);
}

static void *accept_loop(void *arg)
{
    atomic_store(&thread_tids[(intptr_t)arg], (int)gettid());
    while (!atomic_load(&stopping)) {
        /* a fresh request every time: a held one leaves with its poll */
        FCGX_Request *r = xmalloc(sizeof *r);
        FCGX_InitRequest(r, listen_fd, 0);
        int rc = FCGX_Accept_r(r);
        if (rc < 0) {
            FCGX_Free(r, 1);
            free(r);
            if (atomic_load(&stopping))
                break;
            static struct log_throttle failed;   /* every thread, every 10 ms, while it lasts */
            log_throttled(&failed, LOG_WARN, "accept failed: %s", rc > -9000 ? strerror(-rc) : "libfcgi error");
            usleep(10000);   /* e.g. out of file descriptors: do not spin */
            continue;
        }
        handle(r);
    }
    return NULL;
}

int transport_start(int n)
{
    atomic_store(&stopping, false);
    if (watch_start(poll_registry_hangup) < 0) {
        log_error("cannot start the hang-up watcher: %s", strerror(errno));
        return -1;
    }
    threads = xcalloc((size_t)n, sizeof *threads);
    thread_tids = xcalloc((size_t)n, sizeof *thread_tids);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&threads[i], NULL, accept_loop, (void *)(intptr_t)i) != 0) {
            log_error("cannot start accept thread: %s", strerror(errno));
            nthreads = i;
            return -1;
        }
    }
    nthreads = n;
    return 0;
}

/* Logs where an accept thread that does not stop is: the kernel's view of
 * its current system call and wait channel. */
/* Reads the first line of /proc/self/task/<tid>/<file> into out, or "?". */
static void read_task_file(int tid, const char *file, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", tid, file);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(out, (int)size, f))
        snprintf(out, size, "?");
    out[strcspn(out, "\n")] = '\0';
    if (f)
        fclose(f);
}

static void log_stuck_thread(int i)
{
    char sys[256], wchan[64];
    int tid = atomic_load(&thread_tids[i]);
    read_task_file(tid, "syscall", sys, sizeof sys);
    read_task_file(tid, "wchan", wchan, sizeof wchan);
    log_error("accept thread %d (tid %d) did not stop within %d ms (syscall %s, wchan %s); "
              "stopping without it", i, tid, STOP_WAIT_MS, sys, wchan);
}

void transport_stop(void)
{
    atomic_store(&stopping, true);
    FCGX_ShutdownPending();
    /* Wake threads blocked in accept(). shutdown() would do it, but on a
     * socket we inherited (fd 0 from systemd or a web server) it would also
     * break the socket for the next responder: there a signal does it, as
     * libfcgi gives up accept() on EINTR once shutdown is pending. */
    if (own_socket)
        shutdown(listen_fd, SHUT_RDWR);
    int64_t give_up = poll_now_ms() + STOP_WAIT_MS;
    for (int i = 0; i < nthreads; i++) {
        for (;;) {
            pthread_kill(threads[i], SIGUSR1);
            struct timespec until = poll_deadline(CLOCK_REALTIME, 50);
            if (pthread_timedjoin_np(threads[i], NULL, &until) == 0)
                break;
            if (poll_now_ms() > give_up) {
                /* held connects must still be answered: go on without it */
                log_stuck_thread(i);
                pthread_detach(threads[i]);
                break;
            }
        }
    }
    free(threads);
    threads = NULL;
    nthreads = 0;
    /* thread_tids stays: a detached thread may still write its slot */
}
