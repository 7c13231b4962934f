/* sched.c — how the standard library's threads block and wake, and the deadlock report.
 *
 * WHY NO OS OBJECTS. Mutexes, condition variables, channels and thread objects are heap objects,
 * and the collector has no finalizers: nothing could destroy a pthread mutex or condition variable
 * embedded in one. So every blocking primitive is built from plain words: each object has a small
 * internal lock word (beskid_std_ilock) and FIFO queues of waiter records that live on the
 * blocked threads' own C stacks; a blocked thread sleeps on the `state` word of its own record
 * with beskid_os_wait_on() (a futex on Linux, libs/platform), which needs no OS object either. An
 * object that dies unreachable takes nothing with it. (A runtime-owned pool of OS objects would
 * need a way to give them back when an object dies, which is the finalizer we do not have.)
 *
 * PARKING. A waiter enqueues its record under the object's lock, releases the lock and parks;
 * a waker dequeues the record under the same lock and unparks it: writes what it reports
 * (`status`, a value in `slots[1]`), then publishes `state = WOKEN` with a release store and
 * wakes the futex. The waiter sleeps until it reads WOKEN with an acquire load, so a wake-up is
 * never lost (futex compare-and-sleep) and never misread (spurious returns loop). The waker
 * touches the record for the last time in that store; waking the address afterwards is harmless
 * even if the record's stack frame is gone. Sleeping happens in the collector's native state, so
 * no pause waits for a blocked thread; its root frame (the object, the value in flight) stays a
 * root meanwhile.
 *
 * DEADLOCK. `blocked` counts threads in an untimed wait that nobody has yet chosen to wake: a
 * waiter adds itself when it commits to sleeping, and the waker — not the wakee — removes it, in
 * unpark, before the wakee runs again. So a thread that has been woken but not yet scheduled
 * counts as able to make progress, and when `blocked` equals the attached threads (plus threads
 * spawned and not yet attached), no thread exists that could ever wake one of them: that is the
 * deadlock, reported as the scheduler_deadlock trap. Both counters change under `sched_lock`;
 * the attached-thread count comes from the collector (beskid_gc_thread_count()). The check runs
 * where the answer can change from "no" to "yes": when a thread commits to sleeping, and after a
 * thread detaches or exits (the collector's detach hook), since the last running thread leaving
 * can strand all the others. A detach lowers the count before its hook takes `sched_lock`, and
 * a parker reads the count after raising `blocked` under that lock, so whichever comes second
 * sees both changes. Timed waits are never counted: their timeout will wake them. Attaching only
 * adds a thread that can make progress, so it needs no check.
 *
 * LOCK ORDER: an object's lock, then `sched_lock`. Neither is held across a safepoint or a sleep
 * on a record. */
#include <stdio.h>

#include "sync_internal.h"

/* ------------------------------------------------------------------------------------------ */
/* The internal lock: 0 free, 1 held, 2 held and someone may sleep on it (Drepper's futex mutex).
 * Acquire on taking it and release on giving it back order the fields it guards. */

void beskid_std_ilock(uint32_t *lock) {
  uint32_t c = 0;
  if (__atomic_compare_exchange_n(lock, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
  /* Held for a few instructions at a time: a short spin usually gets it without a system call. */
  for (int spin = 0; spin < 64; spin++) {
    c = 0;
    if (__atomic_load_n(lock, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(lock, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
      return;
    }
  }
  c = __atomic_exchange_n(lock, 2, __ATOMIC_ACQUIRE);
  while (c != 0) {
    beskid_os_wait_on(lock, 2, BESKID_OS_WAIT_FOREVER);
    c = __atomic_exchange_n(lock, 2, __ATOMIC_ACQUIRE);
  }
}

void beskid_std_iunlock(uint32_t *lock) {
  if (__atomic_exchange_n(lock, 0, __ATOMIC_RELEASE) == 2) beskid_os_wake_one(lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Wait queues */

void beskid_std_waitq_push(std_waitq *q, std_waiter *w) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail != NULL)
    q->tail->next = w;
  else
    q->head = w;
  q->tail = w;
  w->queued = true;
}

void beskid_std_waitq_remove(std_waitq *q, std_waiter *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    q->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    q->tail = w->prev;
  w->next = w->prev = NULL;
  w->queued = false;
}

std_waiter *beskid_std_waitq_pop(std_waitq *q) {
  std_waiter *w = q->head;
  if (w != NULL) beskid_std_waitq_remove(q, w);
  return w;
}

void beskid_std_waiter_begin(std_waiter *w, beskid_gc_thread_t *t, void *object, void *value) {
  /* Relaxed: the record is not shared until it is queued under an object lock. */
  __atomic_store_n(&w->state, STD_WAITING, __ATOMIC_RELAXED);
  w->counted = false;
  w->claimed = false;
  w->queued = false;
  w->status = 0;
  w->thread = t;
  w->next = w->prev = NULL;
  w->slots[0] = object;
  w->slots[1] = value;
  w->frame.slots = w->slots;
  w->frame.slot_count = 2;
  beskid_gc_push_frame(t, &w->frame);
}

void beskid_std_waiter_end(std_waiter *w) { beskid_gc_pop_frame(w->thread, &w->frame); }

/* ------------------------------------------------------------------------------------------ */
/* The scheduler's accounting */

static uint32_t sched_lock;
static int64_t blocked;  /* threads in an untimed wait nobody has chosen to wake (sched_lock) */
static int64_t spawning; /* threads spawned and not yet attached (sched_lock) */
static bool hook_set;    /* the detach hook is installed (relaxed: installing twice is harmless) */

/* Traps when no attached thread can make progress. Caller holds sched_lock. `claimed` and
 * `counted` of every waiter are also guarded by sched_lock. */
static void check_deadlock_locked(const char *what) {
  uint32_t attached = beskid_gc_thread_count();
  if (blocked > 0 && blocked >= (int64_t)attached + spawning) {
    char msg[200];
    (void)snprintf(msg, sizeof msg,
                   "all %u attached threads are blocked and none can wake another (%s)", attached,
                   what);
    beskid_rt_trap(BESKID_TRAP_SCHEDULER_DEADLOCK, msg);
  }
}

static void on_detach(void) {
  beskid_std_ilock(&sched_lock);
  check_deadlock_locked("the last thread that could wake them has ended or detached");
  beskid_std_iunlock(&sched_lock);
}

/* Installs the detach hook before the first thread blocks or is spawned: until then no thread
 * is blocked, so no detach can strand anyone. */
static void ensure_detach_hook(void) {
  if (__atomic_load_n(&hook_set, __ATOMIC_RELAXED)) return;
  beskid_gc_set_detach_hook(on_detach);
  __atomic_store_n(&hook_set, true, __ATOMIC_RELAXED);
}

void beskid_std_sched_spawn_begin(void) {
  ensure_detach_hook();
  beskid_std_ilock(&sched_lock);
  spawning++;
  beskid_std_iunlock(&sched_lock);
}

void beskid_std_sched_spawn_end(void) {
  beskid_std_ilock(&sched_lock);
  spawning--;
  beskid_std_iunlock(&sched_lock);
}

bool beskid_std_park(std_waiter *w, uint64_t timeout_ns, const char *what) {
  bool timed = timeout_ns != BESKID_OS_WAIT_FOREVER;
  if (!timed && what != NULL) {
    ensure_detach_hook();
    beskid_std_ilock(&sched_lock);
    /* A waker may have chosen us already (between our enqueue and here): then we never count. */
    if (!w->claimed) {
      w->counted = true;
      blocked++;
      check_deadlock_locked(what);
    }
    beskid_std_iunlock(&sched_lock);
  }
  uint64_t deadline = 0;
  if (timed) {
    uint64_t now = beskid_os_monotonic_ns();
    deadline = now + timeout_ns < now ? UINT64_MAX - 1 : now + timeout_ns;
  }
  beskid_gc_thread_t *t = w->thread;
  beskid_gc_enter_native(t);
  bool woken;
  for (;;) {
    /* Acquire pairs with unpark's release store: `status` and `slots[1]` are visible after. */
    if (__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) != STD_WAITING) {
      woken = true;
      break;
    }
    uint64_t wait = BESKID_OS_WAIT_FOREVER;
    if (timed) {
      uint64_t now = beskid_os_monotonic_ns();
      if (now >= deadline) {
        woken = false;
        break;
      }
      wait = deadline - now;
    }
    beskid_os_wait_on(&w->state, STD_WAITING, wait);
  }
  beskid_gc_leave_native(t);
  return woken;
}

void beskid_std_unpark_claim(std_waiter *w) {
  beskid_std_ilock(&sched_lock);
  w->claimed = true;
  if (w->counted) {
    w->counted = false;
    blocked--;
  }
  beskid_std_iunlock(&sched_lock);
}

void beskid_std_unpark_release(std_waiter *w, int32_t status) {
  w->status = status;
  /* Release: `status` and anything written for the waiter before are visible once it reads
   * STD_WOKEN with acquire. */
  __atomic_store_n(&w->state, STD_WOKEN, __ATOMIC_RELEASE);
  /* The record may be gone by now; waking its address is harmless (posix_wait.c). */
  beskid_os_wake_one(&w->state);
}

void beskid_std_unpark(std_waiter *w, int32_t status) {
  beskid_std_unpark_claim(w);
  beskid_std_unpark_release(w, status);
}

/* ------------------------------------------------------------------------------------------ */
/* Checks shared by every entry point */

beskid_gc_thread_t *beskid_std_thread_self(void) { return beskid_rt_thread(); }

void beskid_std_check_object(const void *object, const beskid_type_t *type, const char *kind) {
  char msg[96];
  if (object == NULL) {
    (void)snprintf(msg, sizeof msg, "the %s is null", kind);
    beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, msg);
  }
  if (((const beskid_header_t *)object)->type != type) {
    (void)snprintf(msg, sizeof msg, "the object passed as a %s is not one", kind);
    beskid_rt_trap(BESKID_TRAP_ABI_OR_LAYOUT_MISMATCH, msg);
  }
}
