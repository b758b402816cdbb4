/* deliver: expand a channel into its matching patterns, collect each
 * subscriber once, queue the shared message bytes, wake held connects.
 *
 * Threads: the publishing thread; see deliver.h for locking.
 */
#include "deliver.h"

#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "channel_name.h"

size_t deliver_publish(const char *channel, message_t *m)
{
    const char *patterns[CHANNEL_COLLECT_MAX];
    char scratch[CHANNEL_COLLECT_MAX * (CHANNEL_NAME_MAX + 4)];
    size_t np = channel_name_expand(channel, patterns, CHANNEL_COLLECT_MAX,
                                    scratch, sizeof scratch);
    session_t **receivers;
    size_t n = channel_collect(patterns, np, &receivers);
    for (size_t i = 0; i < n; i++) {
        session_enqueue(receivers[i], m);
        session_release(receivers[i]);
    }
    free(receivers);
    return n;
}

void deliver_to_session(session_t *s, message_t *m)
{
    session_enqueue(s, m);
}
