/* beskid_test_hooks.h — test-only entry points of the runtime. Not a public header: it is
 * installed nowhere and only the Check suites include it. The functions live in the libraries
 * (they cost nothing while unused) but are not exported from the shared runtime.
 *
 * Allocation failures (libs/platform/src/memory.c): every allocation of the runtime's own memory
 * (beskid_os_mem_alloc(), beskid_os_mem_resize(), beskid_os_mem_aligned()) takes a ticket, in
 * order; the hook makes chosen tickets fail as if the C allocator were exhausted.
 *
 * The collector's step hooks (libs/gc): run a cycle a step at a time, mark a little, and ask which
 * objects are reachable, for deterministic tests of the barriers and the phases. libs/gc includes
 * this header too (privately), so its definitions are checked against these declarations. */
#ifndef BESKID_TEST_HOOKS_H
#define BESKID_TEST_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* After `after` more allocations of the runtime's own memory succeed, the next `count` fail
 * (UINT64_MAX: every later one). count 0 disarms the hook. Replaces any earlier setting. */
void beskid_os_test_fail_allocations(uint64_t after, uint64_t count);

/* Allocations of the runtime's own memory attempted so far in this process (failed ones too). */
uint64_t beskid_os_test_allocations(void);

/* Calls `hook` at the start of every beskid_os_vm_populate() (libs/platform/src/posix.c), on the
 * populating thread, with the range asked for; NULL removes it. Lets a test see in which state a
 * thread populates memory. */
void beskid_os_test_on_populate(void (*hook)(void *addr, size_t size));

struct beskid_gc_thread_t;

/* Points in a cycle that beskid_gc_step() can stop at. */
typedef enum beskid_gc_step_t {
  BESKID_GC_STEP_MARK_STARTED = 1, /* after the first pause: marking, barrier on, roots taken */
  BESKID_GC_STEP_MARK_DONE = 2,    /* after mark termination: barrier off, sweeping may start */
  BESKID_GC_STEP_SWEPT = 3         /* after sweeping: the cycle is complete */
} beskid_gc_step_t;

/* Advances the collector to `target` on the calling thread (with BESKID_GC_DEBUG_MANUAL for
 * deterministic tests). From idle, MARK_STARTED runs the first pause only, so the test can mutate
 * the heap while the barrier is on; MARK_DONE drains marking and terminates; SWEPT sweeps
 * everything. */
void beskid_gc_step(struct beskid_gc_thread_t *t, beskid_gc_step_t target);

/* Does up to `budget` objects' worth of marking on the calling thread (manual mode); true when
 * marking work remains. */
bool beskid_gc_mark_some(struct beskid_gc_thread_t *t, size_t budget);

/* Oracle: with the world stopped, traces from the roots without changing any mark and reports
 * which of `objects` (at most 64; interior pointers allowed) are reachable: bit i for objects[i].
 */
uint64_t beskid_gc_reachable(struct beskid_gc_thread_t *t, void *const *objects, size_t count);

#endif
