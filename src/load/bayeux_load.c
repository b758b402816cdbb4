/* bayeux-load: the chat load test — N users long-polling in R rooms, an
 * open-loop publisher sending bursts of messages to random rooms, latency of
 * every delivery, expected against received (loss and duplicates).
 *
 * Processes: --procs workers (the parent is worker 0 and also the publisher);
 * each is one event-driven thread (epoll) holding its share of the users,
 * every user on its own keep-alive connection with its own BAYEUX_BROWSER
 * cookie. They share counters through stats.c (load.h). Responses are parsed
 * with http_parser (Content-Length and chunked) and json-c.
 * Target-agnostic: publishers join rooms through /service/members (the
 * bayeux-fcgi chat service needs it; other servers just accept it) and the
 * timestamp and id travel inside the chat text.
 * Faults: a user whose server went away (HTTP 5xx, a dropped connection,
 * 402 with handshake advice) retries, handshakes again, re-subscribes to its
 * room and goes on, as a real client does; stats.c times the recovery.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "load/load.h"

#define COUNT(field) atomic_fetch_add_explicit(&me->field, 1, memory_order_relaxed)

/* Back-off before a failed or refused step is tried again. */
#define RETRY_US 1000000

/* ------------------------------------------------------- connections --- */

enum role { RECEIVER, POLLER, PUBLISHER };
enum phase { P_HANDSHAKE, P_SUBSCRIBE, P_JOIN, P_CONNECT, P_IDLE, P_DISCONNECT, P_DONE };

struct user;

struct conn {
    int fd;
    bool busy;                 /* a request is in flight */
    buf_t out;
    size_t out_off;
    http_parser parser;
    buf_t body;
    bool done, keep_alive;
    bool reused;               /* an earlier response came on this connection */
    int64_t started_us;        /* when the request in flight was started */
    size_t got;                /* response bytes of the request in flight */
    struct user *u;
};

struct user {
    int idx;                   /* global: room and source address follow from it */
    enum role role;
    enum phase phase;
    int room;                  /* receivers */
    char client_id[80];
    char cookie[80];
    struct conn c;
    int64_t resend_at_us;      /* advice interval / retry back-off, 0 = none */
    long interval_ms;
    uint64_t got;              /* deliveries counted for this receiver */
    int64_t last_sent_us;      /* send time of the newest message it got */
    int handshakes;
    bool was_connected;        /* reached P_CONNECT once: later failures are faults */
    bool broken;               /* failed and not back yet (counted in shm->broken) */
    int join_next;             /* the poller: first room of the next join batch */
    uint32_t burst_first;      /* publish connections: the burst in flight */
    uint32_t burst_n;
};

/* Rooms joined per request: servers cap the messages of one batch (100 in
 * bayeux-fcgi by default). */
#define JOIN_BATCH 50

static int ep;
/* unique per run: a publisher of an earlier run may still be a member */
static char publisher_name[32];
static struct load_worker *me;  /* this process's slot in the shared region */
static int worker_no;           /* 0 = the parent: publisher, progress, summary */
/* this worker's receivers, then (worker 0) the publisher's poller, then its
 * publish connections */
static struct user *users;
static int nusers, nreceivers;
/* The publisher's session: the publish connections copy its clientId. */
static struct user *poller;

static void user_failed(struct user *u);

static int http_on_body(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    buf_append(&c->body, at, n);
    return 0;
}

static int http_on_complete(http_parser *p)
{
    struct conn *c = p->data;
    c->done = true;
    c->keep_alive = http_should_keep_alive(p);
    return 0;
}

static int http_on_header_field(http_parser *p, const char *at, size_t n);
static int http_on_header_value(http_parser *p, const char *at, size_t n);
static bool header_is_cookie;

static const http_parser_settings parser_settings = {
    .on_body = http_on_body, .on_message_complete = http_on_complete,
    .on_header_field = http_on_header_field, .on_header_value = http_on_header_value,
};

static int http_on_header_field(http_parser *p, const char *at, size_t n)
{
    (void)p;
    header_is_cookie = n == 10 && strncasecmp(at, "Set-Cookie", 10) == 0;
    return 0;
}

static int http_on_header_value(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (header_is_cookie && n > 15 && strncmp(at, "BAYEUX_BROWSER=", 15) == 0) {
        size_t len = strcspn(at + 15, ";");
        if (len > n - 15)
            len = n - 15;
        if (len < sizeof c->u->cookie)
            snprintf(c->u->cookie, sizeof c->u->cookie, "%.*s", (int)len, at + 15);
    }
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

static int conn_open(struct conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* bind the address only; the port is picked at connect, unique per
     * destination: a bound port would be taken from the ephemeral range for
     * every destination, also from a web server on this host connecting to
     * its TCP backends (it failed with EADDRNOTAVAIL at 30,000 users) */
    if (opt.source_addrs || opt.sources > 1)
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (opt.source_addrs) {
        /* --source-spread / --source-list: a user keeps one address, and the
         * publish connections share the publisher's, so a web server that
         * picks the backend by client address (sticky) finds the session;
         * a failed bind would change the address, so it fails instead */
        const struct user *by = c->u->role == PUBLISHER ? poller : c->u;
        struct sockaddr_in src = { .sin_family = AF_INET };
        src.sin_addr.s_addr = opt.source_addrs[by->idx % opt.sources];
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            close(fd);
            return -1;
        }
    } else if (opt.sources > 1) {
        /* spread over 127.0.0.x so no one source address runs out of ports */
        struct sockaddr_in src = { .sin_family = AF_INET };
        src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(c->u->idx % opt.sources));
        bind(fd, (struct sockaddr *)&src, sizeof src);
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
    inet_pton(AF_INET, opt.host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->reused = false;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

/* (Re)starts writing c->out from its first byte with a fresh parser. */
static void conn_start(struct conn *c)
{
    c->out_off = 0;
    c->busy = true;
    c->done = false;
    c->got = 0;
    c->started_us = load_now_us();
    buf_reset(&c->body);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Starts one POST of body on the user's connection. */
static void send_json(struct user *u, const char *body, size_t len)
{
    struct conn *c = &u->c;
    if (c->fd < 0 && conn_open(c) < 0) {
        COUNT(http_err);
        user_failed(u);
        u->resend_at_us = load_now_us() + RETRY_US;
        return;
    }
    buf_reset(&c->out);
    buf_printf(&c->out, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n", opt.path, opt.host, opt.port, len);
    if (u->cookie[0])
        buf_printf(&c->out, "Cookie: BAYEUX_BROWSER=%s\r\n", u->cookie);
    buf_puts(&c->out, "\r\n");
    buf_append(&c->out, body, len);
    conn_start(c);
}

/* -------------------------------------------------------- the protocol --- */

static void user_next(struct user *u)
{
    buf_t b = BUF_INIT;
    switch (u->phase) {
    case P_HANDSHAKE:
        buf_puts(&b, "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                     "\"supportedConnectionTypes\":[\"long-polling\"]}]");
        break;
    case P_SUBSCRIBE:
        buf_printf(&b, "[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\","
                       "\"subscription\":\"/chat/r%d\"},"
                       "{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"connectionType\":\"long-polling\","
                       "\"advice\":{\"timeout\":0}}]",
                   u->client_id, u->room, u->client_id);
        break;
    case P_JOIN: { /* the publisher joins every room it will publish to */
        int end = u->join_next + JOIN_BATCH < opt.rooms ? u->join_next + JOIN_BATCH : opt.rooms;
        buf_putc(&b, '[');
        for (int r = u->join_next; r < end; r++)
            buf_printf(&b, "%s{\"channel\":\"/service/members\",\"clientId\":\"%s\","
                           "\"data\":{\"user\":\"%s\",\"room\":\"r%d\"}}",
                       r > u->join_next ? "," : "", u->client_id, publisher_name, r);
        /* timeout 0: servers that hold a batch with a connect answer at once */
        if (end == opt.rooms)
            buf_printf(&b, ",{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"connectionType\":\"long-polling\","
                           "\"advice\":{\"timeout\":0}}",
                       u->client_id);
        buf_putc(&b, ']');
        break;
    }
    case P_CONNECT:
        buf_printf(&b, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"connectionType\":\"long-polling\"}]",
                   u->client_id);
        break;
    case P_DISCONNECT:
        buf_printf(&b, "[{\"channel\":\"/meta/disconnect\",\"clientId\":\"%s\"}]", u->client_id);
        break;
    case P_IDLE:
    case P_DONE:
        buf_release(&b);
        return;
    }
    send_json(u, b.data, b.len);
    buf_release(&b);
}

/* A receiver leaves the connected count (re-handshake or giving up). */
static void user_disconnected(struct user *u)
{
    if (u->phase == P_CONNECT && u->role == RECEIVER) {
        atomic_fetch_sub(&shm->room_members[u->room], 1);
        atomic_fetch_sub(&shm->connected, 1);
    }
}

/* A user that had been connected lost its server: counted once until back. */
static void user_failed(struct user *u)
{
    if (u->was_connected && !u->broken && u->role != PUBLISHER) {
        u->broken = true;
        load_user_failed();
    }
}

/* Subscribed (joined) and connecting again, or a connect answered. */
static void user_back(struct user *u)
{
    u->was_connected = true;
    if (u->broken) {
        u->broken = false;
        load_user_back();
    }
}

static void on_response(struct user *u, int status, const char *body)
{
    if (u->phase == P_DISCONNECT) {   /* goodbye said; an expired session is fine too */
        u->phase = P_DONE;
        return;
    }
    if (u->role == PUBLISHER) {   /* its deliveries and advice are the poller's business */
        /* a current session refused as unknown: the recovery awaits the poller too */
        if (load_publish_reply(me, u->burst_first, u->burst_n, status, body) &&
            strcmp(u->client_id, poller->client_id) == 0)
            user_failed(poller);
        u->burst_n = 0;
        return;
    }
    struct json_object *arr = status == 200 ? json_tokener_parse(body) : NULL;
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        COUNT(http_err);
        user_failed(u);   /* a 5xx while the web server has no responder */
        json_object_put(arr);
        u->resend_at_us = load_now_us() + RETRY_US;   /* back off and retry the same step */
        return;
    }
    enum { GO_ON, REHANDSHAKE, GIVE_UP } next = GO_ON;
    bool ok = true;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        struct json_object *m = json_object_array_get_idx(arr, i), *v, *chat;
        const char *ch = json_object_object_get_ex(m, "channel", &v) ? json_object_get_string(v) : "";
        if (strncmp(ch, "/chat/", 6) == 0 && json_object_object_get_ex(m, "data", &v)) {
            int64_t t;
            if (json_object_object_get_ex(v, "chat", &chat) &&
                load_count_delivery(me, json_object_get_string(chat), &t)) {
                u->got++;
                if (t > u->last_sent_us)
                    u->last_sent_us = t;
            }
            continue;
        }
        if (json_object_object_get_ex(m, "successful", &v) && !json_object_get_boolean(v)) {
            ok = false;
            if (strcmp(ch, "/service/members") != 0)   /* joins may be refused by peers */
                COUNT(bayeux_err);
        }
        struct json_object *advice, *a;
        if (json_object_object_get_ex(m, "advice", &advice)) {
            if (json_object_object_get_ex(advice, "reconnect", &a)) {
                const char *r = json_object_get_string(a);
                if (strcmp(r, "handshake") == 0 && next == GO_ON)
                    next = REHANDSHAKE;
                else if (strcmp(r, "none") == 0)
                    next = GIVE_UP;
            }
            if (json_object_object_get_ex(advice, "interval", &a))
                u->interval_ms = json_object_get_int(a);
        }
        if (strcmp(ch, "/meta/handshake") == 0 && json_object_object_get_ex(m, "clientId", &v)) {
            snprintf(u->client_id, sizeof u->client_id, "%s", json_object_get_string(v));
            COUNT(handshakes);
            if (++u->handshakes == 2 && u->role == RECEIVER)
                COUNT(rehandshaken);
        }
    }
    json_object_put(arr);

    if (next == GIVE_UP) {   /* the server forbids reconnecting: this user is done */
        user_disconnected(u);
        u->phase = P_IDLE;
        COUNT(gave_up);
        u->was_connected = false;
        if (u->broken) {   /* not coming back: no longer awaited by the recovery */
            u->broken = false;
            load_user_back();
        }
        return;
    }
    if (next == GO_ON && !ok && u->phase != P_CONNECT) {
        /* a refused handshake, subscribe or join: try again in a second,
         * not in a tight loop against a server that says no */
        u->resend_at_us = load_now_us() + RETRY_US;
        return;
    }
    if (next == REHANDSHAKE) {   /* session unknown: the server restarted or expired it */
        user_failed(u);
        user_disconnected(u);
        u->phase = P_HANDSHAKE;
    } else if (u->phase == P_HANDSHAKE && ok) {
        u->phase = u->role == RECEIVER ? P_SUBSCRIBE : u->role == POLLER ? P_JOIN : P_IDLE;
        u->join_next = 0;
    } else if (u->phase == P_JOIN && ok && u->join_next + JOIN_BATCH < opt.rooms) {
        u->join_next += JOIN_BATCH;   /* the next batch of rooms */
    } else if ((u->phase == P_SUBSCRIBE || u->phase == P_JOIN) && ok) {
        u->phase = P_CONNECT;
        if (u->role == RECEIVER) {
            atomic_fetch_add(&shm->room_members[u->room], 1);
            atomic_fetch_add(&shm->connected, 1);
        }
        user_back(u);
    } else if (u->phase == P_CONNECT && ok) {
        user_back(u);   /* the session survived a transient error */
    }
    if (u->interval_ms > 0 && u->phase == P_CONNECT)
        u->resend_at_us = load_now_us() + u->interval_ms * 1000;
    else
        user_next(u);
}

/* Sends one burst as one batch (as CometD's load generator does with
 * batch()): `opt.burst` publishes to random rooms, ids first..first+burst-1.
 * Open loop: if every publish connection is still busy, the burst is
 * counted as skipped (the server is behind) rather than delayed. */
static void publish_burst(uint32_t first)
{
    struct user *pub = NULL;
    for (int i = nreceivers + 1; i < nusers && !pub; i++)
        if (!users[i].c.busy)
            pub = &users[i];
    if (!pub) {
        atomic_fetch_add(&shm->skipped, 1);
        return;
    }
    int64_t t = load_now_us();
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int k = 0; k < opt.burst; k++) {
        uint32_t id = first + (uint32_t)k;
        int room = rand() % opt.rooms;
        size_t mark = b.len;
        /* the id ties the server's answer to the message (stats: unacked) */
        buf_printf(&b, "%s{\"channel\":\"/chat/r%d\",\"id\":\"%u\",\"clientId\":\"%s\",\"data\":{\"user\":\"%s\","
                       "\"chat\":\"t=%lld i=%u ", k ? "," : "", room, id, poller->client_id, publisher_name,
                   (long long)t, id);
        while (b.len - mark < (size_t)opt.size + 110)
            buf_putc(&b, 'x');
        buf_puts(&b, "\"}}");
        load_count_send(id, room);
    }
    buf_putc(&b, ']');
    /* the publish connections speak for the poller's session: same clientId
     * and same browser cookie (some servers tie the session to it) */
    snprintf(pub->client_id, sizeof pub->client_id, "%s", poller->client_id);
    snprintf(pub->cookie, sizeof pub->cookie, "%s", poller->cookie);
    pub->burst_first = first;
    pub->burst_n = (uint32_t)opt.burst;
    send_json(pub, b.data, b.len);
    if (!pub->c.busy) {   /* could not even connect */
        load_publish_refused(first, (uint32_t)opt.burst);
        pub->burst_n = 0;
    }
    buf_release(&b);
}

/* -------------------------------------------------------------- I/O --- */

static void conn_failed(struct user *u)
{
    conn_close(&u->c);
    u->c.busy = false;
    if (u->phase == P_DISCONNECT) {
        u->phase = P_DONE;
        return;
    }
    COUNT(http_err);
    if (u->role != PUBLISHER) {
        user_failed(u);
        u->resend_at_us = load_now_us() + RETRY_US;
    } else if (u->burst_n) {
        load_publish_refused(u->burst_first, u->burst_n);
        u->burst_n = 0;
    }
}

static void conn_event(struct conn *c, uint32_t events)
{
    struct user *u = c->u;
    if (events & EPOLLOUT && c->busy && c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n < 0 && errno != EAGAIN) {
            conn_failed(u);
            return;
        }
        if (n > 0)
            c->out_off += (size_t)n;
        if (c->out_off == c->out.len) {
            struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    char chunk[65536];
    ssize_t n = read(c->fd, chunk, sizeof chunk);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0 && !c->busy) {
        conn_close(c);    /* an idle keep-alive connection the server closed */
        return;
    }
    if (n <= 0 && c->reused && c->got == 0 && load_now_us() - c->started_us < RETRY_US) {
        /* the server closed a kept-alive connection as the request went out,
         * before answering: send it again on a new one, as HTTP clients do
         * (a held poll cut later is a failure, not this race) */
        conn_close(c);
        if (conn_open(c) == 0) {
            conn_start(c);
            return;
        }
    }
    if (n <= 0) {
        conn_failed(u);   /* closed before the response was complete */
        return;
    }
    c->got += (size_t)n;
    size_t used = http_parser_execute(&c->parser, &parser_settings, chunk, (size_t)n);
    if (c->parser.http_errno != HPE_OK || used != (size_t)n) {
        conn_failed(u);
        return;
    }
    if (!c->done)
        return;
    c->busy = false;
    if (c->keep_alive)
        c->reused = true;
    else
        conn_close(c);
    buf_putc(&c->body, '\0');
    c->body.len--;
    on_response(u, c->parser.status_code, c->body.data);
}

/* ------------------------------------------------------------- main --- */

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig; interrupted = 1; }

/* Sets up this worker's users: receivers idx = worker_no, worker_no+procs,
 * ...; worker 0 also holds the poller and the publish connections. */
static void worker_setup(void)
{
    nreceivers = (opt.users - worker_no + opt.procs - 1) / opt.procs;
    nusers = nreceivers + (worker_no == 0 ? 1 + opt.publishers : 0);
    users = xcalloc((size_t)nusers, sizeof *users);
    for (int i = 0; i < nusers; i++) {
        struct user *u = &users[i];
        u->idx = i < nreceivers ? worker_no + i * opt.procs : opt.users + (i - nreceivers);
        u->c.fd = -1;
        u->c.u = u;
        u->role = i < nreceivers ? RECEIVER : i == nreceivers ? POLLER : PUBLISHER;
        u->room = u->idx % opt.rooms;
        u->phase = u->role == PUBLISHER ? P_IDLE : P_HANDSHAKE;
    }
    if (worker_no == 0) {
        poller = &users[nreceivers];
        user_next(poller);
    }
}

/* The parent's part of a loop turn: publishing, progress, deciding the end.
 * Returns 0 to go on, 1 when the run is over, -1 when it failed. */
static int parent_turn(int64_t now, int64_t t0, uint64_t bursts)
{
    static uint64_t burst_no, last_recv;
    static int64_t next_progress, quiet_since;
    if (!next_progress)
        next_progress = t0 + 1000000;
    int64_t start = atomic_load(&shm->send_start);
    if (!start && atomic_load(&shm->connected) == (uint64_t)opt.users && poller->phase == P_CONNECT) {
        start = now;
        atomic_store(&shm->send_end, now + opt.duration_s * 1000000);
        atomic_store(&shm->send_start, start);
    }
    int64_t end = atomic_load(&shm->send_end);
    /* open loop: burst i goes out at start + i x interval, whatever the server does */
    while (start && now < end && burst_no < bursts &&
           start + (int64_t)burst_no * opt.interval_ms * 1000 <= now) {
        publish_burst((uint32_t)(burst_no * (uint64_t)opt.burst));
        burst_no++;
    }
    load_outage_turn(now, poller->phase == P_CONNECT && !poller->broken);
    if (now >= next_progress) {
        load_progress(now, t0);
        next_progress += 1000000;
    }
    for (int k = 1; k < opt.procs; k++)
        if (waitpid(shm->w[k].pid, NULL, WNOHANG) == shm->w[k].pid) {
            fprintf(stderr, "bayeux-load: worker %d (pid %d) died\n", k, (int)shm->w[k].pid);
            shm->w[k].pid = 0;
            return -1;
        }
    if (start && now >= end) {
        /* after sending: wait for the rest (and a recovery under way), at
         * most 10 s without progress */
        uint64_t recv = load_received_total();
        if (load_all_settled())
            return 1;
        if (recv != last_recv || !quiet_since) {
            last_recv = recv;
            quiet_since = now;
        } else if (now - quiet_since > 10000000) {
            return 1;
        }
    }
    /* nobody connects within a minute beyond the ramp: give up rather than hang */
    if (!start && now - t0 > 60000000 + (int64_t)opt.users * 1000000 / opt.ramp) {
        fprintf(stderr, "bayeux-load: only %llu of %d users connected; giving up\n",
                (unsigned long long)atomic_load(&shm->connected), opt.users);
        return -1;
    }
    return 0;
}

/* At the end every session says /meta/disconnect on a fresh connection, as
 * a leaving client does, so the server frees its held polls and sessions at
 * once instead of after its timeout (the next run of a sweep starts clean).
 * At most DRAIN_INFLIGHT at a time, for at most 10 s; then every connection
 * is closed. */
#define DRAIN_INFLIGHT 500

static void worker_drain(void)
{
    int next = 0, inflight = 0;
    int64_t end = load_now_us() + 10000000;
    struct epoll_event evs[512];
    for (;;) {
        while (inflight < DRAIN_INFLIGHT && next < nusers) {
            struct user *u = &users[next++];
            conn_close(&u->c);   /* its held connect is answered when the session ends */
            u->c.busy = false;
            if (u->role == PUBLISHER || !u->client_id[0]) {
                u->phase = P_DONE;
                continue;
            }
            u->phase = P_DISCONNECT;
            user_next(u);
            if (u->c.busy)
                inflight++;
            else
                u->phase = P_DONE;
        }
        if (next >= nusers && inflight == 0)
            break;
        if (load_now_us() >= end)
            break;
        int n = epoll_wait(ep, evs, 512, 5);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            bool saying = c->u->phase == P_DISCONNECT;
            conn_event(c, evs[i].events);
            if (saying && c->u->phase == P_DONE)
                inflight--;
        }
    }
    int64_t recovered = atomic_load(&shm->recovered_at);
    for (int i = 0; i < nusers; i++) {
        conn_close(&users[i].c);
        if (users[i].role == RECEIVER && users[i].got == 0)
            COUNT(silent);
        if (users[i].role == RECEIVER && recovered && users[i].last_sent_us <= recovered)
            COUNT(silent_after);
    }
}

/* One worker's event loop. Returns the parent's verdict (0 done, -1 failed);
 * other workers run until the parent sets stop. */
static int worker_run(int64_t t0, uint64_t bursts)
{
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("bayeux-load: epoll_create1");
        return -1;
    }
    worker_setup();
    int started = 0, verdict = 0;
    int64_t next_scan = 0, next_tick = t0 + 1000000;
    struct epoll_event evs[512];
    while (!interrupted && !atomic_load(&shm->stop)) {
        int n = epoll_wait(ep, evs, 512, 5);
        for (int i = 0; i < n; i++)
            conn_event(evs[i].data.ptr, evs[i].events);
        int64_t now = load_now_us();
        /* ramp-up: this worker's share of --ramp */
        int due = (int)((now - t0) * opt.ramp / opt.procs / 1000000) + 1;
        while (started < nreceivers && started < due)
            user_next(&users[started++]);
        /* advice intervals and retries: a scan every 5 ms is precise enough */
        if (now >= next_scan) {
            next_scan = now + 5000;
            for (int i = 0; i < nusers; i++) {
                struct user *u = &users[i];
                if (u->resend_at_us && u->resend_at_us <= now && !u->c.busy) {
                    u->resend_at_us = 0;
                    user_next(u);
                }
            }
        }
        if (now >= next_tick) {
            load_worker_tick(me);
            next_tick += 1000000;
        }
        if (worker_no == 0 && (verdict = parent_turn(now, t0, bursts)) != 0)
            break;
    }
    worker_drain();
    return verdict < 0 ? -1 : 0;
}

/* Raises the open-files limit to the hard limit: every user holds a socket. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    long per_proc = (opt.users + opt.procs - 1) / opt.procs + opt.publishers + 16;
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)per_proc > rl.rlim_cur)
        fprintf(stderr, "bayeux-load: warning: %ld connections per process exceed the open-files "
                        "limit %llu; use more --procs\n", per_proc, (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
    if (load_parse_args(argc, argv) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    raise_nofile();
    uint64_t bursts = (uint64_t)(opt.duration_s * 1000 / opt.interval_ms) + 1;
    if (bursts * (uint64_t)opt.burst > UINT32_MAX / 2) {
        fprintf(stderr, "bayeux-load: too many messages (duration / interval x burst); see --help\n");
        return 2;
    }
    load_shared_create((uint32_t)(bursts * (uint64_t)opt.burst));
    snprintf(publisher_name, sizeof publisher_name, "load-publisher-%d", (int)getpid());
    int64_t t0 = load_now_us();
    shm->w[0].pid = getpid();
    fflush(stdout);
    fflush(stderr);
    for (int k = 1; k < opt.procs; k++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("bayeux-load: fork");
            atomic_store(&shm->stop, 1);
            opt.procs = k;   /* only these exist */
            break;
        }
        if (pid == 0) {
            /* a parent killed outright takes its workers with it */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != shm->w[0].pid)
                _exit(1);
            worker_no = k;
            me = &shm->w[k];
            srand((unsigned)getpid());
            worker_run(t0, bursts);
            atomic_store(&me->exited, 1);
            _exit(0);
        }
        shm->w[k].pid = pid;
    }
    me = &shm->w[0];
    shm->w[0].pid = getpid();
    int rc = atomic_load(&shm->stop) ? -1 : worker_run(t0, bursts);
    atomic_store(&shm->stop, 1);
    for (int k = 1; k < opt.procs; k++) {
        if (shm->w[k].pid > 0 && waitpid(shm->w[k].pid, NULL, 0) < 0)
            perror("bayeux-load: waitpid");
        if (!atomic_load(&shm->w[k].exited))
            rc = -1;   /* its counts are incomplete: the summary says so by the exit status */
    }
    int64_t end = atomic_load(&shm->send_end), now = load_now_us();
    if (!end || end > now)
        atomic_store(&shm->send_end, now);
    if (!atomic_load(&shm->send_start))
        atomic_store(&shm->send_start, now);
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double cpu = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
                 (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
    load_report(cpu);
    return rc < 0 ? 1 : 0;
}
