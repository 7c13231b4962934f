/* gcbench.c — the Ellis/Kovac/Boehm GCBench: a stretch tree of depth 18, a long-lived tree of
 * depth 16 and an array of 500000 doubles, then for depths 4..16 (step 2) NumIters(d) trees
 * built top-down (Populate) and bottom-up (MakeTree). Node = {left, right, int i, int j}.
 * Argument 1 scales the depths: stretch, long-lived and max depth (default 18 16 16). */
#include "bench.h"

typedef struct gnode {
  BENCH_HEADER
  struct gnode *left;
  struct gnode *right;
  int32_t i, j;
} gnode;
BENCH_TYPE(gnode, offsetof(gnode, left), offsetof(gnode, right));

static int stretch_depth = 18, long_lived_depth = 16, max_depth = 16;
enum { ARRAY_SIZE = 500000, MIN_DEPTH = 4 };

static int64_t tree_size(int depth) { return (INT64_C(1) << (depth + 1)) - 1; }
static int64_t num_iters(int depth) { return 2 * tree_size(stretch_depth) / tree_size(depth); }

static void populate(int depth, gnode *n) {
  if (depth <= 0) return;
  depth--;
  ROOTS(r, 1);
  r[0] = n;
  gnode *l = NEW(gnode);
  SET(((gnode *)r[0])->left, l);
  gnode *rt = NEW(gnode);
  SET(((gnode *)r[0])->right, rt);
  populate(depth, ((gnode *)r[0])->left);
  populate(depth, ((gnode *)r[0])->right);
  UNROOT(r);
}

static gnode *make_tree(int depth) {
  if (depth <= 0) return NEW(gnode);
  ROOTS(r, 2);
  r[0] = make_tree(depth - 1);
  r[1] = make_tree(depth - 1);
  gnode *n = NEW(gnode);
  SET(n->left, (gnode *)r[0]);
  SET(n->right, (gnode *)r[1]);
  UNROOT(r);
  return n;
}

static void release_tree(gnode *n) {
#ifdef BENCH_EXPLICIT
  if (n == NULL) return;
  release_tree(n->left);
  release_tree(n->right);
#endif
  RELEASE(n);
}

static void time_construction(int depth) {
  int64_t iters = num_iters(depth);
  for (int64_t i = 0; i < iters; i++) {
    ROOTS(r, 1);
    r[0] = NEW(gnode);
    populate(depth, r[0]);
    release_tree(r[0]);
    UNROOT(r);
    POLL();
  }
  for (int64_t i = 0; i < iters; i++) {
    release_tree(make_tree(depth));
    POLL();
  }
  printf("depth %d: %" PRId64 " trees top-down and bottom-up\n", depth, iters);
}

BENCH_MAIN {
  long scale = bench_arg(1, 18);
  if (scale != 18 && scale >= 8) {
    stretch_depth = (int)scale;
    long_lived_depth = max_depth = (int)scale - 2;
  }
  release_tree(make_tree(stretch_depth));
  ROOTS(r, 2);
  r[0] = NEW(gnode);
  populate(long_lived_depth, r[0]);
  double *array = NEW_DOUBLES(ARRAY_SIZE);
  r[1] = array;
  for (int i = 0; i < ARRAY_SIZE / 2; i++) {
    array[i] = 1.0 / (i + 1);
    POLL(); /* a loop back-edge: compiled code polls here (DESIGN.md §4) */
  }
  for (int d = MIN_DEPTH; d <= max_depth; d += 2) time_construction(d);
  int ok = r[0] != NULL && ((double *)r[1])[1000] == 1.0 / 1001;
  printf("long-lived tree and array %s\n", ok ? "intact" : "BROKEN");
  release_tree(r[0]);
#ifdef BENCH_EXPLICIT
  RELEASE(r[1]);
#endif
  UNROOT(r);
  bench_report();
  return ok ? 0 : 1;
}
