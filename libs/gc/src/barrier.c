/* barrier.c — the write barriers: the value barrier (beskid_gc_write_barrier() and its range
 * form), the object barrier, the per-thread buffers they fill and the modes they run in. This
 * is the one place that explains them; collector.c, mark.c and gc.h refer here.
 *
 * THE VALUE BARRIER
 * The barrier is Go's hybrid: shade the overwritten value (Yuasa) and, while the storing
 * thread's roots are grey, the stored value (Dijkstra). Mark start takes every thread's roots in
 * its pause, so no thread's roots are grey while the world runs: objects reachable at that
 * moment stay reachable for the marker through the deletion half, objects allocated later are
 * black, and the insertion half has nothing to add. Dropping it halves the barrier's work in
 * code that links new objects (every store of a fresh object during marking) — measured in
 * bench/binary_trees.
 *
 * THE OBJECT BARRIER AND THE MODES
 * The object barrier (upstream's gc_write_barrier(parent, child)) cannot see overwritten values,
 * so it breaks the snapshot. Once any thread has used it, every later cycle runs incremental
 * update instead: the value barrier shades stored values again, the object barrier shades the
 * child, and mark termination rescans every thread's roots (a pointer deleted from the heap may
 * live on only in some root). The cycle in which the object barrier is first used started
 * without the insertion half, so its marks cannot be trusted: its sweep frees nothing.
 *
 * MODES (gc_global, set or read with the world stopped unless said otherwise)
 * - beskid_gc_barrier_on: on from mark start to mark termination; compiled code tests it.
 * - object_barrier_used: sticky, raised by the first object barrier of the process.
 * - insertion_barrier: this cycle's value barrier shades the stored value too (copied from
 *   object_barrier_used at mark start).
 * - rescan_roots: the object barrier ran this cycle; mark termination rescans every thread's roots.
 * - marks_incomplete: the object barrier ran in a cycle without the insertion half; its sweep
 *   frees nothing.
 *
 * BUFFERS
 * Each thread queues the pointers it shades in its own buffer (GC_WB_ENTRIES): no lock and no
 * shared write on the barrier's path. A full buffer is shaded by its thread; mark termination
 * flushes every thread's buffer with the world stopped. */
#include "internal.h"

/* Compiled code and beskid_gc_store() read this byte before every store of a managed pointer. */
uint8_t beskid_gc_barrier_on;

/* ------------------------------------------------------------------------------------------ */
/* Write barrier */

/* Never inlined into the barriers: its marker on the stack would give every barrier call a
 * frame and, with the stack protector, a canary check. */
__attribute__((noinline)) void beskid_gc__flush_barrier_buffer(gc_thread *t) {
  if (t->wb_count == 0) return;
  gc_marker m;
  beskid_gc__marker_init(&m);
  for (uint32_t i = 0; i < t->wb_count; i++) beskid_gc__shade(&m, t->wb[i]);
  t->wb_count = 0;
  beskid_gc__marker_flush(&m);
}

static inline void buffer_shade(gc_thread *t, void *p) {
  if (p == NULL) return;
  if (t->wb_count == GC_WB_ENTRIES) beskid_gc__flush_barrier_buffer(t);
  t->wb[t->wb_count++] = p;
}

void beskid_gc_write_barrier(beskid_gc_thread_t *pt, void **slot, void *value) {
  if (!__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) return;
  gc_thread *t = gc_thread_of(pt);
  buffer_shade(t, __atomic_load_n(slot, __ATOMIC_RELAXED));
  /* Relaxed: set with the world stopped before the barrier was turned on for this cycle. */
  if (atomic_load_explicit(&gc.insertion_barrier, memory_order_relaxed)) buffer_shade(t, value);
}

/* Sets a sticky flag, writing its cache line only the first time. Relaxed: the flags are read
 * with the world stopped (mark start, mark termination), which orders these stores. */
static inline void raise_flag(_Atomic bool *flag) {
  if (!atomic_load_explicit(flag, memory_order_relaxed)) {
    atomic_store_explicit(flag, true, memory_order_relaxed);
  }
}

void beskid_gc_write_barrier_object(beskid_gc_thread_t *pt, void *parent, void *child) {
  (void)parent;
  raise_flag(&gc.object_barrier_used);
  if (!__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) return;
  gc_thread *t = gc_thread_of(pt);
  buffer_shade(t, child);
  raise_flag(&gc.rescan_roots);
  if (!atomic_load_explicit(&gc.insertion_barrier, memory_order_relaxed)) {
    raise_flag(&gc.marks_incomplete);
  }
}

void beskid_gc_write_barrier_range(beskid_gc_thread_t *pt, void **slots, size_t count) {
  if (!__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) return;
  gc_thread *t = gc_thread_of(pt);
  for (size_t i = 0; i < count; i++) buffer_shade(t, __atomic_load_n(&slots[i], __ATOMIC_RELAXED));
}
