/* parallel_pipeline.c — a producer, N workers and a consumer connected by channels, as lowered
 * code: root frames for every managed local, the barrier before every pointer store into the
 * heap, polls at loop back-edges, and only ABI and standard-library host calls.
 *
 * Usage: beskid_example_parallel_pipeline [items] [workers]   (defaults 10000 and 4)
 *
 *   class Job { n: int }
 *   class Result { n: int, square: int, text: string }
 *   class Pipeline { jobs: Channel<Job>, results: Channel<Result>, items: int }
 *   class Count { n: int }
 *
 *   fn producer(p: Pipeline) -> Count? {
 *     for i in 1..=p.items { p.jobs.send(Job { n: i }) }
 *     p.jobs.close(); return null
 *   }
 *   fn worker(p: Pipeline) -> Count {
 *     let done = 0
 *     while let Some(job) = p.jobs.receive() {
 *       p.results.send(Result { n: job.n, square: job.n * job.n, text: job.n.to_string() })
 *       done += 1
 *     }
 *     return Count { n: done }
 *   }
 *   main: spawn the producer and the workers, receive `items` results (the consumer), check that
 *   every item arrived exactly once with the right square and text, join everyone, print.
 *
 * The channels block in the collector's native state, so collections go on while threads wait;
 * the thread objects keep each worker's Count alive until main joins it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/platform.h"
#include "beskid/runtime_abi.h"
#include "beskid/stdhost.h"

typedef struct job {
  beskid_header_t header;
  int64_t n; /* @8 */
} job;

typedef struct result {
  beskid_header_t header;
  int64_t n;         /* @8 */
  int64_t square;    /* @16 */
  beskid_str_t text; /* ptr @24, len @32 */
} result;

typedef struct pipeline {
  beskid_header_t header;
  void *jobs;    /* @8 */
  void *results; /* @16 */
  int64_t items; /* @24 */
} pipeline;

typedef struct count {
  beskid_header_t header;
  int64_t n; /* @8 */
} count;

static const beskid_type_t job_type = {sizeof(job), 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
static const uint64_t result_map[] = {24};
static const beskid_type_t result_type = {sizeof(result),        8, result_map, 1,
                                          BESKID_TYPE_AGGREGATE, 0};
static const uint64_t pipeline_map[] = {8, 16};
static const beskid_type_t pipeline_type = {sizeof(pipeline),      8, pipeline_map, 2,
                                            BESKID_TYPE_AGGREGATE, 0};
static const beskid_type_t count_type = {sizeof(count), 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};

/* A pointer store as compiled code emits it: barrier check, then the store. */
static inline void store_ptr(beskid_gc_thread_t *t, void **slot, void *value) {
  beskid_gc_store(t, slot, value);
}

static void *producer(void *arg) {
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[1] = {arg}; /* p */
  beskid_root_frame_t frame = {t->top_frame, slots, 1};
  t->top_frame = &frame;
  int64_t items = ((pipeline *)slots[0])->items;
  for (int64_t i = 1; i <= items; i++) {
    job *j = alloc(sizeof(job), &job_type);
    j->n = i;
    beskid_std_channel_send(((pipeline *)slots[0])->jobs, j);
    beskid_gc_poll(t);
  }
  beskid_std_channel_close(((pipeline *)slots[0])->jobs);
  t->top_frame = frame.previous;
  return NULL;
}

static void *worker(void *arg) {
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[3] = {arg, NULL, NULL}; /* p, job, result */
  beskid_root_frame_t frame = {t->top_frame, slots, 3};
  t->top_frame = &frame;
  int64_t done = 0;
  while (beskid_std_channel_receive(((pipeline *)slots[0])->jobs, &slots[1]) ==
         BESKID_STD_CHANNEL_OK) {
    int64_t n = ((job *)slots[1])->n;
    slots[2] = alloc(sizeof(result), &result_type);
    result *r = slots[2];
    r->n = n;
    r->square = n * n;
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%" PRId64, n);
    beskid_str_t text;
    str_new(&text, (const uint8_t *)digits, len);
    r = slots[2]; /* reloaded after the safepoint, as compiled code does */
    store_ptr(t, (void **)&r->text.ptr, (void *)text.ptr);
    r->text.len = text.len;
    beskid_std_channel_send(((pipeline *)slots[0])->results, slots[2]);
    done++;
    beskid_gc_poll(t);
  }
  count *c = alloc(sizeof(count), &count_type);
  c->n = done;
  t->top_frame = frame.previous;
  return c;
}

int64_t beskid_program_main(void) {
  int64_t items = 10000, workers = 4;
  if (beskid_os_args_count() > 1) items = atoll(beskid_os_args_get(1, NULL));
  if (beskid_os_args_count() > 2) workers = atoll(beskid_os_args_get(2, NULL));
  if (items < 1 || workers < 1 || workers > 64) {
    fprintf(stderr, "usage: parallel_pipeline [items >= 1] [workers 1..64]\n");
    return 2;
  }
  beskid_gc_thread_t *t = beskid_rt_thread();
  /* p, producer thread, a result, then one slot per worker thread */
  void *slots[3 + 64] = {0};
  beskid_root_frame_t frame = {t->top_frame, slots, (uint64_t)(3 + workers)};
  t->top_frame = &frame;

  slots[0] = alloc(sizeof(pipeline), &pipeline_type);
  slots[2] = beskid_std_channel_new(16);
  store_ptr(t, &((pipeline *)slots[0])->jobs, slots[2]);
  slots[2] = beskid_std_channel_new(16);
  store_ptr(t, &((pipeline *)slots[0])->results, slots[2]);
  ((pipeline *)slots[0])->items = items;

  slots[1] = beskid_std_thread_spawn(producer, slots[0]);
  for (int64_t w = 0; w < workers; w++) slots[3 + w] = beskid_std_thread_spawn(worker, slots[0]);
  for (int64_t w = -1; w < workers; w++) {
    if ((w < 0 ? slots[1] : slots[3 + w]) == NULL) {
      fprintf(stderr, "parallel_pipeline: the OS refused a thread\n");
      return 1;
    }
  }

  /* The consumer: every item exactly once, with the right square and text. */
  uint8_t *seen = calloc((size_t)items + 1, 1);
  if (seen == NULL) {
    fprintf(stderr, "parallel_pipeline: out of memory\n");
    return 1;
  }
  int64_t received = 0, bad = 0, digits = 0, sum_squares = 0;
  for (int64_t i = 0; i < items; i++) {
    if (beskid_std_channel_receive(((pipeline *)slots[0])->results, &slots[2]) !=
        BESKID_STD_CHANNEL_OK) {
      break;
    }
    result *r = slots[2];
    char expect[24];
    int len = snprintf(expect, sizeof expect, "%" PRId64, r->n);
    if (r->n < 1 || r->n > items || seen[r->n] || r->square != r->n * r->n || r->text.len != len ||
        memcmp(r->text.ptr, expect, (size_t)len) != 0) {
      bad++;
    } else {
      seen[r->n] = 1;
    }
    received++;
    sum_squares += r->square;
    digits += str_len(&r->text);
    beskid_gc_poll(t);
  }
  free(seen);

  beskid_std_thread_join(slots[1]);
  int64_t processed = 0;
  for (int64_t w = 0; w < workers; w++) {
    processed += ((count *)beskid_std_thread_join(slots[3 + w]))->n;
  }
  /* Nothing left over: every worker has ended, and exactly `items` results were sent. */
  int64_t left_over = beskid_std_channel_len(((pipeline *)slots[0])->results);
  beskid_std_channel_close(((pipeline *)slots[0])->results);
  t->top_frame = frame.previous;

  bool ok = received == items && processed == items && bad == 0 && left_over == 0;
  printf("pipeline: %" PRId64 " items through %" PRId64 " workers, %" PRId64 " received, %" PRId64
         " processed, sum of squares %" PRId64 ", %" PRId64 " digits, %" PRId64
         " wrong, heap sound %d: %s\n",
         items, workers, received, processed, sum_squares, digits, bad, gc_heap_verify(),
         ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
