/* phases.c — the collector's own phases, timed on a heap the program leaves alone: builds a
 * binary tree of depth `depth` (argument 1, default 20) that stays live, then `rounds` times
 * (argument 3, default 10) drops `garbage_mb` MiB (argument 2, default 256) of fresh trees and
 * runs a collection (as a program's explicit `gc()` would; the caller waits in the native state,
 * so every CPU is the collector's). Prints the medians per cycle of the mark and sweep phases
 * and the mark time per KiB marked. Beskid only: a measure of the runtime's design choices
 * (mark and sweep speed; bench/RESULTS.md has the experiments it measured), not a comparison
 * with peers; BESKID_GCWORKERS sets the mark workers. */
#include "bench.h"
#include "binary_trees_tree.h"

#include "beskid/gc.h"

BENCH_MAIN {
  int depth = (int)bench_arg(1, 20);
  int64_t garbage_mb = bench_arg(2, 256);
  int rounds = (int)bench_arg(3, 10);
  if (rounds < 1 || rounds > 1000) rounds = 10;
  ROOTS(r, 1);
  r[0] = bottom_up(depth);
  /* Trees of depth 14 (about 384 KiB each) until the garbage is there. */
  int64_t per_tree = ((INT64_C(2) << 14) - 1) * (int64_t)sizeof(node);
  int64_t trees = garbage_mb * 1048576 / per_tree;
  uint64_t mark_ns[1000], sweep_ns[1000];
  beskid_gc_stats_t before, after;
  beskid_gc_collect(BENCH_CTX);
  for (int i = 0; i < rounds; i++) {
    for (int64_t k = 0; k < trees; k++) (void)bottom_up(14);
    beskid_gc_read_stats(&before);
    beskid_gc_collect(BENCH_CTX);
    beskid_gc_read_stats(&after);
    mark_ns[i] = after.mark_ns - before.mark_ns;
    sweep_ns[i] = after.sweep_ns - before.sweep_ns;
  }
  qsort(mark_ns, (size_t)rounds, sizeof mark_ns[0], bench_cmp_u64);
  qsort(sweep_ns, (size_t)rounds, sizeof sweep_ns[0], bench_cmp_u64);
  double live_kb = (double)after.live_bytes / 1024.0;
  printf("phases: live_mb=%.1f garbage_mb=%" PRId64
         " mark_ms=%.2f sweep_ms=%.2f mark_ns_per_kb=%.1f\n",
         live_kb / 1024.0, garbage_mb, (double)mark_ns[rounds / 2] / 1e6,
         (double)sweep_ns[rounds / 2] / 1e6, (double)mark_ns[rounds / 2] / live_kb);
  int64_t nodes = check_tree(r[0]); /* the live tree came through every collection */
  if (nodes != (INT64_C(2) << depth) - 1) {
    printf("phases: the live tree has %" PRId64 " nodes\n", nodes);
    return 1;
  }
  release_tree(r[0]);
  UNROOT(r);
  return 0;
}
