/* gc_entry_points.c — the collector's entry points as compiled code calls them: root registration,
 * handles, the barrier, polls, native transitions and upstream's gc_* queries. Each finds the
 * calling thread itself (compiled code need not pass it) and turns misuse into a trap. */
#include <stdio.h>

#include "internal.h"

uint8_t gc_register_root(void **slot) {
  beskid_gc_thread_t *t = beskid_rt_require_running("gc_register_root");
  beskid_gc_status st = beskid_gc_register_root(t, slot);
  /* A root that silently failed to register would let the collector free what it holds. */
  if (st == BESKID_GC_OUT_OF_MEMORY) beskid_rt_trap_internal_out_of_memory();
  return st == BESKID_GC_OK;
}

/* Out of line: its message buffer would give gc_unregister_root() a stack canary. */
static _Noreturn __attribute__((noinline)) void trap_unbalanced(void **slot) {
  char msg[96];
  (void)snprintf(msg, sizeof msg, "unbalanced roots: slot %p is not registered", (void *)slot);
  beskid_rt_trap(BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT, msg);
}

void gc_unregister_root(void **slot) {
  beskid_gc_thread_t *t = beskid_rt_require_running("gc_unregister_root");
  if (beskid_gc_unregister_root(t, slot) != BESKID_GC_OK) trap_unbalanced(slot);
}

void beskid_rt_register_globals(void **slots, int64_t count) {
  beskid_rt_require_running("beskid_rt_register_globals");
  if (count < 0) beskid_rt_trap(BESKID_TRAP_BOUNDS, "register_globals: negative count");
  if ((uint64_t)count > BESKID_GC_GLOBALS_MAX) {
    char msg[112];
    (void)snprintf(msg, sizeof msg, "register_globals: count %lld exceeds the limit of 2^32 slots",
                   (long long)count);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  if (slots == NULL && count > 0) beskid_rt_trap_null_reference();
  /* count ≤ 2^32, so the byte size cannot overflow; the range must not wrap. */
  if ((uintptr_t)slots > UINTPTR_MAX - (uint64_t)count * sizeof(void *)) {
    char msg[112];
    (void)snprintf(msg, sizeof msg, "register_globals: %lld slots at %p run past the address space",
                   (long long)count, (void *)slots);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  beskid_gc_status st = beskid_gc_register_globals(slots, (size_t)count);
  if (st == BESKID_GC_OUT_OF_MEMORY) beskid_rt_trap_internal_out_of_memory();
  if (st != BESKID_GC_OK) {
    beskid_rt_trap(BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION,
                   "register_globals: the collector refused checked arguments");
  }
}

uint64_t gc_root_handle(void *value) {
  beskid_rt_require_running("gc_root_handle");
  uint64_t handle = beskid_gc_handle_new(value);
  /* 0 for a heap object means the handle table could not grow. */
  if (handle == 0 && beskid_gc_object_start(value) != NULL) beskid_rt_trap_internal_out_of_memory();
  return handle;
}

static _Noreturn void trap_handle(uint64_t handle) {
  char msg[96];
  (void)snprintf(msg, sizeof msg, "handle 0x%llx is not live", (unsigned long long)handle);
  beskid_rt_trap(BESKID_TRAP_INVALID_OR_STALE_HANDLE, msg);
}

void gc_unroot_handle(uint64_t handle) {
  beskid_rt_require_running("gc_unroot_handle");
  if (!beskid_gc_handle_release(handle)) trap_handle(handle);
}

void *beskid_rt_handle_get(uint64_t handle) {
  beskid_rt_require_running("beskid_rt_handle_get");
  void *p = beskid_gc_handle_get(handle);
  if (p == NULL) trap_handle(handle);
  return p;
}

/* The barrier's slow path: the thread lookup it always made also refuses the native state. */
void beskid_rt_write_barrier(void **slot, void *value) {
  beskid_gc_write_barrier(beskid_rt_require_running("beskid_rt_write_barrier"), slot, value);
}

void gc_write_barrier(void *parent, void *child) {
  beskid_gc_write_barrier_object(beskid_rt_require_running("gc_write_barrier"), parent, child);
}

void beskid_rt_safepoint(void) { beskid_gc_safepoint(beskid_rt_require_running("safepoint")); }

/* Native transitions do not nest: entering twice or leaving without entering is a broken
 * invariant of the compiled code, like unbalanced roots. */
void beskid_rt_enter_native(void) {
  beskid_gc_enter_native(beskid_rt_require_running("beskid_rt_enter_native"));
}

void beskid_rt_leave_native(void) {
  beskid_gc_thread_t *t = beskid_rt_require_thread();
  if (!beskid_gc_in_native(t)) {
    beskid_rt_trap(BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT,
                   "beskid_rt_leave_native called outside the native state");
  }
  beskid_gc_leave_native(t);
}

uint64_t gc_collect(void) { return beskid_gc_collect(beskid_rt_require_running("gc_collect")); }

uint64_t gc_bytes_allocated(void) {
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  return st.heap_bytes;
}

uint64_t gc_object_count(void) {
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  return st.heap_objects;
}

uint64_t gc_phase(void) { return (uint64_t)beskid_gc_phase(); }

uint8_t gc_heap_verify(void) {
  return beskid_gc_verify(beskid_rt_require_running("gc_heap_verify")) == 0;
}
