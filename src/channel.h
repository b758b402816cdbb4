/* channel: the subscription table — channel -> subscribed sessions and
 * session -> subscribed channels, always changed together in one function.
 * Channels exist only while they have subscribers.
 *
 * Threads: accept threads (subscribe, unsubscribe, publish lookups), the
 * sweeper and main thread (sessions ending).
 * Lock: `channels.lock` (channel.c, rwlock) guards the map, every channel's
 * subscriber set and every session's subs/nsubs/subs_closed. It comes after
 * the session table lock and before any session's own lock.
 */
#ifndef BAYEUX_CHANNEL_H
#define BAYEUX_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "channel_name.h"
#include "session.h"

/* most patterns a channel name expands to (see channel_name_expand) */
#define CHANNEL_COLLECT_MAX (CHANNEL_DEPTH_MAX + 2)

void channel_table_init(void);
void channel_table_shutdown(void);

enum {
    CHANNEL_SUB_ENDING = -1,   /* the session is ending */
    CHANNEL_SUB_LIMIT = -2     /* the session would hold more than max patterns */
};

/* Subscribes s to every one of patterns (valid, broadcast kind), all or
 * none: returns 0 (also for patterns already subscribed), or
 * CHANNEL_SUB_ENDING / CHANNEL_SUB_LIMIT with nothing changed. */
int channel_subscribe(session_t *s, const char *const *patterns, size_t n, size_t max);

/* Unsubscribes s from pattern; returns 0 (also when not subscribed). */
int channel_unsubscribe(session_t *s, const char *pattern);

/* Removes every subscription of s and refuses new ones. */
void channel_unsubscribe_all(session_t *s);

/* Collects, once each, every session subscribed to any of the patterns.
 * Returns the count; *out (caller frees) holds a reference to each session. */
size_t channel_collect(const char *const *patterns, size_t n, session_t ***out);

/* Number of channels with at least one subscriber. */
size_t channel_count(void);

#endif
