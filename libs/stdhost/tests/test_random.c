/* test_random.c — the random area of libs/stdhost: the generator's sequence against reference
 * values (xoshiro256** and splitmix64 computed independently of this library), the bounded
 * draws' ranges and uniformity, entropy, and the traps. Seeded: no test depends on luck beyond
 * odds of 2^-64 or so. */
#include <math.h>
#include <stdlib.h>

#include "stdhost_test.h"

START_TEST(test_reference_sequences) {
  /* xoshiro256** from the state {1, 2, 3, 4}. */
  beskid_std_rng_t rng = {{1, 2, 3, 4}};
  const uint64_t from_1234[] = {11520, 0, 1509978240, UINT64_C(1215971899390074240)};
  for (int i = 0; i < 4; i++)
    ck_assert_uint_eq((uint64_t)beskid_std_random_next(&rng), from_1234[i]);
  /* Seeds expand through splitmix64: the state, then the first outputs. */
  beskid_std_random_seed(&rng, 0);
  ck_assert_uint_eq(rng.s[0], UINT64_C(0xe220a8397b1dcdaf));
  ck_assert_uint_eq(rng.s[1], UINT64_C(0x6e789e6aa1b965f4));
  ck_assert_uint_eq(rng.s[2], UINT64_C(0x06c45d188009454f));
  ck_assert_uint_eq(rng.s[3], UINT64_C(0xf88bb8a8724c81ec));
  const uint64_t seed0[] = {UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a),
                            UINT64_C(0x1a5f849d4933e6e0), UINT64_C(0x6aa594f1262d2d2c),
                            UINT64_C(0xbba5ad4a1f842e59)};
  for (int i = 0; i < 5; i++) ck_assert_uint_eq((uint64_t)beskid_std_random_next(&rng), seed0[i]);
  beskid_std_random_seed(&rng, 42);
  const uint64_t seed42[] = {UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
                             UINT64_C(0xae17533239e499a1)};
  for (int i = 0; i < 3; i++) ck_assert_uint_eq((uint64_t)beskid_std_random_next(&rng), seed42[i]);
  beskid_std_random_seed(&rng, -1);
  ck_assert_uint_eq((uint64_t)beskid_std_random_next(&rng), UINT64_C(0x8f5520d52a7ead08));
}
END_TEST

START_TEST(test_same_seed_same_sequence) {
  beskid_std_rng_t a, b, c;
  beskid_std_random_seed(&a, 123456789);
  beskid_std_random_seed(&b, 123456789);
  beskid_std_random_seed(&c, 123456790);
  int differ = 0;
  for (int i = 0; i < 1000; i++) {
    int64_t x = beskid_std_random_next(&a);
    ck_assert_int_eq(x, beskid_std_random_next(&b));
    differ += x != beskid_std_random_next(&c);
  }
  ck_assert_int_eq(differ, 1000);
}
END_TEST

START_TEST(test_below_range_and_uniform) {
  beskid_std_rng_t rng;
  beskid_std_random_seed(&rng, 7);
  for (int i = 0; i < 100; i++) ck_assert_int_eq(beskid_std_random_below(&rng, 1), 0);
  /* Uniform over 10 buckets: chi-square with 9 degrees of freedom; 100 000 draws. For this fixed
   * seed the statistic is a fixed number; 27.9 is the 0.1% critical value. */
  enum { DRAWS = 100000, BUCKETS = 10 };
  int counts[BUCKETS] = {0};
  for (int i = 0; i < DRAWS; i++) {
    int64_t v = beskid_std_random_below(&rng, BUCKETS);
    ck_assert(v >= 0 && v < BUCKETS);
    counts[v]++;
  }
  double chi = 0, expected = (double)DRAWS / BUCKETS;
  for (int i = 0; i < BUCKETS; i++)
    chi += (counts[i] - expected) * (counts[i] - expected) / expected;
  ck_assert_msg(chi < 27.9, "chi-square %f", chi);
  /* A bound just above 2^62: the rejection path; both halves of the range appear. */
  int64_t bound = (INT64_C(1) << 62) + 1;
  int high = 0;
  for (int i = 0; i < 1000; i++) {
    int64_t v = beskid_std_random_below(&rng, bound);
    ck_assert(v >= 0 && v < bound);
    high += v >= bound / 2;
  }
  ck_assert(high > 400 && high < 600);
  int64_t v = beskid_std_random_below(&rng, INT64_MAX);
  ck_assert(v >= 0 && v < INT64_MAX);
}
END_TEST

START_TEST(test_range_inclusive) {
  beskid_std_rng_t rng;
  beskid_std_random_seed(&rng, 99);
  int seen[5] = {0};
  for (int i = 0; i < 1000; i++) {
    int64_t v = beskid_std_random_range(&rng, -2, 2);
    ck_assert(v >= -2 && v <= 2);
    seen[v + 2]++;
  }
  for (int i = 0; i < 5; i++) ck_assert_int_gt(seen[i], 100);
  ck_assert_int_eq(beskid_std_random_range(&rng, 5, 5), 5);
  ck_assert_int_eq(beskid_std_random_range(&rng, INT64_MIN, INT64_MIN), INT64_MIN);
  /* The whole int range, and ranges straddling it, without overflow. */
  int negative = 0;
  for (int i = 0; i < 1000; i++)
    negative += beskid_std_random_range(&rng, INT64_MIN, INT64_MAX) < 0;
  ck_assert(negative > 400 && negative < 600);
  for (int i = 0; i < 1000; i++) {
    int64_t w = beskid_std_random_range(&rng, INT64_MAX - 3, INT64_MAX);
    ck_assert(w >= INT64_MAX - 3);
    w = beskid_std_random_range(&rng, INT64_MIN, INT64_MIN + 1);
    ck_assert(w <= INT64_MIN + 1);
  }
}
END_TEST

START_TEST(test_float_unit_interval) {
  beskid_std_rng_t rng;
  beskid_std_random_seed(&rng, 2024);
  double sum = 0, lo = 1, hi = 0;
  for (int i = 0; i < 100000; i++) {
    double f = beskid_std_random_float(&rng);
    ck_assert(f >= 0.0 && f < 1.0);
    ck_assert(f * 0x1.0p53 == floor(f * 0x1.0p53)); /* a multiple of 2^-53 */
    sum += f;
    if (f < lo) lo = f;
    if (f > hi) hi = f;
  }
  ck_assert(fabs(sum / 100000 - 0.5) < 0.01);
  ck_assert(lo < 0.001 && hi > 0.999);
}
END_TEST

START_TEST(test_entropy) {
  std_test_init(false);
  beskid_std_rng_t a, b;
  ck_assert_int_eq(beskid_std_random_seed_entropy(&a), BESKID_OK);
  ck_assert_int_eq(beskid_std_random_seed_entropy(&b), BESKID_OK);
  ck_assert(a.s[0] != b.s[0] || a.s[1] != b.s[1]);
  ck_assert(a.s[0] | a.s[1] | a.s[2] | a.s[3]);
  ck_assert_int_ne(beskid_std_random_next(&a), beskid_std_random_next(&b));
  /* Entropy into part of a byte array: the rest untouched. */
  beskid_array_t buf;
  array_new(&buf, 1, 64);
  void *root = buf.ptr;
  gc_register_root(&root);
  ck_assert_int_eq(beskid_std_random_entropy(&buf, 8, 48), BESKID_OK);
  const uint8_t *p = buf.ptr;
  int zeros = 0;
  for (int i = 8; i < 56; i++) zeros += p[i] == 0;
  ck_assert_int_lt(zeros, 8); /* ~0.2 expected */
  for (int i = 0; i < 8; i++) ck_assert_int_eq(p[i], 0);
  for (int i = 56; i < 64; i++) ck_assert_int_eq(p[i], 0);
  ck_assert_int_eq(beskid_std_random_entropy(&buf, 64, 0), BESKID_OK);
  gc_unregister_root(&root);
  /* Also from a thread that is not attached (no native state to enter). */
  beskid_rt_shutdown();
  ck_assert_int_eq(beskid_std_random_seed_entropy(&a), BESKID_OK);
}
END_TEST

static beskid_std_rng_t shared;
static void next_null(void) { beskid_std_random_next(NULL); }
static void seed_null(void) { beskid_std_random_seed(NULL, 1); }
static void entropy_seed_null(void) { beskid_std_random_seed_entropy(NULL); }
static void float_null(void) { beskid_std_random_float(NULL); }
static void below_zero(void) { beskid_std_random_below(&shared, 0); }
static void below_negative(void) { beskid_std_random_below(&shared, -5); }
static void range_inverted(void) { beskid_std_random_range(&shared, 3, 2); }
static void range_null(void) { beskid_std_random_range(NULL, 0, 1); }
static void entropy_past_end(void) {
  static uint8_t four[4];
  beskid_array_t a = {four, 4, 4};
  beskid_std_random_entropy(&a, 1, 4);
}

START_TEST(test_random_traps) {
  STD_EXPECT_TRAP(next_null, "null_reference (1)", "beskid_std_random_next: NULL generator");
  STD_EXPECT_TRAP(seed_null, "null_reference (1)", "random_seed: NULL generator");
  STD_EXPECT_TRAP(entropy_seed_null, "null_reference (1)", "seed_entropy: NULL generator");
  STD_EXPECT_TRAP(float_null, "null_reference (1)", "random_float: NULL generator");
  STD_EXPECT_TRAP(below_zero, "bounds (2)", "random_below: bound 0 is not positive");
  STD_EXPECT_TRAP(below_negative, "bounds (2)", "random_below: bound -5 is not positive");
  STD_EXPECT_TRAP(range_inverted, "bounds (2)", "random_range: empty range [3, 2]");
  STD_EXPECT_TRAP(range_null, "null_reference (1)");
  STD_EXPECT_TRAP(entropy_past_end, "bounds (2)", "random_entropy: range [1, 1 + 4)");
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_random");
  TCase *tc = tcase_create("generator");
  tcase_set_timeout(tc, 60); /* 100,000 draws with checks: slow under the thread sanitizer */
  tcase_add_test(tc, test_reference_sequences);
  tcase_add_test(tc, test_same_seed_same_sequence);
  tcase_add_test(tc, test_below_range_and_uniform);
  tcase_add_test(tc, test_range_inclusive);
  tcase_add_test(tc, test_float_unit_interval);
  suite_add_tcase(suite, tc);
  tc = tcase_create("entropy");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_entropy);
  tcase_add_test(tc, test_random_traps);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
