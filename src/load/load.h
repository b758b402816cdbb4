/* load: what the worker processes of bayeux-load share — the options, and
 * one MAP_SHARED region of counters that every worker updates and the first
 * worker (the parent, which also publishes) reads to print progress and the
 * summary.
 *
 * Processes: --procs workers forked from one parent; each worker has one
 * thread. Everything in struct load_shared is either an atomic (updated by
 * any worker) or written by exactly one worker (its struct load_worker slot,
 * and want_count[] by the publishing parent). Histograms of a slot are read
 * by the parent only after that worker has exited, except the per-second
 * histogram, which is handed over under a sequence counter.
 * Latency is measured with CLOCK_MONOTONIC, which every process of the host
 * shares: sender and receivers need not be one process.
 * Faults: a user that had been connected and then fails (HTTP error, lost
 * connection, handshake advice) counts in `broken` until it is subscribed and
 * connecting again; the parent opens an outage at the first such failure and
 * closes it when every user is back (the recovery time). Publish
 * acknowledgements and outage windows are the parent's alone (stats.c).
 */
#ifndef BAYEUX_LOAD_LOAD_H
#define BAYEUX_LOAD_LOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "load/histogram.h"

#define LOAD_MAX_PROCS 64

struct load_options {
    char host[64];
    int port;
    char path[256];
    int users, rooms, ramp, burst, size, sources, publishers, procs;
    /* --source-spread / --source-list: the `sources` addresses to bind
     * (network order), or NULL for --sources' 127.0.0.1..N */
    uint32_t *source_addrs;
    long interval_ms, duration_s;
    double steady_factor;   /* steady: p50 of the last third <= factor x the first's, */
    long steady_floor_ms;   /* ... or <= factor x this floor */
    const char *json;
};

extern struct load_options opt;

/* options.c: prints --help to out. */
void load_usage(FILE *out);
/* Parses argv into opt. Returns 0, or -1 after a message on stderr; --help
 * prints and exits 0. */
int load_parse_args(int argc, char **argv);

/* One worker's counters and histograms, written by that worker alone. */
struct load_worker {
    _Atomic uint64_t received, http_err, bayeux_err, handshakes, gave_up;
    _Atomic uint64_t silent;            /* receivers that got no delivery at all */
    _Atomic uint64_t rehandshaken;      /* receivers that handshook more than once */
    _Atomic uint64_t silent_after;      /* receivers with no delivery sent after the last recovery */
    _Atomic uint64_t sec_recv;          /* deliveries in the current second */
    _Atomic uint32_t sec_seq;           /* odd while last_sec is being written */
    hist_t last_sec;                    /* latencies of the last whole second */
    hist_t sec;                         /* the current second (worker-private) */
    hist_t all, first_third, last_third;
    pid_t pid;
    _Atomic int exited;
};

struct load_shared {
    _Atomic int64_t send_start, send_end;   /* µs, 0 = not yet publishing */
    _Atomic int stop;                       /* set by the parent: all workers end */
    _Atomic uint64_t connected;             /* receivers in P_CONNECT, all workers */
    _Atomic uint64_t sent, expected, skipped, sec_sent;
    _Atomic int64_t broken;                 /* users failed and not back yet, all workers */
    _Atomic int64_t fail_at;                /* µs of a failure no outage covers yet, 0 = none */
    _Atomic int64_t recovered_at;           /* µs the last outage ended (parent), 0 = none */
    uint32_t max_msgs;
    struct load_worker w[LOAD_MAX_PROCS];
    _Atomic int *room_members;              /* [rooms]: receivers connected per room */
    _Atomic uint32_t *recv_count;           /* [max_msgs]: deliveries per message id */
    uint32_t *want_count;                   /* [max_msgs]: room members at send time */
};

extern struct load_shared *shm;

int64_t load_now_us(void);

/* Maps the shared region for opt (before forking). Aborts on failure. */
void load_shared_create(uint32_t max_msgs);

/* ----------------------------------------------------- accounting --- */

/* A chat text "t=<µs> i=<id> ..." delivered to a receiver of worker w; its
 * send time goes to *sent_us. Returns false when the text is not one of ours
 * (counted nowhere). */
bool load_count_delivery(struct load_worker *w, const char *chat, int64_t *sent_us);

/* A message id goes to `room`: records who should get it. Parent only. */
void load_count_send(uint32_t id, int room);

/* The server's answer to the publish of message id: ok = successful:true.
 * Only the first verdict counts. Parent only. */
void load_publish_answered(uint32_t id, bool ok);

/* Every message of first..first+n-1 still without a verdict is refused (the
 * request failed or its reply lacked them). Parent only. */
void load_publish_refused(uint32_t first, uint32_t n);

/* The HTTP answer (status, NUL-terminated body) to a burst first..first+n-1
 * sent by worker w: each message's verdict by the id of its reply; HTTP and
 * Bayeux errors counted. Returns true when a reply advised a new handshake
 * (the session is unknown). Parent only. */
bool load_publish_reply(struct load_worker *w, uint32_t first, uint32_t n, int status, const char *body);

/* True once every acknowledged message outside an outage has all its
 * deliveries, no publish awaits its answer and no outage is open. Parent. */
bool load_all_settled(void);

/* ------------------------------------------------- faults, recovery --- */

/* A user that had been connected failed: the first of a wave starts an
 * outage. Any worker; the caller counts each user once until it is back. */
void load_user_failed(void);

/* That user is subscribed and connecting again. */
void load_user_back(void);

/* Parent, every turn: opens an outage at the first failure and closes it
 * once no user is failed, every receiver is connected (or gave up) and
 * the publisher's session is back (publisher_ok). */
void load_outage_turn(int64_t now, bool publisher_ok);

/* Once a second in every worker: hands the second's histogram over. */
void load_worker_tick(struct load_worker *w);

/* Total deliveries so far, over every worker. */
uint64_t load_received_total(void);

/* ------------------------------------------------------- reporting --- */

/* The progress line (stderr) of the second that just ended. Parent only. */
void load_progress(int64_t now, int64_t t0);

/* The JSON summary to stdout (and --json FILE) after every worker has
 * exited. cpu_s: user+system seconds of all workers. */
void load_report(double cpu_s);

#endif
