/* test_console.c — the console area of libs/stdhost: writes (strings, byte ranges, partial
 * writes, interrupted writes), reads, lines, terminals, every trap, and that a thread blocked in
 * a read, a line read or a sleep never holds up a collection. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "stdhost_test.h"

/* A closed descriptor: opened, then closed, so nothing else holds its number in this test. */
static int closed_fd(void) {
  int fd = dup(2);
  ck_assert_int_ge(fd, 0);
  close(fd);
  return fd;
}

/* Reads exactly `len` bytes from fd with the C library. */
static void read_exactly(int fd, char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    ck_assert_int_gt(n, 0);
    got += (size_t)n;
  }
}

/* A managed byte array of `len` bytes holding `text` (repeated if shorter). */
static beskid_array_t byte_array(int64_t len, const char *text) {
  beskid_array_t a;
  array_new(&a, 1, len);
  size_t n = strlen(text);
  for (int64_t i = 0; i < len && n > 0; i++) ((uint8_t *)a.ptr)[i] = (uint8_t)text[(size_t)i % n];
  return a;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

START_TEST(test_write_string_and_bytes) {
  std_test_init(false);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  beskid_str_t hello = std_test_str("hello, wörld\n");
  ck_assert_int_eq(beskid_std_console_write(fds[1], &hello), hello.len);
  char buf[64] = {0};
  read_exactly(fds[0], buf, (size_t)hello.len);
  ck_assert_str_eq(buf, "hello, wörld\n");

  /* A heap string works the same. */
  beskid_str_t heap;
  str_new(&heap, (const uint8_t *)"managed", 7);
  ck_assert_int_eq(beskid_std_console_write(fds[1], &heap), 7);
  memset(buf, 0, sizeof buf);
  read_exactly(fds[0], buf, 7);
  ck_assert_str_eq(buf, "managed");

  /* A byte range: elements 2..5 of "abcdefgh". */
  beskid_array_t bytes = byte_array(8, "abcdefgh");
  ck_assert_int_eq(beskid_std_console_write_bytes(fds[1], &bytes, 2, 4), 4);
  memset(buf, 0, sizeof buf);
  read_exactly(fds[0], buf, 4);
  ck_assert_str_eq(buf, "cdef");
  ck_assert_int_eq(beskid_std_console_write_bytes(fds[1], &bytes, 8, 0), 0); /* empty at the end */
  close(fds[0]);
  close(fds[1]);
}
END_TEST

START_TEST(test_zero_length_write_makes_no_syscall) {
  std_test_init(false);
  /* On a closed descriptor any system call fails: 0, not -1, shows none was made. */
  int fd = closed_fd();
  beskid_str_t empty = {NULL, 0};
  ck_assert_int_eq(beskid_std_console_write(fd, &empty), 0);
  beskid_str_t empty_slice = {(const uint8_t *)"abc", 0};
  ck_assert_int_eq(beskid_std_console_write(fd, &empty_slice), 0);
  beskid_array_t none = {NULL, 0, 0};
  ck_assert_int_eq(beskid_std_console_write_bytes(fd, &none, 0, 0), 0);
  /* ... and a non-empty write there reports the failure. */
  beskid_str_t x = std_test_str("x");
  ck_assert_int_eq(beskid_std_console_write(fd, &x), -1);
  ck_assert_int_eq(beskid_std_console_write(-1, &x), -1);
  ck_assert_int_eq(beskid_std_console_write(INT64_C(1) << 40, &x), -1);
  static uint8_t two[2] = {'a', 'b'};
  beskid_array_t ab = {two, 2, 2};
  ck_assert_int_eq(beskid_std_console_write_bytes(fd, &ab, 0, 2), -1);
}
END_TEST

enum { BIG = 4 << 20 }; /* far more than a pipe holds: forces partial writes */

typedef struct drain_arg {
  int fd;
  uint64_t sum, total;
  bool slow;
} drain_arg;

static void *drain(void *p) {
  drain_arg *d = p;
  static char buf[8192];
  ssize_t n;
  while ((n = read(d->fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) d->sum = d->sum * 31 + (uint8_t)buf[i];
    d->total += (uint64_t)n;
    if (d->slow) usleep(200);
  }
  return NULL;
}

static uint64_t checksum(const char *bytes, size_t len) {
  uint64_t sum = 0;
  for (size_t i = 0; i < len; i++) sum = sum * 31 + (uint8_t)bytes[i];
  return sum;
}

START_TEST(test_partial_writes_loop) {
  std_test_init(false);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  char *data = malloc(BIG);
  for (size_t i = 0; i < BIG; i++) data[i] = (char)('a' + i % 26);
  drain_arg d = {fds[0], 0, 0, false};
  pthread_t t;
  pthread_create(&t, NULL, drain, &d);
  beskid_str_t s = {(const uint8_t *)data, BIG};
  ck_assert_int_eq(beskid_std_console_write(fds[1], &s), BIG);
  close(fds[1]);
  pthread_join(t, NULL);
  ck_assert_uint_eq(d.total, BIG);
  ck_assert_uint_eq(d.sum, checksum(data, BIG));
  close(fds[0]);
  free(data);
}
END_TEST

static void on_signal(int sig) { (void)sig; }

typedef struct writer_arg {
  int fd;
  const char *data;
  int64_t result;
  atomic_int done;
} writer_arg;

static void *write_big(void *p) {
  writer_arg *w = p;
  beskid_rt_thread_attach();
  beskid_str_t s = {(const uint8_t *)w->data, BIG};
  w->result = beskid_std_console_write(w->fd, &s);
  atomic_store(&w->done, 1);
  beskid_rt_thread_detach();
  return NULL;
}

START_TEST(test_interrupted_writes_loop) {
  std_test_init(false);
  /* A handler without SA_RESTART: each signal makes the blocked write return EINTR or short. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  char *data = malloc(BIG);
  for (size_t i = 0; i < BIG; i++) data[i] = (char)(i * 7 + i / 4096);
  writer_arg w = {fds[1], data, 0, 0};
  pthread_t writer, reader;
  pthread_create(&writer, NULL, write_big, &w);
  drain_arg d = {fds[0], 0, 0, true}; /* slow: the writer spends its time blocked */
  pthread_create(&reader, NULL, drain, &d);
  int signals = 0;
  while (!atomic_load(&w.done)) {
    pthread_kill(writer, SIGUSR1);
    signals++;
    usleep(1000);
  }
  pthread_join(writer, NULL);
  close(fds[1]);
  pthread_join(reader, NULL);
  ck_assert_int_gt(signals, 10);
  ck_assert_int_eq(w.result, BIG);
  ck_assert_uint_eq(d.total, BIG);
  ck_assert_uint_eq(d.sum, checksum(data, BIG));
  close(fds[0]);
  free(data);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Reading */

START_TEST(test_read_into_range_and_eof) {
  std_test_init(false);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(write(fds[1], "abcdef", 6), 6);
  beskid_array_t buf = byte_array(10, "-");
  void *root = buf.ptr;
  ck_assert_int_eq(gc_register_root(&root), 1);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 3, 4), 4); /* at most count */
  ck_assert_int_eq(memcmp(buf.ptr, "---abcd---", 10), 0);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 0, 10), 2); /* what one read returns */
  ck_assert_int_eq(memcmp(buf.ptr, "ef-abcd---", 10), 0);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 0, 0), 0); /* no system call */
  close(fds[1]);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 0, 10), 0); /* end of file */
  close(fds[0]);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 0, 10), -1); /* closed */
  ck_assert_int_eq(beskid_std_console_read(-3, &buf, 0, 10), -1);
  gc_unregister_root(&root);
}
END_TEST

/* Reads every line of fd until end of file into `lines` (C strings); returns how many. */
static int read_lines(int fd, char lines[][64], int max, int32_t *last_status) {
  int n = 0;
  for (;;) {
    beskid_str_t line;
    int32_t st = beskid_std_console_read_line(fd, &line);
    if (st != BESKID_OK) {
      *last_status = st;
      ck_assert_int_eq(line.len, 0);
      return n;
    }
    ck_assert_int_lt(n, max);
    ck_assert_int_lt(line.len, 64);
    if (line.len > 0) memcpy(lines[n], line.ptr, (size_t)line.len);
    lines[n][line.len] = '\0';
    n++;
  }
}

START_TEST(test_read_lines) {
  std_test_init(true);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  const char *input = "first\nsecond\r\n\n  spaced  \nżółw\nno newline at the end";
  ck_assert_int_eq(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
  close(fds[1]);
  char lines[8][64];
  int32_t st = -1;
  int n = read_lines(fds[0], lines, 8, &st);
  ck_assert_int_eq(st, BESKID_END_OF_FILE);
  ck_assert_int_eq(n, 6);
  ck_assert_str_eq(lines[0], "first");
  ck_assert_str_eq(lines[1], "second"); /* the \r of \r\n goes too */
  ck_assert_str_eq(lines[2], "");
  ck_assert_str_eq(lines[3], "  spaced  ");
  ck_assert_str_eq(lines[4], "żółw");
  ck_assert_str_eq(lines[5], "no newline at the end");
  beskid_str_t line = std_test_str("stale");
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_END_OF_FILE); /* again */
  ck_assert_int_eq(line.len, 0);
  close(fds[0]);
}
END_TEST

START_TEST(test_read_line_edge_cases) {
  std_test_init(false);
  /* An empty input is end of file at once; a lone "\n" is one empty line. */
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  close(fds[1]);
  beskid_str_t line;
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_END_OF_FILE);
  close(fds[0]);
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(write(fds[1], "\n", 1), 1);
  close(fds[1]);
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_OK);
  ck_assert_int_eq(line.len, 0);
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_END_OF_FILE);
  close(fds[0]);

  /* A line that is not UTF-8 is consumed and refused; the next one is fine. */
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(write(fds[1], "ok\nbad \xff\xfe\nafter\n", 16), 16);
  close(fds[1]);
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_OK);
  ck_assert(std_test_str_is(line, "ok"));
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_INVALID_INPUT);
  ck_assert_int_eq(line.len, 0);
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_OK);
  ck_assert(std_test_str_is(line, "after"));
  close(fds[0]);

  /* Descriptors that are not open. */
  ck_assert_int_eq(beskid_std_console_read_line(closed_fd(), &line), BESKID_INVALID_INPUT);
  ck_assert_int_eq(beskid_std_console_read_line(-1, &line), BESKID_INVALID_INPUT);
  ck_assert_int_eq(beskid_std_console_read_line(INT64_MAX, &line), BESKID_INVALID_INPUT);
}
END_TEST

typedef struct feed_arg {
  int fd;
  const char *data;
  size_t len, chunk;
} feed_arg;

static void *feed(void *p) {
  feed_arg *f = p;
  for (size_t off = 0; off < f->len; off += f->chunk) {
    size_t n = f->len - off < f->chunk ? f->len - off : f->chunk;
    ck_assert_int_eq(write(f->fd, f->data + off, n), (ssize_t)n);
  }
  close(f->fd);
  return NULL;
}

START_TEST(test_read_long_lines_in_pieces) {
  std_test_init(false);
  /* Lines of 300 000 bytes (past the 64 KiB read block, and the 1 MiB shrink point in total)
   * arriving 1000 bytes at a time, with short lines between. */
  enum { LONG = 300000, LINES = 5 };
  size_t len = LINES * (LONG + 1 + 6);
  char *data = malloc(len);
  size_t at = 0;
  for (int i = 0; i < LINES; i++) {
    for (int k = 0; k < LONG; k++) data[at++] = (char)('a' + (k + i) % 26);
    data[at++] = '\n';
    memcpy(data + at, "short\n", 6);
    at += 6;
  }
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  feed_arg f = {fds[1], data, len, 1000};
  pthread_t t;
  pthread_create(&t, NULL, feed, &f);
  for (int i = 0; i < LINES; i++) {
    beskid_str_t line;
    ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_OK);
    ck_assert_int_eq(line.len, LONG);
    ck_assert_int_eq(memcmp(line.ptr, data + (size_t)i * (LONG + 7), LONG), 0);
    ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_OK);
    ck_assert(std_test_str_is(line, "short"));
  }
  beskid_str_t line;
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_END_OF_FILE);
  pthread_join(t, NULL);
  close(fds[0]);
  free(data);
}
END_TEST

START_TEST(test_read_after_read_line_keeps_order) {
  std_test_init(false);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(write(fds[1], "head\nbody bytes", 15), 15);
  beskid_str_t line;
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_OK);
  ck_assert(std_test_str_is(line, "head"));
  /* The read-ahead bytes come first, then the descriptor again. */
  beskid_array_t buf = byte_array(32, " ");
  void *root = buf.ptr;
  gc_register_root(&root);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 0, 4), 4);
  ck_assert_int_eq(memcmp(buf.ptr, "body", 4), 0);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 0, 32), 6);
  ck_assert_int_eq(memcmp(buf.ptr, " bytes", 6), 0);
  ck_assert_int_eq(write(fds[1], "tail\n", 5), 5);
  ck_assert_int_eq(beskid_std_console_read(fds[0], &buf, 0, 2), 2);
  ck_assert_int_eq(memcmp(buf.ptr, "ta", 2), 0);
  ck_assert_int_eq(beskid_std_console_read_line(fds[0], &line), BESKID_OK);
  ck_assert(std_test_str_is(line, "il"));
  gc_unregister_root(&root);
  close(fds[0]);
  close(fds[1]);
}
END_TEST

/* Several threads reading lines of one descriptor: every line arrives whole, exactly once. */
enum { READERS = 3, FED_LINES = 3000 };
static int shared_fd;
static atomic_int lines_seen[FED_LINES];

static void *read_numbered_lines(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  beskid_str_t line;
  while (beskid_std_console_read_line(shared_fd, &line) == BESKID_OK) {
    ck_assert_int_gt(line.len, 5);
    ck_assert_int_eq(memcmp(line.ptr, "line ", 5), 0);
    int n = 0;
    for (int64_t i = 5; i < line.len; i++) n = n * 10 + (line.ptr[i] - '0');
    ck_assert_int_lt(n, FED_LINES);
    atomic_fetch_add(&lines_seen[n], 1);
  }
  beskid_rt_thread_detach();
  return NULL;
}

START_TEST(test_concurrent_line_readers) {
  std_test_init(false);
  size_t cap = FED_LINES * 16, len = 0;
  char *data = malloc(cap);
  for (int i = 0; i < FED_LINES; i++)
    len += (size_t)snprintf(data + len, cap - len, "line %d\n", i);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  shared_fd = fds[0];
  feed_arg f = {fds[1], data, len, 777}; /* chunks that split lines */
  pthread_t feeder, readers[READERS];
  for (int i = 0; i < READERS; i++) pthread_create(&readers[i], NULL, read_numbered_lines, NULL);
  pthread_create(&feeder, NULL, feed, &f);
  pthread_join(feeder, NULL);
  for (int i = 0; i < READERS; i++) pthread_join(readers[i], NULL);
  for (int i = 0; i < FED_LINES; i++) ck_assert_int_eq(atomic_load(&lines_seen[i]), 1);
  close(fds[0]);
  free(data);
}
END_TEST

/* Threads making a descriptor's first read_line at the same moment share one read-ahead buffer:
 * were there two, a line split between two reads would lose bytes to the other buffer. Each
 * round uses a descriptor number never read before, so every round races on first use. */
enum { FIRST_USE_ROUNDS = 150, FIRST_USE_FD = 600, FIRST_USE_LINES = 40 };
static pthread_barrier_t first_use_start;
static int first_use_fd;
static atomic_int first_use_seen[FIRST_USE_LINES];

static void *read_first_use_lines(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  pthread_barrier_wait(&first_use_start);
  beskid_str_t line;
  while (beskid_std_console_read_line(first_use_fd, &line) == BESKID_OK) {
    int n = -1;
    if (line.len == 3 && line.ptr[0] == 'L') n = (line.ptr[1] - '0') * 10 + (line.ptr[2] - '0');
    ck_assert_msg(n >= 0 && n < FIRST_USE_LINES, "a line lost bytes: \"%.*s\"", (int)line.len,
                  line.ptr);
    atomic_fetch_add(&first_use_seen[n], 1);
  }
  beskid_rt_thread_detach();
  return NULL;
}

START_TEST(test_first_read_line_from_many_threads) {
  std_test_init(false);
  char data[FIRST_USE_LINES * 4 + 1];
  for (int i = 0; i < FIRST_USE_LINES; i++) snprintf(data + i * 4, 5, "L%02d\n", i);
  for (int round = 0; round < FIRST_USE_ROUNDS; round++) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    first_use_fd = FIRST_USE_FD + round;
    ck_assert_int_eq(dup2(fds[0], first_use_fd), first_use_fd);
    close(fds[0]);
    for (int i = 0; i < FIRST_USE_LINES; i++) atomic_store(&first_use_seen[i], 0);
    pthread_barrier_init(&first_use_start, NULL, READERS + 1);
    pthread_t readers[READERS];
    for (int i = 0; i < READERS; i++) pthread_create(&readers[i], NULL, read_first_use_lines, NULL);
    pthread_barrier_wait(&first_use_start);
    /* Lines split across writes, so a reader's first read ends inside a line. */
    for (size_t off = 0; off < sizeof data - 1; off += 6) {
      size_t n = sizeof data - 1 - off < 6 ? sizeof data - 1 - off : 6;
      ck_assert_int_eq(write(fds[1], data + off, n), (ssize_t)n);
    }
    close(fds[1]);
    for (int i = 0; i < READERS; i++) pthread_join(readers[i], NULL);
    pthread_barrier_destroy(&first_use_start);
    close(first_use_fd);
    for (int i = 0; i < FIRST_USE_LINES; i++)
      ck_assert_msg(atomic_load(&first_use_seen[i]) == 1, "round %d: line %d read %d times", round,
                    i, atomic_load(&first_use_seen[i]));
  }
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Terminals */

START_TEST(test_isatty_and_terminal_size) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert(!beskid_std_console_isatty(fds[0]));
  ck_assert(!beskid_std_console_isatty(-1));
  ck_assert(!beskid_std_console_isatty(closed_fd()));
  int64_t cols = 7, rows = 7;
  ck_assert_int_eq(beskid_std_console_terminal_size(fds[0], &cols, &rows), BESKID_INVALID_INPUT);
  ck_assert_int_eq(cols, 0);
  ck_assert_int_eq(rows, 0);
  ck_assert_int_eq(beskid_std_console_terminal_size(-5, &cols, &rows), BESKID_INVALID_INPUT);
  close(fds[0]);
  close(fds[1]);

  /* A pseudo-terminal is a terminal, with the size its master sets. */
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  ck_assert_int_ge(master, 0);
  ck_assert_int_eq(grantpt(master), 0);
  ck_assert_int_eq(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  ck_assert_int_ge(slave, 0);
  struct winsize ws = {.ws_row = 42, .ws_col = 132};
  ck_assert_int_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
  ck_assert(beskid_std_console_isatty(slave));
  ck_assert_int_eq(beskid_std_console_terminal_size(slave, &cols, &rows), BESKID_OK);
  ck_assert_int_eq(cols, 132);
  ck_assert_int_eq(rows, 42);
  close(slave);
  close(master);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Traps */

static void write_null(void) { beskid_std_console_write(1, NULL); }
static void write_null_data(void) {
  beskid_str_t s = {NULL, 3};
  beskid_std_console_write(1, &s);
}
static void write_negative(void) {
  beskid_str_t s = {(const uint8_t *)"abc", -1};
  beskid_std_console_write(1, &s);
}
static uint8_t four_bytes[4] = {'a', 'b', 'c', 'd'};
static beskid_array_t four = {four_bytes, 4, 4};
static void bytes_null(void) { beskid_std_console_write_bytes(1, NULL, 0, 0); }
static void bytes_past_end(void) { beskid_std_console_write_bytes(1, &four, 2, 3); }
static void bytes_negative_start(void) { beskid_std_console_write_bytes(1, &four, -1, 1); }
static void bytes_negative_count(void) { beskid_std_console_write_bytes(1, &four, 0, -1); }
static void bytes_huge_count(void) { beskid_std_console_write_bytes(1, &four, 1, INT64_MAX); }
static void bytes_corrupt(void) {
  beskid_array_t a = {four_bytes, 4, 2}; /* len above cap */
  beskid_std_console_write_bytes(1, &a, 0, 1);
}
static void bytes_null_data(void) {
  beskid_array_t a = {NULL, 4, 4};
  beskid_std_console_write_bytes(1, &a, 0, 1);
}
static void read_past_end(void) { beskid_std_console_read(0, &four, 4, 1); }
static void read_null(void) { beskid_std_console_read(0, NULL, 0, 1); }
static void line_null(void) { beskid_std_console_read_line(0, NULL); }
static void size_null(void) {
  int64_t rows;
  beskid_std_console_terminal_size(0, NULL, &rows);
}

START_TEST(test_console_traps) {
  STD_EXPECT_TRAP(write_null, "null_reference (1)", "beskid_std_console_write: NULL string");
  STD_EXPECT_TRAP(write_null_data, "null_reference (1)", "NULL string data with a length");
  STD_EXPECT_TRAP(write_negative, "bounds (2)", "negative length");
  STD_EXPECT_TRAP(bytes_null, "null_reference (1)", "NULL array");
  STD_EXPECT_TRAP(bytes_past_end, "bounds (2)", "range [2, 2 + 3) outside an array of length 4");
  STD_EXPECT_TRAP(bytes_negative_start, "bounds (2)", "range [-1");
  STD_EXPECT_TRAP(bytes_negative_count, "bounds (2)", "range [0, 0 + -1)");
  STD_EXPECT_TRAP(bytes_huge_count, "bounds (2)", "outside an array of length 4");
  STD_EXPECT_TRAP(bytes_corrupt, "bounds (2)", "corrupted array (len 4, cap 2)");
  STD_EXPECT_TRAP(bytes_null_data, "null_reference (1)", "NULL array data with a length");
  STD_EXPECT_TRAP(read_past_end, "bounds (2)", "beskid_std_console_read: range [4, 4 + 1)");
  STD_EXPECT_TRAP(read_null, "null_reference (1)", "beskid_std_console_read: NULL array");
  STD_EXPECT_TRAP(line_null, "null_reference (1)", "read_line: NULL result pointer");
  STD_EXPECT_TRAP(size_null, "null_reference (1)", "NULL columns pointer");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Blocking calls never hold up a collection */

typedef struct blocked_arg {
  int fd;
  atomic_int about_to_block, done;
  uint64_t blocked_ns; /* from about_to_block to the call's return */
  char got[32];
  int64_t result;
} blocked_arg;

static void *block_in_read(void *p) {
  blocked_arg *b = p;
  beskid_gc_thread_t *t = beskid_rt_thread_attach();
  void *slots[1] = {NULL};
  beskid_root_frame_t frame = {t->top_frame, slots, 1};
  t->top_frame = &frame;
  beskid_array_t buf;
  array_new(&buf, 1, 16);
  slots[0] = buf.ptr;
  uint64_t t0 = beskid_os_monotonic_ns();
  atomic_store(&b->about_to_block, 1);
  b->result = beskid_std_console_read(b->fd, &buf, 0, 16);
  b->blocked_ns = beskid_os_monotonic_ns() - t0;
  if (b->result > 0) memcpy(b->got, buf.ptr, (size_t)b->result);
  atomic_store(&b->done, 1);
  t->top_frame = frame.previous;
  beskid_rt_thread_detach();
  return NULL;
}

static void *block_in_read_line(void *p) {
  blocked_arg *b = p;
  beskid_rt_thread_attach();
  uint64_t t0 = beskid_os_monotonic_ns();
  atomic_store(&b->about_to_block, 1);
  beskid_str_t line;
  b->result = beskid_std_console_read_line(b->fd, &line);
  b->blocked_ns = beskid_os_monotonic_ns() - t0;
  if (b->result == BESKID_OK && line.len > 0) memcpy(b->got, line.ptr, (size_t)line.len);
  atomic_store(&b->done, 1);
  beskid_rt_thread_detach();
  return NULL;
}

static atomic_int stop_sleeping;
static void *block_in_sleep(void *p) {
  blocked_arg *b = p;
  beskid_rt_thread_attach();
  uint64_t t0 = beskid_os_monotonic_ns();
  atomic_store(&b->about_to_block, 1);
  while (!atomic_load(&stop_sleeping)) beskid_std_time_sleep_ns(400000000); /* 0.4 s */
  b->blocked_ns = beskid_os_monotonic_ns() - t0;
  atomic_store(&b->done, 1);
  beskid_rt_thread_detach();
  return NULL;
}

START_TEST(test_blocked_calls_do_not_delay_collections) {
  std_test_init(false);
  int data_pipe[2], line_pipe[2];
  ck_assert_int_eq(pipe(data_pipe), 0);
  ck_assert_int_eq(pipe(line_pipe), 0);
  static blocked_arg reader, liner, sleeper;
  reader.fd = data_pipe[0];
  liner.fd = line_pipe[0];
  pthread_t threads[3];
  pthread_create(&threads[0], NULL, block_in_read, &reader);
  pthread_create(&threads[1], NULL, block_in_read_line, &liner);
  pthread_create(&threads[2], NULL, block_in_sleep, &sleeper);
  while (!atomic_load(&reader.about_to_block) || !atomic_load(&liner.about_to_block) ||
         !atomic_load(&sleeper.about_to_block)) {
    usleep(1000);
  }
  usleep(50000); /* let them reach their system calls */

  /* Drive collections while all three wait. Were any of them not in the native state, the first
   * pause would wait for it forever: the data comes only after the collections. */
  beskid_gc_stats_t before, after;
  beskid_gc_read_stats(&before);
  for (int cycle = 0; cycle < 5; cycle++) {
    for (int i = 0; i < 2000; i++) {
      beskid_array_t junk;
      array_new(&junk, 8, 16);
    }
    gc_collect();
  }
  beskid_gc_read_stats(&after);
  ck_assert_uint_ge(after.cycles - before.cycles, 5);
  ck_assert(!atomic_load(&reader.done) && !atomic_load(&liner.done) && !atomic_load(&sleeper.done));
  usleep(1000000); /* the waits last at least a second */

  ck_assert_int_eq(write(data_pipe[1], "payload", 7), 7);
  ck_assert_int_eq(write(line_pipe[1], "a line\nmore", 11), 11);
  atomic_store(&stop_sleeping, 1);
  for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);
  ck_assert_int_eq(reader.result, 7);
  ck_assert_str_eq(reader.got, "payload");
  ck_assert_int_eq(liner.result, BESKID_OK);
  ck_assert_str_eq(liner.got, "a line");
  /* Every pause and every wait for threads to stop was short next to how long the threads were
   * blocked (at least a second): a bound that does not depend on the machine's speed. */
  uint64_t blocked = reader.blocked_ns;
  if (liner.blocked_ns < blocked) blocked = liner.blocked_ns;
  if (sleeper.blocked_ns < blocked) blocked = sleeper.blocked_ns;
  ck_assert_uint_ge(blocked, 1000000000u);
  ck_assert_msg(after.pause_max_ns < blocked / 2, "pause %llu ns vs blocked %llu ns",
                (unsigned long long)after.pause_max_ns, (unsigned long long)blocked);
  ck_assert_msg(after.ttsp_max_ns < blocked / 2, "ttsp %llu ns vs blocked %llu ns",
                (unsigned long long)after.ttsp_max_ns, (unsigned long long)blocked);
  for (int i = 0; i < 2; i++) {
    close(data_pipe[i]);
    close(line_pipe[i]);
  }
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_console");
  TCase *tc = tcase_create("write");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_write_string_and_bytes);
  tcase_add_test(tc, test_zero_length_write_makes_no_syscall);
  tcase_add_test(tc, test_partial_writes_loop);
  tcase_add_test(tc, test_interrupted_writes_loop);
  suite_add_tcase(suite, tc);
  tc = tcase_create("read");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_read_into_range_and_eof);
  tcase_add_test(tc, test_read_lines);
  tcase_add_test(tc, test_read_line_edge_cases);
  tcase_add_test(tc, test_read_long_lines_in_pieces);
  tcase_add_test(tc, test_read_after_read_line_keeps_order);
  tcase_add_test(tc, test_concurrent_line_readers);
  tcase_add_test(tc, test_first_read_line_from_many_threads);
  suite_add_tcase(suite, tc);
  tc = tcase_create("terminal");
  tcase_add_test(tc, test_isatty_and_terminal_size);
  suite_add_tcase(suite, tc);
  tc = tcase_create("traps");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_console_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("native");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_blocked_calls_do_not_delay_collections);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
