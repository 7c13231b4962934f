/* test_time.c — the time area of libs/stdhost: the clocks, sleeping at least as asked, and a
 * sleep that lets collections run (the full blocked-call test is in test_console.c). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "stdhost_test.h"

START_TEST(test_clocks) {
  int64_t a = beskid_std_time_monotonic_ns();
  ck_assert_int_gt(a, 0);
  for (int i = 0; i < 10000; i++) {
    int64_t b = beskid_std_time_monotonic_ns();
    ck_assert_int_ge(b, a);
    a = b;
  }
  int64_t wall = beskid_std_time_realtime_ns();
  int64_t c_wall = (int64_t)time(NULL) * 1000000000;
  ck_assert_int_lt(llabs(wall - c_wall), 5 * INT64_C(1000000000));
  ck_assert_int_gt(wall, INT64_C(1600000000) * 1000000000); /* after September 2020 */
}
END_TEST

START_TEST(test_sleep_at_least) {
  std_test_init(false);
  int64_t t0 = beskid_std_time_monotonic_ns();
  beskid_std_time_sleep_ns(30000000);
  ck_assert_int_ge(beskid_std_time_monotonic_ns() - t0, 30000000);
  /* Zero and negative durations return at once (well under the 30 ms above). */
  t0 = beskid_std_time_monotonic_ns();
  beskid_std_time_sleep_ns(0);
  beskid_std_time_sleep_ns(-5000000000);
  beskid_std_time_sleep_ns(INT64_MIN);
  ck_assert_int_lt(beskid_std_time_monotonic_ns() - t0, 1000000000);
  /* An unattached thread may sleep too. */
  beskid_rt_shutdown();
  t0 = beskid_std_time_monotonic_ns();
  beskid_std_time_sleep_ns(1000000);
  ck_assert_int_ge(beskid_std_time_monotonic_ns() - t0, 1000000);
}
END_TEST

static atomic_int sleeping, woke;
static void *sleep_long(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  atomic_store(&sleeping, 1);
  beskid_std_time_sleep_ns(1500000000); /* 1.5 s */
  atomic_store(&woke, 1);
  beskid_rt_thread_detach();
  return NULL;
}

START_TEST(test_collections_run_during_a_sleep) {
  std_test_init(false);
  pthread_t t;
  pthread_create(&t, NULL, sleep_long, NULL);
  while (!atomic_load(&sleeping)) beskid_std_time_sleep_ns(1000000);
  beskid_std_time_sleep_ns(20000000);
  int64_t t0 = beskid_std_time_monotonic_ns();
  for (int i = 0; i < 3; i++) gc_collect();
  int64_t took = beskid_std_time_monotonic_ns() - t0;
  /* The collections did not wait for the sleeper to wake up. */
  ck_assert(!atomic_load(&woke));
  ck_assert_int_lt(took, 1000000000);
  pthread_join(t, NULL);
  ck_assert(atomic_load(&woke));
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_time");
  TCase *tc = tcase_create("time");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_clocks);
  tcase_add_test(tc, test_sleep_at_least);
  tcase_add_test(tc, test_collections_run_during_a_sleep);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
