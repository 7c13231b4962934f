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

#endif
