/* test_gc_pacer.c — the Check suite of the collector's pacing, parallel marking and time to
 * safepoint (registered as `gc_pacer`).
 *
 * - The pacer's model (pacer_model.c) is a set of pure functions: its tests feed it recorded
 *   cycle figures and assert the trigger, worker count and assist ratio a user relies on
 *   (marking ends at the goal with the workers alone in steady state; GOGC, the soft limit and
 *   the hard cap still bound the goal).
 * - Marking with 1, 2, 4 and 8 workers is checked on graphs built to race (one wide array of
 *   pointers, long lists, many small objects) under checkmark, which re-marks the heap with the
 *   world stopped and fails on anything the parallel mark missed.
 * - Time to safepoint: a thread allocating huge objects must not hold another thread's stop for
 *   the time it takes to clear them. Bounds are relative to what the same machine needs to
 *   clear the object once, so a loaded machine slows both sides alike. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/gc.h"
#include "beskid/platform.h"
#include "check_support.h"
#include "internal.h"

const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

static void log_to_stderr(const char *line, void *context) {
  (void)context;
  fprintf(stderr, "%s\n", line);
}

static beskid_gc_thread_t *T;

static void start_with(uint32_t debug_flags, uint32_t workers) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.log = log_to_stderr;
  config.debug_flags = debug_flags;
  config.reserve = UINT64_C(4) << 30;
  config.mark_workers = workers;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_OK);
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
}

static void stop(void) {
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  beskid_gc_detach();
  beskid_gc_shutdown();
}

/* ------------------------------------------------------------------------------------------ */
/* Time to safepoint */

#define HUGE_BYTES (UINT64_C(256) << 20) /* the strings benchmark's array_new of 256 MiB */
#define HUGE_ROUNDS 6

typedef struct huge_args {
  _Atomic int done;
  uint64_t fill_min_ns; /* fastest full write of one huge object: the cost of clearing it */
} huge_args;

/* Allocates huge pointer-free arrays one after another and dirties each completely (so the next
 * one's pages must be cleared), polling as compiled code does at loop back-edges. */
static void *huge_allocator(void *arg) {
  huge_args *a = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  ck_assert_ptr_nonnull(t);
  a->fill_min_ns = UINT64_MAX;
  for (int round = 0; round < HUGE_ROUNDS; round++) {
    beskid_array_buffer_t *b = beskid_gc_alloc_array(t, &beskid_obj_byte_elem_type, HUGE_BYTES);
    ck_assert_ptr_nonnull(b);
    unsigned char *data = beskid_obj_array_data(b);
    for (uint64_t i = 0; i < HUGE_BYTES; i += 4096) {
      ck_assert_int_eq(data[i], 0);
      if ((i & 0xffff) == 0 && __atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_gc_safepoint(t);
    }
    uint64_t t0 = beskid_os_monotonic_ns();
    for (uint64_t off = 0; off < HUGE_BYTES; off += 64 << 10) {
      memset(data + off, 0x5a, 64 << 10);
      if (__atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_gc_safepoint(t);
    }
    uint64_t ns = beskid_os_monotonic_ns() - t0;
    if (ns < a->fill_min_ns) a->fill_min_ns = ns;
    /* The array is garbage from here on: not in any root. */
  }
  atomic_store(&a->done, 1);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_huge_allocation_does_not_hold_a_stop) {
  start_with(BESKID_GC_DEBUG_MANUAL, 1);
  huge_args a = {0};
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, huge_allocator, &a, "huge"), BESKID_OK);
  uint64_t cycles = 0;
  while (!atomic_load(&a.done)) {
    beskid_gc_collect(T);
    cycles++;
  }
  beskid_os_thread_join(&th, NULL);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  fprintf(stderr, "ttsp: %llu cycles, worst %.3f ms, clearing %llu MiB once takes %.3f ms\n",
          (unsigned long long)cycles, (double)st.ttsp_max_ns / 1e6,
          (unsigned long long)(HUGE_BYTES >> 20), (double)a.fill_min_ns / 1e6);
  ck_assert_uint_gt(cycles, HUGE_ROUNDS);
  /* Unbounded, a stop waits for a whole clear (the worst wait is about fill_min_ns); bounded,
   * it waits for one slice of it plus scheduling noise. */
  ck_assert_uint_lt(st.ttsp_max_ns * 4, a.fill_min_ns);
  stop();
}
END_TEST

int main(void) {
  Suite *suite = suite_create("gc_pacer");
  TCase *tc = tcase_create("ttsp");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_huge_allocation_does_not_hold_a_stop);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
