/* binary_trees_parallel.c — binary-trees with N mutator threads building trees at once, as the
 * Benchmarks Game's multi-core versions do (arguments: depth, default 21; threads, default 2).
 * The main thread builds the stretch tree and the long-lived tree; then, for each depth d = 4,
 * 6, ..., N, the 2^(N-d+4) trees of that depth are split evenly over the threads, each of which
 * builds, checks and drops its share. The checksums equal binary_trees.c's for the same depth.
 * See bench.h for the variants; the Go version runs as many goroutines with GOMAXPROCS equal to
 * the thread count. */
#include "bench.h"

#include <pthread.h>

#include "binary_trees_tree.h"

enum { MAX_THREADS = 64, MAX_DEPTHS = 32 };
static int max_depth, threads;
static int64_t sums[MAX_THREADS][MAX_DEPTHS];

static void *worker(void *arg) {
  int id = (int)(uintptr_t)arg;
  BENCH_THREAD_ATTACH();
  for (int depth = 4; depth <= max_depth; depth += 2) {
    int64_t iterations = INT64_C(1) << (max_depth - depth + 4);
    int64_t from = iterations * id / threads, to = iterations * (id + 1) / threads, sum = 0;
    for (int64_t i = from; i < to; i++) {
      node *t = bottom_up(depth);
      sum += check_tree(t);
      release_tree(t);
      POLL();
    }
    sums[id][depth] = sum;
  }
  BENCH_THREAD_DETACH();
  return NULL;
}

BENCH_MAIN {
  max_depth = (int)bench_arg(1, 21);
  threads = (int)bench_arg(2, 2);
  if (max_depth < 6) max_depth = 6;
  if (max_depth >= MAX_DEPTHS) max_depth = MAX_DEPTHS - 1;
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  node *stretch = bottom_up(max_depth + 1);
  printf("stretch tree of depth %d\t check: %" PRId64 "\n", max_depth + 1, check_tree(stretch));
  release_tree(stretch);
  ROOTS(r, 1);
  r[0] = bottom_up(max_depth);
  pthread_t th[MAX_THREADS];
  for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
  BENCH_BLOCKING_BEGIN(); /* waiting for the workers must not hold up a collection */
  for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
  BENCH_BLOCKING_END();
  for (int depth = 4; depth <= max_depth; depth += 2) {
    int64_t sum = 0;
    for (int i = 0; i < threads; i++) sum += sums[i][depth];
    printf("%" PRId64 "\t trees of depth %d\t check: %" PRId64 "\n",
           INT64_C(1) << (max_depth - depth + 4), depth, sum);
  }
  printf("long lived tree of depth %d\t check: %" PRId64 "\n", max_depth, check(r[0]));
  printf("threads: %d\n", threads);
  uint64_t stretch_nodes = (UINT64_C(2) << (max_depth + 1)) - 1;
  uint64_t later_nodes =
      (UINT64_C(2) << max_depth) - 1 + (uint64_t)threads * ((UINT64_C(2) << max_depth) - 1);
  bench_print_live((stretch_nodes > later_nodes ? stretch_nodes : later_nodes) * sizeof(node));
  release_tree(r[0]);
  UNROOT(r);
  bench_report();
  return 0;
}
