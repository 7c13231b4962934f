/* mimalloc_asan_track.h — the memory-tracking hooks of mimalloc 2.0.9 for AddressSanitizer, as
 * the runtime builds them in the asan preset (cmake/Mimalloc.cmake force-includes this file into
 * mimalloc's one translation unit with `-include`).
 *
 * Why it exists: with MI_ASAN, mimalloc's own mimalloc-track.h poisons freed blocks and unpoisons
 * allocated ones, which is what lets ASan report a use of memory the collector gave back. But its
 * allocation paths call the allocation hook also when the allocation failed, with a NULL block and
 * the requested size, and the hook unpoisons [NULL, size): for a request that cannot be met (say
 * array_new(1, 2^40)) ASan then aborts on the shadow of address 0 ("AddrIsInMem") instead of the
 * allocation returning NULL and the runtime trapping out_of_memory. So the sanitized build could
 * not test any out-of-memory path.
 *
 * What it does: defines MIMALLOC_TRACK_H first, so mimalloc's header is skipped, and provides the
 * same hooks with the same ASan calls, each doing nothing for a NULL block. Invariant: this file
 * and mimalloc-track.h's MI_ASAN branch differ only by those NULL guards (checked when the
 * mimalloc version changes: tools/setup.sh pins 2.0.9). */
#ifndef MIMALLOC_TRACK_H
#define MIMALLOC_TRACK_H

/* ASan's interface, declared here rather than included: this file is read before mimalloc's own
 * sources set their feature-test macros, so it must not pull in any system header. */
void __asan_poison_memory_region(void const volatile *addr, __SIZE_TYPE__ size);
void __asan_unpoison_memory_region(void const volatile *addr, __SIZE_TYPE__ size);
#define ASAN_POISON_MEMORY_REGION(p, size)   __asan_poison_memory_region((p), (size))
#define ASAN_UNPOISON_MEMORY_REGION(p, size) __asan_unpoison_memory_region((p), (size))

#define MI_TRACK_ENABLED 1
#define MI_TRACK_TOOL    "asan"

#define mi_track_malloc(p, size, zero)                                                             \
  do {                                                                                             \
    if ((p) != 0) ASAN_UNPOISON_MEMORY_REGION(p, size);                                            \
  } while (0)
#define mi_track_resize(p, oldsize, newsize)                                                       \
  do {                                                                                             \
    if ((p) != 0) {                                                                                \
      ASAN_POISON_MEMORY_REGION(p, oldsize);                                                       \
      ASAN_UNPOISON_MEMORY_REGION(p, newsize);                                                     \
    }                                                                                              \
  } while (0)
#define mi_track_free(p)                                                                           \
  do {                                                                                             \
    if ((p) != 0) ASAN_POISON_MEMORY_REGION(p, mi_usable_size(p));                                 \
  } while (0)
#define mi_track_free_size(p, size)                                                                \
  do {                                                                                             \
    if ((p) != 0) ASAN_POISON_MEMORY_REGION(p, size);                                              \
  } while (0)
#define mi_track_mem_defined(p, size)                                                              \
  do {                                                                                             \
    if ((p) != 0) ASAN_UNPOISON_MEMORY_REGION(p, size);                                            \
  } while (0)
#define mi_track_mem_undefined(p, size)                                                            \
  do {                                                                                             \
    if ((p) != 0) ASAN_UNPOISON_MEMORY_REGION(p, size);                                            \
  } while (0)
#define mi_track_mem_noaccess(p, size)                                                             \
  do {                                                                                             \
    if ((p) != 0) ASAN_POISON_MEMORY_REGION(p, size);                                              \
  } while (0)

#endif
