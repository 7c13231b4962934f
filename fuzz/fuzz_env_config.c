/* fuzz_env_config.c — libFuzzer harness for the runtime's environment parsers (libs/builtins):
 * beskid_rt_config_from_env() over BESKID_GOGC, BESKID_MEMORY_LIMIT, BESKID_HEAP_MAX_BYTES,
 * BESKID_GCTRACE and BESKID_GCDEBUG, and beskid_rt_parse_bytes().
 *
 * The input gives each variable a value (or leaves it unset). A reference model restates the
 * grammar of runtime_abi.h with 128-bit arithmetic; the runtime must accept exactly what the
 * model accepts and produce the same configuration, and a refusal must name the first bad
 * variable (`NAME=value: why`). */
#include "beskid/platform.h"
#include "beskid/runtime_abi.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { VALUE_MAX = 300 };

/* Decimal digits with an optional K/M/G suffix (powers of 1024), fitting 64 bits. */
static bool model_bytes(const char *s, uint64_t *out) {
  if (*s < '0' || *s > '9') return false;
  unsigned __int128 v = 0;
  bool big = false;
  for (; *s >= '0' && *s <= '9'; s++) {
    v = v * 10 + (unsigned)(*s - '0');
    if (v > UINT64_MAX) big = true, v = (unsigned __int128)UINT64_MAX + 1;
  }
  unsigned shift = 0;
  if (*s == 'k' || *s == 'K')
    shift = 10, s++;
  else if (*s == 'm' || *s == 'M')
    shift = 20, s++;
  else if (*s == 'g' || *s == 'G')
    shift = 30, s++;
  if (*s != '\0') return false;
  v <<= shift;
  if (big || v > UINT64_MAX) return false;
  *out = (uint64_t)v;
  return true;
}

/* Only decimal digits, at most `max`. */
static bool model_count(const char *s, uint64_t max, uint64_t *out) {
  if (*s == '\0') return false;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return false;
  }
  uint64_t v;
  if (!model_bytes(s, &v) || v > max) return false;
  *out = v;
  return true;
}

static bool model_debug(const char *list, beskid_rt_config_t *c) {
  char copy[VALUE_MAX + 1];
  snprintf(copy, sizeof copy, "%s", list);
  char *p = copy;
  while (*p) {
    char *end = strchr(p, ',');
    if (end != NULL) *end = '\0';
    if (*p == '\0') {
      /* an empty item: skipped */
    } else if (strcmp(p, "stw") == 0) {
      c->debug_flags |= BESKID_GC_DEBUG_STW;
    } else if (strcmp(p, "checkmark") == 0) {
      c->debug_flags |= BESKID_GC_DEBUG_CHECKMARK;
    } else if (strcmp(p, "clobber") == 0) {
      c->debug_flags |= BESKID_GC_DEBUG_CLOBBER;
    } else if (strcmp(p, "verify") == 0) {
      c->debug_flags |= BESKID_GC_DEBUG_VERIFY;
    } else if (strncmp(p, "stress=", 7) == 0) {
      if (!model_count(p + 7, INT64_MAX, &c->stress_interval)) return false;
    } else {
      return false;
    }
    if (end == NULL) break;
    p = end + 1;
  }
  return true;
}

static const char *const names[5] = {"BESKID_GOGC", "BESKID_MEMORY_LIMIT", "BESKID_HEAP_MAX_BYTES",
                                     "BESKID_GCTRACE", "BESKID_GCDEBUG"};

/* The model of beskid_rt_config_from_env(): returns the index of the first bad variable, or -1. */
static int model_config(char values[5][VALUE_MAX + 1], const bool set[5], beskid_rt_config_t *c) {
  for (int i = 0; i < 5; i++) {
    if (!set[i]) continue;
    const char *v = values[i];
    if (strlen(v) >= 255) return i; /* the runtime reads at most 255 bytes */
    uint64_t n;
    switch (i) {
    case 0:
      if (strcmp(v, "off") == 0)
        c->gogc = BESKID_GC_GOGC_OFF;
      else if (model_count(v, INT32_MAX, &n))
        c->gogc = (int32_t)n;
      else
        return i;
      break;
    case 1:
      if (!model_bytes(v, &c->memory_limit)) return i;
      break;
    case 2:
      if (!model_bytes(v, &c->heap_max)) return i;
      break;
    case 3:
      if (strcmp(v, "1") == 0)
        c->trace = true;
      else if (strcmp(v, "0") == 0)
        c->trace = false;
      else
        return i;
      break;
    default:
      if (!model_debug(v, c)) return i;
    }
  }
  return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size, 0};
  uint8_t present = fuzz_u8(&in);
  static char values[5][VALUE_MAX + 1];
  bool set[5];
  for (int i = 0; i < 5; i++) {
    set[i] = (present >> i) & 1;
    uint8_t raw[VALUE_MAX];
    size_t n = fuzz_bytes(&in, raw, 255);
    if (present & 0x80 && i == 4) { /* a long GCDEBUG list: the value repeated */
      size_t k = n;
      while (k > 0 && k + n <= VALUE_MAX) memcpy(raw + k, raw, n), k += n;
      n = k;
    }
    memcpy(values[i], raw, n);
    values[i][n] = '\0'; /* an environment value ends at its first NUL */
    if (set[i])
      beskid_os_env_set(names[i], values[i]);
    else
      beskid_os_env_set(names[i], NULL);
  }
  beskid_rt_config_t got, want;
  beskid_rt_config_default(&got);
  beskid_rt_config_default(&want);
  char error[512] = "";
  bool ok = beskid_rt_config_from_env(&got, error, sizeof error);
  int bad = model_config(values, set, &want);
  size_t len = bad >= 0 ? strlen(values[bad]) : 0;
  if (bad >= 0 && len >= 255 && len <= 256) return 0; /* at the buffer's edge: either answer */
  FUZZ_CHECK(ok == (bad < 0), "runtime %d, model's first bad variable %d; error '%s'", ok, bad,
             error);
  if (ok) {
    FUZZ_CHECK(got.gogc == want.gogc && got.memory_limit == want.memory_limit &&
                   got.heap_max == want.heap_max && got.trace == want.trace &&
                   got.debug_flags == want.debug_flags &&
                   got.stress_interval == want.stress_interval,
               "configurations differ (gogc %d/%d debug %u/%u stress %llu/%llu)", got.gogc,
               want.gogc, got.debug_flags, want.debug_flags,
               (unsigned long long)got.stress_interval, (unsigned long long)want.stress_interval);
  } else {
    size_t name_len = strlen(names[bad]);
    FUZZ_CHECK(strncmp(error, names[bad], name_len) == 0 && error[name_len] == '=',
               "error '%s' does not name %s", error, names[bad]);
    FUZZ_CHECK(strchr(error, '\n') == NULL, "error spans lines");
  }
  for (int i = 0; i < 5; i++) {
    uint64_t a = 0, b = 0;
    bool ra = beskid_rt_parse_bytes(values[i], &a);
    bool rb = model_bytes(values[i], &b);
    FUZZ_CHECK(ra == rb && (!ra || a == b), "parse_bytes('%s') = %d %llu, want %d %llu", values[i],
               ra, (unsigned long long)a, rb, (unsigned long long)b);
  }
  return 0;
}
