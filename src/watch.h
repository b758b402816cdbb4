/* watch: notices when the web server gives up a held request — it closes
 * the FastCGI connection of a parked connect when its client resets — so the
 * held connect is released at once instead of at its timeout, and what is
 * published meanwhile waits in the session's queue rather than going into a
 * reply nobody will read.
 *
 * Threads: one watcher thread (epoll); accept threads add entries; whichever
 * thread completes a request removes its entry. `watch.lock` (watch.c)
 * guards the token map and every entry's `done`; it is a leaf lock.
 *
 * Ownership: an entry lives inside the transport's connection. It is in the
 * map from watch_add until watch_done or until its hang-up is seen; the
 * watcher touches an entry only under the lock while it is in the map, so
 * the owner may free it right after watch_done returns.
 */
#ifndef BAYEUX_WATCH_H
#define BAYEUX_WATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct watch_entry {
    uint64_t token;        /* map key, unique per watch_add; 0 = never added */
    int fd;
    bool done;             /* watch_done was called; watch.lock */
    atomic_bool dead;      /* the peer closed or sent something */
};

/* Starts the watcher thread; on_dead() is called from it (no locks held)
 * after one or more entries were found dead. Returns 0 or -1 (errno). */
int watch_start(void (*on_dead)(void));
void watch_stop(void);

/* Watches fd for a hang-up unless watch_done already ran for w. */
void watch_add(struct watch_entry *w, int fd);

/* Stops watching w (before its fd is closed). Safe when never added. */
void watch_done(struct watch_entry *w);

static inline bool watch_dead(struct watch_entry *w)
{
    return atomic_load_explicit(&w->dead, memory_order_acquire);
}

#endif
