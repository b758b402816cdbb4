/* policy: channel permissions and the table of Bayeux errors.
 *
 * Threads: any; constant data only.
 *
 * Codes follow the Bayeux specification's `code:args:message` form. Where the
 * CometD server has a fixed string (402::session_unknown, 400::channel_missing)
 * it is used as is; clients act on the code and on the advice, not the text.
 */
#include "policy.h"

#include <assert.h>
#include <string.h>

#include "channel_name.h"

static const struct {
    int code;
    const char *message;
} errors[BERR_COUNT_] = {
    [BERR_NONE] = { 0, "" },
    [BERR_VERSION_UNSUPPORTED] = { 300, "version_unsupported" },
    [BERR_CONNECTION_TYPE] = { 301, "connection_type_unsupported" },
    [BERR_CHANNEL_MISSING] = { 400, "channel_missing" },
    [BERR_SUBSCRIPTION_MISSING] = { 400, "subscription_missing" },
    [BERR_DATA_MISSING] = { 400, "data_missing" },
    [BERR_CLIENT_ID_MISSING] = { 402, "client_id_missing" },
    [BERR_SESSION_UNKNOWN] = { 402, "session_unknown" },
    [BERR_PUBLISH_DENIED] = { 403, "publish_denied" },
    [BERR_SUBSCRIBE_DENIED] = { 403, "subscribe_denied" },
    [BERR_CHANNEL_INVALID] = { 405, "channel_invalid" },
    [BERR_CONNECT_REPEATED] = { 400, "connect_repeated" },
    [BERR_INTERNAL] = { 500, "internal_error" },
    [BERR_ROOM_INVALID] = { 400, "room_invalid" },
    [BERR_USER_INVALID] = { 400, "user_invalid" },
    [BERR_CHAT_INVALID] = { 400, "chat_invalid" },
    [BERR_NOT_JOINED] = { 403, "not_joined" },
    [BERR_PEER_UNKNOWN] = { 404, "peer_unknown" },
    [BERR_NAME_TAKEN] = { 409, "name_taken" },
    [BERR_MESSAGE_TOO_LARGE] = { 413, "message_too_large" },
    [BERR_TOO_MANY_SUBSCRIPTIONS] = { 403, "too_many_subscriptions" },
    [BERR_PUBLISH_RATE] = { 429, "publish_rate_exceeded" },
    [BERR_TOO_MANY_SESSIONS] = { 503, "too_many_sessions" },
    [BERR_TOO_MANY_POLLS] = { 503, "too_many_polls" },
    [BERR_HANDSHAKE_DENIED] = { 403, "handshake_denied" },
};

/* Pauses advised when the server is full: long enough for capacity to free
 * up (sessions expire after maxInterval), short enough not to lose users. */
#define FULL_SESSIONS_RETRY_MS 5000
#define FULL_POLLS_RETRY_MS 1000

void policy_error_format(buf_t *out, enum bayeux_error err, const char *args)
{
    assert(err > BERR_NONE && err < BERR_COUNT_);
    buf_printf(out, "%d:", errors[err].code);
    if (args) {
        size_t n = strlen(args);
        if (n > 128) {
            n = 128;
            /* never cut inside a UTF-8 sequence: the reply must stay valid */
            while (n > 0 && ((unsigned char)args[n] & 0xC0) == 0x80)
                n--;
        }
        buf_append(out, args, n);
    }
    buf_putc(out, ':');
    buf_puts(out, errors[err].message);
}

bool policy_error_advice(buf_t *out, enum bayeux_error err)
{
    switch (err) {
    case BERR_SESSION_UNKNOWN:
    case BERR_CLIENT_ID_MISSING:
        buf_puts(out, "{\"reconnect\":\"handshake\",\"interval\":0}");
        return true;
    case BERR_TOO_MANY_SESSIONS:
        buf_printf(out, "{\"reconnect\":\"handshake\",\"interval\":%d}", FULL_SESSIONS_RETRY_MS);
        return true;
    case BERR_TOO_MANY_POLLS:
        buf_printf(out, "{\"reconnect\":\"retry\",\"interval\":%d}", FULL_POLLS_RETRY_MS);
        return true;
    case BERR_HANDSHAKE_DENIED:
        buf_puts(out, "{\"reconnect\":\"none\"}");
        return true;
    default:
        return false;
    }
}

int policy_error_code(enum bayeux_error err)
{
    assert(err >= BERR_NONE && err < BERR_COUNT_);
    return errors[err].code;
}

enum bayeux_error policy_check_publish(const char *channel)
{
    enum channel_wild wild;
    switch (channel_name_check(channel, true, &wild)) {
    case CHANNEL_INVALID:
        return BERR_CHANNEL_INVALID;
    case CHANNEL_META:
        return BERR_PUBLISH_DENIED;
    default:
        /* a wildcard names many channels; one cannot publish to it */
        return wild == CHANNEL_WILD_NONE ? BERR_NONE : BERR_CHANNEL_INVALID;
    }
}

enum bayeux_error policy_check_subscribe(const char *subscription)
{
    switch (channel_name_check(subscription, true, NULL)) {
    case CHANNEL_INVALID:
        return BERR_CHANNEL_INVALID;
    case CHANNEL_META:
        return BERR_SUBSCRIBE_DENIED;
    default:
        return BERR_NONE;
    }
}
