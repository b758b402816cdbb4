/* dict: two small hash containers used by the tables — a string-keyed map
 * (dict_t) and a set of pointers (ptrset_t).
 *
 * Threads: none of their own; every instance is guarded by the lock of the
 * table that embeds it (see session.c, channel.c).
 * Ownership: a dict stores the key pointer it is given (the key must live as
 * long as its entry, normally inside the value); it owns only its nodes.
 */
#ifndef BAYEUX_DICT_H
#define BAYEUX_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dict_node {
    struct dict_node *next;
    uint64_t hash;
    const char *key;
    void *value;
} dict_node_t;

typedef struct dict {
    dict_node_t **buckets;
    size_t nbuckets;   /* power of two, 0 before first insert */
    size_t count;
} dict_t;

uint64_t dict_hash(const char *s);
void *dict_get(const dict_t *d, const char *key);
/* Inserts key -> value; the key must not be present. */
void dict_put(dict_t *d, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *dict_remove(dict_t *d, const char *key);
/* Calls fn for every entry; fn must not change d. */
void dict_each(const dict_t *d, void (*fn)(void *value, void *ctx), void *ctx);
void dict_release(dict_t *d);

typedef struct ptrset {
    void **slots;      /* open addressing, linear probing, NULL = empty */
    size_t cap;        /* power of two, 0 before first insert */
    size_t count;
} ptrset_t;

/* Returns true if p was added, false if it was already there. */
bool ptrset_add(ptrset_t *s, void *p);
/* Returns true if p was removed. */
bool ptrset_remove(ptrset_t *s, void *p);
bool ptrset_has(const ptrset_t *s, const void *p);
/* Iteration: for (size_t i = 0; i < s->cap; i++) if (s->slots[i]) ... */
void ptrset_release(ptrset_t *s);

#endif
