/**
 * @file builtins.h
 * @brief libs/builtins — the compiler-facing ABI: lifecycle, alloc, strings, arrays, panic and
 * traps.
 *
 * Symbol prefix: `beskid_rt_`.
 */
#ifndef BESKID_BUILTINS_H
#define BESKID_BUILTINS_H

#include "beskid/builtins_version.h"

#endif
