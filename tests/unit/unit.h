/* unit: the few lines every CUnit suite shares — one suite per module, run
 * in verbose mode, exit status 1 on any failure (automake's test protocol).
 */
#ifndef BAYEUX_TESTS_UNIT_H
#define BAYEUX_TESTS_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>

struct unit_test {
    const char *name;
    void (*fn)(void);
};

#define UNIT_TEST(fn) { #fn, fn }

/* xorshift64*: reproducible pseudo-random numbers in [0, n), the same on
 * every run and platform, for the property and fuzz-like tests. */
static uint64_t unit_rng_state = 0x9e3779b97f4a7c15ULL;

static inline size_t unit_rand(size_t n)
{
    unit_rng_state ^= unit_rng_state >> 12;
    unit_rng_state ^= unit_rng_state << 25;
    unit_rng_state ^= unit_rng_state >> 27;
    return (size_t)((unit_rng_state * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

static inline int unit_run(const char *suite, const struct unit_test *tests, size_t n)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 99;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        CU_add_test(s, tests[i].name, tests[i].fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#define UNIT_MAIN(suite, tests) \
    int main(void) { return unit_run(suite, tests, sizeof tests / sizeof *tests); }

#endif
