/* test_math.c — the math area of libs/stdhost: each function on ordinary values, and the IEEE 754
 * cases a program relies on (NaN, infinities, signed zeros, domain errors, exact results), then
 * the checked i64 arithmetic and its arithmetic_overflow traps. */
#include <float.h>
#include <math.h>

#include "stdhost_test.h"

#define NEAR(a, b)                                                                                 \
  ck_assert_msg(fabs((a) - (b)) <= 1e-15 * fmax(1.0, fabs(b)), "%.17g vs %.17g", (a), (b))
#define SAME(a, b) ck_assert_msg((a) == (b) && signbit(a) == signbit(b), "%.17g vs %.17g", (a), (b))

static const double PI = 3.141592653589793;

START_TEST(test_ordinary_values) {
  SAME(beskid_std_math_floor(2.7), 2.0);
  SAME(beskid_std_math_floor(-2.2), -3.0);
  SAME(beskid_std_math_ceil(2.2), 3.0);
  SAME(beskid_std_math_ceil(-2.7), -2.0);
  SAME(beskid_std_math_round(2.5), 3.0);
  SAME(beskid_std_math_round(-2.5), -3.0); /* halfway: away from zero */
  SAME(beskid_std_math_round(0.49999999999999994), 0.0);
  SAME(beskid_std_math_trunc(-2.7), -2.0);
  SAME(beskid_std_math_sqrt(2.0), 1.4142135623730951);
  NEAR(beskid_std_math_cbrt(-27.0), -3.0); /* the C library need not round cbrt exactly */
  NEAR(beskid_std_math_exp(1.0), 2.718281828459045);
  NEAR(beskid_std_math_log(2.718281828459045), 1.0);
  SAME(beskid_std_math_log2(1024.0), 10.0);
  SAME(beskid_std_math_log10(1000.0), 3.0);
  NEAR(beskid_std_math_sin(PI / 6), 0.5);
  NEAR(beskid_std_math_cos(PI / 3), 0.5);
  NEAR(beskid_std_math_tan(PI / 4), 1.0);
  NEAR(beskid_std_math_asin(1.0), PI / 2);
  NEAR(beskid_std_math_acos(-1.0), PI);
  NEAR(beskid_std_math_atan(1.0), PI / 4);
  NEAR(beskid_std_math_sinh(1.0), 1.1752011936438014);
  NEAR(beskid_std_math_cosh(1.0), 1.5430806348152437);
  NEAR(beskid_std_math_tanh(0.5), 0.46211715726000974);
  SAME(beskid_std_math_fabs(-3.5), 3.5);
  SAME(beskid_std_math_pow(2.0, 10.0), 1024.0);
  SAME(beskid_std_math_pow(-2.0, 3.0), -8.0);
  SAME(beskid_std_math_pow(4.0, 0.5), 2.0);
  SAME(beskid_std_math_fmod(5.5, 2.0), 1.5);
  SAME(beskid_std_math_fmod(-5.5, 2.0), -1.5); /* the sign of x */
  SAME(beskid_std_math_hypot(3.0, 4.0), 5.0);
}
END_TEST

START_TEST(test_atan2_quadrants) {
  NEAR(beskid_std_math_atan2(1.0, 1.0), PI / 4);
  NEAR(beskid_std_math_atan2(1.0, -1.0), 3 * PI / 4);
  NEAR(beskid_std_math_atan2(-1.0, -1.0), -3 * PI / 4);
  NEAR(beskid_std_math_atan2(-1.0, 1.0), -PI / 4);
  SAME(beskid_std_math_atan2(0.0, 1.0), 0.0);
  SAME(beskid_std_math_atan2(-0.0, 1.0), -0.0);
  NEAR(beskid_std_math_atan2(0.0, -1.0), PI);
  NEAR(beskid_std_math_atan2(-0.0, -1.0), -PI);
  NEAR(beskid_std_math_atan2(1.0, 0.0), PI / 2);
}
END_TEST

START_TEST(test_ieee_special_cases) {
  double nan = NAN, inf = INFINITY;
  /* NaN in, NaN out. */
  double (*unary[])(double) = {
      beskid_std_math_floor, beskid_std_math_ceil,  beskid_std_math_round, beskid_std_math_trunc,
      beskid_std_math_sqrt,  beskid_std_math_cbrt,  beskid_std_math_exp,   beskid_std_math_log,
      beskid_std_math_log2,  beskid_std_math_log10, beskid_std_math_sin,   beskid_std_math_cos,
      beskid_std_math_tan,   beskid_std_math_asin,  beskid_std_math_acos,  beskid_std_math_atan,
      beskid_std_math_sinh,  beskid_std_math_cosh,  beskid_std_math_tanh,  beskid_std_math_fabs};
  for (size_t i = 0; i < sizeof unary / sizeof unary[0]; i++) ck_assert(isnan(unary[i](nan)));
  ck_assert(isnan(beskid_std_math_atan2(nan, 1.0)));
  ck_assert(isnan(beskid_std_math_fmod(nan, 1.0)));
  ck_assert(isnan(beskid_std_math_pow(nan, 2.0)));
  /* Domain errors give NaN, never a trap. */
  ck_assert(isnan(beskid_std_math_sqrt(-1.0)));
  ck_assert(isnan(beskid_std_math_log(-1.0)));
  ck_assert(isnan(beskid_std_math_asin(2.0)));
  ck_assert(isnan(beskid_std_math_acos(-1.5)));
  ck_assert(isnan(beskid_std_math_fmod(1.0, 0.0)));
  ck_assert(isnan(beskid_std_math_fmod(inf, 1.0)));
  ck_assert(isnan(beskid_std_math_pow(-8.0, 1.0 / 3.0)));
  ck_assert(isnan(beskid_std_math_sin(inf)));
  /* Poles and overflow give infinities. */
  SAME(beskid_std_math_log(0.0), -inf);
  SAME(beskid_std_math_log(-0.0), -inf);
  SAME(beskid_std_math_log2(0.0), -inf);
  SAME(beskid_std_math_exp(1000.0), inf);
  SAME(beskid_std_math_exp(-1000.0), 0.0);
  SAME(beskid_std_math_exp(-inf), 0.0);
  SAME(beskid_std_math_pow(0.0, -1.0), inf);
  SAME(beskid_std_math_pow(-0.0, -1.0), -inf);
  SAME(beskid_std_math_cosh(1000.0), inf);
  SAME(beskid_std_math_sqrt(inf), inf);
  SAME(beskid_std_math_tanh(inf), 1.0);
  SAME(beskid_std_math_tanh(-inf), -1.0);
  SAME(beskid_std_math_atan(inf), PI / 2);
  /* Signed zeros kept. */
  SAME(beskid_std_math_sqrt(-0.0), -0.0);
  SAME(beskid_std_math_floor(-0.5), -1.0);
  SAME(beskid_std_math_ceil(-0.5), -0.0);
  SAME(beskid_std_math_round(-0.4), -0.0);
  SAME(beskid_std_math_trunc(-0.7), -0.0);
  SAME(beskid_std_math_fabs(-0.0), 0.0);
  SAME(beskid_std_math_sin(-0.0), -0.0);
  SAME(beskid_std_math_cbrt(-0.0), -0.0);
  SAME(beskid_std_math_fmod(-0.0, 3.0), -0.0);
  ck_assert(!signbit(beskid_std_math_fabs(-nan)));
  /* pow's exact cases (C11 F.10.4.4). */
  SAME(beskid_std_math_pow(nan, 0.0), 1.0);
  SAME(beskid_std_math_pow(1.0, nan), 1.0);
  SAME(beskid_std_math_pow(-1.0, inf), 1.0);
  SAME(beskid_std_math_pow(0.5, inf), 0.0);
  SAME(beskid_std_math_pow(2.0, -inf), 0.0);
  /* hypot: no intermediate overflow, and infinity beats NaN. */
  ck_assert(isfinite(beskid_std_math_hypot(1e300, 1e300)));
  NEAR(beskid_std_math_hypot(1e300, 1e300), 1.4142135623730951e300);
  SAME(beskid_std_math_hypot(inf, nan), inf);
  SAME(beskid_std_math_hypot(nan, -inf), inf);
  SAME(beskid_std_math_hypot(DBL_MIN, DBL_MIN), DBL_MIN * 1.4142135623730951);
  /* Large integers: floor and friends leave them alone. */
  SAME(beskid_std_math_floor(9007199254740993.0), 9007199254740992.0);
  SAME(beskid_std_math_round(4503599627370497.0), 4503599627370497.0);
}
END_TEST

START_TEST(test_checked_arithmetic) {
  ck_assert_int_eq(beskid_std_math_checked_add(2, 3), 5);
  ck_assert_int_eq(beskid_std_math_checked_add(INT64_MAX, 0), INT64_MAX);
  ck_assert_int_eq(beskid_std_math_checked_add(INT64_MAX, INT64_MIN), -1);
  ck_assert_int_eq(beskid_std_math_checked_sub(INT64_MIN, 0), INT64_MIN);
  ck_assert_int_eq(beskid_std_math_checked_sub(-1, INT64_MAX), INT64_MIN);
  ck_assert_int_eq(beskid_std_math_checked_mul(-1, INT64_MAX), -INT64_MAX);
  ck_assert_int_eq(beskid_std_math_checked_mul(INT64_C(3037000499), INT64_C(3037000499)),
                   INT64_C(9223372030926249001));
  ck_assert_int_eq(beskid_std_math_checked_mul(INT64_MIN, 1), INT64_MIN);
  ck_assert_int_eq(beskid_std_math_checked_mul(0, INT64_MIN), 0);
}
END_TEST

static void add_overflow(void) { beskid_std_math_checked_add(INT64_MAX, 1); }
static void add_underflow(void) { beskid_std_math_checked_add(INT64_MIN, -1); }
static void sub_overflow(void) { beskid_std_math_checked_sub(INT64_MIN, 1); }
static void sub_min(void) { beskid_std_math_checked_sub(0, INT64_MIN); }
static void mul_overflow(void) {
  beskid_std_math_checked_mul(INT64_C(3037000500), INT64_C(3037000500));
}
static void mul_min(void) { beskid_std_math_checked_mul(-1, INT64_MIN); }

START_TEST(test_checked_traps) {
  STD_EXPECT_TRAP(add_overflow, "arithmetic_overflow (3)",
                  "9223372036854775807 + 1 does not fit an int");
  STD_EXPECT_TRAP(add_underflow, "arithmetic_overflow (3)", "-9223372036854775808 + -1");
  STD_EXPECT_TRAP(sub_overflow, "arithmetic_overflow (3)", "-9223372036854775808 - 1");
  STD_EXPECT_TRAP(sub_min, "arithmetic_overflow (3)", "0 - -9223372036854775808");
  STD_EXPECT_TRAP(mul_overflow, "arithmetic_overflow (3)", "3037000500 * 3037000500");
  STD_EXPECT_TRAP(mul_min, "arithmetic_overflow (3)", "-1 * -9223372036854775808");
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_math");
  TCase *tc = tcase_create("math");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_ordinary_values);
  tcase_add_test(tc, test_atan2_quadrants);
  tcase_add_test(tc, test_ieee_special_cases);
  tcase_add_test(tc, test_checked_arithmetic);
  tcase_add_test(tc, test_checked_traps);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
