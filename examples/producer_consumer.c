/* producer_consumer.c — two threads sharing a structure through the runtime, as lowered code.
 *
 * A producer thread allocates messages and appends them to a shared queue object (a global
 * root); the main thread consumes them. Usage: beskid_example_producer_consumer [messages] The
 * queue is guarded by a platform mutex; a thread that waits on it does so in the native state, so a
 * collection never waits for a blocked thread.
 *
 *   class Message { next: Message?, text: string, seq: int }
 *   class Queue { head: Message?, tail: Message?, done: bool } */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/platform.h"
#include "beskid/runtime_abi.h"

typedef struct message {
  beskid_header_t header;
  struct message *next; /* @8 */
  beskid_str_t text;    /* ptr @16 */
  int64_t seq;          /* @32 */
} message;

typedef struct queue {
  beskid_header_t header;
  message *head; /* @8 */
  message *tail; /* @16 */
  int64_t done;  /* @24 */
} queue;

static const uint64_t message_map[] = {8, 16};
static const beskid_type_t message_type = {sizeof(message),       8, message_map, 2,
                                           BESKID_TYPE_AGGREGATE, 0};
static const uint64_t queue_map[] = {8, 16};
static const beskid_type_t queue_type = {sizeof(queue), 8, queue_map, 2, BESKID_TYPE_AGGREGATE, 0};

static int64_t messages = 20000; /* argv[1] overrides */

static void *globals[1]; /* globals[0]: the queue */
static beskid_os_mutex_t lock;
static beskid_os_cond_t ready;

/* A pointer store as compiled code emits it: barrier check, then the store. */
static inline void store_ptr(beskid_gc_thread_t *t, void **slot, void *value) {
  beskid_gc_store(t, slot, value);
}

/* Takes the lock without blocking a collection: waiting happens in the native state. */
static void lock_queue(beskid_gc_thread_t *t) {
  beskid_gc_enter_native(t);
  beskid_os_mutex_lock(&lock);
  beskid_gc_leave_native(t);
}

static void *producer(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_rt_thread_attach();
  void *slots[1] = {0};
  beskid_root_frame_t frame = {t->top_frame, slots, 1};
  t->top_frame = &frame;
  for (int64_t i = 0; i < messages; i++) {
    message *m = alloc(sizeof(message), &message_type);
    slots[0] = m;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "message %" PRId64, i);
    beskid_str_t text;
    str_new(&text, (const uint8_t *)buf, n);
    m = slots[0];
    store_ptr(t, (void **)&m->text.ptr, (void *)text.ptr);
    m->text.len = text.len;
    m->seq = i;
    lock_queue(t);
    queue *q = globals[0];
    if (q->tail != NULL)
      store_ptr(t, (void **)&q->tail->next, m);
    else
      store_ptr(t, (void **)&q->head, m);
    store_ptr(t, (void **)&q->tail, m);
    beskid_os_cond_signal(&ready);
    beskid_os_mutex_unlock(&lock);
  }
  lock_queue(t);
  ((queue *)globals[0])->done = 1;
  beskid_os_cond_signal(&ready);
  beskid_os_mutex_unlock(&lock);
  t->top_frame = frame.previous;
  beskid_rt_thread_detach();
  return NULL;
}

int64_t beskid_program_main(void) {
  beskid_gc_thread_t *t = beskid_rt_thread();
  if (beskid_os_args_count() > 1) messages = atoll(beskid_os_args_get(1, NULL));
  beskid_os_mutex_init(&lock);
  beskid_os_cond_init(&ready);
  beskid_rt_register_globals(globals, 1);
  store_ptr(t, &globals[0], alloc(sizeof(queue), &queue_type));

  beskid_os_thread_t th;
  if (beskid_os_thread_create(&th, producer, NULL, "producer") != BESKID_OK) return 1;

  int64_t received = 0, seq_sum = 0, bytes = 0, out_of_order = 0;
  for (;;) {
    lock_queue(t);
    queue *q = globals[0];
    message *m = q->head;
    if (m == NULL) {
      bool done = q->done != 0;
      if (!done) {
        /* Wait in the native state: collections proceed without this thread. */
        beskid_gc_enter_native(t);
        beskid_os_cond_wait(&ready, &lock);
      }
      beskid_os_mutex_unlock(&lock);
      if (done) break;
      beskid_gc_leave_native(t);
      continue;
    }
    store_ptr(t, (void **)&q->head, m->next);
    if (q->head == NULL) store_ptr(t, (void **)&q->tail, NULL);
    beskid_os_mutex_unlock(&lock);
    if (m->seq != received) out_of_order++;
    received++;
    seq_sum += m->seq;
    bytes += str_len(&m->text);
    beskid_gc_poll(t); /* loop back-edge */
  }
  beskid_gc_enter_native(t);
  beskid_os_thread_join(&th, NULL);
  beskid_gc_leave_native(t);
  printf("received %" PRId64 " messages, seq sum %" PRId64 ", %" PRId64 " text bytes, %" PRId64
         " out of order, heap sound %d\n",
         received, seq_sum, bytes, out_of_order, gc_heap_verify());
  return out_of_order == 0 && received == messages ? 0 : 1;
}
