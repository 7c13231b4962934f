/* mark.c — marking: grey work, shading, scanning objects through their descriptors, the write
 * barrier's slow paths and root scanning.
 *
 * Colours: an object is white when its mark bit is clear, grey when its bit is set and it sits
 * in some work block (or a barrier buffer awaiting shading), black when its bit is set and it has
 * been scanned. Pointer-free ("noscan") objects go straight from white to black.
 *
 * Work: each marker owns one block of grey objects and pushes and pops it privately; full
 * blocks go to the global pool and a marker whose block runs dry takes one from it. An entry
 * with its low bit set is not an object but the continuation of a large array: the address of
 * the next element to scan ("oblet", at most GC_OBLET_BYTES per entry), so one huge array never
 * holds a marker for long.
 *
 * Running out of blocks: blocks come from the C allocator, and GC_RESERVE_BLOCKS more are static,
 * in the pool from the start, so marking never needs memory to make progress. When a marker
 * needs an empty block and none can be had, it drops the grey entry it was pushing and raises
 * gc.mark_overflow: the object stays marked but unscanned ("mark stack overflow"). Before marking
 * may terminate, the driver recovers with the world stopped (beskid_gc__mark_recover_overflow):
 * it rescans every marked object of the heap, which greys whatever the dropped entries pointed
 * to, and marking goes on. Each recovery that follows a drop marks at least one more object, so
 * marking terminates with every reachable object marked, however little memory is left.
 *
 * Invariants:
 * - only the marker whose atomic OR set an object's mark bit pushes it (each object is scanned
 *   at most once per cycle, except by an overflow recovery, which rescans);
 * - a marker's block is flushed to the pool before the marker stops working, so at a stopped
 *   world every grey object is in the pool or in a thread's barrier buffer;
 * - while marking, the barrier shades the overwritten pointer before the store (deletion half),
 *   so every object reachable when the roots were taken gets marked (snapshot at the beginning);
 *   the stored pointer is shaded too (insertion half) only in the cycles that need it (see
 *   barrier.c).
 */
#include <string.h>

#include "internal.h"

#define GC_OBLET_BYTES (UINT64_C(128) * 1024u)

/* ------------------------------------------------------------------------------------------ */
/* The work pool (gc.work_lock) */

/* Blocks that need no allocation: enough for markers to keep working (each holds one block at a
 * time) when the C allocator has nothing left. They circulate like the others and are never
 * freed. */
#define GC_RESERVE_BLOCKS 8u
static gc_work_block reserve_blocks[GC_RESERVE_BLOCKS];

static bool is_reserve_block(const gc_work_block *b) {
  return b >= reserve_blocks && b < reserve_blocks + GC_RESERVE_BLOCKS;
}

/* An empty block from the pool, else a new one; NULL when neither can be had. */
static gc_work_block *block_get_empty(void) {
  beskid_os_mutex_lock(&gc.work_lock);
  gc_work_block *b = gc.empty_blocks;
  if (b != NULL) gc.empty_blocks = b->next;
  beskid_os_mutex_unlock(&gc.work_lock);
  if (b == NULL) {
    b = beskid_os_mem_alloc(1, sizeof *b);
    if (b == NULL) return NULL;
  }
  b->next = NULL;
  b->count = 0;
  return b;
}

static void block_put(gc_work_block *b) {
  beskid_os_mutex_lock(&gc.work_lock);
  if (b->count == 0) {
    b->next = gc.empty_blocks;
    gc.empty_blocks = b;
  } else {
    b->next = gc.full_blocks;
    gc.full_blocks = b;
    __atomic_store_n(&gc.full_count, gc.full_count + 1, __ATOMIC_RELAXED);
  }
  beskid_os_mutex_unlock(&gc.work_lock);
}

static gc_work_block *block_get_full(void) {
  beskid_os_mutex_lock(&gc.work_lock);
  gc_work_block *b = gc.full_blocks;
  if (b != NULL) {
    gc.full_blocks = b->next;
    __atomic_store_n(&gc.full_count, gc.full_count - 1, __ATOMIC_RELAXED);
  }
  beskid_os_mutex_unlock(&gc.work_lock);
  return b;
}

bool beskid_gc__work_available(void) {
  beskid_os_mutex_lock(&gc.work_lock);
  bool any = gc.full_blocks != NULL;
  beskid_os_mutex_unlock(&gc.work_lock);
  return any;
}

void beskid_gc__mark_init(void) {
  beskid_os_mutex_init(&gc.work_lock);
  atomic_store(&gc.mark_overflow, false);
  for (uint32_t i = 0; i < GC_RESERVE_BLOCKS; i++) {
    reserve_blocks[i].count = 0;
    reserve_blocks[i].next = gc.empty_blocks;
    gc.empty_blocks = &reserve_blocks[i];
  }
}

void beskid_gc__mark_shutdown(void) {
  for (gc_work_block *b = gc.full_blocks, *n; b != NULL; b = n) {
    n = b->next;
    if (!is_reserve_block(b)) beskid_os_mem_free(b);
  }
  for (gc_work_block *b = gc.empty_blocks, *n; b != NULL; b = n) {
    n = b->next;
    if (!is_reserve_block(b)) beskid_os_mem_free(b);
  }
  gc.full_blocks = gc.empty_blocks = NULL;
  gc.full_count = 0;
  beskid_os_mutex_destroy(&gc.work_lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Markers */

void beskid_gc__marker_init(gc_marker *m) { memset(m, 0, sizeof *m); }

void beskid_gc__marker_flush(gc_marker *m) {
  if (m->block != NULL) {
    block_put(m->block);
    m->block = NULL;
  }
  atomic_fetch_add_explicit(&gc.marked_bytes, m->marked_bytes, memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.marked_objects, m->marked_objects, memory_order_relaxed);
  m->marked_bytes = m->marked_objects = 0;
}

/* Greys `entry` (a marked object, or an array continuation). Without a block to hold it, drops
 * it and raises the overflow flag: the entry's object is marked, so the recovery rescan finds it.
 * Relaxed: the flag is read by the driver with the world stopped, and the handshake that stops
 * the world orders this store before that read. */
static void push(gc_marker *m, void *entry) {
  gc_work_block *b = m->block;
  if (b == NULL || b->count == GC_WORK_ENTRIES) {
    gc_work_block *fresh = block_get_empty();
    if (fresh == NULL) {
      atomic_store_explicit(&gc.mark_overflow, true, memory_order_relaxed);
      return;
    }
    if (b != NULL) block_put(b);
    b = m->block = fresh;
  }
  b->objects[b->count++] = entry;
}

static void *pop(gc_marker *m) {
  gc_work_block *b = m->block;
  if (b == NULL || b->count == 0) {
    gc_work_block *full = block_get_full();
    if (full == NULL) return NULL;
    if (b != NULL) block_put(b);
    b = m->block = full;
  }
  return b->objects[--b->count];
}

/* Marks the object containing `ptr` (any address inside it) and greys it if it holds pointers. */
void beskid_gc__shade(gc_marker *m, void *ptr) {
  gc_span *s = beskid_gc__span_of((uintptr_t)ptr);
  if (s == NULL || (uintptr_t)ptr >= s->limit || (uintptr_t)ptr < s->base) return;
  uint32_t i = gc_span_index(s, (uintptr_t)ptr);
  /* Already marked (the common case, and every object allocated during marking): done, without
   * touching the alloc bits the allocating thread is writing. */
  if (gc_span_marked(s, i)) return;
  uint64_t allocated = __atomic_load_n(&s->alloc_bits[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1u;
  if (!allocated || !gc_span_mark(s, i)) return;
  m->marked_objects++;
  m->marked_bytes +=
      s->state == GC_SPAN_LARGE ? (uint64_t)s->npages << GC_PAGE_SHIFT : s->elem_size;
  if (!gc_span_noscan(s)) push(m, (void *)(s->base + (uintptr_t)i * s->elem_size));
}

static inline void shade_slot(gc_marker *m, void **slot) {
  /* Relaxed: a racing store is covered by the barrier (it shades the value it overwrites and the
   * value it stores), so whichever value this load sees, nothing reachable stays white. */
  void *v = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (v != NULL) beskid_gc__shade(m, v);
}

/* Scans elements of an array buffer from element `from`; pushes a continuation if more remain
 * than an oblet's worth. */
static uint64_t scan_array(gc_marker *m, beskid_array_buffer_t *b, uint64_t from) {
  const beskid_elem_type_t *e = b->elem;
  uint64_t per_oblet = GC_OBLET_BYTES / e->stride;
  if (per_oblet == 0) per_oblet = 1;
  uint64_t end = b->capacity;
  if (end - from > per_oblet) {
    end = from + per_oblet;
    char *next = (char *)beskid_obj_array_data(b) + end * e->stride;
    push(m, (void *)((uintptr_t)next | 1u));
  }
  char *elem = (char *)beskid_obj_array_data(b) + from * e->stride;
  for (uint64_t i = from; i < end; i++, elem += e->stride) {
    for (uint64_t k = 0; k < e->pointer_count; k++)
      shade_slot(m, (void **)(elem + e->pointer_map[k]));
  }
  return (end - from) * e->stride;
}

static uint64_t scan_object(gc_marker *m, void *obj) {
  const beskid_type_t *type = ((beskid_header_t *)obj)->type;
  if (type->flags & BESKID_TYPE_ARRAY) return scan_array(m, obj, 0) + BESKID_ARRAY_DATA_OFFSET;
  for (uint64_t k = 0; k < type->pointer_count; k++) {
    shade_slot(m, (void **)((char *)obj + type->pointer_map[k]));
  }
  return type->size;
}

static uint64_t scan_entry(gc_marker *m, void *entry) {
  uintptr_t e = (uintptr_t)entry;
  if ((e & 1u) == 0) return scan_object(m, entry);
  void *elem = (void *)(e & ~(uintptr_t)1u);
  gc_span *s = beskid_gc__span_of((uintptr_t)elem);
  beskid_array_buffer_t *b = (beskid_array_buffer_t *)s->base;
  uint64_t from = (uint64_t)((char *)elem - (char *)beskid_obj_array_data(b)) / b->elem->stride;
  return scan_array(m, b, from);
}

/* Marks until `budget` bytes have been scanned or no grey object is left anywhere, or, for a
 * marker that yields to stops (an assist), until a pause is requested: every GC_DRAIN_CHECK
 * objects it looks, so that a stop never waits for the rest of an assist (128 KiB of scanning,
 * 100-300 us measured) but at most for one stretch of about 20 us. Returns true when it stopped
 * early: because of the budget, or to let a pause begin.
 *
 * Scanning is bound by cache misses on the objects themselves, so popped entries pass through a
 * small FIFO: an object's first 64 bytes are prefetched when it enters (two cache lines: a small
 * object that does not start a line, such as every other 24-byte node, ends in the next one)
 * and it is scanned GC_PREFETCH entries later. Entries still in the FIFO when the budget runs
 * out go back on the stack. Measured on binary-trees (mark CPU time per marked byte, three
 * alternating runs each): a depth of 16 instead of 8 with the second line prefetched too took
 * 27% less than 8 with the first line alone; the second line alone gave most of it, 32 entries
 * no more. */
#define GC_PREFETCH    16u
#define GC_DRAIN_CHECK 1024u /* objects between looks at the pool, the counters and stops */

/* Work balancing: when the pool is empty (so an assisting thread would find nothing to do) and
 * this marker holds more than a few grey objects, half of them go to the pool. A few: a heap of
 * linked lists has only one grey object per list at a time, and with 64 lists (the shrink
 * workload's live heap) a threshold of 64 kept them all with the worker, so every assist found
 * the pool empty and the mutator ran a third past its goal while the worker walked the lists
 * alone; with 8, the assists take their share and the steady resident memory after the shrink
 * fell from 71-126 MB to 54-64 MB (four alternating runs; bench/RESULTS.md, "Sharing grey work
 * sooner"). Go's work buffers balance from 4. */
#define GC_SHARE_MIN 8u

static void share_work(gc_marker *m) {
  gc_work_block *b = m->block;
  if (b == NULL || b->count < GC_SHARE_MIN ||
      __atomic_load_n(&gc.full_count, __ATOMIC_RELAXED) != 0) { /* racy peek; only a hint */
    return;
  }
  gc_work_block *half = block_get_empty();
  if (half == NULL) return;
  uint64_t n = b->count / 2;
  memcpy(half->objects, b->objects, n * sizeof b->objects[0]);
  memmove(b->objects, b->objects + n, (b->count - n) * sizeof b->objects[0]);
  half->count = n;
  b->count -= n;
  block_put(half);
}

/* Relaxed: both counters are pacing estimates; nothing is published through them. */
static void publish_progress(gc_marker *m, uint64_t bytes) {
  atomic_fetch_add_explicit(&gc.pacer.scan_done, bytes, memory_order_relaxed);
  if (m->credits_assists)
    atomic_fetch_add_explicit(&gc.pacer.assist_credit, bytes, memory_order_relaxed);
}

bool beskid_gc__drain(gc_marker *m, uint64_t budget) {
  void *fifo[GC_PREFETCH];
  uint32_t head = 0, count = 0;
  uint64_t done = 0, scanned_objects = 0;
  uint64_t published = 0;
  bool yielded = false;
  while (done < budget) {
    if ((++scanned_objects % GC_DRAIN_CHECK) == 0) {
      share_work(m);
      publish_progress(m, done - published);
      published = done;
      /* Relaxed: a hint; the stop itself waits on this thread's safepoint, which is seq_cst. */
      if (m->yields_to_stops && atomic_load_explicit(&gc.stop_requested, memory_order_relaxed)) {
        yielded = true;
        break;
      }
    }
    /* Refilled after every scan: scanning may have pushed more. */
    while (count < GC_PREFETCH) {
      void *entry = pop(m);
      if (entry == NULL) break;
      uintptr_t obj = (uintptr_t)entry & ~(uintptr_t)1u;
      __builtin_prefetch((void *)obj);
      __builtin_prefetch((void *)(obj + 56)); /* the next line, unless obj starts its line */
      fifo[(head + count++) % GC_PREFETCH] = entry;
    }
    if (count == 0) break;
    void *entry = fifo[head];
    head = (head + 1) % GC_PREFETCH;
    count--;
    done += scan_entry(m, entry);
  }
  while (count > 0) {
    push(m, fifo[head]);
    head = (head + 1) % GC_PREFETCH;
    count--;
  }
  publish_progress(m, done - published);
  m->scanned_bytes += done;
  return yielded || done >= budget;
}

/* ------------------------------------------------------------------------------------------ */
/* Overflow recovery */

/* Rescans every marked, allocated object of a span that holds pointers. A marked slot whose
 * header has no descriptor is a slot of a cached run not handed out yet (zeroed, allocated
 * black): there is nothing in it to scan. */
static void rescan_span(gc_span *s, void *context) {
  gc_marker *m = context;
  if (gc_span_noscan(s)) return;
  for (uint32_t w = 0; w < (s->nelems + 63) / 64; w++) {
    uint64_t bits = atomic_load_explicit(&s->mark_bits[w], memory_order_relaxed) &
                    __atomic_load_n(&s->alloc_bits[w], __ATOMIC_RELAXED) & gc_span_valid_bits(s, w);
    while (bits != 0) {
      uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
      bits &= bits - 1;
      void *obj = (void *)(s->base + (uintptr_t)i * s->elem_size);
      if (((beskid_header_t *)obj)->type == NULL) continue;
      m->scanned_bytes += scan_object(m, obj);
    }
  }
}

bool beskid_gc__mark_recover_overflow(gc_marker *m) {
  if (!atomic_exchange_explicit(&gc.mark_overflow, false, memory_order_relaxed)) return false;
  gc.mark_overflow_rescans++;
  beskid_gc__for_each_span(rescan_span, m);
  beskid_gc__marker_flush(m);
  return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Roots */

void beskid_gc__scan_thread_roots(gc_marker *m, gc_thread *t) {
  for (beskid_root_frame_t *f = t->pub.top_frame; f != NULL; f = f->previous) {
    for (uint64_t i = 0; i < f->slot_count; i++) shade_slot(m, &f->slots[i]);
  }
  for (gc_root_block *b = t->roots; b != NULL; b = b->prev) {
    for (uint32_t i = 0; i < b->used; i++) shade_slot(m, b->slots[i]);
  }
}

static void shade_handle(void *object, void *context) { beskid_gc__shade(context, object); }

void beskid_gc__scan_global_roots(gc_marker *m) {
  beskid_os_mutex_lock(&gc.roots_lock);
  for (size_t r = 0; r < gc.global_ranges; r++) {
    const gc_global_range *g = &gc.globals[r];
    for (size_t i = 0; i < g->count; i++) shade_slot(m, &g->slots[i]);
  }
  beskid_os_mutex_unlock(&gc.roots_lock);
  beskid_gc__for_each_handle(shade_handle, m);
}
