/* histogram: a log-linear latency histogram from 1 µs to 60 s (exact below
 * 64 µs, then 32 linear slots per power of two: ~3%), for bayeux-load.
 *
 * Threads: one owner; merge histograms of several workers with hist_merge.
 */
#ifndef BAYEUX_LOAD_HISTOGRAM_H
#define BAYEUX_LOAD_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB 64
#define HIST_POW 27                 /* 2^26 µs > 60 s */

typedef struct hist {
    uint64_t counts[HIST_POW][HIST_SUB];
    uint64_t n;
    uint64_t min_us, max_us;
    double sum_us;
} hist_t;

void hist_reset(hist_t *h);
void hist_add(hist_t *h, uint64_t us);
void hist_merge(hist_t *into, const hist_t *from);
/* The value at quantile q (0..1), in µs; 0 when empty. */
uint64_t hist_quantile(const hist_t *h, double q);

#endif
