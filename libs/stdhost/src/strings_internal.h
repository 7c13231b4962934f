/* strings_internal.h — what the string, builder, bytes and number sources of libs/stdhost share:
 * argument checks that turn bad values into the documented traps, heap allocation of byte
 * storage, and the number formatters that write into caller-provided stack buffers.
 *
 * Invariants every caller keeps: a checked string or array value has len ≥ 0 and a non-NULL ptr
 * whenever len > 0; every managed pointer held across an allocation sits in a root frame pushed
 * on the calling thread (the collector does not move objects, so the local copies stay valid). */
#ifndef BESKID_STDHOST_STRINGS_INTERNAL_H
#define BESKID_STDHOST_STRINGS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "beskid/builtins.h"
#include "beskid/stdhost.h"

/* Traps with `fn: what` for the trap `code`. */
_Noreturn void beskid_std_trap(uint32_t code, const char *fn, const char *what);

/* Checks a string argument and returns a copy of its value. Traps null_reference (s NULL, or
 * ptr NULL with len > 0) or bounds (len < 0). */
static inline beskid_str_t beskid_std_check_str(const beskid_str_t *s, const char *fn) {
  if (__builtin_expect(s == NULL, 0))
    beskid_std_trap(BESKID_TRAP_NULL_REFERENCE, fn, "NULL string");
  beskid_str_t v = *s;
  if (__builtin_expect(v.len < 0, 0))
    beskid_std_trap(BESKID_TRAP_BOUNDS, fn, "string with a negative length");
  if (__builtin_expect(v.ptr == NULL && v.len > 0, 0))
    beskid_std_trap(BESKID_TRAP_NULL_REFERENCE, fn, "string with NULL data and a length");
  return v;
}

/* Checks a byte-array argument; traps as beskid_std_check_str and bounds for len > cap. */
static inline beskid_array_t beskid_std_check_array(const beskid_array_t *a, const char *fn) {
  if (__builtin_expect(a == NULL, 0)) beskid_std_trap(BESKID_TRAP_NULL_REFERENCE, fn, "NULL array");
  beskid_array_t v = *a;
  if (__builtin_expect(v.len < 0 || v.cap < v.len, 0))
    beskid_std_trap(BESKID_TRAP_BOUNDS, fn, "array with a negative length or len > cap");
  if (__builtin_expect(v.ptr == NULL && v.len > 0, 0))
    beskid_std_trap(BESKID_TRAP_NULL_REFERENCE, fn, "array with NULL data and a length");
  return v;
}

/* Traps bounds unless 0 ≤ start, 0 ≤ len and start + len ≤ limit (no overflow). */
void beskid_std_check_range(int64_t start, int64_t len, int64_t limit, const char *fn);

/* Traps null_reference when an out pointer is NULL. */
static inline void beskid_std_check_out(const void *out, const char *fn) {
  if (__builtin_expect(out == NULL, 0))
    beskid_std_trap(BESKID_TRAP_NULL_REFERENCE, fn, "NULL result pointer");
}

/* A new, zeroed byte buffer of `len` > 0 bytes on the calling thread `t`; returns its data.
 * Safepoint. Traps arithmetic_overflow or out_of_memory. */
uint8_t *beskid_std_alloc_bytes(beskid_gc_thread_t *t, int64_t len);

/* Bytes a long operation handles between two safepoint polls, so that a scan or a rewrite of
 * a large string never holds up a collection for long (time to safepoint). 64 KiB: writing
 * fresh memory takes a page fault every 4 KiB, and a fault costs 10 µs and more in a virtual
 * machine (bench/RESULTS.md), so 256 KiB chunks made stops wait 0.4-0.6 ms; a poll costs one
 * load. A power of two (loops test an index against it with a mask). Bulk copies and fills
 * do not poll: beskid_gc_copy_bytes() runs them where a stop does not wait for them. */
#define BESKID_STD_POLL_CHUNK ((int64_t)1 << 16)

/* Pushes a root frame over `slots` on `t` (compiled code's inline push). */
#define ROOTS(t, frame, slots)                                                                     \
  beskid_root_frame_t frame = {NULL, (slots), sizeof(slots) / sizeof(slots)[0]};                   \
  beskid_gc_push_frame((t), &(frame))

/* Writes `out = {copy of bytes, len}` (the empty string for len 0). `bytes` must not point into
 * the heap unless the caller roots it. Safepoint. */
void beskid_std_str_from_raw(beskid_str_t *out, const uint8_t *bytes, int64_t len);

/* Bytewise order of two byte ranges (-1, 0, 1), a proper prefix first. */
int32_t beskid_std_order_bytes(const uint8_t *a, int64_t alen, const uint8_t *b, int64_t blen);

/* Largest text of any i64 (20 bytes) and of any f64 (24 bytes, e.g. -2.2250738585072014e-308). */
#define BESKID_STD_I64_TEXT_MAX 20
#define BESKID_STD_F64_TEXT_MAX 32

/* Writes the decimal text of `value` to `buf` (≥ BESKID_STD_I64_TEXT_MAX bytes); returns the
 * number of bytes. */
size_t beskid_std_format_i64(char *buf, int64_t value);

/* Writes the shortest round-trip text of `value` to `buf` (≥ BESKID_STD_F64_TEXT_MAX bytes);
 * returns the number of bytes. */
size_t beskid_std_format_f64(char *buf, double value);

/* The shortest decimal that rounds to the finite, positive `value`: value ≈ digits × 10^exp10
 * with `digits` free of trailing zeros (at most 17 digits). Exposed for the tests. */
void beskid_std_f64_shortest(double value, uint64_t *digits, int32_t *exp10);

/* UTF-8 encoding of a code point into buf[4]; returns its length, or 0 for a surrogate or a
 * value outside 0 … 0x10FFFF. */
size_t beskid_std_utf8_encode(uint8_t *buf, int32_t code_point);

#endif
