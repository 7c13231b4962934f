/**
 * @file builtins.h
 * @brief libs/builtins — the compiler-facing ABI of the Beskid runtime.
 *
 * Everything lives in beskid/runtime_abi.h, the one header compiled code's ABI is defined by;
 * this header exists so that every library has a header named after it.
 * Symbol prefix: `beskid_rt_` (plus the spec's builtin names and upstream's `gc_*` names).
 */
#ifndef BESKID_BUILTINS_H
#define BESKID_BUILTINS_H

#include "beskid/runtime_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Traps `out_of_memory (5)` for `requested` bytes of a library's own memory (C-allocator
 *        buffers, not heap objects) that could not be had, with the heap's figures in upstream's
 *        form `req=… live=… committed=… cap=…`.
 *
 * For the runtime's libraries above builtins (libs/stdhost), so that every allocation failure
 * anywhere in the runtime ends in the same trap line. `requested` 0 means the collector recorded
 * the failure itself (a heap object, a handle): its own figures are reported. Not part of the
 * compiler-facing ABI: the symbol is hidden, reachable only from inside the runtime.
 */
_Noreturn void beskid_rt_trap_own_out_of_memory(uint64_t requested);

#ifdef __cplusplus
}
#endif

#endif
