/* test_gc_pacing.c — pacing, statistics and the trace line (the gc suite; fixture in gc_fixture.h).
 */
#define _GNU_SOURCE /* CPU affinity */
#include <sched.h>
#include <sys/resource.h>

#include "gc_fixture.h"

/* ------------------------------------------------------------------------------------------ */
/* Pacing, statistics, trace */

static char trace_lines[8][512];
static atomic_int trace_count;

static void capture_log(const char *line, void *context) {
  (void)context;
  int i = atomic_fetch_add(&trace_count, 1);
  if (i < 8) snprintf(trace_lines[i], sizeof trace_lines[i], "%s", line);
}

START_TEST(test_trace_line_and_stats) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.trace = true;
  config.log = capture_log;
  config.debug_flags = BESKID_GC_DEBUG_MANUAL;
  start_config(&config);
  for (int i = 0; i < 1000; i++) new_node(i);
  beskid_gc_collect(T);
  ck_assert_int_ge(atomic_load(&trace_count), 1);
  ck_assert_msg(strncmp(trace_lines[0], "gc 1 @", 6) == 0, "trace: %s", trace_lines[0]);
  ck_assert_ptr_nonnull(strstr(trace_lines[0], "MB goal"));
  ck_assert_ptr_nonnull(strstr(trace_lines[0], "(forced)"));
  ck_assert_ptr_nonnull(strstr(trace_lines[0], "ms ttsp ("));
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.cycles, 1);
  ck_assert_uint_eq(st.forced_cycles, 1);
  ck_assert_uint_eq(st.pause_count, 2);
  ck_assert_uint_ge(st.pause_max_ns, st.pause_p50_ns);
  ck_assert_uint_ge(st.total_alloc_objects, 1000);
  ck_assert_uint_eq(st.threads, 1);
  ck_assert_int_eq(st.gogc, 100);
  uint64_t hist = 0;
  for (int i = 0; i < BESKID_GC_PAUSE_BUCKETS; i++) hist += st.pause_histogram[i];
  ck_assert_uint_eq(hist, st.pause_count);
  ck_assert(beskid_gc_set_trace(false)); /* returns the previous setting */
  stop();
}
END_TEST

START_TEST(test_gogc_goal_and_setters) {
  ROOTED_SCENARIO(1, BESKID_GC_DEBUG_MANUAL);
  slots[0] = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 8u << 20);
  beskid_gc_collect(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.heap_goal, st.live_bytes * 2 - 16);
  ck_assert_uint_le(st.heap_goal, st.live_bytes * 2 + 16);
  ck_assert_uint_gt(st.heap_trigger, st.live_bytes);
  ck_assert_uint_lt(st.heap_trigger, st.heap_goal);
  ck_assert_int_eq(beskid_gc_set_gogc(50), 100);
  beskid_gc_read_stats(&st);
  ck_assert_uint_le(st.heap_goal, st.live_bytes + st.live_bytes / 2 + 16);
  ck_assert_int_eq(beskid_gc_set_gogc(BESKID_GC_GOGC_OFF), 50);
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.heap_goal, UINT64_MAX);
  ck_assert_uint_eq(beskid_gc_set_memory_limit(32u << 20), 0);
  beskid_gc_read_stats(&st);
  ck_assert_uint_le(st.heap_goal, 32u << 20);
  ck_assert_uint_eq(beskid_gc_set_heap_max(0), 0);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_background_collector_paces_heap) {
  ROOTED_SCENARIO(1, 0);
  for (int i = 0; i < 20000; i++) { /* ~1 MiB live */
    node *n = new_node(i);
    set_left(n, slots[0]);
    slots[0] = n;
  }
  for (int i = 0; i < 2000000; i++) new_node(-i); /* ~96 MiB of garbage */
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 5);
  ck_assert_uint_lt(st.committed_bytes, UINT64_C(32) << 20);
  int64_t count = 0;
  for (node *n = slots[0]; n != NULL; n = n->left) count++;
  ck_assert_int_eq(count, 20000);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_debug_modes_stw_checkmark_verify) {
  void *slots[1];
  beskid_root_frame_t frame;
  rooted_start(BESKID_GC_DEBUG_STW | BESKID_GC_DEBUG_CHECKMARK | BESKID_GC_DEBUG_VERIFY |
                   BESKID_GC_DEBUG_CLOBBER,
               &frame, slots, 1);
  for (int i = 0; i < 100000; i++) {
    node *n = new_node(i);
    if (i % 10 == 0) {
      set_left(n, slots[0]);
      slots[0] = n;
    }
  }
  beskid_gc_collect(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 10000);
  ck_assert_uint_eq(st.pause_count, st.cycles); /* one pause per cycle */
  rooted_stop(&frame);
}
END_TEST

/* Statistics read while cycles run describe whole cycles: the pauses, the cycle count and the
 * histogram agree in every read. A thread that is not attached reads them in a loop while the
 * main thread forces cycles (the background collector runs its own too); the verifier widens
 * the gap between a cycle's last pause and its end, where a reader used to see one more pause
 * than cycles. */
typedef struct stats_reader {
  atomic_bool stop;
  bool stop_the_world; /* one pause per cycle; otherwise at least two */
  uint64_t reads;
  char problem[256];
} stats_reader;

static void check_stats_read(stats_reader *r, const beskid_gc_stats_t *st, uint64_t last_cycles,
                             uint64_t last_pauses) {
  uint64_t hist = 0;
  for (int i = 0; i < BESKID_GC_PAUSE_BUCKETS; i++) hist += st->pause_histogram[i];
  const char *what = NULL;
  if (r->stop_the_world ? st->pause_count != st->cycles : st->pause_count < 2 * st->cycles)
    what = "pauses disagree with cycles";
  else if (hist != st->pause_count)
    what = "histogram disagrees with pause_count";
  else if (st->cycles < last_cycles || st->pause_count < last_pauses)
    what = "a count went back";
  else if (st->forced_cycles > st->cycles)
    what = "more forced cycles than cycles";
  else if (st->pause_max_ns > st->pause_total_ns || st->pause_p50_ns > st->pause_p99_ns ||
           st->pause_p99_ns > st->pause_max_ns)
    what = "pause durations disagree";
  if (what != NULL) {
    snprintf(r->problem, sizeof r->problem,
             "%s: cycles %llu forced %llu pause_count %llu histogram %llu (previous read: "
             "cycles %llu pauses %llu)",
             what, (unsigned long long)st->cycles, (unsigned long long)st->forced_cycles,
             (unsigned long long)st->pause_count, (unsigned long long)hist,
             (unsigned long long)last_cycles, (unsigned long long)last_pauses);
  }
}

static void *read_stats_until_stopped(void *arg) {
  stats_reader *r = arg;
  uint64_t last_cycles = 0, last_pauses = 0;
  while (!atomic_load(&r->stop) && r->problem[0] == '\0') {
    beskid_gc_stats_t st;
    beskid_gc_read_stats(&st);
    check_stats_read(r, &st, last_cycles, last_pauses);
    last_cycles = st.cycles;
    last_pauses = st.pause_count;
    r->reads++;
  }
  return NULL;
}

static void stats_stress(uint32_t debug_flags) {
  start(debug_flags);
  stats_reader r = {.stop_the_world = (debug_flags & BESKID_GC_DEBUG_STW) != 0};
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, read_stats_until_stopped, &r, "stats"), BESKID_OK);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  for (int cycle = 0; cycle < 40 && r.problem[0] == '\0'; cycle++) {
    for (int i = 0; i < 20000; i++) {
      node *n = new_node(i);
      if (i % 8 == 0) {
        set_left(n, slots[0]);
        slots[0] = n;
      }
    }
    if (cycle % 10 == 9) slots[0] = NULL;
    beskid_gc_collect(T);
  }
  atomic_store(&r.stop, true);
  beskid_gc_enter_native(T);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(T);
  ck_assert_msg(r.problem[0] == '\0', "%s", r.problem);
  ck_assert_uint_gt(r.reads, 0);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 40);
  rooted_stop(&frame);
}

START_TEST(test_stats_consistent_during_stw_cycles) {
  stats_stress(BESKID_GC_DEBUG_STW | BESKID_GC_DEBUG_VERIFY);
}
END_TEST

START_TEST(test_stats_consistent_during_concurrent_cycles) { stats_stress(BESKID_GC_DEBUG_VERIFY); }
END_TEST

/* A thread that runs managed code while another thread collects is stopped by every pause and
 * counts a stall each time, from its safepoint to running again; the stopper counts none. The
 * helper only polls: an allocation may wait for the heap lock or for mimalloc in the native
 * state, where a pause counts it as stopped without stalling it. */
static atomic_uint_fast64_t helper_rounds;

static void *poll_until_told(void *arg) {
  atomic_int *flag = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  atomic_store(flag, 1);
  while (atomic_load(flag) == 1) {
    beskid_gc_poll(t);
    atomic_fetch_add(&helper_rounds, 1);
  }
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_stalls_counted_per_stopped_thread) {
  start(BESKID_GC_DEBUG_MANUAL);
  for (int i = 0; i < 5; i++) beskid_gc_collect(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.stall_count, 0); /* the only thread drove every stop itself */
  ck_assert_uint_eq(st.stall_max_ns, 0);

  atomic_int flag = 0;
  beskid_os_thread_t helper;
  spawn_until_ready(&helper, poll_until_told, &flag, "stall-helper");
  enum { CYCLES = 20 };
  uint64_t t0 = beskid_os_monotonic_ns();
  for (int i = 0; i < CYCLES; i++) {
    /* The helper runs between cycles, so each cycle's first stop finds it running. */
    uint64_t rounds = atomic_load(&helper_rounds);
    while (atomic_load(&helper_rounds) == rounds) beskid_os_thread_yield();
    beskid_gc_collect(T);
  }
  atomic_store(&flag, 2);
  beskid_os_thread_join(&helper, NULL); /* its last stall is counted as it resumes */
  uint64_t elapsed = beskid_os_monotonic_ns() - t0;
  beskid_gc_read_stats(&st);
  /* Two stops a cycle, and the helper runs into each, unless one stop follows another so closely
   * that it is still parked from the first (then one stall covers both). */
  ck_assert_uint_ge(st.stall_count, CYCLES);
  ck_assert_uint_le(st.stall_count, 2 * CYCLES);
  ck_assert_uint_gt(st.stall_max_ns, 0);
  ck_assert_uint_ge(st.stall_max_ns * st.stall_count, st.stall_total_ns);
  ck_assert_uint_le(st.stall_total_ns, elapsed);
  stop();
}
END_TEST

/* Where a stop's wait went: a thread that gets no CPU, against one that runs without polling.
 * Each runs pinned to one CPU; the test's own thread, which stops the world, to another. */
typedef struct pinned_mutator {
  size_t cpu;
  atomic_int state; /* 0 starting, 1 ready, 2 in its unpolled stretch, 3 told to finish */
  bool starve;      /* runs at the lowest priority beside a hog on its CPU */
  atomic_uint_fast64_t rounds; /* its polls */
} pinned_mutator;

static void pin_to(size_t cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
}

static void *hog_cpu(void *arg) {
  pinned_mutator *m = arg;
  pin_to(m->cpu);
  while (atomic_load(&m->state) != 3) {
  }
  return NULL;
}

static void *run_pinned(void *arg) {
  pinned_mutator *m = arg;
  pin_to(m->cpu);
  if (m->starve) {
    ck_assert_int_eq(setpriority(PRIO_PROCESS, (id_t)beskid_os_thread_id(), 19), 0);
  }
  beskid_gc_thread_t *t = beskid_gc_attach();
  atomic_store(&m->state, 1);
  if (!m->starve) {
    while (atomic_load(&m->state) == 1) beskid_gc_poll(t);
    /* 30 ms of CPU time (however long the machine takes to give it) in work that never polls:
     * a stop requested meanwhile waits for all of it. */
    uint64_t until = beskid_os_thread_cpu_ns() + 30000000;
    while (beskid_os_thread_cpu_ns() < until) {
    }
  }
  while (atomic_load(&m->state) != 3) {
    beskid_gc_poll(t);
    atomic_fetch_add(&m->rounds, 1);
  }
  beskid_gc_detach();
  return NULL;
}

/* Two CPUs to pin to, or false (the test then has nothing to show on this machine). */
static bool two_cpus(size_t *a, size_t *b) {
  cpu_set_t allowed;
  ck_assert_int_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  size_t found = 0, cpus[2];
  for (size_t cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
    if (CPU_ISSET(cpu, &allowed)) cpus[found++] = cpu;
  }
  if (found < 2) return false;
  *a = cpus[0];
  *b = cpus[1];
  return true;
}

static void stop_wait_case(bool starve, beskid_gc_stats_t *st) {
  size_t mutator_cpu, stopper_cpu;
  if (!two_cpus(&mutator_cpu, &stopper_cpu)) {
    fprintf(stderr, "one CPU: the pinned stop-wait cases need two\n");
    return;
  }
  cpu_set_t before;
  ck_assert_int_eq(sched_getaffinity(0, sizeof before, &before), 0);
  pin_to(stopper_cpu);
  start(BESKID_GC_DEBUG_MANUAL);
  pinned_mutator m = {.cpu = mutator_cpu, .starve = starve};
  beskid_os_thread_t hog, mutator;
  if (starve) ck_assert_int_eq(beskid_os_thread_create(&hog, hog_cpu, &m, "hog"), BESKID_OK);
  ck_assert_int_eq(beskid_os_thread_create(&mutator, run_pinned, &m, "pinned"), BESKID_OK);
  while (atomic_load(&m.state) != 1) beskid_os_sleep_ns(100000);
  if (starve) {
    for (int i = 0; i < 5; i++) {
      /* Once it has run since the last restart (it may not have: then the next stop finds it
       * still parked), let its slice end, then stop it. */
      uint64_t rounds = atomic_load(&m.rounds);
      while (atomic_load(&m.rounds) == rounds) beskid_os_sleep_ns(200000);
      beskid_os_sleep_ns(5000000);
      beskid_gc_collect(T);
    }
  } else {
    atomic_store(&m.state, 2);
    beskid_os_sleep_ns(2000000); /* well inside its 30 ms stretch */
    beskid_gc_collect(T);
  }
  atomic_store(&m.state, 3);
  ck_assert_int_eq(beskid_os_thread_join(&mutator, NULL), BESKID_OK);
  if (starve) ck_assert_int_eq(beskid_os_thread_join(&hog, NULL), BESKID_OK);
  beskid_gc_read_stats(st);
  stop();
  ck_assert_int_eq(sched_setaffinity(0, sizeof before, &before), 0);
  ck_assert_uint_le(st->ttsp_running_max_ns, st->ttsp_max_ns);
}

START_TEST(test_stop_wait_for_a_cpu_is_the_schedulers) {
  /* The mutator polls all the time it runs, but at nice 19 beside a busy thread it runs in a few
   * short slices a second: the stops wait milliseconds for it, nearly all of them for a CPU, and
   * the figure for what its code held them is about the watch's 100 us (more when the stopper
   * itself waits for its CPU: the suites run two at a time). */
  beskid_gc_stats_t st = {0};
  stop_wait_case(true, &st);
  if (st.cycles == 0) return; /* one CPU */
  ck_assert_uint_ge(st.ttsp_max_ns, 2000000);
  ck_assert_uint_le(st.ttsp_running_max_ns, st.ttsp_max_ns / 10);
}
END_TEST

START_TEST(test_stop_wait_on_a_cpu_is_the_threads) {
  /* The mutator holds the stop with 30 ms of CPU time in work that does not poll, requested
   * 2 ms into it: what is left of it counts as its code's, even when it shares its CPU. */
  beskid_gc_stats_t st = {0};
  stop_wait_case(false, &st);
  if (st.cycles == 0) return; /* one CPU */
  ck_assert_uint_ge(st.ttsp_max_ns, 20000000);
  ck_assert_uint_ge(st.ttsp_running_max_ns, 20000000);
}
END_TEST

void gc_cases_pacing(Suite *suite) {
  TCase *tc = tcase_create("pacing");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_trace_line_and_stats);
  tcase_add_test(tc, test_stalls_counted_per_stopped_thread);
  tcase_add_test(tc, test_stop_wait_for_a_cpu_is_the_schedulers);
  tcase_add_test(tc, test_stop_wait_on_a_cpu_is_the_threads);
  tcase_add_test(tc, test_gogc_goal_and_setters);
  tcase_add_test(tc, test_background_collector_paces_heap);
  tcase_add_test(tc, test_debug_modes_stw_checkmark_verify);
  tcase_add_test(tc, test_stats_consistent_during_stw_cycles);
  tcase_add_test(tc, test_stats_consistent_during_concurrent_cycles);
  suite_add_tcase(suite, tc);
}
