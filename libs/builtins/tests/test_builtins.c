/* test_builtins.c — the Check suite of libs/builtins. */
#include <stdlib.h>

#include "beskid/builtins.h"
#include "check_support.h"

int main(void) {
  Suite *suite = suite_create("builtins");
  suite_add_tcase(suite,
                  beskid_test_version_case(beskid_builtins_version, BESKID_BUILTINS_VERSION_STRING,
                                           BESKID_TEST_VERSION_FILE));
  return beskid_test_run(suite);
}
