/* test_gc.c — the Check suite of libs/gc. */
#include <stdlib.h>

#include "beskid/gc.h"
#include "check_support.h"

int main(void) {
  Suite *suite = suite_create("gc");
  suite_add_tcase(suite, beskid_test_version_case(beskid_gc_version, BESKID_GC_VERSION_STRING,
                                                  BESKID_TEST_VERSION_FILE));
  return beskid_test_run(suite);
}
