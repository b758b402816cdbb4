/* sweeper: periodic poll timeouts and session expiry.
 *
 * Threads: the sweeper thread runs sweep(); main starts and stops it.
 * Lock: `sw.lock` guards `sw.stop` and pairs with `sw.wake` so that stopping
 * does not wait for a full period.
 */
#include "sweeper.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "poll.h"
#include "session.h"
#include "stats.h"

/* Sessions are scanned less often than polls: expiry needs no sub-second
 * precision and the scan walks the whole table. */
#define EXPIRY_EVERY_MS 250

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;               /* guarded by lock */
    pthread_t thread;
    bool running;            /* main thread only */
} sw = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *sweep(void *arg)
{
    (void)arg;
    int64_t next_expiry = 0;
    pthread_mutex_lock(&sw.lock);
    while (!sw.stop) {
        struct timespec until = poll_deadline(CLOCK_MONOTONIC, config.sweep_ms);
        pthread_cond_timedwait(&sw.wake, &sw.lock, &until);
        if (sw.stop)
            break;
        pthread_mutex_unlock(&sw.lock);

        int64_t now = poll_now_ms();
        size_t timed_out = session_expire_polls(now);
        if (timed_out)
            log_debug("%zu held connects timed out", timed_out);
        size_t abandoned = session_release_dead_polls();
        if (abandoned)
            log_debug("%zu held connects given up by the web server", abandoned);
        if (now >= next_expiry) {
            size_t expired = session_expire(now);
            stats_add(STAT_SESSIONS_EXPIRED, expired);
            if (expired)
                log_info("%zu sessions expired (no connect for %ld ms)", expired,
                         config.max_interval_ms);
            next_expiry = now + EXPIRY_EVERY_MS;
        }
        pthread_mutex_lock(&sw.lock);
    }
    pthread_mutex_unlock(&sw.lock);
    return NULL;
}

int sweeper_start(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&sw.wake, &attr);
    pthread_condattr_destroy(&attr);
    sw.stop = false;
    if (pthread_create(&sw.thread, NULL, sweep, NULL) != 0)
        return -1;
    sw.running = true;
    return 0;
}

void sweeper_stop(void)
{
    if (!sw.running)
        return;
    pthread_mutex_lock(&sw.lock);
    sw.stop = true;
    pthread_cond_signal(&sw.wake);
    pthread_mutex_unlock(&sw.lock);
    pthread_join(sw.thread, NULL);
    pthread_cond_destroy(&sw.wake);
    sw.running = false;
}
