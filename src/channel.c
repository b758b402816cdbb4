/* channel: two indexes kept in step — channel -> sessions, session -> channels.
 *
 * Threads and lock: see channel.h. Every change to a subscription happens in
 * subscription_add / subscription_del, under the write lock, so the two
 * indexes never disagree; a channel left without subscribers is freed at once.
 */
#include "channel.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"

struct channel {
    char *name;
    ptrset_t subscribers;   /* session_t*, no references: a session leaves every
                               channel (channel_unsubscribe_all) before it is freed */
};

static struct {
    pthread_rwlock_t lock;
    dict_t map;             /* name -> struct channel* */
} channels = { .lock = PTHREAD_RWLOCK_INITIALIZER };

void channel_table_init(void)
{
}

static void channel_free(void *value, void *ctx)
{
    (void)ctx;
    struct channel *c = value;
    ptrset_release(&c->subscribers);
    free(c->name);
    free(c);
}

void channel_table_shutdown(void)
{
    pthread_rwlock_wrlock(&channels.lock);
    dict_each(&channels.map, channel_free, NULL);
    dict_release(&channels.map);
    pthread_rwlock_unlock(&channels.lock);
}

/* ------------------------------------------------ the two indexes --- */

/* Adds s to channel `name` and the channel to s. Write lock held. */
static void subscription_add(session_t *s, const char *name)
{
    struct channel *c = dict_get(&channels.map, name);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        c->name = xstrdup(name);
        dict_put(&channels.map, c->name, c);
    }
    if (!ptrset_add(&c->subscribers, s))
        return;   /* already subscribed */
    if (s->nsubs == s->subs_cap) {
        s->subs_cap = s->subs_cap ? s->subs_cap * 2 : 4;
        s->subs = xrealloc(s->subs, s->subs_cap * sizeof *s->subs);
    }
    s->subs[s->nsubs++] = c;
}

/* Removes s from channel c and c from s; frees c when empty. Write lock held. */
static void subscription_del(session_t *s, struct channel *c)
{
    if (!ptrset_remove(&c->subscribers, s))
        return;
    for (size_t i = 0; i < s->nsubs; i++) {
        if (s->subs[i] == c) {
            s->subs[i] = s->subs[--s->nsubs];
            break;
        }
    }
    if (c->subscribers.count == 0) {
        dict_remove(&channels.map, c->name);
        channel_free(c, NULL);
    }
}

/* ------------------------------------------------------- public API --- */

/* True when s is subscribed to channel `name`. Lock held. */
static bool subscribed(session_t *s, const char *name)
{
    struct channel *c = dict_get(&channels.map, name);
    return c && ptrset_has(&c->subscribers, s);
}

int channel_subscribe(session_t *s, const char *const *patterns, size_t n, size_t max)
{
    int rc = 0;
    pthread_rwlock_wrlock(&channels.lock);
    if (s->subs_closed) {
        rc = CHANNEL_SUB_ENDING;
    } else {
        /* count what is new (a pattern may repeat within the request) first */
        size_t fresh = 0;
        dict_t seen = { 0 };
        for (size_t i = 0; i < n && s->nsubs + fresh <= max; i++) {
            if (subscribed(s, patterns[i]) || dict_get(&seen, patterns[i]))
                continue;
            dict_put(&seen, patterns[i], (void *)patterns[i]);
            fresh++;
        }
        dict_release(&seen);
        if (s->nsubs + fresh > max)
            rc = CHANNEL_SUB_LIMIT;
        else
            for (size_t i = 0; i < n; i++)
                subscription_add(s, patterns[i]);
    }
    pthread_rwlock_unlock(&channels.lock);
    return rc;
}

int channel_unsubscribe(session_t *s, const char *pattern)
{
    pthread_rwlock_wrlock(&channels.lock);
    struct channel *c = dict_get(&channels.map, pattern);
    if (c)
        subscription_del(s, c);
    pthread_rwlock_unlock(&channels.lock);
    return 0;
}

void channel_unsubscribe_all(session_t *s)
{
    pthread_rwlock_wrlock(&channels.lock);
    s->subs_closed = true;
    while (s->nsubs > 0)
        subscription_del(s, s->subs[s->nsubs - 1]);
    free(s->subs);
    s->subs = NULL;
    s->subs_cap = 0;
    pthread_rwlock_unlock(&channels.lock);
}

size_t channel_collect(const char *const *patterns, size_t n, session_t ***out)
{
    struct channel *found[CHANNEL_COLLECT_MAX];
    size_t nfound = 0, total = 0;
    session_t **v = NULL;
    size_t count = 0;

    pthread_rwlock_rdlock(&channels.lock);
    for (size_t i = 0; i < n && nfound < CHANNEL_COLLECT_MAX; i++) {
        struct channel *c = dict_get(&channels.map, patterns[i]);
        if (c) {
            found[nfound++] = c;
            total += c->subscribers.count;
        }
    }
    if (total) {
        v = xmalloc(total * sizeof *v);
        /* one matching channel needs no de-duplication; several do, since a
         * session subscribed through two patterns must get the message once */
        ptrset_t seen = { 0 };
        for (size_t i = 0; i < nfound; i++) {
            ptrset_t *subs = &found[i]->subscribers;
            for (size_t j = 0; j < subs->cap; j++) {
                session_t *s = subs->slots[j];
                if (!s)
                    continue;
                if (nfound > 1 && !ptrset_add(&seen, s))
                    continue;
                v[count++] = session_ref(s);
            }
        }
        ptrset_release(&seen);
    }
    pthread_rwlock_unlock(&channels.lock);
    *out = v;
    return count;
}

size_t channel_count(void)
{
    pthread_rwlock_rdlock(&channels.lock);
    size_t n = channels.map.count;
    pthread_rwlock_unlock(&channels.lock);
    return n;
}
