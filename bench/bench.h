/* bench.h — one workload source, four allocators: every bench/ program is compiled once per
 * variant with one of these defined, so all versions do identical work.
 *
 *   BENCH_BESKID    the Beskid runtime through its ABI, as the compiler lowers code: root frames,
 *                   barriers before pointer stores, polls at loop back-edges; no frees.
 *   BENCH_MIMALLOC  C with explicit mi_free (the lower bound).
 *   BENCH_GLIBC     C with glibc malloc/free.
 *   BENCH_BOEHM     Boehm GC (conservative, GC_MALLOC, default settings); no frees.
 *
 * Workloads use: BENCH_MAIN, bench_arg(), NEW(type), RELEASE(p) (frees only with explicit
 * variants), SET(ptr_field, value) for pointer stores, ROOTS(name, n) / UNROOT(name) around
 * locals that must survive allocations, POLL(), and bench_report() at the end. */
#ifndef BENCH_H
#define BENCH_H

#define _GNU_SOURCE

#include <inttypes.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Prints the pause line every GC'd variant prints: n, p50, p99, max in microseconds. */
/* The workload's own peak of reachable bytes, counted from its data structures with this
 * variant's object sizes (headers included), so peak RSS can be read against it. */
static inline void bench_print_live(uint64_t peak_bytes) {
  printf("live: peak_mb=%.1f\n", (double)peak_bytes / 1048576.0);
}

static inline void bench_print_pauses(uint64_t n, uint64_t p50_ns, uint64_t p99_ns,
                                      uint64_t max_ns) {
  printf("pauses: n=%" PRIu64 " p50_us=%.1f p99_us=%.1f max_us=%.1f\n", n, (double)p50_ns / 1e3,
         (double)p99_ns / 1e3, (double)max_ns / 1e3);
}

#if defined(BENCH_BESKID)
/* ------------------------------------------------------------------------------------------ */
#include "beskid/platform.h"
#include "beskid/runtime_abi.h"

#define BENCH_VARIANT "beskid"
#define BENCH_MAIN    int64_t beskid_program_main(void)
#define BENCH_GC      1
static _Thread_local beskid_gc_thread_t *bench_thread_ctx;
#define BENCH_CTX                                                                                  \
  (bench_thread_ctx != NULL ? bench_thread_ctx : (bench_thread_ctx = beskid_rt_thread()))
static inline const char *bench_argv(int i) {
  return i < beskid_os_args_count() ? beskid_os_args_get(i, NULL) : NULL;
}
/* Each node type T declares T##_type (its descriptor) next to it with BENCH_TYPE. */
#define BENCH_TYPE(T, ...)                                                                         \
  static const uint64_t T##_map[] = {__VA_ARGS__};                                                 \
  static const beskid_type_t T##_type = {                                                          \
      sizeof(T), 8, T##_map, sizeof T##_map / sizeof T##_map[0], 0, 0}
#define BENCH_HEADER   beskid_header_t header;
#define NEW(T)         ((T *)alloc(sizeof(T), &T##_type))
#define NEW_DOUBLES(n) bench_new_doubles(n)
static inline double *bench_new_doubles(int64_t n) {
  beskid_array_t a;
  array_new(&a, 8, n);
  return a.ptr;
}
#define NEW_POINTERS(n) bench_new_pointers(n)
static inline void **bench_new_pointers(int64_t n) {
  static const uint64_t ref_map[] = {0};
  static const beskid_elem_type_t ref_elem = {8, 8, ref_map, 1};
  beskid_array_t a;
  beskid_rt_array_new_typed(&a, &ref_elem, n);
  return a.ptr;
}
#define RELEASE(p)        ((void)(p))
#define SET(field, value) beskid_gc_store(BENCH_CTX, (void **)&(field), (value))
#define ROOTS(name, n)                                                                             \
  void *name[n] = {0};                                                                             \
  beskid_root_frame_t name##_frame = {BENCH_CTX->top_frame, name, n};                              \
  BENCH_CTX->top_frame = &name##_frame
#define UNROOT(name)           (BENCH_CTX->top_frame = name##_frame.previous)
#define POLL()                 beskid_gc_poll(BENCH_CTX)
#define BENCH_THREAD_ATTACH()  (bench_thread_ctx = beskid_rt_thread_attach())
#define BENCH_THREAD_DETACH()  (beskid_rt_thread_detach(), bench_thread_ctx = NULL)
#define BENCH_BLOCKING_BEGIN() beskid_gc_enter_native(BENCH_CTX)
#define BENCH_BLOCKING_END()   beskid_gc_leave_native(BENCH_CTX)
#define BENCH_COLLECT()        gc_collect()
static inline void bench_report(void) {
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  bench_print_pauses(st.pause_count, st.pause_p50_ns, st.pause_p99_ns, st.pause_max_ns);
  /* ttsp_running: the same, counting only the CPU time the awaited threads used (past 100 us). */
  printf("gc: cycles=%" PRIu64 " live_mb=%.1f ttsp_max_us=%.1f ttsp_running_max_us=%.1f "
         "gc_cpu_s=%.2f assist_s=%.2f assist_wait_s=%.2f\n",
         st.cycles, (double)st.live_bytes / 1048576.0, (double)st.ttsp_max_ns / 1e3,
         (double)st.ttsp_running_max_ns / 1e3, (double)st.gc_cpu_ns / 1e9,
         (double)st.assist_ns / 1e9, (double)st.assist_wait_ns / 1e9);
  /* A stall: a thread stopped for a pause, from its safepoint until it ran again. */
  printf("stalls: n=%" PRIu64 " stall_mean_us=%.1f stall_max_us=%.1f\n", st.stall_count,
         st.stall_count ? (double)st.stall_total_ns / (double)st.stall_count / 1e3 : 0.0,
         (double)st.stall_max_ns / 1e3);
}
#else
/* ------------------------------------------------------------------------------------------ */
static int bench_argc;
static char **bench_argv_ptr;
static inline const char *bench_argv(int i) { return i < bench_argc ? bench_argv_ptr[i] : NULL; }
static int bench_main(void);
#define BENCH_MAIN                                                                                 \
  int main(int argc, char **argv) {                                                                \
    bench_argc = argc;                                                                             \
    bench_argv_ptr = argv;                                                                         \
    BENCH_INIT();                                                                                  \
    return bench_main();                                                                           \
  }                                                                                                \
  static int bench_main(void)
#define BENCH_TYPE(T, ...) typedef int T##_unused_type
#define BENCH_HEADER
#define ROOTS(name, n)         void *name[n] = {0}
#define UNROOT(name)           ((void)(name))
#define SET(field, value)      ((field) = (value))
#define POLL()                 ((void)0)
#define BENCH_THREAD_ATTACH()  ((void)0)
#define BENCH_THREAD_DETACH()  ((void)0)
#define BENCH_BLOCKING_BEGIN() ((void)0)
#define BENCH_BLOCKING_END()   ((void)0)
#if defined(BENCH_MIMALLOC)
#include "mimalloc.h"
#define BENCH_VARIANT   "mimalloc"
#define BENCH_INIT()    ((void)0)
#define NEW(T)          ((T *)mi_zalloc(sizeof(T)))
#define NEW_DOUBLES(n)  ((double *)mi_zalloc((size_t)(n) * sizeof(double)))
#define NEW_POINTERS(n) ((void **)mi_zalloc((size_t)(n) * sizeof(void *)))
#define RELEASE(p)      mi_free(p)
#define BENCH_EXPLICIT  1
#define BENCH_COLLECT() ((void)0)
static inline void bench_report(void) {}
#elif defined(BENCH_GLIBC)
#define BENCH_VARIANT   "glibc"
#define BENCH_INIT()    ((void)0)
#define NEW(T)          ((T *)calloc(1, sizeof(T)))
#define NEW_DOUBLES(n)  ((double *)calloc((size_t)(n), sizeof(double)))
#define NEW_POINTERS(n) ((void **)calloc((size_t)(n), sizeof(void *)))
#define RELEASE(p)      free(p)
#define BENCH_EXPLICIT  1
#define BENCH_COLLECT() ((void)0)
static inline void bench_report(void) {}
#elif defined(BENCH_BOEHM)
#define GC_THREADS
#include <gc.h>
#define BENCH_VARIANT "boehm"
#define BENCH_GC      1
/* Boehm's stop-the-world pauses, timed through its collection events. */
static uint64_t bench_boehm_pauses[1 << 16];
static uint64_t bench_boehm_npauses, bench_boehm_stop_ns;
static inline void bench_boehm_event(GC_EventType e) {
  if (e == GC_EVENT_PRE_STOP_WORLD) bench_boehm_stop_ns = bench_now_ns();
  if (e == GC_EVENT_POST_START_WORLD && bench_boehm_npauses < (1 << 16)) {
    bench_boehm_pauses[bench_boehm_npauses++] = bench_now_ns() - bench_boehm_stop_ns;
  }
}
#define BENCH_INIT()                                                                               \
  do {                                                                                             \
    GC_INIT();                                                                                     \
    GC_set_on_collection_event(bench_boehm_event);                                                 \
  } while (0)
#define NEW(T)          ((T *)GC_MALLOC(sizeof(T)))
#define NEW_DOUBLES(n)  ((double *)GC_MALLOC_ATOMIC((size_t)(n) * sizeof(double)))
#define NEW_POINTERS(n) ((void **)GC_MALLOC((size_t)(n) * sizeof(void *)))
#define RELEASE(p)      ((void)(p))
#define BENCH_COLLECT() GC_gcollect()
static inline void bench_report(void) {
  uint64_t n = bench_boehm_npauses;
  if (n == 0) {
    bench_print_pauses(0, 0, 0, 0);
    return;
  }
  qsort(bench_boehm_pauses, n, sizeof bench_boehm_pauses[0], bench_cmp_u64);
  bench_print_pauses(n, bench_boehm_pauses[(n - 1) / 2],
                     bench_boehm_pauses[(n * 99 + 99) / 100 - 1], bench_boehm_pauses[n - 1]);
  printf("gc: cycles=%" PRIu64 "\n", (uint64_t)GC_get_gc_no());
}
#else
#error "define one of BENCH_BESKID, BENCH_MIMALLOC, BENCH_GLIBC, BENCH_BOEHM"
#endif
#endif

static inline long bench_arg(int i, long fallback) {
  const char *s = bench_argv(i);
  return s != NULL ? atol(s) : fallback;
}

#endif
