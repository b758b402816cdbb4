/* histogram: log-linear buckets, see histogram.h. */
#include "histogram.h"

#include <string.h>

#define HIST_MAX_US 60000000ULL

void hist_reset(hist_t *h)
{
    memset(h, 0, sizeof *h);
}

/* Bucket of v: below HIST_SUB exact (p = 0); above, p = the shift that
 * brings v into [32, 64), and the slot is v >> p. Slots are at most 1/32 of
 * their value wide: about 3% resolution. */
static void bucket(uint64_t v, unsigned *p, unsigned *s)
{
    if (v < HIST_SUB) {
        *p = 0;
        *s = (unsigned)v;
        return;
    }
    unsigned bits = 63 - (unsigned)__builtin_clzll(v);   /* v in [2^bits, 2^(bits+1)) */
    unsigned shift = bits - 5;                            /* 64 slots over the upper half */
    *p = shift;
    *s = (unsigned)(v >> shift) & (HIST_SUB - 1);
}

static uint64_t bucket_value(unsigned p, unsigned s)
{
    /* p > 0 holds v >> p == s exactly; report the slot's upper edge so
     * quantiles never under-report */
    return p == 0 ? s : (((uint64_t)s + 1) << p) - 1;
}

void hist_add(hist_t *h, uint64_t us)
{
    if (us > HIST_MAX_US)
        us = HIST_MAX_US;
    unsigned p, s;
    bucket(us, &p, &s);
    h->counts[p][s]++;
    if (h->n == 0 || us < h->min_us)
        h->min_us = us;
    if (us > h->max_us)
        h->max_us = us;
    h->n++;
    h->sum_us += (double)us;
}

void hist_merge(hist_t *into, const hist_t *from)
{
    if (!from->n)
        return;
    for (unsigned p = 0; p < HIST_POW; p++)
        for (unsigned s = 0; s < HIST_SUB; s++)
            into->counts[p][s] += from->counts[p][s];
    if (into->n == 0 || from->min_us < into->min_us)
        into->min_us = from->min_us;
    if (from->max_us > into->max_us)
        into->max_us = from->max_us;
    into->n += from->n;
    into->sum_us += from->sum_us;
}

uint64_t hist_quantile(const hist_t *h, double q)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)(h->n - 1)) + 1, seen = 0;
    for (unsigned p = 0; p < HIST_POW; p++) {
        for (unsigned s = 0; s < HIST_SUB; s++) {
            seen += h->counts[p][s];
            if (seen >= rank) {
                uint64_t v = bucket_value(p, s);
                return v > h->max_us ? h->max_us : v < h->min_us ? h->min_us : v;
            }
        }
    }
    return h->max_us;
}
