/* deliver: fan-out of a published message to every session subscribed to a
 * matching channel, each once; answering their held connects.
 *
 * Threads: whichever thread publishes (accept threads, service handlers).
 * Holds no lock of its own: the channel table is read under its lock to
 * collect receivers, then each session is updated under its own lock, and
 * held connects are completed after that, with no lock held.
 */
#ifndef BAYEUX_DELIVER_H
#define BAYEUX_DELIVER_H

#include <stddef.h>

#include "message.h"
#include "session.h"

/* Delivers m (borrowed; receivers take their own references) to the
 * subscribers of the concrete broadcast channel `channel`. Returns how many
 * sessions it was queued for. */
size_t deliver_publish(const char *channel, message_t *m);

/* Delivers m to one session only (service replies, private messages). */
void deliver_to_session(session_t *s, message_t *m);

#endif
