/* bundle_alone.c — linked against libbeskid_runtime.a and nothing else (but -lpthread -lm):
 * proves the bundle is self-contained, mimalloc included, and that it does not replace the C
 * library's malloc. */
#include <stdio.h>
#include <stdlib.h>

#include "beskid/objmodel.h"
#include "beskid/platform.h"
#include "mimalloc.h"

int main(void) {
  void *p = mi_malloc(64);
  void *q = malloc(64);
  if (p == NULL || q == NULL) return 1;
  /* The C allocator's block must not be a mimalloc block: malloc is not overridden. */
  if (mi_is_in_heap_region(q)) return 2;
  if (!mi_is_in_heap_region(p)) return 3;
  mi_free(p);
  free(q);
  if (beskid_os_cpu_count() < 1) return 4;
  if (beskid_obj_validate_type(&beskid_obj_array_type) != BESKID_OBJ_VALID) return 5;
  puts("bundle alone ok");
  return 0;
}
