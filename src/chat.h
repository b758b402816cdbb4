/* chat: the chat rooms — who is in which room under which name, member
 * lists, join/leave notices, private messages, the room list — built on the
 * /service handler and publish-filter API (service.h).
 *
 * Threads: handlers and the chat filter run on accept threads; the session
 * end listener on whichever thread ends a session (accept, sweeper, main).
 * Lock: `chat.lock` (chat.c) guards both indexes (room -> name -> member,
 * session -> its members). It is never held while calling into the session,
 * channel or poll modules: broadcasts are built under it and sent after.
 */
#ifndef BAYEUX_CHAT_H
#define BAYEUX_CHAT_H

#include <stddef.h>

#include "buf.h"
#include "session.h"

#define CHAT_USER_MAX_CHARS 32
#define CHAT_TEXT_MAX_BYTES 2000
#define CHAT_ROOM_MAX 64

/* Registers /service/members, /service/privatechat, /service/rooms, the
 * /chat/<room> filter and the session end listener. Before threads start. */
void chat_init(void);
/* Frees the tables (after every session has ended). */
void chat_shutdown(void);

/* Validation, exposed for tests: true when acceptable. */
bool chat_user_valid(const char *user);
bool chat_text_valid(const char *text);
/* Writes the bare room name of `room` ("demo" or "/chat/demo") into out
 * (CHAT_ROOM_MAX + 1 bytes); returns false when invalid. */
bool chat_room_parse(const char *room, char *out);

/* ------------------------------------------------ other responders --- */

/* One member of another responder joined (or left): key "<room>\n<user>",
 * with the member's browser id ("" when unknown). */
struct chat_change {
    const char *key;
    const char *browser;
    bool join;
};

/* Applies other responders' changes, in order (cluster.c, subscriber
 * thread): the member lists count each name once; a name that appears or
 * vanishes in a room gets the join/leave notice; every touched room's list,
 * and the room list, go out once at the end. */
void chat_remote_apply(const struct chat_change *v, size_t n);
/* A private message another responder routed here: delivers the message
 * JSON (len bytes) to this responder's members of `room` named in `peers`
 * (names separated by tabs). */
void chat_remote_private(const char *room, const char *peers, const char *json, size_t len);
/* Calls each() for every member of this responder, then end(), all under
 * the chat lock: no join or leave comes between them (the backplane's
 * snapshot at every connect). Lock order: chat lock, then the backplane's. */
void chat_local_members(void (*each)(const char *room, const char *user, const char *browser,
                                     void *ctx),
                        void (*end)(void *ctx), void *ctx);

/* Members of a room, for tests: returns the count and writes the sorted
 * names as a JSON array into out (may be NULL). */
size_t chat_room_members(const char *room, buf_t *out);
size_t chat_room_count(void);
/* Members on this responder, counted once per room they are in. */
size_t chat_member_count(void);

#endif
