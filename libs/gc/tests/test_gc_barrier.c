/* test_gc_barrier.c — the classic lost-object races, forced with the step hooks in the exact phase
 * each needs (the gc suite; fixture in gc_fixture.h). */
#include <stdlib.h>

#include "gc_fixture.h"

/* ------------------------------------------------------------------------------------------ */
/* The classic lost-object races, forced with the step API */

START_TEST(test_race_move_heap_pointer_to_root_then_overwrite) {
  ROOTED_SCENARIO(2, BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  node *a = new_node(1);
  slots[0] = a;
  leaf *b = new_leaf(77);
  set_left(a, (node *)b);
  b = NULL;
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED); /* a is grey, b white */
  ck_assert_int_eq(beskid_gc_phase(), BESKID_GC_PHASE_MARKING);
  ck_assert(beskid_gc_barrier_on);
  slots[1] = a->left; /* the only pointer moves into a root (no barrier on roots) */
  set_left(a, NULL);  /* and is overwritten in the heap: the deletion half shades b */
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(slots[1]));
  ck_assert_int_eq(((leaf *)slots[1])->value, 77);
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)slots[1])->value, 77);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_race_link_into_black_object) {
  ROOTED_SCENARIO(2, GC_TEST_RACE);
  node *holder = new_node(1);
  slots[0] = holder;
  node *black = new_node(2);
  set_left(holder, black);
  leaf *c = new_leaf(99);
  set_right(holder, (node *)c);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  while (beskid_gc_mark_some(T, 1)) {
  }                          /* holder, black and c are all black now */
  slots[1] = holder->right;  /* c into a root ... */
  set_right(holder, NULL);   /* ... out of the heap ... */
  node *fresh = new_node(3); /* allocated black */
  set_left(black, fresh);
  set_right(fresh, (node *)c); /* ... and into a black object */
  slots[1] = NULL;
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(c));
  ck_assert_int_eq(c->value, 99);
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)holder->left->left->right)->value, 99);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_race_object_barrier_rescans_roots) {
  ROOTED_SCENARIO(2, GC_TEST_RACE);
  node *a = new_node(1);
  slots[0] = a;
  leaf *b = new_leaf(5);
  a->left = (node *)b;
  b = NULL;
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  slots[1] = a->left;
  /* Upstream-style barrier: told only the parent and the new child, after the store. */
  a->left = NULL;
  beskid_gc_write_barrier_object(T, a, NULL);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(slots[1]));
  ck_assert_int_eq(((leaf *)slots[1])->value, 5);
  rooted_stop(&frame);
}
END_TEST

/* The snapshot barrier's gap the object barrier opens: b moves from a (grey) into an object
 * allocated black during marking, through the value barrier, which shades no stored value in a
 * snapshot cycle; a's pointer is then deleted through the object barrier, which cannot see it.
 * Nothing would mark b. The cycle in which that first happens frees nothing; every later cycle
 * shades stored values. The black object goes into `*root`. */
static leaf *hide_behind_object_barrier(node *a, void **root, int64_t value) {
  leaf *b = new_leaf(value);
  set_left(a, (node *)b);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED); /* a grey, b white */
  node *black = new_node(0);
  *root = black;
  set_left(black, (node *)b); /* b into a black object */
  a->left = NULL;             /* and out of a, behind the collector's back */
  beskid_gc_write_barrier_object(T, a, NULL);
  return b;
}

START_TEST(test_race_object_barrier_after_snapshot_store) {
  ROOTED_SCENARIO(2, BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  node *a = new_node(1);
  slots[0] = a;
  leaf *garbage = new_leaf(-1);
  /* First use, in a cycle that started without the insertion half: nothing is freed. */
  leaf *b = hide_behind_object_barrier(a, &slots[1], 22);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(b));
  ck_assert_int_eq(b->value, 22);
  ck_assert(allocated(garbage)); /* the cycle kept everything */
  beskid_gc_collect(T);
  ck_assert(!allocated(garbage)); /* the next one frees again */
  ck_assert_int_eq(((leaf *)((node *)slots[1])->left)->value, 22);
  /* Every later cycle shades stored values: the same race loses nothing and garbage goes. */
  garbage = new_leaf(-2);
  leaf *c = hide_behind_object_barrier(a, &slots[1], 33);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(c));
  ck_assert_int_eq(c->value, 33);
  ck_assert(!allocated(garbage));
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)((node *)slots[1])->left)->value, 33);
  rooted_stop(&frame);
}
END_TEST

/* A thread that used the object barrier deletes the heap's only pointer to an object another
 * thread has just loaded into its root frame: every thread's roots are rescanned, not only the
 * deleting thread's. */
typedef struct root_holder {
  node *a;
  atomic_int step;
  void *slots[1];
} root_holder;

static void *hold_in_root(void *arg) {
  root_holder *h = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  beskid_root_frame_t frame = {NULL, h->slots, 1};
  beskid_gc_push_frame(t, &frame);
  beskid_gc_enter_native(t);
  atomic_store(&h->step, 1);
  while (atomic_load(&h->step) != 2) beskid_os_sleep_ns(100000);
  beskid_gc_leave_native(t);
  h->slots[0] = h->a->left; /* a root frame store: no barrier */
  beskid_gc_enter_native(t);
  atomic_store(&h->step, 3);
  while (atomic_load(&h->step) != 4) beskid_os_sleep_ns(100000);
  beskid_gc_leave_native(t);
  ck_assert_int_eq(((leaf *)h->slots[0])->value, 44);
  beskid_gc_pop_frame(t, &frame);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_race_object_barrier_rescans_every_thread) {
  ROOTED_SCENARIO(1, GC_TEST_RACE);
  node *a = new_node(1);
  slots[0] = a;
  beskid_gc_write_barrier_object(T, a, NULL); /* used once: later cycles rescan roots */
  root_holder h = {.a = a};
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, hold_in_root, &h, "holder"), BESKID_OK);
  while (atomic_load(&h.step) != 1) beskid_os_sleep_ns(100000);
  leaf *b = new_leaf(44);
  set_left(a, (node *)b);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED); /* b white, reachable only through a */
  atomic_store(&h.step, 2);
  while (atomic_load(&h.step) != 3) beskid_os_sleep_ns(100000);
  a->left = NULL; /* the other thread's root now holds the only pointer */
  beskid_gc_write_barrier_object(T, a, NULL);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(b));
  ck_assert_int_eq(b->value, 44);
  atomic_store(&h.step, 4);
  beskid_os_thread_join(&th, NULL);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_race_allocate_during_mark_linked_from_new) {
  ROOTED_SCENARIO(1, GC_TEST_RACE);
  for (int i = 0; i < 100; i++) new_node(-1);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  node *n1 = new_node(10);
  node *n2 = new_node(20);
  set_left(n1, n2);
  slots[0] = n1;
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(n1) && allocated(n2));
  beskid_gc_collect(T);
  ck_assert(allocated(n1) && allocated(n2));
  ck_assert_int_eq(((node *)slots[0])->left->value, 20);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_race_allocate_during_sweep) {
  ROOTED_SCENARIO(2, BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  for (int i = 0; i < 3000; i++) {
    node *n = new_node(i);
    if (i % 3 == 0) {
      set_left(n, slots[0]);
      slots[0] = n;
    }
  }
  beskid_gc_step(T, BESKID_GC_STEP_MARK_DONE);
  ck_assert_int_eq(beskid_gc_phase(), BESKID_GC_PHASE_SWEEPING);
  /* Nothing is swept yet; allocation must sweep the spans it takes, and its objects must
   * survive the rest of the sweep. */
  for (int i = 0; i < 2000; i++) {
    node *n = new_node(100000 + i);
    set_left(n, slots[1]);
    slots[1] = n;
  }
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  int count = 0;
  for (node *n = slots[1]; n != NULL; n = n->left, count++) {
    ck_assert_int_eq(n->value, 100000 + 1999 - count);
  }
  ck_assert_int_eq(count, 2000);
  beskid_gc_collect(T);
  count = 0;
  for (node *n = slots[0]; n != NULL; n = n->left) count++;
  ck_assert_int_eq(count, 1000);
  rooted_stop(&frame);
}
END_TEST

static int cmp_addr(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* Allocation in the sweep phase sweeps spans a batch at a time (alloc.c, sweep.c): it must
 * allocate in the slots freed in the spans it sweeps, not in new memory, and the spans of a batch
 * it does not use must go back to the lists (the verifier and the next cycle find them). */
START_TEST(test_allocate_during_sweep_reuses_freed_slots) {
  ROOTED_SCENARIO(2, BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  enum { OLD = 6000, NEW = 2000 };
  static uintptr_t dead[OLD / 2];
  for (int i = 0; i < OLD; i++) {
    node *n = new_node(i);
    if (i % 2 == 0) {
      set_left(n, slots[0]);
      slots[0] = n;
    } else {
      dead[i / 2] = (uintptr_t)n;
    }
  }
  qsort(dead, OLD / 2, sizeof dead[0], cmp_addr);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_DONE);
  ck_assert_int_eq(beskid_gc_phase(), BESKID_GC_PHASE_SWEEPING);
  int reused = 0;
  for (int i = 0; i < NEW; i++) {
    node *n = new_node(100000 + i);
    uintptr_t a = (uintptr_t)n;
    if (bsearch(&a, dead, OLD / 2, sizeof dead[0], cmp_addr) != NULL) reused++;
    set_left(n, slots[1]);
    slots[1] = n;
  }
  /* All but the slots of the spans cached before the cycle come from freed ones. */
  ck_assert_int_ge(reused, NEW * 9 / 10);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  beskid_gc_collect(T);
  int count = 0;
  for (node *n = slots[1]; n != NULL; n = n->left, count++) {
    ck_assert_int_eq(n->value, 100000 + NEW - 1 - count);
  }
  ck_assert_int_eq(count, NEW);
  count = 0;
  for (node *n = slots[0]; n != NULL; n = n->left) count++;
  ck_assert_int_eq(count, OLD / 2);
  rooted_stop(&frame);
}
END_TEST

/* A mutator's assist gives way to a requested pause within one stretch of GC_DRAIN_CHECK
 * objects, leaving the rest of its work in the pool; a collector-side marker does not. */
static uint64_t drain_with_stop_requested(bool yields, bool *stopped_early) {
  enum { LIST = 20000 };
  ROOTED_SCENARIO(1, GC_TEST_RACE);
  slots[0] = NULL;
  for (int i = 0; i < LIST; i++) {
    node *n = new_node(i);
    set_right(n, slots[0]);
    slots[0] = n;
  }
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED); /* the head is grey, the rest white */
  gc_marker m;
  beskid_gc__marker_init(&m);
  m.yields_to_stops = yields;
  atomic_store(&gc.stop_requested, 1); /* as a stopper would, without stopping anyone */
  *stopped_early = beskid_gc__drain(&m, UINT64_MAX);
  atomic_store(&gc.stop_requested, 0);
  beskid_gc__marker_flush(&m);
  ck_assert(*stopped_early == beskid_gc__work_available()); /* what is left is in the pool */
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT); /* marking finishes; checkmark verifies it */
  int64_t count = 0;
  for (node *n = slots[0]; n != NULL; n = n->right, count++) {
    ck_assert_int_eq(n->value, LIST - 1 - count);
  }
  ck_assert_int_eq(count, LIST);
  rooted_stop(&frame);
  return m.scanned_bytes;
}

START_TEST(test_assist_yields_to_requested_stop) {
  bool early;
  uint64_t scanned = drain_with_stop_requested(true, &early);
  ck_assert(early);
  ck_assert_uint_le(scanned, 1024 * sizeof(node));
  ck_assert_uint_ge(scanned, 1000 * sizeof(node));
}
END_TEST

/* Past its goal, an assist that finds no grey work to take (the workers hold what there is)
 * waits for the workers' credit, in the native state so that a stop need not wait for it, and no
 * longer than GC_ASSIST_WAIT_MAX_NS; credit that arrives meanwhile ends the wait. Credit at hand
 * pays first, and below the goal there is no wait at all. At the soft memory limit's own goal
 * the wait lasts until the debt is paid, within the thread's metered budget, and an assist pays
 * its whole debt, not a slice (pacer_model.c, "At the memory limit"). */
typedef struct assist_setup {
  uint64_t goal;
  uint64_t memory_limit;   /* 0: none */
  uint64_t limit_spent_ns; /* the thread's bucket, as of the assist */
  uint64_t credit_before;
  uint64_t credit_during;   /* given once the waiter is seen waiting, if not 0 */
  uint64_t credit_delay_ns; /* ... and this long after */
} assist_setup;

typedef struct credit_giver {
  gc_thread *waiter;
  const assist_setup *setup;
  _Atomic bool started; /* the helper runs: thread start-up takes milliseconds here at times */
  _Atomic bool assist_returned;
  bool saw_native;
} credit_giver;

static void *give_credit(void *arg) {
  credit_giver *g = arg;
  atomic_store(&g->started, true);
  while (atomic_load(&g->waiter->state) != GC_THREAD_NATIVE) {
    if (atomic_load(&g->assist_returned)) return NULL;
    beskid_os_cpu_relax();
  }
  g->saw_native = true;
  if (g->setup->credit_delay_ns != 0) beskid_os_sleep_ns(g->setup->credit_delay_ns);
  if (g->setup->credit_during != 0) {
    atomic_fetch_add(&gc.pacer.assist_credit, g->setup->credit_during);
  }
  return NULL;
}

typedef struct assist_outcome {
  uint64_t waited_ns;     /* growth of beskid_gc_stats_t::assist_wait_ns */
  uint64_t credit_left;   /* gc.pacer.assist_credit afterwards */
  bool waiter_was_native; /* the helper thread saw the assisting thread in the native state */
  bool work_left;         /* grey work was left in the pool after the assist */
} assist_outcome;

/* Assists for 1 MiB allocated during a mark of a list of `list` nodes. With `marked`, the test
 * marks the whole list first: no grey work is left, yet the mark is not over. */
static assist_outcome assist_in_mark(const assist_setup *setup, int list, bool marked) {
  ROOTED_SCENARIO(1, GC_TEST_RACE);
  slots[0] = NULL;
  for (int i = 0; i < list; i++) {
    node *n = new_node(i);
    set_right(n, slots[0]);
    slots[0] = n;
  }
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  if (marked) {
    gc_marker m;
    beskid_gc__marker_init(&m);
    beskid_gc__drain(&m, UINT64_MAX);
    beskid_gc__marker_flush(&m);
    ck_assert(!beskid_gc__work_available());
  }
  gc_thread *t = gc_thread_of(T);
  uint64_t saved_goal = atomic_load(&gc.pacer.goal);
  atomic_store(&gc.pacer.goal, setup->goal);
  atomic_store(&gc.pacer.memory_limit, setup->memory_limit);
  atomic_store(&gc.pacer.assist_credit, setup->credit_before);
  t->limit_spent_ns = setup->limit_spent_ns;
  t->limit_spent_at = beskid_os_monotonic_ns();
  credit_giver g = {t, setup, false, false, false};
  beskid_os_thread_t helper;
  ck_assert_int_eq(beskid_os_thread_create(&helper, give_credit, &g, "credit"), BESKID_OK);
  while (!atomic_load(&g.started)) beskid_os_thread_yield();
  beskid_gc_stats_t before, after;
  beskid_gc_read_stats(&before);
  gc.config.debug_flags &= ~(uint32_t)BESKID_GC_DEBUG_MANUAL; /* assists are off in manual mode */
  beskid_gc__assist(t, UINT64_C(1) << 20);
  gc.config.debug_flags |= BESKID_GC_DEBUG_MANUAL;
  atomic_store(&g.assist_returned, true);
  ck_assert_int_eq(beskid_os_thread_join(&helper, NULL), BESKID_OK);
  beskid_gc_read_stats(&after);
  assist_outcome out = {after.assist_wait_ns - before.assist_wait_ns,
                        atomic_load(&gc.pacer.assist_credit), g.saw_native,
                        beskid_gc__work_available()};
  atomic_store(&gc.pacer.goal, saved_goal);
  atomic_store(&gc.pacer.memory_limit, 0);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT); /* checkmark: the mark missed nothing */
  rooted_stop(&frame);
  return out;
}

static assist_outcome assist_with_no_work(const assist_setup *setup) {
  return assist_in_mark(setup, 2000, true);
}

/* Tries of the cases below, each a wait of at most GC_ASSIST_WAIT_MAX_NS: five were all lost
 * once under tsan on a two-CPU machine busy with other builds, the helper never running while
 * the assist waited. */
#define GC_TEST_ASSIST_TRIES 25

START_TEST(test_assist_past_goal_waits_for_credit) {
  /* The helper that watches for the native state may itself wait for a CPU the whole time on a
   * busy machine: a few tries (GC_TEST_ASSIST_TRIES). */
  assist_outcome out = {0};
  for (int attempt = 0; attempt < GC_TEST_ASSIST_TRIES && !out.waiter_was_native; attempt++) {
    out = assist_with_no_work(&(assist_setup){.goal = 1});
  }
  ck_assert(out.waiter_was_native);
  ck_assert_uint_ge(out.waited_ns, GC_ASSIST_WAIT_MAX_NS);
  ck_assert_uint_eq(out.credit_left, 0);
}
END_TEST

START_TEST(test_assist_wait_ends_with_credit) {
  /* Credit that covers any debt, given once the assist waits: it takes what it owes and goes.
   * A helper or a waiter that the machine kept from running until the wait was over proves
   * nothing, so a few tries are allowed. */
  const assist_setup setup = {.goal = 1, .credit_during = UINT64_C(1) << 50};
  assist_outcome out = {0};
  for (int attempt = 0; attempt < GC_TEST_ASSIST_TRIES; attempt++) {
    out = assist_with_no_work(&setup);
    if (out.waiter_was_native && out.waited_ns < GC_ASSIST_WAIT_MAX_NS) break;
  }
  ck_assert(out.waiter_was_native);
  ck_assert_uint_lt(out.waited_ns, GC_ASSIST_WAIT_MAX_NS);
  ck_assert_uint_lt(out.credit_left, setup.credit_during); /* it took its debt out of the credit */
}
END_TEST

START_TEST(test_assist_waits_only_past_goal_and_without_credit) {
  assist_outcome below = assist_with_no_work(&(assist_setup){.goal = UINT64_C(1) << 50});
  ck_assert(!below.waiter_was_native);
  ck_assert_uint_eq(below.waited_ns, 0);
  const assist_setup paid_setup = {.goal = 1, .credit_before = UINT64_C(1) << 50};
  assist_outcome paid = assist_with_no_work(&paid_setup);
  ck_assert(!paid.waiter_was_native);
  ck_assert_uint_eq(paid.waited_ns, 0);
  ck_assert_uint_lt(paid.credit_left, paid_setup.credit_before);
}
END_TEST

/* At the memory limit (a limit of 1 byte: every heap is past its goal), the wait outlasts
 * GC_ASSIST_WAIT_MAX_NS many times over and ends when the workers' credit pays the debt. */
START_TEST(test_assist_at_memory_limit_waits_until_paid) {
  const uint64_t delay = 20 * GC_ASSIST_WAIT_MAX_NS;
  const assist_setup setup = {
      .goal = 1, .memory_limit = 1, .credit_during = UINT64_C(1) << 50, .credit_delay_ns = delay};
  assist_outcome out = assist_with_no_work(&setup);
  ck_assert(out.waiter_was_native);
  ck_assert_uint_ge(out.waited_ns, delay);
  ck_assert_uint_lt(out.credit_left, setup.credit_during);
  /* The goal does not matter there: the limit's own goal does. */
  assist_outcome above_goal = assist_with_no_work(&(assist_setup){
      .goal = UINT64_C(1) << 50, .memory_limit = 1, .credit_during = UINT64_C(1) << 50});
  ck_assert(above_goal.waiter_was_native);
  ck_assert_uint_lt(above_goal.credit_left, UINT64_C(1) << 50);
}
END_TEST

/* A thread that spent its budget at the limit waits as outside it: GC_ASSIST_WAIT_MAX_NS. */
START_TEST(test_assist_at_memory_limit_spent_budget_waits_as_outside) {
  assist_outcome out = {0};
  for (int attempt = 0; attempt < GC_TEST_ASSIST_TRIES && !out.waiter_was_native; attempt++) {
    out = assist_with_no_work(
        &(assist_setup){.goal = 1, .memory_limit = 1, .limit_spent_ns = UINT64_C(1) << 50});
  }
  ck_assert(out.waiter_was_native);
  ck_assert_uint_ge(out.waited_ns, GC_ASSIST_WAIT_MAX_NS);
  /* An unspent bucket would have let it wait 2 s for the credit that never comes; the bound
   * leaves room for a thread kept from its CPU on a busy machine. */
  ck_assert_uint_lt(out.waited_ns, UINT64_C(500000000));
}
END_TEST

/* Outside the limit an assist marks a slice and forgives the rest of its debt; at the limit it
 * marks all it owes: here the whole list (1 MiB allocated owes far more than the list's 640 KB
 * with the heap past a goal of 1 byte). */
START_TEST(test_assist_at_memory_limit_pays_whole_debt) {
  enum { LIST = 20000 };
  assist_outcome slice = assist_in_mark(&(assist_setup){.goal = 1}, LIST, false);
  ck_assert(slice.work_left);
  assist_outcome whole = assist_in_mark(&(assist_setup){.goal = 1, .memory_limit = 1}, LIST, false);
  ck_assert(!whole.work_left);
}
END_TEST

START_TEST(test_collector_marker_ignores_stop_request) {
  bool early;
  uint64_t scanned = drain_with_stop_requested(false, &early);
  ck_assert(!early);
  ck_assert_uint_eq(scanned, 20000 * sizeof(node));
}
END_TEST

void gc_cases_barrier(Suite *suite) {
  TCase *tc = tcase_create("barrier_races");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_race_move_heap_pointer_to_root_then_overwrite);
  tcase_add_test(tc, test_assist_yields_to_requested_stop);
  tcase_add_test(tc, test_collector_marker_ignores_stop_request);
  tcase_add_test(tc, test_assist_past_goal_waits_for_credit);
  tcase_add_test(tc, test_assist_wait_ends_with_credit);
  tcase_add_test(tc, test_assist_waits_only_past_goal_and_without_credit);
  tcase_add_test(tc, test_assist_at_memory_limit_waits_until_paid);
  tcase_add_test(tc, test_assist_at_memory_limit_spent_budget_waits_as_outside);
  tcase_add_test(tc, test_assist_at_memory_limit_pays_whole_debt);
  tcase_add_test(tc, test_race_link_into_black_object);
  tcase_add_test(tc, test_race_object_barrier_rescans_roots);
  tcase_add_test(tc, test_race_object_barrier_after_snapshot_store);
  tcase_add_test(tc, test_race_object_barrier_rescans_every_thread);
  tcase_add_test(tc, test_race_allocate_during_mark_linked_from_new);
  tcase_add_test(tc, test_race_allocate_during_sweep);
  tcase_add_test(tc, test_allocate_during_sweep_reuses_freed_slots);
  suite_add_tcase(suite, tc);
}
