/* collector.c — the garbage collector: its design, the steps of a cycle, the driver that runs
 * them (a background thread or the caller), and init and shutdown. Pacing is in pacer.c, the
 * barriers in barrier.c, statistics and the trace line in stats.c.
 *
 * ALGORITHM
 *
 * The collector is a precise, non-moving, concurrent tri-color mark-and-sweep collector shaped
 * after Go's. Precise: an object is traced only through its type descriptor's pointer map (an
 * array buffer through its element descriptor, stride and capacity); roots are the root frames
 * and registered slots of attached threads, registered globals and handles. Nothing is scanned
 * conservatively, and any address inside an object keeps the whole object alive.
 *
 * The heap (heap.c, alloc.c) is built from 8 KiB pages taken in 1 MiB chunks from mimalloc, out
 * of one exclusive arena reserved at start-up so that a flat page table maps any address to its
 * span. A small-object span holds objects of one size class and keeps two bitmaps: alloc bits
 * (allocated or survived the last sweep) and mark bits. Large objects (> 32 KiB) get a span of
 * their own. Spans of pointer-free objects ("noscan") are kept apart so marking never reads them.
 * Each thread allocates from its own cached span per size class without locks.
 *
 * A cycle has five steps:
 *
 *  0. Sweep termination (concurrent). The previous cycle's sweep is finished before anything
 *     else, by the cycle's driver, so that no pause ever has to sweep.
 *
 *  1. Mark start — STOP THE WORLD #1. Every attached thread is stopped at a safepoint (or is in
 *     native code). The phase becomes MARKING, the write barrier is turned on
 *     (beskid_gc_barrier_on), allocation turns black, and every root is shaded: each thread's
 *     root frames and registered slots, the globals and the handles. The pause does work
 *     proportional to the number of threads and root slots, never to the heap.
 *
 *  2. Concurrent mark. The world runs. The driver and the mark workers (mark_workers.c) drain
 *     grey objects from the shared work pool and scan them; allocating threads help in proportion
 * to what they allocate (mark assists, paced so that marking ends near the heap goal). The barrier
 * shades the value a store overwrites (Yuasa: nothing reachable at mark start can hide by moving
 * from the heap into a root), so roots never need a rescan; the stored value needs shading only
 * while the storing thread's roots are grey, which they never are after this pause (Go's hybrid
 *     barrier; barrier.c explains it and the one exception). Objects allocated during marking
 *     are marked at once.
 *
 *  3. Mark termination — STOP THE WORLD #2. With the world stopped, each thread's barrier buffer
 *     is flushed (and in a cycle where the parent/child barrier ran, which cannot see the values
 *     it overwrites, every thread's roots are rescanned). A marker that found no memory for
 *     grey work dropped it and raised a flag; then the marked heap is rescanned here, which
 *     greys what the dropped objects point to (mark.c). If that produced grey work, the world
 *     restarts and marking continues: step 2 again. Otherwise every reachable object is black:
 *     the barrier is turned off, every thread's cached spans are returned, live bytes are
 *     summed, `sweepgen` advances by two (which turns every span unswept at once), and the
 *     pacer sets the next goal. This pause too is bounded by threads, roots and buffered
 *     pointers.
 *
 *  4. Concurrent sweep. The world runs. The driver sweeps span after span; a thread that needs
 *     a span of some class sweeps spans of that class first. Sweeping a span is bitmap work
 *     (alloc := mark, mark := 0); empty spans go back to their chunk, empty chunks to mimalloc.
 *
 * INVARIANTS
 * - Tri-color: during marking no black object points to a white object that is not also
 *   reachable from a grey object through white objects (weak invariant, kept by the barrier).
 *   At mark termination there are no grey objects, so every white object is garbage.
 * - Marking and sweeping never overlap: a cycle starts only after the previous sweep is done.
 * - No thread allocates from an unswept span, and no span is cached across mark termination.
 * - Only one cycle runs at a time (gc.cycle_lock); the phase changes only with the world stopped
 *   (IDLE→MARKING, MARKING→SWEEPING) or by the driver once sweeping is complete (→IDLE).
 *
 * PACING: see pacer.c.
 *
 *
 * WHY SPANS ON MIMALLOC CHUNKS (and not one mimalloc block per object)
 * The design brief's first choice was one mimalloc block per object with a side table of
 * colours, swept by calling mi_free on each dead object. On this machine kind a cross-thread
 * mi_free costs 11.8 ns a block (measured while designing the collector; the research notes
 * are not part of this repository), so sweeping binary-trees'
 * ~5 million dead objects per cycle would cost ~60 ms of collector time a cycle — more than the
 * mutator's own allocation time — and the collector would fall behind. Bitmap sweeping of spans
 * measures ~20 ms a cycle for the same objects (BESKID_GCTRACE, binary-trees 21) and never
 * touches dead objects; spans also give O(1) interior-pointer lookup (page table + division)
 * and the bump-pointer fast path. mimalloc still provides all GC memory (1 MiB chunks from an
 * exclusive arena, and returns it to the OS).
 *
 * WHO RUNS CYCLES
 * A background thread, woken when an allocation crosses the trigger, drives cycles. A thread
 * calling beskid_gc_collect() drives one itself and blocks until it is swept. With
 * BESKID_GC_DEBUG_MANUAL there is no background thread and tests advance cycles step by step.
 * A driver that is itself an attached thread stays in the native state while it drives, so the
 * pauses it requests do not wait for it and its own roots are scanned like anyone else's. */
#include <string.h>

#include "internal.h"

#define GC_DEFAULT_RESERVE (UINT64_C(64) << 30) /* address space when there is no cap */
#define GC_RESERVE_SLACK   (UINT64_C(512) << 20)
#define GC_SCAVENGE_BUDGET (UINT64_C(256) << 20) /* memory released per cycle at most */

static uint64_t stw_began_ns; /* when the current pause began (debug STW mode: the whole cycle) */

/* ------------------------------------------------------------------------------------------ */
/* The cycle's steps. The caller holds gc.cycle_lock and, if attached, is NATIVE. */

static bool stw_mode(void) { return (gc.config.debug_flags & BESKID_GC_DEBUG_STW) != 0; }

static void step_mark_start(bool forced) {
  memset(&gc.cycle, 0, sizeof gc.cycle);
  gc.cycle.forced = forced;
  gc.cycle.cpu_start_ns = beskid_os_thread_cpu_ns();
  gc.cycle.assist_ns_at_start = atomic_load(&gc.assist_ns);
  beskid_gc__finish_sweep();
  gc.cycle.heap_before = beskid_gc__pacer_cycle_begin();

  gc_stop_wait wait;
  beskid_gc__stop_world(&wait);
  uint64_t t0 = beskid_os_monotonic_ns();
  stw_began_ns = t0;
  if (gc.config.debug_flags & BESKID_GC_DEBUG_VERIFY) beskid_gc__verify_or_die("mark start", true);
  atomic_store(&gc.marked_bytes, 0);
  atomic_store(&gc.marked_objects, 0);
  beskid_gc__pacer_mark_start();
  atomic_store(&gc.phase, BESKID_GC_PHASE_MARKING);
  /* Relaxed: the threads that will read the flag are stopped, and the restart orders this store
   * before anything they do next. */
  __atomic_store_n(&beskid_gc_barrier_on, 1, __ATOMIC_RELAXED);
  gc_marker m;
  beskid_gc__marker_init(&m);
  atomic_store(&gc.rescan_roots, false);
  atomic_store(&gc.marks_incomplete, false);
  atomic_store(&gc.insertion_barrier, atomic_load(&gc.object_barrier_used));
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    t->black_bytes = t->black_objects = 0;
    t->assist_debt = 0;
    beskid_gc__premark_caches(t); /* allocate-black from the spans already cached */
    beskid_gc__scan_thread_roots(&m, t);
  }
  beskid_gc__scan_global_roots(&m);
  beskid_gc__marker_flush(&m);
  uint64_t pause = beskid_os_monotonic_ns() - t0;
  gc.cycle.stw1_ns = pause;
  gc.cycle.start_wait = wait;
  if (!stw_mode()) {
    beskid_gc__record_pause(pause, &wait);
    beskid_gc__start_world();
  }
}

/* With the world stopped: moves every thread's buffered grey pointers (and, in a cycle where the
 * parent/child barrier ran, what every thread's roots point to) into the pool. */
static void flush_threads(gc_marker *m) {
  bool rescan = atomic_load(&gc.rescan_roots);
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    beskid_gc__flush_barrier_buffer(t);
    if (rescan) beskid_gc__scan_thread_roots(m, t);
  }
  beskid_gc__marker_flush(m);
}

/* Marks to completion and terminates: returns with the world restarted and the phase SWEEPING. */
static void step_mark_done(void) {
  uint64_t mark_start = beskid_os_monotonic_ns();
  gc_marker m;
  beskid_gc__marker_init(&m);
  m.credits_assists = true;
  gc_stop_wait wait = {0, 0};
  uint64_t t0;
  for (;;) {
    if (stw_mode()) {
      t0 = stw_began_ns;
    } else {
      /* Drain until the pool is empty and no assist still holds grey work, so that the pause
       * below usually finds nothing left and need not be retried. */
      gc.cycle.workers = atomic_load(&gc.pacer.workers_planned);
      beskid_gc__mark_workers_run(&m, gc.cycle.workers); /* mark_workers.c */
      beskid_gc__stop_world(&wait);
      t0 = beskid_os_monotonic_ns();
    }
    flush_threads(&m);
    /* Grey entries dropped for want of a work block (mark.c) come back through a rescan of the
     * marked heap, with the world stopped; a rescan that drops entries again asks for another. */
    bool more = beskid_gc__work_available();
    if (!more && beskid_gc__mark_recover_overflow(&m)) {
      more = beskid_gc__work_available() || atomic_load(&gc.mark_overflow);
    }
    if (!more) break;
    if (stw_mode()) {
      beskid_gc__drain(&m, UINT64_MAX);
      beskid_gc__marker_flush(&m);
      continue;
    }
    /* More grey work turned up: let the world run while it is marked. */
    beskid_gc__record_pause(beskid_os_monotonic_ns() - t0, &wait);
    beskid_gc__start_world();
  }
  gc.cycle.mark_ns = stw_mode() ? 0 : t0 - mark_start;
  /* The world is stopped and the barrier goes off below: stable until the next mark start. */
  bool keep_all = atomic_load(&gc.marks_incomplete);
  if ((gc.config.debug_flags & BESKID_GC_DEBUG_CHECKMARK) && !keep_all) {
    beskid_gc__checkmark_stopped();
  }
  if (gc.config.debug_flags & BESKID_GC_DEBUG_VERIFY) beskid_gc__verify_or_die("mark end", true);

  /* Mark termination proper. */
  __atomic_store_n(&beskid_gc_barrier_on, 0, __ATOMIC_RELAXED);
  uint64_t black_bytes = 0, black_objects = 0;
  uint32_t mutators = 0;
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    if (atomic_load_explicit(&t->state, memory_order_relaxed) != GC_THREAD_NATIVE) mutators++;
    beskid_gc__release_caches(t);
    black_bytes += t->black_bytes;
    black_objects += t->black_objects;
    t->black_bytes = t->black_objects = 0;
  }
  gc.cycle.heap_after_mark = atomic_load(&gc.heap_bytes);
  if (keep_all) { /* every allocated object survives this cycle */
    gc.live_bytes = gc.cycle.heap_after_mark;
    gc.live_objects = atomic_load(&gc.heap_objects);
  } else {
    gc.live_bytes = atomic_load(&gc.marked_bytes) + black_bytes;
    gc.live_objects = atomic_load(&gc.marked_objects) + black_objects;
  }
  beskid_gc__pacer_mark_done(gc.cycle.heap_after_mark);
  gc.cycle.live = gc.live_bytes;
  gc.cycle.live_objects = gc.live_objects;
  atomic_store(&gc.sweep_cursor, 0);
  atomic_fetch_add(&gc.sweepgen, 2);
  atomic_store(&gc.phase, BESKID_GC_PHASE_SWEEPING);
  uint64_t worker_scan, worker_cpu;
  beskid_gc__mark_workers_take_totals(&worker_scan, &worker_cpu);
  gc.cycle.worker_cpu_ns = worker_cpu;
  beskid_gc__pacer_observe(&gc.pacer.rates, gc.live_bytes, gc.pacer.last_scan_work,
                           gc.pacer.mark_alloc, gc.cycle.mark_ns, worker_scan, worker_cpu);
  if (mutators < gc.pacer.mutator_cpus) mutators = gc.pacer.mutator_cpus; /* pacer.c */
  atomic_store_explicit(&gc.pacer.mutators, mutators, memory_order_relaxed);
  beskid_gc__pacer_set_goal(gc.live_bytes);
  gc.cycle.goal = atomic_load(&gc.pacer.goal);
  uint64_t pause = beskid_os_monotonic_ns() - t0;
  if (stw_mode()) {
    beskid_gc__finish_sweep();
    pause = beskid_os_monotonic_ns() - t0;
    gc.cycle.stw1_ns = pause;
    wait = gc.cycle.start_wait;
  } else {
    gc.cycle.stw2_ns = pause;
  }
  beskid_gc__record_pause(pause, &wait);
  beskid_gc__start_world();
}

static void step_sweep(void) {
  uint64_t t0 = beskid_os_monotonic_ns();
  beskid_gc__finish_sweep();
  gc.cycle.sweep_ns = beskid_os_monotonic_ns() - t0;
  if (gc.config.debug_flags & BESKID_GC_DEBUG_VERIFY) beskid_gc__verify_or_die("sweep end", false);
  atomic_store(&gc.phase, BESKID_GC_PHASE_IDLE);
  /* Keep the pages the next cycle will want (the goal, plus room for cached spans and a margin
   * against churning chunks through mimalloc); give the rest back. */
  uint64_t goal = atomic_load(&gc.pacer.goal);
  uint64_t keep = goal == UINT64_MAX ? UINT64_MAX : goal + goal / 2 + (UINT64_C(4) << 20);
  beskid_gc__heap_scavenge(keep);
  /* Then bring what stays resident down to the next goal (scavenge.c), a bounded amount a cycle
   * so that the cycle after a large drop is not held up. */
  beskid_gc__scavenge(beskid_gc__scavenge_target(), GC_SCAVENGE_BUDGET);
  gc.cycles_done++;

  /* The driver's CPU time, its helpers' and the mutators' assists: what the cycle cost. */
  uint64_t collector_cpu =
      beskid_os_thread_cpu_ns() - gc.cycle.cpu_start_ns + beskid_gc__mark_workers_take_helper_cpu();
  beskid_gc__pacer_observe_mutators(collector_cpu);
  beskid_gc__publish_cycle(collector_cpu +
                           (atomic_load(&gc.assist_ns) - gc.cycle.assist_ns_at_start));

  beskid_gc__trace_cycle();
}

/* Advances the collector to `target`. If `fresh` is set and a cycle is already past its start,
 * that cycle is completed first and a new one run to `target` (what collect() needs). */
static void advance(gc_thread *self, beskid_gc_step_t target, bool fresh, bool forced) {
  if (self != NULL) beskid_gc_enter_native(&self->pub);
  beskid_os_mutex_lock(&gc.cycle_lock);
  if (fresh && atomic_load(&gc.phase) != BESKID_GC_PHASE_IDLE) {
    if (atomic_load(&gc.phase) == BESKID_GC_PHASE_MARKING) step_mark_done();
    step_sweep();
  }
  for (;;) {
    uint32_t phase = atomic_load(&gc.phase);
    if (phase == BESKID_GC_PHASE_IDLE) {
      if (!fresh && target == BESKID_GC_STEP_SWEPT) break;
      fresh = false;
      step_mark_start(forced);
      /* In stop-the-world mode the world is still stopped: the cycle must go on. */
      if (target == BESKID_GC_STEP_MARK_STARTED && !stw_mode()) break;
    } else if (phase == BESKID_GC_PHASE_MARKING) {
      if (target == BESKID_GC_STEP_MARK_STARTED) break;
      step_mark_done();
      if (target == BESKID_GC_STEP_MARK_DONE) break;
    } else {
      if (target == BESKID_GC_STEP_MARK_DONE && !fresh) break;
      step_sweep();
      if (target == BESKID_GC_STEP_SWEPT) break;
    }
  }
  beskid_os_mutex_unlock(&gc.cycle_lock);
  if (self != NULL) beskid_gc_leave_native(&self->pub);
}

uint64_t beskid_gc_collect(beskid_gc_thread_t *pt) {
  if (!gc.initialized) return 0;
  gc_thread *self = pt != NULL ? gc_thread_of(pt) : beskid_gc__thread_self();
  if (self != NULL && self->in_collect) return gc.live_bytes;
  if (self != NULL) beskid_gc__require_running(self, "collection");
  if (self != NULL) self->in_collect = true;
  advance(self, BESKID_GC_STEP_SWEPT, true, true);
  if (self != NULL) self->in_collect = false;
  return gc.live_bytes;
}

void beskid_gc__collect_for_oom(gc_thread *t) { beskid_gc_collect(&t->pub); }

void beskid_gc_step(beskid_gc_thread_t *pt, beskid_gc_step_t target) {
  if (!gc.initialized) return;
  advance(pt != NULL ? gc_thread_of(pt) : beskid_gc__thread_self(), target, false, true);
}

bool beskid_gc_mark_some(beskid_gc_thread_t *pt, size_t budget) {
  (void)pt;
  if (!gc.initialized || atomic_load(&gc.phase) != BESKID_GC_PHASE_MARKING) return false;
  gc_marker m;
  beskid_gc__marker_init(&m);
  for (size_t i = 0; i < budget; i++) {
    if (!beskid_gc__drain(&m, 1)) break;
  }
  beskid_gc__marker_flush(&m);
  return beskid_gc__work_available();
}

beskid_gc_phase_t beskid_gc_phase(void) {
  return gc.initialized ? (beskid_gc_phase_t)atomic_load(&gc.phase) : BESKID_GC_PHASE_IDLE;
}

/* ------------------------------------------------------------------------------------------ */
/* The background collector */

static void *collector_main(void *arg) {
  (void)arg;
  beskid_os_mutex_lock(&gc.wake_lock);
  /* Past the thread's start-up: beskid_gc__collector_start waits for this (below). */
  gc.collector_started = true;
  beskid_os_cond_broadcast(&gc.wake_cond);
  for (;;) {
    while (!atomic_load(&gc.cycle_wanted) && !gc.stopping) {
      beskid_os_cond_wait(&gc.wake_cond, &gc.wake_lock);
    }
    if (gc.stopping) break;
    atomic_store(&gc.cycle_wanted, false);
    beskid_os_mutex_unlock(&gc.wake_lock);
    /* A request can be raised between the wake-up and the mark start (the phase is still IDLE
     * then); after the cycle it is stale, so the trigger is checked again against the swept
     * heap. */
    if (atomic_load(&gc.heap_bytes) >= atomic_load(&gc.pacer.trigger)) {
      advance(NULL, BESKID_GC_STEP_SWEPT, true, false);
    }
    beskid_os_mutex_lock(&gc.wake_lock);
  }
  beskid_os_mutex_unlock(&gc.wake_lock);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Set-up, settings and shutdown */

void beskid_gc_config_default(beskid_gc_config_t *config) {
  memset(config, 0, sizeof *config);
  config->gogc = BESKID_GC_GOGC_DEFAULT;
}

bool beskid_gc_is_initialized(void) { return gc.initialized; }

/* The lifecycle lock: made once per process and never destroyed, so a thread that races a
 * shutdown or a fork waits on a valid lock and then finds the collector's state settled. */
static beskid_os_mutex_t lifecycle_lock;
static beskid_os_once_t lifecycle_once = BESKID_OS_ONCE_INIT;
static void lifecycle_lock_init(void) {
  beskid_os_mutex_init(&lifecycle_lock);
  beskid_gc__fork_register();
}
void beskid_gc__lifecycle_lock(void) {
  beskid_os_once(&lifecycle_once, lifecycle_lock_init);
  beskid_os_mutex_lock(&lifecycle_lock);
}
void beskid_gc__lifecycle_unlock(void) { beskid_os_mutex_unlock(&lifecycle_lock); }

/* Starts the background collector (not in manual mode). */
bool beskid_gc__collector_start(void) {
  if (gc.config.debug_flags & BESKID_GC_DEBUG_MANUAL) return true;
  gc.stopping = false;
  atomic_store(&gc.cycle_wanted, false);
  gc.collector_started = false;
  if (beskid_os_thread_create(&gc.collector, collector_main, NULL, "beskid-gc") != BESKID_OK) {
    return false;
  }
  gc.collector_running = true;
  /* Returns once the thread is past its start-up, so that a fork right after init (or after a
   * fork) does not copy it half-way through (fork.c). A wake-up meant for the collector that
   * this wait takes instead is not lost: the collector checks cycle_wanted before it waits. */
  beskid_os_mutex_lock(&gc.wake_lock);
  while (!gc.collector_started) beskid_os_cond_wait(&gc.wake_cond, &gc.wake_lock);
  beskid_os_mutex_unlock(&gc.wake_lock);
  return true;
}

static void collector_stop(void) {
  if (!gc.collector_running) return;
  beskid_os_mutex_lock(&gc.wake_lock);
  gc.stopping = true;
  beskid_os_cond_signal(&gc.wake_cond);
  beskid_os_mutex_unlock(&gc.wake_lock);
  beskid_os_thread_join(&gc.collector, NULL);
  gc.collector_running = false;
}

/* Releases everything init made. No thread is attached; the lifecycle lock is held. */
static void teardown(void) {
  collector_stop();
  beskid_gc__grower_stop();
  beskid_gc__mark_workers_shutdown();
  gc.initialized = false;
  __atomic_store_n(&beskid_gc_barrier_on, 0, __ATOMIC_RELAXED);
  beskid_gc__roots_shutdown();
  beskid_gc__mark_shutdown();
  beskid_gc__heap_shutdown();
  beskid_os_cond_destroy(&gc.wake_cond);
  beskid_os_mutex_destroy(&gc.wake_lock);
  beskid_os_mutex_destroy(&gc.cycle_lock);
  beskid_os_mutex_destroy(&gc.failure_lock);
  beskid_os_mutex_destroy(&gc.stats_lock);
  beskid_os_mutex_destroy(&gc.roots_lock);
  beskid_gc__threads_shutdown();
}

/* The one copy of the caller's settings into the places they live (internal.h, "Settings"). */
static void settings_from_config(const beskid_gc_config_t *config) {
  gc.config.debug_flags = config->debug_flags;
  gc.config.log = config->log;
  gc.config.log_context = config->log_context;
  gc.config.fatal = config->fatal;
  gc.config.out_of_memory = config->out_of_memory;
  gc.config.mark_workers = config->mark_workers;
  atomic_store(&gc.pacer.gogc, config->gogc);
  atomic_store(&gc.pacer.memory_limit, config->memory_limit);
  atomic_store(&gc.pacer.heap_max, config->heap_max);
  atomic_store(&gc.stress_interval, config->stress_interval);
  atomic_store(&gc.trace, config->trace);
}

beskid_gc_status beskid_gc_init(const beskid_gc_config_t *config) {
  beskid_gc_config_t defaults;
  if (config == NULL) {
    beskid_gc_config_default(&defaults);
    config = &defaults;
  }
  if (config->gogc < BESKID_GC_GOGC_OFF) return BESKID_GC_INVALID;
  if (config->mark_workers > BESKID_GC_MARK_WORKERS_MAX) return BESKID_GC_INVALID;
  beskid_gc__lifecycle_lock();
  if (gc.initialized) {
    beskid_gc__lifecycle_unlock();
    return BESKID_GC_BAD_STATE;
  }
  memset(&gc, 0, sizeof gc);
  settings_from_config(config);
  /* An explicit reserve is taken as asked or refused. Otherwise: twice the cap plus slack (room
   * for fragmentation and dedicated chunks), saturating, at most what any machine could give;
   * if that much cannot be had the reservation halves until it fits, so a cap above what the
   * machine can reserve means no cap beyond the arena. */
  uint64_t reserve = config->reserve;
  uint64_t floor = reserve;
  if (reserve != 0) {
    if (reserve > GC_RESERVE_MAX) {
      beskid_gc__lifecycle_unlock();
      return BESKID_GC_INVALID;
    }
  } else {
    uint64_t cap = config->heap_max;
    if (cap == 0)
      reserve = GC_DEFAULT_RESERVE;
    else if (cap > (GC_RESERVE_MAX - GC_RESERVE_SLACK) / 2)
      reserve = GC_RESERVE_MAX;
    else
      reserve = cap * 2 + GC_RESERVE_SLACK;
    floor = GC_RESERVE_MIN;
  }
  beskid_gc_status st = beskid_gc__heap_init(reserve, floor);
  if (st != BESKID_GC_OK) {
    beskid_gc__lifecycle_unlock();
    return st;
  }
  beskid_gc__threads_init();
  beskid_gc__mark_init();
  beskid_os_mutex_init(&gc.roots_lock);
  beskid_os_mutex_init(&gc.stats_lock);
  beskid_os_mutex_init(&gc.failure_lock);
  beskid_os_mutex_init(&gc.cycle_lock);
  beskid_os_mutex_init(&gc.wake_lock);
  beskid_os_cond_init(&gc.wake_cond);
  atomic_store(&gc.sweepgen, 4); /* so that gen-2 never wraps below 0 */
  beskid_gc__pacer_set_goal(0);
  gc.start_ns = beskid_os_monotonic_ns();
  beskid_gc__stats_init();
  gc.initialized = true;
  if (!beskid_gc__collector_start() || !beskid_gc__grower_start()) {
    teardown();
    beskid_gc__lifecycle_unlock();
    return BESKID_GC_OUT_OF_MEMORY;
  }
  beskid_gc__lifecycle_unlock();
  return BESKID_GC_OK;
}

beskid_gc_status beskid_gc_shutdown(void) {
  gc_thread *self = beskid_gc__thread_self();
  /* Native while waiting for the lock: its holder may be attaching a thread, which waits out
   * any pause in progress, and a pause must not wait for us. */
  if (self != NULL) beskid_gc_enter_native(&self->pub);
  beskid_gc__lifecycle_lock();
  if (!gc.initialized) {
    beskid_gc__lifecycle_unlock();
    return BESKID_GC_OK;
  }
  /* No thread attaches while we hold the lifecycle lock, so the count can only go down. */
  beskid_os_mutex_lock(&gc.threads_lock);
  uint32_t others = gc.thread_count - (self != NULL ? 1u : 0u);
  beskid_os_mutex_unlock(&gc.threads_lock);
  if (others != 0) {
    /* Their contexts, the heap and the locks must outlive them: refuse, change nothing. */
    beskid_gc__lifecycle_unlock();
    if (self != NULL) beskid_gc_leave_native(&self->pub);
    return BESKID_GC_BAD_STATE;
  }
  if (self != NULL) {
    beskid_gc_leave_native(&self->pub);
    /* The detach hook does not run: the process is ending its use of the runtime, not a
     * thread. */
    beskid_gc__detach_quietly();
  }
  teardown();
  beskid_gc__lifecycle_unlock();
  return BESKID_GC_OK;
}
