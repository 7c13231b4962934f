/* internal.h — what the files of libs/builtins share: the runtime's lifecycle state and the
 * runtime-made descriptors for untyped allocations. */
#ifndef BESKID_BUILTINS_INTERNAL_H
#define BESKID_BUILTINS_INTERNAL_H

#include <stdatomic.h>

#include "beskid/builtins.h"
#include "beskid/runtime_abi.h"

/* Lifecycle: UNINIT -> ACTIVE -> STOPPING -> UNINIT (again after shutdown). */
extern _Atomic int beskid_rt_state;
enum { BESKID_RT_UNINIT = 0, BESKID_RT_ACTIVE = 1, BESKID_RT_STOPPING = 2 };

/* The calling thread's context; traps runtime_internal_corruption when the runtime is not
 * running or the thread is not attached. */
beskid_gc_thread_t *beskid_rt_require_thread(void);

/* The calling thread's context for an entry point that handles managed pointers (allocation,
 * roots, handles, barriers, safepoints, collection): as beskid_rt_require_thread(), and traps
 * unreachable_or_isle_invariant when the thread is in the native state. Same cost as
 * beskid_rt_require_thread() when the thread may run. */
beskid_gc_thread_t *beskid_rt_require_running(const char *entry_point);

/* Descriptor of a pointer-free object of `size` bytes (rounded up to 16; 16 ≤ size ≤ 2^46),
 * made once and kept until shutdown (descriptors.c). Thread-safe, O(1), lock-free once made. */
const beskid_type_t *beskid_rt_raw_type(uint64_t size);
/* Element descriptor of pointer-free elements of `stride` bytes (1 ≤ stride ≤ 2^32); as above. */
const beskid_elem_type_t *beskid_rt_raw_elem(uint64_t stride);
void beskid_rt_descriptors_init(void);
void beskid_rt_descriptors_shutdown(void);

/* Reports a start-up failure that is not a trap (a bad environment value, a failed init) as one
 * line "beskid runtime: cannot start: <message>" on stderr and exits with status 101. */
_Noreturn void beskid_rt_startup_failed(const char *message);

/* Why beskid_rt_init() returned `status` (a ::beskid_gc_status), as one phrase for start-up
 * failure lines. */
const char *beskid_rt_init_failure(int32_t status);

/* Writes the out_of_memory trap with the collector's figures. */
_Noreturn void beskid_rt_trap_out_of_memory(uint64_t requested);

/* The out_of_memory trap for a failure the collector recorded itself (its own tables, a thread
 * context): the request is the one beskid_gc_last_failure() holds. */
_Noreturn void beskid_rt_trap_internal_out_of_memory(void);

#endif
