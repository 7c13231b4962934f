/* pacer_model.c — the pacer's model: pure, deterministic functions from measured rates and the
 * user's settings to the next cycle's goal, trigger, mark workers and assist ratio. Nothing here
 * reads a clock or the collector's state; collector.c gathers the inputs and applies the plan,
 * and the tests feed recorded cycle figures straight in.
 *
 * THE MODEL
 *
 * A cycle that ended with L bytes live sets the heap goal G from the settings, as before:
 *
 *     G = L × (1 + GOGC/100)           (at least 1 MiB × GOGC/100; none when GOGC is off)
 *     G = min(G, limit − headroom)     (soft limit; headroom 3%, at least 1 MiB; never below L)
 *     G = min(G, cap)                  (hard cap; never below L)
 *
 * and the runway R = G − L is what the mutators may allocate before the next cycle must be done.
 * The pacer's job is to start marking at the trigger T so that marking ends at G with the
 * background workers alone: assists are the exception, for when the model was wrong.
 *
 * Three rates are measured each cycle and smoothed over cycles (a new sample counts half, so a
 * rate settles in a few cycles and one odd cycle moves it only halfway):
 *
 *     s = scan work / live bytes        scan work per heap byte (fixed point, 1/1024)
 *     v = scan work / worker CPU time   mark speed, bytes per CPU-second of one worker
 *     a = allocated / mark wall time    allocation rate while marking, bytes per second
 *
 * The next mark is expected to scan W = s × L bytes. With n workers it lasts
 *
 *     D(n) = W / (n × v)    seconds
 *
 * and meanwhile the mutators allocate A(n) = a × D(n) bytes (allocated black: it is live for
 * this cycle). Marking ends at G when it starts at G − A(n), so, with a margin of 1/8 for noise,
 *
 *     T = G − A(n) × 9/8.
 *
 * An early trigger costs memory twice: the heap runs at T..G for longer, and everything allocated
 * while marking is black and counts in the next L, inflating every later goal. So the trigger
 * stays at least 70% of the way from L to G (Go's lower bound), and the pacer first buys speed
 * with workers: n starts at the dedicated count — a quarter of the CPUs, at least one, as Go
 * dedicates 25% of its processors — and grows until A(n) × 9/8 fits in the last 30% of the
 * runway, but only onto CPUs the mutators leave idle ("idle" workers in Go's terms): with the
 * mutators keeping M CPUs busy, n ≤ max(dedicated, CPUs − M), within the pool. M is the larger
 * of the threads running managed code at the last mark termination and the CPUs the program's
 * threads used over the last whole cycle (their CPU time over the wall time, rounded up past a
 * quarter of a CPU; pacer.c): a thread caught in a short native call at one instant still
 * keeps its CPU busy. A worker beyond that would take its CPU from a mutator, so the mark would
 * not end sooner in wall time, and the program would run slower. When even those workers cannot
 * make it, the trigger still stays at 70% and the mutators' assists do the rest of the mark, as
 * in Go: with the trigger a fraction f of the runway before the goal, the black allocation makes
 * L = S / (1 − f) for S bytes reachable from the snapshot, so the goal is 2.86 S at f = 0.3 where
 * it was 4 S when the trigger could move down to half the runway (bench/RESULTS.md, "Go's trigger
 * floor, again": the shrink's steady heap a fifth smaller, binary-trees' a tenth, for an eighth
 * of its wall time). It never moves later than 95% of the way, so a mark always has some runway
 * to finish in.
 *
 * A configured worker count (BESKID_GCWORKERS, beskid_gc_config_t.mark_workers) fixes n: every
 * mark runs that many workers and only the trigger adapts.
 *
 * Before any rate is known (the first cycles, or after a cycle too short to time), the trigger
 * falls back to what the last mark allocated: T = G − mark_alloc × 9/8, clamped to 70%..95%.
 *
 * ASSISTS
 *
 * While marking, a mutator owes scan work for what it allocates, at the ratio
 *
 *     r = (W − scanned) / (G − heap)      work per byte allocated, fixed point 1/256
 *
 * where W is the expected scan work. Once marking has done more than W the estimate was low:
 * W becomes the whole heap at mark start (every byte live and scannable — the worst case) and G
 * the hard goal 1.1 × G (no further than the soft limit's own goal, below), so assists bound
 * the overshoot instead of stopping. Work the background
 * workers did beyond what earlier assists took pays a mutator's debt first (collector.c), so in
 * steady state, where the workers keep ahead, no mutator marks at all.
 *
 * AT THE MEMORY LIMIT
 *
 * Outside the limit an assist is a slice of at most 128 KiB of marking, and one that finds no
 * grey work waits for the workers' credit at most 1 ms (pacer.c): short stalls, and a heap that
 * overshoots its goal while a slow mark ends. Once the heap reaches the soft limit's own goal,
 *
 *     G_limit = limit − headroom      (what the limit alone allows, however much is live),
 *
 * the program has chosen memory over time: an assist owes its whole debt and waits as long as
 * its debt is unpaid and the mark runs, as Go parks its assists (the memory-limit case of
 * test_gc_memory measured 34.7 MB of heap against a 31 MB goal under a 32 MiB limit when the
 * 1 ms bound held there too). So that a limit the live heap outgrew does not stall the program
 * for good, that time is metered per thread, as Go's GC CPU limiter meters its GC's CPU: a
 * bucket fills with the time a thread spends paying at the limit and drains at half the wall
 * clock,
 *
 *     spent' = max(spent − elapsed / 2, 0) + paid,
 *
 * and a thread whose bucket holds PACER_LIMIT_BUDGET_NS pays as outside the limit. A wait fills
 * the bucket at half its length (it drains as it fills), so one may last 2 × (budget − spent),
 * and over any stretch a thread spends at most half its time plus the budget paying at the
 * limit (an assist's marking has no time bound of its own: one long assist may take the bucket
 * past the budget, and the thread then pays as outside the limit until it drains); the rest of
 * the overshoot is the limit's to bear, as in Go.
 *
 * Every function is total: overflowing products saturate, zero rates mean "unknown". */
#include "internal.h"

#define PACER_TRIGGER_MIN_PERCENT 70u /* the trigger stays at least this far along */
#define PACER_TRIGGER_MAX_PERCENT 95u
#define PACER_HEAP_MIN            (UINT64_C(1) << 20) /* smallest goal at GOGC=100 */
#define PACER_ASSIST_MIN          (UINT64_C(64) << 10)
#define PACER_LIMIT_BUDGET_NS     UINT64_C(1000000000) /* Go's limiter: a CPU-second per CPU */

static uint64_t sat_add(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* a × b / c (c > 0) without intermediate overflow, saturating: a 128-bit product (the
 * extension keeps -Wpedantic quiet about the type). */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c) {
  __extension__ typedef unsigned __int128 u128;
  u128 r = (u128)a * b / c;
  return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

uint64_t beskid_gc__pacer_limit_goal(uint64_t limit) {
  if (limit == 0) return UINT64_MAX;
  uint64_t headroom = limit / 33 > PACER_HEAP_MIN ? limit / 33 : PACER_HEAP_MIN;
  return limit > headroom ? limit - headroom : 0;
}

uint64_t beskid_gc__pacer_limit_spent(uint64_t spent, uint64_t elapsed_ns, uint64_t paid_ns) {
  uint64_t drained = elapsed_ns / 2;
  return sat_add(spent > drained ? spent - drained : 0, paid_ns);
}

uint64_t beskid_gc__pacer_limit_allowance(uint64_t spent) {
  return spent < PACER_LIMIT_BUDGET_NS ? 2 * (PACER_LIMIT_BUDGET_NS - spent) : 0;
}

uint64_t beskid_gc__pacer_goal(uint64_t live, int32_t gogc, uint64_t limit, uint64_t cap) {
  uint64_t goal = UINT64_MAX;
  if (gogc != BESKID_GC_GOGC_OFF && gogc >= 0) {
    uint64_t growth =
        sat_add(gc_sat_mul(live / 100, (uint64_t)gogc), live % 100 * (uint64_t)gogc / 100);
    goal = sat_add(live, growth);
    uint64_t floor = PACER_HEAP_MIN / 100 * (uint64_t)gogc;
    if (goal < floor) goal = floor;
  }
  if (limit != 0) {
    uint64_t limit_goal = beskid_gc__pacer_limit_goal(limit);
    if (limit_goal < live) limit_goal = live;
    if (limit_goal < goal) goal = limit_goal;
  }
  if (cap != 0 && goal > cap) goal = cap > live ? cap : live;
  return goal;
}

uint32_t beskid_gc__pacer_dedicated_workers(uint32_t cpus) {
  uint32_t n = cpus / 4;
  return n == 0 ? 1 : n;
}

uint32_t beskid_gc__pacer_worker_bound(uint32_t cpus, uint32_t mutators, uint32_t dedicated,
                                       uint32_t pool) {
  uint32_t idle = mutators == 0 ? pool : cpus > mutators ? cpus - mutators : 0;
  uint32_t most = idle > dedicated ? idle : dedicated;
  return most < pool ? most : pool;
}

uint32_t beskid_gc__pacer_busy_cpus(uint64_t cpu_ns, uint64_t wall_ns) {
  if (wall_ns == 0) return 0;
  uint64_t whole = cpu_ns / wall_ns;
  if (cpu_ns % wall_ns > wall_ns / 4) whole++;
  return whole > UINT32_MAX ? UINT32_MAX : (uint32_t)whole;
}

uint64_t beskid_gc__pacer_smooth(uint64_t old, uint64_t sample) {
  if (sample == 0) return old;
  if (old == 0) return sample;
  return old / 2 + sample / 2 + (old & sample & 1u);
}

/* Bytes the mutators are expected to allocate while n workers mark W bytes. */
static uint64_t alloc_during_mark(const gc_pacer_inputs *in, uint64_t work, uint32_t n) {
  /* D = W / (n v) seconds; A = a D = a W / (n v). */
  return mul_div(in->alloc_rate, work, gc_sat_mul(in->mark_speed, n));
}

void beskid_gc__pacer_plan(const gc_pacer_inputs *in, gc_pacer_plan *out) {
  uint64_t live = in->live;
  uint64_t goal = beskid_gc__pacer_goal(live, in->gogc, in->memory_limit, in->heap_max);
  uint32_t pool = in->pool_workers == 0 ? 1 : in->pool_workers;
  uint32_t dedicated = in->fixed_workers ? pool : beskid_gc__pacer_dedicated_workers(in->cpus);
  if (dedicated > pool) dedicated = pool;
  out->goal = goal;
  out->workers = dedicated;
  out->expected_work =
      in->scan_per_byte == 0 ? in->last_scan_work : mul_div(live, in->scan_per_byte, 1024);
  out->expected_alloc = 0;
  out->learned = false;
  if (goal == UINT64_MAX) {
    out->trigger = UINT64_MAX;
    return;
  }
  uint64_t runway = goal - live;
  uint64_t latest = runway / 100 * (100 - PACER_TRIGGER_MIN_PERCENT);   /* lead at 70% */
  uint64_t shortest = runway / 100 * (100 - PACER_TRIGGER_MAX_PERCENT); /* lead at 95% */
  if (in->mark_speed != 0 && in->alloc_rate != 0) {
    out->learned = true;
    uint32_t n = dedicated;
    uint64_t expected = alloc_during_mark(in, out->expected_work, n);
    uint32_t most = beskid_gc__pacer_worker_bound(in->cpus, in->mutators, dedicated, pool);
    while (!in->fixed_workers && n < most && sat_add(expected, expected / 8) > latest) {
      n++;
      expected = alloc_during_mark(in, out->expected_work, n);
    }
    out->workers = n;
    out->expected_alloc = expected;
  } else {
    out->expected_alloc = in->last_mark_alloc;
  }
  uint64_t lead = sat_add(out->expected_alloc, out->expected_alloc / 8);
  if (lead > latest) lead = latest;
  if (lead < shortest) lead = shortest;
  out->trigger = goal - lead;
}

uint64_t beskid_gc__pacer_assist_ratio(uint64_t expected_work, uint64_t scanned, uint64_t heap,
                                       uint64_t goal, uint64_t heap_at_start, uint64_t limit_goal) {
  uint64_t expected = expected_work > PACER_HEAP_MIN ? expected_work : PACER_HEAP_MIN;
  if (scanned >= expected) {
    /* The estimate was low: assume everything at mark start is live, and allow the hard goal,
     * but not past the soft limit's own goal (where the goal already is that, it stays). */
    expected =
        heap_at_start > scanned + PACER_ASSIST_MIN ? heap_at_start : scanned + PACER_ASSIST_MIN;
    uint64_t hard = sat_add(goal, goal / 10);
    uint64_t most = limit_goal > goal ? limit_goal : goal;
    goal = hard < most ? hard : most;
  }
  uint64_t runway = goal > heap + PACER_ASSIST_MIN ? goal - heap : PACER_ASSIST_MIN;
  uint64_t remaining = expected - scanned;
  return remaining / (runway / 256 + 1) + 1;
}

void beskid_gc__pacer_observe(gc_pacer_rates *rates, uint64_t live, uint64_t scan_work,
                              uint64_t mark_alloc, uint64_t mark_wall_ns, uint64_t worker_scan,
                              uint64_t worker_cpu_ns) {
  if (live != 0) {
    rates->scan_per_byte =
        beskid_gc__pacer_smooth(rates->scan_per_byte, mul_div(scan_work, 1024, live));
  }
  /* A mark too short to time (under 0.1 ms of worker CPU) says nothing about speed. */
  if (worker_cpu_ns >= 100000 && worker_scan != 0) {
    rates->mark_speed = beskid_gc__pacer_smooth(rates->mark_speed,
                                                mul_div(worker_scan, 1000000000u, worker_cpu_ns));
  }
  if (mark_wall_ns >= 100000) {
    rates->alloc_rate =
        beskid_gc__pacer_smooth(rates->alloc_rate, mul_div(mark_alloc, 1000000000u, mark_wall_ns));
  }
}
