/* test_gc_lifecycle.c — starting and stopping the collector, attach rules, the ABI offsets, the
 * thread count and the detach hook (the gc suite; fixture in gc_fixture.h). */
#include "gc_fixture.h"

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle */

START_TEST(test_init_twice_and_attach_rules) {
  ck_assert_ptr_null(beskid_gc_attach()); /* not initialised */
  start(BESKID_GC_DEBUG_MANUAL);
  ck_assert_int_eq(beskid_gc_init(NULL), BESKID_GC_BAD_STATE);
  ck_assert_ptr_eq(beskid_gc_attach(), T); /* attaching again returns the same context */
  ck_assert_ptr_eq(beskid_gc_current(), T);
  ck_assert(beskid_gc_is_initialized());
  stop();
  ck_assert(!beskid_gc_is_initialized());
  ck_assert_ptr_null(beskid_gc_current());
  /* A second life after shutdown. */
  start(0);
  ck_assert_ptr_nonnull(new_node(1));
  stop();
}
END_TEST

START_TEST(test_bad_config_refused) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.gogc = -5;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_INVALID);
  ck_assert(!beskid_gc_is_initialized());
}
END_TEST

START_TEST(test_abi_offsets) {
  ck_assert_uint_eq(offsetof(beskid_gc_thread_t, top_frame), 0);
  ck_assert_uint_eq(offsetof(beskid_gc_thread_t, poll), 8);
  ck_assert_uint_eq(offsetof(gc_thread, pub), 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Thread count and the detach hook */

static atomic_int hook_calls;
static atomic_uint count_seen_by_hook;

static void count_detach(void) {
  atomic_fetch_add(&hook_calls, 1);
  atomic_store(&count_seen_by_hook, beskid_gc_thread_count());
}

static void *attach_and_detach(void *arg) {
  (void)arg;
  ck_assert_ptr_nonnull(beskid_gc_attach());
  beskid_gc_detach();
  return NULL;
}

static void *attach_and_exit_attached(void *arg) {
  (void)arg;
  ck_assert_ptr_nonnull(beskid_gc_attach());
  return NULL; /* exits attached: detached by the thread-exit destructor */
}

START_TEST(test_thread_count_and_detach_hook) {
  beskid_gc_set_detach_hook(count_detach);
  start(BESKID_GC_DEBUG_MANUAL);
  ck_assert_uint_eq(beskid_gc_thread_count(), 1);
  beskid_os_thread_t th;
  /* An explicit detach runs the hook on the detaching thread, which no longer counts. */
  ck_assert_int_eq(beskid_os_thread_create(&th, attach_and_detach, NULL, "detach"), BESKID_OK);
  ck_assert_int_eq(beskid_os_thread_join(&th, NULL), BESKID_OK);
  ck_assert_int_eq(atomic_load(&hook_calls), 1);
  ck_assert_uint_eq(atomic_load(&count_seen_by_hook), 1);
  ck_assert_uint_eq(beskid_gc_thread_count(), 1);
  /* So does a thread that exits attached. */
  ck_assert_int_eq(beskid_os_thread_create(&th, attach_and_exit_attached, NULL, "exit"), BESKID_OK);
  ck_assert_int_eq(beskid_os_thread_join(&th, NULL), BESKID_OK);
  ck_assert_int_eq(atomic_load(&hook_calls), 2);
  ck_assert_uint_eq(atomic_load(&count_seen_by_hook), 1);
  /* Detaching the last thread counts zero; shutdown's own detach runs no hook. */
  beskid_gc_detach();
  ck_assert_int_eq(atomic_load(&hook_calls), 3);
  ck_assert_uint_eq(atomic_load(&count_seen_by_hook), 0);
  ck_assert_uint_eq(beskid_gc_thread_count(), 0);
  T = beskid_gc_attach();
  beskid_gc_shutdown();
  ck_assert_int_eq(atomic_load(&hook_calls), 3);
  beskid_gc_set_detach_hook(NULL);
}
END_TEST

void gc_cases_lifecycle(Suite *suite) {
  TCase *tc = tcase_create("lifecycle");
  tcase_add_test(tc, test_init_twice_and_attach_rules);
  tcase_add_test(tc, test_bad_config_refused);
  tcase_add_test(tc, test_abi_offsets);
  tcase_add_test(tc, test_thread_count_and_detach_hook);
  suite_add_tcase(suite, tc);
}
