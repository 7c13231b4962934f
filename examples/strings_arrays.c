/* strings_arrays.c — strings, slices and arrays of structs as the Beskid compiler lowers them.
 *
 *   class Person { name: string, age: int }
 *   let people: [Person] = ...; let initials: [string] = slices of the names
 *
 * Builds an array of Person objects whose names are heap strings, keeps only one-character
 * slices of the names (interior pointers into the string storage), drops everything else,
 * collects, and checks that the slices and the people are intact. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "beskid/runtime_abi.h"

typedef struct person {
  beskid_header_t header;
  beskid_str_t name; /* name.ptr @8 is a managed pointer */
  int64_t age;       /* @24 */
} person;

static const uint64_t person_map[] = {8};
static const beskid_type_t person_type = {sizeof(person),        8, person_map, 1,
                                          BESKID_TYPE_AGGREGATE, 0};
/* Elements of [Person]: one reference each. */
static const uint64_t ref_map[] = {0};
static const beskid_elem_type_t ref_elem = {8, 8, ref_map, 1};
/* Elements of [string]: {ptr, len}, ptr managed. */
static const uint64_t str_map[] = {0};
static const beskid_elem_type_t str_elem = {16, 8, str_map, 1};

static const char *const names[] = {"Zofia", "Łukasz", "Ægir", "Ōta", "Björk", "Émile"};
enum { N = 6, ROUNDS = 200 };

/* A pointer store as compiled code emits it: barrier check, then the store. */
static inline void store_ptr(beskid_gc_thread_t *t, void **slot, void *value) {
  beskid_gc_store(t, slot, value);
}

int64_t beskid_program_main(void) {
  beskid_gc_thread_t *t = beskid_rt_thread();
  /* roots: people.ptr, initials.ptr, a temporary person, a temporary string */
  void *slots[4] = {0};
  beskid_root_frame_t frame = {t->top_frame, slots, 4};
  t->top_frame = &frame;

  beskid_array_t people, initials;
  beskid_rt_array_new_typed(&people, &ref_elem, N);
  slots[0] = people.ptr;
  beskid_rt_array_new_typed(&initials, &str_elem, N);
  slots[1] = initials.ptr;

  for (int i = 0; i < N; i++) {
    person *p = alloc(sizeof(person), &person_type);
    slots[2] = p;
    beskid_str_t name;
    str_new(&name, (const uint8_t *)names[i], (int64_t)strlen(names[i]));
    p = slots[2];
    store_ptr(t, (void **)&p->name.ptr, (void *)name.ptr);
    p->name.len = name.len;
    p->age = 20 + i;
    store_ptr(t, &((void **)people.ptr)[i], p);
    /* initials[i] = name[0..first char]: a slice pointing into the name's storage */
    beskid_str_t *slice = &((beskid_str_t *)initials.ptr)[i];
    int64_t first = (name.ptr[0] & 0x80) == 0 ? 1 : (name.ptr[0] & 0xE0) == 0xC0 ? 2 : 3;
    store_ptr(t, (void **)&slice->ptr, (void *)name.ptr);
    slice->len = first;
  }
  slots[2] = NULL;

  /* Churn: temporary strings and arrays that die at once. */
  int64_t churned = 0;
  for (int r = 0; r < ROUNDS; r++) {
    beskid_str_t tmp;
    str_new(&tmp, (const uint8_t *)"temporary text", 14);
    beskid_array_t junk;
    array_new(&junk, 8, 64);
    churned += str_len(&tmp) + junk.len;
    beskid_gc_poll(t); /* loop back-edge */
  }
  uint64_t live = gc_collect();

  int64_t ages = 0;
  for (int i = 0; i < N; i++) {
    person *p = ((person **)people.ptr)[i];
    beskid_str_t *slice = &((beskid_str_t *)initials.ptr)[i];
    ages += p->age;
    printf("%.*s %" PRId64 " initial %.*s\n", (int)p->name.len, (const char *)p->name.ptr, p->age,
           (int)slice->len, (const char *)slice->ptr);
  }
  printf("ages %" PRId64 ", churned %" PRId64 ", heap sound %d, live under 64 KiB %d\n", ages,
         churned, gc_heap_verify(), live < 64 * 1024);
  t->top_frame = frame.previous;
  return 0;
}
