/* builder.c — the string builder: a heap object holding a byte buffer that doubles when full,
 * so appending n bytes in total costs O(n) amortised, and finishing hands the buffer over as
 * the string without a copy when it is at least half used.
 *
 * Invariants: 0 ≤ len ≤ cap; `data` is NULL exactly when cap is 0, and otherwise points at the
 * start of a byte buffer of `cap` bytes that no string shares (finish either copies or lets go
 * of the buffer); bytes [0, unchecked) are whole UTF-8 code points (strings and numbers append
 * whole ones), and unchecked = -1 unless raw bytes were appended since the last finish. The
 * `data` field is a managed pointer (the descriptor's pointer map says so) stored with the
 * write barrier; `b` and the appended source are held in a root frame whenever the buffer
 * grows, since growing allocates. */
#include <stdio.h>
#include <string.h>

#include "strings_internal.h"

struct beskid_std_builder_t {
  beskid_header_t header;
  uint8_t *data;     /* @8: buffer data (managed), or NULL */
  int64_t len;       /* @16: bytes used */
  int64_t cap;       /* @24: bytes available */
  int64_t unchecked; /* @32: first byte not known to be UTF-8, or -1 */
};

static const uint64_t builder_map[] = {8};
static const beskid_type_t builder_type = {
    sizeof(struct beskid_std_builder_t), 8, builder_map, 1, BESKID_TYPE_AGGREGATE, 0};

/* The first buffer a builder gets when it grows from nothing. */
#define BUILDER_MIN_CAP 32

static inline beskid_std_builder_t *check_builder(beskid_std_builder_t *b, const char *fn) {
  if (__builtin_expect(b == NULL, 0))
    beskid_std_trap(BESKID_TRAP_NULL_REFERENCE, fn, "NULL builder");
  return b;
}

beskid_std_builder_t *beskid_std_builder_new(int64_t capacity) {
  if (capacity < 0) beskid_std_trap(BESKID_TRAP_BOUNDS, "builder_new", "negative capacity");
  beskid_std_builder_t *b = alloc((int64_t)sizeof *b, &builder_type);
  b->unchecked = -1;
  if (capacity > 0) {
    beskid_gc_thread_t *t = beskid_rt_thread();
    void *slots[1] = {b};
    beskid_root_frame_t frame = {NULL, slots, 1};
    beskid_gc_push_frame(t, &frame);
    uint8_t *data = beskid_std_alloc_bytes(t, capacity);
    beskid_gc_pop_frame(t, &frame);
    beskid_gc_store(t, (void **)&b->data, data);
    b->cap = capacity;
  }
  return b;
}

/* Makes room for `extra` more bytes (the slow path of every append): a buffer of at least
 * twice the old capacity. `source` (may be NULL) is the managed data about to be appended,
 * kept alive across the allocation. */
static __attribute__((noinline)) void grow(beskid_std_builder_t *b, int64_t extra,
                                           const void *source) {
  if (extra > INT64_MAX - b->len) {
    beskid_std_trap(BESKID_TRAP_ARITHMETIC_OVERFLOW, "builder", "length overflows");
  }
  int64_t need = b->len + extra;
  int64_t cap = b->cap > INT64_MAX / 2 ? INT64_MAX : b->cap * 2;
  if (cap < BUILDER_MIN_CAP) cap = BUILDER_MIN_CAP;
  if (cap < need) cap = need;
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[3] = {b, (void *)source, NULL};
  beskid_root_frame_t frame = {NULL, slots, 3};
  beskid_gc_push_frame(t, &frame);
  uint8_t *data = beskid_std_alloc_bytes(t, cap);
  slots[2] = data;
  beskid_gc_copy_bytes(t, data, b->data, (size_t)b->len);
  beskid_gc_pop_frame(t, &frame);
  beskid_gc_store(t, (void **)&b->data, data);
  b->cap = cap;
}

/* Copies a large append with `b` and `src` rooted: a collection may run meanwhile
 * (beskid_gc_copy_bytes). */
static __attribute__((noinline)) void append_bulk(beskid_std_builder_t *b, const void *src,
                                                  int64_t n) {
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[2] = {b, (void *)src};
  ROOTS(t, frame, slots);
  beskid_gc_copy_bytes(t, b->data + b->len, src, (size_t)n);
  beskid_gc_pop_frame(t, &frame);
}

/* Appends n > 0 bytes at src (managed or not). */
static inline void append(beskid_std_builder_t *b, const void *src, int64_t n) {
  if (__builtin_expect(b->cap - b->len < n, 0)) grow(b, n, src);
  if (__builtin_expect((uint64_t)n >= BESKID_GC_BULK_MIN, 0)) {
    append_bulk(b, src, n);
  } else {
    memcpy(b->data + b->len, src, (size_t)n);
  }
  b->len += n;
}

void beskid_std_builder_append_str(beskid_std_builder_t *b, const beskid_str_t *s) {
  check_builder(b, "builder_append_str");
  beskid_str_t v = beskid_std_check_str(s, "builder_append_str");
  if (v.len > 0) append(b, v.ptr, v.len);
}

void beskid_std_builder_append_bytes(beskid_std_builder_t *b, const beskid_array_t *bytes,
                                     int64_t start, int64_t len) {
  check_builder(b, "builder_append_bytes");
  beskid_array_t a = beskid_std_check_array(bytes, "builder_append_bytes");
  beskid_std_check_range(start, len, a.len, "builder_append_bytes");
  if (len == 0) return;
  if (b->unchecked < 0) b->unchecked = b->len;
  append(b, (const uint8_t *)a.ptr + start, len);
}

void beskid_std_builder_append_i64(beskid_std_builder_t *b, int64_t value) {
  check_builder(b, "builder_append_i64");
  if (__builtin_expect(b->cap - b->len >= BESKID_STD_I64_TEXT_MAX, 1)) {
    b->len += (int64_t)beskid_std_format_i64((char *)b->data + b->len, value);
    return;
  }
  char buf[BESKID_STD_I64_TEXT_MAX];
  size_t n = beskid_std_format_i64(buf, value);
  append(b, buf, (int64_t)n);
}

void beskid_std_builder_append_f64(beskid_std_builder_t *b, double value) {
  check_builder(b, "builder_append_f64");
  if (__builtin_expect(b->cap - b->len >= BESKID_STD_F64_TEXT_MAX, 1)) {
    b->len += (int64_t)beskid_std_format_f64((char *)b->data + b->len, value);
    return;
  }
  char buf[BESKID_STD_F64_TEXT_MAX];
  size_t n = beskid_std_format_f64(buf, value);
  append(b, buf, (int64_t)n);
}

void beskid_std_builder_append_char(beskid_std_builder_t *b, int32_t code_point) {
  check_builder(b, "builder_append_char");
  uint8_t buf[4];
  size_t n = beskid_std_utf8_encode(buf, code_point);
  if (n == 0) {
    char msg[96];
    (void)snprintf(msg, sizeof msg, "builder_append_char: %d is not a Unicode scalar value",
                   code_point);
    beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
  }
  append(b, buf, (int64_t)n);
}

int64_t beskid_std_builder_len(const beskid_std_builder_t *b) {
  check_builder((beskid_std_builder_t *)b, "builder_len");
  return b->len;
}

void beskid_std_builder_finish(beskid_str_t *out, beskid_std_builder_t *b) {
  beskid_std_check_out(out, "builder_finish");
  check_builder(b, "builder_finish");
  int64_t len = b->len;
  if (b->unchecked >= 0) {
    size_t bad;
    int64_t from = b->unchecked;
    if (!beskid_obj_utf8_valid(b->data + from, (size_t)(len - from), &bad)) {
      char msg[160];
      (void)snprintf(msg, sizeof msg, "builder_finish: invalid UTF-8 at byte %lld of %lld",
                     (long long)from + (long long)bad, (long long)len);
      beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
    }
    b->unchecked = -1;
  }
  if (len == 0) {
    out->ptr = NULL;
    out->len = 0;
    return;
  }
  beskid_gc_thread_t *t = beskid_rt_thread();
  if (len >= b->cap - len) {
    /* At least half used: the string takes the buffer; the builder starts afresh. */
    out->ptr = b->data;
    out->len = len;
    beskid_gc_store(t, (void **)&b->data, NULL);
    b->cap = 0;
  } else {
    void *slots[2] = {b, NULL};
    beskid_root_frame_t frame = {NULL, slots, 2};
    beskid_gc_push_frame(t, &frame);
    uint8_t *data = beskid_std_alloc_bytes(t, len);
    slots[1] = data;
    beskid_gc_copy_bytes(t, data, b->data, (size_t)len);
    beskid_gc_pop_frame(t, &frame);
    out->ptr = data;
    out->len = len;
  }
  b->len = 0;
}
