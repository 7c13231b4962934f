/* fuzz_stdhost.c — libFuzzer harness for the standard library's host functions that take text
 * (libs/stdhost): integer and float parsing and printing, find / split / trim / case mapping /
 * compare, UTF-8 checking and the code-point cursor, the string builder, and the validation of
 * filesystem paths.
 *
 * The first byte picks the area, the rest is the text (and a second text or offset). Each
 * function is compared with a reference written here from stdhost.h's contract (strtod stands
 * in for correct rounding, glibc's being correctly rounded). Every string the runtime returns
 * is held in a root frame, so collections (the runtime runs with its default pacing) never
 * free what the harness still checks; arguments that the contract says trap are never passed.
 *
 * Invariant: the runtime is started once (LLVMFuzzerInitialize) and the harness thread stays
 * attached; the root frame is emptied after each input, so the heap stays bounded. */
#include <errno.h>
#include <math.h>

#include "beskid/runtime_abi.h"
#include "beskid/stdhost.h"
#include "fuzz_support.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { SLOTS = 32, TEXT_MAX = 4200 };
static void *slots[SLOTS];
static beskid_root_frame_t frame = {NULL, slots, SLOTS};
static int used;

static void keep(const void *p) {
  if (p != NULL) slots[used++ % SLOTS] = (void *)(uintptr_t)p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (beskid_rt_init(NULL) != 0) abort();
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  return 0;
}

/* The longest valid UTF-8 prefix of the bytes, as a runtime string (rooted). */
static beskid_str_t make_str(const uint8_t *bytes, size_t len) {
  size_t bad;
  if (!fuzz_utf8_valid(bytes, len, &bad)) len = bad;
  beskid_str_t s;
  str_new(&s, bytes, (int64_t)len);
  keep(s.ptr);
  return s;
}

static bool str_is(const beskid_str_t *s, const void *bytes, size_t len) {
  return (size_t)s->len == len && (len == 0 || memcmp(s->ptr, bytes, len) == 0);
}

/* ---- numbers ---------------------------------------------------------------------------- */

static int32_t model_parse_i64(const uint8_t *t, size_t n, int64_t *out) {
  if (n == 0) return BESKID_STD_PARSE_EMPTY;
  size_t i = 0;
  bool neg = false;
  if (t[0] == '+' || t[0] == '-') neg = t[i++] == '-';
  if (i == n || t[i] < '0' || t[i] > '9') return BESKID_STD_PARSE_SYNTAX;
  unsigned __int128 v = 0;
  bool big = false;
  for (; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
    v = v * 10 + (unsigned)(t[i] - '0');
    if (v > (unsigned __int128)1 << 64) big = true, v = (unsigned __int128)1 << 64;
  }
  if (i < n) return BESKID_STD_PARSE_TRAILING;
  if (big || v > (neg ? (unsigned __int128)1 << 63 : (unsigned __int128)INT64_MAX)) {
    return BESKID_STD_PARSE_OVERFLOW;
  }
  *out = neg ? (int64_t)(0 - (uint64_t)v) : (int64_t)v;
  return BESKID_STD_PARSE_OK;
}

static bool ieq(const uint8_t *t, size_t n, const char *word) {
  size_t w = strlen(word);
  if (n < w) return false;
  for (size_t i = 0; i < w; i++) {
    if ((t[i] | 0x20) != word[i]) return false;
  }
  return true;
}

/* Length of the longest prefix that is a float of stdhost's grammar (0: none). */
static size_t float_prefix(const uint8_t *t, size_t n, bool *special) {
  size_t i = 0;
  *special = false;
  if (n == 0) return 0;
  if (i < n && (t[i] == '+' || t[i] == '-')) i++;
  if (ieq(t + i, n - i, "infinity")) return *special = true, i + 8;
  if (ieq(t + i, n - i, "inf") || ieq(t + i, n - i, "nan")) return *special = true, i + 3;
  size_t digits = 0;
  while (i < n && t[i] >= '0' && t[i] <= '9') i++, digits++;
  if (i < n && t[i] == '.') {
    i++;
    while (i < n && t[i] >= '0' && t[i] <= '9') i++, digits++;
  }
  if (digits == 0) return 0;
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (t[j] == '+' || t[j] == '-')) j++;
    size_t exp_digits = 0;
    while (j < n && t[j] >= '0' && t[j] <= '9') j++, exp_digits++;
    if (exp_digits > 0) i = j;
  }
  return i;
}

static void check_numbers(const beskid_str_t *s) {
  const uint8_t *t = s->ptr;
  size_t n = (size_t)s->len;
  int64_t gi = 12345, wi = 0;
  int32_t got = beskid_std_str_parse_i64(s, &gi);
  int32_t want = model_parse_i64(t, n, &wi);
  FUZZ_CHECK(got == want, "parse_i64 status %d, want %d", got, want);
  if (got == 0)
    FUZZ_CHECK(gi == wi, "parse_i64 value %lld, want %lld", (long long)gi, (long long)wi);
  else
    FUZZ_CHECK(gi == 12345, "parse_i64 wrote its output on failure");

  double gf = 0.5;
  got = beskid_std_str_parse_f64(s, &gf);
  bool special;
  size_t p = float_prefix(t, n, &special);
  if (n == 0)
    want = BESKID_STD_PARSE_EMPTY;
  else if (p == 0)
    want = BESKID_STD_PARSE_SYNTAX;
  else if (p < n)
    want = BESKID_STD_PARSE_TRAILING;
  else
    want = BESKID_STD_PARSE_OK;
  double wf = 0;
  if (want == BESKID_STD_PARSE_OK) {
    char buf[TEXT_MAX + 1];
    memcpy(buf, t, n);
    buf[n] = '\0';
    errno = 0;
    wf = strtod(buf, NULL);
    if (!special && isinf(wf)) want = BESKID_STD_PARSE_OVERFLOW;
  }
  FUZZ_CHECK(got == want, "parse_f64('%.*s') status %d, want %d", (int)n, (const char *)t, got,
             want);
  if (got == 0) {
    FUZZ_CHECK(isnan(gf) ? isnan(wf) : memcmp(&gf, &wf, sizeof gf) == 0,
               "parse_f64('%.*s') = %.17g, want %.17g", (int)n, (const char *)t, gf, wf);
  }

  /* Printing: integers exactly as %lld; floats round-trip and are never longer than %.17g. */
  int64_t iv = 0;
  double fv = 0;
  if (n > 0) memcpy(&iv, t, n < 8 ? n : 8);
  if (n > 0) memcpy(&fv, t, n < 8 ? n : 8);
  beskid_str_t out;
  beskid_std_str_from_i64(&out, iv);
  keep(out.ptr);
  char want_text[64];
  int wl = snprintf(want_text, sizeof want_text, "%lld", (long long)iv);
  FUZZ_CHECK(str_is(&out, want_text, (size_t)wl), "from_i64(%lld)", (long long)iv);
  beskid_std_str_from_f64(&out, fv);
  keep(out.ptr);
  double back = 0;
  FUZZ_CHECK(beskid_std_str_parse_f64(&out, &back) == 0, "from_f64 text does not parse");
  FUZZ_CHECK(isnan(fv) ? isnan(back) : memcmp(&fv, &back, sizeof fv) == 0,
             "from_f64(%.17g) = '%.*s' reads back as %.17g", fv, (int)out.len,
             (const char *)out.ptr, back);
  wl = snprintf(want_text, sizeof want_text, "%.17g", fv);
  FUZZ_CHECK(isnan(fv) || isinf(fv) || out.len <= wl, "from_f64 longer than %%.17g");
}

/* ---- strings ---------------------------------------------------------------------------- */

static int64_t model_find(const beskid_str_t *s, const beskid_str_t *needle, int64_t from) {
  for (int64_t i = from; i + needle->len <= s->len; i++) {
    if (needle->len == 0 || memcmp(s->ptr + i, needle->ptr, (size_t)needle->len) == 0) return i;
  }
  return -1;
}

/* s->ptr + offset, without offsetting the NULL of an empty string. */
static const uint8_t *at(const beskid_str_t *s, int64_t offset) {
  return s->len == 0 ? NULL : s->ptr + offset;
}

static bool is_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static void check_strings(const beskid_str_t *s, const beskid_str_t *sep, uint8_t knob) {
  /* Search and comparison. */
  int64_t from = s->len == 0 ? 0 : (int64_t)(knob % (uint64_t)(s->len + 1));
  FUZZ_CHECK(beskid_std_str_find(s, sep, from) == model_find(s, sep, from), "find from %lld",
             (long long)from);
  FUZZ_CHECK(beskid_std_str_contains(s, sep) == (model_find(s, sep, 0) >= 0), "contains");
  FUZZ_CHECK(beskid_std_str_starts_with(s, sep) ==
                 (sep->len <= s->len &&
                  (sep->len == 0 || memcmp(s->ptr, sep->ptr, (size_t)sep->len) == 0)),
             "starts_with");
  FUZZ_CHECK(beskid_std_str_ends_with(s, sep) ==
                 (sep->len <= s->len && (sep->len == 0 || memcmp(s->ptr + s->len - sep->len,
                                                                 sep->ptr, (size_t)sep->len) == 0)),
             "ends_with");
  size_t common = (size_t)(s->len < sep->len ? s->len : sep->len);
  int c = common ? memcmp(s->ptr, sep->ptr, common) : 0;
  int want_cmp = c < 0 ? -1 : c > 0 ? 1 : s->len < sep->len ? -1 : s->len > sep->len ? 1 : 0;
  FUZZ_CHECK(beskid_std_str_compare(s, sep) == want_cmp, "compare");
  FUZZ_CHECK(beskid_std_str_eq(s, sep) == (want_cmp == 0), "eq");

  /* Split: the pieces joined with the separator give the text back; no piece holds it. */
  beskid_array_t parts;
  beskid_std_str_split(&parts, s, sep);
  keep(parts.ptr);
  const beskid_str_t *piece = parts.ptr;
  if (sep->len == 0) {
    int64_t k = 0;
    for (int64_t o = 0; o < s->len; k++) {
      int64_t next;
      beskid_std_str_char_at(s, o, &next);
      FUZZ_CHECK(k < parts.len && str_is(&piece[k], s->ptr + o, (size_t)(next - o)),
                 "split by \"\": piece %lld", (long long)k);
      o = next;
    }
    FUZZ_CHECK(k == parts.len, "split by \"\": %lld pieces, want %lld", (long long)parts.len,
               (long long)k);
  } else {
    int64_t pos = 0;
    FUZZ_CHECK(parts.len >= 1, "split gave no pieces");
    for (int64_t k = 0; k < parts.len; k++) {
      int64_t hit = model_find(s, sep, pos);
      bool last = k == parts.len - 1;
      FUZZ_CHECK(last ? hit == -1 : hit >= 0, "split: piece %lld of %lld, next occurrence %lld",
                 (long long)k, (long long)parts.len, (long long)hit);
      int64_t end = last ? s->len : hit;
      FUZZ_CHECK(str_is(&piece[k], at(s, pos), (size_t)(end - pos)), "split piece %lld",
                 (long long)k);
      pos = end + sep->len;
    }
  }

  /* Trim and case mapping. */
  int64_t a = 0, b = s->len;
  while (a < b && is_space(s->ptr[a])) a++;
  while (b > a && is_space(s->ptr[b - 1])) b--;
  beskid_str_t out;
  beskid_std_str_trim(&out, s);
  FUZZ_CHECK(str_is(&out, at(s, a), (size_t)(b - a)), "trim");
  beskid_std_str_trim_start(&out, s);
  int64_t a2 = 0;
  while (a2 < s->len && is_space(s->ptr[a2])) a2++;
  FUZZ_CHECK(str_is(&out, at(s, a2), (size_t)(s->len - a2)), "trim_start");
  beskid_std_str_trim_end(&out, s);
  int64_t b2 = s->len;
  while (b2 > 0 && is_space(s->ptr[b2 - 1])) b2--;
  FUZZ_CHECK(str_is(&out, s->ptr, (size_t)b2), "trim_end");
  static uint8_t mapped[TEXT_MAX];
  for (int64_t i = 0; i < s->len; i++) {
    uint8_t ch = s->ptr[i];
    mapped[i] = ch >= 'a' && ch <= 'z' ? (uint8_t)(ch - 32) : ch;
  }
  beskid_std_str_to_upper_ascii(&out, s);
  keep(out.ptr);
  FUZZ_CHECK(str_is(&out, mapped, (size_t)s->len), "to_upper_ascii");
  for (int64_t i = 0; i < s->len; i++) {
    uint8_t ch = s->ptr[i];
    mapped[i] = ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
  }
  beskid_std_str_to_lower_ascii(&out, s);
  keep(out.ptr);
  FUZZ_CHECK(str_is(&out, mapped, (size_t)s->len), "to_lower_ascii");

  /* Code points: the cursor decodes what the reference decodes; concat and a slice at a
   * code-point boundary; the builder rebuilds the text from its code points. */
  int64_t count = 0, cut = 0;
  beskid_std_builder_t *builder = beskid_std_builder_new(0);
  keep(builder);
  for (int64_t o = 0; o < s->len; count++) {
    uint32_t cp;
    size_t len = fuzz_utf8_decode(s->ptr, (size_t)s->len, (size_t)o, &cp);
    int64_t next;
    FUZZ_CHECK(beskid_std_str_char_at(s, o, &next) == (int32_t)cp && next == o + (int64_t)len,
               "char_at %lld", (long long)o);
    beskid_std_builder_append_char(builder, (int32_t)cp);
    if (count == knob % 7) cut = o;
    o = next;
  }
  FUZZ_CHECK(beskid_std_str_char_count(s) == count, "char_count");
  beskid_std_builder_finish(&out, builder);
  keep(out.ptr);
  FUZZ_CHECK(str_is(&out, s->ptr, (size_t)s->len), "builder of code points");
  beskid_std_str_slice(&out, s, cut, s->len);
  FUZZ_CHECK(str_is(&out, at(s, cut), (size_t)(s->len - cut)), "slice");
  beskid_str_t joined;
  beskid_std_str_concat(&joined, s, sep);
  keep(joined.ptr);
  FUZZ_CHECK(joined.len == s->len + sep->len &&
                 (s->len == 0 || memcmp(joined.ptr, s->ptr, (size_t)s->len) == 0) &&
                 (sep->len == 0 || memcmp(joined.ptr + s->len, sep->ptr, (size_t)sep->len) == 0),
             "concat");
}

/* Raw bytes (not necessarily UTF-8): utf8_check, from_utf8, and path validation. */
static void check_bytes(const uint8_t *raw, size_t n, uint8_t knob) {
  beskid_array_t bytes;
  array_new(&bytes, 1, (int64_t)n);
  keep(bytes.ptr);
  if (n > 0) memcpy(bytes.ptr, raw, n);
  int64_t start = n == 0 ? 0 : (int64_t)(knob % (n + 1));
  int64_t len = (int64_t)n - start;
  size_t bad;
  bool valid = fuzz_utf8_valid(raw + start, (size_t)len, &bad);
  int64_t got = beskid_std_utf8_check(&bytes, start, len);
  FUZZ_CHECK(got == (valid ? -1 : (int64_t)bad), "utf8_check = %lld", (long long)got);
  if (valid) {
    beskid_str_t s;
    beskid_std_str_from_utf8(&s, &bytes, start, len);
    keep(s.ptr);
    FUZZ_CHECK(str_is(&s, raw + start, (size_t)len), "from_utf8");
  }

  /* A path is refused (INVALID_INPUT) exactly when it is empty, holds a NUL or is 4096 bytes
   * or longer. Paths are string values, which are UTF-8 by invariant (stdhost trusts it), so
   * the path is the valid prefix of the bytes. stat and exists only look, never change. */
  if (!fuzz_utf8_valid(raw, n, &bad)) n = bad;
  beskid_str_t path = {n == 0 ? NULL : bytes.ptr, (int64_t)n};
  bool good = n > 0 && n < 4096 && memchr(raw, 0, n) == NULL;
  int64_t size = -1, modified = -1;
  int32_t kind = -1;
  int32_t st = beskid_std_fs_stat(&path, &size, &kind, &modified);
  int32_t ex = beskid_std_fs_exists(&path);
  if (!good) {
    FUZZ_CHECK(st == BESKID_INVALID_INPUT && ex == BESKID_INVALID_INPUT,
               "a bad path gave stat %d exists %d", st, ex);
    FUZZ_CHECK(size == 0 && kind == 0 && modified == 0, "stat outputs not zeroed on failure");
  } else {
    bool long_name = false;
    for (size_t i = 0, run = 0; i < n; i++) {
      run = raw[i] == '/' ? 0 : run + 1;
      if (run > 255) long_name = true;
    }
    if (!long_name) {
      FUZZ_CHECK(st != BESKID_INVALID_INPUT && ex != BESKID_INVALID_INPUT,
                 "a good path refused: stat %d exists %d", st, ex);
      FUZZ_CHECK((st == BESKID_OK) == (ex == BESKID_OK) || st == BESKID_PERMISSION_DENIED ||
                     ex == BESKID_PERMISSION_DENIED,
                 "stat %d and exists %d disagree", st, ex);
    }
  }
}

static uint64_t inputs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size, 0};
  uint8_t area = fuzz_u8(&in);
  uint8_t knob = fuzz_u8(&in);
  static uint8_t first[TEXT_MAX], second[256];
  size_t n2 = fuzz_bytes(&in, second, sizeof second);
  size_t n1 = size - in.pos > TEXT_MAX ? TEXT_MAX : size - in.pos;
  memcpy(first, data + in.pos, n1);
  beskid_str_t s = make_str(first, n1);
  beskid_str_t sep = make_str(second, n2);
  switch (area % 3) {
  case 0:
    check_numbers(&s);
    break;
  case 1:
    check_strings(&s, &sep, knob);
    break;
  default:
    check_bytes(first, n1, knob);
  }
  for (int i = 0; i < SLOTS; i++) slots[i] = NULL;
  used = 0;
  if (++inputs % 4096 == 0) gc_collect(); /* keep the heap small between inputs */
  return 0;
}
