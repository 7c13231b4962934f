/* test_objmodel.c — the Check suite of libs/objmodel. */
#include <stdlib.h>

#include "beskid/objmodel.h"
#include "check_support.h"

int main(void) {
  Suite *suite = suite_create("objmodel");
  suite_add_tcase(suite,
                  beskid_test_version_case(beskid_objmodel_version, BESKID_OBJMODEL_VERSION_STRING,
                                           BESKID_TEST_VERSION_FILE));
  return beskid_test_run(suite);
}
