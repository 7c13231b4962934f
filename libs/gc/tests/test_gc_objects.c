/* test_gc_objects.c — interior pointers, arrays and large objects (the gc suite; fixture in
 * gc_fixture.h). */
#include "gc_fixture.h"

/* ------------------------------------------------------------------------------------------ */
/* Interior pointers, arrays and large objects */

START_TEST(test_interior_pointers_keep_arrays_alive) {
  ROOTED_SCENARIO(3, GC_TEST_MANUAL_CLOBBER);
  beskid_array_buffer_t *bytes = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 100);
  ck_assert_ptr_nonnull(bytes);
  uint8_t *data = beskid_obj_array_data(bytes);
  for (int i = 0; i < 100; i++) data[i] = (uint8_t)i;
  slots[0] = data + 50; /* a slice in the middle, the only reference */
  beskid_array_buffer_t *ptrs = beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, 64);
  void **elems = beskid_obj_array_data(ptrs);
  for (int i = 0; i < 64; i++) beskid_gc_store(T, &elems[i], new_leaf(i));
  slots[1] = &elems[10]; /* pointer to element 10 */
  for (int cycle = 0; cycle < 4; cycle++) {
    for (int g = 0; g < 1000; g++) beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, 100);
    collect_expect_allocated(bytes, true);
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(data[i], (uint8_t)i);
    for (int i = 0; i < 64; i++) ck_assert_int_eq(((leaf *)elems[i])->value, i);
  }
  ck_assert_ptr_eq(beskid_gc_object_start(data + 99), bytes);
  ck_assert_ptr_eq(beskid_gc_object_start(&elems[63]), ptrs);
  slots[0] = slots[1] = NULL;
  collect_expect_allocated(bytes, false);
  ck_assert(!allocated(ptrs));
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_large_objects_and_oblets) {
  ROOTED_SCENARIO(2, GC_TEST_MANUAL_CLOBBER);
  /* 100 000 pointers (800 KiB): scanned in oblets; every element keeps its leaf. */
  enum { N = 100000 };
  beskid_array_buffer_t *big = beskid_gc_alloc_array(T, &beskid_obj_pointer_elem_type, N);
  ck_assert_ptr_nonnull(big);
  void **e = beskid_obj_array_data(big);
  slots[0] = &e[N / 2]; /* interior pointer far inside a large object */
  for (int i = 0; i < N; i += 97) beskid_gc_store(T, &e[i], new_leaf(i));
  beskid_gc_collect(T);
  for (int i = 0; i < N; i += 97) ck_assert_int_eq(((leaf *)e[i])->value, i);
  ck_assert_ptr_eq(beskid_gc_object_start(&e[N - 1]), big);
  slots[0] = NULL;
  collect_expect_allocated(big, false);
  rooted_stop(&frame);
}
END_TEST

START_TEST(test_one_gib_array) {
  ROOTED_SCENARIO(1, BESKID_GC_DEBUG_MANUAL);
  uint64_t n = UINT64_C(1) << 30;
  beskid_array_buffer_t *a = beskid_gc_alloc_array(T, &beskid_obj_byte_elem_type, n);
  ck_assert_ptr_nonnull(a);
  uint8_t *d = beskid_obj_array_data(a);
  ck_assert_uint_eq(d[0], 0);
  ck_assert_uint_eq(d[n - 1], 0);
  d[0] = 1;
  d[n - 1] = 2;
  slots[0] = d + n / 2;
  beskid_gc_collect(T);
  ck_assert_uint_eq(d[0], 1);
  ck_assert_uint_eq(d[n - 1], 2);
  beskid_gc_stats_t st;
  beskid_gc_read_stats(&st);
  ck_assert_uint_ge(st.live_bytes, n);
  slots[0] = NULL;
  beskid_gc_collect(T);
  beskid_gc_read_stats(&st);
  ck_assert_uint_lt(st.committed_bytes, UINT64_C(64) << 20); /* returned */
  rooted_stop(&frame);
}
END_TEST

void gc_cases_objects(Suite *suite) {
  TCase *tc = tcase_create("objects");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_interior_pointers_keep_arrays_alive);
  tcase_add_test(tc, test_large_objects_and_oblets);
  tcase_add_test(tc, test_one_gib_array);
  suite_add_tcase(suite, tc);
}
