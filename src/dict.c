/* dict: chained string map and open-addressing pointer set.
 *
 * Threads: callers hold the lock of the owning table.
 */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

uint64_t dict_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void dict_grow(dict_t *d)
{
    size_t n = d->nbuckets ? d->nbuckets * 2 : 64;
    dict_node_t **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < d->nbuckets; i++) {
        dict_node_t *e = d->buckets[i];
        while (e) {
            dict_node_t *next = e->next;
            size_t j = e->hash & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(d->buckets);
    d->buckets = b;
    d->nbuckets = n;
}

void *dict_get(const dict_t *d, const char *key)
{
    if (!d->nbuckets)
        return NULL;
    uint64_t h = dict_hash(key);
    for (dict_node_t *e = d->buckets[h & (d->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e->value;
    return NULL;
}

void dict_put(dict_t *d, const char *key, void *value)
{
    if (d->count >= d->nbuckets)
        dict_grow(d);
    dict_node_t *e = xmalloc(sizeof *e);
    e->hash = dict_hash(key);
    e->key = key;
    e->value = value;
    size_t i = e->hash & (d->nbuckets - 1);
    e->next = d->buckets[i];
    d->buckets[i] = e;
    d->count++;
}

void *dict_remove(dict_t *d, const char *key)
{
    if (!d->nbuckets)
        return NULL;
    uint64_t h = dict_hash(key);
    for (dict_node_t **pp = &d->buckets[h & (d->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
        dict_node_t *e = *pp;
        if (e->hash == h && strcmp(e->key, key) == 0) {
            void *v = e->value;
            *pp = e->next;
            free(e);
            d->count--;
            return v;
        }
    }
    return NULL;
}

void dict_each(const dict_t *d, void (*fn)(void *value, void *ctx), void *ctx)
{
    for (size_t i = 0; i < d->nbuckets; i++)
        for (dict_node_t *e = d->buckets[i]; e; e = e->next)
            fn(e->value, ctx);
}

void dict_release(dict_t *d)
{
    for (size_t i = 0; i < d->nbuckets; i++) {
        dict_node_t *e = d->buckets[i];
        while (e) {
            dict_node_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(d->buckets);
    memset(d, 0, sizeof *d);
}

static size_t ptr_slot(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static void ptrset_resize(ptrset_t *s, size_t cap)
{
    void **old = s->slots;
    size_t oldcap = s->cap;
    s->slots = xcalloc(cap, sizeof *s->slots);
    s->cap = cap;
    s->count = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            ptrset_add(s, old[i]);
    free(old);
}

bool ptrset_add(ptrset_t *s, void *p)
{
    if ((s->count + 1) * 4 > s->cap * 3)   /* keep load under 3/4 */
        ptrset_resize(s, s->cap ? s->cap * 2 : 8);
    size_t i = ptr_slot(p, s->cap);
    while (s->slots[i]) {
        if (s->slots[i] == p)
            return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = p;
    s->count++;
    return true;
}

bool ptrset_has(const ptrset_t *s, const void *p)
{
    if (!s->cap)
        return false;
    size_t i = ptr_slot(p, s->cap);
    while (s->slots[i]) {
        if (s->slots[i] == p)
            return true;
        i = (i + 1) & (s->cap - 1);
    }
    return false;
}

bool ptrset_remove(ptrset_t *s, void *p)
{
    if (!s->cap)
        return false;
    size_t i = ptr_slot(p, s->cap);
    while (s->slots[i] && s->slots[i] != p)
        i = (i + 1) & (s->cap - 1);
    if (!s->slots[i])
        return false;
    /* backward-shift deletion keeps probe chains intact without tombstones */
    size_t j = i;
    for (;;) {
        s->slots[i] = NULL;
        for (;;) {
            j = (j + 1) & (s->cap - 1);
            if (!s->slots[j])
                goto done;
            size_t k = ptr_slot(s->slots[j], s->cap);
            /* move slots[j] into the hole at i unless its home k lies in (i, j] */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        s->slots[i] = s->slots[j];
        i = j;
    }
done:
    s->count--;
    if (s->count == 0) {
        free(s->slots);
        s->slots = NULL;
        s->cap = 0;
    }
    return true;
}

void ptrset_release(ptrset_t *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}
