/* sync.c — the standard library's mutex and condition variable.
 *
 * Both are pointer-free heap objects of a few words (no OS object: see sched.c for why and for
 * how threads park). A mutex's `state` word holds LOCKED and WAITERS bits:
 *   - lock fast path: CAS 0 -> LOCKED (acquire); unlock fast path: CAS LOCKED -> 0 (release).
 *     Neither enters the native state: they never block.
 *   - lock slow path, under the mutex's internal lock: take the mutex if it is free, else set
 *     WAITERS, queue a waiter and park. WAITERS is set only under that lock and only while the
 *     queue is about to be non-empty, so an unlock that finds it set has a waiter to serve.
 *   - unlock slow path (WAITERS set), under the internal lock: hand the mutex directly to the
 *     first waiter (it stays LOCKED; WAITERS stays set while others wait). FIFO handoff means no
 *     barging and no starvation; the woken waiter owns the mutex when it returns.
 * `owner` is diagnostic only (relaxed): it lets a thread that locks a mutex it already holds get
 * a scheduler_deadlock trap instead of hanging. A thread reads its own id there only if it holds
 * the mutex: its own later clearing store, or an unlocker's clearing store ordered before the
 * state it observed with acquire, hides any older value.
 *
 * A condition variable is a FIFO of waiters. wait queues itself under the condition's lock,
 * then unlocks the mutex (so a signal after the unlock finds it), parks, and relocks the mutex.
 * signal and broadcast dequeue and unpark. A return from an untimed wait always means a signal
 * chose this waiter; a timed wait that times out removes itself from the queue, unless a signal
 * took it first, in which case it reports the signal. */
#include "sync_internal.h"

enum { MUTEX_LOCKED = 1u, MUTEX_WAITERS = 2u };

typedef struct std_mutex {
  beskid_header_t header;
  uint32_t state;            /* MUTEX_LOCKED | MUTEX_WAITERS */
  uint32_t lock;             /* guards `waiters` and changes of MUTEX_WAITERS */
  beskid_gc_thread_t *owner; /* diagnostic: the holder's context, or NULL */
  std_waitq waiters;
} std_mutex;

typedef struct std_cond {
  beskid_header_t header;
  uint32_t lock; /* guards `waiters` */
  uint32_t reserved;
  std_waitq waiters;
} std_cond;

static const beskid_type_t mutex_type = {sizeof(std_mutex), 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
static const beskid_type_t cond_type = {sizeof(std_cond), 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};

void *beskid_std_mutex_new(void) {
  beskid_std_thread_self();
  return alloc(sizeof(std_mutex), &mutex_type);
}

static bool try_acquire(std_mutex *m) {
  uint32_t s = 0;
  return __atomic_compare_exchange_n(&m->state, &s, MUTEX_LOCKED, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED);
}

static void lock_slow(std_mutex *m, beskid_gc_thread_t *t) {
  /* Acquire: orders this read of `owner` after the unlock that released what we observe. */
  (void)__atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
  if (__atomic_load_n(&m->owner, __ATOMIC_RELAXED) == t) {
    beskid_rt_trap(BESKID_TRAP_SCHEDULER_DEADLOCK,
                   "this thread locks a mutex it holds already and would wait forever");
  }
  std_waiter w;
  beskid_std_waiter_begin(&w, t, m, NULL);
  beskid_std_ilock(&m->lock);
  for (;;) {
    uint32_t s = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
    if ((s & MUTEX_LOCKED) == 0) {
      if (__atomic_compare_exchange_n(&m->state, &s, s | MUTEX_LOCKED, false, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED)) {
        beskid_std_iunlock(&m->lock);
        __atomic_store_n(&m->owner, t, __ATOMIC_RELAXED);
        beskid_std_waiter_end(&w);
        return;
      }
      continue;
    }
    /* Relaxed: WAITERS only tells the unlocker to take the slow path; the queue itself is
     * ordered by the internal lock. */
    if ((s & MUTEX_WAITERS) != 0 ||
        __atomic_compare_exchange_n(&m->state, &s, s | MUTEX_WAITERS, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
      break;
    }
  }
  beskid_std_waitq_push(&m->waiters, &w);
  beskid_std_iunlock(&m->lock);
  /* The unlocker hands us the mutex (and sets `owner`) before it wakes us. */
  beskid_std_park(&w, BESKID_OS_WAIT_FOREVER, "mutex lock");
  beskid_std_waiter_end(&w);
}

void beskid_std_mutex_lock(void *mutex) {
  beskid_std_check_object(mutex, &mutex_type, "mutex");
  std_mutex *m = mutex;
  beskid_gc_thread_t *t = beskid_std_thread_self();
  if (try_acquire(m)) {
    __atomic_store_n(&m->owner, t, __ATOMIC_RELAXED);
    return;
  }
  lock_slow(m, t);
}

bool beskid_std_mutex_try_lock(void *mutex) {
  beskid_std_check_object(mutex, &mutex_type, "mutex");
  std_mutex *m = mutex;
  if (!try_acquire(m)) return false;
  __atomic_store_n(&m->owner, beskid_std_thread_self(), __ATOMIC_RELAXED);
  return true;
}

static _Noreturn void unlock_of_unlocked(void) {
  beskid_rt_trap(BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT, "unlock of a mutex that is not locked");
}

void beskid_std_mutex_unlock(void *mutex) {
  beskid_std_check_object(mutex, &mutex_type, "mutex");
  std_mutex *m = mutex;
  uint32_t s = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
  if ((s & MUTEX_LOCKED) == 0) unlock_of_unlocked();
  __atomic_store_n(&m->owner, NULL, __ATOMIC_RELAXED);
  s = MUTEX_LOCKED;
  /* Release: the critical section happens before the next holder's acquire. */
  if (__atomic_compare_exchange_n(&m->state, &s, 0, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
    return;
  }
  beskid_std_ilock(&m->lock);
  s = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
  if ((s & MUTEX_LOCKED) == 0) {
    beskid_std_iunlock(&m->lock);
    unlock_of_unlocked();
  }
  std_waiter *w = beskid_std_waitq_pop(&m->waiters);
  if (w == NULL) {
    __atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
  } else {
    /* Handoff: the mutex stays locked, now by `w`. Release here and in unpark order our
     * critical section before the new holder's. */
    __atomic_store_n(&m->owner, w->thread, __ATOMIC_RELAXED);
    __atomic_store_n(&m->state, MUTEX_LOCKED | (m->waiters.head != NULL ? MUTEX_WAITERS : 0u),
                     __ATOMIC_RELEASE);
    beskid_std_unpark(w, 0);
  }
  beskid_std_iunlock(&m->lock);
}

void *beskid_std_cond_new(void) {
  beskid_std_thread_self();
  return alloc(sizeof(std_cond), &cond_type);
}

static bool cond_wait(void *cond, void *mutex, uint64_t timeout_ns) {
  beskid_std_check_object(cond, &cond_type, "condition variable");
  beskid_std_check_object(mutex, &mutex_type, "mutex");
  std_cond *c = cond;
  std_mutex *m = mutex;
  if ((__atomic_load_n(&m->state, __ATOMIC_RELAXED) & MUTEX_LOCKED) == 0) {
    beskid_rt_trap(BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT,
                   "condition wait with a mutex that is not locked");
  }
  beskid_gc_thread_t *t = beskid_std_thread_self();
  std_waiter w;
  beskid_std_waiter_begin(&w, t, c, m); /* both stay alive while we wait */
  beskid_std_ilock(&c->lock);
  beskid_std_waitq_push(&c->waiters, &w);
  beskid_std_iunlock(&c->lock);
  beskid_std_mutex_unlock(m);
  bool signalled = beskid_std_park(&w, timeout_ns, "condition wait");
  if (!signalled) {
    beskid_std_ilock(&c->lock);
    if (w.queued)
      beskid_std_waitq_remove(&c->waiters, &w);
    else
      signalled = true; /* a signal chose us just as the time ran out */
    beskid_std_iunlock(&c->lock);
  }
  beskid_std_mutex_lock(m);
  beskid_std_waiter_end(&w);
  return signalled;
}

void beskid_std_cond_wait(void *cond, void *mutex) {
  cond_wait(cond, mutex, BESKID_OS_WAIT_FOREVER);
}

bool beskid_std_cond_wait_timeout(void *cond, void *mutex, int64_t timeout_ns) {
  if (timeout_ns < 0) {
    beskid_rt_trap(BESKID_TRAP_BOUNDS, "negative timeout for a condition wait");
  }
  /* BESKID_OS_WAIT_FOREVER is UINT64_MAX, beyond any int64_t: a timed wait stays timed. */
  return cond_wait(cond, mutex, (uint64_t)timeout_ns);
}

void beskid_std_cond_signal(void *cond) {
  beskid_std_check_object(cond, &cond_type, "condition variable");
  std_cond *c = cond;
  beskid_std_ilock(&c->lock);
  std_waiter *w = beskid_std_waitq_pop(&c->waiters);
  if (w != NULL) beskid_std_unpark(w, 0);
  beskid_std_iunlock(&c->lock);
}

void beskid_std_cond_broadcast(void *cond) {
  beskid_std_check_object(cond, &cond_type, "condition variable");
  std_cond *c = cond;
  beskid_std_ilock(&c->lock);
  for (std_waiter *w; (w = beskid_std_waitq_pop(&c->waiters)) != NULL;) beskid_std_unpark(w, 0);
  beskid_std_iunlock(&c->lock);
}
