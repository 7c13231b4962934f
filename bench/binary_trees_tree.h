/* binary_trees_tree.h — the tree both binary-trees workloads build (binary_trees.c with one
 * mutator, binary_trees_parallel.c with several): a node with two children, built bottom-up with
 * its children rooted across the allocations, checked recursively, released explicitly in the
 * variants that free by hand. Include after bench.h, once per workload. */
#ifndef BENCH_BINARY_TREES_TREE_H
#define BENCH_BINARY_TREES_TREE_H

typedef struct node {
  BENCH_HEADER
  struct node *left;
  struct node *right;
} node;
BENCH_TYPE(node, offsetof(node, left), offsetof(node, right));

static node *bottom_up(int depth) {
  node *n = NEW(node);
  if (depth == 0) return n;
  ROOTS(r, 2);
  r[0] = n;
  r[1] = bottom_up(depth - 1);
  node *right = bottom_up(depth - 1);
  n = r[0];
  SET(n->left, (node *)r[1]);
  SET(n->right, right);
  UNROOT(r);
  return n;
}

static int64_t check(const node *n) {
  POLL(); /* a recursive function without loops: the compiler polls at its entry */
  return n->left == NULL ? 1 : 1 + check(n->left) + check(n->right);
}

/* Checks a tree the caller holds only in a local: check() polls, so the root must be in a root
 * frame while it runs (as compiled code keeps every reference live across a safepoint). */
static int64_t check_tree(node *root) {
  ROOTS(r, 1);
  r[0] = root;
  int64_t n = check(root);
  UNROOT(r);
  return n;
}

static void release_tree(node *n) {
#ifdef BENCH_EXPLICIT
  if (n->left != NULL) {
    release_tree(n->left);
    release_tree(n->right);
  }
#endif
  RELEASE(n);
}

#endif
