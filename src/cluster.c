/* cluster: the other responders' chat members, kept in step through their
 * announced changes, reloaded from Redis when a change was missed, dropped
 * when a node falls silent.
 *
 * Threads and consistency: see cluster.h. Every function here runs on the
 * backplane's subscriber thread (or a unit test's one thread).
 */
#include "cluster.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "dict.h"
#include "log.h"
#include "session.h"

struct node {
    char id[SESSION_ID_LEN + 1];
    dict_t entries;       /* "<room>\n<user>" -> struct cluster_member* */
    uint64_t seq;         /* the node's last change reflected in entries */
    bool synced;          /* entries were loaded once; events may follow */
    int64_t heard_ms;     /* when anything of it arrived last */
};

static struct {
    dict_t nodes;                 /* node id -> struct node* */
    cluster_load_fn load;
    atomic_size_t node_count, member_count;
} cl;

/* ------------------------------------------------------------ changes --- */

/* Changes collected while the node table changes, applied to the rooms at
 * the end; keys that left are freed after that. */
struct changes {
    struct chat_change *v;
    size_t n, cap;
    struct cluster_member **gone;
    size_t ngone, capgone;
};

static void changes_add(struct changes *c, const struct cluster_member *e, bool join)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = (struct chat_change){ .key = e->key, .browser = e->browser, .join = join };
}

static void member_free(struct cluster_member *e)
{
    free(e->key);
    free(e);
}

static void changes_free_later(struct changes *c, struct cluster_member *key)
{
    if (c->ngone == c->capgone) {
        c->capgone = c->capgone ? c->capgone * 2 : 16;
        c->gone = xrealloc(c->gone, c->capgone * sizeof *c->gone);
    }
    c->gone[c->ngone++] = key;
}

static void changes_apply(struct changes *c)
{
    if (c->n)
        chat_remote_apply(c->v, c->n);
    for (size_t i = 0; i < c->ngone; i++)
        member_free(c->gone[i]);
    free(c->v);
    free(c->gone);
    *c = (struct changes){ 0 };
}

/* Adds key to n (a copy); records the change unless it was there. */
static void entry_add(struct node *n, const char *key, const char *browser, struct changes *c)
{
    if (dict_get(&n->entries, key))
        return;
    struct cluster_member *e = xcalloc(1, sizeof *e);
    e->key = xstrdup(key);
    snprintf(e->browser, sizeof e->browser, "%s", browser);
    dict_put(&n->entries, e->key, e);
    atomic_fetch_add(&cl.member_count, 1);
    changes_add(c, e, true);
}

static void entry_del(struct node *n, const char *key, struct changes *c)
{
    struct cluster_member *e = dict_remove(&n->entries, key);
    if (!e)
        return;
    atomic_fetch_sub(&cl.member_count, 1);
    changes_add(c, e, false);
    changes_free_later(c, e);
}

/* --------------------------------------------------------------- nodes --- */

static struct node *node_get(const char *id, int64_t now_ms)
{
    struct node *n = dict_get(&cl.nodes, id);
    if (!n) {
        n = xcalloc(1, sizeof *n);
        snprintf(n->id, sizeof n->id, "%s", id);
        dict_put(&cl.nodes, n->id, n);
        atomic_fetch_add(&cl.node_count, 1);
        log_info("redis: responder %.8s... joined the chat", n->id);
    }
    n->heard_ms = now_ms;
    return n;
}

struct stale_ctx {
    const dict_t *keep;
    const char **keys;
    size_t n;
};

static void collect_stale(void *value, void *ctx)
{
    struct stale_ctx *s = ctx;
    const char *key = ((struct cluster_member *)value)->key;
    if (!s->keep || !dict_get(s->keep, key))
        s->keys[s->n++] = key;
}

/* Removes from n every entry not in keep (every one when keep is NULL),
 * recording the leaves in c. */
static void entries_keep_only(struct node *n, const dict_t *keep, struct changes *c)
{
    struct stale_ctx s = { keep, xmalloc((n->entries.count + 1) * sizeof(char *)), 0 };
    dict_each(&n->entries, collect_stale, &s);
    for (size_t i = 0; i < s.n; i++)
        entry_del(n, s.keys[i], c);
    free(s.keys);
}

/* Replaces n's entries with what its Redis hash holds now. On failure n
 * stays unsynced and the next heartbeat tries again. */
static void node_load(struct node *n)
{
    uint64_t seq = 0;
    struct cluster_member *v = NULL;
    size_t k = 0;
    if (cl.load(n->id, &seq, &v, &k) < 0) {
        n->synced = false;
        return;
    }
    dict_t fresh = { 0 };
    for (size_t i = 0; i < k; i++)
        if (!dict_get(&fresh, v[i].key))
            dict_put(&fresh, v[i].key, &v[i]);
    struct changes c = { 0 };
    entries_keep_only(n, &fresh, &c);
    for (size_t i = 0; i < k; i++)
        entry_add(n, v[i].key, v[i].browser, &c);
    n->seq = seq;
    n->synced = true;
    dict_release(&fresh);
    changes_apply(&c);
    for (size_t i = 0; i < k; i++)
        free(v[i].key);
    free(v);
}

/* Removes n: its members leave the rooms. */
static void node_drop(struct node *n)
{
    struct changes c = { 0 };
    entries_keep_only(n, NULL, &c);
    dict_remove(&cl.nodes, n->id);
    atomic_fetch_sub(&cl.node_count, 1);
    dict_release(&n->entries);
    free(n);
    changes_apply(&c);
}

/* -------------------------------------------------------------- events --- */

void cluster_on_change(const char *id, uint64_t seq, const char *key, const char *browser,
                       bool join, int64_t now_ms)
{
    struct node *n = node_get(id, now_ms);
    if (!n->synced || seq > n->seq + 1) {
        /* first word of this node, or changes were missed: the hash has
         * this change already (written before it was announced) */
        node_load(n);
        return;
    }
    if (seq <= n->seq)
        return;               /* in the hash when it was loaded */
    n->seq = seq;
    struct changes c = { 0 };
    if (join)
        entry_add(n, key, browser, &c);
    else
        entry_del(n, key, &c);
    changes_apply(&c);
}

void cluster_on_heartbeat(const char *id, uint64_t seq, int64_t now_ms)
{
    struct node *n = node_get(id, now_ms);
    if (!n->synced || seq > n->seq)
        node_load(n);
}

void cluster_on_bye(const char *id)
{
    struct node *n = dict_get(&cl.nodes, id);
    if (n) {
        log_info("redis: responder %.8s... stopped: its %zu members left", n->id, n->entries.count);
        node_drop(n);
    }
}

struct silent_ctx {
    int64_t now_ms;
    struct node **v;
    size_t n;
};

static void collect_silent(void *value, void *ctx)
{
    struct silent_ctx *s = ctx;
    struct node *n = value;
    if (s->now_ms - n->heard_ms > CLUSTER_NODE_TTL_MS)
        s->v[s->n++] = n;
}

size_t cluster_tick(int64_t now_ms)
{
    struct silent_ctx s = { now_ms, xmalloc((cl.nodes.count + 1) * sizeof(struct node *)), 0 };
    dict_each(&cl.nodes, collect_silent, &s);
    for (size_t i = 0; i < s.n; i++) {
        log_warn("redis: responder %.8s... silent for %lld ms: its %zu members left", s.v[i]->id,
                 (long long)(now_ms - s.v[i]->heard_ms), s.v[i]->entries.count);
        node_drop(s.v[i]);
    }
    free(s.v);
    return s.n;
}

/* ------------------------------------------------------------ lifetime --- */

void cluster_init(cluster_load_fn load)
{
    cl.load = load;
}

static void free_entry(void *value, void *ctx)
{
    (void)ctx;
    member_free(value);
}

static void free_node(void *value, void *ctx)
{
    (void)ctx;
    struct node *n = value;
    dict_each(&n->entries, free_entry, NULL);
    dict_release(&n->entries);
    free(n);
}

void cluster_shutdown(void)
{
    dict_each(&cl.nodes, free_node, NULL);
    dict_release(&cl.nodes);
    atomic_store(&cl.node_count, 0);
    atomic_store(&cl.member_count, 0);
}

void cluster_counts(size_t *nodes, size_t *remote_members)
{
    *nodes = atomic_load(&cl.node_count);
    *remote_members = atomic_load(&cl.member_count);
}

void cluster_status_json(buf_t *out)
{
    size_t nodes, members;
    cluster_counts(&nodes, &members);
    buf_printf(out, "\"nodes\":%zu,\"remote_members\":%zu", nodes, members);
}
