/* message: serialize-once, reference-counted published messages.
 *
 * Threads: any holder of a reference; the count is atomic.
 */
#include "message.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "poll.h"

message_t *message_create_raw(const char *json, size_t len)
{
    message_t *m = xmalloc(sizeof *m + len + 1);
    atomic_init(&m->refs, 1);
    m->created_ms = poll_now_ms();
    m->len = len;
    memcpy(m->json, json, len);
    m->json[len] = '\0';
    return m;
}

message_t *message_create(const char *channel, const char *data_json, size_t data_len,
                          const char *id)
{
    buf_t b = BUF_INIT;
    buf_reserve(&b, data_len + strlen(channel) + 48);
    buf_puts(&b, "{\"channel\":");
    buf_put_json_string(&b, channel);
    buf_puts(&b, ",\"data\":");
    buf_append(&b, data_json, data_len);
    if (id) {
        buf_puts(&b, ",\"id\":");
        buf_put_json_string(&b, id);
    }
    buf_putc(&b, '}');
    message_t *m = message_create_raw(b.data, b.len);
    buf_release(&b);
    return m;
}

message_t *message_ref(message_t *m)
{
    int old = atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    assert(old > 0);
    (void)old;
    return m;
}

void message_release(message_t *m)
{
    if (!m)
        return;
    int old = atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel);
    assert(old > 0);
    if (old == 1)
        free(m);
}
