/* test_gc.c — the Check suite of libs/gc.
 *
 * Each test starts a fresh collector (Check forks a process per test), attaches, runs one
 * scenario and shuts down. Deterministic tests use BESKID_GC_DEBUG_MANUAL and the step API to put
 * the collector in the exact phase a race needs; the soak and fuzz tests run the background
 * collector with real threads. "Reclaimed" is asserted through the allocator (the object's slot
 * is no longer allocated) and "kept" through the object's bytes, checked after clobber mode has
 * overwritten everything the sweeper freed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/gc.h"
#include "beskid/platform.h"
#include "check_support.h"
#include "internal.h"
#include "test_gc_memory.h"
#include "test_gc_robust.h"

/* struct Node { Node *left @8; Node *right @16; i64 value @24 } */
static const uint64_t node_map[] = {8, 16};
static const beskid_type_t node_type = {32, 8, node_map, 2, BESKID_TYPE_AGGREGATE, 0};
/* struct Leaf { i64 value @8; i64 pad @16 } */
static const beskid_type_t leaf_type = {24, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};

typedef struct node {
  beskid_header_t header;
  struct node *left;
  struct node *right;
  int64_t value;
} node;

typedef struct leaf {
  beskid_header_t header;
  int64_t value;
  int64_t pad;
} leaf;

static beskid_gc_thread_t *T;

/* ThreadSanitizer supports starting threads in the child of a multi-threaded fork (the fork tests
 * start the collector thread again there) only when told not to die instead. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

/* The collector's verifier and trace lines, shown in the test output when something fails. */
static void log_to_stderr(const char *line, void *context) {
  (void)context;
  fprintf(stderr, "%s\n", line);
}

static void start(uint32_t debug_flags) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.log = log_to_stderr;
  config.debug_flags = debug_flags;
  config.reserve = UINT64_C(4) << 30;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_OK);
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
}

static void start_config(beskid_gc_config_t *config) {
  if (config->log == NULL) config->log = log_to_stderr;
  ck_assert_int_eq(beskid_gc_init(config), BESKID_GC_OK);
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
}

static void stop(void) {
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  beskid_gc_detach();
  beskid_gc_shutdown();
}

static node *new_node(int64_t value) {
  node *n = beskid_gc_alloc(T, &node_type);
  ck_assert_ptr_nonnull(n);
  n->value = value;
  return n;
}

static leaf *new_leaf(int64_t value) {
  leaf *l = beskid_gc_alloc(T, &leaf_type);
  ck_assert_ptr_nonnull(l);
  l->value = value;
  return l;
}

static void set_left(node *parent, node *child) {
  beskid_gc_store(T, (void **)&parent->left, child);
}
static void set_right(node *parent, node *child) {
  beskid_gc_store(T, (void **)&parent->right, child);
}

static bool allocated(const void *p) { return beskid_gc_object_start(p) == p; }

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle */

START_TEST(test_init_twice_and_attach_rules) {
  ck_assert_ptr_null(beskid_gc_attach()); /* not initialised */
  start(BESKID_GC_DEBUG_MANUAL);
  ck_assert_int_eq(beskid_gc_init(NULL), BESKID_GC_BAD_STATE);
  ck_assert_ptr_eq(beskid_gc_attach(), T); /* attaching again returns the same context */
  ck_assert_ptr_eq(beskid_gc_current(), T);
  ck_assert(beskid_gc_is_initialized());
  stop();
  ck_assert(!beskid_gc_is_initialized());
  ck_assert_ptr_null(beskid_gc_current());
  /* A second life after shutdown. */
  start(0);
  ck_assert_ptr_nonnull(new_node(1));
  stop();
}
END_TEST

START_TEST(test_bad_config_refused) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.gogc = -5;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_INVALID);
  ck_assert(!beskid_gc_is_initialized());
}
END_TEST

START_TEST(test_abi_offsets) {
  ck_assert_uint_eq(offsetof(beskid_gc_thread_t, top_frame), 0);
  ck_assert_uint_eq(offsetof(beskid_gc_thread_t, poll), 8);
  ck_assert_uint_eq(offsetof(gc_thread, pub), 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Allocation */

START_TEST(test_alloc_zeroed_with_header) {
  start(BESKID_GC_DEBUG_MANUAL);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 5000; i++) {
      node *n = new_node(i);
      ck_assert_ptr_eq(n->header.type, &node_type);
      ck_assert_ptr_null(n->left);
      ck_assert_ptr_null(n->right);
      ck_assert_uint_eq((uintptr_t)n % 16, 0);
      n->left = (node *)(uintptr_t)0xdeadbeef; /* dirty it so reuse must zero */
    }
    beskid_gc_collect(T);
  }
  stop();
}
END_TEST

START_TEST(test_size_class_division_is_exact) {
  start(BESKID_GC_DEBUG_MANUAL);
  for (uint32_t c = 1; c < GC_SIZE_CLASSES; c++) {
    const gc_size_class *sc = &beskid_gc__size_classes[c];
    ck_assert_uint_ge(sc->size, 8);
    ck_assert_uint_eq(sc->size % 8, 0);
    /* The 8-byte step where objects are small: 8, 16, 24, ..., 128 are classes of their own. */
    if (c <= 16) ck_assert_uint_eq(sc->size, 8 * c);
    ck_assert_uint_le((uint64_t)sc->nelems * sc->size, (uint64_t)sc->npages * GC_PAGE_SIZE);
    ck_assert_uint_le(sc->nelems, GC_SPAN_MAX_OBJECTS);
    gc_span s = {0};
    s.base = 0;
    s.elem_size = sc->size;
    s.div_magic = (uint32_t)(UINT32_MAX / sc->size + 1);
    s.limit = (uintptr_t)sc->nelems * sc->size;
    for (uint32_t off = 0; off < s.limit; off++) {
      ck_assert_uint_eq(gc_span_index(&s, off), off / sc->size);
    }
    ck_assert_uint_eq(beskid_gc__size_to_class(sc->size), c);
  }
  for (uint64_t size = 8; size <= GC_SMALL_MAX; size += 8) {
    uint32_t c = beskid_gc__size_to_class(size);
    ck_assert_uint_ge(beskid_gc__size_classes[c].size, size);
    ck_assert(c == 1 || beskid_gc__size_classes[c - 1].size < size);
    /* A size rounded to 16 (an object asking for 16-byte alignment) gets a 16-multiple class. */
    if (size % 16 == 0) ck_assert_uint_eq(beskid_gc__size_classes[c].size % 16, 0);
  }
  stop();
}
END_TEST

/* Objects of every size class, with and without pointers, aligned to 8 and to 16: each lies at
 * its alignment, consecutive objects of a class are exactly the class size apart (a 24-byte object
 * costs 24 bytes), no two overlap, interior pointers resolve to their object, and a collection
 * keeps them all intact with a sound heap. */
enum { PER_CLASS = 3, CLASS_KINDS = 3 };
typedef struct placed {
  uintptr_t at;
  uint64_t size;
} placed;

static int compare_placed(const void *a, const void *b) {
  uintptr_t x = ((const placed *)a)->at, y = ((const placed *)b)->at;
  return x < y ? -1 : x > y;
}

START_TEST(test_every_size_class_placed_and_collected) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  enum { N = GC_SIZE_CLASSES * CLASS_KINDS * PER_CLASS };
  static void *slots[N];
  static placed seen[N];
  static beskid_type_t types[GC_SIZE_CLASSES][CLASS_KINDS];
  static const uint64_t first_word[] = {8};
  memset(slots, 0, sizeof slots);
  beskid_root_frame_t frame = {NULL, slots, N};
  beskid_gc_push_frame(T, &frame);
  size_t n = 0;
  for (uint32_t c = 1; c < GC_SIZE_CLASSES; c++) {
    uint64_t size = beskid_gc__size_classes[c].size;
    for (int kind = 0; kind < CLASS_KINDS; kind++) {
      /* kind 0: pointer-free, align 8; 1: one pointer, align 8; 2: pointer-free, align 16 */
      uint64_t align = kind == 2 ? 16 : 8;
      if (size < 16 && kind == 1) continue; /* no room for a pointer after the header */
      if (size % align != 0) continue;
      types[c][kind] = (beskid_type_t){
          size, align, kind == 1 ? first_word : NULL, kind == 1 ? 1u : 0u, BESKID_TYPE_AGGREGATE,
          0};
      ck_assert_int_eq(beskid_obj_validate_type(&types[c][kind]), BESKID_OBJ_VALID);
      uintptr_t prev = 0;
      for (int k = 0; k < PER_CLASS; k++) {
        int64_t *o = beskid_gc_alloc(T, &types[c][kind]);
        ck_assert_ptr_nonnull(o);
        ck_assert_uint_eq((uintptr_t)o % align, 0);
        /* Within one span, the next slot: the object costs exactly its class size. */
        if (prev != 0 && beskid_gc__span_of(prev) == beskid_gc__span_of((uintptr_t)o)) {
          ck_assert_uint_eq((uintptr_t)o - prev, size);
        }
        prev = (uintptr_t)o;
        ck_assert_ptr_eq(beskid_gc_object_start((char *)o + size - 1), o);
        for (uint64_t w = 1; w < size / 8; w++) {
          if (kind != 1 || w != 1) o[w] = (int64_t)(n * 1000 + w);
        }
        if (kind == 1 && n > 0) beskid_gc_store(T, (void **)&o[1], slots[n - 1]);
        slots[n] = o;
        seen[n] = (placed){(uintptr_t)o, size};
        n++;
      }
    }
  }
  qsort(seen, n, sizeof seen[0], compare_placed);
  for (size_t i = 1; i < n; i++) ck_assert_uint_le(seen[i - 1].at + seen[i - 1].size, seen[i].at);
  /* A 16-aligned array element stays aligned in its buffer, whatever the buffer's class. */
  static const beskid_elem_type_t wide = {16, 16, NULL, 0};
  for (uint64_t cap = 0; cap < 40; cap++) {
    beskid_array_buffer_t *b = beskid_gc_alloc_array(T, &wide, cap);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq((uintptr_t)beskid_obj_array_data(b) % 16, 0);
    ck_assert_uint_eq(b->reserved, 0);
  }
  beskid_gc_collect(T);
  beskid_gc_collect(T);
  for (size_t i = 0; i < n; i++) {
    int64_t *o = slots[i];
    const beskid_type_t *type = ((beskid_header_t *)o)->type;
    for (uint64_t w = 1; w < type->size / 8; w++) {
      if (type->pointer_count != 0 && w == 1) {
        ck_assert_ptr_eq((void *)o[1], i > 0 ? slots[i - 1] : NULL);
      } else {
        ck_assert_int_eq(o[w], (int64_t)(i * 1000 + w));
      }
    }
  }
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_type_check_refuses_malformed) {
  start(BESKID_GC_DEBUG_MANUAL);
  static const beskid_type_t bad_align = {32, 3, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  static const uint64_t bad_map[] = {0};
  static const beskid_type_t in_header = {32, 8, bad_map, 1, BESKID_TYPE_AGGREGATE, 0};
  static const beskid_type_t too_small = {4, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  ck_assert_int_eq(beskid_gc_type_check(T, &node_type), BESKID_OBJ_VALID);
  ck_assert_int_eq(beskid_gc_type_check(T, &node_type), BESKID_OBJ_VALID); /* cached */
  ck_assert_int_eq(beskid_gc_type_check(T, &bad_align), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(beskid_gc_type_check(T, &in_header), BESKID_OBJ_OFFSET_IN_HEADER);
  ck_assert_int_eq(beskid_gc_type_check(T, &too_small), BESKID_OBJ_SIZE_TOO_SMALL);
  ck_assert_int_eq(beskid_gc_type_check(T, NULL), BESKID_OBJ_NULL_DESCRIPTOR);
  /* The array descriptor is the runtime's own: compiled code may not allocate with it. */
  ck_assert_int_eq(beskid_gc_type_check(T, &beskid_obj_array_type), BESKID_OBJ_BAD_FLAGS);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Upstream scenarios */

START_TEST(test_rooted_survives_garbage_unrooted_reclaimed) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  leaf *kept = new_leaf(4242);
  slots[0] = kept;
  for (int i = 0; i < 1000; i++) new_leaf(i);
  beskid_gc_collect(T);
  ck_assert(allocated(kept));
  ck_assert_int_eq(kept->value, 4242);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  uint64_t live_rooted = st.live_bytes;
  ck_assert_uint_eq(st.live_objects, 1);
  slots[0] = NULL;
  beskid_gc_collect(T);
  ck_assert(!allocated(kept));
  beskid_gc_read_stats(&st);
  ck_assert_uint_lt(st.live_bytes, live_rooted);
  ck_assert_uint_eq(st.live_objects, 0);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_list_rooted_at_head_keeps_checksum) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  int64_t expected = 0;
  for (int i = 0; i < 100; i++) {
    node *n = new_node(i * 7 + 1);
    set_left(n, slots[0]);
    slots[0] = n;
    expected += i * 7 + 1;
    for (int g = 0; g < 10; g++) new_node(-1); /* garbage between the nodes */
  }
  for (int cycle = 0; cycle < 3; cycle++) {
    beskid_gc_collect(T);
    int64_t sum = 0;
    int count = 0;
    for (node *n = slots[0]; n != NULL; n = n->left) {
      sum += n->value;
      count++;
    }
    ck_assert_int_eq(count, 100);
    ck_assert_int_eq(sum, expected);
  }
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 100);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_parent_keeps_child_bytes) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  node *parent = new_node(1);
  slots[0] = parent;
  node *child = new_node(2);
  set_right(parent, child);
  child = NULL;
  for (int i = 0; i < 2000; i++) new_node(i);
  beskid_gc_collect(T);
  ck_assert_int_eq(parent->right->value, 2);
  ck_assert_ptr_eq(parent->right->header.type, &node_type);
  node *saved = parent->right;
  slots[0] = NULL;
  beskid_gc_collect(T);
  ck_assert(!allocated(parent));
  ck_assert(!allocated(saved));
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_roots_fanout_and_cycle) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  void *slots[12] = {0};
  beskid_root_frame_t frame = {NULL, slots, 12};
  beskid_gc_push_frame(T, &frame);
  void *all[31];
  size_t n = 0;
  for (int i = 0; i < 12; i++) all[n++] = slots[i] = new_node(i);
  /* root 0 -> a fan-out node with 8 children (chained through left/right pairs) */
  node *fan = new_node(50);
  all[n++] = fan;
  set_left(slots[0], fan);
  for (int i = 0; i < 8; i++) {
    node *c = new_node(100 + i);
    all[n++] = c;
    if (i % 2 == 0) {
      set_left(fan, c);
    } else {
      set_right(fan, c);
      fan = c;
    }
  }
  /* root 1 -> a cycle of 10 nodes */
  node *first = NULL, *prev = NULL;
  for (int i = 0; i < 10; i++) {
    node *c = new_node(200 + i);
    all[n++] = c;
    if (prev != NULL)
      set_left(prev, c);
    else
      first = c;
    prev = c;
  }
  set_left(prev, first);
  set_left(slots[1], first);
  ck_assert_uint_eq(n, 31);
  for (int i = 0; i < 500; i++) new_node(-1);
  beskid_gc_collect(T);
  uint64_t mask = beskid_gc_reachable(T, all, 31);
  ck_assert_uint_eq(mask, (UINT64_C(1) << 31) - 1);
  for (size_t i = 0; i < n; i++) ck_assert(allocated(all[i]));
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 31);
  set_left(slots[1], NULL); /* the cycle is garbage now */
  ck_assert_uint_eq(beskid_gc_reachable(T, all, 31), (UINT64_C(1) << 21) - 1);
  beskid_gc_collect(T);
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 21);
  for (size_t i = 21; i < 31; i++) ck_assert(!allocated(all[i]));
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_freed_slots_reused_small_commit) {
  start(0);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  /* ≤ 64 KiB live: a list of 1000 leaves of 48-byte slots. */
  for (int i = 0; i < 1000; i++) {
    node *n = new_node(i);
    set_left(n, slots[0]);
    slots[0] = n;
  }
  beskid_gc_stats_t st;
  /* 8 MiB of garbage in the same size class. */
  for (int i = 0; i < (8 << 20) / 48; i++) new_node(-i);
  beskid_gc_collect(T);
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 2);
  ck_assert_uint_le(st.live_bytes, 64 * 1024);
  /* Freed slots are reused: the heap never holds more than a few 1 MiB chunks, not 8 MiB. */
  ck_assert_uint_le(st.committed_bytes, UINT64_C(3) << 20);
  ck_assert_uint_ge(st.total_freed_objects, (8u << 20) / 48 - 2000);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

static int64_t recurse(int depth) {
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  slots[0] = new_leaf(depth);
  node *n = new_node(depth);
  slots[1] = n;
  int64_t below = 0;
  if (depth > 0) {
    below = recurse(depth - 1);
  } else {
    beskid_gc_collect(T);
    beskid_gc_collect(T);
  }
  if (depth % 1000 == 0) beskid_gc_collect(T);
  int64_t mine = ((leaf *)slots[0])->value + ((node *)slots[1])->value;
  beskid_gc_pop_frame(T, &frame);
  return below + mine;
}

START_TEST(test_deep_recursion_rooted_locals) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  int64_t sum = recurse(6000);
  ck_assert_int_eq(sum, 2 * (6000 * 6001 / 2));
  stop();
}
END_TEST

START_TEST(test_stress_collect_every_allocation) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.debug_flags = BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER;
  config.stress_interval = 1;
  config.reserve = UINT64_C(1) << 30;
  start_config(&config);
  void *slots[3] = {0};
  beskid_root_frame_t frame = {NULL, slots, 3};
  beskid_gc_push_frame(T, &frame);
  for (int i = 0; i < 200; i++) {
    slots[1] = new_node(i);
    set_left(slots[1], slots[0]);
    slots[0] = slots[1];
    slots[2] = new_leaf(i); /* garbage on the next allocation */
  }
  int64_t sum = 0;
  for (node *n = slots[0]; n != NULL; n = n->left) sum += n->value;
  ck_assert_int_eq(sum, 199 * 200 / 2);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 400);
  ck_assert_uint_eq(beskid_gc_set_stress_interval(0), 1);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_heap_cap_fails_allocation) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.heap_max = 2u << 20;
  start_config(&config);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  bool failed = false;
  for (int i = 0; i < (3 << 20) / (int)sizeof(node); i++) {
    node *n = beskid_gc_alloc(T, &node_type);
    if (n == NULL) {
      failed = true;
      break;
    }
    beskid_gc_store(T, (void **)&n->left, slots[0]);
    slots[0] = n;
  }
  ck_assert(failed);
  beskid_gc_failure_t f;
  beskid_gc_last_failure(&f);
  ck_assert_uint_eq(f.cap, 2u << 20);
  ck_assert_uint_gt(f.requested, 0);
  ck_assert_uint_gt(f.live, 1u << 20);
  ck_assert_uint_gt(f.committed, 0);
  /* Dropping the list makes room again. */
  slots[0] = NULL;
  beskid_gc_collect(T);
  ck_assert_ptr_nonnull(beskid_gc_alloc(T, &node_type));
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_handles_grow_release_stale) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  enum { N = 700 };
  static beskid_handle_t h[N];
  static leaf *obj[N];
  for (int i = 0; i < N; i++) {
    obj[i] = new_leaf(i);
    h[i] = beskid_gc_handle_new(obj[i]);
    ck_assert_uint_ne(h[i], 0);
  }
  ck_assert_uint_eq(beskid_gc_handle_count(), N);
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_eq(beskid_gc_handle_get(h[i]), obj[i]);
    ck_assert_int_eq(obj[i]->value, i);
  }
  /* Release out of order: odd ones first, then even from the top. */
  for (int i = 1; i < N; i += 2) ck_assert(beskid_gc_handle_release(h[i]));
  for (int i = N - 2; i >= 0; i -= 2) ck_assert(beskid_gc_handle_release(h[i]));
  ck_assert_uint_eq(beskid_gc_handle_count(), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_null(beskid_gc_handle_get(h[i])); /* stale */
    ck_assert(!beskid_gc_handle_release(h[i]));
  }
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) ck_assert(!allocated(obj[i]));
  /* A reused slot gets a new generation: the old handle still does not resolve. */
  leaf *again = new_leaf(7);
  beskid_handle_t fresh = beskid_gc_handle_new(again);
  ck_assert_uint_ne(fresh, 0);
  for (int i = 0; i < N; i++) ck_assert_uint_ne(fresh, h[i]);
  ck_assert_ptr_eq(beskid_gc_handle_get(fresh), again);
  ck_assert_ptr_null(beskid_gc_handle_get(0));
  ck_assert_ptr_null(beskid_gc_handle_get(UINT64_C(0xffffffff00000001)));
  ck_assert_uint_eq(beskid_gc_handle_new(NULL), 0);
  int on_stack;
  ck_assert_uint_eq(beskid_gc_handle_new(&on_stack), 0);
  ck_assert(beskid_gc_handle_release(fresh));
  stop();
}
END_TEST

START_TEST(test_registered_roots_lifo_and_unordered) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  enum { N = 300 };
  static void *cells[N];
  for (int i = 0; i < N; i++) {
    cells[i] = new_leaf(i);
    ck_assert_int_eq(beskid_gc_register_root(T, &cells[i]), BESKID_GC_OK);
  }
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) ck_assert_int_eq(((leaf *)cells[i])->value, i);
  ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[10]), BESKID_GC_OK); /* not LIFO */
  ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[10]), BESKID_GC_INVALID);
  void *dropped = cells[10];
  beskid_gc_collect(T);
  ck_assert(!allocated(dropped));
  for (int i = N - 1; i >= 0; i--) {
    if (i == 10) continue;
    ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[i]), BESKID_GC_OK);
  }
  ck_assert_int_eq(beskid_gc_unregister_root(T, &cells[0]), BESKID_GC_INVALID);
  ck_assert_int_eq(beskid_gc_register_root(T, NULL), BESKID_GC_INVALID);
  beskid_gc_collect(T);
  for (int i = 0; i < N; i++) ck_assert(!allocated(cells[i]));
  stop();
}
END_TEST

START_TEST(test_globals_are_roots) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  static void *globals[3];
  ck_assert_int_eq(beskid_gc_register_globals(globals, 3), BESKID_GC_OK);
  globals[1] = new_leaf(11);
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)globals[1])->value, 11);
  void *old = globals[1];
  beskid_gc_store(T, &globals[1], NULL);
  beskid_gc_collect(T);
  ck_assert(!allocated(old));
  ck_assert_int_eq(beskid_gc_register_globals(NULL, 2), BESKID_GC_INVALID);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The classic lost-object races, forced with the step API */

START_TEST(test_race_move_heap_pointer_to_root_then_overwrite) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  node *a = new_node(1);
  slots[0] = a;
  leaf *b = new_leaf(77);
  set_left(a, (node *)b);
  b = NULL;
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED); /* a is grey, b white */
  ck_assert_int_eq(beskid_gc_phase(), BESKID_GC_PHASE_MARKING);
  ck_assert(beskid_gc_barrier_on);
  slots[1] = a->left; /* the only pointer moves into a root (no barrier on roots) */
  set_left(a, NULL);  /* and is overwritten in the heap: the deletion half shades b */
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(slots[1]));
  ck_assert_int_eq(((leaf *)slots[1])->value, 77);
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)slots[1])->value, 77);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_race_link_into_black_object) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_CHECKMARK);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  node *holder = new_node(1);
  slots[0] = holder;
  node *black = new_node(2);
  set_left(holder, black);
  leaf *c = new_leaf(99);
  set_right(holder, (node *)c);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  while (beskid_gc_mark_some(T, 1)) {
  }                          /* holder, black and c are all black now */
  slots[1] = holder->right;  /* c into a root ... */
  set_right(holder, NULL);   /* ... out of the heap ... */
  node *fresh = new_node(3); /* allocated black */
  set_left(black, fresh);
  set_right(fresh, (node *)c); /* ... and into a black object */
  slots[1] = NULL;
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(c));
  ck_assert_int_eq(c->value, 99);
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)holder->left->left->right)->value, 99);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_race_object_barrier_rescans_roots) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_CHECKMARK);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  node *a = new_node(1);
  slots[0] = a;
  leaf *b = new_leaf(5);
  a->left = (node *)b;
  b = NULL;
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  slots[1] = a->left;
  /* Upstream-style barrier: told only the parent and the new child, after the store. */
  a->left = NULL;
  beskid_gc_write_barrier_object(T, a, NULL);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(slots[1]));
  ck_assert_int_eq(((leaf *)slots[1])->value, 5);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* The snapshot barrier's gap the object barrier opens: b moves from a (grey) into an object
 * allocated black during marking, through the value barrier, which shades no stored value in a
 * snapshot cycle; a's pointer is then deleted through the object barrier, which cannot see it.
 * Nothing would mark b. The cycle in which that first happens frees nothing; every later cycle
 * shades stored values. The black object goes into `*root`. */
static leaf *hide_behind_object_barrier(node *a, void **root, int64_t value) {
  leaf *b = new_leaf(value);
  set_left(a, (node *)b);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED); /* a grey, b white */
  node *black = new_node(0);
  *root = black;
  set_left(black, (node *)b); /* b into a black object */
  a->left = NULL;             /* and out of a, behind the collector's back */
  beskid_gc_write_barrier_object(T, a, NULL);
  return b;
}

START_TEST(test_race_object_barrier_after_snapshot_store) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  node *a = new_node(1);
  slots[0] = a;
  leaf *garbage = new_leaf(-1);
  /* First use, in a cycle that started without the insertion half: nothing is freed. */
  leaf *b = hide_behind_object_barrier(a, &slots[1], 22);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(b));
  ck_assert_int_eq(b->value, 22);
  ck_assert(allocated(garbage)); /* the cycle kept everything */
  beskid_gc_collect(T);
  ck_assert(!allocated(garbage)); /* the next one frees again */
  ck_assert_int_eq(((leaf *)((node *)slots[1])->left)->value, 22);
  /* Every later cycle shades stored values: the same race loses nothing and garbage goes. */
  garbage = new_leaf(-2);
  leaf *c = hide_behind_object_barrier(a, &slots[1], 33);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(c));
  ck_assert_int_eq(c->value, 33);
  ck_assert(!allocated(garbage));
  beskid_gc_collect(T);
  ck_assert_int_eq(((leaf *)((node *)slots[1])->left)->value, 33);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* A thread that used the object barrier deletes the heap's only pointer to an object another
 * thread has just loaded into its root frame: every thread's roots are rescanned, not only the
 * deleting thread's. */
typedef struct root_holder {
  node *a;
  atomic_int step;
  void *slots[1];
} root_holder;

static void *hold_in_root(void *arg) {
  root_holder *h = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  beskid_root_frame_t frame = {NULL, h->slots, 1};
  beskid_gc_push_frame(t, &frame);
  beskid_gc_enter_native(t);
  atomic_store(&h->step, 1);
  while (atomic_load(&h->step) != 2) beskid_os_sleep_ns(100000);
  beskid_gc_leave_native(t);
  h->slots[0] = h->a->left; /* a root frame store: no barrier */
  beskid_gc_enter_native(t);
  atomic_store(&h->step, 3);
  while (atomic_load(&h->step) != 4) beskid_os_sleep_ns(100000);
  beskid_gc_leave_native(t);
  ck_assert_int_eq(((leaf *)h->slots[0])->value, 44);
  beskid_gc_pop_frame(t, &frame);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_race_object_barrier_rescans_every_thread) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_CHECKMARK);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  node *a = new_node(1);
  slots[0] = a;
  beskid_gc_write_barrier_object(T, a, NULL); /* used once: later cycles rescan roots */
  root_holder h = {.a = a};
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, hold_in_root, &h, "holder"), BESKID_OK);
  while (atomic_load(&h.step) != 1) beskid_os_sleep_ns(100000);
  leaf *b = new_leaf(44);
  set_left(a, (node *)b);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED); /* b white, reachable only through a */
  atomic_store(&h.step, 2);
  while (atomic_load(&h.step) != 3) beskid_os_sleep_ns(100000);
  a->left = NULL; /* the other thread's root now holds the only pointer */
  beskid_gc_write_barrier_object(T, a, NULL);
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(b));
  ck_assert_int_eq(b->value, 44);
  atomic_store(&h.step, 4);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_race_allocate_during_mark_linked_from_new) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_CHECKMARK);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  for (int i = 0; i < 100; i++) new_node(-1);
  beskid_gc_step(T, BESKID_GC_STEP_MARK_STARTED);
  node *n1 = new_node(10);
  node *n2 = new_node(20);
  set_left(n1, n2);
  slots[0] = n1;
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  ck_assert(allocated(n1) && allocated(n2));
  beskid_gc_collect(T);
  ck_assert(allocated(n1) && allocated(n2));
  ck_assert_int_eq(((node *)slots[0])->left->value, 20);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_race_allocate_during_sweep) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  for (int i = 0; i < 3000; i++) {
    node *n = new_node(i);
    if (i % 3 == 0) {
      set_left(n, slots[0]);
      slots[0] = n;
    }
  }
  beskid_gc_step(T, BESKID_GC_STEP_MARK_DONE);
  ck_assert_int_eq(beskid_gc_phase(), BESKID_GC_PHASE_SWEEPING);
  /* Nothing is swept yet; allocation must sweep the spans it takes, and its objects must
   * survive the rest of the sweep. */
  for (int i = 0; i < 2000; i++) {
    node *n = new_node(100000 + i);
    set_left(n, slots[1]);
    slots[1] = n;
  }
  beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
  int count = 0;
  for (node *n = slots[1]; n != NULL; n = n->left, count++) {
    ck_assert_int_eq(n->value, 100000 + 1999 - count);
  }
  ck_assert_int_eq(count, 2000);
  beskid_gc_collect(T);
  count = 0;
  for (node *n = slots[0]; n != NULL; n = n->left) count++;
  ck_assert_int_eq(count, 1000);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Interior pointers, arrays and large objects */

START_TEST(test_interior_pointers_keep_arrays_alive) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  void *slots[3] = {0};
  beskid_root_frame_t frame = {NULL, slots, 3};
  beskid_gc_push_frame(T, &frame);
  beskid_array_buffer_t *bytes = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 100);
  ck_assert_ptr_nonnull(bytes);
  uint8_t *data = beskid_obj_array_data(bytes);
  for (int i = 0; i < 100; i++) data[i] = (uint8_t)i;
  slots[0] = data + 50; /* a slice in the middle, the only reference */
  beskid_array_buffer_t *ptrs = beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, 64);
  void **elems = beskid_obj_array_data(ptrs);
  for (int i = 0; i < 64; i++) beskid_gc_store(T, &elems[i], new_leaf(i));
  slots[1] = &elems[10]; /* pointer to element 10 */
  for (int cycle = 0; cycle < 4; cycle++) {
    for (int g = 0; g < 1000; g++) beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 100);
    beskid_gc_collect(T);
    ck_assert(allocated(bytes));
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(data[i], (uint8_t)i);
    for (int i = 0; i < 64; i++) ck_assert_int_eq(((leaf *)elems[i])->value, i);
  }
  ck_assert_ptr_eq(beskid_gc_object_start(data + 99), bytes);
  ck_assert_ptr_eq(beskid_gc_object_start(&elems[63]), ptrs);
  slots[0] = slots[1] = NULL;
  beskid_gc_collect(T);
  ck_assert(!allocated(bytes));
  ck_assert(!allocated(ptrs));
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_large_objects_and_oblets) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  /* 100 000 pointers (800 KiB): scanned in oblets; every element keeps its leaf. */
  enum { N = 100000 };
  beskid_array_buffer_t *big = beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, N);
  ck_assert_ptr_nonnull(big);
  void **e = beskid_obj_array_data(big);
  slots[0] = &e[N / 2]; /* interior pointer far inside a large object */
  for (int i = 0; i < N; i += 97) beskid_gc_store(T, &e[i], new_leaf(i));
  beskid_gc_collect(T);
  for (int i = 0; i < N; i += 97) ck_assert_int_eq(((leaf *)e[i])->value, i);
  ck_assert_ptr_eq(beskid_gc_object_start(&e[N - 1]), big);
  slots[0] = NULL;
  beskid_gc_collect(T);
  ck_assert(!allocated(big));
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_one_gib_array) {
  start(BESKID_GC_DEBUG_MANUAL);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  uint64_t n = UINT64_C(1) << 30;
  beskid_array_buffer_t *a = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, n);
  ck_assert_ptr_nonnull(a);
  uint8_t *d = beskid_obj_array_data(a);
  ck_assert_uint_eq(d[0], 0);
  ck_assert_uint_eq(d[n - 1], 0);
  d[0] = 1;
  d[n - 1] = 2;
  slots[0] = d + n / 2;
  beskid_gc_collect(T);
  ck_assert_uint_eq(d[0], 1);
  ck_assert_uint_eq(d[n - 1], 2);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.live_bytes, n);
  slots[0] = NULL;
  beskid_gc_collect(T);
  beskid_gc_read_stats(&st);
  ck_assert_uint_lt(st.committed_bytes, UINT64_C(64) << 20); /* returned */
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_array_size_overflow_refused) {
  start(BESKID_GC_DEBUG_MANUAL);
  static const beskid_elem_type_t wide = {1u << 20, 8, NULL, 0};
  ck_assert_ptr_null(beskid_gc_alloc_array(T, &wide, UINT64_C(1) << 50));
  ck_assert_ptr_null(beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, UINT64_MAX));
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Pacing, statistics, trace */

static char trace_lines[8][512];
static atomic_int trace_count;

static void capture_log(const char *line, void *context) {
  (void)context;
  int i = atomic_fetch_add(&trace_count, 1);
  if (i < 8) snprintf(trace_lines[i], sizeof trace_lines[i], "%s", line);
}

START_TEST(test_trace_line_and_stats) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.trace = true;
  config.log = capture_log;
  config.debug_flags = BESKID_GC_DEBUG_MANUAL;
  start_config(&config);
  for (int i = 0; i < 1000; i++) new_node(i);
  beskid_gc_collect(T);
  ck_assert_int_ge(atomic_load(&trace_count), 1);
  ck_assert_msg(strncmp(trace_lines[0], "gc 1 @", 6) == 0, "trace: %s", trace_lines[0]);
  ck_assert_ptr_nonnull(strstr(trace_lines[0], "MB goal"));
  ck_assert_ptr_nonnull(strstr(trace_lines[0], "(forced)"));
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.cycles, 1);
  ck_assert_uint_eq(st.forced_cycles, 1);
  ck_assert_uint_eq(st.pause_count, 2);
  ck_assert_uint_ge(st.pause_max_ns, st.pause_p50_ns);
  ck_assert_uint_ge(st.total_alloc_objects, 1000);
  ck_assert_uint_eq(st.threads, 1);
  ck_assert_int_eq(st.gogc, 100);
  uint64_t hist = 0;
  for (int i = 0; i < BESKID_GC_PAUSE_BUCKETS; i++) hist += st.pause_histogram[i];
  ck_assert_uint_eq(hist, st.pause_count);
  ck_assert(beskid_gc_set_trace(false)); /* returns the previous setting */
  stop();
}
END_TEST

START_TEST(test_gogc_goal_and_setters) {
  start(BESKID_GC_DEBUG_MANUAL);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  slots[0] = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 8u << 20);
  beskid_gc_collect(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.heap_goal, st.live_bytes * 2 - 16);
  ck_assert_uint_le(st.heap_goal, st.live_bytes * 2 + 16);
  ck_assert_uint_gt(st.heap_trigger, st.live_bytes);
  ck_assert_uint_lt(st.heap_trigger, st.heap_goal);
  ck_assert_int_eq(beskid_gc_set_gogc(50), 100);
  beskid_gc_read_stats(&st);
  ck_assert_uint_le(st.heap_goal, st.live_bytes + st.live_bytes / 2 + 16);
  ck_assert_int_eq(beskid_gc_set_gogc(BESKID_GC_GOGC_OFF), 50);
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.heap_goal, UINT64_MAX);
  ck_assert_uint_eq(beskid_gc_set_memory_limit(32u << 20), 0);
  beskid_gc_read_stats(&st);
  ck_assert_uint_le(st.heap_goal, 32u << 20);
  ck_assert_uint_eq(beskid_gc_set_heap_max(0), 0);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_background_collector_paces_heap) {
  start(0);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  for (int i = 0; i < 20000; i++) { /* ~1 MiB live */
    node *n = new_node(i);
    set_left(n, slots[0]);
    slots[0] = n;
  }
  for (int i = 0; i < 2000000; i++) new_node(-i); /* ~96 MiB of garbage */
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 5);
  ck_assert_uint_lt(st.committed_bytes, UINT64_C(32) << 20);
  int64_t count = 0;
  for (node *n = slots[0]; n != NULL; n = n->left) count++;
  ck_assert_int_eq(count, 20000);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_debug_modes_stw_checkmark_verify) {
  start(BESKID_GC_DEBUG_STW | BESKID_GC_DEBUG_CHECKMARK | BESKID_GC_DEBUG_VERIFY |
        BESKID_GC_DEBUG_CLOBBER);
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(T, &frame);
  for (int i = 0; i < 100000; i++) {
    node *n = new_node(i);
    if (i % 10 == 0) {
      set_left(n, slots[0]);
      slots[0] = n;
    }
  }
  beskid_gc_collect(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.live_objects, 10000);
  ck_assert_uint_eq(st.pause_count, st.cycles); /* one pause per cycle */
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Threads */

static void *native_sleeper(void *arg) {
  atomic_int *phase = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  beskid_gc_enter_native(t);
  atomic_store(phase, 1);
  while (atomic_load(phase) != 2) beskid_os_sleep_ns(1000000);
  beskid_gc_leave_native(t);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_native_thread_does_not_block_pause) {
  start(0);
  atomic_int phase = 0;
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, native_sleeper, &phase, "native"), BESKID_OK);
  while (atomic_load(&phase) != 1) beskid_os_sleep_ns(100000);
  for (int i = 0; i < 5; i++) beskid_gc_collect(T); /* would hang if the pause waited */
  atomic_store(&phase, 2);
  beskid_os_thread_join(&th, NULL);
  stop();
}
END_TEST

static void *attach_and_exit(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  slots[0] = beskid_gc_alloc(t, &leaf_type);
  return slots[0]; /* exits attached, with a frame still pushed */
}

START_TEST(test_thread_exit_detaches) {
  start(BESKID_GC_DEBUG_MANUAL);
  beskid_os_thread_t th;
  void *obj = NULL;
  ck_assert_int_eq(beskid_os_thread_create(&th, attach_and_exit, NULL, "exiter"), BESKID_OK);
  beskid_os_thread_join(&th, &obj);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.threads, 1);
  beskid_gc_collect(T);
  ck_assert(!allocated(obj));
  stop();
}
END_TEST

/* Shutdown is refused while another thread is attached (here one parked in native code), and
 * nothing changes: the thread comes back, allocates and detaches; then shutdown succeeds. */
static void *park_then_work(void *arg) {
  atomic_int *state = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  beskid_gc_enter_native(t);
  atomic_store(state, 1);
  while (atomic_load(state) != 2) beskid_os_sleep_ns(100000);
  beskid_gc_leave_native(t);
  for (int i = 0; i < 1000; i++) ck_assert_ptr_nonnull(beskid_gc_alloc(t, &node_type));
  beskid_gc_collect(t);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_shutdown_refused_while_others_attached) {
  start(0);
  atomic_int state = 0;
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, park_then_work, &state, "parked"), BESKID_OK);
  while (atomic_load(&state) != 1) beskid_os_sleep_ns(100000);
  ck_assert_int_eq(beskid_gc_shutdown(), BESKID_GC_BAD_STATE);
  ck_assert(beskid_gc_is_initialized());
  ck_assert_ptr_eq(beskid_gc_current(), T); /* the caller stays attached too */
  ck_assert_ptr_nonnull(new_node(1));
  atomic_store(&state, 2);
  beskid_gc_enter_native(T);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(T);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  ck_assert_int_eq(beskid_gc_shutdown(), BESKID_GC_OK); /* detaches the caller */
  ck_assert(!beskid_gc_is_initialized());
  ck_assert_ptr_null(beskid_gc_current());
  ck_assert_int_eq(beskid_gc_shutdown(), BESKID_GC_OK); /* nothing to do */
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* fork() */

/* Waits for a forked child at most 60 s: one still running then has deadlocked (killed, -1). */
static int wait_child(pid_t pid) {
  int ws = 0;
  for (int i = 0; i < 60000; i++) {
    if (waitpid(pid, &ws, WNOHANG) == pid) return ws;
    beskid_os_sleep_ns(1000000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &ws, 0);
  return -1;
}

/* Another thread at work while the main thread forks: it allocates a list in its own root frame
 * (dropping it every 500 links), helps mark while a cycle marks, and, when asked, forces whole
 * collections itself. */
static atomic_int helper_stop;
static atomic_long helper_rounds;
static atomic_int helper_collects;
static void *fork_helper(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  for (int64_t i = 1; !atomic_load(&helper_stop); i++) {
    node *n = beskid_gc_alloc(t, &node_type);
    ck_assert_ptr_nonnull(n);
    n->value = i;
    beskid_gc_store(t, (void **)&n->left, slots[0]);
    slots[0] = i % 500 == 0 ? NULL : n;
    if (beskid_gc_phase() == BESKID_GC_PHASE_MARKING) beskid_gc_mark_some(t, 8);
    if (atomic_load(&helper_collects) && i % 2000 == 0) beskid_gc_collect(t);
    atomic_fetch_add(&helper_rounds, 1);
    beskid_gc_poll(t);
  }
  beskid_gc_pop_frame(t, &frame);
  beskid_gc_detach();
  return NULL;
}

/* Lets the helper do `n` more rounds; the main thread waits in native code. */
static void let_helper_run(long n) {
  long target = atomic_load(&helper_rounds) + n;
  beskid_gc_enter_native(T);
  while (atomic_load(&helper_rounds) < target) beskid_os_sleep_ns(50000);
  beskid_gc_leave_native(T);
}

#define FORK_LIST 1000

/* A list of FORK_LIST nodes, values FORK_LIST-1 .. 0 from the head, rooted in slots[0]. */
static void build_list(void **slots) {
  for (int64_t i = 0; i < FORK_LIST; i++) {
    node *n = new_node(i);
    set_left(n, slots[0]);
    slots[0] = n;
  }
}

static bool list_intact(const node *n) {
  for (int64_t i = FORK_LIST - 1; i >= 0; i--, n = n->left) {
    if (n == NULL || n->value != i || !allocated(n)) return false;
  }
  return n == NULL;
}

/* The child's part: the forking thread alone, the phase as the parent left it (unless
 * `expected_phase` is -1: the background collector moves it); it allocates,
 * collects and verifies, and the list the parent built is intact. The exit status says what
 * failed (42: nothing). */
static int child_checks(void **slots, int expected_phase) {
  if (expected_phase >= 0 && (int)beskid_gc_phase() != expected_phase) return 10;
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  if (st.threads != 1) return 11;
  for (int i = 0; i < 20000; i++) {
    node *n = beskid_gc_alloc(T, &node_type);
    if (n == NULL) return 12;
    n->value = i;
    if (i % 4 == 0) {
      beskid_gc_store(T, (void **)&n->left, slots[1]);
      slots[1] = n;
    }
  }
  if ((gc.config.debug_flags & BESKID_GC_DEBUG_MANUAL) == 0) {
    /* The background collector runs again: garbage alone brings a cycle. */
    uint64_t deadline = beskid_os_monotonic_ns() + UINT64_C(20000000000);
    beskid_gc_stats_t now = st;
    while (now.cycles == st.cycles && beskid_os_monotonic_ns() < deadline) {
      for (int i = 0; i < 1000; i++) {
        if (beskid_gc_alloc(T, &node_type) == NULL) return 12;
      }
      beskid_gc_read_stats(&now);
    }
    if (now.cycles == st.cycles) return 18;
  }
  beskid_gc_collect(T);
  if (beskid_gc_phase() != BESKID_GC_PHASE_IDLE && (gc.config.debug_flags & BESKID_GC_DEBUG_MANUAL))
    return 13;
  if (beskid_gc_verify(T) != 0) return 14;
  if (!list_intact(slots[0])) return 15;
  int64_t count = 0;
  for (node *n = slots[1]; n != NULL; n = n->left) count++;
  if (count != 5000) return 16;
  beskid_gc_collect(T);
  if (beskid_gc_verify(T) != 0) return 17;
  return 42;
}

/* Forks with the main thread attached and the helper at work; asserts the child's status. */
static void fork_and_check(void **slots, int expected_phase, int round) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) _exit(child_checks(slots, expected_phase));
  int ws = wait_child(pid);
  ck_assert_msg(ws != -1, "round %d: the child deadlocked", round);
  ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 42, "round %d: child status %#x (exit %d)",
                round, ws, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

/* Forks 20 times with a cycle stopped at `step` (MARK_STARTED: marking; MARK_DONE: sweeping) while
 * the helper marks or sweeps; the parent then completes the cycle and goes on. */
static void fork_in_phase(beskid_gc_step_t step, beskid_gc_phase_t phase) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  build_list(slots);
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, fork_helper, NULL, "helper"), BESKID_OK);
  let_helper_run(1000);
  for (int round = 0; round < 20; round++) {
    beskid_gc_step(T, step);
    ck_assert_int_eq(beskid_gc_phase(), phase);
    let_helper_run(300); /* marking, or sweeping as it allocates */
    fork_and_check(slots, (int)phase, round);
    ck_assert_int_eq(beskid_gc_phase(), phase); /* the parent is where it was */
    beskid_gc_step(T, BESKID_GC_STEP_SWEPT);
    ck_assert(list_intact(slots[0]));
    ck_assert_uint_eq(beskid_gc_verify(T), 0);
  }
  atomic_store(&helper_stop, 1);
  beskid_gc_enter_native(T);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(T);
  beskid_gc_collect(T);
  ck_assert(list_intact(slots[0]));
  beskid_gc_pop_frame(T, &frame);
  stop();
}

START_TEST(test_fork_during_marking) {
  fork_in_phase(BESKID_GC_STEP_MARK_STARTED, BESKID_GC_PHASE_MARKING);
}
END_TEST

START_TEST(test_fork_during_sweeping) {
  fork_in_phase(BESKID_GC_STEP_MARK_DONE, BESKID_GC_PHASE_SWEEPING);
}
END_TEST

/* The reported deadlock: fork while the background collector and another thread run cycles.
 * The child's background collector runs again (its allocations trigger cycles). */
START_TEST(test_fork_while_collecting) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.gogc = 25;
  config.debug_flags = BESKID_GC_DEBUG_CLOBBER;
  config.reserve = UINT64_C(4) << 30;
  start_config(&config);
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(T, &frame);
  build_list(slots);
  atomic_store(&helper_collects, 1);
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, fork_helper, NULL, "helper"), BESKID_OK);
  for (int round = 0; round < 20; round++) {
    let_helper_run(1500);
    fork_and_check(slots, -1, round);
    ck_assert(list_intact(slots[0]));
  }
  atomic_store(&helper_stop, 1);
  beskid_gc_enter_native(T);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 10);
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

typedef struct soak_arg {
  int id;
  uint64_t seconds_ns;
  void **shared;
  int64_t checked;
} soak_arg;

static node *build_tree(beskid_gc_thread_t *t, int depth, beskid_root_frame_t *unused) {
  (void)unused;
  void *slots[1] = {0};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  node *n = beskid_gc_alloc(t, &node_type);
  slots[0] = n;
  n->value = depth;
  if (depth > 0) {
    node *l = build_tree(t, depth - 1, NULL);
    beskid_gc_store(t, (void **)&n->left, l);
    node *r = build_tree(t, depth - 1, NULL);
    beskid_gc_store(t, (void **)&n->right, r);
  }
  beskid_gc_pop_frame(t, &frame);
  return n;
}

static int64_t check_tree(const node *n, int depth) {
  if (n->value != depth) return -1000000;
  if (depth == 0) return 1;
  return 1 + check_tree(n->left, depth - 1) + check_tree(n->right, depth - 1);
}

static void *soak_main(void *p) {
  soak_arg *a = p;
  beskid_gc_thread_t *t = beskid_gc_attach();
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(t, &frame);
  slots[0] = build_tree(t, 12, NULL); /* long-lived */
  uint64_t end = beskid_os_monotonic_ns() + a->seconds_ns;
  beskid_test_rng rng;
  beskid_test_rng_seed(&rng, (unsigned long long)a->id + 1);
  while (beskid_os_monotonic_ns() < end) {
    slots[1] = build_tree(t, 8, NULL);
    size_t k = (size_t)beskid_test_rng_below(&rng, 16);
    /* Publish the finished tree to the other thread: barrier, then a release store. */
    if (__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) {
      beskid_gc_write_barrier(t, &a->shared[k], slots[1]);
    }
    __atomic_store_n(&a->shared[k], slots[1], __ATOMIC_RELEASE);
    size_t j = (size_t)beskid_test_rng_below(&rng, 16);
    slots[1] = __atomic_load_n(&a->shared[j], __ATOMIC_ACQUIRE);
    if (slots[1] != NULL) ck_assert_int_eq(check_tree(slots[1], 8), 511);
    a->checked++;
    beskid_gc_poll(t);
  }
  ck_assert_int_eq(check_tree(slots[0], 12), 8191);
  beskid_gc_pop_frame(t, &frame);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_two_thread_soak) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.debug_flags = BESKID_GC_DEBUG_CLOBBER;
  config.reserve = UINT64_C(4) << 30;
  start_config(&config);
  static void *shared[16];
  ck_assert_int_eq(beskid_gc_register_globals(shared, 16), BESKID_GC_OK);
  soak_arg args[2] = {{0, 1500000000u, shared, 0}, {1, 1500000000u, shared, 0}};
  beskid_os_thread_t th[2];
  beskid_gc_enter_native(T); /* the main thread only waits */
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(beskid_os_thread_create(&th[i], soak_main, &args[i], "soak"), BESKID_OK);
  }
  for (int i = 0; i < 2; i++) beskid_os_thread_join(&th[i], NULL);
  beskid_gc_leave_native(T);
  ck_assert_int_gt(args[0].checked + args[1].checked, 100);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 3);
  beskid_gc_collect(T);
  for (int i = 0; i < 16; i++) {
    if (shared[i] != NULL) ck_assert_int_eq(check_tree(shared[i], 8), 511);
  }
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Seeded random object graphs against a reference model */

enum { FUZZ_ROOTS = 16, FUZZ_MAX = 4096 };

typedef struct fuzz_model {
  node *ptr[FUZZ_MAX]; /* object of each id (NULL once unreachable and dropped) */
  int left[FUZZ_MAX];  /* expected left child id, -1 for NULL */
  int right[FUZZ_MAX];
  int roots[FUZZ_ROOTS]; /* id in each root slot, -1 for NULL */
  int next_id;
  char seen[FUZZ_MAX]; /* scratch of fuzz_check */
  int stack[FUZZ_MAX];
} fuzz_model;

static void fuzz_check(fuzz_model *m, void **slots) {
  char *seen = m->seen;
  int *stack = m->stack;
  memset(seen, 0, sizeof m->seen);
  int sp = 0;
  for (int r = 0; r < FUZZ_ROOTS; r++) {
    ck_assert_ptr_eq(slots[r], m->roots[r] < 0 ? NULL : m->ptr[m->roots[r]]);
    if (m->roots[r] >= 0 && !seen[m->roots[r]]) {
      seen[m->roots[r]] = 1;
      stack[sp++] = m->roots[r];
    }
  }
  while (sp > 0) {
    int id = stack[--sp];
    node *n = m->ptr[id];
    ck_assert(allocated(n));
    ck_assert_ptr_eq(n->header.type, &node_type);
    ck_assert_int_eq(n->value, id);
    ck_assert_ptr_eq(n->left, m->left[id] < 0 ? NULL : m->ptr[m->left[id]]);
    ck_assert_ptr_eq(n->right, m->right[id] < 0 ? NULL : m->ptr[m->right[id]]);
    int kids[2] = {m->left[id], m->right[id]};
    for (int k = 0; k < 2; k++) {
      if (kids[k] >= 0 && !seen[kids[k]]) {
        seen[kids[k]] = 1;
        stack[sp++] = kids[k];
      }
    }
  }
}

/* Some id reachable from a root, or -1. */
static int fuzz_pick(fuzz_model *m, beskid_test_rng *rng) {
  int r = m->roots[beskid_test_rng_below(rng, FUZZ_ROOTS)];
  for (int hops = (int)beskid_test_rng_below(rng, 4); r >= 0 && hops > 0; hops--) {
    int next = beskid_test_rng_below(rng, 2) ? m->left[r] : m->right[r];
    if (next < 0) break;
    r = next;
  }
  return r;
}

static void fuzz_run(beskid_gc_thread_t *t, unsigned long long seed, int ops, bool manual) {
  fuzz_model *m = calloc(1, sizeof *m);
  ck_assert_ptr_nonnull(m);
  for (int r = 0; r < FUZZ_ROOTS; r++) m->roots[r] = -1;
  void *slots[FUZZ_ROOTS] = {0};
  beskid_root_frame_t frame = {NULL, slots, FUZZ_ROOTS};
  beskid_gc_push_frame(t, &frame);
  beskid_test_rng rng;
  beskid_test_rng_seed(&rng, seed);
  for (int op = 0; op < ops && m->next_id < FUZZ_MAX; op++) {
    unsigned choice = (unsigned)beskid_test_rng_below(&rng, 100);
    int r = (int)beskid_test_rng_below(&rng, FUZZ_ROOTS);
    if (choice < 30) { /* allocate into a root */
      int id = m->next_id++;
      node *n = beskid_gc_alloc(t, &node_type);
      ck_assert_ptr_nonnull(n);
      n->value = id;
      m->ptr[id] = n;
      m->left[id] = m->right[id] = -1;
      slots[r] = n;
      m->roots[r] = id;
    } else if (choice < 60) { /* link: x.left/right = root or null, with the barrier */
      int x = fuzz_pick(m, &rng);
      if (x < 0) continue;
      int v = beskid_test_rng_below(&rng, 5) == 0 ? -1 : fuzz_pick(m, &rng);
      bool left = beskid_test_rng_below(&rng, 2) != 0;
      beskid_gc_store(t, (void **)(left ? &m->ptr[x]->left : &m->ptr[x]->right),
                      v < 0 ? NULL : m->ptr[v]);
      if (left)
        m->left[x] = v;
      else
        m->right[x] = v;
    } else if (choice < 70) { /* drop a root */
      slots[r] = NULL;
      m->roots[r] = -1;
    } else if (choice < 80) { /* load a heap pointer into a root */
      int x = fuzz_pick(m, &rng);
      if (x < 0) continue;
      int v = beskid_test_rng_below(&rng, 2) ? m->left[x] : m->right[x];
      slots[r] = v < 0 ? NULL : m->ptr[v];
      m->roots[r] = v;
    } else if (manual) { /* move the collector along */
      unsigned step = (unsigned)beskid_test_rng_below(&rng, 4);
      if (step == 0)
        beskid_gc_step(t, BESKID_GC_STEP_MARK_STARTED);
      else if (step == 1)
        beskid_gc_mark_some(t, 3);
      else if (step == 2)
        beskid_gc_step(t, BESKID_GC_STEP_MARK_DONE);
      else
        beskid_gc_step(t, BESKID_GC_STEP_SWEPT);
    } else {
      beskid_gc_poll(t);
    }
    if (op % 64 == 0) fuzz_check(m, slots);
  }
  beskid_gc_collect(t);
  fuzz_check(m, slots);
  beskid_gc_pop_frame(t, &frame);
  free(m);
}

START_TEST(test_fuzz_manual_steps) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_CHECKMARK);
  const char *env = getenv("BESKID_FUZZ_ROUNDS");
  int rounds = env != NULL ? atoi(env) : 8;
  for (int i = 0; i < rounds; i++) fuzz_run(T, 0x5eed0000ull + (unsigned long long)i, 3000, true);
  stop();
}
END_TEST

static void *fuzz_thread(void *arg) {
  beskid_gc_thread_t *t = beskid_gc_attach();
  unsigned long long seed = (unsigned long long)(uintptr_t)arg;
  for (int i = 0; i < 3; i++) fuzz_run(t, seed * 31 + (unsigned long long)i, 3000, false);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_fuzz_two_threads_with_background_collector) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.debug_flags = BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_CHECKMARK;
  config.stress_interval = 97; /* plenty of cycles on top of the background ones */
  config.reserve = UINT64_C(4) << 30;
  start_config(&config);
  beskid_gc_enter_native(T);
  beskid_os_thread_t th;
  ck_assert_int_eq(beskid_os_thread_create(&th, fuzz_thread, (void *)(uintptr_t)7, "fuzz"),
                   BESKID_OK);
  beskid_gc_leave_native(T);
  for (int i = 0; i < 3; i++) fuzz_run(T, 0xabc0ull + (unsigned long long)i, 3000, false);
  beskid_gc_enter_native(T);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(T);
  stop();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Thread count and the detach hook */

static atomic_int hook_calls;
static atomic_uint count_seen_by_hook;

static void count_detach(void) {
  atomic_fetch_add(&hook_calls, 1);
  atomic_store(&count_seen_by_hook, beskid_gc_thread_count());
}

static void *attach_and_detach(void *arg) {
  (void)arg;
  ck_assert_ptr_nonnull(beskid_gc_attach());
  beskid_gc_detach();
  return NULL;
}

static void *attach_and_exit_attached(void *arg) {
  (void)arg;
  ck_assert_ptr_nonnull(beskid_gc_attach());
  return NULL; /* exits attached: detached by the thread-exit destructor */
}

START_TEST(test_thread_count_and_detach_hook) {
  beskid_gc_set_detach_hook(count_detach);
  start(BESKID_GC_DEBUG_MANUAL);
  ck_assert_uint_eq(beskid_gc_thread_count(), 1);
  beskid_os_thread_t th;
  /* An explicit detach runs the hook on the detaching thread, which no longer counts. */
  ck_assert_int_eq(beskid_os_thread_create(&th, attach_and_detach, NULL, "detach"), BESKID_OK);
  ck_assert_int_eq(beskid_os_thread_join(&th, NULL), BESKID_OK);
  ck_assert_int_eq(atomic_load(&hook_calls), 1);
  ck_assert_uint_eq(atomic_load(&count_seen_by_hook), 1);
  ck_assert_uint_eq(beskid_gc_thread_count(), 1);
  /* So does a thread that exits attached. */
  ck_assert_int_eq(beskid_os_thread_create(&th, attach_and_exit_attached, NULL, "exit"), BESKID_OK);
  ck_assert_int_eq(beskid_os_thread_join(&th, NULL), BESKID_OK);
  ck_assert_int_eq(atomic_load(&hook_calls), 2);
  ck_assert_uint_eq(atomic_load(&count_seen_by_hook), 1);
  /* Detaching the last thread counts zero; shutdown's own detach runs no hook. */
  beskid_gc_detach();
  ck_assert_int_eq(atomic_load(&hook_calls), 3);
  ck_assert_uint_eq(atomic_load(&count_seen_by_hook), 0);
  ck_assert_uint_eq(beskid_gc_thread_count(), 0);
  T = beskid_gc_attach();
  beskid_gc_shutdown();
  ck_assert_int_eq(atomic_load(&hook_calls), 3);
  beskid_gc_set_detach_hook(NULL);
}
END_TEST

int main(void) {
  Suite *suite = suite_create("gc");
  suite_add_tcase(suite, beskid_test_version_case(beskid_gc_version, BESKID_GC_VERSION_STRING,
                                                  BESKID_TEST_VERSION_FILE));
  TCase *tc = tcase_create("lifecycle");
  tcase_add_test(tc, test_init_twice_and_attach_rules);
  tcase_add_test(tc, test_bad_config_refused);
  tcase_add_test(tc, test_abi_offsets);
  tcase_add_test(tc, test_thread_count_and_detach_hook);
  suite_add_tcase(suite, tc);

  tc = tcase_create("alloc");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_alloc_zeroed_with_header);
  tcase_add_test(tc, test_size_class_division_is_exact);
  tcase_add_test(tc, test_every_size_class_placed_and_collected);
  tcase_add_test(tc, test_type_check_refuses_malformed);
  tcase_add_test(tc, test_array_size_overflow_refused);
  suite_add_tcase(suite, tc);

  tc = tcase_create("scenarios");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_rooted_survives_garbage_unrooted_reclaimed);
  tcase_add_test(tc, test_list_rooted_at_head_keeps_checksum);
  tcase_add_test(tc, test_parent_keeps_child_bytes);
  tcase_add_test(tc, test_roots_fanout_and_cycle);
  tcase_add_test(tc, test_freed_slots_reused_small_commit);
  tcase_add_test(tc, test_deep_recursion_rooted_locals);
  tcase_add_test(tc, test_stress_collect_every_allocation);
  tcase_add_test(tc, test_heap_cap_fails_allocation);
  tcase_add_test(tc, test_handles_grow_release_stale);
  tcase_add_test(tc, test_registered_roots_lifo_and_unordered);
  tcase_add_test(tc, test_globals_are_roots);
  suite_add_tcase(suite, tc);

  tc = tcase_create("barrier_races");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_race_move_heap_pointer_to_root_then_overwrite);
  tcase_add_test(tc, test_race_link_into_black_object);
  tcase_add_test(tc, test_race_object_barrier_rescans_roots);
  tcase_add_test(tc, test_race_object_barrier_after_snapshot_store);
  tcase_add_test(tc, test_race_object_barrier_rescans_every_thread);
  tcase_add_test(tc, test_race_allocate_during_mark_linked_from_new);
  tcase_add_test(tc, test_race_allocate_during_sweep);
  suite_add_tcase(suite, tc);

  tc = tcase_create("objects");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_interior_pointers_keep_arrays_alive);
  tcase_add_test(tc, test_large_objects_and_oblets);
  tcase_add_test(tc, test_one_gib_array);
  suite_add_tcase(suite, tc);

  tc = tcase_create("pacing");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_trace_line_and_stats);
  tcase_add_test(tc, test_gogc_goal_and_setters);
  tcase_add_test(tc, test_background_collector_paces_heap);
  tcase_add_test(tc, test_debug_modes_stw_checkmark_verify);
  suite_add_tcase(suite, tc);

  tc = tcase_create("threads");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_native_thread_does_not_block_pause);
  tcase_add_test(tc, test_thread_exit_detaches);
  tcase_add_test(tc, test_two_thread_soak);
  tcase_add_test(tc, test_shutdown_refused_while_others_attached);
  suite_add_tcase(suite, tc);

  tc = tcase_create("fork");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_fork_during_marking);
  tcase_add_test(tc, test_fork_during_sweeping);
  tcase_add_test(tc, test_fork_while_collecting);
  suite_add_tcase(suite, tc);

  tc = tcase_create("fuzz");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_fuzz_manual_steps);
  tcase_add_test(tc, test_fuzz_two_threads_with_background_collector);
  suite_add_tcase(suite, tc);

  beskid_gc_robust_cases(suite);
  beskid_gc_memory_cases(suite);
  return beskid_test_run(suite);
}
