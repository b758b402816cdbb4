/* bayeux-load: the chat load test — N users long-polling in R rooms, an
 * open-loop publisher sending bursts of messages to random rooms, latency of
 * every delivery, expected against received (loss and duplicates).
 *
 * Threads: one, event-driven (epoll); every user has its own keep-alive
 * connection and its own BAYEUX_BROWSER cookie. Responses are parsed with
 * http_parser (Content-Length and chunked) and json-c.
 * Target-agnostic: publishers join rooms through /service/members (the
 * bayeux-fcgi chat service needs it; other servers just accept it) and the
 * timestamp and id travel inside the chat text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "load/histogram.h"

/* ------------------------------------------------------------ options --- */

static struct {
    char host[64];
    int port;
    char path[256];
    int users, rooms, ramp, burst, size, sources, publishers;
    long interval_ms, duration_s;
    const char *json;
} opt = { "127.0.0.1", 8080, "/cometd", 100, 10, 1000, 10, 50, 1, 4, 1000, 30, NULL };

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------- connections --- */

enum role { RECEIVER, POLLER, PUBLISHER };
enum phase { P_HANDSHAKE, P_SUBSCRIBE, P_JOIN, P_CONNECT, P_IDLE };

struct user;

struct conn {
    int fd;
    bool busy;                 /* a request is in flight */
    buf_t out;
    size_t out_off;
    http_parser parser;
    buf_t body;
    bool done, keep_alive;
    struct user *u;
};

struct user {
    int idx;
    enum role role;
    enum phase phase;
    int room;                  /* receivers */
    char client_id[80];
    char cookie[80];
    struct conn c;
    int64_t resend_at_us;      /* advice interval / retry back-off, 0 = none */
    long interval_ms;
};

static int ep;
static struct user *users;     /* receivers, then the publisher's poller, then publish connections */
static int nusers;

static struct {
    uint64_t sent, expected, received, dup, http_err, bayeux_err, handshakes, connected, skipped;
    uint64_t sec_sent, sec_recv;
    hist_t all, sec, first_third, last_third;
    int64_t send_start, send_end;
} st;

static uint16_t *recv_count;   /* per message id */
static uint16_t *want_count;
static int64_t *sent_at;       /* per message id, for the steady-state thirds */
static uint32_t max_msgs;
static int *room_members;      /* receivers connected per room */

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
    if (opt.sources > 1) {
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
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

/* Starts one POST of body on the user's connection. */
static void send_json(struct user *u, const char *body, size_t len)
{
    struct conn *c = &u->c;
    if (c->fd < 0 && conn_open(c) < 0) {
        st.http_err++;
        u->resend_at_us = now_us() + 1000000;
        return;
    }
    buf_reset(&c->out);
    buf_printf(&c->out, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n", opt.path, opt.host, opt.port, len);
    if (u->cookie[0])
        buf_printf(&c->out, "Cookie: BAYEUX_BROWSER=%s\r\n", u->cookie);
    buf_puts(&c->out, "\r\n");
    buf_append(&c->out, body, len);
    c->out_off = 0;
    c->busy = true;
    c->done = false;
    buf_reset(&c->body);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
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
    case P_JOIN:   /* the publisher joins every room it will publish to */
        buf_putc(&b, '[');
        for (int r = 0; r < opt.rooms; r++)
            buf_printf(&b, "%s{\"channel\":\"/service/members\",\"clientId\":\"%s\","
                           "\"data\":{\"user\":\"load-publisher\",\"room\":\"r%d\"}}",
                       r ? "," : "", u->client_id, r);
        /* timeout 0: servers that hold a batch with a connect answer at once */
        buf_printf(&b, ",{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"connectionType\":\"long-polling\","
                       "\"advice\":{\"timeout\":0}}]",
                   u->client_id);
        break;
    case P_CONNECT:
        buf_printf(&b, "[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"connectionType\":\"long-polling\"}]",
                   u->client_id);
        break;
    case P_IDLE:
        buf_release(&b);
        return;
    }
    send_json(u, b.data, b.len);
    buf_release(&b);
}

/* A delivered chat message: "t=<µs> i=<id> ..." inside data.chat. */
static void on_delivery(struct json_object *m)
{
    struct json_object *data, *chat;
    if (!json_object_object_get_ex(m, "data", &data) ||
        !json_object_object_get_ex(data, "chat", &chat))
        return;
    long long t;
    unsigned id;
    if (sscanf(json_object_get_string(chat), "t=%lld i=%u", &t, &id) != 2 || id >= max_msgs)
        return;
    uint64_t lat = (uint64_t)(now_us() - t);
    if (recv_count[id]++ >= want_count[id])
        st.dup++;
    st.received++;
    st.sec_recv++;
    hist_add(&st.all, lat);
    hist_add(&st.sec, lat);
    int64_t third = (st.send_end - st.send_start) / 3;
    if (sent_at[id] < st.send_start + third)
        hist_add(&st.first_third, lat);
    else if (sent_at[id] >= st.send_end - third)
        hist_add(&st.last_third, lat);
}

static void on_response(struct user *u, int status, const char *body, size_t len)
{
    if (status != 200) {
        st.http_err++;
        u->resend_at_us = now_us() + 1000000;   /* back off and retry the same step */
        return;
    }
    struct json_object *arr = json_tokener_parse(body);
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        st.http_err++;
        json_object_put(arr);
        u->resend_at_us = now_us() + 1000000;
        return;
    }
    (void)len;
    bool rehandshake = false, ok = true;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        struct json_object *m = json_object_array_get_idx(arr, i), *v;
        const char *ch = json_object_object_get_ex(m, "channel", &v) ? json_object_get_string(v) : "";
        bool meta = strncmp(ch, "/meta/", 6) == 0;
        if (!meta && strncmp(ch, "/chat/", 6) == 0 && json_object_object_get_ex(m, "data", &v)) {
            on_delivery(m);
            continue;
        }
        if (json_object_object_get_ex(m, "successful", &v) && !json_object_get_boolean(v)) {
            ok = false;
            if (strcmp(ch, "/service/members") != 0)   /* joins may be refused by peers */
                st.bayeux_err++;
        }
        struct json_object *advice, *a;
        if (json_object_object_get_ex(m, "advice", &advice)) {
            if (json_object_object_get_ex(advice, "reconnect", &a) &&
                strcmp(json_object_get_string(a), "handshake") == 0)
                rehandshake = true;
            if (json_object_object_get_ex(advice, "interval", &a))
                u->interval_ms = json_object_get_int(a);
        }
        if (strcmp(ch, "/meta/handshake") == 0 && json_object_object_get_ex(m, "clientId", &v)) {
            snprintf(u->client_id, sizeof u->client_id, "%s", json_object_get_string(v));
            st.handshakes++;
        }
    }
    json_object_put(arr);

    if (rehandshake) {
        if (u->phase == P_CONNECT && u->role == RECEIVER) {
            room_members[u->room]--;
            st.connected--;
        }
        u->phase = P_HANDSHAKE;
    } else if (u->phase == P_HANDSHAKE && ok) {
        u->phase = u->role == RECEIVER ? P_SUBSCRIBE : u->role == POLLER ? P_JOIN : P_IDLE;
    } else if ((u->phase == P_SUBSCRIBE || u->phase == P_JOIN) && ok) {
        u->phase = P_CONNECT;
        if (u->role == RECEIVER) {
            room_members[u->room]++;
            st.connected++;
        }
    }
    if (u->interval_ms > 0 && u->phase == P_CONNECT)
        u->resend_at_us = now_us() + u->interval_ms * 1000;
    else
        user_next(u);
}

/* The publisher's extra connections share its session: copy its clientId. */
static struct user *poller;

/* Sends one burst as one batch (as CometD's load generator does with
 * batch()): `opt.burst` publishes to random rooms, ids first..first+burst-1.
 * Open loop: if every publish connection is still busy, the burst is
 * counted as skipped (the server is behind) rather than delayed. */
static void publish_burst(uint32_t first)
{
    struct user *pub = NULL;
    for (int i = opt.users + 1; i < nusers && !pub; i++)
        if (!users[i].c.busy)
            pub = &users[i];
    if (!pub) {
        st.skipped++;
        return;
    }
    int64_t t = now_us();
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int k = 0; k < opt.burst; k++) {
        uint32_t id = first + (uint32_t)k;
        int room = rand() % opt.rooms;
        size_t mark = b.len;
        buf_printf(&b, "%s{\"channel\":\"/chat/r%d\",\"clientId\":\"%s\",\"data\":{\"user\":\"load-publisher\","
                       "\"chat\":\"t=%lld i=%u ", k ? "," : "", room, poller->client_id, (long long)t, id);
        while (b.len - mark < (size_t)opt.size + 110)
            buf_putc(&b, 'x');
        buf_puts(&b, "\"}}");
        want_count[id] = (uint16_t)room_members[room];
        sent_at[id] = t;
        st.expected += (uint64_t)room_members[room];
        st.sent++;
        st.sec_sent++;
    }
    buf_putc(&b, ']');
    /* the publish connections speak for the poller's session: same clientId
     * and same browser cookie (some servers tie the session to it) */
    snprintf(pub->client_id, sizeof pub->client_id, "%s", poller->client_id);
    snprintf(pub->cookie, sizeof pub->cookie, "%s", poller->cookie);
    send_json(pub, b.data, b.len);
    buf_release(&b);
}

/* -------------------------------------------------------------- I/O --- */

static void conn_failed(struct user *u)
{
    st.http_err++;
    conn_close(&u->c);
    u->c.busy = false;
    if (u->role != PUBLISHER)
        u->resend_at_us = now_us() + 1000000;
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
    if (n <= 0) {
        conn_failed(u);   /* closed before the response was complete */
        return;
    }
    size_t used = http_parser_execute(&c->parser, &parser_settings, chunk, (size_t)n);
    if (c->parser.http_errno != HPE_OK || used != (size_t)n) {
        conn_failed(u);
        return;
    }
    if (!c->done)
        return;
    c->busy = false;
    if (!c->keep_alive)
        conn_close(c);
    buf_putc(&c->body, '\0');
    c->body.len--;
    on_response(u, c->parser.status_code, c->body.data, c->body.len);
}

/* ----------------------------------------------------------- report --- */

static void progress(int64_t now, int64_t t0)
{
    fprintf(stderr, "%6.1fs users %llu/%d sent/s %llu delivered/s %llu p50 %.1f ms p99 %.1f ms "
                    "errors http %llu bayeux %llu\n",
            (double)(now - t0) / 1e6, (unsigned long long)st.connected, opt.users,
            (unsigned long long)st.sec_sent, (unsigned long long)st.sec_recv,
            (double)hist_quantile(&st.sec, 0.5) / 1000, (double)hist_quantile(&st.sec, 0.99) / 1000,
            (unsigned long long)st.http_err, (unsigned long long)st.bayeux_err);
    st.sec_sent = st.sec_recv = 0;
    hist_reset(&st.sec);
}

static void report(void)
{
    uint64_t lost = 0, dup = 0;
    for (uint32_t i = 0; i < max_msgs && (int64_t)i < (int64_t)st.sent; i++) {
        if (recv_count[i] < want_count[i])
            lost += want_count[i] - recv_count[i];
        else
            dup += recv_count[i] - want_count[i];
    }
    double secs = (double)(st.send_end - st.send_start) / 1e6;
    double p50a = (double)hist_quantile(&st.first_third, 0.5), p50z = (double)hist_quantile(&st.last_third, 0.5);
    bool steady = st.last_third.n == 0 || p50z <= 2.0 * (p50a > 1000 ? p50a : 1000);
    const hist_t *h = &st.all;
    char line[1024];
    snprintf(line, sizeof line,
             "{\"users\":%d,\"rooms\":%d,\"interval_ms\":%ld,\"burst\":%d,\"size\":%d,"
             "\"sent\":%llu,\"expected\":%llu,\"received\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
             "\"sent_per_s\":%.0f,\"delivered_per_s\":%.0f,"
             "\"latency_ms\":{\"min\":%.2f,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f},"
             "\"http_errors\":%llu,\"bayeux_errors\":%llu,\"handshakes\":%llu,\"skipped_bursts\":%llu,\"steady\":%s}",
             opt.users, opt.rooms, opt.interval_ms, opt.burst, opt.size,
             (unsigned long long)st.sent, (unsigned long long)st.expected,
             (unsigned long long)st.received, (unsigned long long)lost, (unsigned long long)dup,
             secs > 0 ? (double)st.sent / secs : 0, secs > 0 ? (double)st.received / secs : 0,
             (double)h->min_us / 1000, (double)hist_quantile(h, .5) / 1000,
             (double)hist_quantile(h, .9) / 1000, (double)hist_quantile(h, .99) / 1000,
             (double)hist_quantile(h, .999) / 1000, (double)h->max_us / 1000,
             (unsigned long long)st.http_err, (unsigned long long)st.bayeux_err,
             (unsigned long long)st.handshakes, (unsigned long long)st.skipped, steady ? "true" : "false");
    printf("%s\n", line);
    if (opt.json) {
        FILE *f = fopen(opt.json, "w");
        if (f) {
            fprintf(f, "%s\n", line);
            fclose(f);
        } else {
            fprintf(stderr, "bayeux-load: cannot write %s: %s\n", opt.json, strerror(errno));
        }
    }
}

/* ------------------------------------------------------------- main --- */

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: bayeux-load [OPTION]...\n"
        "The chat load test against a Bayeux server: users long-poll in rooms, a\n"
        "publisher sends bursts of messages to random rooms at a fixed interval.\n\n"
        "  --url URL          Bayeux endpoint, http://HOST:PORT/PATH [http://127.0.0.1:8080/cometd]\n"
        "  --users N          simulated users                       [100]\n"
        "  --rooms R          rooms, users spread evenly            [10]\n"
        "  --ramp N           users started per second              [1000]\n"
        "  --interval MS      pause between bursts                  [1000]\n"
        "  --burst N          messages per burst                    [10]\n"
        "  --size BYTES       chat payload size                     [50]\n"
        "  --duration S       how long to publish                   [30]\n"
        "  --sources N        spread connections over 127.0.0.1..N  [1]\n"
        "  --publishers N     publish connections (a burst is one batch on one) [4]\n"
        "  --json FILE        also write the summary there\n"
        "  --help             this help\n\n"
        "A progress line goes to stderr every second; the summary (JSON) to stdout.\n");
}

static int parse_url(const char *url)
{
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, strlen(url), 0, &u) != 0 || !(u.field_set & (1 << UF_HOST)))
        return -1;
    snprintf(opt.host, sizeof opt.host, "%.*s", u.field_data[UF_HOST].len, url + u.field_data[UF_HOST].off);
    opt.port = u.field_set & (1 << UF_PORT) ? u.port : 80;
    if (u.field_set & (1 << UF_PATH))
        snprintf(opt.path, sizeof opt.path, "%.*s", u.field_data[UF_PATH].len, url + u.field_data[UF_PATH].off);
    struct in_addr a;
    return inet_pton(AF_INET, opt.host, &a) == 1 ? 0 : -1;
}

static int parse_args(int argc, char **argv)
{
    static const struct option o[] = {
        { "url", 1, 0, 'u' }, { "users", 1, 0, 'n' }, { "rooms", 1, 0, 'r' }, { "ramp", 1, 0, 'R' },
        { "interval", 1, 0, 'i' }, { "burst", 1, 0, 'b' }, { "size", 1, 0, 's' },
        { "duration", 1, 0, 'd' }, { "sources", 1, 0, 'S' }, { "publishers", 1, 0, 'p' },
        { "json", 1, 0, 'j' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
        long v = optarg ? strtol(optarg, NULL, 10) : 0;
        switch (c) {
        case 'u': if (parse_url(optarg) < 0) { fprintf(stderr, "bayeux-load: bad --url (need http://IPv4:PORT/path)\n"); return -1; } break;
        case 'n': opt.users = (int)v; break;
        case 'r': opt.rooms = (int)v; break;
        case 'R': opt.ramp = (int)v; break;
        case 'i': opt.interval_ms = v; break;
        case 'b': opt.burst = (int)v; break;
        case 's': opt.size = (int)v; break;
        case 'd': opt.duration_s = v; break;
        case 'S': opt.sources = (int)v; break;
        case 'p': opt.publishers = (int)v; break;
        case 'j': opt.json = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (opt.users < 1 || opt.rooms < 1 || opt.ramp < 1 || opt.interval_ms < 1 || opt.burst < 1 ||
        opt.size < 1 || opt.duration_s < 1 || opt.sources < 1 || opt.sources > 254 ||
        opt.publishers < 1 || opt.users > 1000000 || opt.rooms > 100000) {
        fprintf(stderr, "bayeux-load: option out of range; see --help\n");
        return -1;
    }
    return 0;
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig; interrupted = 1; }

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    ep = epoll_create1(EPOLL_CLOEXEC);
    nusers = opt.users + 1 + opt.publishers;
    users = xcalloc((size_t)nusers, sizeof *users);
    room_members = xcalloc((size_t)opt.rooms, sizeof *room_members);
    uint64_t bursts = (uint64_t)(opt.duration_s * 1000 / opt.interval_ms) + 1;
    max_msgs = (uint32_t)(bursts * (uint64_t)opt.burst);
    recv_count = xcalloc(max_msgs, sizeof *recv_count);
    want_count = xcalloc(max_msgs, sizeof *want_count);
    sent_at = xcalloc(max_msgs, sizeof *sent_at);
    hist_reset(&st.all);
    for (int i = 0; i < nusers; i++) {
        struct user *u = &users[i];
        u->idx = i;
        u->c.fd = -1;
        u->c.u = u;
        u->role = i < opt.users ? RECEIVER : i == opt.users ? POLLER : PUBLISHER;
        u->room = i % opt.rooms;
        u->phase = u->role == PUBLISHER ? P_IDLE : P_HANDSHAKE;
    }
    poller = &users[opt.users];
    user_next(poller);

    int64_t t0 = now_us(), next_progress = t0 + 1000000, last_progress_recv = 0;
    int started = 0;
    uint64_t burst_no = 0;
    int64_t quiet_since = 0;
    struct epoll_event evs[512];
    while (!interrupted) {
        int n = epoll_wait(ep, evs, 512, 5);
        for (int i = 0; i < n; i++)
            conn_event(evs[i].data.ptr, evs[i].events);
        int64_t now = now_us();
        /* ramp-up */
        int due = (int)((now - t0) * opt.ramp / 1000000) + 1;
        while (started < opt.users && started < due)
            user_next(&users[started++]);
        /* advice intervals and retries */
        for (int i = 0; i < nusers; i++) {
            struct user *u = &users[i];
            if (u->resend_at_us && u->resend_at_us <= now && !u->c.busy) {
                u->resend_at_us = 0;
                user_next(u);
            }
        }
        /* open-loop publishing once everyone is in */
        if (!st.send_start && started == opt.users && st.connected == (uint64_t)opt.users &&
            poller->phase == P_CONNECT)
            st.send_start = now, st.send_end = now + opt.duration_s * 1000000;
        if (st.send_start && now < st.send_end) {
            while (st.send_start + (int64_t)burst_no * opt.interval_ms * 1000 <= now && burst_no < bursts) {
                publish_burst((uint32_t)(burst_no * (uint64_t)opt.burst));
                burst_no++;
            }
        }
        if (now >= next_progress) {
            progress(now, t0);
            next_progress += 1000000;
        }
        /* after sending: wait for the rest, at most 10 s without progress */
        if (st.send_start && now >= st.send_end) {
            if (st.received >= st.expected)
                break;
            if ((int64_t)st.received != last_progress_recv) {
                last_progress_recv = (int64_t)st.received;
                quiet_since = now;
            } else if (quiet_since && now - quiet_since > 10000000) {
                break;
            } else if (!quiet_since) {
                quiet_since = now;
            }
        }
        /* nobody connects within a minute: give up rather than hang */
        if (!st.send_start && now - t0 > 60000000 + (int64_t)opt.users * 1000000 / opt.ramp) {
            fprintf(stderr, "bayeux-load: only %llu of %d users connected; giving up\n",
                    (unsigned long long)st.connected, opt.users);
            report();
            return 1;
        }
    }
    if (!st.send_end || st.send_end > now_us())
        st.send_end = now_us();
    report();
    for (int i = 0; i < nusers; i++)
        conn_close(&users[i].c);
    return 0;
}
