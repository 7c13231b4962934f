/* test_gc_robust.c — the gc suite's robustness cases: the heap verifier after every kind of
 * allocation in every phase, bounded global-root registration, overflow-checked growth of the
 * runtime's own tables, address-space reservation for huge heap caps, and internal allocation
 * failures (the collector's metadata and the mark phase's work blocks).
 *
 * Linked into test_gc; main() there adds these cases with beskid_gc_robust_cases(). Each test
 * starts its own collector (Check forks a process per test). Internal allocation failures are
 * injected with the runtime's test-only hook (beskid_test_hooks.h), never with a real OOM. */
#include "gc_fixture.h"
#include "test_gc_robust.h"

/* ------------------------------------------------------------------------------------------ */
/* The verifier after every kind of allocation, in every phase */

/* A large object (64 KiB) with one pointer field. */
static const uint64_t big_map[] = {16};
static const beskid_type_t big_type = {65536, 8, big_map, 1, BESKID_TYPE_AGGREGATE, 0};
/* A 24-byte element holding one pointer at 8. */
static const uint64_t pair_elem_map[] = {8};
static const beskid_elem_type_t pair_elem = {24, 8, pair_elem_map, 1};

/* Untyped (pointer-free) objects the way libs/builtins makes their descriptors: size only. */
static beskid_type_t raw_type(uint64_t size) {
  return (beskid_type_t){size, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
}

enum { KEEP_SLOTS = 64 };
static void *keep[KEEP_SLOTS]; /* a root frame: what each allocation kind keeps alive */
static int keep_next;

static void *kept(void *p) {
  ck_assert_ptr_nonnull(p);
  keep[keep_next++ % KEEP_SLOTS] = p;
  return p;
}

/* One descriptor per size, kept for the life of the test (objects point at them). */
static void *alloc_raw(uint64_t size) {
  static beskid_type_t types[64];
  static int n;
  int i = 0;
  while (i < n && types[i].size != size) i++;
  if (i == n) {
    ck_assert_int_lt(n, 64);
    types[n++] = raw_type(size);
  }
  ck_assert_int_eq(beskid_gc_type_check(T, &types[i]), BESKID_OBJ_VALID);
  return beskid_gc_alloc(T, &types[i]);
}

typedef struct alloc_kind {
  const char *name;
  void *(*make)(void);
} alloc_kind;

static void *make_small_16(void) { return alloc_raw(16); }
static void *make_small_node(void) { return beskid_gc_alloc(T, &node_type); }
static void *make_small_1024(void) { return alloc_raw(1024); }
static void *make_small_max(void) { return alloc_raw(GC_SMALL_MAX); }
static void *make_large_raw(void) { return alloc_raw(GC_SMALL_MAX + 16); }
static void *make_large_huge(void) { return alloc_raw(UINT64_C(3) << 20); }
static void *make_large_typed(void) {
  void **o = beskid_gc_alloc(T, &big_type);
  if (o != NULL) beskid_gc_store(T, &o[2], keep[0]);
  return o;
}
static void *make_typed_array_small(void) {
  return beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, 10);
}
static void *make_typed_array_large(void) {
  return beskid_gc_alloc_array(T, &pair_elem, 20000); /* 480 KiB: a large span */
}
static void *make_string_small(void) {
  beskid_array_buffer_t *b = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 13);
  if (b != NULL) memcpy(beskid_obj_array_data(b), "hello, world!", 13);
  return b;
}
static void *make_string_large(void) {
  return beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 100000);
}
static void *make_empty_array(void) {
  return beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, 0);
}

static const alloc_kind kinds[] = {
    {"small 16 B untyped", make_small_16},
    {"small 48 B typed", make_small_node},
    {"small 1 KiB untyped", make_small_1024},
    {"small 32 KiB untyped", make_small_max},
    {"large 32 KiB + 16 untyped", make_large_raw},
    {"large 3 MiB untyped", make_large_huge},
    {"large 64 KiB typed", make_large_typed},
    {"typed array of 10 pointers", make_typed_array_small},
    {"typed array of 20000 pairs", make_typed_array_large},
    {"string of 13 bytes", make_string_small},
    {"string of 100000 bytes", make_string_large},
    {"empty typed array", make_empty_array},
};

/* A heap with live and dead objects of several classes, so that every phase has spans with
 * survivors, with garbage, and (while sweeping) spans not swept yet. */
static void populate(void) {
  for (int i = 0; i < 3000; i++) {
    void *n = beskid_gc_alloc(T, &node_type);
    ck_assert_ptr_nonnull(n);
    if (i % 7 == 0) kept(n);
    void *r = alloc_raw((uint64_t)(16 + (i % 40) * 16));
    ck_assert_ptr_nonnull(r);
    if (i % 11 == 0) kept(r);
  }
  kept(alloc_raw(UINT64_C(200) << 10));                  /* a large survivor */
  ck_assert_ptr_nonnull(alloc_raw(UINT64_C(300) << 10)); /* a large corpse */
}

static const char *const phase_names[] = {"idle", "marking", "sweeping"};

/* _i: the phase the allocations and verifications happen in. */
START_TEST(test_verify_after_every_allocation_in_every_phase) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  memset(keep, 0, sizeof keep);
  keep_next = 0;
  beskid_root_frame_t frame = {NULL, keep, KEEP_SLOTS};
  beskid_gc_push_frame(T, &frame);
  populate();
  beskid_gc_collect(T);
  populate();
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    /* Drive the collector into the phase under test, with a heap that has work in it. */
    if (_i == BESKID_GC_PHASE_MARKING) {
      beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
      beskid_gc_mark_some(T, 50);
    } else if (_i == BESKID_GC_PHASE_SWEEPING) {
      beskid_gc_step(T, BESKID_GC_STEP_MARK_DONE);
    }
    ck_assert_int_eq(beskid_gc_phase(), _i);
    for (int round = 0; round < 3; round++) {
      void *p = kinds[k].make();
      ck_assert_msg(p != NULL, "%s failed", kinds[k].name);
      if (round != 1) kept(p); /* one of the three is garbage from the start */
      uint64_t problems = beskid_gc_verify(T);
      ck_assert_msg(problems == 0, "verifier: %llu problems after %s (%s, round %d)",
                    (unsigned long long)problems, kinds[k].name, phase_names[_i], round);
      ck_assert_int_eq(beskid_gc_phase(), _i);
    }
    beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
    ck_assert_uint_eq(beskid_gc_verify(T), 0);
    populate();
  }
  /* Every kept object is still allocated after a full collection. */
  beskid_gc_collect(T);
  for (int s = 0; s < KEEP_SLOTS; s++) {
    if (keep[s] != NULL) ck_assert_ptr_eq(beskid_gc_object_start(keep[s]), keep[s]);
  }
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* The debug mode runs the verifier at each phase boundary of every cycle, on a heap that mixes
 * every kind: it must never report (a report is logged, and the count checked at the end). */
START_TEST(test_verify_mode_on_mixed_heap) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_VERIFY | BESKID_GC_DEBUG_CHECKMARK);
  memset(keep, 0, sizeof keep);
  keep_next = 0;
  beskid_root_frame_t frame = {NULL, keep, KEEP_SLOTS};
  beskid_gc_push_frame(T, &frame);
  for (int cycle = 0; cycle < 4; cycle++) {
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) kept(kinds[k].make());
    populate();
    beskid_gc_collect(T);
    ck_assert_uint_eq(beskid_gc_verify(T), 0);
  }
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Global roots: bounded count, ranges that cannot wrap, a table that grows with checks */

START_TEST(test_register_globals_bounds_and_growth) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  static void *one[1];
  ck_assert_int_eq(beskid_gc_register_globals(one, SIZE_MAX), BESKID_GC_INVALID);
  ck_assert_int_eq(beskid_gc_register_globals(one, (size_t)BESKID_GC_GLOBALS_MAX + 1),
                   BESKID_GC_INVALID);
  ck_assert_int_eq(beskid_gc_register_globals(one, SIZE_MAX / sizeof(void *) + 1),
                   BESKID_GC_INVALID); /* the byte size wraps */
  ck_assert_int_eq(beskid_gc_register_globals((void **)(UINTPTR_MAX - 63), 16), BESKID_GC_INVALID);
  ck_assert_int_eq(beskid_gc_register_globals(NULL, 0), BESKID_GC_OK);
  ck_assert_int_eq(beskid_gc_register_globals(one, 0), BESKID_GC_OK);
  ck_assert_uint_eq(gc.global_ranges, 0); /* nothing was registered by the refusals */
  /* Thousands of registrations: the table doubles many times, each slot stays a root. */
  enum { N = 5000 };
  static void *cells[N];
  for (int i = 0; i < N; i++) ck_assert_int_eq(beskid_gc_register_globals(&cells[i], 1), 0);
  ck_assert_uint_eq(gc.global_ranges, N);
  ck_assert_uint_ge(gc.global_capacity, N);
  for (int i = 0; i < N; i += 7) {
    int64_t *p = alloc_raw(32);
    ck_assert_ptr_nonnull(p);
    p[2] = i;
    beskid_gc_store(T, &cells[i], p);
  }
  beskid_gc_collect(T);
  for (int i = 0; i < N; i += 7) ck_assert_int_eq(((int64_t *)cells[i])[2], i);
  /* A failed growth registers nothing and says why. */
  size_t cap = gc.global_capacity;
  while (gc.global_ranges < cap) ck_assert_int_eq(beskid_gc_register_globals(one, 1), 0);
  beskid_os_test_fail_allocations(0, 1);
  ck_assert_int_eq(beskid_gc_register_globals(one, 1), BESKID_GC_OUT_OF_MEMORY);
  ck_assert_uint_eq(gc.global_ranges, cap);
  beskid_gc_failure_t f;
  beskid_gc_last_failure(&f);
  ck_assert_uint_eq(f.requested, cap * 2 * sizeof(gc_global_range));
  ck_assert_int_eq(beskid_gc_register_globals(one, 1), BESKID_GC_OK); /* one failure only */
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Internal allocation failures: reported with their figures, never half-applied */

START_TEST(test_internal_allocation_failures_reported) {
  start(BESKID_GC_DEBUG_MANUAL);
  beskid_gc_failure_t f;
  /* Registered roots: the 65th slot needs a new block. */
  static void *cells[GC_ROOT_BLOCK + 1];
  for (uint32_t i = 0; i < GC_ROOT_BLOCK; i++) {
    ck_assert_int_eq(beskid_gc_register_root(T, &cells[i]), BESKID_GC_OK);
  }
  beskid_os_test_fail_allocations(0, 1);
  ck_assert_int_eq(beskid_gc_register_root(T, &cells[GC_ROOT_BLOCK]), BESKID_GC_OUT_OF_MEMORY);
  beskid_gc_last_failure(&f);
  ck_assert_uint_eq(f.requested, sizeof(gc_root_block));
  ck_assert_int_eq(beskid_gc_register_root(T, &cells[GC_ROOT_BLOCK]), BESKID_GC_OK);
  for (int i = GC_ROOT_BLOCK; i >= 0; i--) {
    ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[i]), BESKID_GC_OK);
  }
  /* Handles: the first handle needs the block index and a block; either failing gives 0. */
  void *obj = alloc_raw(48);
  ck_assert_ptr_nonnull(obj);
  for (uint64_t nth = 0; nth < 2; nth++) {
    beskid_os_test_fail_allocations(nth, 1);
    ck_assert_uint_eq(beskid_gc_handle_new(obj), 0);
    beskid_gc_last_failure(&f);
    ck_assert_uint_gt(f.requested, 0);
  }
  beskid_handle_t h = beskid_gc_handle_new(obj);
  ck_assert_uint_ne(h, 0);
  ck_assert_ptr_eq(beskid_gc_handle_get(h), obj);
  ck_assert(beskid_gc_handle_release(h));
  /* Heap metadata: a new chunk's record, then a new span's record. */
  beskid_gc_collect(T);
  beskid_os_test_fail_allocations(0, UINT64_MAX);
  void *big = alloc_raw(UINT64_C(4) << 20); /* a dedicated chunk: needs a chunk and a span */
  beskid_os_test_fail_allocations(0, 0);
  ck_assert_ptr_null(big);
  beskid_gc_last_failure(&f);
  ck_assert_uint_eq(f.requested, UINT64_C(4) << 20);
  ck_assert_ptr_nonnull(alloc_raw(UINT64_C(4) << 20)); /* the heap is intact */
  /* A thread context. */
  beskid_gc_detach();
  beskid_os_test_fail_allocations(0, 1);
  ck_assert_ptr_null(beskid_gc_attach());
  beskid_gc_last_failure(&f);
  ck_assert_uint_eq(f.requested, sizeof(gc_thread));
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
  stop();
}
END_TEST

/* The verifier's own tables: with the hook set to fail everything, the out_of_memory hook is
 * called with the failure recorded (here it exits, the way builtins traps). */
static void exit_on_oom(const char *line, void *context) {
  (void)context;
  beskid_gc_failure_t f;
  beskid_gc_last_failure(&f);
  fprintf(stderr, "oom hook: %s (requested %llu)\n", line, (unsigned long long)f.requested);
  _exit(f.requested > 0 ? 42 : 43);
}

START_TEST(test_verifier_out_of_memory_calls_hook) {
  beskid_gc_config_t config;
  test_config(&config, BESKID_GC_DEBUG_MANUAL);
  config.out_of_memory = exit_on_oom;
  start_config(&config);
  void *slots[1] = {alloc_raw(64)};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  beskid_os_test_fail_allocations(0, UINT64_MAX);
  beskid_gc_verify(T); /* exits with 42 */
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The mark phase with no memory: more grey objects than the reserved work blocks hold */

/* A list node: { next @16, value @24 } */
static const uint64_t cell_map[] = {8};
static const beskid_type_t cell_type = {24, 8, cell_map, 1, BESKID_TYPE_AGGREGATE, 0};
typedef struct cell {
  beskid_header_t header;
  struct cell *next;
  int64_t value;
} cell;

/* _i: 0 concurrent marking driven step by step, 1 stop-the-world marking. */
START_TEST(test_mark_overflow_without_memory) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | (_i ? BESKID_GC_DEBUG_STW : 0));
  enum { WIDE = 60000, CHAIN = 3, DEEP = 20000 };
  void *slots[3] = {0};
  beskid_root_frame_t frame = {NULL, slots, 3};
  beskid_gc_push_frame(T, &frame);
  /* Wide: an array of WIDE short chains. Scanning one oblet of it greys 16384 objects at once,
   * four times what the reserved blocks hold. */
  beskid_array_buffer_t *arr = beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, WIDE);
  ck_assert_ptr_nonnull(arr);
  slots[0] = arr;
  cell **e = beskid_obj_array_data(arr);
  for (int i = 0; i < WIDE; i++) {
    cell *head = NULL;
    for (int k = 0; k < CHAIN; k++) {
      slots[2] = head;
      cell *l = beskid_gc_alloc(T, &cell_type);
      ck_assert_ptr_nonnull(l);
      head = slots[2];
      l->value = i * CHAIN + k;
      beskid_gc_store(T, (void **)&l->next, head);
      head = l;
    }
    beskid_gc_store(T, (void **)&e[i], head);
    slots[2] = NULL;
    if (i % 3 == 0) ck_assert_ptr_nonnull(beskid_gc_alloc(T, &cell_type)); /* garbage */
  }
  /* Deep: one long list. */
  for (int i = 0; i < DEEP; i++) {
    cell *l = beskid_gc_alloc(T, &cell_type);
    ck_assert_ptr_nonnull(l);
    l->value = -i;
    beskid_gc_store(T, (void **)&l->next, slots[1]);
    slots[1] = l;
  }
  void *garbage = beskid_gc_alloc(T, &cell_type);
  ck_assert_uint_eq(gc.mark_overflow_rescans, 0);
  /* The first cycle of this collector: no work block has been allocated yet, and none can be. */
  uint64_t before = beskid_os_test_allocations();
  beskid_os_test_fail_allocations(0, UINT64_MAX);
  beskid_gc_collect(T);
  beskid_os_test_fail_allocations(0, 0);
  ck_assert_uint_gt(beskid_os_test_allocations(), before); /* blocks were asked for, refused */
  ck_assert_uint_gt(gc.mark_overflow_rescans, 0);
  /* Everything reachable survived (clobber mode overwrote whatever the sweep freed), the garbage
   * did not, and the verifier agrees. */
  for (int i = 0; i < WIDE; i++) {
    int k = CHAIN - 1;
    for (cell *l = e[i]; l != NULL; l = l->next, k--) ck_assert_int_eq(l->value, i * CHAIN + k);
    ck_assert_int_eq(k, -1);
  }
  int64_t n = 0;
  for (cell *l = slots[1]; l != NULL; l = l->next) ck_assert_int_eq(l->value, -(DEEP - 1 - n++));
  ck_assert_int_eq(n, DEEP);
  ck_assert_ptr_null(beskid_gc_object_start(garbage));
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 1 + (uint64_t)WIDE * CHAIN + DEEP);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  /* With memory back, the next cycle needs no recovery. */
  uint64_t rescans = gc.mark_overflow_rescans;
  beskid_gc_collect(T);
  ck_assert_uint_eq(gc.mark_overflow_rescans, rescans);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* Marking while mutators run: a barrier and an allocation during a starved mark. */
START_TEST(test_mark_overflow_with_barrier_during_mark) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  enum { WIDE = 40000 };
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  beskid_array_buffer_t *arr = beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, WIDE);
  ck_assert_ptr_nonnull(arr);
  slots[0] = arr;
  cell **e = beskid_obj_array_data(arr);
  for (int i = 0; i < WIDE; i++) {
    cell *l = beskid_gc_alloc(T, &cell_type);
    ck_assert_ptr_nonnull(l);
    l->value = i;
    beskid_gc_store(T, (void **)&e[i], l);
  }
  beskid_os_test_fail_allocations(0, UINT64_MAX);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  beskid_gc_mark_some(T, 3); /* part of the array scanned: a flood of grey objects dropped */
  /* Move the last element into a root and delete it from the heap (the barrier shades it). */
  slots[1] = e[WIDE - 1];
  beskid_gc_store(T, (void **)&e[WIDE - 1], NULL);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  beskid_os_test_fail_allocations(0, 0);
  ck_assert_uint_gt(gc.mark_overflow_rescans, 0);
  for (int i = 0; i < WIDE - 1; i++) ck_assert_int_eq(e[i]->value, i);
  ck_assert_int_eq(((cell *)slots[1])->value, WIDE - 1);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Address space for huge heap caps */

static void init_with_cap(uint64_t heap_max, uint64_t reserve) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.debug_flags = BESKID_GC_DEBUG_MANUAL;
  config.heap_max = heap_max;
  config.reserve = reserve;
  start_config(&config);
}

/* _i picks the cap: 2^64 - 1 (twice it wrapped the reservation to about 512 MiB), 2^62 (twice it
 * was more than any machine reserves: start-up failed), 2^46 - 1, and a modest 1 GiB. */
static const uint64_t huge_caps[] = {UINT64_MAX, UINT64_C(1) << 62, (UINT64_C(1) << 46) - 1,
                                     UINT64_C(1) << 30};

START_TEST(test_huge_heap_cap_reserves_the_most_it_can) {
  uint64_t cap = huge_caps[_i];
  init_with_cap(cap, 0);
  /* The arena is what the cap asks for, or as much as the machine gives (never the wrapped
   * 512 MiB: at least the no-cap default unless the cap itself is smaller). */
  uint64_t want = cap > (GC_RESERVE_MAX - (UINT64_C(512) << 20)) / 2
                      ? GC_RESERVE_MAX
                      : cap * 2 + (UINT64_C(512) << 20);
  ck_assert_uint_le(gc.arena_size, GC_RESERVE_MAX + (UINT64_C(64) << 20));
  ck_assert_uint_ge(gc.arena_size, want < (UINT64_C(64) << 30) ? want : (UINT64_C(64) << 30));
  /* The cap is kept as given, and 600 MiB live fits (untouched pages cost nothing). */
  beskid_gc_failure_t f;
  void *slots[5] = {0};
  beskid_root_frame_t frame = {NULL, slots, 5};
  beskid_gc_push_frame(T, &frame);
  for (int i = 0; i < 5; i++) {
    slots[i] = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, UINT64_C(120) << 20);
    beskid_gc_last_failure(&f);
    ck_assert_msg(slots[i] != NULL, "array %d: req=%llu cap=%llu", i,
                  (unsigned long long)f.requested, (unsigned long long)f.cap);
  }
  beskid_gc_collect(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.live_bytes, UINT64_C(600) << 20);
  ck_assert_uint_eq(beskid_gc_set_heap_max(cap), cap);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_explicit_reserve_exact_or_refused) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.reserve = UINT64_MAX;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_INVALID);
  config.reserve = GC_RESERVE_MAX + 1;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_INVALID);
  ck_assert(!beskid_gc_is_initialized());
  init_with_cap(UINT64_MAX, UINT64_C(1) << 30); /* an explicit reserve wins over the cap */
  ck_assert_uint_eq(gc.arena_size, UINT64_C(1) << 30);
  stop();
}
END_TEST

/* The pacer's goal for a huge GOGC on a huge live heap saturates instead of wrapping to a goal
 * below the live heap (which would collect back to back). The live figure is set directly: no
 * test machine holds 32 TiB. */
START_TEST(test_pacer_goal_saturates) {
  start(BESKID_GC_DEBUG_MANUAL);
  uint64_t live = gc.live_bytes;
  gc.live_bytes = UINT64_C(1) << 45;
  beskid_gc_set_gogc(INT32_MAX);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.heap_goal, UINT64_MAX);
  ck_assert_uint_eq(st.heap_trigger, UINT64_MAX);
  beskid_gc_set_gogc(100);
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.heap_goal, UINT64_C(1) << 46);
  gc.live_bytes = live;
  beskid_gc_set_gogc(100);
  stop();
}
END_TEST

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GC_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GC_TEST_SANITIZED 1
#endif

#ifndef GC_TEST_SANITIZED
#include <sys/resource.h>
/* With the address space limited (ulimit -v 6 GiB), neither the no-cap default (64 GiB) nor a
 * huge cap's reservation can be had: the heap takes what it can get and works. (Not under a
 * sanitizer: their shadow memory already spends more address space than any such limit.) */
START_TEST(test_reservation_halves_under_an_address_space_limit) {
  struct rlimit lim = {UINT64_C(6) << 30, UINT64_C(6) << 30};
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
  init_with_cap(_i == 0 ? 0 : UINT64_MAX, 0);
  ck_assert_uint_lt(gc.arena_size, UINT64_C(6) << 30);
  ck_assert_uint_ge(gc.arena_size, UINT64_C(1) << 30);
  void *slots[1] = {beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, UINT64_C(256) << 20)};
  ck_assert_ptr_nonnull(slots[0]);
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  beskid_gc_collect(T);
  ck_assert_ptr_eq(beskid_gc_object_start(slots[0]), slots[0]);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST
#endif

/* ------------------------------------------------------------------------------------------ */

void beskid_gc_robust_cases(Suite *suite) {
  TCase *tc = tcase_create("verifier");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_verify_after_every_allocation_in_every_phase, BESKID_GC_PHASE_IDLE,
                      BESKID_GC_PHASE_SWEEPING + 1);
  tcase_add_test(tc, test_verify_mode_on_mixed_heap);
  suite_add_tcase(suite, tc);

  tc = tcase_create("roots_tables");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_register_globals_bounds_and_growth);
  suite_add_tcase(suite, tc);

  tc = tcase_create("reservation");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_huge_heap_cap_reserves_the_most_it_can, 0,
                      (int)(sizeof huge_caps / sizeof huge_caps[0]));
  tcase_add_test(tc, test_explicit_reserve_exact_or_refused);
  tcase_add_test(tc, test_pacer_goal_saturates);
#ifndef GC_TEST_SANITIZED
  tcase_add_loop_test(tc, test_reservation_halves_under_an_address_space_limit, 0, 2);
#endif
  suite_add_tcase(suite, tc);

  tc = tcase_create("allocation_failures");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_internal_allocation_failures_reported);
  tcase_add_exit_test(tc, test_verifier_out_of_memory_calls_hook, 42);
  tcase_add_loop_test(tc, test_mark_overflow_without_memory, 0, 2);
  tcase_add_test(tc, test_mark_overflow_with_barrier_during_mark);
  suite_add_tcase(suite, tc);
}
