/* fork.c — the collector across fork(): the parent goes on unharmed, and the child, whose only
 * thread is the one that forked, gets a consistent single-threaded collector that can allocate
 * and collect.
 *
 * fork() copies memory, not threads. Whatever another thread was half-way through changing, and
 * every lock it held, would be copied in that state into a child where nobody will ever finish
 * or release it. So the handlers, registered through libs/platform, make the collector quiet
 * first:
 *
 *   prepare (the forking thread, F):
 *     1. enter the native state if F is attached and running, so no pause waits for F while F
 *        waits for locks below (fork() is a safepoint for an attached thread);
 *     2. take the lifecycle lock: no init, shutdown or attach is half-done;
 *     3. take cycle_lock: no cycle step is half-done (one in progress completes first; a cycle
 *        that is between steps, as manual stepping leaves it, stays in its phase);
 *     4. stop the world: every other attached thread is parked at a safepoint or in native code,
 *        so its context is at rest (a native thread never touches the heap's structures; one
 *        that is mapping a dedicated chunk in mimalloc holds map_lock, which step 5 waits for);
 *     5. take every other lock an unattached caller may take (statistics, handles, the background
 *        collector's wake-up), so none is half-way through a change; the central lists' locks,
 *        which only allocation and sweeping take, are taken once each to see them free.
 *   Threads the collector makes itself (its background thread, the grower, mark helpers) are
 *   not attached, so the stop does not wait for them; each is past its start-up before the call
 *   that made it returns (under the lifecycle lock or cycle_lock), because that start-up runs
 *   the C library's and a sanitizer's code, which allocates and takes locks no fork handler
 *   takes (AddressSanitizer's allocator: a child forked while a new mark helper was starting
 *   hung in 4 of 100 asan runs of the fork case).
 *   parent: release them in reverse, restart the world, leave the native state.
 *   child: only F exists. Every other thread's context is retired as its detach would retire it
 *     (barrier buffer shaded, cached spans back in the central lists, black bytes counted), then
 *     freed: what only its roots reached is garbage in the child. Its mimalloc heap stays behind
 *     (a heap belongs to its thread; its free memory is lost to the child, its chunks stay valid).
 *     The condition variables are made new (their waiters do not exist), the locks released, the
 *     world marked running and the background collector and grower threads started again. A cycle
 * left between steps stays in its phase, and the child's next collection completes it.
 *
 * The handlers are registered once per process, when the lifecycle lock is first used (the first
 * beskid_gc_init() or attach); they do nothing while the collector is not initialised but hold the
 * lifecycle lock across the fork, so no init races it. */

#include "internal.h"

/* What prepare did, for parent and child (the forking thread runs all three, holding the
 * lifecycle lock from prepare to parent or child). */
static bool fork_held;         /* the collector was initialised: its locks are held */
static bool fork_left_running; /* the forking thread was attached and running */

/* The locks of the collector that prepare holds across the fork, besides the lifecycle lock and
 * cycle_lock, in the order it takes them (no code path holds a later one while it takes an
 * earlier one): every lock an unattached caller may take (statistics, handles and globals, the
 * wake-up, the failure report, the heap through statistics), the lock of a native thread's call
 * into mimalloc (heap.c) and the thread list. */
static size_t held_locks(beskid_os_mutex_t **out) {
  size_t n = 0;
  out[n++] = &gc.wake_lock;
  out[n++] = &gc.roots_lock;
  out[n++] = &gc.work_lock;
  out[n++] = &gc.map_lock;
  out[n++] = &gc.heap_lock;
  out[n++] = &gc.failure_lock;
  out[n++] = &gc.stats_lock;
  out[n++] = &gc.threads_lock;
  return n;
}

#define GC_FORK_LOCKS 8u

/* The central lists' locks are taken only by allocation and sweeping: by attached threads (now
 * stopped, or native and not allocating) and by cycle steps (we hold cycle_lock). Taking each
 * once shows that no list change is half-done, and none can begin before the fork; they need not
 * be held (holding 90 locks at once is also more than ThreadSanitizer can follow). */
static void drain_central_locks(void) {
  for (uint32_t i = 0; i < GC_SPAN_CLASSES; i++) {
    beskid_os_mutex_lock(&gc.central[i].lock);
    beskid_os_mutex_unlock(&gc.central[i].lock);
  }
  beskid_os_mutex_lock(&gc.large.lock);
  beskid_os_mutex_unlock(&gc.large.lock);
}

static void fork_prepare(void) {
  gc_thread *self = beskid_gc__thread_self();
  bool left_running = self != NULL && atomic_load(&self->state) == GC_THREAD_RUNNING;
  if (left_running) beskid_gc_enter_native(&self->pub);
  beskid_gc__lifecycle_lock();
  /* Written under the lifecycle lock: a second thread forking at the same time waits above. */
  fork_left_running = left_running;
  fork_held = gc.initialized;
  if (!fork_held) return;
  beskid_os_mutex_lock(&gc.cycle_lock);
  beskid_gc__stop_world(NULL);
  drain_central_locks();
  beskid_os_mutex_t *locks[GC_FORK_LOCKS];
  size_t n = held_locks(locks);
  for (size_t i = 0; i < n; i++) beskid_os_mutex_lock(locks[i]);
}

/* Releases what prepare took (but the lifecycle lock and the native state). */
static void release_collector(void) {
  beskid_os_mutex_t *locks[GC_FORK_LOCKS];
  size_t n = held_locks(locks);
  for (size_t i = n; i-- > 0;) beskid_os_mutex_unlock(locks[i]);
}

static void fork_parent(void) {
  if (fork_held) {
    release_collector();
    beskid_gc__start_world();
    beskid_os_mutex_unlock(&gc.cycle_lock);
  }
  beskid_gc__lifecycle_unlock();
  if (fork_left_running) beskid_gc_leave_native(&beskid_gc__thread_self()->pub);
}

/* Retires and frees the context of a thread that does not exist in the child. Its context is at
 * rest (the world was stopped when the process was copied); retiring takes the collector's
 * locks, so this runs after they are released. */
static void drop_thread(gc_thread *t) {
  beskid_gc__thread_retire(t);
  for (gc_root_block *b = t->roots, *prev; b != NULL; b = prev) {
    prev = b->prev;
    beskid_os_mem_free(b);
  }
  beskid_os_mem_free(t);
}

static void fork_child(void) {
  gc_thread *self = beskid_gc__thread_self();
  if (self != NULL) { /* the child's own clock */
    self->has_cpu_clock = beskid_os_thread_cpu_clock(&self->cpu_clock) == BESKID_OK;
  }
  if (fork_held) {
    /* Waiters of the parent do not exist here. */
    beskid_os_cond_reset_in_child(&gc.threads_cond);
    beskid_os_cond_reset_in_child(&gc.wake_cond);
    beskid_os_cond_reset_in_child(&gc.grow_cond);
    release_collector();
    /* Only the forking thread is left in the list; the world counts as running again. */
    gc_thread *others = NULL;
    for (gc_thread *t = gc.threads, *next; t != NULL; t = next) {
      next = t->next;
      if (t == self) continue;
      t->next = others;
      others = t;
    }
    gc.threads = self;
    gc.thread_count = self != NULL ? 1u : 0u;
    if (self != NULL) self->next = self->prev = NULL;
    atomic_store(&gc.assists_active, 0);
    for (gc_thread *t = others, *next; t != NULL; t = next) {
      next = t->next;
      drop_thread(t);
    }
    beskid_gc__start_world();
    beskid_os_mutex_unlock(&gc.cycle_lock);
    /* The parent's collector and grower threads are not ours. */
    gc.collector_running = false;
    gc.grower_running = false;
    if (!beskid_gc__collector_start() || !beskid_gc__grower_start()) {
      beskid_gc__fatal("gc: cannot start the collector's threads in the child of fork()");
    }
  }
  beskid_gc__lifecycle_unlock();
  if (fork_left_running) beskid_gc_leave_native(&self->pub);
}

void beskid_gc__fork_register(void) {
  if (beskid_os_atfork(fork_prepare, fork_parent, fork_child) != BESKID_OK) {
    beskid_gc__fatal("gc: cannot register the fork handlers");
  }
}
