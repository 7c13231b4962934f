/**
 * @file gc.h
 * @brief libs/gc — the heap, allocation, roots, barriers, safepoints and the concurrent collector.
 *
 * Symbol prefix: `beskid_gc_`.
 */
#ifndef BESKID_GC_H
#define BESKID_GC_H

#include "beskid/gc_version.h"

#endif
