/* stats: bayeux-load's accounting across worker processes — expected against
 * received per message id, latency histograms, the progress line and the
 * JSON summary.
 *
 * Processes: every worker counts its own deliveries into its slot of the
 * shared region (load.h); the parent adds the slots up for the progress line
 * while the workers run, and for the summary after they have all exited.
 */
#include "load/load.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "buf.h"

struct load_shared *shm;

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
}

/* ----------------------------------------------------- accounting --- */

bool load_count_delivery(struct load_worker *w, const char *chat)
{
    long long t;
    unsigned id;
    if (sscanf(chat, "t=%lld i=%u", &t, &id) != 2 || id >= shm->max_msgs)
        return false;
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
    atomic_fetch_add_explicit(&shm->expected, members, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->sent, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->sec_sent, 1, memory_order_relaxed);
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
    fprintf(stderr, "%6.1fs users %llu/%d sent/s %llu delivered/s %llu p50 %.1f ms p99 %.1f ms "
                    "errors http %llu bayeux %llu\n",
            (double)(now - t0) / 1e6, (unsigned long long)atomic_load(&shm->connected), opt.users,
            (unsigned long long)atomic_exchange(&shm->sec_sent, 0), (unsigned long long)recv,
            (double)hist_quantile(&sec, 0.5) / 1000, (double)hist_quantile(&sec, 0.99) / 1000,
            (unsigned long long)SUM(http_err), (unsigned long long)SUM(bayeux_err));
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
    uint64_t sent = atomic_load(&shm->sent), lost = 0, dup = 0, received = load_received_total();
    for (uint32_t i = 0; i < shm->max_msgs && i < sent; i++) {
        uint32_t got = atomic_load(&shm->recv_count[i]), want = shm->want_count[i];
        if (got < want)
            lost += want - got;
        else
            dup += got - want;
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
               (unsigned long long)sent, (unsigned long long)atomic_load(&shm->expected),
               (unsigned long long)received, (unsigned long long)lost, (unsigned long long)dup,
               secs > 0 ? (double)sent / secs : 0, secs > 0 ? (double)received / secs : 0);
    json_latency(&b, "latency_ms", &all);
    buf_putc(&b, ',');
    json_latency(&b, "first_third_ms", &first);
    buf_putc(&b, ',');
    json_latency(&b, "last_third_ms", &last);
    buf_printf(&b, ",\"http_errors\":%llu,\"bayeux_errors\":%llu,\"handshakes\":%llu,"
                   "\"users_gave_up\":%llu,\"users_without_deliveries\":%llu,\"skipped_bursts\":%llu,\"steady\":%s,\"steady_factor\":%.2f,\"steady_floor_ms\":%ld,"
                   "\"load_cpu_s\":%.2f,\"load_cpu_us_per_delivery\":%.2f}",
               (unsigned long long)SUM(http_err), (unsigned long long)SUM(bayeux_err),
               (unsigned long long)SUM(handshakes), (unsigned long long)SUM(gave_up),
               (unsigned long long)SUM(silent),
               (unsigned long long)atomic_load(&shm->skipped), steady ? "true" : "false",
               opt.steady_factor, opt.steady_floor_ms, cpu_s, received ? cpu_s * 1e6 / (double)received : 0);
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
