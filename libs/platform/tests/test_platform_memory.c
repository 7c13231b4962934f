/* test_platform_memory.c — the runtime's own memory (src/memory.c): sizes computed with overflow
 * checks, no zero-byte reallocation, a failed call that changes nothing, and the test-only hook
 * that makes chosen allocations fail. Linked into test_platform. */
#include <stdint.h>
#include <string.h>

#include "beskid/platform.h"
#include "beskid_test_hooks.h"
#include "check_support.h"
#include "test_platform_memory.h"

START_TEST(test_size_mul_detects_overflow) {
  size_t bytes = 0;
  ck_assert(beskid_os_size_mul(3, 5, &bytes) && bytes == 15);
  ck_assert(beskid_os_size_mul(0, SIZE_MAX, &bytes) && bytes == 0);
  ck_assert(beskid_os_size_mul(SIZE_MAX, 1, &bytes) && bytes == SIZE_MAX);
  ck_assert(!beskid_os_size_mul(SIZE_MAX, 2, &bytes));
  ck_assert(!beskid_os_size_mul((SIZE_MAX >> 3) + 1, 8, &bytes));
  ck_assert(!beskid_os_size_mul(UINT64_C(1) << 32, UINT64_C(1) << 32, &bytes));
}
END_TEST

START_TEST(test_alloc_zeroed_and_refusals) {
  uint64_t *p = beskid_os_mem_alloc(100, sizeof *p);
  ck_assert_ptr_nonnull(p);
  for (int i = 0; i < 100; i++) ck_assert_uint_eq(p[i], 0);
  beskid_os_mem_free(p);
  ck_assert_ptr_null(beskid_os_mem_alloc(0, 8));
  ck_assert_ptr_null(beskid_os_mem_alloc(8, 0));
  ck_assert_ptr_null(beskid_os_mem_alloc(SIZE_MAX / 8 + 1, 8)); /* would wrap to 0 or 8 bytes */
  ck_assert_ptr_null(beskid_os_mem_alloc(SIZE_MAX, SIZE_MAX));
  beskid_os_mem_free(NULL);
}
END_TEST

START_TEST(test_resize_keeps_block_on_failure) {
  uint32_t *p = beskid_os_mem_resize(NULL, 16, sizeof *p);
  ck_assert_ptr_nonnull(p);
  for (uint32_t i = 0; i < 16; i++) p[i] = i * 7;
  /* A doubling that overflows, a zero size: refused, the block intact and still ours. */
  ck_assert_ptr_null(beskid_os_mem_resize(p, SIZE_MAX / 2 + 1, 2 * sizeof *p));
  ck_assert_ptr_null(beskid_os_mem_resize(p, 0, sizeof *p));
  ck_assert_ptr_null(beskid_os_mem_resize(p, 16, 0));
  for (uint32_t i = 0; i < 16; i++) ck_assert_uint_eq(p[i], i * 7);
  uint32_t *q = beskid_os_mem_resize(p, 100000, sizeof *q);
  ck_assert_ptr_nonnull(q);
  for (uint32_t i = 0; i < 16; i++) ck_assert_uint_eq(q[i], i * 7);
  beskid_os_mem_free(q);
}
END_TEST

START_TEST(test_aligned) {
  for (size_t align = 1; align <= 4096; align *= 2) {
    void *p = beskid_os_mem_aligned(align, 100);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % align, 0);
    for (int i = 0; i < 100; i++) ck_assert_uint_eq(((unsigned char *)p)[i], 0);
    beskid_os_mem_free(p);
  }
  ck_assert_ptr_null(beskid_os_mem_aligned(0, 64));
  ck_assert_ptr_null(beskid_os_mem_aligned(48, 64));
  ck_assert_ptr_null(beskid_os_mem_aligned(64, 0));
  ck_assert_ptr_null(beskid_os_mem_aligned(64, SIZE_MAX - 10)); /* rounding up wraps */
}
END_TEST

START_TEST(test_failure_hook) {
  uint64_t start = beskid_os_test_allocations();
  void *a = beskid_os_mem_alloc(1, 64);
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq(beskid_os_test_allocations(), start + 1);
  /* Let two succeed, fail the next three, then succeed again. */
  beskid_os_test_fail_allocations(2, 3);
  void *got[7];
  for (int i = 0; i < 7; i++) got[i] = beskid_os_mem_alloc(1, 64);
  for (int i = 0; i < 7; i++) {
    ck_assert_msg((got[i] == NULL) == (i >= 2 && i < 5), "allocation %d", i);
    beskid_os_mem_free(got[i]);
  }
  /* Every kind of call takes a ticket; a failed resize leaves the block alone. */
  beskid_os_test_fail_allocations(0, 1);
  void *r = beskid_os_mem_resize(a, 2, 64);
  ck_assert_ptr_null(r);
  memset(a, 0x5a, 64);
  beskid_os_test_fail_allocations(0, 1);
  ck_assert_ptr_null(beskid_os_mem_aligned(64, 64));
  ck_assert_ptr_nonnull(r = beskid_os_mem_aligned(64, 64));
  beskid_os_mem_free(r);
  /* Every allocation from now on, until disarmed. */
  beskid_os_test_fail_allocations(0, UINT64_MAX);
  for (int i = 0; i < 100; i++) ck_assert_ptr_null(beskid_os_mem_alloc(1, 8));
  beskid_os_test_fail_allocations(0, 0);
  void *b = beskid_os_mem_alloc(1, 8);
  ck_assert_ptr_nonnull(b);
  beskid_os_mem_free(b);
  beskid_os_mem_free(a);
  /* A size refused before the C allocator is asked takes no ticket: the hook numbers only the
   * allocations that could have succeeded. */
  uint64_t before = beskid_os_test_allocations();
  ck_assert_ptr_null(beskid_os_mem_alloc(SIZE_MAX, 2));
  ck_assert_uint_eq(beskid_os_test_allocations(), before);
}
END_TEST

void beskid_platform_memory_cases(Suite *suite) {
  TCase *tc = tcase_create("own_memory");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_size_mul_detects_overflow);
  tcase_add_test(tc, test_alloc_zeroed_and_refusals);
  tcase_add_test(tc, test_resize_keeps_block_on_failure);
  tcase_add_test(tc, test_aligned);
  tcase_add_test(tc, test_failure_hook);
  suite_add_tcase(suite, tc);
}
