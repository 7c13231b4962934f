/* test_process.c — the process area of libs/stdhost: arguments, environment, working directory,
 * pid and exit (output flushed, the process ended as when main returns), with every error path and
 * trap. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stdhost_test.h"

/* ------------------------------------------------------------------------------------------ */
/* Arguments */

START_TEST(test_args) {
  std_test_init(true);
  const char *argv[] = {"prog", "--name=Zoë", ""};
  ck_assert_int_eq(beskid_std_args_set(3, argv), BESKID_OK);
  ck_assert_int_eq(beskid_std_args_count(), 3);
  beskid_str_t arg;
  beskid_std_args_get(&arg, 0);
  ck_assert(std_test_str_is(arg, "prog"));
  beskid_std_args_get(&arg, 1);
  ck_assert(std_test_str_is(arg, "--name=Zoë"));
  beskid_std_args_get(&arg, 2);
  ck_assert_int_eq(arg.len, 0);
  /* The result is a copy: replacing the arguments leaves it intact. */
  beskid_std_args_get(&arg, 1);
  void *root = (void *)(uintptr_t)arg.ptr;
  gc_register_root(&root);
  ck_assert_int_eq(beskid_std_args_set(1, argv), BESKID_OK);
  gc_collect();
  ck_assert(std_test_str_is(arg, "--name=Zoë"));
  gc_unregister_root(&root);
  ck_assert_int_eq(beskid_std_args_count(), 1);
  ck_assert_int_eq(beskid_std_args_set(-1, argv), BESKID_INVALID_INPUT);
  ck_assert_int_eq(beskid_std_args_set(INT64_C(1) << 32, argv), BESKID_INVALID_INPUT);
  ck_assert_int_eq(beskid_std_args_set(2, NULL), BESKID_INVALID_INPUT);
  ck_assert_int_eq(beskid_std_args_set(0, NULL), BESKID_OK);
  ck_assert_int_eq(beskid_std_args_count(), 0);
}
END_TEST

static void args_get_past_end(void) {
  const char *argv[] = {"prog", "x"};
  beskid_std_args_set(2, argv);
  beskid_rt_init(NULL);
  beskid_str_t s;
  beskid_std_args_get(&s, 2);
}
static void args_get_negative(void) {
  const char *argv[] = {"prog"};
  beskid_std_args_set(1, argv);
  beskid_rt_init(NULL);
  beskid_str_t s;
  beskid_std_args_get(&s, -1);
}
static void args_get_not_utf8(void) {
  const char *argv[] = {"prog", "caf\xe9"};
  beskid_std_args_set(2, argv);
  beskid_rt_init(NULL);
  beskid_str_t s;
  beskid_std_args_get(&s, 1);
}
static void args_get_null(void) { beskid_std_args_get(NULL, 0); }

START_TEST(test_args_traps) {
  STD_EXPECT_TRAP(args_get_past_end, "bounds (2)", "index 2 out of range for length 2");
  STD_EXPECT_TRAP(args_get_negative, "bounds (2)", "index -1 out of range for length 1");
  STD_EXPECT_TRAP(args_get_not_utf8, "invalid_utf8 (4)", "argument 1 is not UTF-8 (byte 3)");
  STD_EXPECT_TRAP(args_get_null, "null_reference (1)", "beskid_std_args_get: NULL result");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Environment */

START_TEST(test_env_get_set_unset) {
  std_test_init(true);
  beskid_str_t name = std_test_str("BESKID_STD_TEST"), value = std_test_str("ünïcode value");
  beskid_str_t got = std_test_str("stale");
  ck_assert_int_eq(beskid_std_env_get(&got, &name), BESKID_NOT_FOUND);
  ck_assert_int_eq(got.len, 0); /* missing is "" */
  ck_assert_int_eq(beskid_std_env_set(&name, &value), BESKID_OK);
  ck_assert_str_eq(getenv("BESKID_STD_TEST"), "ünïcode value");
  ck_assert_int_eq(beskid_std_env_get(&got, &name), BESKID_OK);
  ck_assert(std_test_str_is(got, "ünïcode value"));
  beskid_str_t empty = {NULL, 0};
  ck_assert_int_eq(beskid_std_env_set(&name, &empty), BESKID_OK); /* set, to "" */
  ck_assert_int_eq(beskid_std_env_get(&got, &name), BESKID_OK);
  ck_assert_int_eq(got.len, 0);
  ck_assert_int_eq(beskid_std_env_unset(&name), BESKID_OK);
  ck_assert_ptr_null(getenv("BESKID_STD_TEST"));
  ck_assert_int_eq(beskid_std_env_get(&got, &name), BESKID_NOT_FOUND);
  ck_assert_int_eq(beskid_std_env_unset(&name), BESKID_OK); /* unsetting twice is fine */
}
END_TEST

START_TEST(test_env_long_values) {
  std_test_init(true);
  /* Lengths around the 256-byte stack buffer, and one far beyond it. */
  size_t lengths[] = {254, 255, 256, 257, 100000};
  char *text = malloc(100001);
  for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
    size_t n = lengths[k];
    for (size_t i = 0; i < n; i++) text[i] = (char)('A' + i % 23);
    text[n] = '\0';
    beskid_str_t name = std_test_str("BESKID_STD_LONG"),
                 value = {(const uint8_t *)text, (int64_t)n};
    ck_assert_int_eq(beskid_std_env_set(&name, &value), BESKID_OK);
    beskid_str_t got;
    ck_assert_int_eq(beskid_std_env_get(&got, &name), BESKID_OK);
    ck_assert_int_eq(got.len, (int64_t)n);
    ck_assert_int_eq(memcmp(got.ptr, text, n), 0);
  }
  free(text);
}
END_TEST

START_TEST(test_env_bad_input) {
  std_test_init(false);
  beskid_str_t got, ok_value = std_test_str("v");
  beskid_str_t bad_names[] = {
      {NULL, 0},                    /* empty */
      {(const uint8_t *)"A=B", 3},  /* '=' */
      {(const uint8_t *)"A\0B", 3}, /* NUL */
  };
  for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
    ck_assert_int_eq(beskid_std_env_get(&got, &bad_names[i]), BESKID_INVALID_INPUT);
    ck_assert_int_eq(got.len, 0);
    ck_assert_int_eq(beskid_std_env_set(&bad_names[i], &ok_value), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_env_unset(&bad_names[i]), BESKID_INVALID_INPUT);
  }
  char *huge = malloc(5000);
  memset(huge, 'N', 5000);
  beskid_str_t huge_name = {(const uint8_t *)huge, 5000};
  ck_assert_int_eq(beskid_std_env_get(&got, &huge_name), BESKID_INVALID_INPUT);
  free(huge);
  beskid_str_t name = std_test_str("BESKID_STD_NUL");
  beskid_str_t nul_value = {(const uint8_t *)"a\0b", 3};
  ck_assert_int_eq(beskid_std_env_set(&name, &nul_value), BESKID_INVALID_INPUT);
  ck_assert_ptr_null(getenv("BESKID_STD_NUL"));
  /* A value set from outside that is not UTF-8 cannot be a string. */
  setenv("BESKID_STD_LATIN1", "caf\xe9", 1);
  beskid_str_t latin1 = std_test_str("BESKID_STD_LATIN1");
  ck_assert_int_eq(beskid_std_env_get(&got, &latin1), BESKID_INVALID_INPUT);
  ck_assert_int_eq(got.len, 0);
}
END_TEST

static void env_get_null_out(void) {
  beskid_str_t name = std_test_str("X");
  beskid_std_env_get(NULL, &name);
}
static void env_get_null_name(void) {
  beskid_str_t out;
  beskid_std_env_get(&out, NULL);
}
static void env_set_null_value(void) {
  beskid_str_t name = std_test_str("X");
  beskid_std_env_set(&name, NULL);
}
static void env_set_negative(void) {
  beskid_str_t name = std_test_str("X"), value = {(const uint8_t *)"v", -2};
  beskid_std_env_set(&name, &value);
}
static void env_unset_null_data(void) {
  beskid_str_t name = {NULL, 4};
  beskid_std_env_unset(&name);
}

START_TEST(test_env_traps) {
  STD_EXPECT_TRAP(env_get_null_out, "null_reference (1)", "beskid_std_env_get: NULL result");
  STD_EXPECT_TRAP(env_get_null_name, "null_reference (1)", "beskid_std_env_get: NULL string");
  STD_EXPECT_TRAP(env_set_null_value, "null_reference (1)", "beskid_std_env_set: NULL string");
  STD_EXPECT_TRAP(env_set_negative, "bounds (2)", "negative length -2");
  STD_EXPECT_TRAP(env_unset_null_data, "null_reference (1)", "NULL string data with a length");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Working directory and pid */

START_TEST(test_cwd_and_pid) {
  std_test_init(true);
  const char *dir = std_test_temp_dir();
  char real[4096];
  ck_assert_ptr_nonnull(realpath(dir, real));
  ck_assert_int_eq(chdir(real), 0);
  beskid_str_t cwd;
  ck_assert_int_eq(beskid_std_cwd(&cwd), BESKID_OK);
  ck_assert(std_test_str_is(cwd, real));
  ck_assert_int_eq(beskid_std_pid(), (int64_t)getpid());
  /* The working directory removed under us: not found, and the empty string. */
  ck_assert_int_eq(rmdir(real), 0);
  ck_assert_int_eq(beskid_std_cwd(&cwd), BESKID_NOT_FOUND);
  ck_assert_int_eq(cwd.len, 0);
}
END_TEST

static void cwd_null(void) { beskid_std_cwd(NULL); }

START_TEST(test_cwd_trap) {
  STD_EXPECT_TRAP(cwd_null, "null_reference (1)", "beskid_std_cwd: NULL result pointer");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Exit */

static int exit_report[2]; /* the child's atexit handler would report through this pipe */

/* Would run at exit: the program ends as when main returns, so it must not. */
static void report_runtime_state(void) {
  char c = 'H';
  (void)!write(exit_report[1], &c, 1);
}

static atomic_int other_ready;
static void *stay_attached(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  atomic_store(&other_ready, 1);
  for (;;) {
    beskid_array_t junk;
    array_new(&junk, 8, 8);
    beskid_gc_poll(beskid_rt_thread());
  }
  return NULL;
}

/* Forks a child that starts the runtime, prints without a newline through stdio (buffered), and
 * calls beskid_std_exit(status), with `others` more attached threads running. Returns the wait
 * status; *state receives the child's atexit report ('?' when none ran) and `out` its standard
 * output. */
static int run_exit_child(int64_t status, int others, char *state, char *out, size_t cap) {
  int out_pipe[2];
  ck_assert_int_eq(pipe(exit_report), 0);
  ck_assert_int_eq(pipe(out_pipe), 0);
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(exit_report[0]);
    close(out_pipe[0]);
    dup2(out_pipe[1], 1);
    ck_assert_int_eq(beskid_rt_init(NULL), 0);
    atexit(report_runtime_state);
    for (int i = 0; i < others; i++) {
      pthread_t t;
      pthread_create(&t, NULL, stay_attached, NULL);
      while (!atomic_load(&other_ready)) usleep(1000);
    }
    printf("buffered output");
    beskid_array_t junk;
    array_new(&junk, 8, 100);
    beskid_std_exit(status);
  }
  close(exit_report[1]);
  close(out_pipe[1]);
  *state = '?';
  (void)!read(exit_report[0], state, 1);
  size_t got = 0;
  ssize_t n;
  while (got + 1 < cap && (n = read(out_pipe[0], out + got, cap - 1 - got)) > 0) got += (size_t)n;
  out[got] = '\0';
  close(exit_report[0]);
  close(out_pipe[0]);
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  return ws;
}

START_TEST(test_exit_flushes_then_ends) {
  char state, out[64];
  int ws = run_exit_child(7, 0, &state, out, sizeof out);
  ck_assert(WIFEXITED(ws));
  ck_assert_int_eq(WEXITSTATUS(ws), 7);
  ck_assert_int_eq(state, '?'); /* no exit handler ran */
  ck_assert_str_eq(out, "buffered output");
  /* Only the low 8 bits reach the parent. */
  ws = run_exit_child(256 + 3, 0, &state, out, sizeof out);
  ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 3);
  ws = run_exit_child(-1, 0, &state, out, sizeof out);
  ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 255);
}
END_TEST

START_TEST(test_exit_with_other_threads_attached) {
  /* Another thread keeps allocating: the heap stays up for it, and the process still ends with
   * the status and its output. */
  for (int i = 0; i < 5; i++) {
    char state, out[64];
    int ws = run_exit_child(42, 1, &state, out, sizeof out);
    ck_assert_msg(WIFEXITED(ws), "run %d: killed by signal %d", i,
                  WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    ck_assert_int_eq(WEXITSTATUS(ws), 42);
    ck_assert_int_eq(state, '?');
    ck_assert_str_eq(out, "buffered output");
  }
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_process");
  TCase *tc = tcase_create("args");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_args);
  tcase_add_test(tc, test_args_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("env");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_env_get_set_unset);
  tcase_add_test(tc, test_env_long_values);
  tcase_add_test(tc, test_env_bad_input);
  tcase_add_test(tc, test_env_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("process");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_cwd_and_pid);
  tcase_add_test(tc, test_cwd_trap);
  tcase_add_test(tc, test_exit_flushes_then_ends);
  tcase_add_test(tc, test_exit_with_other_threads_attached);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
