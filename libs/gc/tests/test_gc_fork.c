/* test_gc_fork.c — fork(): the child keeps the forking thread and can allocate and collect (the gc
 * suite; fixture in gc_fixture.h). */
#include "gc_fixture.h"

/* ------------------------------------------------------------------------------------------ */
/* fork() */

/* Waits for a forked child at most 60 s: one still running then has deadlocked (killed, -1).
 * The test's thread waits in the native state, as a program blocked in waitpid() would, so the
 * parent's collector goes on meanwhile. */
static int wait_child(pid_t pid) {
  int ws = 0;
  beskid_gc_enter_native(T);
  for (int i = 0; i < 60000; i++) {
    if (waitpid(pid, &ws, WNOHANG) == pid) {
      beskid_gc_leave_native(T);
      return ws;
    }
    beskid_os_sleep_ns(1000000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &ws, 0);
  beskid_gc_leave_native(T);
  return -1;
}

/* Another thread at work while the main thread forks: it allocates a list in its own root frame
 * (dropping it every `helper_drop_every` links, 500 unless a test says otherwise), helps mark
 * while a cycle marks, and, when asked, forces whole collections itself. */
static atomic_int helper_stop;
static atomic_long helper_rounds;
static atomic_int helper_collects;
static atomic_long helper_drop_every = 500;
static void *fork_helper(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  for (int64_t i = 1; !atomic_load(&helper_stop); i++) {
    node *n = beskid_gc_alloc(t, &node_type);
    ck_assert_ptr_nonnull(n);
    n->value = i;
    beskid_gc_store(t, (void **)&n->left, slots[0]);
    slots[0] = i % atomic_load(&helper_drop_every) == 0 ? NULL : n;
    if (beskid_gc_phase() == BESKID_GC_PHASE_MARKING) beskid_gc_mark_some(t, 8);
    if (atomic_load(&helper_collects) && i % 2000 == 0) beskid_gc_collect(t);
    atomic_fetch_add(&helper_rounds, 1);
    beskid_gc_poll(t);
  }
  beskid_gc_pop_frame(t, &frame);
  beskid_gc_detach();
  return NULL;
}

/* Lets the helper do `n` more rounds; the main thread waits in native code. */
static void let_helper_run(long n) {
  long target = atomic_load(&helper_rounds) + n;
  beskid_gc_enter_native(T);
  while (atomic_load(&helper_rounds) < target) beskid_os_sleep_ns(50000);
  beskid_gc_leave_native(T);
}

/* Tells the helper to stop and joins it; the main thread waits in native code. */
static void stop_helper(beskid_os_thread_t *th) {
  atomic_store(&helper_stop, 1);
  beskid_gc_enter_native(T);
  beskid_os_thread_join(th, NULL);
  beskid_gc_leave_native(T);
}

#define FORK_LIST 1000

/* A list of FORK_LIST nodes, values FORK_LIST-1 .. 0 from the head, rooted in slots[0]. */
static void build_list(void **slots) {
  for (int64_t i = 0; i < FORK_LIST; i++) {
    node *n = new_node(i);
    set_left(n, slots[0]);
    slots[0] = n;
  }
}

static bool list_intact(const node *n) {
  for (int64_t i = FORK_LIST - 1; i >= 0; i--, n = n->left) {
    if (n == NULL || n->value != i || !allocated(n)) return false;
  }
  return n == NULL;
}

/* The child's part: the forking thread alone, the phase as the parent left it (unless
 * `expected_phase` is -1: the background collector moves it); it allocates,
 * collects and verifies, and the list the parent built is intact. The exit status says what
 * failed (42: nothing). */
static int child_checks(void **slots, int expected_phase) {
  if (expected_phase >= 0 && (int)beskid_gc_phase() != expected_phase) return 10;
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  if (st.threads != 1) return 11;
  for (int i = 0; i < 20000; i++) {
    node *n = beskid_gc_alloc(T, &node_type);
    if (n == NULL) return 12;
    n->value = i;
    if (i % 4 == 0) {
      beskid_gc_store(T, (void **)&n->left, slots[1]);
      slots[1] = n;
    }
  }
  if ((gc.config.debug_flags & BESKID_GC_DEBUG_MANUAL) == 0) {
    /* The background collector runs again: garbage alone brings a cycle. */
    uint64_t deadline = beskid_os_monotonic_ns() + UINT64_C(20000000000);
    beskid_gc_stats_t now = st;
    while (now.cycles == st.cycles && beskid_os_monotonic_ns() < deadline) {
      for (int i = 0; i < 1000; i++) {
        if (beskid_gc_alloc(T, &node_type) == NULL) return 12;
      }
      beskid_gc_read_stats(&now);
    }
    if (now.cycles == st.cycles) return 18;
  }
  beskid_gc_collect(T);
  if (beskid_gc_phase() != BESKID_GC_PHASE_IDLE && (gc.config.debug_flags & BESKID_GC_DEBUG_MANUAL))
    return 13;
  if (beskid_gc_verify(T) != 0) return 14;
  if (!list_intact(slots[0])) return 15;
  int64_t count = 0;
  for (node *n = slots[1]; n != NULL; n = n->left) count++;
  if (count != 5000) return 16;
  beskid_gc_collect(T);
  if (beskid_gc_verify(T) != 0) return 17;
  return 42;
}

/* Forks with the main thread attached and the helper at work; the child runs `child` and exits
 * with its status, which must be 42. */
static void fork_and_run(int (*child)(void **slots, int arg), void **slots, int arg, int round) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) _exit(child(slots, arg));
  int ws = wait_child(pid);
  ck_assert_msg(ws != -1, "round %d: the child deadlocked", round);
  ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 42, "round %d: child status %#x (exit %d)",
                round, ws, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

static void fork_and_check(void **slots, int expected_phase, int round) {
  fork_and_run(child_checks, slots, expected_phase, round);
}

/* Forks 20 times with a cycle stopped at `step` (MARK_STARTED: marking; MARK_DONE: sweeping) while
 * the helper marks or sweeps; the parent then completes the cycle and goes on. */
static void fork_in_phase(beskid_gc_step_t step, beskid_gc_phase_t phase) {
  ROOTED_SCENARIO(2, GC_TEST_MANUAL_CLOBBER);
  build_list(slots);
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, fork_helper, NULL, "helper"), BESKID_OK);
  let_helper_run(1000);
  for (int round = 0; round < 20; round++) {
    beskid_gc_step(T, step);
    ck_assert_int_eq(beskid_gc_phase(), phase);
    let_helper_run(300); /* marking, or sweeping as it allocates */
    fork_and_check(slots, (int)phase, round);
    ck_assert_int_eq(beskid_gc_phase(), phase); /* the parent is where it was */
    beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
    ck_assert(list_intact(slots[0]));
    ck_assert_uint_eq(beskid_gc_verify(T), 0);
  }
  stop_helper(&th);
  beskid_gc_collect(T);
  ck_assert(list_intact(slots[0]));
  rooted_stop(&frame);
}

START_TEST(test_fork_during_marking) {
  fork_in_phase(BESKID_GC_STEP_MARK_STARTED, BESKID_GC_PHASE_MARKING);
}
END_TEST

START_TEST(test_fork_during_sweeping) {
  fork_in_phase(BESKID_GC_STEP_MARK_DONE, BESKID_GC_PHASE_SWEEPING);
}
END_TEST

/* Forks 20 times while `helper` runs on another thread, `rounds` of its rounds before each fork;
 * each child checks the heap (fork_and_check) and the parent's list stays intact. */
static void fork_beside(void **slots, beskid_os_thread_fn helper, long rounds) {
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, helper, NULL, "helper"), BESKID_OK);
  for (int round = 0; round < 20; round++) {
    let_helper_run(rounds);
    fork_and_check(slots, -1, round);
    ck_assert(list_intact(slots[0]));
  }
  stop_helper(&th);
}

/* The reported deadlock: fork while the background collector and another thread run cycles.
 * The child's background collector runs again (its allocations trigger cycles). */
START_TEST(test_fork_while_collecting) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.gogc = 25;
  config.debug_flags = BESKID_GC_DEBUG_CLOBBER;
  config.reserve = UINT64_C(4) << 30;
  start_config(&config);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  build_list(slots);
  atomic_store(&helper_collects, 1);
  fork_beside(slots, fork_helper, 1500);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 10);
  rooted_stop(&frame);
}
END_TEST

/* A thread that allocates 2 MiB byte arrays, each a dedicated chunk that mimalloc maps and the
 * thread then clears, both in the native state (heap.c, ttsp.c), resting a millisecond between
 * two: forks land in those windows too. */
static const beskid_elem_type_t byte_elem = {1, 1, NULL, 0};
static void *large_helper(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  while (!atomic_load(&helper_stop)) {
    ck_assert_ptr_nonnull(beskid_gc_alloc_array(t, &byte_elem, UINT64_C(2) << 20));
    atomic_fetch_add(&helper_rounds, 1);
    beskid_gc_enter_native(t);
    beskid_os_sleep_ns(1000000);
    beskid_gc_leave_native(t);
  }
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_fork_while_allocating_large) {
  void *slots[2] = {0};
  beskid_root_frame_t frame;
  rooted_start(0, &frame, slots, 2);
  build_list(slots);
  fork_beside(slots, large_helper, 3);
  beskid_gc_collect(T);
  ck_assert(list_intact(slots[0]));
  rooted_stop(&frame);
}
END_TEST

/* The child's grower (its parent's did not come with it) makes chunks ready as the child's heap
 * grows: the child keeps growing its heap, a MiB at a time (up to 512 MiB or 10 s), until a
 * chunk is made ready (exit 42). */
static int child_grows(void **slots, int unused) {
  (void)unused;
  beskid_gc_stats_t st, now;
  beskid_gc_read_stats(&st);
  now = st;
  uint64_t deadline = beskid_os_monotonic_ns() + UINT64_C(10000000000);
  for (int mib = 0; mib < 512 && now.ready_chunks_made == st.ready_chunks_made &&
                    beskid_os_monotonic_ns() < deadline;
       mib++) {
    for (int64_t i = 0; i < 1048576 / (int64_t)sizeof(node); i++) {
      node *n = beskid_gc_alloc(T, &node_type);
      if (n == NULL) return 12;
      beskid_gc_store(T, (void **)&n->left, slots[1]);
      slots[1] = n;
    }
    beskid_gc_enter_native(T);
    beskid_os_sleep_ns(1000000);
    beskid_gc_leave_native(T);
    beskid_gc_read_stats(&now);
  }
  if (now.ready_chunks_made == st.ready_chunks_made) return 19;
  if (!list_intact(slots[0])) return 15;
  return beskid_gc_verify(T) == 0 ? 42 : 14;
}

START_TEST(test_fork_while_growing) {
  void *slots[2] = {0};
  beskid_root_frame_t frame;
  rooted_start(0, &frame, slots, 2);
  build_list(slots);
  /* The helper's heap keeps growing (its list dropped every 16 MiB), so that the grower is at
   * work when the main thread forks. */
  atomic_store(&helper_drop_every, 16 * 1048576 / (long)sizeof(node));
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, fork_helper, NULL, "helper"), BESKID_OK);
  for (int round = 0; round < 10; round++) {
    let_helper_run(128 * 1024);
    fork_and_run(child_grows, slots, 0, round);
  }
  stop_helper(&th);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_gt(st.ready_chunks_made, 0);
  ck_assert(list_intact(slots[0]));
  rooted_stop(&frame);
}
END_TEST

/* A child that allocates, collects and checks its heap (exit 42). */
static int child_collects(void **slots, int unused) {
  (void)unused;
  build_list(slots);
  beskid_gc_collect(T);
  if (!list_intact(slots[0])) return 15;
  return beskid_gc_verify(T) == 0 ? 42 : 14;
}

/* A program that forks as soon as the runtime is up (a daemon, a pre-forking server): the
 * collector's own threads have just been made, and a thread's start-up runs the C library's and
 * a sanitizer's code, which takes locks no fork handler takes (AddressSanitizer's allocator).
 * Every child still starts its own threads and collects; none hangs. */
START_TEST(test_fork_right_after_init) {
  for (int round = 0; round < 20; round++) {
    void *slots[2] = {0};
    beskid_root_frame_t frame;
    rooted_start(0, &frame, slots, 2);
    fork_and_run(child_collects, slots, 0, round);
    rooted_stop(&frame);
  }
}
END_TEST

void gc_cases_fork(Suite *suite) {
  TCase *tc = tcase_create("fork");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_fork_during_marking);
  tcase_add_test(tc, test_fork_during_sweeping);
  tcase_add_test(tc, test_fork_while_collecting);
  tcase_add_test(tc, test_fork_while_allocating_large);
  tcase_add_test(tc, test_fork_while_growing);
  tcase_add_test(tc, test_fork_right_after_init);
  suite_add_tcase(suite, tc);
}
