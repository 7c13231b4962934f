/* test_stdhost.c — the library-wide suite of libs/stdhost: its version and the runtime's JIT
 * symbol table (every library's entry points, with their true addresses). The areas have their
 * own suites (test_<area>.c). */
#include <stdlib.h>

#include "stdhost_test.h"

START_TEST(test_symbol_table) {
  size_t n = 0;
  const beskid_rt_symbol_t *syms = beskid_runtime_symbols(&n);
  ck_assert_uint_ge(n, 100);
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    ck_assert_ptr_nonnull(syms[i].name);
    ck_assert_ptr_nonnull(syms[i].address);
    for (size_t j = 0; j < i; j++) ck_assert_str_ne(syms[i].name, syms[j].name);
    if (strcmp(syms[i].name, "alloc") == 0) {
      seen |= 1;
      ck_assert_ptr_eq(syms[i].address, __extension__(void *) & alloc);
    }
    if (strcmp(syms[i].name, "beskid_gc_barrier_on") == 0) {
      seen |= 2;
      ck_assert_ptr_eq(syms[i].address, (void *)&beskid_gc_barrier_on);
    }
    if (strcmp(syms[i].name, "beskid_std_console_write") == 0) {
      seen |= 4;
      ck_assert_ptr_eq(syms[i].address, __extension__(void *) & beskid_std_console_write);
    }
    if (strcmp(syms[i].name, "beskid_std_math_hypot") == 0) {
      seen |= 8;
      ck_assert_ptr_eq(syms[i].address, __extension__(void *) & beskid_std_math_hypot);
    }
    if (strcmp(syms[i].name, "beskid_runtime_symbols") == 0) {
      seen |= 16;
      ck_assert_ptr_eq(syms[i].address, __extension__(void *) & beskid_runtime_symbols);
    }
  }
  ck_assert_int_eq(seen, 31);
}
END_TEST

static void symbols_null_count(void) { beskid_runtime_symbols(NULL); }

START_TEST(test_symbol_table_null_count_traps) {
  STD_EXPECT_TRAP(symbols_null_count, "null_reference (1)", "beskid_runtime_symbols");
}
END_TEST

int main(void) {
  Suite *suite = suite_create("stdhost");
  suite_add_tcase(suite,
                  beskid_test_version_case(beskid_stdhost_version, BESKID_STDHOST_VERSION_STRING,
                                           BESKID_TEST_VERSION_FILE));
  TCase *tc = tcase_create("symbols");
  tcase_add_test(tc, test_symbol_table);
  tcase_add_test(tc, test_symbol_table_null_count_traps);
  suite_add_tcase(suite, tc);
  return beskid_test_run(suite);
}
