/* sync_internal.h — what the thread, mutex, condition-variable and channel files of
 * libs/stdhost share: the small internal lock inside each object, the waiter records blocked
 * threads queue, and parking/unparking with the scheduler's deadlock accounting (sched.c). */
#ifndef BESKID_STDHOST_SYNC_INTERNAL_H
#define BESKID_STDHOST_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "beskid/builtins.h"
#include "beskid/platform.h"
#include "beskid/stdhost.h"

/* A word-sized lock (0 free, 1 held, 2 held with sleepers) guarding an object's own fields and
 * queues for a few instructions at a time. Never held across a safepoint or a blocking wait:
 * whoever holds it is RUNNING and finishes quickly, so waiting for it in managed state cannot
 * delay a pause by more than that. */
void beskid_std_ilock(uint32_t *lock);
void beskid_std_iunlock(uint32_t *lock);

enum { STD_WAITING = 0, STD_WOKEN = 1 };

/* One blocked thread, on its own C stack. `slots` is a root frame the waiter pushes for the
 * whole wait: slots[0] keeps the object waited on alive, slots[1] holds a value in flight (a
 * channel value handed to a receiver or offered by a sender). Another thread may write slots[1]
 * only while holding the object's lock and before unparking the waiter, with the write barrier
 * (a store into another thread's roots is treated as a heap store). */
typedef struct std_waiter {
  uint32_t state; /* STD_WAITING -> STD_WOKEN once, by the waker (futex word) */
  bool counted;   /* counted as blocked by the scheduler (sched lock) */
  bool claimed;   /* a waker has chosen it: it never counts again (sched lock) */
  bool queued;    /* in its object's queue (object lock) */
  int32_t status; /* what the waker reports, written before STD_WOKEN is published */
  beskid_gc_thread_t *thread;
  struct std_waiter *next, *prev;
  void *slots[2];
  beskid_root_frame_t frame;
} std_waiter;

/* A FIFO of waiters; raw pointers to C stacks, outside the object's pointer map. */
typedef struct std_waitq {
  std_waiter *head, *tail;
} std_waitq;

void beskid_std_waitq_push(std_waitq *q, std_waiter *w);
std_waiter *beskid_std_waitq_pop(std_waitq *q);
void beskid_std_waitq_remove(std_waitq *q, std_waiter *w);

/* Prepares `w` for thread `t` and pushes its root frame holding `object` and `value`. */
void beskid_std_waiter_begin(std_waiter *w, beskid_gc_thread_t *t, void *object, void *value);
/* Pops the waiter's root frame. */
void beskid_std_waiter_end(std_waiter *w);

/* Blocks the calling thread until `w` is unparked or `timeout_ns` passes (BESKID_OS_WAIT_FOREVER
 * for none). Called with `w` queued and no lock held. An untimed wait first counts the thread as
 * blocked and traps scheduler_deadlock when that leaves no thread able to wake anyone (`what`
 * names the wait in the message); `what` NULL marks a wait that ends for certain without any
 * other thread's choice (a thread that is finishing), which never counts. Sleeps in the native
 * state. Returns true when woken; on false (timeout) `w` may still be queued: the caller takes
 * the object lock, and if `w->queued` removes it, otherwise it was woken meanwhile (the waker
 * unparks under the object lock). */
bool beskid_std_park(std_waiter *w, uint64_t timeout_ns, const char *what);

/* Wakes `w` (dequeued by the caller, who holds the object lock) with `status`:
 * beskid_std_unpark_claim() then beskid_std_unpark_release(). */
void beskid_std_unpark(std_waiter *w, int32_t status);

/* The two halves of a wake-up, for a waker that must finish something before the waiter runs:
 * claim counts the waiter as able to make progress from now on (it is no longer blocked for the
 * deadlock check, and will not count itself); release reports `status` and lets it run. After
 * release the waiter may return at any time: the caller must not touch `w` again. */
void beskid_std_unpark_claim(std_waiter *w);
void beskid_std_unpark_release(std_waiter *w, int32_t status);

/* A thread about to be spawned counts as able to make progress until it has attached. */
void beskid_std_sched_spawn_begin(void);
void beskid_std_sched_spawn_end(void);

/* The calling thread's context (traps when not attached). */
beskid_gc_thread_t *beskid_std_thread_self(void);

/* Traps null_reference for NULL and abi_or_layout_mismatch when `object` is not of `type`. */
void beskid_std_check_object(const void *object, const beskid_type_t *type, const char *kind);

#endif
