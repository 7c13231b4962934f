/* random.c — random numbers for the standard library: a seeded xoshiro256** generator whose state
 * the program owns, and the operating system's entropy.
 *
 * The generator is xoshiro256** (Blackman and Vigna, 2018): 256 bits of state, period 2^256 - 1,
 * a few nanoseconds per number. A seed is expanded into the state with splitmix64, which never
 * yields four zero words, so a seeded state is always valid. Both algorithms are fixed here as
 * part of the contract: a seed gives the same sequence on every runtime version. Bounded
 * integers use Lemire's multiply-and-reject method (no modulo bias, one multiplication in the
 * common case); floats take the top 53 bits. */
#include <stdio.h>

#include "internal.h"

__extension__ typedef unsigned __int128 u128;

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline uint64_t next(beskid_std_rng_t *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Uniform in [0, bound), bound > 0. */
static uint64_t below(beskid_std_rng_t *rng, uint64_t bound) {
  u128 m = (u128)next(rng) * bound;
  uint64_t low = (uint64_t)m;
  if (low < bound) {
    uint64_t threshold = (0 - bound) % bound; /* 2^64 mod bound: the values to reject */
    while (low < threshold) {
      m = (u128)next(rng) * bound;
      low = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

static void check(const char *fn, const beskid_std_rng_t *rng) {
  if (rng == NULL) beskid_std_arg_null(fn, "generator");
}

void beskid_std_random_seed(beskid_std_rng_t *rng, int64_t seed) {
  check("beskid_std_random_seed", rng);
  uint64_t x = (uint64_t)seed;
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

int32_t beskid_std_random_seed_entropy(beskid_std_rng_t *rng) {
  check("beskid_std_random_seed_entropy", rng);
  uint64_t seed[4];
  beskid_gc_thread_t *t = beskid_gc_current();
  // cppcheck-suppress variableScope ; `frame` points at it until the frame is popped below
  void *slots[1];
  beskid_root_frame_t frame;
  if (t != NULL) {
    /* The state may live in an object only this call still refers to: keep it alive across the
     * safepoint of leaving the native state. */
    std_roots_push(t, &frame, slots, 1);
    slots[0] = rng;
  }
  std_native_enter();
  beskid_status st = beskid_os_entropy(seed, sizeof seed);
  std_native_leave(t);
  if (st == BESKID_OK) {
    /* Through splitmix64 like any seed, so even an all-zero draw gives a valid state. */
    uint64_t x = seed[0] ^ rotl(seed[1], 16) ^ rotl(seed[2], 32) ^ rotl(seed[3], 48);
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x) ^ seed[i];
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0) rng->s[0] = 1;
  }
  if (t != NULL) std_roots_pop(t, &frame);
  return (int32_t)st;
}

int64_t beskid_std_random_next(beskid_std_rng_t *rng) {
  check("beskid_std_random_next", rng);
  return (int64_t)next(rng);
}

int64_t beskid_std_random_below(beskid_std_rng_t *rng, int64_t bound) {
  check("beskid_std_random_below", rng);
  if (bound <= 0) {
    char msg[96];
    (void)snprintf(msg, sizeof msg, "beskid_std_random_below: bound %lld is not positive",
                   (long long)bound);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  return (int64_t)below(rng, (uint64_t)bound);
}

int64_t beskid_std_random_range(beskid_std_rng_t *rng, int64_t low, int64_t high) {
  check("beskid_std_random_range", rng);
  if (low > high) {
    char msg[128];
    (void)snprintf(msg, sizeof msg, "beskid_std_random_range: empty range [%lld, %lld]",
                   (long long)low, (long long)high);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  uint64_t span = (uint64_t)high - (uint64_t)low; /* modulo 2^64: exact for every pair */
  uint64_t offset = span == UINT64_MAX ? next(rng) : below(rng, span + 1);
  return (int64_t)((uint64_t)low + offset);
}

double beskid_std_random_float(beskid_std_rng_t *rng) {
  check("beskid_std_random_float", rng);
  return (double)(next(rng) >> 11) * 0x1.0p-53;
}

int32_t beskid_std_random_entropy(const beskid_array_t *bytes, int64_t start, int64_t count) {
  beskid_std_arg_range("beskid_std_random_entropy", bytes, start, count);
  if (count == 0) return BESKID_OK;
  uint8_t *dest = (uint8_t *)bytes->ptr + start;
  beskid_gc_thread_t *t = beskid_gc_current();
  // cppcheck-suppress variableScope ; `frame` points at it until the frame is popped below
  void *slots[1];
  beskid_root_frame_t frame;
  if (t != NULL) {
    std_roots_push(t, &frame, slots, 1);
    slots[0] = bytes->ptr; /* the destination stays alive while native */
  }
  std_native_enter();
  beskid_status st = beskid_os_entropy(dest, (size_t)count);
  std_native_leave(t);
  if (t != NULL) std_roots_pop(t, &frame);
  return (int32_t)st;
}
