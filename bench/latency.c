/* latency.c — mutator latency with a large live heap: builds `live_mb` MiB (argument 1, default
 * 1024) of small linked objects, then runs `batches` batches (argument 2, default 2000), each of
 * which allocates and drops 20000 short-lived objects and replaces 200 objects of the live heap.
 * Reports the batch time p50/p99/max (the mutator's worst stall) and, for collectors, pauses. */
#include "bench.h"

typedef struct cell {
  BENCH_HEADER
  struct cell *next;
  int64_t value;
} cell;
BENCH_TYPE(cell, offsetof(cell, next));

enum { LISTS = 1024, CHURN = 20000, REPLACE = 200 };

BENCH_MAIN {
  long live_mb = bench_arg(1, 1024), batches = bench_arg(2, 2000);
  int64_t per_list = live_mb * 1048576 / 32 / LISTS;
  uint64_t *batch_ns = malloc((size_t)batches * sizeof *batch_ns);
  /* The live heap: an array (a GC object in GC'd variants) of LISTS list heads. */
  ROOTS(r, 2);
  cell **heads = (cell **)NEW_POINTERS(LISTS);
  r[0] = heads;
  for (int l = 0; l < LISTS; l++) {
    for (int64_t i = 0; i < per_list; i++) {
      cell *c = NEW(cell);
      c->value = i;
      SET(c->next, heads[l]);
      SET(heads[l], c);
    }
    POLL();
  }
  uint64_t seed = 88172645463325252ull, sum = 0;
  /* BENCH_BATCH_LOG=file: one line per batch, "start_ns duration_ns marking" (CLOCK_MONOTONIC;
   * marking is 1 when the Beskid collector was marking at its start or end), to be matched
   * with `perf record -k CLOCK_MONOTONIC` samples (bench/README.md). Written between batches,
   * outside their timing, through stdio's buffer. */
  const char *log_path = getenv("BENCH_BATCH_LOG");
  FILE *log = log_path != NULL ? fopen(log_path, "w") : NULL;
  for (long b = 0; b < batches; b++) {
    uint64_t t0 = bench_now_ns();
    int marking = 0;
#ifdef BENCH_BESKID
    marking = beskid_gc_phase() == BESKID_GC_PHASE_MARKING;
#endif
    cell *chain = NULL;
    r[1] = NULL;
    for (int i = 0; i < CHURN; i++) { /* short-lived: a chain dropped at the end of the batch */
      cell *c = NEW(cell);
      c->value = i;
      SET(c->next, (cell *)r[1]);
      r[1] = c;
      if (i % 1000 == 999) {
        for (chain = r[1]; chain != NULL; chain = chain->next) sum += (uint64_t)chain->value;
#ifdef BENCH_EXPLICIT
        for (cell *c2 = r[1], *n2; c2 != NULL; c2 = n2) {
          n2 = c2->next;
          RELEASE(c2);
        }
#endif
        r[1] = NULL;
      }
    }
    for (int i = 0; i < REPLACE; i++) { /* mutate the live heap: replace a list's head */
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      int l = (int)(seed % LISTS);
      cell *old = heads[l];
      if (old == NULL) continue;
      cell *c = NEW(cell);
      c->value = old->value;
      SET(c->next, old->next);
      SET(heads[l], c);
      RELEASE(old);
    }
    POLL();
    batch_ns[b] = bench_now_ns() - t0;
#ifdef BENCH_BESKID
    marking |= beskid_gc_phase() == BESKID_GC_PHASE_MARKING;
#endif
    if (log != NULL) fprintf(log, "%" PRIu64 " %" PRIu64 " %d\n", t0, batch_ns[b], marking);
  }
  if (log != NULL) fclose(log);
  /* Reachable at most: the lists, their heads array, and one batch's chain of 1000 cells. */
  bench_print_live((uint64_t)(LISTS * per_list + 1000) * sizeof(cell) +
                   (uint64_t)LISTS * sizeof(void *));
  qsort(batch_ns, (size_t)batches, sizeof *batch_ns, bench_cmp_u64);
  printf("batches: n=%ld p50_us=%.1f p99_us=%.1f max_us=%.1f (checksum %" PRIu64 ")\n", batches,
         (double)batch_ns[(batches - 1) / 2] / 1e3,
         (double)batch_ns[(batches * 99 + 99) / 100 - 1] / 1e3, (double)batch_ns[batches - 1] / 1e3,
         sum);
  UNROOT(r);
  bench_report();
  free(batch_ns);
  return 0;
}
