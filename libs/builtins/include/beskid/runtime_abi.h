/**
 * @file runtime_abi.h
 * @brief The compiler-facing ABI of the Beskid runtime: every function compiled Beskid code may
 *        call, the layouts it shares with the runtime, and the rules it must keep.
 *
 * Ahead-of-time executables and the JIT call exactly this surface, with the host's C calling
 * convention (what Cranelift calls the default convention of the ISA). Complex values are
 * passed by pointer; a string or array result is written through a caller-provided out pointer.
 *
 * **Values.** `int` is `int64_t`, `float` is `double`, `bool` is one byte (0 or 1) at this ABI,
 * a struct is a pointer to a heap object (beskid_header_t first), a string is a beskid_str_t and
 * an array is a beskid_array_t (see beskid/objmodel.h for every layout).
 *
 * **Threads.** A thread calls beskid_rt_thread_attach() before anything else here and
 * beskid_rt_thread_detach() when done. beskid_rt_thread() gives compiled code its context, whose
 * first two fields are ABI: `top_frame` @0 (the shadow stack of root frames) and `poll` @8.
 *
 * **Roots.** Every managed pointer a function keeps across a call that is a safepoint must live
 * in a slot of a root frame pushed on its thread (`frame.previous = t->top_frame;
 * t->top_frame = &frame`, popped on every exit), in a slot registered with gc_register_root(),
 * or in a registered global.
 *
 * **Safepoints.** Functions marked "Safepoint" may stop the thread for the collector. Compiled
 * code also polls: at each loop back-edge, `if (t->poll) beskid_rt_safepoint()`.
 *
 * **Barrier.** Before storing a managed pointer into a heap object or a global:
 * `if (beskid_gc_barrier_on) beskid_rt_write_barrier(slot, value);` then the store.
 *
 * **Native state.** Between beskid_rt_enter_native() and beskid_rt_leave_native() the collector
 * counts the thread as stopped and works on its roots while it runs, so the thread must not touch
 * the heap: every entry point that handles managed pointers (allocation, strings, arrays, roots,
 * globals, handles, both barriers, safepoints, collection, verification, entering native again)
 * traps unreachable_or_isle_invariant when called in that state. Queries (gc_bytes_allocated(),
 * gc_object_count(), gc_phase(), str_len()), beskid_rt_thread(), panics and traps stay allowed,
 * and a thread may detach or exit in the native state.
 *
 * **Traps.** Every runtime fault writes one line to stderr,
 * `beskid runtime trap v5: <name> (<code>): <message>`, and ends the process with status
 * #BESKID_TRAP_EXIT_STATUS. Nothing unwinds. The codes are ::beskid_trap_code.
 *
 * Symbols: the spec's builtins (`alloc`, `str_new`, `str_len`, `array_new`, `panic`) and
 * upstream's `gc_*` names keep their names; everything else starts with `beskid_`.
 */
#ifndef BESKID_RUNTIME_ABI_H
#define BESKID_RUNTIME_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beskid/builtins_version.h"
#include "beskid/gc.h"
#include "beskid/objmodel.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function as part of the runtime's exported ABI. */
#define BESKID_RT_API __attribute__((visibility("default")))

/** Major version of this ABI: a program compiled against another major version is refused. */
#define BESKID_ABI_VERSION_MAJOR 2
/** Minor version of this ABI: additions only; a program may need at most this minor.
 *  1.1 added the host functions of beskid/stdhost.h; 2.0 made the object header one word (the
 *  descriptor pointer), moving every field after it, and the array buffer's fields with it. */
#define BESKID_ABI_VERSION_MINOR 0
/** The process exit status of every trap and panic. */
#define BESKID_TRAP_EXIT_STATUS 101
/** The prefix of every trap line on stderr. */
#define BESKID_TRAP_DIAGNOSTIC "beskid runtime trap v5"

/** @brief Trap codes (upstream's numbering), printed as `<name> (<code>)`. */
typedef enum beskid_trap_code {
  BESKID_TRAP_PANIC = 0,          /**< panic: the program called `panic`. */
  BESKID_TRAP_NULL_REFERENCE = 1, /**< null_reference: a NULL where a value is needed. */
  BESKID_TRAP_BOUNDS = 2, /**< bounds: an index or length out of range, a negative length. */
  BESKID_TRAP_ARITHMETIC_OVERFLOW = 3, /**< arithmetic_overflow: a size computation overflowed. */
  BESKID_TRAP_INVALID_UTF8 =
      4, /**< invalid_utf8: bytes that are not UTF-8 where a string is made. */
  BESKID_TRAP_OUT_OF_MEMORY = 5, /**< out_of_memory: the heap is exhausted (figures follow). */
  BESKID_TRAP_INVALID_OR_STALE_HANDLE =
      6,                              /**< invalid_or_stale_handle: a released or forged handle. */
  BESKID_TRAP_SCHEDULER_DEADLOCK = 7, /**< scheduler_deadlock: no thread can make progress. */
  BESKID_TRAP_ABI_OR_LAYOUT_MISMATCH =
      8, /**< abi_or_layout_mismatch: wrong ABI version, malformed descriptor, size mismatch. */
  BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT = 9, /**< unreachable_or_isle_invariant: compiled code
                                                    broke an invariant (e.g. unbalanced roots). */
  BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION =
      10 /**< runtime_internal_corruption: lifecycle misuse or a broken runtime invariant. */
} beskid_trap_code;

/* ------------------------------------------------------------------------------------------ */
/** @name Lifecycle */
/** @{ */

/** @brief Settings of the runtime; start from beskid_rt_config_default() or the environment. */
typedef struct beskid_rt_config_t {
  int32_t gogc;             /**< Heap growth per cycle in percent (#BESKID_GC_GOGC_DEFAULT), or
                               #BESKID_GC_GOGC_OFF. */
  uint64_t memory_limit;    /**< Soft memory limit in bytes; 0 for none. */
  uint64_t heap_max;        /**< Hard cap on heap bytes; 0 for none. Past it: out_of_memory. */
  uint64_t stress_interval; /**< Collect every N allocations (debug); 0 for off. */
  uint32_t debug_flags;     /**< ::beskid_gc_debug_flags. */
  bool trace;               /**< One line per collection on stderr (like Go's gctrace=1). */
  uint32_t mark_workers;    /**< Background mark workers, 1..64; 0 picks from the CPU count. */
} beskid_rt_config_t;

/**
 * @brief Fills `config` with the defaults (GOGC 100, no limits, no debugging).
 * Traps: null_reference when `config` is NULL.
 */
BESKID_RT_API void beskid_rt_config_default(beskid_rt_config_t *config);

/**
 * @brief Reads the runtime's environment variables into `config`:
 *        `BESKID_GOGC` (a number ≥ 0 or `off`), `BESKID_MEMORY_LIMIT` and
 *        `BESKID_HEAP_MAX_BYTES` (bytes, optional K/M/G suffix in powers of 1024),
 *        `BESKID_GCTRACE` (`1` on, `0` off), `BESKID_GCWORKERS` (mark workers, 1 to 64, or
 *        `0` for one per CPU of which the pacer uses what it needs), and `BESKID_GCDEBUG`, a
 *        comma-separated list of `stw`, `checkmark`, `clobber`, `verify`, `stress=N`.
 *        Unset variables leave the field as it was.
 * @param config updated in place.
 * @param error receives a one-line description of the first bad value; may be NULL.
 * @param error_cap capacity of `error`.
 * @return true when every set variable was valid.
 * Traps: null_reference when `config` is NULL.
 */
BESKID_RT_API bool beskid_rt_config_from_env(beskid_rt_config_t *config, char *error,
                                             size_t error_cap);

/**
 * @brief Parses a byte count: decimal digits with an optional `K`, `M` or `G` suffix (powers of
 *        1024, upper or lower case). No sign, no spaces, no overflow.
 * @param text the text; NULL is not a byte count (false).
 * @param bytes receives the count; left alone on failure.
 * @return true with `*bytes` set, or false for anything else.
 * Traps: null_reference when `bytes` is NULL.
 */
BESKID_RT_API bool beskid_rt_parse_bytes(const char *text, uint64_t *bytes);

/**
 * @brief Starts the runtime: the heap, the collector and trap reporting; attaches the calling
 *        thread. Once per process (again after beskid_rt_shutdown()).
 * @param config the settings; NULL means the defaults.
 * @return 0 on success, otherwise a ::beskid_gc_status explaining the failure.
 */
BESKID_RT_API int32_t beskid_rt_init(const beskid_rt_config_t *config);

/**
 * @brief Stops the runtime: detaches the calling thread and releases the heap. A no-op when the
 *        runtime is not running.
 *
 * Every other thread must have detached (or exited) first. Traps runtime_internal_corruption
 * (10) when another thread is still attached, even one blocked in native code: the heap cannot
 * be released under a thread that may still use it. A program that ends while threads still run
 * ends the process instead, as the AOT `main` does (beskid_program_main()).
 */
BESKID_RT_API void beskid_rt_shutdown(void);

/**
 * @brief Attaches the calling thread (idempotent). Traps runtime_internal_corruption before
 *        beskid_rt_init().
 * @return the thread's context.
 */
BESKID_RT_API beskid_gc_thread_t *beskid_rt_thread_attach(void);

/** @brief Detaches the calling thread; its root frames must all be popped. */
BESKID_RT_API void beskid_rt_thread_detach(void);

/**
 * @brief The calling thread's context, for compiled code to push root frames and poll.
 *        Traps runtime_internal_corruption when the thread is not attached.
 */
BESKID_RT_API beskid_gc_thread_t *beskid_rt_thread(void);

/** @brief This runtime's ABI version: `(major << 16) | minor`. */
BESKID_RT_API uint32_t beskid_rt_abi_version(void);

/**
 * @brief Refuses a program compiled against an incompatible ABI: traps abi_or_layout_mismatch
 *        unless `major` equals #BESKID_ABI_VERSION_MAJOR and `minor` ≤ #BESKID_ABI_VERSION_MINOR.
 */
BESKID_RT_API void beskid_rt_abi_check(uint32_t major, uint32_t minor);

/**
 * @brief The program's entry point, defined by the compiled program. The runtime's AOT `main`
 *        initialises the runtime from the environment, calls it and ends the process with its
 *        result (101 when start-up fails).
 *
 * When it returns the program is over, as when a Go program's main returns: other threads may
 * still be attached and running (or blocked in native code); they are not waited for and nothing
 * is torn down under them. stdout and stderr are flushed, no atexit handler runs, and the process
 * exits with the result.
 */
int64_t beskid_program_main(void);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name The v0.1 builtins */
/** @{ */

/**
 * @brief Allocates a zeroed heap object of `size` bytes (header included) with `type` stamped in
 *        its header. Safepoint.
 * @param size the object size; must equal `type->size` when `type` is not NULL.
 * @param type the type descriptor, or NULL for an object without managed pointers.
 * @return the object, never NULL.
 * Traps: abi_or_layout_mismatch (malformed descriptor, size mismatch, size < 16),
 * out_of_memory.
 */
BESKID_RT_API void *alloc(int64_t size, const beskid_type_t *type);

/**
 * @brief Makes a string from `len` bytes at `ptr`, copied into the heap. Safepoint.
 * @param out receives `{ptr, len}`; the empty string is `{NULL, 0}`.
 * @param ptr the UTF-8 bytes; may be NULL when `len` is 0.
 * @param len the number of bytes.
 * Traps: null_reference (`out` NULL, or `ptr` NULL with `len` > 0), bounds (`len` < 0),
 * invalid_utf8, out_of_memory.
 */
BESKID_RT_API void str_new(beskid_str_t *out, const uint8_t *ptr, int64_t len);

/**
 * @brief The length of a string in bytes.
 * Traps: null_reference (`str` NULL), bounds (a negative length: a corrupted value).
 */
BESKID_RT_API int64_t str_len(const beskid_str_t *str);

/**
 * @brief Makes an array of `len` zeroed elements of `elem_size` bytes without managed pointers
 *        (len = cap). Safepoint.
 * @param out receives `{ptr, len, cap}`; `{NULL, 0, 0}` when `len` is 0.
 * @param elem_size bytes per element.
 * @param len number of elements.
 * Traps: null_reference (`out` NULL), bounds (`elem_size` < 1 or above 2^32, `len` < 0),
 * arithmetic_overflow (`elem_size × len` too large), out_of_memory.
 */
BESKID_RT_API void array_new(beskid_array_t *out, int64_t elem_size, int64_t len);

/**
 * @brief Like array_new() for elements described by `elem`, which may hold managed pointers.
 *        Safepoint.
 * Traps: as array_new(), and abi_or_layout_mismatch for a malformed element descriptor.
 */
BESKID_RT_API void beskid_rt_array_new_typed(beskid_array_t *out, const beskid_elem_type_t *elem,
                                             int64_t len);

/**
 * @brief Ends the program: writes `beskid runtime trap v5: panic (0): <message>` to stderr
 *        and exits with status 101. Never returns, never unwinds; a panic raised while
 *        panicking aborts.
 * @param msg the message bytes (need not be UTF-8; control bytes are escaped); may be NULL
 *        when `len` is 0.
 * @param len the message length; a negative length prints no message.
 */
BESKID_RT_API _Noreturn void panic(const uint8_t *msg, int64_t len);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Roots, handles and the barrier */
/** @{ */

/**
 * @brief Registers `slot` (which holds NULL or a managed pointer) as a root of the calling thread.
 * @return 1 on success, 0 when `slot` is NULL.
 * Traps: out_of_memory when the thread's root table cannot grow (upstream returned 0 there; a
 * caller that ignored it would have an unrooted slot).
 */
BESKID_RT_API uint8_t gc_register_root(void **slot);

/**
 * @brief Unregisters a slot registered by the calling thread (LIFO is O(1)).
 * Traps: unreachable_or_isle_invariant when `slot` is not registered (unbalanced roots).
 */
BESKID_RT_API void gc_unregister_root(void **slot);

/**
 * @brief Registers `count` global slots of a module as roots for the life of the runtime.
 * Traps: null_reference (`slots` NULL with `count` > 0), bounds (`count` < 0, `count` above
 * #BESKID_GC_GLOBALS_MAX (2^32), or `slots + count` past the end of the address space),
 * out_of_memory.
 */
BESKID_RT_API void beskid_rt_register_globals(void **slots, int64_t count);

/**
 * @brief A handle that keeps `value`'s object alive for native code.
 * @return the handle, or 0 when `value` is NULL or not a heap pointer.
 * Traps: out_of_memory when the handle table cannot grow.
 */
BESKID_RT_API uint64_t gc_root_handle(void *value);

/** @brief Releases a handle. Traps invalid_or_stale_handle for 0, stale or forged handles. */
BESKID_RT_API void gc_unroot_handle(uint64_t handle);

/** @brief The pointer a handle holds. Traps invalid_or_stale_handle for a bad handle. */
BESKID_RT_API void *beskid_rt_handle_get(uint64_t handle);

/**
 * @brief The barrier's slow path (call *before* `*slot = value` when #beskid_gc_barrier_on is
 *        set). Not a safepoint.
 */
BESKID_RT_API void beskid_rt_write_barrier(void **slot, void *value);

/**
 * @brief Upstream's barrier: called with the object written into and the pointer stored.
 *        Correct whether called before or after the store. Not a safepoint.
 */
BESKID_RT_API void gc_write_barrier(void *parent, void *child);

/** @brief The slow path of a poll (`t->poll` non-zero). Safepoint. */
BESKID_RT_API void beskid_rt_safepoint(void);

/**
 * @brief Before a blocking call: the collector will not wait for this thread, which must not
 *        touch the heap until beskid_rt_leave_native() (see "Native state" above).
 * Traps: unreachable_or_isle_invariant when the thread is already in the native state.
 */
BESKID_RT_API void beskid_rt_enter_native(void);

/**
 * @brief After a blocking call: waits if the world is stopped. Safepoint.
 * Traps: unreachable_or_isle_invariant when the thread is not in the native state.
 */
BESKID_RT_API void beskid_rt_leave_native(void);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Collector queries (upstream names) */
/** @{ */

/** @brief Runs a full collection and waits for it. Safepoint. @return live bytes. */
BESKID_RT_API uint64_t gc_collect(void);
/** @brief Bytes in allocated objects not yet swept. */
BESKID_RT_API uint64_t gc_bytes_allocated(void);
/** @brief Objects allocated and not yet swept. */
BESKID_RT_API uint64_t gc_object_count(void);
/** @brief 0 idle, 1 marking, 2 sweeping. */
BESKID_RT_API uint64_t gc_phase(void);
/** @brief Verifies the heap with the world stopped. Safepoint. @return 1 when sound, 0 if not. */
BESKID_RT_API uint8_t gc_heap_verify(void);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Traps */
/** @{ */

/**
 * @brief Writes the trap line `beskid runtime trap v5: <name> (<code>): <message>` to stderr
 *        and exits with status 101. Never returns.
 * @param code a ::beskid_trap_code.
 * @param message a NUL-terminated message; may be NULL.
 */
BESKID_RT_API _Noreturn void beskid_rt_trap(uint32_t code, const char *message);

/** @brief Trap null_reference. */
BESKID_RT_API _Noreturn void beskid_rt_trap_null_reference(void);
/** @brief Trap bounds for `index` outside [0, `length`). */
BESKID_RT_API _Noreturn void beskid_rt_trap_bounds(int64_t index, int64_t length);
/** @brief Trap arithmetic_overflow. */
BESKID_RT_API _Noreturn void beskid_rt_trap_arithmetic_overflow(void);
/** @brief Trap unreachable_or_isle_invariant (code the compiler proved unreachable was reached). */
BESKID_RT_API _Noreturn void beskid_rt_trap_unreachable(void);

/** @brief The name of a trap code (`"bounds"`), or `"unknown"`. */
BESKID_RT_API const char *beskid_rt_trap_name(uint32_t code);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name The JIT symbol table
 * The table itself, beskid_runtime_symbols(), is declared in beskid/stdhost.h and defined by
 * libs/stdhost, the top library, because it lists the entry points of every library. */
/** @{ */

/** @brief One entry of the runtime's symbol table (beskid_runtime_symbols()). */
typedef struct beskid_rt_symbol_t {
  const char *name; /**< The ABI name, e.g. "alloc". */
  void *address;    /**< Its address in this process. */
} beskid_rt_symbol_t;

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* BESKID_RUNTIME_ABI_H */
