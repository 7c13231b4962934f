/* channel.c — bounded FIFO channels of managed values between threads.
 *
 * A channel is a heap object { buffer (managed: element 0 of a heap array of `capacity` pointer
 * slots, traced through its element descriptor) ; capacity, count, head, lock, closed, senders,
 * receivers (raw) }. Everything but `capacity` is guarded by the channel's internal lock (see
 * sched.c for the lock and for parking). Invariants, under the lock:
 *   - the buffered values are buffer[(head + i) % capacity] for i < count; other slots are NULL
 *     (a received slot is cleared, so the channel never keeps a value alive it no longer holds);
 *   - receivers wait only while the buffer is empty, senders only while it is full (capacity 0:
 *     always full and always empty), and never both at once;
 *   - once closed, nobody waits and no value is added.
 * A value in flight always sits in a root or in the buffer: a blocked sender's value in its own
 * waiter record (a root frame), a value handed to a blocked receiver in the receiver's record.
 * Writes into the buffer and into another thread's record go through the write barrier, like
 * any heap store; the world cannot stop in between, as nobody reaches a safepoint while holding
 * the lock.
 *
 * Sends and receives that must wait park in the native state; with a waiting partner they hand
 * the value over directly (a waiting receiver gets the value; a receiver that empties a slot of
 * a full buffer moves the first waiting sender's value in), so each operation completes in one
 * critical section. */
#include "sync_internal.h"

typedef struct std_channel {
  beskid_header_t header;
  void **buffer;    /* @8: the ring buffer, or NULL for capacity 0 */
  int64_t capacity; /* fixed at creation */
  int64_t count;    /* values buffered */
  int64_t head;     /* index of the oldest buffered value */
  uint32_t lock;
  uint32_t closed;
  std_waitq senders;
  std_waitq receivers;
} std_channel;

static const uint64_t channel_map[] = {8};
static const beskid_type_t channel_type = {sizeof(std_channel),   8, channel_map, 1,
                                           BESKID_TYPE_AGGREGATE, 0};
static const uint64_t slot_map[] = {0};
static const beskid_elem_type_t slot_elem = {sizeof(void *), 8, slot_map, 1};

void *beskid_std_channel_new(int64_t capacity) {
  beskid_gc_thread_t *t = beskid_std_thread_self();
  if (capacity < 0) beskid_rt_trap(BESKID_TRAP_BOUNDS, "negative channel capacity");
  void *slots[1] = {NULL};
  beskid_root_frame_t frame = {NULL, slots, 1};
  beskid_gc_push_frame(t, &frame);
  if (capacity > 0) {
    beskid_array_t buffer;
    beskid_rt_array_new_typed(&buffer, &slot_elem, capacity);
    slots[0] = buffer.ptr;
  }
  std_channel *ch = alloc(sizeof(std_channel), &channel_type);
  beskid_gc_pop_frame(t, &frame);
  beskid_gc_store(t, (void **)&ch->buffer, slots[0]);
  ch->capacity = capacity;
  return ch;
}

static std_channel *channel_of(void *channel) {
  beskid_std_check_object(channel, &channel_type, "channel");
  return channel;
}

/* Appends `value` to the buffer, which has room. Caller holds the lock. */
static void buffer_put(beskid_gc_thread_t *t, std_channel *ch, void *value) {
  int64_t tail = (ch->head + ch->count) % ch->capacity;
  beskid_gc_store(t, &ch->buffer[tail], value);
  ch->count++;
}

int32_t beskid_std_channel_send(void *channel, void *value) {
  std_channel *ch = channel_of(channel);
  beskid_gc_thread_t *t = beskid_std_thread_self();
  std_waiter w;
  beskid_std_waiter_begin(&w, t, ch, value);
  beskid_std_ilock(&ch->lock);
  if (ch->closed) {
    beskid_std_iunlock(&ch->lock);
    beskid_std_waiter_end(&w);
    return BESKID_STD_CHANNEL_CLOSED;
  }
  std_waiter *r = beskid_std_waitq_pop(&ch->receivers);
  if (r != NULL) {
    beskid_gc_store(t, &r->slots[1], value);
    beskid_std_unpark(r, BESKID_STD_CHANNEL_OK);
    beskid_std_iunlock(&ch->lock);
    beskid_std_waiter_end(&w);
    return BESKID_STD_CHANNEL_OK;
  }
  if (ch->count < ch->capacity) {
    buffer_put(t, ch, value);
    beskid_std_iunlock(&ch->lock);
    beskid_std_waiter_end(&w);
    return BESKID_STD_CHANNEL_OK;
  }
  beskid_std_waitq_push(&ch->senders, &w);
  beskid_std_iunlock(&ch->lock);
  beskid_std_park(&w, BESKID_OS_WAIT_FOREVER, "channel send");
  beskid_std_waiter_end(&w);
  return w.status;
}

int32_t beskid_std_channel_receive(void *channel, void **out) {
  std_channel *ch = channel_of(channel);
  if (out == NULL) beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "channel receive into a null slot");
  beskid_gc_thread_t *t = beskid_std_thread_self();
  std_waiter w;
  beskid_std_waiter_begin(&w, t, ch, NULL);
  int32_t status = BESKID_STD_CHANNEL_OK;
  beskid_std_ilock(&ch->lock);
  std_waiter *s;
  if (ch->count > 0) {
    void **slot = &ch->buffer[ch->head];
    w.slots[1] = *slot;
    beskid_gc_store(t, slot, NULL);
    ch->head = (ch->head + 1) % ch->capacity;
    ch->count--;
    s = beskid_std_waitq_pop(&ch->senders);
    if (s != NULL) {
      buffer_put(t, ch, s->slots[1]);
      beskid_std_unpark(s, BESKID_STD_CHANNEL_OK);
    }
    beskid_std_iunlock(&ch->lock);
  } else if ((s = beskid_std_waitq_pop(&ch->senders)) != NULL) {
    w.slots[1] = s->slots[1];
    beskid_std_unpark(s, BESKID_STD_CHANNEL_OK);
    beskid_std_iunlock(&ch->lock);
  } else if (ch->closed) {
    beskid_std_iunlock(&ch->lock);
    status = BESKID_STD_CHANNEL_CLOSED;
  } else {
    beskid_std_waitq_push(&ch->receivers, &w);
    beskid_std_iunlock(&ch->lock);
    beskid_std_park(&w, BESKID_OS_WAIT_FOREVER, "channel receive");
    status = w.status;
  }
  beskid_gc_store(t, out, w.slots[1]);
  beskid_std_waiter_end(&w);
  return status;
}

int32_t beskid_std_channel_close(void *channel) {
  std_channel *ch = channel_of(channel);
  beskid_std_ilock(&ch->lock);
  if (ch->closed) {
    beskid_std_iunlock(&ch->lock);
    return BESKID_STD_CHANNEL_CLOSED;
  }
  ch->closed = 1;
  for (std_waiter *w; (w = beskid_std_waitq_pop(&ch->receivers)) != NULL;) {
    beskid_std_unpark(w, BESKID_STD_CHANNEL_CLOSED); /* its value slot stays NULL */
  }
  for (std_waiter *w; (w = beskid_std_waitq_pop(&ch->senders)) != NULL;) {
    beskid_std_unpark(w, BESKID_STD_CHANNEL_CLOSED); /* its value is not delivered */
  }
  beskid_std_iunlock(&ch->lock);
  return BESKID_STD_CHANNEL_OK;
}

int64_t beskid_std_channel_len(void *channel) {
  std_channel *ch = channel_of(channel);
  beskid_std_ilock(&ch->lock);
  int64_t count = ch->count;
  beskid_std_iunlock(&ch->lock);
  return count;
}
