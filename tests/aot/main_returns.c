/* main_returns.c — an AOT program whose main returns while other threads are still attached and
 * busy: four threads allocate linked objects and force collections without end, a fifth is
 * blocked in native code, and beskid_program_main returns 42 once every one of them has started
 * its work. A compiled program cannot promise that its threads detached first, so the process
 * must end with the program's status, as a Go program ends when main returns: never a crash, a
 * trap or a hang (tests/aot/run_repeatedly.cmake runs it many times).
 *
 * Written the way the compiler lowers code: root frames, the barrier flag, polls and ABI calls. */
#define _DEFAULT_SOURCE /* usleep, pause */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "beskid/runtime_abi.h"

/* struct Pair { Pair *next @16; Pair *other @24; i64 value @32 } */
static const uint64_t pair_map[] = {8, 16};
static const beskid_type_t pair_type = {32, 8, pair_map, 2, BESKID_TYPE_AGGREGATE, 0};

typedef struct pair {
  beskid_header_t header;
  struct pair *next;
  struct pair *other;
  int64_t value;
} pair;

enum { ALLOCATORS = 4 };

static atomic_int running; /* threads that have done a first round of work */

static void store(void **slot, void *value) {
  if (__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED))
    beskid_rt_write_barrier(slot, value);
  *slot = value;
}

static void *allocator(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_rt_thread_attach();
  void *slots[2] = {0};
  beskid_root_frame_t frame = {t->top_frame, slots, 2};
  t->top_frame = &frame;
  for (int64_t i = 1;; i++) {
    pair *p = alloc(sizeof(pair), &pair_type);
    p->value = i;
    store((void **)&p->next, slots[0]); /* a list that is dropped every 1000 links */
    slots[0] = i % 1000 == 0 ? NULL : p;
    if (i % 7 == 0) slots[1] = p;
    if (i % 256 == 0) gc_collect();
    if (i == 2048) atomic_fetch_add(&running, 1);
    if (__atomic_load_n(&t->poll, __ATOMIC_RELAXED)) beskid_rt_safepoint();
  }
  return NULL;
}

static void *blocked_in_native(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  beskid_rt_enter_native();
  atomic_fetch_add(&running, 1);
  for (;;) pause(); /* a blocking call that never returns */
  return NULL;
}

int64_t beskid_program_main(void) {
  pthread_t th;
  for (int i = 0; i < ALLOCATORS; i++) pthread_create(&th, NULL, allocator, NULL);
  pthread_create(&th, NULL, blocked_in_native, NULL);
  beskid_rt_enter_native(); /* waiting, so no pause waits for main */
  while (atomic_load(&running) < ALLOCATORS + 1) usleep(200);
  beskid_rt_leave_native();
  return 42;
}
