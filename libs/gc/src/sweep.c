/* sweep.c — sweeping: turning a span's mark bits into its alloc bits, freeing empty spans, and
 * driving the concurrent sweep of all spans after mark termination.
 *
 * A span is swept once per cycle by whoever takes it out of an unswept central list: the
 * background sweeper (beskid_gc__sweep_one) or an allocating thread that needs a span of that
 * class (alloc.c). Taking it out of the list under the central lock is what gives ownership; the
 * sweepgen CAS (gen-2 -> gen-1) double-checks it, and the store of gen publishes the result.
 *
 * Sweeping never reads an object's bytes (except in clobber mode, which overwrites dead ones):
 * survivors are exactly the marked slots, so `alloc_bits = mark_bits; mark_bits = 0`, and a span
 * with no survivor goes back to the page heap whole. Dead slots keep their bytes; the span is
 * flagged `needzero` so allocation zeroes a slot before handing it out again. */
#include <string.h>

#include "internal.h"

/* Marks a span taken out of an unswept list as being swept. Only the taker can do it: a span in
 * an unswept list always has sweepgen == gc.sweepgen - 2, so anything else is corruption. */
void beskid_gc__span_sweep_claim(gc_span *s) {
  uint32_t sg = atomic_load(&gc.sweepgen);
  uint32_t expected = sg - 2;
  if (!atomic_compare_exchange_strong(&s->sweepgen, &expected, sg - 1)) {
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

/* Sweeps a span claimed with beskid_gc__span_sweep_claim() and taken out of every list: frees it
 * or files it in the swept set of its central. */
void beskid_gc__sweep_span(gc_span *s) {
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
    return;
  }
  atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
  uint32_t set = (sg / 2) % 2;
  gc_central *ctr = s->state == GC_SPAN_LARGE ? &gc.large : &gc.central[s->span_class];
  beskid_os_mutex_lock(&ctr->lock);
  if (s->state == GC_SPAN_SMALL && live < s->nelems) {
    beskid_gc__list_push(&ctr->partial[set], s,
                        (uint8_t)(set ? GC_LIST_PARTIAL_1 : GC_LIST_PARTIAL_0));
  } else {
    beskid_gc__list_push(&ctr->full[set], s, (uint8_t)(set ? GC_LIST_FULL_1 : GC_LIST_FULL_0));
  }
  beskid_os_mutex_unlock(&ctr->lock);
}

/* Takes one unswept span out of `ctr`, or NULL. */
static gc_span *take_unswept(gc_central *ctr, uint32_t unswept) {
  beskid_os_mutex_lock(&ctr->lock);
  gc_span_list_t *list = ctr->partial[unswept].head ? &ctr->partial[unswept] : &ctr->full[unswept];
  gc_span *s = list->head;
  if (s != NULL) beskid_gc__list_remove(list, s);
  beskid_os_mutex_unlock(&ctr->lock);
  return s;
}

/* Sweeps one span of any class. Returns false when no unswept span is left. Classes are
 * visited in order through gc.sweep_cursor (reset at mark termination): no span becomes unswept
 * during a sweep phase, so a class found empty stays empty until the next cycle. */
bool beskid_gc__sweep_one(void) {
  uint32_t unswept = 1 - (atomic_load(&gc.sweepgen) / 2) % 2;
  uint32_t c = atomic_load(&gc.sweep_cursor);
  while (c < GC_SPAN_CLASSES) {
    gc_central *ctr = c < 2 ? &gc.large : &gc.central[c];
    gc_span *s = take_unswept(ctr, unswept);
    if (s != NULL) {
      beskid_gc__span_sweep_claim(s);
      beskid_gc__sweep_span(s);
      return true;
    }
    /* Move past the empty class; on failure c holds the cursor another sweeper moved. */
    if (atomic_compare_exchange_strong(&gc.sweep_cursor, &c, c + 1)) c++;
  }
  return false;
}

/* Sweeps until no unswept span is left. */
void beskid_gc__finish_sweep(void) {
  while (beskid_gc__sweep_one()) {
  }
}
