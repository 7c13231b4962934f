/* stats.c — what the collector tells the outside: its log and fatal reports, the per-cycle
 * record, the statistics (with the ring of recent pauses their percentiles come from) and the
 * trace line.
 *
 * Invariant: a reader of the statistics sees whole cycles only (CONSISTENCY below). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define GC_PAUSE_RING 4096u

static uint64_t pause_ring[GC_PAUSE_RING]; /* recent pauses, for exact percentiles */
static uint64_t pause_ring_next;

void beskid_gc__stats_init(void) { pause_ring_next = 0; }

/* ------------------------------------------------------------------------------------------ */
/* Logging */

void beskid_gc__fatal(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (gc.config.fatal != NULL) gc.config.fatal(line, gc.config.log_context);
  beskid_gc__log("%s", line);
  beskid_os_abort();
}

void beskid_gc__log(const char *fmt, ...) {
  beskid_gc_log_fn log = gc.config.log;
  if (log == NULL) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  log(line, gc.config.log_context);
}

/* ------------------------------------------------------------------------------------------ */
/* Statistics */

/* CONSISTENCY. Every per-cycle figure of beskid_gc_stats_t (cycles, forced cycles, live bytes
 * and objects, the pauses, their histogram and percentiles, times to safepoint, mark, sweep and
 * CPU time) is gathered in `gc.cycle` while the cycle runs and added to gc.stats in one critical
 * section of gc.stats_lock when the cycle completes (beskid_gc__publish_cycle). A reader copies
 * gc.stats under the same lock, so it sees whole cycles only: never a cycle's pause without the
 * cycle (a reader between the last pause and the end of the sweep once saw pause_count 7 with
 * cycles 6 in stop-the-world mode, where each cycle has exactly one pause). The running
 * counters (heap bytes and objects, totals allocated and freed, committed bytes, goal,
 * trigger) are read as they are at the moment of the call. */

/* Records one stop-the-world pause of the cycle in progress (the cycle's driver only). */
void beskid_gc__record_pause(uint64_t ns, const gc_stop_wait *wait) {
  if (gc.cycle.pause_count < GC_CYCLE_PAUSES) gc.cycle.pauses[gc.cycle.pause_count] = ns;
  gc.cycle.pause_count++;
  gc.cycle.pause_total_ns += ns;
  if (ns > gc.cycle.pause_max_ns) gc.cycle.pause_max_ns = ns;
  unsigned bucket = ns == 0 ? 0 : 63u - (unsigned)__builtin_clzll(ns);
  if (bucket >= BESKID_GC_PAUSE_BUCKETS) bucket = BESKID_GC_PAUSE_BUCKETS - 1;
  gc.cycle.pause_histogram[bucket]++;
  gc.cycle.ttsp_total_ns += wait->ttsp_ns;
  if (wait->ttsp_ns > gc.cycle.ttsp_max_ns) gc.cycle.ttsp_max_ns = wait->ttsp_ns;
  if (wait->running_ns > gc.cycle.ttsp_running_max_ns) {
    gc.cycle.ttsp_running_max_ns = wait->running_ns;
  }
}

/* Adds one thread's stall (thread.c) to the statistics. Relaxed: three independent counters; a
 * reader may see one stall's count without its time, which statistics tolerate. */
void beskid_gc__record_stall(uint64_t ns) {
  atomic_fetch_add_explicit(&gc.stall_count, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&gc.stall_total_ns, ns, memory_order_relaxed);
  uint64_t max = atomic_load_explicit(&gc.stall_max_ns, memory_order_relaxed);
  while (ns > max && !atomic_compare_exchange_weak_explicit(
                         &gc.stall_max_ns, &max, ns, memory_order_relaxed, memory_order_relaxed)) {
  }
}

/* Adds the completed cycle `gc.cycle` to the statistics, all at once (see CONSISTENCY). */
void beskid_gc__publish_cycle(uint64_t cpu_ns) {
  beskid_os_mutex_lock(&gc.stats_lock);
  beskid_gc_stats_t *st = &gc.stats;
  st->cycles++;
  if (gc.cycle.forced) st->forced_cycles++;
  st->live_bytes = gc.cycle.live;
  st->live_objects = gc.cycle.live_objects;
  st->pause_count += gc.cycle.pause_count;
  st->pause_total_ns += gc.cycle.pause_total_ns;
  if (gc.cycle.pause_max_ns > st->pause_max_ns) st->pause_max_ns = gc.cycle.pause_max_ns;
  for (unsigned i = 0; i < BESKID_GC_PAUSE_BUCKETS; i++) {
    st->pause_histogram[i] += gc.cycle.pause_histogram[i];
  }
  st->ttsp_total_ns += gc.cycle.ttsp_total_ns;
  if (gc.cycle.ttsp_max_ns > st->ttsp_max_ns) st->ttsp_max_ns = gc.cycle.ttsp_max_ns;
  if (gc.cycle.ttsp_running_max_ns > st->ttsp_running_max_ns) {
    st->ttsp_running_max_ns = gc.cycle.ttsp_running_max_ns;
  }
  uint64_t kept = gc.cycle.pause_count < GC_CYCLE_PAUSES ? gc.cycle.pause_count : GC_CYCLE_PAUSES;
  for (uint64_t i = 0; i < kept; i++)
    pause_ring[pause_ring_next++ % GC_PAUSE_RING] = gc.cycle.pauses[i];
  st->mark_ns += gc.cycle.mark_ns;
  st->sweep_ns += gc.cycle.sweep_ns;
  st->gc_cpu_ns += cpu_ns;
  beskid_os_mutex_unlock(&gc.stats_lock);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

void beskid_gc_read_stats(beskid_gc_stats_t *out) {
  memset(out, 0, sizeof *out);
  if (!gc.initialized) return;
  static uint64_t sorted[GC_PAUSE_RING];
  beskid_os_mutex_lock(&gc.stats_lock);
  *out = gc.stats;
  uint64_t n = pause_ring_next;
  if (n > GC_PAUSE_RING) n = GC_PAUSE_RING;
  memcpy(sorted, pause_ring, n * sizeof sorted[0]);
  qsort(sorted, n, sizeof sorted[0], cmp_u64);
  if (n > 0) {
    out->pause_p50_ns = sorted[(n - 1) / 2];
    out->pause_p99_ns = sorted[(n * 99 + 99) / 100 - 1];
  }
  beskid_os_mutex_unlock(&gc.stats_lock);
  out->heap_goal = atomic_load(&gc.pacer.goal);
  out->heap_trigger = atomic_load(&gc.pacer.trigger);
  out->heap_bytes = atomic_load(&gc.heap_bytes);
  out->heap_objects = atomic_load(&gc.heap_objects);
  beskid_os_mutex_lock(&gc.heap_lock);
  /* Spare blocks are held from mimalloc and hold no memory: committed and released both. */
  out->committed_bytes = beskid_gc__held_bytes() + gc.spare_bytes;
  out->released_bytes = gc.released_bytes + gc.spare_bytes;
  out->ready_bytes = gc.stash_bytes;
  out->ready_chunks_made = gc.stash_made;
  beskid_os_mutex_unlock(&gc.heap_lock);
  out->total_alloc_bytes = atomic_load(&gc.total_alloc_bytes);
  out->total_alloc_objects = atomic_load(&gc.total_alloc_objects);
  out->total_freed_bytes = atomic_load(&gc.total_freed_bytes);
  out->total_freed_objects = atomic_load(&gc.total_freed_objects);
  out->assist_ns = atomic_load(&gc.assist_ns);
  out->assist_wait_ns = atomic_load(&gc.assist_wait_ns);
  out->stall_count = atomic_load_explicit(&gc.stall_count, memory_order_relaxed);
  out->stall_total_ns = atomic_load_explicit(&gc.stall_total_ns, memory_order_relaxed);
  out->stall_max_ns = atomic_load_explicit(&gc.stall_max_ns, memory_order_relaxed);
  beskid_os_mutex_lock(&gc.threads_lock);
  out->threads = gc.thread_count;
  beskid_os_mutex_unlock(&gc.threads_lock);
  out->gogc = atomic_load(&gc.pacer.gogc);
}

/* Logs the completed cycle's trace line (BESKID_GCTRACE) when tracing is on. */
void beskid_gc__trace_cycle(void) {
  if (atomic_load(&gc.trace)) {
    uint64_t now = beskid_os_monotonic_ns();
    const double mb = 1024.0 * 1024.0;
    beskid_gc__log("gc %llu @%.3fs: %.3f+%.3f+%.3f ms clock, %.3f ms ttsp (%.3f running), "
                   "%.3f ms sweep, "
                   "%.1f->%.1f->%.1f MB, %.1f MB goal, %u threads, %u workers %.3f ms cpu, "
                   "%.3f ms assist%s",
                   (unsigned long long)gc.cycles_done, (double)(now - gc.start_ns) / 1e9,
                   (double)gc.cycle.stw1_ns / 1e6, (double)gc.cycle.mark_ns / 1e6,
                   (double)gc.cycle.stw2_ns / 1e6, (double)gc.cycle.start_wait.ttsp_ns / 1e6,
                   (double)gc.cycle.start_wait.running_ns / 1e6, (double)gc.cycle.sweep_ns / 1e6,
                   (double)gc.cycle.heap_before / mb, (double)gc.cycle.heap_after_mark / mb,
                   (double)gc.cycle.live / mb,
                   gc.cycle.goal == UINT64_MAX ? 0.0 : (double)gc.cycle.goal / mb,
                   __atomic_load_n(&gc.thread_count, __ATOMIC_RELAXED), gc.cycle.workers,
                   (double)gc.cycle.worker_cpu_ns / 1e6,
                   (double)(atomic_load(&gc.assist_ns) - gc.cycle.assist_ns_at_start) / 1e6,
                   gc.cycle.forced ? " (forced)" : "");
  }
}

bool beskid_gc_set_trace(bool on) { return atomic_exchange(&gc.trace, on); }
