/* test_gc.c — the Check suite of libs/gc: one file per group of cases (test_gc_<group>.c), the
 * shared fixture in gc_fixture.h, the robustness cases in test_gc_robust.c, the memory-return cases
 * in test_gc_memory.c. */
#include "gc_fixture.h"
#include "test_gc_memory.h"
#include "test_gc_robust.h"

int main(void) {
  Suite *suite = suite_create("gc");
  suite_add_tcase(suite, beskid_test_version_case(beskid_gc_version, BESKID_GC_VERSION_STRING,
                                                  BESKID_TEST_VERSION_FILE));
  gc_cases_lifecycle(suite);
  gc_cases_alloc(suite);
  gc_cases_scenarios(suite);
  gc_cases_barrier(suite);
  gc_cases_objects(suite);
  gc_cases_pacing(suite);
  gc_cases_threads(suite);
  gc_cases_fork(suite);
  gc_cases_fuzz(suite);
  beskid_gc_robust_cases(suite);
  beskid_gc_memory_cases(suite);
  return beskid_test_run(suite);
}
