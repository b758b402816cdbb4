/* config: every setting of the responder, its default, and the command line.
 *
 * Threads: filled once by main() before any thread starts, read-only afterwards
 * through the global `config`.
 */
#ifndef BAYEUX_CONFIG_H
#define BAYEUX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_ORIGINS_MAX 32       /* --allow-origin given at most this often */

struct config {
    const char *listen;            /* NULL: FastCGI listen socket on fd 0 */
    int socket_mode;               /* permissions of a unix listen socket */
    int backlog;
    int threads;                   /* accept threads */
    long timeout_ms;               /* how long a /meta/connect is held */
    long interval_ms;              /* advice.interval */
    long max_interval_ms;          /* session expiry after the last connect */
    int max_sessions_per_browser;  /* held connects per BAYEUX_BROWSER cookie */
    long multi_client_interval_ms; /* advice.interval given with multiple-clients */
    size_t max_body;               /* largest request body accepted */
    size_t max_queue;              /* messages queued per session before dropping oldest */
    size_t max_batch;              /* messages in one request */
    size_t max_message;            /* bytes of one published message (data, channel, id) */
    size_t max_subscriptions;      /* subscriptions of one session */
    size_t max_sessions;           /* sessions in total */
    size_t max_polls;              /* held connects in total */
    double publish_rate;           /* publishes per second per session; 0: unlimited */
    double publish_burst;          /* token bucket size */
    const char *auth_file;         /* "ROLE SECRET" lines (auth.h), or NULL */
    bool auth_required;            /* refuse handshakes without ext.auth */
    const char *policy_file;       /* publish/subscribe rules (auth.h), or NULL */
    const char *allow_origins[CONFIG_ORIGINS_MAX];  /* cross-origin callers (cors.h) */
    size_t n_allow_origins;
    long sweep_ms;                 /* sweeper period */
    const char *redis_url;         /* --redis: the backplane (backplane.h), or NULL */
    int log_level;
};

extern struct config config;

void config_defaults(struct config *c);

/* Parses argv into *c. Returns 0 to run, 1 when --help/--version was printed
 * (exit 0), -1 after printing an error to `err` (exit 2). */
int config_parse(struct config *c, int argc, char **argv, FILE *out, FILE *err);

void config_usage(FILE *out);

#endif
