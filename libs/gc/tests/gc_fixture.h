/* gc_fixture.h — what every case of the gc suite shares: the test types (node, leaf), the calling
 * thread's context T, starting and stopping a collector, allocating, storing with the barrier,
 * and a rooted scenario's frame.
 *
 * Each test starts a fresh collector (Check forks a process per test), attaches, runs one
 * scenario and shuts down. Deterministic tests use BESKID_GC_DEBUG_MANUAL and the step hooks
 * (beskid_test_hooks.h) to put the collector in the exact phase a race needs; the soak and fuzz
 * tests run the background collector with real threads. "Reclaimed" is asserted through the
 * allocator (the object's slot is no longer allocated) and "kept" through the object's bytes,
 * checked after clobber mode has overwritten everything the sweeper freed. Include this header
 * first. */
#ifndef BESKID_GC_FIXTURE_H
#define BESKID_GC_FIXTURE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beskid/gc.h"
#include "beskid/platform.h"
#include "check_support.h"
#include "internal.h"

/* struct Node { Node *left @8; Node *right @16; i64 value @24 } */
extern const beskid_type_t node_type;
/* struct Leaf { i64 value @8; i64 pad @16 } */
extern const beskid_type_t leaf_type;

typedef struct node {
  beskid_header_t header;
  struct node *left;
  struct node *right;
  int64_t value;
} node;

typedef struct leaf {
  beskid_header_t header;
  int64_t value;
  int64_t pad;
} leaf;

/* The test thread's context, set by start() and start_config(). */
extern beskid_gc_thread_t *T;

/* The collector's verifier and trace lines, shown in the test output when something fails. */
void log_to_stderr(const char *line, void *context);

/* The defaults with `debug_flags` and 4 GiB of address space: what start() starts with. */
void test_config(beskid_gc_config_t *config, uint32_t debug_flags);
/* Starts a collector with test_config(debug_flags) and attaches the test thread. */
void start(uint32_t debug_flags);
/* Starts a collector with `config` (its log defaults to stderr) and attaches the test thread. */
void start_config(beskid_gc_config_t *config);
/* Verifies the heap (no problem allowed), detaches and shuts down. */
void stop(void);

/* Allocates a node / leaf holding `value` (asserted non-NULL). */
node *new_node(int64_t value);
leaf *new_leaf(int64_t value);
/* Stores with the write barrier. */
void set_left(node *parent, node *child);
void set_right(node *parent, node *child);
/* Whether `p` is the start of an allocated object. */
bool allocated(const void *p);

/* The debug flags of most scenarios: cycles only when asked, freed objects overwritten. */
#define GC_TEST_MANUAL_CLOBBER (BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER)

/* A rooted scenario: starts a collector with `debug_flags` and pushes `frame` over the `count`
 * zeroed `slots`; rooted_stop() pops it and stops. */
void rooted_start(uint32_t debug_flags, beskid_root_frame_t *frame, void **slots, uint32_t count);
void rooted_stop(beskid_root_frame_t *frame);
/* Declares `slots` (n of them) and `frame` in the calling test and starts a rooted scenario. */
#define ROOTED_SCENARIO(n, debug_flags)                                                            \
  void *slots[n];                                                                                  \
  beskid_root_frame_t frame;                                                                       \
  rooted_start((debug_flags), &frame, slots, (n))
/* The races' flags: manual cycles, clobbering and checkmark after every mark. */
#define GC_TEST_RACE (BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_CHECKMARK)
/* Collects and asserts whether `object` is still allocated afterwards. */
void collect_expect_allocated(const void *object, bool expected);

/* Starts `fn(flag)` on a new thread named `name` and waits until the thread sets *flag to 1. */
void spawn_until_ready(beskid_os_thread_t *thread, beskid_os_thread_fn fn, atomic_int *flag,
                       const char *name);

/* One registration function per group file (test_gc_<group>.c). */
void gc_cases_lifecycle(Suite *suite);
void gc_cases_alloc(Suite *suite);
void gc_cases_scenarios(Suite *suite);
void gc_cases_barrier(Suite *suite);
void gc_cases_objects(Suite *suite);
void gc_cases_pacing(Suite *suite);
void gc_cases_threads(Suite *suite);
void gc_cases_fork(Suite *suite);
void gc_cases_fuzz(Suite *suite);

#endif
