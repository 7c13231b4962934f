/* consumer.c — a program built against an installed Beskid runtime (CMake package and
 * pkg-config). It prints every library's version and validates a descriptor through objmodel. */
#include <stdio.h>
#include <string.h>

#include "beskid/builtins.h"
#include "beskid/gc.h"
#include "beskid/objmodel.h"
#include "beskid/platform.h"
#include "beskid/stdhost.h"

static const uint64_t node_map[] = {16, 24};
static const beskid_type_t node_type = {32, 8, node_map, 2, BESKID_TYPE_AGGREGATE, 0};

int main(void) {
  const char *versions[] = {beskid_platform_version(), beskid_objmodel_version(),
                            beskid_gc_version(), beskid_builtins_version(),
                            beskid_stdhost_version()};
  for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
    if (versions[i] == NULL || strchr(versions[i], '.') == NULL) return 1;
    printf("%s\n", versions[i]);
  }
  if (beskid_obj_validate_type(&node_type) != BESKID_OBJ_VALID) return 2;
  printf("consumer ok\n");
  return 0;
}
