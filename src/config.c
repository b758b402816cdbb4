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



struct config config;

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
        "  --max-body BYTES               largest request body (else HTTP 413) [%zu]\n"
        "  --max-queue N                  messages queued per session; past it the\n"
        "                                 oldest are dropped and logged   [%zu]\n"
        "  --log-level LEVEL              error, warn, info or debug      [info]\n"
        "  --help                         show this help and exit\n"
        "  --version                      show the version and exit\n"
        "\n"
        "Signals: SIGTERM or SIGINT answer every held connect with reconnect advice\n"
        "and exit 0. Logs go to standard error.\n",
        d.socket_mode, d.backlog, d.threads, d.timeout_ms, d.interval_ms,
        d.max_interval_ms, d.max_sessions_per_browser, d.multi_client_interval_ms,
        d.max_body, d.max_queue);
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
    OPT_MAX_QUEUE, OPT_LOG_LEVEL, OPT_HELP, OPT_VERSION
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
        { NULL, 0, NULL, 0 }
    };
    optind = 1;
    opterr = 0;
    for (;;) {
        int idx = 0;
        int o = getopt_long(argc, argv, "", opts, &idx);
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
        default:
            fprintf(err, "bayeux-fcgi: unknown option '%s'\nTry 'bayeux-fcgi --help'.\n",
                    argv[optind - 1]);
            return -1;
        }
        if (bad) {
            fprintf(err, "bayeux-fcgi: invalid value '%s' for --%s\nTry 'bayeux-fcgi --help'.\n",
                    optarg, opts[o - OPT_LISTEN].name);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(err, "bayeux-fcgi: unexpected argument '%s'\nTry 'bayeux-fcgi --help'.\n", argv[optind]);
        return -1;
    }
    return 0;
}
