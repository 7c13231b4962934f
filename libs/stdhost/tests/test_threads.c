/* test_threads.c — the Check suite of the threads part of libs/stdhost: spawn/join, mutex,
 * condition variable, channels, and the scheduler_deadlock report.
 *
 * Each test starts the runtime (Check forks a process per test). Values crossing threads are
 * heap objects whose contents are checked after collections with clobber mode on (a freed object
 * would read 0xdeadbeef), often with a collection every few allocations. Death tests run the
 * scenario in a child with stderr captured and assert status 101 and the one trap line. Tests
 * that must NOT report a deadlock fail if the process traps (Check sees the early exit).
 *
 * Timing: no test fails because the machine is slow. Where a test checks that something blocks
 * (a rendezvous send, a signal that wakes only one waiter), a slow machine can only make the
 * check weaker, never make it fail. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/platform.h"
#include "beskid/stdhost.h"
#include "check_support.h"

/* class Box { value: int, check: int } — pointer-free. */
typedef struct box {
  beskid_header_t header;
  int64_t value;
  int64_t check; /* value * 7 + 3: a freed, clobbered box fails this */
} box;
static const beskid_type_t box_type = {sizeof(box), 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};

/* class Node { next: Node?, value: int } */
typedef struct node {
  beskid_header_t header;
  struct node *next; /* @8 */
  int64_t value;     /* @16 */
} node;
static const uint64_t node_map[] = {8};
static const beskid_type_t node_type = {sizeof(node), 8, node_map, 1, BESKID_TYPE_AGGREGATE, 0};

/* class Pair { a: any, b: any, n: int } — the argument of most thread functions. */
typedef struct pair {
  beskid_header_t header;
  void *a;   /* @8 */
  void *b;   /* @16 */
  int64_t n; /* @24 */
} pair;
static const uint64_t pair_map[] = {8, 16};
static const beskid_type_t pair_type = {sizeof(pair), 8, pair_map, 2, BESKID_TYPE_AGGREGATE, 0};

static void start_with(uint64_t stress_interval) {
  beskid_rt_config_t c;
  beskid_rt_config_default(&c);
  c.debug_flags = BESKID_GC_DEBUG_CLOBBER;
  c.stress_interval = stress_interval;
  ck_assert_int_eq(beskid_rt_init(&c), 0);
}

static void start(void) { start_with(0); }

static void stop(void) {
  ck_assert_uint_eq(gc_heap_verify(), 1);
  beskid_rt_shutdown();
}

/* A root frame of `n` slots, pushed and popped the way compiled code does. */
#define ROOTS(name, n)                                                                             \
  void *name[n] = {0};                                                                             \
  beskid_root_frame_t name##_frame = {NULL, name, n};                                              \
  beskid_gc_push_frame(beskid_rt_thread(), &name##_frame)
#define UNROOT(name) beskid_gc_pop_frame(beskid_rt_thread(), &name##_frame)

static void store(void *object_field_slot, void *value) {
  beskid_gc_store(beskid_rt_thread(), (void **)object_field_slot, value);
}

static box *new_box(int64_t value) {
  box *b = alloc(sizeof(box), &box_type);
  b->value = value;
  b->check = value * 7 + 3;
  return b;
}

static int64_t box_value(const void *p) {
  const box *b = p;
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_eq(b->header.type, &box_type);
  ck_assert_int_eq(b->check, b->value * 7 + 3);
  return b->value;
}

static pair *new_pair(void *a, void *b, int64_t n) {
  ROOTS(r, 2);
  r[0] = a;
  r[1] = b;
  pair *p = alloc(sizeof(pair), &pair_type);
  store(&p->a, r[0]);
  store(&p->b, r[1]);
  p->n = n;
  UNROOT(r);
  return p;
}

/* A pair of two new objects: the first stays rooted while the second is made. */
static pair *new_pair_of(void *(*make_a)(void), void *(*make_b)(void), int64_t n) {
  ROOTS(r, 1);
  r[0] = make_a();
  pair *p = new_pair(r[0], make_b(), n); /* new_pair roots both before it allocates */
  UNROOT(r);
  return p;
}

static void *new_rendezvous(void) { return beskid_std_channel_new(0); }

/* A list of `len` nodes holding first, first+1, ... */
static node *new_list(int64_t first, int64_t len) {
  ROOTS(r, 1);
  for (int64_t i = len - 1; i >= 0; i--) {
    node *n = alloc(sizeof(node), &node_type);
    store(&n->next, r[0]);
    n->value = first + i;
    r[0] = n;
  }
  UNROOT(r);
  return r[0];
}

static void check_list(const node *n, int64_t first, int64_t len) {
  for (int64_t i = 0; i < len; i++, n = n->next) {
    ck_assert_ptr_nonnull(n);
    ck_assert_ptr_eq(n->header.type, &node_type);
    ck_assert_int_eq(n->value, first + i);
  }
  ck_assert_ptr_null(n);
}

static void garbage(int count) {
  for (int i = 0; i < count; i++) new_box(i);
}

/* Sleeps in the native state, as a host sleep call does. */
static void native_sleep_ms(uint64_t ms) {
  beskid_rt_enter_native();
  beskid_os_sleep_ns(ms * 1000000u);
  beskid_rt_leave_native();
}

/* ------------------------------------------------------------------------------------------ */
/* Death tests */

#define DEATH BESKID_TEST_EXPECT_TRAP

#define DEADLOCK "scheduler_deadlock (7): "

/* ------------------------------------------------------------------------------------------ */
/* Threads */

/* Returns a new box holding the square of the argument box's value, after collections. */
static void *square(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  garbage(1000);
  gc_collect();
  int64_t v = box_value(r[0]);
  UNROOT(r);
  return new_box(v * v);
}

static void *return_null(void *arg) {
  ck_assert_ptr_null(arg);
  return NULL;
}

START_TEST(test_spawn_join_returns_result) {
  start();
  ROOTS(r, 2);
  /* The argument is held only by the thread object: the spawner keeps no reference. */
  r[0] = beskid_std_thread_spawn(square, new_box(12));
  ck_assert_ptr_nonnull(r[0]);
  garbage(1000);
  gc_collect();
  r[1] = beskid_std_thread_join(r[0]);
  ck_assert_int_eq(box_value(r[1]), 144);
  ck_assert(beskid_std_thread_is_done(r[0]));
  /* The result stays alive with the thread object; joining again gives the same one. */
  void *again = r[1];
  r[1] = NULL;
  garbage(1000);
  gc_collect();
  ck_assert_ptr_eq(beskid_std_thread_join(r[0]), again);
  ck_assert_int_eq(box_value(again), 144);
  /* NULL in, NULL out. */
  r[1] = beskid_std_thread_spawn(return_null, NULL);
  ck_assert_ptr_null(beskid_std_thread_join(r[1]));
  ck_assert(beskid_std_thread_is_done(r[1]));
  UNROOT(r);
  stop();
}
END_TEST

/* Holds its argument list while the world collects, then returns a new list of twice the
 * values; the spawner drops every reference of its own. */
static void *double_list(void *arg) {
  ROOTS(r, 2);
  r[0] = arg;
  for (int i = 0; i < 3; i++) {
    garbage(500);
    gc_collect();
  }
  const node *n = r[0];
  int64_t first = n->value, len = 0;
  for (; n != NULL; n = n->next) len++;
  check_list(r[0], first, len);
  r[1] = new_list(first * 2, len);
  garbage(500);
  UNROOT(r);
  return r[1];
}

START_TEST(test_arguments_and_results_survive_collections) {
  start_with(50); /* and a collection every 50 allocations */
  enum { THREADS = 4, LEN = 100 };
  ROOTS(r, THREADS);
  for (int64_t i = 0; i < THREADS; i++) {
    r[i] = beskid_std_thread_spawn(double_list, new_list(i * 1000, LEN));
    ck_assert_ptr_nonnull(r[i]);
  }
  for (int i = 0; i < 3; i++) {
    garbage(2000);
    gc_collect();
  }
  /* Results are joined late and in reverse order: the thread objects keep them alive. */
  for (int i = THREADS - 1; i >= 0; i--) {
    check_list(beskid_std_thread_join(r[i]), i * 2000, LEN);
  }
  gc_collect();
  for (int i = 0; i < THREADS; i++) check_list(beskid_std_thread_join(r[i]), i * 2000, LEN);
  UNROOT(r);
  stop();
}
END_TEST

/* A thread that waits for a box on a channel, so the test knows it is still running. */
static void *wait_for_go(void *arg) {
  void *got = NULL;
  ck_assert_int_eq(beskid_std_channel_receive(arg, &got), BESKID_STD_CHANNEL_OK);
  return got;
}

START_TEST(test_is_done_before_and_after) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_channel_new(0);
  r[1] = beskid_std_thread_spawn(wait_for_go, r[0]);
  ck_assert(!beskid_std_thread_is_done(r[1]));
  ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(5)), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(beskid_std_thread_join(r[1])), 5);
  ck_assert(beskid_std_thread_is_done(r[1]));
  UNROOT(r);
  stop();
}
END_TEST

static void die_spawn_null(void) {
  start();
  beskid_std_thread_spawn(NULL, NULL);
}
static void die_join_null(void) {
  start();
  beskid_std_thread_join(NULL);
}
static void die_join_not_thread(void) {
  start();
  beskid_std_thread_join(new_box(1));
}
static void die_is_done_null(void) {
  start();
  beskid_std_thread_is_done(NULL);
}
static void *join_self(void *arg) {
  (void)arg;
  /* Wait until the spawner has published the thread object, then join it from itself. */
  void *self = NULL;
  beskid_std_channel_receive(arg, &self);
  return beskid_std_thread_join(self);
}
static void die_join_self(void) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_channel_new(1);
  r[1] = beskid_std_thread_spawn(join_self, r[0]);
  beskid_std_channel_send(r[0], r[1]);
  native_sleep_ms(10000); /* the trap ends the process first */
}

START_TEST(test_thread_misuse_traps) {
  DEATH(die_spawn_null, "null_reference (1): ", "thread function");
  DEATH(die_join_null, "null_reference (1): ", "thread is null");
  DEATH(die_join_not_thread, "abi_or_layout_mismatch (8): ", "thread");
  DEATH(die_is_done_null, "null_reference (1): ");
  DEATH(die_join_self, DEADLOCK, "joins itself");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Mutex */

START_TEST(test_mutex_lock_unlock_try_lock) {
  start();
  ROOTS(r, 1);
  r[0] = beskid_std_mutex_new();
  ck_assert_ptr_nonnull(r[0]);
  beskid_std_mutex_lock(r[0]);
  ck_assert(!beskid_std_mutex_try_lock(r[0]));
  beskid_std_mutex_unlock(r[0]);
  ck_assert(beskid_std_mutex_try_lock(r[0]));
  gc_collect(); /* a held mutex survives a collection like any object */
  beskid_std_mutex_unlock(r[0]);
  beskid_std_mutex_lock(r[0]);
  beskid_std_mutex_unlock(r[0]);
  UNROOT(r);
  stop();
}
END_TEST

/* pair { a: mutex, b: counter box, n: iterations } */
static void *increment_under_mutex(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  int64_t iterations = ((pair *)r[0])->n;
  for (int64_t i = 0; i < iterations; i++) {
    pair *p = r[0];
    beskid_std_mutex_lock(p->a);
    box *counter = p->b;
    int64_t v = counter->value;
    if (i % 64 == 0) beskid_os_thread_yield(); /* invite contention inside the section */
    counter->value = v + 1;
    counter->check = counter->value * 7 + 3;
    beskid_std_mutex_unlock(p->a);
    if (i % 256 == 0) garbage(4);
  }
  UNROOT(r);
  return NULL;
}

START_TEST(test_mutex_excludes_under_contention) {
  start_with(200);
  enum { THREADS = 4, ITERATIONS = 20000 };
  ROOTS(r, THREADS + 1);
  r[THREADS] = beskid_std_mutex_new();
  r[THREADS] = new_pair(r[THREADS], new_box(0), ITERATIONS);
  for (int i = 0; i < THREADS; i++) {
    r[i] = beskid_std_thread_spawn(increment_under_mutex, r[THREADS]);
  }
  for (int i = 0; i < THREADS; i++) beskid_std_thread_join(r[i]);
  ck_assert_int_eq(box_value(((pair *)r[THREADS])->b), THREADS * ITERATIONS);
  UNROOT(r);
  stop();
}
END_TEST

/* Unlocks a mutex its spawner holds: allowed, as in Go. */
static void *unlock_arg(void *arg) {
  beskid_std_mutex_unlock(arg);
  return NULL;
}

START_TEST(test_mutex_unlock_from_another_thread) {
  start();
  ROOTS(r, 1);
  r[0] = beskid_std_mutex_new();
  beskid_std_mutex_lock(r[0]);
  beskid_std_thread_join(beskid_std_thread_spawn(unlock_arg, r[0]));
  ck_assert(beskid_std_mutex_try_lock(r[0]));
  beskid_std_mutex_unlock(r[0]);
  UNROOT(r);
  stop();
}
END_TEST

static void die_unlock_unlocked(void) {
  start();
  beskid_std_mutex_unlock(beskid_std_mutex_new());
}
static void die_lock_twice(void) {
  start();
  ROOTS(r, 1);
  r[0] = beskid_std_mutex_new();
  beskid_std_mutex_lock(r[0]);
  beskid_std_mutex_lock(r[0]);
}
static void die_lock_null(void) {
  start();
  beskid_std_mutex_lock(NULL);
}
static void die_lock_not_mutex(void) {
  start();
  beskid_std_mutex_lock(beskid_std_cond_new());
}
static void die_try_lock_null(void) {
  start();
  beskid_std_mutex_try_lock(NULL);
}

START_TEST(test_mutex_misuse_traps) {
  DEATH(die_unlock_unlocked, "unreachable_or_isle_invariant (9): ", "not locked");
  DEATH(die_lock_twice, DEADLOCK, "holds already");
  DEATH(die_lock_null, "null_reference (1): ", "mutex is null");
  DEATH(die_lock_not_mutex, "abi_or_layout_mismatch (8): ", "mutex");
  DEATH(die_try_lock_null, "null_reference (1): ");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Condition variable */

/* A bounded queue built from a mutex and two condition variables, the textbook way:
 * queue { mutex, not_empty, not_full, items (pair list), count, closed } kept in a pair of
 * pairs: q->a = pair{mutex, not_empty}, q->b = pair{not_full, list head}, q->n = count.
 * The list is LIFO (order does not matter to the sum). */
enum { QUEUE_CAP = 4, CV_PRODUCERS = 2, CV_CONSUMERS = 2, CV_ITEMS = 3000 };

static _Atomic int64_t cv_consumed_sum;
static _Atomic int64_t cv_consumed_count;

static void *cv_producer(void *arg) {
  ROOTS(r, 2);
  r[0] = arg; /* pair{queue, _, producer index} */
  int64_t index = ((pair *)r[0])->n;
  for (int64_t i = 0; i < CV_ITEMS; i++) {
    r[1] = new_box(index * CV_ITEMS + i);
    pair *q = ((pair *)r[0])->a;
    pair *locks = q->a, *state = q->b;
    beskid_std_mutex_lock(locks->a);
    while (q->n == QUEUE_CAP) beskid_std_cond_wait(state->a, locks->a);
    node *n = alloc(sizeof(node), &node_type); /* allocating under a std mutex is fine */
    q = ((pair *)r[0])->a;
    state = q->b;
    locks = q->a;
    n->value = box_value(r[1]);
    store(&n->next, state->b);
    store(&state->b, n);
    q->n++;
    beskid_std_cond_signal(locks->b);
    beskid_std_mutex_unlock(locks->a);
  }
  UNROOT(r);
  return NULL;
}

static void *cv_consumer(void *arg) {
  ROOTS(r, 1);
  r[0] = arg; /* the queue */
  for (;;) {
    pair *q = r[0];
    pair *locks = q->a, *state = q->b;
    beskid_std_mutex_lock(locks->a);
    while (q->n == 0 && state->n == 0) beskid_std_cond_wait(locks->b, locks->a);
    if (q->n == 0) { /* closed and drained */
      beskid_std_mutex_unlock(locks->a);
      break;
    }
    node *n = state->b;
    store(&state->b, n->next);
    q->n--;
    atomic_fetch_add(&cv_consumed_sum, n->value);
    atomic_fetch_add(&cv_consumed_count, 1);
    beskid_std_cond_signal(state->a);
    beskid_std_mutex_unlock(locks->a);
  }
  UNROOT(r);
  return NULL;
}

START_TEST(test_cond_bounded_queue) {
  start_with(300);
  ROOTS(r, 1 + CV_PRODUCERS + CV_CONSUMERS);
  r[0] = new_pair_of(beskid_std_mutex_new, beskid_std_cond_new, 0);
  r[0] = new_pair(r[0], NULL, 0);
  store(&((pair *)r[0])->b, new_pair(beskid_std_cond_new(), NULL, 0)); /* state->n: closed */
  for (int64_t i = 0; i < CV_PRODUCERS; i++) {
    r[1 + i] = beskid_std_thread_spawn(cv_producer, new_pair(r[0], NULL, i));
  }
  for (int i = 0; i < CV_CONSUMERS; i++) {
    r[1 + CV_PRODUCERS + i] = beskid_std_thread_spawn(cv_consumer, r[0]);
  }
  for (int i = 0; i < CV_PRODUCERS; i++) beskid_std_thread_join(r[1 + i]);
  pair *q = r[0];
  pair *locks = q->a;
  beskid_std_mutex_lock(locks->a);
  ((pair *)q->b)->n = 1; /* closed */
  beskid_std_cond_broadcast(locks->b);
  beskid_std_mutex_unlock(locks->a);
  for (int i = 0; i < CV_CONSUMERS; i++) beskid_std_thread_join(r[1 + CV_PRODUCERS + i]);
  int64_t n = CV_PRODUCERS * CV_ITEMS;
  ck_assert_int_eq(atomic_load(&cv_consumed_count), n);
  ck_assert_int_eq(atomic_load(&cv_consumed_sum), n * (n - 1) / 2);
  UNROOT(r);
  stop();
}
END_TEST

/* pair { a: mutex, b: cond, n: flag } — waits until the flag is set. */
static _Atomic int cv_waiting;
static void *wait_flag(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  pair *p = r[0];
  beskid_std_mutex_lock(p->a);
  atomic_fetch_add(&cv_waiting, 1);
  beskid_std_cond_wait(p->b, p->a);
  beskid_std_mutex_unlock(p->a);
  UNROOT(r);
  return NULL;
}

static int done_count(void **threads, int n) {
  int done = 0;
  for (int i = 0; i < n; i++) done += beskid_std_thread_is_done(threads[i]) ? 1 : 0;
  return done;
}

START_TEST(test_cond_signal_wakes_one_broadcast_all) {
  start();
  enum { WAITERS = 3 };
  ROOTS(r, WAITERS + 1);
  r[WAITERS] = new_pair_of(beskid_std_mutex_new, beskid_std_cond_new, 0);
  for (int i = 0; i < WAITERS; i++) r[i] = beskid_std_thread_spawn(wait_flag, r[WAITERS]);
  /* All waiting: each counted itself under the mutex, which cond_wait released. */
  for (;;) {
    pair *p = r[WAITERS];
    beskid_std_mutex_lock(p->a);
    int waiting = atomic_load(&cv_waiting);
    beskid_std_mutex_unlock(p->a);
    if (waiting == WAITERS) break;
    native_sleep_ms(1);
  }
  beskid_std_cond_signal(((pair *)r[WAITERS])->b);
  while (done_count(r, WAITERS) < 1) native_sleep_ms(1);
  native_sleep_ms(50);
  ck_assert_int_eq(done_count(r, WAITERS), 1); /* one signal, one waiter */
  beskid_std_cond_broadcast(((pair *)r[WAITERS])->b);
  for (int i = 0; i < WAITERS; i++) beskid_std_thread_join(r[i]);
  /* Signalling nobody is harmless. */
  beskid_std_cond_signal(((pair *)r[WAITERS])->b);
  beskid_std_cond_broadcast(((pair *)r[WAITERS])->b);
  UNROOT(r);
  stop();
}
END_TEST

/* Sets the flag under the mutex and signals. */
static void *set_flag_and_signal(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  native_sleep_ms(20);
  pair *p = r[0];
  beskid_std_mutex_lock(p->a);
  p->n = 1;
  beskid_std_cond_signal(p->b);
  beskid_std_mutex_unlock(p->a);
  UNROOT(r);
  return NULL;
}

START_TEST(test_cond_timed_wait) {
  start();
  ROOTS(r, 2);
  r[0] = new_pair_of(beskid_std_mutex_new, beskid_std_cond_new, 0);
  pair *p = r[0];
  /* Nobody signals: the wait times out (no deadlock report: a timed wait is not stuck), after
   * at least the time asked for, and the mutex is held again afterwards. */
  beskid_std_mutex_lock(p->a);
  uint64_t t0 = beskid_os_monotonic_ns();
  ck_assert(!beskid_std_cond_wait_timeout(p->b, p->a, 20000000));
  ck_assert_uint_ge(beskid_os_monotonic_ns() - t0, 20000000);
  ck_assert(!beskid_std_mutex_try_lock(p->a));
  ck_assert(!beskid_std_cond_wait_timeout(p->b, p->a, 0));
  /* Signalled before the timeout: true, and the flag set under the mutex is visible. */
  r[1] = beskid_std_thread_spawn(set_flag_and_signal, r[0]);
  p = r[0];
  while (p->n == 0) {
    ck_assert(beskid_std_cond_wait_timeout(p->b, p->a, INT64_C(60000000000)));
  }
  beskid_std_mutex_unlock(p->a);
  beskid_std_thread_join(r[1]);
  UNROOT(r);
  stop();
}
END_TEST

static void die_wait_unlocked(void) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_cond_new();
  r[1] = beskid_std_mutex_new();
  beskid_std_cond_wait(r[0], r[1]);
}
static void die_wait_negative_timeout(void) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_cond_new();
  r[1] = beskid_std_mutex_new();
  beskid_std_mutex_lock(r[1]);
  beskid_std_cond_wait_timeout(r[0], r[1], -1);
}
static void die_wait_null_cond(void) {
  start();
  beskid_std_cond_wait(NULL, beskid_std_mutex_new());
}
static void die_wait_swapped(void) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_cond_new();
  r[1] = beskid_std_mutex_new();
  beskid_std_cond_wait(r[1], r[0]);
}
static void die_signal_null(void) {
  start();
  beskid_std_cond_signal(NULL);
}
static void die_broadcast_not_cond(void) {
  start();
  beskid_std_cond_broadcast(beskid_std_mutex_new());
}

START_TEST(test_cond_misuse_traps) {
  DEATH(die_wait_unlocked, "unreachable_or_isle_invariant (9): ", "not locked");
  DEATH(die_wait_negative_timeout, "bounds (2): ", "negative timeout");
  DEATH(die_wait_null_cond, "null_reference (1): ", "condition variable is null");
  DEATH(die_wait_swapped, "abi_or_layout_mismatch (8): ", "condition variable");
  DEATH(die_signal_null, "null_reference (1): ");
  DEATH(die_broadcast_not_cond, "abi_or_layout_mismatch (8): ");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Channels */

START_TEST(test_channel_fifo_len_close) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_channel_new(3);
  ck_assert_int_eq(beskid_std_channel_len(r[0]), 0);
  for (int64_t i = 0; i < 3; i++) {
    ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(i)), BESKID_STD_CHANNEL_OK);
  }
  ck_assert_int_eq(beskid_std_channel_len(r[0]), 3);
  garbage(2000);
  gc_collect(); /* buffered values are held by the channel alone */
  for (int64_t i = 0; i < 2; i++) {
    ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[1]), BESKID_STD_CHANNEL_OK);
    ck_assert_int_eq(box_value(r[1]), i);
  }
  /* Wrap around the ring; NULL is a value like any other. */
  ck_assert_int_eq(beskid_std_channel_send(r[0], NULL), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(3)), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(beskid_std_channel_len(r[0]), 3);
  /* Closed: buffered values still arrive, then CLOSED with NULL. */
  ck_assert_int_eq(beskid_std_channel_close(r[0]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(beskid_std_channel_close(r[0]), BESKID_STD_CHANNEL_CLOSED);
  ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(9)), BESKID_STD_CHANNEL_CLOSED);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[1]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(r[1]), 2);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[1]), BESKID_STD_CHANNEL_OK);
  ck_assert_ptr_null(r[1]);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[1]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(r[1]), 3);
  ck_assert_int_eq(beskid_std_channel_len(r[0]), 0);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[1]), BESKID_STD_CHANNEL_CLOSED);
  ck_assert_ptr_null(r[1]);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[1]), BESKID_STD_CHANNEL_CLOSED);
  /* A receive into a heap field works too (the store has the barrier). */
  r[0] = beskid_std_channel_new(1);
  r[1] = new_pair(NULL, NULL, 0);
  beskid_std_channel_send(r[0], new_box(77));
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &((pair *)r[1])->a), BESKID_STD_CHANNEL_OK);
  gc_collect();
  ck_assert_int_eq(box_value(((pair *)r[1])->a), 77);
  UNROOT(r);
  stop();
}
END_TEST

static _Atomic int rendezvous_sent;
static void *send_one(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(42)), BESKID_STD_CHANNEL_OK);
  atomic_store(&rendezvous_sent, 1);
  UNROOT(r);
  return NULL;
}

START_TEST(test_channel_rendezvous) {
  start_with(20);
  ROOTS(r, 3);
  r[0] = beskid_std_channel_new(0);
  r[1] = beskid_std_thread_spawn(send_one, r[0]);
  native_sleep_ms(50);
  /* Nobody has received: the send cannot have completed. */
  ck_assert_int_eq(atomic_load(&rendezvous_sent), 0);
  ck_assert_int_eq(beskid_std_channel_len(r[0]), 0);
  garbage(500);
  gc_collect(); /* the value waits in the blocked sender's roots */
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[2]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(r[2]), 42);
  beskid_std_thread_join(r[1]);
  ck_assert_int_eq(atomic_load(&rendezvous_sent), 1);
  /* And the other way round: the receiver waits first and gets the value handed over. */
  r[1] = beskid_std_thread_spawn(wait_for_go, r[0]);
  native_sleep_ms(20);
  ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(43)), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(beskid_std_thread_join(r[1])), 43);
  UNROOT(r);
  stop();
}
END_TEST

/* Many producers and consumers; every value must arrive exactly once and intact. */
enum { MP_PRODUCERS = 3, MP_CONSUMERS = 3, MP_ITEMS = 3000 };
static _Atomic int seen[MP_PRODUCERS * MP_ITEMS];

static void *mp_producer(void *arg) {
  ROOTS(r, 1);
  r[0] = arg; /* pair{channel, _, index} */
  int64_t index = ((pair *)r[0])->n;
  for (int64_t i = 0; i < MP_ITEMS; i++) {
    box *b = new_box(index * MP_ITEMS + i);
    ck_assert_int_eq(beskid_std_channel_send(((pair *)r[0])->a, b), BESKID_STD_CHANNEL_OK);
  }
  UNROOT(r);
  return NULL;
}

static void *mp_consumer(void *arg) {
  ROOTS(r, 2);
  r[0] = arg; /* the channel */
  int64_t received = 0;
  while (beskid_std_channel_receive(r[0], &r[1]) == BESKID_STD_CHANNEL_OK) {
    int64_t v = box_value(r[1]);
    ck_assert(v >= 0 && v < MP_PRODUCERS * MP_ITEMS);
    atomic_fetch_add(&seen[v], 1);
    if (++received % 500 == 0) gc_collect();
  }
  ck_assert_ptr_null(r[1]);
  UNROOT(r);
  return NULL;
}

static void run_many_to_many(int64_t capacity) {
  for (int i = 0; i < MP_PRODUCERS * MP_ITEMS; i++) atomic_store(&seen[i], 0);
  ROOTS(r, 1 + MP_PRODUCERS + MP_CONSUMERS);
  r[0] = beskid_std_channel_new(capacity);
  for (int i = 0; i < MP_CONSUMERS; i++) {
    r[1 + MP_PRODUCERS + i] = beskid_std_thread_spawn(mp_consumer, r[0]);
  }
  for (int64_t i = 0; i < MP_PRODUCERS; i++) {
    r[1 + i] = beskid_std_thread_spawn(mp_producer, new_pair(r[0], NULL, i));
  }
  for (int i = 0; i < MP_PRODUCERS; i++) beskid_std_thread_join(r[1 + i]);
  ck_assert_int_eq(beskid_std_channel_close(r[0]), BESKID_STD_CHANNEL_OK);
  for (int i = 0; i < MP_CONSUMERS; i++) beskid_std_thread_join(r[1 + MP_PRODUCERS + i]);
  for (int i = 0; i < MP_PRODUCERS * MP_ITEMS; i++) {
    ck_assert_msg(atomic_load(&seen[i]) == 1, "value %d arrived %d times (capacity %lld)", i,
                  atomic_load(&seen[i]), (long long)capacity);
  }
  UNROOT(r);
}

START_TEST(test_channel_many_to_many_exactly_once) {
  start_with(100);
  run_many_to_many(8);
  run_many_to_many(1);
  run_many_to_many(0);
  stop();
}
END_TEST

/* Receives once and returns a box holding the status. */
static void *receive_status(void *arg) {
  void *got = arg; /* overwritten */
  int32_t status = beskid_std_channel_receive(arg, &got);
  ck_assert(status == BESKID_STD_CHANNEL_OK || got == NULL);
  return new_box(status);
}

static void *send_status(void *arg) {
  int32_t status = beskid_std_channel_send(arg, new_box(1));
  return new_box(status);
}

START_TEST(test_channel_close_wakes_blocked) {
  start();
  ROOTS(r, 4);
  /* Blocked receivers on an empty channel: closing wakes them with CLOSED. */
  r[0] = beskid_std_channel_new(2);
  r[1] = beskid_std_thread_spawn(receive_status, r[0]);
  r[2] = beskid_std_thread_spawn(receive_status, r[0]);
  native_sleep_ms(20);
  ck_assert_int_eq(beskid_std_channel_close(r[0]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(beskid_std_thread_join(r[1])), BESKID_STD_CHANNEL_CLOSED);
  ck_assert_int_eq(box_value(beskid_std_thread_join(r[2])), BESKID_STD_CHANNEL_CLOSED);
  /* A blocked sender on a full channel: closing wakes it with CLOSED and drops its value;
   * what was buffered before the close still arrives. */
  r[0] = beskid_std_channel_new(1);
  ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(5)), BESKID_STD_CHANNEL_OK);
  r[1] = beskid_std_thread_spawn(send_status, r[0]);
  native_sleep_ms(20);
  ck_assert_int_eq(beskid_std_channel_close(r[0]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(beskid_std_thread_join(r[1])), BESKID_STD_CHANNEL_CLOSED);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[3]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(r[3]), 5);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[3]), BESKID_STD_CHANNEL_CLOSED);
  UNROOT(r);
  stop();
}
END_TEST

static void die_channel_negative(void) {
  start();
  beskid_std_channel_new(-1);
}
static void die_receive_null_out(void) {
  start();
  beskid_std_channel_receive(beskid_std_channel_new(1), NULL);
}
static void die_send_null(void) {
  start();
  beskid_std_channel_send(NULL, NULL);
}
static void die_close_not_channel(void) {
  start();
  beskid_std_channel_close(beskid_std_mutex_new());
}
static void die_len_null(void) {
  start();
  beskid_std_channel_len(NULL);
}

START_TEST(test_channel_misuse_traps) {
  DEATH(die_channel_negative, "bounds (2): ", "negative channel capacity");
  DEATH(die_receive_null_out, "null_reference (1): ", "null slot");
  DEATH(die_send_null, "null_reference (1): ", "channel is null");
  DEATH(die_close_not_channel, "abi_or_layout_mismatch (8): ", "channel");
  DEATH(die_len_null, "null_reference (1): ");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Blocking and the collector */

static void *lock_and_unlock(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  beskid_std_mutex_lock(r[0]);
  beskid_std_mutex_unlock(r[0]);
  UNROOT(r);
  return NULL;
}

START_TEST(test_blocked_threads_do_not_hold_up_pauses) {
  start();
  ROOTS(r, 4);
  r[0] = beskid_std_channel_new(0);
  r[1] = beskid_std_mutex_new();
  beskid_std_mutex_lock(r[1]);
  /* One thread blocked in a receive, one in a mutex lock. */
  r[2] = beskid_std_thread_spawn(wait_for_go, r[0]);
  r[3] = beskid_std_thread_spawn(lock_and_unlock, r[1]);
  native_sleep_ms(20);
  beskid_gc_stats_t before, after;
  beskid_gc_read_stats(&before);
  /* Each collection stops the world twice; a blocked thread that was not in the native state
   * would hold up the first pause forever. */
  for (int i = 0; i < 5; i++) {
    garbage(1000);
    gc_collect();
  }
  beskid_gc_read_stats(&after);
  ck_assert_uint_ge(after.cycles, before.cycles + 5);
  ck_assert_uint_lt(after.pause_max_ns, UINT64_C(1000000000)); /* short, however slow the box */
  ck_assert_int_eq(beskid_std_channel_send(r[0], new_box(1)), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(beskid_std_thread_join(r[2])), 1);
  beskid_std_mutex_unlock(r[1]);
  beskid_std_thread_join(r[3]);
  UNROOT(r);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The deadlock report */

static void die_receive_alone(void) {
  start();
  void *got = NULL;
  beskid_std_channel_receive(beskid_std_channel_new(0), &got);
}

static void die_send_full_alone(void) {
  start();
  ROOTS(r, 1);
  r[0] = beskid_std_channel_new(1);
  beskid_std_channel_send(r[0], NULL);
  beskid_std_channel_send(r[0], NULL);
}

static void die_cond_wait_alone(void) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_mutex_new();
  r[1] = beskid_std_cond_new();
  beskid_std_mutex_lock(r[0]);
  beskid_std_cond_wait(r[1], r[0]);
}

/* pair{in, out}: receive from `in`, then send to `out`. */
static void *relay(void *arg) {
  ROOTS(r, 2);
  r[0] = arg;
  beskid_std_channel_receive(((pair *)r[0])->a, &r[1]);
  beskid_std_channel_send(((pair *)r[0])->b, r[1]);
  UNROOT(r);
  return NULL;
}

/* Two threads each waiting for the other: main waits on `back`, the relay on `forth`. */
static void die_each_waits_for_the_other(void) {
  start();
  ROOTS(r, 2);
  r[0] = new_pair_of(new_rendezvous, new_rendezvous, 0);
  beskid_std_thread_spawn(relay, r[0]);
  beskid_std_channel_receive(((pair *)r[0])->b, &r[1]);
}

/* ABBA: main holds A and wants B; the thread holds B and wants A. */
static void *lock_b_then_a(void *arg) {
  ROOTS(r, 1);
  r[0] = arg; /* pair{pair{A, B}, ready channel} */
  pair *locks = ((pair *)r[0])->a;
  beskid_std_mutex_lock(locks->b);
  beskid_std_channel_send(((pair *)r[0])->b, NULL);
  locks = ((pair *)r[0])->a;
  beskid_std_mutex_lock(locks->a);
  UNROOT(r);
  return NULL;
}
static void die_abba(void) {
  start();
  ROOTS(r, 2);
  r[0] = new_pair_of(beskid_std_mutex_new, beskid_std_mutex_new, 0);
  r[0] = new_pair(r[0], beskid_std_channel_new(1), 0);
  pair *locks = ((pair *)r[0])->a;
  beskid_std_mutex_lock(locks->a);
  beskid_std_thread_spawn(lock_b_then_a, r[0]);
  beskid_std_channel_receive(((pair *)r[0])->b, &r[1]);
  locks = ((pair *)r[0])->a;
  beskid_std_mutex_lock(locks->b);
}

/* The only thread that could send ends without sending, after main blocked. */
static void *leave_after_a_while(void *arg) {
  (void)arg;
  native_sleep_ms(50);
  return NULL;
}
static void die_last_sender_exits(void) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_channel_new(0);
  beskid_std_thread_spawn(leave_after_a_while, NULL);
  beskid_std_channel_receive(r[0], &r[1]);
}

/* Main joins a thread that waits on a condition nobody signals. */
static void *wait_forever(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  pair *p = r[0];
  beskid_std_mutex_lock(p->a);
  beskid_std_cond_wait(p->b, p->a);
  UNROOT(r);
  return NULL;
}
static void die_join_stuck_thread(void) {
  start();
  ROOTS(r, 1);
  r[0] = beskid_std_thread_spawn(wait_forever,
                                 new_pair_of(beskid_std_mutex_new, beskid_std_cond_new, 0));
  beskid_std_thread_join(r[0]);
}

/* A thread the host attached itself (not spawned) detaches without sending while main waits.
 * Normally main is blocked long before the detach, so the detach hook reports; on a machine slow
 * enough to reorder them, main's own block reports instead: either way it must be reported. */
static void *attach_then_detach(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  native_sleep_ms(200);
  beskid_rt_thread_detach();
  return NULL;
}
static void die_host_thread_detaches(void) {
  start();
  ROOTS(r, 2);
  r[0] = beskid_std_channel_new(0);
  beskid_os_thread_t host;
  beskid_os_thread_create(&host, attach_then_detach, NULL, "host");
  while (beskid_gc_thread_count() < 2) native_sleep_ms(1);
  beskid_std_channel_receive(r[0], &r[1]);
}

START_TEST(test_deadlock_reported) {
  DEATH(die_receive_alone, DEADLOCK, "all 1 attached threads are blocked", "channel receive");
  DEATH(die_send_full_alone, DEADLOCK, "channel send");
  DEATH(die_cond_wait_alone, DEADLOCK, "condition wait");
  DEATH(die_each_waits_for_the_other, DEADLOCK, "all 2 attached threads are blocked");
  DEATH(die_abba, DEADLOCK, "mutex lock");
  DEATH(die_last_sender_exits, DEADLOCK, "all 1 attached threads are blocked");
  DEATH(die_join_stuck_thread, DEADLOCK, "all 2 attached threads are blocked");
  DEATH(die_host_thread_detaches, DEADLOCK, "all 1 attached threads are blocked");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Not deadlocks: these must finish without a report (a trap would end the test early). */

static void *sleep_then_send(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  native_sleep_ms(100); /* blocked, but in a sleep: it will wake by itself */
  beskid_std_channel_send(r[0], new_box(8));
  UNROOT(r);
  return NULL;
}

static int pipe_fds[2];

/* Blocked in a read on a pipe (in the native state, as a host read is). */
static void *read_pipe(void *arg) {
  (void)arg;
  char c = 0;
  beskid_rt_enter_native();
  ssize_t n = read(pipe_fds[0], &c, 1);
  beskid_rt_leave_native();
  return new_box(n == 1 ? c : -1);
}

/* Not attached to the runtime: writes the pipe later. */
static void *write_pipe_later(void *arg) {
  (void)arg;
  beskid_os_sleep_ns(100000000);
  ck_assert_int_eq(write(pipe_fds[1], "x", 1), 1);
  return NULL;
}

START_TEST(test_sleeping_or_reading_thread_is_not_deadlock) {
  start();
  ROOTS(r, 2);
  /* Main receives while the only sender sleeps. */
  r[0] = beskid_std_channel_new(0);
  r[1] = beskid_std_thread_spawn(sleep_then_send, r[0]);
  ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[0]), BESKID_STD_CHANNEL_OK);
  ck_assert_int_eq(box_value(r[0]), 8);
  beskid_std_thread_join(r[1]);
  /* Main joins a thread blocked in a pipe read that an outside thread will satisfy. */
  ck_assert_int_eq(pipe(pipe_fds), 0);
  beskid_os_thread_t writer;
  ck_assert_int_eq(beskid_os_thread_create(&writer, write_pipe_later, NULL, "writer"), BESKID_OK);
  r[1] = beskid_std_thread_spawn(read_pipe, NULL);
  ck_assert_int_eq(box_value(beskid_std_thread_join(r[1])), 'x');
  ck_assert_int_eq(beskid_os_thread_join(&writer, NULL), BESKID_OK);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  /* A timed wait alone is not stuck. */
  r[0] = beskid_std_mutex_new();
  r[1] = beskid_std_cond_new();
  beskid_std_mutex_lock(r[0]);
  ck_assert(!beskid_std_cond_wait_timeout(r[1], r[0], 10000000));
  beskid_std_mutex_unlock(r[0]);
  UNROOT(r);
  stop();
}
END_TEST

/* A thread that is spawned but not yet running counts as able to make progress: main blocks
 * at once on what the new thread will send, many times over. */
static void *send_arg_back(void *arg) {
  ROOTS(r, 1);
  r[0] = arg;
  beskid_std_channel_send(((pair *)r[0])->a, ((pair *)r[0])->b);
  UNROOT(r);
  return NULL;
}

START_TEST(test_spawning_thread_is_not_deadlock) {
  start();
  ROOTS(r, 3);
  r[0] = beskid_std_channel_new(0);
  for (int64_t i = 0; i < 200; i++) {
    r[1] = beskid_std_thread_spawn(send_arg_back, new_pair(r[0], new_box(i), 0));
    ck_assert_int_eq(beskid_std_channel_receive(r[0], &r[2]), BESKID_STD_CHANNEL_OK);
    ck_assert_int_eq(box_value(r[2]), i);
    beskid_std_thread_join(r[1]);
  }
  UNROOT(r);
  stop();
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost_threads");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_spawn_join_returns_result);
  tcase_add_test(tc, test_arguments_and_results_survive_collections);
  tcase_add_test(tc, test_is_done_before_and_after);
  tcase_add_test(tc, test_thread_misuse_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("mutex_cond");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_mutex_lock_unlock_try_lock);
  tcase_add_test(tc, test_mutex_excludes_under_contention);
  tcase_add_test(tc, test_mutex_unlock_from_another_thread);
  tcase_add_test(tc, test_mutex_misuse_traps);
  tcase_add_test(tc, test_cond_bounded_queue);
  tcase_add_test(tc, test_cond_signal_wakes_one_broadcast_all);
  tcase_add_test(tc, test_cond_timed_wait);
  tcase_add_test(tc, test_cond_misuse_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("channels");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_channel_fifo_len_close);
  tcase_add_test(tc, test_channel_rendezvous);
  tcase_add_test(tc, test_channel_many_to_many_exactly_once);
  tcase_add_test(tc, test_channel_close_wakes_blocked);
  tcase_add_test(tc, test_channel_misuse_traps);
  suite_add_tcase(suite, tc);
  tc = tcase_create("scheduler");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_blocked_threads_do_not_hold_up_pauses);
  tcase_add_test(tc, test_deadlock_reported);
  tcase_add_test(tc, test_sleeping_or_reading_thread_is_not_deadlock);
  tcase_add_test(tc, test_spawning_thread_is_not_deadlock);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
