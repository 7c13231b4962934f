/* beskid_test_hooks.h — test-only entry points of the runtime. Not a public header: it is
 * installed nowhere and only the Check suites include it. The functions live in the libraries
 * (they cost nothing while unused) but are not exported from the shared runtime.
 *
 * Allocation failures (libs/platform/src/memory.c): every allocation of the runtime's own memory
 * (beskid_os_mem_alloc(), beskid_os_mem_resize(), beskid_os_mem_aligned()) takes a ticket, in
 * order; the hook makes chosen tickets fail as if the C allocator were exhausted. */
#ifndef BESKID_TEST_HOOKS_H
#define BESKID_TEST_HOOKS_H

#include <stdint.h>

/* After `after` more allocations of the runtime's own memory succeed, the next `count` fail
 * (UINT64_MAX: every later one). count 0 disarms the hook. Replaces any earlier setting. */
void beskid_os_test_fail_allocations(uint64_t after, uint64_t count);

/* Allocations of the runtime's own memory attempted so far in this process (failed ones too). */
uint64_t beskid_os_test_allocations(void);

#endif
