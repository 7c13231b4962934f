/**
 * @file stdhost.h
 * @brief libs/stdhost — the host functions the Beskid standard library calls.
 *
 * Symbol prefix: `beskid_std_`.
 */
#ifndef BESKID_STDHOST_H
#define BESKID_STDHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "beskid/runtime_abi.h"
#include "beskid/stdhost_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/** @name Threads
 *
 * A Beskid thread runs a compiled function `void *fn(void *arg)` (one managed pointer in, one
 * out) on a new OS thread attached to the runtime. The thread object that
 * beskid_std_thread_spawn() returns is an ordinary heap object: it keeps the argument alive
 * until the function has returned and the result alive for as long as the object is reachable,
 * so beskid_std_thread_join() can be called any number of times. It owns no OS resource (the
 * runtime reaps finished OS threads itself), so dropping it unjoined leaks nothing. When a join
 * returns, the OS thread has finished with the runtime (and, unless its spawner was still
 * inside beskid_std_thread_spawn(), has exited), so the runtime may be shut down right after.
 *
 * **Blocking and the collector.** Every call of this header that can block (join, lock, wait,
 * send, receive) blocks in the collector's native state, so a pause never waits for it; the
 * uncontended paths do not block and stay in managed state.
 *
 * **Deadlock.** When every attached thread is blocked in an untimed wait of this header (join,
 * mutex lock, condition wait, channel send or receive) and none can be woken, the runtime traps
 * `scheduler_deadlock (7)` with one line on stderr and exit status 101 instead of hanging
 * forever (Go's "all goroutines are asleep"). A thread blocked anywhere else (a read, a sleep,
 * a timed wait) or spawned and not yet running counts as able to make progress; threads that
 * are not attached are not counted, so a host must attach a thread before the others block if
 * that thread is to wake them. The check runs when a thread blocks and when a thread detaches
 * or exits.
 */
/** @{ */

/** @brief The entry function of a Beskid thread: compiled code taking and returning a managed
 *         pointer (either may be NULL). */
typedef void *(*beskid_std_thread_fn)(void *arg);

/**
 * @brief Starts `fn(arg)` on a new thread attached to the runtime. Safepoint.
 * @param fn the function; the thread detaches when it returns.
 * @param arg a managed pointer or NULL, kept alive until `fn` returns.
 * @return the thread object, or NULL when the OS refuses another thread.
 * Traps: null_reference (`fn` NULL), out_of_memory.
 */
BESKID_RT_API void *beskid_std_thread_spawn(beskid_std_thread_fn fn, void *arg);

/**
 * @brief Waits until the thread's function has returned and gives its result. Joining again
 *        returns the same result. Blocks in the native state. Safepoint.
 * @param thread a thread object from beskid_std_thread_spawn().
 * @return the function's result (a managed pointer, kept alive by the thread object).
 * Traps: null_reference (`thread` NULL), abi_or_layout_mismatch (not a thread object),
 * scheduler_deadlock (the thread joins itself, or every thread is blocked).
 */
BESKID_RT_API void *beskid_std_thread_join(void *thread);

/**
 * @brief Whether the thread's function has returned (a join would not block).
 * Traps: null_reference, abi_or_layout_mismatch (not a thread object).
 */
BESKID_RT_API bool beskid_std_thread_is_done(void *thread);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Mutex and condition variable
 *
 * A mutex and a condition variable are heap objects holding a few words: no OS object, nothing
 * to destroy. A mutex is not recursive and may be unlocked by a thread other than the one that
 * locked it (as in Go). Waiters are served in FIFO order, and an unlock with waiters hands the
 * mutex directly to the first of them, so no waiter starves.
 */
/** @{ */

/** @brief Makes an unlocked mutex. Safepoint. Traps: out_of_memory. */
BESKID_RT_API void *beskid_std_mutex_new(void);

/**
 * @brief Locks the mutex, blocking in the native state while another thread holds it.
 *        Safepoint.
 * Traps: null_reference, abi_or_layout_mismatch (not a mutex), scheduler_deadlock (the calling
 * thread holds the mutex already, or every thread is blocked).
 */
BESKID_RT_API void beskid_std_mutex_lock(void *mutex);

/**
 * @brief Locks the mutex if that needs no waiting. Not a safepoint.
 * @return true when the caller now holds the mutex.
 * Traps: null_reference, abi_or_layout_mismatch.
 */
BESKID_RT_API bool beskid_std_mutex_try_lock(void *mutex);

/**
 * @brief Unlocks the mutex; the longest waiter, if any, gets it. Not a safepoint.
 * Traps: null_reference, abi_or_layout_mismatch, unreachable_or_isle_invariant (the mutex is
 * not locked).
 */
BESKID_RT_API void beskid_std_mutex_unlock(void *mutex);

/** @brief Makes a condition variable. Safepoint. Traps: out_of_memory. */
BESKID_RT_API void *beskid_std_cond_new(void);

/**
 * @brief Atomically unlocks `mutex` and waits for a signal, then locks `mutex` again before
 *        returning. Blocks in the native state. Wake-ups are not spurious: a return means a
 *        signal or broadcast chose this waiter. Safepoint.
 * Traps: null_reference, abi_or_layout_mismatch (wrong kind of object),
 * unreachable_or_isle_invariant (`mutex` not locked), scheduler_deadlock.
 */
BESKID_RT_API void beskid_std_cond_wait(void *cond, void *mutex);

/**
 * @brief Like beskid_std_cond_wait() but gives up after `timeout_ns` nanoseconds; the mutex is
 *        locked again in both cases. A timed wait never counts as deadlocked. Safepoint.
 * @return true when signalled, false when the timeout expired first.
 * Traps: as beskid_std_cond_wait(), and bounds for a negative `timeout_ns`.
 */
BESKID_RT_API bool beskid_std_cond_wait_timeout(void *cond, void *mutex, int64_t timeout_ns);

/** @brief Wakes the longest waiter, if any. Not a safepoint. Traps: null_reference,
 *         abi_or_layout_mismatch. */
BESKID_RT_API void beskid_std_cond_signal(void *cond);

/** @brief Wakes every waiter. Not a safepoint. Traps: null_reference, abi_or_layout_mismatch. */
BESKID_RT_API void beskid_std_cond_broadcast(void *cond);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Channels
 *
 * A bounded FIFO channel of managed values (NULL included) between threads. The channel object
 * holds its buffer (a heap array), so values in flight stay alive. Capacity 0 makes a
 * rendezvous channel: a send completes only when a receiver takes the value. Senders and
 * receivers that must wait are served in FIFO order; a value is handed straight to a waiting
 * receiver.
 *
 * **Closing.** After beskid_std_channel_close(), the values already buffered can still be
 * received; then receive reports #BESKID_STD_CHANNEL_CLOSED. A send on a closed channel does
 * not trap: it returns #BESKID_STD_CHANNEL_CLOSED and the value is not delivered (the standard
 * library decides whether that is a panic). Closing wakes every blocked receiver and sender
 * with #BESKID_STD_CHANNEL_CLOSED; the values of woken senders are not delivered.
 */
/** @{ */

/** @brief What a channel operation reports. */
typedef enum beskid_std_channel_status {
  BESKID_STD_CHANNEL_OK = 0,    /**< The value was sent or received. */
  BESKID_STD_CHANNEL_CLOSED = 1 /**< The channel is closed (and, for receive, empty). */
} beskid_std_channel_status;

/**
 * @brief Makes a channel buffering up to `capacity` values; 0 makes a rendezvous channel.
 *        Safepoint.
 * Traps: bounds (`capacity` < 0), arithmetic_overflow or out_of_memory (too large).
 */
BESKID_RT_API void *beskid_std_channel_new(int64_t capacity);

/**
 * @brief Sends `value`, blocking in the native state while the buffer is full (for capacity
 *        0: until a receiver takes it). Safepoint.
 * @return ::BESKID_STD_CHANNEL_OK, or ::BESKID_STD_CHANNEL_CLOSED when the channel is or gets
 *         closed before the value is taken (the value is then not delivered).
 * Traps: null_reference, abi_or_layout_mismatch (not a channel), scheduler_deadlock.
 */
BESKID_RT_API int32_t beskid_std_channel_send(void *channel, void *value);

/**
 * @brief Receives the oldest value, blocking in the native state while the channel is empty
 *        and open. Safepoint.
 * @param channel the channel.
 * @param out receives the value (NULL when closed); a root slot or local of the caller (it is
 *        written with the write barrier, so a heap field works too).
 * @return ::BESKID_STD_CHANNEL_OK, or ::BESKID_STD_CHANNEL_CLOSED when the channel is closed
 *         and empty.
 * Traps: null_reference (`channel` or `out` NULL), abi_or_layout_mismatch, scheduler_deadlock.
 */
BESKID_RT_API int32_t beskid_std_channel_receive(void *channel, void **out);

/**
 * @brief Closes the channel (see the section's notes). Not a safepoint.
 * @return ::BESKID_STD_CHANNEL_OK, or ::BESKID_STD_CHANNEL_CLOSED when it was closed already.
 * Traps: null_reference, abi_or_layout_mismatch.
 */
BESKID_RT_API int32_t beskid_std_channel_close(void *channel);

/**
 * @brief The number of values buffered now (always 0 for a rendezvous channel).
 * Traps: null_reference, abi_or_layout_mismatch.
 */
BESKID_RT_API int64_t beskid_std_channel_len(void *channel);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
