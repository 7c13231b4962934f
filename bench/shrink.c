/* shrink.c — memory given back: builds `live_mb` MiB (argument 1, default 1024) of small linked
 * objects in LISTS lists, drops all but `small_mb` MiB of them (argument 2, default 16), then
 * keeps allocating short-lived objects for `batches` batches (argument 3, default 6000) of 20000
 * cells each. Prints the resident memory (/proc/self/statm) over time as `rss: t_s=... mb=...`
 * lines, the resident memory at the end as `after_shrink: rss_mb=... live_mb=...`, and the peak
 * live heap. Explicit-free versions free the dropped lists. */
#include "bench.h"

typedef struct cell {
  BENCH_HEADER
  struct cell *next;
  int64_t value;
} cell;
BENCH_TYPE(cell, offsetof(cell, next));

enum { LISTS = 1024, CHURN = 20000 };

static double rss_mb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long size = 0, resident = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
  fclose(f);
  return (double)resident * 4096.0 / 1048576.0;
}

BENCH_MAIN {
  long live_mb = bench_arg(1, 1024), small_mb = bench_arg(2, 16), batches = bench_arg(3, 6000);
  int64_t per_list = live_mb * 1048576 / (int64_t)sizeof(cell) / LISTS;
  long keep = (long)((int64_t)LISTS * small_mb / live_mb);
  uint64_t t0 = bench_now_ns();
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
  printf("rss: t_s=%.3f mb=%.1f grown\n", (double)(bench_now_ns() - t0) / 1e9, rss_mb());
  for (long l = keep; l < LISTS; l++) { /* the drop */
#ifdef BENCH_EXPLICIT
    for (cell *c = heads[l], *n; c != NULL; c = n) {
      n = c->next;
      RELEASE(c);
    }
#endif
    SET(heads[l], (cell *)NULL);
  }
  uint64_t sum = 0;
  for (long b = 0; b < batches; b++) {
    r[1] = NULL;
    for (int i = 0; i < CHURN; i++) {
      cell *c = NEW(cell);
      c->value = i;
      SET(c->next, (cell *)r[1]);
      r[1] = c;
      if (i % 1000 == 999) {
        for (cell *x = r[1]; x != NULL; x = x->next) sum += (uint64_t)x->value;
#ifdef BENCH_EXPLICIT
        for (cell *c2 = r[1], *n2; c2 != NULL; c2 = n2) {
          n2 = c2->next;
          RELEASE(c2);
        }
#endif
        r[1] = NULL;
      }
    }
    POLL();
    if (b % 10 == 9) {
      printf("rss: t_s=%.3f mb=%.1f\n", (double)(bench_now_ns() - t0) / 1e9, rss_mb());
    }
  }
  printf("after_shrink: rss_mb=%.1f live_mb=%.1f (checksum %" PRIu64 ")\n", rss_mb(),
         (double)((int64_t)keep * per_list * (int64_t)sizeof(cell) + LISTS * 8) / 1048576.0, sum);
  bench_print_live((uint64_t)(LISTS * per_list + 1000) * sizeof(cell) +
                   (uint64_t)LISTS * sizeof(void *));
  UNROOT(r);
  bench_report();
  return 0;
}
