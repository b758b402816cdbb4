/* channel_name: pure functions on Bayeux channel names — validate, classify,
 * expand a name into the wildcard patterns that match it, match a pattern.
 *
 * Threads: any; no state.
 */
#ifndef BAYEUX_CHANNEL_NAME_H
#define BAYEUX_CHANNEL_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define CHANNEL_NAME_MAX 256     /* longest name accepted, in bytes */
#define CHANNEL_DEPTH_MAX 32     /* most segments accepted */

enum channel_kind {
    CHANNEL_INVALID = 0,
    CHANNEL_META,       /* /meta/...: protocol only, never broadcast */
    CHANNEL_SERVICE,    /* /service/...: server-side handlers only */
    CHANNEL_BROADCAST   /* everything else */
};

enum channel_wild {
    CHANNEL_WILD_NONE = 0,
    CHANNEL_WILD_ONE,   /* last segment "*": one level below */
    CHANNEL_WILD_DEEP   /* last segment "**": every level below */
};

/* Checks the grammar /seg(/seg)*, segments of [A-Za-z0-9-_!~()$@.]+, and, when
 * allow_wild is true, a final segment "*" or "**". Returns the kind, or
 * CHANNEL_INVALID. *wild (may be NULL) receives the wildcard form. */
enum channel_kind channel_name_check(const char *name, bool allow_wild, enum channel_wild *wild);

/* Writes into out[] every subscription pattern that matches the concrete
 * (non-wildcard, valid) channel `name`: the name itself, its parent with a one-level
 * wildcard, and the deep wildcard ("**") forms of every ancestor, most
 * specific first. Patterns are stored
 * in `scratch`, which needs (CHANNEL_DEPTH_MAX + 2) * (strlen(name) + 4)
 * bytes for every pattern to fit. Returns the count. */
size_t channel_name_expand(const char *name, const char **out, size_t max_out,
                           char *scratch, size_t scratch_len);

/* True when subscription `pattern` (valid, maybe wildcard) matches the
 * concrete channel `name`. */
bool channel_name_matches(const char *pattern, const char *name);

#endif
