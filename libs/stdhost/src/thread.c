/* thread.c — Beskid threads: spawn a compiled function on a new attached OS thread, join it.
 *
 * A thread object is a heap object { arg, result (managed, traced) ; fn, runner, lock, state,
 * joiners (raw) }. It owns no OS resource (the runtime reaps finished OS threads, see below), so
 * an unjoined thread object is ordinary garbage once unreachable.
 *
 * Keeping values alive: spawn gives the new thread a handle (a process-wide root) on the thread
 * object, which the thread keeps until its very last touch of the object. The object keeps `arg`
 * alive until the function has returned, then keeps `result` for every later join.
 *
 * Ending, in this order, so that a join returns only once the thread has left the runtime (a
 * program may shut the runtime down right after joining) and the deadlock check never counts a
 * joiner that is sure to be woken:
 *   1. under the object's lock: store `result`, state RUNNING -> FINISHING, take the queued
 *      joiners and claim them (they count as able to make progress from now on);
 *   2. detach from the runtime (this runs the deadlock check: the joiners are not counted);
 *   3. under the object's lock: state -> DONE and take the joiners that queued meanwhile (a join
 *      that sees FINISHING waits without counting as blocked: its wake-up is certain);
 *   4. release the handle, then release every joiner taken. After that the OS thread touches
 *      nothing of the runtime's or the object's.
 * Steps 3 and 4 run detached; they touch only the object's raw words (kept alive by the handle)
 * and the joiners' own records.
 *
 * Reaping the OS threads: an OS thread is joinable, and a finished one is joined (pthread_join)
 * by the next spawn or join of any thread, not by the thread object, which must own no OS
 * resource. A thread puts its start record on the `finished` list just before step 4's releases,
 * so a join that was woken reaps the thread it joined: when it returns, the OS thread is gone,
 * including the allocator's thread-exit work — nothing of the thread can still run when the
 * program shuts the runtime down. (It also gives ThreadSanitizer the happens-before edge the
 * uninstrumented allocator's own thread-data reuse would hide.) The start record is malloc'd by
 * spawn and freed by the reaper; the OS handle in it is written by the spawner after the thread
 * may already have run, so both sides meet under `reap_lock` and whichever comes second lists
 * it.
 *
 * Deadlock accounting: a spawned thread counts as able to make progress from spawn until it has
 * attached (beskid_std_sched_spawn_begin/end). */
#include <stdio.h>
#include <stdlib.h>

#include "sync_internal.h"

enum { THREAD_RUNNING = 0, THREAD_FINISHING = 1, THREAD_DONE = 2 };

typedef struct std_thread {
  beskid_header_t header;
  void *arg;                  /* @8: the argument, until the function returns */
  void *result;               /* @16: the function's result, once finishing */
  beskid_std_thread_fn fn;    /* the compiled function */
  beskid_gc_thread_t *runner; /* the thread running it, once attached (relaxed; self-join check) */
  uint32_t lock;              /* guards `joiners` and the changes of `state` */
  uint32_t state;             /* THREAD_*; DONE is stored with release, read with acquire */
  std_waitq joiners;
} std_thread;

static const uint64_t thread_map[] = {8, 16};
static const beskid_type_t thread_type = {sizeof(std_thread),    8, thread_map, 2,
                                          BESKID_TYPE_AGGREGATE, 0};

/* What spawn hands a new OS thread, and what the reaper joins it by. */
typedef struct thread_start {
  beskid_handle_t handle; /* the thread object, until the thread's last touch of it */
  beskid_os_thread_t os;  /* set by the spawner once the OS thread exists (reap_lock) */
  bool os_set;            /* reap_lock */
  bool finished;          /* the thread is past all its runtime work (reap_lock) */
  struct thread_start *next;
} thread_start;

static uint32_t reap_lock;
static thread_start *finished; /* threads ready to be joined (reap_lock) */

/* Lists `start` for reaping once both conditions hold. Caller holds reap_lock. */
static void list_if_reapable(thread_start *start) {
  if (start->os_set && start->finished) {
    start->next = finished;
    __atomic_store_n(&finished, start, __ATOMIC_RELAXED);
  }
}

/* Joins every listed OS thread; they have finished their runtime work, so each join waits at
 * most for the OS thread's exit. In the native state when the caller is attached. */
static void reap_finished(beskid_gc_thread_t *t) {
  /* Relaxed peek: an empty list (the common case) costs no lock; a thread listed concurrently
   * is reaped by the next call. */
  if (__atomic_load_n(&finished, __ATOMIC_RELAXED) == NULL) return;
  beskid_std_ilock(&reap_lock);
  thread_start *list = finished;
  __atomic_store_n(&finished, NULL, __ATOMIC_RELAXED);
  beskid_std_iunlock(&reap_lock);
  if (list == NULL) return;
  if (t != NULL) beskid_gc_enter_native(t);
  while (list != NULL) {
    thread_start *next = list->next;
    beskid_os_thread_join(&list->os, NULL);
    beskid_os_mem_free(list);
    list = next;
  }
  if (t != NULL) beskid_gc_leave_native(t);
}

/* Moves every queued joiner to the list `taken` (linked through `next`), claiming each. */
static std_waiter *take_joiners(std_thread *th, std_waiter *taken) {
  for (std_waiter *w; (w = beskid_std_waitq_pop(&th->joiners)) != NULL;) {
    beskid_std_unpark_claim(w);
    w->next = taken;
    taken = w;
  }
  return taken;
}

static void *thread_main(void *arg) {
  thread_start *start = arg;
  beskid_handle_t handle = start->handle;
  beskid_gc_thread_t *t = beskid_rt_thread_attach();
  beskid_std_sched_spawn_end();
  std_thread *th = beskid_gc_handle_get(handle); /* the handle keeps it alive to the end */
  __atomic_store_n(&th->runner, t, __ATOMIC_RELAXED);

  void *slots[1] = {th->fn(th->arg)};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);

  beskid_std_ilock(&th->lock);
  beskid_gc_store(t, &th->result, slots[0]);
  beskid_gc_store(t, &th->arg, NULL);
  __atomic_store_n(&th->state, THREAD_FINISHING, __ATOMIC_RELAXED);
  std_waiter *taken = take_joiners(th, NULL);
  beskid_std_iunlock(&th->lock);
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_thread_detach();

  /* Listed before DONE, so any join that sees DONE finds us to reap; a reaper that joins us now
   * waits only for the few bounded steps left. `start` is not touched after this. */
  beskid_std_ilock(&reap_lock);
  start->finished = true;
  list_if_reapable(start);
  beskid_std_iunlock(&reap_lock);
  beskid_std_ilock(&th->lock);
  /* Release: a join that reads DONE with acquire sees `result`. */
  __atomic_store_n(&th->state, THREAD_DONE, __ATOMIC_RELEASE);
  taken = take_joiners(th, taken);
  beskid_std_iunlock(&th->lock);
  beskid_gc_handle_release(handle);
  while (taken != NULL) {
    std_waiter *next = taken->next; /* read before the release: then the record may be gone */
    beskid_std_unpark_release(taken, 0);
    taken = next;
  }
  return NULL;
}

void *beskid_std_thread_spawn(beskid_std_thread_fn fn, void *arg) {
  beskid_gc_thread_t *t = beskid_std_thread_self();
  if (fn == NULL) beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "the thread function is null");
  void *slots[1] = {arg};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  std_thread *th = alloc(sizeof(std_thread), &thread_type);
  beskid_gc_pop_frame(t, &frame);
  th->fn = fn;
  beskid_gc_store(t, &th->arg, slots[0]);
  /* No safepoint from here on: `th` needs no root until the handle holds it. */
  beskid_handle_t handle = beskid_gc_handle_new(th);
  if (handle == 0) beskid_rt_trap_own_out_of_memory(0); /* the handle table could not grow */
  thread_start *start = beskid_os_mem_alloc(1, sizeof *start);
  if (start == NULL) beskid_rt_trap_own_out_of_memory(sizeof *start);
  start->handle = handle;
  reap_finished(t); /* the threads that ended before this one */
  beskid_std_sched_spawn_begin();
  beskid_os_thread_t os;
  if (beskid_os_thread_create(&os, thread_main, start, "beskid-thread") != BESKID_OK) {
    beskid_std_sched_spawn_end();
    beskid_gc_handle_release(handle);
    beskid_os_mem_free(start);
    return NULL;
  }
  beskid_std_ilock(&reap_lock);
  start->os = os;
  start->os_set = true;
  list_if_reapable(start);
  beskid_std_iunlock(&reap_lock);
  return th;
}

void *beskid_std_thread_join(void *thread) {
  beskid_std_check_object(thread, &thread_type, "thread");
  std_thread *th = thread;
  beskid_gc_thread_t *t = beskid_std_thread_self();
  /* The record's root frame keeps the thread object, and then its result, alive across the
   * safepoints below (the wait, the reaping). */
  std_waiter w;
  beskid_std_waiter_begin(&w, t, th, NULL);
  /* Acquire pairs with thread_main's release store of DONE. */
  if (__atomic_load_n(&th->state, __ATOMIC_ACQUIRE) != THREAD_DONE) {
    if (__atomic_load_n(&th->runner, __ATOMIC_RELAXED) == t) {
      beskid_rt_trap(BESKID_TRAP_SCHEDULER_DEADLOCK,
                     "a thread joins itself and would wait forever");
    }
    beskid_std_ilock(&th->lock);
    uint32_t state = __atomic_load_n(&th->state, __ATOMIC_RELAXED);
    if (state == THREAD_DONE) {
      beskid_std_iunlock(&th->lock);
    } else {
      beskid_std_waitq_push(&th->joiners, &w);
      beskid_std_iunlock(&th->lock);
      /* A finishing thread will wake us for certain: that wait is never a deadlock. */
      beskid_std_park(&w, BESKID_OS_WAIT_FOREVER, state == THREAD_RUNNING ? "thread join" : NULL);
    }
  }
  /* Every path is ordered after the DONE store: the acquire load, the lock, or the release of
   * our record. */
  w.slots[1] = th->result;
  /* The joined thread listed itself for reaping before DONE (unless its spawner has not yet
   * recorded it: then the next spawn or join reaps it). */
  reap_finished(t);
  beskid_std_waiter_end(&w);
  return w.slots[1];
}

bool beskid_std_thread_is_done(void *thread) {
  beskid_std_check_object(thread, &thread_type, "thread");
  return __atomic_load_n(&((std_thread *)thread)->state, __ATOMIC_ACQUIRE) == THREAD_DONE;
}
