/* binary_trees.c — the Benchmarks Game binary-trees workload (depth from argv, default 21):
 * a stretch tree of depth N+1, a long-lived tree of depth N, and 2^(N-d+4) trees of each depth
 * d = 4, 6, ..., N built bottom-up and checked. One mutator thread. See bench.h for variants. */
#include "bench.h"
#include "binary_trees_tree.h"

BENCH_MAIN {
  int max_depth = (int)bench_arg(1, 21);
  if (max_depth < 6) max_depth = 6;
  node *stretch = bottom_up(max_depth + 1);
  printf("stretch tree of depth %d\t check: %" PRId64 "\n", max_depth + 1, check_tree(stretch));
  release_tree(stretch);
  ROOTS(r, 1);
  r[0] = bottom_up(max_depth);
  for (int depth = 4; depth <= max_depth; depth += 2) {
    int64_t iterations = INT64_C(1) << (max_depth - depth + 4), sum = 0;
    for (int64_t i = 0; i < iterations; i++) {
      node *t = bottom_up(depth);
      sum += check_tree(t);
      release_tree(t);
      POLL();
    }
    printf("%" PRId64 "\t trees of depth %d\t check: %" PRId64 "\n", iterations, depth, sum);
  }
  printf("long lived tree of depth %d\t check: %" PRId64 "\n", max_depth, check(r[0]));
  /* Most reachable at once: the stretch tree, or the long-lived tree plus one of depth N. */
  uint64_t stretch_nodes = (UINT64_C(2) << (max_depth + 1)) - 1;
  uint64_t later_nodes = 2 * ((UINT64_C(2) << max_depth) - 1);
  bench_print_live((stretch_nodes > later_nodes ? stretch_nodes : later_nodes) * sizeof(node));
  release_tree(r[0]);
  UNROOT(r);
  bench_report();
  return 0;
}
