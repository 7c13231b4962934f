/* layouts.c — the object model as a compiler sees it: a struct type's descriptor, validated the
 * way the runtime validates every descriptor it is handed, and its pointer slots walked the way
 * the collector walks them. Uses only libs/platform and libs/objmodel through the bundle. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "beskid/objmodel.h"
#include "beskid/platform.h"

/* struct Person { name: string; age: int; friend: Person } lowered to
 * [header 16][name.ptr @16][name.len @24][age @32][friend @40] */
static const uint64_t person_map[] = {16, 40};
static const beskid_type_t person_type = {48, 8, person_map, 2, BESKID_TYPE_AGGREGATE, 0};

/* The same type with a pointer map that points into the header: refused. */
static const uint64_t broken_map[] = {8};
static const beskid_type_t broken_type = {48, 8, broken_map, 1, BESKID_TYPE_AGGREGATE, 0};

int main(void) {
  printf("platform %s, objmodel %s, %" PRIu32 " CPUs\n", beskid_platform_version(),
         beskid_objmodel_version(), beskid_os_cpu_count());

  printf("person: %s\n", beskid_obj_error_message(beskid_obj_validate_type(&person_type)));
  printf("broken: %s\n", beskid_obj_error_message(beskid_obj_validate_type(&broken_type)));

  _Alignas(16) unsigned char object[48];
  memset(object, 0, sizeof object);
  beskid_header_t header = {&person_type, 0};
  memcpy(object, &header, sizeof header);
  beskid_obj_slot_iter_t it;
  beskid_obj_slots_begin(&it, object);
  for (void **slot; (slot = beskid_obj_slots_next(&it)) != NULL;) {
    printf("pointer slot at offset %td\n", (unsigned char *)slot - object);
  }
  const char *greeting = "za\xC5\xBC\xC3\xB3\xC5\x82\xC4\x87 g\xC4\x99\xC5\x9Bl\xC4\x85 ja\xC5\xBA\xC5\x84";
  printf("utf-8 greeting valid: %s\n",
         beskid_obj_utf8_valid((const uint8_t *)greeting, strlen(greeting), NULL) ? "yes" : "no");
  return 0;
}
