/* stdhost_test.c — the helpers of stdhost_test.h. */
#define _GNU_SOURCE
#include "stdhost_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void std_test_init(bool stress) {
  beskid_rt_config_t config;
  beskid_rt_config_default(&config);
  if (stress) {
    config.stress_interval = 1;
    config.debug_flags = BESKID_GC_DEBUG_VERIFY;
  }
  ck_assert_int_eq(beskid_rt_init(&config), 0);
}

bool std_test_str_is(beskid_str_t s, const char *text) {
  size_t n = strlen(text);
  return s.len == (int64_t)n && (n == 0 || (s.ptr != NULL && memcmp(s.ptr, text, n) == 0));
}

const char *std_test_temp_dir(void) { return beskid_test_temp_dir("stdhost"); }

void std_test_join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  ck_assert(n > 0 && (size_t)n < cap);
}

void std_test_write_file(const char *path, const void *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}
