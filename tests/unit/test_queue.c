/* test_queue: a session's message ring — order, the bound, and the ack
 * extension's batches: sent messages stay until acknowledged and go out
 * again, in order, before newer ones. */
#include "queue.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static message_t *msg(int i)
{
    char data[16];
    int n = snprintf(data, sizeof data, "%d", i);
    return message_create("/q", data, (size_t)n, NULL);
}

static void push(queue_t *q, int from, int to, size_t max)
{
    for (int i = from; i < to; i++) {
        message_t *m = msg(i);
        queue_push(q, m, max);
        message_release(m);
    }
}

/* Takes a reply and checks its data values are want[0..n). Returns its batch. */
static int64_t take_expect(queue_t *q, const int *want, size_t n, size_t resent_want)
{
    size_t got, resent;
    int64_t batch;
    message_t **msgs = queue_take(q, &got, &batch, &resent);
    CU_ASSERT_EQUAL_FATAL(got, n);
    CU_ASSERT_EQUAL(resent, resent_want);
    for (size_t i = 0; i < got; i++) {
        char expect[64];
        snprintf(expect, sizeof expect, "{\"channel\":\"/q\",\"data\":%d}", want[i]);
        CU_ASSERT_STRING_EQUAL(msgs[i]->json, expect);
        message_release(msgs[i]);
    }
    free(msgs);
    return batch;
}

static void test_plain_queue_empties_on_take(void)
{
    queue_t q = { 0 };
    push(&q, 0, 20, 100);   /* grows past the first ring size */
    int want[20];
    for (int i = 0; i < 20; i++)
        want[i] = i;
    CU_ASSERT_EQUAL(take_expect(&q, want, 20, 0), -1);
    CU_ASSERT_EQUAL(queue_length(&q), 0);
    CU_ASSERT_EQUAL(take_expect(&q, NULL, 0, 0), -1);
    queue_release(&q);
}

static void test_bound_drops_oldest(void)
{
    queue_t q = { 0 };
    size_t dropped = 0;
    for (int i = 0; i < 7; i++) {
        message_t *m = msg(i);
        dropped += queue_push(&q, m, 3);
        message_release(m);
    }
    CU_ASSERT_EQUAL(dropped, 4);
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 4, 5, 6 }, 3, 0), -1);
    queue_release(&q);
}

static void test_ack_resends_until_acknowledged(void)
{
    queue_t q = { .ack = true };
    CU_ASSERT_EQUAL(take_expect(&q, NULL, 0, 0), 0);   /* nothing yet: batch 0 */
    push(&q, 0, 2, 100);
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 0, 1 }, 2, 0), 1);
    /* reply 1 was lost: the client acks 0, and 0,1 go again before 2 */
    push(&q, 2, 3, 100);
    queue_ack(&q, 0);
    CU_ASSERT_EQUAL(queue_length(&q), 3);
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 0, 1, 2 }, 3, 2), 2);
    /* reply 2 arrived: acking it drops all three */
    queue_ack(&q, 2);
    CU_ASSERT_EQUAL(queue_length(&q), 0);
    CU_ASSERT_EQUAL(take_expect(&q, NULL, 0, 0), 2);   /* nothing: the last number again */
    queue_release(&q);
}

static void test_ack_of_an_older_batch_keeps_the_newer(void)
{
    queue_t q = { .ack = true };
    push(&q, 0, 1, 100);
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 0 }, 1, 0), 1);
    queue_ack(&q, 1);
    push(&q, 1, 2, 100);
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 1 }, 1, 0), 2);
    push(&q, 2, 3, 100);
    queue_ack(&q, 1);            /* a stale ack: batch 2 stays */
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 1, 2 }, 2, 1), 3);
    queue_ack(&q, 99);           /* beyond anything sent: all sent dropped */
    CU_ASSERT_EQUAL(queue_length(&q), 0);
    queue_release(&q);
}

static void test_ack_without_number_acknowledges_all_sent(void)
{
    queue_t q = { .ack = true };
    push(&q, 0, 2, 100);
    take_expect(&q, (int[]){ 0, 1 }, 2, 0);
    push(&q, 2, 3, 100);         /* not sent yet: stays */
    queue_ack(&q, -1);
    CU_ASSERT_EQUAL(queue_length(&q), 1);
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 2 }, 1, 0), 2);
    queue_release(&q);
}

static void test_ack_bound_counts_unacknowledged(void)
{
    queue_t q = { .ack = true };
    push(&q, 0, 3, 4);
    take_expect(&q, (int[]){ 0, 1, 2 }, 3, 0);
    push(&q, 3, 6, 4);           /* 6 > 4: the two oldest sent ones go */
    CU_ASSERT_EQUAL(queue_length(&q), 4);
    CU_ASSERT_EQUAL(q.sent, 1);
    queue_ack(&q, 0);
    CU_ASSERT_EQUAL(take_expect(&q, (int[]){ 2, 3, 4, 5 }, 4, 1), 2);
    queue_release(&q);
    CU_ASSERT_EQUAL(q.len, 0);
    CU_ASSERT_PTR_NULL(q.ring);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_plain_queue_empties_on_take),
    UNIT_TEST(test_bound_drops_oldest),
    UNIT_TEST(test_ack_resends_until_acknowledged),
    UNIT_TEST(test_ack_of_an_older_batch_keeps_the_newer),
    UNIT_TEST(test_ack_without_number_acknowledges_all_sent),
    UNIT_TEST(test_ack_bound_counts_unacknowledged),
};

UNIT_MAIN("queue", tests)
