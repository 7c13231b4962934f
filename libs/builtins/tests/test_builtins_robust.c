/* test_builtins_robust.c — the builtins suite's robustness cases: out-of-memory traps that must
 * come out the same in every preset (ASan included), bounded global-root registration, huge heap
 * caps, and internal allocation failures turned into traps.
 *
 * Linked into test_builtins; main() there adds these cases with beskid_builtins_robust_cases().
 * Death tests run the faulting call in a forked child with stderr captured and assert exit
 * status 101 and exactly one trap line holding every expected fragment. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/runtime_abi.h"
#include "beskid_test_hooks.h"
#include "check_support.h"
#include "test_builtins_robust.h"

#define DEATH BESKID_TEST_EXPECT_TRAP

static void init_default(void) { ck_assert_int_eq(beskid_rt_init(NULL), 0); }

/* ------------------------------------------------------------------------------------------ */
/* Out of memory: the trap with its figures, in every preset */

static const uint64_t ref_map[] = {0};
static const beskid_elem_type_t ref_elem = {8, 8, ref_map, 1};

/* 1 TiB of bytes: far past the heap's address space, but no arithmetic overflow. */
static void array_one_tib(void) {
  init_default();
  beskid_array_t a;
  array_new(&a, 1, INT64_C(1) << 40);
}
/* 2^37 references (1 TiB) in a typed array. */
static void typed_array_one_tib(void) {
  init_default();
  beskid_array_t a;
  beskid_rt_array_new_typed(&a, &ref_elem, INT64_C(1) << 37);
}
/* An untyped object of 2^45 bytes (the ABI allows up to 2^46). */
static void alloc_huge_untyped(void) {
  init_default();
  alloc(INT64_C(1) << 45, NULL);
}

START_TEST(test_out_of_memory_traps_in_every_preset) {
  char req[64];
  snprintf(req, sizeof req, "req=%llu ",
           (unsigned long long)((UINT64_C(1) << 40) + BESKID_ARRAY_DATA_OFFSET));
  DEATH(array_one_tib, "out_of_memory (5)", req, "live=", "committed=", "cap=0");
  DEATH(typed_array_one_tib, "out_of_memory (5)", req, "live=", "committed=", "cap=0");
  DEATH(alloc_huge_untyped, "out_of_memory (5)", "req=35184372088832 ", "cap=0");
  /* The process survives a refused request that it does not make: a later small allocation in
   * a fresh runtime works (nothing above leaves state behind in this process). */
  init_default();
  ck_assert_ptr_nonnull(alloc(48, NULL));
  beskid_rt_shutdown();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The heap verifier right after allocations of every size (a large object's span used to look
 * unsound until its first sweep) */

START_TEST(test_heap_verify_after_large_allocations) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  c.debug_flags = BESKID_GC_DEBUG_VERIFY; /* also at every phase boundary, fatal on a problem */
  ck_assert_int_eq(beskid_rt_init(&c), 0);
  void *slots[4] = {0};
  beskid_root_frame_t frame = {NULL, slots, 4};
  beskid_gc_thread_t *t = beskid_rt_thread();
  beskid_gc_push_frame(t, &frame);
  slots[0] = alloc(1 << 20, NULL);
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_array_t a;
  array_new(&a, 8, 100000);
  slots[1] = a.ptr;
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_rt_array_new_typed(&a, &ref_elem, 50000);
  slots[2] = a.ptr;
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_str_t str;
  static uint8_t text[70000];
  memset(text, 'x', sizeof text);
  str_new(&str, text, (int64_t)sizeof text);
  slots[3] = (void *)str.ptr;
  ck_assert_uint_eq(gc_heap_verify(), 1);
  gc_collect();
  ck_assert_uint_eq(gc_heap_verify(), 1);
  ck_assert_uint_eq(((const uint8_t *)slots[3])[69999], 'x');
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_shutdown();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Global roots: the count is bounded, the table grows with checked arithmetic */

static void *one_global[1];

static void globals_count_int64_max(void) {
  init_default();
  beskid_rt_register_globals(one_global, INT64_MAX);
}
static void globals_count_past_bound(void) {
  init_default();
  beskid_rt_register_globals(one_global, (INT64_C(1) << 32) + 1);
}
static void globals_count_wraps_address_space(void) {
  init_default();
  /* 2^61 slots of 8 bytes: the byte size alone wraps 64 bits. */
  beskid_rt_register_globals(one_global, INT64_C(1) << 61);
}
static void globals_range_wraps_address_space(void) {
  init_default();
  void **near_top = (void **)(UINTPTR_MAX - 63);
  beskid_rt_register_globals(near_top, 16);
}

START_TEST(test_register_globals_bounded) {
  DEATH(globals_count_int64_max, "bounds (2)", "register_globals");
  DEATH(globals_count_past_bound, "bounds (2)", "register_globals", "4294967297");
  DEATH(globals_count_wraps_address_space, "bounds (2)", "register_globals");
  DEATH(globals_range_wraps_address_space, "bounds (2)", "register_globals", "address space");
  /* Many registrations, one slot each and some large ones: every slot stays a root. */
  init_default();
  enum { CALLS = 3000, WIDE = 100000 };
  static void *singles[CALLS];
  static void *wide[WIDE];
  for (int i = 0; i < CALLS; i++) beskid_rt_register_globals(&singles[i], 1);
  beskid_rt_register_globals(wide, WIDE);
  beskid_rt_register_globals(wide, 0);
  beskid_gc_thread_t *t = beskid_rt_thread();
  for (int i = 0; i < CALLS; i++) {
    int64_t *p = alloc(32, NULL);
    p[2] = i;
    beskid_gc_store(t, &singles[i], p);
  }
  for (int i = 0; i < WIDE; i += 1000) {
    int64_t *p = alloc(32, NULL);
    p[2] = -i;
    beskid_gc_store(t, &wide[i], p);
  }
  for (int i = 0; i < 20000; i++) alloc(48, NULL); /* garbage */
  gc_collect();
  gc_collect();
  for (int i = 0; i < CALLS; i++) ck_assert_int_eq(((int64_t *)singles[i])[2], i);
  for (int i = 0; i < WIDE; i += 1000) ck_assert_int_eq(((int64_t *)wide[i])[2], -i);
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_rt_shutdown();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Byte counts from the environment: every refusal names the variable and the reason */

static void expect_refused(const char *name, const char *value, const char *why) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  char err[256] = "";
  setenv(name, value, 1);
  ck_assert_msg(!beskid_rt_config_from_env(&c, err, sizeof err), "%s=%s accepted", name, value);
  unsetenv(name);
  char want[128];
  snprintf(want, sizeof want, "%s=%s: ", name, value);
  ck_assert_msg(strstr(err, want) != NULL && strstr(err, why) != NULL, "error: %s", err);
}

static uint64_t accepted(const char *name, const char *value) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  char err[256] = "";
  setenv(name, value, 1);
  ck_assert_msg(beskid_rt_config_from_env(&c, err, sizeof err), "%s=%s: %s", name, value, err);
  unsetenv(name);
  return strcmp(name, "BESKID_HEAP_MAX_BYTES") == 0 ? c.heap_max : c.memory_limit;
}

START_TEST(test_byte_counts_overflow_named) {
  static const char *const names[] = {"BESKID_HEAP_MAX_BYTES", "BESKID_MEMORY_LIMIT"};
  for (int n = 0; n < 2; n++) {
    ck_assert_uint_eq(accepted(names[n], "18446744073709551615"), UINT64_MAX);
    ck_assert_uint_eq(accepted(names[n], "4611686018427387904"), UINT64_C(1) << 62);
    ck_assert_uint_eq(accepted(names[n], "17179869183G"), UINT64_C(17179869183) << 30);
    ck_assert_uint_eq(accepted(names[n], "17592186044415M"), UINT64_C(17592186044415) << 20);
    ck_assert_uint_eq(accepted(names[n], "18014398509481983k"), UINT64_C(18014398509481983) << 10);
    expect_refused(names[n], "18446744073709551616", "does not fit in 64 bits");
    expect_refused(names[n], "99999999999999999999999", "does not fit in 64 bits");
    expect_refused(names[n], "17179869184G", "does not fit in 64 bits");
    expect_refused(names[n], "17592186044416M", "does not fit in 64 bits");
    expect_refused(names[n], "18014398509481984K", "does not fit in 64 bits");
    expect_refused(names[n], "1T", "expected bytes with optional K/M/G");
    expect_refused(names[n], "-5", "expected bytes with optional K/M/G");
    expect_refused(names[n], "99999999999999999999999X", "expected bytes");
  }
  uint64_t v;
  ck_assert(!beskid_rt_parse_bytes("17179869184G", &v));
  ck_assert(beskid_rt_parse_bytes("17179869183G", &v) && v == UINT64_C(17179869183) << 30);
}
END_TEST

/* A cap far beyond the machine is accepted and limits nothing but the arena. */
START_TEST(test_huge_heap_cap_starts_and_allocates) {
  static const uint64_t caps[] = {UINT64_MAX, UINT64_C(1) << 62};
  for (int i = 0; i < 2; i++) {
    beskid_rt_config_t c;
    beskid_rt_config_default(&c);
    c.heap_max = caps[i];
    ck_assert_int_eq(beskid_rt_init(&c), 0);
    beskid_array_t a;
    array_new(&a, 1, INT64_C(600) << 20); /* more than the wrapped 512 MiB reservation held */
    ck_assert_ptr_nonnull(a.ptr);
    beskid_rt_shutdown();
  }
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Internal allocation failures: the out_of_memory trap with its figures, never an abort */

#define OOM_LINE "out_of_memory (5)", "req=", "live=", "committed=", "cap="

static void fail_from_now(void) { beskid_os_test_fail_allocations(0, UINT64_MAX); }

static void root_table_oom(void) {
  init_default();
  static void *cells[1];
  fail_from_now();
  gc_register_root(&cells[0]); /* the thread's first root needs a block */
}
static void handle_table_oom(void) {
  init_default();
  void *obj = alloc(48, NULL);
  fail_from_now();
  gc_root_handle(obj);
}
static void globals_table_oom(void) {
  init_default();
  static void *g[1];
  fail_from_now();
  beskid_rt_register_globals(g, 1);
}
static void *attach_main(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  return NULL;
}
static void thread_context_oom(void) {
  init_default();
  fail_from_now();
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, attach_main, NULL), 0);
  pthread_join(th, NULL);
}
static void raw_descriptor_oom(void) {
  init_default();
  fail_from_now();
  alloc(100000, NULL); /* an untyped size beyond the static table: a descriptor is made */
}
static void verifier_oom(void) {
  init_default();
  static void *slots[1];
  static beskid_root_frame_t frame = {NULL, slots, 1};
  slots[0] = alloc(48, NULL); /* reachable: the verifier's visited set needs memory */
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  fail_from_now();
  gc_heap_verify();
}
static void heap_metadata_oom(void) {
  init_default();
  fail_from_now();
  beskid_array_t a;
  array_new(&a, 1, 5 << 20); /* a new chunk and span records */
}

START_TEST(test_internal_allocation_failures_trap) {
  DEATH(root_table_oom, OOM_LINE);
  DEATH(handle_table_oom, OOM_LINE);
  DEATH(globals_table_oom, OOM_LINE);
  DEATH(thread_context_oom, OOM_LINE);
  DEATH(raw_descriptor_oom, OOM_LINE);
  DEATH(verifier_oom, OOM_LINE);
  DEATH(heap_metadata_oom, OOM_LINE);
}
END_TEST

/* A program that uses every table of the runtime: roots, handles, globals, objects of many
 * kinds, untyped descriptors beyond the static table, collections and the verifier. Checks its
 * own data at the end. Manual collection mode keeps the order of internal allocations fixed. */
static void scenario(void) {
  beskid_gc_thread_t *t = beskid_rt_thread();
  static void *cells[150];
  for (int i = 0; i < 150; i++) ck_assert_uint_eq(gc_register_root(&cells[i]), 1);
  static void *globals[20][2];
  for (int i = 0; i < 20; i++) beskid_rt_register_globals(globals[i], 2);
  uint64_t handles[300];
  for (int i = 0; i < 300; i++) {
    int64_t *p = alloc(32, NULL);
    p[2] = i;
    handles[i] = gc_root_handle(p);
  }
  for (int i = 0; i < 150; i++) {
    int64_t *p = alloc(16 + 16 * (i % 60), NULL);
    if (i % 60 >= 1) p[2] = i;
    beskid_gc_store(t, &cells[i], p);
  }
  for (int i = 0; i < 20; i++) {
    beskid_array_t a;
    array_new(&a, 1 + i % 9, 1000 + 3000 * i);
    ((uint8_t *)a.ptr)[a.len - 1] = (uint8_t)i;
    beskid_gc_store(t, &globals[i][0], a.ptr);
    int64_t *raw = alloc(4200 + 16 * i, NULL); /* beyond the static descriptor table */
    raw[2] = -i;
    beskid_gc_store(t, &globals[i][1], raw);
  }
  for (int i = 0; i < 6000; i++) alloc(48, NULL);
  gc_collect();
  gc_collect();
  for (int i = 0; i < 300; i++)
    ck_assert_int_eq(((int64_t *)beskid_rt_handle_get(handles[i]))[2], i);
  for (int i = 0; i < 150; i++) {
    if (i % 60 >= 1) ck_assert_int_eq(((int64_t *)cells[i])[2], i);
  }
  for (int i = 0; i < 20; i++) {
    ck_assert_uint_eq(((uint8_t *)globals[i][0])[1000 + 3000 * i - 1], (uint8_t)i);
    ck_assert_int_eq(((int64_t *)globals[i][1])[2], -i);
  }
  ck_assert_uint_eq(gc_heap_verify(), 1);
  for (int i = 0; i < 300; i++) gc_unroot_handle(handles[i]);
  for (int i = 149; i >= 0; i--) gc_unregister_root(&cells[i]);
}

static void init_manual(void) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  c.debug_flags = BESKID_GC_DEBUG_MANUAL;
  ck_assert_int_eq(beskid_rt_init(&c), 0);
}

typedef struct failing_run {
  uint64_t nth, count;
} failing_run;
static void scenario_failing(void *arg) {
  const failing_run *run = arg;
  init_manual();
  beskid_os_test_fail_allocations(run->nth, run->count);
  scenario();
}

/* Runs the scenario in a child with allocation `nth` (and `count` after it) failing. Returns
 * true when the child trapped out_of_memory, false when it finished; anything else fails. */
static bool run_failing(uint64_t nth, uint64_t count) {
  char out[8192];
  failing_run run = {nth, count};
  int ws = beskid_test_run_child(scenario_failing, &run, out, sizeof out);
  size_t got = strlen(out);
  ck_assert_msg(WIFEXITED(ws), "allocation %llu (+%llu) failing: child killed; stderr: %s",
                (unsigned long long)nth, (unsigned long long)count, out);
  if (WEXITSTATUS(ws) == 0 && got == 0) return false;
  ck_assert_msg(WEXITSTATUS(ws) == BESKID_TRAP_EXIT_STATUS && got > 0 &&
                    strchr(out, '\n') == out + got - 1 &&
                    strstr(out, "beskid runtime trap v5: out_of_memory (5): req=") != NULL &&
                    strstr(out, " live=") != NULL && strstr(out, " committed=") != NULL &&
                    strstr(out, " cap=") != NULL,
                "allocation %llu (+%llu) failing: exit %d, stderr: %s", (unsigned long long)nth,
                (unsigned long long)count, WEXITSTATUS(ws), out);
  return true;
}

/* _i = 0: exactly the nth allocation fails; _i = 1: every allocation from the nth on fails. */
START_TEST(test_every_internal_allocation_failure_is_a_trap_or_survived) {
  /* How many internal allocations the scenario makes (deterministic in manual mode). */
  init_manual();
  uint64_t first = beskid_os_test_allocations();
  scenario();
  uint64_t total = beskid_os_test_allocations() - first;
  beskid_rt_shutdown();
  ck_assert_uint_gt(total, 20);
  uint64_t trapped = 0;
  for (uint64_t nth = 0; nth < total; nth++) {
    if (run_failing(nth, _i == 0 ? 1 : UINT64_MAX)) trapped++;
  }
  ck_assert(!run_failing(total, UINT64_MAX)); /* failing past the end changes nothing */
  if (_i == 0) {
    /* A table that cannot grow is fatal; the heap's chunk records are retried after an
     * emergency collection, and a mark work block is done without: both kinds must occur, the
     * survivable one at least once for each (span structures need no allocation: they are
     * entries of the heap's span table). */
    ck_assert_uint_gt(trapped, 10);
    ck_assert_uint_le(trapped, total - 2);
  } else {
    /* From any point on, nothing can be had: the scenario cannot finish (its last step, the
     * verifier, needs memory too). */
    ck_assert_uint_eq(trapped, total);
  }
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

void beskid_builtins_robust_cases(Suite *suite) {
  TCase *tc = tcase_create("robust");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_out_of_memory_traps_in_every_preset);
  tcase_add_test(tc, test_heap_verify_after_large_allocations);
  tcase_add_test(tc, test_register_globals_bounded);
  tcase_add_test(tc, test_internal_allocation_failures_trap);
  tcase_add_test(tc, test_byte_counts_overflow_named);
  tcase_add_test(tc, test_huge_heap_cap_starts_and_allocates);
  suite_add_tcase(suite, tc);

  tc = tcase_create("allocation_failures");
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, test_every_internal_allocation_failure_is_a_trap_or_survived, 0, 2);
  suite_add_tcase(suite, tc);
}
