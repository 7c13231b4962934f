/* test_gc_memory.c — the gc suite's memory-footprint cases: resident memory (read from
 * /proc/self/statm) follows the live heap down after it shrinks, the soft memory limit holds
 * the heap's resident memory near the limit while the live heap fits under it, and the chunks
 * the grower makes ready ahead of growth are few, zero, and given back when the heap shrinks.
 *
 * Sizes are scaled down under the sanitizers (their shadow memory and slower allocation) so that
 * every preset runs these in seconds on a 2-core machine. Figures are deltas from the resident
 * memory measured before the heap grows, so the test binary's own memory does not count. Under a
 * sanitizer the process's resident memory is mostly the sanitizer's (shadow memory, which
 * resetting heap pages does not shrink, and the C allocator's quarantine), so there the cases
 * read the heap's own account of what it keeps resident (committed minus released) instead; the
 * dev and release presets read /proc. */
#define _GNU_SOURCE /* mincore, sched_setaffinity */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "beskid/gc.h"
#include "beskid/platform.h"
#include "check_support.h"
#include "internal.h"
#include "test_gc_memory.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GC_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GC_TEST_SANITIZED 1
#endif
#ifdef GC_TEST_SANITIZED
#define MIB_SCALE 1 /* sizes in units of 1 MiB */
#else
#define MIB_SCALE 2
#endif
#define MIB (UINT64_C(1) << 20)

static beskid_gc_thread_t *T;

static void log_to_stderr(const char *line, void *context) {
  (void)context;
  fprintf(stderr, "%s\n", line);
}

/* Resident memory of the process in bytes (under a sanitizer: of the heap, by its account). */
static uint64_t rss_bytes(void) {
#ifdef GC_TEST_SANITIZED
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  return st.committed_bytes - st.released_bytes;
#endif
  FILE *f = fopen("/proc/self/statm", "r");
  ck_assert_ptr_nonnull(f);
  unsigned long long size = 0, resident = 0;
  ck_assert_int_eq(fscanf(f, "%llu %llu", &size, &resident), 2);
  fclose(f);
  return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* A 32-byte list cell: next @8, value @16, pad @24. */
typedef struct cell {
  beskid_header_t header;
  struct cell *next;
  int64_t value;
  int64_t pad;
} cell;
static const uint64_t cell_map[] = {8};
static const beskid_type_t cell_type = {sizeof(cell), 8, cell_map, 1, BESKID_TYPE_AGGREGATE, 0};

enum { LISTS = 1024 };
static void *heads[LISTS]; /* every case's roots: list heads (emptied when a case starts) */
static beskid_root_frame_t heads_frame = {NULL, heads, LISTS};

/* Starts a collector with `debug_flags`, a soft `memory_limit` (0: none) and `reserve` bytes of
 * arena, and attaches the test's thread with `heads`, emptied, as its roots. */
static void start_in(uint32_t debug_flags, uint64_t memory_limit, uint64_t reserve) {
  beskid_gc_config_t config;
  beskid_gc_config_default(&config);
  config.log = log_to_stderr;
  config.debug_flags = debug_flags;
  config.memory_limit = memory_limit;
  config.reserve = reserve;
  ck_assert_int_eq(beskid_gc_init(&config), BESKID_GC_OK);
  T = beskid_gc_attach();
  ck_assert_ptr_nonnull(T);
  memset(heads, 0, sizeof heads);
  beskid_gc_push_frame(T, &heads_frame);
}

/* The same in a 4 GiB arena. */
static void start_with(uint32_t debug_flags, uint64_t memory_limit) {
  start_in(debug_flags, memory_limit, UINT64_C(4) << 30);
}

/* With its background threads (the grower runs only then). */
static void start_background(void) { start_with(0, 0); }

static void stop_case(void) {
  beskid_gc_pop_frame(T, &heads_frame);
  beskid_gc_detach();
  ck_assert_int_eq(beskid_gc_shutdown(), BESKID_GC_OK);
}

/* Prepends `bytes` worth of cells to the lists rooted in `heads`, one list after the other (so
 * that dropping whole lists frees whole pages, as a program dropping a data structure does). */
static void grow(uint64_t bytes) {
  uint64_t n = bytes / sizeof(cell), per_list = n / LISTS + 1;
  for (uint64_t i = 0; i < n; i++) {
    cell *c = beskid_gc_alloc(T, &cell_type);
    ck_assert_ptr_nonnull(c);
    c->value = (int64_t)i;
    beskid_gc_store(T, (void **)&c->next, heads[i / per_list]);
    heads[i / per_list] = c;
  }
}

/* Allocates `bytes` of cells that die at once. */
static void churn(uint64_t bytes) {
  for (uint64_t i = 0; i < bytes / sizeof(cell); i++) {
    cell *c = beskid_gc_alloc(T, &cell_type);
    ck_assert_ptr_nonnull(c);
    c->value = (int64_t)i;
  }
}

/* Drops every list and collects until every chunk is empty and idle, then gives them all up, as
 * a heap that shrank does over a few cycles. */
static void give_everything_up(void) {
  memset(heads, 0, sizeof heads);
  for (int i = 0; i < 3; i++) beskid_gc_collect(T);
  beskid_gc__heap_scavenge(0);
}

/* The heap's spare blocks, in bytes. */
static uint64_t spare_bytes(void) {
  beskid_os_mutex_lock(&gc.heap_lock);
  uint64_t bytes = gc.spare_bytes;
  beskid_os_mutex_unlock(&gc.heap_lock);
  return bytes;
}

/* Bytes of the whole OS pages of [addr, addr + bytes) that are resident, read with mincore(2).
 * Under every preset: the sanitizers leave the heap's pages and the span table as they are. */
static uint64_t resident_bytes(const void *addr, size_t bytes) {
  size_t os_page = (size_t)sysconf(_SC_PAGESIZE), pages = bytes / os_page;
  unsigned char *vec = malloc(pages);
  ck_assert_ptr_nonnull(vec);
  ck_assert_int_eq(mincore((void *)addr, pages * os_page, vec), 0);
  uint64_t resident = 0;
  for (size_t i = 0; i < pages; i++) resident += vec[i] & 1u;
  free(vec);
  return resident * os_page;
}

/* Resident bytes of the span table (heap.c: one span structure per heap page, in memory mapped
 * without backing). */
static uint64_t span_table_resident(void) {
  return resident_bytes(gc.span_table, gc.span_table_bytes);
}

/* Whether the span table's OS pages that hold only entries of the `npages` heap pages at `base`
 * (heap.c: a chunk's own part of the table) are all resident; there must be one. */
static bool chunk_table_resident(uintptr_t base, size_t npages) {
  size_t per = gc.spans_per_os_page, first = (base - gc.arena_base) >> GC_PAGE_SHIFT;
  size_t from = (first + per - 1) / per, to = (first + npages) / per;
  ck_assert_uint_gt(to, from);
  size_t bytes = (to - from) * gc.span_table_page;
  return resident_bytes((char *)gc.span_table + from * gc.span_table_page, bytes) == bytes;
}

/* Resident bytes of the page table (one pointer per heap page, mapped the same way). */
static uint64_t page_table_resident(void) {
  return resident_bytes((const void *)gc.page_table, gc.page_table_bytes);
}

/* The heap grows to BIG live bytes, then drops to SMALL: within a few cycles (of a program that
 * keeps allocating) resident memory comes back within 3× the new live heap, plus a fixed 4 MiB
 * for what the process keeps whatever the heap's size (the C library's and the test's own
 * memory moving, the page table's entries of the chunks kept). Measured before the span structures
 * moved out of the C allocator into the span table, whose memory goes back with the pages it
 * describes: 20 MiB over the start where 16 are allowed (the structures of the peak's spans,
 * kept by the C allocator); before the scavenger: 60 MiB. The span table's own resident part is
 * checked too, under every preset (it is outside the heap's account the sanitizer presets read). */
START_TEST(test_rss_follows_live_heap_down) {
  const uint64_t big = 96 * MIB_SCALE * MIB, small = 2 * MIB_SCALE * MIB;
  start_with(BESKID_GC_DEBUG_MANUAL, 0);
  uint64_t base = rss_bytes();
  grow(big);
  beskid_gc_collect(T);
  uint64_t peak = rss_bytes(), table_peak = span_table_resident();
  ck_assert_msg(peak - base >= big, "the heap never became resident: %llu MiB",
                (unsigned long long)((peak - base) / MIB));
  /* One structure of about 200 bytes per page of 32-byte cells. */
  ck_assert_msg(table_peak >= big / GC_PAGE_SIZE * sizeof(gc_span) * 9 / 10,
                "span table resident at the peak: %llu KiB for %llu MiB of heap",
                (unsigned long long)(table_peak >> 10), (unsigned long long)(big / MIB));
  /* Drop all but `small` bytes of the lists: keep whole lists. */
  for (size_t i = (size_t)(LISTS * small / big); i < LISTS; i++) heads[i] = NULL;
  uint64_t after = 0, bound = 3 * small + 4 * MIB;
  int cycles = 0;
  while (cycles < 4) {
    churn(small);
    beskid_gc_collect(T);
    cycles++;
    after = rss_bytes();
    if (after - base <= bound) break;
  }
  uint64_t table_after = span_table_resident();
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_le(st.live_bytes, small + MIB);
  fprintf(stderr,
          "shrink: resident %llu KiB over the start after %d cycles (allowed %llu), span table "
          "%llu KiB (peak %llu KiB)\n",
          (unsigned long long)((after - base) >> 10), cycles, (unsigned long long)(bound >> 10),
          (unsigned long long)(table_after >> 10), (unsigned long long)(table_peak >> 10));
  ck_assert_msg(after - base <= bound,
                "resident %llu KiB over the start after %d cycles, %llu KiB allowed (3 x live "
                "%llu KiB + 4 MiB; committed %llu KiB, released %llu KiB, span table %llu KiB, "
                "peak %llu MiB)",
                (unsigned long long)((after - base) >> 10), cycles,
                (unsigned long long)(bound >> 10), (unsigned long long)(small >> 10),
                (unsigned long long)(st.committed_bytes >> 10),
                (unsigned long long)(st.released_bytes >> 10),
                (unsigned long long)(table_after >> 10), (unsigned long long)((peak - base) / MIB));
  /* The heap's own account agrees: what it keeps resident (whole free chunks went back to
   * mimalloc with their pages reset; free pages it keeps are released) is near the new goal. */
  ck_assert_uint_le(st.committed_bytes - st.released_bytes, bound);
  /* The span structures of the pages given back went with them: what stays resident of the
   * table describes the chunks kept (a structure per page) and the OS pages their ends share. */
  uint64_t table_bound = st.committed_bytes / GC_PAGE_SIZE * sizeof(gc_span) + 256 * 1024;
  ck_assert_msg(table_after <= table_bound,
                "span table resident: %llu KiB after the drop (%llu KiB at the peak), %llu KiB "
                "allowed for %llu KiB committed",
                (unsigned long long)(table_after >> 10), (unsigned long long)(table_peak >> 10),
                (unsigned long long)(table_bound >> 10),
                (unsigned long long)(st.committed_bytes >> 10));
  /* The released pages are used again, and read zero. */
  grow(big / 4);
  beskid_gc_collect(T);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  stop_case();
}
END_TEST

/* A live heap that fits under the soft memory limit, and a program that keeps allocating: the
 * heap's resident memory stays within 10% of the limit (the collector runs more often instead of
 * growing to GOGC's goal, which here would be about 1.9× the limit's worth of heap). */
START_TEST(test_memory_limit_holds_rss) {
  const uint64_t live = 24 * MIB_SCALE * MIB, limit = 32 * MIB_SCALE * MIB;
  start_with(0, limit);
  uint64_t base = rss_bytes();
  grow(live);
  uint64_t worst = 0;
  for (int round = 0; round < 40; round++) {
    churn(4 * MIB_SCALE * MIB);
    uint64_t r = rss_bytes() - base;
    if (r > worst) worst = r;
    /* Chunks made ready ahead of growth never take the heap past the scavenger's 95%. */
    beskid_gc_stats_t now;
    beskid_gc_read_stats(&now);
    ck_assert_msg(now.ready_bytes == 0 || now.committed_bytes <= limit / 100 * 95,
                  "round %d: %llu KiB ready with %llu KiB committed, limit %llu KiB", round,
                  (unsigned long long)(now.ready_bytes >> 10),
                  (unsigned long long)(now.committed_bytes >> 10),
                  (unsigned long long)(limit >> 10));
  }
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.cycles, 3);
  fprintf(stderr,
          "memory limit: resident at most %llu KiB over the start (limit %llu KiB), %llu cycles\n",
          (unsigned long long)(worst >> 10), (unsigned long long)(limit >> 10),
          (unsigned long long)st.cycles);
  ck_assert_msg(worst <= limit + limit / 10,
                "resident %llu MiB over the start, limit %llu MiB (goal %llu MiB, committed %llu "
                "MiB, released %llu MiB, %llu cycles)",
                (unsigned long long)(worst / MIB), (unsigned long long)(limit / MIB),
                (unsigned long long)(st.heap_goal / MIB),
                (unsigned long long)(st.committed_bytes / MIB),
                (unsigned long long)(st.released_bytes / MIB), (unsigned long long)st.cycles);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  stop_case();
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Chunks made ready ahead of growth (grow.c) */

static beskid_gc_stats_t stats_now(void) {
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  return st;
}

/* Waits in the native state, up to 10 s, until the grower has made more than `made` chunks
 * ready in all and holds some; returns the statistics then. */
static beskid_gc_stats_t wait_for_ready(uint64_t made) {
  beskid_gc_stats_t st = stats_now();
  beskid_gc_enter_native(T);
  for (int i = 0; i < 10000 && (st.ready_chunks_made <= made || st.ready_bytes == 0); i++) {
    beskid_os_sleep_ns(1000000);
    st = stats_now();
  }
  beskid_gc_leave_native(T);
  return st;
}

/* A growing heap gets chunks made ready in the background: a few, counted in the committed
 * memory, and made again as allocation takes them. */
START_TEST(test_grower_keeps_chunks_ready) {
  start_background();
  grow(8 * MIB);
  beskid_gc_stats_t st = wait_for_ready(0);
  ck_assert_uint_gt(st.ready_bytes, 0);
  ck_assert_uint_ge(st.ready_chunks_made, 1);
  /* At most GC_GROW_STASH_MAX chunks of at most 1.5 MiB each, and less than the heap itself. */
  ck_assert_uint_le(st.ready_bytes, GC_GROW_STASH_MAX * 3 * MIB / 2);
  ck_assert_uint_le(st.ready_bytes, st.committed_bytes - st.ready_bytes);
  /* The span table's part of each ready chunk is resident too: carving its spans will not fault
   * on the table (its first GC_CHUNK_PAGES pages from the block's first whole page). */
  beskid_os_mutex_lock(&gc.heap_lock);
  for (uint32_t i = 0; i < gc.stash_count; i++) {
    uintptr_t base = ((uintptr_t)gc.stash[i] + GC_PAGE_SIZE - 1) & ~(uintptr_t)(GC_PAGE_SIZE - 1);
    ck_assert_msg(chunk_table_resident(base, GC_CHUNK_PAGES),
                  "ready block %p: its span-table pages are not resident", gc.stash[i]);
  }
  beskid_os_mutex_unlock(&gc.heap_lock);
  /* Growing on takes the ready chunks, and the grower makes new ones. */
  grow(16 * MIB);
  beskid_gc_stats_t later = wait_for_ready(st.ready_chunks_made);
  ck_assert_uint_gt(later.ready_chunks_made, st.ready_chunks_made);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  stop_case();
}
END_TEST

/* New objects read zero in every kind of memory a heap that grows and shrinks hands out: chunks
 * made ready in the background (zeroed by mimalloc, or fresh from the OS), pages of kept chunks
 * whose objects were swept, and chunks mimalloc took back and gave out again. */
START_TEST(test_ready_chunks_read_zero) {
  start_background();
  for (int round = 0; round < 3; round++) {
    /* Fill memory with cells whose every field is non-zero, then let it all go back. */
    grow(16 * MIB_SCALE * MIB);
    for (size_t l = 0; l < LISTS; l++) {
      for (cell *c = heads[l]; c != NULL; c = c->next) c->pad = -1;
      heads[l] = NULL;
    }
    for (int i = 0; i < 3; i++) beskid_gc_collect(T);
    uint64_t made = stats_now().ready_chunks_made;
    /* New cells, partly in chunks made ready since: all zero but for their header. */
    for (uint64_t i = 0; i < 16 * MIB_SCALE * MIB / sizeof(cell); i++) {
      cell *c = beskid_gc_alloc(T, &cell_type);
      ck_assert_ptr_nonnull(c);
      ck_assert_msg(c->next == NULL && c->value == 0 && c->pad == 0,
                    "round %d: cell %llu at %p is not zero", round, (unsigned long long)i,
                    (void *)c);
      beskid_gc_store(T, (void **)&c->next, heads[i % LISTS]);
      heads[i % LISTS] = c;
    }
    ck_assert_uint_gt(stats_now().ready_chunks_made, made);
    memset(heads, 0, sizeof heads);
  }
  stop_case();
}
END_TEST

/* The grower's thread id, found by its name in /proc/self/task; fails the test without one. */
static long grower_tid(void) {
  DIR *tasks = opendir("/proc/self/task");
  ck_assert_ptr_nonnull(tasks);
  long tid = -1;
  for (struct dirent *e; tid < 0 && (e = readdir(tasks)) != NULL;) {
    char path[300], comm[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(comm, sizeof comm, f) != NULL && strcmp(comm, "beskid-grow\n") == 0) {
      tid = strtol(e->d_name, NULL, 10);
    }
    fclose(f);
  }
  closedir(tasks);
  ck_assert_msg(tid > 0, "no grower thread");
  return tid;
}

/* The first line of /proc/self/task/<tid>/`file`. */
static void read_task_line(long tid, const char *file, char *line, int size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/%s", tid, file);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(line, size, f));
  fclose(f);
}

/* The CPU time a thread has used, in nanoseconds (its schedstat's first field). The kernel
 * brings a running thread's figure up to date only now and then (at a tick, or as it leaves the
 * CPU), so it is exact only for a thread that sleeps. */
static uint64_t task_cpu_ns(long tid) {
  char line[256];
  unsigned long long ns = 0;
  read_task_line(tid, "schedstat", line, sizeof line);
  ck_assert_int_eq(sscanf(line, "%llu", &ns), 1);
  return ns;
}

/* Whether a thread sleeps: state S in its stat, after its name in parentheses. */
static bool task_sleeps(long tid) {
  char line[1024];
  read_task_line(tid, "stat", line, sizeof line);
  const char *name_end = strrchr(line, ')');
  ck_assert_ptr_nonnull(name_end);
  return name_end[1] == ' ' && name_end[2] == 'S';
}

/* The grower makes chunks again, once what held it back is gone. On any CPU and at the normal
 * priority where the process may raise it: ctest runs another suite beside this one, which may
 * keep a CPU busy, and a thread at background priority gets none of a busy CPU (CI once saw no
 * chunk made in 10 s by a grower pinned to one). */
static void assert_grower_works_again(long grower) {
  cpu_set_t all;
  ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
  ck_assert_int_eq(sched_setaffinity((pid_t)grower, sizeof all, &all), 0);
  struct sched_param normal = {0};
  (void)sched_setscheduler((pid_t)grower, SCHED_OTHER, &normal);
  uint64_t before = stats_now().ready_chunks_made;
  ck_assert_uint_gt(wait_for_ready(before).ready_chunks_made, before);
}

/* A stop waits for the program's threads, and the scheduler may leave one of them waiting for
 * the CPU the grower holds (bench/RESULTS.md, "The grower took the mutators' CPU"): so the
 * grower does no work while the world is stopped. Here its stash is emptied and more is asked
 * for as the world stops: it finishes the step under way (which may complete a chunk), then
 * sleeps, using no CPU time until the restart, and makes the chunks after it. Before, it made
 * its four chunks during the stop. */
START_TEST(test_grower_sits_out_stops) {
  start_background();
  grow(64 * MIB_SCALE * MIB); /* a stash of a few chunks: milliseconds of populating */
  ck_assert_uint_gt(wait_for_ready(0).ready_bytes, 0);
  long grower = grower_tid();
  beskid_gc_enter_native(T); /* the test's thread stops the world below */
  beskid_os_mutex_lock(&gc.cycle_lock);
  void *dropped[GC_GROW_STASH_MAX];
  beskid_os_mutex_lock(&gc.heap_lock);
  uint32_t n = beskid_gc__grow_drop(dropped);
  ck_assert_ptr_null(beskid_gc__grow_take()); /* the stash is empty: wakes the grower */
  beskid_os_mutex_unlock(&gc.heap_lock);
  beskid_gc__stop_world(NULL);
  uint64_t made = stats_now().ready_chunks_made;
  for (int i = 0; i < 2000 && !task_sleeps(grower); i++) beskid_os_sleep_ns(1000000);
  uint64_t used = task_cpu_ns(grower);
  beskid_os_sleep_ns(50000000);
  used = task_cpu_ns(grower) - used;
  made = stats_now().ready_chunks_made - made;
  beskid_gc__start_world();
  beskid_os_mutex_unlock(&gc.cycle_lock);
  beskid_os_mutex_lock(&gc.map_lock);
  beskid_gc__blocks_free(dropped, n);
  beskid_os_mutex_unlock(&gc.map_lock);
  ck_assert_msg(made <= 1 && used == 0,
                "while the world was stopped the grower made %llu chunks, and used %.3f ms of "
                "CPU after it went to sleep",
                (unsigned long long)made, (double)used / 1e6);
  beskid_gc_leave_native(T);
  assert_grower_works_again(grower);
  stop_case();
}
END_TEST

/* The process's first two CPUs, or false when it may run on fewer. */
static bool two_cpus(size_t cpus[2]) {
  cpu_set_t set;
  ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
  int found = 0;
  for (size_t c = 0; c < CPU_SETSIZE && found < 2; c++) {
    if (CPU_ISSET(c, &set)) cpus[found++] = c;
  }
  return found == 2;
}

/* Pins thread `tid` (0: the caller) to one CPU. */
static void pin_to_cpu(long tid, size_t cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ck_assert_int_eq(sched_setaffinity((pid_t)tid, sizeof set, &set), 0);
}

/* The two threads sharing one CPU below: a thread of the program running managed code at
 * background priority, and a thread outside the program's (not attached) at the normal one. */
static size_t shared_cpu;
static atomic_int shared_cpu_threads_ready;
static atomic_bool shared_cpu_threads_stop;

static void *background_mutator(void *arg) {
  (void)arg;
  beskid_gc_thread_t *t = beskid_gc_attach();
  pin_to_cpu(0, shared_cpu);
  ck_assert_int_eq(beskid_os_thread_set_background(), BESKID_OK); /* the grower's priority */
  atomic_fetch_add(&shared_cpu_threads_ready, 1);
  while (!atomic_load_explicit(&shared_cpu_threads_stop, memory_order_relaxed)) {
    if (t->poll) beskid_gc_safepoint(t); /* compiled code's loop back-edge */
  }
  beskid_gc_detach();
  return NULL;
}

static void *cpu_hog(void *arg) {
  (void)arg;
  pin_to_cpu(0, shared_cpu);
  atomic_fetch_add(&shared_cpu_threads_ready, 1);
  while (!atomic_load_explicit(&shared_cpu_threads_stop, memory_order_relaxed)) {
  }
  return NULL;
}

/* The scheduler does not move a thread that waits for its CPU onto a CPU that the grower holds
 * (it runs at background priority, but the CPU does not count as idle), so a mutator held up
 * behind another process waited for as long as the grower worked: 16 ms behind the kernel's
 * kdamond in the latency probe (bench/RESULTS.md, "A mutator behind kdamond"). The grower reads
 * each running mutator's CPU clock and leaves its CPU idle while one gets less than half its
 * share. Here a mutator at background priority shares a CPU with a busy thread, the grower is
 * pinned to another, and its stash is emptied: it makes no chunk while the mutator is held up,
 * and its chunks once the mutator is gone. Before, it made all of them at once. */
START_TEST(test_grower_leaves_a_starved_mutator_its_cpu) {
  size_t cpus[2];
  if (!two_cpus(cpus)) return; /* it needs a CPU for the grower and one for the others */
  shared_cpu = cpus[0];
  start_background();
  grow(64 * MIB_SCALE * MIB); /* a stash of a few chunks: milliseconds of populating */
  ck_assert_uint_gt(wait_for_ready(0).ready_bytes, 0);
  long grower = grower_tid();
  pin_to_cpu(grower, cpus[1]);
  beskid_gc_enter_native(T); /* only the mutator at background priority runs managed code */
  atomic_store(&shared_cpu_threads_ready, 0);
  atomic_store(&shared_cpu_threads_stop, false);
  pthread_t mutator, hog;
  ck_assert_int_eq(pthread_create(&mutator, NULL, background_mutator, NULL), 0);
  ck_assert_int_eq(pthread_create(&hog, NULL, cpu_hog, NULL), 0);
  while (atomic_load(&shared_cpu_threads_ready) < 2) beskid_os_sleep_ns(1000000);
  beskid_os_sleep_ns(20000000); /* both on their CPU, the mutator behind */
  void *dropped[GC_GROW_STASH_MAX];
  beskid_os_mutex_lock(&gc.heap_lock);
  uint32_t n = beskid_gc__grow_drop(dropped);
  ck_assert_ptr_null(beskid_gc__grow_take()); /* the stash is empty: wakes the grower */
  beskid_os_mutex_unlock(&gc.heap_lock);
  uint64_t made = stats_now().ready_chunks_made;
  beskid_os_sleep_ns(100000000);
  made = stats_now().ready_chunks_made - made;
  atomic_store(&shared_cpu_threads_stop, true);
  pthread_join(mutator, NULL);
  pthread_join(hog, NULL);
  beskid_os_mutex_lock(&gc.map_lock);
  beskid_gc__blocks_free(dropped, n);
  beskid_os_mutex_unlock(&gc.map_lock);
  ck_assert_msg(made == 0, "the grower made %llu chunks while a mutator waited for its CPU",
                (unsigned long long)made);
  beskid_gc_leave_native(T);
  assert_grower_works_again(grower);
  stop_case();
}
END_TEST

/* A heap that shrank gives its ready chunks back with the empty ones: they are for growth. */
START_TEST(test_ready_chunks_go_back_when_the_heap_shrinks) {
  start_background();
  grow(32 * MIB_SCALE * MIB);
  ck_assert_uint_gt(wait_for_ready(0).ready_bytes, 0);
  memset(heads, 0, sizeof heads);
  for (int i = 0; i < 3; i++) beskid_gc_collect(T);
  beskid_gc_stats_t st = stats_now();
  ck_assert_msg(st.ready_bytes == 0, "%llu KiB still ready after the drop (committed %llu KiB)",
                (unsigned long long)(st.ready_bytes >> 10),
                (unsigned long long)(st.committed_bytes >> 10));
  stop_case();
}
END_TEST

/* Without the grower (manual mode) every chunk comes straight from mimalloc, its pages not
 * resident yet: a new span's pages are made resident in one call when the span is made, not
 * faulted in one at a time as its slots are handed out. Checked on the first object of each
 * new span, when the span's first run of slots (64 cells, 2 KiB) is all its allocation touched.
 * Then the same for spans built on pages the scavenger gave back. */
START_TEST(test_new_spans_are_resident) {
  start_with(BESKID_GC_DEBUG_MANUAL, 0);
  uint64_t checked = 0;
  for (int round = 0; round < 2; round++) {
    uintptr_t last_span = 0;
    for (uint64_t i = 0; i < 8 * MIB / sizeof(cell); i++) {
      cell *c = beskid_gc_alloc(T, &cell_type);
      ck_assert_ptr_nonnull(c);
      beskid_gc_store(T, (void **)&c->next, heads[i % LISTS]);
      heads[i % LISTS] = c;
      gc_span *s = beskid_gc__span_of((uintptr_t)c);
      if (s->base == last_span) continue;
      last_span = s->base;
      uint64_t span_bytes = (uint64_t)s->npages << GC_PAGE_SHIFT;
      ck_assert_msg(resident_bytes((void *)s->base, span_bytes) == span_bytes,
                    "round %d: span %p (%u pages) not resident at its first object", round,
                    (void *)s->base, s->npages);
      checked++;
    }
    /* Drop everything and give the pages back, so the next round builds on released pages. */
    give_everything_up();
    beskid_gc__scavenge(0, UINT64_MAX);
  }
  ck_assert_uint_gt(checked, 2 * 8 * MIB / GC_PAGE_SIZE / 2);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  stop_case();
}
END_TEST

/* Populates by attached threads, those made while the thread was running, and the bytes they
 * populated in the span table (test_hook). */
static _Atomic uint64_t populates_attached, populates_running, table_populated;

static void count_populate(void *addr, size_t size) {
  beskid_gc_thread_t *self = beskid_gc_current();
  if (self == NULL) return; /* the grower, which no stop waits for */
  atomic_fetch_add(&populates_attached, 1);
  if (!beskid_gc_in_native(self)) atomic_fetch_add(&populates_running, 1);
  uintptr_t a = (uintptr_t)addr, table = (uintptr_t)gc.span_table;
  if (a >= table && a < table + gc.span_table_bytes) atomic_fetch_add(&table_populated, size);
}

/* A mutator populates a new span's pages in the native state, so a stop never waits for the
 * call: on memory the machine never backed before, populating one 8 KiB span took 240 us on this
 * project's virtual machines, and a stop of gcbench waited 0.3 ms for it. A new chunk's part of
 * the span table is populated the same way, in one call as the chunk is made, and not faulted in
 * page by page under the heap lock as spans are carved: most of the table describing the grown
 * heap came from such calls. Manual mode, so that no chunk comes ready from the grower: every
 * new span and chunk is populated by the allocating thread. */
START_TEST(test_spans_populate_in_the_native_state) {
  start_with(BESKID_GC_DEBUG_MANUAL, 0);
  atomic_store(&populates_attached, 0);
  atomic_store(&populates_running, 0);
  atomic_store(&table_populated, 0);
  beskid_os_test_on_populate(count_populate);
  grow(8 * MIB);
  beskid_os_test_on_populate(NULL);
  uint64_t attached = atomic_load(&populates_attached), running = atomic_load(&populates_running);
  ck_assert_uint_ge(attached, 8 * MIB / GC_PAGE_SIZE / 2);
  ck_assert_msg(running == 0, "%llu of %llu populates ran in the running state",
                (unsigned long long)running, (unsigned long long)attached);
  uint64_t table_bytes = 8 * MIB / GC_PAGE_SIZE * sizeof(gc_span);
  ck_assert_msg(atomic_load(&table_populated) >= table_bytes / 2,
                "%llu bytes of span table populated for %llu describing the grown heap",
                (unsigned long long)atomic_load(&table_populated), (unsigned long long)table_bytes);
  stop_case();
}
END_TEST

/* Chunks the heap gives up keep nothing resident. mimalloc writes its free-list link into a
 * block freed to it, which made one OS page of every chunk given back resident again (5.3 MiB
 * after the shrink workload's drop); the heap now keeps those blocks as spares instead. So every
 * resident page of the arena is one the heap counts as kept (committed minus released), but for
 * mimalloc's metadata at the head of each 32 MiB segment (44 KiB measured). With the blocks freed
 * to mimalloc, this case's arena held about 700 KiB more in the dev preset. Then the spares make
 * the next chunks, whose objects read zero. */
START_TEST(test_chunks_given_up_keep_no_memory) {
  const uint64_t big = 96 * MIB_SCALE * MIB;
  start_with(BESKID_GC_DEBUG_MANUAL, 0);
  grow(big);
  beskid_gc_collect(T);
  uint64_t peak = stats_now().committed_bytes, page_table_peak = page_table_resident();
  give_everything_up();
  beskid_gc_stats_t st = stats_now();
  /* The page table's entries for the chunks given up go with them: what stays describes the
   * chunks kept, an OS page of the table (4 MiB of heap) at most for each, and the OS pages
   * the ends of the runs given up share with them. Before, it kept every entry of the peak. */
  uint64_t page_table = page_table_resident();
  uint64_t kept_chunks = (st.committed_bytes - st.released_bytes) / MIB;
  uint64_t page_table_bound = (kept_chunks + 4) * (uint64_t)sysconf(_SC_PAGESIZE);
  ck_assert_uint_ge(page_table_peak, big / GC_PAGE_SIZE * sizeof(gc_span *));
  ck_assert_msg(page_table <= page_table_bound,
                "page table resident: %llu KiB after giving up the chunks (%llu KiB at the "
                "peak), %llu KiB allowed for %llu chunks kept",
                (unsigned long long)(page_table >> 10), (unsigned long long)(page_table_peak >> 10),
                (unsigned long long)(page_table_bound >> 10), (unsigned long long)kept_chunks);
  uint64_t spares = spare_bytes();
  ck_assert_msg(spares >= peak / 2, "%llu KiB of spares out of a %llu KiB heap",
                (unsigned long long)(spares >> 10), (unsigned long long)(peak >> 10));
  uint64_t kept = st.committed_bytes - st.released_bytes;
  uint64_t arena = resident_bytes((void *)gc.arena_base, (size_t)gc.arena_size);
  uint64_t metadata = (peak / (32 * MIB) + 1) * 48 * 1024 + 128 * 1024;
  ck_assert_msg(arena <= kept + metadata,
                "the arena keeps %llu KiB resident, the heap counts %llu KiB kept (%llu KiB of "
                "segment metadata allowed, %llu KiB of spares)",
                (unsigned long long)(arena >> 10), (unsigned long long)(kept >> 10),
                (unsigned long long)(metadata >> 10), (unsigned long long)(spares >> 10));
  for (uint64_t i = 0; i < big / 4 / sizeof(cell); i++) {
    cell *c = beskid_gc_alloc(T, &cell_type);
    ck_assert_ptr_nonnull(c);
    ck_assert(c->next == NULL && c->value == 0 && c->pad == 0);
    beskid_gc_store(T, (void **)&c->next, heads[i % LISTS]);
    heads[i % LISTS] = c;
  }
  ck_assert_uint_le(spare_bytes() + big / 4, spares);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  stop_case();
}
END_TEST

/* Spares hold address space: in an arena they fill, a large object's dedicated chunk, which
 * mimalloc cannot place among them, makes them go back to mimalloc first. A 64 MiB arena (the
 * smallest) holds 40 MiB of spares; a 40 MiB byte array needs most of the arena, and fails without
 * the spares going back. */
START_TEST(test_spares_make_room_for_a_large_object) {
  start_in(BESKID_GC_DEBUG_MANUAL, 0, 64 * MIB);
  grow(40 * MIB);
  give_everything_up();
  uint64_t spares = spare_bytes();
  ck_assert_uint_ge(spares, 32 * MIB);
  beskid_array_buffer_t *big = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 40 * MIB);
  ck_assert_msg(big != NULL, "no room for a 40 MiB array beside %llu KiB of spares",
                (unsigned long long)(spares >> 10));
  heads[0] = big;
  ck_assert_uint_eq(spare_bytes(), 0);
  ck_assert_uint_eq(beskid_gc_verify(T), 0);
  stop_case();
}
END_TEST

/* Where the OS overcommits, the arena is readable and writable from the start, so that growing
 * the heap never changes the protection of its memory: mimalloc's commit was an mprotect, which
 * takes the address space's lock for writing, and the heap's populates and resets queued behind
 * it (heap.c, arena_reserve). Every part of the arena in /proc/self/maps must be read-write
 * after the heap grew, with the grower at work. */
START_TEST(test_growth_changes_no_protection) {
  if (!beskid_os_vm_overcommits()) return; /* strict accounting: mimalloc commits, as it must */
  start_background();
  grow(64 * MIB_SCALE * MIB);
  beskid_gc_collect(T);
  FILE *maps = fopen("/proc/self/maps", "r");
  ck_assert_ptr_nonnull(maps);
  char line[512];
  uintptr_t covered = 0, arena_end = gc.arena_base + gc.arena_size;
  while (fgets(line, sizeof line, maps) != NULL) {
    unsigned long from = 0, to = 0;
    char perms[5] = {0};
    if (sscanf(line, "%lx-%lx %4s", &from, &to, perms) != 3) continue;
    if (to <= gc.arena_base || from >= arena_end) continue;
    ck_assert_msg(perms[0] == 'r' && perms[1] == 'w', "part of the arena is mapped %s: %s", perms,
                  line);
    covered += (to < arena_end ? to : arena_end) - (from > gc.arena_base ? from : gc.arena_base);
  }
  fclose(maps);
  ck_assert_uint_eq(covered, gc.arena_size); /* and all of it mapped */
  stop_case();
}
END_TEST

/* Shutting down while the grower is busy (the heap grew an instant before) leaves nothing
 * behind for the next collector; the sanitizer presets check the memory and the threads. */
START_TEST(test_shutdown_while_growing) {
  for (int round = 0; round < 10; round++) {
    start_background();
    churn(4 * MIB);
    stop_case();
  }
}
END_TEST

void beskid_gc_memory_cases(Suite *suite) {
  TCase *tc = tcase_create("memory");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_rss_follows_live_heap_down);
  tcase_add_test(tc, test_memory_limit_holds_rss);
  tcase_add_test(tc, test_chunks_given_up_keep_no_memory);
  tcase_add_test(tc, test_spares_make_room_for_a_large_object);
  tcase_add_test(tc, test_growth_changes_no_protection);
  suite_add_tcase(suite, tc);
  TCase *grow_tc = tcase_create("grow");
  tcase_set_timeout(grow_tc, 120);
  tcase_add_test(grow_tc, test_grower_keeps_chunks_ready);
  tcase_add_test(grow_tc, test_ready_chunks_read_zero);
  tcase_add_test(grow_tc, test_ready_chunks_go_back_when_the_heap_shrinks);
  tcase_add_test(grow_tc, test_shutdown_while_growing);
  tcase_add_test(grow_tc, test_grower_sits_out_stops);
  tcase_add_test(grow_tc, test_grower_leaves_a_starved_mutator_its_cpu);
  tcase_add_test(grow_tc, test_new_spans_are_resident);
  tcase_add_test(grow_tc, test_spans_populate_in_the_native_state);
  suite_add_tcase(suite, grow_tc);
}
