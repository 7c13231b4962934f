/* fuzz_support.h — what the libFuzzer harnesses under fuzz/ share: a reader that takes typed
 * values from the fuzzer's input (zeros once it is used up, so every input is a valid program),
 * a reference UTF-8 decoder written independently of the runtime's, and the check macro.
 *
 * Invariant: a harness never calls the runtime with arguments its contract says trap (a trap
 * exits the process, which libFuzzer reports as a failure); every disagreement with a reference
 * model aborts with a message naming it, so libFuzzer keeps the input as a crash. */
#ifndef BESKID_FUZZ_SUPPORT_H
#define BESKID_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fails the run: the reference model and the runtime disagree. */
#define FUZZ_CHECK(cond, ...)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);              \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* Sequential reader over the input. */
typedef struct fuzz_input {
  const uint8_t *data;
  size_t size;
  size_t pos;
} fuzz_input;

static inline bool fuzz_more(const fuzz_input *in) { return in->pos < in->size; }

static inline uint8_t fuzz_u8(fuzz_input *in) {
  return in->pos < in->size ? in->data[in->pos++] : 0;
}

static inline uint64_t fuzz_u64(fuzz_input *in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)fuzz_u8(in) << (8 * i);
  return v;
}

/* Up to `max` bytes: a length byte then that many bytes (fewer at the end of the input). */
static inline size_t fuzz_bytes(fuzz_input *in, uint8_t *out, size_t max) {
  size_t want = fuzz_u8(in);
  if (want > max) want = max;
  size_t have = in->size - in->pos;
  if (want > have) want = have;
  memcpy(out, in->data + in->pos, want);
  in->pos += want;
  return want;
}

/* Reference UTF-8 decoder (RFC 3629), by code point value rather than by byte ranges: decodes
 * the sequence at bytes[i], returns its length, or 0 when it is not a well-formed sequence. */
static inline size_t fuzz_utf8_decode(const uint8_t *bytes, size_t len, size_t i, uint32_t *cp) {
  uint8_t c = bytes[i];
  size_t n;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2;
    v = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    v = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    v = c & 0x07u;
  } else {
    return 0;
  }
  if (len - i < n) return 0;
  for (size_t k = 1; k < n; k++) {
    if ((bytes[i + k] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (bytes[i + k] & 0x3Fu);
  }
  static const uint32_t min_of_length[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < min_of_length[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

/* Reference validity: true, or false with the offset of the first bad sequence. */
static inline bool fuzz_utf8_valid(const uint8_t *bytes, size_t len, size_t *bad) {
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    size_t n = fuzz_utf8_decode(bytes, len, i, &cp);
    if (n == 0) {
      *bad = i;
      return false;
    }
    i += n;
  }
  return true;
}

#endif
