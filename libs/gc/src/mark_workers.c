/* mark_workers.c — parallel marking: background mark workers that share grey work, and the
 * termination of a concurrent mark with any number of them.
 *
 * Workers. The cycle's driver is worker 0; helper threads (not attached: they are no mutators
 * and take no part in pauses) are workers 1..n-1. For each concurrent mark the driver opens a
 * run, wakes as many helpers as the pacer planned (pacer_model.c), marks itself, and when the
 * run is over waits until every helper that joined has left it; only then does it stop the
 * world for mark termination, so no worker ever marks during a pause.
 *
 * Sharing. Every worker drains with its own marker (mark.c): one private block of grey objects,
 * full blocks pushed to the global pool and taken from it under gc.work_lock (Go's work
 * buffers). A worker whose block holds much while the pool is empty gives half of it to the pool
 * (share_work in mark.c), so an idle worker soon finds something to steal.
 *
 * Termination. A worker is "busy" from the moment it may hold grey work privately; `busy`
 * counts them, and it changes only under gc.work_lock, together with the pool:
 *   - a worker whose drain found its block and the pool empty has flushed its block; under the
 *     lock it becomes idle if the pool is still empty (else it takes more and stays busy);
 *   - an idle worker becomes busy again, under the lock, only when the pool has a block;
 *   - the run is over when, under the lock, the pool is empty, no worker is busy and no mutator
 *     is inside an assist (an assist may hold grey work privately; it flushes before it leaves).
 * So when the run ends, no grey object is in the pool or held by a worker or an assist. Grey
 * objects can still appear afterwards through mutators' barrier buffers and later assists; the
 * driver looks again with the world stopped and, if there are any, runs another round
 * (collector.c, step_mark_done), as with one worker.
 *
 * Fork. Helper threads do not survive fork(): the pool remembers the process it was made in,
 * and a run in the child makes its locks and helpers anew. Pool state is only touched by the
 * cycle's driver (under gc.cycle_lock) and by teardown. */
#include <string.h>

#include "internal.h"

#define GC_MARK_WORKERS_DEFAULT_MAX 8u

typedef struct mark_pool {
  int64_t pid; /* process the locks and helpers belong to; 0: none made */
  beskid_os_mutex_t lock;
  beskid_os_cond_t wake;  /* helpers wait here for a run */
  beskid_os_cond_t left;  /* the driver waits here for helpers to leave a run */
  uint32_t helpers;       /* helper threads made */
  uint32_t started;       /* helpers that reached helper_main (lock) */
  uint64_t run;           /* current run's number (lock) */
  bool open;              /* helpers may still join the current run (lock) */
  uint32_t wanted;        /* helpers the current run wants (lock) */
  uint32_t joined;        /* helpers that joined it (lock) */
  uint32_t finished;      /* helpers that left it (lock) */
  bool stopping;          /* helpers must exit (lock) */
  uint64_t total_scanned; /* since the last take (lock) */
  uint64_t total_cpu_ns;  /* (lock) */
  uint64_t helper_cpu_ns; /* of that, the helper threads' (lock; taken separately) */
  beskid_os_thread_t threads[BESKID_GC_MARK_WORKERS_MAX];
} mark_pool;

static mark_pool pool;

/* Termination state of the current run (gc.work_lock). */
static uint32_t busy;
static bool run_done;

uint32_t beskid_gc__mark_workers_pool(void) {
  uint32_t n = gc.config.mark_workers;
  if (n == 0) {
    n = gc.pacer.cpus;
    if (n > GC_MARK_WORKERS_DEFAULT_MAX) n = GC_MARK_WORKERS_DEFAULT_MAX;
  }
  if (n == 0) n = 1;
  if (n > BESKID_GC_MARK_WORKERS_MAX) n = BESKID_GC_MARK_WORKERS_MAX;
  return n;
}

bool beskid_gc__mark_workers_fixed(void) { return gc.config.mark_workers != 0; }

/* One worker's part of a run: drain, go idle, steal again, until the run is over. */
static void work(gc_marker *m) {
  beskid_os_mutex_lock(&gc.work_lock);
  busy++;
  beskid_os_mutex_unlock(&gc.work_lock);
  for (;;) {
    beskid_gc__drain(m, UINT64_MAX);
    beskid_gc__marker_flush(m);
    beskid_os_mutex_lock(&gc.work_lock);
    if (gc.full_blocks != NULL) { /* more turned up: stay busy */
      beskid_os_mutex_unlock(&gc.work_lock);
      continue;
    }
    busy--;
    beskid_os_mutex_unlock(&gc.work_lock);
    /* Idle: look for work to steal, or for the end of the run. Spin briefly, then sleep in
     * short naps so an idle worker costs little CPU on a machine the mutators need. */
    for (uint32_t round = 0;; round++) {
      beskid_os_mutex_lock(&gc.work_lock);
      if (run_done) {
        beskid_os_mutex_unlock(&gc.work_lock);
        return;
      }
      if (gc.full_blocks != NULL) {
        busy++;
        beskid_os_mutex_unlock(&gc.work_lock);
        break;
      }
      /* Seq-cst: an assist increments this before it takes any grey work. */
      if (busy == 0 && atomic_load(&gc.assists_active) == 0) {
        run_done = true;
        beskid_os_mutex_unlock(&gc.work_lock);
        return;
      }
      beskid_os_mutex_unlock(&gc.work_lock);
      if (round < 16)
        beskid_os_thread_yield();
      else
        beskid_os_sleep_ns(20000);
    }
  }
}

static void *helper_main(void *arg) {
  (void)arg;
  uint64_t seen = 0;
  beskid_os_mutex_lock(&pool.lock);
  /* Past the thread's start-up: pool_prepare waits for this (fork.c). */
  pool.started++;
  beskid_os_cond_broadcast(&pool.left);
  for (;;) {
    while (!pool.stopping && (!pool.open || pool.run == seen || pool.joined >= pool.wanted)) {
      beskid_os_cond_wait(&pool.wake, &pool.lock);
    }
    if (pool.stopping) break;
    seen = pool.run;
    pool.joined++;
    beskid_os_mutex_unlock(&pool.lock);
    gc_marker m;
    beskid_gc__marker_init(&m);
    m.credits_assists = true;
    uint64_t cpu0 = beskid_os_thread_cpu_ns();
    work(&m);
    uint64_t cpu = beskid_os_thread_cpu_ns() - cpu0;
    beskid_os_mutex_lock(&pool.lock);
    pool.total_scanned += m.scanned_bytes;
    pool.total_cpu_ns += cpu;
    pool.helper_cpu_ns += cpu;
    pool.finished++;
    beskid_os_cond_broadcast(&pool.left);
  }
  beskid_os_mutex_unlock(&pool.lock);
  return NULL;
}

/* Makes the pool's locks (once per process) and up to `want` helpers. */
static void pool_prepare(uint32_t want) {
  int64_t pid = beskid_os_pid();
  if (pool.pid != pid) {
    /* First use, or the child of a fork: the parent's helpers do not exist here. */
    memset(&pool, 0, sizeof pool);
    beskid_os_mutex_init(&pool.lock);
    beskid_os_cond_init(&pool.wake);
    beskid_os_cond_init(&pool.left);
    pool.pid = pid;
  }
  while (pool.helpers < want) {
    if (beskid_os_thread_create(&pool.threads[pool.helpers], helper_main, NULL, "beskid-mark") !=
        BESKID_OK) {
      break; /* fewer helpers: marking is still correct with the driver alone */
    }
    pool.helpers++;
  }
  /* Every new helper is past its start-up before the driver lets cycle_lock go, so that a fork
   * does not copy one half-way through it (fork.c). */
  beskid_os_mutex_lock(&pool.lock);
  while (pool.started < pool.helpers) beskid_os_cond_wait(&pool.left, &pool.lock);
  beskid_os_mutex_unlock(&pool.lock);
}

void beskid_gc__mark_workers_run(gc_marker *m, uint32_t workers) {
  uint32_t want = workers > 1 ? workers - 1 : 0;
  if (want > BESKID_GC_MARK_WORKERS_MAX - 1) want = BESKID_GC_MARK_WORKERS_MAX - 1;
  pool_prepare(want);
  if (want > pool.helpers) want = pool.helpers;
  beskid_os_mutex_lock(&gc.work_lock);
  busy = 0;
  run_done = false;
  beskid_os_mutex_unlock(&gc.work_lock);
  beskid_os_mutex_lock(&pool.lock);
  pool.run++;
  pool.open = true;
  pool.wanted = want;
  pool.joined = pool.finished = 0;
  if (want != 0) beskid_os_cond_broadcast(&pool.wake);
  beskid_os_mutex_unlock(&pool.lock);

  uint64_t scanned0 = m->scanned_bytes, cpu0 = beskid_os_thread_cpu_ns();
  work(m);
  uint64_t cpu = beskid_os_thread_cpu_ns() - cpu0;

  beskid_os_mutex_lock(&pool.lock);
  pool.open = false; /* a helper waking late must not join a run that is over */
  while (pool.finished < pool.joined) beskid_os_cond_wait(&pool.left, &pool.lock);
  pool.total_scanned += m->scanned_bytes - scanned0;
  pool.total_cpu_ns += cpu;
  beskid_os_mutex_unlock(&pool.lock);
}

void beskid_gc__mark_workers_take_totals(uint64_t *scanned, uint64_t *cpu_ns) {
  *scanned = *cpu_ns = 0;
  if (pool.pid != beskid_os_pid()) return;
  beskid_os_mutex_lock(&pool.lock);
  *scanned = pool.total_scanned;
  *cpu_ns = pool.total_cpu_ns;
  pool.total_scanned = pool.total_cpu_ns = 0;
  beskid_os_mutex_unlock(&pool.lock);
}

uint64_t beskid_gc__mark_workers_take_helper_cpu(void) {
  if (pool.pid != beskid_os_pid()) return 0;
  beskid_os_mutex_lock(&pool.lock);
  uint64_t cpu = pool.helper_cpu_ns;
  pool.helper_cpu_ns = 0;
  beskid_os_mutex_unlock(&pool.lock);
  return cpu;
}

void beskid_gc__mark_workers_shutdown(void) {
  if (pool.pid != beskid_os_pid()) return;
  beskid_os_mutex_lock(&pool.lock);
  pool.stopping = true;
  beskid_os_cond_broadcast(&pool.wake);
  beskid_os_mutex_unlock(&pool.lock);
  for (uint32_t i = 0; i < pool.helpers; i++) beskid_os_thread_join(&pool.threads[i], NULL);
  beskid_os_cond_destroy(&pool.wake);
  beskid_os_cond_destroy(&pool.left);
  beskid_os_mutex_destroy(&pool.lock);
  memset(&pool, 0, sizeof pool);
}
