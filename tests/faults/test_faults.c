/* test_faults.c — systematic fault injection across the whole runtime.
 *
 * Each scenario is a small program that uses one part of the runtime and checks its own data at
 * the end (nothing reachable may be lost). For every N the scenario reaches, a child process
 * runs it with the runtime's Nth internal allocation failing (beskid_test_hooks.h), once with
 * that allocation alone failing and once with every allocation from the Nth on failing. Each
 * run must end in one of two ways: the scenario finishes with its checks passing (exit 0, no
 * output), or the documented out_of_memory trap (exit 101, exactly one line
 * `beskid runtime trap v5: out_of_memory (5): req=… live=… committed=… cap=…`). A signal, any
 * other status or output, or a run longer than 60 s (a hang) fails the test.
 *
 * The backing memory (the arena reservation, the page table, mimalloc's chunks) is not behind
 * the hook; it is failed for real by running the scenarios under address-space limits
 * (RLIMIT_AS), where start-up must be refused cleanly or the program trap or finish. That case
 * is skipped under the sanitizers, whose shadow memory needs the address space.
 *
 * The collector runs in manual mode so the order of internal allocations is the same in every
 * run. `faults: <scenario>: …` lines on stdout give the figures docs/reliability.md quotes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/platform.h"
#include "beskid/runtime_abi.h"
#include "beskid/stdhost.h"
#include "beskid_test_hooks.h"
#include "check_support.h"

/* A check inside a child: a failed one ends the child with status 3 and says what. */
#define EXPECT(cond)                                                                               \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "scenario check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);           \
      _exit(3);                                                                                    \
    }                                                                                              \
  } while (0)

static beskid_gc_thread_t *self(void) { return beskid_rt_thread(); }

/* ---- scenarios ---------------------------------------------------------------------------- */

/* struct Node { Node *next @16; i64 value @24 } */
static const uint64_t node_map[] = {16};
static const beskid_type_t node_type = {32, 8, node_map, 1, BESKID_TYPE_AGGREGATE, 0};
/* A large object with a pointer: 48 KiB, beyond the small classes. */
static const uint64_t big_map[] = {16};
static const beskid_type_t big_type = {49152, 8, big_map, 1, BESKID_TYPE_AGGREGATE, 0};

/* Allocation-heavy: a rooted list, garbage of many sizes, large objects, collections. */
static void scenario_alloc_heavy(void) {
  static void *slots[3];
  static beskid_root_frame_t frame = {NULL, slots, 3};
  beskid_gc_push_frame(self(), &frame);
  for (int64_t i = 0; i < 400; i++) {
    int64_t *n = alloc(32, &node_type);
    n[3] = i;
    beskid_gc_store(self(), (void **)&n[2], slots[0]);
    slots[0] = n;
    alloc(16 + 16 * (i % 50), NULL); /* garbage */
    if (i % 100 == 0) {
      void **big = alloc(49152, &big_type);
      beskid_gc_store(self(), &big[2], slots[1]);
      slots[1] = big;
      alloc(200000, NULL); /* large garbage */
      gc_collect();
    }
  }
  gc_collect();
  int64_t expect = 399;
  for (int64_t *n = slots[0]; n != NULL; n = (int64_t *)n[2]) EXPECT(n[3] == expect--);
  EXPECT(expect == -1);
  int bigs = 0;
  for (void **b = slots[1]; b != NULL; b = b[2]) bigs++;
  EXPECT(bigs == 4);
  EXPECT(gc_heap_verify() == 1);
  beskid_gc_pop_frame(self(), &frame);
}

/* Threads attaching, allocating, publishing through a global, blocking natively, detaching. */
static void *published[4];
static void *worker(void *arg) {
  int64_t id = (int64_t)(intptr_t)arg;
  beskid_rt_thread_attach();
  static __thread void *slot[1];
  beskid_root_frame_t frame = {NULL, slot, 1};
  beskid_gc_push_frame(self(), &frame);
  for (int64_t i = 0; i < 50; i++) {
    int64_t *n = alloc(32, &node_type);
    n[3] = id * 1000 + i;
    beskid_gc_store(self(), (void **)&n[2], slot[0]);
    slot[0] = n;
  }
  if (id % 2 == 1) gc_collect();
  beskid_rt_enter_native();
  beskid_rt_leave_native();
  beskid_gc_store(self(), &published[id], slot[0]);
  beskid_gc_pop_frame(self(), &frame);
  beskid_rt_thread_detach();
  return NULL;
}
static void scenario_threads(void) {
  beskid_rt_register_globals(published, 4);
  for (int64_t id = 0; id < 4; id++) {
    pthread_t th;
    beskid_rt_enter_native();
    EXPECT(pthread_create(&th, NULL, worker, (void *)(intptr_t)id) == 0);
    pthread_join(th, NULL);
    beskid_rt_leave_native();
  }
  gc_collect();
  for (int64_t id = 0; id < 4; id++) {
    int64_t expect = 49;
    for (int64_t *n = published[id]; n != NULL; n = (int64_t *)n[2]) {
      EXPECT(n[3] == id * 1000 + expect--);
    }
    EXPECT(expect == -1);
  }
}

/* Registered roots with churn, handles released out of order (stale ones must not resolve),
 * globals in many small modules. */
static void scenario_roots_handles(void) {
  static void *cells[80];
  static void *globals[12][2];
  uint64_t handles[120];
  for (int i = 0; i < 80; i++) EXPECT(gc_register_root(&cells[i]) == 1);
  for (int i = 0; i < 12; i++) beskid_rt_register_globals(globals[i], 2);
  for (int i = 0; i < 120; i++) {
    int64_t *p = alloc(32, NULL);
    p[2] = i;
    handles[i] = gc_root_handle(p);
    EXPECT(handles[i] != 0);
  }
  for (int i = 0; i < 120; i += 3) gc_unroot_handle(handles[i]); /* out of order */
  for (int i = 0; i < 80; i++) {
    int64_t *p = alloc(24, NULL);
    p[2] = -i;
    beskid_gc_store(self(), &cells[i], p);
  }
  for (int i = 0; i < 12; i++) {
    int64_t *p = alloc(32, NULL);
    p[2] = 1000 + i;
    beskid_gc_store(self(), &globals[i][1], p);
  }
  for (int i = 79; i >= 40; i--) gc_unregister_root(&cells[i]); /* LIFO release */
  for (int i = 40; i < 60; i++) EXPECT(gc_register_root(&cells[i]) == 1);
  gc_collect();
  for (int i = 0; i < 120; i++) {
    if (i % 3 == 0) continue;
    EXPECT(((int64_t *)beskid_rt_handle_get(handles[i]))[2] == i);
  }
  for (int i = 0; i < 60; i++) EXPECT(((int64_t *)cells[i])[2] == -i);
  for (int i = 0; i < 12; i++) EXPECT(((int64_t *)globals[i][1])[2] == 1000 + i);
  for (int i = 0; i < 120; i++) {
    if (i % 3 != 0) gc_unroot_handle(handles[i]);
  }
  EXPECT(gc_heap_verify() == 1);
}

/* Typed arrays over several element descriptors and untyped objects of many sizes beyond the
 * static descriptor table (the runtime makes and caches their descriptors). */
static const uint64_t pair_map[] = {8};
static const beskid_elem_type_t pair_elem = {24, 8, pair_map, 1};
static const uint64_t two_map[] = {0, 16};
static const beskid_elem_type_t two_elem = {32, 16, two_map, 2};
static void scenario_arrays_descriptors(void) {
  static void *slots[4];
  static beskid_root_frame_t frame = {NULL, slots, 4};
  beskid_gc_push_frame(self(), &frame);
  beskid_array_t a, b, c;
  beskid_rt_array_new_typed(&a, &pair_elem, 300);
  slots[0] = a.ptr;
  beskid_rt_array_new_typed(&b, &two_elem, 2000); /* 64 KiB: a large span */
  slots[1] = b.ptr;
  beskid_rt_array_new_typed(&c, &beskid_obj_pointer_elem_type, 64);
  slots[2] = c.ptr;
  for (int64_t i = 0; i < 64; i++) {
    int64_t *raw = alloc(4200 + 16 * i, NULL); /* a new untyped descriptor each */
    raw[2] = i;
    beskid_gc_store(self(), &((void **)c.ptr)[i], raw);
    if (i % 3 == 0) {
      int64_t *n = alloc(32, &node_type);
      n[3] = i;
      beskid_gc_store(self(), (void **)((char *)a.ptr + 24 * i + 8), n);
      beskid_gc_store(self(), (void **)((char *)b.ptr + 32 * i + 16), n);
    }
  }
  gc_collect();
  for (int64_t i = 0; i < 64; i++) {
    EXPECT(((int64_t *)((void **)c.ptr)[i])[2] == i);
    if (i % 3 == 0) {
      EXPECT((*(int64_t **)((char *)a.ptr + 24 * i + 8))[3] == i);
      EXPECT((*(int64_t **)((char *)b.ptr + 32 * i + 16))[3] == i);
    }
  }
  EXPECT(gc_heap_verify() == 1);
  beskid_gc_pop_frame(self(), &frame);
}

/* Host I/O and text: files written, appended, read back and listed, strings split and built. */
static char io_dir[64];
static beskid_str_t cstr(const char *s) {
  beskid_str_t out;
  str_new(&out, (const uint8_t *)s, (int64_t)strlen(s));
  return out;
}
static void scenario_stdhost_io(void) {
  static void *slots[8];
  static beskid_root_frame_t frame = {NULL, slots, 8};
  beskid_gc_push_frame(self(), &frame);
  char path_a[128], path_dir[128];
  snprintf(path_a, sizeof path_a, "%s/a.txt", io_dir);
  snprintf(path_dir, sizeof path_dir, "%s/sub", io_dir);
  beskid_str_t pa = cstr(path_a);
  slots[0] = (void *)(uintptr_t)pa.ptr;
  beskid_str_t text = cstr("alpha,beta,,gamma\n");
  slots[1] = (void *)(uintptr_t)text.ptr;
  EXPECT(beskid_std_fs_write_text(&pa, &text) == BESKID_OK);
  EXPECT(beskid_std_fs_append_text(&pa, &text) == BESKID_OK);
  beskid_str_t back;
  EXPECT(beskid_std_fs_read_text(&back, &pa) == BESKID_OK);
  slots[2] = (void *)(uintptr_t)back.ptr;
  EXPECT(back.len == 2 * text.len);
  beskid_str_t sep = cstr(",");
  slots[3] = (void *)(uintptr_t)sep.ptr;
  beskid_array_t parts;
  beskid_std_str_split(&parts, &back, &sep);
  slots[4] = parts.ptr;
  EXPECT(parts.len == 7);
  beskid_str_t pd = cstr(path_dir);
  slots[6] = (void *)(uintptr_t)pd.ptr;
  EXPECT(beskid_std_fs_mkdir(&pd, true) == BESKID_OK);
  beskid_array_t names;
  beskid_str_t dir = cstr(io_dir);
  slots[7] = (void *)(uintptr_t)dir.ptr;
  EXPECT(beskid_std_fs_list_dir(&names, &dir) == BESKID_OK);
  EXPECT(names.len == 2);
  beskid_std_builder_t *builder = beskid_std_builder_new(0);
  slots[5] = builder;
  for (int64_t i = 0; i < 200; i++) beskid_std_builder_append_i64(builder, i);
  beskid_str_t built;
  beskid_std_builder_finish(&built, builder);
  slots[5] = (void *)(uintptr_t)built.ptr;
  EXPECT(built.len == 10 + 90 * 2 + 100 * 3);
  gc_collect();
  EXPECT(memcmp(back.ptr, "alpha,beta,,gamma\nalpha", 23) == 0);
  EXPECT(beskid_std_fs_delete(&pd) == BESKID_OK);
  EXPECT(beskid_std_fs_delete(&pa) == BESKID_OK);
  beskid_gc_pop_frame(self(), &frame);
}

/* A cycle stepped by hand: stores through the barrier while marking (its per-thread buffers),
 * new objects linked into already-marked ones, marking in small budgets (the mark queue), then
 * termination and sweeping. The list must come out whole. */
static void scenario_barrier_marking(void) {
  static void *slots[2];
  static beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(self(), &frame);
  for (int64_t i = 0; i < 600; i++) {
    int64_t *n = alloc(32, &node_type);
    n[3] = i;
    beskid_gc_store(self(), (void **)&n[2], slots[0]);
    slots[0] = n;
  }
  beskid_gc_step(self(), BESKID_GC_STEP_MARK_STARTED);
  EXPECT(beskid_gc_barrier_on != 0);
  /* Splice a fresh node after every other node; the old successor hangs off the new node. */
  int64_t i = 0;
  for (int64_t *n = slots[0]; n != NULL; i++) {
    int64_t *next = (int64_t *)n[2];
    if (i % 2 == 0) {
      slots[1] = n;
      int64_t *fresh = alloc(32, &node_type);
      n = slots[1];
      fresh[3] = -1;
      beskid_gc_store(self(), (void **)&fresh[2], next);
      beskid_gc_store(self(), (void **)&n[2], fresh);
    }
    if (i % 50 == 0) beskid_gc_mark_some(self(), 64);
    n = next;
  }
  slots[1] = NULL;
  beskid_gc_step(self(), BESKID_GC_STEP_MARK_DONE);
  beskid_gc_step(self(), BESKID_GC_STEP_SWEPT);
  int64_t expect = 599, fresh_seen = 0;
  for (int64_t *n = slots[0]; n != NULL; n = (int64_t *)n[2]) {
    if (n[3] == -1) {
      fresh_seen++;
      continue;
    }
    EXPECT(n[3] == expect--);
  }
  EXPECT(expect == -1 && fresh_seen == 300);
  EXPECT(gc_heap_verify() == 1);
  beskid_gc_pop_frame(self(), &frame);
}

typedef struct scenario {
  const char *name;
  void (*run)(void);
} scenario;

static const scenario scenarios[] = {
    {"alloc_heavy", scenario_alloc_heavy},
    {"threads", scenario_threads},
    {"roots_handles_globals", scenario_roots_handles},
    {"typed_arrays_descriptors", scenario_arrays_descriptors},
    {"stdhost_io", scenario_stdhost_io},
    {"barrier_marking", scenario_barrier_marking},
};

/* ---- the runner --------------------------------------------------------------------------- */

typedef enum outcome { FINISHED, TRAPPED } outcome;

static void init_manual(void) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  c.debug_flags = BESKID_GC_DEBUG_MANUAL;
  if (beskid_rt_init(&c) != 0) {
    fprintf(stderr, "runtime did not start\n");
    _exit(4);
  }
}

/* Runs scenario s in a child; `fail_at` (with `count`) arms the hook after start-up unless it
 * is UINT64_MAX; `as_limit` (non-zero) limits the child's address space before start-up.
 * *allocations receives how many internal allocations the scenario made. */
static outcome run_child(const scenario *s, uint64_t fail_at, uint64_t count, rlim_t as_limit,
                         uint64_t *allocations) {
  int err[2], info[2];
  ck_assert_int_eq(pipe(err), 0);
  ck_assert_int_eq(pipe(info), 0);
  if (s->run == scenario_stdhost_io) {
    snprintf(io_dir, sizeof io_dir, "/tmp/beskid-faults-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(io_dir));
  }
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(err[0]);
    close(info[0]);
    dup2(err[1], 2);
    alarm(60); /* a hang ends as SIGALRM, which the parent reports */
    if (as_limit != 0) {
      struct rlimit rl = {as_limit, as_limit};
      setrlimit(RLIMIT_AS, &rl);
    }
    init_manual();
    uint64_t first = beskid_os_test_allocations();
    if (fail_at != UINT64_MAX) beskid_os_test_fail_allocations(fail_at, count);
    s->run();
    uint64_t made = beskid_os_test_allocations() - first;
    if (write(info[1], &made, sizeof made) != sizeof made) _exit(5);
    _exit(0);
  }
  close(err[1]);
  close(info[1]);
  char out[4096];
  size_t got = 0;
  ssize_t n;
  while ((n = read(err[0], out + got, sizeof out - 1 - got)) > 0) got += (size_t)n;
  out[got] = '\0';
  close(err[0]);
  uint64_t made = 0;
  bool told = read(info[0], &made, sizeof made) == (ssize_t)sizeof made;
  close(info[0]);
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  if (s->run == scenario_stdhost_io) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", io_dir);
    ck_assert_int_eq(system(cmd), 0);
  }
  ck_assert_msg(WIFEXITED(ws),
                "%s, allocation %llu (+%llu) failing, AS limit %llu: killed by "
                "signal %d; stderr: %s",
                s->name, (unsigned long long)fail_at, (unsigned long long)count,
                (unsigned long long)as_limit, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0, out);
  int status = WEXITSTATUS(ws);
  if (status == 0 && got == 0 && told) {
    if (allocations != NULL) *allocations = made;
    return FINISHED;
  }
  bool one_line = got > 0 && strchr(out, '\n') == out + got - 1;
  bool oom = strstr(out, "beskid runtime trap v5: out_of_memory (5): req=") == out &&
             strstr(out, " live=") != NULL && strstr(out, " committed=") != NULL &&
             strstr(out, " cap=") != NULL;
  ck_assert_msg(status == BESKID_TRAP_EXIT_STATUS && one_line && oom,
                "%s, allocation %llu (+%llu) failing, AS limit %llu: exit %d; stderr: %s", s->name,
                (unsigned long long)fail_at, (unsigned long long)count,
                (unsigned long long)as_limit, status, out);
  return TRAPPED;
}

/* _i: the scenario. Every N: the Nth allocation alone fails, then every one from the Nth. */
START_TEST(test_every_internal_allocation_failure) {
  const scenario *s = &scenarios[_i];
  uint64_t total = 0;
  ck_assert_int_eq(run_child(s, UINT64_MAX, 0, 0, &total), FINISHED);
  ck_assert_uint_gt(total, 0);
  uint64_t trapped_single = 0, trapped_from = 0;
  for (uint64_t nth = 0; nth < total; nth++) {
    if (run_child(s, nth, 1, 0, NULL) == TRAPPED) trapped_single++;
    if (run_child(s, nth, UINT64_MAX, 0, NULL) == TRAPPED) trapped_from++;
  }
  /* Failing past the last allocation changes nothing. */
  ck_assert_int_eq(run_child(s, total, UINT64_MAX, 0, NULL), FINISHED);
  printf("faults: %s: %llu internal allocations, %llu runs; one failing: %llu trapped, %llu "
         "finished; all failing from N: %llu trapped, %llu finished; none crashed, hung or lost "
         "data\n",
         s->name, (unsigned long long)total, (unsigned long long)(2 * total + 2),
         (unsigned long long)trapped_single, (unsigned long long)(total - trapped_single),
         (unsigned long long)trapped_from, (unsigned long long)(total - trapped_from));
  fflush(stdout);
  /* At least one failure must matter, or the scenario does not reach the hook at all. */
  ck_assert_uint_gt(trapped_from, 0);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

/* The backing memory failed for real: address-space limits from 48 MiB (start-up cannot
 * reserve even the smallest arena) up to 1 GiB (everything fits). */
START_TEST(test_address_space_limits) {
#ifdef UNDER_SANITIZER
  printf("faults: address-space limits skipped under a sanitizer\n");
#else
  const scenario *s = &scenarios[_i];
  uint64_t finished = 0, refused = 0;
  for (rlim_t mib = 48; mib <= 1024; mib += 48) {
    int ws = 0;
    fflush(NULL);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(p[0]);
      struct rlimit rl = {mib << 20, mib << 20};
      setrlimit(RLIMIT_AS, &rl);
      beskid_rt_config_t c;
      beskid_rt_config_default(&c);
      c.debug_flags = BESKID_GC_DEBUG_MANUAL;
      char started = beskid_rt_init(&c) == 0 ? 1 : 0;
      if (write(p[1], &started, 1) != 1) _exit(5);
      if (started) beskid_rt_shutdown();
      _exit(0);
    }
    close(p[1]);
    char started = 0;
    ck_assert_int_eq(read(p[0], &started, 1), 1);
    close(p[0]);
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    if (!started) {
      refused++;
      continue;
    }
    if (run_child(s, UINT64_MAX, 0, mib << 20, NULL) == FINISHED) finished++;
  }
  printf("faults: %s under address-space limits 48..1024 MiB: %llu refused to start cleanly, "
         "%llu finished, the rest trapped out_of_memory\n",
         s->name, (unsigned long long)refused, (unsigned long long)finished);
  fflush(stdout);
  ck_assert_uint_gt(finished, 0);
#endif
}
END_TEST

/* Regression (found by fuzz/fuzz_env_config.c): a refused environment value holding a line
 * break made the "cannot start" message span lines; it must stay one line. */
START_TEST(test_config_error_is_one_line) {
  ck_assert_int_eq(beskid_os_env_set("BESKID_GCDEBUG", "stw\nverify"), BESKID_OK);
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  char error[256] = "";
  ck_assert(!beskid_rt_config_from_env(&c, error, sizeof error));
  ck_assert_msg(strchr(error, '\n') == NULL && strchr(error, '\r') == NULL, "error: '%s'", error);
  ck_assert_msg(strstr(error, "BESKID_GCDEBUG=") == error, "error: '%s'", error);
  ck_assert_int_eq(beskid_os_env_set("BESKID_GCDEBUG", NULL), BESKID_OK);
}
END_TEST

int main(void) {
  Suite *suite = suite_create("faults");
  int n = (int)(sizeof scenarios / sizeof scenarios[0]);
  TCase *tc = tcase_create("internal_allocations");
  tcase_set_timeout(tc, 900);
  tcase_add_loop_test(tc, test_every_internal_allocation_failure, 0, n);
  suite_add_tcase(suite, tc);
  tc = tcase_create("address_space");
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, test_address_space_limits, 0, n);
  suite_add_tcase(suite, tc);
  tc = tcase_create("regressions");
  tcase_add_test(tc, test_config_error_is_one_line);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
