/* dlopen_runtime.c — a JIT host's view of the runtime: load libbeskid_runtime.so with dlopen,
 * take every entry point from beskid_runtime_symbols(), and drive the runtime only through that
 * table (what a JIT registers with its module). Exits 0 when everything behaved. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "beskid/runtime_abi.h"

static const beskid_rt_symbol_t *table;
static size_t table_size;

static void *lookup(const char *name) {
  for (size_t i = 0; i < table_size; i++) {
    if (strcmp(table[i].name, name) == 0) return table[i].address;
  }
  fprintf(stderr, "symbol table lacks %s\n", name);
  return NULL;
}

#define FN(type, name) __extension__((type)lookup(name))

static const uint64_t node_map[] = {16};
static const beskid_type_t node_type = {32, 8, node_map, 1, BESKID_TYPE_AGGREGATE, 0};

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  const beskid_rt_symbol_t *(*symbols)(size_t *) =
      __extension__(const beskid_rt_symbol_t *(*)(size_t *)) dlsym(lib, "beskid_runtime_symbols");
  if (symbols == NULL) return 1;
  table = symbols(&table_size);
  if (dlsym(lib, "main") != NULL || dlsym(lib, "mi_malloc") != NULL) {
    fprintf(stderr, "the shared runtime exports main or mimalloc\n");
    return 1;
  }
  int32_t (*init)(const beskid_rt_config_t *) =
      FN(int32_t(*)(const beskid_rt_config_t *), "beskid_rt_init");
  void *(*alloc_fn)(int64_t, const beskid_type_t *) =
      FN(void *(*)(int64_t, const beskid_type_t *), "alloc");
  void (*str_new_fn)(beskid_str_t *, const uint8_t *, int64_t) =
      FN(void (*)(beskid_str_t *, const uint8_t *, int64_t), "str_new");
  int64_t (*str_len_fn)(const beskid_str_t *) = FN(int64_t(*)(const beskid_str_t *), "str_len");
  uint8_t (*reg)(void **) = FN(uint8_t(*)(void **), "gc_register_root");
  void (*unreg)(void **) = FN(void (*)(void **), "gc_unregister_root");
  uint64_t (*collect)(void) = FN(uint64_t(*)(void), "gc_collect");
  uint8_t (*verify)(void) = FN(uint8_t(*)(void), "gc_heap_verify");
  void (*shutdown)(void) = FN(void (*)(void), "beskid_rt_shutdown");
  uint8_t *barrier_on = lookup("beskid_gc_barrier_on");
  /* The standard library's host functions come from the same table. */
  double (*hypot_fn)(double, double) = FN(double (*)(double, double), "beskid_std_math_hypot");
  int64_t (*write_fn)(int64_t, const beskid_str_t *) =
      FN(int64_t(*)(int64_t, const beskid_str_t *), "beskid_std_console_write");
  if (!init || !alloc_fn || !str_new_fn || !str_len_fn || !reg || !unreg || !collect || !verify ||
      !shutdown || !barrier_on || !hypot_fn || !write_fn) {
    return 1;
  }
  if (init(NULL) != 0) return 1;
  void *node = alloc_fn(32, &node_type);
  if (reg(&node) != 1) return 1;
  beskid_str_t s;
  str_new_fn(&s, (const uint8_t *)"jit", 3);
  ((const uint8_t **)node)[2] = s.ptr; /* barrier off outside a cycle: *barrier_on is 0 here */
  for (int i = 0; i < 10000; i++) alloc_fn(32, &node_type);
  uint64_t live = collect();
  beskid_str_t empty = {NULL, 0};
  int ok = live > 0 && live < 4096 && verify() == 1 && hypot_fn(3.0, 4.0) == 5.0 &&
           write_fn(1, &empty) == 0 && memcmp(((const uint8_t **)node)[2], "jit", 3) == 0 &&
           str_len_fn(&s) == 3 && __atomic_load_n(barrier_on, __ATOMIC_RELAXED) == 0;
  unreg(&node);
  shutdown();
  printf("jit host: %zu symbols, live %llu bytes, %s\n", table_size, (unsigned long long)live,
         ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
