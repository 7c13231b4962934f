/* test_gc_fuzz.c — seeded random object graphs checked against a reference model (the gc suite;
 * fixture in gc_fixture.h). */
#include "gc_fixture.h"

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
  start(GC_TEST_RACE);
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

void gc_cases_fuzz(Suite *suite) {
  TCase *tc = tcase_create("fuzz");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_fuzz_manual_steps);
  tcase_add_test(tc, test_fuzz_two_threads_with_background_collector);
  suite_add_tcase(suite, tc);
}
