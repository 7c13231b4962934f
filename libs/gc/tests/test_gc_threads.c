/* test_gc_threads.c — threads: the native state (and waiting for the heap lock in it), detaching,
 * exits, shutdown refusal and a two-thread soak (the gc suite; fixture in gc_fixture.h). */
#include "gc_fixture.h"
#include "internal.h"

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
  spawn_until_ready(&th, native_sleeper, &phase, "native");
  for (int i = 0; i < 5; i++) beskid_gc_collect(T); /* would hang if the pause waited */
  atomic_store(&phase, 2);
  beskid_os_thread_join(&th, NULL);
  stop();
}
END_TEST

/* Comes back from the native state (a 200 us "system call") over and over until told to stop,
 * counting the round trips. */
typedef struct {
  atomic_int phase;
  atomic_uint_fast64_t returns;
} returner_args;

static void *native_returner(void *arg) {
  returner_args *a = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  atomic_store(&a->phase, 1);
  while (atomic_load(&a->phase) != 2) {
    beskid_gc_enter_native(t);
    beskid_os_sleep_ns(200000);
    beskid_gc_leave_native(t);
    atomic_fetch_add(&a->returns, 1);
    beskid_gc_safepoint(t);
  }
  beskid_gc_detach();
  return NULL;
}

/* A thread coming back from the native state gets to run between stops that follow each other
 * back to back (a loop of stop-the-world collections): at the restart it resumes running, and
 * the stopper lets it before stopping again. Before, it woke after the next stop was requested,
 * counted as stopped for that one too, and for every one after: stdhost's strings test, whose
 * splitter populated a span in the native state beside such a loop, took 100 s instead of 7 (here:
 * one round trip in 40 collections, against one a collection now). */
START_TEST(test_native_return_not_starved_by_back_to_back_stops) {
  /* Pauses longer than a stopped thread spins (GC_PARK_SPIN_NS): it sleeps for the restart. */
  beskid_root_frame_t frame;
  void *slots[1];
  rooted_start(BESKID_GC_DEBUG_STW, &frame, slots, 1);
  for (int i = 0; i < 200000; i++) {
    node *n = new_node(i);
    set_left(n, slots[0]);
    slots[0] = n;
  }
  beskid_os_thread_t th;
  static returner_args a;
  atomic_store(&a.returns, 0);
  ck_assert_int_eq(beskid_os_thread_create(&th, native_returner, &a, "returner"), BESKID_OK);
  while (atomic_load(&a.phase) != 1) beskid_os_sleep_ns(100000);
  uint64_t cycles = 0;
  for (; cycles < 40; cycles++) beskid_gc_collect(T);
  atomic_store(&a.phase, 2);
  beskid_os_thread_join(&th, NULL);
  uint64_t returns = atomic_load(&a.returns);
  /* One round trip a cycle or so; starved, one in all. */
  ck_assert_msg(returns >= cycles / 2, "%llu returns from the native state in %llu collections",
                (unsigned long long)returns, (unsigned long long)cycles);
  rooted_stop(&frame);
}
END_TEST

/* Whether a stop's waits spin before sleeping counts the threads running managed code, not the
 * attached ones: threads blocked in the kernel (in the native state) neither wait nor are waited
 * for, so beside them a stop still spins, as it does for one mutator alone; threads running
 * managed code on every CPU make both sides sleep at once (thread.c, "Spinning before
 * sleeping"). */
static void *managed_spinner(void *arg) {
  atomic_int *phase = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  atomic_store(phase, 1);
  while (atomic_load(phase) != 2) beskid_gc_safepoint(t);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_stop_spins_by_threads_in_managed_code) {
  start(0);
  enum { MAX_HELPERS = 64 };
  uint32_t cpus = gc.pacer.cpus < MAX_HELPERS ? gc.pacer.cpus : MAX_HELPERS;
  beskid_os_thread_t sleepers[MAX_HELPERS], spinners[MAX_HELPERS];
  atomic_int sleeping[MAX_HELPERS], spinning[MAX_HELPERS];
  for (uint32_t i = 0; i < cpus; i++) {
    atomic_init(&sleeping[i], 0);
    spawn_until_ready(&sleepers[i], native_sleeper, &sleeping[i], "native");
  }
  /* More attached threads than CPUs, none of them but the caller in managed code (and the caller
   * waits in the native state while the cycle runs). */
  ck_assert_uint_gt(beskid_gc_thread_count(), cpus);
  beskid_gc_collect(T);
  ck_assert_msg(atomic_load(&gc.stop_spins), "%u threads in the native state made the stops sleep",
                cpus);
  for (uint32_t i = 0; i < cpus; i++) {
    atomic_init(&spinning[i], 0);
    spawn_until_ready(&spinners[i], managed_spinner, &spinning[i], "managed");
  }
  beskid_gc_collect(T);
  ck_assert_msg(!atomic_load(&gc.stop_spins),
                "%u threads in managed code on %u CPUs, and the stops "
                "spun",
                cpus, gc.pacer.cpus);
  for (uint32_t i = 0; i < cpus; i++) {
    atomic_store(&sleeping[i], 2);
    atomic_store(&spinning[i], 2);
  }
  for (uint32_t i = 0; i < cpus; i++) {
    beskid_os_thread_join(&sleepers[i], NULL);
    beskid_os_thread_join(&spinners[i], NULL);
  }
  stop();
}
END_TEST

/* A thread that needs the heap lock while another holds it (the collector giving memory back,
 * the grower, a thread growing the heap; here the test) waits for it in the native state, so a
 * stop of the world does not wait for the holder too. */
static const beskid_elem_type_t lock_test_bytes = {1, 1, NULL, 0};
static _Atomic(beskid_gc_thread_t *) lock_waiter;
static void *allocate_new_pages(void *arg) {
  atomic_int *phase = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  atomic_store(&lock_waiter, t);
  atomic_store(phase, 1);
  /* A size nothing else allocates: its class has no span yet, so this needs pages of the heap. */
  ck_assert_ptr_nonnull(beskid_gc_alloc_array(t, &lock_test_bytes, 3000));
  atomic_store(phase, 2);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_heap_lock_waiter_does_not_block_stop) {
  start(BESKID_GC_DEBUG_MANUAL);
  beskid_gc_enter_native(T); /* the test's thread stops the world below */
  beskid_os_mutex_lock(&gc.heap_lock);
  atomic_int phase = 0;
  beskid_os_thread_t th;
  spawn_until_ready(&th, allocate_new_pages, &phase, "waiter");
  beskid_gc_thread_t *waiter = atomic_load(&lock_waiter);
  for (int i = 0; i < 10000 && !beskid_gc_in_native(waiter); i++) beskid_os_sleep_ns(1000000);
  ck_assert_msg(beskid_gc_in_native(waiter), "the waiting thread is not in the native state");
  beskid_gc__stop_world(NULL); /* would wait forever for a thread blocked while running */
  beskid_gc__start_world();
  ck_assert_int_eq(atomic_load(&phase), 1); /* still waiting for the lock */
  beskid_os_mutex_unlock(&gc.heap_lock);
  beskid_os_thread_join(&th, NULL);
  ck_assert_int_eq(atomic_load(&phase), 2);
  beskid_gc_leave_native(T);
  stop();
}
END_TEST

/* Allocating threads past the trigger ask the collector for a cycle; only the one that raises
 * the request takes the collector's wake-up lock, so the others do not queue behind a holder
 * that lost its CPU (two_mutator waited 0.8-4.2 ms for it). Here the test holds that lock:
 * the first thread past the trigger blocks on it, raising the request, and a second one keeps
 * allocating a few hundred spans' worth. Before, both blocked. */
static atomic_int trigger_phase[2];
static void *allocate_past_trigger(void *arg) {
  atomic_int *phase = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  atomic_store(phase, 1);
  for (int i = 0; i < 100000; i++) ck_assert_ptr_nonnull(beskid_gc_alloc(t, &leaf_type));
  atomic_store(phase, 2);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_cycle_request_does_not_queue_allocators) {
  start(0);
  beskid_gc_enter_native(T);
  beskid_os_mutex_lock(&gc.wake_lock); /* the collector waits for a request, without the lock */
  atomic_store(&gc.pacer.trigger, 0);  /* every span taken is past the trigger */
  beskid_os_thread_t raiser, other;
  atomic_store(&trigger_phase[0], 0);
  atomic_store(&trigger_phase[1], 0);
  spawn_until_ready(&raiser, allocate_past_trigger, &trigger_phase[0], "raiser");
  beskid_os_sleep_ns(50000000); /* its first span: past the trigger, it waits for the lock */
  spawn_until_ready(&other, allocate_past_trigger, &trigger_phase[1], "other");
  for (int i = 0; i < 5000 && atomic_load(&trigger_phase[1]) != 2; i++) beskid_os_sleep_ns(1000000);
  int other_done = atomic_load(&trigger_phase[1]);
  int raiser_done = atomic_load(&trigger_phase[0]);
  beskid_os_mutex_unlock(&gc.wake_lock);
  beskid_os_thread_join(&raiser, NULL);
  beskid_os_thread_join(&other, NULL);
  ck_assert_msg(raiser_done == 1, "the thread raising the request did not wait for the lock");
  ck_assert_msg(other_done == 2, "a thread allocating past the trigger waited for the lock held");
  beskid_gc_leave_native(T);
  beskid_gc_set_gogc(beskid_gc_set_gogc(BESKID_GC_GOGC_DEFAULT)); /* a trigger from the heap */
  stop();
}
END_TEST

/* In the native state the thread's roots and caches belong to the pauses: the fast path does not
 * serve it, the running-thread lookup says so, and it comes back in full on leaving. */
START_TEST(test_native_state_is_visible) {
  start(BESKID_GC_DEBUG_MANUAL);
  ck_assert_int_eq(beskid_gc_type_check(T, &leaf_type), BESKID_OBJ_VALID);
  new_leaf(1); /* caches a span of the class */
  ck_assert_ptr_nonnull(beskid_gc_alloc_fast(&leaf_type, leaf_type.size));
  ck_assert_ptr_eq(beskid_gc_current_running(), T);
  ck_assert(!beskid_gc_in_native(T));
  beskid_gc_enter_native(T);
  ck_assert(beskid_gc_in_native(T));
  ck_assert_ptr_eq(beskid_gc_current(), T);
  ck_assert_ptr_null(beskid_gc_current_running());
  ck_assert_ptr_null(beskid_gc_alloc_fast(&leaf_type, leaf_type.size));
  beskid_gc_leave_native(T);
  ck_assert(!beskid_gc_in_native(T));
  ck_assert_ptr_eq(beskid_gc_current_running(), T);
  ck_assert_ptr_nonnull(beskid_gc_alloc_fast(&leaf_type, leaf_type.size));
  stop();
}
END_TEST

/* The collector's fatal hook: the message must name the misuse the test expects; exits 42 when
 * it does. */
static const char *expected_fatal;
static void fatal_expected(const char *line, void *context) {
  (void)context;
  fprintf(stderr, "%s\n", line);
  _Exit(strstr(line, expected_fatal) != NULL ? 42 : 43);
}

static void start_expecting_fatal(const char *message) {
  expected_fatal = message;
  beskid_gc_config_t config;
  test_config(&config, BESKID_GC_DEBUG_MANUAL);
  config.fatal = fatal_expected;
  start_config(&config);
}

START_TEST(test_native_state_alloc_is_fatal) {
  start_expecting_fatal("in the native state");
  beskid_gc_enter_native(T);
  beskid_gc_alloc(T, &leaf_type);
}
END_TEST

START_TEST(test_native_state_collect_is_fatal) {
  start_expecting_fatal("in the native state");
  beskid_gc_enter_native(T);
  beskid_gc_collect(T);
}
END_TEST

START_TEST(test_native_state_safepoint_is_fatal) {
  start_expecting_fatal("in the native state");
  beskid_gc_enter_native(T);
  beskid_gc_safepoint(T);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Bulk copies and fills (ttsp.c) */

static const beskid_elem_type_t bulk_bytes = {1, 1, NULL, 0};
#define BULK_BYTES ((uint64_t)32 << 20)

/* A copier thread: copies `src` into `dst` (both rooted) and fills `dst` again, `rounds` times,
 * and checks every round's bytes. */
typedef struct bulk_job {
  atomic_int phase; /* 1 once the buffers exist, 2 when done */
  _Atomic(beskid_gc_thread_t *) thread;
  atomic_int bad_rounds;
  int rounds;
} bulk_job;

static void *bulk_copier(void *arg) {
  bulk_job *job = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  void *slots[2] = {0};
  beskid_root_frame_t frame = {NULL, slots, 2};
  beskid_gc_push_frame(t, &frame);
  slots[0] = beskid_gc_alloc_array(t, &bulk_bytes, BULK_BYTES);
  slots[1] = beskid_gc_alloc_array(t, &bulk_bytes, BULK_BYTES);
  ck_assert(slots[0] != NULL && slots[1] != NULL);
  uint8_t *src = beskid_obj_array_data(slots[0]), *dst = beskid_obj_array_data(slots[1]);
  for (uint64_t i = 0; i < BULK_BYTES; i++) src[i] = (uint8_t)(i * 131 >> 7);
  atomic_store(&job->thread, t);
  atomic_store(&job->phase, 1);
  for (int r = 0; r < job->rounds; r++) {
    beskid_gc_fill_bytes(t, dst, (uint8_t)r, BULK_BYTES);
    if (dst[0] != (uint8_t)r || dst[BULK_BYTES / 2] != (uint8_t)r)
      atomic_fetch_add(&job->bad_rounds, 1);
    beskid_gc_copy_bytes(t, dst, src, BULK_BYTES);
    if (memcmp(dst, src, BULK_BYTES) != 0) atomic_fetch_add(&job->bad_rounds, 1);
  }
  /* Overlapping ranges move as memmove moves them. */
  beskid_gc_copy_bytes(t, dst + 1, dst, BULK_BYTES - 1);
  if (memcmp(dst + 1, src, BULK_BYTES - 1) != 0) atomic_fetch_add(&job->bad_rounds, 1);
  beskid_gc_pop_frame(t, &frame);
  atomic_store(&job->phase, 2);
  beskid_gc_detach();
  return NULL;
}

/* A bulk copy runs in the native state: collections complete while a thread copies tens of
 * megabytes, and the buffers it keeps rooted come through them with the right bytes. */
START_TEST(test_bulk_copy_lets_collections_run) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER);
  bulk_job job = {.rounds = 40};
  beskid_os_thread_t th;
  spawn_until_ready(&th, bulk_copier, &job.phase, "copier");
  beskid_gc_thread_t *copier = atomic_load(&job.thread);
  int seen_native = 0, collections = 0;
  while (atomic_load(&job.phase) != 2) {
    if (beskid_gc_in_native(copier)) seen_native++;
    beskid_gc_collect(T);
    collections++;
  }
  beskid_os_thread_join(&th, NULL);
  ck_assert_int_eq(atomic_load(&job.bad_rounds), 0);
  ck_assert_msg(seen_native > 0, "the copier was never seen in the native state (%d collections)",
                collections);
  stop();
}
END_TEST

/* Small copies and fills work in place, NULL-free for n == 0, on memory outside the heap too. */
START_TEST(test_bulk_small_and_unmanaged) {
  start(BESKID_GC_DEBUG_MANUAL);
  uint8_t a[64], b[64];
  for (int i = 0; i < 64; i++) a[i] = (uint8_t)i;
  beskid_gc_copy_bytes(T, b, a, sizeof a);
  ck_assert_mem_eq(a, b, sizeof a);
  beskid_gc_fill_bytes(T, b, 7, 10);
  ck_assert_uint_eq(b[9], 7);
  ck_assert_uint_eq(b[10], 10);
  beskid_gc_copy_bytes(T, NULL, NULL, 0);
  beskid_gc_fill_bytes(T, NULL, 0, 0);
  size_t big = (size_t)BESKID_GC_BULK_MIN * 4;
  uint8_t *x = malloc(big), *y = malloc(big);
  ck_assert(x != NULL && y != NULL);
  memset(x, 0x5a, big);
  beskid_gc_copy_bytes(T, y, x, big);
  ck_assert_mem_eq(x, y, big);
  beskid_gc_fill_bytes(T, y, 0x11, big);
  ck_assert_uint_eq(y[big - 1], 0x11);
  free(x);
  free(y);
  stop();
}
END_TEST

/* The misuses a bulk write in the native state cannot survive are reported. */
START_TEST(test_bulk_copy_into_pointers_is_fatal) {
  start_expecting_fatal("an object with managed pointers");
  static const uint64_t ref_offsets[1] = {0};
  static const beskid_elem_type_t refs = {8, 8, ref_offsets, 1};
  beskid_array_buffer_t *a = beskid_gc_alloc_array(T, &refs, BESKID_GC_BULK_MIN);
  ck_assert_ptr_nonnull(a);
  uint8_t *src = calloc(1, BESKID_GC_BULK_MIN);
  beskid_gc_copy_bytes(T, beskid_obj_array_data(a), src, BESKID_GC_BULK_MIN);
}
END_TEST

START_TEST(test_bulk_fill_past_object_is_fatal) {
  start_expecting_fatal("runs past the end");
  beskid_array_buffer_t *a = beskid_gc_alloc_array(T, &bulk_bytes, BESKID_GC_BULK_MIN);
  ck_assert_ptr_nonnull(a);
  beskid_gc_fill_bytes(T, beskid_obj_array_data(a), 1, (size_t)64 << 20);
}
END_TEST

/* A thread may detach in the native state: it leaves that state first (waiting out a pause). */
static void *detach_in_native(void *arg) {
  leaf **out = arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  *out = beskid_gc_alloc(t, &leaf_type);
  beskid_gc_enter_native(t);
  beskid_gc_detach();
  return NULL;
}

START_TEST(test_detach_in_native_state) {
  start(0);
  leaf *made = NULL;
  beskid_os_thread_t th;
  beskid_gc_enter_native(T);
  ck_assert_int_eq(beskid_os_thread_create(&th, detach_in_native, &made, "native"), BESKID_OK);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(T);
  ck_assert_ptr_nonnull(made);
  beskid_gc_collect(T);
  ck_assert(!allocated(made)); /* unreachable once its thread is gone */
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.threads, 1);
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
  collect_expect_allocated(obj, false);
  stop();
}
END_TEST

/* Attaches, allocates a little and detaches. */
static void *come_and_go(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  ck_assert_ptr_nonnull(t);
  for (int i = 0; i < 64; i++) ck_assert_ptr_nonnull(beskid_gc_alloc(t, &leaf_type));
  beskid_gc_detach();
  return NULL;
}

/* Threads that come and go, each attaching while others leave, as a server's short-lived
 * threads do: a new thread may be given the allocator's memory for a thread that has just
 * left, and the runtime orders the one's teardown before the other's set-up (under
 * ThreadSanitizer, that hand-off was a reported race). No thread is joined before the next
 * starts, so nothing else orders them. */
START_TEST(test_threads_come_and_go) {
  start(0);
  enum { COMERS = 48 };
  beskid_os_thread_t th[COMERS];
  beskid_gc_enter_native(T);
  for (int i = 0; i < COMERS; i++) {
    ck_assert_int_eq(beskid_os_thread_create(&th[i], come_and_go, NULL, "comer"), BESKID_OK);
    beskid_os_sleep_ns(2000000); /* most have left when the next one comes */
  }
  for (int i = 0; i < COMERS; i++) beskid_os_thread_join(&th[i], NULL);
  beskid_gc_leave_native(T);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_eq(st.threads, 1);
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
  spawn_until_ready(&th, park_then_work, &state, "parked");
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

/* Two mutators build, publish and check trees for `seconds_ns` while the collector runs
 * concurrently, and every tree still checks afterwards. */
static void two_thread_soak(uint64_t seconds_ns) {
  beskid_gc_config_t config;
  test_config(&config, BESKID_GC_DEBUG_CLOBBER);
  start_config(&config);
  static void *shared[16];
  memset(shared, 0, sizeof shared);
  ck_assert_int_eq(beskid_gc_register_globals(shared, 16), BESKID_GC_OK);
  soak_arg args[2] = {{0, seconds_ns, shared, 0}, {1, seconds_ns, shared, 0}};
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

START_TEST(test_two_thread_soak) { two_thread_soak(1500000000u); }
END_TEST

/* More threads than CPUs: everything on one CPU, two mutators and the collector. The collector's
 * threads then give their CPU up while they mark and sweep, and a restart waits for the
 * restarted mutators (collector.c, thread.c); the heap must come out the same. */
START_TEST(test_crowded_soak) {
  cpu_set_t all, one;
  ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
  CPU_ZERO(&one);
  CPU_SET((size_t)sched_getcpu(), &one);
  ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0); /* inherited by every thread */
  two_thread_soak(1000000000u);
  ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
}
END_TEST

void gc_cases_threads(Suite *suite) {
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_native_thread_does_not_block_pause);
  tcase_add_test(tc, test_native_return_not_starved_by_back_to_back_stops);
  tcase_add_test(tc, test_native_state_is_visible);
  tcase_add_test(tc, test_stop_spins_by_threads_in_managed_code);
  tcase_add_test(tc, test_heap_lock_waiter_does_not_block_stop);
  tcase_add_test(tc, test_cycle_request_does_not_queue_allocators);
  tcase_add_exit_test(tc, test_native_state_alloc_is_fatal, 42);
  tcase_add_exit_test(tc, test_native_state_collect_is_fatal, 42);
  tcase_add_exit_test(tc, test_native_state_safepoint_is_fatal, 42);
  tcase_add_test(tc, test_bulk_copy_lets_collections_run);
  tcase_add_test(tc, test_bulk_small_and_unmanaged);
  tcase_add_exit_test(tc, test_bulk_copy_into_pointers_is_fatal, 42);
  tcase_add_exit_test(tc, test_bulk_fill_past_object_is_fatal, 42);
  tcase_add_test(tc, test_detach_in_native_state);
  tcase_add_test(tc, test_thread_exit_detaches);
  tcase_add_test(tc, test_threads_come_and_go);
  tcase_add_test(tc, test_two_thread_soak);
  tcase_add_test(tc, test_crowded_soak);
  tcase_add_test(tc, test_shutdown_refused_while_others_attached);
  suite_add_tcase(suite, tc);
}
