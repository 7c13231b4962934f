/**
 * @file gc.h
 * @brief libs/gc — the heap and its precise, concurrent, tri-color mark-and-sweep collector.
 *
 * The collector is Go-shaped: marking and sweeping run concurrently with the program; the world
 * stops only twice per cycle (to start marking and to terminate it), for a time bounded by the
 * number of threads and root slots, never by the size of the heap. Objects never move. There is
 * no manual free: an object lives as long as it is reachable from a root.
 *
 * **Roots** are, per attached thread, the chain of root frames compiled code pushes
 * (beskid_root_frame_t, linked from beskid_gc_thread_t::top_frame) and the slots it registers
 * with beskid_gc_register_root(); process-wide, the global slots registered with
 * beskid_gc_register_globals() and the objects held by handles (beskid_gc_handle_new()). Any
 * address inside an object — a string's or array's `ptr` included — keeps the whole object alive.
 *
 * **Safepoints.** A thread may be stopped only at a safepoint, where every managed pointer it
 * holds is in a root. Allocation and every function of this header that takes a thread are
 * safepoints; compiled code also polls beskid_gc_thread_t::poll at loop back-edges and calls
 * beskid_gc_safepoint() when it is non-zero. A thread about to block outside the runtime
 * brackets the call with beskid_gc_enter_native() / beskid_gc_leave_native(), so no pause ever
 * waits for it.
 *
 * **Write barrier.** While #beskid_gc_barrier_on is non-zero, every store of a managed pointer
 * into the heap or a global must go through beskid_gc_write_barrier() *before* the store
 * (beskid_gc_store() does both). Stores into root-frame slots need no barrier. (How the
 * barriers work: libs/gc/src/barrier.c.)
 *
 * **fork().** The collector survives a fork of the process (handlers registered through
 * libs/platform when the collector is first used): the fork waits for a cycle step in progress and
 * stops the world around the copy; the parent goes on unharmed, and in the child only the forking
 * thread stays attached (the other threads do not exist there), the background collector and
 * grower run again, and allocation and collection work. For an attached thread, fork() is a
 * safepoint.
 *
 * This library never prints and never exits: failures come back as return values and
 * beskid_gc_last_failure(); libs/builtins turns them into traps.
 *
 * Prefix: `beskid_gc_`.
 */
#ifndef BESKID_GC_H
#define BESKID_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beskid/gc_version.h"
#include "beskid/objmodel.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function or object as part of the library's exported interface. */
#define BESKID_GC_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------------------------------ */
/** @name Status and configuration */
/** @{ */

/** @brief Result of a collector operation that can fail. */
typedef enum beskid_gc_status {
  BESKID_GC_OK = 0,        /**< Success. */
  BESKID_GC_BAD_STATE,     /**< Not initialised, initialised twice, or thread not attached. */
  BESKID_GC_INVALID,       /**< A bad argument (NULL, misuse such as non-LIFO unregistration). */
  BESKID_GC_OUT_OF_MEMORY, /**< The heap or the runtime's own tables could not grow. */
  BESKID_GC_UNSUPPORTED    /**< Specified by the ABI but not available in this build. */
} beskid_gc_status;

/** Value of beskid_gc_config_t::gogc that turns proportional pacing off (Go's `GOGC=off`). */
#define BESKID_GC_GOGC_OFF (-1)

/** GOGC's default: the heap may grow by 100% of the live heap before the next cycle. */
#define BESKID_GC_GOGC_DEFAULT 100

/** @brief Debug and diagnostic switches (beskid_gc_config_t::debug_flags). */
enum beskid_gc_debug_flags {
  BESKID_GC_DEBUG_STW = 1u << 0,       /**< Mark and sweep with the world stopped. */
  BESKID_GC_DEBUG_CHECKMARK = 1u << 1, /**< Re-mark stopped after each mark; fail on a miss. */
  BESKID_GC_DEBUG_CLOBBER = 1u << 2,   /**< Fill swept objects with 0xdeadbeef bytes. */
  BESKID_GC_DEBUG_VERIFY = 1u << 3,    /**< Verify the whole heap at each phase boundary; a
                                            problem is logged and then fatal (`fatal`). */
  BESKID_GC_DEBUG_MANUAL = 1u << 4     /**< No background collector (and no grower): cycles
                                            run only when asked (beskid_gc_collect(), or a
                                            test's step hook); for tests. */
};

/**
 * @brief Receives one line of collector output (trace lines, verifier reports), without newline.
 * @param line NUL-terminated text.
 * @param context the pointer given in beskid_gc_config_t::log_context.
 */
typedef void (*beskid_gc_log_fn)(const char *line, void *context);

/** @brief How the heap is set up by beskid_gc_init(); start from beskid_gc_config_default(). */
typedef struct beskid_gc_config_t {
  /** Heap growth allowed per cycle, in percent of the live heap (Go's GOGC); default
   * #BESKID_GC_GOGC_DEFAULT; #BESKID_GC_GOGC_OFF disables proportional pacing (then only limits
   * trigger cycles). */
  int32_t gogc;
  /** Soft memory limit in bytes; 0 means none. Cycles run more often to stay under it, and
   *  once the heap reaches it (less a 3% headroom, at least 1 MiB), allocating threads mark
   *  and wait for the mark to end rather than grow the heap further. A thread spends at most
   *  half its time so (plus one second) over any stretch: a live heap larger than the limit
   *  slows the program but does not stop it, and the heap then grows past the limit. */
  uint64_t memory_limit;
  /** Hard cap on heap bytes: past it, allocation fails after one emergency collection;
   *  0 means no cap beyond the reserved address space. A cap larger than the address space the
   *  machine lets the heap reserve is allowed and means the same as no cap. */
  uint64_t heap_max;
  /** Address space reserved for the heap, at most 64 TiB; 0 picks a default: 64 GiB without a
   *  cap, else twice heap_max plus 512 MiB (at most 64 TiB), halved until the machine grants it
   *  (down to 64 MiB). A non-zero value is reserved exactly or beskid_gc_init() fails. */
  uint64_t reserve;
  /** Collect every this many allocations (0: off); 1 collects before every allocation. */
  uint64_t stress_interval;
  /** A combination of ::beskid_gc_debug_flags. */
  uint32_t debug_flags;
  /** Emit one trace line per cycle to `log` (like Go's gctrace=1). */
  bool trace;
  /** Where trace and verifier lines go; NULL discards them. */
  beskid_gc_log_fn log;
  /** Passed to `log` and `fatal`. */
  void *log_context;
  /** Called when the collector finds its own invariants broken (checkmark, verifier in fatal
   *  situations); must not return. NULL aborts the process. */
  beskid_gc_log_fn fatal;
  /** Called when the collector cannot get memory it cannot do without (the tables of the heap
   *  verifier and of checkmark; marking itself never needs memory), after recording the failure
   *  for beskid_gc_last_failure(); must not return. NULL calls `fatal` instead. */
  beskid_gc_log_fn out_of_memory;
  /** Mark workers that share grey work while marking concurrently (the cycle's driver is one
   *  of them): every mark runs exactly this many. 0 makes a pool of one per CPU (at most 8), of
   *  which each mark runs a quarter of the CPUs (at least one, as Go dedicates a quarter of
   *  its processors) and more when the pacer predicts that marking would not otherwise end by
   *  the heap goal. More than #BESKID_GC_MARK_WORKERS_MAX makes beskid_gc_init() fail. */
  uint32_t mark_workers;
} beskid_gc_config_t;

/** Most background mark workers a configuration may ask for. */
#define BESKID_GC_MARK_WORKERS_MAX 64u

/** @brief Fills `config` with the defaults: GOGC #BESKID_GC_GOGC_DEFAULT, no limits, no debug
 * modes, no trace. */
BESKID_GC_API void beskid_gc_config_default(beskid_gc_config_t *config);

/**
 * @brief Creates the heap and starts the collector's background threads: the collector, and
 *        the grower, which keeps a few chunks of memory zeroed and resident ahead of the heap's
 *        growth at background priority (beskid_gc_stats_t::ready_bytes); in manual mode
 *        neither. Once per process (again only after beskid_gc_shutdown()).
 * @param config the settings; NULL means the defaults.
 * @return ::BESKID_GC_OK; ::BESKID_GC_BAD_STATE if already initialised; ::BESKID_GC_INVALID for
 *         a bad setting (a negative GOGC other than off, a reserve above 64 TiB);
 *         ::BESKID_GC_OUT_OF_MEMORY when the address space cannot be reserved.
 */
BESKID_GC_API beskid_gc_status beskid_gc_init(const beskid_gc_config_t *config);

/**
 * @brief Stops the collector and releases the whole heap. The calling thread is detached if it
 *        is attached; objects die without notice and pointers into the heap dangle afterwards.
 *
 * Refused while any other thread is attached: their contexts, the heap and the locks must
 * outlive every thread that may still use them, so a thread's exit or a late call never meets
 * freed memory. A program that ends while threads still run should end the process instead
 * (as an AOT program's `main` does), without shutting down.
 * @return ::BESKID_GC_OK (also when not initialised: nothing to do), or ::BESKID_GC_BAD_STATE
 *         when another thread is still attached; then nothing has changed.
 */
BESKID_GC_API beskid_gc_status beskid_gc_shutdown(void);

/** @brief Whether beskid_gc_init() succeeded and beskid_gc_shutdown() has not run since. */
BESKID_GC_API bool beskid_gc_is_initialized(void);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Threads, safepoints and native code */
/** @{ */

/**
 * @brief The per-thread context of an attached thread (a "mutator").
 *
 * Only the first two fields are ABI; the rest of the structure is private to the collector.
 * Compiled code pushes a root frame with `frame.previous = t->top_frame; t->top_frame = &frame`
 * and pops it with `t->top_frame = frame.previous`, and polls `t->poll` at loop back-edges.
 */
typedef struct beskid_gc_thread_t {
  /** @0: the innermost root frame of this thread, or NULL. Written only by its own thread. */
  beskid_root_frame_t *top_frame;
  /** @8: non-zero when the collector wants this thread to call beskid_gc_safepoint(). */
  volatile uint32_t poll;
} beskid_gc_thread_t;

/**
 * @brief Attaches the calling thread so it may allocate and hold managed pointers.
 *
 * Attaching an attached thread returns its existing context (attachments do not nest).
 * @return the context (also available as beskid_gc_current()), or NULL when the collector is
 *         not initialised or out of memory.
 */
BESKID_GC_API beskid_gc_thread_t *beskid_gc_attach(void);

/**
 * @brief Detaches the calling thread: its roots stop counting and its buffers are flushed.
 *        A thread that exits attached is detached automatically. No-op when not attached.
 */
BESKID_GC_API void beskid_gc_detach(void);

/**
 * @brief The number of threads attached now (the figure beskid_gc_stats_t::threads reports).
 *        Sequentially consistent with attaching and detaching: a detach that returned is seen.
 */
BESKID_GC_API uint32_t beskid_gc_thread_count(void);

/** @brief A function run after a thread detaches (beskid_gc_set_detach_hook()). */
typedef void (*beskid_gc_detach_hook)(void);

/**
 * @brief Sets the function run after every detach, by beskid_gc_detach() or because an attached
 *        thread exited, on the detaching thread once it is no longer counted by
 *        beskid_gc_thread_count() and holds no lock of the collector. The detach done by
 *        beskid_gc_shutdown() does not run it. The standard library's scheduler uses it to see
 *        a thread leave while all the others are blocked (libs/stdhost, deadlock report).
 * @param hook the function, or NULL for none; replaces any earlier one.
 */
BESKID_GC_API void beskid_gc_set_detach_hook(beskid_gc_detach_hook hook);

/** @brief The calling thread's context, or NULL when it is not attached. */
BESKID_GC_API beskid_gc_thread_t *beskid_gc_current(void);

/**
 * @brief The calling thread's context when it may touch the heap: attached and not in the
 *        native state (between beskid_gc_enter_native() and beskid_gc_leave_native()).
 *
 * Costs what beskid_gc_current() costs, so an entry point can refuse both an unattached thread
 * and a thread in the native state with the one NULL test it makes anyway.
 * @return the context, or NULL when the thread is not attached or is in the native state.
 */
BESKID_GC_API beskid_gc_thread_t *beskid_gc_current_running(void);

/**
 * @brief Whether thread `t` is in the native state (it called beskid_gc_enter_native() and has
 *        not called beskid_gc_leave_native() since).
 * @param t the calling thread's context.
 */
BESKID_GC_API bool beskid_gc_in_native(const beskid_gc_thread_t *t);

/**
 * @brief The slow path of a poll: lets the collector stop or signal this thread.
 *        Call when `t->poll` is non-zero; calling it at other times is harmless.
 * @param t the calling thread's context.
 */
BESKID_GC_API void beskid_gc_safepoint(beskid_gc_thread_t *t);

/**
 * @brief Declares that the calling thread leaves managed code to block or run native code:
 *        until beskid_gc_leave_native() it must not touch the heap, and pauses do not wait for
 *        it. Its roots stay roots.
 *
 * A pause counts a native thread as stopped and works on its roots and allocation caches, so
 * the thread may not allocate, store managed pointers, change its roots or collect until it
 * leaves. beskid_gc_alloc_fast() returns NULL for it; allocation, beskid_gc_safepoint() and
 * beskid_gc_collect() report the misuse through beskid_gc_config_t::fatal (libs/builtins traps
 * every such call earlier, with unreachable_or_isle_invariant). A thread that detaches or exits
 * in the native state leaves it first.
 */
BESKID_GC_API void beskid_gc_enter_native(beskid_gc_thread_t *t);

/** @brief Returns from native code; waits if the world is stopped. */
BESKID_GC_API void beskid_gc_leave_native(beskid_gc_thread_t *t);

/**
 * @brief Bytes below which beskid_gc_copy_bytes() and beskid_gc_fill_bytes() work in place and
 *        never stop: a caller copying less needs no roots for the call.
 */
#define BESKID_GC_BULK_MIN ((size_t)64 << 10)

/**
 * @brief Copies `n` bytes from `src` to `dst` (the ranges may overlap) without holding up a
 *        pause, however large `n` is. May stop at a safepoint when `n` ≥ #BESKID_GC_BULK_MIN.
 *
 * For the bulk copies of library code: a builder outgrowing its buffer, a concatenation, a
 * byte-array copy. Copying many megabytes into fresh pages takes milliseconds, and a stop
 * requested meanwhile would wait for all of it; above a few pages the copy runs in the native
 * state instead, so pauses count the thread as stopped and run beside it, and a whole
 * collection may happen before the call returns.
 *
 * @param t the calling thread's context, running.
 * @param dst memory outside the heap, or the payload of a no-scan object (no pointer map: a
 *        byte buffer or string) that the caller keeps reachable from its roots until the call
 *        returns. A destination inside an object with managed pointers, or running past the end
 *        of its object's span, is reported through beskid_gc_config_t::fatal.
 * @param src memory outside the heap, or inside an object the caller keeps reachable likewise.
 * @param n bytes; 0 does nothing.
 */
BESKID_GC_API void beskid_gc_copy_bytes(beskid_gc_thread_t *t, void *dst, const void *src,
                                        size_t n);

/**
 * @brief Sets `n` bytes at `dst` to `value` without holding up a pause, as
 *        beskid_gc_copy_bytes() copies. May stop at a safepoint when `n` ≥ #BESKID_GC_BULK_MIN.
 * @param t the calling thread's context, running.
 * @param dst as for beskid_gc_copy_bytes().
 * @param value the byte to store.
 * @param n bytes; 0 does nothing.
 */
BESKID_GC_API void beskid_gc_fill_bytes(beskid_gc_thread_t *t, void *dst, uint8_t value, size_t n);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Allocation */
/** @{ */

/**
 * @brief Allocates a zeroed object of `type` with its header written. A safepoint.
 * @param t the calling thread's context.
 * @param type a descriptor that passed beskid_gc_type_check() (or beskid_obj_validate_type()).
 * @return the object, or NULL when the heap is exhausted even after an emergency collection
 *         (beskid_gc_last_failure() says why).
 */
BESKID_GC_API void *beskid_gc_alloc(beskid_gc_thread_t *t, const beskid_type_t *type);

/**
 * @brief Allocates a zeroed array buffer of `capacity` elements. A safepoint.
 * @param t the calling thread's context.
 * @param elem a valid element descriptor (beskid_obj_validate_elem_type()).
 * @param capacity number of elements; the buffer's size must not overflow
 *        (beskid_obj_array_size()).
 * @return the buffer (elements at #BESKID_ARRAY_DATA_OFFSET), or NULL as for beskid_gc_alloc().
 */
BESKID_GC_API beskid_array_buffer_t *
beskid_gc_alloc_array(beskid_gc_thread_t *t, const beskid_elem_type_t *elem, uint64_t capacity);

/**
 * @brief Validates a type descriptor once and remembers the answer in a small per-thread cache,
 *        so that checking the same descriptor on every allocation costs one compare.
 * @return ::BESKID_OBJ_VALID or why the descriptor is refused.
 */
BESKID_GC_API beskid_obj_error beskid_gc_type_check(beskid_gc_thread_t *t,
                                                    const beskid_type_t *type);

/**
 * @brief The allocation fast path for compiled code's `alloc`: the calling thread's context is
 *        found through thread-local storage, and `type` must already have passed
 *        beskid_gc_type_check() on this thread with `size == type->size`.
 * @return a zeroed object with its header written, or NULL when the fast path cannot serve the
 *         request (not attached, in the native state, descriptor not checked yet, size mismatch,
 *         a large object, a pending safepoint, no free slot cached, stress mode); then call
 *         beskid_gc_alloc().
 */
BESKID_GC_API void *beskid_gc_alloc_fast(const beskid_type_t *type, uint64_t size);

/** @brief Why the last allocation of any thread failed. */
typedef struct beskid_gc_failure_t {
  uint64_t requested; /**< Bytes asked for. */
  uint64_t live;      /**< Live bytes after the emergency collection. */
  uint64_t committed; /**< Bytes of memory the heap had committed. */
  uint64_t cap;       /**< The hard cap (beskid_gc_config_t::heap_max), 0 if none. */
} beskid_gc_failure_t;

/** @brief Copies the figures of the most recent allocation failure; all zero if none. */
BESKID_GC_API void beskid_gc_last_failure(beskid_gc_failure_t *failure);

/**
 * @brief Records a failed allocation of the caller's own memory (a library above the collector
 *        that could not get `requested` bytes) with the heap's current figures, so that
 *        beskid_gc_last_failure() reports it like one of the collector's.
 */
BESKID_GC_API void beskid_gc_report_failure(uint64_t requested);

/**
 * @brief The start of the object containing `address`, if `address` points into a live object
 *        of the heap (interior pointers included), else NULL. Only meaningful at a safepoint.
 */
BESKID_GC_API void *beskid_gc_object_start(const void *address);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Roots */
/** @{ */

/**
 * @brief Registers the address of a slot holding a managed pointer (or NULL) as a root of the
 *        calling thread, until beskid_gc_unregister_root(). Unbounded; LIFO is O(1).
 * @return ::BESKID_GC_OK, ::BESKID_GC_INVALID for NULL, ::BESKID_GC_OUT_OF_MEMORY.
 */
BESKID_GC_API beskid_gc_status beskid_gc_register_root(beskid_gc_thread_t *t, void **slot);

/**
 * @brief Unregisters a slot registered by the same thread. The most recent registration is
 *        found in O(1); others are searched.
 * @return ::BESKID_GC_OK, or ::BESKID_GC_INVALID when `slot` is not registered.
 */
BESKID_GC_API beskid_gc_status beskid_gc_unregister_root(beskid_gc_thread_t *t, void **slot);

/** Most slots one beskid_gc_register_globals() call may register (2^32). */
#define BESKID_GC_GLOBALS_MAX (UINT64_C(1) << 32)

/**
 * @brief Registers `count` process-wide slots (a module's globals) as roots for the life of the
 *        heap. Stores into them must use the write barrier. Costs one table entry per call.
 * @param slots the first slot; the range [slots, slots + count) must not wrap the address space.
 * @param count number of slots, at most #BESKID_GC_GLOBALS_MAX; 0 registers nothing.
 * @return ::BESKID_GC_OK; ::BESKID_GC_INVALID for NULL slots with a count, a count above the
 *         bound or a range that wraps; ::BESKID_GC_OUT_OF_MEMORY when the table cannot grow
 *         (beskid_gc_last_failure() has the figures).
 */
BESKID_GC_API beskid_gc_status beskid_gc_register_globals(void **slots, size_t count);

/**
 * @brief Keeps the object containing `object` alive until the handle is released.
 * @return a handle (never 0), or 0 when `object` is not a heap object or no memory is left.
 */
BESKID_GC_API beskid_handle_t beskid_gc_handle_new(void *object);

/**
 * @brief The pointer a live handle was created with.
 * @return the pointer, or NULL for 0, a released (stale) or a forged handle.
 */
BESKID_GC_API void *beskid_gc_handle_get(beskid_handle_t handle);

/**
 * @brief Releases a handle; later copies of it no longer resolve.
 * @return false when the handle was 0, stale or forged.
 */
BESKID_GC_API bool beskid_gc_handle_release(beskid_handle_t handle);

/** @brief Number of live handles. */
BESKID_GC_API uint64_t beskid_gc_handle_count(void);

/**
 * @brief One safepoint of a stack-map table: a return address and where, relative to the stack
 *        pointer of that frame, the managed pointers live.
 */
typedef struct beskid_gc_stack_map_entry_t {
  uintptr_t return_address;     /**< Address of the instruction after the call. */
  uint32_t frame_size;          /**< Bytes from the frame's stack pointer to its frame pointer. */
  uint32_t slot_count;          /**< Entries in `slot_offsets`. */
  const uint32_t *slot_offsets; /**< Offsets from the stack pointer of each managed slot. */
} beskid_gc_stack_map_entry_t;

/**
 * @brief Registers the stack maps of a module (AOT at start-up, or a JIT after finalising code),
 *        sorted by return address, for compilers that keep roots in stack maps walked over frame
 *        pointers instead of root frames.
 * @return ::BESKID_GC_UNSUPPORTED in this version: compiled code must use root frames.
 */
BESKID_GC_API beskid_gc_status
beskid_gc_register_stack_maps(const beskid_gc_stack_map_entry_t *entries, size_t count);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Write barrier */
/** @{ */

/**
 * @brief Non-zero while a store of a managed pointer into the heap or a global must go through
 *        beskid_gc_write_barrier(). Compiled code loads this byte before such a store.
 */
BESKID_GC_API extern uint8_t beskid_gc_barrier_on;

/**
 * @brief The barrier's slow path, called *before* `*slot = value` while the barrier is on:
 *        shades the value being overwritten and, when the cycle needs it, the value being
 *        stored (Go's hybrid Yuasa/Dijkstra barrier; the stored value needs shading only while
 *        the thread's roots are unscanned, or once the process has used
 *        beskid_gc_write_barrier_object()).
 * @param t the calling thread's context.
 * @param slot the heap or global slot about to be written.
 * @param value the pointer about to be stored (may be NULL).
 */
BESKID_GC_API void beskid_gc_write_barrier(beskid_gc_thread_t *t, void **slot, void *value);

/**
 * @brief Barrier for code that only knows the object written and the value stored (upstream's
 *        `gc_write_barrier(parent, child)`). Correct whether called before or after the store,
 *        at a price: from the first use on, every cycle also shades stored values in
 *        beskid_gc_write_barrier() and rescans all threads' roots when marking terminates, and
 *        the cycle running at the first use frees nothing.
 */
BESKID_GC_API void beskid_gc_write_barrier_object(beskid_gc_thread_t *t, void *parent, void *child);

/**
 * @brief Barrier before overwriting `count` consecutive pointer slots (bulk copy or clear):
 *        shades every value about to be overwritten. Shade the new values with
 *        beskid_gc_write_barrier() or copy them from a reachable source.
 */
BESKID_GC_API void beskid_gc_write_barrier_range(beskid_gc_thread_t *t, void **slots, size_t count);

/** @brief Stores `value` into the heap or global slot `slot` with the write barrier. */
static inline void beskid_gc_store(beskid_gc_thread_t *t, void **slot, void *value) {
  if (__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) {
    beskid_gc_write_barrier(t, slot, value);
  }
  __atomic_store_n(slot, value, __ATOMIC_RELAXED);
}

/** @brief Pushes a root frame (what compiled code does inline). */
static inline void beskid_gc_push_frame(beskid_gc_thread_t *t, beskid_root_frame_t *frame) {
  frame->previous = t->top_frame;
  t->top_frame = frame;
}

/** @brief Pops the innermost root frame (what compiled code does inline). */
static inline void beskid_gc_pop_frame(beskid_gc_thread_t *t, beskid_root_frame_t *frame) {
  t->top_frame = frame->previous;
}

/** @brief The poll compiled code places at loop back-edges. */
static inline void beskid_gc_poll(beskid_gc_thread_t *t) {
  if (__builtin_expect(__atomic_load_n(&t->poll, __ATOMIC_RELAXED) != 0, 0)) {
    beskid_gc_safepoint(t);
  }
}

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Collection, pacing and statistics */
/** @{ */

/** @brief What the collector is doing (upstream's `gc_phase` values). */
typedef enum beskid_gc_phase_t {
  BESKID_GC_PHASE_IDLE = 0,    /**< No cycle under way. */
  BESKID_GC_PHASE_MARKING = 1, /**< Marking; the write barrier is on. */
  BESKID_GC_PHASE_SWEEPING = 2 /**< Sweeping the previous cycle's garbage. */
} beskid_gc_phase_t;

/** @brief The current phase. */
BESKID_GC_API beskid_gc_phase_t beskid_gc_phase(void);

/**
 * @brief Runs a whole collection and waits until it has swept. A safepoint.
 * @param t the calling thread's context (NULL if the caller is not attached).
 * @return the live bytes the cycle found.
 */
BESKID_GC_API uint64_t beskid_gc_collect(beskid_gc_thread_t *t);

/** @brief Sets GOGC (≥ 0, or #BESKID_GC_GOGC_OFF); returns the previous value. */
BESKID_GC_API int32_t beskid_gc_set_gogc(int32_t gogc);
/** @brief Sets the soft memory limit in bytes (0: none; see beskid_gc_config_t::memory_limit);
 *         returns the previous value. */
BESKID_GC_API uint64_t beskid_gc_set_memory_limit(uint64_t bytes);
/** @brief Sets the hard heap cap in bytes (0: none); returns the previous value. */
BESKID_GC_API uint64_t beskid_gc_set_heap_max(uint64_t bytes);
/** @brief Collect every `interval` allocations (0: off); returns the previous value. */
BESKID_GC_API uint64_t beskid_gc_set_stress_interval(uint64_t interval);
/** @brief Turns the per-cycle trace on or off; returns the previous setting. */
BESKID_GC_API bool beskid_gc_set_trace(bool on);

/** @brief Number of buckets of beskid_gc_stats_t::pause_histogram. */
#define BESKID_GC_PAUSE_BUCKETS 32

/** @brief Cumulative figures of the heap and the collector (beskid_gc_read_stats()). */
typedef struct beskid_gc_stats_t {
  uint64_t cycles;              /**< Completed collection cycles. */
  uint64_t forced_cycles;       /**< Of those, cycles asked for by beskid_gc_collect() or stress. */
  uint64_t live_bytes;          /**< Bytes marked by the last completed cycle. */
  uint64_t live_objects;        /**< Objects marked by the last completed cycle. */
  uint64_t heap_goal;           /**< Heap size at which the next cycle should finish. */
  uint64_t heap_trigger;        /**< Heap size at which the next cycle starts. */
  uint64_t heap_bytes;          /**< Bytes in allocated objects now (live and not yet swept). */
  uint64_t heap_objects;        /**< Objects allocated and not yet swept. */
  uint64_t committed_bytes;     /**< Memory the heap holds from the allocator: its chunks, the
                                     few made ready ahead of its growth, and the spare blocks of
                                     chunks it gave up (address space for its next chunks). */
  uint64_t released_bytes;      /**< Of that, free pages whose memory went back to the OS, the
                                     spare blocks included: committed_bytes - released_bytes is
                                     what the heap keeps resident. */
  uint64_t ready_bytes;         /**< Of that, memory made ready ahead of the heap's growth:
                                     zeroed and resident, holding no object yet. */
  uint64_t ready_chunks_made;   /**< Chunks the background grower has made ready since init. */
  uint64_t total_alloc_bytes;   /**< Bytes ever allocated. */
  uint64_t total_alloc_objects; /**< Objects ever allocated. */
  uint64_t total_freed_bytes;   /**< Bytes ever swept. */
  uint64_t total_freed_objects; /**< Objects ever swept. */
  uint64_t pause_count;         /**< Stop-the-world pauses. */
  uint64_t pause_total_ns;      /**< Sum of the pauses. */
  uint64_t pause_max_ns;        /**< Longest pause. */
  uint64_t
      pause_p50_ns; /**< Median of the most recent pauses (exact, from a ring of the last 4096). */
  uint64_t pause_p99_ns;  /**< 99th percentile of the same recent pauses (exact). */
  uint64_t ttsp_max_ns;   /**< Longest time from a stop request to the last thread stopping. */
  uint64_t ttsp_total_ns; /**< Sum of the times to safepoint. */
  /** Longest time that the threads' own code, the runtime's paths included, can have held a stop
   * for: per stop, the longest time a thread took to reach its safepoint, where a stop still
   * waiting after 100 us counts from then on only the CPU time each awaited thread used (read
   * from its CPU clock; where that cannot be read, the whole wait). An upper bound. Far below
   * ttsp_max_ns, the long stops were the scheduler's: the awaited threads, or the stopping one,
   * waited for a CPU, being more than the CPUs or sharing them with other work. */
  uint64_t ttsp_running_max_ns;
  /** Pauses by duration: bucket i counts pauses in [2^i, 2^(i+1)) ns (0 also holds < 1 ns). */
  uint64_t pause_histogram[BESKID_GC_PAUSE_BUCKETS];
  uint64_t mark_ns;   /**< Wall time spent in the concurrent mark phase. */
  uint64_t sweep_ns;  /**< Wall time spent in the concurrent sweep phase. */
  uint64_t gc_cpu_ns; /**< CPU time of the collector's threads (its mark helpers included)
                         plus the time mutators spent in mark assists. */
  uint64_t assist_ns; /**< Time mutators spent in mark assists (sweeping on allocation is not
                         counted). */
  uint32_t threads;   /**< Attached threads now. */
  int32_t gogc;       /**< The GOGC setting. */
  /** Stops that a running thread waited out: each counts once per thread it held, from the
   * moment the thread reached its safepoint (or came back from the native state) to the moment
   * it ran again. Unlike the pauses, a stall includes the thread's own wait for the stopper to
   * notice it and its wake-up after the restart: what the thread itself lost. */
  uint64_t stall_count;
  uint64_t stall_total_ns; /**< Sum of those stalls. */
  uint64_t stall_max_ns;   /**< Longest of them. */
  /** Time mutators' assists spent waiting for the background workers instead of marking: past
   * the heap goal with no grey work left to take, an allocating thread waits (in the native
   * state) until the workers have done the marking it owes, for at most 1 ms at a time, so that
   * it does not carry the heap further past its goal. Not CPU time, and not in gc_cpu_ns. */
  uint64_t assist_wait_ns;
} beskid_gc_stats_t;

/**
 * @brief Copies the current statistics. Cheap; does not stop the world.
 *
 * One read is consistent: the figures of cycles (cycles, forced_cycles, live_bytes,
 * live_objects, the pause counts, durations, histogram and percentiles, times to safepoint,
 * mark_ns, sweep_ns, gc_cpu_ns) describe the same set of completed cycles; a cycle in progress
 * shows up, pauses included, when it completes. The heap figures (heap_bytes, heap_objects,
 * committed_bytes, released_bytes, ready_bytes, ready_chunks_made, the totals, heap_goal,
 * heap_trigger, threads) and the stall figures are as of the call.
 */
BESKID_GC_API void beskid_gc_read_stats(beskid_gc_stats_t *stats);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Debugging */
/** @{ */

/**
 * @brief Stops the world and checks every invariant of the heap: span and page-table
 *        consistency, every reachable object allocated and (at mark end) marked, every pointer
 *        field null or into a live object. Failures are logged.
 * @return the number of problems found (0 when the heap is sound).
 */
BESKID_GC_API uint64_t beskid_gc_verify(beskid_gc_thread_t *t);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* BESKID_GC_H */
