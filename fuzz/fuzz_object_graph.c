/* fuzz_object_graph.c — libFuzzer harness that drives the collector through random sequences
 * of allocation, pointer stores and loads, root changes, collections, heap verification and
 * short-lived threads, against a reference model of the object graph.
 *
 * Each input byte is one operation on 16 root-frame slots. The model records, for every node
 * the input made, its id and the ids its four pointer fields hold; every node carries its id
 * and a payload derived from it (small nodes 64 bytes, large ones 40000 bytes, beyond the
 * small-object classes, so both heaps are used). After every collection and at the end of the
 * input the harness walks the real graph from the roots alongside the model and checks every
 * reachable node: its id, its whole payload and the ids of its fields. Collections also run
 * concurrently (GOGC 5) with checkmark on, so a missed mark is fatal inside the runtime.
 *
 * A thread operation starts a thread that attaches, builds a chain of nodes, publishes its head
 * through a registered global slot, may run a collection itself, and detaches or just exits
 * attached (the runtime then detaches it); meanwhile the
 * main thread waits in the native state (a stop-the-world never waits for it).
 *
 * Invariant: only the root frame and the global slot keep nodes alive; both are emptied after
 * each input, so the heap stays bounded across millions of inputs. */
#include <pthread.h>

#include "beskid/runtime_abi.h"
#include "fuzz_support.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ROOTS = 16, FIELDS = 4, NODES_MAX = 4096, SMALL_SIZE = 64, LARGE_SIZE = 40000 };

/* Node layout: header @0, fields @16..@48, id @48, payload from @56 to the end. */
static const uint64_t node_map[FIELDS] = {16, 24, 32, 40};
static const beskid_type_t small_type = {SMALL_SIZE, 8, node_map, FIELDS, BESKID_TYPE_AGGREGATE, 0};
static const beskid_type_t large_type = {LARGE_SIZE, 8, node_map, FIELDS, BESKID_TYPE_AGGREGATE, 0};

typedef struct node {
  const beskid_type_t *type;
  uint64_t gc_word;
  struct node *field[FIELDS];
  uint64_t id;
  uint8_t payload[];
} node;

typedef struct model_node {
  int32_t field[FIELDS]; /* ids, -1 for NULL */
  bool large;
} model_node;

static model_node model[NODES_MAX];
static int32_t model_count;
static int32_t root_id[ROOTS];
static void *roots[ROOTS];
static beskid_root_frame_t frame = {NULL, roots, ROOTS};
static void *global_slot[1];

static uint8_t payload_byte(uint64_t id, size_t i) {
  return (uint8_t)((id * 0x9E3779B97F4A7C15ull) >> ((i % 8) * 8)) ^ (uint8_t)i;
}

static size_t payload_len(bool large) {
  return (large ? LARGE_SIZE : SMALL_SIZE) - offsetof(node, payload);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  beskid_rt_config_t config;
  beskid_rt_config_default(&config);
  char error[256];
  if (!beskid_rt_config_from_env(&config, error, sizeof error)) abort();
  config.debug_flags |= BESKID_GC_DEBUG_CHECKMARK;
  config.gogc = 5;
  if (beskid_rt_init(&config) != 0) abort();
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  beskid_rt_register_globals(global_slot, 1);
  return 0;
}

/* Makes node `id` (already in the model) on the calling thread. A safepoint: the caller must
 * root the result before its next runtime call. */
static node *make_node(int32_t id) {
  bool large = model[id].large;
  node *n = alloc(large ? LARGE_SIZE : SMALL_SIZE, large ? &large_type : &small_type);
  FUZZ_CHECK(n != NULL, "alloc");
  for (int k = 0; k < FIELDS; k++) FUZZ_CHECK(n->field[k] == NULL, "allocation not zeroed");
  n->id = (uint64_t)id;
  size_t len = payload_len(large);
  for (size_t i = 0; i < len; i++) n->payload[i] = payload_byte((uint64_t)id, i);
  return n;
}

static int32_t new_model_node(bool large) {
  if (model_count == NODES_MAX) return -1;
  model_node *m = &model[model_count];
  for (int k = 0; k < FIELDS; k++) m->field[k] = -1;
  m->large = large;
  return model_count++;
}

static void store(void **slot, void *value) { beskid_gc_store(beskid_rt_thread(), slot, value); }

/* Walks the real graph from the roots alongside the model; checks every reachable node. */
static uint8_t seen[NODES_MAX];
static void check_node(node *n, int32_t id) {
  FUZZ_CHECK(n != NULL && id >= 0, "reachable node %d is NULL", id);
  FUZZ_CHECK(n->id == (uint64_t)id, "node %d holds id %llu", id, (unsigned long long)n->id);
  if (seen[id]) return;
  seen[id] = 1;
  FUZZ_CHECK(n->type == (model[id].large ? &large_type : &small_type), "node %d's descriptor", id);
  size_t len = payload_len(model[id].large);
  for (size_t i = 0; i < len; i++) {
    FUZZ_CHECK(n->payload[i] == payload_byte((uint64_t)id, i), "node %d payload byte %zu", id, i);
  }
  for (int k = 0; k < FIELDS; k++) {
    int32_t child = model[id].field[k];
    if (child < 0)
      FUZZ_CHECK(n->field[k] == NULL, "node %d field %d should be NULL", id, k);
    else
      check_node(n->field[k], child);
  }
}

static void check_all(void) {
  memset(seen, 0, (size_t)model_count);
  for (int r = 0; r < ROOTS; r++) {
    if (root_id[r] < 0)
      FUZZ_CHECK(roots[r] == NULL, "root %d should be NULL", r);
    else
      check_node(roots[r], root_id[r]);
  }
}

/* ---- the thread operation ---------------------------------------------------------------- */

typedef struct chain_job {
  int32_t first_id;
  int32_t length;
  bool collect;
  bool exit_attached;
} chain_job;

static void *chain_main(void *arg) {
  chain_job *job = arg;
  beskid_rt_thread_attach();
  void *local[1] = {NULL};
  beskid_root_frame_t f = {NULL, local, 1};
  beskid_gc_push_frame(beskid_rt_thread(), &f);
  /* Built tail first: node first_id + i points (field 0) at first_id + i + 1. */
  for (int32_t i = job->length - 1; i >= 0; i--) {
    node *n = make_node(job->first_id + i);
    store((void **)&n->field[0], local[0]);
    local[0] = n;
    if (job->collect && i == job->length / 2) gc_collect();
  }
  store(&global_slot[0], local[0]);
  beskid_gc_pop_frame(beskid_rt_thread(), &f);
  if (!job->exit_attached) beskid_rt_thread_detach(); /* else detached as it ends */
  return NULL;
}

static void run_thread(int r, uint8_t arg) {
  chain_job job = {model_count, 1 + arg % 8, (arg & 0x80) != 0, (arg & 0x20) != 0};
  if (model_count + job.length > NODES_MAX) return;
  for (int32_t i = 0; i < job.length; i++) {
    int32_t id = new_model_node((arg & 0x40) != 0 && i == 0);
    model[id].field[0] = i + 1 < job.length ? id + 1 : -1;
  }
  pthread_t th;
  beskid_rt_enter_native(); /* a blocking wait: collections must not wait for this thread */
  FUZZ_CHECK(pthread_create(&th, NULL, chain_main, &job) == 0, "pthread_create");
  pthread_join(th, NULL);
  beskid_rt_leave_native();
  roots[r] = global_slot[0];
  root_id[r] = job.first_id;
  store(&global_slot[0], NULL);
}

static uint64_t inputs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size, 0};
  model_count = 0;
  for (int r = 0; r < ROOTS; r++) root_id[r] = -1, roots[r] = NULL;
  while (fuzz_more(&in)) {
    uint8_t op = fuzz_u8(&in);
    uint8_t arg = fuzz_u8(&in);
    int a = op & 15, b = arg & 15, k = (arg >> 4) & 3;
    switch (op >> 4) {
    case 0:
    case 1:
    case 2: { /* allocate into root a (large when arg's top bits say so) */
      int32_t id = new_model_node((arg & 0xE0) == 0xE0);
      if (id < 0) break;
      roots[a] = make_node(id);
      root_id[a] = id;
      break;
    }
    case 3:
    case 4:
    case 5: /* root a's node, field k = root b's node */
      if (root_id[a] < 0) break;
      store((void **)&((node *)roots[a])->field[k], roots[b]);
      model[root_id[a]].field[k] = root_id[b];
      break;
    case 6:
    case 7:
    case 8: /* root b = root a's node, field k */
      if (root_id[a] < 0) break;
      roots[b] = ((node *)roots[a])->field[k];
      root_id[b] = model[root_id[a]].field[k];
      break;
    case 9:
    case 10: /* drop root a */
      roots[a] = NULL;
      root_id[a] = -1;
      break;
    case 11: /* a full collection, then check everything */
      gc_collect();
      check_all();
      break;
    case 12: /* the heap verifier */
      FUZZ_CHECK(gc_heap_verify() == 1, "heap verifier found problems");
      break;
    case 13: /* a thread builds a chain and hands it over */
      run_thread(a, arg);
      break;
    case 14: /* a safepoint poll, as compiled code at a loop back-edge */
      beskid_gc_poll(beskid_rt_thread());
      break;
    default: /* garbage that survives nothing */
      for (int i = 0; i <= arg % 64; i++) alloc(16 + 16 * (i % 8), NULL);
      break;
    }
  }
  check_all();
  for (int r = 0; r < ROOTS; r++) roots[r] = NULL;
  if (++inputs % 1024 == 0) gc_collect();
  return 0;
}
