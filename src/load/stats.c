/* stats: bayeux-load's accounting across worker processes — expected against
 * received per message id, publish acknowledgements, outages and recovery,
 * latency histograms, the progress line and the JSON summary.
 *
 * Processes: every worker counts its own deliveries into its slot of the
 * shared region (load.h); the parent adds the slots up for the progress line
 * while the workers run, and for the summary after they have all exited.
 * The verdict on each publish, send times and the outage windows are the
 * parent's own (static here, never read by another worker).
 */
#include "load/load.h"

#include <errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "buf.h"

struct load_shared *shm;

/* The parent's records. A message whose publish was not acknowledged is
 * left out of expected; an acknowledged one missing deliveries counts as
 * lost_in_outage when it was sent inside an outage window, which opens
 * OUTAGE_GRACE_US before the server stopped answering (the messages then
 * still queued for users die with the process) and closes at recovery. */
enum { ACK_UNSENT, ACK_PENDING, ACK_OK, ACK_REFUSED };
static uint8_t *ack;                /* [max_msgs] */
static uint32_t id_end;             /* highest id sent + 1 (skipped bursts leave gaps) */
static int64_t *sent_at;            /* [max_msgs] µs */
static int64_t last_ack_us;         /* the last successful publish answer */
#define OUTAGE_GRACE_US 2000000
#define MAX_OUTAGES 64
static struct outage { int64_t from, start, end; } outage[MAX_OUTAGES];   /* end 0 = open */
static int noutages;                /* windows kept; later ones merge into the last */
static uint64_t outages_seen;
static bool outage_open;
static uint32_t settled_upto;       /* messages below it have a final count */

int64_t load_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Anonymous shared memory survives fork() shared, unlike the heap. */
static void *shared_alloc(size_t n)
{
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "bayeux-load: mmap of %zu bytes: %s\n", n, strerror(errno));
        abort();
    }
    return p;   /* zero-filled */
}

void load_shared_create(uint32_t max_msgs)
{
    shm = shared_alloc(sizeof *shm);
    shm->max_msgs = max_msgs;
    shm->room_members = shared_alloc((size_t)opt.rooms * sizeof *shm->room_members);
    shm->recv_count = shared_alloc((size_t)max_msgs * sizeof *shm->recv_count);
    shm->want_count = shared_alloc((size_t)max_msgs * sizeof *shm->want_count);
    ack = xcalloc(max_msgs ? max_msgs : 1, sizeof *ack);
    sent_at = xcalloc(max_msgs ? max_msgs : 1, sizeof *sent_at);
}

/* ----------------------------------------------------- accounting --- */

bool load_count_delivery(struct load_worker *w, const char *chat, int64_t *sent_us)
{
    long long t;
    unsigned id;
    if (sscanf(chat, "t=%lld i=%u", &t, &id) != 2 || id >= shm->max_msgs)
        return false;
    *sent_us = t;
    uint64_t lat = (uint64_t)(load_now_us() - t);
    atomic_fetch_add_explicit(&shm->recv_count[id], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->received, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->sec_recv, 1, memory_order_relaxed);
    hist_add(&w->all, lat);
    hist_add(&w->sec, lat);
    /* the thirds go by send time, which the message carries */
    int64_t start = atomic_load(&shm->send_start), end = atomic_load(&shm->send_end);
    int64_t third = (end - start) / 3;
    if (start && t < start + third)
        hist_add(&w->first_third, lat);
    else if (start && t >= end - third)
        hist_add(&w->last_third, lat);
    return true;
}

void load_count_send(uint32_t id, int room)
{
    uint32_t members = (uint32_t)atomic_load(&shm->room_members[room]);
    shm->want_count[id] = members;
    sent_at[id] = load_now_us();
    ack[id] = ACK_PENDING;
    if (id >= id_end)
        id_end = id + 1;
    atomic_fetch_add_explicit(&shm->expected, members, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->sent, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->sec_sent, 1, memory_order_relaxed);
}

void load_publish_answered(uint32_t id, bool ok)
{
    if (id >= shm->max_msgs || ack[id] != ACK_PENDING)
        return;
    ack[id] = ok ? ACK_OK : ACK_REFUSED;
    if (ok)
        last_ack_us = load_now_us();
}

void load_publish_refused(uint32_t first, uint32_t n)
{
    for (uint32_t id = first; id - first < n; id++)
        load_publish_answered(id, false);
}

bool load_publish_reply(struct load_worker *w, uint32_t first, uint32_t n, int status, const char *body)
{
    bool rehandshake = false;
    struct json_object *arr = status == 200 ? json_tokener_parse(body) : NULL;
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        atomic_fetch_add_explicit(&w->http_err, 1, memory_order_relaxed);
    } else {
        size_t len = json_object_array_length(arr);
        for (size_t i = 0; i < len; i++) {
            struct json_object *m = json_object_array_get_idx(arr, i), *v, *id;
            if (!json_object_object_get_ex(m, "successful", &v))
                continue;   /* a delivery, not a reply */
            bool ok = json_object_get_boolean(v);
            struct json_object *adv, *rc;
            if (!ok)
                atomic_fetch_add_explicit(&w->bayeux_err, 1, memory_order_relaxed);
            if (json_object_object_get_ex(m, "advice", &adv) && json_object_object_get_ex(adv, "reconnect", &rc) &&
                strcmp(json_object_get_string(rc), "handshake") == 0)
                rehandshake = true;
            if (json_object_object_get_ex(m, "id", &id)) {
                unsigned long k = strtoul(json_object_get_string(id), NULL, 10);
                if (k >= first && k - first < n)
                    load_publish_answered((uint32_t)k, ok);
            }
        }
    }
    json_object_put(arr);
    load_publish_refused(first, n);   /* those it did not confirm */
    return rehandshake;
}

static bool in_outage(int64_t t)
{
    for (int k = 0; k < noutages; k++)
        if (t >= outage[k].from && (outage[k].end == 0 || t <= outage[k].end))
            return true;
    return false;
}

bool load_all_settled(void)
{
    while (settled_upto < id_end) {
        uint32_t i = settled_upto;
        if (ack[i] == ACK_PENDING)
            return false;
        if (ack[i] == ACK_OK && atomic_load(&shm->recv_count[i]) < shm->want_count[i] &&
            !in_outage(sent_at[i]))
            return false;
        settled_upto++;
    }
    return !outage_open;
}

void load_worker_tick(struct load_worker *w)
{
    atomic_fetch_add(&w->sec_seq, 1);   /* odd: being written */
    w->last_sec = w->sec;
    atomic_fetch_add(&w->sec_seq, 1);
    hist_reset(&w->sec);
}

/* A counter of struct load_worker added up over every worker. */
static uint64_t sum_field(size_t offset)
{
    uint64_t n = 0;
    for (int k = 0; k < opt.procs; k++)
        n += atomic_load_explicit((_Atomic uint64_t *)((char *)&shm->w[k] + offset), memory_order_relaxed);
    return n;
}
#define SUM(field) sum_field(offsetof(struct load_worker, field))

uint64_t load_received_total(void)
{
    return SUM(received);
}

/* ------------------------------------------------- faults, recovery --- */

void load_user_failed(void)
{
    if (atomic_fetch_add(&shm->broken, 1) == 0) {
        int64_t none = 0;
        atomic_compare_exchange_strong(&shm->fail_at, &none, load_now_us());
    }
}

void load_user_back(void)
{
    atomic_fetch_sub(&shm->broken, 1);
}

void load_outage_turn(int64_t now, bool publisher_ok)
{
    int64_t fail = atomic_load(&shm->fail_at), broken = atomic_load(&shm->broken);
    if (!outage_open) {
        if (!fail && broken <= 0)
            return;
        int64_t start = fail ? fail : now;
        /* the server may have stopped answering before a user failed (a
         * graceful restart holds polls first): the window opens at the last
         * acknowledged publish if that is earlier */
        int64_t from = (last_ack_us && last_ack_us < start ? last_ack_us : start) - OUTAGE_GRACE_US;
        if (noutages < MAX_OUTAGES)
            noutages++;
        else
            from = outage[noutages - 1].from;   /* too many: the last window grows */
        outage[noutages - 1] = (struct outage){ .from = from, .start = start, .end = 0 };
        outage_open = true;
        outages_seen++;
        return;
    }
    if (broken > 0 || !publisher_ok ||
        atomic_load(&shm->connected) + SUM(gave_up) < (uint64_t)opt.users)
        return;
    outage[noutages - 1].end = now;
    outage_open = false;
    atomic_store(&shm->fail_at, 0);
    atomic_store(&shm->recovered_at, now);
}

/* ------------------------------------------------------- reporting --- */

void load_progress(int64_t now, int64_t t0)
{
    static hist_t sec;
    hist_reset(&sec);
    uint64_t recv = 0;
    for (int k = 0; k < opt.procs; k++) {
        struct load_worker *w = &shm->w[k];
        recv += atomic_exchange(&w->sec_recv, 0);
        /* a copy taken while the worker rewrote it is retried; give up
         * after a few tries rather than stall the parent's loop */
        for (int tries = 0; tries < 8; tries++) {
            uint32_t seq = atomic_load(&w->sec_seq);
            if (seq & 1)
                continue;
            hist_t copy = w->last_sec;
            if (atomic_load(&w->sec_seq) == seq) {
                hist_merge(&sec, &copy);
                break;
            }
        }
    }
    char fault[80] = "";
    if (outage_open)
        snprintf(fault, sizeof fault, " outages %llu down %lld for %.1f s", (unsigned long long)outages_seen,
                 (long long)atomic_load(&shm->broken), (double)(now - outage[noutages - 1].start) / 1e6);
    else if (outages_seen)
        snprintf(fault, sizeof fault, " outages %llu recovered in %.0f ms", (unsigned long long)outages_seen,
                 (double)(outage[noutages - 1].end - outage[noutages - 1].start) / 1000);
    fprintf(stderr, "%6.1fs users %llu/%d sent/s %llu delivered/s %llu p50 %.1f ms p99 %.1f ms "
                    "errors http %llu bayeux %llu%s\n",
            (double)(now - t0) / 1e6, (unsigned long long)atomic_load(&shm->connected), opt.users,
            (unsigned long long)atomic_exchange(&shm->sec_sent, 0), (unsigned long long)recv,
            (double)hist_quantile(&sec, 0.5) / 1000, (double)hist_quantile(&sec, 0.99) / 1000,
            (unsigned long long)SUM(http_err), (unsigned long long)SUM(bayeux_err), fault);
}

static void json_latency(buf_t *b, const char *name, const hist_t *h)
{
    buf_printf(b, "\"%s\":{\"n\":%llu,\"min\":%.2f,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
                  "\"p999\":%.2f,\"max\":%.2f}",
               name, (unsigned long long)h->n, (double)h->min_us / 1000,
               (double)hist_quantile(h, .5) / 1000, (double)hist_quantile(h, .9) / 1000,
               (double)hist_quantile(h, .99) / 1000, (double)hist_quantile(h, .999) / 1000,
               (double)h->max_us / 1000);
}

void load_report(double cpu_s)
{
    static hist_t all, first, last;
    hist_reset(&all);
    hist_reset(&first);
    hist_reset(&last);
    for (int k = 0; k < opt.procs; k++) {
        hist_merge(&all, &shm->w[k].all);
        hist_merge(&first, &shm->w[k].first_third);
        hist_merge(&last, &shm->w[k].last_third);
    }
    uint64_t sent = atomic_load(&shm->sent), received = load_received_total(), expected = 0;
    uint64_t lost = 0, dup = 0, lost_out = 0, dup_out = 0, unacked = 0, unacked_recv = 0;
    for (uint32_t i = 0; i < id_end; i++) {
        uint32_t got = atomic_load(&shm->recv_count[i]), want = shm->want_count[i];
        if (ack[i] == ACK_UNSENT)   /* a skipped burst */
            continue;
        if (ack[i] != ACK_OK) {   /* refused, or no answer by the end */
            unacked++;
            unacked_recv += got;
            continue;
        }
        expected += want;
        bool out = in_outage(sent_at[i]);
        if (got < want)
            *(out ? &lost_out : &lost) += want - got;
        else
            *(out ? &dup_out : &dup) += got - want;
    }
    double secs = (double)(atomic_load(&shm->send_end) - atomic_load(&shm->send_start)) / 1e6;
    double p50a = (double)hist_quantile(&first, 0.5), p50z = (double)hist_quantile(&last, 0.5);
    /* the floor: a median going from 3 to 8 ms is noise, not a trend */
    double floor_us = (double)opt.steady_floor_ms * 1000;
    bool steady = last.n == 0 || p50z <= opt.steady_factor * (p50a > floor_us ? p50a : floor_us);

    buf_t b = BUF_INIT;
    buf_printf(&b, "{\"users\":%d,\"rooms\":%d,\"interval_ms\":%ld,\"burst\":%d,\"size\":%d,\"procs\":%d,"
                   "\"sent\":%llu,\"expected\":%llu,\"received\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
                   "\"sent_per_s\":%.0f,\"delivered_per_s\":%.0f,",
               opt.users, opt.rooms, opt.interval_ms, opt.burst, opt.size, opt.procs,
               (unsigned long long)sent, (unsigned long long)expected,
               (unsigned long long)received, (unsigned long long)lost, (unsigned long long)dup,
               secs > 0 ? (double)sent / secs : 0, secs > 0 ? (double)received / secs : 0);
    json_latency(&b, "latency_ms", &all);
    buf_putc(&b, ',');
    json_latency(&b, "first_third_ms", &first);
    buf_putc(&b, ',');
    json_latency(&b, "last_third_ms", &last);
    buf_printf(&b, ",\"http_errors\":%llu,\"bayeux_errors\":%llu,\"handshakes\":%llu,"
                   "\"users_gave_up\":%llu,\"users_without_deliveries\":%llu,\"skipped_bursts\":%llu,\"steady\":%s,\"steady_factor\":%.2f,\"steady_floor_ms\":%ld,"
                   "\"load_cpu_s\":%.2f,\"load_cpu_us_per_delivery\":%.2f",
               (unsigned long long)SUM(http_err), (unsigned long long)SUM(bayeux_err),
               (unsigned long long)SUM(handshakes), (unsigned long long)SUM(gave_up),
               (unsigned long long)SUM(silent),
               (unsigned long long)atomic_load(&shm->skipped), steady ? "true" : "false",
               opt.steady_factor, opt.steady_floor_ms, cpu_s, received ? cpu_s * 1e6 / (double)received : 0);
    buf_printf(&b, ",\"unacked\":%llu,\"unacked_received\":%llu,\"lost_in_outage\":%llu,"
                   "\"duplicates_in_outage\":%llu,\"outages\":%llu,\"recovered\":%s,\"recovery_ms\":",
               (unsigned long long)unacked, (unsigned long long)unacked_recv, (unsigned long long)lost_out,
               (unsigned long long)dup_out, (unsigned long long)outages_seen, outage_open ? "false" : "true");
    int64_t longest = 0;
    for (int k = 0; k < noutages; k++)
        if (outage[k].end && outage[k].end - outage[k].start > longest)
            longest = outage[k].end - outage[k].start;
    if (outage_open)
        buf_puts(&b, "null");
    else
        buf_printf(&b, "%.0f", (double)longest / 1000);
    buf_puts(&b, ",\"recoveries_ms\":[");
    for (int k = 0; k < noutages; k++) {
        if (outage[k].end)
            buf_printf(&b, "%s%.0f", k ? "," : "", (double)(outage[k].end - outage[k].start) / 1000);
        else
            buf_printf(&b, "%snull", k ? "," : "");
    }
    buf_printf(&b, "],\"users_rehandshaken\":%llu,\"users_silent_after_recovery\":%llu}",
               (unsigned long long)SUM(rehandshaken), (unsigned long long)SUM(silent_after));
    printf("%s\n", b.data);
    fflush(stdout);
    if (opt.json) {
        FILE *f = fopen(opt.json, "w");
        bool ok = f && fprintf(f, "%s\n", b.data) >= 0;
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok)
            fprintf(stderr, "bayeux-load: cannot write %s: %s\n", opt.json, strerror(errno));
    }
    buf_release(&b);
}
