/* check_support.h — what every Beskid Check suite shares: one way to run a suite (so CTest and CI
 * read the same summary line everywhere) and the version test every library carries. */
#ifndef BESKID_CHECK_SUPPORT_H
#define BESKID_CHECK_SUPPORT_H

#include <check.h>

/* Runs the suite with Check's normal output; returns the process exit status (0 when every test
 * passed). Honours CK_FORK, CK_RUN_CASE and friends as Check does. */
int beskid_test_run(Suite *suite);

/* A test case asserting that `query()` returns `expected`, that it is well-formed
 * MAJOR.MINOR.PATCH, and that it equals the first line of the VERSION file at `version_file`. */
TCase *beskid_test_version_case(const char *(*query)(void), const char *expected,
                                const char *version_file);

/* Deterministic pseudo-random numbers for seeded tests (xorshift64*). */
typedef struct beskid_test_rng {
  unsigned long long state;
} beskid_test_rng;
void beskid_test_rng_seed(beskid_test_rng *rng, unsigned long long seed);
unsigned long long beskid_test_rng_next(beskid_test_rng *rng);
/* A number in [0, bound); bound must be > 0. */
unsigned long long beskid_test_rng_below(beskid_test_rng *rng, unsigned long long bound);

#endif
