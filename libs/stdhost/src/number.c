/* number.c — numbers to text and back: decimal i64, shortest round-trip f64, bool, and the
 * parsers with their distinct statuses.
 *
 * Shortest float digits follow the idea of Giulietti's "Schubfach" paper: for a double
 * v = c·2^q, pick k so that 10^k ≤ 2^q < 10^(k+1); scale the rounding interval's bounds
 * (4c ∓ 2, with the lower one closer when c is a power of two) by 10^-k with a 128-bit
 * over-estimate g of 10^-k and round to odd, which keeps every comparison exact; then the
 * interval holds at most one multiple of 10 (a shorter result) and at least one of the two
 * integers around v·10^-k. The table of g comes from tools/gen_pow10.py (exact integers).
 * Integers below 2^53 take a direct path: their own digits are the shortest.
 *
 * Parsing checks the whole grammar itself (so each failure has its own status), takes the exact
 * fast path when the significand fits 53 bits and the power of ten is exact in a double
 * (Clinger), and otherwise hands a normalised copy (digits and an exponent, no decimal point,
 * hence no locale) to the C library's correctly rounding strtod. Nothing here allocates. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strings_internal.h"

#include "pow10_table.h"

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* Writes the decimal digits of v ending just before `end`; returns where they start. */
static char *write_u64_backwards(char *end, uint64_t v) {
  while (v >= 100) {
    uint64_t pair = v % 100;
    v /= 100;
    end -= 2;
    memcpy(end, &digit_pairs[pair * 2], 2);
  }
  if (v >= 10) {
    end -= 2;
    memcpy(end, &digit_pairs[v * 2], 2);
  } else {
    *--end = (char)('0' + v);
  }
  return end;
}

size_t beskid_std_format_i64(char *buf, int64_t value) {
  char tmp[BESKID_STD_I64_TEXT_MAX];
  char *end = tmp + sizeof tmp;
  /* The magnitude as unsigned: INT64_MIN has no positive i64. */
  uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
  char *start = write_u64_backwards(end, mag);
  size_t n = 0;
  if (value < 0) buf[n++] = '-';
  memcpy(buf + n, start, (size_t)(end - start));
  return n + (size_t)(end - start);
}

/* ------------------------------------------------------------------------------------------ */
/* Shortest digits */

__extension__ typedef unsigned __int128 u128;

/* floor(x / 2^22) for any sign. */
static inline int32_t floor_shift22(int64_t x) {
  return (int32_t)(x >= 0 ? x / (INT64_C(1) << 22) : -((-x + (INT64_C(1) << 22) - 1) >> 22));
}

/* cp·g / 2^128 rounded to odd: the integer part, with its lowest bit set when a fraction
 * remains (beyond g's over-estimate, which stays below one unit of the low word). */
static inline uint64_t round_to_odd(uint64_t g_hi, uint64_t g_lo, uint64_t cp) {
  u128 low = (u128)g_lo * cp;
  u128 y = (u128)g_hi * cp + (low >> 64);
  uint64_t y_hi = (uint64_t)(y >> 64), y_lo = (uint64_t)y;
  return y_hi | (y_lo > 1);
}

void beskid_std_f64_shortest(double value, uint64_t *digits, int32_t *exp10) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  uint64_t fraction = bits & ((UINT64_C(1) << 52) - 1);
  uint32_t biased = (uint32_t)(bits >> 52) & 0x7ffu;
  uint64_t c;
  int32_t q;
  if (biased == 0) {
    c = fraction;
    q = -1074;
  } else {
    c = fraction | (UINT64_C(1) << 52);
    q = (int32_t)biased - 1075;
  }
  uint64_t d;
  int32_t e;
  if (q <= 0 && q >= -52 && (c & ((UINT64_C(1) << -q) - 1)) == 0) {
    /* An integer below 2^53: the spacing of doubles here is ≤ 1, so no decimal with fewer
     * significant digits than the integer itself (trailing zeros aside) rounds to it. */
    d = c >> -q;
    e = 0;
  } else {
    bool even = (c & 1) == 0;
    bool lower_closer = fraction == 0 && biased > 1;
    uint64_t cbl = 4 * c - 2 + lower_closer, cb = 4 * c, cbr = 4 * c + 2;
    /* k = floor(log10(2^q)), or floor(log10(3/4 · 2^q)) when the lower bound is closer;
     * 1262611 / 2^22 ≈ log10(2) and 524031 / 2^22 ≈ log10(4/3), exact over the double range. */
    int32_t k = floor_shift22((int64_t)q * 1262611 - (lower_closer ? 524031 : 0));
    int32_t index = -k - BESKID_STD_POW10_MIN;
    uint64_t g_hi = beskid_std_pow10[index].hi, g_lo = beskid_std_pow10[index].lo;
    /* h in [1, 4] scales c so that the product lands with two fraction bits (the 4c). */
    int32_t h = q + beskid_std_pow10[index].log2 + 1;
    uint64_t vbl = round_to_odd(g_hi, g_lo, cbl << h);
    uint64_t vb = round_to_odd(g_hi, g_lo, cb << h);
    uint64_t vbr = round_to_odd(g_hi, g_lo, cbr << h);
    /* Bounds are inclusive for even c (ties parse to even), exclusive otherwise. */
    uint64_t lower = vbl + !even, upper = vbr - !even;
    uint64_t s = vb >> 2;
    if (s >= 10) {
      /* One digit shorter: at most one multiple of 10 fits in the interval. */
      uint64_t sp = s / 10;
      uint64_t up = sp * 40, wp = up + 40;
      bool up_in = lower <= up, wp_in = wp <= upper;
      if (up_in != wp_in) {
        d = up_in ? sp : sp + 1;
        e = k + 1;
        goto strip;
      }
    }
    {
      uint64_t u = s * 4, w = u + 4;
      bool u_in = lower <= u, w_in = w <= upper;
      if (u_in != w_in) {
        d = u_in ? s : s + 1;
      } else {
        /* Both fit: the closer one, ties to the even digit. */
        uint64_t mid = u + 2;
        d = (vb > mid || (vb == mid && (s & 1) != 0)) ? s + 1 : s;
      }
      e = k;
    }
  }
strip:
  while (d % 10 == 0) {
    d /= 10;
    e++;
  }
  *digits = d;
  *exp10 = e;
}

size_t beskid_std_format_f64(char *buf, double value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  size_t n = 0;
  bool negative = (bits >> 63) != 0;
  uint64_t magnitude = bits & ~(UINT64_C(1) << 63);
  if (magnitude >= UINT64_C(0x7ff0000000000000)) {
    /* `buf` receives a counted text (the length is returned), never a C string. */
    if (magnitude > UINT64_C(0x7ff0000000000000)) {
      memcpy(buf, "NaN", 3); // NOLINT(bugprone-not-null-terminated-result)
      return 3;
    }
    memcpy(buf, negative ? "-Inf" : "+Inf", 4); // NOLINT(bugprone-not-null-terminated-result)
    return 4;
  }
  if (negative) buf[n++] = '-';
  if (magnitude == 0) {
    buf[n++] = '0';
    return n;
  }
  double positive;
  memcpy(&positive, &magnitude, sizeof positive);
  uint64_t d;
  int32_t e;
  beskid_std_f64_shortest(positive, &d, &e);
  char digits[20];
  char *dend = digits + sizeof digits;
  char *dstart = write_u64_backwards(dend, d);
  int32_t nd = (int32_t)(dend - dstart);
  int32_t x = nd - 1 + e; /* value = d1.d2…dn × 10^x */
  char *p = buf + n;
  if (x < -4 || x >= 17) {
    *p++ = dstart[0];
    if (nd > 1) {
      *p++ = '.';
      memcpy(p, dstart + 1, (size_t)(nd - 1));
      p += nd - 1;
    }
    *p++ = 'e';
    *p++ = x < 0 ? '-' : '+';
    uint32_t ax = (uint32_t)(x < 0 ? -x : x);
    if (ax >= 100) {
      *p++ = (char)('0' + ax / 100);
      ax %= 100;
    }
    memcpy(p, &digit_pairs[(size_t)ax * 2], 2);
    p += 2;
  } else if (x < 0) {
    /* 0.000ddd */
    *p++ = '0';
    *p++ = '.';
    for (int32_t i = -1; i > x; i--) *p++ = '0';
    memcpy(p, dstart, (size_t)nd);
    p += nd;
  } else if (x + 1 >= nd) {
    /* An integer: the digits then zeros. */
    memcpy(p, dstart, (size_t)nd);
    p += nd;
    for (int32_t i = nd; i <= x; i++) *p++ = '0';
  } else {
    /* ddd.ddd */
    memcpy(p, dstart, (size_t)x + 1);
    p += x + 1;
    *p++ = '.';
    memcpy(p, dstart + x + 1, (size_t)(nd - x - 1));
    p += nd - x - 1;
  }
  return (size_t)(p - buf);
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing */

int32_t beskid_std_str_parse_i64(const beskid_str_t *s, int64_t *out) {
  beskid_str_t v = beskid_std_check_str(s, "str_parse_i64");
  beskid_std_check_out(out, "str_parse_i64");
  if (v.len == 0) return BESKID_STD_PARSE_EMPTY;
  const uint8_t *p = v.ptr, *end = v.ptr + v.len;
  bool negative = false;
  if (*p == '-' || *p == '+') negative = *p++ == '-';
  if (p == end || (unsigned)(*p - '0') > 9) return BESKID_STD_PARSE_SYNTAX;
  /* The magnitude may reach 2^63 for a negative number. */
  uint64_t limit = negative ? UINT64_C(1) << 63 : (uint64_t)INT64_MAX;
  uint64_t acc = 0;
  bool overflow = false;
  for (; p < end && (unsigned)(*p - '0') <= 9; p++) {
    uint64_t digit = (uint64_t)(*p - '0');
    if (acc > (limit - digit) / 10)
      overflow = true; /* keep scanning: junk wins over range */
    else
      acc = acc * 10 + digit;
  }
  if (p != end) return BESKID_STD_PARSE_TRAILING;
  if (overflow) return BESKID_STD_PARSE_OVERFLOW;
  *out = negative ? (int64_t)((uint64_t)0 - acc) : (int64_t)acc;
  return BESKID_STD_PARSE_OK;
}

/* Whether [p, end) spells `word` ignoring ASCII case. */
static bool ascii_ieq(const uint8_t *p, const uint8_t *end, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(end - p) != n) return false;
  for (size_t i = 0; i < n; i++) {
    if ((p[i] | 0x20) != (uint8_t)word[i]) return false;
  }
  return true;
}

/* Digits kept for strtod: beyond ~770 significant digits only whether any further digit is
 * non-zero can change the rounding, so the rest collapses into one sticky digit. */
#define PARSE_DIGITS_MAX 800

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int32_t beskid_std_str_parse_f64(const beskid_str_t *s, double *out) {
  beskid_str_t v = beskid_std_check_str(s, "str_parse_f64");
  beskid_std_check_out(out, "str_parse_f64");
  if (v.len == 0) return BESKID_STD_PARSE_EMPTY;
  const uint8_t *p = v.ptr, *end = v.ptr + v.len;
  bool negative = false;
  if (*p == '-' || *p == '+') negative = *p++ == '-';
  if (p < end && ((*p | 0x20) == 'n' || (*p | 0x20) == 'i')) {
    if (ascii_ieq(p, end, "nan")) {
      *out = negative ? -NAN : NAN;
      return BESKID_STD_PARSE_OK;
    }
    if (ascii_ieq(p, end, "inf") || ascii_ieq(p, end, "infinity")) {
      *out = negative ? -INFINITY : INFINITY;
      return BESKID_STD_PARSE_OK;
    }
    /* "inf" or "nan" followed by more bytes is a number with trailing junk. */
    if (end - p > 3 && (ascii_ieq(p, p + 3, "nan") || ascii_ieq(p, p + 3, "inf"))) {
      return BESKID_STD_PARSE_TRAILING;
    }
    return BESKID_STD_PARSE_SYNTAX;
  }
  /* The digits D (integer part then fraction), from the first non-zero one: nsig of them,
   * the first 19 accumulated in `mantissa`; value = D × 10^(exponent − fraction digits). */
  const uint8_t *first_digit = NULL;
  uint64_t mantissa = 0;
  int64_t nsig = 0;
  int64_t point_adjust = 0; /* −(number of fraction digits) */
  bool any_digit = false;
  for (; p < end && (unsigned)(*p - '0') <= 9; p++) {
    any_digit = true;
    if (nsig == 0 && *p == '0') continue;
    if (nsig == 0) first_digit = p;
    if (nsig < 19) mantissa = mantissa * 10 + (uint64_t)(*p - '0');
    nsig++;
  }
  if (p < end && *p == '.') {
    for (p++; p < end && (unsigned)(*p - '0') <= 9; p++) {
      any_digit = true;
      point_adjust--;
      if (nsig == 0 && *p == '0') continue;
      if (nsig == 0) first_digit = p;
      if (nsig < 19) mantissa = mantissa * 10 + (uint64_t)(*p - '0');
      nsig++;
    }
  }
  if (!any_digit) return BESKID_STD_PARSE_SYNTAX;
  const uint8_t *digits_end = p;
  int64_t exponent = 0;
  if (p < end && (*p | 0x20) == 'e') {
    const uint8_t *e = p + 1;
    bool eneg = false;
    if (e < end && (*e == '-' || *e == '+')) eneg = *e++ == '-';
    if (e == end || (unsigned)(*e - '0') > 9) return BESKID_STD_PARSE_TRAILING;
    for (; e < end && (unsigned)(*e - '0') <= 9; e++) {
      /* Saturates far beyond any double's range, where the value is 0 or overflows anyway. */
      if (exponent < 100000000) exponent = exponent * 10 + (*e - '0');
    }
    if (eneg) exponent = -exponent;
    p = e;
  }
  if (p != end) return BESKID_STD_PARSE_TRAILING;
  if (nsig == 0) {
    *out = negative ? -0.0 : 0.0;
    return BESKID_STD_PARSE_OK;
  }
  int64_t exp10 = exponent + point_adjust;
  /* Clinger's fast path: an exact significand times an exact power of ten, rounded once. */
  if (nsig <= 19 && mantissa <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
    double r = (double)mantissa;
    r = exp10 < 0 ? r / exact_pow10[-exp10] : r * exact_pow10[exp10];
    *out = negative ? -r : r;
    return BESKID_STD_PARSE_OK;
  }
  /* The general case: "[-]DIGITSe<exp>" for strtod, with at most PARSE_DIGITS_MAX digits. */
  char text[PARSE_DIGITS_MAX + 40];
  size_t n = 0;
  if (negative) text[n++] = '-';
  int64_t kept = 0;
  bool sticky = false;
  for (const uint8_t *q = first_digit; q < digits_end; q++) {
    if (*q == '.') continue;
    if (kept < PARSE_DIGITS_MAX) {
      text[n++] = (char)*q;
      kept++;
    } else if (*q != '0') {
      sticky = true;
    }
  }
  /* kept digits D' stand for D / 10^(total − kept): shift the exponent to match. */
  int64_t shift = nsig - kept;
  if (sticky) {
    text[n++] = '1';
    shift--;
  }
  exp10 += shift;
  if (exp10 > 100000) exp10 = 100000;
  if (exp10 < -100000) exp10 = -100000;
  text[n++] = 'e';
  n += beskid_std_format_i64(text + n, exp10);
  text[n] = '\0';
  int saved = errno;
  double r = strtod(text, NULL);
  errno = saved;
  if (isinf(r)) return BESKID_STD_PARSE_OVERFLOW;
  *out = r;
  return BESKID_STD_PARSE_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Number → string */

void beskid_std_str_from_i64(beskid_str_t *out, int64_t value) {
  beskid_std_check_out(out, "str_from_i64");
  char buf[BESKID_STD_I64_TEXT_MAX];
  size_t n = beskid_std_format_i64(buf, value);
  beskid_std_str_from_raw(out, (const uint8_t *)buf, (int64_t)n);
}

void beskid_std_str_from_f64(beskid_str_t *out, double value) {
  beskid_std_check_out(out, "str_from_f64");
  char buf[BESKID_STD_F64_TEXT_MAX];
  size_t n = beskid_std_format_f64(buf, value);
  beskid_std_str_from_raw(out, (const uint8_t *)buf, (int64_t)n);
}

void beskid_std_str_from_bool(beskid_str_t *out, bool value) {
  beskid_std_check_out(out, "str_from_bool");
  if (value)
    beskid_std_str_from_raw(out, (const uint8_t *)"true", 4);
  else
    beskid_std_str_from_raw(out, (const uint8_t *)"false", 5);
}
