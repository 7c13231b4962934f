/* check_support.c — shared runner, version test, seeded RNG, death tests and scratch directories
 * for the Beskid Check suites. */
#define _XOPEN_SOURCE 700
#include "check_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int beskid_test_run(Suite *suite) {
  SRunner *runner = srunner_create(suite);
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static const char *(*version_query)(void);
static const char *version_expected;
static const char *version_path;

static int is_semver(const char *s) {
  int parts = 0;
  while (*s) {
    if (*s < '0' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9') s++;
    parts++;
    if (*s == '.')
      s++;
    else if (*s)
      return 0;
  }
  return parts == 3;
}

START_TEST(test_version_matches_file) {
  const char *got = version_query();
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, version_expected);
  ck_assert_msg(is_semver(got), "'%s' is not MAJOR.MINOR.PATCH", got);
  FILE *f = fopen(version_path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", version_path);
  char line[64] = {0};
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  fclose(f);
  line[strcspn(line, "\r\n")] = '\0';
  ck_assert_str_eq(got, line);
}
END_TEST

TCase *beskid_test_version_case(const char *(*query)(void), const char *expected,
                                const char *version_file) {
  version_query = query;
  version_expected = expected;
  version_path = version_file;
  TCase *tc = tcase_create("version");
  tcase_add_test(tc, test_version_matches_file);
  return tc;
}

void beskid_test_rng_seed(beskid_test_rng *rng, unsigned long long seed) {
  rng->state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

unsigned long long beskid_test_rng_next(beskid_test_rng *rng) {
  unsigned long long x = rng->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng->state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

unsigned long long beskid_test_rng_below(beskid_test_rng *rng, unsigned long long bound) {
  return beskid_test_rng_next(rng) % bound;
}

int beskid_test_run_child(void (*fn)(void *), void *arg, char *out, size_t cap) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    fn(arg);
    _exit(0);
  }
  close(fds[1]);
  char rest[512];
  size_t got = 0;
  ssize_t n;
  /* Read to the end, keeping the first bytes: a child blocked on a full pipe never exits. */
  while ((n = got + 1 < cap ? read(fds[0], out + got, cap - 1 - got)
                            : read(fds[0], rest, sizeof rest)) > 0) {
    if (got + 1 < cap) got += (size_t)n;
  }
  out[got] = '\0';
  close(fds[0]);
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  return ws;
}

typedef struct plain_fn {
  void (*fn)(void);
} plain_fn;
static void call_plain(void *arg) { ((plain_fn *)arg)->fn(); }

void beskid_test_expect_exit(void (*fn)(void), int status, const char *const *needles) {
  char out[8192];
  plain_fn plain = {fn};
  int ws = beskid_test_run_child(call_plain, &plain, out, sizeof out);
  size_t got = strlen(out);
  ck_assert_msg(WIFEXITED(ws), "child did not exit normally; stderr: %s", out);
  ck_assert_msg(WEXITSTATUS(ws) == status, "exit %d, want %d; stderr: %s", WEXITSTATUS(ws), status,
                out);
  ck_assert_msg(got > 0 && out[got - 1] == '\n' && strchr(out, '\n') == out + got - 1,
                "want one line on stderr, got: '%s'", out);
  for (const char *const *s = needles; *s != NULL; s++) {
    ck_assert_msg(strstr(out, *s) != NULL, "stderr lacks '%s': %s", *s, out);
  }
}

/* Scratch directories: made by beskid_test_temp_dir, removed at exit by the process that made
 * them (a forked child shares the list but not the ownership). */
#define TEMP_DIRS_MAX 256
static char temp_dirs[TEMP_DIRS_MAX][512];
static pid_t temp_dir_owner[TEMP_DIRS_MAX];
static int temp_dir_count;

/* Pre-order, so that a directory the test made unreadable is opened again before its entries. */
static int open_up(const char *path, const struct stat *st, int kind, struct FTW *ftw) {
  (void)ftw;
  if (kind == FTW_D || kind == FTW_DNR) chmod(path, st->st_mode | S_IRWXU);
  return 0;
}

static int remove_entry(const char *path, const struct stat *st, int kind, struct FTW *ftw) {
  (void)st, (void)kind, (void)ftw;
  remove(path);
  return 0;
}

static void remove_temp_dirs(void) {
  /* A test run as root that set root aside to check permission errors (seteuid) takes it back:
   * its scratch directory belongs to root. */
  if (getuid() == 0 && geteuid() != 0) {
    if (seteuid(0) != 0 || setegid(0) != 0) return;
  }
  for (int i = 0; i < temp_dir_count; i++) {
    if (temp_dir_owner[i] != getpid()) continue;
    nftw(temp_dirs[i], open_up, 16, FTW_PHYS);
    nftw(temp_dirs[i], remove_entry, 16, FTW_PHYS | FTW_DEPTH);
  }
}

const char *beskid_test_temp_dir(const char *tag) {
  ck_assert_int_lt(temp_dir_count, TEMP_DIRS_MAX);
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0') base = "/tmp";
  char *dir = temp_dirs[temp_dir_count];
  int n = snprintf(dir, sizeof temp_dirs[0], "%s/beskid-%s-XXXXXX", base, tag);
  ck_assert(n > 0 && (size_t)n < sizeof temp_dirs[0]);
  ck_assert_msg(mkdtemp(dir) != NULL, "cannot make a directory in %s", base);
  if (temp_dir_count == 0) atexit(remove_temp_dirs);
  temp_dir_owner[temp_dir_count++] = getpid();
  return dir;
}
