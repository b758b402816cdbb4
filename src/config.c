/* config: defaults and command-line parsing (getopt_long).
 *
 * Threads: main thread only, before the others start.
 */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct config config;

/* File descriptors kept free for everything that is not a held connect:
 * requests being read, the listen socket, logs. */
#define FD_RESERVE 256

/* Held connects cost one descriptor each: by default allow as many as the
 * open-files limit leaves after the reserve. */
static size_t default_max_polls(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > 10000000)
        return 1000000;
    return rl.rlim_cur > FD_RESERVE + 16 ? (size_t)rl.rlim_cur - FD_RESERVE : 16;
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    c->listen = NULL;
    c->socket_mode = 0660;
    c->backlog = 4096;
    c->threads = 8;
    c->timeout_ms = 25000;
    c->interval_ms = 0;
    c->max_interval_ms = 10000;
    c->max_sessions_per_browser = 1;
    c->multi_client_interval_ms = 2000;
    c->max_body = 1048576;
    c->max_queue = 1000;
    c->max_batch = 100;
    c->max_message = 262144;
    c->max_subscriptions = 100;
    c->max_sessions = 100000;
    c->max_polls = default_max_polls();
    c->publish_rate = 50;
    c->publish_burst = 200;
    c->sweep_ms = 100;
    c->log_level = LOG_INFO;
}

void config_usage(FILE *out)
{
    struct config d;
    config_defaults(&d);
    fprintf(out,
        "Usage: bayeux-fcgi [OPTION]...\n"
        "Bayeux 1.0 (CometD/Faye long-polling) server as a FastCGI responder.\n"
        "\n"
        "Without --listen the FastCGI listen socket is file descriptor 0, as set up\n"
        "by lighttpd (bin-path), spawn-fcgi or systemd socket activation.\n"
        "\n"
        "  --listen ADDR                  listen on a unix socket PATH or on HOST:PORT\n"
        "                                 (HOST defaults to 127.0.0.1)   [fd 0]\n"
        "  --socket-mode MODE             permissions of a unix socket    [%04o]\n"
        "  --backlog N                    listen backlog (also raised on fd 0;\n"
        "                                 capped by net.core.somaxconn)   [%d]\n"
        "  --threads N                    accept threads                  [%d]\n"
        "  --timeout MS                   how long a /meta/connect is held [%ld]\n"
        "  --interval MS                  advice.interval sent to clients [%ld]\n"
        "  --max-interval MS              expire a session this long after its\n"
        "                                 last connect ended              [%ld]\n"
        "  --max-sessions-per-browser N   held connects per BAYEUX_BROWSER cookie;\n"
        "                                 more get the multiple-clients advice [%d]\n"
        "  --multiple-clients-interval MS advice.interval with multiple-clients [%ld]\n"
        "\n"
        "Limits (past one the client gets a Bayeux error or an HTTP status):\n"
        "  --max-queue N                  messages queued per session; past it the\n"
        "                                 oldest are dropped, counted and logged [%zu]\n"
        "  --max-body BYTES               largest request body (else HTTP 413) [%zu]\n"
        "  --max-batch N                  messages in one request (else HTTP 413) [%zu]\n"
        "  --max-message BYTES            size of one published message: data,\n"
        "                                 channel and id (else 413:N:message_too_large) [%zu]\n"
        "  --max-subscriptions N          subscriptions of one session\n"
        "                                 (else 403:N:too_many_subscriptions) [%zu]\n"
        "  --max-sessions N               sessions in total (else a handshake gets\n"
        "                                 503::too_many_sessions, retry in 5 s) [%zu]\n"
        "  --max-polls N                  held connects in total (else a connect gets\n"
        "                                 503::too_many_polls, retry in 1 s)\n"
        "                                 [open-files limit - %d: %zu]\n"
        "  --publish-rate N               publishes per second per session, 0 for no\n"
        "                                 limit (else 429:MS:publish_rate_exceeded) [%g]\n"
        "  --publish-burst N              publishes allowed at once within the rate [%g]\n"
        "\n"
        "Security (docs/security.md):\n"
        "  --auth-file FILE               lines \"ROLE SECRET\": a handshake whose\n"
        "                                 ext.auth is a SECRET gets its ROLE, a wrong\n"
        "                                 one 403::handshake_denied  [all anonymous]\n"
        "  --auth-required                refuse handshakes without ext.auth as well\n"
        "  --policy FILE                  lines \"allow|deny ACTIONS PATTERN ROLES\":\n"
        "                                 the first rule that matches a publish or\n"
        "                                 subscribe decides; none: denied [all allowed]\n"
        "  --allow-origin ORIGIN          pages of ORIGIN (scheme://host[:port]) may\n"
        "                                 call from a browser; up to %d times\n"
        "                                 [other origins: HTTP 403]\n"
        "\n"
        "Scale-out:\n"
        "  --redis URL                    join other responders through Redis pub/sub\n"
        "                                 (redis://HOST[:PORT]): their publishes reach\n"
        "                                 subscribers here and ours reach theirs [off]\n"
        "\n"
        "  --log-level LEVEL              error, warn, info or debug      [info]\n"
        "  --help                         show this help and exit\n"
        "  --version                      show the version and exit\n"
        "\n"
        "Signals: SIGTERM or SIGINT answer every held connect with reconnect advice\n"
        "and exit 0. Logs go to standard error.\n",
        d.socket_mode, d.backlog, d.threads, d.timeout_ms, d.interval_ms,
        d.max_interval_ms, d.max_sessions_per_browser, d.multi_client_interval_ms,
        d.max_queue, d.max_body, d.max_batch, d.max_message, d.max_subscriptions,
        d.max_sessions, FD_RESERVE, d.max_polls, d.publish_rate, d.publish_burst,
        CONFIG_ORIGINS_MAX);
}

/* Parses a non-negative integer within [min, max]; returns 0 on success. */
static int parse_long(const char *s, long min, long max, int base, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, base);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

enum {
    OPT_LISTEN = 256, OPT_SOCKET_MODE, OPT_BACKLOG, OPT_THREADS, OPT_TIMEOUT,
    OPT_INTERVAL, OPT_MAX_INTERVAL, OPT_MAX_SPB, OPT_MC_INTERVAL, OPT_MAX_BODY,
    OPT_MAX_QUEUE, OPT_LOG_LEVEL, OPT_HELP, OPT_VERSION, OPT_MAX_BATCH, OPT_MAX_MESSAGE,
    OPT_MAX_SUBS, OPT_MAX_SESSIONS, OPT_MAX_POLLS, OPT_PUBLISH_RATE, OPT_PUBLISH_BURST,
    OPT_AUTH_FILE, OPT_AUTH_REQUIRED, OPT_POLICY, OPT_ALLOW_ORIGIN, OPT_REDIS
};

int config_parse(struct config *c, int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
        { "backlog", required_argument, NULL, OPT_BACKLOG },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "max-interval", required_argument, NULL, OPT_MAX_INTERVAL },
        { "max-sessions-per-browser", required_argument, NULL, OPT_MAX_SPB },
        { "multiple-clients-interval", required_argument, NULL, OPT_MC_INTERVAL },
        { "max-body", required_argument, NULL, OPT_MAX_BODY },
        { "max-queue", required_argument, NULL, OPT_MAX_QUEUE },
        { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { "max-batch", required_argument, NULL, OPT_MAX_BATCH },
        { "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
        { "max-subscriptions", required_argument, NULL, OPT_MAX_SUBS },
        { "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
        { "max-polls", required_argument, NULL, OPT_MAX_POLLS },
        { "publish-rate", required_argument, NULL, OPT_PUBLISH_RATE },
        { "publish-burst", required_argument, NULL, OPT_PUBLISH_BURST },
        { "auth-file", required_argument, NULL, OPT_AUTH_FILE },
        { "auth-required", no_argument, NULL, OPT_AUTH_REQUIRED },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "allow-origin", required_argument, NULL, OPT_ALLOW_ORIGIN },
        { "redis", required_argument, NULL, OPT_REDIS },
        { NULL, 0, NULL, 0 }
    };
    optind = 1;
    opterr = 0;
    for (;;) {
        int idx = 0;
        int o = getopt_long(argc, argv, ":", opts, &idx);   /* ':' tells a missing value apart */
        if (o == -1)
            break;
        long v = 0;
        int bad = 0;
        switch (o) {
        case OPT_LISTEN: c->listen = optarg; break;
        case OPT_SOCKET_MODE:
            bad = parse_long(optarg, 0, 0777, 8, &v); c->socket_mode = (int)v; break;
        case OPT_BACKLOG:
            bad = parse_long(optarg, 1, 65535, 10, &v); c->backlog = (int)v; break;
        case OPT_THREADS:
            bad = parse_long(optarg, 1, 256, 10, &v); c->threads = (int)v; break;
        case OPT_TIMEOUT:
            bad = parse_long(optarg, 0, 3600000, 10, &v); c->timeout_ms = v; break;
        case OPT_INTERVAL:
            bad = parse_long(optarg, 0, 3600000, 10, &v); c->interval_ms = v; break;
        case OPT_MAX_INTERVAL:
            bad = parse_long(optarg, 100, 86400000, 10, &v); c->max_interval_ms = v; break;
        case OPT_MAX_SPB:
            bad = parse_long(optarg, 1, 1000000, 10, &v); c->max_sessions_per_browser = (int)v; break;
        case OPT_MC_INTERVAL:
            bad = parse_long(optarg, 0, 3600000, 10, &v); c->multi_client_interval_ms = v; break;
        case OPT_MAX_BODY:
            bad = parse_long(optarg, 64, 1L << 30, 10, &v); c->max_body = (size_t)v; break;
        case OPT_MAX_QUEUE:
            bad = parse_long(optarg, 1, 10000000, 10, &v); c->max_queue = (size_t)v; break;
        case OPT_MAX_BATCH:
            bad = parse_long(optarg, 1, 1000000, 10, &v); c->max_batch = (size_t)v; break;
        case OPT_MAX_MESSAGE:
            bad = parse_long(optarg, 64, 1L << 30, 10, &v); c->max_message = (size_t)v; break;
        case OPT_MAX_SUBS:
            bad = parse_long(optarg, 1, 1000000, 10, &v); c->max_subscriptions = (size_t)v; break;
        case OPT_MAX_SESSIONS:
            bad = parse_long(optarg, 1, 100000000, 10, &v); c->max_sessions = (size_t)v; break;
        case OPT_MAX_POLLS:
            bad = parse_long(optarg, 1, 100000000, 10, &v); c->max_polls = (size_t)v; break;
        case OPT_PUBLISH_RATE:
            bad = parse_long(optarg, 0, 1000000, 10, &v); c->publish_rate = (double)v; break;
        case OPT_PUBLISH_BURST:
            bad = parse_long(optarg, 1, 1000000, 10, &v); c->publish_burst = (double)v; break;
        case OPT_AUTH_FILE: c->auth_file = optarg; break;
        case OPT_AUTH_REQUIRED: c->auth_required = true; break;
        case OPT_POLICY: c->policy_file = optarg; break;
        case OPT_REDIS: c->redis_url = optarg; break;
        case OPT_ALLOW_ORIGIN:
            /* the value is checked when main() hands it to cors_allow */
            if (c->n_allow_origins == CONFIG_ORIGINS_MAX) {
                fprintf(err, "bayeux-fcgi: at most %d --allow-origin options\n", CONFIG_ORIGINS_MAX);
                return -1;
            }
            c->allow_origins[c->n_allow_origins++] = optarg;
            break;
        case OPT_LOG_LEVEL: {
            int l = log_parse_level(optarg);
            if (l < 0)
                bad = 1;
            else
                c->log_level = l;
            break;
        }
        case OPT_HELP: config_usage(out); return 1;
        case OPT_VERSION: fprintf(out, "bayeux-fcgi %s\n", PACKAGE_VERSION); return 1;
        case ':':
            fprintf(err, "bayeux-fcgi: option '%s' needs a value\nTry 'bayeux-fcgi --help'.\n",
                    argv[optind - 1]);
            return -1;
        default:
            fprintf(err, "bayeux-fcgi: unknown option '%s'\nTry 'bayeux-fcgi --help'.\n",
                    argv[optind - 1]);
            return -1;
        }
        if (bad) {
            fprintf(err, "bayeux-fcgi: invalid value '%s' for --%s\nTry 'bayeux-fcgi --help'.\n",
                    optarg, opts[idx].name);   /* every option is long: getopt_long set idx */
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(err, "bayeux-fcgi: unexpected argument '%s'\nTry 'bayeux-fcgi --help'.\n", argv[optind]);
        return -1;
    }
    return 0;
}
