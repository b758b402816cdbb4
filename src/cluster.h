/* cluster: what this responder knows of the other responders' chat members
 * (learnt through the Redis backplane) and whether those responders live.
 *
 * Threads: only the backplane's subscriber thread calls the cluster_on_*
 * and cluster_tick functions, so the node table has one writer and no lock;
 * cluster_status_json reads two atomic counters from any thread.
 * Owns: one entry set per other responder ("node"), each entry the string
 * "<room>\n<user>" of one of its members. Changes reach the chat rooms
 * through chat_remote_apply, in the order they happened on that node.
 *
 * Consistency: every node keeps its members in a Redis hash, with a change
 * counter "#seq" written by the same command as each join (and after each
 * leave), and announces every change with that counter. A node applies a
 * change that follows the last one it has; anything else (a gap, a node it
 * has not seen, a heartbeat carrying a newer counter) makes it load that
 * node's hash again, which already holds every announced change.
 */
#ifndef BAYEUX_CLUSTER_H
#define BAYEUX_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "session.h"

#define CLUSTER_HEARTBEAT_MS 1000    /* every node says it lives this often */
#define CLUSTER_NODE_TTL_MS 5000     /* a node not heard from this long is dead */
#define CLUSTER_KEY_TTL_MS 10000     /* a dead node's hash leaves Redis after this */

/* One member of another node: "<room>\n<user>" and its browser id ("" when
 * unknown). */
struct cluster_member {
    char *key;
    char browser[SESSION_ID_LEN + 1];
};

/* Loads a node's hash: sets *seq (0 when it has none) and *v to a heap
 * array of *n members with heap keys, all owned by the caller. Returns 0,
 * or -1 when Redis could not be asked (retried later). */
typedef int (*cluster_load_fn)(const char *node, uint64_t *seq, struct cluster_member **v,
                               size_t *n);

/* Before the subscriber thread starts. */
void cluster_init(cluster_load_fn load);
/* After it stopped: forgets every node (the chat rooms are freed apart). */
void cluster_shutdown(void);

/* Node `node` announced change `seq`: `key` joined (from `browser`, "" when
 * unknown) or left. */
void cluster_on_change(const char *node, uint64_t seq, const char *key, const char *browser,
                       bool join, int64_t now_ms);
/* Node `node` lives; its last announced change is `seq`. */
void cluster_on_heartbeat(const char *node, uint64_t seq, int64_t now_ms);
/* Node `node` stopped: its members leave now. */
void cluster_on_bye(const char *node);
/* Drops the nodes not heard from for CLUSTER_NODE_TTL_MS; returns how many. */
size_t cluster_tick(int64_t now_ms);

/* Appends "\"nodes\":N,\"remote_members\":M" (the other live responders
 * and their members). */
void cluster_status_json(buf_t *out);
/* The same two figures, for the Prometheus format. */
void cluster_counts(size_t *nodes, size_t *remote_members);

#endif
