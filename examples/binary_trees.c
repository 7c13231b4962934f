/* binary_trees.c — the Benchmarks Game binary-trees program, written the way the Beskid compiler
 * lowers it: every managed pointer live across a call sits in a root frame pushed on the thread's
 * shadow stack, every pointer store into the heap is preceded by the barrier check, loops poll,
 * and only runtime ABI functions are called. Linked against libbeskid_runtime.a, whose `main`
 * calls beskid_program_main.
 *
 *   class Node { left: Node?, right: Node? }
 *   fn bottom_up(depth) -> Node { if depth == 0 { Node{} } else { Node{bottom_up(d-1),
 * bottom_up(d-1)} } }
 *
 * Usage: beskid_example_binary_trees [depth]   (default 16) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "beskid/platform.h"
#include "beskid/runtime_abi.h"

typedef struct node {
  beskid_header_t header;
  struct node *left;
  struct node *right;
} node;

static const uint64_t node_map[] = {8, 16};
static const beskid_type_t node_type = {sizeof(node), 8, node_map, 2, BESKID_TYPE_AGGREGATE, 0};

/* A field store as compiled code emits it: barrier check, then the store (beskid_gc_store spells
 * the machine's plain load and store as the relaxed atomics they are). */
static inline void store(beskid_gc_thread_t *t, node **field, node *value) {
  beskid_gc_store(t, (void **)field, value);
}

static node *bottom_up(beskid_gc_thread_t *t, int depth) {
  node *n = alloc(sizeof(node), &node_type);
  if (depth == 0) return n; /* no call follows: nothing to root */
  void *slots[2] = {n, NULL};
  beskid_root_frame_t frame = {t->top_frame, slots, 2};
  t->top_frame = &frame;
  slots[1] = bottom_up(t, depth - 1);
  node *right = bottom_up(t, depth - 1);
  n = slots[0];
  store(t, &n->left, slots[1]);
  store(t, &n->right, right);
  t->top_frame = frame.previous;
  return n;
}

static int64_t check(const node *n) {
  return n->left == NULL ? 1 : 1 + check(n->left) + check(n->right);
}

int64_t beskid_program_main(void) {
  beskid_rt_abi_check(BESKID_ABI_VERSION_MAJOR, BESKID_ABI_VERSION_MINOR);
  beskid_gc_thread_t *t = beskid_rt_thread();
  int max_depth = 16;
  if (beskid_os_args_count() > 1) max_depth = atoi(beskid_os_args_get(1, NULL));
  if (max_depth < 6) max_depth = 6;

  printf("stretch tree of depth %d\t check: %" PRId64 "\n", max_depth + 1,
         check(bottom_up(t, max_depth + 1)));

  void *slots[1] = {NULL};
  beskid_root_frame_t frame = {t->top_frame, slots, 1};
  t->top_frame = &frame;
  slots[0] = bottom_up(t, max_depth);

  for (int depth = 4; depth <= max_depth; depth += 2) {
    int64_t iterations = INT64_C(1) << (max_depth - depth + 4);
    int64_t sum = 0;
    for (int64_t i = 0; i < iterations; i++) {
      sum += check(bottom_up(t, depth));
      beskid_gc_poll(t); /* loop back-edge */
    }
    printf("%" PRId64 "\t trees of depth %d\t check: %" PRId64 "\n", iterations, depth, sum);
  }
  printf("long lived tree of depth %d\t check: %" PRId64 "\n", max_depth, check(slots[0]));
  t->top_frame = frame.previous;
  return 0;
}
