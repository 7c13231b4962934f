/* builtins.c — the spec's v0.1 builtins: alloc, str_new, str_len, array_new (and its typed
 * variant). The descriptors they make for untyped memory are in descriptors.c.
 *
 * Every argument coming from compiled code is checked before it reaches the collector: a bad
 * value is a trap with a clear message, never undefined behaviour. Descriptors are validated
 * once per thread through the collector's cache (beskid_gc_type_check), so the check costs one
 * compare on the allocation path. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* The builtins */

static _Noreturn void trap_descriptor(beskid_obj_error e) {
  char msg[160];
  (void)snprintf(msg, sizeof msg, "malformed type descriptor: %s", beskid_obj_error_message(e));
  beskid_rt_trap(BESKID_TRAP_ABI_OR_LAYOUT_MISMATCH, msg);
}

/* Never inlined: its message buffers would give alloc() a stack frame and, with the stack
 * protector, a canary check on every allocation. */
static __attribute__((noinline)) void *alloc_slow(int64_t size, const beskid_type_t *type);

void *alloc(int64_t size, const beskid_type_t *type) {
  /* One call for the common case: a known descriptor of a small object (the size check against
   * the descriptor is part of the fast path's cache match). */
  void *p = beskid_gc_alloc_fast(type, (uint64_t)size);
  if (__builtin_expect(p != NULL, 1)) return p;
  return alloc_slow(size, type);
}

/* Reached for anything the fast path does not serve, a thread in the native state included (the
 * fast path finds no running thread then): the check costs the fast path nothing. */
static void *alloc_slow(int64_t size, const beskid_type_t *type) {
  beskid_gc_thread_t *t = beskid_rt_require_running("alloc");
  if (type == NULL) {
    if (size < (int64_t)BESKID_HEADER_SIZE || (uint64_t)size > BESKID_OBJECT_SIZE_MAX) {
      char msg[96];
      (void)snprintf(msg, sizeof msg, "alloc of %lld bytes: an object has 8 to 2^46 bytes",
                     (long long)size);
      beskid_rt_trap(BESKID_TRAP_ABI_OR_LAYOUT_MISMATCH, msg);
    }
    type = beskid_rt_raw_type((uint64_t)size);
  } else {
    beskid_obj_error e = beskid_gc_type_check(t, type);
    if (e != BESKID_OBJ_VALID) trap_descriptor(e);
    if (size < 0 || (uint64_t)size != type->size) {
      char msg[128];
      (void)snprintf(msg, sizeof msg, "alloc of %lld bytes with a descriptor of %llu bytes",
                     (long long)size, (unsigned long long)type->size);
      beskid_rt_trap(BESKID_TRAP_ABI_OR_LAYOUT_MISMATCH, msg);
    }
  }
  void *p = beskid_gc_alloc(t, type);
  if (p == NULL) beskid_rt_trap_out_of_memory(type->size);
  return p;
}

void str_new(beskid_str_t *out, const uint8_t *ptr, int64_t len) {
  if (out == NULL) beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "str_new: NULL result pointer");
  if (len < 0) beskid_rt_trap(BESKID_TRAP_BOUNDS, "str_new: negative length");
  beskid_gc_thread_t *t = beskid_rt_require_running("str_new");
  if (len == 0) {
    out->ptr = NULL;
    out->len = 0;
    return;
  }
  if (ptr == NULL) beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "str_new: NULL data with a length");
  size_t bad;
  if (!beskid_obj_utf8_valid(ptr, (size_t)len, &bad)) {
    char msg[96];
    (void)snprintf(msg, sizeof msg, "str_new: invalid UTF-8 at byte %zu of %lld", bad,
                   (long long)len);
    beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
  }
  beskid_array_buffer_t *b = beskid_gc_alloc_array(t, &beskid_obj_byte_elem_type, (uint64_t)len);
  if (b == NULL) beskid_rt_trap_out_of_memory((uint64_t)len + BESKID_ARRAY_DATA_OFFSET);
  uint8_t *data = beskid_obj_array_data(b);
  if ((uint64_t)len < BESKID_GC_BULK_MIN) {
    memcpy(data, ptr, (size_t)len);
  } else {
    /* Rooted: a collection may run during a bulk copy. `ptr`, if managed, is the caller's to
     * keep reachable, as across the allocation above. */
    void *slots[1] = {b};
    beskid_root_frame_t frame = {NULL, slots, 1};
    beskid_gc_push_frame(t, &frame);
    beskid_gc_copy_bytes(t, data, ptr, (size_t)len);
    beskid_gc_pop_frame(t, &frame);
  }
  out->ptr = data;
  out->len = len;
}

int64_t str_len(const beskid_str_t *str) {
  if (str == NULL) beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "str_len: NULL string");
  if (str->len < 0)
    beskid_rt_trap(BESKID_TRAP_BOUNDS, "str_len: corrupted string (negative length)");
  return str->len;
}

static void new_array(beskid_array_t *out, const beskid_elem_type_t *elem, int64_t len,
                      const char *entry_point) {
  if (len < 0) beskid_rt_trap_bounds(len, 0);
  beskid_gc_thread_t *t = beskid_rt_require_running(entry_point);
  if (len == 0) {
    out->ptr = NULL;
    out->len = out->cap = 0;
    return;
  }
  uint64_t size;
  if (!beskid_obj_array_size(elem, (uint64_t)len, &size)) beskid_rt_trap_arithmetic_overflow();
  beskid_array_buffer_t *b = beskid_gc_alloc_array(t, elem, (uint64_t)len);
  if (b == NULL) beskid_rt_trap_out_of_memory(size);
  out->ptr = beskid_obj_array_data(b);
  out->len = out->cap = len;
}

void array_new(beskid_array_t *out, int64_t elem_size, int64_t len) {
  if (out == NULL) beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "array_new: NULL result pointer");
  if (elem_size < 1 || (uint64_t)elem_size > BESKID_ELEM_STRIDE_MAX) {
    char msg[96];
    (void)snprintf(msg, sizeof msg, "array_new: element size %lld outside 1..2^32",
                   (long long)elem_size);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  if (len < 0) beskid_rt_trap(BESKID_TRAP_BOUNDS, "array_new: negative length");
  new_array(out, beskid_rt_raw_elem((uint64_t)elem_size), len, "array_new");
}

void beskid_rt_array_new_typed(beskid_array_t *out, const beskid_elem_type_t *elem, int64_t len) {
  if (out == NULL) beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "array_new: NULL result pointer");
  beskid_obj_error e = beskid_obj_validate_elem_type(elem);
  if (e != BESKID_OBJ_VALID) {
    char msg[160];
    (void)snprintf(msg, sizeof msg, "malformed element descriptor: %s",
                   beskid_obj_error_message(e));
    beskid_rt_trap(BESKID_TRAP_ABI_OR_LAYOUT_MISMATCH, msg);
  }
  if (len < 0) beskid_rt_trap(BESKID_TRAP_BOUNDS, "array_new: negative length");
  new_array(out, elem, len, "beskid_rt_array_new_typed");
}
