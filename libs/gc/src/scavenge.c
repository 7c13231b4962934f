/* scavenge.c — giving the physical memory of free heap pages back to the OS, so that the
 * process's resident memory follows the live heap down after it shrinks (Go's background
 * scavenger, reduced to what this heap needs).
 *
 * The heap keeps free pages in its chunks (heap.c) so that the next cycle's spans need no new
 * memory; those pages stay resident although nothing lives in them. After every cycle the
 * collector asks for the resident heap to come down to a target (beskid_gc__scavenge_target():
 * the next heap goal plus a tenth, and under a soft memory limit at most 95% of it), and the
 * scavenger releases free pages until it has: it takes a run of resident free pages out of the
 * free maps under the heap lock, resets it (beskid_os_vm_reset: the memory goes back, the
 * address stays usable and reads zero) without the lock, and puts it back marked released.
 * A span later built on released pages needs no zeroing; touching them costs a page fault.
 *
 * Only idle chunks give up pages to the target: those no span took pages of during the last
 * cycle (heap.c counts generations, one a cycle). A heap whose size swings within a cycle (the
 * goal moves with each cycle's live estimate, allocation during marking overshoots it) would
 * otherwise have the pages it used above the target released after every cycle and faulted back
 * in during the next (binary-trees 18, measured on a loaded 2-CPU machine: 3.7 s and 159 000 page
 * faults when any chunk gives up pages; 2.4–3.2 s and 91 000–104 000 when only idle chunks do;
 * 1.9 s and 51 000 with no page released at all). Memory the program stopped using is still
 * released one cycle later. Chunks idle for two cycles instead of one would halve the faults
 * again, but keep a heap that cycles its pages through many chunks (the shrink workload's steady
 * state) resident at 1.4× what one cycle keeps.
 * Under a soft memory limit, pages of any chunk go when the heap keeps more than 95% of it.
 *
 * Invariants:
 * - a page is reset only while the scavenger holds it out of every free map and span, so no
 *   object ever lives in a page being reset;
 * - the work is bounded per call by `budget_bytes` (the caller paces it) and never holds the
 *   heap lock across a system call. */
#include "internal.h"

/* Pages released per system call: large enough to amortise the call, small enough that a span
 * request never waits long for pages the scavenger holds out of the free maps. */
#define GC_SCAVENGE_RUN_PAGES 64u

static uint64_t resident_bytes(void) {
  beskid_os_mutex_lock(&gc.heap_lock);
  uint64_t r = beskid_gc__held_bytes() - gc.released_bytes;
  beskid_os_mutex_unlock(&gc.heap_lock);
  return r;
}

/* Releases runs of resident free pages (of idle chunks only, with `idle_only`) until the heap
 * keeps at most `retain_bytes` resident, `*released` reaches `budget_bytes` or no such page is
 * left; adds what it releases to `*released`. Returns false when the OS refused a reset. */
static bool release_down_to(uint64_t retain_bytes, bool idle_only, uint64_t budget_bytes,
                            uint64_t *released) {
  while (*released < budget_bytes) {
    uint64_t resident = resident_bytes();
    if (resident <= retain_bytes) break;
    uint64_t excess_pages = (resident - retain_bytes + GC_PAGE_SIZE - 1) / GC_PAGE_SIZE;
    uint32_t want =
        excess_pages < GC_SCAVENGE_RUN_PAGES ? (uint32_t)excess_pages : GC_SCAVENGE_RUN_PAGES;
    gc_chunk *c = NULL;
    uintptr_t addr = 0;
    uint32_t n = beskid_gc__heap_take_resident(want, idle_only, &c, &addr);
    if (n == 0) break; /* everything free (and idle) is released already */
    size_t bytes = (size_t)n * GC_PAGE_SIZE;
    bool ok = beskid_os_vm_reset((void *)addr, bytes) == BESKID_OK;
    beskid_gc__heap_put_released(c, addr, n, ok);
    if (!ok) return false; /* the OS refused: leave the rest for the next cycle */
    *released += bytes;
  }
  return true;
}

uint64_t beskid_gc__scavenge(uint64_t retain_bytes, uint64_t budget_bytes) {
  uint64_t released = 0;
  bool ok = release_down_to(retain_bytes, true, budget_bytes, &released);
  uint64_t limit = atomic_load(&gc.pacer.memory_limit);
  if (ok && limit != 0) {
    uint64_t forced = limit / 100 * 95 > retain_bytes ? limit / 100 * 95 : retain_bytes;
    (void)release_down_to(forced, false, budget_bytes, &released);
  }
  beskid_gc__heap_next_gen();
  return released;
}

uint64_t beskid_gc__scavenge_target(void) {
  uint64_t goal = atomic_load(&gc.pacer.goal);
  uint64_t target = goal > UINT64_MAX - goal / 10 ? UINT64_MAX : goal + goal / 10;
  uint64_t limit = atomic_load(&gc.pacer.memory_limit);
  if (limit != 0 && target > limit / 100 * 95) target = limit / 100 * 95;
  return target;
}
