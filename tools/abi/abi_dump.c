/* abi_dump.c — prints, as JSON, what the compiled runtime says about its ABI: every layout's size
 * and field offsets (measured with sizeof/offsetof, not written by hand) and the JIT symbol table
 * (which covers beskid/runtime_abi.h and beskid/stdhost.h).
 * tools/abi/manifest.py joins it with the header to generate and check manifest.json. */
#include <stddef.h>
#include <stdio.h>

#include "beskid/stdhost.h"

#define FIELD(type, field, last)                                                                   \
  printf("        \"%s\": %zu%s\n", #field, offsetof(type, field), (last) ? "" : ",")
#define LAYOUT_BEGIN(name, type)                                                                   \
  printf("    \"%s\": {\n      \"size\": %zu,\n      \"fields\": {\n", name, sizeof(type))
#define LAYOUT_END(last) printf("      }\n    }%s\n", (last) ? "" : ",")

int main(void) {
  printf("{\n  \"layouts\": {\n");
  LAYOUT_BEGIN("object_header", beskid_header_t);
  FIELD(beskid_header_t, type, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("type_descriptor", beskid_type_t);
  FIELD(beskid_type_t, size, 0);
  FIELD(beskid_type_t, align, 0);
  FIELD(beskid_type_t, pointer_map, 0);
  FIELD(beskid_type_t, pointer_count, 0);
  FIELD(beskid_type_t, flags, 0);
  FIELD(beskid_type_t, reserved, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("element_descriptor", beskid_elem_type_t);
  FIELD(beskid_elem_type_t, stride, 0);
  FIELD(beskid_elem_type_t, align, 0);
  FIELD(beskid_elem_type_t, pointer_map, 0);
  FIELD(beskid_elem_type_t, pointer_count, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("array_buffer", beskid_array_buffer_t);
  FIELD(beskid_array_buffer_t, header, 0);
  FIELD(beskid_array_buffer_t, elem, 0);
  FIELD(beskid_array_buffer_t, capacity, 0);
  FIELD(beskid_array_buffer_t, reserved, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("string", beskid_str_t);
  FIELD(beskid_str_t, ptr, 0);
  FIELD(beskid_str_t, len, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("array", beskid_array_t);
  FIELD(beskid_array_t, ptr, 0);
  FIELD(beskid_array_t, len, 0);
  FIELD(beskid_array_t, cap, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("root_frame", beskid_root_frame_t);
  FIELD(beskid_root_frame_t, previous, 0);
  FIELD(beskid_root_frame_t, slots, 0);
  FIELD(beskid_root_frame_t, slot_count, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("thread_context", beskid_gc_thread_t);
  FIELD(beskid_gc_thread_t, top_frame, 0);
  FIELD(beskid_gc_thread_t, poll, 1);
  LAYOUT_END(0);
  LAYOUT_BEGIN("std_rng", beskid_std_rng_t);
  FIELD(beskid_std_rng_t, s, 1);
  LAYOUT_END(1);
  printf("  },\n  \"constants\": {\n");
  printf("    \"abi_version_major\": %d,\n    \"abi_version_minor\": %d,\n",
         BESKID_ABI_VERSION_MAJOR, BESKID_ABI_VERSION_MINOR);
  printf("    \"array_data_offset\": %u,\n    \"header_size\": %u,\n", BESKID_ARRAY_DATA_OFFSET,
         BESKID_HEADER_SIZE);
  printf("    \"trap_exit_status\": %d\n  },\n", BESKID_TRAP_EXIT_STATUS);
  size_t n;
  const beskid_rt_symbol_t *syms = beskid_runtime_symbols(&n);
  printf("  \"symbols\": [");
  for (size_t i = 0; i < n; i++) printf("%s\"%s\"", i ? ", " : "", syms[i].name);
  printf("]\n}\n");
  return 0;
}
