/* ttsp.c — bounded time to safepoint: long runtime work a mutator does inside one call is cut
 * into slices with a safepoint poll between them, so that a stop-the-world request never waits
 * for the whole of it.
 *
 * The path this file bounds is the clearing of a large object's pages. A 256 MiB array_new used
 * to zero its span in one memset (or inside mimalloc's zalloc, under the heap lock) for 300-400
 * ms on this machine, and every pause requested meanwhile waited for it. Now the pages of a
 * large span are cleared before the span is initialised and published:
 * - whole OS pages are handed back to the OS (beskid_os_vm_reset), which makes them read as zero
 *   on the next touch and costs nothing for pages never touched; what is not a whole page, or
 *   what the OS refuses to reset, is zeroed with memset;
 * - the work goes GC_CLEAR_SLICE bytes at a time, and between slices the thread polls: if a stop
 *   is requested it parks at a safepoint like compiled code at a loop back-edge.
 *
 * Invariants that make parking in the middle safe:
 * - the span being cleared is not in the page table, in no central list and not counted in
 *   heap_bytes: no marker, sweeper, verifier or heap walk can see it, so a cycle that runs while
 *   the thread is parked neither scans nor frees it, and its sweepgen (set when it is
 *   initialised after the clear) is the one current at publication;
 * - the clearing thread holds no lock while it polls (the heap lock was released when the span
 *   was carved). */
#include <string.h>

#include "internal.h"

/* Bytes cleared between two polls: a memset of 128 KiB or a reset of as many pages takes tens
 * of microseconds, well inside the 250 µs time-to-safepoint budget. */
#define GC_CLEAR_SLICE (UINT64_C(128) << 10)

static inline void clear_poll(gc_thread *t) {
  /* Relaxed: the poll word is a hint; the safepoint reads the stop request under its lock. */
  if (__atomic_load_n(&t->pub.poll, __ATOMIC_RELAXED) != 0) beskid_gc_safepoint(&t->pub);
}

void beskid_gc__clear_bounded(gc_thread *t, void *start, uint64_t size) {
  uintptr_t p = (uintptr_t)start, end = p + size;
  uintptr_t page = (uintptr_t)beskid_os_page_size();
  if (size < 2 * (uint64_t)page) {
    memset(start, 0, size);
    return;
  }
  /* The head up to the first OS page boundary and the tail after the last are memset; the
   * whole pages in between are reset, a slice at a time. */
  uintptr_t first_page = (p + page - 1) & ~(page - 1);
  uintptr_t last_page = end & ~(page - 1);
  memset((void *)p, 0, first_page - p);
  memset((void *)last_page, 0, end - last_page);
  for (uintptr_t q = first_page; q < last_page;) {
    uintptr_t n = last_page - q < GC_CLEAR_SLICE ? last_page - q : GC_CLEAR_SLICE;
    if (beskid_os_vm_reset((void *)q, n) != BESKID_OK) memset((void *)q, 0, n);
    q += n;
    clear_poll(t);
  }
}
