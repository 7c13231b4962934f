/**
 * @file objmodel.h
 * @brief libs/objmodel — the layouts compiled Beskid code and the runtime agree on, and their
 * rules.
 *
 * What lives here:
 * - the **object header** every heap object starts with (one word: the type descriptor @0);
 * - the **type descriptor** (40 bytes) compiled code emits for every struct type, with the
 *   **pointer map** that makes the collector precise;
 * - the **element descriptor** (32 bytes) of an array buffer and the **array buffer** itself;
 * - the **string** `{ptr, len}` and **array** `{ptr, len, cap}` values;
 * - the **root frame** compiled code pushes onto its thread's shadow stack;
 * - validation of descriptors, so that a malformed one is refused once, at the boundary, and
 *   never trusted by the collector;
 * - iteration over the managed pointer slots of an object or array buffer;
 * - UTF-8 validation, the rule every Beskid string keeps.
 *
 * This library never allocates and never locks; it is pure functions and constants. Every size
 * and offset below is ABI (the upstream "v5" layouts with ABI 2's one-word header) and is
 * checked by static assertions.
 *
 * Prefix: `beskid_obj_` for functions; layout types are `beskid_<what>_t`.
 */
#ifndef BESKID_OBJMODEL_H
#define BESKID_OBJMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beskid/objmodel_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function or object as part of the library's exported interface. */
#define BESKID_OBJ_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------------------------------ */
/** @name Layouts */
/** @{ */

/** Size in bytes of the object header; a descriptor's size includes it. */
#define BESKID_HEADER_SIZE 8u
/** Largest object or array buffer the runtime will describe, in bytes (2^46 = 64 TiB). */
#define BESKID_OBJECT_SIZE_MAX (UINT64_C(1) << 46)
/** Largest element stride of an array, in bytes. */
#define BESKID_ELEM_STRIDE_MAX (UINT64_C(1) << 32)
/** Largest alignment an array element or a type may ask for (the heap honours up to 16). */
#define BESKID_ELEM_ALIGN_MAX 16u

struct beskid_type_t;

/**
 * @brief The first word of every object in the garbage-collected heap (ABI 2: one word).
 *
 * Compiled code reads fields at fixed offsets after it and never touches it; the runtime writes
 * it once, when the object is allocated. The collector keeps its mark and allocation state in
 * side bitmaps, never in the object.
 */
typedef struct beskid_header_t {
  const struct beskid_type_t *type; /**< @0: the object's type descriptor. */
} beskid_header_t;

/** @brief Values of beskid_type_t::flags. */
enum beskid_type_flags {
  BESKID_TYPE_AGGREGATE = 0, /**< A struct: `size` bytes, pointers where the map says. */
  BESKID_TYPE_ARRAY =
      1 /**< An array buffer (beskid_array_buffer_t); see #BESKID_ARRAY_DATA_OFFSET. */
};

/**
 * @brief Type descriptor: what the collector needs to know about one struct type.
 *
 * Compiled code emits one as read-only data per type and passes its address to `alloc`.
 * Rules (beskid_obj_validate_type()):
 * - `size` ≥ #BESKID_HEADER_SIZE, includes the header, ≤ #BESKID_OBJECT_SIZE_MAX;
 * - `align` is a power of two, 8 ≤ align ≤ 16; the heap places the object at an address that
 *   is a multiple of it;
 * - `pointer_map` lists `pointer_count` byte offsets from the object start of every managed
 *   pointer word (a struct field, or the `ptr` word of a string or array field), strictly
 *   ascending, each 8-aligned, ≥ #BESKID_HEADER_SIZE (8), and with offset + 8 ≤ size; it may
 *   be NULL only when
 *   `pointer_count` is 0;
 * - `flags` is #BESKID_TYPE_AGGREGATE, or #BESKID_TYPE_ARRAY for the runtime's own array buffer
 *   descriptor (size #BESKID_ARRAY_DATA_OFFSET, no pointers); `reserved` is 0.
 */
typedef struct beskid_type_t {
  uint64_t size;               /**< @0: object size in bytes, header included. */
  uint64_t align;              /**< @8: alignment in bytes. */
  const uint64_t *pointer_map; /**< @16: offsets of managed pointer words. */
  uint64_t pointer_count;      /**< @24: number of entries in `pointer_map`. */
  uint32_t flags;              /**< @32: a ::beskid_type_flags value. */
  uint32_t reserved;           /**< @36: must be 0. */
} beskid_type_t;

/**
 * @brief Element descriptor of an array buffer: the layout of one element.
 *
 * Rules (beskid_obj_validate_elem_type()):
 * - 1 ≤ `stride` ≤ #BESKID_ELEM_STRIDE_MAX and `stride` is a multiple of `align`;
 * - `align` is a power of two ≤ #BESKID_ELEM_ALIGN_MAX, and ≥ 8 when the element holds pointers;
 * - `pointer_map` lists `pointer_count` offsets from the element start, strictly ascending,
 *   8-aligned, with offset + 8 ≤ stride; NULL only when `pointer_count` is 0.
 */
typedef struct beskid_elem_type_t {
  uint64_t stride;             /**< @0: bytes from one element to the next. */
  uint64_t align;              /**< @8: alignment of an element. */
  const uint64_t *pointer_map; /**< @16: offsets of managed pointer words in one element. */
  uint64_t pointer_count;      /**< @24: number of entries in `pointer_map`. */
} beskid_elem_type_t;

/**
 * Offset of element 0 in an array buffer, from the buffer's start. It stays a multiple of 16
 * (after a reserved word) so that elements asking for 16-byte alignment get it in a buffer the
 * heap aligns to 16.
 */
#define BESKID_ARRAY_DATA_OFFSET 32u

/**
 * @brief The heap object behind every array and string value.
 *
 * Its header's type is #beskid_obj_array_type; its elements follow at
 * #BESKID_ARRAY_DATA_OFFSET and occupy `elem->stride × capacity` bytes. String bytes live in an
 * array buffer whose element type is #beskid_obj_byte_elem_type. The length of a value lives in
 * the value, not here: several values (slices) may share one buffer.
 */
typedef struct beskid_array_buffer_t {
  beskid_header_t header;         /**< @0: type is #beskid_obj_array_type. */
  const beskid_elem_type_t *elem; /**< @8: layout of one element. */
  uint64_t capacity;              /**< @16: number of elements the buffer holds. */
  uint64_t reserved;              /**< @24: 0; keeps the elements 16-aligned. */
} beskid_array_buffer_t;

/**
 * @brief A string value: immutable UTF-8, `len` bytes at `ptr`.
 *
 * `ptr` points into (possibly the middle of) the data of an array buffer of bytes, which it keeps
 * alive; it may be NULL only when `len` is 0. Passed by pointer at the C ABI.
 */
typedef struct beskid_str_t {
  const uint8_t *ptr; /**< @0: first byte. */
  int64_t len;        /**< @8: length in bytes, ≥ 0. */
} beskid_str_t;

/**
 * @brief An array value: `len` elements in use out of `cap` at `ptr`.
 *
 * `ptr` points at an element inside an array buffer, which it keeps alive; NULL only when `cap`
 * is 0. Passed by pointer at the C ABI.
 */
typedef struct beskid_array_t {
  void *ptr;   /**< @0: first element. */
  int64_t len; /**< @8: elements in use, 0 ≤ len ≤ cap. */
  int64_t cap; /**< @16: elements available from `ptr`. */
} beskid_array_t;

/**
 * @brief A frame of the per-thread shadow stack of roots.
 *
 * Compiled code keeps the managed pointers a function holds across calls in `slots` and links
 * the frame into its thread's chain with plain stores (push: `frame.previous = top; top =
 * &frame`; pop: `top = frame.previous`). Each slot holds NULL or a pointer into the heap.
 */
typedef struct beskid_root_frame_t {
  struct beskid_root_frame_t *previous; /**< @0: the caller's frame, or NULL. */
  void **slots;                         /**< @8: `slot_count` pointer values. */
  uint64_t slot_count;                  /**< @16: number of slots. */
} beskid_root_frame_t;

/**
 * @brief A handle that keeps an object alive for native code: `(generation << 32) | index`.
 *
 * 0 is never a valid handle; releasing a handle bumps its slot's generation so that a stale
 * copy no longer resolves.
 */
typedef uint64_t beskid_handle_t;

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Runtime-owned descriptors */
/** @{ */

/** @brief The descriptor every array buffer's header points at (flags #BESKID_TYPE_ARRAY). */
BESKID_OBJ_API extern const beskid_type_t beskid_obj_array_type;
/** @brief Element type of byte arrays and string storage: stride 1, no pointers. */
BESKID_OBJ_API extern const beskid_elem_type_t beskid_obj_byte_elem_type;
/** @brief Element type of arrays of managed pointers: stride 8, one pointer at 0. */
BESKID_OBJ_API extern const beskid_elem_type_t beskid_obj_pointer_elem_type;

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Validation */
/** @{ */

/** @brief Why a descriptor was refused (0 means it is valid). */
typedef enum beskid_obj_error {
  BESKID_OBJ_VALID = 0,            /**< The descriptor keeps every rule. */
  BESKID_OBJ_NULL_DESCRIPTOR,      /**< The descriptor pointer is NULL. */
  BESKID_OBJ_SIZE_TOO_SMALL,       /**< size < header (or stride 0). */
  BESKID_OBJ_SIZE_TOO_LARGE,       /**< size or stride above the maximum. */
  BESKID_OBJ_BAD_ALIGNMENT,        /**< alignment not a power of two or out of range. */
  BESKID_OBJ_SIZE_NOT_ALIGNED,     /**< stride not a multiple of the alignment. */
  BESKID_OBJ_NULL_POINTER_MAP,     /**< pointer_count > 0 with a NULL pointer_map. */
  BESKID_OBJ_TOO_MANY_POINTERS,    /**< more pointer words than fit in the object. */
  BESKID_OBJ_OFFSET_UNALIGNED,     /**< an offset is not a multiple of 8. */
  BESKID_OBJ_OFFSET_IN_HEADER,     /**< an offset points into the object header. */
  BESKID_OBJ_OFFSET_OUT_OF_BOUNDS, /**< offset + 8 > size (or stride). */
  BESKID_OBJ_OFFSET_NOT_ASCENDING, /**< offsets repeat or are out of order. */
  BESKID_OBJ_BAD_FLAGS, /**< unknown flags, non-zero reserved, or a malformed array type. */
  BESKID_OBJ_UNALIGNED_POINTERS,   /**< an element with pointers aligned to less than 8. */
  BESKID_OBJ_MISALIGNED_DESCRIPTOR /**< the descriptor or its pointer map is at an address not
                                        aligned to 8 (refused before any field is read). */
} beskid_obj_error;

/**
 * @brief Checks a type descriptor against every rule of ::beskid_type_t.
 *
 * Never reads past `pointer_count` map entries, never overflows and never makes a misaligned
 * load, whatever the input (a misaligned descriptor or map is refused unread).
 * @param type the descriptor; may be NULL (refused).
 * @return ::BESKID_OBJ_VALID or the first rule broken.
 */
BESKID_OBJ_API beskid_obj_error beskid_obj_validate_type(const beskid_type_t *type);

/**
 * @brief Checks an element descriptor against every rule of ::beskid_elem_type_t.
 * @param elem the descriptor; may be NULL (refused).
 * @return ::BESKID_OBJ_VALID or the first rule broken.
 */
BESKID_OBJ_API beskid_obj_error beskid_obj_validate_elem_type(const beskid_elem_type_t *elem);

/**
 * @brief A short English description of a validation result, for trap messages.
 * @return a static string, never NULL.
 */
BESKID_OBJ_API const char *beskid_obj_error_message(beskid_obj_error error);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Sizes and pointer slots */
/** @{ */

/**
 * @brief Size in bytes of an array buffer of `capacity` elements, header included.
 * @param elem a valid element descriptor.
 * @param capacity number of elements.
 * @param size receives #BESKID_ARRAY_DATA_OFFSET + stride × capacity.
 * @return false (and `*size` untouched) when that overflows or exceeds #BESKID_OBJECT_SIZE_MAX.
 */
BESKID_OBJ_API bool beskid_obj_array_size(const beskid_elem_type_t *elem, uint64_t capacity,
                                          uint64_t *size);

/**
 * @brief Size in bytes of a heap object, read from its header (and capacity for arrays).
 * @param object the start of an object whose header holds a valid descriptor.
 */
BESKID_OBJ_API uint64_t beskid_obj_size(const void *object);

/** @brief Whether objects of this type can hold managed pointers (arrays: of this element). */
static inline bool beskid_obj_type_has_pointers(const beskid_type_t *type) {
  return type->pointer_count != 0;
}

/** @brief The start of the element storage of an array buffer. */
static inline void *beskid_obj_array_data(beskid_array_buffer_t *buffer) {
  return (char *)buffer + BESKID_ARRAY_DATA_OFFSET;
}

/**
 * @brief Cursor over the managed pointer slots of one object or array buffer.
 *
 * Use beskid_obj_slots_begin() then beskid_obj_slots_next() until it returns NULL. The fields
 * are private to the iterator.
 */
typedef struct beskid_obj_slot_iter_t {
  char *base;             /**< Start of the current element (or of the object). */
  const uint64_t *map;    /**< Pointer map in use. */
  uint64_t map_count;     /**< Entries in `map`. */
  uint64_t map_index;     /**< Next entry of `map`. */
  uint64_t stride;        /**< Element stride (0 for a plain object). */
  uint64_t elements_left; /**< Elements after the current one. */
} beskid_obj_slot_iter_t;

/**
 * @brief Starts iterating the managed pointer slots of `object`.
 * @param iter the cursor to initialise.
 * @param object the start of an object whose header holds a valid descriptor; an array buffer
 *        is iterated element by element over its whole capacity.
 */
BESKID_OBJ_API void beskid_obj_slots_begin(beskid_obj_slot_iter_t *iter, void *object);

/**
 * @brief The next managed pointer slot, in ascending address order.
 * @return the address of the slot, or NULL when there are no more.
 */
BESKID_OBJ_API void **beskid_obj_slots_next(beskid_obj_slot_iter_t *iter);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name UTF-8 */
/** @{ */

/**
 * @brief Whether `len` bytes at `bytes` are well-formed UTF-8 (RFC 3629: no overlong forms, no
 *        surrogates, nothing above U+10FFFF).
 * @param bytes the bytes; may be NULL only when `len` is 0.
 * @param len number of bytes.
 * @param error_offset receives the offset of the first invalid byte when false is returned;
 *        may be NULL.
 */
BESKID_OBJ_API bool beskid_obj_utf8_valid(const uint8_t *bytes, size_t len, size_t *error_offset);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* BESKID_OBJMODEL_H */
