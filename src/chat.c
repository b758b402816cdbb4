/* chat: rooms, member lists, join/leave notices, private messages.
 *
 * Threads and lock: see chat.h. Two indexes are kept in step by
 * member_add/member_del only: room -> name -> member, and session -> its
 * members ("seats"). With --redis each room also counts the names other
 * responders' members hold there (remote_add/remote_del, fed by cluster.c).
 * A room exists while it has members here or elsewhere.
 */
#include "chat.h"

#include <assert.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backplane.h"
#include "channel_name.h"
#include "deliver.h"
#include "dict.h"
#include "json_check.h"
#include "log.h"
#include "message.h"
#include "service.h"

struct room;

struct member {
    char *name;
    struct room *room;
    session_t *session;     /* a reference, released with the member */
    char browser[SESSION_ID_LEN + 1];   /* the session's, at the join */
};

/* A name held in a room by members of other responders. */
struct remote_name {
    char *name;
    size_t holders;         /* responders with a member of this name here */
    char browser[SESSION_ID_LEN + 1];   /* the latest holder's browser, or "" */
};

struct room {
    char name[CHAT_ROOM_MAX + 1];
    dict_t members;         /* name -> struct member*, this responder's */
    dict_t remote;          /* name -> struct remote_name*, the others' */
    size_t count;           /* distinct names in members and remote */
};

struct seats {
    char id[SESSION_ID_LEN + 1];
    struct member **v;      /* one per room the session is in */
    size_t n, cap;
};

static struct {
    pthread_mutex_t lock;   /* guards rooms, seats and everything they hold */
    dict_t rooms;           /* room name -> struct room* */
    dict_t seats;           /* session id -> struct seats* */
    size_t members;         /* this responder's members, all rooms */
} chat = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* -------------------------------------------------------------- outbox --- */

/* Messages built under the lock and published after it is released. */
struct outbox {
    struct {
        message_t *m;
        char channel[CHAT_ROOM_MAX + 16];
    } *v;
    size_t n, cap;
};

static void outbox_add(struct outbox *o, const char *prefix, const char *room, const buf_t *data)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->v = xrealloc(o->v, o->cap * sizeof *o->v);
    }
    snprintf(o->v[o->n].channel, sizeof o->v[o->n].channel, "%s%s", prefix, room);
    o->v[o->n].m = message_create(o->v[o->n].channel, data->data, data->len, NULL);
    o->n++;
}

static void outbox_send(struct outbox *o)
{
    for (size_t i = 0; i < o->n; i++) {
        deliver_publish(o->v[i].channel, o->v[i].m);
        message_release(o->v[i].m);
    }
    free(o->v);
    *o = (struct outbox){ 0 };
}

/* ------------------------------------------------------------- indexes --- */

static struct room *room_get(const char *name, bool create)
{
    struct room *r = dict_get(&chat.rooms, name);
    if (!r && create) {
        r = xcalloc(1, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", name);
        dict_put(&chat.rooms, r->name, r);
    }
    return r;
}

/* The member of session s in room r, or NULL. */
static struct member *seat_find(session_t *s, const struct room *r)
{
    struct seats *st = dict_get(&chat.seats, s->id);
    for (size_t i = 0; st && i < st->n; i++)
        if (st->v[i]->room == r)
            return st->v[i];
    return NULL;
}

static size_t remote_holders(const struct room *r, const char *name)
{
    const struct remote_name *rn = dict_get(&r->remote, name);
    return rn ? rn->holders : 0;
}

/* True when another responder's member holds `name` in r, unless that
 * member is of the same browser: a user whose responder died comes back
 * through another before the dead one's members are dropped, and may take
 * their name back at once. */
static bool remote_taken(const struct room *r, const char *name, const char *browser)
{
    const struct remote_name *rn = dict_get(&r->remote, name);
    return rn && rn->holders && !(browser[0] && strcmp(rn->browser, browser) == 0);
}

/* Frees r once nobody, here or elsewhere, is in it. */
static void room_release_if_empty(struct room *r)
{
    if (r->members.count == 0 && r->remote.count == 0) {
        dict_remove(&chat.rooms, r->name);
        dict_release(&r->members);
        dict_release(&r->remote);
        free(r);
    }
}

/* Adds a member of session s; announces it to the other responders (in
 * order, under the lock, so a quick leave cannot overtake it). */
static struct member *member_add(struct room *r, const char *name, session_t *s,
                                 const char *browser)
{
    struct member *m = xcalloc(1, sizeof *m);
    m->name = xstrdup(name);
    m->room = r;
    m->session = session_ref(s);
    memcpy(m->browser, browser, sizeof m->browser);
    dict_put(&r->members, m->name, m);
    chat.members++;
    if (!remote_holders(r, name))
        r->count++;
    backplane_member_join(r->name, m->name, m->browser);
    struct seats *st = dict_get(&chat.seats, s->id);
    if (!st) {
        st = xcalloc(1, sizeof *st);
        memcpy(st->id, s->id, sizeof st->id);
        dict_put(&chat.seats, st->id, st);
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 2;
        st->v = xrealloc(st->v, st->cap * sizeof *st->v);
    }
    st->v[st->n++] = m;
    return m;
}

/* Removes m from both indexes and frees it; frees its room when empty. */
static void member_del(struct member *m)
{
    struct room *r = m->room;
    dict_remove(&r->members, m->name);
    chat.members--;
    if (!remote_holders(r, m->name))
        r->count--;
    backplane_member_leave(r->name, m->name);
    struct seats *st = dict_get(&chat.seats, m->session->id);
    for (size_t i = 0; st && i < st->n; i++) {
        if (st->v[i] == m) {
            st->v[i] = st->v[--st->n];
            break;
        }
    }
    if (st && st->n == 0) {
        dict_remove(&chat.seats, st->id);
        free(st->v);
        free(st);
    }
    session_release(m->session);
    free(m->name);
    free(m);
    room_release_if_empty(r);
}

/* ---------------------------------------------------------------- JSON --- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct name_list {
    const char **v;
    size_t n;
};

static void collect_member_name(void *value, void *ctx)
{
    struct name_list *l = ctx;
    l->v[l->n++] = ((struct member *)value)->name;
}

static void collect_remote_name(void *value, void *ctx)
{
    struct name_list *l = ctx;
    l->v[l->n++] = ((struct remote_name *)value)->name;
}

/* Sorted names of room `name` (absent: empty), each once, as a JSON array. */
static size_t members_json(const char *name, buf_t *out)
{
    struct room *r = room_get(name, false);
    struct name_list l = { NULL, 0 };
    if (r) {
        l.v = xmalloc((r->members.count + r->remote.count + 1) * sizeof *l.v);
        dict_each(&r->members, collect_member_name, &l);
        dict_each(&r->remote, collect_remote_name, &l);
        qsort(l.v, l.n, sizeof *l.v, cmp_str);
        size_t u = 0;   /* a name held here and elsewhere is listed once */
        for (size_t i = 0; i < l.n; i++)
            if (u == 0 || strcmp(l.v[u - 1], l.v[i]) != 0)
                l.v[u++] = l.v[i];
        l.n = u;
    }
    if (out) {
        buf_putc(out, '[');
        for (size_t i = 0; i < l.n; i++) {
            if (i)
                buf_putc(out, ',');
            buf_put_json_string(out, l.v[i]);
        }
        buf_putc(out, ']');
    }
    free(l.v);
    return l.n;
}

static void collect_room(void *value, void *ctx)
{
    struct name_list *l = ctx;
    l->v[l->n++] = ((struct room *)value)->name;
}

/* Every room with its member count, sorted by name, as a JSON array. */
static void rooms_json(buf_t *out)
{
    struct name_list l = { xmalloc((chat.rooms.count + 1) * sizeof *l.v), 0 };
    dict_each(&chat.rooms, collect_room, &l);
    qsort(l.v, l.n, sizeof *l.v, cmp_str);
    buf_putc(out, '[');
    for (size_t i = 0; i < l.n; i++) {
        struct room *r = dict_get(&chat.rooms, l.v[i]);
        buf_puts(out, i ? ",{\"room\":" : "{\"room\":");
        buf_put_json_string(out, r->name);
        buf_printf(out, ",\"members\":%zu}", r->count);
    }
    buf_putc(out, ']');
    free(l.v);
}

/* Queues the notice `{"user":..,"membership":..,"chat":..}` on /chat/<room>. */
static void notice(struct outbox *o, const char *room, const char *user, bool join)
{
    buf_t d = BUF_INIT;
    buf_puts(&d, "{\"user\":");
    buf_put_json_string(&d, user);
    buf_printf(&d, ",\"membership\":\"%s\",\"chat\":", join ? "join" : "leave");
    buf_t text = BUF_INIT;
    buf_printf(&text, "%s has %s", user, join ? "joined" : "left");
    buf_put_json_string(&d, text.data);
    buf_putc(&d, '}');
    outbox_add(o, "/chat/", room, &d);
    buf_release(&text);
    buf_release(&d);
}

/* Queues the member list of a room and, when `rooms_changed`, the room list. */
static void lists(struct outbox *o, const char *room, bool rooms_changed)
{
    buf_t d = BUF_INIT;
    members_json(room, &d);
    outbox_add(o, "/members/", room, &d);
    if (rooms_changed) {
        buf_reset(&d);
        rooms_json(&d);
        outbox_add(o, "/rooms", "", &d);
    }
    buf_release(&d);
}

/* ------------------------------------------------------------ services --- */

/* The string at key, or NULL when absent, not a string or holding a NUL. */
static const char *get_string(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (obj && json_object_object_get_ex(obj, key, &v))
        return json_cstr(v);
    return NULL;
}

static enum bayeux_error fail(struct service_call *call, enum bayeux_error err, const char *args)
{
    if (args)
        buf_puts(&call->error_args, args);
    return err;
}

static enum bayeux_error room_of(struct service_call *call, char *room)
{
    const char *given = get_string(call->data, "room");
    if (!chat_room_parse(given, room))
        return fail(call, BERR_ROOM_INVALID, given);
    return BERR_NONE;
}

static enum bayeux_error leave(struct service_call *call, const char *room)
{
    struct outbox o = { 0 };
    pthread_mutex_lock(&chat.lock);
    struct room *r = room_get(room, false);
    struct member *m = r ? seat_find(call->session, r) : NULL;
    if (m) {
        char *name = xstrdup(m->name);
        member_del(m);
        notice(&o, room, name, false);
        lists(&o, room, true);
        free(name);
    }
    pthread_mutex_unlock(&chat.lock);
    outbox_send(&o);
    return BERR_NONE;
}

/* /service/members {user, room} joins (or re-joins); {room, leave:true} leaves. */
static enum bayeux_error members(struct service_call *call, void *ctx)
{
    (void)ctx;
    char room[CHAT_ROOM_MAX + 1];
    enum bayeux_error err = room_of(call, room);
    if (err)
        return err;
    struct json_object *lv;
    if (json_object_object_get_ex(call->data, "leave", &lv) &&
        json_object_is_type(lv, json_type_boolean) && json_object_get_boolean(lv))
        return leave(call, room);
    const char *user = get_string(call->data, "user");
    if (!chat_user_valid(user))
        return fail(call, BERR_USER_INVALID, user);
    char browser[SESSION_ID_LEN + 1];
    session_browser(call->session, browser);   /* before the chat lock: lock order */

    struct outbox o = { 0 };
    pthread_mutex_lock(&chat.lock);
    if (atomic_load(&call->session->closed)) {
        /* ending: its end listener has run or will find nothing */
        pthread_mutex_unlock(&chat.lock);
        return BERR_SESSION_UNKNOWN;
    }
    struct room *r = room_get(room, false);
    struct member *mine = r ? seat_find(call->session, r) : NULL;
    if (mine && strcmp(mine->name, user) == 0) {
        lists(&o, room, false);            /* a re-join: the list again, no notice */
    } else {
        if (r && (dict_get(&r->members, user) || remote_taken(r, user, browser))) {
            pthread_mutex_unlock(&chat.lock);
            return fail(call, BERR_NAME_TAKEN, user);
        }
        if (mine) {                        /* a new name in the same room */
            notice(&o, room, mine->name, false);
            member_del(mine);
        }
        member_add(room_get(room, true), user, call->session, browser);
        notice(&o, room, user, true);
        lists(&o, room, true);
    }
    pthread_mutex_unlock(&chat.lock);
    outbox_send(&o);
    return BERR_NONE;
}

/* The /chat/<room> filter: only members may publish, as the name they joined with. */
static enum bayeux_error chat_filter(struct service_call *call, void *ctx)
{
    (void)ctx;
    char room[CHAT_ROOM_MAX + 1];
    char *name = NULL;
    if (chat_room_parse(call->channel, room)) {
        pthread_mutex_lock(&chat.lock);
        struct room *r = room_get(room, false);
        struct member *m = r ? seat_find(call->session, r) : NULL;
        if (m)
            name = xstrdup(m->name);
        pthread_mutex_unlock(&chat.lock);
    }
    if (!name)
        return fail(call, BERR_NOT_JOINED, call->channel);
    const char *text = get_string(call->data, "chat");
    if (!chat_text_valid(text)) {
        free(name);
        return BERR_CHAT_INVALID;
    }
    buf_puts(&call->data_out, "{\"user\":");
    buf_put_json_string(&call->data_out, name);
    buf_puts(&call->data_out, ",\"chat\":");
    buf_put_json_string(&call->data_out, text);
    buf_putc(&call->data_out, '}');
    free(name);
    return BERR_NONE;
}

#define PEERS_MAX 16

/* /service/privatechat {room, chat, peer}: to the named peers and the sender. */
static enum bayeux_error privatechat(struct service_call *call, void *ctx)
{
    (void)ctx;
    char room[CHAT_ROOM_MAX + 1];
    enum bayeux_error err = room_of(call, room);
    if (err)
        return err;
    const char *text = get_string(call->data, "chat");
    if (!chat_text_valid(text))
        return BERR_CHAT_INVALID;
    struct json_object *pv;
    const char *peers[PEERS_MAX];
    size_t npeers = 0;
    if (json_object_object_get_ex(call->data, "peer", &pv)) {
        if (json_object_is_type(pv, json_type_string)) {
            if (!json_cstr(pv))
                return fail(call, BERR_PEER_UNKNOWN, json_object_get_string(pv));
            peers[npeers++] = json_cstr(pv);
        } else if (json_object_is_type(pv, json_type_array)) {
            size_t n = json_object_array_length(pv);
            if (n > PEERS_MAX)
                return fail(call, BERR_CHAT_INVALID, "peer");
            for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(pv, i);
                if (!json_cstr(e))
                    return fail(call, BERR_PEER_UNKNOWN, json_object_to_json_string(e));
                peers[npeers++] = json_cstr(e);
            }
        }
    }
    if (npeers == 0)
        return fail(call, BERR_PEER_UNKNOWN, NULL);

    session_t *to[PEERS_MAX];
    size_t nto = 0;
    const char *elsewhere[PEERS_MAX];   /* peers on other responders */
    size_t nelse = 0;
    char *sender = NULL;
    pthread_mutex_lock(&chat.lock);
    struct room *r = room_get(room, false);
    struct member *me = r ? seat_find(call->session, r) : NULL;
    if (!me) {
        err = BERR_NOT_JOINED;
    } else {
        sender = xstrdup(me->name);
        for (size_t i = 0; i < npeers && !err; i++) {
            struct member *p = dict_get(&r->members, peers[i]);
            if (!p && remote_holders(r, peers[i])) {
                elsewhere[nelse++] = peers[i];
                continue;
            }
            if (!p) {
                err = fail(call, BERR_PEER_UNKNOWN, peers[i]);
                break;
            }
            bool dup = p->session == call->session;
            for (size_t j = 0; j < nto && !dup; j++)
                dup = to[j] == p->session;
            if (!dup)
                to[nto++] = session_ref(p->session);
        }
    }
    pthread_mutex_unlock(&chat.lock);

    if (err == BERR_NOT_JOINED) {
        buf_printf(&call->error_args, "/chat/%s", room);
    } else if (!err) {
        buf_t d = BUF_INIT;
        buf_puts(&d, "{\"user\":");
        buf_put_json_string(&d, sender);
        buf_puts(&d, ",\"chat\":");
        buf_put_json_string(&d, text);
        buf_puts(&d, ",\"scope\":\"private\",\"peer\":[");
        for (size_t i = 0; i < npeers; i++) {
            if (i)
                buf_putc(&d, ',');
            buf_put_json_string(&d, peers[i]);
        }
        buf_puts(&d, "]}");
        char channel[CHAT_ROOM_MAX + 8];
        snprintf(channel, sizeof channel, "/chat/%s", room);
        message_t *m = message_create(channel, d.data, d.len, NULL);
        for (size_t i = 0; i < nto; i++)
            deliver_to_session(to[i], m);
        deliver_to_session(call->session, m);
        if (nelse)
            backplane_private(room, elsewhere, nelse, m);
        message_release(m);
        buf_release(&d);
    }
    for (size_t i = 0; i < nto; i++)
        session_release(to[i]);
    free(sender);
    return err;
}

/* /service/rooms: the room list, to the caller alone. */
static enum bayeux_error rooms(struct service_call *call, void *ctx)
{
    (void)ctx;
    buf_t d = BUF_INIT;
    pthread_mutex_lock(&chat.lock);
    rooms_json(&d);
    pthread_mutex_unlock(&chat.lock);
    message_t *m = message_create(call->channel, d.data, d.len, NULL);
    deliver_to_session(call->session, m);
    message_release(m);
    buf_release(&d);
    return BERR_NONE;
}

/* /members/<room> and /rooms carry the server's lists: clients may not publish there. */
static enum bayeux_error server_only(struct service_call *call, void *ctx)
{
    (void)ctx;
    return fail(call, BERR_PUBLISH_DENIED, call->channel);
}

/* A session ended: it leaves every room it was in. */
static void session_ended(session_t *s, void *ctx)
{
    (void)ctx;
    struct outbox o = { 0 };
    pthread_mutex_lock(&chat.lock);
    struct seats *st;
    while ((st = dict_get(&chat.seats, s->id)) != NULL) {
        struct member *m = st->v[st->n - 1];
        char room[CHAT_ROOM_MAX + 1];
        char *name = xstrdup(m->name);
        memcpy(room, m->room->name, sizeof room);
        member_del(m);   /* frees st with the last seat */
        notice(&o, room, name, false);
        lists(&o, room, true);
        free(name);
    }
    pthread_mutex_unlock(&chat.lock);
    outbox_send(&o);
}

/* ---------------------------------------------- other responders --- */

/* Splits "<room>\n<user>" into room (CHAT_ROOM_MAX + 1 bytes) and user;
 * false when it is not such a key. */
static bool key_split(const char *key, char *room, const char **user)
{
    const char *nl = strchr(key, '\n');
    if (!nl || nl == key || (size_t)(nl - key) > CHAT_ROOM_MAX || !nl[1])
        return false;
    memcpy(room, key, (size_t)(nl - key));
    room[nl - key] = '\0';
    *user = nl + 1;
    return true;
}

/* One more (join) or one less responder holds `user` in r; returns true
 * when the name appeared in or vanished from the room by it. */
static bool remote_change(struct room *r, const char *user, const char *browser, bool join)
{
    struct remote_name *rn = dict_get(&r->remote, user);
    bool here = dict_get(&r->members, user) != NULL;
    if (join) {
        if (!rn) {
            rn = xcalloc(1, sizeof *rn);
            rn->name = xstrdup(user);
            dict_put(&r->remote, rn->name, rn);
        }
        snprintf(rn->browser, sizeof rn->browser, "%s", browser ? browser : "");
        if (rn->holders++ || here)
            return false;
        r->count++;
        return true;
    }
    if (!rn)
        return false;
    if (--rn->holders == 0) {
        dict_remove(&r->remote, rn->name);
        free(rn->name);
        free(rn);
        if (!here) {
            r->count--;
            return true;
        }
    }
    return false;
}

void chat_remote_apply(const struct chat_change *v, size_t n)
{
    struct outbox o = { 0 };
    dict_t touched = { 0 };     /* rooms whose lists go out, once each */
    char (*names)[CHAT_ROOM_MAX + 1] = xmalloc((n + 1) * sizeof *names);
    size_t nnames = 0;
    pthread_mutex_lock(&chat.lock);
    for (size_t i = 0; i < n; i++) {
        char room[CHAT_ROOM_MAX + 1];
        const char *user;
        if (!key_split(v[i].key, room, &user)) {
            log_warn("redis: a member entry '%s' not from bayeux-fcgi was ignored", v[i].key);
            continue;
        }
        struct room *r = room_get(room, v[i].join);
        if (!r)
            continue;
        if (remote_change(r, user, v[i].browser, v[i].join))
            notice(&o, room, user, v[i].join);
        if (!dict_get(&touched, room)) {
            memcpy(names[nnames], room, sizeof names[nnames]);
            dict_put(&touched, names[nnames], names[nnames]);
            nnames++;
        }
        room_release_if_empty(r);
    }
    for (size_t i = 0; i < nnames; i++)
        lists(&o, names[i], i == nnames - 1);
    pthread_mutex_unlock(&chat.lock);
    outbox_send(&o);
    dict_release(&touched);
    free(names);
}

void chat_remote_private(const char *room, const char *peers, const char *json, size_t len)
{
    session_t *to[PEERS_MAX];
    size_t nto = 0;
    pthread_mutex_lock(&chat.lock);
    struct room *r = room_get(room, false);
    for (const char *p = peers; r && *p && nto < PEERS_MAX;) {
        const char *end = strchr(p, '\t');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        char name[4 * CHAT_USER_MAX_CHARS + 1];
        if (plen < sizeof name) {
            memcpy(name, p, plen);
            name[plen] = '\0';
            struct member *m = dict_get(&r->members, name);
            bool dup = false;
            for (size_t j = 0; m && j < nto && !dup; j++)
                dup = to[j] == m->session;
            if (m && !dup)
                to[nto++] = session_ref(m->session);
        }
        p += plen + (end != NULL);
    }
    pthread_mutex_unlock(&chat.lock);
    if (nto) {
        message_t *m = message_create_raw(json, len);
        for (size_t i = 0; i < nto; i++) {
            deliver_to_session(to[i], m);
            session_release(to[i]);
        }
        message_release(m);
    }
}

struct local_ctx {
    void (*each)(const char *room, const char *user, const char *browser, void *ctx);
    void *ctx;
};

static void each_seat(void *value, void *ctx)
{
    struct seats *st = value;
    struct local_ctx *l = ctx;
    for (size_t i = 0; i < st->n; i++)
        l->each(st->v[i]->room->name, st->v[i]->name, st->v[i]->browser, l->ctx);
}

void chat_local_members(void (*each)(const char *room, const char *user, const char *browser,
                                     void *ctx),
                        void (*end)(void *ctx), void *ctx)
{
    struct local_ctx l = { each, ctx };
    pthread_mutex_lock(&chat.lock);
    dict_each(&chat.seats, each_seat, &l);
    end(ctx);
    pthread_mutex_unlock(&chat.lock);
}

/* ------------------------------------------------------------- set-up --- */

void chat_init(void)
{
    service_register("/service/members", members, NULL);
    service_register("/service/privatechat", privatechat, NULL);
    service_register("/service/rooms", rooms, NULL);
    service_register_filter("/chat/**", chat_filter, NULL);
    service_register_filter("/members/**", server_only, NULL);
    service_register_filter("/rooms", server_only, NULL);
    session_on_end(session_ended, NULL);
}

static void free_remote_name(void *value, void *ctx)
{
    (void)ctx;
    struct remote_name *rn = value;
    free(rn->name);
    free(rn);
}

static void free_room(void *value, void *ctx)
{
    (void)ctx;
    struct room *r = value;
    dict_each(&r->remote, free_remote_name, NULL);
    dict_release(&r->remote);
    dict_release(&r->members);
    free(r);
}

static void free_seats(void *value, void *ctx)
{
    (void)ctx;
    struct seats *st = value;
    for (size_t i = 0; i < st->n; i++) {
        session_release(st->v[i]->session);
        free(st->v[i]->name);
        free(st->v[i]);
    }
    free(st->v);
    free(st);
}

void chat_shutdown(void)
{
    pthread_mutex_lock(&chat.lock);
    dict_each(&chat.seats, free_seats, NULL);
    dict_release(&chat.seats);
    dict_each(&chat.rooms, free_room, NULL);
    dict_release(&chat.rooms);
    chat.members = 0;
    pthread_mutex_unlock(&chat.lock);
}

size_t chat_room_members(const char *room, buf_t *out)
{
    pthread_mutex_lock(&chat.lock);
    size_t n = members_json(room, out);
    pthread_mutex_unlock(&chat.lock);
    return n;
}

size_t chat_room_count(void)
{
    pthread_mutex_lock(&chat.lock);
    size_t n = chat.rooms.count;
    pthread_mutex_unlock(&chat.lock);
    return n;
}

size_t chat_member_count(void)
{
    pthread_mutex_lock(&chat.lock);
    size_t n = chat.members;
    pthread_mutex_unlock(&chat.lock);
    return n;
}
