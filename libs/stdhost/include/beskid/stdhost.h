/**
 * @file stdhost.h
 * @brief libs/stdhost — the host functions the Beskid standard library calls.
 *
 * Symbol prefix: `beskid_std_`.
 */
#ifndef BESKID_STDHOST_H
#define BESKID_STDHOST_H

#include "beskid/stdhost_version.h"

#endif
