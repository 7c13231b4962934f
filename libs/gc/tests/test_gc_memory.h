/* test_gc_memory.h — the memory-footprint cases of the gc suite (test_gc_memory.c), added to the
 * suite by test_gc.c's main. */
#ifndef BESKID_TEST_GC_MEMORY_H
#define BESKID_TEST_GC_MEMORY_H

#include <check.h>

/* Adds the heap-shrink and soft-memory-limit cases (resident memory read from /proc) and the
 * cases of the chunks made ready ahead of growth to `suite`. */
void beskid_gc_memory_cases(Suite *suite);

#endif
