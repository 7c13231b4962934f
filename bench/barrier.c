/* barrier.c — the write barrier under load (Go's BenchmarkWriteBarrier shape): a complete binary
 * tree of 2^depth nodes (argument 1, default 22) whose children are swapped in `passes` passes
 * (argument 2, default 20) while, in the collected variants, another thread runs collections
 * back to back, so the barrier is on most of the time. */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct bnode {
  BENCH_HEADER
  struct bnode *left;
  struct bnode *right;
} bnode;
BENCH_TYPE(bnode, offsetof(bnode, left), offsetof(bnode, right));

static bnode *build(int depth) {
  bnode *n = NEW(bnode);
  if (depth == 0) return n;
  ROOTS(r, 2);
  r[0] = n;
  r[1] = build(depth - 1);
  bnode *right = build(depth - 1);
  n = r[0];
  SET(n->left, (bnode *)r[1]);
  SET(n->right, right);
  UNROOT(r);
  return n;
}

static uint64_t swap_all(bnode *n) {
  if (n->left == NULL) return 1;
  bnode *l = n->left;
  SET(n->left, n->right);
  SET(n->right, l);
  uint64_t c = 1 + swap_all(n->left) + swap_all(n->right);
  POLL();
  return c;
}

static atomic_int done;
static atomic_long collections;

#ifdef BENCH_GC
static void *collector_loop(void *arg) {
  (void)arg;
  BENCH_THREAD_ATTACH();
  while (!atomic_load(&done)) {
    BENCH_COLLECT();
    atomic_fetch_add(&collections, 1);
  }
  BENCH_THREAD_DETACH();
  return NULL;
}
#endif

BENCH_MAIN {
  int depth = (int)bench_arg(1, 22) - 1, passes = (int)bench_arg(2, 20);
  ROOTS(r, 1);
  r[0] = build(depth);
#ifdef BENCH_GC
  pthread_t th;
  pthread_create(&th, NULL, collector_loop, NULL);
#endif
  uint64_t visited = 0;
  for (int p = 0; p < passes; p++) visited += swap_all(r[0]);
  atomic_store(&done, 1);
#ifdef BENCH_GC
  BENCH_BLOCKING_BEGIN();
  pthread_join(th, NULL);
  BENCH_BLOCKING_END();
#endif
  printf("swapped %" PRIu64 " nodes in %d passes, %ld collections alongside\n", visited, passes,
         atomic_load(&collections));
  UNROOT(r);
  bench_report();
  return 0;
}
