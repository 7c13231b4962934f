/* bundle_alone.c — linked against libbeskid_runtime.a and nothing else (but -lpthread -lm):
 * proves the bundle is self-contained, mimalloc included, and that both allocators work side by
 * side. (That the bundle does not override malloc is checked on its symbols by bundle.sh: it
 * defines no unprefixed name outside the ABI.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/objmodel.h"
#include "beskid/platform.h"
#include "mimalloc.h"

int main(void) {
  char *p = mi_malloc(64);
  char *q = malloc(64);
  int failed = p == NULL || q == NULL || mi_usable_size(p) < 64;
  if (!failed) {
    memset(p, 1, 64);
    memset(q, 2, 64);
  }
  mi_free(p);
  free(q);
  failed |= beskid_os_cpu_count() < 1;
  failed |= beskid_obj_validate_type(&beskid_obj_array_type) != BESKID_OBJ_VALID;
  puts(failed ? "bundle alone FAILED" : "bundle alone ok");
  return failed;
}
