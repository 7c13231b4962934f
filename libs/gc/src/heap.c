/* heap.c — where GC memory comes from: the arena, chunks of pages from mimalloc, spans carved
 * out of chunks, the page table, size classes and the central span lists.
 *
 * Memory path: at start-up one exclusive mimalloc arena is reserved (address space, committed at
 * once where the OS overcommits: arena_reserve; when the machine will not grant the size asked
 * for, the largest half, quarter, ... of it), so every byte of the GC heap lies in
 * [arena_base, arena_base + arena_size) and a flat page table maps each 8 KiB page of it to the
 * span using it. The span structures live in a second flat table beside it, the span table: the
 * structure of a span is the entry of its first page, so it needs no allocation, and its memory
 * goes back to the OS with the pages it describes (see "The span table" below). Both tables are
 * mapped without backing (beskid_os_vm_map): only the entries in use cost memory. Spans need pages;
 * pages come in chunks of 1 MiB from mimalloc blocks in that arena, aligned to a page inside the
 * block: made ready ahead of need by the grower (grow.c: zeroed and resident, so their pages start
 * clean), or when none is ready allocated from the calling thread's mimalloc heap (their pages
 * start dirty, see chunk_new). A large object whose span would not fit half a chunk gets a
 * dedicated chunk of its own size, given back to mimalloc when the object dies. Shared chunks whose
 * pages are all free are kept for reuse until beskid_gc__heap_scavenge() finds the heap holding
 * more than its goal; then their pages go back to the OS and their blocks become spares (below).
 * Free pages kept in chunks are given back to the OS page by page by the scavenger (scavenge.c),
 * through beskid_gc__heap_take_resident() / beskid_gc__heap_put_released().
 *
 * Spare blocks. A block freed to mimalloc gets mimalloc's free-list link written into its first
 * word, which makes the OS page under it resident again, and mimalloc 2.0.9 leaves a large block
 * freed by another thread in its page until the owning thread next allocates there, which a heap
 * that has shrunk may never do. So every shared chunk given back kept 4 KiB resident for the rest
 * of the run: 1,348 pages (5.3 MiB, a third of the new live heap) after the shrink workload's
 * drop from 1.4 GiB to 16 MiB (bench/RESULTS.md, "Spare blocks"). The heap keeps those blocks
 * instead, as spares: their pages reset (they read zero and cost no memory), their span-table
 * part reset too, and no chunk made of them. The heap's next new chunk is made of a spare before
 * mimalloc is asked, by the thread that needs it (the pages are populated as spans take them)
 * or by the grower (grow.c). Spares hold address space only; the blocks of dedicated chunks, whose
 * sizes vary, go back to mimalloc as before, and when mimalloc has no room for one the spares go
 * back first (spares_free_all).
 *
 * Invariants (all under gc.heap_lock unless said otherwise):
 * - a page is in exactly one of: a chunk's free map, or the span whose page-table entries point
 *   at it;
 * - a shared chunk is on the avail list exactly when it has a free page;
 * - a mutator that finds the heap lock taken waits for it in the native state, and asks mimalloc
 *   for a chunk without it, in the native state too: a stop of the world waits for neither
 *   (heap_lock_running, chunk_block_native);
 * - page-table entries are published (release) after the span is initialised and cleared before
 *   its pages are reused, so a reader that finds a span through the table sees it whole;
 * - `dirty` pages have held objects before: a span built on them must zero slots it hands out;
 * - `released` pages are free pages whose physical memory went back to the OS (scavenge.c): they
 *   read zero, so they are not dirty; a page is released only while it is in the free map, and
 *   pages being released are in neither the free map nor a span (the scavenger holds them);
 * - a span-table entry is claimed (state != GC_SPAN_FREE) exactly while its page starts a span
 *   (beskid_gc__span_alloc to beskid_gc__span_free); an unclaimed entry is read by no one (the
 *   page table leads only to spans in use), so its memory may be given back whenever nothing
 *   can claim it meanwhile (see "The span table" below);
 * - gc.committed_bytes is the sum of the sizes of the mimalloc blocks held as chunks;
 *   gc.free_resident_bytes counts the free pages of shared chunks that are not released, and
 *   gc.released_bytes those that are (so committed + stashed - released is what the heap keeps
 *   resident, give or take the pages of a chunk past its last page); gc.stash_bytes counts the
 *   blocks the grower holds ready (grow.c), which are no chunk yet;
 * - a spare is in no chunk, no stash and no table; the pages a chunk made of it would use read
 *   zero and are not resident; gc.spare_bytes counts the spares' blocks (outside committed +
 *   stashed). */
#include <string.h>

#include "internal.h"
#include "mimalloc.h"

/* mimalloc is not instrumented for ThreadSanitizer, so the happens-before edge between one
 * thread freeing a block and another getting it back is invisible to it; these annotations
 * restore the edge for chunk memory. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GC_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GC_TSAN 1
#endif
#ifdef GC_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(p) __tsan_acquire(p)
#define tsan_release(p) __tsan_release(p)
#else
#define tsan_acquire(p) ((void)(p))
#define tsan_release(p) ((void)(p))
#endif

/* Most pages a shared chunk uses: mimalloc may return more than the GC_CHUNK_PAGES asked for (its
 * usable size is rounded up to a size class of its own), and a chunk keeps up to 1.5 MiB of it,
 * three 64-bit words of page bitmap. */
#define GC_CHUNK_MAX_PAGES 192u

struct gc_chunk {
  gc_chunk *next; /* gc.chunks: every chunk */
  gc_chunk *prev;
  gc_chunk *avail_next; /* gc.avail_chunks: shared chunks with free pages */
  gc_chunk *avail_prev;
  bool in_avail;
  void *block;         /* what mimalloc returned: given back with mi_free */
  uint64_t block_size; /* its usable size */
  uintptr_t base;      /* first page */
  uint32_t npages;     /* pages in the chunk */
  uint32_t free_pages; /* pages in free_map */
  bool dedicated;      /* holds one large span and goes away with it */
  bool reads_zero;     /* given up (chunks_free): its pages went back to the OS */
  uint64_t used_gen;   /* gc.heap_gen when a span last took pages of it (heap_lock) */
  uint64_t free_map[GC_CHUNK_MAX_PAGES / 64];  /* bit p: page p is free */
  uint64_t dirty_map[GC_CHUNK_MAX_PAGES / 64]; /* bit p: page p has held objects */
  uint64_t released_map[GC_CHUNK_MAX_PAGES /
                        64]; /* bit p: page p is free and its memory was given back */
  uint64_t cold_map[GC_CHUNK_MAX_PAGES / 64]; /* bit p: page p may not be resident yet (a block
                                                 the grower did not populate, never used) */
};

gc_global beskid_gc__state;
gc_size_class beskid_gc__size_classes[GC_SIZE_CLASSES];
static uint8_t class_by_8[1024 / GC_GRANULE + 1];    /* sizes ≤ 1024, by size/8 */
static uint8_t class_by_128[GC_SMALL_MAX / 128 + 1]; /* sizes ≤ 32 KiB, by size/128 */

/* ------------------------------------------------------------------------------------------ */
/* Size classes: 8-byte steps to 128 (so a 24-byte object costs 24 bytes), 16-byte steps to 256,
 * then four classes per power of two up to 32 KiB. Each class gets the fewest pages (≤ 16) that
 * waste at most an eighth of the span. Every multiple of 16 up to 256 is a class and every class
 * above 256 is a multiple of 64, so a size rounded up to 16 maps to a 16-multiple class (checked
 * below: objects that ask for 16-byte alignment rely on it). */

static void size_classes_init(void) {
  uint32_t n = 1, size = GC_GRANULE;
  while (size <= GC_SMALL_MAX) {
    if (n >= GC_SIZE_CLASSES) beskid_gc__fatal("gc: more size classes than GC_SIZE_CLASSES");
    gc_size_class *c = &beskid_gc__size_classes[n++];
    c->size = size;
    uint32_t pages = 1;
    while (pages < 16 && ((pages * GC_PAGE_SIZE) % size) * 8 > pages * GC_PAGE_SIZE) pages++;
    c->npages = pages;
    c->nelems = pages * GC_PAGE_SIZE / size;
    if (c->nelems > GC_SPAN_MAX_OBJECTS) c->nelems = GC_SPAN_MAX_OBJECTS;
    uint32_t step = size < 128   ? GC_GRANULE
                    : size < 256 ? 16
                                 : (uint32_t)1 << (31 - __builtin_clz(size) - 2);
    size += step;
  }
  if (n != GC_SIZE_CLASSES) beskid_gc__fatal("gc: fewer size classes than GC_SIZE_CLASSES");
  for (uint32_t s = 0, cl = 1; s <= 1024; s += GC_GRANULE) {
    while (beskid_gc__size_classes[cl].size < s) cl++;
    class_by_8[s / GC_GRANULE] = (uint8_t)cl;
  }
  for (uint32_t s = 0, cl = 1; s <= GC_SMALL_MAX; s += 128) {
    while (beskid_gc__size_classes[cl].size < s) cl++;
    class_by_128[s / 128] = (uint8_t)cl;
  }
  for (uint32_t s = 16; s <= GC_SMALL_MAX; s += 16) {
    if (beskid_gc__size_classes[beskid_gc__size_to_class(s)].size % 16 != 0) {
      beskid_gc__fatal("gc: size %u maps to a class that is not 16-aligned", s);
    }
  }
}

uint32_t beskid_gc__size_to_class(uint64_t size) {
  if (size <= 1024) return class_by_8[(size + GC_GRANULE - 1) / GC_GRANULE];
  return class_by_128[(size + 127) / 128];
}

/* ------------------------------------------------------------------------------------------ */
/* Arena and page table */

/* Reserves `size` bytes of address space as the heap's exclusive mimalloc arena. Where the OS
 * overcommits, the whole range is made readable and writable at once, which costs memory only
 * where it is touched: mimalloc then never commits arena memory as it hands it out. That commit
 * is an mprotect, which takes the address space's lock for writing, and every madvise of the
 * heap (a span's populate, the grower's, the scavenger's resets) queued behind it, for as long
 * as a reader ahead of it held the lock: the grower populating at background priority, preempted
 * mid-call. The latency probe's mutator slept on that lock 4-19 times a run, for up to 161 ms
 * (bench/RESULTS.md, "The arena committed at once"). Under strict overcommit accounting a
 * committed range is charged whole, so there mimalloc commits blocks as it hands them out, as
 * before. The range is aligned for mimalloc's segments (32 MiB) and more. */
static bool arena_reserve(size_t size, mi_arena_id_t *id) {
  void *arena = beskid_os_vm_reserve(size, (size_t)GC_RESERVE_MIN);
  if (arena == NULL) return false;
  bool committed = beskid_os_vm_overcommits() && beskid_os_vm_commit(arena, size) == BESKID_OK;
  /* Fresh from the OS: it reads zero. */
  if (mi_manage_os_memory_ex(arena, size, committed, false, true, -1, true, id)) return true;
  beskid_os_vm_release(arena, size);
  return false;
}

beskid_gc_status beskid_gc__heap_init(uint64_t reserve, uint64_t floor) {
  size_classes_init();
  if (floor == 0 || floor > reserve || reserve > GC_RESERVE_MAX) return BESKID_GC_INVALID;
  /* mimalloc reserves whole arena blocks; the page table must cover all of them. */
  reserve = (reserve + GC_RESERVE_MIN - 1) & ~(GC_RESERVE_MIN - 1);
  floor = (floor + GC_RESERVE_MIN - 1) & ~(GC_RESERVE_MIN - 1);
  /* Both the page table (1/1024 of the arena, mapped without a swap reservation, which a
   * strict overcommit policy may still refuse) and the arena (address space only) can fail for
   * the process's limits (ulimit -v) or the address space itself; a smaller try may succeed.
   * The table comes first: an arena cannot be given back once reserved. */
  mi_arena_id_t id;
  void *table, *spans = NULL;
  size_t table_bytes, spans_bytes;
  size_t os_page = beskid_os_page_size(), per_os_page = os_page / sizeof(gc_span);
  for (;;) {
    table_bytes = (size_t)(reserve >> GC_PAGE_SHIFT) * sizeof(gc_span *);
    spans_bytes = ((size_t)(reserve >> GC_PAGE_SHIFT) + per_os_page - 1) / per_os_page * os_page;
    table = beskid_os_vm_map(table_bytes);
    if (table != NULL) spans = beskid_os_vm_map(spans_bytes);
    if (spans != NULL) {
      if (arena_reserve((size_t)reserve, &id)) break;
      beskid_os_vm_release(spans, spans_bytes);
    }
    spans = NULL;
    if (table != NULL) beskid_os_vm_release(table, table_bytes);
    if (reserve / 2 < floor) return BESKID_GC_OUT_OF_MEMORY;
    reserve = (reserve / 2) & ~(GC_RESERVE_MIN - 1);
  }
  size_t size = 0;
  void *base = mi_arena_area(id, &size);
  if (base == NULL || size == 0 || size > reserve) {
    beskid_os_vm_release(spans, spans_bytes);
    beskid_os_vm_release(table, table_bytes);
    return BESKID_GC_OUT_OF_MEMORY;
  }
  gc.arena_id = id;
  gc.arena_base = (uintptr_t)base;
  gc.arena_size = size;
  gc.page_table = table;
  gc.page_table_bytes = table_bytes;
  gc.span_table = spans;
  gc.span_table_bytes = spans_bytes;
  gc.span_table_page = os_page;
  gc.spans_per_os_page = (uint32_t)per_os_page;
  beskid_os_mutex_init(&gc.heap_lock);
  beskid_os_mutex_init(&gc.map_lock);
  beskid_os_cond_init(&gc.grow_cond);
  for (uint32_t i = 0; i < GC_SPAN_CLASSES; i++) beskid_os_mutex_init(&gc.central[i].lock);
  beskid_os_mutex_init(&gc.large.lock);
  return BESKID_GC_OK;
}

static bool spares_free_all(void);

/* Gives the blocks of a list of chunk records (linked through `next`) back to mimalloc and frees
 * the records. */
static void records_free(gc_chunk *list) {
  for (gc_chunk *c = list, *next; c != NULL; c = next) {
    next = c->next;
    tsan_release(c->block);
    mi_free(c->block);
    beskid_os_mem_free(c);
  }
}

void beskid_gc__blocks_free(void **blocks, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uintptr_t first, end;
    beskid_gc__block_os_pages(blocks[i], mi_usable_size(blocks[i]), &first, &end);
    if (beskid_os_vm_reset((void *)first, (size_t)(end - first)) == BESKID_OK) {
      beskid_os_mutex_lock(&gc.heap_lock);
      bool kept = beskid_gc__spare_keep(blocks[i]);
      beskid_os_mutex_unlock(&gc.heap_lock);
      if (kept) continue;
    }
    tsan_release(blocks[i]);
    mi_free(blocks[i]);
  }
}

void beskid_gc__heap_shutdown(void) {
  void *stash[GC_GROW_STASH_MAX];
  beskid_gc__blocks_free(stash, beskid_gc__grow_drop(stash));
  (void)spares_free_all();
  beskid_os_cond_destroy(&gc.grow_cond);
  records_free(gc.chunks);
  gc.chunks = NULL;
  gc.avail_chunks = NULL;
  for (uint32_t i = 0; i < GC_SPAN_CLASSES; i++) {
    memset(&gc.central[i].partial, 0, sizeof gc.central[i].partial);
    memset(&gc.central[i].full, 0, sizeof gc.central[i].full);
    beskid_os_mutex_destroy(&gc.central[i].lock);
  }
  memset(&gc.large.full, 0, sizeof gc.large.full);
  beskid_os_mutex_destroy(&gc.large.lock);
  beskid_os_vm_release(gc.page_table, gc.page_table_bytes);
  gc.page_table = NULL;
  beskid_os_vm_release(gc.span_table, gc.span_table_bytes);
  gc.span_table = NULL;
  gc.committed_bytes = 0;
  gc.free_resident_bytes = 0;
  gc.released_bytes = 0;
  beskid_os_mutex_destroy(&gc.heap_lock);
  beskid_os_mutex_destroy(&gc.map_lock);
  /* The arena itself stays reserved: mimalloc 2.0.9 cannot release an arena. A later
   * beskid_gc_init() reserves a new one. */
}

/* ------------------------------------------------------------------------------------------ */
/* The span table. Entries are laid out whole in OS pages, gc.spans_per_os_page of them to a page
 * (the bytes left at the end of each page unused), so that entry i lies in OS page
 * i / spans_per_os_page and an OS page of the table describes a fixed group of heap pages.
 *
 * An entry is claimed (state != GC_SPAN_FREE) from beskid_gc__span_alloc() to
 * beskid_gc__span_free(), which write its state under the heap lock (and no one else does); an
 * unclaimed entry is read by no one. The table's memory goes back to the OS with the chunks it
 * describes (chunks_free): the OS pages holding only entries of the chunk's pages at once, since
 * nothing can claim those until the chunk's block is back with mimalloc; the two at the ends,
 * which they share with the entries of the pages around the chunk, under the heap lock when
 * every entry in them is unclaimed. The entries of a kept chunk's free pages stay resident when
 * the scavenger releases the pages (at most sizeof(gc_span) per 8 KiB page: two more system
 * calls per run would cost more than they give back). A new chunk's own OS pages of the table
 * are made resident in one call before it joins the heap (beskid_gc__block_table_populate).
 *
 * The page table's OS pages (512 entries, 4 MiB of heap, each) go back with the chunks too, those
 * wholly inside a run of chunks given up: beskid_gc__span_free() cleared their entries, a reader
 * finds NULL before the reset and after it alike, and nothing writes them until a span is carved
 * from that memory again, which takes the heap lock after the chunks are gone. The two at a run's
 * ends stay resident (8 KiB a run at most): a span being set up in a neighbouring chunk writes its
 * entries without the lock. Without this, a heap that once grew to 16 GiB kept 16 MiB of page
 * table for the rest of the run. */

_Static_assert(sizeof(gc_span) <= 4096, "a span structure must fit in the smallest OS page");

/* The span table's entry for the page at `addr`: the structure of the span starting there. */
static gc_span *span_entry(uintptr_t addr) {
  size_t i = (addr - gc.arena_base) >> GC_PAGE_SHIFT;
  return (gc_span *)((char *)gc.span_table + (i / gc.spans_per_os_page) * gc.span_table_page +
                     (i % gc.spans_per_os_page) * sizeof(gc_span));
}

/* The OS pages [*from, *to) of a table of per-heap-page entries (`per` entries to an OS page)
 * that hold only entries of the `npages` pages at `base`; none when *to <= *from. */
static void table_own_pages(size_t per, uintptr_t base, size_t npages, size_t *from, size_t *to) {
  size_t first = (base - gc.arena_base) >> GC_PAGE_SHIFT;
  *from = (first + per - 1) / per;
  *to = (first + npages) / per;
}

/* Resets the OS pages of a table that hold only entries of the `npages` pages at `base`
 * (table_own_pages), which nothing may write meanwhile. Best effort: a failed reset leaves the
 * memory resident. */
static void table_reset(void *table, size_t per, uintptr_t base, size_t npages) {
  size_t from, to;
  table_own_pages(per, base, npages, &from, &to);
  if (to > from) {
    (void)beskid_os_vm_reset((char *)table + from * gc.span_table_page,
                             (to - from) * gc.span_table_page);
  }
}

/* The first page and the number of pages of the chunk a block of `usable` bytes at `block`
 * makes (chunk_new): the block's whole 8 KiB pages, at most GC_CHUNK_MAX_PAGES. */
static uint32_t block_chunk_pages(void *block, size_t usable, uintptr_t *base) {
  *base = ((uintptr_t)block + GC_PAGE_SIZE - 1) & ~(uintptr_t)(GC_PAGE_SIZE - 1);
  uint64_t pages = ((uintptr_t)block + usable - *base) >> GC_PAGE_SHIFT;
  return pages > GC_CHUNK_MAX_PAGES ? GC_CHUNK_MAX_PAGES : (uint32_t)pages;
}

/* Makes resident, in one call, the OS pages of the span table that hold only entries of the
 * chunk `block` will make. Without it each of them faulted as the chunk's spans were carved, one
 * at a time, inside beskid_gc__span_alloc() and under the heap lock: an OS page of the table
 * describes 160 KiB of heap, and of the latency probe's mutator, taking 480 KiB of new spans a
 * batch, 92% of the page faults were there (bench/RESULTS.md, "The span table's pages").
 * Those pages are written by no one until the chunk exists (an unclaimed entry is read by no one,
 * and the chunk's entries are claimed only once it is in the heap), so the populate's write to
 * each page races with nothing; the two pages at the ends, shared with the entries around the
 * chunk, are left to fault. Best effort, without the heap lock, by the thread that will make the
 * chunk (in the native state) or by the grower. */
void beskid_gc__block_table_populate(void *block, size_t usable) {
  uintptr_t base;
  uint32_t npages = block_chunk_pages(block, usable, &base);
  size_t from, to;
  table_own_pages(gc.spans_per_os_page, base, npages, &from, &to);
  if (to > from) {
    (void)beskid_os_vm_populate((char *)gc.span_table + from * gc.span_table_page,
                                (to - from) * gc.span_table_page);
  }
}

/* Resets OS page `g` of the table when every entry in it is unclaimed (heap lock held). */
static void span_table_reset_shared(size_t g) {
  size_t per = gc.spans_per_os_page, entries = gc.arena_size >> GC_PAGE_SHIFT;
  gc_span *e = (gc_span *)((char *)gc.span_table + g * gc.span_table_page);
  for (size_t i = 0; i < per && g * per + i < entries; i++) {
    if (e[i].state != GC_SPAN_FREE) return;
  }
  (void)beskid_os_vm_reset(e, gc.span_table_page);
}

/* The ends of the span table's part of a run (table_reset): the OS pages of the table that the
 * run's first and last entries share with other pages' entries (heap lock held; at most two
 * system calls). */
static void span_table_reset_ends(uintptr_t base, size_t npages) {
  size_t first = (base - gc.arena_base) >> GC_PAGE_SHIFT, end = first + npages;
  size_t per = gc.spans_per_os_page, head = first / per, tail = (end - 1) / per;
  if (first % per != 0 || end < (head + 1) * per) span_table_reset_shared(head);
  if (tail != head && end % per != 0) span_table_reset_shared(tail);
}

static void page_table_set(uintptr_t base, uint32_t npages, gc_span *s) {
  size_t first = (base - gc.arena_base) >> GC_PAGE_SHIFT;
  for (uint32_t i = 0; i < npages; i++) {
    atomic_store_explicit(&gc.page_table[first + i], s, memory_order_release);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Chunks and page runs */

static bool map_test(const uint64_t *map, uint32_t i) { return (map[i / 64] >> (i % 64)) & 1u; }
static void map_set(uint64_t *map, uint32_t i) { map[i / 64] |= UINT64_C(1) << (i % 64); }
static void map_clear(uint64_t *map, uint32_t i) { map[i / 64] &= ~(UINT64_C(1) << (i % 64)); }

static void avail_push(gc_chunk *c) {
  c->avail_prev = NULL;
  c->avail_next = gc.avail_chunks;
  if (gc.avail_chunks != NULL) gc.avail_chunks->avail_prev = c;
  gc.avail_chunks = c;
  c->in_avail = true;
}

static void avail_remove(gc_chunk *c) {
  if (c->avail_prev != NULL)
    c->avail_prev->avail_next = c->avail_next;
  else
    gc.avail_chunks = c->avail_next;
  if (c->avail_next != NULL) c->avail_next->avail_prev = c->avail_prev;
  c->avail_next = c->avail_prev = NULL;
  c->in_avail = false;
}

/* The memory of a new chunk of `npages` pages, from the thread's mimalloc heap. Not zeroed: the
 * pages of a shared chunk start dirty and each slot is zeroed when handed out, so memory that is
 * never used is never written; a dedicated chunk's large object is cleared by its allocating
 * thread (ttsp.c). */
static void *chunk_block(gc_thread *t, uint32_t npages) {
  return mi_heap_malloc((mi_heap_t *)t->mi_heap, (size_t)npages * GC_PAGE_SIZE + GC_PAGE_SIZE);
}

/* What the pages of a block made into a chunk hold. */
typedef enum gc_block_state {
  GC_BLOCK_DIRTY, /* fresh from mimalloc: anything, and maybe not resident */
  GC_BLOCK_READY, /* from the grower's stash: zero and resident */
  GC_BLOCK_SPARE, /* a spare: zero, not resident */
} gc_block_state;

/* A new chunk made of `block` (chunk_block(), the grower's stash or a spare; NULL gives NULL),
 * linked into the heap. */
static gc_chunk *chunk_new(void *block, uint32_t npages, bool dedicated, gc_block_state state) {
  if (block == NULL) return NULL;
  tsan_acquire(block);
  /* Metadata comes from the C allocator: only objects use mimalloc. */
  gc_chunk *c = beskid_os_mem_alloc(1, sizeof *c);
  if (c == NULL) {
    mi_free(block);
    return NULL;
  }
  size_t usable = mi_usable_size(block);
  uintptr_t base;
  uint32_t pages = block_chunk_pages(block, usable, &base);
  if (dedicated) pages = npages;
  c->block = block;
  c->block_size = usable;
  c->base = base;
  c->npages = pages;
  c->free_pages = c->npages;
  c->dedicated = dedicated;
  c->used_gen = gc.heap_gen;
  if (!dedicated) {
    for (uint32_t p = 0; p < c->npages; p++) {
      map_set(c->free_map, p);
      if (state == GC_BLOCK_DIRTY) map_set(c->dirty_map, p);
      if (state != GC_BLOCK_READY) map_set(c->cold_map, p);
    }
    gc.free_resident_bytes += (uint64_t)c->npages * GC_PAGE_SIZE;
    avail_push(c);
  }
  c->prev = NULL;
  c->next = gc.chunks;
  if (gc.chunks != NULL) gc.chunks->prev = c;
  gc.chunks = c;
  gc.committed_bytes += usable;
  return c;
}

/* Takes a chunk out of the heap's lists and accounts (heap_lock held). */
static void chunk_unlink(gc_chunk *c) {
  if (!c->dedicated) {
    for (uint32_t p = 0; p < c->npages; p++) {
      if (!map_test(c->free_map, p)) continue;
      if (map_test(c->released_map, p))
        gc.released_bytes -= GC_PAGE_SIZE;
      else
        gc.free_resident_bytes -= GC_PAGE_SIZE;
    }
  }
  if (c->in_avail) avail_remove(c);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    gc.chunks = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  gc.committed_bytes -= c->block_size;
}

/* A list of chunks (linked through `next`) sorted by address (merge sort). */
static gc_chunk *chunks_sorted(gc_chunk *list) {
  if (list == NULL || list->next == NULL) return list;
  gc_chunk *slow = list, *fast = list->next;
  while (fast != NULL && fast->next != NULL) {
    slow = slow->next;
    fast = fast->next->next;
  }
  gc_chunk *second = slow->next;
  slow->next = NULL;
  gc_chunk *a = chunks_sorted(list), *b = chunks_sorted(second), *head = NULL, **tail = &head;
  while (a != NULL && b != NULL) {
    gc_chunk **low = a->base < b->base ? &a : &b;
    *tail = *low;
    tail = &(*low)->next;
    *low = (*low)->next;
  }
  *tail = a != NULL ? a : b;
  return head;
}

/* Fewer pages than any chunk has (a dedicated chunk has more than GC_CHUNK_PAGES / 2): a gap this
 * small between two chunks holds no page of any other chunk, so no span can start in it. */
#define GC_CHUNK_GAP_PAGES (GC_CHUNK_PAGES / 2 + 1)

/* The end of the group of chunks starting at `c` in a sorted list: the chunks up to the returned
 * one are at most GC_CHUNK_GAP_PAGES - 1 pages apart, so the span-table entries from the group's
 * first page to its last describe only its chunks' pages and gaps no span can start in. */
static gc_chunk *chunk_group_last(gc_chunk *c) {
  while (c->next != NULL &&
         c->next->base < c->base + ((uintptr_t)c->npages + GC_CHUNK_GAP_PAGES) * GC_PAGE_SIZE) {
    c = c->next;
  }
  return c;
}

/* ------------------------------------------------------------------------------------------ */
/* Spare blocks (the top of this file; heap_lock) */

/* Keeps the block of `c`, a chunk given up whose pages read zero; `c` itself, unlinked from the
 * heap, holds it (only its block and block_size still mean anything). */
static void spare_push(gc_chunk *c) {
  c->next = gc.spares;
  gc.spares = c;
  gc.spare_bytes += c->block_size;
}

void *beskid_gc__spare_take(void) {
  gc_chunk *c = gc.spares;
  if (c == NULL) return NULL;
  gc.spares = c->next;
  gc.spare_bytes -= c->block_size;
  void *block = c->block;
  beskid_os_mem_free(c);
  return block;
}

bool beskid_gc__spare_keep(void *block) {
  gc_chunk *c = beskid_os_mem_alloc(1, sizeof *c);
  if (c == NULL) return false;
  c->block = block;
  c->block_size = mi_usable_size(block);
  spare_push(c);
  return true;
}

/* Gives every spare back to mimalloc, for a dedicated chunk it found no room for. Called without
 * the heap lock, by a thread in the native state holding map_lock (as for any mimalloc call
 * outside a cycle step, fork.c). Returns whether there was any. */
static bool spares_free_all(void) {
  beskid_os_mutex_lock(&gc.heap_lock);
  gc_chunk *list = gc.spares;
  gc.spares = NULL;
  gc.spare_bytes = 0;
  beskid_os_mutex_unlock(&gc.heap_lock);
  records_free(list);
  return list != NULL;
}

/* Gives up a list of unlinked chunks (linked through `next`), without the heap lock but for a
 * moment to check the span table's ends and to keep the shared chunks' blocks as spares (the
 * dedicated chunks' go back to mimalloc). Their pages' physical memory goes back to the OS
 * first, and so do the span structures describing them. Both a run of neighbouring chunks at a
 * time: with a mutator running, each reset of the span table cost 0.3–0.6 ms on the 2-CPU machine
 * however little it covered, so one per chunk doubled the 50–100 ms the shrink workload's first
 * cycle after its drop spends giving 400 MB back; by runs, the table's part is about 1 ms. Best
 * effort: a failed reset only leaves the memory resident. */
static void chunks_free(gc_chunk *list) {
  list = chunks_sorted(list);
  for (gc_chunk *c = list, *last; c != NULL; c = last->next) {
    /* Neighbouring blocks: the bytes between one chunk's pages and the next's are the two
     * blocks' own slack, so one call resets the run. */
    last = c;
    while (last->next != NULL &&
           (uintptr_t)last->next->block == (uintptr_t)last->block + last->block_size) {
      last = last->next;
    }
    uintptr_t end = last->base + (uintptr_t)last->npages * GC_PAGE_SIZE;
    bool zero = beskid_os_vm_reset((void *)c->base, (size_t)(end - c->base)) == BESKID_OK;
    for (gc_chunk *g = c; g != last->next; g = g->next) g->reads_zero = zero;
  }
  for (gc_chunk *c = list, *last; c != NULL; c = last->next) {
    last = chunk_group_last(c);
    size_t npages = ((last->base - c->base) >> GC_PAGE_SHIFT) + last->npages;
    table_reset(gc.span_table, gc.spans_per_os_page, c->base, npages);
    table_reset(gc.page_table, gc.span_table_page / sizeof(gc_span *), c->base, npages);
  }
  gc_chunk *to_mimalloc = NULL;
  beskid_os_mutex_lock(&gc.heap_lock);
  for (gc_chunk *c = list, *last; c != NULL; c = last->next) {
    last = chunk_group_last(c);
    span_table_reset_ends(c->base, ((last->base - c->base) >> GC_PAGE_SHIFT) + last->npages);
  }
  /* Last, once nothing of the heap describes them any more: a spare may become a chunk again as
   * soon as the lock is free. */
  for (gc_chunk *c = list, *next; c != NULL; c = next) {
    next = c->next;
    if (!c->dedicated && c->reads_zero) {
      spare_push(c);
    } else {
      c->next = to_mimalloc;
      to_mimalloc = c;
    }
  }
  beskid_os_mutex_unlock(&gc.heap_lock);
  records_free(to_mimalloc);
}

/* First page of a run of `n` free pages in `c`, or -1. */
static int64_t chunk_find_run(const gc_chunk *c, uint32_t n) {
  uint32_t run = 0;
  for (uint32_t p = 0; p < c->npages; p++) {
    if (!map_test(c->free_map, p)) {
      run = 0;
      if ((p % 64) == 63 || c->free_map[p / 64] == 0) p |= 63; /* skip a full word */
      continue;
    }
    if (++run == n) return (int64_t)(p + 1 - n);
  }
  return -1;
}

/* The heap lock, taken by a mutator. While another thread holds it (the collector giving chunks
 * back, which resets their memory under it at times, the grower, another mutator), the thread
 * waits in the native state, so that a stop of the world does not wait for the holder too. It
 * holds the lock only while running: leaving the native state may park the thread for a pause,
 * and a pause may need the lock. */
static void heap_lock_running(gc_thread *t) {
  while (!beskid_os_mutex_trylock(&gc.heap_lock)) {
    beskid_gc_enter_native(&t->pub);
    beskid_os_mutex_lock(&gc.heap_lock);
    beskid_os_mutex_unlock(&gc.heap_lock);
    beskid_gc_leave_native(&t->pub);
  }
}

/* A block for a chunk of `npages` pages: `spare` if not NULL, else one from the thread's mimalloc
 * heap, asked for without the heap lock and in the native state: mimalloc may map or commit
 * memory, 20-100 us for a shared chunk and 0.3-1.2 ms for a dedicated one of 16-128 MiB on a
 * virtual machine, and neither another thread's allocation nor a stop of the world should wait
 * with it (the thread touches no heap structure meanwhile). A block for a shared chunk gets its
 * span-table pages made resident there too (beskid_gc__block_table_populate). map_lock keeps a
 * fork from copying mimalloc mid-call (fork.c); it is released before leaving the native state,
 * which may park the thread while fork's prepare waits for it. */
static void *chunk_block_native(gc_thread *t, uint32_t npages, void *spare) {
  beskid_gc_enter_native(&t->pub);
  void *block = spare;
  if (block == NULL) {
    beskid_os_mutex_lock(&gc.map_lock);
    block = chunk_block(t, npages);
    /* The arena may be full of spares (a dedicated chunk is too large for one): they go back and
     * mimalloc tries again. */
    if (block == NULL && spares_free_all()) block = chunk_block(t, npages);
    beskid_os_mutex_unlock(&gc.map_lock);
  }
  if (block != NULL && npages == GC_CHUNK_PAGES) {
    beskid_gc__block_table_populate(block, mi_usable_size(block));
  }
  beskid_gc_leave_native(&t->pub);
  return block;
}

/* Makes a new span's pages resident in one call, where they would otherwise fault in one OS
 * page at a time as the span's slots are zeroed and used: here a fault costs 14-23 us and a
 * populated page 1.4 us (bench/RESULTS.md, "Populating new spans"). Pages the grower made
 * ready are resident already (grow.c); this is for the others: chunks a thread had to take from
 * mimalloc itself while the grower could not run (during a mark that keeps every CPU busy), and
 * pages the scavenger gave back. Best effort: pages the OS does not populate fault as before.
 * The call runs in the native state, so that a stop does not wait for it: on memory the machine
 * never backed before, this project's virtual machines took 240 us to populate a one-page span
 * (gcbench: a stop waited 0.3 ms for it, traced with uprobes; it was populated in the running
 * state up to 64 KiB then). The span is in no table yet, so the collector cannot see it
 * meanwhile, and the thread holds no lock and no span a pause could flush from its caches. */
static void populate_span(gc_thread *t, gc_span *s) {
  beskid_gc_enter_native(&t->pub);
  (void)beskid_os_vm_populate((void *)s->base, (size_t)s->npages << GC_PAGE_SHIFT);
  beskid_gc_leave_native(&t->pub);
}

/* A span of `npages` pages for a large object (`large`) or small ones: its span-table entry,
 * zeroed but for the pages, chunk, state and needzero; not yet in the page table (the caller
 * initialises it with beskid_gc__span_init_small() or beskid_gc__span_init_large(), which map
 * its pages). NULL when mimalloc has no memory left in the arena. */
gc_span *beskid_gc__span_alloc(gc_thread *t, uint32_t npages, bool large) {
  gc_chunk *c = NULL;
  int64_t first = -1;
  if (npages <= GC_CHUNK_PAGES / 2) {
    heap_lock_running(t);
    for (c = gc.avail_chunks; c != NULL; c = c->avail_next) {
      if (c->free_pages < npages) continue;
      first = chunk_find_run(c, npages);
      if (first >= 0) break;
    }
    if (c == NULL) { /* the heap grows: a chunk the grower made ready, a spare, or a new one */
      gc_block_state state = GC_BLOCK_READY;
      void *block = beskid_gc__grow_take();
      if (block == NULL) {
        block = beskid_gc__spare_take();
        state = block != NULL ? GC_BLOCK_SPARE : GC_BLOCK_DIRTY;
        beskid_os_mutex_unlock(&gc.heap_lock);
        block = chunk_block_native(t, GC_CHUNK_PAGES, block);
        heap_lock_running(t);
      }
      c = chunk_new(block, GC_CHUNK_PAGES, false, state);
      first = 0;
    }
  } else { /* a dedicated chunk: one large object */
    void *block = chunk_block_native(t, npages, NULL);
    heap_lock_running(t);
    c = chunk_new(block, npages, true, GC_BLOCK_DIRTY);
    first = 0;
  }
  if (c == NULL) {
    beskid_os_mutex_unlock(&gc.heap_lock);
    return NULL;
  }
  bool dirty = c->dedicated; /* a dedicated chunk is not cleared (chunk_new) */
  bool cold = false;
  if (!c->dedicated) {
    for (uint32_t p = (uint32_t)first; p < (uint32_t)first + npages; p++) {
      map_clear(c->free_map, p);
      dirty |= map_test(c->dirty_map, p);
      map_set(c->dirty_map, p);
      cold |= map_test(c->cold_map, p);
      map_clear(c->cold_map, p);
      if (map_test(c->released_map, p)) {
        map_clear(c->released_map, p);
        gc.released_bytes -= GC_PAGE_SIZE;
        cold = true;
      } else {
        gc.free_resident_bytes -= GC_PAGE_SIZE;
      }
    }
  }
  c->free_pages -= npages;
  c->used_gen = gc.heap_gen;
  if (c->free_pages == 0 && c->in_avail) avail_remove(c);
  gc_span *s = span_entry(c->base + (uintptr_t)first * GC_PAGE_SIZE);
  memset(s, 0, sizeof *s); /* the entry may hold a span that lived there before */
  s->state = large ? GC_SPAN_LARGE : GC_SPAN_SMALL; /* claimed, under the lock (span table) */
  s->chunk = c;
  s->base = c->base + (uintptr_t)first * GC_PAGE_SIZE;
  s->npages = npages;
  s->needzero = dirty;
  beskid_os_mutex_unlock(&gc.heap_lock);
  if (cold) populate_span(t, s);
  return s;
}

/* Slots past nelems never exist: their alloc bits are set from the span's creation on, so that
 * allocation never hands them out and every reader (sweeper, verifier) sees one shape of bitmap
 * for small and large spans alike. Object slots start clear: the allocator sets their bits. */
static void mark_slots_past_end(gc_span *s) {
  uint32_t last = (s->nelems - 1) / 64;
  s->alloc_bits[last] = ~gc_span_valid_bits(s, last);
}

void beskid_gc__span_init_small(gc_span *s, uint32_t span_class) {
  const gc_size_class *c = &beskid_gc__size_classes[span_class >> 1];
  s->span_class = (uint8_t)span_class;
  s->elem_size = c->size;
  s->nelems = c->nelems;
  s->limit = s->base + (uintptr_t)c->nelems * c->size;
  s->div_magic = (uint32_t)(UINT32_MAX / c->size + 1);
  mark_slots_past_end(s);
  atomic_store_explicit(&s->sweepgen, atomic_load(&gc.sweepgen), memory_order_relaxed);
  page_table_set(s->base, s->npages, s);
}

void beskid_gc__span_init_large(gc_span *s, uint64_t size, bool noscan) {
  s->span_class = noscan ? 1 : 0;
  s->elem_size = 0;
  s->nelems = 1;
  s->limit = s->base + size;
  s->div_magic = 0; /* every offset is object 0 */
  mark_slots_past_end(s);
  atomic_store_explicit(&s->sweepgen, atomic_load(&gc.sweepgen), memory_order_relaxed);
  page_table_set(s->base, s->npages, s);
}

/* Gives a span's pages back to its chunk and the chunk back to mimalloc when it empties.
 * The span must be in no list and unreachable (swept dead, or never used). */
void beskid_gc__span_free(gc_span *s) {
  gc_chunk *dead = NULL; /* a dedicated chunk, freed after the lock */
  beskid_os_mutex_lock(&gc.heap_lock);
  page_table_set(s->base, s->npages, NULL);
  gc_chunk *c = s->chunk;
  if (c->dedicated) {
    chunk_unlink(c);
    dead = c;
  } else {
    uint32_t first = (uint32_t)((s->base - c->base) >> GC_PAGE_SHIFT);
    for (uint32_t p = first; p < first + s->npages; p++) map_set(c->free_map, p);
    c->free_pages += s->npages;
    gc.free_resident_bytes += (uint64_t)s->npages * GC_PAGE_SIZE;
    if (!c->in_avail) avail_push(c);
  }
  s->state = GC_SPAN_FREE;
  beskid_os_mutex_unlock(&gc.heap_lock);
  if (dead != NULL) {
    dead->next = NULL;
    chunks_free(dead);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Releasing free pages (the primitives scavenge.c paces) */

uint32_t beskid_gc__heap_take_resident(uint32_t max_pages, bool idle_only, gc_chunk **chunk,
                                       uintptr_t *addr) {
  uint32_t taken = 0;
  beskid_os_mutex_lock(&gc.heap_lock);
  for (gc_chunk *c = gc.avail_chunks; c != NULL && taken == 0; c = c->avail_next) {
    if (idle_only && c->used_gen >= gc.heap_gen) continue;
    for (uint32_t p = 0; p < c->npages; p++) {
      uint64_t word = c->free_map[p / 64] & ~c->released_map[p / 64];
      if (taken == 0 && (word >> (p % 64)) == 0) { /* nothing resident in the rest of the word */
        p |= 63;
        continue;
      }
      bool resident = (word >> (p % 64)) & 1u;
      if (taken == 0 && !resident) continue;
      if (taken != 0 && (!resident || taken == max_pages)) break;
      if (taken == 0) *addr = c->base + (uintptr_t)p * GC_PAGE_SIZE;
      map_clear(c->free_map, p);
      taken++;
    }
    if (taken != 0) {
      *chunk = c;
      c->free_pages -= taken;
      gc.free_resident_bytes -= (uint64_t)taken * GC_PAGE_SIZE;
      if (c->free_pages == 0) avail_remove(c);
    }
  }
  beskid_os_mutex_unlock(&gc.heap_lock);
  return taken;
}

void beskid_gc__heap_put_released(gc_chunk *c, uintptr_t addr, uint32_t npages, bool released) {
  beskid_os_mutex_lock(&gc.heap_lock);
  uint32_t first = (uint32_t)((addr - c->base) >> GC_PAGE_SHIFT);
  for (uint32_t p = first; p < first + npages; p++) {
    map_set(c->free_map, p);
    if (released) {
      map_set(c->released_map, p);
      map_clear(c->dirty_map, p); /* reads zero now */
    }
  }
  c->free_pages += npages;
  if (released)
    gc.released_bytes += (uint64_t)npages * GC_PAGE_SIZE;
  else
    gc.free_resident_bytes += (uint64_t)npages * GC_PAGE_SIZE;
  if (!c->in_avail) avail_push(c);
  beskid_os_mutex_unlock(&gc.heap_lock);
}

void beskid_gc__heap_next_gen(void) {
  beskid_os_mutex_lock(&gc.heap_lock);
  gc.heap_gen++;
  beskid_os_mutex_unlock(&gc.heap_lock);
}

/* Gives empty shared chunks that no span took pages of since the last scavenge back to mimalloc,
 * while the heap holds more than `keep_bytes`. The chunks are unlinked under the lock and freed
 * after it, so the allocator's decommit calls never hold up a thread that needs a span. */
void beskid_gc__heap_scavenge(uint64_t keep_bytes) {
  gc_chunk *release = NULL;
  void *stash[GC_GROW_STASH_MAX];
  uint32_t stashed = 0;
  beskid_os_mutex_lock(&gc.heap_lock);
  /* A heap above what it keeps is not growing: the chunks made ready for growth go first. */
  if (beskid_gc__held_bytes() > keep_bytes) stashed = beskid_gc__grow_drop(stash);
  for (gc_chunk *c = gc.avail_chunks, *next; c != NULL && gc.committed_bytes > keep_bytes;
       c = next) {
    next = c->avail_next;
    if (c->free_pages != c->npages || c->used_gen >= gc.heap_gen) continue;
    chunk_unlink(c);
    c->next = release;
    release = c;
  }
  beskid_os_mutex_unlock(&gc.heap_lock);
  if (release != NULL) chunks_free(release);
  beskid_gc__blocks_free(stash, stashed);
}

/* ------------------------------------------------------------------------------------------ */
/* Central lists (the caller holds the central's lock) */

void beskid_gc__list_push(gc_span_list_t *list, gc_span *s, uint8_t which) {
  s->prev = NULL;
  s->next = list->head;
  if (list->head != NULL) list->head->prev = s;
  list->head = s;
  list->count++;
  s->list = which;
}

void beskid_gc__list_remove(gc_span_list_t *list, gc_span *s) {
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    list->head = s->next;
  if (s->next != NULL) s->next->prev = s->prev;
  s->next = s->prev = NULL;
  s->list = GC_LIST_NONE;
  list->count--;
}

/* Calls fn for every span that owns pages (the world must be stopped or the heap otherwise
 * quiet). */
void beskid_gc__for_each_span(void (*fn)(gc_span *s, void *context), void *context) {
  beskid_os_mutex_lock(&gc.heap_lock);
  for (gc_chunk *c = gc.chunks; c != NULL; c = c->next) {
    for (uint32_t p = 0; p < c->npages;) {
      gc_span *s = beskid_gc__span_of(c->base + (uintptr_t)p * GC_PAGE_SIZE);
      if (s == NULL || s->base != c->base + (uintptr_t)p * GC_PAGE_SIZE) {
        p++;
        continue;
      }
      fn(s, context);
      p += s->npages;
    }
  }
  beskid_os_mutex_unlock(&gc.heap_lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Interior pointers */

void *beskid_gc__find_object(uintptr_t addr, gc_span **span_out, uint32_t *index_out) {
  gc_span *s = beskid_gc__span_of(addr);
  if (s == NULL || addr < s->base || addr >= s->limit) return NULL;
  uint32_t i = gc_span_index(s, addr);
  uint64_t allocated = __atomic_load_n(&s->alloc_bits[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1u;
  if (!allocated && !gc_span_marked(s, i)) return NULL;
  if (span_out != NULL) *span_out = s;
  if (index_out != NULL) *index_out = i;
  return (void *)(s->base + (uintptr_t)i * s->elem_size);
}

void *beskid_gc_object_start(const void *address) {
  if (!gc.initialized) return NULL;
  return beskid_gc__find_object((uintptr_t)address, NULL, NULL);
}
