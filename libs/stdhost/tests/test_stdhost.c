/* test_stdhost.c — the Check suite of libs/stdhost. */
#include <stdlib.h>

#include "beskid/stdhost.h"
#include "check_support.h"

int main(void) {
  Suite *suite = suite_create("stdhost");
  suite_add_tcase(suite,
                  beskid_test_version_case(beskid_stdhost_version, BESKID_STDHOST_VERSION_STRING,
                                           BESKID_TEST_VERSION_FILE));
  return beskid_test_run(suite);
}
