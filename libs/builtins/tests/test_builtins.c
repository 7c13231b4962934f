/* test_builtins.c — the Check suite of libs/builtins: the ABI's behaviour and every trap.
 *
 * Death tests run the faulting call in a child process with stderr captured, then assert the
 * exit status (101) and the one trap line, `beskid runtime trap v5: <name> (<code>): ...`. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/platform.h"
#include "beskid/runtime_abi.h"
#include "check_support.h"
#include "internal.h" /* beskid_rt_raw_type, beskid_rt_raw_elem */
#include "test_builtins_robust.h"

static const uint64_t pair_map[] = {16, 24};
static const beskid_type_t pair_type = {40, 8, pair_map, 2, BESKID_TYPE_AGGREGATE, 0};

/* ThreadSanitizer supports starting threads in the child of a multi-threaded fork (the fork test
 * starts the collector thread again there) only when told not to die instead. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

static void init_default(void) { ck_assert_int_eq(beskid_rt_init(NULL), 0); }

#define DEATH BESKID_TEST_EXPECT_TRAP

/* ------------------------------------------------------------------------------------------ */
/* Configuration */

START_TEST(test_parse_bytes) {
  uint64_t v;
  ck_assert(beskid_rt_parse_bytes("0", &v) && v == 0);
  ck_assert(beskid_rt_parse_bytes("2097152", &v) && v == 2097152);
  ck_assert(beskid_rt_parse_bytes("2M", &v) && v == 2097152);
  ck_assert(beskid_rt_parse_bytes("3k", &v) && v == 3072);
  ck_assert(beskid_rt_parse_bytes("1G", &v) && v == (UINT64_C(1) << 30));
  ck_assert(beskid_rt_parse_bytes("18446744073709551615", &v) && v == UINT64_MAX);
  ck_assert(!beskid_rt_parse_bytes("18446744073709551616", &v));
  ck_assert(!beskid_rt_parse_bytes("17179869184G", &v)); /* 2^34 G overflows */
  ck_assert(!beskid_rt_parse_bytes("", &v));
  ck_assert(!beskid_rt_parse_bytes("-1", &v));
  ck_assert(!beskid_rt_parse_bytes("1 M", &v));
  ck_assert(!beskid_rt_parse_bytes("1MB", &v));
  ck_assert(!beskid_rt_parse_bytes("M", &v));
  ck_assert(!beskid_rt_parse_bytes(NULL, &v));
}
END_TEST

START_TEST(test_config_from_env) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  char err[256] = "";
  setenv("BESKID_GOGC", "off", 1);
  setenv("BESKID_MEMORY_LIMIT", "512M", 1);
  setenv("BESKID_HEAP_MAX_BYTES", "1G", 1);
  setenv("BESKID_GCTRACE", "1", 1);
  setenv("BESKID_GCDEBUG", "stw,checkmark,clobber,verify,stress=7", 1);
  ck_assert(beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_int_eq(c.gogc, BESKID_GC_GOGC_OFF);
  ck_assert_uint_eq(c.memory_limit, UINT64_C(512) << 20);
  ck_assert_uint_eq(c.heap_max, UINT64_C(1) << 30);
  ck_assert(c.trace);
  ck_assert_uint_eq(c.stress_interval, 7);
  ck_assert_uint_eq(c.debug_flags, BESKID_GC_DEBUG_STW | BESKID_GC_DEBUG_CHECKMARK |
                                       BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  setenv("BESKID_GOGC", "50", 1);
  ck_assert(beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_int_eq(c.gogc, 50);
  setenv("BESKID_GOGC", "fast", 1);
  ck_assert(!beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "BESKID_GOGC=fast"));
  setenv("BESKID_GOGC", "100", 1);
  setenv("BESKID_HEAP_MAX_BYTES", "lots", 1);
  ck_assert(!beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "BESKID_HEAP_MAX_BYTES=lots"));
  setenv("BESKID_HEAP_MAX_BYTES", "1G", 1);
  setenv("BESKID_GCDEBUG", "nope", 1);
  ck_assert(!beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "unknown switch"));
  setenv("BESKID_GCDEBUG", "", 1);
  setenv("BESKID_GCTRACE", "yes", 1);
  ck_assert(!beskid_rt_config_from_env(&c, err, sizeof err));
  setenv("BESKID_GCTRACE", "0", 1);
  ck_assert(beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert(!c.trace);
  char huge[400]; /* longer than any valid value: an error, never silently ignored */
  memset(huge, '1', sizeof huge - 1);
  huge[sizeof huge - 1] = '\0';
  setenv("BESKID_GOGC", huge, 1);
  ck_assert(!beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "BESKID_GOGC"));
  ck_assert_ptr_nonnull(strstr(err, "too long"));
  unsetenv("BESKID_GOGC");
  unsetenv("BESKID_MEMORY_LIMIT");
  unsetenv("BESKID_HEAP_MAX_BYTES");
  unsetenv("BESKID_GCTRACE");
  unsetenv("BESKID_GCDEBUG");
}
END_TEST

/* The debug list is split without strtok: a caller in the middle of its own strtok keeps its
 * place while the runtime reads the environment. Empty items are skipped. */
START_TEST(test_config_from_env_leaves_strtok_alone) {
  char list[] = "a,b,c";
  ck_assert_str_eq(strtok(list, ","), "a");
  setenv("BESKID_GCDEBUG", ",checkmark,,verify,", 1);
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  char err[256];
  ck_assert(beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_uint_eq(c.debug_flags, BESKID_GC_DEBUG_CHECKMARK | BESKID_GC_DEBUG_VERIFY);
  const char *next = strtok(NULL, ",");
  ck_assert_ptr_nonnull(next);
  ck_assert_str_eq(next, "b");
  unsetenv("BESKID_GCDEBUG");
}
END_TEST

START_TEST(test_config_gcworkers_from_env) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  ck_assert_uint_eq(c.mark_workers, 0);
  char err[256] = "";
  setenv("BESKID_GCWORKERS", "4", 1);
  ck_assert(beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_uint_eq(c.mark_workers, 4);
  setenv("BESKID_GCWORKERS", "0", 1);
  ck_assert(beskid_rt_config_from_env(&c, err, sizeof err));
  ck_assert_uint_eq(c.mark_workers, 0);
  const char *bad[] = {"65", "-1", "two", "", "4k"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("BESKID_GCWORKERS", bad[i], 1);
    ck_assert(!beskid_rt_config_from_env(&c, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "BESKID_GCWORKERS="));
  }
  unsetenv("BESKID_GCWORKERS");
}
END_TEST

/* The host-facing helpers given NULL where they write a result: a null_reference trap, never a
 * crash (a NULL text is simply not a byte count). beskid_runtime_symbols(NULL) is tested with the
 * table, in libs/stdhost. */
static void config_default_null(void) { beskid_rt_config_default(NULL); }
static void config_from_env_null(void) { beskid_rt_config_from_env(NULL, NULL, 0); }
static void parse_bytes_null_result(void) { beskid_rt_parse_bytes("10", NULL); }

START_TEST(test_host_helpers_null) {
  DEATH(config_default_null, "null_reference (1)", "beskid_rt_config_default");
  DEATH(config_from_env_null, "null_reference (1)", "beskid_rt_config_from_env");
  DEATH(parse_bytes_null_result, "null_reference (1)", "beskid_rt_parse_bytes");
  uint64_t v = 7;
  ck_assert(!beskid_rt_parse_bytes(NULL, &v));
  ck_assert_uint_eq(v, 7);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle */

START_TEST(test_init_shutdown_attach) {
  init_default();
  ck_assert_int_eq(beskid_rt_init(NULL), BESKID_GC_BAD_STATE);
  beskid_gc_thread_t *t = beskid_rt_thread();
  ck_assert_ptr_eq(beskid_rt_thread_attach(), t);
  ck_assert_uint_eq(beskid_rt_abi_version(), (2u << 16) | 0u);
  beskid_rt_abi_check(2, 0);
  beskid_rt_shutdown();
  init_default(); /* again after shutdown */
  beskid_rt_shutdown();
  beskid_rt_shutdown(); /* harmless */
}
END_TEST

static void alloc_before_init(void) { alloc(40, &pair_type); }
static void attach_before_init(void) { beskid_rt_thread_attach(); }
static void alloc_after_shutdown(void) {
  init_default();
  beskid_rt_shutdown();
  alloc(40, &pair_type);
}
static void *unattached_thread(void *arg) {
  (void)arg;
  alloc(40, &pair_type);
  return NULL;
}
static void alloc_unattached(void) {
  init_default();
  beskid_os_thread_t th;
  beskid_os_thread_create(&th, unattached_thread, NULL, "unattached");
  beskid_os_thread_join(&th, NULL);
}
/* A program compiled for ABI 1 (16-byte header) must not run on ABI 2's one-word header. */
static void abi_major_mismatch(void) { beskid_rt_abi_check(1, 1); }
static void abi_minor_too_new(void) { beskid_rt_abi_check(2, 9); }
static void detach_with_frames(void) {
  init_default();
  static void *slots[1];
  static beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  beskid_rt_thread_detach();
}

START_TEST(test_lifecycle_traps) {
  DEATH(alloc_before_init, "runtime_internal_corruption (10)", "not running");
  DEATH(attach_before_init, "runtime_internal_corruption (10)");
  DEATH(alloc_after_shutdown, "runtime_internal_corruption (10)");
  DEATH(alloc_unattached, "runtime_internal_corruption (10)", "not attached");
  DEATH(abi_major_mismatch, "abi_or_layout_mismatch (8)", "ABI 1.1", "provides 2.0");
  DEATH(abi_minor_too_new, "abi_or_layout_mismatch (8)", "2.9");
  DEATH(detach_with_frames, "unreachable_or_isle_invariant (9)", "root frames");
}
END_TEST

/* Shutdown while another thread is attached: a trap, never a teardown under the thread. The
 * thread is parked in native code (the runtime cannot know it will never come back); were the
 * shutdown to go on, the runtime is started again and the thread comes back and exits, which
 * would use its freed context. */
static atomic_int parked_state; /* 1: parked in native code; 2: may come back */
static void *attach_and_park(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  alloc(40, &pair_type);
  beskid_rt_enter_native();
  atomic_store(&parked_state, 1);
  while (atomic_load(&parked_state) != 2) usleep(100);
  beskid_rt_leave_native();
  alloc(40, &pair_type);
  return NULL; /* exits attached: the exit destructor detaches it */
}
static void shutdown_with_native_thread_attached(void) {
  init_default();
  pthread_t th;
  pthread_create(&th, NULL, attach_and_park, NULL);
  while (atomic_load(&parked_state) != 1) usleep(100);
  beskid_rt_shutdown();
  init_default();
  atomic_store(&parked_state, 2);
  pthread_join(th, NULL);
  beskid_rt_shutdown();
}

static atomic_int busy_running;
static void *attach_and_allocate(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_rt_thread_attach();
  for (int64_t i = 0;; i++) {
    alloc(40, &pair_type);
    if (i == 100) atomic_store(&busy_running, 1);
    if (i % 64 == 0) gc_collect();
    if (__atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_rt_safepoint();
  }
  return NULL;
}
static void shutdown_with_busy_thread_attached(void) {
  init_default();
  pthread_t th;
  pthread_create(&th, NULL, attach_and_allocate, NULL);
  beskid_rt_enter_native();
  while (atomic_load(&busy_running) != 1) usleep(100);
  beskid_rt_leave_native();
  beskid_rt_shutdown();
}

/* A thread that was attached calls in after the shutdown: a clear trap (its context is gone,
 * and nothing of it is touched); detaching again is harmless. */
static atomic_int late_state;
static void *attach_detach_then_call_late(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  alloc(40, &pair_type);
  beskid_rt_thread_detach();
  atomic_store(&late_state, 1);
  while (atomic_load(&late_state) != 2) usleep(100);
  beskid_rt_thread_detach();
  alloc(40, &pair_type);
  return NULL;
}
static void call_after_shutdown_from_other_thread(void) {
  init_default();
  pthread_t th;
  pthread_create(&th, NULL, attach_detach_then_call_late, NULL);
  beskid_rt_enter_native();
  while (atomic_load(&late_state) != 1) usleep(100);
  beskid_rt_leave_native();
  beskid_rt_shutdown();
  atomic_store(&late_state, 2);
  pthread_join(th, NULL);
}

START_TEST(test_shutdown_with_threads_attached_traps) {
  DEATH(shutdown_with_native_thread_attached, "runtime_internal_corruption (10)",
        "beskid_rt_shutdown: other threads are still attached");
  DEATH(shutdown_with_busy_thread_attached, "runtime_internal_corruption (10)", "still attached");
  DEATH(call_after_shutdown_from_other_thread, "runtime_internal_corruption (10)", "not running");
}
END_TEST

/* Threads whose exit destructors run after the runtime was shut down and started again. */
static pthread_barrier_t reinit_gate;
static void *attach_detach_exit_later(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  alloc(40, &pair_type);
  beskid_rt_thread_detach();
  pthread_barrier_wait(&reinit_gate); /* main shuts down and starts again */
  pthread_barrier_wait(&reinit_gate);
  return NULL; /* exits under the second runtime: nothing of the first is touched */
}
static void *own_lives(void *arg) {
  (void)arg;
  ck_assert_int_eq(beskid_rt_init(NULL), 0);
  void *slots[1];
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  slots[0] = alloc(40, &pair_type);
  gc_collect();
  beskid_gc_pop_frame(beskid_rt_thread(), &frame);
  beskid_rt_shutdown(); /* detaches this thread */
  ck_assert_int_eq(beskid_rt_init(NULL), 0);
  slots[0] = alloc(40, &pair_type);
  return NULL; /* exits attached to the second runtime: its destructor detaches it */
}

START_TEST(test_thread_exit_after_reinit) {
  init_default();
  pthread_barrier_init(&reinit_gate, NULL, 2);
  pthread_t th;
  pthread_create(&th, NULL, attach_detach_exit_later, NULL);
  beskid_rt_enter_native();
  pthread_barrier_wait(&reinit_gate);
  beskid_rt_leave_native();
  beskid_rt_shutdown();
  init_default();
  alloc(40, &pair_type);
  beskid_rt_enter_native();
  pthread_barrier_wait(&reinit_gate);
  pthread_join(th, NULL);
  beskid_rt_leave_native();
  gc_collect();
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_rt_shutdown();

  /* Another thread runs two lives of the runtime and exits attached to the second. */
  pthread_create(&th, NULL, own_lives, NULL);
  pthread_join(th, NULL);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.threads, 0); /* its exit detached it */
  beskid_rt_thread_attach();
  alloc(40, &pair_type);
  gc_collect();
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_rt_shutdown(); /* no other thread is attached: no trap */
  ck_assert(!beskid_gc_is_initialized());
  pthread_barrier_destroy(&reinit_gate);
}
END_TEST

/* fork() while other threads allocate and collect through the ABI: the child, the forking thread
 * alone, allocates, collects and finds the heap sound; the parent goes on. */
static atomic_int fork_helpers_stop;
static atomic_long fork_helper_rounds;
static void *allocate_and_collect(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_rt_thread_attach();
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  for (int64_t i = 1; !atomic_load(&fork_helpers_stop); i++) {
    void **p = alloc(40, &pair_type);
    if (__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) {
      beskid_rt_write_barrier(&p[2], slots[0]);
    }
    p[2] = slots[0];
    slots[0] = i % 300 == 0 ? NULL : p;
    if (i % 1000 == 0) gc_collect();
    atomic_fetch_add(&fork_helper_rounds, 1);
    if (__atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_rt_safepoint();
  }
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_thread_detach();
  return NULL;
}

static int child_after_fork(void) {
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  if (st.threads != 1) return 10;
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  for (int i = 0; i < 5000; i++) {
    void **p = alloc(40, &pair_type);
    if (__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) {
      beskid_rt_write_barrier(&p[2], slots[0]);
    }
    p[2] = i % 2 == 0 ? slots[0] : NULL;
    if (i % 2 == 0) slots[0] = p;
  }
  gc_collect();
  if (gc_heap_verify() != 1) return 11;
  int n = 0;
  for (void **p = slots[0]; p != NULL; p = p[2]) n++;
  if (n != 2500) return 12;
  beskid_gc_pop_frame(beskid_rt_thread(), &frame);
  return 42;
}

START_TEST(test_fork_while_threads_collect) {
  init_default();
  pthread_t th[2];
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, allocate_and_collect, NULL);
  for (int round = 0; round < 20; round++) {
    long target = atomic_load(&fork_helper_rounds) + 2000;
    beskid_rt_enter_native();
    while (atomic_load(&fork_helper_rounds) < target) usleep(100);
    beskid_rt_leave_native();
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) _exit(child_after_fork());
    int ws = 0;
    pid_t done = 0;
    for (int i = 0; i < 60000 && done == 0; i++) {
      done = waitpid(pid, &ws, WNOHANG);
      if (done == 0) usleep(1000);
    }
    if (done == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &ws, 0);
      ck_abort_msg("round %d: the child deadlocked", round);
    }
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 42, "round %d: child status %#x", round, ws);
    alloc(40, &pair_type); /* the parent goes on */
  }
  atomic_store(&fork_helpers_stop, 1);
  beskid_rt_enter_native();
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  beskid_rt_leave_native();
  gc_collect();
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_rt_shutdown();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* alloc */

START_TEST(test_alloc_typed_and_raw) {
  init_default();
  beskid_header_t *p = alloc(40, &pair_type);
  ck_assert_ptr_eq(p->type, &pair_type);
  ck_assert_uint_eq(((uint64_t *)p)[2], 0);
  beskid_header_t *raw = alloc(100, NULL);
  ck_assert_ptr_nonnull(raw);
  ck_assert_uint_ge(raw->type->size, 100);
  ck_assert_uint_eq(raw->type->pointer_count, 0);
  beskid_header_t *big = alloc(1 << 20, NULL); /* a large untyped object */
  ck_assert_uint_ge(big->type->size, 1u << 20);
  /* `big` is no root: the next allocation may collect it, so its descriptor is read first. */
  const beskid_type_t *big_type = big->type;
  beskid_header_t *big2 = alloc(1 << 20, NULL);
  ck_assert_ptr_eq(big2->type, big_type); /* made once */
  beskid_rt_shutdown();
}
END_TEST

static void alloc_size_mismatch(void) {
  init_default();
  alloc(48, &pair_type);
}
static void alloc_negative(void) {
  init_default();
  alloc(-1, NULL);
}
static void alloc_too_small(void) {
  init_default();
  alloc(7, NULL); /* less than the one-word header */
}
static void alloc_malformed(void) {
  static const uint64_t map[] = {0}; /* the header word */
  static const beskid_type_t bad = {32, 8, map, 1, BESKID_TYPE_AGGREGATE, 0};
  init_default();
  alloc(32, &bad);
}
static void alloc_bad_alignment(void) {
  static const beskid_type_t bad = {32, 3, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  init_default();
  alloc(32, &bad);
}
static void alloc_oom(void) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  c.heap_max = 2u << 20;
  ck_assert_int_eq(beskid_rt_init(&c), 0);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_thread_t *t = beskid_rt_thread();
  beskid_gc_push_frame(t, &frame);
  for (int i = 0; i < (3 << 20) / 48; i++) { /* 3 MiB live */
    void **n = alloc(40, &pair_type);
    n[2] = slots[0];
    slots[0] = n;
  }
}

START_TEST(test_alloc_traps) {
  DEATH(alloc_size_mismatch, "abi_or_layout_mismatch (8)", "48 bytes", "40 bytes");
  DEATH(alloc_negative, "abi_or_layout_mismatch (8)");
  DEATH(alloc_too_small, "abi_or_layout_mismatch (8)");
  DEATH(alloc_malformed, "abi_or_layout_mismatch (8)", "malformed type descriptor");
  DEATH(alloc_bad_alignment, "abi_or_layout_mismatch (8)", "malformed type descriptor");
  DEATH(alloc_oom, "out_of_memory (5)", "req=", "live=", "committed=", "cap=2097152");
}
END_TEST

/* A descriptor at a misaligned address (a valid one copied to byte 4 of an aligned buffer) is
 * refused before any field is read; so is an element descriptor. */
static _Alignas(16) unsigned char misaligned_buf[64];
static const void *misaligned_copy(const void *descriptor, size_t size) {
  memcpy(misaligned_buf + 4, descriptor, size);
  return misaligned_buf + 4;
}
static void alloc_misaligned_descriptor(void) {
  init_default();
  alloc(40, misaligned_copy(&pair_type, sizeof pair_type));
}
static void array_misaligned_descriptor(void) {
  static const uint64_t map[] = {0};
  static const beskid_elem_type_t elem = {8, 8, map, 1};
  init_default();
  beskid_array_t a;
  beskid_rt_array_new_typed(&a, misaligned_copy(&elem, sizeof elem), 4);
}

START_TEST(test_misaligned_descriptor_traps) {
  DEATH(alloc_misaligned_descriptor, "abi_or_layout_mismatch (8)", "malformed type descriptor",
        "8-byte aligned");
  DEATH(array_misaligned_descriptor, "abi_or_layout_mismatch (8)", "malformed element descriptor",
        "8-byte aligned");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Strings and arrays */

START_TEST(test_strings) {
  init_default();
  const char *text = "gęślą jaźń";
  beskid_str_t s;
  str_new(&s, (const uint8_t *)text, (int64_t)strlen(text));
  ck_assert_int_eq(str_len(&s), (int64_t)strlen(text));
  ck_assert_ptr_ne(s.ptr, (const uint8_t *)text); /* copied into the heap */
  ck_assert_mem_eq(s.ptr, text, strlen(text));
  ck_assert_ptr_eq(beskid_gc_object_start(s.ptr + 3),
                   (const uint8_t *)s.ptr - BESKID_ARRAY_DATA_OFFSET);
  beskid_str_t e;
  str_new(&e, NULL, 0);
  ck_assert_ptr_null(e.ptr);
  ck_assert_int_eq(str_len(&e), 0);
  /* A string rooted only through a slice survives collections. */
  void *slots[1] = {(void *)(s.ptr + 5)};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  for (int i = 0; i < 20000; i++) str_new(&e, (const uint8_t *)"garbage", 7);
  gc_collect();
  ck_assert_mem_eq(s.ptr, text, strlen(text));
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_gc_pop_frame(beskid_rt_thread(), &frame);
  beskid_rt_shutdown();
}
END_TEST

static void str_invalid_utf8(void) {
  init_default();
  beskid_str_t s;
  str_new(&s, (const uint8_t *)"ok\xC0\xAF", 4);
}
static void str_null_with_len(void) {
  init_default();
  beskid_str_t s;
  str_new(&s, NULL, 3);
}
static void str_negative_len(void) {
  init_default();
  beskid_str_t s;
  str_new(&s, (const uint8_t *)"x", -1);
}
static void str_null_out(void) {
  init_default();
  str_new(NULL, (const uint8_t *)"x", 1);
}
static void str_len_null(void) {
  init_default();
  str_len(NULL);
}

START_TEST(test_string_traps) {
  DEATH(str_invalid_utf8, "invalid_utf8 (4)", "byte 2 of 4");
  DEATH(str_null_with_len, "null_reference (1)");
  DEATH(str_negative_len, "bounds (2)", "negative length");
  DEATH(str_null_out, "null_reference (1)");
  DEATH(str_len_null, "null_reference (1)");
}
END_TEST

static const uint64_t ref_map[] = {0};
static const beskid_elem_type_t ref_elem = {8, 8, ref_map, 1};

START_TEST(test_arrays) {
  init_default();
  beskid_array_t a;
  array_new(&a, 12, 1000);
  ck_assert_int_eq(a.len, 1000);
  ck_assert_int_eq(a.cap, 1000);
  for (int i = 0; i < 12000; i++) ck_assert_uint_eq(((uint8_t *)a.ptr)[i], 0);
  array_new(&a, 8, 0);
  ck_assert_ptr_null(a.ptr);
  ck_assert_int_eq(a.cap, 0);
  /* A typed array of references keeps its elements alive. */
  beskid_array_t refs;
  beskid_rt_array_new_typed(&refs, &ref_elem, 100);
  void *slots[1] = {refs.ptr};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_thread_t *t = beskid_rt_thread();
  beskid_gc_push_frame(t, &frame);
  void **e = refs.ptr;
  for (int i = 0; i < 100; i++) {
    void **p = alloc(40, &pair_type);
    p[3] = (void *)(intptr_t)i;
    beskid_gc_store(t, &e[i], p);
  }
  for (int i = 0; i < 10000; i++) alloc(40, &pair_type);
  gc_collect();
  for (int i = 0; i < 100; i++) ck_assert_int_eq((intptr_t)((void **)e[i])[3], i);
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_gc_pop_frame(t, &frame);
  beskid_rt_shutdown();
}
END_TEST

static void array_zero_elem(void) {
  init_default();
  beskid_array_t a;
  array_new(&a, 0, 10);
}
static void array_negative_len(void) {
  init_default();
  beskid_array_t a;
  array_new(&a, 8, -5);
}
static void array_overflow(void) {
  init_default();
  beskid_array_t a;
  array_new(&a, INT64_C(1) << 32, INT64_C(1) << 40);
}
static void array_bad_elem(void) {
  static const uint64_t map[] = {4};
  static const beskid_elem_type_t bad = {8, 8, map, 1};
  init_default();
  beskid_array_t a;
  beskid_rt_array_new_typed(&a, &bad, 3);
}

START_TEST(test_array_traps) {
  DEATH(array_zero_elem, "bounds (2)", "element size 0");
  DEATH(array_negative_len, "bounds (2)", "negative length");
  DEATH(array_overflow, "arithmetic_overflow (3)");
  DEATH(array_bad_elem, "abi_or_layout_mismatch (8)", "malformed element descriptor");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Runtime-made descriptors for untyped memory */

/* The buffer header of an array value's storage. */
static beskid_array_buffer_t *buffer_of(const beskid_array_t *a) {
  return (beskid_array_buffer_t *)((char *)a->ptr - BESKID_ARRAY_DATA_OFFSET);
}

enum { MANY_SIZES = 100000 };

/* 100,000 distinct object sizes and element strides beyond the init-time tables: each gets a
 * valid descriptor of its size, the same size always the same descriptor, and sizes that round
 * to the same 16 bytes share one. */
START_TEST(test_raw_descriptors_many_sizes) {
  init_default();
  const beskid_type_t **types = calloc(MANY_SIZES, sizeof *types);
  const beskid_elem_type_t **elems = calloc(MANY_SIZES, sizeof *elems);
  ck_assert(types != NULL && elems != NULL);
  for (int round = 0; round < 2; round++) {
    for (uint64_t i = 0; i < MANY_SIZES; i++) {
      uint64_t size = 4096 + 16 * (i + 1), stride = 257 + i;
      const beskid_type_t *t = beskid_rt_raw_type(size - 15 * (i % 2)); /* rounds up to size */
      const beskid_elem_type_t *e = beskid_rt_raw_elem(stride);
      if (round == 0) {
        ck_assert_uint_eq(t->size, size);
        ck_assert_uint_eq(t->pointer_count, 0);
        ck_assert_int_eq(beskid_obj_validate_type(t), BESKID_OBJ_VALID);
        ck_assert_uint_eq(e->stride, stride);
        ck_assert_uint_eq(e->pointer_count, 0);
        ck_assert_int_eq(beskid_obj_validate_elem_type(e), BESKID_OBJ_VALID);
        types[i] = t;
        elems[i] = e;
      } else {
        ck_assert_ptr_eq(t, types[i]);
        ck_assert_ptr_eq(e, elems[i]);
      }
    }
  }
  /* Through the builtins: objects and arrays carry those same descriptors. */
  for (uint64_t i = 0; i < 2000; i += 7) {
    uint64_t size = 4096 + 16 * (i + 1);
    beskid_header_t *o = alloc((int64_t)size - 3, NULL);
    ck_assert_ptr_eq(o->type, types[i]);
    beskid_array_t a;
    array_new(&a, (int64_t)(257 + i), 2);
    ck_assert_ptr_eq(buffer_of(&a)->elem, elems[i]);
  }
  free(types);
  free(elems);
  beskid_rt_shutdown();
  init_default(); /* the caches start again empty and work after a restart */
  ck_assert_uint_eq(beskid_rt_raw_type(8192)->size, 8192);
  ck_assert_uint_eq(beskid_rt_raw_elem(1000)->stride, 1000);
  beskid_rt_shutdown();
}
END_TEST

/* Several threads look up overlapping sizes in different orders while the caches grow; all see
 * the same descriptor per size (run under tsan for the publication's memory orders). */
enum { SHARED_SIZES = 20000, LOOKUP_THREADS = 4 };
typedef struct lookup_work {
  uint64_t step; /* coprime with SHARED_SIZES: a different order per thread */
  const beskid_type_t *types[SHARED_SIZES];
  const beskid_elem_type_t *elems[SHARED_SIZES];
} lookup_work;

static void *look_up_sizes(void *arg) {
  lookup_work *w = arg;
  for (uint64_t n = 0; n < SHARED_SIZES; n++) {
    uint64_t i = n * w->step % SHARED_SIZES;
    w->types[i] = beskid_rt_raw_type(4096 + 16 * (i + 1));
    w->elems[i] = beskid_rt_raw_elem(257 + i);
  }
  return NULL;
}

START_TEST(test_raw_descriptors_concurrent_lookups) {
  init_default();
  static const uint64_t steps[LOOKUP_THREADS] = {1, 7, 13, 19999};
  lookup_work *work = calloc(LOOKUP_THREADS, sizeof *work);
  ck_assert_ptr_nonnull(work);
  pthread_t th[LOOKUP_THREADS];
  for (int k = 0; k < LOOKUP_THREADS; k++) {
    work[k].step = steps[k];
    ck_assert_int_eq(pthread_create(&th[k], NULL, look_up_sizes, &work[k]), 0);
  }
  for (int k = 0; k < LOOKUP_THREADS; k++) pthread_join(th[k], NULL);
  for (uint64_t i = 0; i < SHARED_SIZES; i++) {
    ck_assert_uint_eq(work[0].types[i]->size, 4096 + 16 * (i + 1));
    ck_assert_uint_eq(work[0].elems[i]->stride, 257 + i);
    for (int k = 1; k < LOOKUP_THREADS; k++) {
      ck_assert_ptr_eq(work[k].types[i], work[0].types[i]);
      ck_assert_ptr_eq(work[k].elems[i], work[0].elems[i]);
    }
  }
  free(work);
  beskid_rt_shutdown();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Roots and handles */

START_TEST(test_roots_and_handles) {
  init_default();
  void *cell = alloc(40, &pair_type);
  ck_assert_uint_eq(gc_register_root(&cell), 1);
  ck_assert_uint_eq(gc_register_root(NULL), 0);
  uint64_t h = gc_root_handle(alloc(40, &pair_type));
  ck_assert_uint_ne(h, 0);
  ck_assert_uint_eq(gc_root_handle(NULL), 0);
  void *held = beskid_rt_handle_get(h);
  uint64_t objects_before = gc_object_count();
  gc_collect();
  ck_assert_ptr_eq(beskid_gc_object_start(cell), cell);
  ck_assert_ptr_eq(beskid_gc_object_start(held), held);
  ck_assert_uint_le(gc_object_count(), objects_before);
  ck_assert_uint_ge(gc_bytes_allocated(), 2 * 40); /* a 40-byte object costs 40 bytes */
  ck_assert_uint_eq(gc_phase(), 0);
  gc_unroot_handle(h);
  gc_unregister_root(&cell);
  gc_collect();
  ck_assert_ptr_null(beskid_gc_object_start(held));
  static void *globals[2];
  beskid_rt_register_globals(globals, 2);
  globals[0] = alloc(40, &pair_type);
  gc_collect();
  ck_assert_ptr_eq(beskid_gc_object_start(globals[0]), globals[0]);
  beskid_rt_shutdown();
}
END_TEST

static void unbalanced_unregister(void) {
  init_default();
  void *a = NULL, *b = NULL;
  gc_register_root(&a);
  gc_unregister_root(&b);
}
static void stale_handle_release(void) {
  init_default();
  uint64_t h = gc_root_handle(alloc(40, &pair_type));
  gc_unroot_handle(h);
  gc_unroot_handle(h);
}
static void stale_handle_get(void) {
  init_default();
  uint64_t h = gc_root_handle(alloc(40, &pair_type));
  gc_unroot_handle(h);
  beskid_rt_handle_get(h);
}
static void forged_handle(void) {
  init_default();
  beskid_rt_handle_get(0x1234500000001ull);
}

START_TEST(test_root_traps) {
  DEATH(unbalanced_unregister, "unreachable_or_isle_invariant (9)", "unbalanced roots");
  DEATH(stale_handle_release, "invalid_or_stale_handle (6)");
  DEATH(stale_handle_get, "invalid_or_stale_handle (6)");
  DEATH(forged_handle, "invalid_or_stale_handle (6)");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The native state: a thread between beskid_rt_enter_native() and beskid_rt_leave_native()
 * counts as stopped, so the collector scans its roots and caches while it runs. Every entry point
 * that touches managed pointers must refuse it. */

typedef struct list_node {
  beskid_header_t header;
  struct list_node *next;
  int64_t value;
} list_node;
static const uint64_t list_map[] = {offsetof(list_node, next)};
static const beskid_type_t list_type = {sizeof(list_node),     8, list_map, 1,
                                        BESKID_TYPE_AGGREGATE, 0};

static atomic_bool collector_stop;
static void *collect_until_stopped(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  while (!atomic_load(&collector_stop)) gc_collect();
  beskid_rt_thread_detach();
  return NULL;
}

/* Builds a list rooted in a frame while in the native state, with another thread collecting
 * back to back, then checks it. Without the native-state trap, the collector's pauses scan the
 * frame and the allocation caches while this thread changes them, and nodes are freed under
 * the list (exit 3, "objects lost"). */
static void alloc_in_native_loses_nothing(void) {
  beskid_rt_config_t config;
  beskid_rt_config_default(&config);
  config.debug_flags = BESKID_GC_DEBUG_CLOBBER;
  ck_assert_int_eq(beskid_rt_init(&config), 0);
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[1] = {NULL};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  pthread_t collector;
  ck_assert_int_eq(pthread_create(&collector, NULL, collect_until_stopped, NULL), 0);
  const int64_t count = 300000;
  for (int64_t i = 0; i < count; i++) {
    /* Re-entered each time: a pause may have parked the thread, which resumes it running. */
    beskid_rt_enter_native();
    list_node *n = alloc(sizeof *n, &list_type);
    n->value = i;
    if (beskid_gc_barrier_on) beskid_rt_write_barrier((void **)&n->next, slots[0]);
    n->next = slots[0];
    slots[0] = n;
  }
  beskid_rt_leave_native();
  atomic_store(&collector_stop, true);
  beskid_rt_enter_native(); /* joining blocks: the collecting thread's pauses must not wait */
  pthread_join(collector, NULL);
  beskid_rt_leave_native();
  int64_t expect = count - 1;
  for (list_node *n = slots[0]; n != NULL; n = n->next, expect--) {
    if (expect < 0 || n->value != expect || beskid_gc_object_start(n) != n) {
      fprintf(stderr, "objects lost: node %lld holds %lld\n", (long long)expect,
              (long long)n->value);
      _exit(3);
    }
  }
  if (expect != -1) {
    fprintf(stderr, "objects lost: the list ends at node %lld\n", (long long)expect);
    _exit(3);
  }
  _exit(0);
}

START_TEST(test_native_state_alloc_is_refused) {
  DEATH(alloc_in_native_loses_nothing, "unreachable_or_isle_invariant (9)",
        "alloc called in the native state");
}
END_TEST

/* Each entry point that handles managed pointers, called in the native state. What it needs (a
 * validated descriptor, a registered root, a handle) is prepared while the thread runs. */
static void *native_root;
static uint64_t native_handle;
static void enter_native_prepared(void) {
  init_default();
  native_root = alloc(40, &pair_type); /* pair_type validated: alloc's fast path knows it */
  ck_assert_uint_eq(gc_register_root(&native_root), 1);
  native_handle = gc_root_handle(native_root);
  beskid_rt_enter_native();
}
static void native_alloc_typed(void) {
  enter_native_prepared();
  alloc(40, &pair_type);
}
static void native_alloc_raw(void) {
  enter_native_prepared();
  alloc(64, NULL);
}
static void native_str_new(void) {
  enter_native_prepared();
  beskid_str_t s;
  str_new(&s, (const uint8_t *)"abc", 3);
}
static void native_str_new_empty(void) {
  enter_native_prepared();
  beskid_str_t s;
  str_new(&s, NULL, 0);
}
static void native_array_new(void) {
  enter_native_prepared();
  beskid_array_t a;
  array_new(&a, 8, 4);
}
static const uint64_t native_ref_map[] = {0};
static const beskid_elem_type_t native_ref_elem = {8, 8, native_ref_map, 1};
static void native_array_new_typed(void) {
  enter_native_prepared();
  beskid_array_t a;
  beskid_rt_array_new_typed(&a, &native_ref_elem, 4);
}
static void native_register_root(void) {
  enter_native_prepared();
  static void *slot;
  gc_register_root(&slot);
}
static void native_unregister_root(void) {
  enter_native_prepared();
  gc_unregister_root(&native_root);
}
static void native_register_globals(void) {
  enter_native_prepared();
  static void *globals[2];
  beskid_rt_register_globals(globals, 2);
}
static void native_root_handle(void) {
  enter_native_prepared();
  gc_root_handle(native_root);
}
static void native_unroot_handle(void) {
  enter_native_prepared();
  gc_unroot_handle(native_handle);
}
static void native_handle_get(void) {
  enter_native_prepared();
  beskid_rt_handle_get(native_handle);
}
static void native_write_barrier(void) {
  enter_native_prepared();
  beskid_rt_write_barrier((void **)native_root + 2, NULL);
}
static void native_object_barrier(void) {
  enter_native_prepared();
  gc_write_barrier(native_root, NULL);
}
static void native_safepoint(void) {
  enter_native_prepared();
  beskid_rt_safepoint();
}
static void native_collect(void) {
  enter_native_prepared();
  gc_collect();
}
static void native_verify(void) {
  enter_native_prepared();
  gc_heap_verify();
}
static void native_enter_twice(void) {
  enter_native_prepared();
  beskid_rt_enter_native();
}
static void leave_without_enter(void) {
  init_default();
  beskid_rt_leave_native();
}

START_TEST(test_native_state_entry_points_trap) {
  const char *code = "unreachable_or_isle_invariant (9)";
  DEATH(native_alloc_typed, code, "alloc called in the native state");
  DEATH(native_alloc_raw, code, "alloc called in the native state");
  DEATH(native_str_new, code, "str_new called in the native state");
  DEATH(native_str_new_empty, code, "str_new called in the native state");
  DEATH(native_array_new, code, "array_new called in the native state");
  DEATH(native_array_new_typed, code, "beskid_rt_array_new_typed called in the native state");
  DEATH(native_register_root, code, "gc_register_root called in the native state");
  DEATH(native_unregister_root, code, "gc_unregister_root called in the native state");
  DEATH(native_register_globals, code, "beskid_rt_register_globals called in the native state");
  DEATH(native_root_handle, code, "gc_root_handle called in the native state");
  DEATH(native_unroot_handle, code, "gc_unroot_handle called in the native state");
  DEATH(native_handle_get, code, "beskid_rt_handle_get called in the native state");
  DEATH(native_write_barrier, code, "beskid_rt_write_barrier called in the native state");
  DEATH(native_object_barrier, code, "gc_write_barrier called in the native state");
  DEATH(native_safepoint, code, "safepoint called in the native state");
  DEATH(native_collect, code, "gc_collect called in the native state");
  DEATH(native_verify, code, "gc_heap_verify called in the native state");
  DEATH(native_enter_twice, code, "beskid_rt_enter_native called in the native state");
  DEATH(leave_without_enter, code, "leave_native called outside the native state");
}
END_TEST

/* What stays allowed in the native state: queries that touch no managed pointer, the thread's
 * own context, and leaving; afterwards everything works again and the rooted object survived. */
static void *exit_in_native(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  beskid_rt_enter_native();
  return NULL; /* exits attached and native: detached on the way out */
}

START_TEST(test_native_state_allowed_calls) {
  init_default();
  void *kept = alloc(40, &pair_type);
  ck_assert_uint_eq(gc_register_root(&kept), 1);
  beskid_gc_thread_t *t = beskid_rt_thread();
  beskid_rt_enter_native();
  ck_assert(beskid_gc_in_native(t));
  ck_assert_ptr_eq(beskid_rt_thread(), t);
  ck_assert_ptr_null(beskid_gc_current_running());
  ck_assert_ptr_null(beskid_gc_alloc_fast(&pair_type, 40));
  ck_assert_uint_ge(gc_bytes_allocated(), 48);
  ck_assert_uint_ge(gc_object_count(), 1);
  ck_assert_uint_le(gc_phase(), 2);
  beskid_str_t s = {(const uint8_t *)"xy", 2};
  ck_assert_int_eq(str_len(&s), 2);
  beskid_rt_leave_native();
  ck_assert(!beskid_gc_in_native(t));
  ck_assert_ptr_eq(beskid_gc_current_running(), t);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, exit_in_native, NULL), 0);
  beskid_rt_enter_native();
  pthread_join(th, NULL);
  beskid_rt_leave_native();
  gc_collect();
  ck_assert_ptr_eq(beskid_gc_object_start(kept), kept);
  ck_assert_ptr_eq(((beskid_header_t *)kept)->type, &pair_type);
  ck_assert_ptr_nonnull(alloc(40, &pair_type));
  ck_assert_uint_eq(gc_heap_verify(), 1);
  gc_unregister_root(&kept);
  beskid_rt_shutdown();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Panic and trap formatting */

static void panic_simple(void) {
  const char *m = "index went wrong";
  panic((const uint8_t *)m, (int64_t)strlen(m));
}
static void panic_control_bytes(void) { panic((const uint8_t *)"two\nlines\x01", 10); }
static void panic_null(void) { panic(NULL, 5); }
static void trap_bounds(void) { beskid_rt_trap_bounds(7, 3); }
static void trap_unknown(void) { beskid_rt_trap(99, "odd"); }

/* Two threads panic at the same moment: the process exits 101 with exactly one whole line. */
static pthread_barrier_t panic_gate;
static void *panic_in_thread(void *message) {
  pthread_barrier_wait(&panic_gate);
  panic((const uint8_t *)message, (int64_t)strlen(message));
}
static void panic_two_threads(void) {
  pthread_t t[2];
  pthread_barrier_init(&panic_gate, NULL, 2);
  pthread_create(&t[0], NULL, panic_in_thread, "first thread gives up");
  pthread_create(&t[1], NULL, panic_in_thread, "second thread gives up");
  pthread_join(t[0], NULL);
  pthread_join(t[1], NULL);
}

START_TEST(test_concurrent_panics_report_once) {
  for (int round = 0; round < 8; round++) DEATH(panic_two_threads, "thread gives up");
}
END_TEST

/* A panic raised by the thread that is reporting a panic (here from a signal handler while the
 * report's write is blocked on a full pipe) aborts instead of reporting again. */
static void panic_from_handler(int sig) {
  (void)sig;
  panic((const uint8_t *)"inner", 5);
}

/* The scheduler state of a process ('R' running, 'S' sleeping, ...) from /proc. */
static char process_state(pid_t pid) {
  char path[64], stat[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return '?';
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *end = strrchr(stat, ')');
  return end != NULL && end[1] == ' ' ? end[2] : '?';
}

START_TEST(test_panic_while_panicking_aborts) {
  int err_pipe[2], ready[2];
  ck_assert_int_eq(pipe(err_pipe), 0);
  ck_assert_int_eq(pipe(ready), 0);
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(err_pipe[0]);
    close(ready[0]);
    dup2(err_pipe[1], 2);
    int flags = fcntl(2, F_GETFL);
    fcntl(2, F_SETFL, flags | O_NONBLOCK); /* fill the pipe so the report's write blocks */
    static const char fill[4096];
    while (write(2, fill, sizeof fill) > 0) continue;
    fcntl(2, F_SETFL, flags);
    signal(SIGUSR1, panic_from_handler);
    if (write(ready[1], "r", 1) != 1) _exit(3);
    panic((const uint8_t *)"outer", 5);
  }
  close(err_pipe[1]);
  close(ready[1]);
  char r;
  ck_assert_int_eq(read(ready[0], &r, 1), 1);
  /* Signal only once the child sleeps: after `ready` the only place it can sleep is the outer
   * report's blocked write (a signal handler cannot be interrupted by the next signal under every
   * sanitizer, so an early signal would make the handler's panic the outer one). */
  int ws = 0;
  pid_t done = 0;
  for (int tries = 0; tries < 1000 && done == 0; tries++) {
    if (process_state(pid) == 'S') kill(pid, SIGUSR1);
    usleep(5000);
    done = waitpid(pid, &ws, WNOHANG);
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &ws, 0);
    ck_abort_msg("a panic during a panic did not end the process");
  }
  close(err_pipe[0]);
  close(ready[0]);
  ck_assert_msg(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT, "want SIGABRT, got status %#x", ws);
}
END_TEST

START_TEST(test_panic_and_traps) {
  DEATH(panic_simple, "panic (0): index went wrong");
  DEATH(panic_control_bytes, "panic (0): two\\nlines\\x01");
  DEATH(panic_null, "panic (0): ");
  DEATH(trap_bounds, "bounds (2): index 7 out of range for length 3");
  DEATH(trap_unknown, "unknown (99): odd");
  ck_assert_str_eq(beskid_rt_trap_name(BESKID_TRAP_OUT_OF_MEMORY), "out_of_memory");
  ck_assert_str_eq(beskid_rt_trap_name(BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION),
                   "runtime_internal_corruption");
}
END_TEST

/* A trap reported while stderr is a pipe whose reader has gone: the line is lost, but the process
 * exits with 101 instead of dying of SIGPIPE, whatever the signal's disposition. */
static void exit_7_on_sigpipe(int sig) {
  (void)sig;
  _exit(7);
}

static int trap_into_closed_pipe(void (*disposition)(int)) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fds[2];
    if (pipe(fds) != 0) _exit(3);
    close(fds[0]); /* the reader is gone before the trap */
    dup2(fds[1], 2);
    signal(SIGPIPE, disposition);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, "nobody reads this");
  }
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  return ws;
}

START_TEST(test_trap_with_stderr_reader_gone_exits_101) {
  void (*dispositions[])(int) = {SIG_DFL, SIG_IGN, exit_7_on_sigpipe};
  for (size_t i = 0; i < sizeof dispositions / sizeof dispositions[0]; i++) {
    int ws = trap_into_closed_pipe(dispositions[i]);
    ck_assert_msg(!WIFSIGNALED(ws), "disposition %zu: killed by signal %d", i, WTERMSIG(ws));
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == BESKID_TRAP_EXIT_STATUS,
                  "disposition %zu: exit status %d, want 101", i, WEXITSTATUS(ws));
  }
}
END_TEST

int main(void) {
  Suite *suite = suite_create("builtins");
  suite_add_tcase(suite,
                  beskid_test_version_case(beskid_builtins_version, BESKID_BUILTINS_VERSION_STRING,
                                           BESKID_TEST_VERSION_FILE));
  TCase *tc = tcase_create("config");
  tcase_add_test(tc, test_parse_bytes);
  tcase_add_test(tc, test_config_from_env);
  tcase_add_test(tc, test_config_from_env_leaves_strtok_alone);
  tcase_add_test(tc, test_config_gcworkers_from_env);
  tcase_add_test(tc, test_host_helpers_null);
  suite_add_tcase(suite, tc);
  tc = tcase_create("lifecycle");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_init_shutdown_attach);
  tcase_add_test(tc, test_lifecycle_traps);
  tcase_add_test(tc, test_shutdown_with_threads_attached_traps);
  tcase_add_test(tc, test_thread_exit_after_reinit);
  tcase_add_test(tc, test_fork_while_threads_collect);
  suite_add_tcase(suite, tc);
  tc = tcase_create("builtins");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_alloc_typed_and_raw);
  tcase_add_test(tc, test_alloc_traps);
  tcase_add_test(tc, test_misaligned_descriptor_traps);
  tcase_add_test(tc, test_strings);
  tcase_add_test(tc, test_string_traps);
  tcase_add_test(tc, test_arrays);
  tcase_add_test(tc, test_array_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("descriptors");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_raw_descriptors_many_sizes);
  tcase_add_test(tc, test_raw_descriptors_concurrent_lookups);
  suite_add_tcase(suite, tc);
  tc = tcase_create("roots");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_roots_and_handles);
  tcase_add_test(tc, test_root_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("native_state");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_native_state_alloc_is_refused);
  tcase_add_test(tc, test_native_state_entry_points_trap);
  tcase_add_test(tc, test_native_state_allowed_calls);
  suite_add_tcase(suite, tc);
  tc = tcase_create("traps");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_panic_and_traps);
  tcase_add_test(tc, test_concurrent_panics_report_once);
  tcase_add_test(tc, test_panic_while_panicking_aborts);
  tcase_add_test(tc, test_trap_with_stderr_reader_gone_exits_101);
  suite_add_tcase(suite, tc);

  beskid_builtins_robust_cases(suite);
  return beskid_test_run(suite);
}
