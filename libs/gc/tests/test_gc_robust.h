/* test_gc_robust.h — the robustness cases of the gc suite (test_gc_robust.c), added to the suite
 * by test_gc.c's main. */
#ifndef BESKID_TEST_GC_ROBUST_H
#define BESKID_TEST_GC_ROBUST_H

#include <check.h>

/* Adds the verifier, root-table, reservation and allocation-failure cases to `suite`. */
void beskid_gc_robust_cases(Suite *suite);

#endif
