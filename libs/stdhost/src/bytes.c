/* bytes.c — byte-array host functions: get, set, copy, compare, fill. Every index and range is
 * checked against the array's length (never its capacity) before memory is touched, so a bad
 * argument traps `bounds` instead of reading or writing outside the array. */
#include <string.h>

#include "strings_internal.h"

uint8_t beskid_std_bytes_get(const beskid_array_t *bytes, int64_t index) {
  beskid_array_t a = beskid_std_check_array(bytes, "bytes_get");
  if ((uint64_t)index >= (uint64_t)a.len) beskid_rt_trap_bounds(index, a.len);
  return ((const uint8_t *)a.ptr)[index];
}

void beskid_std_bytes_set(const beskid_array_t *bytes, int64_t index, uint8_t value) {
  beskid_array_t a = beskid_std_check_array(bytes, "bytes_set");
  if ((uint64_t)index >= (uint64_t)a.len) beskid_rt_trap_bounds(index, a.len);
  uint8_t *data = a.ptr;
  data[index] = value;
}

void beskid_std_bytes_copy(const beskid_array_t *dst, int64_t dst_start, const beskid_array_t *src,
                           int64_t src_start, int64_t len) {
  beskid_array_t d = beskid_std_check_array(dst, "bytes_copy");
  beskid_array_t s = beskid_std_check_array(src, "bytes_copy");
  beskid_std_check_range(dst_start, len, d.len, "bytes_copy (destination)");
  beskid_std_check_range(src_start, len, s.len, "bytes_copy (source)");
  if (len == 0) return;
  uint8_t *to = (uint8_t *)d.ptr + dst_start;
  const uint8_t *from = (const uint8_t *)s.ptr + src_start;
  /* A thread running managed code copies large ranges where a collection does not wait for it,
   * with both arrays rooted; any other thread (these functions need no attached thread) and
   * small ranges copy in place. */
  beskid_gc_thread_t *t = (uint64_t)len < BESKID_GC_BULK_MIN ? NULL : beskid_gc_current_running();
  if (t == NULL) {
    memmove(to, from, (size_t)len);
    return;
  }
  void *slots[2] = {d.ptr, s.ptr};
  ROOTS(t, frame, slots);
  beskid_gc_copy_bytes(t, to, from, (size_t)len);
  beskid_gc_pop_frame(t, &frame);
}

int32_t beskid_std_bytes_compare(const beskid_array_t *a, const beskid_array_t *b) {
  beskid_array_t x = beskid_std_check_array(a, "bytes_compare");
  beskid_array_t y = beskid_std_check_array(b, "bytes_compare");
  return beskid_std_order_bytes(x.ptr, x.len, y.ptr, y.len);
}

void beskid_std_bytes_fill(const beskid_array_t *bytes, int64_t start, int64_t len, uint8_t value) {
  beskid_array_t a = beskid_std_check_array(bytes, "bytes_fill");
  beskid_std_check_range(start, len, a.len, "bytes_fill");
  if (len == 0) return;
  uint8_t *to = (uint8_t *)a.ptr + start;
  beskid_gc_thread_t *t = (uint64_t)len < BESKID_GC_BULK_MIN ? NULL : beskid_gc_current_running();
  if (t == NULL) { /* as in beskid_std_bytes_copy() */
    memset(to, value, (size_t)len);
    return;
  }
  void *slots[1] = {a.ptr};
  ROOTS(t, frame, slots);
  beskid_gc_fill_bytes(t, to, value, (size_t)len);
  beskid_gc_pop_frame(t, &frame);
}
