/* watch: epoll over the sockets of held requests; a readable or hung-up one
 * is marked dead.
 *
 * Threads and lock: see watch.h. The epoll set and the map change together
 * under `watch.lock`; the watcher thread takes the lock only to resolve the
 * tokens epoll returned, so a token whose entry was removed (completed
 * meanwhile) resolves to nothing and no freed entry is touched.
 *
 * Why tokens and not pointers in epoll data: an event may already be in
 * the watcher's hands when its entry is completed and freed, and a new entry
 * may be allocated at the same address; a token is never reused.
 */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define EVENTS_MAX 256

static struct {
    pthread_mutex_t lock;        /* guards the map, next_token, entries' done */
    struct watch_entry **slots;  /* open addressing by token, linear probing */
    size_t cap, count;
    uint64_t next_token;
    int epfd;
    int stop_pipe[2];            /* written to stop the watcher */
    pthread_t thread;
    bool running;
    void (*on_dead)(void);
} watch = { .lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .stop_pipe = { -1, -1 } };

/* ------------------------------------------------------- token map --- */

static size_t slot_of(uint64_t token, size_t cap)
{
    return (size_t)(token * 0x9E3779B97F4A7C15ULL) & (cap - 1);
}

static void map_insert(struct watch_entry *w);

static void map_grow(void)
{
    struct watch_entry **old = watch.slots;
    size_t old_cap = watch.cap;
    watch.cap = old_cap ? old_cap * 2 : 1024;
    watch.slots = xcalloc(watch.cap, sizeof *watch.slots);
    watch.count = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            map_insert(old[i]);
    free(old);
}

static void map_insert(struct watch_entry *w)
{
    if ((watch.count + 1) * 2 > watch.cap)
        map_grow();
    size_t i = slot_of(w->token, watch.cap);
    while (watch.slots[i])
        i = (i + 1) & (watch.cap - 1);
    watch.slots[i] = w;
    watch.count++;
}

static struct watch_entry *map_find(uint64_t token, size_t *at)
{
    if (!watch.cap)
        return NULL;
    for (size_t i = slot_of(token, watch.cap); watch.slots[i]; i = (i + 1) & (watch.cap - 1)) {
        if (watch.slots[i]->token == token) {
            *at = i;
            return watch.slots[i];
        }
    }
    return NULL;
}

/* Removes the slot at i, moving later entries of its probe run back. */
static void map_remove_at(size_t i)
{
    watch.slots[i] = NULL;
    watch.count--;
    for (size_t j = (i + 1) & (watch.cap - 1); watch.slots[j]; j = (j + 1) & (watch.cap - 1)) {
        struct watch_entry *w = watch.slots[j];
        watch.slots[j] = NULL;
        watch.count--;
        map_insert(w);
    }
}

/* Removes w from the map and the epoll set if it is there. Lock held. */
static void forget(struct watch_entry *w)
{
    size_t at;
    if (w->token && map_find(w->token, &at) == w) {
        map_remove_at(at);
        epoll_ctl(watch.epfd, EPOLL_CTL_DEL, w->fd, NULL);
    }
}

/* ---------------------------------------------------------- entries --- */

void watch_add(struct watch_entry *w, int fd)
{
    pthread_mutex_lock(&watch.lock);
    if (!w->done && watch.epfd >= 0) {
        w->token = ++watch.next_token;
        w->fd = fd;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = w->token };
        if (epoll_ctl(watch.epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
            map_insert(w);
        else
            log_warn("cannot watch a held request: %s", strerror(errno));
    }
    pthread_mutex_unlock(&watch.lock);
}

void watch_done(struct watch_entry *w)
{
    pthread_mutex_lock(&watch.lock);
    w->done = true;
    forget(w);
    pthread_mutex_unlock(&watch.lock);
}

/* ---------------------------------------------------------- watcher --- */

static void *watch_loop(void *arg)
{
    (void)arg;
    struct epoll_event ev[EVENTS_MAX];
    for (;;) {
        int n = epoll_wait(watch.epfd, ev, EVENTS_MAX, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_wait: %s", strerror(errno));
            return NULL;
        }
        size_t dead = 0;
        pthread_mutex_lock(&watch.lock);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == 0) {   /* the stop pipe */
                pthread_mutex_unlock(&watch.lock);
                return NULL;
            }
            size_t at;
            struct watch_entry *w = map_find(ev[i].data.u64, &at);
            if (!w)
                continue;   /* completed meanwhile */
            atomic_store_explicit(&w->dead, true, memory_order_release);
            forget(w);
            dead++;
        }
        pthread_mutex_unlock(&watch.lock);
        if (dead && watch.on_dead)
            watch.on_dead();
    }
}

int watch_start(void (*on_dead)(void))
{
    watch.on_dead = on_dead;
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return -1;
    if (pipe2(watch.stop_pipe, O_CLOEXEC) < 0) {
        close(epfd);
        return -1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
    epoll_ctl(epfd, EPOLL_CTL_ADD, watch.stop_pipe[0], &ev);
    pthread_mutex_lock(&watch.lock);
    watch.epfd = epfd;
    pthread_mutex_unlock(&watch.lock);
    if (pthread_create(&watch.thread, NULL, watch_loop, NULL) != 0)
        return -1;
    watch.running = true;
    return 0;
}

void watch_stop(void)
{
    if (!watch.running)
        return;
    char c = 0;
    if (write(watch.stop_pipe[1], &c, 1) < 0)
        log_warn("cannot stop the watcher: %s", strerror(errno));
    pthread_join(watch.thread, NULL);
    watch.running = false;
    pthread_mutex_lock(&watch.lock);
    close(watch.epfd);
    watch.epfd = -1;
    free(watch.slots);
    watch.slots = NULL;
    watch.cap = watch.count = 0;
    pthread_mutex_unlock(&watch.lock);
    close(watch.stop_pipe[0]);
    close(watch.stop_pipe[1]);
    watch.stop_pipe[0] = watch.stop_pipe[1] = -1;
}
