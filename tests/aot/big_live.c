/* big_live.c — an AOT program that keeps 640 MiB live (five pointer-free arrays of 128 MiB in a
 * root frame), collects, and prints "live ok" when every byte is still accounted for. The heap-cap
 * tests run it under BESKID_HEAP_MAX_BYTES values: a cap above what the machine can reserve must
 * not limit it, a small cap must trap out_of_memory. */
#include <stdint.h>
#include <stdio.h>

#include "beskid/runtime_abi.h"

#define ARRAYS      5
#define ARRAY_BYTES (INT64_C(128) << 20)

int64_t beskid_program_main(void) {
  void *slots[ARRAYS] = {0};
  beskid_root_frame_t frame = {NULL, slots, ARRAYS};
  beskid_gc_thread_t *t = beskid_rt_thread();
  beskid_gc_push_frame(t, &frame);
  for (int i = 0; i < ARRAYS; i++) {
    beskid_array_t a;
    array_new(&a, 1, ARRAY_BYTES);
    ((uint8_t *)a.ptr)[ARRAY_BYTES - 1] = (uint8_t)(i + 1);
    slots[i] = a.ptr;
  }
  gc_collect();
  uint64_t live = gc_bytes_allocated();
  int ok = live >= (uint64_t)ARRAYS * (uint64_t)ARRAY_BYTES;
  for (int i = 0; i < ARRAYS; i++) ok &= ((uint8_t *)slots[i])[ARRAY_BYTES - 1] == i + 1;
  beskid_gc_pop_frame(t, &frame);
  printf(ok ? "live ok\n" : "live wrong: %llu bytes\n", (unsigned long long)live);
  return ok ? 0 : 1;
}
