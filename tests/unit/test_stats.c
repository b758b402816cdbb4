/* test_stats: the counters' log throttle, the queue high-water mark and the
 * delivery latency histogram with its percentiles (stats.c, log.c). */
#include "log.h"
#include "stats.h"
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static void test_throttle_one_line_then_counts(void)
{
    struct log_throttle t = { 0 };
    unsigned long long held = 99;
    CU_ASSERT_TRUE(log_throttle_pass(&t, &held));
    CU_ASSERT_EQUAL(held, 0);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_FALSE(log_throttle_pass(&t, &held));
    /* the window passes: the next line carries the five held back */
    atomic_store(&t.next_ms, 0);
    CU_ASSERT_TRUE(log_throttle_pass(&t, &held));
    CU_ASSERT_EQUAL(held, 5);
    CU_ASSERT_FALSE(log_throttle_pass(&t, &held));
}

enum { THREADS = 4, TRIES = 20000 };
static struct log_throttle shared;
static atomic_int passed;

static void *hammer(void *arg)
{
    (void)arg;
    unsigned long long held;
    for (int i = 0; i < TRIES; i++)
        if (log_throttle_pass(&shared, &held))
            atomic_fetch_add(&passed, 1);
    return NULL;
}

static void test_throttle_threads_one_winner(void)
{
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, hammer, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(atomic_load(&passed), 1);
    CU_ASSERT_EQUAL(atomic_load(&shared.held), THREADS * TRIES - 1);
}

static void test_queue_high_water(void)
{
    stats_queue_depth(3);
    stats_queue_depth(7);
    stats_queue_depth(2);
    CU_ASSERT_EQUAL(stats_queue_high_water(), 7);
}

/* The value of "key": in the JSON text. */
static long long json_field(const char *json, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return strtoll(p + strlen(pat), NULL, 10);
}

static void test_latency_percentiles(void)
{
    /* 98 quick ones (60 at once, 38 in 3 ms), one at 150 ms and one at 4 s */
    for (int i = 0; i < 98; i++)
        stats_delivery_latency(i < 60 ? 0 : 3);
    stats_delivery_latency(150);
    stats_delivery_latency(4000);
    stats_delivery_latency(-5);   /* a clock step back counts as 0 */
    buf_t b = BUF_INIT;
    stats_latency_json(&b);
    CU_ASSERT_EQUAL(json_field(b.data, "count"), 101);
    CU_ASSERT_EQUAL(json_field(b.data, "p50"), 1);      /* the bucket up to 1 ms */
    CU_ASSERT_EQUAL(json_field(b.data, "p90"), 5);      /* the 3 ms ones: bucket up to 5 */
    CU_ASSERT_EQUAL(json_field(b.data, "p99"), 200);    /* 150 ms: bucket up to 200 */
    CU_ASSERT_EQUAL(json_field(b.data, "max"), 4000);
    buf_release(&b);

    stats_prometheus(&b);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "bayeux_delivery_latency_seconds_bucket{le=\"0.001\"} 61\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "bayeux_delivery_latency_seconds_bucket{le=\"0.2\"} 100\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "bayeux_delivery_latency_seconds_bucket{le=\"5\"} 101\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "bayeux_delivery_latency_seconds_bucket{le=\"+Inf\"} 101\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "bayeux_delivery_latency_seconds_count 101\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "bayeux_delivery_latency_seconds_sum 4.264\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "bayeux_queue_high_water 7\n"));
    buf_release(&b);
}

static void test_limit_counts(void)
{
    uint64_t before = stats_get(STAT_LIMIT_RATE);
    log_set_level(LOG_ERROR);   /* the line is throttled, but keep the test output quiet */
    for (int i = 0; i < 3; i++)
        stats_limit(STAT_LIMIT_RATE);
    CU_ASSERT_EQUAL(stats_get(STAT_LIMIT_RATE), before + 3);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_throttle_one_line_then_counts),
    UNIT_TEST(test_throttle_threads_one_winner),
    UNIT_TEST(test_queue_high_water),
    UNIT_TEST(test_latency_percentiles),
    UNIT_TEST(test_limit_counts),
};
UNIT_MAIN("stats", tests)
