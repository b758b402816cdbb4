/* chat_client: a client of the protocol engine in process, for the unit
 * suites of the chat service: post a batch, make a session, drain its
 * queue, join a room. One reply buffer, reused by every call.
 */
#ifndef BAYEUX_TESTS_CHAT_CLIENT_H
#define BAYEUX_TESTS_CHAT_CLIENT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bayeux.h"
#include "chat.h"
#include "config.h"
#include "fake_conn.h"
#include "poll.h"
#include "session.h"
#include "unit.h"

static struct bayeux_reply reply;

static const char *post(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *post(const char *fmt, ...)
{
    static char body[2048];
    static struct fake_conn conn;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    bayeux_reply_release(&reply);
    struct http_request req = { .method = "POST", .body = body, .body_len = strlen(body) };
    bayeux_handle(&req, &conn, &reply);
    CU_ASSERT_FALSE(reply.parked);
    return reply.body ? reply.body : "";
}

/* A connected session: handshake, first connect, subscriptions. */
static void client(char *id, const char *subs)
{
    const char *r = post("[{\"channel\":\"/meta/handshake\"}]");
    const char *at = strstr(r, "\"clientId\":\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    snprintf(id, SESSION_ID_LEN + 1, "%.32s", at + 12);
    post("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\"}]", id);
    if (subs)
        post("[{\"channel\":\"/meta/subscribe\",\"clientId\":\"%s\",\"subscription\":%s}]", id, subs);
}

/* What a connect would return to this session now (its queue, drained). */
static const char *drain(const char *id)
{
    return post("[{\"channel\":\"/meta/connect\",\"clientId\":\"%s\",\"advice\":{\"timeout\":0}}]", id);
}

static const char *join(const char *id, const char *user, const char *room)
{
    return post("[{\"channel\":\"/service/members\",\"clientId\":\"%s\",\"data\":{\"user\":\"%s\",\"room\":\"%s\"}}]",
                id, user, room);
}

/* Defaults, the poll registry on the fake connection, and the chat
 * services (registered once per process). */
static void chat_client_setup(void)
{
    static bool once;
    config_defaults(&config);
    poll_registry_init(fake_complete, fake_dead);
    if (!once) {
        chat_init();
        once = true;
    }
}

#endif
