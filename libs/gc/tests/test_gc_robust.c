/* test_gc_robust.c — the gc suite's robustness cases: the heap verifier after every kind of
 * allocation in every phase, bounded global-root registration, overflow-checked growth of the
 * runtime's own tables, address-space reservation for huge heap caps, and internal allocation
 * failures (the collector's metadata and the mark phase's work blocks).
 *
 * Linked into test_gc; main() there adds these cases with beskid_gc_robust_cases(). Each test
 * starts its own collector (Check forks a process per test). Internal allocation failures are
 * injected with the runtime's test-only hook (beskid_test_hooks.h), never with a real OOM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/gc.h"
#include "beskid/platform.h"
#include "check_support.h"
#include "internal.h"
#include "test_gc_robust.h"

static beskid_gc_thread_t *T;

static void log_to_stderr(const char *line, void *context) {
  (void)context;
  fprintf(stderr, "%s\n", line);
}

static void start_with(beskid_gc_config_t *config) {
  if (config->log == NULL) config->log = log_to_stderr;
  ck_assert_int_eq(beskid_gc_init(config), BESKID_GC_OK);
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
}

static void start(uint32_t debug_flags) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.debug_flags = debug_flags;
  config.reserve = UINT64_C(4) << 30;
  start_with(&config);
}

static void stop(void) {
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  beskid_gc_detach();
  beskid_gc_shutdown();
}

/* ------------------------------------------------------------------------------------------ */
/* The verifier after every kind of allocation, in every phase */

/* struct Node { Node *left @16; Node *right @24; i64 value @32 } */
static const uint64_t node_map[] = {16, 24};
static const beskid_type_t node_type = {40, 8, node_map, 2, BESKID_TYPE_AGGREGATE, 0};
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
  /* Every kept object is still allocated and the strings kept their bytes. */
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

void beskid_gc_robust_cases(Suite *suite) {
  TCase *tc = tcase_create("verifier");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_verify_after_every_allocation_in_every_phase, BESKID_GC_PHASE_IDLE,
                      BESKID_GC_PHASE_SWEEPING + 1);
  tcase_add_test(tc, test_verify_mode_on_mixed_heap);
  suite_add_tcase(suite, tc);
}
