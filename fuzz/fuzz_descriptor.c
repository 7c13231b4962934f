/* fuzz_descriptor.c — libFuzzer harness for type and element descriptor validation
 * (libs/objmodel): beskid_obj_validate_type(), beskid_obj_validate_elem_type(),
 * beskid_obj_array_size() and the pointer-slot iterator.
 *
 * The input is a descriptor (size, alignment, flags, reserved, then a pointer map of as many
 * offsets as the input holds, at most 512) and an array capacity. A reference model restates
 * the rules of objmodel.h independently; the runtime must accept exactly the descriptors the
 * model accepts, and for an accepted one the slot iterator must visit exactly the map's slots
 * (of every element of an array buffer) and array_size must agree with 128-bit arithmetic. */
#include "beskid/objmodel.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAP_MAX = 512 };

static bool pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

static bool map_ok(const uint64_t *map, uint64_t count, uint64_t limit, uint64_t low) {
  for (uint64_t i = 0; i < count; i++) {
    if (map[i] % 8 != 0 || map[i] < low || map[i] > limit || limit - map[i] < 8) return false;
    if (i > 0 && map[i] <= map[i - 1]) return false;
  }
  return true;
}

static bool type_valid_model(const beskid_type_t *t) {
  if (t->size < BESKID_HEADER_SIZE || t->size > BESKID_OBJECT_SIZE_MAX) return false;
  if (!pow2(t->align) || t->align < 8 || t->align > 16) return false;
  if (t->pointer_count > 0 && t->pointer_map == NULL) return false;
  if (t->reserved != 0) return false;
  if (t->flags == BESKID_TYPE_ARRAY) {
    if (t->size != BESKID_ARRAY_DATA_OFFSET || t->pointer_count != 0) return false;
  } else if (t->flags != BESKID_TYPE_AGGREGATE) {
    return false;
  }
  return map_ok(t->pointer_map, t->pointer_count, t->size, BESKID_HEADER_SIZE);
}

static bool elem_valid_model(const beskid_elem_type_t *e) {
  if (e->stride < 1 || e->stride > BESKID_ELEM_STRIDE_MAX) return false;
  if (!pow2(e->align) || e->align > BESKID_ELEM_ALIGN_MAX || e->stride % e->align != 0) {
    return false;
  }
  if (e->pointer_count > 0 && (e->pointer_map == NULL || e->align < 8)) return false;
  return map_ok(e->pointer_map, e->pointer_count, e->stride, 0);
}

/* Visits the slots of an object of `t` in a zeroed buffer and compares them with the map. */
static void check_type_slots(const beskid_type_t *t) {
  if (t->size > 4096) return;
  static uint64_t object[4096 / 8];
  memset(object, 0, sizeof object);
  ((beskid_header_t *)object)->type = t;
  beskid_obj_slot_iter_t it;
  beskid_obj_slots_begin(&it, object);
  for (uint64_t i = 0; i < t->pointer_count; i++) {
    void **slot = beskid_obj_slots_next(&it);
    FUZZ_CHECK(slot == (void **)((char *)object + t->pointer_map[i]), "slot %llu",
               (unsigned long long)i);
  }
  FUZZ_CHECK(beskid_obj_slots_next(&it) == NULL, "slots past the map");
}

static void check_elem(const beskid_elem_type_t *e, uint64_t capacity) {
  uint64_t got = 0;
  bool ok = beskid_obj_array_size(e, capacity, &got);
  unsigned __int128 want = (unsigned __int128)e->stride * capacity + BESKID_ARRAY_DATA_OFFSET;
  bool want_ok = want <= BESKID_OBJECT_SIZE_MAX;
  FUZZ_CHECK(ok == want_ok, "array_size(stride %llu, cap %llu) = %d", (unsigned long long)e->stride,
             (unsigned long long)capacity, ok);
  if (ok) FUZZ_CHECK(got == (uint64_t)want, "array_size value");
  /* The slots of a small array buffer: every map entry of every element, in address order. */
  if (!ok || got > 1 << 16) return;
  static uint64_t buffer[(1 << 16) / 8];
  memset(buffer, 0, (size_t)got);
  beskid_array_buffer_t *b = (beskid_array_buffer_t *)buffer;
  b->header.type = &beskid_obj_array_type;
  b->elem = e;
  b->capacity = capacity;
  beskid_obj_slot_iter_t it;
  beskid_obj_slots_begin(&it, b);
  char *data = beskid_obj_array_data(b);
  for (uint64_t k = 0; k < capacity; k++) {
    for (uint64_t i = 0; i < e->pointer_count; i++) {
      void **slot = beskid_obj_slots_next(&it);
      FUZZ_CHECK(slot == (void **)(data + k * e->stride + e->pointer_map[i]),
                 "element %llu slot %llu", (unsigned long long)k, (unsigned long long)i);
    }
  }
  FUZZ_CHECK(beskid_obj_slots_next(&it) == NULL, "slots past the elements");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size, 0};
  uint8_t shape = fuzz_u8(&in);
  /* Sizes are mostly small (bit 0), sometimes any 64-bit value. */
  uint64_t a = fuzz_u64(&in), b = fuzz_u64(&in), capacity = fuzz_u64(&in);
  if (shape & 1) {
    a %= 4200;
    b = (uint64_t)1 << (b % 6);
    capacity %= 300;
  }
  uint32_t flags = (shape & 2) ? (uint32_t)fuzz_u8(&in) % 3 : 0;
  uint32_t reserved = (shape & 4) ? fuzz_u8(&in) : 0;
  static uint64_t map[MAP_MAX];
  uint64_t count = 0;
  while (count < MAP_MAX && fuzz_more(&in)) {
    uint64_t off = (shape & 8) ? fuzz_u64(&in) : (uint64_t)fuzz_u8(&in) * 8 + (shape & 16 ? 4 : 0);
    map[count++] = off;
  }
  /* bit 5: keep the map sorted as a compiler would emit it. */
  if (shape & 32) {
    for (uint64_t i = 1; i < count; i++) {
      for (uint64_t j = i; j > 0 && map[j - 1] > map[j]; j--) {
        uint64_t t = map[j];
        map[j] = map[j - 1];
        map[j - 1] = t;
      }
    }
  }
  const uint64_t *map_ptr = (shape & 64) && count > 0 ? NULL : map;

  beskid_type_t type = {a, b, map_ptr, count, flags, reserved};
  beskid_obj_error te = beskid_obj_validate_type(&type);
  FUZZ_CHECK((te == BESKID_OBJ_VALID) == type_valid_model(&type), "type: runtime says %d (%s)",
             (int)te, beskid_obj_error_message(te));
  FUZZ_CHECK(beskid_obj_error_message(te) != NULL, "message");
  if (te == BESKID_OBJ_VALID && type.flags == BESKID_TYPE_AGGREGATE) check_type_slots(&type);

  beskid_elem_type_t elem = {a, b, map_ptr, count};
  beskid_obj_error ee = beskid_obj_validate_elem_type(&elem);
  FUZZ_CHECK((ee == BESKID_OBJ_VALID) == elem_valid_model(&elem), "elem: runtime says %d (%s)",
             (int)ee, beskid_obj_error_message(ee));
  if (ee == BESKID_OBJ_VALID) check_elem(&elem, capacity);
  FUZZ_CHECK(beskid_obj_validate_type(NULL) == BESKID_OBJ_NULL_DESCRIPTOR, "NULL type");
  FUZZ_CHECK(beskid_obj_validate_elem_type(NULL) == BESKID_OBJ_NULL_DESCRIPTOR, "NULL elem");
  return 0;
}
