/* symbols_strings.h — the entry points of the Strings, Numbers, String builder and Bytes sections
 * of beskid/stdhost.h, as an X-macro list for the runtime's JIT symbol table:
 *   #define SYM(name) {#name, __extension__(void *) & name},
 *   BESKID_STD_STRINGS_SYMBOLS(SYM)
 * Every name here is declared in stdhost.h (the Check suite's symbol test uses each one), and
 * every entry point of those sections is listed here. */
#ifndef BESKID_STDHOST_SYMBOLS_STRINGS_H
#define BESKID_STDHOST_SYMBOLS_STRINGS_H

#define BESKID_STD_STRINGS_SYMBOLS(X)                                                              \
  X(beskid_std_str_eq)                                                                             \
  X(beskid_std_str_compare)                                                                        \
  X(beskid_std_str_concat)                                                                         \
  X(beskid_std_str_slice)                                                                          \
  X(beskid_std_str_from_utf8)                                                                      \
  X(beskid_std_utf8_check)                                                                         \
  X(beskid_std_str_to_bytes)                                                                       \
  X(beskid_std_str_char_count)                                                                     \
  X(beskid_std_str_char_at)                                                                        \
  X(beskid_std_str_from_char)                                                                      \
  X(beskid_std_str_find)                                                                           \
  X(beskid_std_str_contains)                                                                       \
  X(beskid_std_str_starts_with)                                                                    \
  X(beskid_std_str_ends_with)                                                                      \
  X(beskid_std_str_elem_type)                                                                      \
  X(beskid_std_str_split)                                                                          \
  X(beskid_std_str_trim)                                                                           \
  X(beskid_std_str_trim_start)                                                                     \
  X(beskid_std_str_trim_end)                                                                       \
  X(beskid_std_str_to_upper_ascii)                                                                 \
  X(beskid_std_str_to_lower_ascii)                                                                 \
  X(beskid_std_str_from_i64)                                                                       \
  X(beskid_std_str_from_f64)                                                                       \
  X(beskid_std_str_from_bool)                                                                      \
  X(beskid_std_str_parse_i64)                                                                      \
  X(beskid_std_str_parse_f64)                                                                      \
  X(beskid_std_builder_new)                                                                        \
  X(beskid_std_builder_append_str)                                                                 \
  X(beskid_std_builder_append_bytes)                                                               \
  X(beskid_std_builder_append_i64)                                                                 \
  X(beskid_std_builder_append_f64)                                                                 \
  X(beskid_std_builder_append_char)                                                                \
  X(beskid_std_builder_len)                                                                        \
  X(beskid_std_builder_finish)                                                                     \
  X(beskid_std_bytes_get)                                                                          \
  X(beskid_std_bytes_set)                                                                          \
  X(beskid_std_bytes_copy)                                                                         \
  X(beskid_std_bytes_compare)                                                                      \
  X(beskid_std_bytes_fill)

#endif
