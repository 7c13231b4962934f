/* test_platform.c — the Check suite of libs/platform. */
#include <stdlib.h>

#include "beskid/platform.h"
#include "check_support.h"

int main(void) {
  Suite *suite = suite_create("platform");
  suite_add_tcase(suite,
                  beskid_test_version_case(beskid_platform_version, BESKID_PLATFORM_VERSION_STRING,
                                           BESKID_TEST_VERSION_FILE));
  return beskid_test_run(suite);
}
