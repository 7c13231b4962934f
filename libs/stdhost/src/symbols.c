/* symbols.c — the runtime's symbol table for JIT hosts: every name of the compiler-facing ABI,
 * the builtins of beskid/runtime_abi.h and the host functions of beskid/stdhost.h, with its
 * address in this process, so a JIT registers exactly what an AOT program links. It lives in
 * the top library because only here are all the libraries' entry points visible.
 *
 * One group per library and, for stdhost, one group per area in the header's order (console,
 * process, fs, time, random, math, then the areas that keep their list as an X-macro beside
 * their sources: strings, threads); a new area adds its own group. The manifest test
 * (tools/abi) fails when this table, the headers, tools/abi/manifest.json and the bundle's
 * symbols disagree. */
#include "internal.h"
#include "symbols_strings.h"
#include "symbols_threads.h"

/* POSIX (dlsym) guarantees function addresses fit a void *; ISO C does not, hence __extension__. */
#define SYM(name)                                                                                  \
  { #name, __extension__(void *) & (name) }
#define SYM_ENTRY(name) SYM(name),

static const beskid_rt_symbol_t symbols[] = {
    /* libs/builtins (beskid/runtime_abi.h) */
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
    SYM(beskid_gc_barrier_on),

    /* libs/stdhost (beskid/stdhost.h): console */
    SYM(beskid_std_console_write),
    SYM(beskid_std_console_write_bytes),
    SYM(beskid_std_console_read),
    SYM(beskid_std_console_read_line),
    SYM(beskid_std_console_isatty),
    SYM(beskid_std_console_terminal_size),

    /* libs/stdhost: process */
    SYM(beskid_std_args_set),
    SYM(beskid_std_args_count),
    SYM(beskid_std_args_get),
    SYM(beskid_std_env_get),
    SYM(beskid_std_env_set),
    SYM(beskid_std_env_unset),
    SYM(beskid_std_cwd),
    SYM(beskid_std_pid),
    SYM(beskid_std_exit),

    /* libs/stdhost: fs */
    SYM(beskid_std_fs_read_text),
    SYM(beskid_std_fs_read_bytes),
    SYM(beskid_std_fs_write_text),
    SYM(beskid_std_fs_append_text),
    SYM(beskid_std_fs_exists),
    SYM(beskid_std_fs_stat),
    SYM(beskid_std_fs_mkdir),
    SYM(beskid_std_fs_delete),
    SYM(beskid_std_fs_rename),
    SYM(beskid_std_fs_list_dir),

    /* libs/stdhost: time */
    SYM(beskid_std_time_monotonic_ns),
    SYM(beskid_std_time_realtime_ns),
    SYM(beskid_std_time_sleep_ns),

    /* libs/stdhost: random */
    SYM(beskid_std_random_seed),
    SYM(beskid_std_random_seed_entropy),
    SYM(beskid_std_random_next),
    SYM(beskid_std_random_below),
    SYM(beskid_std_random_range),
    SYM(beskid_std_random_float),
    SYM(beskid_std_random_entropy),

    /* libs/stdhost: math */
    SYM(beskid_std_math_floor),
    SYM(beskid_std_math_ceil),
    SYM(beskid_std_math_round),
    SYM(beskid_std_math_trunc),
    SYM(beskid_std_math_sqrt),
    SYM(beskid_std_math_cbrt),
    SYM(beskid_std_math_exp),
    SYM(beskid_std_math_log),
    SYM(beskid_std_math_log2),
    SYM(beskid_std_math_log10),
    SYM(beskid_std_math_sin),
    SYM(beskid_std_math_cos),
    SYM(beskid_std_math_tan),
    SYM(beskid_std_math_asin),
    SYM(beskid_std_math_acos),
    SYM(beskid_std_math_atan),
    SYM(beskid_std_math_atan2),
    SYM(beskid_std_math_sinh),
    SYM(beskid_std_math_cosh),
    SYM(beskid_std_math_tanh),
    SYM(beskid_std_math_fabs),
    SYM(beskid_std_math_pow),
    SYM(beskid_std_math_fmod),
    SYM(beskid_std_math_hypot),
    SYM(beskid_std_math_checked_add),
    SYM(beskid_std_math_checked_sub),
    SYM(beskid_std_math_checked_mul),

    /* strings, numbers, the string builder, bytes (src/symbols_strings.h) */
    BESKID_STD_STRINGS_SYMBOLS(SYM_ENTRY)

    /* threads, mutexes, condition variables, channels (src/symbols_threads.h) */
    BESKID_STD_THREADS_SYMBOLS(SYM_ENTRY)

    /* the table itself */
    SYM(beskid_runtime_symbols),
};

const beskid_rt_symbol_t *beskid_runtime_symbols(size_t *count) {
  if (count == NULL) beskid_std_arg_null("beskid_runtime_symbols", "count pointer");
  *count = sizeof symbols / sizeof symbols[0];
  return symbols;
}
