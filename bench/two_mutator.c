/* two_mutator.c — two threads sharing a structure: a table of 4096 slots, each holding a small
 * object; each thread `iterations` times (argument 1, default 4000000) allocates an object,
 * swaps it into a random slot under the table lock (the explicit variants free the object it
 * replaces) and reads another random slot's object. */
#include "bench.h"

#include <pthread.h>

typedef struct item {
  BENCH_HEADER
  struct item *link;
  int64_t value;
} item;
BENCH_TYPE(item, offsetof(item, link));

enum { SLOTS = 4096 };
static void **table; /* a GC'd array of references in the collected variants */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static long iterations;

static void lock_table(void) {
  BENCH_BLOCKING_BEGIN(); /* waiting for the lock must not hold up a collection */
  pthread_mutex_lock(&table_lock);
  BENCH_BLOCKING_END();
}

static void *mutator(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1, sum = 0;
  BENCH_THREAD_ATTACH();
  for (long i = 0; i < iterations; i++) {
    item *it = NEW(item);
    it->value = i;
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    lock_table();
    item *old = table[seed % SLOTS];
    SET(table[seed % SLOTS], it);
    item *other = table[(seed >> 20) % SLOTS];
    if (other != NULL) sum += (uint64_t)other->value;
    pthread_mutex_unlock(&table_lock);
#ifdef BENCH_EXPLICIT
    if (old != NULL) RELEASE(old);
#else
    (void)old;
#endif
    POLL();
  }
  BENCH_THREAD_DETACH();
  return (void *)(uintptr_t)sum;
}

BENCH_MAIN {
  iterations = bench_arg(1, 4000000);
  table = NEW_POINTERS(SLOTS);
#ifdef BENCH_BESKID
  beskid_rt_register_globals((void **)&table, 1);
  beskid_rt_thread_detach(); /* the main thread only waits */
#endif
  pthread_t th[2];
  for (uintptr_t i = 0; i < 2; i++) pthread_create(&th[i], NULL, mutator, (void *)(i + 1));
  uint64_t total = 0;
  for (int i = 0; i < 2; i++) {
    void *r;
    pthread_join(th[i], &r);
    total += (uint64_t)(uintptr_t)r;
  }
#ifdef BENCH_BESKID
  beskid_rt_thread_attach();
#endif
  printf("two mutators: %ld operations each (checksum %" PRIu64 ")\n", iterations, total % 1000);
  bench_report();
  return 0;
}
