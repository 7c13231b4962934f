/* posix_wait.c — waiting on an address and detaching threads: the pieces of libs/platform that
 * let the standard library's threads, mutexes, condition variables and channels block without
 * owning any OS object (their state is a plain word inside a garbage-collected object, and the
 * collector has no finalizers to destroy anything).
 *
 * Linux: a private futex (FUTEX_WAIT_PRIVATE / FUTEX_WAKE_PRIVATE). The kernel compares the word
 * with the expected value and queues the sleeper atomically with respect to wakes on the same
 * address; a wake on an address nobody sleeps on, or whose memory now holds something else,
 * only causes spurious returns, which every caller tolerates by re-checking its word.
 *
 * Elsewhere (POSIX without futexes): a fixed table of mutex/condition-variable pairs hashed by
 * address. A waiter re-reads the word under its bucket's mutex before sleeping and a waker takes
 * that mutex before broadcasting, which gives the same no-lost-wake-up guarantee; wake_one
 * broadcasts, which the spurious-return contract allows. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "beskid/platform.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

bool beskid_os_wait_on(const uint32_t *addr, uint32_t expected, uint64_t timeout_ns) {
  struct timespec ts;
  struct timespec *timeout = NULL;
  if (timeout_ns != BESKID_OS_WAIT_FOREVER) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
    ts.tv_nsec = (long)(timeout_ns % 1000000000u);
    timeout = &ts;
  }
  long r = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, timeout, NULL, 0);
  return !(r == -1 && errno == ETIMEDOUT);
}

void beskid_os_wake_one(const uint32_t *addr) {
  syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void beskid_os_wake_all(const uint32_t *addr) {
  syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

#else

#define WAIT_BUCKETS 64
static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
} buckets[WAIT_BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void) {
  for (int i = 0; i < WAIT_BUCKETS; i++) {
    pthread_mutex_init(&buckets[i].lock, NULL);
    pthread_cond_init(&buckets[i].cond, NULL);
  }
}

static unsigned bucket_of(const uint32_t *addr) {
  pthread_once(&buckets_once, buckets_init);
  return (unsigned)(((uintptr_t)addr >> 2) * 0x9E3779B1u >> 26) % WAIT_BUCKETS;
}

bool beskid_os_wait_on(const uint32_t *addr, uint32_t expected, uint64_t timeout_ns) {
  unsigned b = bucket_of(addr);
  bool woken = true;
  pthread_mutex_lock(&buckets[b].lock);
  if (__atomic_load_n(addr, __ATOMIC_RELAXED) == expected) {
    if (timeout_ns == BESKID_OS_WAIT_FOREVER) {
      pthread_cond_wait(&buckets[b].cond, &buckets[b].lock);
    } else {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns % 1000000000u;
      ts.tv_sec += (time_t)(timeout_ns / 1000000000u + ns / 1000000000u);
      ts.tv_nsec = (long)(ns % 1000000000u);
      woken = pthread_cond_timedwait(&buckets[b].cond, &buckets[b].lock, &ts) != ETIMEDOUT;
    }
  }
  pthread_mutex_unlock(&buckets[b].lock);
  return woken;
}

void beskid_os_wake_one(const uint32_t *addr) { beskid_os_wake_all(addr); }

void beskid_os_wake_all(const uint32_t *addr) {
  unsigned b = bucket_of(addr);
  pthread_mutex_lock(&buckets[b].lock);
  pthread_cond_broadcast(&buckets[b].cond);
  pthread_mutex_unlock(&buckets[b].lock);
}

#endif

beskid_status beskid_os_thread_detach(beskid_os_thread_t *thread) {
  if (thread == NULL || !thread->joinable) return BESKID_INVALID_INPUT;
  if (pthread_detach(thread->handle) != 0) return BESKID_INVALID_INPUT;
  thread->joinable = 0;
  return BESKID_OK;
}
