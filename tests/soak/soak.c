/* soak.c — the runtime under continuous load: mutator threads on random object graphs while
 * collections run back to back, with every payload checked every cycle.
 *
 *   beskid_soak [seconds] [mutators]      (default 60 s, 3 mutators; 0 s = until killed)
 *
 * Run with BESKID_GCDEBUG=checkmark,verify (the CTest entry and tools/soak.sh do): checkmark
 * re-marks every cycle stopped and fails on anything the concurrent mark missed; verify checks
 * the whole heap at every phase boundary. Either finding is fatal inside the runtime (exit 101).
 *
 * Each mutator slot runs a succession of threads: a thread attaches, mutates its graph (32
 * root-frame slots, nodes of 128 bytes and sometimes 40 KiB, pointer stores through the
 * barrier, loads, drops, garbage), blocks in native code now and then, trades freshly built
 * chains with the other threads through registered global slots, and after a random number of steps
 * hands its graph to its successor through the exchange, detaches and exits. A collector thread
 * calls gc_collect() continuously. Every node is self-describing: its id, the ids its four
 * fields must point at, and a payload derived from its id; whenever a thread sees that a cycle
 * has completed it walks everything it can reach and checks all of it.
 *
 * Invariant: a node is owned by one thread at a time (the one whose roots reach it, or the
 * exchange), so only its owner writes it; the exchange is locked only while the thread is in
 * the native state. Exit 0 and a `soak:` summary line on success; any check failing prints
 * `soak: FAILED …` and exits 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beskid/runtime_abi.h"

enum { ROOTS = 32, FIELDS = 4, EXCHANGE = 8, SMALL = 128, LARGE = 40960, MUTATORS_MAX = 4 };

typedef struct node {
  const beskid_type_t *type;
  uint64_t gc_word;
  struct node *field[FIELDS]; /* @16 */
  uint64_t id;                /* @48 */
  uint64_t expect[FIELDS];    /* ids the fields hold (0: NULL) */
  uint64_t seen;              /* the owner's last check that visited this node */
  uint8_t payload[];
} node;

static const uint64_t node_map[FIELDS] = {16, 24, 32, 40};
static const beskid_type_t small_type = {SMALL, 8, node_map, FIELDS, BESKID_TYPE_AGGREGATE, 0};
static const beskid_type_t large_type = {LARGE, 8, node_map, FIELDS, BESKID_TYPE_AGGREGATE, 0};

static _Atomic uint64_t next_id = 1;
static _Atomic bool stopping;
static _Atomic uint64_t checks, nodes_checked, generations, exited_attached, natives, trades,
    allocated;
static void *exchange[EXCHANGE]; /* registered globals; guarded by exchange_lock */
static pthread_mutex_t exchange_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, uint64_t id) {
  fprintf(stderr, "soak: FAILED: %s (node %llu)\n", what, (unsigned long long)id);
  fflush(stderr);
  _exit(1);
}

static uint8_t payload_byte(uint64_t id, size_t i) {
  return (uint8_t)((id * 0x9E3779B97F4A7C15ull) >> ((i % 8) * 8)) ^ (uint8_t)i;
}

static size_t payload_len(const node *n) {
  return (n->type == &large_type ? LARGE : SMALL) - offsetof(node, payload);
}

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* A new node, fields NULL; a safepoint: root it before the next runtime call. */
static node *make(bool large) {
  node *n = alloc(large ? LARGE : SMALL, large ? &large_type : &small_type);
  n->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
  size_t len = payload_len(n);
  for (size_t i = 0; i < len; i++) n->payload[i] = payload_byte(n->id, i);
  atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
  return n;
}

static void link_field(node *parent, int k, node *child) {
  beskid_gc_store(beskid_rt_thread(), (void **)&parent->field[k], child);
  parent->expect[k] = child == NULL ? 0 : child->id;
}

/* Checks everything reachable from `roots` (owned by the calling thread). */
typedef struct walker {
  node **stack;
  size_t cap;
  uint64_t epoch;
} walker;

static void check_reachable(walker *w, void **roots, size_t count) {
  w->epoch++;
  size_t top = 0;
  uint64_t visited = 0;
  for (size_t r = 0; r < count; r++) {
    if (roots[r] == NULL) continue;
    if (top == w->cap) w->stack = realloc(w->stack, (w->cap = w->cap * 2 + 64) * sizeof(node *));
    w->stack[top++] = roots[r];
  }
  while (top > 0) {
    node *n = w->stack[--top];
    if (n->type != &small_type && n->type != &large_type) fail("descriptor overwritten", n->id);
    if (n->seen == w->epoch) continue;
    n->seen = w->epoch;
    visited++;
    size_t len = payload_len(n);
    for (size_t i = 0; i < len; i++) {
      if (n->payload[i] != payload_byte(n->id, i)) fail("payload changed", n->id);
    }
    for (int k = 0; k < FIELDS; k++) {
      node *c = n->field[k];
      if (c == NULL ? n->expect[k] != 0 : c->id != n->expect[k]) fail("field changed", n->id);
      if (c != NULL) {
        if (top == w->cap) {
          w->stack = realloc(w->stack, (w->cap = w->cap * 2 + 64) * sizeof(node *));
        }
        w->stack[top++] = c;
      }
    }
  }
  atomic_fetch_add_explicit(&checks, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&nodes_checked, visited, memory_order_relaxed);
}

static uint64_t cycles_now(void) {
  beskid_gc_stats_t s;
  beskid_gc_read_stats(&s);
  return s.cycles;
}

/* Takes the exchange lock the way a blocking host call would: in the native state. */
static void exchange_enter(void) {
  beskid_rt_enter_native();
  pthread_mutex_lock(&exchange_lock);
  beskid_rt_leave_native();
}

typedef struct mutator {
  uint64_t rng;
  int index;
} mutator;

static void *mutator_main(void *arg) {
  mutator *m = arg;
  beskid_rt_thread_attach();
  void *roots[ROOTS] = {0};
  beskid_root_frame_t frame = {NULL, roots, ROOTS};
  beskid_gc_push_frame(beskid_rt_thread(), &frame);
  walker w = {NULL, 0, 0};
  uint64_t *rng = &m->rng;
  /* Take over what the predecessor left in this slot's exchange entry. */
  exchange_enter();
  roots[0] = exchange[m->index];
  exchange[m->index] = NULL;
  pthread_mutex_unlock(&exchange_lock);
  uint64_t seen_cycles = cycles_now();
  uint64_t steps = 500 + rng_next(rng) % 5000;
  for (uint64_t step = 0; step < steps && !atomic_load(&stopping); step++) {
    uint64_t r = rng_next(rng);
    int a = (int)(r % ROOTS), b = (int)((r >> 8) % ROOTS), k = (int)((r >> 16) % FIELDS);
    switch ((r >> 24) % 16) {
    case 0:
    case 1:
    case 2:
    case 3:
      roots[a] = make((r >> 32) % 400 == 0);
      break;
    case 4:
    case 5:
    case 6:
      if (roots[a] != NULL) link_field(roots[a], k, roots[b]);
      break;
    case 7:
    case 8:
      if (roots[a] != NULL) roots[b] = ((node *)roots[a])->field[k];
      break;
    case 9:
      roots[a] = NULL;
      break;
    case 10:
    case 11:
      alloc(16 + (int64_t)((r >> 32) % 64) * 16, NULL); /* garbage */
      break;
    case 12:
      if ((r >> 32) % 64 == 0) { /* a blocking call: sleep in the native state */
        beskid_rt_enter_native();
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        beskid_rt_leave_native();
        atomic_fetch_add_explicit(&natives, 1, memory_order_relaxed);
      }
      break;
    case 13:
      if ((r >> 32) % 32 == 0) {
        /* Trade: give away a chain built just now (so no other root of ours reaches it and it
         * changes owner whole), take what another thread left. */
        roots[a] = make(false);
        for (uint64_t i = 0; i < (r >> 48) % 4; i++) {
          node *n = make(false);
          link_field(n, 0, roots[a]);
          roots[a] = n;
        }
        /* entries 0..3 carry a slot's graph to its next thread; 4..7 are for trading */
        int e = EXCHANGE / 2 + (int)((r >> 40) % (EXCHANGE / 2));
        exchange_enter();
        void *taken = exchange[e];
        beskid_gc_store(beskid_rt_thread(), &exchange[e], roots[a]);
        roots[a] = taken;
        pthread_mutex_unlock(&exchange_lock);
        atomic_fetch_add_explicit(&trades, 1, memory_order_relaxed);
      }
      break;
    default:
      beskid_gc_poll(beskid_rt_thread());
      break;
    }
    uint64_t c = cycles_now();
    if (c != seen_cycles) { /* a cycle completed: check everything this thread owns */
      check_reachable(&w, roots, ROOTS);
      seen_cycles = c;
    }
  }
  check_reachable(&w, roots, ROOTS);
  /* Hand the graph to the successor: a node whose fields hold up to four roots. */
  node *handoff = make(false);
  for (int k = 0; k < FIELDS; k++) link_field(handoff, k, roots[k]);
  roots[FIELDS] = handoff; /* rooted across the safepoint in exchange_enter() */
  exchange_enter();
  beskid_gc_store(beskid_rt_thread(), &exchange[m->index], roots[FIELDS]);
  pthread_mutex_unlock(&exchange_lock);
  beskid_gc_pop_frame(beskid_rt_thread(), &frame);
  free(w.stack);
  atomic_fetch_add_explicit(&generations, 1, memory_order_relaxed);
  if (rng_next(rng) % 2 == 0) {
    /* Half the threads just exit attached: the runtime detaches them as they end. */
    atomic_fetch_add_explicit(&exited_attached, 1, memory_order_relaxed);
    return NULL;
  }
  beskid_rt_thread_detach();
  return NULL;
}

static void *slot_main(void *arg) {
  mutator *m = arg;
  while (!atomic_load(&stopping)) {
    pthread_t th;
    if (pthread_create(&th, NULL, mutator_main, m) != 0) fail("pthread_create", 0);
    pthread_join(th, NULL);
  }
  return NULL;
}

static void *collector_main(void *arg) {
  (void)arg;
  beskid_rt_thread_attach();
  while (!atomic_load(&stopping)) {
    gc_collect();
    beskid_rt_enter_native();
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    beskid_rt_leave_native();
  }
  beskid_rt_thread_detach();
  return NULL;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 60;
  int mutators = argc > 2 ? atoi(argv[2]) : 3;
  if (mutators < 1 || mutators > MUTATORS_MAX) {
    fprintf(stderr, "soak: 1 to %d mutators\n", MUTATORS_MAX);
    return 2;
  }
  beskid_rt_config_t config;
  beskid_rt_config_default(&config);
  char error[256];
  if (!beskid_rt_config_from_env(&config, error, sizeof error)) {
    fprintf(stderr, "soak: %s\n", error);
    return 2;
  }
  if (beskid_rt_init(&config) != 0) return 2;
  beskid_rt_register_globals(exchange, EXCHANGE);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint64_t cycles0 = cycles_now();

  beskid_rt_enter_native(); /* the main thread only waits from here on */
  pthread_t collector, slots[MUTATORS_MAX];
  mutator ms[MUTATORS_MAX];
  pthread_create(&collector, NULL, collector_main, NULL);
  for (int i = 0; i < mutators; i++) {
    ms[i] = (mutator){(UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)(i + 1)) ^ (uint64_t)t0.tv_nsec, i};
    pthread_create(&slots[i], NULL, slot_main, &ms[i]);
  }
  double elapsed = 0;
  for (;;) {
    struct timespec ts = {0, 100000000}, t1;
    nanosleep(&ts, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (seconds > 0 && elapsed >= seconds) break;
  }
  atomic_store(&stopping, true);
  for (int i = 0; i < mutators; i++) pthread_join(slots[i], NULL);
  pthread_join(collector, NULL);
  beskid_rt_leave_native();

  /* What the last generation handed over must still be whole. */
  walker w = {NULL, 0, 1u << 30};
  gc_collect();
  check_reachable(&w, exchange, EXCHANGE);
  free(w.stack);
  if (gc_heap_verify() != 1) fail("heap verifier", 0);
  uint64_t cycles = cycles_now() - cycles0;
  printf("soak: %.0f s, %d mutator slots, %llu collection cycles, %llu threads attached and "
         "ended (%llu exiting attached), %llu nodes allocated, %llu graph checks covering %llu "
         "nodes, %llu native blocks, %llu trades, no problem\n",
         elapsed, mutators, (unsigned long long)cycles, (unsigned long long)generations,
         (unsigned long long)exited_attached, (unsigned long long)allocated,
         (unsigned long long)checks, (unsigned long long)nodes_checked, (unsigned long long)natives,
         (unsigned long long)trades);
  beskid_rt_shutdown();
  return 0;
}
