/* grow.c — growing the heap ahead of need: a background thread, the grower, keeps a few chunks'
 * memory taken from mimalloc, zeroed and resident, so that an allocation that needs a new chunk
 * takes one that is ready instead of faulting its pages in one by one, and zeroing them, on the
 * mutator's own path.
 *
 * Why: a heap growing towards its goal hands out fresh memory, and every OS page of it costs a
 * page fault at its first touch, inside the slot zeroing of the allocation slow path (the
 * latency probe: a third of its time in the kernel's fault path, another third in memset, every
 * page of its 1.5 GB heap faulted once). Populating a chunk in one call (beskid_os_vm_populate)
 * costs the kernel a fraction of faulting the same pages one at a time (1.4 us a page against
 * 14-23 us on this project's virtual machines), and here it happens on another CPU. On those
 * machines the first access from user space to a populated page costs another 4.3 us, once for
 * all threads; beskid_os_vm_populate pays it too, so the mutator finds stashed pages ready
 * (latency probe: batch median 0.69-0.70 ms before, 0.38-0.50 ms after). When the
 * grower could not keep up, the allocating thread populates each new span itself (heap.c). A
 * stashed chunk is also zero, so its spans skip the slot zeroing.
 *
 * How:
 * - beskid_gc__span_alloc(), finding no free pages, takes a ready block from the stash
 *   (beskid_gc__grow_take) before it asks mimalloc itself, and either way wakes the grower: the
 *   heap is growing;
 * - the grower takes a spare block of the heap's (heap.c: a chunk-sized block given up earlier,
 *   reading zero), or else allocates a chunk-sized block with its own mimalloc heap in the arena
 *   and resets its pages (whatever they held, they read zero then), populates them and the
 *   chunk's part of the span table (heap.c) and puts the block in the stash, until the stash
 *   holds its target: 1/32 of the committed heap, from one chunk to GC_GROW_STASH_MAX;
 * - a heap that stops growing stops taking: the stash then holds at most its target, counted in
 *   the committed bytes; when the heap shrinks (beskid_gc__heap_scavenge finds it above what it
 *   keeps) the stash is given up with the empty chunks, its blocks kept as spares.
 *
 * Choices measured (binary-trees 21 and the latency probe, a mutator and a mark worker on two
 * CPUs; bench/RESULTS.md, "the grower"):
 * - the grower runs at background priority (beskid_os_thread_set_background): it uses a CPU the
 *   program leaves idle, and gives it up at once when a thread of the program wakes. At normal
 *   priority it was a third thread competing for two CPUs, and the mutator lost time slices to
 *   it: stops waited 3.4-3.7 ms for the mutator to reach its safepoint;
 * - it populates 64 KiB per call: the kernel holds the address space's lock for reading across
 *   a call, and a thread of the program that changes a mapping meanwhile (mimalloc committing
 *   memory) waits for the whole call, for longer when the grower loses its CPU inside it. A
 *   chunk per call made stops wait 2.0-2.7 ms; 64 KiB per call, at most 190 us;
 * - it does no work while a mark keeps every CPU busy (the mutators and the mark workers at
 *   least as many as the CPUs): it would only wait for a CPU there, possibly holding up a thread
 *   of the program in the kernel meanwhile;
 * - background priority is not enough: the scheduler of the kernel we measured on (EEVDF,
 *   Linux 6.18) still gave the grower the CPU of a running mutator at a tick, for up to the
 *   next tick (1.5-4 ms), often with the other CPU idle, and a stop waited that long for the
 *   mutator (parallel binary-trees 18 2: TTSP 2.2-4.7 ms in every run). So it sleeps through
 *   every stop of the world, and before each step it looks for a running mutator that last
 *   took a span on its CPU (each notes its CPU as it takes a span) and naps GC_GROW_NAP_NS
 *   while there is one. Such waits fell from 16-48 ms a run, 4 ms at most, to 2-3 ms a run,
 *   0.24 ms at most (bench/RESULTS.md, "The grower took the mutators' CPU");
 * - nor does the scheduler move a mutator that waits for its own CPU (another process took it)
 *   onto the CPU the grower holds: a CPU running a background thread does not count as idle for
 *   that. The latency probe's mutator waited 16 ms behind the kernel's kdamond while the grower
 *   populated on the other CPU. So before each step the grower also reads the CPU clock of each
 *   running mutator (exact, unlike /proc's figures) and, when one got less than half the CPU
 *   time the wall time since the last reading allows (over at least GC_GROW_WATCH_NS), leaves
 *   its CPU idle for GC_GROW_YIELD_NS: the scheduler moves a waiting thread to an idle CPU at
 *   the busy CPU's next tick (waits behind kdamond then ended within 4 ms). A step that the
 *   hypervisor holds up (the first touches of new memory, up to tens of milliseconds on this
 *   project's machines) still runs to its end. With as many running mutators as CPUs the
 *   grower does not work at all. The clocks are read without threads_lock: a mutator parking at
 *   a safepoint takes that lock, and the grower may lose its CPU at any moment (stops waited up
 *   to 8.5 ms while a first version held the lock across the reads; bench/RESULTS.md, "A
 *   mutator behind kdamond");
 * - it zeroes by resetting, not by writing: mimalloc's zeroing of a reused block faulted its pages
 *   in one at a time on the grower (system time 2.4-3.1 s in the latency probe, 0.8-1.0 s now).
 *
 * Invariants:
 * - a stashed block is zero in all its whole OS pages, where a chunk's pages lie, and nothing
 *   points into it; a chunk made of one starts with clean pages;
 * - the stash and the grower's flags are written under gc.heap_lock and read under it (the stop
 *   flag also without it, while the grower waits for a CPU); the grower calls mimalloc under
 *   gc.map_lock and never under the heap lock (fork.c);
 * - the grower adds a block only while the committed heap plus the stash plus that block stay
 *   under the hard cap and under 95% of the soft memory limit (the scavenger's forced target),
 *   checked under the lock as it adds it; the heap grows past that sum only through the stash
 *   (which leaves the sum as it is) or with the stash empty, so the stash never holds memory a
 *   limit needs for the heap;
 * - one grower at a time: started with the background collector (not in manual mode) and
 *   stopped and joined before the heap shuts down. A fork child has no grower (its parent's did
 *   not come with it: fork.c starts a new one); a block the parent's grower was populating at
 *   the fork is lost to the child. */
#include "internal.h"
#include "mimalloc.h"

/* Bytes of a chunk's block: what beskid_gc__span_alloc() asks mimalloc for (heap.c). */
#define GC_GROW_BLOCK_BYTES ((size_t)GC_CHUNK_PAGES * GC_PAGE_SIZE + GC_PAGE_SIZE)

/* Bytes populated per call (the top of this file). */
#define GC_GROW_POPULATE_STEP ((uintptr_t)64 << 10)

/* How long the grower naps when it finds itself on the CPU of a thread of the program. */
#define GC_GROW_NAP_NS UINT64_C(50000)

/* The shortest window over which the grower judges whether a running thread of the program gets
 * its CPU time, how long it leaves its CPU idle when one does not, and how many running threads
 * it watches at most (the clock reads per step stay bounded on a machine with many CPUs). */
#define GC_GROW_WATCH_NS  UINT64_C(100000)
#define GC_GROW_YIELD_NS  UINT64_C(1000000)
#define GC_GROW_WATCH_MAX 16u

/* How many blocks the stash aims to hold (heap_lock): 1/32 of the committed heap, so that a
 * small program keeps one ready chunk and a large one (from 128 MiB) GC_GROW_STASH_MAX. With an
 * eighth, binary-trees 18 (a 60-80 MB heap) peaked at 73-85 MB resident; with 1/32, 67-80 MB;
 * without a grower, 66-70 MB. */
static uint32_t stash_target(void) {
  uint64_t chunks = gc.committed_bytes / 32 / GC_GROW_BLOCK_BYTES;
  if (chunks < 1) return 1;
  return chunks > GC_GROW_STASH_MAX ? GC_GROW_STASH_MAX : (uint32_t)chunks;
}

/* Whether a block of `bytes` may be stashed under the target, the cap and the soft limit
 * (heap_lock). */
static bool room_for_block(uint64_t bytes) {
  if (gc.stash_count >= stash_target()) return false;
  uint64_t after = beskid_gc__held_bytes() + bytes;
  uint64_t cap = atomic_load_explicit(&gc.pacer.heap_max, memory_order_relaxed);
  uint64_t limit = atomic_load_explicit(&gc.pacer.memory_limit, memory_order_relaxed);
  if (cap != 0 && after > cap) return false;
  return limit == 0 || after <= limit / 100 * 95;
}

/* Whether the grower may work now: not while a mark keeps every CPU busy with the program's
 * threads and the mark workers (the top of this file). */
static bool cpu_to_spare(void) {
  if (atomic_load_explicit(&gc.phase, memory_order_relaxed) != BESKID_GC_PHASE_MARKING) return true;
  uint32_t busy = atomic_load_explicit(&gc.pacer.mutators, memory_order_relaxed) +
                  atomic_load_explicit(&gc.pacer.workers_planned, memory_order_relaxed);
  return busy < gc.pacer.cpus;
}

/* Sleeps while the world is being stopped or is stopped. The request is read relaxed first: a
 * hint, seen at the latest one step later; the wait itself reads it seq_cst under threads_lock,
 * as a parked thread does, so the restart's broadcast is not missed. The grower holds no other
 * lock here, and threads_lock is the last in the lock order (fork.c). */
static void sit_out_stop(void) {
  if (!atomic_load_explicit(&gc.stop_requested, memory_order_relaxed)) return;
  beskid_os_mutex_lock(&gc.threads_lock);
  while (atomic_load(&gc.stop_requested)) beskid_os_cond_wait(&gc.threads_cond, &gc.threads_lock);
  beskid_os_mutex_unlock(&gc.threads_lock);
}

/* How the grower's CPU may be a thread of the program's (the top of this file). */
typedef enum grow_verdict {
  GROW_GO,      /* no thread of the program needs this CPU: take a step */
  GROW_SHARED,  /* a running thread last took a span on this CPU: nap */
  GROW_STARVED, /* a running thread got less than its share of a CPU: leave this one idle */
  GROW_CROWDED, /* as many threads run managed code as there are CPUs: none to spare */
} grow_verdict;

/* A running thread of the program the grower watches: its CPU clock when last read. The
 * grower's own (no lock); `who` identifies the thread and is never followed, as the thread may
 * have detached since. */
typedef struct grow_watch {
  const gc_thread *who;
  beskid_os_cpu_clock_t clock;
  uint64_t seen_ns;     /* when the clock was read (0: not yet) */
  uint64_t seen_cpu_ns; /* what it read */
} grow_watch;

static grow_watch watched[GC_GROW_WATCH_MAX];
static uint32_t watched_count;

/* Whether the watched thread got less than half the CPU time the wall time since the clock was
 * last read would allow, over at least GC_GROW_WATCH_NS: then it waits for a CPU (or is held up
 * in the kernel). A thread's CPU clock is exact even while it runs on another CPU (the kernel
 * adds the slice under way), unlike /proc's figures, which lag by up to a tick. A clock that
 * cannot be read (the thread exited) says nothing. */
static bool starved(grow_watch *w, uint64_t now) {
  uint64_t cpu_ns;
  if (beskid_os_cpu_clock_ns(w->clock, &cpu_ns) != BESKID_OK) return false;
  if (w->seen_ns == 0 || cpu_ns < w->seen_cpu_ns) { /* a first look, or another thread's clock */
    w->seen_ns = now;
    w->seen_cpu_ns = cpu_ns;
    return false;
  }
  uint64_t wall = now - w->seen_ns;
  if (wall < GC_GROW_WATCH_NS) return false; /* too short to tell: the window keeps growing */
  bool behind = (cpu_ns - w->seen_cpu_ns) * 2 < wall;
  w->seen_ns = now;
  w->seen_cpu_ns = cpu_ns;
  return behind;
}

/* Looks at the threads running managed code. Under threads_lock (threads detach and free their
 * entries) only long enough to copy who runs, with relaxed loads of their state and CPU: hints,
 * and a wrong answer costs a nap or a step. The lock is not held across the clock reads (system
 * calls): a thread of the program that wants it, to park at a safepoint, would otherwise wait
 * for the grower, which at background priority may have lost its CPU meanwhile. At most
 * GC_GROW_WATCH_MAX clocks are read a step. */
static grow_verdict look_at_mutators(void) {
  uint32_t cpu = beskid_os_current_cpu();
  grow_watch running[GC_GROW_WATCH_MAX];
  uint32_t count = 0, mutators = 0;
  grow_verdict verdict = GROW_GO;
  beskid_os_mutex_lock(&gc.threads_lock);
  for (gc_thread *t = gc.threads; t != NULL && verdict == GROW_GO; t = t->next) {
    if (atomic_load_explicit(&t->state, memory_order_relaxed) != GC_THREAD_RUNNING) continue;
    if (++mutators >= gc.pacer.cpus) {
      verdict = GROW_CROWDED;
    } else if (cpu != BESKID_OS_CPU_UNKNOWN &&
               atomic_load_explicit(&t->cpu, memory_order_relaxed) == cpu) {
      verdict = GROW_SHARED;
    } else if (t->has_cpu_clock && count < GC_GROW_WATCH_MAX) {
      running[count++] = (grow_watch){.who = t, .clock = t->cpu_clock};
    }
  }
  beskid_os_mutex_unlock(&gc.threads_lock);
  if (verdict != GROW_GO) return verdict;
  /* Carry each thread's last reading over; a thread not running now starts afresh next time. */
  uint64_t now = beskid_os_monotonic_ns();
  for (uint32_t i = 0; i < count; i++) {
    for (uint32_t j = 0; j < watched_count; j++) {
      if (watched[j].who == running[i].who) {
        running[i].seen_ns = watched[j].seen_ns;
        running[i].seen_cpu_ns = watched[j].seen_cpu_ns;
      }
    }
    if (starved(&running[i], now)) verdict = GROW_STARVED;
  }
  for (uint32_t i = 0; i < count; i++) watched[i] = running[i];
  watched_count = count;
  return verdict;
}

/* Waits until the grower may take a step; false when it is being stopped. It may not while the
 * world is stopped, while a mark keeps every CPU busy, while the threads running managed code
 * fill every CPU (a millisecond at a time), while it is on the CPU of one of them
 * (GC_GROW_NAP_NS at a time) or while one of them gets less than its share of a CPU
 * (GC_GROW_YIELD_NS at a time; the top of this file). Without the heap lock, which a mutator
 * would otherwise find taken now and then for nothing; relaxed: a stop of the grower seen a
 * millisecond late costs only that millisecond. */
static bool wait_for_spare_cpu(void) {
  for (;;) {
    if (atomic_load_explicit(&gc.grow_stopping, memory_order_relaxed)) return false;
    sit_out_stop();
    grow_verdict verdict = cpu_to_spare() ? look_at_mutators() : GROW_CROWDED;
    switch (verdict) {
    case GROW_GO:
      return true;
    case GROW_SHARED:
      beskid_os_sleep_ns(GC_GROW_NAP_NS);
      break;
    case GROW_STARVED:
      beskid_os_sleep_ns(GC_GROW_YIELD_NS);
      break;
    case GROW_CROWDED:
      beskid_os_sleep_ns(1000000);
      break;
    }
  }
}

/* A block whose whole OS pages (where a chunk's pages lie) are zero and populated: a spare of
 * the heap's (heap.c), else one from the grower's heap; NULL when the arena has no room, the OS
 * would not reset it or the grower is being stopped. */
static void *ready_block(mi_heap_t *heap) {
  if (!wait_for_spare_cpu()) return NULL;
  beskid_os_mutex_lock(&gc.heap_lock);
  void *block = beskid_gc__spare_take();
  beskid_os_mutex_unlock(&gc.heap_lock);
  bool spare = block != NULL;
  beskid_os_mutex_lock(&gc.map_lock);
  if (!spare) block = mi_heap_malloc(heap, GC_GROW_BLOCK_BYTES);
  size_t usable = block != NULL ? mi_usable_size(block) : 0;
  beskid_os_mutex_unlock(&gc.map_lock);
  if (block == NULL) return NULL;
  uintptr_t first, end;
  beskid_gc__block_os_pages(block, usable, &first, &end);
  /* Zero by resetting, not by writing: memory mimalloc had handed out before may hold anything,
   * and a reset makes it read zero whatever it held (memory fresh from the OS is untouched by
   * it), so the populate below is the only pass over the pages and it is the kernel's. A spare
   * reads zero already. */
  if (!spare && beskid_os_vm_reset((void *)first, (size_t)(end - first)) != BESKID_OK) {
    beskid_os_mutex_lock(&gc.map_lock);
    mi_free(block);
    beskid_os_mutex_unlock(&gc.map_lock);
    return NULL;
  }
  /* Best effort: a block the OS could not populate is still zero, and faults as it is used. */
  for (uintptr_t p = first; p < end && wait_for_spare_cpu(); p += GC_GROW_POPULATE_STEP) {
    size_t n = end - p < GC_GROW_POPULATE_STEP ? (size_t)(end - p) : GC_GROW_POPULATE_STEP;
    if (beskid_os_vm_populate((void *)p, n) != BESKID_OK) break;
  }
  if (wait_for_spare_cpu()) beskid_gc__block_table_populate(block, usable);
  return block;
}

static void *grower_main(void *arg) {
  (void)arg;
  (void)beskid_os_thread_set_background(); /* spare CPU time only (the top of this file) */
  beskid_os_mutex_lock(&gc.map_lock);
  mi_heap_t *heap = mi_heap_new_in_arena(gc.arena_id);
  beskid_os_mutex_unlock(&gc.map_lock);
  beskid_os_mutex_lock(&gc.heap_lock);
  gc.grower_ready = true;
  beskid_os_cond_broadcast(&gc.grow_cond);
  while (!gc.grow_stopping) {
    if (heap == NULL || !gc.grow_wanted || !room_for_block(GC_GROW_BLOCK_BYTES)) {
      gc.grow_wanted = false; /* full (or cannot grow): the next need asks again */
      watched_count = 0;      /* and the CPU readings start afresh then */
      beskid_os_cond_wait(&gc.grow_cond, &gc.heap_lock);
      continue;
    }
    beskid_os_mutex_unlock(&gc.heap_lock);
    uint64_t cpu0 = beskid_os_thread_cpu_ns();
    void *block = ready_block(heap);
    /* Relaxed: a sum the driver reads once a cycle (pacer.c); a step seen a cycle late is the
     * same step. */
    atomic_fetch_add_explicit(&gc.grow_cpu_ns, beskid_os_thread_cpu_ns() - cpu0,
                              memory_order_relaxed);
    beskid_os_mutex_lock(&gc.heap_lock);
    if (block == NULL) {
      gc.grow_wanted = false; /* the arena is full: allocation finds out for itself */
      continue;
    }
    /* Checked again: the heap may have grown (or a limit come down) meanwhile. */
    if (gc.grow_stopping || !room_for_block(mi_usable_size(block))) {
      beskid_os_mutex_unlock(&gc.heap_lock);
      beskid_os_mutex_lock(&gc.map_lock);
      beskid_gc__blocks_free(&block, 1);
      beskid_os_mutex_unlock(&gc.map_lock);
      beskid_os_mutex_lock(&gc.heap_lock);
      continue;
    }
    gc.stash[gc.stash_count++] = block;
    gc.stash_bytes += mi_usable_size(block);
    gc.stash_made++;
  }
  beskid_os_mutex_unlock(&gc.heap_lock);
  /* Blocks it made that are still in use move to this thread's default heap (mimalloc frees
   * them from whichever thread gives them back). */
  if (heap != NULL) {
    beskid_os_mutex_lock(&gc.map_lock);
    mi_heap_delete(heap);
    beskid_os_mutex_unlock(&gc.map_lock);
  }
  return NULL;
}

bool beskid_gc__grower_start(void) {
  if (gc.config.debug_flags & BESKID_GC_DEBUG_MANUAL) return true;
  gc.grow_stopping = false;
  gc.grow_wanted = false;
  gc.grower_ready = false;
  watched_count = 0; /* a fork child's grower watches threads of its own */
  if (beskid_os_thread_create(&gc.grower, grower_main, NULL, "beskid-grow") != BESKID_OK) {
    return false;
  }
  gc.grower_running = true;
  /* The caller holds the lifecycle lock: waiting here until the grower has made its mimalloc heap
   * orders that first use of mimalloc in the thread before any attach that follows, as every
   * attaching thread makes its heap under that lock (thread.c). mimalloc gives a new thread the
   * memory of an exited thread's data, and being uninstrumented, shows ThreadSanitizer that
   * hand-off only through such an order (a grower making its heap later raced a mutator's exit
   * in the reports). */
  beskid_os_mutex_lock(&gc.heap_lock);
  while (!gc.grower_ready) beskid_os_cond_wait(&gc.grow_cond, &gc.heap_lock);
  beskid_os_mutex_unlock(&gc.heap_lock);
  return true;
}

void beskid_gc__grower_stop(void) {
  if (!gc.grower_running) return;
  beskid_os_mutex_lock(&gc.heap_lock);
  gc.grow_stopping = true;
  beskid_os_cond_broadcast(&gc.grow_cond);
  beskid_os_mutex_unlock(&gc.heap_lock);
  beskid_os_thread_join(&gc.grower, NULL);
  gc.grower_running = false;
}

void *beskid_gc__grow_take(void) {
  void *block = NULL;
  if (gc.stash_count != 0) {
    block = gc.stash[--gc.stash_count];
    gc.stash_bytes -= mi_usable_size(block);
  }
  if (gc.grower_running && !gc.grow_wanted) {
    gc.grow_wanted = true;
    beskid_os_cond_broadcast(&gc.grow_cond);
  }
  return block;
}

uint32_t beskid_gc__grow_drop(void **out) {
  uint32_t n = gc.stash_count;
  for (uint32_t i = 0; i < n; i++) out[i] = gc.stash[i];
  gc.stash_count = 0;
  gc.stash_bytes = 0;
  return n;
}
