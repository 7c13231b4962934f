/* objmodel.c — the layouts' static checks, the runtime-owned descriptors, descriptor validation,
 * object sizes and pointer-slot iteration.
 *
 * Validation is written so that no input can make it overflow or read past `pointer_count` map
 * entries: the count is bounded by the object size before the map is touched, and every offset
 * test is phrased so that `offset + 8` is never computed. */
#include <stddef.h>
#include <string.h>

#include "beskid/objmodel.h"

/* ------------------------------------------------------------------------------------------ */
/* The ABI layouts (upstream v5 with ABI 2's one-word header), checked at compile time on every
 * target. */

_Static_assert(sizeof(void *) == 8, "the Beskid ABI is defined for 64-bit targets");
_Static_assert(sizeof(beskid_header_t) == 8, "object header is one word");
_Static_assert(offsetof(beskid_header_t, type) == 0, "header: type @0");
_Static_assert(BESKID_HEADER_SIZE == sizeof(beskid_header_t), "BESKID_HEADER_SIZE");

_Static_assert(sizeof(beskid_type_t) == 40, "type descriptor is 40 bytes");
_Static_assert(offsetof(beskid_type_t, size) == 0, "type: size @0");
_Static_assert(offsetof(beskid_type_t, align) == 8, "type: align @8");
_Static_assert(offsetof(beskid_type_t, pointer_map) == 16, "type: pointer_map @16");
_Static_assert(offsetof(beskid_type_t, pointer_count) == 24, "type: pointer_count @24");
_Static_assert(offsetof(beskid_type_t, flags) == 32, "type: flags @32");
_Static_assert(offsetof(beskid_type_t, reserved) == 36, "type: reserved @36");

_Static_assert(sizeof(beskid_elem_type_t) == 32, "element descriptor is 32 bytes");
_Static_assert(offsetof(beskid_elem_type_t, stride) == 0, "elem: stride @0");
_Static_assert(offsetof(beskid_elem_type_t, align) == 8, "elem: align @8");
_Static_assert(offsetof(beskid_elem_type_t, pointer_map) == 16, "elem: pointer_map @16");
_Static_assert(offsetof(beskid_elem_type_t, pointer_count) == 24, "elem: pointer_count @24");

_Static_assert(sizeof(beskid_array_buffer_t) == BESKID_ARRAY_DATA_OFFSET, "array data @32");
_Static_assert(offsetof(beskid_array_buffer_t, header) == 0, "array buffer: header @0");
_Static_assert(offsetof(beskid_array_buffer_t, elem) == 8, "array buffer: elem @8");
_Static_assert(offsetof(beskid_array_buffer_t, capacity) == 16, "array buffer: capacity @16");
_Static_assert(offsetof(beskid_array_buffer_t, reserved) == 24, "array buffer: reserved @24");
_Static_assert(BESKID_ARRAY_DATA_OFFSET % BESKID_ELEM_ALIGN_MAX == 0, "array data 16-aligned");

_Static_assert(sizeof(beskid_str_t) == 16, "string value is 16 bytes");
_Static_assert(offsetof(beskid_str_t, ptr) == 0, "string: ptr @0");
_Static_assert(offsetof(beskid_str_t, len) == 8, "string: len @8");

_Static_assert(sizeof(beskid_array_t) == 24, "array value is 24 bytes");
_Static_assert(offsetof(beskid_array_t, ptr) == 0, "array: ptr @0");
_Static_assert(offsetof(beskid_array_t, len) == 8, "array: len @8");
_Static_assert(offsetof(beskid_array_t, cap) == 16, "array: cap @16");

_Static_assert(sizeof(beskid_root_frame_t) == 24, "root frame is 24 bytes");
_Static_assert(offsetof(beskid_root_frame_t, previous) == 0, "root frame: previous @0");
_Static_assert(offsetof(beskid_root_frame_t, slots) == 8, "root frame: slots @8");
_Static_assert(offsetof(beskid_root_frame_t, slot_count) == 16, "root frame: slot_count @16");

_Static_assert(sizeof(beskid_handle_t) == 8, "handle is 64 bits");

/* ------------------------------------------------------------------------------------------ */
/* Runtime-owned descriptors */

static const uint64_t pointer_elem_map[] = {0};

const beskid_type_t beskid_obj_array_type = {BESKID_ARRAY_DATA_OFFSET, 16, NULL, 0,
                                             BESKID_TYPE_ARRAY,        0};
const beskid_elem_type_t beskid_obj_byte_elem_type = {1, 1, NULL, 0};
const beskid_elem_type_t beskid_obj_pointer_elem_type = {8, 8, pointer_elem_map, 1};

/* ------------------------------------------------------------------------------------------ */
/* Validation */

static bool power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* Whether `p` is aligned for an object of alignment `align`. A descriptor or pointer map at a
 * misaligned address is refused before any field is read: reading it would be a misaligned
 * load (undefined behaviour, a fault on strict-alignment targets). */
static bool aligned(const void *p, size_t align) { return (uintptr_t)p % align == 0; }

/* Checks `count` offsets of `map` against an extent of `extent` bytes whose first `first` bytes
 * may not hold pointers. The caller has bounded `count` by the extent already. */
static beskid_obj_error check_map(const uint64_t *map, uint64_t count, uint64_t first,
                                  uint64_t extent) {
  for (uint64_t i = 0; i < count; i++) {
    uint64_t off = map[i];
    if (off % 8 != 0) return BESKID_OBJ_OFFSET_UNALIGNED;
    if (off < first) return BESKID_OBJ_OFFSET_IN_HEADER;
    if (off > extent - 8) return BESKID_OBJ_OFFSET_OUT_OF_BOUNDS; /* extent ≥ 8 here */
    if (i > 0 && off <= map[i - 1]) return BESKID_OBJ_OFFSET_NOT_ASCENDING;
  }
  return BESKID_OBJ_VALID;
}

beskid_obj_error beskid_obj_validate_type(const beskid_type_t *type) {
  if (type == NULL) return BESKID_OBJ_NULL_DESCRIPTOR;
  if (!aligned(type, _Alignof(beskid_type_t))) return BESKID_OBJ_MISALIGNED_DESCRIPTOR;
  if (type->reserved != 0 || type->flags > BESKID_TYPE_ARRAY) return BESKID_OBJ_BAD_FLAGS;
  if (type->flags == BESKID_TYPE_ARRAY &&
      (type->size != BESKID_ARRAY_DATA_OFFSET || type->pointer_count != 0)) {
    return BESKID_OBJ_BAD_FLAGS;
  }
  if (type->size < BESKID_HEADER_SIZE) return BESKID_OBJ_SIZE_TOO_SMALL;
  if (type->size > BESKID_OBJECT_SIZE_MAX) return BESKID_OBJ_SIZE_TOO_LARGE;
  if (!power_of_two(type->align) || type->align < 8 || type->align > 16) {
    return BESKID_OBJ_BAD_ALIGNMENT;
  }
  if (type->pointer_count > (type->size - BESKID_HEADER_SIZE) / 8) {
    return BESKID_OBJ_TOO_MANY_POINTERS;
  }
  if (type->pointer_count != 0 && type->pointer_map == NULL) return BESKID_OBJ_NULL_POINTER_MAP;
  if (type->pointer_count != 0 && !aligned(type->pointer_map, _Alignof(uint64_t))) {
    return BESKID_OBJ_MISALIGNED_DESCRIPTOR;
  }
  return check_map(type->pointer_map, type->pointer_count, BESKID_HEADER_SIZE, type->size);
}

beskid_obj_error beskid_obj_validate_elem_type(const beskid_elem_type_t *elem) {
  if (elem == NULL) return BESKID_OBJ_NULL_DESCRIPTOR;
  if (!aligned(elem, _Alignof(beskid_elem_type_t))) return BESKID_OBJ_MISALIGNED_DESCRIPTOR;
  if (elem->stride == 0) return BESKID_OBJ_SIZE_TOO_SMALL;
  if (elem->stride > BESKID_ELEM_STRIDE_MAX) return BESKID_OBJ_SIZE_TOO_LARGE;
  if (!power_of_two(elem->align) || elem->align > BESKID_ELEM_ALIGN_MAX) {
    return BESKID_OBJ_BAD_ALIGNMENT;
  }
  if (elem->stride % elem->align != 0) return BESKID_OBJ_SIZE_NOT_ALIGNED;
  if (elem->pointer_count != 0 && elem->align < 8) return BESKID_OBJ_UNALIGNED_POINTERS;
  if (elem->pointer_count > elem->stride / 8) return BESKID_OBJ_TOO_MANY_POINTERS;
  if (elem->pointer_count != 0 && elem->pointer_map == NULL) return BESKID_OBJ_NULL_POINTER_MAP;
  if (elem->pointer_count != 0 && !aligned(elem->pointer_map, _Alignof(uint64_t))) {
    return BESKID_OBJ_MISALIGNED_DESCRIPTOR;
  }
  return check_map(elem->pointer_map, elem->pointer_count, 0, elem->stride);
}

const char *beskid_obj_error_message(beskid_obj_error error) {
  switch (error) {
  case BESKID_OBJ_VALID:
    return "valid";
  case BESKID_OBJ_NULL_DESCRIPTOR:
    return "the descriptor is NULL";
  case BESKID_OBJ_SIZE_TOO_SMALL:
    return "size smaller than the header (or a zero stride)";
  case BESKID_OBJ_SIZE_TOO_LARGE:
    return "size or stride above the maximum";
  case BESKID_OBJ_BAD_ALIGNMENT:
    return "alignment is not a power of two in the allowed range";
  case BESKID_OBJ_SIZE_NOT_ALIGNED:
    return "stride is not a multiple of the alignment";
  case BESKID_OBJ_NULL_POINTER_MAP:
    return "pointer count without a pointer map";
  case BESKID_OBJ_TOO_MANY_POINTERS:
    return "more pointers than fit in the object";
  case BESKID_OBJ_OFFSET_UNALIGNED:
    return "a pointer offset is not a multiple of 8";
  case BESKID_OBJ_OFFSET_IN_HEADER:
    return "a pointer offset lies in the object header";
  case BESKID_OBJ_OFFSET_OUT_OF_BOUNDS:
    return "a pointer offset lies past the end";
  case BESKID_OBJ_OFFSET_NOT_ASCENDING:
    return "pointer offsets repeat or are out of order";
  case BESKID_OBJ_BAD_FLAGS:
    return "unknown flags, non-zero reserved field or malformed array type";
  case BESKID_OBJ_UNALIGNED_POINTERS:
    return "an element with pointers aligned to less than 8";
  case BESKID_OBJ_MISALIGNED_DESCRIPTOR:
    return "the descriptor or its pointer map is not at an 8-byte aligned address";
  }
  return "unknown validation result";
}

/* ------------------------------------------------------------------------------------------ */
/* Sizes and slots */

bool beskid_obj_array_size(const beskid_elem_type_t *elem, uint64_t capacity, uint64_t *size) {
  uint64_t room = BESKID_OBJECT_SIZE_MAX - BESKID_ARRAY_DATA_OFFSET;
  if (capacity != 0 && elem->stride > room / capacity) return false;
  *size = BESKID_ARRAY_DATA_OFFSET + elem->stride * capacity;
  return true;
}

uint64_t beskid_obj_size(const void *object) {
  const beskid_header_t *h = object;
  if ((h->type->flags & BESKID_TYPE_ARRAY) == 0) return h->type->size;
  const beskid_array_buffer_t *b = object;
  return BESKID_ARRAY_DATA_OFFSET + b->elem->stride * b->capacity;
}

void beskid_obj_slots_begin(beskid_obj_slot_iter_t *iter, void *object) {
  const beskid_header_t *h = object;
  memset(iter, 0, sizeof *iter);
  if ((h->type->flags & BESKID_TYPE_ARRAY) == 0) {
    iter->base = object;
    iter->map = h->type->pointer_map;
    iter->map_count = h->type->pointer_count;
    return;
  }
  beskid_array_buffer_t *b = object;
  if (b->capacity == 0 || b->elem->pointer_count == 0) return; /* nothing to visit: O(1) */
  iter->base = beskid_obj_array_data(b);
  iter->map = b->elem->pointer_map;
  iter->map_count = b->elem->pointer_count;
  iter->stride = b->elem->stride;
  iter->elements_left = b->capacity - 1;
}

void **beskid_obj_slots_next(beskid_obj_slot_iter_t *iter) {
  if (iter->map_index == iter->map_count) {
    if (iter->elements_left == 0 || iter->map_count == 0) return NULL;
    iter->elements_left--;
    iter->base += iter->stride;
    iter->map_index = 0;
  }
  return (void **)(iter->base + iter->map[iter->map_index++]);
}
