/* time.c — clocks and sleeping for the standard library. A sleep waits in the native state, so
 * a collection never waits for a sleeping thread. */
#include "internal.h"

int64_t beskid_std_time_monotonic_ns(void) {
  /* 2^63 ns is 292 years of uptime: the conversion cannot wrap. */
  return (int64_t)beskid_os_monotonic_ns();
}

int64_t beskid_std_time_realtime_ns(void) { return beskid_os_realtime_ns(); }

void beskid_std_time_sleep_ns(int64_t ns) {
  beskid_gc_thread_t *t = std_native_enter();
  if (ns > 0) beskid_os_sleep_ns((uint64_t)ns);
  std_native_leave(t);
}
