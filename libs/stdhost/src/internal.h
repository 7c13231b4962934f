/* internal.h — what the source files of libs/stdhost share: argument checks that trap, root
 * frames, the native-state bracket, managed byte buffers and path conversion.
 *
 * Invariants every host function keeps:
 * - arguments are checked before anything else, and a bad one traps with the function's name;
 * - a managed pointer that must survive a safepoint (an allocation, leaving the native state) is
 *   held in a slot of a root frame pushed with std_roots_push() and popped on every return;
 * - between std_native_enter() and std_native_leave() the thread allocates nothing and stores no
 *   managed pointer; it may read or fill the bytes of pointer-free buffers that a root of this
 *   thread keeps alive (objects never move), and nothing else of the heap. */
#ifndef BESKID_STDHOST_INTERNAL_H
#define BESKID_STDHOST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "beskid/builtins.h"
#include "beskid/gc.h"
#include "beskid/stdhost.h"

/* The longest path or environment name the library accepts, its NUL included (Linux PATH_MAX). */
#define STD_PATH_CAP 4096

/* Traps null_reference: "<fn>: NULL <what>". */
_Noreturn void beskid_std_arg_null(const char *fn, const char *what);

/* Checks a string argument: traps null_reference (NULL value, NULL ptr with a length) or bounds
 * (negative length). */
void beskid_std_arg_str(const char *fn, const beskid_str_t *s);

/* Checks an array argument and the element range [start, start + count) of it: traps
 * null_reference (NULL value, NULL ptr with a length) or bounds (negative length, length above
 * capacity, a range outside [0, len)). */
void beskid_std_arg_range(const char *fn, const beskid_array_t *a, int64_t start, int64_t count);

/* A new managed byte buffer of `len` (> 0) bytes, zeroed; the caller roots it before the next
 * safepoint. Traps out_of_memory. */
uint8_t *beskid_std_new_bytes(int64_t len);

/* Sets *out to a new string holding a copy of `len` bytes at `bytes` (the caller checked they
 * are UTF-8), or to the empty string when `len` is 0. A safepoint: `bytes` must not be managed
 * memory that only the caller's C locals keep alive. */
void beskid_std_new_text(beskid_str_t *out, const uint8_t *bytes, size_t len);

/* Pushes a root frame of `count` slots (zeroed here) on the calling thread; the thread must be
 * attached. Pop it with std_roots_pop() on every path out. */
static inline void std_roots_push(beskid_gc_thread_t *t, beskid_root_frame_t *frame, void **slots,
                                  uint64_t count) {
  for (uint64_t i = 0; i < count; i++) slots[i] = NULL;
  frame->previous = t->top_frame;
  frame->slots = slots;
  frame->slot_count = count;
  t->top_frame = frame;
}

static inline void std_roots_pop(beskid_gc_thread_t *t, beskid_root_frame_t *frame) {
  t->top_frame = frame->previous;
}

/* Enters the native state when the calling thread is attached (an unattached thread is never
 * waited for); returns the thread to pass to std_native_leave(), NULL when unattached. */
static inline beskid_gc_thread_t *std_native_enter(void) {
  beskid_gc_thread_t *t = beskid_gc_current();
  if (t != NULL) beskid_rt_enter_native();
  return t;
}

/* Leaves the native state entered by std_native_enter(); a safepoint for an attached thread. */
static inline void std_native_leave(const beskid_gc_thread_t *t) {
  if (t != NULL) beskid_rt_leave_native();
}

/* Stores a managed pointer into a heap slot as compiled code does: the barrier first, then the
 * store (beskid_gc_store() explains its ordering). */
static inline void std_store_ptr(beskid_gc_thread_t *t, void **slot, void *value) {
  beskid_gc_store(t, slot, value);
}

/* Converts a string to a NUL-terminated C string in `buf` (STD_PATH_CAP bytes) for the OS.
 * Returns BESKID_INVALID_INPUT when it is empty, holds a NUL byte or does not fit; traps as
 * beskid_std_arg_str() for a bad value. */
beskid_status beskid_std_arg_path(const char *fn, const beskid_str_t *s, char *buf);

/* The descriptor as the OS's int, or -1 when it cannot be an open descriptor. */
static inline int std_fd(int64_t fd) { return fd >= 0 && fd <= INT32_MAX ? (int)fd : -1; }

/* The element descriptor of arrays of strings ({ptr, len}, ptr managed). */
extern const beskid_elem_type_t beskid_std_text_array_elem;

#endif
