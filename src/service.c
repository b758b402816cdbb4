/* service: registry of /service channel handlers, and the built-in echo service.
 *
 * Threads: see service.h; the table is immutable once threads run.
 */
#include "service.h"

#include <assert.h>
#include <stdlib.h>

#include "channel_name.h"
#include "deliver.h"
#include "message.h"

#define MAX_SERVICES 32

static struct {
    char *pattern;
    service_fn fn;
    void *ctx;
} services[MAX_SERVICES];
static size_t n_services;

void service_register(const char *pattern, service_fn fn, void *ctx)
{
    assert(n_services < MAX_SERVICES);
    assert(channel_name_check(pattern, true, NULL) == CHANNEL_SERVICE);
    services[n_services].pattern = xstrdup(pattern);
    services[n_services].fn = fn;
    services[n_services].ctx = ctx;
    n_services++;
}

void service_clear(void)
{
    for (size_t i = 0; i < n_services; i++)
        free(services[i].pattern);
    n_services = 0;
}

enum bayeux_error service_dispatch(struct service_call *call)
{
    for (size_t i = 0; i < n_services; i++)
        if (channel_name_matches(services[i].pattern, call->channel))
            return services[i].fn(call, services[i].ctx);
    return BERR_NONE;
}

/* /service/echo: sends the data back to the publisher alone. */
static enum bayeux_error echo(struct service_call *call, void *ctx)
{
    (void)ctx;
    message_t *m = message_create(call->channel, call->data_json, call->data_len, NULL);
    deliver_to_session(call->session, m);
    message_release(m);
    return BERR_NONE;
}

void service_register_builtin(void)
{
    service_register("/service/echo", echo, NULL);
}
