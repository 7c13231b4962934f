/* test_objmodel.c — the Check suite of libs/objmodel: layouts, every validation rule, hostile
 * descriptors, a seeded comparison against an independent reference validator, slot iteration
 * and UTF-8 (exhaustive over 1-3 byte sequences, sampled over 4-byte ones, against a reference
 * decoder). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/objmodel.h"
#include "check_support.h"

/* ------------------------------------------------------------------------------------------ */
/* Layouts */

START_TEST(test_layouts) {
  /* ABI 2: the header is the descriptor pointer alone; the array buffer follows it. */
  ck_assert_uint_eq(sizeof(beskid_header_t), 8);
  ck_assert_uint_eq(BESKID_HEADER_SIZE, 8);
  ck_assert_uint_eq(offsetof(beskid_header_t, type), 0);
  ck_assert_uint_eq(sizeof(beskid_type_t), 40);
  ck_assert_uint_eq(offsetof(beskid_type_t, pointer_map), 16);
  ck_assert_uint_eq(offsetof(beskid_type_t, pointer_count), 24);
  ck_assert_uint_eq(offsetof(beskid_type_t, flags), 32);
  ck_assert_uint_eq(offsetof(beskid_type_t, reserved), 36);
  ck_assert_uint_eq(sizeof(beskid_elem_type_t), 32);
  ck_assert_uint_eq(offsetof(beskid_elem_type_t, pointer_count), 24);
  ck_assert_uint_eq(sizeof(beskid_array_buffer_t), BESKID_ARRAY_DATA_OFFSET);
  ck_assert_uint_eq(offsetof(beskid_array_buffer_t, elem), 8);
  ck_assert_uint_eq(offsetof(beskid_array_buffer_t, capacity), 16);
  ck_assert_uint_eq(offsetof(beskid_array_buffer_t, reserved), 24);
  ck_assert_uint_eq(BESKID_ARRAY_DATA_OFFSET % 16, 0); /* 16-aligned elements stay aligned */
  ck_assert_uint_eq(sizeof(beskid_str_t), 16);
  ck_assert_uint_eq(sizeof(beskid_array_t), 24);
  ck_assert_uint_eq(offsetof(beskid_array_t, cap), 16);
  ck_assert_uint_eq(sizeof(beskid_root_frame_t), 24);
  ck_assert_uint_eq(offsetof(beskid_root_frame_t, slot_count), 16);
}
END_TEST

START_TEST(test_runtime_descriptors_valid) {
  ck_assert_int_eq(beskid_obj_validate_type(&beskid_obj_array_type), BESKID_OBJ_VALID);
  ck_assert_int_eq(beskid_obj_validate_elem_type(&beskid_obj_byte_elem_type), BESKID_OBJ_VALID);
  ck_assert_int_eq(beskid_obj_validate_elem_type(&beskid_obj_pointer_elem_type), BESKID_OBJ_VALID);
  ck_assert_uint_eq(beskid_obj_array_type.flags, BESKID_TYPE_ARRAY);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Type descriptor rules */

static beskid_obj_error vt(uint64_t size, uint64_t align, const uint64_t *map, uint64_t count,
                           uint32_t flags, uint32_t reserved) {
  beskid_type_t t = {size, align, map, count, flags, reserved};
  return beskid_obj_validate_type(&t);
}

START_TEST(test_type_rules) {
  static const uint64_t m16[] = {16}, m8[] = {8}, m0[] = {0}, m20[] = {20}, m_last[] = {40},
                        m_past[] = {41 & ~7u};
  static const uint64_t m_dup[] = {16, 16}, m_desc[] = {24, 16}, m_ok[] = {16, 24, 40};
  static const uint64_t m_first[] = {8, 16};
  ck_assert_int_eq(beskid_obj_validate_type(NULL), BESKID_OBJ_NULL_DESCRIPTOR);
  ck_assert_int_eq(vt(8, 8, NULL, 0, 0, 0), BESKID_OBJ_VALID);     /* header only */
  ck_assert_int_eq(vt(16, 8, m8, 1, 0, 0), BESKID_OBJ_VALID);      /* one pointer right after it */
  ck_assert_int_eq(vt(24, 8, m_first, 2, 0, 0), BESKID_OBJ_VALID); /* binary-trees' node */
  ck_assert_int_eq(vt(24, 8, m_first, 3, 0, 0), BESKID_OBJ_TOO_MANY_POINTERS);
  ck_assert_int_eq(vt(48, 16, m_ok, 3, 0, 0), BESKID_OBJ_VALID);
  ck_assert_int_eq(vt(48, 8, m_last, 1, 0, 0), BESKID_OBJ_VALID); /* offset = size - 8 */
  ck_assert_int_eq(vt(7, 8, NULL, 0, 0, 0), BESKID_OBJ_SIZE_TOO_SMALL);
  ck_assert_int_eq(vt(0, 8, NULL, 0, 0, 0), BESKID_OBJ_SIZE_TOO_SMALL);
  ck_assert_int_eq(vt(BESKID_OBJECT_SIZE_MAX + 1, 8, NULL, 0, 0, 0), BESKID_OBJ_SIZE_TOO_LARGE);
  ck_assert_int_eq(vt(32, 3, NULL, 0, 0, 0), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(vt(32, 4, NULL, 0, 0, 0), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(vt(32, 0, NULL, 0, 0, 0), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(vt(64, 32, NULL, 0, 0, 0), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(vt(32, 8, NULL, 1, 0, 0), BESKID_OBJ_NULL_POINTER_MAP);
  ck_assert_int_eq(vt(32, 8, m16, 4, 0, 0), BESKID_OBJ_TOO_MANY_POINTERS);
  ck_assert_int_eq(vt(32, 8, m20, 1, 0, 0), BESKID_OBJ_OFFSET_UNALIGNED);
  ck_assert_int_eq(vt(32, 8, m0, 1, 0, 0), BESKID_OBJ_OFFSET_IN_HEADER);
  ck_assert_int_eq(vt(40, 8, m_past, 1, 0, 0), BESKID_OBJ_OFFSET_OUT_OF_BOUNDS);
  ck_assert_int_eq(vt(40, 8, m_dup, 2, 0, 0), BESKID_OBJ_OFFSET_NOT_ASCENDING);
  ck_assert_int_eq(vt(40, 8, m_desc, 2, 0, 0), BESKID_OBJ_OFFSET_NOT_ASCENDING);
  ck_assert_int_eq(vt(32, 8, NULL, 0, 2, 0), BESKID_OBJ_BAD_FLAGS);
  ck_assert_int_eq(vt(32, 8, NULL, 0, 0, 1), BESKID_OBJ_BAD_FLAGS);
  ck_assert_int_eq(vt(48, 8, NULL, 0, BESKID_TYPE_ARRAY, 0), BESKID_OBJ_BAD_FLAGS);
  ck_assert_int_eq(vt(32, 8, m16, 1, BESKID_TYPE_ARRAY, 0), BESKID_OBJ_BAD_FLAGS);
}
END_TEST

START_TEST(test_type_hostile) {
  static const uint64_t huge_off[] = {UINT64_MAX - 3}, near_max[] = {UINT64_MAX & ~7ull};
  static const uint64_t one[] = {16};
  /* A count that would overflow size arithmetic, with and without a (too short) map: refused
   * before the map is read. */
  ck_assert_int_eq(vt(32, 8, NULL, UINT64_MAX, 0, 0), BESKID_OBJ_TOO_MANY_POINTERS);
  ck_assert_int_eq(vt(32, 8, one, UINT64_MAX, 0, 0), BESKID_OBJ_TOO_MANY_POINTERS);
  ck_assert_int_eq(vt(UINT64_MAX, 8, one, 1, 0, 0), BESKID_OBJ_SIZE_TOO_LARGE);
  ck_assert_int_eq(vt(BESKID_OBJECT_SIZE_MAX, 8, huge_off, 1, 0, 0), BESKID_OBJ_OFFSET_UNALIGNED);
  ck_assert_int_eq(vt(BESKID_OBJECT_SIZE_MAX, 8, near_max, 1, 0, 0),
                   BESKID_OBJ_OFFSET_OUT_OF_BOUNDS);
  ck_assert_int_eq(vt(BESKID_OBJECT_SIZE_MAX, 16, one, 1, 0, 0), BESKID_OBJ_VALID);
}
END_TEST

/* An independent statement of the rules, used as the reference for random descriptors. */
static beskid_obj_error reference_type(const beskid_type_t *t) {
  if (t->reserved != 0 || t->flags > 1) return BESKID_OBJ_BAD_FLAGS;
  if (t->flags == 1 && (t->size != 32 || t->pointer_count != 0)) return BESKID_OBJ_BAD_FLAGS;
  if (t->size < 8) return BESKID_OBJ_SIZE_TOO_SMALL;
  if (t->size > BESKID_OBJECT_SIZE_MAX) return BESKID_OBJ_SIZE_TOO_LARGE;
  if (t->align != 8 && t->align != 16) return BESKID_OBJ_BAD_ALIGNMENT;
  if (t->pointer_count > (t->size - 8) / 8) return BESKID_OBJ_TOO_MANY_POINTERS; /* size ≥ 8 here */
  if (t->pointer_count > 0 && t->pointer_map == NULL) return BESKID_OBJ_NULL_POINTER_MAP;
  for (uint64_t i = 0; i < t->pointer_count; i++) {
    uint64_t o = t->pointer_map[i];
    if (o & 7) return BESKID_OBJ_OFFSET_UNALIGNED;
    if (o < 8) return BESKID_OBJ_OFFSET_IN_HEADER;
    if (o >= t->size || t->size - o < 8) return BESKID_OBJ_OFFSET_OUT_OF_BOUNDS;
    if (i > 0 && o <= t->pointer_map[i - 1]) return BESKID_OBJ_OFFSET_NOT_ASCENDING;
  }
  return BESKID_OBJ_VALID;
}

static uint64_t pick(beskid_test_rng *rng, const uint64_t *choices, size_t n) {
  return choices[beskid_test_rng_below(rng, n)];
}

START_TEST(test_type_random_against_reference) {
  static const uint64_t sizes[] = {0,
                                   8,
                                   15,
                                   16,
                                   24,
                                   32,
                                   40,
                                   64,
                                   128,
                                   1024,
                                   BESKID_OBJECT_SIZE_MAX,
                                   BESKID_OBJECT_SIZE_MAX + 16,
                                   UINT64_MAX};
  static const uint64_t aligns[] = {0, 1, 3, 4, 8, 16, 24, 32};
  beskid_test_rng rng;
  beskid_test_rng_seed(&rng, 12345);
  uint64_t map[16];
  int valid = 0;
  for (int n = 0; n < 20000; n++) {
    beskid_type_t t = {0};
    t.size = beskid_test_rng_below(&rng, 3) ? 8 * beskid_test_rng_below(&rng, 14)
                                            : pick(&rng, sizes, sizeof sizes / sizeof sizes[0]);
    t.align = pick(&rng, aligns, sizeof aligns / sizeof aligns[0]);
    /* Up to 16 entries (the map below), or a huge count that must be refused unread. */
    t.pointer_count = beskid_test_rng_below(&rng, 50) == 0
                          ? UINT64_MAX - beskid_test_rng_below(&rng, 3)
                          : beskid_test_rng_below(&rng, 17);
    uint64_t off = 8 * beskid_test_rng_below(&rng, 3);
    for (int i = 0; i < 16; i++) {
      map[i] = off;
      unsigned r = (unsigned)beskid_test_rng_below(&rng, 20);
      off += r == 0 ? 0 : r == 1 ? 4 : 8; /* occasional duplicates and misalignment */
    }
    t.pointer_map = beskid_test_rng_below(&rng, 40) == 0 ? NULL : map;
    t.flags = beskid_test_rng_below(&rng, 30) == 0 ? (uint32_t)beskid_test_rng_below(&rng, 3) : 0;
    t.reserved = beskid_test_rng_below(&rng, 30) == 0 ? 1 : 0;
    beskid_obj_error want = reference_type(&t), got = beskid_obj_validate_type(&t);
    ck_assert_msg(got == want, "size %llu align %llu count %llu: got %d want %d",
                  (unsigned long long)t.size, (unsigned long long)t.align,
                  (unsigned long long)t.pointer_count, got, want);
    valid += got == BESKID_OBJ_VALID;
  }
  ck_assert_int_gt(valid, 100); /* the generator reaches valid descriptors too */
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Element descriptor rules */

static beskid_obj_error ve(uint64_t stride, uint64_t align, const uint64_t *map, uint64_t count) {
  beskid_elem_type_t e = {stride, align, map, count};
  return beskid_obj_validate_elem_type(&e);
}

START_TEST(test_elem_rules) {
  static const uint64_t m0[] = {0}, m8[] = {8}, m4[] = {4}, m01[] = {0, 8}, m00[] = {0, 0};
  ck_assert_int_eq(beskid_obj_validate_elem_type(NULL), BESKID_OBJ_NULL_DESCRIPTOR);
  ck_assert_int_eq(ve(1, 1, NULL, 0), BESKID_OBJ_VALID);
  ck_assert_int_eq(ve(12, 4, NULL, 0), BESKID_OBJ_VALID);
  ck_assert_int_eq(ve(16, 8, m01, 2), BESKID_OBJ_VALID);
  ck_assert_int_eq(ve(16, 16, m8, 1), BESKID_OBJ_VALID); /* offset = stride - 8 */
  ck_assert_int_eq(ve(0, 1, NULL, 0), BESKID_OBJ_SIZE_TOO_SMALL);
  ck_assert_int_eq(ve(BESKID_ELEM_STRIDE_MAX + 1, 1, NULL, 0), BESKID_OBJ_SIZE_TOO_LARGE);
  ck_assert_int_eq(ve(8, 0, NULL, 0), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(ve(8, 3, NULL, 0), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(ve(32, 32, NULL, 0), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(ve(12, 8, NULL, 0), BESKID_OBJ_SIZE_NOT_ALIGNED);
  ck_assert_int_eq(ve(8, 4, m0, 1), BESKID_OBJ_UNALIGNED_POINTERS);
  ck_assert_int_eq(ve(8, 8, m01, 2), BESKID_OBJ_TOO_MANY_POINTERS);
  ck_assert_int_eq(ve(8, 8, NULL, 1), BESKID_OBJ_NULL_POINTER_MAP);
  ck_assert_int_eq(ve(16, 8, m4, 1), BESKID_OBJ_OFFSET_UNALIGNED);
  ck_assert_int_eq(ve(8, 8, m8, 1), BESKID_OBJ_OFFSET_OUT_OF_BOUNDS);
  ck_assert_int_eq(ve(16, 8, m00, 2), BESKID_OBJ_OFFSET_NOT_ASCENDING);
  ck_assert_int_eq(ve(8, 8, m0, UINT64_MAX), BESKID_OBJ_TOO_MANY_POINTERS);
}
END_TEST

/* A descriptor or pointer map at a misaligned address is refused before a field is read (the
 * asan preset's UBSan would stop on the misaligned load). The copies are made with memcpy. */
START_TEST(test_misaligned_descriptors) {
  static const uint64_t map[] = {16};
  _Alignas(16) unsigned char buf[sizeof(beskid_type_t) + 16];
  const beskid_type_t good = {32, 8, map, 1, BESKID_TYPE_AGGREGATE, 0};
  for (size_t off = 1; off < 8; off++) {
    memcpy(buf + off, &good, sizeof good);
    ck_assert_int_eq(beskid_obj_validate_type((const beskid_type_t *)(void *)(buf + off)),
                     BESKID_OBJ_MISALIGNED_DESCRIPTOR);
  }
  memcpy(buf + 8, &good, sizeof good); /* 8-aligned is fine */
  ck_assert_int_eq(beskid_obj_validate_type((const beskid_type_t *)(void *)(buf + 8)),
                   BESKID_OBJ_VALID);
  const beskid_elem_type_t good_elem = {8, 8, map, 0};
  for (size_t off = 1; off < 8; off++) {
    memcpy(buf + off, &good_elem, sizeof good_elem);
    ck_assert_int_eq(beskid_obj_validate_elem_type((const beskid_elem_type_t *)(void *)(buf + off)),
                     BESKID_OBJ_MISALIGNED_DESCRIPTOR);
  }
  /* A misaligned pointer map (one word of 16 at byte 4 of an aligned buffer). */
  _Alignas(16) unsigned char map_buf[16];
  uint64_t sixteen = 16;
  memcpy(map_buf + 4, &sixteen, sizeof sixteen);
  const uint64_t *bad_map = (const uint64_t *)(void *)(map_buf + 4);
  ck_assert_int_eq(vt(32, 8, bad_map, 1, 0, 0), BESKID_OBJ_MISALIGNED_DESCRIPTOR);
  ck_assert_int_eq(vt(32, 8, bad_map, 0, 0, 0), BESKID_OBJ_VALID); /* an unused map is not read */
  ck_assert_int_eq(ve(16, 8, bad_map, 1), BESKID_OBJ_MISALIGNED_DESCRIPTOR);
}
END_TEST

START_TEST(test_error_messages_distinct) {
  for (int a = BESKID_OBJ_VALID; a <= BESKID_OBJ_MISALIGNED_DESCRIPTOR; a++) {
    ck_assert_ptr_nonnull(beskid_obj_error_message((beskid_obj_error)a));
    for (int b = BESKID_OBJ_VALID; b < a; b++) {
      ck_assert_str_ne(beskid_obj_error_message((beskid_obj_error)a),
                       beskid_obj_error_message((beskid_obj_error)b));
    }
  }
  ck_assert_str_eq(beskid_obj_error_message((beskid_obj_error)999), "unknown validation result");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Sizes and slot iteration */

START_TEST(test_array_size) {
  uint64_t size = 7;
  ck_assert(beskid_obj_array_size(&beskid_obj_byte_elem_type, 0, &size) && size == 32);
  ck_assert(beskid_obj_array_size(&beskid_obj_pointer_elem_type, 100, &size) && size == 832);
  static const beskid_elem_type_t wide = {1u << 20, 8, NULL, 0};
  ck_assert(!beskid_obj_array_size(&wide, UINT64_C(1) << 40, &size));
  ck_assert_uint_eq(size, 832); /* untouched on failure */
  ck_assert(!beskid_obj_array_size(&beskid_obj_byte_elem_type, UINT64_MAX, &size));
  ck_assert(beskid_obj_array_size(&beskid_obj_byte_elem_type, BESKID_OBJECT_SIZE_MAX - 32, &size));
  ck_assert(!beskid_obj_array_size(&beskid_obj_byte_elem_type, BESKID_OBJECT_SIZE_MAX - 31, &size));
}
END_TEST

START_TEST(test_slots_aggregate) {
  static const uint64_t map[] = {16, 32, 56};
  static const beskid_type_t t = {64, 8, map, 3, 0, 0};
  _Alignas(16) unsigned char obj[64] = {0};
  beskid_header_t h = {&t};
  memcpy(obj, &h, sizeof h);
  ck_assert_uint_eq(beskid_obj_size(obj), 64);
  beskid_obj_slot_iter_t it;
  beskid_obj_slots_begin(&it, obj);
  for (int i = 0; i < 3; i++) ck_assert_ptr_eq(beskid_obj_slots_next(&it), (void **)(obj + map[i]));
  ck_assert_ptr_null(beskid_obj_slots_next(&it));
  ck_assert_ptr_null(beskid_obj_slots_next(&it));
}
END_TEST

START_TEST(test_slots_arrays) {
  static const uint64_t emap[] = {0, 16};
  static const beskid_elem_type_t pair = {24, 8, emap, 2};
  enum { CAP = 5 };
  _Alignas(16) unsigned char buf[BESKID_ARRAY_DATA_OFFSET + 24 * CAP] = {0};
  beskid_array_buffer_t *b = (beskid_array_buffer_t *)buf;
  b->header.type = &beskid_obj_array_type;
  b->elem = &pair;
  b->capacity = CAP;
  ck_assert_uint_eq(beskid_obj_size(b), sizeof buf);
  beskid_obj_slot_iter_t it;
  beskid_obj_slots_begin(&it, b);
  void **prev = NULL;
  for (int e = 0; e < CAP; e++) {
    for (int k = 0; k < 2; k++) {
      void **slot = beskid_obj_slots_next(&it);
      ck_assert_ptr_eq(slot, (void **)(buf + BESKID_ARRAY_DATA_OFFSET + 24 * e + emap[k]));
      ck_assert(prev == NULL || slot > prev);
      prev = slot;
    }
  }
  ck_assert_ptr_null(beskid_obj_slots_next(&it));
  /* Pointer-free and empty buffers yield nothing, whatever their capacity. */
  b->elem = &beskid_obj_byte_elem_type;
  b->capacity = UINT64_C(1) << 40;
  beskid_obj_slots_begin(&it, b);
  ck_assert_ptr_null(beskid_obj_slots_next(&it));
  b->elem = &pair;
  b->capacity = 0;
  beskid_obj_slots_begin(&it, b);
  ck_assert_ptr_null(beskid_obj_slots_next(&it));
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* UTF-8 */

static bool valid(const char *s, size_t len) {
  return beskid_obj_utf8_valid((const uint8_t *)s, len, NULL);
}

START_TEST(test_utf8_cases) {
  ck_assert(beskid_obj_utf8_valid(NULL, 0, NULL));
  ck_assert(valid("plain ascii text, long enough for the 8-byte path", 50));
  ck_assert(valid("\x7f", 1));
  ck_assert(valid("\xc2\x80", 2));         /* U+0080 */
  ck_assert(valid("\xdf\xbf", 2));         /* U+07FF */
  ck_assert(valid("\xe0\xa0\x80", 3));     /* U+0800 */
  ck_assert(valid("\xed\x9f\xbf", 3));     /* U+D7FF */
  ck_assert(valid("\xee\x80\x80", 3));     /* U+E000 */
  ck_assert(valid("\xef\xbf\xbf", 3));     /* U+FFFF */
  ck_assert(valid("\xf0\x90\x80\x80", 4)); /* U+10000 */
  ck_assert(valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
  ck_assert(valid("za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87", 10));
  ck_assert(!valid("\x80", 1));             /* lone continuation */
  ck_assert(!valid("\xc0\xaf", 2));         /* overlong '/' */
  ck_assert(!valid("\xc1\xbf", 2));         /* overlong */
  ck_assert(!valid("\xe0\x9f\xbf", 3));     /* overlong three-byte */
  ck_assert(!valid("\xed\xa0\x80", 3));     /* surrogate U+D800 */
  ck_assert(!valid("\xed\xbf\xbf", 3));     /* surrogate U+DFFF */
  ck_assert(!valid("\xf0\x8f\xbf\xbf", 4)); /* overlong four-byte */
  ck_assert(!valid("\xf4\x90\x80\x80", 4)); /* U+110000 */
  ck_assert(!valid("\xf5\x80\x80\x80", 4));
  ck_assert(!valid("\xfe", 1));
  ck_assert(!valid("\xff", 1));
  ck_assert(!valid("\xe2\x82", 2));     /* truncated at the end */
  ck_assert(!valid("\xe2\x28\xa1", 3)); /* bad continuation */
  size_t at = 99;
  ck_assert(!beskid_obj_utf8_valid((const uint8_t *)"abcdefghij\xc3(", 12, &at));
  ck_assert_uint_eq(at, 10);
  ck_assert(!beskid_obj_utf8_valid((const uint8_t *)"\xc3\xa9\xe2\x82", 4, &at));
  ck_assert_uint_eq(at, 2);
}
END_TEST

/* Reference decoder: returns the length of a valid sequence at s (≤ n bytes), or 0. */
static size_t reference_utf8(const uint8_t *s, size_t n) {
  uint32_t cp;
  size_t len;
  if (s[0] < 0x80) return 1;
  if ((s[0] & 0xE0) == 0xC0) {
    cp = s[0] & 0x1Fu;
    len = 2;
  } else if ((s[0] & 0xF0) == 0xE0) {
    cp = s[0] & 0x0Fu;
    len = 3;
  } else if ((s[0] & 0xF8) == 0xF0) {
    cp = s[0] & 0x07u;
    len = 4;
  } else
    return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

START_TEST(test_utf8_exhaustive_against_reference) {
  uint8_t b[4];
  for (uint32_t x = 0; x < 256; x++) {
    b[0] = (uint8_t)x;
    ck_assert_int_eq(beskid_obj_utf8_valid(b, 1, NULL), reference_utf8(b, 1) == 1);
    for (uint32_t y = 0; y < 256; y++) {
      b[1] = (uint8_t)y;
      bool want2 =
          reference_utf8(b, 2) == 2 || (reference_utf8(b, 1) == 1 && reference_utf8(b + 1, 1) == 1);
      ck_assert_int_eq(beskid_obj_utf8_valid(b, 2, NULL), want2);
      if (x < 0xE0 || x > 0xEF) continue;
      for (uint32_t z = 0; z < 256; z++) {
        b[2] = (uint8_t)z;
        bool want3 = reference_utf8(b, 3) == 3;
        if (!want3 && (b[1] < 0x80 || b[1] >= 0xC0)) continue; /* mixed sequences: covered above */
        ck_assert_msg(beskid_obj_utf8_valid(b, 3, NULL) == want3, "%02x %02x %02x", x, y, z);
      }
    }
  }
  beskid_test_rng rng;
  beskid_test_rng_seed(&rng, 99);
  for (int n = 0; n < 2000000; n++) {
    uint64_t r = beskid_test_rng_next(&rng);
    b[0] = (uint8_t)(0xF0 | (r & 7));
    b[1] = (uint8_t)(r >> 8);
    b[2] = (uint8_t)(0x80 | ((r >> 16) & 0x3F));
    b[3] = (uint8_t)(0x80 | ((r >> 24) & 0x3F));
    if ((r >> 40) % 8 == 0) b[3] = (uint8_t)(r >> 32);
    ck_assert_int_eq(beskid_obj_utf8_valid(b, 4, NULL), reference_utf8(b, 4) == 4);
  }
}
END_TEST

int main(void) {
  Suite *suite = suite_create("objmodel");
  suite_add_tcase(suite,
                  beskid_test_version_case(beskid_objmodel_version, BESKID_OBJMODEL_VERSION_STRING,
                                           BESKID_TEST_VERSION_FILE));
  TCase *tc = tcase_create("layouts");
  tcase_add_test(tc, test_layouts);
  tcase_add_test(tc, test_runtime_descriptors_valid);
  suite_add_tcase(suite, tc);
  tc = tcase_create("validation");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_type_rules);
  tcase_add_test(tc, test_type_hostile);
  tcase_add_test(tc, test_type_random_against_reference);
  tcase_add_test(tc, test_elem_rules);
  tcase_add_test(tc, test_misaligned_descriptors);
  tcase_add_test(tc, test_error_messages_distinct);
  suite_add_tcase(suite, tc);
  tc = tcase_create("slots");
  tcase_add_test(tc, test_array_size);
  tcase_add_test(tc, test_slots_aggregate);
  tcase_add_test(tc, test_slots_arrays);
  suite_add_tcase(suite, tc);
  tc = tcase_create("utf8");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_utf8_cases);
  tcase_add_test(tc, test_utf8_exhaustive_against_reference);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
