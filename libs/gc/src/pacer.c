/* pacer.c — when cycles run and who pays for marking: the heap goal and trigger, mark assists
 * and the background marker's credit, and the GOGC / memory-limit / heap-cap settings.
 *
 * PACING (GOGC)
 * After a cycle that found L live bytes, the heap goal is L × (1 + GOGC/100), at least
 * GC_HEAP_MIN × GOGC/100 and at most the soft memory limit (minus 3% headroom); the next cycle
 * is triggered early enough that the allocation the last mark saw would end near the goal, but
 * never before 70% of the way from L to the goal: objects allocated while marking are black and
 * count in the next L, so a long mark inflates every later goal. While marking, allocating
 * threads owe scan work in proportion to what they allocate (the scan work still expected — the
 * last cycle's, or once that is exceeded all of the heap with a goal 10% higher — over the
 * runway left to the goal); work the background marker has done pays that debt first, and only
 * the rest is an assist, a bounded slice at a time.
 * GOGC=off leaves only the memory limit and the hard cap to trigger cycles. Past the hard cap,
 * allocation runs one emergency collection and then fails (builtins traps).
 */
#include "internal.h"

#define GC_HEAP_MIN            (UINT64_C(1) << 20) /* smallest goal at GOGC=100 */
#define GC_ASSIST_MIN_DEBT     (UINT64_C(64) << 10)
#define GC_ASSIST_MAX_WORK     (UINT64_C(128) << 10) /* bounds how long an assist delays a pause */
#define GC_TRIGGER_MIN_PERCENT 70u /* marking starts at least this far from live to goal */

/* ------------------------------------------------------------------------------------------ */
/* Pacing */

void beskid_gc__pacer_set_goal(uint64_t live) {
  int32_t gogc = atomic_load(&gc.pacer.gogc);
  uint64_t limit = atomic_load(&gc.pacer.memory_limit);
  uint64_t cap = atomic_load(&gc.pacer.heap_max);
  uint64_t goal = UINT64_MAX;
  if (gogc != BESKID_GC_GOGC_OFF) {
    /* Saturating: a huge GOGC on a huge heap means "no goal", never a wrapped tiny one. */
    uint64_t growth;
    if (__builtin_mul_overflow(live / 100, (uint64_t)gogc, &growth) ||
        __builtin_add_overflow(growth, live % 100 * (uint64_t)gogc / 100, &growth) ||
        __builtin_add_overflow(live, growth, &goal)) {
      goal = UINT64_MAX;
    }
    uint64_t floor = GC_HEAP_MIN / 100 * (uint64_t)gogc;
    if (goal < floor) goal = floor;
  }
  /* The soft limit wins over GOGC, keeping 3% (at least 1 MiB) of headroom, but never asks for a
   * goal below what is live. */
  if (limit != 0) {
    uint64_t headroom = limit / 33 > (UINT64_C(1) << 20) ? limit / 33 : (UINT64_C(1) << 20);
    uint64_t limit_goal = limit > headroom ? limit - headroom : 0;
    if (limit_goal < live) limit_goal = live;
    if (limit_goal < goal) goal = limit_goal;
  }
  if (cap != 0 && goal > cap) goal = cap > live ? cap : live;
  /* Trigger so that the allocation expected during marking (what the last mark saw) ends near
   * the goal, but no earlier than GC_TRIGGER_MIN_PERCENT of the way from live to goal (and no later
   * than 95%). Objects allocated while marking are black and count as live for the next goal, so an
   * early trigger inflates every later goal; starting late and letting assists hold the heap to
   * the goal (Go's pacer: trigger at 70% or more) bounds that inflation to the last 30%. */
  uint64_t trigger = UINT64_MAX;
  if (goal != UINT64_MAX) {
    uint64_t runway = goal - live;
    uint64_t expected = gc.pacer.mark_alloc + gc.pacer.mark_alloc / 8;
    uint64_t longest = runway / 100 * (100 - GC_TRIGGER_MIN_PERCENT);
    uint64_t lead = expected < longest ? expected : longest;
    if (lead < runway / 20) lead = runway / 20;
    trigger = goal - lead;
  }
  atomic_store(&gc.pacer.goal, goal);
  atomic_store(&gc.pacer.trigger, trigger);
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

/* Called from allocation slow paths: wakes the background collector when the heap crosses the
 * trigger. */
void beskid_gc__maybe_trigger(gc_thread *t) {
  (void)t;
  if (atomic_load_explicit(&gc.heap_bytes, memory_order_relaxed) <
      atomic_load_explicit(&gc.pacer.trigger, memory_order_relaxed)) {
    return;
  }
  if (!gc.collector_running || atomic_load(&gc.phase) != BESKID_GC_PHASE_IDLE) return;
  beskid_os_mutex_lock(&gc.wake_lock);
  if (!gc.cycle_wanted) {
    gc.cycle_wanted = true;
    beskid_os_cond_signal(&gc.wake_cond);
  }
  beskid_os_mutex_unlock(&gc.wake_lock);
}

/* Mark assist: a thread that allocated `bytes` during marking scans objects in proportion, so
 * that marking finishes before the heap outgrows its goal. */
void beskid_gc__assist(gc_thread *t, uint64_t bytes) {
  if (atomic_load_explicit(&gc.phase, memory_order_relaxed) != BESKID_GC_PHASE_MARKING) return;
  if (gc.config.debug_flags & (BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_STW)) return;
  t->assist_debt += (int64_t)bytes;
  if (t->assist_debt < (int64_t)GC_ASSIST_MIN_DEBT) return;
  /* Scan work expected this cycle: what the last one did. Once marking has done more than that,
   * the estimate was low: assume the worst (all of the heap at mark start is live and scannable)
   * and let the heap run 10% past its goal (Go's hard goal), so assists bound the overshoot
   * instead of stopping. */
  uint64_t heap = atomic_load(&gc.heap_bytes), goal = atomic_load(&gc.pacer.goal);
  uint64_t expected = gc.pacer.last_scan_work > GC_HEAP_MIN ? gc.pacer.last_scan_work : GC_HEAP_MIN;
  uint64_t scanned = atomic_load_explicit(&gc.pacer.scan_done, memory_order_relaxed);
  if (scanned >= expected) {
    expected = gc.pacer.heap_at_mark_start > scanned + GC_ASSIST_MIN_DEBT
                   ? gc.pacer.heap_at_mark_start
                   : scanned + GC_ASSIST_MIN_DEBT;
    goal += goal / 10;
  }
  uint64_t runway = goal > heap + GC_ASSIST_MIN_DEBT ? goal - heap : GC_ASSIST_MIN_DEBT;
  uint64_t remaining = expected - scanned;
  /* Work per byte allocated = remaining scan work / remaining runway, in 1/256 units. */
  uint64_t ratio256 = remaining / (runway / 256 + 1) + 1;
  uint64_t budget = (uint64_t)t->assist_debt / 256 * ratio256;
  if (budget > GC_ASSIST_MAX_WORK) budget = GC_ASSIST_MAX_WORK;
  t->assist_debt = 0;
  /* Work the background marker has done beyond what earlier assists took pays first: while it
   * keeps ahead of the allocation rate, mutators do not mark at all (Go's background credit).
   * Relaxed: the credit is a counter; the CAS only keeps two assists from taking the same. */
  uint64_t credit = atomic_load_explicit(&gc.pacer.assist_credit, memory_order_relaxed);
  for (;;) {
    uint64_t take = credit < budget ? credit : budget;
    if (take == 0) break;
    if (atomic_compare_exchange_weak_explicit(&gc.pacer.assist_credit, &credit, credit - take,
                                              memory_order_relaxed, memory_order_relaxed)) {
      budget -= take;
      break;
    }
  }
  if (budget == 0) return;
  uint64_t start = beskid_os_monotonic_ns();
  atomic_fetch_add(&gc.assists_active, 1);
  gc_marker m;
  beskid_gc__marker_init(&m);
  beskid_gc__drain(&m, budget);
  beskid_gc__marker_flush(&m);
  atomic_fetch_sub(&gc.assists_active, 1);
  atomic_fetch_add(&gc.assist_ns, beskid_os_monotonic_ns() - start);
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
