/* test_gc_scenarios.c — the upstream scenarios: rooted objects survive, garbage is reclaimed, roots
 * of every kind (the gc suite; fixture in gc_fixture.h). */
#include "gc_fixture.h"

/* ------------------------------------------------------------------------------------------ */
/* Upstream scenarios */

START_TEST(test_rooted_survives_garbage_unrooted_reclaimed) {
  ROOTED_SCENARIO(1, GC_TEST_MANUAL_CLOBBER);
  leaf *kept = new_leaf(4242);
  slots[0] = kept;
  for (int i = 0; i < 1000; i++) new_leaf(i);
  collect_expect_allocated(kept, true);
  ck_assert_int_eq(kept->value, 4242);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  uint64_t live_rooted = st.live_bytes;
  ck_assert_uint_eq(st.live_objects, 1);
  slots[0] = NULL;
  collect_expect_allocated(kept, false);
  beskid_gc_read_stats(&st);
  ck_assert_uint_lt(st.live_bytes, live_rooted);
  ck_assert_uint_eq(st.live_objects, 0);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_list_rooted_at_head_keeps_checksum) {
  ROOTED_SCENARIO(2, GC_TEST_MANUAL_CLOBBER);
  int64_t expected = 0;
  for (int i = 0; i < 100; i++) {
    node *n = new_node(i * 7 + 1);
    set_left(n, slots[0]);
    slots[0] = n;
    expected += i * 7 + 1;
    for (int g = 0; g < 10; g++) new_node(-1); /* garbage between the nodes */
  }
  for (int cycle = 0; cycle < 3; cycle++) {
    beskid_gc_collect(T);
    int64_t sum = 0;
    int count = 0;
    for (node *n = slots[0]; n != NULL; n = n->left) {
      sum += n->value;
      count++;
    }
    ck_assert_int_eq(count, 100);
    ck_assert_int_eq(sum, expected);
  }
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 100);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_parent_keeps_child_bytes) {
  ROOTED_SCENARIO(1, GC_TEST_MANUAL_CLOBBER);
  node *parent = new_node(1);
  slots[0] = parent;
  node *child = new_node(2);
  set_right(parent, child);
  child = NULL;
  for (int i = 0; i < 2000; i++) new_node(i);
  beskid_gc_collect(T);
  ck_assert_int_eq(parent->right->value, 2);
  ck_assert_ptr_eq(parent->right->header.type, &node_type);
  node *saved = parent->right;
  slots[0] = NULL;
  collect_expect_allocated(parent, false);
  ck_assert(!allocated(saved));
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_roots_fanout_and_cycle) {
  ROOTED_SCENARIO(12, GC_TEST_MANUAL_CLOBBER);
  void *all[31];
  size_t n = 0;
  for (int i = 0; i < 12; i++) all[n++] = slots[i] = new_node(i);
  /* root 0 -> a fan-out node with 8 children (chained through left/right pairs) */
  node *fan = new_node(50);
  all[n++] = fan;
  set_left(slots[0], fan);
  for (int i = 0; i < 8; i++) {
    node *c = new_node(100 + i);
    all[n++] = c;
    if (i % 2 == 0) {
      set_left(fan, c);
    } else {
      set_right(fan, c);
      fan = c;
    }
  }
  /* root 1 -> a cycle of 10 nodes */
  node *first = NULL, *prev = NULL;
  for (int i = 0; i < 10; i++) {
    node *c = new_node(200 + i);
    all[n++] = c;
    if (prev != NULL)
      set_left(prev, c);
    else
      first = c;
    prev = c;
  }
  set_left(prev, first);
  set_left(slots[1], first);
  ck_assert_uint_eq(n, 31);
  for (int i = 0; i < 500; i++) new_node(-1);
  beskid_gc_collect(T);
  uint64_t mask = beskid_gc_reachable(T, all, 31);
  ck_assert_uint_eq(mask, (UINT64_C(1) << 31) - 1);
  for (size_t i = 0; i < n; i++) ck_assert(allocated(all[i]));
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 31);
  set_left(slots[1], NULL); /* the cycle is garbage now */
  ck_assert_uint_eq(beskid_gc_reachable(T, all, 31), (UINT64_C(1) << 21) - 1);
  beskid_gc_collect(T);
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 21);
  for (size_t i = 21; i < 31; i++) ck_assert(!allocated(all[i]));
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_freed_slots_reused_small_commit) {
  ROOTED_SCENARIO(1, 0);
  /* ≤ 64 KiB live: a list of 1000 leaves of 48-byte slots. */
  for (int i = 0; i < 1000; i++) {
    node *n = new_node(i);
    set_left(n, slots[0]);
    slots[0] = n;
  }
  beskid_gc_stats_t st;
  /* 8 MiB of garbage in the same size class. */
  for (int i = 0; i < (8 << 20) / 48; i++) new_node(-i);
  beskid_gc_collect(T);
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 2);
  ck_assert_uint_le(st.live_bytes, 64 * 1024);
  /* Freed slots are reused: the heap never holds more than a few 1 MiB chunks, not 8 MiB. */
  ck_assert_uint_le(st.committed_bytes, UINT64_C(3) << 20);
  ck_assert_uint_ge(st.total_freed_objects, (8u << 20) / 48 - 2000);
  rooted_stop(&frame);
}
END_TEST

static int64_t recurse(int depth) {
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  slots[0] = new_leaf(depth);
  node *n = new_node(depth);
  slots[1] = n;
  int64_t below = 0;
  if (depth > 0) {
    below = recurse(depth - 1);
  } else {
    beskid_gc_collect(T);
    beskid_gc_collect(T);
  }
  if (depth % 1000 == 0) beskid_gc_collect(T);
  int64_t mine = ((leaf *)slots[0])->value + ((node *)slots[1])->value;
  beskid_gc_pop_frame(T, &frame);
  return below + mine;
}

START_TEST(test_deep_recursion_rooted_locals) {
  start(GC_TEST_MANUAL_CLOBBER);
  int64_t sum = recurse(6000);
  ck_assert_int_eq(sum, 2 * (6000 * 6001 / 2));
  stop();
}
END_TEST

START_TEST(test_stress_collect_every_allocation) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.debug_flags = BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER;
  config.stress_interval = 1;
  config.reserve = UINT64_C(1) << 30;
  start_config(&config);
  void *slots[3] = {0};
  beskid_root_frame_t frame = {NULL, slots, 3};
  beskid_gc_push_frame(T, &frame);
  for (int i = 0; i < 200; i++) {
    slots[1] = new_node(i);
    set_left(slots[1], slots[0]);
    slots[0] = slots[1];
    slots[2] = new_leaf(i); /* garbage on the next allocation */
  }
  int64_t sum = 0;
  for (node *n = slots[0]; n != NULL; n = n->left) sum += n->value;
  ck_assert_int_eq(sum, 199 * 200 / 2);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 400);
  ck_assert_uint_eq(beskid_gc_set_stress_interval(0), 1);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_heap_cap_fails_allocation) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.heap_max = 2u << 20;
  start_config(&config);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  bool failed = false;
  for (int i = 0; i < (3 << 20) / (int)sizeof(node); i++) {
    node *n = beskid_gc_alloc(T, &node_type);
    if (n == NULL) {
      failed = true;
      break;
    }
    beskid_gc_store(T, (void **)&n->left, slots[0]);
    slots[0] = n;
  }
  ck_assert(failed);
  beskid_gc_failure_t f;
  beskid_gc_last_failure(&f);
  ck_assert_uint_eq(f.cap, 2u << 20);
  ck_assert_uint_gt(f.requested, 0);
  ck_assert_uint_gt(f.live, 1u << 20);
  ck_assert_uint_gt(f.committed, 0);
  /* Dropping the list makes room again. */
  slots[0] = NULL;
  beskid_gc_collect(T);
  ck_assert_ptr_nonnull(beskid_gc_alloc(T, &node_type));
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_handles_grow_release_stale) {
  start(GC_TEST_MANUAL_CLOBBER);
  enum { N = 700 };
  static beskid_handle_t h[N];
  static leaf *obj[N];
  for (int i = 0; i < N; i++) {
    obj[i] = new_leaf(i);
    h[i] = beskid_gc_handle_new(obj[i]);
    ck_assert_uint_ne(h[i], 0);
  }
  ck_assert_uint_eq(beskid_gc_handle_count(), N);
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_eq(beskid_gc_handle_get(h[i]), obj[i]);
    ck_assert_int_eq(obj[i]->value, i);
  }
  /* Release out of order: odd ones first, then even from the top. */
  for (int i = 1; i < N; i += 2) ck_assert(beskid_gc_handle_release(h[i]));
  for (int i = N - 2; i >= 0; i -= 2) ck_assert(beskid_gc_handle_release(h[i]));
  ck_assert_uint_eq(beskid_gc_handle_count(), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_null(beskid_gc_handle_get(h[i])); /* stale */
    ck_assert(!beskid_gc_handle_release(h[i]));
  }
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) ck_assert(!allocated(obj[i]));
  /* A reused slot gets a new generation: the old handle still does not resolve. */
  leaf *again = new_leaf(7);
  beskid_handle_t fresh = beskid_gc_handle_new(again);
  ck_assert_uint_ne(fresh, 0);
  for (int i = 0; i < N; i++) ck_assert_uint_ne(fresh, h[i]);
  ck_assert_ptr_eq(beskid_gc_handle_get(fresh), again);
  ck_assert_ptr_null(beskid_gc_handle_get(0));
  ck_assert_ptr_null(beskid_gc_handle_get(UINT64_C(0xffffffff00000001)));
  ck_assert_uint_eq(beskid_gc_handle_new(NULL), 0);
  int on_stack;
  ck_assert_uint_eq(beskid_gc_handle_new(&on_stack), 0);
  ck_assert(beskid_gc_handle_release(fresh));
  stop();
}
END_TEST

START_TEST(test_registered_roots_lifo_and_unordered) {
  start(GC_TEST_MANUAL_CLOBBER);
  enum { N = 300 };
  static void *cells[N];
  for (int i = 0; i < N; i++) {
    cells[i] = new_leaf(i);
    ck_assert_int_eq(beskid_gc_register_root(T, &cells[i]), BESKID_GC_OK);
  }
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) ck_assert_int_eq(((leaf *)cells[i])->value, i);
  ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[10]), BESKID_GC_OK); /* not LIFO */
  ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[10]), BESKID_GC_INVALID);
  void *dropped = cells[10];
  collect_expect_allocated(dropped, false);
  for (int i = N - 1; i >= 0; i--) {
    if (i == 10) continue;
    ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[i]), BESKID_GC_OK);
  }
  ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[0]), BESKID_GC_INVALID);
  ck_assert_int_eq(beskid_gc_register_root(T, NULL), BESKID_GC_INVALID);
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) ck_assert(!allocated(cells[i]));
  stop();
}
END_TEST

START_TEST(test_globals_are_roots) {
  start(GC_TEST_MANUAL_CLOBBER);
  static void *globals[3];
  ck_assert_int_eq(beskid_gc_register_globals(globals, 3), BESKID_GC_OK);
  globals[1] = new_leaf(11);
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)globals[1])->value, 11);
  void *old = globals[1];
  beskid_gc_store(T, &globals[1], NULL);
  collect_expect_allocated(old, false);
  ck_assert_int_eq(beskid_gc_register_globals(NULL, 2), BESKID_GC_INVALID);
  stop();
}
END_TEST

void gc_cases_scenarios(Suite *suite) {
  TCase *tc = tcase_create("scenarios");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_rooted_survives_garbage_unrooted_reclaimed);
  tcase_add_test(tc, test_list_rooted_at_head_keeps_checksum);
  tcase_add_test(tc, test_parent_keeps_child_bytes);
  tcase_add_test(tc, test_roots_fanout_and_cycle);
  tcase_add_test(tc, test_freed_slots_reused_small_commit);
  tcase_add_test(tc, test_deep_recursion_rooted_locals);
  tcase_add_test(tc, test_stress_collect_every_allocation);
  tcase_add_test(tc, test_heap_cap_fails_allocation);
  tcase_add_test(tc, test_handles_grow_release_stale);
  tcase_add_test(tc, test_registered_roots_lifo_and_unordered);
  tcase_add_test(tc, test_globals_are_roots);
  suite_add_tcase(suite, tc);
}
