/* math.c — the math the standard library takes from the host: the C library's IEEE 754 double
 * functions (C11 Annex F: NaN propagates, domain errors give NaN, poles and overflow give
 * infinity; the build never uses -ffast-math, which would break that), and i64 arithmetic that
 * traps arithmetic_overflow instead of wrapping. */
#include <math.h>
#include <stdio.h>

#include "internal.h"

double beskid_std_math_floor(double x) { return floor(x); }
double beskid_std_math_ceil(double x) { return ceil(x); }
double beskid_std_math_round(double x) { return round(x); }
double beskid_std_math_trunc(double x) { return trunc(x); }
double beskid_std_math_sqrt(double x) { return sqrt(x); }
double beskid_std_math_cbrt(double x) { return cbrt(x); }
double beskid_std_math_exp(double x) { return exp(x); }
double beskid_std_math_log(double x) { return log(x); }
double beskid_std_math_log2(double x) { return log2(x); }
double beskid_std_math_log10(double x) { return log10(x); }
double beskid_std_math_sin(double x) { return sin(x); }
double beskid_std_math_cos(double x) { return cos(x); }
double beskid_std_math_tan(double x) { return tan(x); }
double beskid_std_math_asin(double x) { return asin(x); }
double beskid_std_math_acos(double x) { return acos(x); }
double beskid_std_math_atan(double x) { return atan(x); }
double beskid_std_math_atan2(double y, double x) { return atan2(y, x); }
double beskid_std_math_sinh(double x) { return sinh(x); }
double beskid_std_math_cosh(double x) { return cosh(x); }
double beskid_std_math_tanh(double x) { return tanh(x); }
double beskid_std_math_fabs(double x) { return fabs(x); }
double beskid_std_math_pow(double x, double y) { return pow(x, y); }
double beskid_std_math_fmod(double x, double y) { return fmod(x, y); }
double beskid_std_math_hypot(double x, double y) { return hypot(x, y); }

static _Noreturn void overflow(const char *op, int64_t a, int64_t b) {
  char msg[128];
  (void)snprintf(msg, sizeof msg, "%lld %s %lld does not fit an int", (long long)a, op,
                 (long long)b);
  beskid_rt_trap(BESKID_TRAP_ARITHMETIC_OVERFLOW, msg);
}

int64_t beskid_std_math_checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow("+", a, b);
  return r;
}

int64_t beskid_std_math_checked_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) overflow("-", a, b);
  return r;
}

int64_t beskid_std_math_checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow("*", a, b);
  return r;
}
