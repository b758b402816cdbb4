/* message: a published message, serialized to JSON once, immutable and
 * reference-counted so every receiving session shares the same bytes.
 *
 * Threads: created by the publishing thread, then shared by any thread that
 * holds a reference; the bytes never change after message_create.
 */
#ifndef BAYEUX_MESSAGE_H
#define BAYEUX_MESSAGE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct message {
    atomic_int refs;
    int64_t created_ms;   /* monotonic (poll_now_ms): delivery latency counts from here */
    size_t len;
    char json[];     /* `len` bytes of one JSON object, NUL-terminated */
} message_t;

/* Builds {"channel":<channel>,"data":<data_json>[,"id":<id>]} where data_json
 * is already-serialized JSON and id may be NULL. Returns a message holding
 * one reference, owned by the caller. */
message_t *message_create(const char *channel, const char *data_json, size_t data_len,
                          const char *id);

/* Wraps already-complete JSON object bytes. One reference, owned by the caller. */
message_t *message_create_raw(const char *json, size_t len);

message_t *message_ref(message_t *m);
void message_release(message_t *m);

#endif
