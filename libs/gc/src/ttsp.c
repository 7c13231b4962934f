/* ttsp.c — bounded time to safepoint: long runtime work a mutator does inside one call, on
 * memory no other thread can see, runs in the native state, so that a stop-the-world request
 * never waits for it.
 *
 * The path this file bounds is the clearing of a large object's pages. A 256 MiB array_new used
 * to zero its span in one memset (or inside mimalloc's zalloc, under the heap lock) for 300-400
 * ms on this machine, and every pause requested meanwhile waited for it. Slices of 128 KiB with
 * a poll between them still made stops wait 0.1-0.3 ms each on a virtual machine, where every
 * page-table change traps. Now the pages of a large span are cleared before the span is
 * initialised and published, with the thread in the native state:
 * - whole OS pages are handed back to the OS (beskid_os_vm_reset), which makes them read as zero
 *   on the next touch and costs nothing for pages never touched; what is not a whole page, or
 *   what the OS refuses to reset, is zeroed with memset;
 * - a pause counts the thread as stopped meanwhile; if one is under way when the clear ends,
 *   beskid_gc_leave_native() parks the thread until the world restarts.
 * (The dedicated chunk such a span lives in is mapped the same way: heap.c.)
 *
 * Invariants that make the native state safe here:
 * - the span being cleared is not in the page table, in no central list and not counted in
 *   heap_bytes: no marker, sweeper, verifier or heap walk can see it, so a cycle that runs
 *   meanwhile neither scans nor frees it, and its sweepgen (set when it is initialised after the
 *   clear) is the one current at publication;
 * - the clearing thread holds no lock (the heap lock was released when the span was carved) and
 *   touches neither its roots nor its allocation caches, which a pause may read or flush. */
#include <string.h>

#include "internal.h"

void beskid_gc__clear_bounded(gc_thread *t, void *start, uint64_t size) {
  uintptr_t p = (uintptr_t)start, end = p + size;
  uintptr_t page = (uintptr_t)beskid_os_page_size();
  if (size < 2 * (uint64_t)page) {
    memset(start, 0, size);
    return;
  }
  beskid_gc_enter_native(&t->pub);
  /* The head up to the first OS page boundary and the tail after the last are memset; the
   * whole pages in between are reset. */
  uintptr_t first_page = (p + page - 1) & ~(page - 1);
  uintptr_t last_page = end & ~(page - 1);
  memset((void *)p, 0, first_page - p);
  memset((void *)last_page, 0, end - last_page);
  size_t whole = (size_t)(last_page - first_page);
  if (beskid_os_vm_reset((void *)first_page, whole) != BESKID_OK)
    memset((void *)first_page, 0, whole);
  beskid_gc_leave_native(&t->pub);
}
