/* pacer.c — when cycles run and who pays for marking: the heap goal and trigger, mark assists
 * and the background marker's credit, and the GOGC / memory-limit / heap-cap settings.
 *
 * PACING (GOGC)
 * After a cycle that found L live bytes, the heap goal is L × (1 + GOGC/100), at least
 * 1 MiB × GOGC/100 and at most the soft memory limit (minus 3% headroom) or the hard cap. The
 * trigger is learned (pacer_model.c has the model and its formulas): from the measured scan work
 * per byte, the mark workers' speed and the allocation rate while marking, marking starts so
 * that it ends at the goal with the background workers alone, but never earlier than 70% of the
 * way from L to the goal (what the workers cannot finish by the goal, assists do); the same
 * model picks how many mark workers run (mark_workers.c).
 * While marking, allocating threads owe scan work in proportion to what they allocate (the
 * model's assist ratio); work the background workers have done pays that debt first, and only
 * the rest is an assist, a bounded slice at a time. An assist that finds no grey work to take
 * while the heap is past its goal waits for the workers' credit instead (assist_wait). At the
 * soft memory limit's own goal, assists pay their whole debt and wait for as long as it takes,
 * within each thread's metered budget (pacer_model.c, "At the memory limit").
 * GOGC=off leaves only the memory limit and the hard cap to trigger cycles. Past the hard cap,
 * allocation runs one emergency collection and then fails (builtins traps).
 */
#include "internal.h"

#define GC_ASSIST_MIN_DEBT (UINT64_C(64) << 10)
#define GC_ASSIST_MAX_WORK (UINT64_C(128) << 10) /* bounds how long an assist delays a pause */
#define GC_ASSIST_NAP_NS   UINT64_C(20000) /* a waiting assist looks at the credit this often */

/* ------------------------------------------------------------------------------------------ */
/* Pacing */

void beskid_gc__pacer_set_goal(uint64_t live) {
  /* The model, its formulas and its bounds: pacer_model.c. */
  gc_pacer_inputs in = {
      .live = live,
      .last_scan_work = gc.pacer.last_scan_work,
      .last_mark_alloc = gc.pacer.mark_alloc,
      .scan_per_byte = gc.pacer.rates.scan_per_byte,
      .mark_speed = gc.pacer.rates.mark_speed,
      .alloc_rate = gc.pacer.rates.alloc_rate,
      .gogc = atomic_load(&gc.pacer.gogc),
      .memory_limit = atomic_load(&gc.pacer.memory_limit),
      .heap_max = atomic_load(&gc.pacer.heap_max),
      .cpus = gc.pacer.cpus,
      .pool_workers = beskid_gc__mark_workers_pool(),
      .mutators = atomic_load_explicit(&gc.pacer.mutators, memory_order_relaxed),
      .fixed_workers = beskid_gc__mark_workers_fixed(),
  };
  gc_pacer_plan plan;
  beskid_gc__pacer_plan(&in, &plan);
  atomic_store(&gc.pacer.workers_planned, plan.workers);
  atomic_store(&gc.pacer.goal, plan.goal);
  atomic_store(&gc.pacer.trigger, plan.trigger);
}

uint64_t beskid_gc__pacer_cycle_begin(void) {
  gc.pacer.heap_at_mark_start = atomic_load(&gc.heap_bytes);
  return gc.pacer.heap_at_mark_start;
}

void beskid_gc__pacer_mark_start(void) {
  atomic_store(&gc.pacer.scan_done, 0);
  atomic_store(&gc.pacer.assist_credit, 0);
}

void beskid_gc__pacer_mark_done(uint64_t heap_after_mark) {
  uint64_t before = gc.pacer.heap_at_mark_start;
  gc.pacer.mark_alloc = heap_after_mark > before ? heap_after_mark - before : 0;
  gc.pacer.last_scan_work = atomic_load(&gc.pacer.scan_done);
}

/* The program's threads' CPU use counts, not the state they were in at one instant: a thread
 * that spends a moment in the native state (populating a span, copying a large array, a short
 * host call) at the mark termination that counts them still keeps its CPU busy, and an extra
 * mark worker planned onto that CPU takes it from the thread for whole scheduler slices
 * (bench/RESULTS.md, "Mark workers on a CPU a mutator uses"). The runtime's own threads' time is
 * what the driver and the helpers spent on the cycle, and the grower's: a driver waiting for
 * the next cycle sleeps, as idle helpers nearly do. */
void beskid_gc__pacer_observe_mutators(uint64_t collector_cpu_ns) {
  uint64_t now = beskid_os_monotonic_ns();
  uint64_t process_cpu = beskid_os_process_cpu_ns();
  uint64_t grow_cpu = atomic_load_explicit(&gc.grow_cpu_ns, memory_order_relaxed);
  /* A fork child's process clock starts again from zero: that reading only starts afresh. */
  if (gc.pacer.usage_wall_ns != 0 && now > gc.pacer.usage_wall_ns &&
      process_cpu >= gc.pacer.usage_process_cpu_ns && grow_cpu >= gc.pacer.usage_grow_cpu_ns) {
    uint64_t spent = process_cpu - gc.pacer.usage_process_cpu_ns;
    uint64_t ours = collector_cpu_ns + (grow_cpu - gc.pacer.usage_grow_cpu_ns);
    gc.pacer.mutator_cpus =
        beskid_gc__pacer_busy_cpus(spent > ours ? spent - ours : 0, now - gc.pacer.usage_wall_ns);
  }
  gc.pacer.usage_wall_ns = now;
  gc.pacer.usage_process_cpu_ns = process_cpu;
  gc.pacer.usage_grow_cpu_ns = grow_cpu;
}

/* Called from allocation slow paths: wakes the background collector when the heap crosses the
 * trigger. */
void beskid_gc__maybe_trigger(gc_thread *t) {
  (void)t;
  if (atomic_load_explicit(&gc.heap_bytes, memory_order_relaxed) <
      atomic_load_explicit(&gc.pacer.trigger, memory_order_relaxed)) {
    return;
  }
  if (!gc.collector_running || atomic_load(&gc.phase) != BESKID_GC_PHASE_IDLE) return;
  /* Only the thread that raises the request takes wake_lock to signal it: every allocating
   * thread comes here until the collector starts the cycle, and when the lock's holder lost its
   * CPU on a crowded machine, the others queued behind it for milliseconds (two_mutator: waits
   * of 0.8-4.2 ms for this lock, each part of a stop's wait). The flag is raised before the lock
   * is taken, so a collector that found it down still holds the lock until it waits, and the
   * signal comes after. Relaxed load: a request seen late is one more exchange. */
  if (atomic_load_explicit(&gc.cycle_wanted, memory_order_relaxed) ||
      atomic_exchange(&gc.cycle_wanted, true)) {
    return;
  }
  beskid_os_mutex_lock(&gc.wake_lock);
  beskid_os_cond_signal(&gc.wake_cond);
  beskid_os_mutex_unlock(&gc.wake_lock);
}

/* Takes up to `want` bytes of the background workers' credit; returns what it took. Relaxed:
 * the credit is a counter; the CAS only keeps two assists from taking the same. */
static uint64_t take_credit(uint64_t want) {
  uint64_t credit = atomic_load_explicit(&gc.pacer.assist_credit, memory_order_relaxed);
  for (;;) {
    uint64_t take = credit < want ? credit : want;
    if (take == 0) return 0;
    if (atomic_compare_exchange_weak_explicit(&gc.pacer.assist_credit, &credit, credit - take,
                                              memory_order_relaxed, memory_order_relaxed)) {
      return take;
    }
  }
}

/* An assist that found no grey work to take while the heap is past its goal: the grey objects
 * are the background workers' (a heap of a few long lists holds a handful at a time, each in a
 * worker's hands), and the mutator, free to go on, would carry the heap further past the goal
 * with every allocation. Instead it waits for the workers, as Go parks such an assist: it naps
 * in the native state (a stop does not wait for it) and takes their credit as it comes, until
 * `unpaid` is paid, the mark ends, or `most_ns` has passed; a debt still unpaid then comes back
 * with its next allocations. */
static void assist_wait(gc_thread *t, uint64_t unpaid, uint64_t most_ns) {
  uint64_t start = beskid_os_monotonic_ns(), now = start;
  beskid_gc_enter_native(&t->pub);
  while (unpaid > 0 && now - start < most_ns &&
         atomic_load_explicit(&gc.phase, memory_order_relaxed) == BESKID_GC_PHASE_MARKING) {
    beskid_os_sleep_ns(GC_ASSIST_NAP_NS);
    unpaid -= take_credit(unpaid);
    now = beskid_os_monotonic_ns();
  }
  beskid_gc_leave_native(&t->pub);
  /* Relaxed: a statistic, published through nothing. */
  atomic_fetch_add_explicit(&gc.assist_wait_ns, now - start, memory_order_relaxed);
}

/* How long an assist of `t` may wait at the memory limit, with `heap` bytes in the heap at
 * `now`: 0 when the heap is below the limit's own goal or the thread's bucket is spent, and it
 * pays as outside the limit. Brings the bucket up to date (only `t` touches it). */
static uint64_t limit_allowance(gc_thread *t, uint64_t heap, uint64_t limit_goal, uint64_t now) {
  if (heap < limit_goal) return 0;
  t->limit_spent_ns = beskid_gc__pacer_limit_spent(t->limit_spent_ns, now - t->limit_spent_at, 0);
  t->limit_spent_at = now;
  return beskid_gc__pacer_limit_allowance(t->limit_spent_ns);
}

/* Mark assist: a thread that allocated `bytes` during marking scans objects in proportion, so
 * that marking finishes before the heap outgrows its goal. */
void beskid_gc__assist(gc_thread *t, uint64_t bytes) {
  if (atomic_load_explicit(&gc.phase, memory_order_relaxed) != BESKID_GC_PHASE_MARKING) return;
  if (gc.config.debug_flags & (BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_STW)) return;
  t->assist_debt += (int64_t)bytes;
  if (t->assist_debt < (int64_t)GC_ASSIST_MIN_DEBT) return;
  /* Work per byte allocated, in 1/256 units (pacer_model.c). */
  uint64_t heap = atomic_load(&gc.heap_bytes), goal = atomic_load(&gc.pacer.goal);
  uint64_t limit_goal = beskid_gc__pacer_limit_goal(
      atomic_load_explicit(&gc.pacer.memory_limit, memory_order_relaxed));
  uint64_t ratio256 = beskid_gc__pacer_assist_ratio(
      gc.pacer.last_scan_work, atomic_load_explicit(&gc.pacer.scan_done, memory_order_relaxed),
      heap, goal, gc.pacer.heap_at_mark_start, limit_goal);
  uint64_t owed = gc_sat_mul((uint64_t)t->assist_debt / 256, ratio256);
  t->assist_debt = 0;
  uint64_t start = beskid_os_monotonic_ns();
  uint64_t limit_wait = limit_allowance(t, heap, limit_goal, start);
  /* A slice at most; the rest of the debt is forgiven, unless the thread has to wait or the
   * heap is at the memory limit. Work the background marker has done beyond what earlier
   * assists took pays first: while it keeps ahead of the allocation rate, mutators do not mark
   * at all (Go's background credit). */
  uint64_t budget = owed < GC_ASSIST_MAX_WORK || limit_wait != 0 ? owed : GC_ASSIST_MAX_WORK;
  uint64_t paid = take_credit(budget);
  if (paid == budget) return;
  budget -= paid;
  atomic_fetch_add(&gc.assists_active, 1);
  gc_marker m;
  beskid_gc__marker_init(&m);
  /* What it leaves undone for a pause is the background workers' or a later assist's. */
  m.yields_to_stops = true;
  bool out_of_work = !beskid_gc__drain(&m, budget);
  uint64_t done = m.scanned_bytes;
  beskid_gc__marker_flush(&m);
  atomic_fetch_sub(&gc.assists_active, 1);
  atomic_fetch_add(&gc.assist_ns, beskid_os_monotonic_ns() - start);
  /* Below the goal there is runway left, and the thread goes on. */
  if (out_of_work && done < budget && (limit_wait != 0 || atomic_load(&gc.heap_bytes) >= goal)) {
    assist_wait(t, owed - paid - done,
                limit_wait > GC_ASSIST_WAIT_MAX_NS ? limit_wait : GC_ASSIST_WAIT_MAX_NS);
  }
  if (limit_wait != 0) {
    uint64_t end = beskid_os_monotonic_ns();
    t->limit_spent_ns =
        beskid_gc__pacer_limit_spent(t->limit_spent_ns, end - t->limit_spent_at, end - start);
    t->limit_spent_at = end;
  }
}

int32_t beskid_gc_set_gogc(int32_t gogc) {
  if (gogc < BESKID_GC_GOGC_OFF) gogc = BESKID_GC_GOGC_OFF;
  int32_t old = atomic_exchange(&gc.pacer.gogc, gogc);
  if (gc.initialized) beskid_gc__pacer_set_goal(gc.live_bytes);
  return old;
}

uint64_t beskid_gc_set_memory_limit(uint64_t bytes) {
  uint64_t old = atomic_exchange(&gc.pacer.memory_limit, bytes);
  if (gc.initialized) beskid_gc__pacer_set_goal(gc.live_bytes);
  return old;
}

uint64_t beskid_gc_set_heap_max(uint64_t bytes) {
  uint64_t old = atomic_exchange(&gc.pacer.heap_max, bytes);
  if (gc.initialized) beskid_gc__pacer_set_goal(gc.live_bytes);
  return old;
}
