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

#define MAX_ROUTES 32

/* One table for handlers (/service channels) and filters (broadcast ones). */
struct route_table {
    struct {
        char *pattern;
        service_fn fn;      /* service_filter_fn has the same shape */
        void *ctx;
    } v[MAX_ROUTES];
    size_t n;
};

static struct route_table services, filters;

static void route_add(struct route_table *t, const char *pattern, service_fn fn, void *ctx)
{
    assert(t->n < MAX_ROUTES);
    t->v[t->n].pattern = xstrdup(pattern);
    t->v[t->n].fn = fn;
    t->v[t->n].ctx = ctx;
    t->n++;
}

static enum bayeux_error route_run(const struct route_table *t, struct service_call *call)
{
    for (size_t i = 0; i < t->n; i++)
        if (channel_name_matches(t->v[i].pattern, call->channel))
            return t->v[i].fn(call, t->v[i].ctx);
    return BERR_NONE;
}

static void route_clear(struct route_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].pattern);
    t->n = 0;
}

void service_register(const char *pattern, service_fn fn, void *ctx)
{
    assert(channel_name_check(pattern, true, NULL) == CHANNEL_SERVICE);
    route_add(&services, pattern, fn, ctx);
}

void service_register_filter(const char *pattern, service_filter_fn fn, void *ctx)
{
    assert(channel_name_check(pattern, true, NULL) == CHANNEL_BROADCAST);
    route_add(&filters, pattern, fn, ctx);
}

void service_clear(void)
{
    route_clear(&services);
    route_clear(&filters);
}

enum bayeux_error service_dispatch(struct service_call *call)
{
    return route_run(&services, call);
}

enum bayeux_error service_filter(struct service_call *call)
{
    return route_run(&filters, call);
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
