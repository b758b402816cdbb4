/* test_dict: the string map (growth, removal, iteration) and the pointer set. */
#include "dict.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { NKEYS = 10000 };

static char keys[NKEYS][16];
static int values[NKEYS];


static void shuffle(size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = unit_rand(i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static void count_visit(void *value, void *ctx)
{
    int *seen = ctx;
    int i = (int)((int *)value - values);
    if (i >= 0 && i < NKEYS)
        seen[i]++;
    else
        seen[NKEYS]++;   /* not one of ours */
}

static void test_dict_empty(void)
{
    dict_t d = { 0 };
    CU_ASSERT_PTR_NULL(dict_get(&d, "a"));
    CU_ASSERT_PTR_NULL(dict_remove(&d, "a"));
    CU_ASSERT_EQUAL(d.count, 0);
    int seen[NKEYS + 1] = { 0 };
    dict_each(&d, count_visit, seen);
    CU_ASSERT_EQUAL(seen[NKEYS], 0);
    dict_release(&d);
    CU_ASSERT_PTR_NULL(d.buckets);
    CU_ASSERT_EQUAL(d.nbuckets, 0);
}

static void test_dict_hash(void)
{
    /* the FNV-1a step: h(s + c) = (h(s) ^ c) * FNV prime, whatever the basis */
    const uint64_t prime = 1099511628211ULL;
    CU_ASSERT_EQUAL(dict_hash("a"), (dict_hash("") ^ 'a') * prime);
    CU_ASSERT_EQUAL(dict_hash("foobar"), (dict_hash("fooba") ^ 'r') * prime);
    CU_ASSERT_EQUAL(dict_hash("\xff"), (dict_hash("") ^ 0xffu) * prime);   /* bytes unsigned */
    char copy[8];
    snprintf(copy, sizeof copy, "%s", "foobar");
    CU_ASSERT_EQUAL(dict_hash(copy), dict_hash("foobar"));
    CU_ASSERT_NOT_EQUAL(dict_hash("ab"), dict_hash("ba"));
    CU_ASSERT_NOT_EQUAL(dict_hash(""), dict_hash("a"));
    /* and the standard FNV-1a 64-bit reference values */
    CU_ASSERT_EQUAL(dict_hash(""), 0xcbf29ce484222325ULL);
    CU_ASSERT_EQUAL(dict_hash("a"), 0xaf63dc4c8601ec8cULL);
    CU_ASSERT_EQUAL(dict_hash("foobar"), 0x85944171f73967e8ULL);
}

static void test_dict_growth(void)
{
    dict_t d = { 0 };
    for (int i = 0; i < NKEYS; i++) {
        snprintf(keys[i], sizeof keys[i], "key-%d", i);
        values[i] = i;
        dict_put(&d, keys[i], &values[i]);
        CU_ASSERT_EQUAL(d.count, (size_t)i + 1);
    }
    CU_ASSERT_TRUE(d.nbuckets >= NKEYS);
    CU_ASSERT_EQUAL(d.nbuckets & (d.nbuckets - 1), 0);   /* a power of two */

    size_t bad = 0;
    for (int i = 0; i < NKEYS; i++) {
        char probe[16];   /* a different pointer with the same text */
        snprintf(probe, sizeof probe, "key-%d", i);
        bad += dict_get(&d, probe) != &values[i];
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_PTR_NULL(dict_get(&d, "key-10000"));
    CU_ASSERT_PTR_NULL(dict_get(&d, "key-"));
    CU_ASSERT_PTR_NULL(dict_get(&d, ""));

    int seen[NKEYS + 1] = { 0 };
    dict_each(&d, count_visit, seen);
    bad = 0;
    for (int i = 0; i <= NKEYS; i++)
        bad += seen[i] != (i < NKEYS);
    CU_ASSERT_EQUAL(bad, 0);

    /* remove every odd key, in random order */
    size_t order[NKEYS / 2];
    for (size_t i = 0; i < NKEYS / 2; i++)
        order[i] = 2 * i + 1;
    shuffle(order, NKEYS / 2);
    bad = 0;
    for (size_t i = 0; i < NKEYS / 2; i++)
        bad += dict_remove(&d, keys[order[i]]) != &values[order[i]];
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(d.count, NKEYS / 2);
    CU_ASSERT_PTR_NULL(dict_remove(&d, keys[1]));   /* already gone */
    CU_ASSERT_PTR_NULL(dict_remove(&d, "absent"));
    CU_ASSERT_EQUAL(d.count, NKEYS / 2);

    bad = 0;
    for (int i = 0; i < NKEYS; i++)
        bad += dict_get(&d, keys[i]) != (i % 2 ? NULL : &values[i]);
    CU_ASSERT_EQUAL(bad, 0);

    memset(seen, 0, sizeof seen);
    dict_each(&d, count_visit, seen);
    bad = 0;
    for (int i = 0; i <= NKEYS; i++)
        bad += seen[i] != (i < NKEYS && i % 2 == 0);
    CU_ASSERT_EQUAL(bad, 0);

    /* put back a removed key, remove the rest */
    dict_put(&d, keys[1], &values[1]);
    CU_ASSERT_PTR_EQUAL(dict_get(&d, keys[1]), &values[1]);
    CU_ASSERT_EQUAL(d.count, NKEYS / 2 + 1);
    for (int i = 0; i < NKEYS; i += 2)
        dict_remove(&d, keys[i]);
    CU_ASSERT_EQUAL(d.count, 1);
    CU_ASSERT_PTR_EQUAL(dict_remove(&d, keys[1]), &values[1]);
    CU_ASSERT_EQUAL(d.count, 0);
    memset(seen, 0, sizeof seen);
    dict_each(&d, count_visit, seen);
    bad = 0;
    for (int i = 0; i <= NKEYS; i++)
        bad += seen[i] != 0;
    CU_ASSERT_EQUAL(bad, 0);
    dict_release(&d);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_PTR_NULL(d.buckets);
}

static void test_dict_release_with_entries(void)
{
    /* nodes are freed by dict_release (LeakSanitizer checks); values are not */
    dict_t d = { 0 };
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        dict_put(&d, keys[i], &values[i]);
    }
    dict_release(&d);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_EQUAL(d.nbuckets, 0);
    dict_put(&d, keys[0], &values[0]);   /* usable again */
    CU_ASSERT_PTR_EQUAL(dict_get(&d, "k0"), &values[0]);
    dict_release(&d);
}

/* ------------------------------------------------------------ ptrset --- */

enum { NPTRS = 4000 };
static char pool[NPTRS];

/* Every slot holds a distinct member and every member is in a slot. */
static bool ptrset_consistent(const ptrset_t *s, const bool *member, size_t n)
{
    static unsigned char seen[NPTRS];
    memset(seen, 0, n);
    size_t found = 0, want = 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i])
            continue;
        ptrdiff_t k = (char *)s->slots[i] - pool;
        if (k < 0 || (size_t)k >= n || !member[k] || seen[k]++)
            return false;
        found++;
    }
    for (size_t k = 0; k < n; k++) {
        want += member[k];
        if (ptrset_has(s, &pool[k]) != member[k])
            return false;
    }
    return found == want && s->count == want;
}

static void test_ptrset_basic(void)
{
    ptrset_t s = { 0 };
    CU_ASSERT_FALSE(ptrset_has(&s, &pool[0]));
    CU_ASSERT_FALSE(ptrset_remove(&s, &pool[0]));
    CU_ASSERT_TRUE(ptrset_add(&s, &pool[0]));
    CU_ASSERT_FALSE(ptrset_add(&s, &pool[0]));      /* duplicate */
    CU_ASSERT_EQUAL(s.count, 1);
    CU_ASSERT_TRUE(ptrset_add(&s, &pool[1]));
    CU_ASSERT_TRUE(ptrset_has(&s, &pool[0]));
    CU_ASSERT_TRUE(ptrset_has(&s, &pool[1]));
    CU_ASSERT_FALSE(ptrset_has(&s, &pool[2]));
    CU_ASSERT_FALSE(ptrset_remove(&s, &pool[2]));
    CU_ASSERT_EQUAL(s.count, 2);
    CU_ASSERT_TRUE(ptrset_remove(&s, &pool[0]));
    CU_ASSERT_FALSE(ptrset_remove(&s, &pool[0]));
    CU_ASSERT_FALSE(ptrset_has(&s, &pool[0]));
    CU_ASSERT_TRUE(ptrset_has(&s, &pool[1]));
    CU_ASSERT_EQUAL(s.count, 1);
    CU_ASSERT_TRUE(ptrset_remove(&s, &pool[1]));
    /* empty again: the slots are freed */
    CU_ASSERT_EQUAL(s.count, 0);
    CU_ASSERT_EQUAL(s.cap, 0);
    CU_ASSERT_PTR_NULL(s.slots);
    CU_ASSERT_FALSE(ptrset_has(&s, &pool[1]));
    CU_ASSERT_TRUE(ptrset_add(&s, &pool[1]));       /* and usable again */
    ptrset_release(&s);
    CU_ASSERT_PTR_NULL(s.slots);
    CU_ASSERT_EQUAL(s.count, 0);
}

static void test_ptrset_grow_and_iterate(void)
{
    ptrset_t s = { 0 };
    static bool member[NPTRS];
    memset(member, 0, sizeof member);
    for (size_t i = 0; i < NPTRS; i++) {
        CU_ASSERT_TRUE(ptrset_add(&s, &pool[i]));
        member[i] = true;
        CU_ASSERT_TRUE(s.count * 4 <= s.cap * 3);   /* load stays under 3/4 */
    }
    CU_ASSERT_EQUAL(s.count, NPTRS);
    CU_ASSERT_EQUAL(s.cap & (s.cap - 1), 0);
    size_t dup = 0;
    for (size_t i = 0; i < NPTRS; i++)
        dup += ptrset_add(&s, &pool[i]);
    CU_ASSERT_EQUAL(dup, 0);
    CU_ASSERT_EQUAL(s.count, NPTRS);
    CU_ASSERT_TRUE(ptrset_consistent(&s, member, NPTRS));
    ptrset_release(&s);
}

static void test_ptrset_random_removals(void)
{
    /* fill, then remove in random order, checking after every removal that
     * every remaining member is still reachable from its home slot */
    enum { N = 1500 };
    ptrset_t s = { 0 };
    static bool member[N];
    size_t order[N];
    for (size_t i = 0; i < N; i++) {
        ptrset_add(&s, &pool[i]);
        member[i] = true;
        order[i] = i;
    }
    shuffle(order, N);
    size_t broken = 0;
    for (size_t i = 0; i < N; i++) {
        CU_ASSERT_TRUE(ptrset_remove(&s, &pool[order[i]]));
        member[order[i]] = false;
        if (!ptrset_consistent(&s, member, N) && broken++ == 0)
            fprintf(stderr, "\n  inconsistent after removing %zu of %d", i + 1, N);
    }
    CU_ASSERT_EQUAL(broken, 0);
    CU_ASSERT_EQUAL(s.count, 0);
    CU_ASSERT_EQUAL(s.cap, 0);
    CU_ASSERT_PTR_NULL(s.slots);
}

static void test_ptrset_interleaved(void)
{
    /* random adds and removes on small and mid-sized sets, where probe chains
     * are dense and wrap around the end of the table */
    static const size_t sizes[] = { 12, 40, 300 };
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        size_t n = sizes[z];
        ptrset_t s = { 0 };
        static bool member[NPTRS];
        memset(member, 0, sizeof member);
        size_t broken = 0, wrong = 0, count = 0;
        for (size_t step = 0; step < 20000; step++) {
            size_t k = unit_rand(n);
            if (unit_rand(3) != 0) {   /* bias towards adding so the set fills up */
                wrong += ptrset_add(&s, &pool[k]) == member[k];
                count += !member[k];
                member[k] = true;
            } else {
                wrong += ptrset_remove(&s, &pool[k]) != member[k];
                count -= member[k];
                member[k] = false;
            }
            if ((n < 100 || step % 50 == 0) && !ptrset_consistent(&s, member, n))
                broken++;
            if (step % 997 == 0) {   /* now and then empty it completely */
                for (size_t i = 0; i < n; i++)
                    if (member[i]) {
                        wrong += !ptrset_remove(&s, &pool[i]);
                        member[i] = false;
                    }
                count = 0;
                wrong += s.cap != 0 || s.slots != NULL;
            }
            wrong += s.count != count;
        }
        CU_ASSERT_EQUAL(wrong, 0);
        CU_ASSERT_EQUAL(broken, 0);
        CU_ASSERT_TRUE(ptrset_consistent(&s, member, n));
        ptrset_release(&s);
    }
}

static void test_ptrset_heap_pointers(void)
{
    /* real allocations, as the tables store sessions */
    enum { N = 500 };
    void *p[N];
    ptrset_t s = { 0 };
    for (size_t i = 0; i < N; i++) {
        p[i] = malloc(24);
        CU_ASSERT_TRUE(ptrset_add(&s, p[i]));
    }
    size_t bad = 0;
    for (size_t i = 0; i < N; i += 2)
        bad += !ptrset_remove(&s, p[i]);
    for (size_t i = 0; i < N; i++)
        bad += ptrset_has(&s, p[i]) != (i % 2 == 1);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(s.count, N / 2);
    size_t slots = 0;
    for (size_t i = 0; i < s.cap; i++)
        slots += s.slots[i] != NULL;
    CU_ASSERT_EQUAL(slots, N / 2);
    ptrset_release(&s);
    for (size_t i = 0; i < N; i++)
        free(p[i]);
}

static const struct unit_test tests[] = {
    UNIT_TEST(test_dict_empty),
    UNIT_TEST(test_dict_hash),
    UNIT_TEST(test_dict_growth),
    UNIT_TEST(test_dict_release_with_entries),
    UNIT_TEST(test_ptrset_basic),
    UNIT_TEST(test_ptrset_grow_and_iterate),
    UNIT_TEST(test_ptrset_random_removals),
    UNIT_TEST(test_ptrset_interleaved),
    UNIT_TEST(test_ptrset_heap_pointers),
};
UNIT_MAIN("dict", tests)
