/* fuzz_engine: libFuzzer target for the whole protocol engine in process —
 * bayeux_handle() with the session, channel, poll, chat and service modules
 * behind it, no FastCGI — checking every reply, every completed held connect,
 * and that nothing is left behind once an input's sessions have ended.
 *
 * Threads: libFuzzer's one thread; the sweeper is not started, its functions
 * are called from here with a time far in the future.
 * Owns: one `struct fuzz_conn` per request, freed by whoever answers it —
 * here for an immediate reply, the completion callback for a held connect.
 *
 * Input: requests separated by the line "--" ("\n--\n"), at most MAX_REQUESTS.
 * Each request is a line of flag letters, optionally "?query", then the body:
 *   P  POST application/json (the default)    F  POST, form content type
 *   G  GET: the body is the query string      X  PUT
 *   1  Cookie BAYEUX_BROWSER=<browser 1>      2  the same with browser 2
 *   H  over TLS (https)
 *   U  to <endpoint>/status (the status page)  R  from a non-loopback address
 *   T  first answer every held connect as timed out (session_expire_polls)
 *   S  first end every session as expired (session_expire_polls, session_expire)
 *   Z  first end every session as at shutdown (session_table_shutdown)
 *   K  first hang up the latest held connect: the web server closed it
 *      (poll_registry_hangup, session_release_dead_polls)
 * In the body and query "$ID", "$ID2" and "$ID3" become the clientIds of three
 * sessions handshaken before the input ($ID2 with the ack extension), "$NEW"
 * the clientId of the latest handshake answered during the input. Handshakes
 * may authenticate (ext.auth, the secrets below) under a publish/subscribe
 * policy; the limits are set low enough for an input to reach each one.
 * After the last request every held connect is answered and every session
 * expired, and the tables must be empty again.
 *
 * Anything else found wrong (a reply that is not JSON, a header that is not
 * one line, an unanswered connection) is reported and aborts, so that
 * libFuzzer keeps the input.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "bayeux.h"
#include "channel.h"
#include "chat.h"
#include "config.h"
#include "log.h"
#include "poll.h"
#include "service.h"
#include "session.h"
#include "status.h"

#define MAX_REQUESTS 64
#define CONN_MAGIC 0x0b5e55edu
/* after every deadline and every expiry an input can produce */
#define FAR_FUTURE_MS (INT64_C(1) << 60)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fuzz_conn {
    unsigned magic;
    bool dead;                               /* hung up by the web server */
    struct fuzz_conn *prev, *next;           /* the list of open connections */
};

static struct fuzz_conn *conns;              /* allocated and not yet answered, newest first */
static long conns_open;
static bool status_request;                  /* the request being handled is one */
enum { ID1, ID2, ID3, ID_NEW, ID_SLOTS };
static char ids[ID_SLOTS][SESSION_ID_LEN + 1];   /* $ID, $ID2, $ID3, $NEW */

/* Reports what went wrong, with the body concerned (may be NULL), and aborts. */
static void fail(const char *what, const char *body, size_t len)
{
    fprintf(stderr, "fuzz_engine: %s\n", what);
    if (body)
        fprintf(stderr, "fuzz_engine: body: %.*s\n", (int)(len > 2000 ? 2000 : len), body);
    abort();
}

/* Remembers the clientId of a successful handshake reply as $NEW. */
static void note_client_id(const char *body)
{
    const char *at = strstr(body, "\"clientId\":\"");
    if (at && strlen(at + 12) > SESSION_ID_LEN && at[12 + SESSION_ID_LEN] == '"')
        memcpy(ids[ID_NEW], at + 12, SESSION_ID_LEN);
}

/* A 200 reply must be a JSON array of objects — inside "/ * * /cb(...);" for
 * JSONP — in valid UTF-8, whatever the request held; the status page one
 * object. */
static void check_body(const char *content_type, const char *body, size_t len)
{
    const char *json = body;
    size_t jlen = len;
    if (strncmp(content_type, "text/javascript", 15) == 0) {
        const char *open = memchr(body, '(', len);
        if (len < 8 || memcmp(body, "/**/", 4) != 0 || !open || open - body < 5 ||
            !request_jsonp_valid(body + 4, (size_t)(open - body - 4)) ||
            memcmp(body + len - 2, ");", 2) != 0)
            fail("JSONP reply not framed as /**/cb(...);", body, len);
        json = open + 1;
        jlen = (size_t)(body + len - 2 - json);
    } else if (strncmp(content_type, "application/json", 16) != 0) {
        fail("200 reply with an unexpected content type", content_type, strlen(content_type));
    }
    if (status_request && jlen && json[jlen - 1] == '\n')
        jlen--;
    struct json_tokener *tok = json_tokener_new_ex(1024);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *root = json_tokener_parse_ex(tok, json, (int)jlen);
    bool ok = root && json_tokener_get_error(tok) == json_tokener_success &&
              json_tokener_get_parse_end(tok) == jlen;
    if (ok && status_request && json_object_is_type(root, json_type_object)) {
        json_tokener_free(tok);
        json_object_put(root);
        return;
    }
    ok = ok && json_object_is_type(root, json_type_array);
    for (size_t i = 0; ok && i < json_object_array_length(root); i++)
        ok = json_object_is_type(json_object_array_get_idx(root, i), json_type_object);
    json_tokener_free(tok);
    json_object_put(root);
    if (!ok)
        fail("reply is not a JSON array of objects", body, len);
}

static void check_reply(int status, const char *content_type, const char *body, size_t len)
{
    if (!content_type || !body || strlen(body) != len)
        fail("reply without content type or body, or length mismatch", body, body ? len : 0);
    if (status == 200) {
        check_body(content_type, body, len);
        note_client_id(body);
    } else if (status != 400 && status != 405 && status != 413 && !(status == 404 && status_request)) {
        fail("unexpected HTTP status", body, len);
    } else if (strncmp(content_type, "text/plain", 10) != 0) {
        fail("HTTP error not in text/plain", body, len);
    }
}

/* Extra header lines must be "Name: value\r\n" each, printable ASCII:
 * nothing from a request may break a line or add a header. */
static void check_headers(const char *h)
{
    while (h && *h) {
        const char *eol = strstr(h, "\r\n");
        const char *colon = strchr(h, ':');
        if (!eol || !colon || colon > eol || colon == h || colon[1] != ' ')
            fail("malformed extra header line", h, strlen(h));
        for (const char *c = h; c < eol; c++)
            if (*c < 0x20 || *c > 0x7e)
                fail("control or non-ASCII byte in an extra header", h, strlen(h));
        h = eol + 2;
    }
}

static void conn_close(void *conn)
{
    struct fuzz_conn *c = conn;
    if (c->magic != CONN_MAGIC)
        fail("completion with something that is not a connection", NULL, 0);
    c->magic = 0;
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    conns_open--;
    free(c);
}

/* The transport's hang-up test. */
static bool fuzz_dead(void *conn)
{
    struct fuzz_conn *c = conn;
    if (c->magic != CONN_MAGIC)
        fail("hang-up test on something that is not a connection", NULL, 0);
    return c->dead;
}

/* The web server closes the newest held connection; the sweeper releases it. */
static void hang_up(void)
{
    struct fuzz_conn *c = conns;
    while (c && c->dead)
        c = c->next;
    if (c)
        c->dead = true;
    poll_registry_hangup();
    session_release_dead_polls();
}

/* The transport's completion callback: a held connect is answered. */
static void fuzz_complete(void *conn, int status, const char *content_type,
                          const char *extra_headers, const char *body, size_t len)
{
    check_headers(extra_headers);
    if (status != 200)
        fail("held connect answered with a status other than 200", body, len);
    check_reply(status, content_type, body, len);
    conn_close(conn);
}

static void *conn_open(void)
{
    struct fuzz_conn *c = malloc(sizeof *c);
    if (!c)
        abort();
    c->magic = CONN_MAGIC;
    c->dead = false;
    c->prev = NULL;
    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    conns_open++;
    return c;
}

/* Runs one request through the engine and answers it unless it was parked. */
static void handle(const struct http_request *req)
{
    void *conn = conn_open();
    struct bayeux_reply out;
    bayeux_handle(req, conn, &out);
    if (!out.parked) {
        if (memchr(out.headers, '\0', sizeof out.headers) == NULL)
            fail("extra headers not terminated", NULL, 0);
        check_headers(out.headers);
        check_reply(out.status, out.content_type, out.body, out.len);
        conn_close(conn);
    }
    bayeux_reply_release(&out);
}

/* Handshakes a session, with the ack extension when `ack`, into id. */
static void handshake_into(char *id, bool ack)
{
    char hs[200];
    int n = snprintf(hs, sizeof hs, "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\","
                     "\"supportedConnectionTypes\":[\"long-polling\",\"callback-polling\"]%s}]",
                     ack ? ",\"ext\":{\"ack\":true}" : "");
    struct http_request req = { .method = "POST", .content_type = "application/json",
                                .path = "/cometd", .remote_addr = "127.0.0.1",
                                .body = hs, .body_len = (size_t)n };
    ids[ID_NEW][0] = '\0';
    handle(&req);
    memcpy(id, ids[ID_NEW], sizeof ids[ID_NEW]);
    if (!id[0])
        fail("the set-up handshake failed", NULL, 0);
}

/* Copies s[0..n) with the placeholders replaced; the result is NUL-terminated
 * (its length in *out_len) and owned by the caller. */
static char *substitute(const char *s, size_t n, size_t *out_len)
{
    static const char *const names[] = { "$ID2", "$ID3", "$NEW", "$ID" };   /* longest first */
    static const int slot[] = { ID2, ID3, ID_NEW, ID1 };
    enum { NAMES = sizeof names / sizeof *names };
    char *out = malloc(n * (SESSION_ID_LEN / 3 + 1) + 1);
    if (!out)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        while (k < NAMES && !(n - i >= strlen(names[k]) &&
                              memcmp(s + i, names[k], strlen(names[k])) == 0))
            k++;
        if (k < NAMES) {
            size_t idlen = strlen(ids[slot[k]]);
            memcpy(out + o, ids[slot[k]], idlen);
            o += idlen;
            i += strlen(names[k]);
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static const char *find_sep(const char *p, const char *end)
{
    for (; end - p >= 4; p++)
        if (memcmp(p, "\n--\n", 4) == 0)
            return p;
    return NULL;
}

static void sweep(bool sessions)
{
    session_expire_polls(FAR_FUTURE_MS);
    if (sessions)
        session_expire(FAR_FUTURE_MS);
}

/* One request of the input: [p, end). */
static void run_request(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *flags_end = nl ? nl : end;
    const char *body = nl ? nl + 1 : end;
    const char *qmark = memchr(p, '?', (size_t)(flags_end - p));
    const char *method = "POST", *content_type = "application/json", *cookie = NULL;
    const char *path = "/cometd", *remote = "127.0.0.1";
    bool get = false, https = false;
    char cookie_buf[32 + BROWSER_ID_MAX];

    for (const char *f = p; f < (qmark ? qmark : flags_end); f++) {
        switch (*f) {
        case 'F': content_type = "application/x-www-form-urlencoded"; break;
        case 'G': method = "GET"; get = true; content_type = NULL; break;
        case 'X': method = "PUT"; break;
        case '1': cookie = "BAYEUX_BROWSER=browser1"; break;
        case '2': cookie = "BAYEUX_BROWSER=browser2"; break;
        case 'H': https = true; break;
        case 'U': path = "/cometd/status"; break;
        case 'R': remote = "192.0.2.1"; break;
        case 'T': sweep(false); break;
        case 'S': sweep(true); break;
        case 'Z': session_table_shutdown(); break;
        case 'K': hang_up(); break;
        default: break;
        }
    }
    if (cookie) {
        snprintf(cookie_buf, sizeof cookie_buf, "theme=dark; %s", cookie);
        cookie = cookie_buf;
    }

    size_t body_len, query_len = 0;
    char *text = substitute(body, (size_t)(end - body), &body_len);
    char *query = qmark ? substitute(qmark + 1, (size_t)(flags_end - qmark - 1), &query_len) : NULL;
    /* the body in an allocation of its exact size, without a NUL */
    char *exact = malloc(body_len ? body_len : 1);
    if (!exact)
        abort();
    memcpy(exact, text, body_len);

    const char *q = get ? text : query;
    size_t uri_len = strlen(path) + (q ? strlen(q) + 1 : 0) + 1;
    char *uri = malloc(uri_len);
    if (!uri)
        abort();
    snprintf(uri, uri_len, "%s%s%s", path, q ? "?" : "", q ? q : "");

    struct http_request req = {
        .method = method, .content_type = content_type, .query = q, .cookie = cookie,
        .path = uri, .remote_addr = remote, .https = https,
        .body = get ? NULL : exact, .body_len = get ? 0 : body_len,
    };
    status_request = get && strcmp(path, "/cometd/status") == 0;
    handle(&req);
    status_request = false;
    free(uri);
    free(exact);
    free(text);
    free(query);
}

/* Roles and rules for handshakes with ext.auth and a publish/subscribe
 * policy; the secrets are in bayeux.dict too, so inputs can use them. */
static const char auth_secrets[] =
    "admin fuzz-admin-secret-0123456789\n"
    "bot fuzz-bot-secret-0123456789\n";
static const char auth_policy[] =
    "allow publish,subscribe /admin/** admin\n"
    "deny publish,subscribe /admin/** *\n"
    "allow subscribe /news/* *\n"
    "allow publish /news/* admin,bot\n"
    "deny publish,subscribe /news/** *\n"
    "deny publish /service/privatechat bot\n"
    "allow publish,subscribe /** *\n";

/* Writes text into dir/name (mode 0600, as the secrets file wants);
 * returns the path (caller frees). */
static char *write_file(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path)
        abort();
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fchmod(fileno(f), 0600) != 0 || fputs(text, f) == EOF || fclose(f) != 0)
        fail("cannot write the auth files", path, strlen(path));
    return path;
}

/* Loads the secrets and the policy; auth_load reads the files whole, so
 * they are removed at once. */
static void auth_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/fuzz_engine.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fail("cannot make a directory for the auth files", dir, strlen(dir));
    char *secrets = write_file(dir, "secrets", auth_secrets);
    char *policy = write_file(dir, "policy", auth_policy);
    int rc = auth_load(secrets, policy, false, stderr);
    unlink(secrets);
    unlink(policy);
    rmdir(dir);
    free(secrets);
    free(policy);
    if (rc != 0)
        fail("auth_load refused the fuzzer's auth files", NULL, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* the order of main.c, without the transport and the threads */
    config_defaults(&config);
    /* limits small enough for an input of a few KB to reach each one */
    config.max_queue = 8;
    config.max_message = 1024;
    config.max_subscriptions = 16;
    config.max_sessions = 8;
    config.max_polls = 4;
    config.publish_burst = 20;
    log_set_level(LOG_ERROR);
    poll_registry_init(fuzz_complete, fuzz_dead);
    session_table_init();
    channel_table_init();
    service_register_builtin();
    chat_init();
    status_init();
    auth_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    handshake_into(ids[ID1], false);
    handshake_into(ids[ID2], true);
    handshake_into(ids[ID3], false);
    ids[ID_NEW][0] = '\0';

    const char *p = (const char *)data, *end = p + size;
    for (int n = 0; n < MAX_REQUESTS && p <= end; n++) {
        const char *sep = find_sep(p, end);
        run_request(p, sep ? sep : end);
        if (!sep)
            break;
        p = sep + 4;
    }

    /* whatever is still held or alive ends now: nothing may remain */
    sweep(true);
    if (poll_registry_count() != 0)
        fail("held connects left after every session expired", NULL, 0);
    if (session_count() != 0)
        fail("sessions left after expiring every session", NULL, 0);
    if (channel_count() != 0)
        fail("channels left without sessions", NULL, 0);
    if (chat_room_count() != 0)
        fail("chat rooms left without sessions", NULL, 0);
    if (conns_open != 0)
        fail("a connection was never answered", NULL, 0);
    return 0;
}
