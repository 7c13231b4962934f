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
    ck_assert_uint_ge(sc->size, 8);
    ck_assert_uint_eq(sc->size % 8, 0);
    /* The 8-byte step where objects are small: 8, 16, 24, ..., 128 are classes of their own. */
    if (c <= 16) ck_assert_uint_eq(sc->size, 8 * c);
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
  for (uint64_t size = 8; size <= GC_SMALL_MAX; size += 8) {
    uint32_t c = beskid_gc__size_to_class(size);
    ck_assert_uint_ge(beskid_gc__size_classes[c].size, size);
    ck_assert(c == 1 || beskid_gc__size_classes[c - 1].size < size);
    /* A size rounded to 16 (an object asking for 16-byte alignment) gets a 16-multiple class. */
    if (size % 16 == 0) ck_assert_uint_eq(beskid_gc__size_classes[c].size % 16, 0);
  }
  stop();
}
END_TEST

/* Objects of every size class, with and without pointers, aligned to 8 and to 16: each lies at
 * its alignment, consecutive objects of a class are exactly the class size apart (a 24-byte object
 * costs 24 bytes), no two overlap, interior pointers resolve to their object, and a collection
 * keeps them all intact with a sound heap. */
enum { PER_CLASS = 3, CLASS_KINDS = 3 };
typedef struct placed {
  uintptr_t at;
  uint64_t size;
} placed;

static int compare_placed(const void *a, const void *b) {
  uintptr_t x = ((const placed *)a)->at, y = ((const placed *)b)->at;
  return x < y ? -1 : x > y;
}

START_TEST(test_every_size_class_placed_and_collected) {
  start(BESKID_GC_DEBUG_MANUAL | BESKID_GC_DEBUG_CLOBBER | BESKID_GC_DEBUG_VERIFY);
  enum { N = GC_SIZE_CLASSES * CLASS_KINDS * PER_CLASS };
  static void *slots[N];
  static placed seen[N];
  static beskid_type_t types[GC_SIZE_CLASSES][CLASS_KINDS];
  static const uint64_t first_word[] = {8};
  memset(slots, 0, sizeof slots);
  beskid_root_frame_t frame = {NULL, slots, N};
  beskid_gc_push_frame(T, &frame);
  size_t n = 0;
  for (uint32_t c = 1; c < GC_SIZE_CLASSES; c++) {
    uint64_t size = beskid_gc__size_classes[c].size;
    for (int kind = 0; kind < CLASS_KINDS; kind++) {
      /* kind 0: pointer-free, align 8; 1: one pointer, align 8; 2: pointer-free, align 16 */
      uint64_t align = kind == 2 ? 16 : 8;
      if (size < 16 && kind == 1) continue; /* no room for a pointer after the header */
      if (size % align != 0) continue;
      types[c][kind] = (beskid_type_t){
          size, align, kind == 1 ? first_word : NULL, kind == 1 ? 1u : 0u, BESKID_TYPE_AGGREGATE,
          0};
      ck_assert_int_eq(beskid_obj_validate_type(&types[c][kind]), BESKID_OBJ_VALID);
      uintptr_t prev = 0;
      for (int k = 0; k < PER_CLASS; k++) {
        int64_t *o = beskid_gc_alloc(T, &types[c][kind]);
        ck_assert_ptr_nonnull(o);
        ck_assert_uint_eq((uintptr_t)o % align, 0);
        /* Within one span, the next slot: the object costs exactly its class size. */
        if (prev != 0 && beskid_gc__span_of(prev) == beskid_gc__span_of((uintptr_t)o)) {
          ck_assert_uint_eq((uintptr_t)o - prev, size);
        }
        prev = (uintptr_t)o;
        ck_assert_ptr_eq(beskid_gc_object_start((char *)o + size - 1), o);
        for (uint64_t w = 1; w < size / 8; w++) {
          if (kind != 1 || w != 1) o[w] = (int64_t)(n * 1000 + w);
        }
        if (kind == 1 && n > 0) beskid_gc_store(T, (void **)&o[1], slots[n - 1]);
        slots[n] = o;
        seen[n] = (placed){(uintptr_t)o, size};
        n++;
      }
    }
  }
  qsort(seen, n, sizeof seen[0], compare_placed);
  for (size_t i = 1; i < n; i++) ck_assert_uint_le(seen[i - 1].at + seen[i - 1].size, seen[i].at);
  /* A 16-aligned array element stays aligned in its buffer, whatever the buffer's class. */
  static const beskid_elem_type_t wide = {16, 16, NULL, 0};
  for (uint64_t cap = 0; cap < 40; cap++) {
    beskid_array_buffer_t *b = beskid_gc_alloc_array(T, &wide, cap);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq((uintptr_t)beskid_obj_array_data(b) % 16, 0);
    ck_assert_uint_eq(b->reserved, 0);
  }
  beskid_gc_collect(T);
  beskid_gc_collect(T);
  for (size_t i = 0; i < n; i++) {
    int64_t *o = slots[i];
    const beskid_type_t *type = ((beskid_header_t *)o)->type;
    for (uint64_t w = 1; w < type->size / 8; w++) {
      if (type->pointer_count != 0 && w == 1) {
        ck_assert_ptr_eq((void *)o[1], i > 0 ? slots[i - 1] : NULL);
      } else {
        ck_assert_int_eq(o[w], (int64_t)(i * 1000 + w));
      }
    }
  }
  beskid_gc_pop_frame(T, &frame);
  stop();
}
END_TEST

START_TEST(test_type_check_refuses_malformed) {
  start(BESKID_GC_DEBUG_MANUAL);
  static const beskid_type_t bad_align = {32, 3, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  static const uint64_t bad_map[] = {0};
  static const beskid_type_t in_header = {32, 8, bad_map, 1, BESKID_TYPE_AGGREGATE, 0};
  static const beskid_type_t too_small = {4, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
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
  tcase_add_test(tc, test_every_size_class_placed_and_collected);
  tcase_add_test(tc, test_type_check_refuses_malformed);
  tcase_add_test(tc, test_array_size_overflow_refused);
  suite_add_tcase(suite, tc);
}
