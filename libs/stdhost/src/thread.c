/* thread.c — Beskid threads: spawn a compiled function on a new attached OS thread, join it.
 *
 * A thread object is a heap object { arg, result (managed, traced) ; fn, runner, lock, done,
 * joiners (raw) }. It owns no OS resource: the OS thread is detached at once and frees itself
 * when it ends, so an unjoined thread object is ordinary garbage once unreachable.
 *
 * Keeping values alive: between spawn and the new thread's first instruction nobody may hold the
 * thread object, so spawn gives the new thread a handle (a process-wide root) that the thread
 * exchanges for a root frame of its own once attached. The object keeps `arg` alive until the
 * function has returned, then keeps `result` for every later join. Joiners queue on the object
 * and are woken (sched.c) after `result` and `done` are written under the object's lock.
 *
 * Deadlock accounting: a spawned thread counts as able to make progress from spawn until it has
 * attached (beskid_std_sched_spawn_begin/end), and its detach at the end runs the collector's
 * detach hook, which re-checks whether everyone left is blocked. */
#include <stdio.h>

#include "sync_internal.h"

typedef struct std_thread {
  beskid_header_t header;
  void *arg;                  /* @16: the argument, until the function returns */
  void *result;               /* @24: the function's result, once done */
  beskid_std_thread_fn fn;    /* the compiled function */
  beskid_gc_thread_t *runner; /* the thread running it, once attached (relaxed; self-join check) */
  uint32_t lock;              /* guards `joiners` and the writes of `result` and `done` */
  uint32_t done;              /* 1 once `result` is set (release; read with acquire) */
  std_waitq joiners;
} std_thread;

static const uint64_t thread_map[] = {16, 24};
static const beskid_type_t thread_type = {sizeof(std_thread), 8, thread_map, 2,
                                          BESKID_TYPE_AGGREGATE, 0};

static void *thread_main(void *start) {
  beskid_handle_t handle = (beskid_handle_t)(uintptr_t)start;
  beskid_gc_thread_t *t = beskid_rt_thread_attach();
  void *slots[2] = {beskid_gc_handle_get(handle), NULL};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(t, &frame);
  beskid_gc_handle_release(handle);
  beskid_std_sched_spawn_end();
  std_thread *th = slots[0];
  __atomic_store_n(&th->runner, t, __ATOMIC_RELAXED);

  slots[1] = th->fn(th->arg);

  th = slots[0];
  beskid_std_ilock(&th->lock);
  beskid_gc_store(t, &th->result, slots[1]);
  beskid_gc_store(t, &th->arg, NULL);
  /* Release: a joiner that reads done == 1 with acquire sees `result`. */
  __atomic_store_n(&th->done, 1, __ATOMIC_RELEASE);
  for (std_waiter *w; (w = beskid_std_waitq_pop(&th->joiners)) != NULL;) beskid_std_unpark(w, 0);
  beskid_std_iunlock(&th->lock);
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_thread_detach(); /* runs the deadlock check: the joiners are awake already */
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
  if (handle == 0) {
    beskid_rt_trap(BESKID_TRAP_OUT_OF_MEMORY, "no memory left for the handle of a new thread");
  }
  beskid_std_sched_spawn_begin();
  beskid_os_thread_t os;
  if (beskid_os_thread_create(&os, thread_main, (void *)(uintptr_t)handle, "beskid-thread") !=
      BESKID_OK) {
    beskid_std_sched_spawn_end();
    beskid_gc_handle_release(handle);
    return NULL;
  }
  beskid_os_thread_detach(&os);
  return th;
}

void *beskid_std_thread_join(void *thread) {
  beskid_std_check_object(thread, &thread_type, "thread");
  std_thread *th = thread;
  /* Acquire pairs with thread_main's release store of `done`. */
  if (__atomic_load_n(&th->done, __ATOMIC_ACQUIRE)) return th->result;
  beskid_gc_thread_t *t = beskid_std_thread_self();
  if (__atomic_load_n(&th->runner, __ATOMIC_RELAXED) == t) {
    beskid_rt_trap(BESKID_TRAP_SCHEDULER_DEADLOCK, "a thread joins itself and would wait forever");
  }
  std_waiter w;
  beskid_std_waiter_begin(&w, t, th, NULL);
  beskid_std_ilock(&th->lock);
  if (__atomic_load_n(&th->done, __ATOMIC_RELAXED)) {
    beskid_std_iunlock(&th->lock);
  } else {
    beskid_std_waitq_push(&th->joiners, &w);
    beskid_std_iunlock(&th->lock);
    beskid_std_park(&w, BESKID_OS_WAIT_FOREVER, "thread join");
  }
  void *result = th->result;
  beskid_std_waiter_end(&w);
  return result;
}

bool beskid_std_thread_is_done(void *thread) {
  beskid_std_check_object(thread, &thread_type, "thread");
  return __atomic_load_n(&((std_thread *)thread)->done, __ATOMIC_ACQUIRE) != 0;
}
