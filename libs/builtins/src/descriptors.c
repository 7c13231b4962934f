/* descriptors.c — the descriptors the runtime makes for untyped memory: a pointer-free type per
 * object size (alloc with a NULL descriptor) and a pointer-free element type per stride
 * (array_new). Objects point at their descriptor, so every descriptor lives until shutdown.
 *
 * Small sizes index two tables filled at init. Larger ones are made on first use and found
 * again through a cache per kind: an open-addressing hash table (linear probing, capacity a
 * power of two, at most half full) of pointers to immutable entries. Lookup is O(1) and takes no
 * lock; only inserting a new size takes the cache's lock.
 *
 * Invariants:
 * - an entry never changes once published and is never removed before shutdown;
 * - a table's slots only go from NULL to an entry; a table is replaced (by one twice as large
 *   holding every entry) only under the lock, and the replaced table is kept, unchanged, until
 *   shutdown, because a reader may still be probing it;
 * - every table has a NULL slot (it is at most half full), so a probe always ends.
 *
 * Memory orders: whoever publishes something a lock-free reader will follow stores it with
 * release after filling it in, and the reader loads it with acquire:
 * - a slot (release store under the lock, acquire load in raw_find): the entry's fields,
 *   written before the store, are visible to a reader that sees the pointer;
 * - the cache's table pointer (release store under the lock, acquire load in raw_get): the
 *   slots copied into a new table, written before the store, are visible to its readers.
 * A reader probing a table that has since been replaced may miss an entry added later; it then
 * takes the lock, where the current table is authoritative. Under the lock, the table pointer
 * and the count are only written by the lock holder, so relaxed loads suffice there. */
#include <stdatomic.h>
#include <stdlib.h>

#include "beskid/platform.h"
#include "internal.h"

#define RAW_TYPES           256 /* sizes 16..4096 in steps of 16 */
#define RAW_ELEMS           256 /* strides 1..256 */
#define RAW_TABLE_MIN_SHIFT 6u  /* a first table of 64 slots */

static beskid_type_t raw_types[RAW_TYPES + 1];
static beskid_elem_type_t raw_elems[RAW_ELEMS + 1];

/* One descriptor made on first use; `bytes` is its key (object size or element stride). */
typedef struct raw_entry {
  uint64_t bytes;
  union {
    beskid_type_t type;      /* in the type cache */
    beskid_elem_type_t elem; /* in the element cache */
  } d;
} raw_entry;

typedef struct raw_table {
  struct raw_table *replaced; /* the previous, smaller table (kept until shutdown) */
  uint32_t shift;             /* 64 - log2(capacity): the hash keeps the top bits */
  uint64_t mask;              /* capacity - 1 */
  _Atomic(raw_entry *) slots[];
} raw_table;

typedef struct raw_cache {
  _Atomic(raw_table *) table; /* NULL until the first insertion */
  uint64_t count;             /* entries (under lock) */
  beskid_os_mutex_t lock;     /* serialises insertion and growth */
  bool is_elem;               /* which descriptor the entries hold */
} raw_cache;

static raw_cache type_cache = {.is_elem = false};
static raw_cache elem_cache = {.is_elem = true};

static uint64_t elem_align(uint64_t stride) {
  uint64_t a = stride & (~stride + 1); /* lowest set bit */
  return a > BESKID_ELEM_ALIGN_MAX ? BESKID_ELEM_ALIGN_MAX : a;
}

/* Fibonacci hashing: consecutive sizes (the common pattern) spread over the table. */
static inline uint64_t raw_slot(const raw_table *t, uint64_t bytes) {
  return (bytes * UINT64_C(0x9e3779b97f4a7c15)) >> t->shift;
}

/* The entry for `bytes` in `t`, or NULL when `t` does not hold it. */
static inline raw_entry *raw_find(const raw_table *t, uint64_t bytes) {
  for (uint64_t i = raw_slot(t, bytes);; i = (i + 1) & t->mask) {
    raw_entry *e = atomic_load_explicit(&t->slots[i], memory_order_acquire);
    if (e == NULL || e->bytes == bytes) return e;
  }
}

/* A table of 2^bits empty slots, or NULL. */
static raw_table *raw_table_new(uint32_t bits) {
  uint64_t capacity = UINT64_C(1) << bits;
  raw_table *t = beskid_os_mem_alloc(1, sizeof *t + capacity * sizeof t->slots[0]);
  if (t == NULL) return NULL;
  t->shift = 64u - bits;
  t->mask = capacity - 1;
  return t; /* zeroed memory is NULL slots: nothing is published before the table is */
}

/* Puts `e` in the first free slot of its probe sequence (caller holds the lock). */
static void raw_place(raw_table *t, raw_entry *e) {
  uint64_t i = raw_slot(t, e->bytes);
  while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != NULL) i = (i + 1) & t->mask;
  atomic_store_explicit(&t->slots[i], e, memory_order_release);
}

/* Slow path: makes the entry for `bytes` under the lock, growing the table when it would become
 * more than half full. Traps out_of_memory when the C allocator fails. */
static raw_entry *raw_insert(raw_cache *c, uint64_t bytes) {
  beskid_os_mutex_lock(&c->lock);
  raw_table *t = atomic_load_explicit(&c->table, memory_order_relaxed);
  raw_entry *e = t != NULL ? raw_find(t, bytes) : NULL;
  if (e != NULL) { /* another thread made it meanwhile */
    beskid_os_mutex_unlock(&c->lock);
    return e;
  }
  uint64_t capacity = t != NULL ? t->mask + 1 : 0;
  if (t == NULL || (c->count + 1) * 2 > capacity) {
    uint32_t bits = t != NULL ? 64u - t->shift + 1u : RAW_TABLE_MIN_SHIFT;
    raw_table *grown = raw_table_new(bits);
    if (grown == NULL) {
      beskid_os_mutex_unlock(&c->lock);
      beskid_rt_trap_out_of_memory(sizeof *grown + (sizeof grown->slots[0] << bits));
    }
    for (uint64_t i = 0; i < capacity; i++) {
      raw_entry *old = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
      if (old != NULL) raw_place(grown, old);
    }
    grown->replaced = t;
    atomic_store_explicit(&c->table, grown, memory_order_release);
    t = grown;
  }
  e = beskid_os_mem_alloc(1, sizeof *e);
  if (e == NULL) {
    beskid_os_mutex_unlock(&c->lock);
    beskid_rt_trap_out_of_memory(sizeof *e);
  }
  e->bytes = bytes;
  if (c->is_elem)
    e->d.elem = (beskid_elem_type_t){bytes, elem_align(bytes), NULL, 0};
  else
    e->d.type = (beskid_type_t){bytes, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  raw_place(t, e);
  c->count++;
  beskid_os_mutex_unlock(&c->lock);
  return e;
}

/* The entry for `bytes`: lock-free when it exists. */
static inline raw_entry *raw_get(raw_cache *c, uint64_t bytes) {
  raw_table *t = atomic_load_explicit(&c->table, memory_order_acquire);
  if (__builtin_expect(t != NULL, 1)) {
    raw_entry *e = raw_find(t, bytes);
    if (__builtin_expect(e != NULL, 1)) return e;
  }
  return raw_insert(c, bytes);
}

static void raw_cache_init(raw_cache *c) {
  atomic_store_explicit(&c->table, NULL, memory_order_relaxed);
  c->count = 0;
  beskid_os_mutex_init(&c->lock);
}

/* Frees every entry (the current table holds them all) and every table. */
static void raw_cache_shutdown(raw_cache *c) {
  raw_table *t = atomic_load_explicit(&c->table, memory_order_relaxed);
  if (t != NULL) {
    for (uint64_t i = 0; i <= t->mask; i++) {
      beskid_os_mem_free(atomic_load_explicit(&t->slots[i], memory_order_relaxed));
    }
  }
  while (t != NULL) {
    raw_table *replaced = t->replaced;
    beskid_os_mem_free(t);
    t = replaced;
  }
  atomic_store_explicit(&c->table, NULL, memory_order_relaxed);
  c->count = 0;
  beskid_os_mutex_destroy(&c->lock);
}

void beskid_rt_descriptors_init(void) {
  for (uint64_t i = 1; i <= RAW_TYPES; i++) {
    raw_types[i] = (beskid_type_t){i * 16, 8, NULL, 0, BESKID_TYPE_AGGREGATE, 0};
  }
  for (uint64_t s = 1; s <= RAW_ELEMS; s++) {
    raw_elems[s] = (beskid_elem_type_t){s, elem_align(s), NULL, 0};
  }
  raw_cache_init(&type_cache);
  raw_cache_init(&elem_cache);
}

void beskid_rt_descriptors_shutdown(void) {
  raw_cache_shutdown(&type_cache);
  raw_cache_shutdown(&elem_cache);
}

const beskid_type_t *beskid_rt_raw_type(uint64_t size) {
  size = (size + 15) & ~(uint64_t)15;
  if (size / 16 <= RAW_TYPES) return &raw_types[size / 16];
  return &raw_get(&type_cache, size)->d.type;
}

const beskid_elem_type_t *beskid_rt_raw_elem(uint64_t stride) {
  if (stride <= RAW_ELEMS) return &raw_elems[stride];
  return &raw_get(&elem_cache, stride)->d.elem;
}
