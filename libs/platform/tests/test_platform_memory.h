/* test_platform_memory.h — the platform suite's cases for the runtime's own memory
 * (test_platform_memory.c), added to the suite by test_platform.c's main. */
#ifndef BESKID_TEST_PLATFORM_MEMORY_H
#define BESKID_TEST_PLATFORM_MEMORY_H

#include <check.h>

/* Adds the overflow-checked allocation and failure-hook cases to `suite`. */
void beskid_platform_memory_cases(Suite *suite);

#endif
