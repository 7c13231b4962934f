/* thread.c — mutator threads: attaching and detaching, stopping the world at safepoints, and the
 * native state that lets a blocked thread stay out of every pause.
 *
 * Each thread's `state` is RUNNING, NATIVE or STOPPED. The world is stopped when every attached
 * thread is NATIVE or STOPPED. The protocol, with all accesses to `state` and
 * `gc.stop_requested` sequentially consistent:
 *
 *   stopper:   stop_requested = 1; poll = 1 for every thread; wait (threads_cond) until no
 *              thread is RUNNING.
 *   safepoint: sees stop_requested under threads_lock -> state = STOPPED, signal, wait while
 *              stop_requested is set, state = RUNNING.
 *   enter_native: state = NATIVE; if stop_requested, signal the stopper (under the lock).
 *   leave_native: state = RUNNING; if stop_requested, as a safepoint (under threads_lock:
 *              STOPPED, signal, wait while stop_requested is set, RUNNING).
 *
 * Because both sides store then load with seq_cst (Dekker), either the stopper sees the thread
 * RUNNING and waits for its next safepoint, or the thread sees the request and backs off: a
 * thread never runs managed code while the world is stopped. The restart (start_world) happens
 * under threads_lock, which orders everything the stopper did during the pause before the
 * threads' next steps. A thread that is not attached never touches the heap.
 *
 * A thread in the native state must not touch the heap: a pause counts it as stopped and scans
 * its roots, premarks or releases its allocation caches while it runs. It is kept out by the
 * thread lookup rather than by a test on every path: beskid_gc__running_thread is the thread's
 * context only while it is RUNNING, so the allocation fast path and libs/builtins' entry points
 * (through beskid_gc_current_running()) fall to their slow paths, which report the misuse.
 *
 * While the world is stopped, threads_lock is free: stopped threads wait on threads_cond. The
 * thread list changes only under threads_lock and only while no stop is requested (attach and
 * detach wait for the restart), so the driver of a pause can walk it without the lock.
 *
 * Spinning before sleeping. Both sides of a stop wait for the other: the stopper for the last
 * thread to reach a safepoint (usually a few microseconds), each stopped thread for the restart
 * (a pause: tens of microseconds). Sleeping on threads_cond costs a futex wake-up, and on the
 * virtual machines we measured a woken thread ran 100-600 us later: several whole pauses,
 * invisible in the pause figures yet a stall for every mutator. So each side first spins on the
 * state it waits for, lock-free, for a bit longer than the other side usually takes
 * (GC_STOP_SPIN_NS, GC_PARK_SPIN_NS), and sleeps only after that. Spinning pays only while
 * every waiter and the thread it waits for each have a CPU: with more threads in managed code
 * at the request (running, or still parked from the last stop) than CPUs less one (the
 * stopper's), a spinner would hold the CPU the awaited thread needs, so then both sides sleep at
 * once, as before. Threads in the native state do not count: they neither wait nor are waited for,
 * and a program's threads blocked in the kernel (a read, a sleep, a join) would otherwise have made
 * every stop sleep on both sides (the barrier workload: one mutator, one thread waiting in
 * beskid_gc_collect(), stops of 1.1-1.7 ms for 0.2 ms of the mutator's own; bench/RESULTS.md,
 * "Spinning counts running threads"). The stopper decides once per stop (gc.stop_spins) and the
 * stopped threads follow it. The condition variable stays the fallback, and every state change
 * still signals it, so a sleeper is never missed.
 *
 * Enough CPUs is not enough: the scheduler may still put the stopper and the thread it waits
 * for on the same CPU. A mutator that wakes the collector (its allocation reached the trigger)
 * often finds it placed on its own CPU and is preempted by it, with the other CPU idle. Then
 * the stopper spun its 100 us while the mutator waited for that very CPU, and the mutator,
 * stopped at last, spun its 250 us on it while the stopper waited to run the pause: 370 us to
 * stop one thread, recurring in every workload (bench/RESULTS.md, "Spinning on a shared CPU").
 * So each side looks at the CPUs every GC_SPIN_LOOK turns of its spin: the stopper publishes the
 * CPU it is on (gc.stopper_cpu) and, once the wait is longer than a thread on another CPU takes,
 * yields it, which costs a system call when nothing else wants the CPU and hands it to the
 * mutator when the mutator waits there; a stopped thread on the stopper's CPU stops spinning
 * and sleeps at once.
 *
 * The restart has the same problem the other way round: with more threads than CPUs, a
 * restarted thread waits for a CPU while the stopper goes back to marking or sweeping on its
 * own. There the stopper naps until the threads it stopped have run (beskid_gc__start_world).
 *
 * Where a stop's wait went. A stop that waits for a thread waits either for code that does not
 * poll (a runtime path without a bound, ours to fix) or for the scheduler (the thread waits for
 * a CPU: more runnable threads than CPUs, or the kernel running something else there); and the
 * stopper itself may notice late, for the same reason. The time to safepoint alone cannot tell
 * these apart, so each stop also works out `running_ns`: for each thread, an upper bound of the
 * time its own code held the stop, the least of
 * - when the stopper first saw it stopped (world_stopped_noting());
 * - when it parked (parked_ns, stored before its state), if that lies between the request and
 *   that sighting (a later one is a thread that left the native state during the pause);
 * - for a stop still waiting after GC_STOP_WATCH_NS: that wait, plus the CPU time the thread used
 *   after it. The stopper then reads the CPU clock of each thread still RUNNING and flags it
 *   (stop_watch = ASKED); a flagged thread, as it stops (parking, or entering the native state),
 *   reads its own CPU time and reports it (REPORTED) before the state store that
 *   world_stopped_noting() reads, so the report is visible once the stopper sees it stopped.
 * and `running_ns` is the largest of these bounds. A thread whose clock cannot be read is bound
 * by the first two only. The stopper clears every flag before the world restarts. The clock
 * reads cost a system call each, only in stops already late; a thread's look at its flag on the
 * way to stopping is one load. */

#include "internal.h"
#include "mimalloc.h"

/* The calling thread's context. Initial-exec TLS: one %fs-relative load, also in the shared
 * runtime (a pointer fits glibc's static TLS reserve for dlopen). */
__attribute__((tls_model("initial-exec"))) _Thread_local gc_thread *beskid_gc__current_thread;
#define current_thread beskid_gc__current_thread

/* The calling thread's context while it may touch the heap: attached and not in the native
 * state; NULL otherwise. Every entry point that handles managed pointers finds its thread
 * through this one (the allocation fast path, beskid_gc_current_running() for libs/builtins), so
 * the native state costs those paths nothing: the NULL test they already make for an unattached
 * thread sends a native caller to the slow path too, which tells the two apart. Only the thread
 * itself writes it (attach, detach, enter and leave native). */
__attribute__((tls_model("initial-exec"))) _Thread_local gc_thread *beskid_gc__running_thread;
#define running_thread beskid_gc__running_thread
static beskid_os_tls_t exit_key;
static beskid_os_once_t exit_key_once = BESKID_OS_ONCE_INIT;

/* Run after every detach but shutdown's (beskid_gc_set_detach_hook()). Seq_cst, like the thread
 * count: a thread that sets the hook and then reads the count, against a thread that lowers the
 * count and then reads the hook, cannot both miss the other's write (Dekker), so a detach racing
 * with the first user of the hook is seen by one of them. */
static _Atomic(beskid_gc_detach_hook) detach_hook;

void beskid_gc_set_detach_hook(beskid_gc_detach_hook hook) { atomic_store(&detach_hook, hook); }

static void run_detach_hook(void) {
  beskid_gc_detach_hook hook = atomic_load(&detach_hook);
  if (hook != NULL) hook();
}

uint32_t beskid_gc_thread_count(void) {
  /* Seq_cst, like the writes below: a caller that orders its own state changes before this read
   * (the deadlock check) sees every detach that happened before them. */
  return __atomic_load_n(&gc.thread_count, __ATOMIC_SEQ_CST);
}

/* Runs when a thread exits attached. Its context is live: a context is freed only by its own
 * thread (detach, or this destructor), or in the child of a fork where its thread does not exist,
 * and the collector refuses to shut down while any thread other than the caller is attached. So
 * the destructor never meets a context of a runtime that was shut down (or re-initialised). */
static void thread_exit_destructor(void *arg) {
  gc_thread *t = arg;
  if (t != NULL) {
    /* The thread's frames died with its stack: they are no longer roots. */
    t->pub.top_frame = NULL;
    beskid_gc__detach_thread(t, true);
    current_thread = NULL;
    running_thread = NULL;
    run_detach_hook();
  }
}

static void exit_key_init(void) { beskid_os_tls_create(&exit_key, thread_exit_destructor); }

/* The poll word's value when no stop is requested: stress mode keeps it set so that every
 * allocation takes the slow path, where stress collections happen. */
static uint32_t idle_poll(void) { return atomic_load(&gc.stress_interval) != 0 ? 1u : 0u; }

void beskid_gc__threads_set_idle_poll(void) {
  beskid_os_mutex_lock(&gc.threads_lock);
  if (!atomic_load(&gc.stop_requested)) {
    for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
      __atomic_store_n(&t->pub.poll, idle_poll(), __ATOMIC_RELAXED);
    }
  }
  beskid_os_mutex_unlock(&gc.threads_lock);
}

/* Waits until no stop is requested. Caller holds threads_lock and is not RUNNING. */
static void wait_for_world_running(void) {
  while (atomic_load(&gc.stop_requested)) beskid_os_cond_wait(&gc.threads_cond, &gc.threads_lock);
}

beskid_gc_thread_t *beskid_gc_current(void) {
  return current_thread != NULL ? &current_thread->pub : NULL;
}

beskid_gc_thread_t *beskid_gc_current_running(void) {
  return running_thread != NULL ? &running_thread->pub : NULL;
}

/* Relaxed (here and in beskid_gc__require_running): a thread's state is written only by the
 * thread itself (enter/leave native, parking), so its own read is exact; nothing else is
 * published through it. */
bool beskid_gc_in_native(const beskid_gc_thread_t *pt) {
  return atomic_load_explicit(&((const gc_thread *)pt)->state, memory_order_relaxed) ==
         GC_THREAD_NATIVE;
}

void beskid_gc__require_running(gc_thread *t, const char *what) {
  if (__builtin_expect(atomic_load_explicit(&t->state, memory_order_relaxed) == GC_THREAD_NATIVE,
                       0)) {
    beskid_gc__fatal("gc: %s by a thread in the native state (call beskid_gc_leave_native first)",
                     what);
  }
}

beskid_gc_thread_t *beskid_gc_attach(void) {
  if (current_thread != NULL) return &current_thread->pub;
  beskid_os_once(&exit_key_once, exit_key_init);
  /* Under the lifecycle lock, so the collector cannot shut down (or fork) half-way through. */
  beskid_gc__lifecycle_lock();
  if (!gc.initialized) {
    beskid_gc__lifecycle_unlock();
    return NULL;
  }
  gc_thread *t = beskid_os_mem_alloc(1, sizeof *t);
  if (t == NULL || (t->mi_heap = mi_heap_new_in_arena(gc.arena_id)) == NULL) {
    beskid_os_mem_free(t);
    beskid_gc__record_failure(sizeof *t); /* the context could not be had or completed */
    beskid_gc__lifecycle_unlock();
    return NULL;
  }
  beskid_gc__caches_init(t);
  t->has_cpu_clock = beskid_os_thread_cpu_clock(&t->cpu_clock) == BESKID_OK;
  atomic_init(&t->cpu, BESKID_OS_CPU_UNKNOWN); /* until its first span */
  t->stress_countdown = atomic_load(&gc.stress_interval);
  t->pub.poll = idle_poll();
  atomic_store(&t->state, GC_THREAD_NATIVE);
  beskid_os_mutex_lock(&gc.threads_lock);
  wait_for_world_running();
  t->next = gc.threads;
  if (gc.threads != NULL) gc.threads->prev = t;
  gc.threads = t;
  __atomic_store_n(&gc.thread_count, gc.thread_count + 1, __ATOMIC_SEQ_CST);
  beskid_os_mutex_unlock(&gc.threads_lock);
  beskid_gc__lifecycle_unlock();
  current_thread = t;
  beskid_os_tls_set(exit_key, t);
  beskid_gc_leave_native(&t->pub); /* waits out a pause in progress */
  return &t->pub;
}

void beskid_gc__detach_quietly(void) {
  gc_thread *t = current_thread;
  if (t == NULL) return;
  beskid_gc__detach_thread(t, false);
  current_thread = NULL;
  running_thread = NULL;
  beskid_os_tls_set(exit_key, NULL);
}

/* Ends mimalloc's use of the calling thread at its detach rather than at its exit. mimalloc puts
 * an ending thread's data in a cache, and a thread that attaches later takes them over: a
 * hand-off ordered by atomics inside the allocator, which ThreadSanitizer does not see, as
 * mimalloc is built without instrumentation. Done under the lifecycle lock, which every attach
 * holds while it sets mimalloc up, the hand-off is ordered by that lock too. (A thread that
 * exits attached is left to mimalloc's own exit handler, which runs before ours.) The thread
 * may use mimalloc again: it is set up anew on its next use. Not the process's first thread
 * (its thread id is the process id), whose data mimalloc keeps for the whole process and would
 * not count again when it attaches anew. */
static void end_allocator_thread(void) {
  if (beskid_os_thread_id() == (uint64_t)beskid_os_pid()) return;
  beskid_gc__lifecycle_lock();
  mi_thread_done();
  beskid_gc__lifecycle_unlock();
}

void beskid_gc_detach(void) {
  if (current_thread == NULL) return;
  beskid_gc__detach_quietly();
  end_allocator_thread();
  run_detach_hook();
}

/* Detaches `t`, the calling thread. `exiting` says we run in the thread's exit destructors, where
 * mimalloc may already have torn its heaps down (it deletes them itself in that case). */
void beskid_gc__detach_thread(gc_thread *t, bool exiting) {
  /* A thread may detach (or exit) in the native state: it first becomes RUNNING again, waiting
   * out a pause in progress, since what follows touches its caches and buffers. */
  if (atomic_load(&t->state) == GC_THREAD_NATIVE) beskid_gc_leave_native(&t->pub);
  /* Hand over what only this thread holds, at a point where no pause can be in progress
   * (we are RUNNING, so any stop waits for us), then leave. */
  beskid_gc_safepoint(&t->pub);
  beskid_gc__thread_retire(t);
  beskid_gc_enter_native(&t->pub);
  beskid_os_mutex_lock(&gc.threads_lock);
  wait_for_world_running();
  if (t->prev != NULL)
    t->prev->next = t->next;
  else
    gc.threads = t->next;
  if (t->next != NULL) t->next->prev = t->prev;
  __atomic_store_n(&gc.thread_count, gc.thread_count - 1, __ATOMIC_SEQ_CST);
  beskid_os_cond_broadcast(&gc.threads_cond);
  beskid_os_mutex_unlock(&gc.threads_lock);
  for (gc_root_block *b = t->roots, *prev; b != NULL; b = prev) {
    prev = b->prev;
    beskid_os_mem_free(b);
  }
  /* mimalloc moves the heap's pages to the thread's backing heap; the chunks in them stay
   * valid and are freed by whichever thread releases them. The thread is no longer in the list,
   * so a fork's stop does not wait for it: map_lock keeps the fork from copying mimalloc
   * mid-call (fork.c). */
  if (!exiting) {
    beskid_os_mutex_lock(&gc.map_lock);
    mi_heap_delete((mi_heap_t *)t->mi_heap);
    beskid_os_mutex_unlock(&gc.map_lock);
  }
  beskid_os_mem_free(t);
}

/* Hands over what only `t` holds: buffered grey pointers, cached spans, black bytes. */
void beskid_gc__thread_retire(gc_thread *t) {
  beskid_gc__flush_barrier_buffer(t);
  beskid_gc__release_caches(t);
  atomic_fetch_add(&gc.marked_bytes, t->black_bytes);
  atomic_fetch_add(&gc.marked_objects, t->black_objects);
  t->black_bytes = t->black_objects = 0;
}

#define GC_STOP_SPIN_NS        UINT64_C(100000) /* the stopper spins this long for the last thread */
#define GC_PARK_SPIN_NS        UINT64_C(250000) /* a stopped thread spins this long for the restart */
#define GC_STOP_YIELD_AFTER_NS UINT64_C(20000)   /* the stopper yields its CPU after this long */
#define GC_RESTART_WAIT_NS     UINT64_C(1000000) /* a crowded restart waits this long at most */
#define GC_RESTART_NAP_NS      UINT64_C(20000)   /* and naps this long between looks */

/* Whether the waits of the current (or last) stop spin: the threads it found running managed
 * code and the stopper have a CPU each (see "Spinning" above). Relaxed: a hint for how to wait;
 * a stale value costs time, never correctness. */
static bool spinning_pays(void) {
  return atomic_load_explicit(&gc.stop_spins, memory_order_relaxed);
}

/* Both spins below look up every GC_SPIN_LOOK turns (a pause each): at the clock, and at the CPUs
 * (see "Spinning on a shared CPU" above). */
#define GC_SPIN_LOOK 64u

/* The stopper's look, `waited_ns` into its spin: it tells the stopped threads where it runs and,
 * once the last thread is later than a thread on another CPU would be (GC_STOP_YIELD_AFTER_NS),
 * lets a thread waiting for its CPU run. Not sooner: a yield hands the CPU to anything runnable
 * there, the grower included, which then held it for a whole 64 KiB populate (0.46 ms in a traced
 * stop) while the mutator was already stopped. Only the stopper yields: a stopped thread that
 * yielded would hand its CPU to whatever else is runnable there (a mark worker, the sweeper) for
 * a whole time slice, and stalls of 2-3 ms were measured after such yields. Relaxed store: the
 * CPU is a hint, read by a spinner deciding whether to go on spinning; a stale value costs time,
 * never correctness. */
static void stopper_share_cpu(uint64_t waited_ns) {
  atomic_store_explicit(&gc.stopper_cpu, beskid_os_current_cpu(), memory_order_relaxed);
  if (waited_ns >= GC_STOP_YIELD_AFTER_NS) beskid_os_thread_yield();
}

/* Spins while a stop is requested, for at most GC_PARK_SPIN_NS, and not at all on the CPU the
 * stopper runs on. Seq_cst load: seeing the restart's store of 0 orders everything the stopper
 * did during the pause before what this thread does next, as taking threads_lock after the
 * restart would. */
static void spin_while_stop_requested(void) {
  uint64_t deadline = beskid_os_monotonic_ns() + GC_PARK_SPIN_NS;
  for (uint32_t i = 0; atomic_load(&gc.stop_requested); i++) {
    if (i % GC_SPIN_LOOK == 0 &&
        (beskid_os_current_cpu() == atomic_load_explicit(&gc.stopper_cpu, memory_order_relaxed) ||
         beskid_os_monotonic_ns() > deadline)) {
      return;
    }
    beskid_os_cpu_relax();
  }
}

void beskid_gc__threads_init(void) {
  gc.pacer.cpus = beskid_os_cpu_count();
  beskid_os_mutex_init(&gc.threads_lock);
  beskid_os_cond_init(&gc.threads_cond);
}

/* Releases what beskid_gc__threads_init() made; no thread is attached. */
void beskid_gc__threads_shutdown(void) {
  beskid_os_cond_destroy(&gc.threads_cond);
  beskid_os_mutex_destroy(&gc.threads_lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Safepoints and native state */

/* A thread the stopper watches reports, as it stops, its CPU time (see "Where a stop's wait
 * went"). Acquire: pairs with the stopper's release of the flag, which orders the stopper's
 * notes before it, as they are read by the stopper again later. The report's plain stores are
 * published by the caller's seq_cst state store that follows; the flag's store can be relaxed for
 * the same reason. */
static void report_watched_stop(gc_thread *t) {
  if (atomic_load_explicit(&t->stop_watch, memory_order_acquire) != GC_WATCH_ASKED) return;
  t->stopped_cpu_ns = beskid_os_thread_cpu_ns();
  atomic_store_explicit(&t->stop_watch, GC_WATCH_REPORTED, memory_order_relaxed);
}

/* Parks the calling thread while any stop is requested. It must not leave between two pauses
 * that follow each other closely: the second stopper may already have counted it as stopped. */
static void park_until_restart(gc_thread *t, uint32_t resume_state) {
  /* Caller holds threads_lock; stop_requested is set. */
  uint64_t parked = beskid_os_monotonic_ns();
  report_watched_stop(t);
  /* Relaxed: published by the seq_cst state store below (see "Where a stop's wait went"). */
  atomic_store_explicit(&t->parked_ns, parked, memory_order_relaxed);
  atomic_store(&t->state, GC_THREAD_STOPPED);
  beskid_os_cond_broadcast(&gc.threads_cond);
  if (spinning_pays()) {
    /* STOPPED stays set while the lock is dropped: if another stop follows this one before the
     * lock is back, this thread is already counted as stopped for it, and waits it out below. */
    beskid_os_mutex_unlock(&gc.threads_lock);
    spin_while_stop_requested();
    beskid_os_mutex_lock(&gc.threads_lock);
  }
  while (atomic_load(&gc.stop_requested)) beskid_os_cond_wait(&gc.threads_cond, &gc.threads_lock);
  atomic_store(&t->state, resume_state);
  beskid_gc__record_stall(beskid_os_monotonic_ns() - parked);
}

void beskid_gc_safepoint(beskid_gc_thread_t *pt) {
  gc_thread *t = gc_thread_of(pt);
  beskid_gc__require_running(t, "safepoint");
  if (!atomic_load(&gc.stop_requested)) {
    __atomic_store_n(&t->pub.poll, idle_poll(), __ATOMIC_RELAXED);
    if (atomic_load(&gc.stop_requested)) __atomic_store_n(&t->pub.poll, 1, __ATOMIC_RELAXED);
    return;
  }
  beskid_os_mutex_lock(&gc.threads_lock);
  if (atomic_load(&gc.stop_requested)) park_until_restart(t, GC_THREAD_RUNNING);
  beskid_os_mutex_unlock(&gc.threads_lock);
}

void beskid_gc_enter_native(beskid_gc_thread_t *pt) {
  gc_thread *t = gc_thread_of(pt);
  if (t == current_thread) running_thread = NULL;
  report_watched_stop(t);
  atomic_store(&t->state, GC_THREAD_NATIVE);
  if (atomic_load(&gc.stop_requested)) {
    beskid_os_mutex_lock(&gc.threads_lock);
    beskid_os_cond_broadcast(&gc.threads_cond);
    beskid_os_mutex_unlock(&gc.threads_lock);
  }
}

/* A thread that finds a stop requested as it comes back parks as at a safepoint, and resumes
 * RUNNING under threads_lock at the restart, so that the next stop waits for its next safepoint.
 * Resuming NATIVE and trying again, as it once did, starved it: a thread stopping the world back
 * to back (a collection loop, in the STW debug mode) asked for the next stop before the woken
 * thread tried again, and it stayed counted as stopped for every one of them (32,000 pauses
 * over 57 s while one str_split waited to come back from populating a new span). Between its
 * RUNNING store and the park it touches nothing a pause reads. */
void beskid_gc_leave_native(beskid_gc_thread_t *pt) {
  gc_thread *t = gc_thread_of(pt);
  atomic_store(&t->state, GC_THREAD_RUNNING);
  if (atomic_load(&gc.stop_requested)) {
    beskid_os_mutex_lock(&gc.threads_lock);
    if (atomic_load(&gc.stop_requested)) park_until_restart(t, GC_THREAD_RUNNING);
    beskid_os_mutex_unlock(&gc.threads_lock);
  }
  if (t == current_thread) running_thread = t;
}

/* ------------------------------------------------------------------------------------------ */
/* Stopping and restarting the world (only the thread running a cycle does this, holding
 * gc.cycle_lock; if it is attached it is NATIVE meanwhile). */

/* Whether no thread is RUNNING; notes when each thread was first seen stopped in this stop (see
 * "Where a stop's wait went"). Walks the list without the lock: a stop is requested, so the list
 * does not change. Seq_cst loads: the stopper's half of the Dekker protocol above. */
static bool world_stopped_noting(void) {
  bool stopped = true;
  uint64_t now = 0;
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    if (atomic_load(&t->state) == GC_THREAD_RUNNING) {
      stopped = false;
    } else if (t->seen_stopped_ns == 0) {
      if (now == 0) now = beskid_os_monotonic_ns();
      t->seen_stopped_ns = now;
    }
  }
  return stopped;
}

#define GC_STOP_WATCH_NS UINT64_C(100000) /* a stop this late reads its laggards' CPU clocks */

/* Begins watching the threads a stop still waits for: notes each one's CPU time and flags it.
 * Walks the list without the lock, as world_stopped_noting() does. */
static void watch_laggards(void) {
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    if (atomic_load(&t->state) != GC_THREAD_RUNNING || !t->has_cpu_clock ||
        beskid_os_cpu_clock_ns(t->cpu_clock, &t->watch_cpu_ns) != BESKID_OK) {
      continue;
    }
    t->watch_ns = beskid_os_monotonic_ns();
    atomic_store_explicit(&t->stop_watch, GC_WATCH_ASKED, memory_order_release);
  }
}

/* With the world stopped: the longest time a thread's own code held the stop that began at
 * `start` (see "Where a stop's wait went"), every flag cleared. Relaxed loads and plain reads:
 * what a thread stored before its seq_cst state store, which world_stopped_noting() read. */
static uint64_t running_ns(uint64_t start) {
  uint64_t longest = 0;
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    uint64_t seen = t->seen_stopped_ns, held = seen - start;
    uint64_t parked = atomic_load_explicit(&t->parked_ns, memory_order_relaxed);
    if (parked >= start && parked <= seen && parked - start < held) held = parked - start;
    if (atomic_load_explicit(&t->stop_watch, memory_order_relaxed) == GC_WATCH_REPORTED) {
      uint64_t ran = t->watch_ns - start;
      if (t->stopped_cpu_ns > t->watch_cpu_ns) ran += t->stopped_cpu_ns - t->watch_cpu_ns;
      if (ran < held) held = ran;
    }
    atomic_store_explicit(&t->stop_watch, GC_WATCH_NONE, memory_order_relaxed);
    if (held > longest) longest = held;
  }
  return longest;
}

void beskid_gc__stop_world(gc_stop_wait *wait) {
  uint64_t start = beskid_os_monotonic_ns();
  atomic_store_explicit(&gc.stopper_cpu, beskid_os_current_cpu(), memory_order_relaxed);
  beskid_os_mutex_lock(&gc.threads_lock);
  /* Counted before the request: a thread that leaves the native state meanwhile is one spinner
   * more than counted, for at most GC_PARK_SPIN_NS. A thread still STOPPED counts: it has not
   * run since the last restart (a stop can follow the last one closely) and wants a CPU too. */
  uint32_t in_managed_code = 0;
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    if (atomic_load(&t->state) != GC_THREAD_NATIVE) in_managed_code++;
  }
  atomic_store_explicit(&gc.stop_spins, in_managed_code < gc.pacer.cpus, memory_order_relaxed);
  atomic_store(&gc.stop_requested, 1);
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    t->seen_stopped_ns = 0;
    __atomic_store_n(&t->pub.poll, 1, __ATOMIC_RELAXED);
  }
  bool stopped = false;
  if (spinning_pays()) {
    beskid_os_mutex_unlock(&gc.threads_lock);
    for (uint32_t i = 1; !(stopped = world_stopped_noting()); i++) {
      beskid_os_cpu_relax();
      if (i % GC_SPIN_LOOK != 0) continue;
      uint64_t waited = beskid_os_monotonic_ns() - start;
      if (waited > GC_STOP_SPIN_NS) break;
      stopper_share_cpu(waited);
    }
    beskid_os_mutex_lock(&gc.threads_lock);
  }
  bool watched = false;
  while (!stopped && !(stopped = world_stopped_noting())) {
    uint64_t waited = beskid_os_monotonic_ns() - start;
    if (watched) {
      beskid_os_cond_wait(&gc.threads_cond, &gc.threads_lock);
    } else if (waited < GC_STOP_WATCH_NS) {
      beskid_os_cond_timedwait(&gc.threads_cond, &gc.threads_lock, GC_STOP_WATCH_NS - waited);
    } else {
      /* Without the lock: a thread on its way to park needs it. */
      beskid_os_mutex_unlock(&gc.threads_lock);
      watch_laggards();
      watched = true;
      beskid_os_mutex_lock(&gc.threads_lock);
    }
  }
  beskid_os_mutex_unlock(&gc.threads_lock);
  uint64_t ttsp = beskid_os_monotonic_ns() - start, running = running_ns(start);
  if (wait != NULL) *wait = (gc_stop_wait){ttsp, running < ttsp ? running : ttsp};
}

/* Whether a thread stopped by the last pause has not run since the restart. Under threads_lock:
 * once the world runs, threads may detach and free their entries. */
static bool restarted_thread_waits(void) {
  bool waits = false;
  beskid_os_mutex_lock(&gc.threads_lock);
  for (gc_thread *t = gc.threads; t != NULL && !waits; t = t->next) {
    waits = atomic_load(&t->state) == GC_THREAD_STOPPED;
  }
  beskid_os_mutex_unlock(&gc.threads_lock);
  return waits;
}

void beskid_gc__start_world(void) {
  beskid_os_mutex_lock(&gc.threads_lock);
  atomic_store(&gc.stop_requested, 0);
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    __atomic_store_n(&t->pub.poll, idle_poll(), __ATOMIC_RELAXED);
  }
  beskid_os_cond_broadcast(&gc.threads_cond);
  beskid_os_mutex_unlock(&gc.threads_lock);
  /* The stopper naps until the restarted threads have all run (at most GC_RESTART_WAIT_NS):
   * - where spinning does not pay, the threads and the stopper are more than the CPUs, and the
   *   restarted threads get a CPU only when one comes free; the nap leaves the stopper's own CPU
   *   to them instead of marking or sweeping on it. Parallel binary-trees (two mutators, two
   *   CPUs, four alternating runs): a stall per pause of 0.70-0.83 ms on average and 5.4-8.0 ms
   *   at worst before, 65-99 us and 1.1-1.5 ms after (bench/RESULTS.md, "Restarting a crowded
   *   world");
   * - and where it pays, a thread that slept rather than spun (one that came back from the
   *   native state during the pause) wakes only after a futex wake-up, by which time a stopper
   *   stopping the world back to back had asked for the next stop, and it stayed stopped through
   *   all of them. A spinning thread is gone before the first look, which costs a lock. */
  uint64_t deadline = beskid_os_monotonic_ns() + GC_RESTART_WAIT_NS;
  while (restarted_thread_waits() && beskid_os_monotonic_ns() < deadline) {
    beskid_os_sleep_ns(GC_RESTART_NAP_NS);
  }
}

uint64_t beskid_gc_set_stress_interval(uint64_t interval) {
  uint64_t old = atomic_exchange(&gc.stress_interval, interval);
  if (gc.initialized) beskid_gc__threads_set_idle_poll();
  return old;
}
