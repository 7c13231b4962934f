/* debug.c — checking the collector against itself: the heap verifier, checkmark and the
 * reachability oracle. All of them run with the world stopped.
 *
 * They share one independent tracer: a plain depth-first walk from the roots with its own
 * visited set (a hash set of object addresses, malloc'd), which never reads or writes mark bits
 * unless asked to compare against them. Because it shares nothing with the concurrent marker but
 * the object model, a bug in marking, barriers or sweeping shows up as a disagreement:
 * - the verifier checks every span's bookkeeping, the heap accounting against a slow recount,
 *   and that every reachable object is allocated, well-typed and points only at live objects;
 * - checkmark (after marking) checks that every reachable object is marked;
 * - the oracle tells tests which objects are reachable without collecting anything. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

/* The tracer's tables could not grow: a debugging aid cannot go on without them. The failure
 * goes to the out_of_memory hook (builtins: the out_of_memory trap), else it is fatal. */
static void tracer_out_of_memory(const char *when, const char *what, size_t count, size_t size)
    __attribute__((noreturn));
static void tracer_out_of_memory(const char *when, const char *what, size_t count, size_t size) {
  size_t bytes;
  uint64_t requested = beskid_os_size_mul(count, size, &bytes) ? bytes : UINT64_MAX;
  beskid_gc__record_failure(requested);
  char line[256];
  (void)snprintf(line, sizeof line, "gc verify (%s): cannot allocate %llu bytes for its %s", when,
                 (unsigned long long)requested, what);
  if (gc.config.out_of_memory != NULL) gc.config.out_of_memory(line, gc.config.log_context);
  beskid_gc__fatal("%s", line);
}

/* ------------------------------------------------------------------------------------------ */
/* The independent tracer */

typedef struct tracer {
  uintptr_t *set; /* open addressing; 0 = empty */
  size_t set_cap;
  size_t set_count;
  void **stack;
  size_t sp;
  size_t stack_cap;
  bool check_marked;         /* every reachable object must be marked */
  bool check_unswept_marked; /* ...at least those in spans the sweep has not reached yet */
  bool report;               /* log problems */
  const char *when;
  uint64_t problems;
} tracer;

static void problem(tracer *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(tracer *tr, const char *fmt, ...) {
  tr->problems++;
  if (!tr->report || tr->problems > 20) return;
  char line[400];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  beskid_gc__log("gc verify (%s): %s", tr->when, line);
}

static size_t hash_ptr(uintptr_t p, size_t cap) {
  return (size_t)((p >> 4) * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (cap - 1);
}

static bool set_insert(tracer *tr, uintptr_t p) {
  if ((tr->set_count + 1) * 2 > tr->set_cap) {
    size_t cap = 1024;
    if (tr->set_cap != 0 && __builtin_mul_overflow(tr->set_cap, 2, &cap)) cap = SIZE_MAX;
    uintptr_t *grown = beskid_os_mem_alloc(cap, sizeof *grown);
    if (grown == NULL) tracer_out_of_memory(tr->when, "visited set", cap, sizeof *grown);
    for (size_t i = 0; i < tr->set_cap; i++) {
      if (tr->set[i] == 0) continue;
      size_t h = hash_ptr(tr->set[i], cap);
      while (grown[h] != 0) h = (h + 1) & (cap - 1);
      grown[h] = tr->set[i];
    }
    beskid_os_mem_free(tr->set);
    tr->set = grown;
    tr->set_cap = cap;
  }
  size_t h = hash_ptr(p, tr->set_cap);
  while (tr->set[h] != 0) {
    if (tr->set[h] == p) return false;
    h = (h + 1) & (tr->set_cap - 1);
  }
  tr->set[h] = p;
  tr->set_count++;
  return true;
}

static bool set_contains(const tracer *tr, uintptr_t p) {
  if (tr->set_cap == 0) return false;
  size_t h = hash_ptr(p, tr->set_cap);
  while (tr->set[h] != 0) {
    if (tr->set[h] == p) return true;
    h = (h + 1) & (tr->set_cap - 1);
  }
  return false;
}

static void stack_push(tracer *tr, void *obj) {
  if (tr->sp == tr->stack_cap) {
    size_t cap = 1024;
    if (tr->stack_cap != 0 && __builtin_mul_overflow(tr->stack_cap, 2, &cap)) cap = SIZE_MAX;
    void **grown = beskid_os_mem_resize(tr->stack, cap, sizeof *grown);
    if (grown == NULL) tracer_out_of_memory(tr->when, "stack", cap, sizeof *grown);
    tr->stack = grown;
    tr->stack_cap = cap;
  }
  tr->stack[tr->sp++] = obj;
}

static void visit(tracer *tr, void *ptr, const void *from) {
  if (ptr == NULL) return;
  gc_span *s;
  uint32_t i;
  void *obj = beskid_gc__find_object((uintptr_t)ptr, &s, &i);
  if (obj == NULL) {
    if ((uintptr_t)ptr - gc.arena_base < gc.arena_size) {
      problem(tr, "%p (from %p) points into the heap but at no live object", ptr, from);
    }
    return;
  }
  if (!set_insert(tr, (uintptr_t)obj)) return;
  uint64_t allocated = __atomic_load_n(&s->alloc_bits[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1u;
  if (!allocated) problem(tr, "reachable object %p (from %p) is not allocated", obj, from);
  if (tr->check_marked && !gc_span_marked(s, i)) {
    problem(tr, "reachable object %p (from %p) was not marked", obj, from);
  } else if (tr->check_unswept_marked && !gc_span_marked(s, i) &&
             atomic_load_explicit(&s->sweepgen, memory_order_relaxed) !=
                 atomic_load(&gc.sweepgen)) {
    problem(tr,
            "reachable object %p (from %p) is unmarked in an unswept span: the sweep would "
            "free it",
            obj, from);
  }
  const beskid_type_t *type = ((beskid_header_t *)obj)->type;
  if (type == &beskid_obj_array_type) {
    const beskid_array_buffer_t *b = obj;
    if (beskid_obj_validate_elem_type(b->elem) != BESKID_OBJ_VALID) {
      problem(tr, "array %p has a malformed element descriptor", obj);
      return;
    }
  } else if (beskid_obj_validate_type(type) != BESKID_OBJ_VALID) {
    problem(tr, "object %p has a malformed descriptor %p", obj, (const void *)type);
    return;
  }
  uint64_t size = beskid_obj_size(obj);
  if ((uintptr_t)obj + size > s->limit || (s->state == GC_SPAN_SMALL && size > s->elem_size)) {
    problem(tr, "object %p (%llu bytes) overflows its slot", obj, (unsigned long long)size);
    return;
  }
  if (gc_span_noscan(s)) {
    beskid_obj_slot_iter_t it;
    beskid_obj_slots_begin(&it, obj);
    if (beskid_obj_slots_next(&it) != NULL)
      problem(tr, "object %p with pointers in a noscan span", obj);
    return;
  }
  stack_push(tr, obj);
}

typedef void (*root_fn)(tracer *tr, void *ptr, const void *from);

static void visit_handle(void *object, void *context) { visit(context, object, NULL); }

static void for_each_root(tracer *tr, root_fn fn) {
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    for (beskid_root_frame_t *f = t->pub.top_frame; f != NULL; f = f->previous) {
      for (uint64_t i = 0; i < f->slot_count; i++) fn(tr, f->slots[i], f);
    }
    for (gc_root_block *b = t->roots; b != NULL; b = b->prev) {
      for (uint32_t i = 0; i < b->used; i++) fn(tr, *b->slots[i], b->slots[i]);
    }
  }
  beskid_os_mutex_lock(&gc.roots_lock);
  for (size_t r = 0; r < gc.global_ranges; r++) {
    const gc_global_range *g = &gc.globals[r];
    for (size_t i = 0; i < g->count; i++) fn(tr, g->slots[i], &g->slots[i]);
  }
  beskid_os_mutex_unlock(&gc.roots_lock);
  beskid_gc__for_each_handle(visit_handle, tr);
}

static void trace_all(tracer *tr) {
  for_each_root(tr, visit);
  while (tr->sp > 0) {
    void *obj = tr->stack[--tr->sp];
    beskid_obj_slot_iter_t it;
    beskid_obj_slots_begin(&it, obj);
    for (void **slot; (slot = beskid_obj_slots_next(&it)) != NULL;) visit(tr, *slot, obj);
  }
}

static void tracer_free(tracer *tr) {
  beskid_os_mem_free(tr->set);
  beskid_os_mem_free(tr->stack);
}

/* ------------------------------------------------------------------------------------------ */
/* Span checks and the slow recount */

typedef struct span_check {
  tracer *tr;
  uint64_t objects;
  uint64_t bytes;
  uint32_t sweepgen;
  bool marking; /* mark bits may be set anywhere; otherwise only in unswept spans */
} span_check;

static void check_span(gc_span *s, void *context) {
  span_check *sc = context;
  tracer *tr = sc->tr;
  if (s->state != GC_SPAN_SMALL && s->state != GC_SPAN_LARGE) {
    problem(tr, "span %p in the page table has state %u", (void *)s, s->state);
    return;
  }
  for (uint32_t p = 0; p < s->npages; p++) {
    if (beskid_gc__span_of(s->base + (uintptr_t)p * GC_PAGE_SIZE) != s) {
      problem(tr, "page %u of span %p maps elsewhere", p, (void *)s);
    }
  }
  uint32_t sg = atomic_load(&s->sweepgen);
  if (sg != sc->sweepgen && sg != gc_sweepgen_unswept(sc->sweepgen)) {
    problem(tr, "span %p has sweepgen %u at global %u", (void *)s, sg, sc->sweepgen);
  }
  uint64_t slot_bytes;
  if (s->state == GC_SPAN_SMALL) {
    const gc_size_class *c = &beskid_gc__size_classes[gc_span_size_class(s)];
    if (s->elem_size != c->size || s->nelems != c->nelems || s->npages != c->npages) {
      problem(tr, "span %p disagrees with its size class", (void *)s);
    }
    slot_bytes = s->elem_size;
  } else {
    slot_bytes = (uint64_t)s->npages << GC_PAGE_SHIFT;
  }
  /* Outside marking, only a span the sweep has not reached yet holds marks (the last mark's
   * result, which its sweep turns into alloc bits); a swept span has none. Its alloc bits are
   * still the previous cycle's then, and they are what heap_bytes counts until it is swept. */
  bool marks_allowed = sc->marking || sg != sc->sweepgen;
  for (uint32_t w = 0; w < (s->nelems + 63) / 64; w++) {
    uint64_t valid = gc_span_valid_bits(s, w);
    uint64_t alloc = __atomic_load_n(&s->alloc_bits[w], __ATOMIC_RELAXED);
    if ((alloc | valid) != UINT64_MAX)
      problem(tr, "span %p: slots past the end look free", (void *)s);
    uint64_t n = (uint64_t)gc_popcount(alloc & valid);
    sc->objects += n;
    sc->bytes += n * slot_bytes;
    uint64_t marks = atomic_load(&s->mark_bits[w]);
    if (!marks_allowed && marks != 0) problem(tr, "swept span %p has mark bits set", (void *)s);
    if ((marks & ~valid) != 0) problem(tr, "span %p has marks past its last slot", (void *)s);
  }
}

/* Verifies the whole heap; the world is stopped. Returns the number of problems. */
uint64_t beskid_gc__verify_stopped(const char *when) {
  tracer tr = {0};
  tr.report = true;
  tr.when = when;
  span_check sc = {0};
  sc.tr = &tr;
  sc.sweepgen = atomic_load(&gc.sweepgen);
  uint32_t phase = atomic_load(&gc.phase);
  sc.marking = phase == BESKID_GC_PHASE_MARKING;
  beskid_gc__for_each_span(check_span, &sc);
  /* Cached spans count their free slots as allocated. */
  uint64_t cached_objects = 0, cached_bytes = 0;
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    beskid_gc__cache_free(t, &cached_objects, &cached_bytes);
  }
  uint64_t heap_bytes = atomic_load(&gc.heap_bytes);
  uint64_t heap_objects = atomic_load(&gc.heap_objects);
  uint64_t recounted_bytes = sc.bytes + cached_bytes;
  uint64_t recounted_objects = sc.objects + cached_objects;
  if (recounted_bytes != heap_bytes || recounted_objects != heap_objects) {
    problem(&tr, "accounting: %llu bytes / %llu objects counted, %llu / %llu recounted",
            (unsigned long long)heap_bytes, (unsigned long long)heap_objects,
            (unsigned long long)recounted_bytes, (unsigned long long)recounted_objects);
  }
  tr.check_marked = false;
  /* While sweeping, the last mark must have found everything reachable, unless that cycle's
   * marks were declared incomplete (its sweep then frees nothing). */
  tr.check_unswept_marked = phase == BESKID_GC_PHASE_SWEEPING &&
                            !atomic_load_explicit(&gc.marks_incomplete, memory_order_relaxed);
  trace_all(&tr);
  tracer_free(&tr);
  return tr.problems;
}

/* The verifier as the debug mode runs it at phase boundaries: a problem is fatal. */
void beskid_gc__verify_or_die(const char *when, bool world_stopped) {
  uint64_t n = world_stopped ? beskid_gc__verify_stopped(when) : beskid_gc__verify_heap(when);
  if (n != 0) {
    beskid_gc__fatal("gc verify (%s): the heap is unsound (%llu problems, listed above)", when,
                     (unsigned long long)n);
  }
}

uint64_t beskid_gc__verify_heap(const char *when) {
  beskid_gc__stop_world(NULL);
  uint64_t n = beskid_gc__verify_stopped(when);
  beskid_gc__start_world();
  return n;
}

void beskid_gc__checkmark_stopped(void) {
  tracer tr = {0};
  tr.report = true;
  tr.when = "checkmark";
  tr.check_marked = true;
  trace_all(&tr);
  tracer_free(&tr);
  if (tr.problems != 0) {
    beskid_gc__fatal(
        "gc checkmark: %llu reachable objects were left unmarked by concurrent marking",
        (unsigned long long)tr.problems);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Public entry points */

/* Runs `fn` with the world stopped and no cycle step in progress. */
static uint64_t with_world_stopped(beskid_gc_thread_t *pt, uint64_t (*fn)(void *), void *arg) {
  gc_thread *self = pt != NULL ? gc_thread_of(pt) : beskid_gc__thread_self();
  if (self != NULL) beskid_gc_enter_native(&self->pub);
  beskid_os_mutex_lock(&gc.cycle_lock);
  beskid_gc__stop_world(NULL);
  uint64_t r = fn(arg);
  beskid_gc__start_world();
  beskid_os_mutex_unlock(&gc.cycle_lock);
  if (self != NULL) beskid_gc_leave_native(&self->pub);
  return r;
}

static uint64_t verify_fn(void *arg) {
  (void)arg;
  return beskid_gc__verify_stopped("on request");
}

uint64_t beskid_gc_verify(beskid_gc_thread_t *t) {
  if (!gc.initialized) return 0;
  return with_world_stopped(t, verify_fn, NULL);
}

typedef struct reach_query {
  void *const *objects;
  size_t count;
} reach_query;

static uint64_t reachable_fn(void *arg) {
  reach_query *q = arg;
  tracer tr = {0};
  tr.when = "oracle";
  trace_all(&tr);
  uint64_t mask = 0;
  for (size_t i = 0; i < q->count; i++) {
    void *obj = beskid_gc__find_object((uintptr_t)q->objects[i], NULL, NULL);
    if (obj != NULL && set_contains(&tr, (uintptr_t)obj)) mask |= UINT64_C(1) << i;
  }
  tracer_free(&tr);
  return mask;
}

uint64_t beskid_gc_reachable(beskid_gc_thread_t *t, void *const *objects, size_t count) {
  if (!gc.initialized || objects == NULL || count == 0) return 0;
  reach_query q = {objects, count > 64 ? 64 : count};
  return with_world_stopped(t, reachable_fn, &q);
}
