/* internal.h — what the files of libs/gc share: the heap's structures, the per-thread context,
 * the global collector state and the functions one file offers the others.
 *
 * The algorithm and its invariants are described at the top of collector.c; this header states
 * only what each structure holds and who may touch which field when. Internal functions and
 * variables carry the `beskid_gc__` prefix (two underscores; the public API in beskid/gc.h uses
 * `beskid_gc_`), so the two are told apart at a glance, and hidden visibility (the library is built
 * with -fvisibility=hidden); the prefix still starts with `beskid_`, so in a static link they
 * cannot collide with a program's own symbols (nor with the compiler-facing `gc_*` names). Static
 * inline helpers of this header are `gc_*`: they make no symbol. */
#ifndef BESKID_GC_INTERNAL_H
#define BESKID_GC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beskid/gc.h"
#include "beskid/objmodel.h"
#include "beskid/platform.h"
#include "beskid_test_hooks.h" /* tests/support: the step hooks this library defines */

/* ------------------------------------------------------------------------------------------ */
/* Heap geometry                                                                              */

#define GC_PAGE_SHIFT     13u
#define GC_PAGE_SIZE      (1u << GC_PAGE_SHIFT) /* 8 KiB: the unit of the page table */
#define GC_CHUNK_PAGES    128u                  /* pages asked of mimalloc at a time (1 MiB) */
#define GC_GROW_STASH_MAX 4u                    /* chunks the grower keeps ready at most (grow.c) */
#define GC_GRANULE        8u                    /* every object size is a multiple of this */
#define GC_SMALL_MAX      32768u                /* larger objects get a span of their own */
/* Objects per span at most: GC_PAGE_SIZE / 16. The 8-byte class (header-only objects, rare) uses
 * half of its one-page spans rather than doubling the bitmaps of every span structure, which
 * the span table keeps one of per heap page (heap.c). */
#define GC_SPAN_MAX_OBJECTS  512u
#define GC_SPAN_BITMAP_WORDS (GC_SPAN_MAX_OBJECTS / 64u)
#define GC_SIZE_CLASSES      53u                    /* size classes 1..52; 0 means "large" */
#define GC_SPAN_CLASSES      (GC_SIZE_CLASSES * 2u) /* (size class << 1) | noscan */

/* ------------------------------------------------------------------------------------------ */
/* Spans                                                                                      */

typedef struct gc_chunk gc_chunk;

enum gc_span_state {
  GC_SPAN_FREE = 0,  /* an entry of the span table that describes no span in use */
  GC_SPAN_SMALL = 1, /* objects of one size class */
  GC_SPAN_LARGE = 2  /* exactly one object */
};

/* A run of pages holding objects of one size, or one large object.
 *
 * Liveness of object i: set in `mark_bits` during marking; after sweeping, `alloc_bits` is the
 * set of objects that survived, and allocation hands out the slots whose alloc bit is clear,
 * setting the bit as it goes. Invariants:
 * - `sweepgen` == gc.sweepgen - 2: not swept since the last mark (alloc_bits is stale);
 *   == gc.sweepgen - 1: being swept by whoever won the CAS; == gc.sweepgen: swept.
 * - mark_bits are all zero outside the mark phase, except in spans not swept yet (sweeping
 *   clears them).
 * - The alloc bits of slots past nelems are set from the span's creation on, for small and
 *   large spans alike; their mark bits are never set.
 * - A span cached by a thread for allocation is swept and in no central list.
 * - The page table maps every page of the span to it while state != GC_SPAN_FREE. */
typedef struct gc_span {
  uintptr_t base;     /* address of object 0 (page-aligned) */
  uintptr_t limit;    /* base + nelems * elem_size */
  uint32_t npages;    /* pages covered */
  uint32_t elem_size; /* bytes per object slot */
  uint32_t nelems;    /* object slots */
  uint32_t div_magic; /* (offset * div_magic) >> 32 == offset / elem_size for offsets < limit */
  uint8_t span_class; /* (size class << 1) | noscan; size class 0 for large spans */
  uint8_t state;      /* enum gc_span_state */
  uint8_t needzero;   /* free slots may hold old bytes: zero them at allocation */
  uint8_t list;       /* which central list holds it (enum gc_span_list) */
  _Atomic uint32_t sweepgen;
  uint32_t alloc_count; /* objects allocated in the span (exact when not cached) */
  gc_chunk *chunk;      /* the chunk whose pages it uses */
  struct gc_span *next; /* central list links, or the free list */
  struct gc_span *prev;
  uint64_t alloc_bits[GC_SPAN_BITMAP_WORDS];
  _Atomic uint64_t mark_bits[GC_SPAN_BITMAP_WORDS];
} gc_span;

/* a × b, or UINT64_MAX when that overflows (pacing figures). */
static inline uint64_t gc_sat_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* Population count: the instruction when the target has it, otherwise a branch-free SWAR sum
 * (baseline x86-64 lacks POPCNT, and libgcc's fallback is a table walk). */
static inline uint32_t gc_popcount(uint64_t x) {
#if defined(__POPCNT__) || defined(__aarch64__)
  return (uint32_t)__builtin_popcountll(x);
#else
  x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
  x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
  x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
  return (uint32_t)((x * UINT64_C(0x0101010101010101)) >> 56);
#endif
}

/* Bits of bitmap word `w` that are real object slots (slots past nelems never exist; their alloc
 * bits are always set). */
static inline uint64_t gc_span_valid_bits(const gc_span *s, uint32_t w) {
  uint32_t first = w * 64;
  if (s->nelems >= first + 64) return UINT64_MAX;
  return (UINT64_C(1) << (s->nelems - first)) - 1;
}

static inline bool gc_span_noscan(const gc_span *s) { return (s->span_class & 1u) != 0; }
static inline uint32_t gc_span_size_class(const gc_span *s) { return s->span_class >> 1; }

/* Index of the object slot containing `addr`, which must lie in [s->base, s->limit). */
static inline uint32_t gc_span_index(const gc_span *s, uintptr_t addr) {
  return (uint32_t)(((uint64_t)(addr - s->base) * s->div_magic) >> 32);
}

static inline bool gc_span_marked(gc_span *s, uint32_t i) {
  return (atomic_load_explicit(&s->mark_bits[i / 64], memory_order_relaxed) >> (i % 64)) & 1u;
}

/* Sets mark bit i; returns true when this call set it (the caller then owns greying it).
 * Relaxed: the bit is the only thing published, and whoever wins scans the object, whose
 * contents were made visible to markers by the handshakes that started marking. */
static inline bool gc_span_mark(gc_span *s, uint32_t i) {
  uint64_t bit = UINT64_C(1) << (i % 64);
  _Atomic uint64_t *word = &s->mark_bits[i / 64];
  if (atomic_load_explicit(word, memory_order_relaxed) & bit) return false;
  return (atomic_fetch_or_explicit(word, bit, memory_order_relaxed) & bit) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Size classes (heap.c)                                                                      */

typedef struct gc_size_class {
  uint32_t size;   /* object slot size in bytes */
  uint32_t npages; /* pages per span */
  uint32_t nelems; /* objects per span */
} gc_size_class;

extern gc_size_class beskid_gc__size_classes[GC_SIZE_CLASSES];

/* The size class for a small object of `size` bytes (8 ≤ size ≤ GC_SMALL_MAX, a multiple of 8).
 * A size that is a multiple of 16 always gets a class whose size is a multiple of 16, so every
 * slot of its spans (which start page-aligned) is 16-aligned: that is how objects asking for
 * 16-byte alignment get it (alloc.c rounds their size up to 16 first). */
uint32_t beskid_gc__size_to_class(uint64_t size);

/* ------------------------------------------------------------------------------------------ */
/* Central span lists (heap.c)                                                                */

/* Lists of one span class. Two sets, swapped each cycle by the parity of gc.sweepgen: the set
 * [sweepgen/2 % 2] holds swept spans, the other unswept ones, so that advancing sweepgen at mark
 * termination turns every swept list into an unswept list without touching a span. */
enum gc_span_list {
  GC_LIST_NONE = 0,
  GC_LIST_PARTIAL_0,
  GC_LIST_FULL_0, /* set 0 */
  GC_LIST_PARTIAL_1,
  GC_LIST_FULL_1 /* set 1 */
};

typedef struct gc_span_list_t {
  gc_span *head;
  uint64_t count;
} gc_span_list_t;

typedef struct gc_central {
  beskid_os_mutex_t lock;
  gc_span_list_t partial[2]; /* spans with free slots */
  gc_span_list_t full[2];    /* spans with none (and large spans) */
} gc_central;

/* ------------------------------------------------------------------------------------------ */
/* Per-thread state                                                                           */

#define GC_WB_ENTRIES 256u /* write-barrier buffer: pointers to shade */
#define GC_TYPE_CACHE 64u  /* validated descriptors remembered per thread */
#define GC_ROOT_BLOCK 64u  /* registered root slots per block */

enum gc_thread_state {
  GC_THREAD_RUNNING = 0, /* in managed code: must reach a safepoint before the world is stopped */
  GC_THREAD_NATIVE = 1,  /* outside managed code: counts as stopped */
  GC_THREAD_STOPPED = 2  /* parked at a safepoint until the world restarts */
};

/* A thread's allocation state for one span class: a span, and in it a run of consecutive free
 * slots [next, end) that the fast path hands out by bumping `next`. The run's slots have their
 * alloc bits set (and are zeroed) from the moment the run is taken. */
typedef struct gc_alloc_cache {
  uintptr_t next;     /* next slot of the current run */
  uintptr_t end;      /* end of the current run */
  uint32_t size;      /* slot size; UINT32_MAX when there is no span, so no run fits */
  uint32_t word;      /* bitmap word the next run is searched from */
  uint64_t free_mask; /* free slots of `word` not yet taken into a run (1 = free) */
  gc_span *span;      /* span being allocated from, or NULL */
} gc_alloc_cache;

/* A descriptor this thread has validated, with what allocating it needs. */
typedef struct gc_type_entry {
  const beskid_type_t *type;
  uint64_t size;       /* type->size */
  uint32_t span_class; /* 0 when the object is large (no fast path) */
} gc_type_entry;

typedef struct gc_root_block {
  struct gc_root_block *prev; /* older block */
  uint32_t used;
  void **slots[GC_ROOT_BLOCK];
} gc_root_block;

typedef struct gc_thread {
  beskid_gc_thread_t pub; /* ABI prefix: top_frame @0, poll @8 */
  _Atomic uint32_t state; /* enum gc_thread_state; see thread.c for the protocol */
  struct gc_thread *next; /* the global thread list (gc.threads_lock) */
  struct gc_thread *prev;
  void *mi_heap; /* mimalloc heap in the GC arena, owned by this thread */
  gc_alloc_cache caches[GC_SPAN_CLASSES];
  void *wb[GC_WB_ENTRIES]; /* write-barrier buffer */
  uint32_t wb_count;
  bool in_collect;      /* running a cycle step on this thread (no nested cycles) */
  gc_root_block *roots; /* registered root slots, newest block first */
  gc_type_entry type_cache[GC_TYPE_CACHE]; /* validated descriptors (beskid_gc_type_check) */
  uint64_t stress_countdown;               /* allocations left before a stress collection */
  int64_t assist_debt;     /* bytes allocated during marking not yet paid for by work */
  uint64_t limit_spent_ns; /* time paid at the memory limit, drained at half the wall clock */
  uint64_t limit_spent_at; /* when limit_spent_ns was last brought up to date (monotonic) */
  uint64_t black_bytes;    /* allocated black this cycle (live at mark end) */
  uint64_t black_objects;
  _Atomic uint32_t cpu; /* where it last took a span (relaxed: a hint for the grower, grow.c) */
  /* What held a stop up (thread.c, "Where a stop's wait went"). */
  _Atomic uint64_t parked_ns;      /* when it last parked (monotonic; relaxed) */
  uint64_t seen_stopped_ns;        /* the stopper's: when it first saw it stopped, this stop */
  beskid_os_cpu_clock_t cpu_clock; /* the thread's CPU clock; has_cpu_clock says if it has one */
  bool has_cpu_clock;
  _Atomic uint32_t stop_watch; /* enum gc_stop_watch */
  uint64_t watch_ns;           /* when the stopper read its CPU time (monotonic) */
  uint64_t watch_cpu_ns;       /* its CPU time then */
  uint64_t stopped_cpu_ns;     /* its CPU time as it stopped */
} gc_thread;

/* A thread's part in explaining a slow stop (gc_thread.stop_watch). */
enum gc_stop_watch { GC_WATCH_NONE, GC_WATCH_ASKED, GC_WATCH_REPORTED };

static inline gc_thread *gc_thread_of(beskid_gc_thread_t *t) { return (gc_thread *)t; }

/* ------------------------------------------------------------------------------------------ */
/* Mark work (mark.c)                                                                         */

#define GC_WORK_ENTRIES 510u

/* A block of grey objects. Work moves between threads a whole block at a time. */
typedef struct gc_work_block {
  struct gc_work_block *next;
  uint64_t count;
  void *objects[GC_WORK_ENTRIES];
} gc_work_block;

/* A marker's private state: the block it pushes to and pops from. */
typedef struct gc_marker {
  gc_work_block *block;
  uint64_t scanned_bytes; /* work done, for pacing */
  uint64_t marked_objects;
  uint64_t marked_bytes;
  bool credits_assists; /* a collector-side marker: its work pays mutators' assist debt */
  bool yields_to_stops; /* a mutator's assist: stops draining as soon as a pause is requested */
} gc_marker;

/* ------------------------------------------------------------------------------------------ */
/* Roots (roots.c)                                                                            */

/* Global slots registered by one beskid_gc_register_globals() call. */
typedef struct gc_global_range {
  void **slots;
  size_t count; /* ≤ BESKID_GC_GLOBALS_MAX; slots + count does not wrap */
} gc_global_range;

/* ------------------------------------------------------------------------------------------ */
/* Settings. Each lives in one place: those that stay as beskid_gc_init() was given them here
 * (gc.config), those a setter can change as atomics where they are used: GOGC and the limits in
 * gc.pacer, the stress interval and the trace switch in gc_global. beskid_gc_init() copies the
 * caller's beskid_gc_config_t into them once (collector.c, settings_from_config). */

typedef struct gc_fixed_config {
  uint32_t debug_flags; /* beskid_gc_debug_flags */
  beskid_gc_log_fn log;
  void *log_context;
  beskid_gc_log_fn fatal;
  beskid_gc_log_fn out_of_memory;
  uint32_t mark_workers; /* 0: the pool follows the CPU count (mark_workers.c) */
} gc_fixed_config;

/* The pacer's learned rates (pacer_model.c explains them). */
typedef struct gc_pacer_rates {
  uint64_t scan_per_byte; /* scan work per live byte, fixed point 1/1024; 0 unknown */
  uint64_t mark_speed;    /* bytes scanned per CPU-second of one mark worker; 0 unknown */
  uint64_t alloc_rate;    /* bytes allocated per second while marking; 0 unknown */
} gc_pacer_rates;

/* ------------------------------------------------------------------------------------------ */
/* The pacer's state (pacer.c), in the spirit of Go's gcControllerState: its settings, its
 * outputs (goal, trigger) and what it learns from each cycle. All in bytes but gogc.          */

typedef struct gc_pacer {
  /* Settings: written by init and the setters, read by set_goal (any thread). */
  _Atomic int32_t gogc;          /* percent, or BESKID_GC_GOGC_OFF */
  _Atomic uint64_t memory_limit; /* soft limit; 0: none */
  _Atomic uint64_t heap_max;     /* hard cap; 0: none */
  /* Outputs. */
  _Atomic uint64_t trigger; /* start a cycle when heap_bytes reaches this */
  _Atomic uint64_t goal;
  _Atomic uint32_t workers_planned; /* mark workers the next mark runs */
  /* What it learns (pacer_model.c), written by the driver at mark termination. */
  gc_pacer_rates rates;
  /* Inputs from the cycles (the driver writes them; assists read them while marking). */
  uint64_t heap_at_mark_start;    /* heap_bytes when the cycle in progress began */
  uint64_t mark_alloc;            /* bytes allocated during the last mark */
  uint64_t last_scan_work;        /* bytes the last cycle scanned in all */
  _Atomic uint64_t scan_done;     /* bytes scanned so far this cycle, published as marking goes */
  _Atomic uint64_t assist_credit; /* scan work collector-side markers did that no assist took */
  /* CPUs the program's own threads keep busy: the larger of the threads running managed code
   * (not in the native state) at the last mark termination and the CPUs they used over the
   * last whole cycle (mutator_cpus). Those CPUs are not idle for extra mark workers. Relaxed:
   * a setter planning with the previous cycle's count is as good as with this one's. */
  _Atomic uint32_t mutators;
  /* What the program's threads used between the last two cycle ends (pacer.c,
   * beskid_gc__pacer_observe_mutators), and the readings it was measured from. Driver only. */
  uint32_t mutator_cpus;
  uint64_t usage_wall_ns;        /* monotonic time of the last reading (0: none yet) */
  uint64_t usage_process_cpu_ns; /* the process's CPU time then */
  uint64_t usage_grow_cpu_ns;    /* gc.grow_cpu_ns then */
  uint32_t cpus; /* CPUs the process may run on, read once at init (thread.c; kept across fork) */
} gc_pacer;

/* ------------------------------------------------------------------------------------------ */
/* The cycle in progress (collector.c writes it, stats.c publishes it)                        */

#define GC_CYCLE_PAUSES 16u /* a cycle's pauses kept for the percentile ring (more are rare) */

/* How long a stop waited for the threads (thread.c, "Where a stop's wait went"). */
typedef struct gc_stop_wait {
  uint64_t ttsp_ns;    /* from the request to the last thread stopping */
  uint64_t running_ns; /* the same, less what the threads spent waiting for a CPU */
} gc_stop_wait;

/* Per-cycle figures for the trace and statistics, written only by the cycle's driver (under
 * gc.cycle_lock) and published into gc.stats (stats.c) when the cycle completes. */
typedef struct gc_cycle_record {
  uint64_t stw1_ns, mark_ns, stw2_ns, sweep_ns;
  gc_stop_wait start_wait; /* the mark-start stop's */
  uint64_t heap_before, heap_after_mark, live, live_objects, goal;
  uint64_t cpu_start_ns;
  uint64_t worker_cpu_ns, assist_ns_at_start; /* mark workers' CPU; assist clock at mark start */
  uint32_t workers;                           /* mark workers the mark ran */
  bool forced;
  /* This cycle's pauses so far. */
  uint64_t pause_count, pause_total_ns, pause_max_ns, ttsp_total_ns, ttsp_max_ns;
  uint64_t ttsp_running_max_ns;
  uint64_t pause_histogram[BESKID_GC_PAUSE_BUCKETS];
  uint64_t pauses[GC_CYCLE_PAUSES];
} gc_cycle_record;

/* ------------------------------------------------------------------------------------------ */
/* The collector's global state (one per process)                                             */

typedef struct gc_global {
  bool initialized;
  gc_fixed_config config; /* the settings that never change after init */

  /* The arena: one reserved range all GC memory comes from, so a flat page table covers it. */
  int arena_id;
  uintptr_t arena_base;
  uintptr_t arena_size;
  gc_span *_Atomic *page_table; /* one entry per page of the arena */
  size_t page_table_bytes;      /* its mapping's size */

  /* The page heap: chunks of pages from mimalloc, spans carved from them (heap.c). */
  beskid_os_mutex_t heap_lock;
  /* Held by a thread that maps a dedicated chunk in the native state (heap.c), and by fork's
   * prepare, so that mimalloc is never copied into a child in the middle of that call. */
  beskid_os_mutex_t map_lock;
  gc_chunk *chunks;             /* every chunk */
  gc_chunk *avail_chunks;       /* shared chunks with at least one free page */
  void *span_table;             /* one span structure per page of the arena (heap.c) */
  size_t span_table_bytes;      /* its mapping's size */
  size_t span_table_page;       /* the OS page size it is laid out in */
  uint32_t spans_per_os_page;   /* entries per OS page of it */
  uint64_t committed_bytes;     /* bytes of chunks held (heap_lock) */
  uint64_t free_resident_bytes; /* free pages of shared chunks still resident (heap_lock) */
  uint64_t released_bytes;      /* free pages whose memory went back to the OS (heap_lock) */
  uint64_t heap_gen;    /* scavenges done: a chunk's pages were last taken when (heap_lock) */
  gc_chunk *spares;     /* blocks of chunks given up, their memory back to the OS (heap.c) */
  uint64_t spare_bytes; /* their usable bytes (heap_lock) */
  gc_central central[GC_SPAN_CLASSES];
  gc_central large; /* large spans, in the `full` lists */
  /* Chunks made ready ahead of need and the thread that makes them (grow.c; heap_lock). */
  void *stash[GC_GROW_STASH_MAX]; /* zeroed, populated mimalloc blocks of a chunk's size */
  uint32_t stash_count;
  uint64_t stash_bytes;       /* their usable bytes, part of the committed heap in the statistics */
  uint64_t stash_made;        /* blocks the grower has stashed since init (statistics) */
  beskid_os_cond_t grow_cond; /* the grower waits here, and its starter for it (heap_lock) */
  bool grow_wanted;           /* a span needed a new chunk since the stash was last full */
  _Atomic bool grow_stopping; /* written under heap_lock; read without it while waiting */
  bool grower_ready;          /* the grower has made its mimalloc heap (or failed to) */
  bool grower_running;
  beskid_os_thread_t grower;
  _Atomic uint64_t grow_cpu_ns; /* CPU time it has spent making blocks (pacer.c) */

  /* Phase and colours. */
  _Atomic uint32_t phase;        /* beskid_gc_phase_t */
  _Atomic uint32_t sweepgen;     /* +2 per cycle, at mark termination */
  _Atomic uint32_t sweep_cursor; /* next span class the sweeper looks at (sweep.c) */

  /* Threads (thread.c). */
  beskid_os_mutex_t threads_lock;
  beskid_os_cond_t threads_cond; /* signalled when a thread stops, parks or the world restarts */
  gc_thread *threads;
  uint32_t thread_count;
  _Atomic uint32_t stop_requested;
  _Atomic uint32_t stopper_cpu; /* where the thread stopping the world spins (thread.c), a hint */
  _Atomic bool stop_spins;      /* the waits of the latest stop spin before sleeping (thread.c) */

  /* Cycle control (collector.c): the background thread and who waits for what. */
  beskid_os_mutex_t cycle_lock; /* serialises cycles: one runs at a time */
  beskid_os_mutex_t wake_lock;
  beskid_os_cond_t wake_cond;
  _Atomic bool cycle_wanted; /* raised by allocating threads (pacer.c), taken by the collector */
  bool stopping;
  uint64_t cycles_done;
  beskid_os_thread_t collector;
  bool collector_running;
  bool collector_started; /* the collector thread is past its start-up (wake_lock) */

  /* Mark work pool (mark.c). */
  beskid_os_mutex_t work_lock;
  gc_work_block *full_blocks;
  gc_work_block *empty_blocks;
  uint64_t full_count; /* written under work_lock, peeked without it as a hint */
  _Atomic uint64_t marked_bytes;
  _Atomic uint64_t marked_objects;
  _Atomic uint32_t assists_active; /* mutators inside an assist (they may hold grey work) */
  /* Barrier modes (barrier.c explains them). */
  _Atomic bool object_barrier_used; /* ever, by any thread: later cycles shade stored values */
  _Atomic bool insertion_barrier;   /* this cycle's value barrier also shades the stored value */
  _Atomic bool rescan_roots;        /* the object barrier ran this cycle: rescan all roots */
  _Atomic bool marks_incomplete;    /* ...in a cycle without the insertion half: its sweep frees
                                       nothing (stable from termination to the next mark start) */
  _Atomic bool mark_overflow;       /* a grey entry was dropped for want of a work block */
  uint64_t mark_overflow_rescans;   /* recoveries (heap rescans) since init; for tests */

  /* Global roots and handles (roots.c): one entry per registration, so registering n slots
   * costs one entry, not n. */
  beskid_os_mutex_t roots_lock;
  gc_global_range *globals;
  size_t global_ranges;   /* entries used */
  size_t global_capacity; /* entries allocated */

  /* Pacing (pacer.c). */
  gc_pacer pacer;

  /* Accounting (alloc.c, sweep.c). All in bytes. */
  _Atomic uint64_t heap_bytes; /* bytes in allocated, unswept objects */
  _Atomic uint64_t heap_objects;
  _Atomic uint64_t stress_interval;
  _Atomic bool trace;
  uint64_t live_bytes; /* marked by the last cycle */
  uint64_t live_objects;

  /* Failure report of the last allocation that could not be satisfied. */
  beskid_os_mutex_t failure_lock;
  beskid_gc_failure_t failure;

  /* Statistics (collector.c). */
  beskid_os_mutex_t stats_lock;
  beskid_gc_stats_t stats;
  _Atomic uint64_t total_alloc_bytes;
  _Atomic uint64_t total_alloc_objects;
  _Atomic uint64_t total_freed_bytes;
  _Atomic uint64_t total_freed_objects;
  _Atomic uint64_t assist_ns;
  _Atomic uint64_t assist_wait_ns; /* assists waiting for the workers' credit (pacer.c) */
  /* Stalls of stopped threads (beskid_gc_stats_t::stall_*): added by each thread as it resumes;
   * relaxed, as statistics. */
  _Atomic uint64_t stall_count;
  _Atomic uint64_t stall_total_ns;
  _Atomic uint64_t stall_max_ns;
  uint64_t start_ns;
  gc_cycle_record cycle; /* the cycle in progress (its driver only) */
} gc_global;

extern gc_global beskid_gc__state;
#define gc beskid_gc__state

/* ------------------------------------------------------------------------------------------ */
/* Functions shared between files                                                             */

/* heap.c */
/* Most address space the heap reserves (64 TiB, half of a 47-bit user address space), and the
 * least it accepts when a larger reservation fails (one mimalloc arena block). */
#define GC_RESERVE_MAX (UINT64_C(1) << 46)
#define GC_RESERVE_MIN (UINT64_C(64) << 20)
/* Reserves the arena: `reserve` bytes, or failing that the largest half, quarter, ... of it that
 * is at least `floor`. */
beskid_gc_status beskid_gc__heap_init(uint64_t reserve, uint64_t floor);
void beskid_gc__heap_shutdown(void);
gc_span *beskid_gc__span_alloc(gc_thread *t, uint32_t npages, bool large);
void beskid_gc__span_free(gc_span *s);
/* Gives back to mimalloc the empty chunks no span took pages of since the last
 * beskid_gc__heap_next_gen() (they sat unused a whole cycle), while more than `keep_bytes` are
 * committed. */
void beskid_gc__heap_scavenge(uint64_t keep_bytes);
/* Starts a new scavenger generation: chunks a span takes pages of from now on count as in use
 * until the next call. Called once a cycle, after the cycle's scavenging. */
void beskid_gc__heap_next_gen(void);
void beskid_gc__for_each_span(void (*fn)(gc_span *s, void *context), void *context);
void beskid_gc__span_init_small(gc_span *s, uint32_t span_class);
void beskid_gc__span_init_large(gc_span *s, uint64_t size, bool noscan);
void beskid_gc__list_push(gc_span_list_t *list, gc_span *s, uint8_t which);
void beskid_gc__list_remove(gc_span_list_t *list, gc_span *s);
/* The span owning `addr`, or NULL when addr is outside the heap or in free pages. */
static inline gc_span *beskid_gc__span_of(uintptr_t addr) {
  uintptr_t off = addr - gc.arena_base;
  if (off >= gc.arena_size) return NULL;
  return atomic_load_explicit(&gc.page_table[off >> GC_PAGE_SHIFT], memory_order_acquire);
}
/* The object containing addr and its span and index, or NULL. */
void *beskid_gc__find_object(uintptr_t addr, gc_span **span_out, uint32_t *index_out);

/* Takes out of the free maps one run of at most `max_pages` free pages that are still resident
 * (in one chunk; with `idle_only`, in a chunk no span took pages of since the last
 * beskid_gc__heap_next_gen()); returns how many, with their chunk and address, or 0 when none
 * is left. The
 * run is in no free map and no span until beskid_gc__heap_put_released() gives it back, so the
 * caller may release its memory without the heap lock. */
uint32_t beskid_gc__heap_take_resident(uint32_t max_pages, bool idle_only, gc_chunk **chunk,
                                       uintptr_t *addr);
/* Gives back a run from beskid_gc__heap_take_resident(): `released` when its memory went back to
 * the OS (the pages then read zero), false when that failed and they are still resident. */
void beskid_gc__heap_put_released(gc_chunk *c, uintptr_t addr, uint32_t npages, bool released);

/* Memory the heap holds from mimalloc: its chunks and the blocks the grower keeps ready
 * (heap_lock). */
static inline uint64_t beskid_gc__held_bytes(void) { return gc.committed_bytes + gc.stash_bytes; }

/* Gives up blocks the heap holds but uses for nothing (the grower's): their whole OS pages go
 * back to the OS and the blocks become spares (heap.c), or go back to mimalloc when their pages
 * could not be reset. Without the heap lock; an unattached caller outside a cycle step (the
 * grower) holds map_lock, which keeps a fork from copying mimalloc mid-call (fork.c). */
void beskid_gc__blocks_free(void **blocks, uint32_t n);
/* A spare block, taken out of the spares (its pages read zero and are not resident), or NULL
 * when there is none (heap_lock). */
void *beskid_gc__spare_take(void);
/* Keeps `block`, whose whole OS pages were just reset, as a spare; false when its record could
 * not be allocated (the caller then frees it to mimalloc). heap_lock. */
bool beskid_gc__spare_keep(void *block);

/* Makes resident the span table's OS pages that only the chunk a block will make uses; best
 * effort, without the heap lock, before the block is a chunk (heap.c). */
void beskid_gc__block_table_populate(void *block, size_t usable);

/* The whole OS pages inside a mimalloc block of `usable` bytes at `block`: [*first, *end). */
static inline void beskid_gc__block_os_pages(void *block, size_t usable, uintptr_t *first,
                                             uintptr_t *end) {
  uintptr_t page = (uintptr_t)beskid_os_page_size();
  *first = ((uintptr_t)block + page - 1) & ~(page - 1);
  *end = ((uintptr_t)block + usable) & ~(page - 1);
}

/* grow.c */
/* Starts the grower (not in manual mode); false when its thread cannot be made. */
bool beskid_gc__grower_start(void);
/* Stops and joins the grower, if it runs; its stash stays (heap.c frees it). */
void beskid_gc__grower_stop(void);
/* A ready chunk block from the stash, or NULL; wakes the grower to make more (heap_lock held).
 * The block is zero and resident; its bytes leave the stash's count. */
void *beskid_gc__grow_take(void);
/* Empties the stash into `out` (GC_GROW_STASH_MAX entries) and returns how many blocks it held,
 * for the caller to give back after the lock (beskid_gc__blocks_free; heap_lock held). */
uint32_t beskid_gc__grow_drop(void **out);

/* scavenge.c */
/* Gives the memory of free pages of idle chunks back to the OS until the heap keeps at most
 * `retain_bytes` resident (committed minus released) or `budget_bytes` have been released, then,
 * under a soft memory limit, of any chunk down to 95% of the limit; starts the next generation
 * (beskid_gc__heap_next_gen). Returns the bytes released. Called once a cycle; never holds the
 * heap lock while the OS works. */
uint64_t beskid_gc__scavenge(uint64_t retain_bytes, uint64_t budget_bytes);
/* The resident target after a cycle: the heap goal plus a tenth (Go's retained-heap goal), and
 * under a soft memory limit at most 95% of it. */
uint64_t beskid_gc__scavenge_target(void);

/* alloc.c */
/* Records why an allocation (of the heap or of the collector's own tables) failed: `requested`
 * bytes, with the heap's figures, for beskid_gc_last_failure(). */
void beskid_gc__record_failure(uint64_t requested);
void beskid_gc__release_caches(gc_thread *t);
void beskid_gc__cache_free(gc_thread *t, uint64_t *objects, uint64_t *bytes);
void beskid_gc__premark_caches(gc_thread *t);
void beskid_gc__caches_init(gc_thread *t);

/* thread.c */
extern
    __attribute__((tls_model("initial-exec"))) _Thread_local gc_thread *beskid_gc__current_thread;
/* The calling thread's context while it is attached and not in the native state, else NULL. */
extern
    __attribute__((tls_model("initial-exec"))) _Thread_local gc_thread *beskid_gc__running_thread;
static inline gc_thread *beskid_gc__thread_self(void) { return beskid_gc__current_thread; }
/* Reports (beskid_gc__fatal) a heap operation `what` made by `t` in the native state. */
void beskid_gc__require_running(gc_thread *t, const char *what);
void beskid_gc__threads_init(void);
void beskid_gc__threads_shutdown(void);
/* Stops the world; `wait` (may be NULL) receives how long that took. */
void beskid_gc__stop_world(gc_stop_wait *wait);
void beskid_gc__start_world(void);
void beskid_gc__detach_thread(gc_thread *t, bool exiting);
/* Detaches the calling thread without running the detach hook (shutdown). */
void beskid_gc__detach_quietly(void);
/* Hands over what only `t` holds (barrier buffer, cached spans, black bytes) to the collector;
 * `t` is at rest (its own thread, or stopped, or gone in the child of a fork). */
void beskid_gc__thread_retire(gc_thread *t);
void beskid_gc__threads_set_idle_poll(void);

/* mark.c */
void beskid_gc__mark_init(void);
void beskid_gc__mark_shutdown(void);
void beskid_gc__marker_init(gc_marker *m);
void beskid_gc__marker_flush(gc_marker *m);
void beskid_gc__shade(gc_marker *m, void *ptr);
bool beskid_gc__drain(gc_marker *m, uint64_t budget);
bool beskid_gc__work_available(void);
void beskid_gc__scan_thread_roots(gc_marker *m, gc_thread *t);
void beskid_gc__scan_global_roots(gc_marker *m);
/* With the world stopped: if grey entries were dropped (gc.mark_overflow), rescans every marked
 * object so that what they pointed to is grey again; returns whether it did. */
bool beskid_gc__mark_recover_overflow(gc_marker *m);

/* barrier.c */
void beskid_gc__flush_barrier_buffer(gc_thread *t);

/* sweep.c */
bool beskid_gc__sweep_some(void);
/* Takes up to `max` unswept spans of `ctr` (partly used ones first) into `out`; `ctr`'s lock
 * held. */
uint32_t beskid_gc__take_unswept(gc_central *ctr, gc_span **out, uint32_t max);
/* Claims and sweeps `n` spans taken from `ctr`, frees the empty ones and files the others in
 * one lock acquisition; with `keep`, the first one with a free slot is returned instead of
 * filed (NULL if none). */
gc_span *beskid_gc__sweep_taken(gc_central *ctr, gc_span **spans, uint32_t n, bool keep);
void beskid_gc__finish_sweep(void);

/* roots.c */
void beskid_gc__roots_shutdown(void);
void beskid_gc__for_each_handle(void (*fn)(void *object, void *context), void *context);

/* debug.c (the world must be stopped for the *_stopped functions) */
uint64_t beskid_gc__verify_stopped(const char *when);
uint64_t beskid_gc__verify_heap(const char *when);
void beskid_gc__verify_or_die(const char *when, bool world_stopped);
void beskid_gc__checkmark_stopped(void);

/* pacer.c */
void beskid_gc__maybe_trigger(gc_thread *t);
/* Pays for `bytes` allocated while marking: with the workers' credit, then by marking, and past
 * the goal with no grey work to take by waiting for credit, at most GC_ASSIST_WAIT_MAX_NS at a
 * time in the native state (so the caller must hold no object outside its roots). */
void beskid_gc__assist(gc_thread *t, uint64_t bytes);
#define GC_ASSIST_WAIT_MAX_NS UINT64_C(1000000)
/* Sets the heap goal and trigger for a heap with `live` bytes live. */
void beskid_gc__pacer_set_goal(uint64_t live);
/* A cycle begins (before its first pause): returns the heap's bytes, which assists measure from. */
uint64_t beskid_gc__pacer_cycle_begin(void);
/* In the first pause: this cycle's scan work and background credit start from zero. */
void beskid_gc__pacer_mark_start(void);
/* In mark termination: learns this cycle's allocation during marking and its scan work. */
void beskid_gc__pacer_mark_done(uint64_t heap_after_mark);
/* At a cycle's end (driver only): learns how many CPUs the program's own threads kept busy since
 * the last cycle's end, from the process's CPU time less the collector's: `collector_cpu_ns`
 * spent by the cycle's driver and mark helpers, and the grower's. */
void beskid_gc__pacer_observe_mutators(uint64_t collector_cpu_ns);

/* stats.c */
void beskid_gc__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void beskid_gc__fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void beskid_gc__stats_init(void);
/* Records one stop-the-world pause of the cycle in progress (the cycle's driver only). */
void beskid_gc__record_pause(uint64_t ns, const gc_stop_wait *wait);
/* Adds one stopped thread's stall, parked to running again (any thread). */
void beskid_gc__record_stall(uint64_t ns);
/* Adds the completed cycle gc.cycle to the statistics, all at once. */
void beskid_gc__publish_cycle(uint64_t cpu_ns);
void beskid_gc__trace_cycle(void);

/* collector.c */
void beskid_gc__collect_for_oom(gc_thread *t);
/* The process-wide lock that serialises init, shutdown, attach and fork. */
void beskid_gc__lifecycle_lock(void);
void beskid_gc__lifecycle_unlock(void);
/* Starts the background collector thread unless the collector runs in manual mode; false when
 * the thread cannot be created. */
bool beskid_gc__collector_start(void);

/* ttsp.c */
/* Zeroes [start, start + size) in the native state, so that no stop waits for it; the range must
 * be invisible to the collector (a span not published yet), no lock held and the thread's roots
 * and caches left alone meanwhile. */
void beskid_gc__clear_bounded(gc_thread *t, void *start, uint64_t size);

/* pacer_model.c — pure functions; the model and its formulas are at the top of that file. */
typedef struct gc_pacer_inputs {
  uint64_t live;            /* bytes the last cycle found live */
  uint64_t last_scan_work;  /* bytes the last cycle scanned */
  uint64_t last_mark_alloc; /* bytes allocated during the last mark */
  uint64_t scan_per_byte;   /* gc_pacer_rates, smoothed */
  uint64_t mark_speed;
  uint64_t alloc_rate;
  int32_t gogc;
  uint64_t memory_limit; /* 0: none */
  uint64_t heap_max;     /* 0: none */
  uint32_t cpus;
  uint32_t pool_workers; /* mark workers the pool has (the driver included) */
  uint32_t mutators;     /* CPUs the program's threads keep busy (0: none, or unknown) */
  bool fixed_workers;    /* the count was configured: use them all, every cycle */
} gc_pacer_inputs;

typedef struct gc_pacer_plan {
  uint64_t goal;           /* UINT64_MAX: none */
  uint64_t trigger;        /* UINT64_MAX: never */
  uint32_t workers;        /* mark workers for the next mark (the driver included) */
  uint64_t expected_work;  /* scan work the next mark is expected to do */
  uint64_t expected_alloc; /* bytes expected to be allocated while it marks */
  bool learned;            /* the trigger came from measured rates, not the fallback */
} gc_pacer_plan;

uint64_t beskid_gc__pacer_goal(uint64_t live, int32_t gogc, uint64_t limit, uint64_t cap);
/* The heap size a soft memory limit allows on its own: limit − headroom (UINT64_MAX: no limit,
 * 0: a limit smaller than its headroom). */
uint64_t beskid_gc__pacer_limit_goal(uint64_t limit);
/* A thread's bucket of time paid at the memory limit: `spent` drained by half of `elapsed_ns`
 * of wall time since it was last brought up to date, plus `paid_ns` paid meanwhile. */
uint64_t beskid_gc__pacer_limit_spent(uint64_t spent, uint64_t elapsed_ns, uint64_t paid_ns);
/* How long one wait at the memory limit may last with `spent` in the bucket (0: none; the
 * thread pays as outside the limit). */
uint64_t beskid_gc__pacer_limit_allowance(uint64_t spent);
uint32_t beskid_gc__pacer_dedicated_workers(uint32_t cpus);
/* The most mark workers a plan may use: the dedicated ones, or as many as the CPUs the
 * mutators' `mutators` busy CPUs leave idle (0: none busy, the whole pool), within the pool. */
uint32_t beskid_gc__pacer_worker_bound(uint32_t cpus, uint32_t mutators, uint32_t dedicated,
                                       uint32_t pool);
/* CPUs kept busy by threads that used `cpu_ns` of CPU time in `wall_ns`: the average, rounded
 * up once its fraction passes a quarter of a CPU (0 when `wall_ns` is 0). */
uint32_t beskid_gc__pacer_busy_cpus(uint64_t cpu_ns, uint64_t wall_ns);
/* The smoothed rate after `sample` (0: no sample, the rate stays). */
uint64_t beskid_gc__pacer_smooth(uint64_t old, uint64_t sample);
/* Folds one cycle's measurements into `rates` (any 0 figure leaves its rate alone). */
void beskid_gc__pacer_observe(gc_pacer_rates *rates, uint64_t live, uint64_t scan_work,
                              uint64_t mark_alloc, uint64_t mark_wall_ns, uint64_t worker_scan,
                              uint64_t worker_cpu_ns);
void beskid_gc__pacer_plan(const gc_pacer_inputs *in, gc_pacer_plan *out);
/* Scan work owed per byte allocated while marking, fixed point 1/256 (`limit_goal`: the soft
 * limit's own goal, UINT64_MAX without a limit). */
uint64_t beskid_gc__pacer_assist_ratio(uint64_t expected_work, uint64_t scanned, uint64_t heap,
                                       uint64_t goal, uint64_t heap_at_start, uint64_t limit_goal);

/* mark_workers.c */
/* The pool's size: the configured count, else one worker per CPU (at most 8); the pacer picks
 * how many of them each mark uses. */
uint32_t beskid_gc__mark_workers_pool(void);
bool beskid_gc__mark_workers_fixed(void);
/* Marks with `workers` workers (the caller is one of them, with marker `m`) until no grey work is
 * left in the pool, in any worker or in any assist; returns with the helpers idle again. */
void beskid_gc__mark_workers_run(gc_marker *m, uint32_t workers);
/* Scan work and CPU time the workers spent in the runs since the last call. */
void beskid_gc__mark_workers_take_totals(uint64_t *scanned, uint64_t *cpu_ns);
/* CPU time the helper threads (not the driver) spent in the runs since the last call. */
uint64_t beskid_gc__mark_workers_take_helper_cpu(void);
/* Ends the helper threads (teardown). */
void beskid_gc__mark_workers_shutdown(void);

/* fork.c */
/* Registers the collector's fork handlers with the platform (once per process). */
void beskid_gc__fork_register(void);

/* ------------------------------------------------------------------------------------------ */
/* Sweep generations: the one statement of the rules (see gc_span and gc_span_list above).   */

/* A span's sweepgen relative to the global `sg`: sg - 2 unswept, sg - 1 being swept, sg swept. */
static inline uint32_t gc_sweepgen_unswept(uint32_t sg) { return sg - 2; }
static inline uint32_t gc_sweepgen_sweeping(uint32_t sg) { return sg - 1; }

/* Which list set of a central holds swept spans at global `sg`, and which unswept ones. */
static inline uint32_t gc_swept_set(uint32_t sg) { return (sg / 2) % 2; }
static inline uint32_t gc_unswept_set(uint32_t sg) { return 1 - gc_swept_set(sg); }

/* Files the swept span `s` in the swept set `set` of `ctr` (the caller holds ctr->lock): in the
 * partial list when it has a free slot, else in the full list. */
static inline void gc_central_file(gc_central *ctr, gc_span *s, uint32_t set, bool has_free) {
  if (has_free) {
    beskid_gc__list_push(&ctr->partial[set], s,
                         (uint8_t)(set ? GC_LIST_PARTIAL_1 : GC_LIST_PARTIAL_0));
  } else {
    beskid_gc__list_push(&ctr->full[set], s, (uint8_t)(set ? GC_LIST_FULL_1 : GC_LIST_FULL_0));
  }
}

#endif /* BESKID_GC_INTERNAL_H */
