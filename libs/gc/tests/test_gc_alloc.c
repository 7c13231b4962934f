/* test_gc_alloc.c — allocation: zeroed objects with headers, size classes, refused descriptors and
 * array sizes (the gc suite; fixture in gc_fixture.h). */
#include "gc_fixture.h"

/* ------------------------------------------------------------------------------------------ */
/* Allocation */

START_TEST(test_alloc_zeroed_with_header) {
  start(BESKID_GC_DEBUG_MANUAL);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 5000; i++) {
      node *n = new_node(i);
      ck_assert_ptr_eq(n->header.type, &node_type);
      ck_assert_uint_eq(n->header.gc_word, 0);
      ck_assert_ptr_null(n->left);
      ck_assert_ptr_null(n->right);
      ck_assert_uint_eq((uintptr_t)n % 16, 0);
      n->left = (node *)(uintptr_t)0xdeadbeef; /* dirty it so reuse must zero */
    }
    beskid_gc_collect(T);
  }
  stop();
}
END_TEST

START_TEST(test_size_class_division_is_exact) {
  start(BESKID_GC_DEBUG_MANUAL);
  for (uint32_t c = 1; c < GC_SIZE_CLASSES; c++) {
    const gc_size_class *sc = &beskid_gc__size_classes[c];
    ck_assert_uint_ge(sc->size, 16);
    ck_assert_uint_le((uint64_t)sc->nelems * sc->size, (uint64_t)sc->npages * GC_PAGE_SIZE);
    ck_assert_uint_le(sc->nelems, GC_SPAN_MAX_OBJECTS);
    gc_span s = {0};
    s.base = 0;
    s.elem_size = sc->size;
    s.div_magic = (uint32_t)(UINT32_MAX / sc->size + 1);
    s.limit = (uintptr_t)sc->nelems * sc->size;
    for (uint32_t off = 0; off < s.limit; off++) {
      ck_assert_uint_eq(gc_span_index(&s, off), off / sc->size);
    }
    ck_assert_uint_eq(beskid_gc__size_to_class(sc->size), c);
  }
  for (uint64_t size = 16; size <= GC_SMALL_MAX; size += 16) {
    uint32_t c = beskid_gc__size_to_class(size);
    ck_assert_uint_ge(beskid_gc__size_classes[c].size, size);
    ck_assert(c == 1 || beskid_gc__size_classes[c - 1].size < size);
  }
  stop();
}
END_TEST

START_TEST(test_type_check_refuses_malformed) {
  start(BESKID_GC_DEBUG_MANUAL);
  static const beskid_type_t bad_align = {32, 3, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  static const uint64_t bad_map[] = {8};
  static const beskid_type_t in_header = {32, 8, bad_map, 1, BESKID_TYPE_AGGREGATE, 0};
  static const beskid_type_t too_small = {8, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  ck_assert_int_eq(beskid_gc_type_check(T, &node_type), BESKID_OBJ_VALID);
  ck_assert_int_eq(beskid_gc_type_check(T, &node_type), BESKID_OBJ_VALID); /* cached */
  ck_assert_int_eq(beskid_gc_type_check(T, &bad_align), BESKID_OBJ_BAD_ALIGNMENT);
  ck_assert_int_eq(beskid_gc_type_check(T, &in_header), BESKID_OBJ_OFFSET_IN_HEADER);
  ck_assert_int_eq(beskid_gc_type_check(T, &too_small), BESKID_OBJ_SIZE_TOO_SMALL);
  ck_assert_int_eq(beskid_gc_type_check(T, NULL), BESKID_OBJ_NULL_DESCRIPTOR);
  /* The array descriptor is the runtime's own: compiled code may not allocate with it. */
  ck_assert_int_eq(beskid_gc_type_check(T, &beskid_obj_array_type), BESKID_OBJ_BAD_FLAGS);
  stop();
}
END_TEST

START_TEST(test_array_size_overflow_refused) {
  start(BESKID_GC_DEBUG_MANUAL);
  static const beskid_elem_type_t wide = {1u << 20, 8, NULL, 0};
  ck_assert_ptr_null(beskid_gc_alloc_array(T, &wide, UINT64_C(1) << 50));
  ck_assert_ptr_null(beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, UINT64_MAX));
  stop();
}
END_TEST

void gc_cases_alloc(Suite *suite) {
  TCase *tc = tcase_create("alloc");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_alloc_zeroed_with_header);
  tcase_add_test(tc, test_size_class_division_is_exact);
  tcase_add_test(tc, test_type_check_refuses_malformed);
  tcase_add_test(tc, test_array_size_overflow_refused);
  suite_add_tcase(suite, tc);
}
