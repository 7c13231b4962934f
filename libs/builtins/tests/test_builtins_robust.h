/* test_builtins_robust.h — the robustness cases of the builtins suite (test_builtins_robust.c),
 * added to the suite by test_builtins.c's main. */
#ifndef BESKID_TEST_BUILTINS_ROBUST_H
#define BESKID_TEST_BUILTINS_ROBUST_H

#include <check.h>

/* Adds the out-of-memory, bounded-table, heap-cap and allocation-failure cases to `suite`. */
void beskid_builtins_robust_cases(Suite *suite);

#endif
