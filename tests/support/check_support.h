/* check_support.h — what every Beskid Check suite shares: one way to run a suite (so CTest and CI
 * read the same summary line everywhere), the version test every library carries, seeded random
 * numbers, death tests (a child that must end with a given status and one line on stderr) and
 * scratch directories that do not outlive the test. */
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

/* Runs fn(arg) in a forked child (which exits 0 if fn returns) and waits for it: returns its wait
 * status, with the first `cap` - 1 bytes it wrote on stderr in `out`, NUL-terminated. */
int beskid_test_run_child(void (*fn)(void *), void *arg, char *out, size_t cap);

/* Runs fn in a forked child whose stderr is captured (the child exits 0 if fn returns); asserts
 * that the child exited with `status` and wrote exactly one line on stderr containing every
 * string of `needles` (a NULL-terminated list). */
void beskid_test_expect_exit(void (*fn)(void), int status, const char *const *needles);

/* Makes a fresh directory "$TMPDIR/beskid-<tag>-XXXXXX" (TMPDIR defaults to /tmp) and returns its
 * path, valid until the process ends. The process that made it removes it, with everything in it
 * (whatever permissions the test left), when it exits through exit(); Check's forked test runs
 * do, so each test's scratch is gone when the test is; children forked by the test leave it to
 * their parent. */
const char *beskid_test_temp_dir(const char *tag);

/* The runtime's trap exit status (BESKID_TRAP_EXIT_STATUS of beskid/runtime_abi.h, which this
 * library-neutral header does not include). */
#define BESKID_TEST_TRAP_STATUS 101

/* Asserts that fn traps: exit status 101 and one trap line containing each string given. */
#define BESKID_TEST_EXPECT_TRAP(fn, ...)                                                           \
  do {                                                                                             \
    const char *needles_[] = {"beskid runtime trap v5: ", __VA_ARGS__, NULL};                      \
    beskid_test_expect_exit(fn, BESKID_TEST_TRAP_STATUS, needles_);                                \
  } while (0)

#endif
