/* test_fs.c — the filesystem area of libs/stdhost: reads and writes (the write atomic, also when
 * the writer is killed), appends, exists, stat, mkdir (-p), delete, rename and sorted listings,
 * with every status and trap; results checked to survive collections. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stdhost_test.h"

static char scratch[256]; /* this test's directory */

static void setup(void) { snprintf(scratch, sizeof scratch, "%s", std_test_temp_dir()); }

/* The path of `name` in the scratch directory, as a (C-backed) string; valid until the next
 * call with the same `slot` (0..3). */
static beskid_str_t path_of(int slot, const char *name) {
  static char paths[4][512];
  std_test_join(paths[slot], sizeof paths[slot], scratch, name);
  return std_test_str(paths[slot]);
}

/* Reads a whole file with the C library into buf; returns its length. */
static size_t slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

/* Names in the scratch directory (with the C library), to look for stray temporary files. */
static int count_entries(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
  FILE *p = popen(cmd, "r");
  int n = -1;
  ck_assert_int_eq(fscanf(p, "%d", &n), 1);
  pclose(p);
  return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading and writing whole files */

START_TEST(test_write_then_read_text) {
  std_test_init(true);
  setup();
  beskid_str_t path = path_of(0, "notes.txt"), text = std_test_str("zażółć gęślą jaźń\nline 2\n");
  ck_assert_int_eq(beskid_std_fs_write_text(&path, &text), BESKID_OK);
  char buf[128];
  size_t n = slurp((const char *)path.ptr, buf, sizeof buf);
  ck_assert_uint_eq(n, (size_t)text.len);
  ck_assert_int_eq(memcmp(buf, text.ptr, n), 0);
  beskid_str_t got;
  ck_assert_int_eq(beskid_std_fs_read_text(&got, &path), BESKID_OK);
  ck_assert(std_test_str_is(got, "zażółć gęślą jaźń\nline 2\n"));
  /* Replace with shorter text: no tail of the old contents remains. */
  beskid_str_t shorter = std_test_str("short");
  ck_assert_int_eq(beskid_std_fs_write_text(&path, &shorter), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_read_text(&got, &path), BESKID_OK);
  ck_assert(std_test_str_is(got, "short"));
  /* Empty text: an empty file, read back as "". */
  beskid_str_t empty = {NULL, 0};
  ck_assert_int_eq(beskid_std_fs_write_text(&path, &empty), BESKID_OK);
  struct stat st;
  ck_assert_int_eq(stat((const char *)path.ptr, &st), 0);
  ck_assert_int_eq(st.st_size, 0);
  got = std_test_str("stale");
  ck_assert_int_eq(beskid_std_fs_read_text(&got, &path), BESKID_OK);
  ck_assert_int_eq(got.len, 0);
  ck_assert_int_eq(count_entries(scratch), 1); /* no temporary file left behind */
}
END_TEST

START_TEST(test_read_bytes_and_invalid_text) {
  std_test_init(true);
  setup();
  beskid_str_t path = path_of(0, "blob.bin");
  const uint8_t blob[] = {0x00, 0xff, 0x10, 0xc3, 0x28, 0x00, 'z'};
  std_test_write_file((const char *)path.ptr, blob, sizeof blob);
  beskid_array_t bytes;
  ck_assert_int_eq(beskid_std_fs_read_bytes(&bytes, &path), BESKID_OK);
  ck_assert_int_eq(bytes.len, (int64_t)sizeof blob);
  ck_assert_int_eq(bytes.cap, bytes.len);
  ck_assert_int_eq(memcmp(bytes.ptr, blob, sizeof blob), 0);
  beskid_str_t text = std_test_str("stale");
  ck_assert_int_eq(beskid_std_fs_read_text(&text, &path), BESKID_INVALID_INPUT);
  ck_assert_int_eq(text.len, 0);
  /* An empty file is an empty array. */
  beskid_str_t empty_path = path_of(1, "empty");
  std_test_write_file((const char *)empty_path.ptr, "", 0);
  ck_assert_int_eq(beskid_std_fs_read_bytes(&bytes, &empty_path), BESKID_OK);
  ck_assert_int_eq(bytes.len, 0);
  ck_assert_ptr_null(bytes.ptr);
}
END_TEST

START_TEST(test_large_file_round_trip_survives_collection) {
  std_test_init(false);
  setup();
  enum { SIZE = 3 << 20 };
  char *data = malloc(SIZE);
  for (size_t i = 0; i < SIZE; i++) data[i] = (char)(' ' + (i * 7 + i / 1000) % 90);
  beskid_str_t path = path_of(0, "big.txt"), text = {(const uint8_t *)data, SIZE};
  ck_assert_int_eq(beskid_std_fs_write_text(&path, &text), BESKID_OK);
  beskid_str_t got;
  ck_assert_int_eq(beskid_std_fs_read_text(&got, &path), BESKID_OK);
  void *root = (void *)(uintptr_t)got.ptr;
  gc_register_root(&root);
  for (int i = 0; i < 3; i++) {
    for (int k = 0; k < 5000; k++) {
      beskid_array_t junk;
      array_new(&junk, 16, 4);
    }
    gc_collect();
  }
  ck_assert_int_eq(gc_heap_verify(), 1);
  ck_assert_int_eq(got.len, SIZE);
  ck_assert_int_eq(memcmp(got.ptr, data, SIZE), 0);
  gc_unregister_root(&root);
  free(data);
}
END_TEST

START_TEST(test_read_special_files) {
  std_test_init(false);
  setup();
  /* /proc files report size 0 but have contents: read until the end, growing as needed. */
  beskid_str_t smaps = std_test_str("/proc/self/smaps"), text;
  ck_assert_int_eq(beskid_std_fs_read_text(&text, &smaps), BESKID_OK);
  ck_assert_int_gt(text.len, 3 * 4096); /* more than the first guess: grown twice */
  ck_assert_ptr_nonnull(memmem(text.ptr, (size_t)text.len, "[stack]", 7));
  ck_assert_ptr_nonnull(memmem(text.ptr, (size_t)text.len, "Rss:", 4));
  /* A directory is not a file. */
  beskid_str_t dir = std_test_str(scratch);
  ck_assert_int_eq(beskid_std_fs_read_text(&text, &dir), BESKID_IO_ERROR);
  ck_assert_int_eq(text.len, 0);
}
END_TEST

START_TEST(test_read_write_errors) {
  std_test_init(false);
  setup();
  beskid_str_t missing = path_of(0, "missing.txt"), text;
  ck_assert_int_eq(beskid_std_fs_read_text(&text, &missing), BESKID_NOT_FOUND);
  beskid_array_t bytes;
  ck_assert_int_eq(beskid_std_fs_read_bytes(&bytes, &missing), BESKID_NOT_FOUND);
  ck_assert_int_eq(bytes.len, 0);
  beskid_str_t no_dir = path_of(1, "no/such/dir/file.txt"), hello = std_test_str("hello");
  ck_assert_int_eq(beskid_std_fs_write_text(&no_dir, &hello), BESKID_NOT_FOUND);
  ck_assert_int_eq(beskid_std_fs_append_text(&no_dir, &hello), BESKID_NOT_FOUND);
  /* A directory in the way: refused, and no temporary file stays. */
  beskid_str_t sub = path_of(2, "sub");
  ck_assert_int_eq(beskid_std_fs_mkdir(&sub, false), BESKID_OK);
  ck_assert_int_ne(beskid_std_fs_write_text(&sub, &hello), BESKID_OK);
  ck_assert_int_eq(count_entries(scratch), 1);
  /* A path that names no file. */
  char dir_slash[300];
  snprintf(dir_slash, sizeof dir_slash, "%s/", scratch);
  beskid_str_t trailing = std_test_str(dir_slash);
  ck_assert_int_eq(beskid_std_fs_write_text(&trailing, &hello), BESKID_INVALID_INPUT);
}
END_TEST

START_TEST(test_permission_denied) {
  std_test_init(false);
  setup();
  beskid_str_t secret = path_of(0, "secret"), locked = path_of(1, "locked"),
               inside = path_of(2, "locked/new"), text = std_test_str("old");
  ck_assert_int_eq(beskid_std_fs_write_text(&secret, &text), BESKID_OK);
  ck_assert_int_eq(chmod((const char *)secret.ptr, 0), 0);
  ck_assert_int_eq(beskid_std_fs_mkdir(&locked, false), BESKID_OK);
  ck_assert_int_eq(chmod((const char *)locked.ptr, 0555), 0);
  ck_assert_int_eq(chmod(scratch, 0755), 0);
  if (geteuid() == 0) { /* root ignores permission bits: this forked test sets them aside */
    ck_assert_int_eq(setegid(65534), 0);
    ck_assert_int_eq(seteuid(65534), 0);
  }
  beskid_str_t got;
  ck_assert_int_eq(beskid_std_fs_read_text(&got, &secret), BESKID_PERMISSION_DENIED);
  beskid_str_t fresh = std_test_str("new");
  ck_assert_int_eq(beskid_std_fs_write_text(&inside, &fresh), BESKID_PERMISSION_DENIED);
  ck_assert_int_eq(beskid_std_fs_write_text(&secret, &fresh), BESKID_PERMISSION_DENIED);
  ck_assert_int_eq(beskid_std_fs_append_text(&secret, &fresh), BESKID_PERMISSION_DENIED);
  ck_assert_int_eq(beskid_std_fs_mkdir(&inside, false), BESKID_PERMISSION_DENIED);
  ck_assert_int_eq(beskid_std_fs_delete(&secret), BESKID_PERMISSION_DENIED);
}
END_TEST

START_TEST(test_append) {
  std_test_init(false);
  setup();
  beskid_str_t path = path_of(0, "log"), a = std_test_str("one\n"), b = std_test_str("two\n");
  ck_assert_int_eq(beskid_std_fs_append_text(&path, &a), BESKID_OK); /* creates */
  ck_assert_int_eq(beskid_std_fs_append_text(&path, &b), BESKID_OK);
  beskid_str_t empty = {NULL, 0};
  ck_assert_int_eq(beskid_std_fs_append_text(&path, &empty), BESKID_OK);
  beskid_str_t got;
  ck_assert_int_eq(beskid_std_fs_read_text(&got, &path), BESKID_OK);
  ck_assert(std_test_str_is(got, "one\ntwo\n"));
}
END_TEST

/* The writer killed at a random moment: the file holds one whole version, never a mix. */
START_TEST(test_write_is_atomic_when_killed) {
  setup();
  enum { SIZE = 1 << 20 };
  char *a = malloc(SIZE), *b = malloc(SIZE), *got = malloc(SIZE + 1);
  memset(a, 'a', SIZE);
  memset(b, 'b', SIZE);
  char path[512];
  std_test_join(path, sizeof path, scratch, "target");
  std_test_write_file(path, a, SIZE);
  struct timespec seed;
  clock_gettime(CLOCK_MONOTONIC, &seed);
  srand((unsigned)seed.tv_nsec);
  for (int round = 0; round < 12; round++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      beskid_rt_init(NULL);
      beskid_str_t p = std_test_str(path);
      beskid_str_t texts[2] = {{(const uint8_t *)b, SIZE}, {(const uint8_t *)a, SIZE}};
      for (int i = 0;; i++) beskid_std_fs_write_text(&p, &texts[i % 2]);
    }
    usleep((useconds_t)(2000 + rand() % 30000));
    kill(pid, SIGKILL);
    int ws;
    waitpid(pid, &ws, 0);
    size_t n = slurp(path, got, SIZE + 1);
    ck_assert_uint_eq(n, SIZE);
    ck_assert(memcmp(got, a, SIZE) == 0 || memcmp(got, b, SIZE) == 0);
  }
  /* The target plus at most a temporary file per killed writer; never a torn target. */
  ck_assert_int_le(count_entries(scratch), 13);
  free(a);
  free(b);
  free(got);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Metadata */

START_TEST(test_exists_and_stat) {
  std_test_init(false);
  setup();
  beskid_str_t file = path_of(0, "f.txt"), dir = std_test_str(scratch),
               missing = path_of(1, "nope"), text = std_test_str("12345");
  ck_assert_int_eq(beskid_std_fs_exists(&file), BESKID_NOT_FOUND);
  ck_assert_int_eq(beskid_std_fs_write_text(&file, &text), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_exists(&file), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_exists(&dir), BESKID_OK);
  int64_t size = -1, mtime = -1;
  int32_t kind = -1;
  ck_assert_int_eq(beskid_std_fs_stat(&file, &size, &kind, &mtime), BESKID_OK);
  ck_assert_int_eq(size, 5);
  ck_assert_int_eq(kind, BESKID_STD_FILE_REGULAR);
  int64_t now = beskid_std_time_realtime_ns();
  ck_assert_int_lt(llabs(now - mtime), 60 * INT64_C(1000000000));
  ck_assert_int_eq(beskid_std_fs_stat(&dir, &size, &kind, NULL), BESKID_OK);
  ck_assert_int_eq(kind, BESKID_STD_FILE_DIRECTORY);
  beskid_str_t null_dev = std_test_str("/dev/null");
  ck_assert_int_eq(beskid_std_fs_stat(&null_dev, NULL, &kind, NULL), BESKID_OK);
  ck_assert_int_eq(kind, BESKID_STD_FILE_OTHER);
  ck_assert_int_eq(beskid_std_fs_stat(&missing, &size, &kind, &mtime), BESKID_NOT_FOUND);
  ck_assert_int_eq(size, 0);
  ck_assert_int_eq(kind, 0);
  ck_assert_int_eq(mtime, 0);
  ck_assert_int_eq(beskid_std_fs_stat(&file, NULL, NULL, NULL), BESKID_OK);
  /* through a file: not found */
  beskid_str_t through = path_of(2, "f.txt/x");
  ck_assert_int_eq(beskid_std_fs_exists(&through), BESKID_NOT_FOUND);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Directories */

START_TEST(test_mkdir) {
  std_test_init(false);
  setup();
  beskid_str_t a = path_of(0, "a"), abc = path_of(1, "a/b/c"), xyz = path_of(2, "x//y/z/");
  ck_assert_int_eq(beskid_std_fs_mkdir(&a, false), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_mkdir(&a, false), BESKID_ALREADY_EXISTS);
  ck_assert_int_eq(beskid_std_fs_mkdir(&a, true), BESKID_OK); /* -p: existing is fine */
  ck_assert_int_eq(beskid_std_fs_mkdir(&abc, false), BESKID_NOT_FOUND);
  ck_assert_int_eq(beskid_std_fs_mkdir(&abc, true), BESKID_OK);
  int32_t kind = -1;
  ck_assert_int_eq(beskid_std_fs_stat(&abc, NULL, &kind, NULL), BESKID_OK);
  ck_assert_int_eq(kind, BESKID_STD_FILE_DIRECTORY);
  ck_assert_int_eq(beskid_std_fs_mkdir(&xyz, true), BESKID_OK); /* doubled and trailing '/' */
  beskid_str_t z = path_of(3, "x/y/z");
  ck_assert_int_eq(beskid_std_fs_exists(&z), BESKID_OK);
  /* A file in the way. */
  beskid_str_t file = path_of(0, "file"), text = std_test_str("x");
  ck_assert_int_eq(beskid_std_fs_write_text(&file, &text), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_mkdir(&file, true), BESKID_ALREADY_EXISTS);
  ck_assert_int_eq(beskid_std_fs_mkdir(&file, false), BESKID_ALREADY_EXISTS);
  beskid_str_t under_file = path_of(1, "file/sub/dir");
  ck_assert_int_eq(beskid_std_fs_mkdir(&under_file, true), BESKID_NOT_FOUND);
  /* An absolute path from the root, all of whose parents exist. */
  char abs[512];
  std_test_join(abs, sizeof abs, scratch, "abs/olute");
  beskid_str_t absolute = std_test_str(abs);
  ck_assert_int_eq(beskid_std_fs_mkdir(&absolute, true), BESKID_OK);
  beskid_str_t root = std_test_str("/");
  ck_assert_int_eq(beskid_std_fs_mkdir(&root, true), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_mkdir(&root, false), BESKID_ALREADY_EXISTS);
}
END_TEST

START_TEST(test_delete_and_rename) {
  std_test_init(false);
  setup();
  beskid_str_t f = path_of(0, "f"), g = path_of(1, "g"), d = path_of(2, "d"),
               inner = path_of(3, "d/inner"), one = std_test_str("one"), two = std_test_str("two");
  ck_assert_int_eq(beskid_std_fs_write_text(&f, &one), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_rename(&f, &g), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_exists(&f), BESKID_NOT_FOUND);
  ck_assert_int_eq(beskid_std_fs_write_text(&f, &two), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_rename(&f, &g), BESKID_OK); /* replaces */
  beskid_str_t got;
  ck_assert_int_eq(beskid_std_fs_read_text(&got, &g), BESKID_OK);
  ck_assert(std_test_str_is(got, "two"));
  ck_assert_int_eq(beskid_std_fs_rename(&f, &g), BESKID_NOT_FOUND);
  ck_assert_int_eq(beskid_std_fs_mkdir(&inner, true), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_rename(&d, &inner), BESKID_INVALID_INPUT); /* into itself */
  ck_assert_int_eq(beskid_std_fs_delete(&d), BESKID_ALREADY_EXISTS);        /* not empty */
  ck_assert_int_eq(beskid_std_fs_delete(&inner), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_delete(&d), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_delete(&g), BESKID_OK);
  ck_assert_int_eq(beskid_std_fs_delete(&g), BESKID_NOT_FOUND);
  ck_assert_int_eq(count_entries(scratch), 0);
}
END_TEST

START_TEST(test_list_dir_sorted) {
  std_test_init(true);
  setup();
  const char *names[] = {"zeta", "Alpha", "beta", "żaba", "b", ".hidden", "a b", "10", "9"};
  enum { COUNT = 9 };
  for (int i = 0; i < COUNT; i++) {
    beskid_str_t p = path_of(0, names[i]), text = std_test_str(names[i]);
    ck_assert_int_eq(beskid_std_fs_write_text(&p, &text), BESKID_OK);
  }
  beskid_str_t sub = path_of(0, "subdir");
  ck_assert_int_eq(beskid_std_fs_mkdir(&sub, false), BESKID_OK);
  beskid_str_t dir = std_test_str(scratch);
  beskid_array_t list;
  ck_assert_int_eq(beskid_std_fs_list_dir(&list, &dir), BESKID_OK);
  void *root = list.ptr;
  gc_register_root(&root);
  gc_collect(); /* the names live through the array alone */
  ck_assert_int_eq(gc_heap_verify(), 1);
  const char *want[] = {".hidden", "10",   "9",      "Alpha", "a b",
                        "b",       "beta", "subdir", "zeta",  "żaba"};
  ck_assert_int_eq(list.len, COUNT + 1);
  ck_assert_int_eq(list.cap, list.len);
  for (int i = 0; i <= COUNT; i++) {
    ck_assert_msg(std_test_str_is(((beskid_str_t *)list.ptr)[i], want[i]), "entry %d", i);
  }
  gc_unregister_root(&root);
  /* An empty directory is an empty array. */
  beskid_str_t empty_dir = path_of(1, "subdir");
  ck_assert_int_eq(beskid_std_fs_list_dir(&list, &empty_dir), BESKID_OK);
  ck_assert_int_eq(list.len, 0);
  beskid_str_t missing = path_of(2, "missing"), file = path_of(3, "zeta");
  ck_assert_int_eq(beskid_std_fs_list_dir(&list, &missing), BESKID_NOT_FOUND);
  ck_assert_int_eq(beskid_std_fs_list_dir(&list, &file), BESKID_NOT_FOUND);
  /* A name that is not UTF-8 cannot be listed as a string. */
  char latin1[512];
  std_test_join(latin1, sizeof latin1, scratch, "subdir/caf\xe9");
  std_test_write_file(latin1, "", 0);
  ck_assert_int_eq(beskid_std_fs_list_dir(&list, &empty_dir), BESKID_INVALID_INPUT);
  ck_assert_int_eq(list.len, 0);
}
END_TEST

START_TEST(test_list_large_dir) {
  std_test_init(false);
  setup();
  enum { FILES = 3000 };
  char name[32], path[512];
  for (int i = FILES - 1; i >= 0; i--) {
    snprintf(name, sizeof name, "file-%05d", i);
    std_test_join(path, sizeof path, scratch, name);
    std_test_write_file(path, "", 0);
  }
  beskid_str_t dir = std_test_str(scratch);
  beskid_array_t list;
  ck_assert_int_eq(beskid_std_fs_list_dir(&list, &dir), BESKID_OK);
  ck_assert_int_eq(list.len, FILES);
  for (int i = 0; i < FILES; i++) {
    snprintf(name, sizeof name, "file-%05d", i);
    ck_assert(std_test_str_is(((beskid_str_t *)list.ptr)[i], name));
  }
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Bad paths and traps */

START_TEST(test_bad_paths) {
  std_test_init(false);
  setup();
  char *long_path = malloc(5000);
  memset(long_path, 'p', 5000);
  beskid_str_t bad[] = {
      {NULL, 0},                          /* empty */
      {(const uint8_t *)"a\0b", 3},       /* NUL inside */
      {(const uint8_t *)long_path, 5000}, /* too long */
  };
  beskid_str_t text = std_test_str("x"), good = path_of(0, "good"), out;
  beskid_array_t bytes;
  int64_t size;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(beskid_std_fs_read_text(&out, &bad[i]), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_read_bytes(&bytes, &bad[i]), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_write_text(&bad[i], &text), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_append_text(&bad[i], &text), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_exists(&bad[i]), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_stat(&bad[i], &size, NULL, NULL), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_mkdir(&bad[i], true), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_delete(&bad[i]), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_rename(&bad[i], &good), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_rename(&good, &bad[i]), BESKID_INVALID_INPUT);
    ck_assert_int_eq(beskid_std_fs_list_dir(&bytes, &bad[i]), BESKID_INVALID_INPUT);
  }
  /* "a\0b" must not have touched "a". */
  ck_assert_int_eq(access("a", F_OK), -1);
  free(long_path);
}
END_TEST

static void read_null_path(void) {
  beskid_str_t out;
  beskid_std_fs_read_text(&out, NULL);
}
static void read_null_out(void) {
  beskid_str_t p = std_test_str("/tmp");
  beskid_std_fs_read_text(NULL, &p);
}
static void bytes_null_out(void) {
  beskid_str_t p = std_test_str("/tmp");
  beskid_std_fs_read_bytes(NULL, &p);
}
static void list_null_out(void) {
  beskid_str_t p = std_test_str("/tmp");
  beskid_std_fs_list_dir(NULL, &p);
}
static void write_null_text(void) {
  beskid_str_t p = std_test_str("/tmp/x");
  beskid_std_fs_write_text(&p, NULL);
}
static void write_negative_text(void) {
  beskid_str_t p = std_test_str("/tmp/x"), t = {(const uint8_t *)"x", -1};
  beskid_std_fs_write_text(&p, &t);
}
static void mkdir_null_data(void) {
  beskid_str_t p = {NULL, 3};
  beskid_std_fs_mkdir(&p, false);
}
static void rename_null_to(void) {
  beskid_str_t p = std_test_str("/tmp/x");
  beskid_std_fs_rename(&p, NULL);
}
static void read_unattached(void) {
  beskid_str_t out, p = std_test_str("/etc/hostname");
  beskid_std_fs_read_text(&out, &p); /* allocates: needs the runtime */
}

START_TEST(test_fs_traps) {
  STD_EXPECT_TRAP(read_null_path, "null_reference (1)", "beskid_std_fs_read_text: NULL string");
  STD_EXPECT_TRAP(read_null_out, "null_reference (1)", "read_text: NULL result pointer");
  STD_EXPECT_TRAP(bytes_null_out, "null_reference (1)", "read_bytes: NULL result pointer");
  STD_EXPECT_TRAP(list_null_out, "null_reference (1)", "list_dir: NULL result pointer");
  STD_EXPECT_TRAP(write_null_text, "null_reference (1)", "write_text: NULL string");
  STD_EXPECT_TRAP(write_negative_text, "bounds (2)", "negative length");
  STD_EXPECT_TRAP(mkdir_null_data, "null_reference (1)", "NULL string data with a length");
  STD_EXPECT_TRAP(rename_null_to, "null_reference (1)", "beskid_std_fs_rename: NULL string");
  STD_EXPECT_TRAP(read_unattached, "runtime_internal_corruption (10)", "not running");
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_fs");
  TCase *tc = tcase_create("files");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_write_then_read_text);
  tcase_add_test(tc, test_read_bytes_and_invalid_text);
  tcase_add_test(tc, test_large_file_round_trip_survives_collection);
  tcase_add_test(tc, test_read_special_files);
  tcase_add_test(tc, test_read_write_errors);
  tcase_add_test(tc, test_permission_denied);
  tcase_add_test(tc, test_append);
  tcase_add_test(tc, test_write_is_atomic_when_killed);
  tcase_add_test(tc, test_exists_and_stat);
  suite_add_tcase(suite, tc);
  tc = tcase_create("directories");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_mkdir);
  tcase_add_test(tc, test_delete_and_rename);
  tcase_add_test(tc, test_list_dir_sorted);
  tcase_add_test(tc, test_list_large_dir);
  suite_add_tcase(suite, tc);
  tc = tcase_create("errors");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_bad_paths);
  tcase_add_test(tc, test_fs_traps);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
