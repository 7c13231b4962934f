/* test_gc_pacer.c — the Check suite of the collector's pacing, parallel marking and time to
 * safepoint (registered as `gc_pacer`).
 *
 * - The pacer's model (pacer_model.c) is a set of pure functions: its tests feed it recorded
 *   cycle figures and assert the trigger, worker count and assist ratio a user relies on
 *   (marking ends at the goal with the workers alone in steady state; GOGC, the soft limit and
 *   the hard cap still bound the goal).
 * - Marking with 1, 2, 4 and 8 workers is checked on graphs built to race (one wide array of
 *   pointers, long lists, many small objects) under checkmark, which re-marks the heap with the
 *   world stopped and fails on anything the parallel mark missed.
 * - The statistics' CPU time counts every mark worker's CPU, not only the cycle driver's.
 * - Time to safepoint: a thread allocating huge objects must not hold another thread's stop for
 *   the time it takes to clear them. Bounds are relative to what the same machine needs to
 *   clear the object once, so a loaded machine slows both sides alike. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/gc.h"
#include "beskid/platform.h"
#include "check_support.h"
#include "internal.h"

const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

static void log_to_stderr(const char *line, void *context) {
  (void)context;
  fprintf(stderr, "%s\n", line);
}

static beskid_gc_thread_t *T;

static void start_with(uint32_t debug_flags, uint32_t workers) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.log = log_to_stderr;
  config.debug_flags = debug_flags;
  config.reserve = UINT64_C(4) << 30;
  config.mark_workers = workers;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_OK);
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
}

static void stop(void) {
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  beskid_gc_detach();
  beskid_gc_shutdown();
}

/* ------------------------------------------------------------------------------------------ */
/* Time to safepoint */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HUGE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HUGE_UNDER_ASAN 1
#endif
#endif
#ifndef HUGE_UNDER_ASAN
#define HUGE_UNDER_ASAN 0
#endif

#define HUGE_BYTES  (UINT64_C(256) << 20) /* the strings benchmark's array_new of 256 MiB */
#define HUGE_ROUNDS 8

enum { PHASE_OTHER = 0, PHASE_ALLOC = 1, PHASE_FILL = 2, PHASE_WAIT = 3 };

typedef struct huge_args {
  _Atomic int done;
  _Atomic int phase;              /* what the allocating thread is doing */
  _Atomic int armed;              /* the collecting thread watches for the next allocation */
  uint64_t alloc_ns[HUGE_ROUNDS]; /* how long each allocation took (read after the join) */
} huge_args;

/* Allocates huge pointer-free arrays one after another and dirties each completely (so the next
 * one's pages must be cleared), polling every 64 KiB as compiled code polls at loop back-edges:
 * the fill is the control, a loop known to reach safepoints often. */
static void *huge_allocator(void *arg) {
  huge_args *a = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  ck_assert_ptr_nonnull(t);
  beskid_array_buffer_t *b = NULL; /* rooted: the collections running meanwhile keep it */
  ck_assert_int_eq(beskid_gc_register_root(t, (void **)&b), BESKID_GC_OK);
  for (int round = 0; round < HUGE_ROUNDS; round++) {
    b = NULL; /* the previous array is garbage from here on */
    /* An allocation takes a fraction of a millisecond now that its clear is a page reset, so
     * collections back to back caught 1-7 of the eight, and none in a CI run: each waits until
     * the collecting thread watches for it, so that a stop is requested as it begins. A watcher
     * that loses its CPU to this thread still misses it (with the other CPU busy, every time). */
    atomic_store(&a->phase, PHASE_WAIT);
    while (!atomic_load(&a->armed)) {
      if (__atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_gc_safepoint(t);
      beskid_os_sleep_ns(50000);
    }
    atomic_store(&a->armed, 0);
    atomic_store(&a->phase, PHASE_ALLOC);
    uint64_t t0 = beskid_os_monotonic_ns();
    b = beskid_gc_alloc_array(t, &beskid_obj_byte_elem_type, HUGE_BYTES);
    a->alloc_ns[round] = beskid_os_monotonic_ns() - t0;
    atomic_store(&a->phase, PHASE_OTHER);
    ck_assert_ptr_nonnull(b);
    unsigned char *data = beskid_obj_array_data(b);
    for (uint64_t i = 0; i < HUGE_BYTES; i += 4096) {
      ck_assert_int_eq(data[i], 0);
      if ((i & 0xffff) == 0 && __atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_gc_safepoint(t);
    }
    atomic_store(&a->phase, PHASE_FILL);
    for (uint64_t off = 0; off < HUGE_BYTES; off += 64 << 10) {
      memset(data + off, 0x5a, 64 << 10);
      if (__atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_gc_safepoint(t);
    }
    atomic_store(&a->phase, PHASE_OTHER);
  }
  ck_assert_int_eq(beskid_gc_unregister_root(t, (void **)&b), BESKID_GC_OK);
  atomic_store(&a->done, 1);
  beskid_gc_detach();
  return NULL;
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

static uint64_t median(uint64_t *v, uint64_t n) {
  qsort(v, n, sizeof v[0], cmp_u64);
  return v[n / 2];
}

START_TEST(test_huge_allocation_does_not_hold_a_stop) {
#if HUGE_UNDER_ASAN
  /* mimalloc 2.0.9's ASan hooks poison a freed huge block and its segment header lands in that
   * poisoned range when another huge block reuses the memory (use-after-poison inside
   * mi_segment_alloc, with or without this branch's changes): huge blocks freed by one thread
   * and allocated by another cannot run under ASan yet. Under TSan every memset and page reset
   * is instrumented, which is what the timing would then measure. The dev preset runs it. */
  return;
#endif
  start_with(BESKID_GC_DEBUG_MANUAL, 1);
  huge_args a = {0};
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, huge_allocator, &a, "huge"), BESKID_OK);
  /* Collections back to back; each one's time to safepoint (both pauses) is filed under what
   * the allocating thread was doing when it began. */
  enum { MAX_CYCLES = 1 << 16 };
  static uint64_t alloc_waits[MAX_CYCLES], fill_waits[MAX_CYCLES];
  uint64_t n_alloc = 0, n_fill = 0;
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  uint64_t before = st.ttsp_total_ns;
  while (!atomic_load(&a.done)) {
    int phase = atomic_load(&a.phase);
    if (phase == PHASE_WAIT) { /* catch the allocation as it begins */
      atomic_store(&a.armed, 1);
      while ((phase = atomic_load(&a.phase)) == PHASE_WAIT) beskid_os_cpu_relax();
    }
    beskid_gc_collect(T);
    beskid_gc_read_stats(&st);
    uint64_t wait = st.ttsp_total_ns - before;
    before = st.ttsp_total_ns;
    if (phase == PHASE_ALLOC && n_alloc < MAX_CYCLES) alloc_waits[n_alloc++] = wait;
    if (phase == PHASE_FILL && n_fill < MAX_CYCLES) fill_waits[n_fill++] = wait;
    beskid_os_sleep_ns(200000);
  }
  beskid_os_thread_join(&th, NULL);
  ck_assert_uint_gt(n_fill, 0);
  uint64_t m_fill = median(fill_waits, n_fill);
  uint64_t m_duration = median(a.alloc_ns, HUGE_ROUNDS);
  if (n_alloc == 0) {
    /* No stop began during an allocation: then an allocation is too short to hold one for long.
     * Unbounded, it cleared 256 MiB while running (tens to hundreds of milliseconds). */
    fprintf(stderr, "ttsp: no stop began during a 256 MiB allocation (median %.3f ms each)\n",
            (double)m_duration / 1e6);
    ck_assert_msg(m_duration <= 4 * m_fill + 2000000,
                  "allocations take %.3f ms at the median (a stop during a polling loop %.3f ms)",
                  (double)m_duration / 1e6, (double)m_fill / 1e6);
    stop();
    return;
  }
  uint64_t m_alloc = median(alloc_waits, n_alloc);
  fprintf(stderr,
          "ttsp: during %llu MiB allocations (median %.3f ms each) median %.3f ms (%llu stops, "
          "worst %.3f ms); during a polling fill median %.3f ms (%llu stops, worst %.3f ms)\n",
          (unsigned long long)(HUGE_BYTES >> 20), (double)m_duration / 1e6, (double)m_alloc / 1e6,
          (unsigned long long)n_alloc, (double)alloc_waits[n_alloc - 1] / 1e6, (double)m_fill / 1e6,
          (unsigned long long)n_fill, (double)fill_waits[n_fill - 1] / 1e6);
  /* Unbounded, a stop that begins during an allocation waits for the rest of its clear: half an
   * allocation's time at the median (tens to hundreds of milliseconds here). Bounded, it waits
   * about as long as during a loop that polls every 64 KiB, or, on a machine so loaded that
   * the allocating thread is often descheduled, still far less than a quarter of an allocation
   * (both grow with the load). Medians, so that a few scheduling outliers do not decide. */
  ck_assert_msg(m_alloc <= 4 * m_fill + 2000000 || m_alloc <= m_duration / 4,
                "a stop during an allocation waited %.3f ms at the median (allocations take "
                "%.3f ms, a stop during a polling loop %.3f ms)",
                (double)m_alloc / 1e6, (double)m_duration / 1e6, (double)m_fill / 1e6);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The pacer's model (pure functions) */

#define MiB (UINT64_C(1) << 20)

START_TEST(test_pacer_goal_keeps_gogc_limit_and_cap) {
  ck_assert_uint_eq(beskid_gc__pacer_goal(100 * MiB, 100, 0, 0), 200 * MiB);
  ck_assert_uint_eq(beskid_gc__pacer_goal(100 * MiB, 50, 0, 0), 150 * MiB);
  ck_assert_uint_eq(beskid_gc__pacer_goal(0, 100, 0, 0), MiB / 100 * 100); /* the floor */
  ck_assert_uint_eq(beskid_gc__pacer_goal(100 * MiB, BESKID_GC_GOGC_OFF, 0, 0), UINT64_MAX);
  /* The soft limit wins over GOGC, with 3% headroom, but never below live. */
  uint64_t limit = 165 * MiB;
  ck_assert_uint_eq(beskid_gc__pacer_goal(100 * MiB, 100, limit, 0), limit - limit / 33);
  ck_assert_uint_eq(beskid_gc__pacer_goal(200 * MiB, 100, limit, 0), 200 * MiB);
  ck_assert_uint_eq(beskid_gc__pacer_goal(100 * MiB, BESKID_GC_GOGC_OFF, limit, 0),
                    limit - limit / 33);
  /* The hard cap bounds everything, never below live. */
  ck_assert_uint_eq(beskid_gc__pacer_goal(100 * MiB, 100, 0, 150 * MiB), 150 * MiB);
  ck_assert_uint_eq(beskid_gc__pacer_goal(160 * MiB, 100, 0, 150 * MiB), 160 * MiB);
  /* Saturation: a huge GOGC on a huge heap is "no goal", never a wrapped small one. */
  ck_assert_uint_eq(beskid_gc__pacer_goal(UINT64_MAX / 2, INT32_MAX, 0, 0), UINT64_MAX);
}
END_TEST

/* The soft limit's own goal, and the per-thread bucket that meters the time paid at it: a thread
 * that would wait at the limit all the time gets at most half of it (plus the bucket) and runs
 * the other half. */
START_TEST(test_pacer_limit_goal_and_budget) {
  ck_assert_uint_eq(beskid_gc__pacer_limit_goal(0), UINT64_MAX);
  ck_assert_uint_eq(beskid_gc__pacer_limit_goal(165 * MiB), 165 * MiB - 165 * MiB / 33);
  ck_assert_uint_eq(beskid_gc__pacer_limit_goal(16 * MiB), 15 * MiB); /* 1 MiB headroom at least */
  ck_assert_uint_eq(beskid_gc__pacer_limit_goal(MiB / 2), 0);
  /* Unlike the heap goal, the limit's goal does not rise with the live heap. */
  ck_assert_uint_lt(beskid_gc__pacer_limit_goal(165 * MiB),
                    beskid_gc__pacer_goal(200 * MiB, 100, 165 * MiB, 0));
  /* The bucket: drains at half the wall clock, never below empty; fills with what is paid. */
  const uint64_t ms = 1000000;
  ck_assert_uint_eq(beskid_gc__pacer_limit_spent(0, UINT64_MAX, 0), 0);
  ck_assert_uint_eq(beskid_gc__pacer_limit_spent(100 * ms, 100 * ms, 0), 50 * ms);
  ck_assert_uint_eq(beskid_gc__pacer_limit_spent(100 * ms, 400 * ms, 10 * ms), 10 * ms);
  ck_assert_uint_eq(beskid_gc__pacer_limit_spent(UINT64_MAX, 0, 1), UINT64_MAX);
  /* An empty bucket allows a wait of twice the budget (it drains while it fills); a full one
   * none, nor an overfull one. */
  uint64_t whole = beskid_gc__pacer_limit_allowance(0);
  ck_assert_uint_ge(whole, 1000 * ms);
  ck_assert_uint_eq(beskid_gc__pacer_limit_allowance(whole / 4), whole / 2);
  ck_assert_uint_eq(beskid_gc__pacer_limit_allowance(whole / 2), 0);
  ck_assert_uint_eq(beskid_gc__pacer_limit_allowance(whole), 0);
  /* A thread at a limit its live heap outgrew: every 20 ms it would wait for a whole 50 ms
   * mark. Over 100 simulated seconds it waits what the bucket allows, then half the time. */
  uint64_t spent = 0, now = 0, last = 0, waited = 0;
  while (now < 100000 * ms) {
    now += 20 * ms; /* runs */
    spent = beskid_gc__pacer_limit_spent(spent, now - last, 0);
    last = now;
    uint64_t allowed = beskid_gc__pacer_limit_allowance(spent);
    if (allowed == 0) continue; /* pays as outside the limit: a 1 ms wait, not metered */
    uint64_t wait = allowed < 50 * ms ? allowed : 50 * ms;
    now += wait;
    waited += wait;
    spent = beskid_gc__pacer_limit_spent(spent, now - last, wait);
    last = now;
  }
  ck_assert_uint_le(waited, now / 2 + whole);
  ck_assert_uint_ge(waited, now / 2 - whole); /* and it does pay whenever the bucket allows */
}
END_TEST

START_TEST(test_pacer_smoothing_and_observation) {
  ck_assert_uint_eq(beskid_gc__pacer_smooth(0, 10), 10);
  ck_assert_uint_eq(beskid_gc__pacer_smooth(10, 0), 10);
  ck_assert_uint_eq(beskid_gc__pacer_smooth(10, 20), 15);
  ck_assert_uint_eq(beskid_gc__pacer_smooth(UINT64_MAX, UINT64_MAX), UINT64_MAX);
  gc_pacer_rates r = {0};
  /* 100 MiB live, 50 MiB scanned; 40 MiB allocated in 200 ms; 50 MiB scanned in 100 ms CPU. */
  beskid_gc__pacer_observe(&r, 100 * MiB, 50 * MiB, 40 * MiB, 200000000, 50 * MiB, 100000000);
  ck_assert_uint_eq(r.scan_per_byte, 512);
  ck_assert_uint_eq(r.alloc_rate, 200 * MiB);
  ck_assert_uint_eq(r.mark_speed, 500 * MiB);
  /* A mark too short to time leaves the speeds alone. */
  beskid_gc__pacer_observe(&r, 100 * MiB, 50 * MiB, 1, 10, 1, 10);
  ck_assert_uint_eq(r.alloc_rate, 200 * MiB);
  ck_assert_uint_eq(r.mark_speed, 500 * MiB);
}
END_TEST

/* One cycle of a fluid simulation: the heap starts marking at the plan's trigger; `workers`
 * workers scan `work` bytes at `speed` bytes per CPU-second each, while mutators allocate at
 * `alloc_rate`. Returns the heap when marking ends; the figures it measured go to `out`. */
typedef struct sim_cycle {
  uint64_t mark_end_heap, mark_alloc, mark_ns, worker_cpu_ns;
} sim_cycle;

static sim_cycle simulate(const gc_pacer_plan *plan, uint64_t work, uint64_t speed,
                          uint64_t alloc_rate) {
  sim_cycle c;
  double seconds = (double)work / ((double)speed * plan->workers);
  c.mark_ns = (uint64_t)(seconds * 1e9);
  c.mark_alloc = (uint64_t)(seconds * (double)alloc_rate);
  c.mark_end_heap = plan->trigger + c.mark_alloc;
  c.worker_cpu_ns = c.mark_ns * plan->workers;
  return c;
}

/* Runs the model over `n` simulated cycles of a steady program: `live` bytes live, scan work
 * half of it, the given true rates. Returns the last plan; asserts the model's promises. */
static gc_pacer_plan run_trace(uint64_t live, uint64_t speed, uint64_t alloc_rate, uint32_t cpus,
                               uint32_t pool, bool fixed, int n, uint64_t *overshoot_cycles) {
  gc_pacer_rates rates = {0};
  gc_pacer_inputs in = {.live = live,
                        .gogc = 100,
                        .cpus = cpus,
                        .pool_workers = pool,
                        .fixed_workers = fixed,
                        .last_mark_alloc = 0};
  gc_pacer_plan plan = {0};
  *overshoot_cycles = 0;
  for (int cycle = 0; cycle < n; cycle++) {
    in.scan_per_byte = rates.scan_per_byte;
    in.mark_speed = rates.mark_speed;
    in.alloc_rate = rates.alloc_rate;
    beskid_gc__pacer_plan(&in, &plan);
    ck_assert_uint_eq(plan.goal, 2 * live);
    uint64_t runway = plan.goal - live;
    /* Never later than 95% of the way, never earlier than 70%. */
    ck_assert_uint_le(plan.trigger, live + runway / 100 * 95 + 100);
    ck_assert_uint_ge(plan.trigger, live + runway / 100 * 70);
    ck_assert_uint_ge(plan.workers, 1);
    ck_assert_uint_le(plan.workers, pool);
    uint64_t work = live / 2;
    sim_cycle c = simulate(&plan, work, speed, alloc_rate);
    if (c.mark_end_heap > plan.goal) ++*overshoot_cycles;
    beskid_gc__pacer_observe(&rates, live, work, c.mark_alloc, c.mark_ns, work, c.worker_cpu_ns);
    in.last_scan_work = work;
    in.last_mark_alloc = c.mark_alloc;
  }
  ck_assert(plan.learned);
  return plan;
}

START_TEST(test_pacer_trace_fast_marker_triggers_late) {
  /* 64 MiB live, a worker scans 1 GiB/s, mutators allocate 50 MiB/s: a mark takes 32 ms and
   * sees 1.6 MiB allocated, so the trigger sits at 95% and one dedicated worker suffices. */
  uint64_t over;
  gc_pacer_plan p = run_trace(64 * MiB, 1024 * MiB, 50 * MiB, 2, 2, false, 12, &over);
  ck_assert_uint_eq(p.workers, 1);
  ck_assert_uint_eq(p.trigger, p.goal - (64 * MiB) / 100 * 5);
  ck_assert_uint_le(over, 1); /* only the first, unlearned cycle may overshoot */
}
END_TEST

START_TEST(test_pacer_trace_heavy_allocator_gets_workers) {
  /* The latency probe's shape: 1 GiB live, 600 MiB/s scanning per worker, 400 MiB/s allocated.
   * One worker needs 853 ms and sees 341 MiB allocated — more than the last 30% of the runway
   * (307 MiB) — so the pacer adds a worker on a 4-CPU machine and keeps the trigger at or
   * after 70%, and marking ends inside the goal without assists once the rates are learned. */
  uint64_t over;
  gc_pacer_plan p = run_trace(1024 * MiB, 600 * MiB, 400 * MiB, 4, 4, false, 12, &over);
  ck_assert_uint_eq(p.workers, 2);
  ck_assert_uint_ge(p.trigger, 1024 * MiB + (1024 * MiB) / 100 * 70);
  ck_assert_uint_le(over, 1);
  /* With the pool fixed at one worker the trigger still stays at 70% (Go's floor): the marking
   * the worker cannot finish by the goal is the assists' (which this simulation leaves out, so
   * its marks end past the goal), and the black allocation stays within 30% of the runway. */
  p = run_trace(1024 * MiB, 600 * MiB, 400 * MiB, 4, 1, true, 12, &over);
  ck_assert_uint_eq(p.workers, 1);
  ck_assert_uint_eq(p.trigger, p.goal - (1024 * MiB) / 100 * 30);
  ck_assert_uint_gt(over, 1);
  ck_assert_uint_gt(
      beskid_gc__pacer_assist_ratio(p.expected_work, 0, p.trigger, p.goal, p.trigger, UINT64_MAX),
      0);
}
END_TEST

START_TEST(test_pacer_workers_only_on_idle_cpus) {
  /* The latency probe's rates on 2 CPUs: one worker cannot fit the mark in the last 30% of the
   * runway, but the one mutator keeps the other CPU busy, so the plan stays at one worker (a
   * second would only take the mutator's CPU) and at the 70% trigger; assists do the rest. */
  gc_pacer_inputs in = {.live = 1024 * MiB,
                        .gogc = 100,
                        .cpus = 2,
                        .pool_workers = 2,
                        .mutators = 1,
                        .scan_per_byte = 512,
                        .mark_speed = 600 * MiB,
                        .alloc_rate = 400 * MiB};
  gc_pacer_plan p;
  beskid_gc__pacer_plan(&in, &p);
  ck_assert(p.learned);
  ck_assert_uint_eq(p.workers, 1);
  ck_assert_uint_eq(p.trigger, p.goal - (1024 * MiB) / 100 * 30);
  /* Nothing known about the mutators: the pool is the bound, as before. */
  in.mutators = 0;
  beskid_gc__pacer_plan(&in, &p);
  ck_assert_uint_eq(p.workers, 2);
  /* 16 CPUs, 12 mutators, a pool of 16 and four times the allocation rate: the plan may go past
   * the 4 dedicated workers only up to the 4 idle CPUs... */
  in.cpus = 16;
  in.pool_workers = 16;
  in.mutators = 12;
  in.alloc_rate = 1600 * MiB;
  beskid_gc__pacer_plan(&in, &p);
  ck_assert_uint_eq(p.workers, 4);
  /* ...and with 6 mutators, up to the 10 CPUs they leave idle. */
  in.mutators = 6;
  beskid_gc__pacer_plan(&in, &p);
  ck_assert_uint_gt(p.workers, 4);
  ck_assert_uint_le(p.workers, 10);
  ck_assert_uint_eq(beskid_gc__pacer_worker_bound(16, 20, 4, 16), 4);
  ck_assert_uint_eq(beskid_gc__pacer_worker_bound(16, 6, 4, 8), 8);
  ck_assert_uint_eq(beskid_gc__pacer_worker_bound(16, 0, 4, 16), 16);
  /* The mutators' CPUs come from their CPU time: a thread busy 30% of the wall time keeps a CPU
   * from extra workers, one busy a fifth of it does not; two busy 90% each keep two. */
  ck_assert_uint_eq(beskid_gc__pacer_busy_cpus(30, 100), 1);
  ck_assert_uint_eq(beskid_gc__pacer_busy_cpus(20, 100), 0);
  ck_assert_uint_eq(beskid_gc__pacer_busy_cpus(180, 100), 2);
  ck_assert_uint_eq(beskid_gc__pacer_busy_cpus(100, 100), 1);
  ck_assert_uint_eq(beskid_gc__pacer_busy_cpus(5, 0), 0);
}
END_TEST

/* Keeps this thread's CPU busy in the native state for `cpu_ns` of its CPU time, as a host call
 * that computes does. */
static void compute_natively(uint64_t cpu_ns) {
  beskid_gc_enter_native(T);
  uint64_t end = beskid_os_thread_cpu_ns() + cpu_ns;
  while (beskid_os_thread_cpu_ns() < end) {
    for (int i = 0; i < 1000; i++) beskid_os_cpu_relax();
  }
  beskid_gc_leave_native(T);
}

/* The CPUs the program's threads keep busy, which extra mark workers leave to them, come from
 * the CPU time the threads used between cycles, not from the state they were in when a mark
 * ended: a thread computing in the native state keeps its CPU busy, one sleeping there does
 * not. The collections are this thread's own, made in the native state, so counting the threads
 * out of the native state at mark termination (the count before gc 0.12.4) saw no busy CPU in
 * either half: in the latency probe, a mutator caught populating a span at mark termination got
 * a second mark worker on its CPU, and batches of 4.4 ms every 8 ms while it marked. */
START_TEST(test_busy_cpus_measured_from_cpu_time) {
  start_with(0, 0);
  /* The pacer reads the program's CPU time over the wall time between cycle ends: a machine
   * busy with other tests may leave this thread under a quarter of a CPU there, and then the
   * pacer rightly sees it as not keeping one busy. Rounds again until the thread's computing
   * took a third of every interval or more (a few tries). */
  bool fair = false;
  for (int attempt = 0; attempt < 20 && !fair; attempt++) {
    beskid_gc_collect(T);
    fair = true;
    for (int i = 0; i < 4; i++) {
      uint64_t wall = beskid_os_monotonic_ns(), cpu = beskid_os_thread_cpu_ns();
      compute_natively(UINT64_C(30000000));
      cpu = beskid_os_thread_cpu_ns() - cpu;
      beskid_gc_collect(T);
      wall = beskid_os_monotonic_ns() - wall;
      fair = fair && cpu >= wall / 3;
    }
  }
  ck_assert_msg(fair, "this thread never had a third of a CPU in twenty tries");
  uint32_t busy = atomic_load(&gc.pacer.mutators);
  ck_assert_uint_eq(busy, 1);
  for (int i = 0; i < 4; i++) {
    beskid_gc_collect(T);
    beskid_gc_enter_native(T);
    beskid_os_sleep_ns(UINT64_C(30000000));
    beskid_gc_leave_native(T);
  }
  beskid_gc_collect(T);
  busy = atomic_load(&gc.pacer.mutators);
  ck_assert_uint_eq(busy, 0);
  stop();
}
END_TEST

START_TEST(test_pacer_unknown_rates_fall_back_and_gogc_off_never_triggers) {
  gc_pacer_inputs in = {.live = 100 * MiB, .gogc = 100, .cpus = 16, .pool_workers = 8};
  gc_pacer_plan p;
  /* Nothing measured: what the last mark allocated, clamped to 70..95%. */
  in.last_mark_alloc = 10 * MiB;
  beskid_gc__pacer_plan(&in, &p);
  ck_assert(!p.learned);
  ck_assert_uint_eq(p.trigger, 200 * MiB - (10 * MiB + 10 * MiB / 8));
  ck_assert_uint_eq(p.workers, 4); /* a quarter of 16 CPUs */
  in.last_mark_alloc = 500 * MiB;
  beskid_gc__pacer_plan(&in, &p);
  ck_assert_uint_eq(p.trigger, 200 * MiB - (100 * MiB) / 100 * 30);
  in.gogc = BESKID_GC_GOGC_OFF;
  beskid_gc__pacer_plan(&in, &p);
  ck_assert_uint_eq(p.goal, UINT64_MAX);
  ck_assert_uint_eq(p.trigger, UINT64_MAX);
  ck_assert_uint_eq(beskid_gc__pacer_dedicated_workers(1), 1);
  ck_assert_uint_eq(beskid_gc__pacer_dedicated_workers(2), 1);
  ck_assert_uint_eq(beskid_gc__pacer_dedicated_workers(8), 2);
}
END_TEST

START_TEST(test_pacer_assist_ratio) {
  /* 60 MiB of 100 MiB scanned with 40 MiB of runway left: 1 byte of work per byte. */
  uint64_t r = beskid_gc__pacer_assist_ratio(100 * MiB, 60 * MiB, 160 * MiB, 200 * MiB, 150 * MiB,
                                             UINT64_MAX);
  ck_assert_uint_ge(r, 255);
  ck_assert_uint_le(r, 257);
  /* Past the estimate: the whole heap at mark start is the work, the hard goal the runway. */
  r = beskid_gc__pacer_assist_ratio(100 * MiB, 110 * MiB, 190 * MiB, 200 * MiB, 150 * MiB,
                                    UINT64_MAX);
  ck_assert_uint_ge(r, 256 * 40 / 30 - 2);
  ck_assert_uint_le(r, 256 * 40 / 30 + 2);
  /* Past the goal: the ratio is large but finite. */
  r = beskid_gc__pacer_assist_ratio(100 * MiB, 10 * MiB, 300 * MiB, 200 * MiB, 150 * MiB,
                                    UINT64_MAX);
  ck_assert_uint_gt(r, 256 * 100);
  /* Past the estimate with the goal at the soft limit's own: no hard goal beyond it, so at the
   * goal the runway is the smallest and the ratio as large as past the goal. A limit above the
   * goal lets the hard goal run up to it, and no further than 1.1 × G. */
  r = beskid_gc__pacer_assist_ratio(100 * MiB, 110 * MiB, 200 * MiB, 200 * MiB, 150 * MiB,
                                    200 * MiB);
  ck_assert_uint_gt(r, 256 * 100);
  r = beskid_gc__pacer_assist_ratio(100 * MiB, 110 * MiB, 190 * MiB, 200 * MiB, 150 * MiB,
                                    205 * MiB);
  ck_assert_uint_ge(r, 256 * 40 / 15 - 2);
  ck_assert_uint_le(r, 256 * 40 / 15 + 2);
  ck_assert_uint_eq(beskid_gc__pacer_assist_ratio(100 * MiB, 110 * MiB, 190 * MiB, 200 * MiB,
                                                  150 * MiB, 400 * MiB),
                    beskid_gc__pacer_assist_ratio(100 * MiB, 110 * MiB, 190 * MiB, 200 * MiB,
                                                  150 * MiB, UINT64_MAX));
  /* A live heap past the limit's goal: the goal (there the live heap) is the hard goal. */
  ck_assert_uint_eq(beskid_gc__pacer_assist_ratio(100 * MiB, 110 * MiB, 190 * MiB, 200 * MiB,
                                                  150 * MiB, 20 * MiB),
                    beskid_gc__pacer_assist_ratio(100 * MiB, 110 * MiB, 190 * MiB, 200 * MiB,
                                                  150 * MiB, 200 * MiB));
}
END_TEST

/* The live collector in manual mode: after cycles with allocation during marking, the rates are
 * learned and the trigger comes from them. */
START_TEST(test_pacer_learns_in_manual_mode) {
  start_with(BESKID_GC_DEBUG_MANUAL, 2);
  void *keep = NULL;
  ck_assert_int_eq(beskid_gc_register_root(T, &keep), BESKID_GC_OK);
  keep = beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, 1 << 16);
  void **slots = beskid_obj_array_data(keep);
  for (int i = 0; i < (1 << 16); i++) {
    beskid_gc_store(T, &slots[i], beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 64));
  }
  for (int cycle = 0; cycle < 4; cycle++) {
    beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
    for (int i = 0; i < 20000; i++) beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 200);
    beskid_os_sleep_ns(2000000);
    beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  }
  ck_assert_uint_gt(gc.pacer.rates.scan_per_byte, 0);
  ck_assert_uint_gt(gc.pacer.rates.mark_speed, 0);
  ck_assert_uint_gt(gc.pacer.rates.alloc_rate, 0);
  ck_assert_uint_eq(atomic_load(&gc.pacer.workers_planned), 2); /* configured: fixed */
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  uint64_t live = gc.live_bytes;
  ck_assert_uint_lt(st.heap_trigger, st.heap_goal);
  ck_assert_uint_ge(st.heap_trigger, live + (st.heap_goal - live) / 2);
  ck_assert_int_eq(beskid_gc_unregister_root(T, &keep), BESKID_GC_OK);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Parallel marking: 1, 2, 4 and 8 workers under checkmark */

/* struct Node { Node *next @8; Node *other @16; i64 value @24 } */
static const uint64_t node_map[] = {8, 16};
static const beskid_type_t node_type = {32, 8, node_map, 2, BESKID_TYPE_AGGREGATE, 0};
typedef struct node {
  beskid_header_t header;
  struct node *next;
  struct node *other;
  int64_t value;
} node;
static const uint64_t ptr_map[] = {0};
static const beskid_elem_type_t ptr_elem = {8, 8, ptr_map, 1};

#define WIDE     50000 /* one array of pointers: oblets split it among workers */
#define LISTS    16    /* long lists: one worker each, the others starve unless work is shared */
#define LIST_LEN 4000

typedef struct graph {
  void *wide;         /* array of WIDE nodes, each with a small tree below */
  node *lists[LISTS]; /* LISTS lists of LIST_LEN nodes */
} graph;

static node *new_node(beskid_gc_thread_t *t, int64_t value) {
  node *n = beskid_gc_alloc(t, &node_type);
  ck_assert_ptr_nonnull(n);
  n->value = value;
  return n;
}

static void build(beskid_gc_thread_t *t, graph *g) {
  g->wide = beskid_gc_alloc_array(t, &ptr_elem, WIDE);
  ck_assert_ptr_nonnull(g->wide);
  void **slots = beskid_obj_array_data(g->wide);
  for (int i = 0; i < WIDE; i++) {
    node *n = new_node(t, i);
    beskid_gc_store(t, &slots[i], n);
    beskid_gc_store(t, (void **)&n->other, new_node(t, -i));
  }
  for (int l = 0; l < LISTS; l++) {
    for (int i = 0; i < LIST_LEN; i++) {
      node *n = new_node(t, l * LIST_LEN + i);
      beskid_gc_store(t, (void **)&n->next, g->lists[l]);
      beskid_gc_store(t, (void **)&g->lists[l], n);
    }
  }
}

static void check(graph *g) {
  void **slots = beskid_obj_array_data(g->wide);
  for (int i = 0; i < WIDE; i++) {
    node *n = slots[i];
    ck_assert_int_eq(n->value, i);
    ck_assert_int_eq(n->other->value, -i);
  }
  for (int l = 0; l < LISTS; l++) {
    int64_t expect = l * LIST_LEN + LIST_LEN - 1, count = 0;
    for (node *n = g->lists[l]; n != NULL; n = n->next, expect--, count++) {
      ck_assert_int_eq(n->value, expect);
    }
    ck_assert_int_eq(count, LIST_LEN);
  }
}

typedef struct churn_args {
  _Atomic int stop;
  graph *g;
} churn_args;

/* A second mutator: while cycles run, rotates the lists (unlink the head, relink it at the
 * tail's place through fresh copies) and replaces the wide array's trees, with barriered stores,
 * so the marked graph keeps moving under the workers. */
static void *churn(void *arg) {
  churn_args *a = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  void *tmp = NULL;
  ck_assert_int_eq(beskid_gc_register_root(t, &tmp), BESKID_GC_OK);
  uint64_t round = 0;
  while (!atomic_load(&a->stop)) {
    void **slots = beskid_obj_array_data(a->g->wide);
    int i = (int)(round * 7919 % WIDE);
    node *old = __atomic_load_n((node **)&slots[i], __ATOMIC_RELAXED);
    node *fresh = new_node(t, i);
    tmp = fresh;
    beskid_gc_store(t, (void **)&fresh->other, new_node(t, -i));
    beskid_gc_store(t, &slots[i], fresh);
    (void)old;
    /* Copy a list's first 16 nodes and splice the copies in front of the rest. */
    int l = (int)(round % LISTS);
    node *head = a->g->lists[l], *cut = head;
    node *first = NULL, *last = NULL;
    for (int k = 0; k < 16; k++, cut = cut->next) {
      node *c = new_node(t, cut->value);
      if (last == NULL) {
        first = c;
        tmp = c;
      } else {
        beskid_gc_store(t, (void **)&last->next, c);
      }
      last = c;
    }
    beskid_gc_store(t, (void **)&last->next, cut);
    beskid_gc_store(t, (void **)&a->g->lists[l], first);
    for (int k = 0; k < 64; k++) new_node(t, k); /* garbage */
    round++;
  }
  tmp = NULL;
  ck_assert_int_eq(beskid_gc_unregister_root(t, &tmp), BESKID_GC_OK);
  beskid_gc_detach();
  return NULL;
}

static void mark_with_workers(uint32_t workers) {
  start_with(BESKID_GC_DEBUG_CHECKMARK | BESKID_GC_DEBUG_CLOBBER, workers);
  static graph g;
  memset(&g, 0, sizeof g);
  void **roots[1 + LISTS];
  roots[0] = &g.wide;
  for (int l = 0; l < LISTS; l++) roots[1 + l] = (void **)&g.lists[l];
  for (int r = 0; r < 1 + LISTS; r++)
    ck_assert_int_eq(beskid_gc_register_root(T, roots[r]), BESKID_GC_OK);
  build(T, &g);
  churn_args a = {.g = &g};
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, churn, &a, "churn"), BESKID_OK);
  for (int cycle = 0; cycle < 6; cycle++) {
    beskid_gc_collect(T);
    beskid_os_sleep_ns(1000000);
  }
  atomic_store(&a.stop, 1);
  /* From the native state: the churning thread may need a collection (a pause this attached
   * thread would otherwise hold up) before it sees the flag. */
  beskid_gc_enter_native(T);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(T);
  beskid_gc_collect(T);
  check(&g);
  for (int r = 1 + LISTS; r-- > 0;)
    ck_assert_int_eq(beskid_gc_unregister_root(T, roots[r]), BESKID_GC_OK);
  stop();
}

/* The cycle's CPU time counts every mark worker, not only the thread that drives the cycle:
 * with eight workers on this machine's CPUs the driver marks a small share itself. The caller
 * waits in the native state, so nearly all the process's CPU time meanwhile is the collector's. */
START_TEST(test_gc_cpu_counts_every_worker) {
  start_with(0, 8);
  static graph g;
  memset(&g, 0, sizeof g);
  ck_assert_int_eq(beskid_gc_register_root(T, &g.wide), BESKID_GC_OK);
  for (int l = 0; l < LISTS; l++)
    ck_assert_int_eq(beskid_gc_register_root(T, (void **)&g.lists[l]), BESKID_GC_OK);
  build(T, &g);
  beskid_gc_collect(T);
  beskid_gc_stats_t before, after;
  beskid_gc_read_stats(&before);
  uint64_t cpu0 = beskid_os_process_cpu_ns();
  for (int i = 0; i < 20; i++) beskid_gc_collect(T);
  uint64_t process = beskid_os_process_cpu_ns() - cpu0;
  beskid_gc_read_stats(&after);
  uint64_t counted = after.gc_cpu_ns - before.gc_cpu_ns;
  ck_assert_uint_ge(counted, process / 4 * 3); /* 0.98 here; the driver's share alone, 0.46 */
  ck_assert_uint_le(counted, process + process / 10 + 2000000); /* CPU clocks tick coarsely */
  check(&g);
  for (int l = LISTS; l-- > 0;)
    ck_assert_int_eq(beskid_gc_unregister_root(T, (void **)&g.lists[l]), BESKID_GC_OK);
  ck_assert_int_eq(beskid_gc_unregister_root(T, &g.wide), BESKID_GC_OK);
  stop();
}
END_TEST

START_TEST(test_too_many_workers_refused) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.mark_workers = BESKID_GC_MARK_WORKERS_MAX + 1;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_INVALID);
  config.mark_workers = BESKID_GC_MARK_WORKERS_MAX;
  config.debug_flags = BESKID_GC_DEBUG_MANUAL;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_OK);
  ck_assert_int_eq(beskid_gc_shutdown(), BESKID_GC_OK);
}
END_TEST

START_TEST(test_mark_1_worker) { mark_with_workers(1); }
END_TEST
START_TEST(test_mark_2_workers) { mark_with_workers(2); }
END_TEST
START_TEST(test_mark_4_workers) { mark_with_workers(4); }
END_TEST
START_TEST(test_mark_8_workers) { mark_with_workers(8); }
END_TEST

int main(void) {
  Suite *suite = suite_create("gc_pacer");
  TCase *tc = tcase_create("ttsp");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_huge_allocation_does_not_hold_a_stop);
  suite_add_tcase(suite, tc);

  tc = tcase_create("model");
  tcase_set_timeout(tc, 60); /* the busy-CPU case waits for a CPU of its own on a busy machine */
  tcase_add_test(tc, test_pacer_goal_keeps_gogc_limit_and_cap);
  tcase_add_test(tc, test_pacer_limit_goal_and_budget);
  tcase_add_test(tc, test_pacer_smoothing_and_observation);
  tcase_add_test(tc, test_pacer_trace_fast_marker_triggers_late);
  tcase_add_test(tc, test_pacer_trace_heavy_allocator_gets_workers);
  tcase_add_test(tc, test_pacer_workers_only_on_idle_cpus);
  tcase_add_test(tc, test_busy_cpus_measured_from_cpu_time);
  tcase_add_test(tc, test_pacer_unknown_rates_fall_back_and_gogc_off_never_triggers);
  tcase_add_test(tc, test_pacer_assist_ratio);
  tcase_add_test(tc, test_pacer_learns_in_manual_mode);
  suite_add_tcase(suite, tc);

  tc = tcase_create("workers");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, test_too_many_workers_refused);
  tcase_add_test(tc, test_mark_1_worker);
  tcase_add_test(tc, test_mark_2_workers);
  tcase_add_test(tc, test_mark_4_workers);
  tcase_add_test(tc, test_mark_8_workers);
  tcase_add_test(tc, test_gc_cpu_counts_every_worker);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
