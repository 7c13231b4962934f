/* memory.c — the runtime's own memory: the C allocator behind overflow-checked entry points, and
 * the test-only hook that makes chosen allocations fail.
 *
 * Every library of the runtime allocates its metadata (span and chunk records, mark work blocks,
 * root and handle tables, descriptor caches) here, never with malloc directly, so that:
 * - a size computed as count × element size is checked once, in one place: an overflow is a
 *   failed allocation, never a short buffer;
 * - realloc is never asked for 0 bytes (whose result the C standard leaves to the library:
 *   freeing, or not, the old block);
 * - a test can make the Nth allocation of the whole runtime fail, and check that the failure
 *   comes out as the documented trap (beskid_test_hooks.h, which is installed nowhere).
 *
 * Invariant: a failed call changes nothing (a failed resize leaves the old block valid and owned
 * by the caller). The hook costs one relaxed atomic load per allocation while it is disarmed. */
#include <stdatomic.h>
#include <stdlib.h>

#include "beskid/platform.h"

/* The hook: allocation attempts are numbered from 0 in the order they take a ticket; tickets in
 * [fail_from, fail_until) fail. Relaxed throughout: the numbering only needs to be a total order
 * of attempts, which the read-modify-write gives, and a test arms the hook before the calls it
 * targets on the same thread (or publishes that through its own synchronisation). */
static _Atomic uint64_t attempts;
static _Atomic uint64_t fail_from;
static _Atomic uint64_t fail_until;
static _Atomic bool armed;

void beskid_os_test_fail_allocations(uint64_t after, uint64_t count);
uint64_t beskid_os_test_allocations(void);

void beskid_os_test_fail_allocations(uint64_t after, uint64_t count) {
  atomic_store_explicit(&armed, false, memory_order_relaxed);
  if (count == 0) return;
  uint64_t from = atomic_load_explicit(&attempts, memory_order_relaxed);
  from = from > UINT64_MAX - after ? UINT64_MAX : from + after;
  uint64_t until = from > UINT64_MAX - count ? UINT64_MAX : from + count;
  atomic_store_explicit(&fail_from, from, memory_order_relaxed);
  atomic_store_explicit(&fail_until, until, memory_order_relaxed);
  atomic_store_explicit(&armed, true, memory_order_relaxed);
}

uint64_t beskid_os_test_allocations(void) {
  return atomic_load_explicit(&attempts, memory_order_relaxed);
}

/* Takes the next ticket; true when this attempt must fail. */
static bool injected_failure(void) {
  uint64_t ticket = atomic_fetch_add_explicit(&attempts, 1, memory_order_relaxed);
  if (!atomic_load_explicit(&armed, memory_order_relaxed)) return false;
  return ticket >= atomic_load_explicit(&fail_from, memory_order_relaxed) &&
         ticket < atomic_load_explicit(&fail_until, memory_order_relaxed);
}

bool beskid_os_size_mul(size_t count, size_t size, size_t *bytes) {
  return !__builtin_mul_overflow(count, size, bytes);
}

void *beskid_os_mem_alloc(size_t count, size_t size) {
  size_t bytes;
  if (!beskid_os_size_mul(count, size, &bytes) || bytes == 0 || injected_failure()) return NULL;
  return calloc(1, bytes);
}

void *beskid_os_mem_resize(void *block, size_t count, size_t size) {
  size_t bytes;
  if (!beskid_os_size_mul(count, size, &bytes) || bytes == 0 || injected_failure()) return NULL;
  return realloc(block, bytes);
}

void *beskid_os_mem_aligned(size_t alignment, size_t size) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || size == 0) return NULL;
  size_t rounded = (size + alignment - 1) & ~(alignment - 1);
  if (rounded < size || injected_failure()) return NULL;
  void *p = aligned_alloc(alignment, rounded);
  if (p != NULL) __builtin_memset(p, 0, rounded);
  return p;
}

void beskid_os_mem_free(void *block) { free(block); }
