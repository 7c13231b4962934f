/* symbols.c — the runtime's symbol table for JIT hosts: every name of the compiler-facing ABI
 * with its address in this process, so a JIT registers exactly what an AOT program links. Kept
 * in step with runtime_abi.h and tools/abi/manifest.json by the manifest test. */
#include "internal.h"

/* POSIX (dlsym) guarantees function addresses fit a void *; ISO C does not, hence __extension__. */
#define SYM(name)                                                                                  \
  { #name, __extension__(void *) & name }

static const beskid_rt_symbol_t symbols[] = {
    SYM(alloc),
    SYM(str_new),
    SYM(str_len),
    SYM(array_new),
    SYM(panic),
    SYM(beskid_rt_array_new_typed),
    SYM(gc_register_root),
    SYM(gc_unregister_root),
    SYM(gc_root_handle),
    SYM(gc_unroot_handle),
    SYM(gc_write_barrier),
    SYM(gc_collect),
    SYM(gc_bytes_allocated),
    SYM(gc_object_count),
    SYM(gc_phase),
    SYM(gc_heap_verify),
    SYM(beskid_rt_config_default),
    SYM(beskid_rt_config_from_env),
    SYM(beskid_rt_parse_bytes),
    SYM(beskid_rt_init),
    SYM(beskid_rt_shutdown),
    SYM(beskid_rt_thread_attach),
    SYM(beskid_rt_thread_detach),
    SYM(beskid_rt_thread),
    SYM(beskid_rt_abi_version),
    SYM(beskid_rt_abi_check),
    SYM(beskid_rt_register_globals),
    SYM(beskid_rt_handle_get),
    SYM(beskid_rt_write_barrier),
    SYM(beskid_rt_safepoint),
    SYM(beskid_rt_enter_native),
    SYM(beskid_rt_leave_native),
    SYM(beskid_rt_trap),
    SYM(beskid_rt_trap_null_reference),
    SYM(beskid_rt_trap_bounds),
    SYM(beskid_rt_trap_arithmetic_overflow),
    SYM(beskid_rt_trap_unreachable),
    SYM(beskid_rt_trap_name),
    SYM(beskid_runtime_symbols),
    SYM(beskid_gc_barrier_on),
};

const beskid_rt_symbol_t *beskid_runtime_symbols(size_t *count) {
  if (count == NULL) {
    beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "beskid_runtime_symbols: NULL count pointer");
  }
  *count = sizeof symbols / sizeof symbols[0];
  return symbols;
}
