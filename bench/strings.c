/* strings.c — the strings workload: format N numbers (half integers, half doubles) into one
 * text through a growing buffer, one per line, split the text into lines and parse every line
 * back, checking that each number survives the round trip. Argument 1: N (default 10000000).
 *
 *   beskid    the runtime's string functions through the ABI (libs/stdhost): a string builder
 *             (append_i64, append_f64 — shortest round-trip digits), split into an array of
 *             slices, parse_i64 / parse_f64; root frames and polls as the compiler emits them.
 *   mimalloc  plain C: snprintf("%lld") / snprintf("%.17g") (17 digits: what C needs for a
 *             round trip) into a mi_realloc-doubled buffer, an array of {ptr, len} lines, and
 *             strtoll / strtod; everything freed with mi_free.
 * The Go version (bench/go) uses strconv.AppendInt / AppendFloat(f, 'g', -1, 64), a
 * strings.Builder, strings.Split and strconv.ParseInt / ParseFloat.
 *
 * The numbers come from splitmix64 (same sequence in every version): integers of every
 * magnitude and sign; doubles either short decimals (12345.67) or full 53-bit fractions scaled
 * by 10^-3 … 10^9. The result lines are the wrapping sum of the integers and the xor of the
 * doubles' bits, as generated and as parsed back; identical in every version. */
#include "bench.h"

#if defined(BENCH_BESKID)
#include "beskid/stdhost.h"
#endif

static uint64_t rng_state;
static inline uint64_t next_random(void) {
  uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static const double scales[8] = {1e-3, 1e-1, 1, 10, 1e3, 1e5, 1e7, 1e9};

static inline int64_t make_int(uint64_t x) { return (int64_t)x / (INT64_C(1) << (x & 62)); }

static inline double make_double(uint64_t x) {
  double f = (x & 1) ? ((double)(x >> 11) * 0x1p-53) * scales[(x >> 4) & 7]
                     : (double)(int64_t)((x >> 12) % 10000000) / 100.0;
  return (x & 2) ? -f : f;
}

static inline uint64_t bits_of(double f) {
  uint64_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}

BENCH_MAIN {
  long n = bench_arg(1, 10000000);
  uint64_t sum_out = 0, xor_out = 0, sum_in = 0, xor_in = 0;
  long lines = 0, bad = 0;
  rng_state = 42;
#if defined(BENCH_BESKID)
  beskid_gc_thread_t *t = BENCH_CTX;
  ROOTS(r, 3); /* r[0] builder, r[1] text, r[2] pieces */
  beskid_std_builder_t *b = beskid_std_builder_new(0);
  r[0] = b;
  for (long i = 0; i < n; i++) {
    uint64_t x = next_random();
    if ((i & 1) == 0) {
      int64_t v = make_int(x);
      sum_out += (uint64_t)v;
      beskid_std_builder_append_i64(b, v);
    } else {
      double f = make_double(x);
      xor_out ^= bits_of(f);
      beskid_std_builder_append_f64(b, f);
    }
    beskid_std_builder_append_char(b, '\n');
    POLL();
  }
  beskid_str_t text, newline;
  beskid_std_builder_finish(&text, b);
  r[1] = (void *)text.ptr;
  r[0] = NULL;
  str_new(&newline, (const uint8_t *)"\n", 1);
  beskid_array_t pieces;
  beskid_std_str_split(&pieces, &text, &newline);
  r[2] = pieces.ptr;
  const beskid_str_t *piece = pieces.ptr;
  lines = (long)pieces.len - 1; /* the text ends with a newline: the last piece is empty */
  for (long i = 0; i < lines; i++) {
    if ((i & 1) == 0) {
      int64_t v = 0;
      if (beskid_std_str_parse_i64(&piece[i], &v) != BESKID_STD_PARSE_OK) bad++;
      sum_in += (uint64_t)v;
    } else {
      double f = 0;
      if (beskid_std_str_parse_f64(&piece[i], &f) != BESKID_STD_PARSE_OK) bad++;
      xor_in ^= bits_of(f);
    }
    POLL();
  }
  UNROOT(r);
  (void)t;
#else
  size_t cap = 0, len = 0;
  char *text = NULL;
  for (long i = 0; i < n; i++) {
    uint64_t x = next_random();
    if (cap - len < 40) {
      cap = cap < 64 ? 64 : cap * 2;
#if defined(BENCH_MIMALLOC)
      text = mi_realloc(text, cap);
#else
      text = realloc(text, cap);
#endif
    }
    if ((i & 1) == 0) {
      int64_t v = make_int(x);
      sum_out += (uint64_t)v;
      len += (size_t)snprintf(text + len, cap - len, "%lld\n", (long long)v);
    } else {
      double f = make_double(x);
      xor_out ^= bits_of(f);
      len += (size_t)snprintf(text + len, cap - len, "%.17g\n", f);
    }
  }
  typedef struct line {
    const char *ptr;
    size_t len;
  } line;
  size_t count = 1;
  for (const char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
       p++)
    count++;
#if defined(BENCH_MIMALLOC)
  line *piece = mi_malloc(count * sizeof *piece);
#else
  line *piece = malloc(count * sizeof *piece);
#endif
  size_t k = 0;
  for (const char *p = text, *end = text + len;;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl != NULL ? nl : end;
    piece[k++] = (line){p, (size_t)(stop - p)};
    if (nl == NULL) break;
    p = nl + 1;
  }
  lines = (long)count - 1;
  for (long i = 0; i < lines; i++) {
    char *stop;
    if ((i & 1) == 0) {
      int64_t v = strtoll(piece[i].ptr, &stop, 10);
      if (stop != piece[i].ptr + piece[i].len) bad++;
      sum_in += (uint64_t)v;
    } else {
      double f = strtod(piece[i].ptr, &stop);
      if (stop != piece[i].ptr + piece[i].len) bad++;
      xor_in ^= bits_of(f);
    }
  }
  RELEASE(piece);
  RELEASE(text);
#endif
  printf("strings: %ld numbers formatted, split and parsed back\n", lines);
  printf("ints sum %" PRIu64 " / %" PRIu64 ", doubles xor %016" PRIx64 " / %016" PRIx64 "\n",
         sum_out, sum_in, xor_out, xor_in);
  int ok = bad == 0 && lines == n && sum_out == sum_in && xor_out == xor_in;
  printf("round trip %s\n", ok ? "exact" : "BROKEN");
  bench_report();
  return ok ? 0 : 1;
}
