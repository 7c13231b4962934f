/* test_builtins_robust.c — the builtins suite's robustness cases: out-of-memory traps that must
 * come out the same in every preset (ASan included), bounded global-root registration, huge heap
 * caps, and internal allocation failures turned into traps.
 *
 * Linked into test_builtins; main() there adds these cases with beskid_builtins_robust_cases().
 * Death tests run the faulting call in a forked child with stderr captured and assert exit
 * status 101 and exactly one trap line holding every expected fragment. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/runtime_abi.h"
#include "check_support.h"
#include "test_builtins_robust.h"

/* Runs fn in a child with stderr captured; asserts the exit status and that stderr is exactly one
 * line containing every string of `needles` (NULL-terminated). */
static void expect_death(void (*fn)(void), int status, const char *const *needles) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    fn();
    _exit(0);
  }
  close(fds[1]);
  char out[8192];
  size_t got = 0;
  ssize_t n;
  while ((n = read(fds[0], out + got, sizeof out - 1 - got)) > 0) got += (size_t)n;
  out[got] = '\0';
  close(fds[0]);
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  ck_assert_msg(WIFEXITED(ws), "child did not exit normally; stderr: %s", out);
  ck_assert_msg(WEXITSTATUS(ws) == status, "exit %d, want %d; stderr: %s", WEXITSTATUS(ws), status,
                out);
  ck_assert_msg(got > 0 && out[got - 1] == '\n' && strchr(out, '\n') == out + got - 1,
                "want one line on stderr, got: '%s'", out);
  for (const char *const *s = needles; *s != NULL; s++) {
    ck_assert_msg(strstr(out, *s) != NULL, "stderr lacks '%s': %s", *s, out);
  }
}

#define DEATH(fn, ...)                                                                             \
  do {                                                                                             \
    const char *needles_[] = {"beskid runtime trap v5: ", __VA_ARGS__, NULL};                      \
    expect_death(fn, BESKID_TRAP_EXIT_STATUS, needles_);                                           \
  } while (0)

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

void beskid_builtins_robust_cases(Suite *suite) {
  TCase *tc = tcase_create("robust");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_out_of_memory_traps_in_every_preset);
  suite_add_tcase(suite, tc);
}
