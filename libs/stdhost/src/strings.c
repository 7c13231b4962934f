/* strings.c — the string host functions: comparison, concatenation, slices, UTF-8 validation
 * and code-point iteration, search, split, trim and ASCII case mapping; and the helpers the
 * builder, bytes and number sources share (strings_internal.h).
 *
 * Invariants: every string this file returns is UTF-8 (made from strings, or validated); every
 * empty result is {NULL, 0}, so no result ever points one past its buffer's end; a function that
 * allocates first pushes a root frame holding the managed pointers of its inputs, since a caller
 * may pass a temporary that nothing else keeps alive. Slices share their source's storage (an
 * interior pointer keeps the whole buffer alive). */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>

#include "strings_internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Shared helpers */

void beskid_std_trap(uint32_t code, const char *fn, const char *what) {
  char msg[256];
  (void)snprintf(msg, sizeof msg, "%s: %s", fn, what);
  beskid_rt_trap(code, msg);
}

void beskid_std_check_range(int64_t start, int64_t len, int64_t limit, const char *fn) {
  if (start < 0 || len < 0 || start > limit || len > limit - start) {
    char msg[200];
    (void)snprintf(msg, sizeof msg, "%s: range of %lld bytes from %lld outside length %lld", fn,
                   (long long)len, (long long)start, (long long)limit);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
}

uint8_t *beskid_std_alloc_bytes(beskid_gc_thread_t *t, int64_t len) {
  uint64_t size;
  if (len < 0 || !beskid_obj_array_size(&beskid_obj_byte_elem_type, (uint64_t)len, &size)) {
    beskid_rt_trap_arithmetic_overflow();
  }
  beskid_array_buffer_t *b = beskid_gc_alloc_array(t, &beskid_obj_byte_elem_type, (uint64_t)len);
  if (b == NULL) beskid_rt_trap_own_out_of_memory(0); /* the collector recorded the figures */
  return beskid_obj_array_data(b);
}

void beskid_std_str_from_raw(beskid_str_t *out, const uint8_t *bytes, int64_t len) {
  if (len == 0) {
    out->ptr = NULL;
    out->len = 0;
    return;
  }
  uint8_t *data = beskid_std_alloc_bytes(beskid_rt_thread(), len);
  memcpy(data, bytes, (size_t)len);
  out->ptr = data;
  out->len = len;
}

size_t beskid_std_utf8_encode(uint8_t *buf, int32_t cp) {
  if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  uint32_t c = (uint32_t)cp;
  if (c < 0x80) {
    buf[0] = (uint8_t)c;
    return 1;
  }
  if (c < 0x800) {
    buf[0] = (uint8_t)(0xC0 | (c >> 6));
    buf[1] = (uint8_t)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    buf[0] = (uint8_t)(0xE0 | (c >> 12));
    buf[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
    buf[2] = (uint8_t)(0x80 | (c & 0x3F));
    return 3;
  }
  buf[0] = (uint8_t)(0xF0 | (c >> 18));
  buf[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
  buf[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
  buf[3] = (uint8_t)(0x80 | (c & 0x3F));
  return 4;
}

static inline bool is_continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

/* ------------------------------------------------------------------------------------------ */
/* Comparison */

bool beskid_std_str_eq(const beskid_str_t *a, const beskid_str_t *b) {
  beskid_str_t x = beskid_std_check_str(a, "str_eq"), y = beskid_std_check_str(b, "str_eq");
  return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}

/* Bytewise order of two byte ranges, a proper prefix first. */
static int32_t order_bytes(const uint8_t *a, int64_t alen, const uint8_t *b, int64_t blen) {
  int64_t n = alen < blen ? alen : blen;
  int r = n > 0 ? memcmp(a, b, (size_t)n) : 0;
  if (r != 0) return r < 0 ? -1 : 1;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int32_t beskid_std_str_compare(const beskid_str_t *a, const beskid_str_t *b) {
  beskid_str_t x = beskid_std_check_str(a, "str_compare"),
               y = beskid_std_check_str(b, "str_compare");
  return order_bytes(x.ptr, x.len, y.ptr, y.len);
}

int32_t beskid_std_order_bytes(const uint8_t *a, int64_t alen, const uint8_t *b, int64_t blen) {
  return order_bytes(a, alen, b, blen);
}

/* ------------------------------------------------------------------------------------------ */
/* Making strings */

void beskid_std_str_concat(beskid_str_t *out, const beskid_str_t *a, const beskid_str_t *b) {
  beskid_std_check_out(out, "str_concat");
  beskid_str_t x = beskid_std_check_str(a, "str_concat"), y = beskid_std_check_str(b, "str_concat");
  /* Strings are immutable, so an empty operand lets the other be shared. */
  if (x.len == 0 || y.len == 0) {
    *out = x.len == 0 ? y : x;
    return;
  }
  if (x.len > INT64_MAX - y.len) {
    beskid_std_trap(BESKID_TRAP_ARITHMETIC_OVERFLOW, "str_concat", "total length overflows");
  }
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[3] = {(void *)x.ptr, (void *)y.ptr, NULL};
  ROOTS(t, frame, slots);
  uint8_t *data = beskid_std_alloc_bytes(t, x.len + y.len);
  slots[2] = data;
  beskid_gc_copy_bytes(t, data, x.ptr, (size_t)x.len);
  beskid_gc_copy_bytes(t, data + x.len, y.ptr, (size_t)y.len);
  beskid_gc_pop_frame(t, &frame);
  out->ptr = data;
  out->len = x.len + y.len;
}

void beskid_std_str_slice(beskid_str_t *out, const beskid_str_t *s, int64_t start, int64_t end) {
  beskid_std_check_out(out, "str_slice");
  beskid_str_t v = beskid_std_check_str(s, "str_slice");
  if (start < 0 || end < start || end > v.len) {
    char msg[160];
    (void)snprintf(msg, sizeof msg, "str_slice: [%lld, %lld) outside a string of %lld bytes",
                   (long long)start, (long long)end, (long long)v.len);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  if ((start < v.len && is_continuation(v.ptr[start])) ||
      (end < v.len && is_continuation(v.ptr[end]))) {
    char msg[160];
    (void)snprintf(msg, sizeof msg, "str_slice: [%lld, %lld) splits a multi-byte code point",
                   (long long)start, (long long)end);
    beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
  }
  if (start == end) {
    out->ptr = NULL;
    out->len = 0;
  } else {
    out->ptr = v.ptr + start;
    out->len = end - start;
  }
}

static _Noreturn void trap_invalid_utf8(const char *fn, size_t offset, int64_t len) {
  char msg[160];
  (void)snprintf(msg, sizeof msg, "%s: invalid UTF-8 at byte %zu of %lld", fn, offset,
                 (long long)len);
  beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
}

void beskid_std_str_from_utf8(beskid_str_t *out, const beskid_array_t *bytes, int64_t start,
                              int64_t len) {
  beskid_std_check_out(out, "str_from_utf8");
  beskid_array_t a = beskid_std_check_array(bytes, "str_from_utf8");
  beskid_std_check_range(start, len, a.len, "str_from_utf8");
  if (len == 0) {
    out->ptr = NULL;
    out->len = 0;
    return;
  }
  const uint8_t *src = (const uint8_t *)a.ptr + start;
  size_t bad;
  if (!beskid_obj_utf8_valid(src, (size_t)len, &bad)) trap_invalid_utf8("str_from_utf8", bad, len);
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[2] = {a.ptr, NULL};
  ROOTS(t, frame, slots);
  uint8_t *data = beskid_std_alloc_bytes(t, len);
  slots[1] = data;
  beskid_gc_copy_bytes(t, data, src, (size_t)len);
  beskid_gc_pop_frame(t, &frame);
  out->ptr = data;
  out->len = len;
}

int64_t beskid_std_utf8_check(const beskid_array_t *bytes, int64_t start, int64_t len) {
  beskid_array_t a = beskid_std_check_array(bytes, "utf8_check");
  beskid_std_check_range(start, len, a.len, "utf8_check");
  size_t bad;
  if (len == 0 || beskid_obj_utf8_valid((const uint8_t *)a.ptr + start, (size_t)len, &bad)) {
    return -1;
  }
  return (int64_t)bad;
}

void beskid_std_str_to_bytes(beskid_array_t *out, const beskid_str_t *s) {
  beskid_std_check_out(out, "str_to_bytes");
  beskid_str_t v = beskid_std_check_str(s, "str_to_bytes");
  if (v.len == 0) {
    out->ptr = NULL;
    out->len = out->cap = 0;
    return;
  }
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[2] = {(void *)v.ptr, NULL};
  ROOTS(t, frame, slots);
  uint8_t *data = beskid_std_alloc_bytes(t, v.len);
  slots[1] = data;
  beskid_gc_copy_bytes(t, data, v.ptr, (size_t)v.len);
  beskid_gc_pop_frame(t, &frame);
  out->ptr = data;
  out->len = out->cap = v.len;
}

void beskid_std_str_from_char(beskid_str_t *out, int32_t code_point) {
  beskid_std_check_out(out, "str_from_char");
  uint8_t buf[4];
  size_t n = beskid_std_utf8_encode(buf, code_point);
  if (n == 0) {
    char msg[96];
    (void)snprintf(msg, sizeof msg, "str_from_char: %d is not a Unicode scalar value", code_point);
    beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
  }
  beskid_std_str_from_raw(out, buf, (int64_t)n);
}

/* ------------------------------------------------------------------------------------------ */
/* Code points */

int64_t beskid_std_str_char_count(const beskid_str_t *s) {
  beskid_str_t v = beskid_std_check_str(s, "str_char_count");
  int64_t count = 0;
  for (int64_t i = 0; i < v.len; i++) count += !is_continuation(v.ptr[i]);
  return count;
}

int32_t beskid_std_str_char_at(const beskid_str_t *s, int64_t offset, int64_t *next) {
  beskid_str_t v = beskid_std_check_str(s, "str_char_at");
  beskid_std_check_out(next, "str_char_at");
  if (offset < 0 || offset >= v.len) beskid_rt_trap_bounds(offset, v.len);
  const uint8_t *p = v.ptr + offset;
  int64_t left = v.len - offset;
  uint8_t b0 = p[0];
  if (b0 < 0x80) {
    *next = offset + 1;
    return b0;
  }
  /* Lead byte → length and the bits it carries; then the continuation bytes, with the same
   * rules as validation (no overlong forms, no surrogates, nothing above U+10FFFF). */
  int64_t n;
  uint32_t cp, min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    char msg[128];
    (void)snprintf(msg, sizeof msg, "str_char_at: byte %lld is not the start of a code point",
                   (long long)offset);
    beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
  }
  if (left < n) trap_invalid_utf8("str_char_at", (size_t)offset, v.len);
  for (int64_t i = 1; i < n; i++) {
    if (!is_continuation(p[i])) trap_invalid_utf8("str_char_at", (size_t)(offset + i), v.len);
    cp = (cp << 6) | (p[i] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    trap_invalid_utf8("str_char_at", (size_t)offset, v.len);
  }
  *next = offset + n;
  return (int32_t)cp;
}

/* ------------------------------------------------------------------------------------------ */
/* Search */

/* First occurrence of [n, n + nlen) in [h, h + hlen), nlen > 0; NULL if none. */
static const uint8_t *find_bytes(const uint8_t *h, int64_t hlen, const uint8_t *n, int64_t nlen) {
  if (nlen > hlen) return NULL;
  if (nlen == 1) return memchr(h, n[0], (size_t)hlen);
  return memmem(h, (size_t)hlen, n, (size_t)nlen);
}

int64_t beskid_std_str_find(const beskid_str_t *s, const beskid_str_t *needle, int64_t from) {
  beskid_str_t v = beskid_std_check_str(s, "str_find"),
               w = beskid_std_check_str(needle, "str_find");
  if (from < 0 || from > v.len) beskid_rt_trap_bounds(from, v.len + 1);
  if (w.len == 0) return from;
  if (w.len > v.len - from) return -1; /* also keeps a NULL empty string out of arithmetic */
  const uint8_t *hit = find_bytes(v.ptr + from, v.len - from, w.ptr, w.len);
  return hit == NULL ? -1 : hit - v.ptr;
}

bool beskid_std_str_contains(const beskid_str_t *s, const beskid_str_t *needle) {
  return beskid_std_str_find(s, needle, 0) >= 0;
}

bool beskid_std_str_starts_with(const beskid_str_t *s, const beskid_str_t *prefix) {
  beskid_str_t v = beskid_std_check_str(s, "str_starts_with"),
               w = beskid_std_check_str(prefix, "str_starts_with");
  return w.len <= v.len && (w.len == 0 || memcmp(v.ptr, w.ptr, (size_t)w.len) == 0);
}

bool beskid_std_str_ends_with(const beskid_str_t *s, const beskid_str_t *suffix) {
  beskid_str_t v = beskid_std_check_str(s, "str_ends_with"),
               w = beskid_std_check_str(suffix, "str_ends_with");
  return w.len <= v.len && (w.len == 0 || memcmp(v.ptr + v.len - w.len, w.ptr, (size_t)w.len) == 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Split */

static const uint64_t str_elem_map[] = {0};
static const beskid_elem_type_t str_elem_type = {sizeof(beskid_str_t), 8, str_elem_map, 1};

const beskid_elem_type_t *beskid_std_str_elem_type(void) { return &str_elem_type; }

/* Number of code points, counted from lead bytes (the string is UTF-8). */
static int64_t count_chars(const uint8_t *p, int64_t len) {
  int64_t count = 0;
  for (int64_t i = 0; i < len; i++) count += !is_continuation(p[i]);
  return count;
}

void beskid_std_str_split(beskid_array_t *out, const beskid_str_t *s, const beskid_str_t *sep) {
  beskid_std_check_out(out, "str_split");
  beskid_str_t v = beskid_std_check_str(s, "str_split"), w = beskid_std_check_str(sep, "str_split");
  if (v.len == 0) {
    /* No code points, or one empty piece; the empty string's data may be NULL. */
    if (w.len == 0) {
      out->ptr = NULL;
      out->len = out->cap = 0;
    } else {
      beskid_rt_array_new_typed(out, &str_elem_type, 1);
    }
    return;
  }
  /* Both passes poll between chunks of work, with the source, the separator and (second
   * pass) the array in roots: splitting a large text never holds up a collection for long. */
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[3] = {(void *)v.ptr, (void *)w.ptr, NULL};
  ROOTS(t, frame, slots);
  const uint8_t *end = v.ptr + v.len;
  /* First pass: how many pieces. */
  int64_t pieces = 0;
  if (w.len == 0) {
    for (const uint8_t *p = v.ptr; p < end;) {
      int64_t n = end - p < BESKID_STD_POLL_CHUNK ? end - p : BESKID_STD_POLL_CHUNK;
      pieces += count_chars(p, n);
      p += n;
      beskid_gc_poll(t);
    }
  } else {
    pieces = 1;
    for (const uint8_t *p = v.ptr;;) {
      const uint8_t *hit = find_bytes(p, end - p, w.ptr, w.len);
      if (hit == NULL) break;
      pieces++;
      p = hit + w.len;
      if ((pieces & 4095) == 0) beskid_gc_poll(t);
    }
  }
  beskid_array_t arr;
  beskid_rt_array_new_typed(&arr, &str_elem_type, pieces);
  slots[2] = arr.ptr;
  /* Each piece is a slice of `s` (kept alive by the element's pointer); empty pieces are
   * {NULL, 0}. Elements not yet written are {NULL, 0} when a collection scans the array. */
  beskid_str_t *elems = arr.ptr;
  int64_t i = 0;
  const uint8_t *p = v.ptr;
  if (w.len == 0) {
    while (p < end) {
      const uint8_t *q = p + 1;
      while (q < end && is_continuation(*q)) q++;
      beskid_gc_store(t, (void **)&elems[i].ptr, (void *)p);
      elems[i++].len = q - p;
      p = q;
      if ((i & 4095) == 0) beskid_gc_poll(t);
    }
  } else {
    for (;;) {
      const uint8_t *hit = i + 1 < pieces ? find_bytes(p, end - p, w.ptr, w.len) : NULL;
      const uint8_t *piece_end = hit != NULL ? hit : end;
      if (piece_end > p) {
        beskid_gc_store(t, (void **)&elems[i].ptr, (void *)p);
        elems[i].len = piece_end - p;
      }
      i++;
      if (hit == NULL) break;
      p = hit + w.len;
      if ((i & 4095) == 0) beskid_gc_poll(t);
    }
  }
  beskid_gc_pop_frame(t, &frame);
  *out = arr;
}

/* ------------------------------------------------------------------------------------------ */
/* Trim and case */

static inline bool is_ascii_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Writes the slice [start, end) of v, or the empty string. */
static void put_slice(beskid_str_t *out, beskid_str_t v, int64_t start, int64_t end) {
  if (start == end) {
    out->ptr = NULL;
    out->len = 0;
  } else {
    out->ptr = v.ptr + start;
    out->len = end - start;
  }
}

void beskid_std_str_trim(beskid_str_t *out, const beskid_str_t *s) {
  beskid_std_check_out(out, "str_trim");
  beskid_str_t v = beskid_std_check_str(s, "str_trim");
  int64_t start = 0, end = v.len;
  while (start < end && is_ascii_space(v.ptr[start])) start++;
  while (end > start && is_ascii_space(v.ptr[end - 1])) end--;
  put_slice(out, v, start, end);
}

void beskid_std_str_trim_start(beskid_str_t *out, const beskid_str_t *s) {
  beskid_std_check_out(out, "str_trim_start");
  beskid_str_t v = beskid_std_check_str(s, "str_trim_start");
  int64_t start = 0;
  while (start < v.len && is_ascii_space(v.ptr[start])) start++;
  put_slice(out, v, start, v.len);
}

void beskid_std_str_trim_end(beskid_str_t *out, const beskid_str_t *s) {
  beskid_std_check_out(out, "str_trim_end");
  beskid_str_t v = beskid_std_check_str(s, "str_trim_end");
  int64_t end = v.len;
  while (end > 0 && is_ascii_space(v.ptr[end - 1])) end--;
  put_slice(out, v, 0, end);
}

/* Maps ASCII letters between `from` and `from + 25` by adding `delta`; shares `s` when nothing
 * changes. */
static void map_ascii(beskid_str_t *out, const beskid_str_t *s, uint8_t from, int delta,
                      const char *fn) {
  beskid_std_check_out(out, fn);
  beskid_str_t v = beskid_std_check_str(s, fn);
  int64_t first = 0;
  while (first < v.len && (uint8_t)(v.ptr[first] - from) > 25) first++;
  if (first == v.len) {
    *out = v;
    return;
  }
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[2] = {(void *)v.ptr, NULL};
  ROOTS(t, frame, slots);
  uint8_t *data = beskid_std_alloc_bytes(t, v.len);
  slots[1] = data;
  /* Copied whole first: the bulk copy takes the page faults of the fresh buffer without
   * holding up a stop; the rewrite then polls between slices of resident memory. */
  beskid_gc_copy_bytes(t, data, v.ptr, (size_t)v.len);
  for (int64_t i = first; i < v.len; i++) {
    uint8_t c = data[i];
    data[i] = (uint8_t)((uint8_t)(c - from) <= 25 ? c + delta : c);
    if ((i & (BESKID_STD_POLL_CHUNK - 1)) == 0) beskid_gc_poll(t);
  }
  beskid_gc_pop_frame(t, &frame);
  out->ptr = data;
  out->len = v.len;
}

void beskid_std_str_to_upper_ascii(beskid_str_t *out, const beskid_str_t *s) {
  map_ascii(out, s, 'a', 'A' - 'a', "str_to_upper_ascii");
}

void beskid_std_str_to_lower_ascii(beskid_str_t *out, const beskid_str_t *s) {
  map_ascii(out, s, 'A', 'a' - 'A', "str_to_lower_ascii");
}
