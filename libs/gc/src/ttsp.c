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
 *   touches neither its roots nor its allocation caches, which a pause may read or flush.
 *
 * The bulk copies and fills of library code (beskid_gc_copy_bytes(), beskid_gc_fill_bytes())
 * run in the native state too, on another basis: a builder growing to tens of MiB copied its
 * text 64 KiB between polls, and with a page fault every 4 KiB of fresh memory each slice made
 * stops wait 0.2-0.5 ms. Their objects are published, but they write only bytes that no
 * collector phase reads: the payload of a no-scan object (checked: its span's class), which the
 * caller keeps reachable so that no cycle run meanwhile frees it, or memory outside the heap. */
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

/* Reports a bulk write that may not run in the native state: into an object with managed
 * pointers (a marker may be scanning it) or past its span (no object is that large). */
static void check_bulk_target(const char *what, const void *dst, size_t n) {
  gc_span *s = beskid_gc__span_of((uintptr_t)dst);
  if (s == NULL) return;
  if (!gc_span_noscan(s)) {
    beskid_gc__fatal("gc: %s of %zu bytes into %p, an object with managed pointers", what, n, dst);
  }
  if (n > s->limit - (uintptr_t)dst) {
    beskid_gc__fatal("gc: %s of %zu bytes at %p runs past the end of its object", what, n, dst);
  }
}

/* Prepares a bulk write of n bytes at dst: below BESKID_GC_BULK_MIN it runs in place (a few
 * microseconds, about what the two state changes would cost a collector waiting for them) and
 * this returns false; above, the write is checked and the thread enters the native state. */
static bool bulk_enter(beskid_gc_thread_t *pt, const char *what, const void *dst, size_t n) {
  if (n < BESKID_GC_BULK_MIN) return false;
  beskid_gc__require_running(gc_thread_of(pt), what);
  check_bulk_target(what, dst, n);
  beskid_gc_enter_native(pt);
  return true;
}

void beskid_gc_copy_bytes(beskid_gc_thread_t *pt, void *dst, const void *src, size_t n) {
  bool native = bulk_enter(pt, "copy_bytes", dst, n);
  if (n != 0) memmove(dst, src, n);
  if (native) beskid_gc_leave_native(pt);
}

void beskid_gc_fill_bytes(beskid_gc_thread_t *pt, void *dst, uint8_t value, size_t n) {
  bool native = bulk_enter(pt, "fill_bytes", dst, n);
  if (n != 0) memset(dst, value, n);
  if (native) beskid_gc_leave_native(pt);
}
