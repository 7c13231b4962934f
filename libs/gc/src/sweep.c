/* sweep.c — sweeping: turning a span's mark bits into its alloc bits, freeing empty spans, and
 * driving the concurrent sweep of all spans after mark termination.
 *
 * A span is swept once per cycle by whoever takes it out of an unswept central list: the
 * background sweeper (beskid_gc__sweep_some, a batch at a time) or an allocating thread that needs
 * a span of that class (alloc.c). Taking it out of the list under the central lock is what gives
 * ownership; the sweepgen CAS (gen-2 -> gen-1) double-checks it, and the store of gen publishes the
 * result.
 *
 * Sweeping never reads an object's bytes (except in clobber mode, which overwrites dead ones):
 * survivors are exactly the marked slots, so `alloc_bits = mark_bits; mark_bits = 0`, and a span
 * with no survivor goes back to the page heap whole. Dead slots keep their bytes; the span is
 * flagged `needzero` so allocation zeroes a slot before handing it out again. */
#include <string.h>

#include "internal.h"

/* Marks a span taken out of an unswept list as being swept. Only the taker can do it: a span in
 * an unswept list always has sweepgen == gc.sweepgen - 2, so anything else is corruption. */
static void span_sweep_claim(gc_span *s) {
  uint32_t sg = atomic_load(&gc.sweepgen);
  uint32_t expected = gc_sweepgen_unswept(sg);
  if (!atomic_compare_exchange_strong(&s->sweepgen, &expected, gc_sweepgen_sweeping(sg))) {
    beskid_gc__fatal("gc: span %p in an unswept list has sweepgen %u (global %u)", (void *)s,
                     expected, sg);
  }
}

static void clobber_dead(gc_span *s, uint32_t w, uint64_t dead) {
  while (dead != 0) {
    uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(dead);
    dead &= dead - 1;
    void *p = (void *)(s->base + (uintptr_t)i * s->elem_size);
    uint64_t size = s->state == GC_SPAN_LARGE ? s->limit - s->base : s->elem_size;
    memset(p, 0xde, size);
  }
}

/* Sweeps a span claimed with span_sweep_claim() and taken out of every list: frees it
 * and returns false, or publishes its new sweepgen and returns true: the caller files it in the
 * swept set of its central (file_swept). */
static bool sweep_span_bits(gc_span *s) {
  uint32_t sg = atomic_load(&gc.sweepgen);
  uint32_t words = (s->nelems + 63) / 64;
  uint32_t live = 0, before = 0;
  bool clobber = (gc.config.debug_flags & BESKID_GC_DEBUG_CLOBBER) != 0;
  bool keep_all = atomic_load_explicit(&gc.marks_incomplete, memory_order_relaxed);
  for (uint32_t w = 0; w < words; w++) {
    uint64_t valid = gc_span_valid_bits(s, w);
    uint64_t alloc = s->alloc_bits[w] & valid;
    uint64_t marks =
        keep_all ? alloc : atomic_load_explicit(&s->mark_bits[w], memory_order_relaxed) & valid;
    live += (uint32_t)gc_popcount(marks);
    before += (uint32_t)gc_popcount(alloc);
    if (clobber && (alloc & ~marks) != 0) clobber_dead(s, w, alloc & ~marks);
    __atomic_store_n(&s->alloc_bits[w], marks | ~valid, __ATOMIC_RELAXED);
    atomic_store_explicit(&s->mark_bits[w], 0, memory_order_relaxed);
  }
  uint32_t freed = before > live ? before - live : 0;
  uint64_t slot_bytes =
      s->state == GC_SPAN_LARGE ? (uint64_t)s->npages << GC_PAGE_SHIFT : s->elem_size;
  if (freed != 0) {
    atomic_fetch_sub_explicit(&gc.heap_bytes, freed * slot_bytes, memory_order_relaxed);
    atomic_fetch_sub_explicit(&gc.heap_objects, freed, memory_order_relaxed);
    atomic_fetch_add_explicit(&gc.total_freed_bytes, freed * slot_bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&gc.total_freed_objects, freed, memory_order_relaxed);
    s->needzero = 1;
  }
  s->alloc_count = live;
  if (live == 0) {
    beskid_gc__span_free(s);
    return false;
  }
  atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
  return true;
}

/* Files a swept span in the swept set of `ctr` (its central's lock held). */
static void file_swept(gc_central *ctr, gc_span *s) {
  gc_central_file(ctr, s, gc_swept_set(atomic_load(&gc.sweepgen)),
                  s->state == GC_SPAN_SMALL && s->alloc_count < s->nelems);
}

/* Spans are taken, swept and filed a batch at a time: one central lock acquisition to take a
 * batch and one to file it, instead of two per span. Allocating threads and the background
 * sweeper sweep the same class under the same lock, and in a heap of mostly live spans each
 * handoff of a contended lock cost both sides a sleep and a wake-up: the mutator of a 1 GiB heap
 * stalled for the whole sweep (50-90 ms) in a single allocation batch.
 *
 * The batch is small all the same: taking a batch walks its spans' list links under the lock, a
 * cache miss per span, so the lock is held for as long as the batch is big. With 64 spans a batch
 * the background sweeper held the class lock for most of the sweep, and the latency probe's
 * mutator, which needs the lock for every span it fills, slept on it: its batches right after a
 * mark took 1.2-4.2 ms. With 8 they take 0.6-0.85 ms, and the sweep itself is faster (a 384 MiB
 * heap: 2.1 ms against 2.9; with 4 or 16 a batch, 2.3-2.4 ms; bench/RESULTS.md, "A shorter hold
 * of the sweeper's lock"). */
#define GC_SWEEP_BATCH 8u

uint32_t beskid_gc__take_unswept(gc_central *ctr, gc_span **out, uint32_t max) {
  uint32_t unswept = gc_unswept_set(atomic_load(&gc.sweepgen));
  uint32_t n = 0;
  while (n < max) {
    gc_span_list_t *list =
        ctr->partial[unswept].head ? &ctr->partial[unswept] : &ctr->full[unswept];
    gc_span *s = list->head;
    if (s == NULL) break;
    beskid_gc__list_remove(list, s);
    out[n++] = s;
  }
  return n;
}

gc_span *beskid_gc__sweep_taken(gc_central *ctr, gc_span **spans, uint32_t n, bool keep) {
  gc_span *kept = NULL;
  uint32_t survivors = 0;
  for (uint32_t i = 0; i < n; i++) {
    gc_span *s = spans[i];
    span_sweep_claim(s);
    if (!sweep_span_bits(s)) continue;
    if (keep && kept == NULL && s->state == GC_SPAN_SMALL && s->alloc_count < s->nelems) {
      kept = s;
      continue;
    }
    spans[survivors++] = s;
  }
  if (survivors != 0) {
    beskid_os_mutex_lock(&ctr->lock);
    for (uint32_t i = 0; i < survivors; i++) file_swept(ctr, spans[i]);
    beskid_os_mutex_unlock(&ctr->lock);
  }
  return kept;
}

/* Sweeps a batch of spans of one class. Returns false when no unswept span is left. Classes
 * are visited in order through gc.sweep_cursor (reset at mark termination): no span becomes
 * unswept during a sweep phase, so a class found empty stays empty until the next cycle. */
bool beskid_gc__sweep_some(void) {
  uint32_t c = atomic_load(&gc.sweep_cursor);
  while (c < GC_SPAN_CLASSES) {
    gc_central *ctr = c < 2 ? &gc.large : &gc.central[c];
    gc_span *batch[GC_SWEEP_BATCH];
    beskid_os_mutex_lock(&ctr->lock);
    uint32_t n = beskid_gc__take_unswept(ctr, batch, GC_SWEEP_BATCH);
    beskid_os_mutex_unlock(&ctr->lock);
    if (n != 0) {
      beskid_gc__sweep_taken(ctr, batch, n, false);
      return true;
    }
    /* Move past the empty class; on failure c holds the cursor another sweeper moved. */
    if (atomic_compare_exchange_strong(&gc.sweep_cursor, &c, c + 1)) c++;
  }
  return false;
}

/* Sweeps until no unswept span is left. */
void beskid_gc__finish_sweep(void) {
  while (beskid_gc__sweep_some()) {
  }
}
