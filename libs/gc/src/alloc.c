/* alloc.c — allocation: the per-thread span caches, the fast path, refilling from the central
 * lists (sweeping on the way), large objects, and the out-of-memory path.
 *
 * Fast path (cache_bump): the thread owns a span per span class and, in it, a run of
 * consecutive free slots; taking a slot is a compare and an add. When the run is used up, the
 * next run of free slots is taken from the span's alloc bitmap (cache_take_run): its alloc bits
 * are set and its memory zeroed at once. No lock, no atomic read-modify-write, no shared counter
 * on either path.
 *
 * Allocate-black is done in bulk: while marking, every free slot of a cached span is marked in
 * advance (when the span enters the cache, or at mark start for spans already cached), so
 * whatever the fast path hands out is already black; when the cache lets the span go during
 * marking, the slots it did not hand out are unmarked again. Their bytes count as black
 * (live) in between.
 *
 * Invariants:
 * - a slot is handed out only from a run taken from clear alloc bits; the run's bits are set, and
 *   its slots zeroed, before any of them is returned, so a slot with its alloc bit set is an
 *   object or an untouched zeroed slot of a cached run (never scanned: see the next point);
 * - while marking, every free slot of every cached span is marked, so every object allocated
 *   is black; its bytes are in the thread's black_bytes, part of the cycle's live bytes;
 * - heap_bytes counts whole spans' free slots when a span enters a cache and gives back the
 *   unused ones when it leaves, so the per-object path touches no shared counter;
 * - every allocation is a safepoint: it polls before touching the heap;
 * - a thread in the native state never allocates: the pauses count it as stopped and work on its
 *   caches meanwhile. The fast path does not serve it (it finds the thread through
 *   beskid_gc__running_thread, NULL in that state) and the slow path refuses it. */
#include <string.h>

#include "internal.h"

static inline uint32_t bitmap_words(const gc_span *s) { return (s->nelems + 63) / 64; }

static inline uint64_t load_alloc(const gc_span *s, uint32_t w) {
  return __atomic_load_n(&s->alloc_bits[w], __ATOMIC_RELAXED);
}

/* The fast path: the next slot of the current run, or NULL when the run is used up (or there
 * is no span: `size` is then UINT32_MAX, which no run satisfies). */
static inline void *cache_bump(gc_alloc_cache *c) {
  uintptr_t p = c->next;
  if (__builtin_expect(c->end - p < c->size, 0)) return NULL;
  c->next = p + c->size;
  return (void *)p;
}

/* Takes the next run of consecutive free slots (within one bitmap word) as the current run:
 * sets their alloc bits and zeroes them if the span's pages held objects before. Returns false
 * when the span has no free slot left. */
static bool cache_take_run(gc_alloc_cache *c) {
  gc_span *s = c->span;
  while (c->free_mask == 0) {
    if (++c->word >= bitmap_words(s)) return false;
    c->free_mask = ~load_alloc(s, c->word) & gc_span_valid_bits(s, c->word);
  }
  uint32_t first = (uint32_t)__builtin_ctzll(c->free_mask);
  uint64_t ones = c->free_mask >> first;
  uint32_t len = ones == UINT64_MAX ? 64 - first : (uint32_t)__builtin_ctzll(~ones);
  uint64_t run = (len == 64 ? UINT64_MAX : (UINT64_C(1) << len) - 1) << first;
  c->free_mask &= ~run;
  /* Relaxed: only this thread writes the alloc bits of a cached span; markers read them. */
  __atomic_store_n(&s->alloc_bits[c->word], load_alloc(s, c->word) | run, __ATOMIC_RELAXED);
  uintptr_t start = s->base + (uintptr_t)(c->word * 64 + first) * s->elem_size;
  uint64_t bytes = (uint64_t)len * s->elem_size;
  if (s->needzero) memset((void *)start, 0, bytes);
  c->next = start;
  c->end = start + bytes;
  return true;
}

/* A slot of the cached span, taking new runs as needed; NULL when the span is exhausted. */
static inline void *cache_next(gc_alloc_cache *c) {
  for (;;) {
    void *p = cache_bump(c);
    if (p != NULL) return p;
    if (c->span == NULL || !cache_take_run(c)) return NULL;
  }
}

/* The slots of the current run not handed out yet: their bitmap word and bits. */
static uint64_t run_left(const gc_alloc_cache *c, uint32_t *word) {
  if (c->span == NULL || c->next >= c->end) return 0;
  uint32_t first = (uint32_t)((c->next - c->span->base) / c->span->elem_size);
  uint32_t n = (uint32_t)((c->end - c->next) / c->span->elem_size);
  *word = first / 64;
  return (n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1) << (first % 64);
}

/* While marking: marks (pre-allocates black) or unmarks the slots a cache may still hand out
 * (the rest of its run, and the free slots from its current word on), and counts them in or
 * out of the thread's black bytes. */
static void cache_mark_free(gc_thread *t, gc_alloc_cache *c, bool mark) {
  gc_span *s = c->span;
  uint64_t n = 0;
  uint32_t run_word = 0;
  uint64_t run = run_left(c, &run_word);
  for (uint32_t w = c->word; w < bitmap_words(s); w++) {
    uint64_t bits = w == c->word ? c->free_mask : ~load_alloc(s, w) & gc_span_valid_bits(s, w);
    if (w == run_word) bits |= run;
    if (bits == 0) continue;
    n += gc_popcount(bits);
    if (mark)
      atomic_fetch_or_explicit(&s->mark_bits[w], bits, memory_order_relaxed);
    else
      atomic_fetch_and_explicit(&s->mark_bits[w], ~bits, memory_order_relaxed);
  }
  uint64_t bytes = n * s->elem_size;
  if (mark) {
    t->black_bytes += bytes;
    t->black_objects += n;
  } else {
    t->black_bytes -= bytes;
    t->black_objects -= n;
  }
}

void beskid_gc__premark_caches(gc_thread *t) {
  for (uint32_t i = 0; i < GC_SPAN_CLASSES; i++) {
    if (t->caches[i].span != NULL) cache_mark_free(t, &t->caches[i], true);
  }
}

/* Free slots of a cached span beyond its current run: the current word's mask plus the later
 * words (their alloc bits are clear). */
static uint32_t cache_free_slots(const gc_alloc_cache *c) {
  const gc_span *s = c->span;
  uint32_t n = gc_popcount(c->free_mask);
  for (uint32_t w = c->word + 1; w < bitmap_words(s); w++) {
    n += gc_popcount(~load_alloc(s, w) & gc_span_valid_bits(s, w));
  }
  return n;
}

static void cache_reset(gc_alloc_cache *c) {
  c->span = NULL;
  c->next = c->end = 0;
  c->size = UINT32_MAX;
  c->free_mask = 0;
  c->word = 0;
}

void beskid_gc__caches_init(gc_thread *t) {
  for (uint32_t i = 0; i < GC_SPAN_CLASSES; i++) cache_reset(&t->caches[i]);
}

/* Files span `s`, which a cache let go, in its class's central lists (the class lock). */
static void central_file_locked(gc_central *ctr, gc_span *s) {
  uint32_t sg = atomic_load(&gc.sweepgen);
  if (atomic_load(&s->sweepgen) != sg) {
    beskid_gc__fatal("gc: cached span %p has sweepgen %u (global %u)", (void *)s,
                     atomic_load(&s->sweepgen), sg);
  }
  gc_central_file(ctr, s, gc_swept_set(sg), s->alloc_count < s->nelems);
}

static void central_put(gc_span *s) {
  gc_central *ctr = &gc.central[s->span_class];
  beskid_os_mutex_lock(&ctr->lock);
  central_file_locked(ctr, s);
  beskid_os_mutex_unlock(&ctr->lock);
}

/* Empties cache `c` and returns the span it held (NULL if none), its unused slots given back
 * (the rest of the run gets its alloc bits cleared again), for the caller to file centrally. */
static gc_span *cache_retire(gc_thread *t, gc_alloc_cache *c) {
  gc_span *s = c->span;
  if (s == NULL) return NULL;
  if (atomic_load_explicit(&gc.phase, memory_order_relaxed) == BESKID_GC_PHASE_MARKING) {
    cache_mark_free(t, c, false);
  }
  uint32_t run_word = 0;
  uint64_t run = run_left(c, &run_word);
  if (run != 0) {
    __atomic_store_n(&s->alloc_bits[run_word], load_alloc(s, run_word) & ~run, __ATOMIC_RELAXED);
  }
  uint32_t unused = cache_free_slots(c) + gc_popcount(run);
  s->alloc_count = s->nelems - unused;
  atomic_fetch_sub_explicit(&gc.heap_bytes, (uint64_t)unused * s->elem_size, memory_order_relaxed);
  atomic_fetch_sub_explicit(&gc.heap_objects, unused, memory_order_relaxed);
  cache_reset(c);
  return s;
}

/* Returns a cached span to its central list. */
static void cache_release(gc_thread *t, gc_alloc_cache *c) {
  gc_span *s = cache_retire(t, c);
  if (s != NULL) central_put(s);
}

/* Adds the free slots of t's cached spans (counted as allocated) to the totals. */
void beskid_gc__cache_free(gc_thread *t, uint64_t *objects, uint64_t *bytes) {
  for (uint32_t i = 0; i < GC_SPAN_CLASSES; i++) {
    const gc_alloc_cache *c = &t->caches[i];
    if (c->span == NULL) continue;
    uint32_t n = cache_free_slots(c);
    *objects += n;
    *bytes += (uint64_t)n * c->span->elem_size;
  }
}

void beskid_gc__release_caches(gc_thread *t) {
  for (uint32_t i = 0; i < GC_SPAN_CLASSES; i++) cache_release(t, &t->caches[i]);
}

/* Unswept spans an allocating thread sweeps before it gives up and takes a new span, and how
 * many it takes at a time; the rest is the background sweeper's. Bounds the allocation slow path
 * (and so the time to safepoint) when most spans are full of live objects. */
#define GC_SWEEP_BUDGET 32u
#define GC_SWEEP_STEP   8u

/* A swept span of class `span_class` with at least one free slot, taken out of the central
 * lists; sweeps unswept spans of the class on the way, and makes a new span if none has room.
 * `retired` (or NULL), the span the thread's cache of this class let go, is filed under the
 * same acquisition of the class lock: one acquisition per span in the common case instead of
 * two. Fewer acquisitions are fewer chances to find the lock held by a thread that lost its
 * CPU inside it, which on a crowded machine held its class's allocators up for 1-1.5 ms
 * (bench/RESULTS.md, "Locks in the stops' waits"). */
static gc_span *central_take(gc_thread *t, uint32_t span_class, gc_span *retired) {
  gc_central *ctr = &gc.central[span_class];
  for (uint32_t budget = GC_SWEEP_BUDGET; budget != 0;) {
    uint32_t swept = gc_swept_set(atomic_load(&gc.sweepgen));
    gc_span *batch[GC_SWEEP_STEP];
    beskid_os_mutex_lock(&ctr->lock);
    if (retired != NULL) {
      central_file_locked(ctr, retired);
      retired = NULL;
    }
    gc_span *s = ctr->partial[swept].head;
    if (s != NULL) {
      beskid_gc__list_remove(&ctr->partial[swept], s);
      beskid_os_mutex_unlock(&ctr->lock);
      return s;
    }
    uint32_t n =
        beskid_gc__take_unswept(ctr, batch, budget < GC_SWEEP_STEP ? budget : GC_SWEEP_STEP);
    beskid_os_mutex_unlock(&ctr->lock);
    if (n == 0) break;
    s = beskid_gc__sweep_taken(ctr, batch, n, true);
    if (s != NULL) return s;
    budget -= n;
  }
  const gc_size_class *sc = &beskid_gc__size_classes[span_class >> 1];
  gc_span *s = beskid_gc__span_alloc(t, sc->npages, false);
  if (s == NULL) return NULL;
  beskid_gc__span_init_small(s, span_class); /* slots past nelems start allocated */
  return s;
}

/* Take `s` into the cache: its free slots count as allocated from now on (and, while marking,
 * as black). */
static void cache_install(gc_thread *t, gc_alloc_cache *c, gc_span *s) {
  uint32_t free_slots = s->nelems - s->alloc_count;
  atomic_fetch_add_explicit(&gc.heap_bytes, (uint64_t)free_slots * s->elem_size,
                            memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.heap_objects, free_slots, memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.total_alloc_bytes, (uint64_t)free_slots * s->elem_size,
                            memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.total_alloc_objects, free_slots, memory_order_relaxed);
  c->span = s;
  c->word = 0;
  c->free_mask = ~load_alloc(s, 0) & gc_span_valid_bits(s, 0);
  c->next = c->end = 0;
  c->size = s->elem_size;
  if (atomic_load_explicit(&gc.phase, memory_order_relaxed) == BESKID_GC_PHASE_MARKING) {
    cache_mark_free(t, c, true);
  }
}

/* Whether `bytes` more may be allocated under the hard cap. */
static bool under_cap(uint64_t bytes) {
  uint64_t cap = atomic_load_explicit(&gc.pacer.heap_max, memory_order_relaxed);
  return cap == 0 || atomic_load_explicit(&gc.heap_bytes, memory_order_relaxed) + bytes <= cap;
}

void beskid_gc__record_failure(uint64_t requested) {
  beskid_gc_failure_t f;
  f.requested = requested;
  f.live = gc.live_bytes;
  beskid_os_mutex_lock(&gc.heap_lock);
  f.committed = beskid_gc__held_bytes();
  beskid_os_mutex_unlock(&gc.heap_lock);
  f.cap = atomic_load(&gc.pacer.heap_max);
  beskid_os_mutex_lock(&gc.failure_lock);
  gc.failure = f;
  beskid_os_mutex_unlock(&gc.failure_lock);
}

/* Tells the grower which CPU this thread runs on (grow.c): a relaxed store per span taken, and
 * the CPU number costs a few nanoseconds (the C library reads it from memory the kernel keeps
 * up to date, or from the vDSO). */
static void note_cpu(gc_thread *t) {
  atomic_store_explicit(&t->cpu, beskid_os_current_cpu(), memory_order_relaxed);
}

static void *alloc_small_slow(gc_thread *t, uint32_t span_class, uint64_t requested) {
  gc_alloc_cache *c = &t->caches[span_class];
  note_cpu(t);
  gc_span *retired = cache_retire(t, c);
  beskid_gc__maybe_trigger(t);
  const gc_size_class *sc = &beskid_gc__size_classes[span_class >> 1];
  uint64_t span_bytes = (uint64_t)sc->nelems * sc->size;
  for (int attempt = 0; attempt < 2; attempt++) {
    gc_span *s = NULL;
    if (under_cap(span_bytes))
      s = central_take(t, span_class, retired);
    else if (retired != NULL)
      central_put(retired);
    retired = NULL;
    if (s != NULL) {
      cache_install(t, c, s);
      beskid_gc__assist(t, (uint64_t)(s->nelems - s->alloc_count) * s->elem_size);
      void *p = cache_next(c);
      if (p != NULL) return p;
      continue;
    }
    if (attempt == 0) beskid_gc__collect_for_oom(t);
  }
  beskid_gc__record_failure(requested);
  return NULL;
}

static void *alloc_large(gc_thread *t, uint64_t size, bool noscan) {
  note_cpu(t);
  beskid_gc__maybe_trigger(t);
  uint64_t npages = (size + GC_PAGE_SIZE - 1) >> GC_PAGE_SHIFT;
  uint64_t bytes = npages << GC_PAGE_SHIFT;
  /* Paid before the object exists: an assist may wait in the native state, where a new object
   * in no root yet would be lost to a cycle that started meanwhile. */
  beskid_gc__assist(t, bytes);
  gc_span *s = NULL;
  for (int attempt = 0; attempt < 2 && s == NULL; attempt++) {
    if (npages <= UINT32_MAX && under_cap(bytes))
      s = beskid_gc__span_alloc(t, (uint32_t)npages, true);
    if (s == NULL && attempt == 0) beskid_gc__collect_for_oom(t);
  }
  if (s == NULL) {
    beskid_gc__record_failure(size);
    return NULL;
  }
  /* Cleared before the span is published, polling as it goes (ttsp.c). */
  if (s->needzero) beskid_gc__clear_bounded(t, (void *)s->base, size);
  beskid_gc__span_init_large(s, size, noscan); /* slots past the object start allocated */
  s->alloc_bits[0] |= 1;
  s->alloc_count = 1;
  void *p = (void *)s->base;
  if (__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) {
    gc_span_mark(s, 0);
    t->black_bytes += bytes;
    t->black_objects++;
  }
  atomic_fetch_add_explicit(&gc.heap_bytes, bytes, memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.heap_objects, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.total_alloc_bytes, bytes, memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.total_alloc_objects, 1, memory_order_relaxed);
  uint32_t set = gc_swept_set(atomic_load(&gc.sweepgen));
  beskid_os_mutex_lock(&gc.large.lock);
  gc_central_file(&gc.large, s, set, false);
  beskid_os_mutex_unlock(&gc.large.lock);
  return p;
}

/* The size an object of `size` bytes asking for `align` (8 or 16) occupies: rounded up to the
 * alignment, so that its size class (a multiple of 16 when the size is) aligns every slot. */
static inline uint64_t aligned_size(uint64_t size, uint64_t align) {
  uint64_t a = align > GC_GRANULE ? 16 : GC_GRANULE;
  return (size + a - 1) & ~(a - 1);
}

/* Allocates `size` bytes (header included) at a multiple of `align` (≤ 16) and stamps the header
 * with `type`. */
static void *alloc_object(gc_thread *t, uint64_t size, uint64_t align, const beskid_type_t *type,
                          bool noscan) {
  beskid_gc__require_running(t, "allocation");
  if (__builtin_expect(__atomic_load_n(&t->pub.poll, __ATOMIC_RELAXED) != 0, 0)) {
    beskid_gc_safepoint(&t->pub);
  }
  if (__builtin_expect(atomic_load_explicit(&gc.stress_interval, memory_order_relaxed) != 0, 0)) {
    if (t->stress_countdown <= 1) {
      t->stress_countdown = atomic_load(&gc.stress_interval);
      beskid_gc_collect(&t->pub);
    } else {
      t->stress_countdown--;
    }
  }
  size = aligned_size(size, align);
  void *p;
  if (size <= GC_SMALL_MAX) {
    uint32_t span_class = (beskid_gc__size_to_class(size) << 1) | (noscan ? 1u : 0u);
    p = cache_next(&t->caches[span_class]);
    if (__builtin_expect(p == NULL, 0)) p = alloc_small_slow(t, span_class, size);
  } else {
    p = alloc_large(t, size, noscan);
  }
  if (p == NULL) return NULL;
  beskid_header_t *h = p;
  h->type = type;
  return p;
}

void *beskid_gc_alloc(beskid_gc_thread_t *pt, const beskid_type_t *type) {
  gc_thread *t = gc_thread_of(pt);
  return alloc_object(t, type->size, type->align, type, type->pointer_count == 0);
}

beskid_array_buffer_t *beskid_gc_alloc_array(beskid_gc_thread_t *pt, const beskid_elem_type_t *elem,
                                             uint64_t capacity) {
  gc_thread *t = gc_thread_of(pt);
  uint64_t size;
  if (!beskid_obj_array_size(elem, capacity, &size)) {
    beskid_gc__record_failure(UINT64_MAX);
    return NULL;
  }
  bool noscan = elem->pointer_count == 0 || capacity == 0;
  beskid_array_buffer_t *b = alloc_object(t, size, elem->align, &beskid_obj_array_type, noscan);
  if (b == NULL) return NULL;
  b->elem = elem;
  b->capacity = capacity;
  return b;
}

static inline size_t type_slot(const beskid_type_t *type) {
  return ((uintptr_t)type >> 3) % GC_TYPE_CACHE;
}

beskid_obj_error beskid_gc_type_check(beskid_gc_thread_t *pt, const beskid_type_t *type) {
  gc_thread *t = gc_thread_of(pt);
  if (type == NULL) return BESKID_OBJ_NULL_DESCRIPTOR;
  gc_type_entry *e = &t->type_cache[type_slot(type)];
  if (e->type == type) return BESKID_OBJ_VALID;
  beskid_obj_error err = beskid_obj_validate_type(type);
  if (err == BESKID_OBJ_VALID && (type->flags & BESKID_TYPE_ARRAY) != 0) err = BESKID_OBJ_BAD_FLAGS;
  if (err == BESKID_OBJ_VALID) {
    uint64_t size = aligned_size(type->size, type->align);
    bool small = size <= GC_SMALL_MAX;
    e->type = type;
    /* A large object never matches the fast path's size compare. */
    e->size = small ? type->size : UINT64_MAX;
    e->span_class =
        small ? (beskid_gc__size_to_class(size) << 1) | (type->pointer_count == 0 ? 1u : 0u) : 0;
  }
  return err;
}

void *beskid_gc_alloc_fast(const beskid_type_t *type, uint64_t size) {
  /* NULL when the thread is not attached or is in the native state: either way the caller's
   * slow path decides (libs/builtins traps), at no cost to this path. */
  gc_thread *t = beskid_gc__running_thread;
  if (__builtin_expect(t == NULL, 0)) return NULL;
  const gc_type_entry *e = &t->type_cache[type_slot(type)];
  /* Anything unusual (a descriptor not validated yet, a size that disagrees, a large object, a
   * pending safepoint; stress mode keeps the poll word set) takes the slow path, which also
   * reports errors. */
  if (__builtin_expect(e->type != type || e->size != size ||
                           __atomic_load_n(&t->pub.poll, __ATOMIC_RELAXED) != 0,
                       0)) {
    return NULL;
  }
  beskid_header_t *h = cache_bump(&t->caches[e->span_class]);
  if (__builtin_expect(h == NULL, 0)) h = cache_next(&t->caches[e->span_class]);
  if (__builtin_expect(h == NULL, 0)) return NULL;
  h->type = type;
  return h;
}

void beskid_gc_report_failure(uint64_t requested) {
  if (gc.initialized) beskid_gc__record_failure(requested);
}

void beskid_gc_last_failure(beskid_gc_failure_t *failure) {
  if (!gc.initialized) {
    memset(failure, 0, sizeof *failure);
    return;
  }
  beskid_os_mutex_lock(&gc.failure_lock);
  *failure = gc.failure;
  beskid_os_mutex_unlock(&gc.failure_lock);
}
