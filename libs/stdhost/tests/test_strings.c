/* test_strings.c — the Check suite of the strings, numbers, string builder and bytes functions of
 * libs/stdhost (CTest: stdhost_strings).
 *
 * Death tests run the faulting call in a child process with stderr captured and assert the exit
 * status (101) and the trap line. Collection tests run the runtime with stop-the-world cycles,
 * clobbering of swept objects and, where said, a collection before every allocation, so a value
 * the code under test forgot to keep alive is overwritten and the content checks fail. */
#define _GNU_SOURCE
#include <float.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/platform.h"
#include "beskid/stdhost.h"
#include "check_support.h"
#include "strings_internal.h"
#include "symbols_strings.h"

/* ------------------------------------------------------------------------------------------ */
/* Fixtures and helpers */

static void start_runtime(void) { ck_assert_int_eq(beskid_rt_init(NULL), 0); }
static void stop_runtime(void) { beskid_rt_shutdown(); }

/* Collections that expose a missing root: stop-the-world, swept objects clobbered. */
static void start_runtime_clobbering(uint64_t stress) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  c.debug_flags = BESKID_GC_DEBUG_STW | BESKID_GC_DEBUG_CLOBBER;
  c.stress_interval = stress;
  ck_assert_int_eq(beskid_rt_init(&c), 0);
}

/* A heap string with the given text (the empty string for ""). */
static beskid_str_t S(const char *text) {
  beskid_str_t s;
  str_new(&s, (const uint8_t *)text, (int64_t)strlen(text));
  return s;
}

/* Whether s holds exactly `text`. */
static bool is(beskid_str_t s, const char *text) {
  size_t n = strlen(text);
  return s.len == (int64_t)n && (n == 0 || memcmp(s.ptr, text, n) == 0);
}

#define ck_assert_str_is(s, text)                                                                  \
  do {                                                                                             \
    beskid_str_t s_ = (s);                                                                         \
    ck_assert_msg(is(s_, text), "got '%.*s' (%lld bytes), want '%s'", (int)s_.len,                 \
                  s_.ptr ? (const char *)s_.ptr : "", (long long)s_.len, text);                    \
  } while (0)

#define DEATH BESKID_TEST_EXPECT_TRAP

/* A byte array holding `n` bytes of `bytes`. */
static beskid_array_t B(const void *bytes, int64_t n) {
  beskid_array_t a;
  array_new(&a, 1, n);
  if (n > 0) memcpy(a.ptr, bytes, (size_t)n);
  return a;
}

/* ------------------------------------------------------------------------------------------ */
/* The symbol list */

typedef struct named_symbol {
  const char *name;
  void *address;
} named_symbol;

#define AS_ENTRY(name) {#name, __extension__(void *) & name},

START_TEST(test_symbols_declared) {
  /* Compiles only if every listed name is declared; each has an address and a prefix. */
  static const named_symbol table[] = {BESKID_STD_STRINGS_SYMBOLS(AS_ENTRY)};
  size_t n = sizeof table / sizeof table[0];
  ck_assert_uint_ge(n, 39);
  for (size_t i = 0; i < n; i++) {
    ck_assert_ptr_nonnull(table[i].address);
    ck_assert_int_eq(strncmp(table[i].name, "beskid_std_", 11), 0);
    for (size_t j = 0; j < i; j++) ck_assert_str_ne(table[i].name, table[j].name);
  }
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Strings */

START_TEST(test_eq_compare) {
  beskid_str_t a = S("apple"), b = S("apple"), c = S("apples"), d = S("banana"), e = {NULL, 0};
  beskid_str_t z = S("zebra"), u = S("\xc3\xa9"); /* é U+00E9 orders after every ASCII letter */
  ck_assert(beskid_std_str_eq(&a, &b));
  ck_assert(!beskid_std_str_eq(&a, &c));
  ck_assert(beskid_std_str_eq(&e, &e));
  ck_assert(!beskid_std_str_eq(&a, &e));
  ck_assert_int_eq(beskid_std_str_compare(&a, &b), 0);
  ck_assert_int_eq(beskid_std_str_compare(&a, &c), -1);
  ck_assert_int_eq(beskid_std_str_compare(&c, &a), 1);
  ck_assert_int_eq(beskid_std_str_compare(&a, &d), -1);
  ck_assert_int_eq(beskid_std_str_compare(&e, &a), -1);
  ck_assert_int_eq(beskid_std_str_compare(&e, &e), 0);
  ck_assert_int_eq(beskid_std_str_compare(&z, &u), -1);
}
END_TEST

START_TEST(test_concat) {
  beskid_str_t a = S("Łukasz "), b = S("Ægir"), e = {NULL, 0}, r;
  beskid_std_str_concat(&r, &a, &b);
  ck_assert_str_is(r, "Łukasz Ægir");
  ck_assert_ptr_ne(r.ptr, a.ptr);
  beskid_std_str_concat(&r, &a, &e);
  ck_assert(r.ptr == a.ptr && r.len == a.len); /* shared, immutable */
  beskid_std_str_concat(&r, &e, &b);
  ck_assert(r.ptr == b.ptr && r.len == b.len);
  beskid_std_str_concat(&r, &e, &e);
  ck_assert_int_eq(r.len, 0);
  /* out aliasing an input */
  beskid_std_str_concat(&a, &a, &b);
  ck_assert_str_is(a, "Łukasz Ægir");
}
END_TEST

START_TEST(test_slice) {
  beskid_str_t s = S("zażółć"), r; /* z a ż(2) ó(2) ł(2) ć(2) */
  beskid_std_str_slice(&r, &s, 0, 2);
  ck_assert_str_is(r, "za");
  ck_assert_ptr_eq(r.ptr, s.ptr);
  beskid_std_str_slice(&r, &s, 2, 6);
  ck_assert_str_is(r, "żó");
  ck_assert_ptr_eq(r.ptr, s.ptr + 2);
  beskid_std_str_slice(&r, &s, 6, s.len);
  ck_assert_str_is(r, "łć");
  beskid_std_str_slice(&r, &s, s.len, s.len);
  ck_assert(r.ptr == NULL && r.len == 0);
  beskid_std_str_slice(&r, &s, 2, 2);
  ck_assert(r.ptr == NULL && r.len == 0);
}
END_TEST

START_TEST(test_utf8_and_bytes_conversion) {
  const char text[] = "h\xc3\xa9llo \xf0\x9f\x98\x80";
  beskid_array_t a = B(text, (int64_t)strlen(text));
  ck_assert_int_eq(beskid_std_utf8_check(&a, 0, a.len), -1);
  beskid_str_t r;
  beskid_std_str_from_utf8(&r, &a, 0, a.len);
  ck_assert_str_is(r, text);
  ck_assert_ptr_ne(r.ptr, a.ptr); /* a copy: the array stays mutable */
  beskid_std_str_from_utf8(&r, &a, 1, 2);
  ck_assert_str_is(r, "\xc3\xa9");
  beskid_std_str_from_utf8(&r, &a, 3, 0);
  ck_assert(r.ptr == NULL && r.len == 0);
  ck_assert_int_eq(beskid_std_utf8_check(&a, 1, 1), 0); /* truncated é */
  ck_assert_int_eq(beskid_std_utf8_check(&a, 2, 3), 0); /* starts mid-sequence */
  ck_assert_int_eq(beskid_std_utf8_check(&a, 0, 9), 7); /* emoji cut after 2 of 4 bytes */
  const uint8_t bad[][4] = {{0xC0, 0x80}, {0xED, 0xA0, 0x80}, {0xF4, 0x90, 0x80, 0x80}, {0xFF}};
  const int64_t bad_len[] = {2, 3, 4, 1};
  for (int i = 0; i < 4; i++) {
    beskid_array_t x = B(bad[i], bad_len[i]);
    ck_assert_int_eq(beskid_std_utf8_check(&x, 0, x.len), 0);
  }
  beskid_array_t back;
  beskid_str_t s = S(text);
  beskid_std_str_to_bytes(&back, &s);
  ck_assert_int_eq(back.len, s.len);
  ck_assert_int_eq(back.cap, s.len);
  ck_assert_int_eq(memcmp(back.ptr, text, strlen(text)), 0);
  ck_assert_ptr_ne(back.ptr, s.ptr);
  beskid_str_t e = {NULL, 0};
  beskid_std_str_to_bytes(&back, &e);
  ck_assert(back.ptr == NULL && back.len == 0 && back.cap == 0);
}
END_TEST

START_TEST(test_code_points) {
  beskid_str_t s = S("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"); /* a é € 😀 */
  ck_assert_int_eq(beskid_std_str_char_count(&s), 4);
  beskid_str_t e = {NULL, 0};
  ck_assert_int_eq(beskid_std_str_char_count(&e), 0);
  const int32_t want[] = {'a', 0xE9, 0x20AC, 0x1F600};
  const int64_t offsets[] = {0, 1, 3, 6, 10};
  int64_t o = 0;
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(o, offsets[i]);
    ck_assert_int_eq(beskid_std_str_char_at(&s, o, &o), want[i]);
  }
  ck_assert_int_eq(o, s.len);
  for (int i = 0; i < 4; i++) {
    beskid_str_t c;
    beskid_std_str_from_char(&c, want[i]);
    int64_t next;
    ck_assert_int_eq(c.len, offsets[i + 1] - offsets[i]);
    ck_assert_int_eq(beskid_std_str_char_at(&c, 0, &next), want[i]);
    ck_assert_int_eq(next, c.len);
  }
  beskid_str_t nul;
  beskid_std_str_from_char(&nul, 0);
  ck_assert_int_eq(nul.len, 1);
  ck_assert_int_eq(nul.ptr[0], 0);
}
END_TEST

START_TEST(test_search) {
  beskid_str_t s = S("one, two, three"), comma = S(", "), t = S("t"), none = S("four"),
               e = {NULL, 0}, one = S("one"), three = S("three"), longer = S("one, two, three!");
  ck_assert_int_eq(beskid_std_str_find(&s, &comma, 0), 3);
  ck_assert_int_eq(beskid_std_str_find(&s, &comma, 4), 8);
  ck_assert_int_eq(beskid_std_str_find(&s, &comma, 9), -1);
  ck_assert_int_eq(beskid_std_str_find(&s, &t, 0), 5);
  ck_assert_int_eq(beskid_std_str_find(&s, &t, 6), 10);
  ck_assert_int_eq(beskid_std_str_find(&s, &none, 0), -1);
  ck_assert_int_eq(beskid_std_str_find(&s, &e, 7), 7);
  ck_assert_int_eq(beskid_std_str_find(&s, &e, s.len), s.len);
  ck_assert_int_eq(beskid_std_str_find(&s, &longer, 0), -1);
  ck_assert(beskid_std_str_contains(&s, &comma));
  ck_assert(!beskid_std_str_contains(&s, &none));
  ck_assert(beskid_std_str_contains(&s, &e));
  ck_assert(beskid_std_str_contains(&e, &e));
  ck_assert(!beskid_std_str_contains(&e, &t));
  ck_assert(beskid_std_str_starts_with(&s, &one));
  ck_assert(!beskid_std_str_starts_with(&s, &three));
  ck_assert(beskid_std_str_starts_with(&s, &e));
  ck_assert(!beskid_std_str_starts_with(&one, &s));
  ck_assert(beskid_std_str_ends_with(&s, &three));
  ck_assert(!beskid_std_str_ends_with(&s, &one));
  ck_assert(beskid_std_str_ends_with(&s, &e));
  ck_assert(!beskid_std_str_ends_with(&three, &s));
}
END_TEST

/* Asserts that `arr` holds the pieces `want[0..n)`. */
static void expect_pieces(beskid_array_t arr, const char *const *want, int64_t n) {
  ck_assert_int_eq(arr.len, n);
  const beskid_str_t *p = arr.ptr;
  for (int64_t i = 0; i < n; i++) {
    ck_assert_str_is(p[i], want[i]);
    if (p[i].len == 0) ck_assert_ptr_null(p[i].ptr);
  }
}

START_TEST(test_split) {
  beskid_array_t arr;
  beskid_str_t s = S("a,b,,c,"), comma = S(","), e = {NULL, 0};
  beskid_std_str_split(&arr, &s, &comma);
  const char *w1[] = {"a", "b", "", "c", ""};
  expect_pieces(arr, w1, 5);
  ck_assert_ptr_eq(((beskid_str_t *)arr.ptr)[1].ptr, s.ptr + 2); /* slices, not copies */
  beskid_std_str_split(&arr, &e, &comma);
  const char *w2[] = {""};
  expect_pieces(arr, w2, 1);
  beskid_str_t multi = S("x<->y<->z"), arrow = S("<->");
  beskid_std_str_split(&arr, &multi, &arrow);
  const char *w3[] = {"x", "y", "z"};
  expect_pieces(arr, w3, 3);
  beskid_str_t chars = S("a\xc3\xa9\xe2\x82\xac");
  beskid_std_str_split(&arr, &chars, &e);
  const char *w4[] = {"a", "\xc3\xa9", "\xe2\x82\xac"};
  expect_pieces(arr, w4, 3);
  beskid_std_str_split(&arr, &e, &e);
  ck_assert(arr.ptr == NULL && arr.len == 0);
  beskid_std_str_split(&arr, &comma, &comma);
  const char *w5[] = {"", ""};
  expect_pieces(arr, w5, 2);
  beskid_str_t aaa = S("aaaa"), aa = S("aa");
  beskid_std_str_split(&arr, &aaa, &aa); /* non-overlapping, left to right */
  const char *w6[] = {"", "", ""};
  expect_pieces(arr, w6, 3);
  const beskid_elem_type_t *et = beskid_std_str_elem_type();
  ck_assert_uint_eq(et->stride, 16);
  ck_assert_uint_eq(et->pointer_count, 1);
  ck_assert_uint_eq(et->pointer_map[0], 0);
  ck_assert_int_eq(beskid_obj_validate_elem_type(et), BESKID_OBJ_VALID);
}
END_TEST

START_TEST(test_trim_and_case) {
  beskid_str_t s = S(" \t\n hi there \r\v\f"), r;
  beskid_std_str_trim(&r, &s);
  ck_assert_str_is(r, "hi there");
  ck_assert_ptr_eq(r.ptr, s.ptr + 4);
  beskid_std_str_trim_start(&r, &s);
  ck_assert_str_is(r, "hi there \r\v\f");
  beskid_std_str_trim_end(&r, &s);
  ck_assert_str_is(r, " \t\n hi there");
  beskid_str_t blank = S("  \n "), e = {NULL, 0};
  beskid_std_str_trim(&r, &blank);
  ck_assert(r.ptr == NULL && r.len == 0);
  beskid_std_str_trim(&r, &e);
  ck_assert(r.ptr == NULL && r.len == 0);
  beskid_str_t nbsp = S("\xc2\xa0x\xc2\xa0"); /* U+00A0 is not ASCII white space */
  beskid_std_str_trim(&r, &nbsp);
  ck_assert_int_eq(r.len, nbsp.len);
  beskid_str_t mixed = S("Hello, Świat! abc-XYZ");
  beskid_std_str_to_upper_ascii(&r, &mixed);
  ck_assert_str_is(r, "HELLO, ŚWIAT! ABC-XYZ");
  beskid_std_str_to_lower_ascii(&r, &mixed);
  ck_assert_str_is(r, "hello, Świat! abc-xyz");
  ck_assert_str_is(mixed, "Hello, Świat! abc-XYZ"); /* the source is untouched */
  beskid_str_t upper = S("ALREADY 123");
  beskid_std_str_to_upper_ascii(&r, &upper);
  ck_assert_ptr_eq(r.ptr, upper.ptr); /* nothing to change: shared */
  beskid_std_str_to_lower_ascii(&r, &e);
  ck_assert_int_eq(r.len, 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Numbers */

START_TEST(test_from_i64_bool) {
  const struct {
    int64_t v;
    const char *text;
  } cases[] = {{0, "0"},
               {7, "7"},
               {-7, "-7"},
               {10, "10"},
               {99, "99"},
               {100, "100"},
               {-1234567890, "-1234567890"},
               {INT64_MAX, "9223372036854775807"},
               {INT64_MIN, "-9223372036854775808"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    beskid_str_t r;
    beskid_std_str_from_i64(&r, cases[i].v);
    ck_assert_str_is(r, cases[i].text);
    int64_t back = 0;
    ck_assert_int_eq(beskid_std_str_parse_i64(&r, &back), BESKID_STD_PARSE_OK);
    ck_assert_int_eq(back, cases[i].v);
  }
  beskid_str_t r;
  beskid_std_str_from_bool(&r, true);
  ck_assert_str_is(r, "true");
  beskid_std_str_from_bool(&r, false);
  ck_assert_str_is(r, "false");
}
END_TEST

START_TEST(test_parse_i64_status) {
  const struct {
    const char *text;
    int32_t status;
    int64_t value;
  } cases[] = {{"", BESKID_STD_PARSE_EMPTY, 0},
               {"-", BESKID_STD_PARSE_SYNTAX, 0},
               {"+", BESKID_STD_PARSE_SYNTAX, 0},
               {"x1", BESKID_STD_PARSE_SYNTAX, 0},
               {" 1", BESKID_STD_PARSE_SYNTAX, 0},
               {"--1", BESKID_STD_PARSE_SYNTAX, 0},
               {"12ab", BESKID_STD_PARSE_TRAILING, 0},
               {"1 ", BESKID_STD_PARSE_TRAILING, 0},
               {"1.0", BESKID_STD_PARSE_TRAILING, 0},
               {"99999999999999999999x", BESKID_STD_PARSE_TRAILING, 0},
               {"9223372036854775808", BESKID_STD_PARSE_OVERFLOW, 0},
               {"-9223372036854775809", BESKID_STD_PARSE_OVERFLOW, 0},
               {"100000000000000000000000", BESKID_STD_PARSE_OVERFLOW, 0},
               {"+42", BESKID_STD_PARSE_OK, 42},
               {"-0", BESKID_STD_PARSE_OK, 0},
               {"007", BESKID_STD_PARSE_OK, 7},
               {"9223372036854775807", BESKID_STD_PARSE_OK, INT64_MAX},
               {"-9223372036854775808", BESKID_STD_PARSE_OK, INT64_MIN}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    beskid_str_t s = S(cases[i].text);
    int64_t v = 12345;
    int32_t st = beskid_std_str_parse_i64(&s, &v);
    ck_assert_msg(st == cases[i].status, "'%s': status %d, want %d", cases[i].text, st,
                  cases[i].status);
    ck_assert_int_eq(v, st == BESKID_STD_PARSE_OK ? cases[i].value : 12345);
  }
  ck_assert_int_eq(BESKID_STD_PARSE_OK, BESKID_OK);
}
END_TEST

static const char *fmt_f64(double v) {
  static char buf[64];
  beskid_str_t r;
  beskid_std_str_from_f64(&r, v);
  snprintf(buf, sizeof buf, "%.*s", (int)r.len, r.ptr ? (const char *)r.ptr : "");
  return buf;
}

START_TEST(test_from_f64_layout) {
  /* The digits are Go's strconv.FormatFloat(f, 'g', -1, 64); the layout is %.17g's. */
  const struct {
    double v;
    const char *text;
  } cases[] = {{0.0, "0"},
               {-0.0, "-0"},
               {1.0, "1"},
               {-2.5, "-2.5"},
               {0.1, "0.1"},
               {0.3, "0.3"},
               {0.1 + 0.2, "0.30000000000000004"},
               {1e6, "1000000"},
               {1234567.0, "1234567"},
               {1e16, "10000000000000000"},
               {1e17, "1e+17"},
               {123456789012345678.0, "1.2345678901234568e+17"},
               {123456.0, "123456"},
               {100000.0, "100000"},
               {123456.789, "123456.789"},
               {0.0001234, "0.0001234"},
               {0.00001234, "1.234e-05"},
               {1e21, "1e+21"},
               {1e100, "1e+100"},
               {1.5e-7, "1.5e-07"},
               {5e-324, "5e-324"},
               {DBL_MAX, "1.7976931348623157e+308"},
               {DBL_MIN, "2.2250738585072014e-308"},
               {-DBL_MIN, "-2.2250738585072014e-308"},
               {9007199254740993.0, "9007199254740992"},
               {123e-20, "1.23e-18"},
               {2.0 / 3.0, "0.6666666666666666"},
               {1e23, "1e+23"},
               {8.41e21, "8.41e+21"},
               {INFINITY, "+Inf"},
               {-INFINITY, "-Inf"},
               {NAN, "NaN"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ck_assert_str_eq(fmt_f64(cases[i].v), cases[i].text);
  }
}
END_TEST

START_TEST(test_parse_f64_status) {
  const struct {
    const char *text;
    int32_t status;
    double value;
  } cases[] = {
      {"", BESKID_STD_PARSE_EMPTY, 0},
      {"-", BESKID_STD_PARSE_SYNTAX, 0},
      {".", BESKID_STD_PARSE_SYNTAX, 0},
      {"e5", BESKID_STD_PARSE_SYNTAX, 0},
      {"x", BESKID_STD_PARSE_SYNTAX, 0},
      {"in", BESKID_STD_PARSE_SYNTAX, 0},
      {" 1", BESKID_STD_PARSE_SYNTAX, 0},
      {"0x10", BESKID_STD_PARSE_TRAILING, 0},
      {"1e", BESKID_STD_PARSE_TRAILING, 0},
      {"1e+", BESKID_STD_PARSE_TRAILING, 0},
      {"1.5 ", BESKID_STD_PARSE_TRAILING, 0},
      {"1..5", BESKID_STD_PARSE_TRAILING, 0},
      {"infinityx", BESKID_STD_PARSE_TRAILING, 0},
      {"1e309", BESKID_STD_PARSE_OVERFLOW, 0},
      {"-1.8e308", BESKID_STD_PARSE_OVERFLOW, 0},
      {"1e999999999999999999", BESKID_STD_PARSE_OVERFLOW, 0},
      {"1.5", BESKID_STD_PARSE_OK, 1.5},
      {"+.5", BESKID_STD_PARSE_OK, 0.5},
      {"5.", BESKID_STD_PARSE_OK, 5.0},
      {"-0", BESKID_STD_PARSE_OK, -0.0},
      {"0e999999", BESKID_STD_PARSE_OK, 0.0},
      {"1e-400", BESKID_STD_PARSE_OK, 0.0},
      {"1E+2", BESKID_STD_PARSE_OK, 100.0},
      {"1e+06", BESKID_STD_PARSE_OK, 1e6},
      {"0.30000000000000004", BESKID_STD_PARSE_OK, 0.30000000000000004},
      {"1.7976931348623157e+308", BESKID_STD_PARSE_OK, DBL_MAX},
      {"1.7976931348623158e+308", BESKID_STD_PARSE_OK, DBL_MAX}, /* rounds down */
      {"4.9406564584124654e-324", BESKID_STD_PARSE_OK, 5e-324},
      {"2.4703282292062328e-324", BESKID_STD_PARSE_OK, 5e-324},      /* just above half */
      {"2.4703282292062327e-324", BESKID_STD_PARSE_OK, 0.0},         /* just below half */
      {"9007199254740993", BESKID_STD_PARSE_OK, 9007199254740992.0}, /* tie to even */
      {"9007199254740993.0000000000000000000000000001", BESKID_STD_PARSE_OK, 9007199254740994.0},
      {"-Inf", BESKID_STD_PARSE_OK, -INFINITY},
      {"+Inf", BESKID_STD_PARSE_OK, INFINITY},
      {"INFINITY", BESKID_STD_PARSE_OK, INFINITY}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    beskid_str_t s = S(cases[i].text);
    double v = 12345.0;
    int32_t st = beskid_std_str_parse_f64(&s, &v);
    ck_assert_msg(st == cases[i].status, "'%s': status %d, want %d", cases[i].text, st,
                  cases[i].status);
    if (st == BESKID_STD_PARSE_OK) {
      ck_assert_msg(memcmp(&v, &cases[i].value, sizeof v) == 0, "'%s': got %.17g, want %.17g",
                    cases[i].text, v, cases[i].value);
    } else {
      ck_assert(v == 12345.0);
    }
  }
  double v;
  beskid_str_t nan_text = S("NaN"), neg_nan = S("-nan");
  ck_assert_int_eq(beskid_std_str_parse_f64(&nan_text, &v), BESKID_STD_PARSE_OK);
  ck_assert(isnan(v));
  ck_assert_int_eq(beskid_std_str_parse_f64(&neg_nan, &v), BESKID_STD_PARSE_OK);
  ck_assert(isnan(v));
  /* A text longer than the digits strtod is given still rounds correctly: 2^53 + 1 is a tie
   * (rounds to even, 2^53), and the same with a 1 after 1200 zeros rounds up. */
  char *longtext = malloc(2000);
  strcpy(longtext, "9007199254740993.");
  size_t n = strlen(longtext);
  memset(longtext + n, '0', 1200);
  strcpy(longtext + n + 1200, "1");
  beskid_str_t lt = S(longtext);
  ck_assert_int_eq(beskid_std_str_parse_f64(&lt, &v), BESKID_STD_PARSE_OK);
  ck_assert(v == 9007199254740994.0);
  longtext[n + 1200] = '\0';
  lt = S(longtext);
  ck_assert_int_eq(beskid_std_str_parse_f64(&lt, &v), BESKID_STD_PARSE_OK);
  ck_assert(v == 9007199254740992.0);
  free(longtext);
}
END_TEST

/* The checks every formatted double must pass: it parses back to the same bits (with our
 * parser and with strtod), it is no longer than %.17g, and no shorter correctly rounded text
 * parses back (so it is the shortest). */
static void check_round_trip(double x) {
  char ours[BESKID_STD_F64_TEXT_MAX + 1];
  size_t n = beskid_std_format_f64(ours, x);
  ours[n] = '\0';
  beskid_str_t s = {(const uint8_t *)ours, (int64_t)n};
  double back = 0;
  ck_assert_msg(beskid_std_str_parse_f64(&s, &back) == BESKID_STD_PARSE_OK, "%s", ours);
  ck_assert_msg(memcmp(&back, &x, sizeof x) == 0, "%a printed as %s parses to %a", x, ours, back);
  double libc = strtod(ours, NULL);
  ck_assert_msg(memcmp(&libc, &x, sizeof x) == 0, "%a printed as %s, strtod reads %a", x, ours,
                libc);
  char ref[40];
  int rn = snprintf(ref, sizeof ref, "%.17g", x);
  ck_assert_msg((int)n <= rn, "%s longer than %s", ours, ref);
  /* Our parser agrees with strtod on the 17-digit text too. */
  beskid_str_t r = {(const uint8_t *)ref, rn};
  ck_assert(beskid_std_str_parse_f64(&r, &back) == BESKID_STD_PARSE_OK);
  ck_assert_msg(memcmp(&back, &x, sizeof x) == 0, "%s parses to %a, want %a", ref, back, x);
  if (isfinite(x) && x != 0) {
    uint64_t digits;
    int32_t e;
    beskid_std_f64_shortest(fabs(x), &digits, &e);
    int nd = snprintf(ref, sizeof ref, "%llu", (unsigned long long)digits);
    if (nd > 1) {
      char shorter[48];
      snprintf(shorter, sizeof shorter, "%.*e", nd - 2, x);
      double y = strtod(shorter, NULL);
      ck_assert_msg(y != x, "%a: %s has %d digits but %s also reads back", x, ours, nd, shorter);
    }
    /* Away from a power of two the interval is symmetric, so the nearest nd-digit decimal
     * (what %.*e prints) is ours. */
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & ((UINT64_C(1) << 52) - 1)) != 0) {
      char nearest[48], mine[80];
      snprintf(nearest, sizeof nearest, "%.*e", nd - 1, fabs(x));
      /* ours as d.ddde±x for comparison */
      snprintf(mine, sizeof mine, "%c%s%se%+03d", ref[0], nd > 1 ? "." : "", ref + 1, e + nd - 1);
      ck_assert_msg(strcmp(nearest, mine) == 0, "%a: digits %s, nearest %s", x, mine, nearest);
    }
  }
}

START_TEST(test_f64_round_trip_property) {
  beskid_test_rng rng;
  beskid_test_rng_seed(&rng, 20261202);
  /* Random bit patterns: every exponent, subnormals included. */
  for (int i = 0; i < 300000; i++) {
    uint64_t bits = beskid_test_rng_next(&rng);
    double x;
    memcpy(&x, &bits, sizeof x);
    if (!isfinite(x)) continue;
    check_round_trip(x);
  }
  /* Subnormals and the smallest normals. */
  for (int i = 0; i < 20000; i++) {
    uint64_t bits = beskid_test_rng_next(&rng) & ((UINT64_C(1) << 53) - 1);
    double x;
    memcpy(&x, &bits, sizeof x);
    check_round_trip(x);
  }
  /* Powers of ten and their neighbours; powers of two (the uneven intervals) and theirs. */
  for (int k = -323; k <= 308; k++) {
    char text[16];
    snprintf(text, sizeof text, "1e%d", k);
    double p = strtod(text, NULL);
    check_round_trip(p);
    check_round_trip(nextafter(p, 0));
    check_round_trip(nextafter(p, INFINITY));
  }
  for (int k = -1074; k <= 1023; k++) {
    double p = ldexp(1.0, k);
    check_round_trip(p);
    check_round_trip(-p);
    check_round_trip(nextafter(p, 0));
    check_round_trip(nextafter(p, INFINITY));
  }
  /* Short decimals and integers. */
  for (int i = 0; i < 100000; i++) {
    check_round_trip((double)(int64_t)beskid_test_rng_below(&rng, 100000000) / 1000.0);
    check_round_trip((double)(int64_t)(beskid_test_rng_next(&rng) >> 10));
  }
  check_round_trip(DBL_MAX);
  check_round_trip(DBL_MIN);
  check_round_trip(DBL_TRUE_MIN);
  check_round_trip(nextafter(DBL_MIN, 0));
}
END_TEST

START_TEST(test_f64_digits_match_go) {
  /* tests/data/go_shortest.txt: bits and Go's FormatFloat(f, 'e', -1, 64) (written by
   * tools/go_shortest_vectors.go): among several shortest candidates both pick the closest. */
  FILE *f = fopen(BESKID_STD_GO_VECTORS, "r");
  ck_assert_ptr_nonnull(f);
  char line[128];
  int count = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long bits;
    char go[64];
    ck_assert_int_eq(sscanf(line, "%llx %63s", &bits, go), 2);
    double x;
    memcpy(&x, &bits, sizeof x);
    uint64_t digits;
    int32_t e;
    beskid_std_f64_shortest(x, &digits, &e);
    char ds[24], mine[64];
    int nd = snprintf(ds, sizeof ds, "%llu", (unsigned long long)digits);
    int x10 = e + nd - 1;
    snprintf(mine, sizeof mine, "%c%s%se%c%02d", ds[0], nd > 1 ? "." : "", ds + 1,
             x10 < 0 ? '-' : '+', x10 < 0 ? -x10 : x10);
    ck_assert_msg(strcmp(mine, go) == 0, "%016llx: Go %s, ours %s", bits, go, mine);
    count++;
  }
  fclose(f);
  ck_assert_int_eq(count, 3000);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Builder */

START_TEST(test_builder) {
  beskid_std_builder_t *b = beskid_std_builder_new(0);
  ck_assert_int_eq(beskid_std_builder_len(b), 0);
  beskid_str_t r;
  beskid_std_builder_finish(&r, b);
  ck_assert(r.ptr == NULL && r.len == 0);
  beskid_str_t hello = S("héllo"), e = {NULL, 0};
  beskid_std_builder_append_str(b, &hello);
  beskid_std_builder_append_str(b, &e);
  beskid_std_builder_append_char(b, ' ');
  beskid_std_builder_append_i64(b, -42);
  beskid_std_builder_append_char(b, 0x1F600);
  beskid_std_builder_append_f64(b, 0.1);
  beskid_std_builder_append_char(b, ' ');
  const uint8_t raw[] = {0xE2, 0x82, 0xAC}; /* € split over two appends */
  beskid_array_t bytes = B(raw, 3);
  beskid_std_builder_append_bytes(b, &bytes, 0, 1);
  beskid_std_builder_append_bytes(b, &bytes, 1, 2);
  beskid_std_builder_append_bytes(b, &bytes, 3, 0);
  beskid_std_builder_append_f64(b, -INFINITY);
  const char *want = "héllo -42\xf0\x9f\x98\x80"
                     "0.1 €-Inf";
  ck_assert_int_eq(beskid_std_builder_len(b), (int64_t)strlen(want));
  beskid_std_builder_finish(&r, b);
  ck_assert_str_is(r, want);
  ck_assert_int_eq(beskid_std_builder_len(b), 0);
  /* Reuse after finish leaves the first string untouched. */
  beskid_std_builder_append_str(b, &hello);
  beskid_str_t r2;
  beskid_std_builder_finish(&r2, b);
  ck_assert_str_is(r2, "héllo");
  ck_assert_str_is(r, want);
}
END_TEST

START_TEST(test_builder_growth_and_sharing) {
  /* Appending one byte at a time grows by doubling: O(log n) buffers for n bytes, so the total
   * bytes allocated stay within a small multiple of n. */
  beskid_gc_stats_t before, after;
  beskid_std_builder_t *b = beskid_std_builder_new(0);
  void *slots[1] = {b};
  beskid_gc_thread_t *t = beskid_rt_thread();
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  beskid_gc_read_stats(&before);
  enum { N = 1 << 20 };
  for (int i = 0; i < N; i++) beskid_std_builder_append_char(b, 'a' + i % 26);
  beskid_gc_read_stats(&after);
  ck_assert_msg(after.total_alloc_bytes - before.total_alloc_bytes < 5u * N,
                "%llu bytes allocated for %d appended",
                (unsigned long long)(after.total_alloc_bytes - before.total_alloc_bytes), N);
  beskid_str_t r;
  beskid_std_builder_finish(&r, b); /* full to more than half: the buffer is handed over */
  ck_assert_int_eq(r.len, N);
  for (int i = 0; i < N; i += 4097) ck_assert_int_eq(r.ptr[i], 'a' + i % 26);
  /* A big reservation barely used is copied out, so the string does not pin it. */
  beskid_std_builder_t *big = beskid_std_builder_new(1 << 20);
  slots[0] = big;
  beskid_str_t x = S("xyz");
  beskid_std_builder_append_str(big, &x);
  beskid_gc_read_stats(&before);
  beskid_std_builder_finish(&r, big);
  beskid_gc_read_stats(&after);
  ck_assert_str_is(r, "xyz");
  ck_assert_uint_lt(after.total_alloc_bytes - before.total_alloc_bytes, 64 * 1024);
  beskid_std_builder_append_str(big, &x); /* the buffer stays with the builder */
  ck_assert_int_eq(beskid_std_builder_len(big), 3);
  beskid_gc_pop_frame(t, &frame);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Bytes */

/* Byte-array copies and fills need no attached thread, large ones included. */
typedef struct unattached_bulk {
  beskid_array_t a, c;
  int64_t n;
} unattached_bulk;

static void *bulk_from_unattached(void *arg) {
  unattached_bulk *u = arg;
  beskid_std_bytes_fill(&u->a, 0, u->n, 'u');
  beskid_std_bytes_copy(&u->c, 0, &u->a, 0, u->n);
  return NULL;
}

/* The bulk paths (beskid_gc_copy_bytes: a megabyte and more, copied in the native state while
 * collections run) give the bytes the small paths give. */
START_TEST(test_bulk_copies) {
  enum { N = 3 << 20 };
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[4] = {0};
  beskid_root_frame_t frame = {NULL, slots, 4};
  beskid_gc_push_frame(t, &frame);
  beskid_array_t a, c;
  array_new(&a, 1, N);
  slots[0] = a.ptr;
  array_new(&c, 1, N);
  slots[1] = c.ptr;
  beskid_std_bytes_fill(&a, 0, N, 'a');
  beskid_std_bytes_fill(&a, N / 2, N / 2, 'b');
  ck_assert_uint_eq(((uint8_t *)a.ptr)[N / 2 - 1], 'a');
  ck_assert_uint_eq(((uint8_t *)a.ptr)[N / 2], 'b');
  beskid_std_bytes_copy(&c, 0, &a, 0, N);
  ck_assert_int_eq(memcmp(c.ptr, a.ptr, N), 0);
  beskid_std_bytes_copy(&c, 1, &c, 0, N - 1); /* overlapping */
  ck_assert_int_eq(memcmp((uint8_t *)c.ptr + 1, a.ptr, N - 1), 0);
  unattached_bulk u = {a, c, N};
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, bulk_from_unattached, &u, "unattached"), BESKID_OK);
  ck_assert_int_eq(beskid_os_thread_join(&th, NULL), BESKID_OK);
  ck_assert_uint_eq(((uint8_t *)c.ptr)[N - 1], 'u');
  beskid_std_bytes_fill(&a, 0, N, 'a');
  beskid_std_bytes_fill(&a, N / 2, N / 2, 'b');
  /* A builder fed megabytes at once, then a string made from it in one piece. */
  beskid_std_builder_t *b = beskid_std_builder_new(0);
  slots[2] = b;
  beskid_std_builder_append_bytes(b, &a, 1, N - 1);
  beskid_std_builder_append_bytes(b, &a, 0, N);
  ck_assert_int_eq(beskid_std_builder_len(b), 2 * N - 1);
  beskid_str_t text;
  beskid_std_builder_finish(&text, b);
  slots[3] = (void *)text.ptr;
  ck_assert_int_eq(memcmp(text.ptr, (uint8_t *)a.ptr + 1, N - 1), 0);
  ck_assert_int_eq(memcmp(text.ptr + N - 1, a.ptr, N), 0);
  /* Upper-casing copies first and rewrites after the first letter to change. */
  beskid_str_t upper;
  beskid_std_str_to_upper_ascii(&upper, &text);
  ck_assert_int_eq(upper.len, text.len);
  ck_assert_uint_eq(upper.ptr[0], 'A');
  ck_assert_uint_eq(upper.ptr[N - 1], 'A');
  ck_assert_uint_eq(upper.ptr[2 * N - 2], 'B');
  ck_assert_uint_eq(text.ptr[0], 'a'); /* the source is left as it was */
  beskid_str_t made;
  str_new(&made, text.ptr, text.len);
  ck_assert_int_eq(made.len, text.len);
  ck_assert_int_eq(memcmp(made.ptr, text.ptr, (size_t)text.len), 0);
  beskid_gc_pop_frame(t, &frame);
}
END_TEST

START_TEST(test_bytes) {
  beskid_array_t a = B("hello world", 11), c = B("hello", 5), e = {NULL, 0, 0};
  ck_assert_uint_eq(beskid_std_bytes_get(&a, 0), 'h');
  ck_assert_uint_eq(beskid_std_bytes_get(&a, 10), 'd');
  beskid_std_bytes_set(&a, 0, 'H');
  ck_assert_uint_eq(beskid_std_bytes_get(&a, 0), 'H');
  beskid_std_bytes_copy(&a, 6, &c, 0, 5);
  ck_assert_int_eq(memcmp(a.ptr, "Hello hello", 11), 0);
  beskid_std_bytes_copy(&a, 1, &a, 0, 10); /* overlapping, within one array */
  ck_assert_int_eq(memcmp(a.ptr, "HHello hell", 11), 0);
  beskid_std_bytes_copy(&a, 11, &c, 5, 0); /* empty at the very end */
  beskid_std_bytes_fill(&a, 2, 3, '*');
  ck_assert_int_eq(memcmp(a.ptr, "HH***o hell", 11), 0);
  beskid_std_bytes_fill(&a, 0, 0, '!');
  ck_assert_int_eq(beskid_std_bytes_compare(&a, &a), 0);
  ck_assert_int_eq(beskid_std_bytes_compare(&a, &c), -1); /* 'H' < 'h' */
  ck_assert_int_eq(beskid_std_bytes_compare(&c, &a), 1);
  ck_assert_int_eq(beskid_std_bytes_compare(&e, &c), -1);
  ck_assert_int_eq(beskid_std_bytes_compare(&e, &e), 0);
  beskid_array_t hi = B("\xff", 1), lo = B("\x01", 1);
  ck_assert_int_eq(beskid_std_bytes_compare(&hi, &lo), 1); /* unsigned */
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Collections */

START_TEST(test_slices_survive_collections) {
  start_runtime_clobbering(0);
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[3] = {0};
  beskid_root_frame_t frame = {NULL, slots, 3};
  beskid_gc_push_frame(t, &frame);
  beskid_str_t s = S("the quick brown fox jumps over the lazy dog"), mid, sep = S(" ");
  beskid_std_str_slice(&mid, &s, 10, 19);
  slots[0] = (void *)mid.ptr; /* only the slice, an interior pointer, is a root */
  beskid_array_t words;
  beskid_std_str_split(&words, &s, &sep);
  slots[1] = words.ptr; /* the pieces point into s's buffer */
  s.ptr = NULL;
  for (int round = 0; round < 5; round++) {
    gc_collect();
    for (int i = 0; i < 2000; i++) {
      beskid_str_t junk = S("garbage garbage garbage garbage");
      (void)junk;
    }
  }
  ck_assert_str_is(mid, "brown fox");
  const char *want[] = {"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"};
  expect_pieces(words, want, 9);
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_shutdown();
}
END_TEST

START_TEST(test_builder_survives_collections) {
  /* A collection before every allocation: the builder, its buffer and every source must be
   * kept alive by the functions themselves. The sources are unrooted temporaries. */
  start_runtime_clobbering(1);
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  beskid_std_builder_t *b = beskid_std_builder_new(1);
  slots[0] = b;
  char expect[8192];
  size_t n = 0;
  for (int i = 0; i < 300; i++) {
    char piece[32];
    int k = snprintf(piece, sizeof piece, "<%d>", i);
    beskid_str_t tmp = S(piece); /* unrooted: only append keeps it alive while growing */
    beskid_std_builder_append_str(b, &tmp);
    beskid_std_builder_append_i64(b, i);
    beskid_std_builder_append_f64(b, i / 4.0);
    memcpy(expect + n, piece, (size_t)k);
    n += (size_t)k;
    n += (size_t)snprintf(expect + n, sizeof expect - n, "%d", i);
    n += (size_t)snprintf(expect + n, sizeof expect - n, "%g", i / 4.0);
  }
  expect[n] = '\0';
  beskid_str_t r;
  beskid_std_builder_finish(&r, b);
  slots[0] = (void *)r.ptr;
  gc_collect();
  ck_assert_str_is(r, expect);
  /* concat, split, case mapping and from_utf8 of inputs that only the call keeps alive: each
   * input is rooted by the test while it makes the next one, then unrooted before the call. */
  void *keep[2] = {0};
  beskid_root_frame_t keep_frame = {NULL, keep, 2};
  beskid_gc_push_frame(t, &keep_frame);
  beskid_str_t a = S("left-");
  keep[0] = (void *)a.ptr;
  beskid_str_t c = S("right");
  keep[0] = keep[1] = NULL;
  beskid_str_t joined;
  beskid_std_str_concat(&joined, &a, &c);
  slots[0] = (void *)joined.ptr;
  ck_assert_str_is(joined, "left-right");
  beskid_str_t dash = S("-");
  slots[0] = NULL;
  beskid_array_t parts;
  beskid_std_str_split(&parts, &joined, &dash);
  slots[0] = parts.ptr;
  beskid_str_t pad = S("padding"); /* collects: the pieces live through the array alone */
  (void)pad;
  gc_collect();
  const char *want[] = {"left", "right"};
  expect_pieces(parts, want, 2);
  beskid_str_t low = S("mixed Case"), up;
  beskid_std_str_to_upper_ascii(&up, &low);
  ck_assert_str_is(up, "MIXED CASE");
  ck_assert_str_is(low, "mixed Case");
  beskid_array_t raw = B("bytes", 5);
  beskid_str_t fr;
  beskid_std_str_from_utf8(&fr, &raw, 0, 5);
  ck_assert_str_is(fr, "bytes");
  beskid_str_t tail;
  beskid_std_str_slice(&tail, &fr, 1, 5);
  beskid_std_str_to_bytes(&raw, &tail);
  ck_assert_int_eq(memcmp(raw.ptr, "ytes", 4), 0);
  beskid_gc_pop_frame(t, &keep_frame);
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_shutdown();
}
END_TEST

/* Collects back to back on its own attached thread until told to stop. */
static atomic_bool collector_stop;
static void *collect_loop(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  while (!atomic_load(&collector_stop)) gc_collect();
  beskid_rt_thread_detach();
  return NULL;
}

START_TEST(test_long_calls_poll_with_roots) {
  /* Another thread collects back to back, so this thread is stopped at the polls inside long
   * calls (split, concat, case mapping, builder growth); everything those calls hold at a poll
   * must be in a root, or the clobbered sweep corrupts the results checked here. */
  start_runtime_clobbering(0);
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(t, &frame);
  atomic_store(&collector_stop, false);
  pthread_t collector;
  ck_assert_int_eq(pthread_create(&collector, NULL, collect_loop, NULL), 0);
  enum { WORDS = 100000 };
  for (int round = 0; round < 3; round++) {
    beskid_std_builder_t *b = beskid_std_builder_new(0);
    slots[0] = b;
    for (int i = 0; i < WORDS; i++) {
      beskid_std_builder_append_i64(b, i);
      beskid_std_builder_append_char(b, i % 7 == 0 ? 'x' : ',');
    }
    beskid_str_t text;
    beskid_std_builder_finish(&text, b);
    slots[0] = (void *)text.ptr;
    beskid_str_t doubled, upper, comma;
    beskid_std_str_concat(&doubled, &text, &text);
    slots[1] = (void *)doubled.ptr;
    beskid_std_str_to_upper_ascii(&upper, &doubled);
    slots[1] = (void *)upper.ptr;
    str_new(&comma, (const uint8_t *)",", 1);
    beskid_array_t parts;
    beskid_std_str_split(&parts, &upper, &comma);
    slots[1] = parts.ptr;
    slots[0] = NULL;
    /* "0X1,2,...,7X8,...": a piece is "a" or "aXb"; its head a is every i that follows a ','
     * (and 0); the text ends with ',' so the last piece is empty. Twice over (the concat). */
    int64_t want_total = 0, want_pieces = 1;
    for (int i = 0; i < WORDS; i++) {
      if (i == 0 || (i - 1) % 7 != 0) want_total += 2 * i;
      if (i % 7 != 0) want_pieces += 2;
    }
    ck_assert_int_eq(parts.len, want_pieces);
    const beskid_str_t *piece = parts.ptr;
    int64_t total = 0;
    beskid_str_t x = {(const uint8_t *)"X", 1};
    for (int64_t k = 0; k + 1 < parts.len; k++) {
      int64_t v = -1;
      int64_t at = beskid_std_str_find(&piece[k], &x, 0);
      beskid_str_t head = piece[k];
      if (at >= 0) head.len = at;
      ck_assert_int_eq(beskid_std_str_parse_i64(&head, &v), BESKID_STD_PARSE_OK);
      total += v;
    }
    ck_assert_int_eq(piece[parts.len - 1].len, 0);
    ck_assert_int_eq(total, want_total);
  }
  atomic_store(&collector_stop, true);
  beskid_gc_enter_native(t); /* let the collector finish its last cycle without us */
  pthread_join(collector, NULL);
  beskid_gc_leave_native(t);
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_shutdown();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Traps */

static beskid_str_t bad_null_data = {NULL, 3};
static beskid_str_t bad_negative = {(const uint8_t *)"abc", -1};

static void die_eq_null(void) { (void)beskid_std_str_eq(NULL, &bad_negative); }
static void die_eq_null_data(void) {
  beskid_str_t ok = {NULL, 0};
  (void)beskid_std_str_eq(&ok, &bad_null_data);
}
static void die_compare_negative(void) {
  beskid_str_t ok = {NULL, 0};
  (void)beskid_std_str_compare(&bad_negative, &ok);
}
static void die_concat_null_out(void) {
  beskid_str_t ok = {NULL, 0};
  beskid_std_str_concat(NULL, &ok, &ok);
}
static void die_slice_bounds(void) {
  start_runtime();
  beskid_str_t s = S("abc"), r;
  beskid_std_str_slice(&r, &s, 1, 4);
}
static void die_slice_negative(void) {
  start_runtime();
  beskid_str_t s = S("abc"), r;
  beskid_std_str_slice(&r, &s, -1, 2);
}
static void die_slice_reversed(void) {
  start_runtime();
  beskid_str_t s = S("abc"), r;
  beskid_std_str_slice(&r, &s, 2, 1);
}
static void die_slice_mid_char(void) {
  start_runtime();
  beskid_str_t s = S("aé"), r;
  beskid_std_str_slice(&r, &s, 0, 2);
}
static void die_from_utf8_invalid(void) {
  start_runtime();
  beskid_array_t a = B("ok\xff", 3);
  beskid_str_t r;
  beskid_std_str_from_utf8(&r, &a, 0, 3);
}
static void die_from_utf8_range(void) {
  start_runtime();
  beskid_array_t a = B("ok", 2);
  beskid_str_t r;
  beskid_std_str_from_utf8(&r, &a, 1, 2);
}
static void die_array_null_data(void) {
  beskid_array_t a = {NULL, 4, 4};
  (void)beskid_std_utf8_check(&a, 0, 1);
}
static void die_array_len_above_cap(void) {
  uint8_t buf[4] = {0};
  beskid_array_t a = {buf, 5, 4};
  (void)beskid_std_bytes_get(&a, 0);
}
static void die_char_at_mid(void) {
  start_runtime();
  beskid_str_t s = S("é");
  int64_t next;
  (void)beskid_std_str_char_at(&s, 1, &next);
}
static void die_char_at_end(void) {
  start_runtime();
  beskid_str_t s = S("ab");
  int64_t next;
  (void)beskid_std_str_char_at(&s, 2, &next);
}
static void die_char_at_corrupt(void) {
  static const uint8_t truncated[] = {'a', 0xE2, 0x82};
  beskid_str_t s = {truncated, 3}; /* a corrupted value: never reads past its end */
  int64_t next;
  (void)beskid_std_str_char_at(&s, 1, &next);
}
static void die_from_char_surrogate(void) {
  start_runtime();
  beskid_str_t r;
  beskid_std_str_from_char(&r, 0xD800);
}
static void die_from_char_too_big(void) {
  start_runtime();
  beskid_std_builder_t *b = beskid_std_builder_new(0);
  beskid_std_builder_append_char(b, 0x110000);
}
static void die_find_from(void) {
  start_runtime();
  beskid_str_t s = S("abc"), n = S("b");
  (void)beskid_std_str_find(&s, &n, 4);
}
static void die_split_null(void) {
  beskid_array_t out;
  beskid_str_t s = {NULL, 0};
  beskid_std_str_split(&out, &s, NULL);
}
static void die_parse_null_out(void) {
  beskid_str_t s = {NULL, 0};
  (void)beskid_std_str_parse_f64(&s, NULL);
}
static void die_builder_null(void) {
  beskid_str_t s = {NULL, 0};
  beskid_std_builder_append_str(NULL, &s);
}
static void die_builder_negative(void) {
  start_runtime();
  (void)beskid_std_builder_new(-1);
}
static void die_builder_invalid_utf8(void) {
  start_runtime();
  beskid_std_builder_t *b = beskid_std_builder_new(0);
  beskid_str_t s = S("abc");
  beskid_std_builder_append_str(b, &s);
  beskid_array_t a = B("\xe2\x82", 2); /* € without its last byte */
  beskid_std_builder_append_bytes(b, &a, 0, 2);
  beskid_str_t r;
  beskid_std_builder_finish(&r, b);
}
static void die_builder_bytes_range(void) {
  start_runtime();
  beskid_std_builder_t *b = beskid_std_builder_new(0);
  beskid_array_t a = B("ab", 2);
  beskid_std_builder_append_bytes(b, &a, 0, -1);
}
static void die_bytes_get(void) {
  start_runtime();
  beskid_array_t a = B("ab", 2);
  (void)beskid_std_bytes_get(&a, 2);
}
static void die_bytes_set_negative(void) {
  start_runtime();
  beskid_array_t a = B("ab", 2);
  beskid_std_bytes_set(&a, -1, 0);
}
static void die_bytes_copy(void) {
  start_runtime();
  beskid_array_t a = B("abcd", 4), c = B("xy", 2);
  beskid_std_bytes_copy(&a, 3, &c, 0, 2);
}
static void die_bytes_copy_overflow(void) {
  start_runtime();
  beskid_array_t a = B("abcd", 4);
  beskid_std_bytes_copy(&a, 1, &a, INT64_MAX, 2);
}
static void die_bytes_fill(void) {
  start_runtime();
  beskid_array_t a = B("abcd", 4);
  beskid_std_bytes_fill(&a, 2, 3, 0);
}
static void die_bytes_compare_null(void) {
  beskid_array_t a = {NULL, 0, 0};
  (void)beskid_std_bytes_compare(&a, NULL);
}
static void die_concat_overflow(void) {
  static const uint8_t one[1] = {'a'};
  beskid_str_t huge = {one, INT64_MAX}, x = {one, 1}, r;
  beskid_std_str_concat(&r, &huge, &x);
}

START_TEST(test_traps) {
  DEATH(die_eq_null, "null_reference (1)", "str_eq: NULL string");
  DEATH(die_eq_null_data, "null_reference (1)", "NULL data");
  DEATH(die_compare_negative, "bounds (2)", "negative length");
  DEATH(die_concat_null_out, "null_reference (1)", "NULL result");
  DEATH(die_slice_bounds, "bounds (2)", "[1, 4) outside a string of 3 bytes");
  DEATH(die_slice_negative, "bounds (2)", "str_slice");
  DEATH(die_slice_reversed, "bounds (2)", "str_slice");
  DEATH(die_slice_mid_char, "invalid_utf8 (4)", "splits a multi-byte code point");
  DEATH(die_from_utf8_invalid, "invalid_utf8 (4)", "at byte 2 of 3");
  DEATH(die_from_utf8_range, "bounds (2)", "str_from_utf8");
  DEATH(die_array_null_data, "null_reference (1)", "NULL data");
  DEATH(die_array_len_above_cap, "bounds (2)", "len > cap");
  DEATH(die_char_at_mid, "invalid_utf8 (4)", "not the start of a code point");
  DEATH(die_char_at_end, "bounds (2)", "index 2 out of range for length 2");
  DEATH(die_char_at_corrupt, "invalid_utf8 (4)", "str_char_at");
  DEATH(die_from_char_surrogate, "invalid_utf8 (4)", "55296 is not a Unicode scalar value");
  DEATH(die_from_char_too_big, "invalid_utf8 (4)", "1114112");
  DEATH(die_find_from, "bounds (2)", "index 4");
  DEATH(die_split_null, "null_reference (1)", "str_split");
  DEATH(die_parse_null_out, "null_reference (1)", "str_parse_f64");
  DEATH(die_builder_null, "null_reference (1)", "NULL builder");
  DEATH(die_builder_negative, "bounds (2)", "negative capacity");
  DEATH(die_builder_invalid_utf8, "invalid_utf8 (4)", "builder_finish: invalid UTF-8 at byte 3");
  DEATH(die_builder_bytes_range, "bounds (2)", "builder_append_bytes");
  DEATH(die_bytes_get, "bounds (2)", "index 2 out of range for length 2");
  DEATH(die_bytes_set_negative, "bounds (2)", "index -1");
  DEATH(die_bytes_copy, "bounds (2)", "bytes_copy (destination)");
  DEATH(die_bytes_copy_overflow, "bounds (2)", "bytes_copy (source)");
  DEATH(die_bytes_fill, "bounds (2)", "bytes_fill");
  DEATH(die_bytes_compare_null, "null_reference (1)", "NULL array");
  DEATH(die_concat_overflow, "arithmetic_overflow (3)", "str_concat");
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_strings");
  TCase *plain = tcase_create("strings");
  tcase_add_test(plain, test_symbols_declared);
  tcase_add_test(plain, test_traps);
  tcase_add_test(plain, test_slices_survive_collections);
  tcase_add_test(plain, test_builder_survives_collections);
  tcase_add_test(plain, test_long_calls_poll_with_roots);
  tcase_set_timeout(plain, 120);
  suite_add_tcase(suite, plain);
  TCase *live = tcase_create("with_runtime");
  tcase_add_checked_fixture(live, start_runtime, stop_runtime);
  tcase_add_test(live, test_eq_compare);
  tcase_add_test(live, test_concat);
  tcase_add_test(live, test_slice);
  tcase_add_test(live, test_utf8_and_bytes_conversion);
  tcase_add_test(live, test_code_points);
  tcase_add_test(live, test_search);
  tcase_add_test(live, test_split);
  tcase_add_test(live, test_trim_and_case);
  tcase_add_test(live, test_from_i64_bool);
  tcase_add_test(live, test_parse_i64_status);
  tcase_add_test(live, test_from_f64_layout);
  tcase_add_test(live, test_parse_f64_status);
  tcase_add_test(live, test_f64_round_trip_property);
  tcase_add_test(live, test_f64_digits_match_go);
  tcase_add_test(live, test_builder);
  tcase_add_test(live, test_builder_growth_and_sharing);
  tcase_add_test(live, test_bytes);
  tcase_add_test(live, test_bulk_copies);
  tcase_set_timeout(live, 300);
  suite_add_tcase(suite, live);
  return beskid_test_run(suite);
}
