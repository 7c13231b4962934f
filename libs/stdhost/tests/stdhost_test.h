/* stdhost_test.h — what the Check suites of libs/stdhost share: starting the runtime, strings
 * from C text, death tests (a call that must trap, run in a child), and scratch directories. */
#ifndef BESKID_STDHOST_TEST_H
#define BESKID_STDHOST_TEST_H

#include <stdbool.h>
#include <string.h>

#include "beskid/stdhost.h"
#include "check_support.h"

/* Starts the runtime with the defaults; with `stress`, collects at every allocation and verifies
 * the heap at each phase, so a missing root shows at once. */
void std_test_init(bool stress);

/* A string over C text (not on the heap, which every function must accept). */
static inline beskid_str_t std_test_str(const char *text) {
  beskid_str_t s = {(const uint8_t *)text, (int64_t)strlen(text)};
  return s;
}

/* Whether `s` holds exactly `text`. */
bool std_test_str_is(beskid_str_t s, const char *text);

/* Asserts that fn traps (tests/support): exit status 101 and one stderr line holding
 * "beskid runtime trap v5: " and every string given. */
#define STD_EXPECT_TRAP BESKID_TEST_EXPECT_TRAP

/* Makes a fresh scratch directory, removed with its contents when the test ends (see
 * beskid_test_temp_dir), and returns its path. */
const char *std_test_temp_dir(void);

/* "<dir>/<name>" in a buffer of the caller. */
void std_test_join(char *out, size_t cap, const char *dir, const char *name);

/* Writes `len` bytes to a new file at `path` with the C library (to set up a test). */
void std_test_write_file(const char *path, const void *bytes, size_t len);

#endif
