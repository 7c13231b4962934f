/* gc_fixture.c — the shared fixture of the gc suite (gc_fixture.h). */
#include "gc_fixture.h"

static const uint64_t node_map[] = {8, 16};
const beskid_type_t node_type = {32, 8, node_map, 2, BESKID_TYPE_AGGREGATE, 0};
const beskid_type_t leaf_type = {24, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};

beskid_gc_thread_t *T;

/* ThreadSanitizer supports starting threads in the child of a multi-threaded fork (the fork tests
 * start the collector thread again there) only when told not to die instead. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

void log_to_stderr(const char *line, void *context) {
  (void)context;
  fprintf(stderr, "%s\n", line);
}

void test_config(beskid_gc_config_t *config, uint32_t debug_flags) {
  beskid_gc_config_default(config);
  config->log = log_to_stderr;
  config->debug_flags = debug_flags;
  config->reserve = UINT64_C(4) << 30;
}

void start(uint32_t debug_flags) {
  beskid_gc_config_t config;
  test_config(&config, debug_flags);
  start_config(&config);
}

void start_config(beskid_gc_config_t *config) {
  if (config->log == NULL) config->log = log_to_stderr;
  ck_assert_int_eq(beskid_gc_init(config), BESKID_GC_OK);
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
}

void stop(void) {
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  beskid_gc_detach();
  beskid_gc_shutdown();
}

node *new_node(int64_t value) {
  node *n = beskid_gc_alloc(T, &node_type);
  ck_assert_ptr_nonnull(n);
  n->value = value;
  return n;
}

leaf *new_leaf(int64_t value) {
  leaf *l = beskid_gc_alloc(T, &leaf_type);
  ck_assert_ptr_nonnull(l);
  l->value = value;
  return l;
}

void set_left(node *parent, node *child) { beskid_gc_store(T, (void **)&parent->left, child); }
void set_right(node *parent, node *child) { beskid_gc_store(T, (void **)&parent->right, child); }

bool allocated(const void *p) { return beskid_gc_object_start(p) == p; }

void rooted_start(uint32_t debug_flags, beskid_root_frame_t *frame, void **slots, uint32_t count) {
  start(debug_flags);
  memset(slots, 0, count * sizeof *slots);
  *frame = (beskid_root_frame_t){NULL, slots, count};
  beskid_gc_push_frame(T, frame);
}

void rooted_stop(beskid_root_frame_t *frame) {
  beskid_gc_pop_frame(T, frame);
  stop();
}

void spawn_until_ready(beskid_os_thread_t *thread, beskid_os_thread_fn fn, atomic_int *flag,
                       const char *name) {
  ck_assert_int_eq(beskid_os_thread_create(thread, fn, flag, name), BESKID_OK);
  while (atomic_load(flag) != 1) beskid_os_sleep_ns(100000);
}

void collect_expect_allocated(const void *object, bool expected) {
  beskid_gc_collect(T);
  ck_assert(allocated(object) == expected);
}
