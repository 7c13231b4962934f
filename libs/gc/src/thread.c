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
 *   leave_native: state = RUNNING; if stop_requested: state = NATIVE, signal, wait for the
 *              restart, try again.
 *
 * Because both sides store then load with seq_cst (Dekker), either the stopper sees the thread
 * RUNNING and waits for its next safepoint, or the thread sees the request and backs off: a
 * thread never runs managed code while the world is stopped. The restart (start_world) happens
 * under threads_lock, which orders everything the stopper did during the pause before the
 * threads' next steps. A thread that is not attached never touches the heap.
 *
 * While the world is stopped, threads_lock is free: stopped threads wait on threads_cond. The
 * thread list changes only under threads_lock and only while no stop is requested (attach and
 * detach wait for the restart), so the driver of a pause can walk it without the lock. */
#include <string.h>

#include "internal.h"
#include "mimalloc.h"

/* The calling thread's context. Initial-exec TLS: one %fs-relative load on the allocation fast
 * path, also in the shared runtime (a pointer fits glibc's static TLS reserve for dlopen). */
__attribute__((tls_model("initial-exec"))) _Thread_local gc_thread *beskid_gc__current_thread;
#define current_thread beskid_gc__current_thread
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
  beskid_os_tls_set(exit_key, NULL);
}

void beskid_gc_detach(void) {
  if (current_thread == NULL) return;
  beskid_gc__detach_quietly();
  run_detach_hook();
}

/* Detaches `t`, the calling thread. `exiting` says we run in the thread's exit destructors, where
 * mimalloc may already have torn its heaps down (it deletes them itself in that case). */
void beskid_gc__detach_thread(gc_thread *t, bool exiting) {
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
   * valid and are freed by whichever thread releases them. */
  if (!exiting) mi_heap_delete((mi_heap_t *)t->mi_heap);
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

void beskid_gc__threads_init(void) {
  beskid_os_mutex_init(&gc.threads_lock);
  beskid_os_cond_init(&gc.threads_cond);
}

/* ------------------------------------------------------------------------------------------ */
/* Safepoints and native state */

/* Parks the calling thread while any stop is requested. It must not leave between two pauses
 * that follow each other closely: the second stopper may already have counted it as stopped. */
static void park_until_restart(gc_thread *t, uint32_t resume_state) {
  /* Caller holds threads_lock; stop_requested is set. */
  atomic_store(&t->state, GC_THREAD_STOPPED);
  beskid_os_cond_broadcast(&gc.threads_cond);
  while (atomic_load(&gc.stop_requested)) beskid_os_cond_wait(&gc.threads_cond, &gc.threads_lock);
  atomic_store(&t->state, resume_state);
}

void beskid_gc_safepoint(beskid_gc_thread_t *pt) {
  gc_thread *t = gc_thread_of(pt);
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
  atomic_store(&t->state, GC_THREAD_NATIVE);
  if (atomic_load(&gc.stop_requested)) {
    beskid_os_mutex_lock(&gc.threads_lock);
    beskid_os_cond_broadcast(&gc.threads_cond);
    beskid_os_mutex_unlock(&gc.threads_lock);
  }
}

void beskid_gc_leave_native(beskid_gc_thread_t *pt) {
  gc_thread *t = gc_thread_of(pt);
  for (;;) {
    atomic_store(&t->state, GC_THREAD_RUNNING);
    if (!atomic_load(&gc.stop_requested)) return;
    beskid_os_mutex_lock(&gc.threads_lock);
    if (atomic_load(&gc.stop_requested))
      park_until_restart(t, GC_THREAD_NATIVE);
    else
      atomic_store(&t->state, GC_THREAD_NATIVE);
    beskid_os_mutex_unlock(&gc.threads_lock);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Stopping and restarting the world (only the thread running a cycle does this, holding
 * gc.cycle_lock; if it is attached it is NATIVE meanwhile). */

void beskid_gc__stop_world(uint64_t *ttsp_ns) {
  uint64_t start = beskid_os_monotonic_ns();
  beskid_os_mutex_lock(&gc.threads_lock);
  atomic_store(&gc.stop_requested, 1);
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    __atomic_store_n(&t->pub.poll, 1, __ATOMIC_RELAXED);
  }
  for (;;) {
    bool all = true;
    for (gc_thread *t = gc.threads; t != NULL && all; t = t->next) {
      all = atomic_load(&t->state) != GC_THREAD_RUNNING;
    }
    if (all) break;
    beskid_os_cond_wait(&gc.threads_cond, &gc.threads_lock);
  }
  beskid_os_mutex_unlock(&gc.threads_lock);
  if (ttsp_ns != NULL) *ttsp_ns = beskid_os_monotonic_ns() - start;
}

void beskid_gc__start_world(void) {
  beskid_os_mutex_lock(&gc.threads_lock);
  atomic_store(&gc.stop_requested, 0);
  for (gc_thread *t = gc.threads; t != NULL; t = t->next) {
    __atomic_store_n(&t->pub.poll, idle_poll(), __ATOMIC_RELAXED);
  }
  beskid_os_cond_broadcast(&gc.threads_cond);
  beskid_os_mutex_unlock(&gc.threads_lock);
}
