/* roots.c — roots other than root frames: slots registered by a thread, global slots registered
 * by a module, and handles that keep objects alive for native code.
 *
 * Registered slots are per thread (they are normally that thread's stack slots), in blocks of 64
 * linked newest first, so registering is a store and unregistering the newest is a decrement;
 * an out-of-order unregistration searches and moves the last slot into the hole.
 *
 * Handles live in a table of blocks that only grows. A handle is (generation << 32) | (index+1):
 * the +1 keeps 0 free as the failure value, and releasing bumps the slot's generation (never to
 * 0), so a stale copy no longer matches. Everything about handles happens under gc.roots_lock.
 *
 * Global slots are kept as one (slots, count) range per registration: registering costs one
 * table entry whatever the count, the count is bounded (BESKID_GC_GLOBALS_MAX) and the range may
 * not wrap the address space, and the table's growth is overflow-checked.
 *
 * Anything that becomes a root while marking is shaded at once, so the snapshot the mark started
 * from never misses it. Every table here comes from beskid_os_mem_*; a failure to grow one is
 * recorded (beskid_gc_last_failure) and returned, never half-applied. */

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Registered slots */

beskid_gc_status beskid_gc_register_root(beskid_gc_thread_t *pt, void **slot) {
  if (pt == NULL || slot == NULL) return BESKID_GC_INVALID;
  gc_thread *t = gc_thread_of(pt);
  gc_root_block *b = t->roots;
  if (b == NULL || b->used == GC_ROOT_BLOCK) {
    gc_root_block *nb = beskid_os_mem_alloc(1, sizeof *nb);
    if (nb == NULL) {
      beskid_gc__record_failure(sizeof *nb);
      return BESKID_GC_OUT_OF_MEMORY;
    }
    nb->prev = b;
    nb->used = 0;
    t->roots = b = nb;
  }
  b->slots[b->used++] = slot;
  return BESKID_GC_OK;
}

beskid_gc_status beskid_gc_unregister_root(beskid_gc_thread_t *pt, void **slot) {
  if (pt == NULL || slot == NULL) return BESKID_GC_INVALID;
  gc_thread *t = gc_thread_of(pt);
  gc_root_block *top = t->roots;
  if (top == NULL) return BESKID_GC_INVALID;
  if (top->slots[top->used - 1] != slot) {
    /* Not the newest: find it and fill its place with the newest. */
    bool found = false;
    for (gc_root_block *b = top; b != NULL && !found; b = b->prev) {
      for (uint32_t i = 0; i < b->used; i++) {
        if (b->slots[i] == slot) {
          b->slots[i] = top->slots[top->used - 1];
          found = true;
          break;
        }
      }
    }
    if (!found) return BESKID_GC_INVALID;
  }
  if (--top->used == 0) {
    t->roots = top->prev;
    beskid_os_mem_free(top);
  }
  return BESKID_GC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Globals */

static void shade_now(void *object) {
  if (object == NULL || !__atomic_load_n(&beskid_gc_barrier_on, __ATOMIC_RELAXED)) return;
  gc_marker m;
  beskid_gc__marker_init(&m);
  beskid_gc__shade(&m, object);
  beskid_gc__marker_flush(&m);
}

/* The table of registrations doubles as it fills; the doubling and the byte size are checked,
 * so no count can make it shorter than what is written into it. */
static bool globals_reserve_one(void) {
  if (gc.global_ranges < gc.global_capacity) return true;
  size_t cap = gc.global_capacity ? gc.global_capacity : 16;
  if (gc.global_capacity != 0 && __builtin_mul_overflow(gc.global_capacity, 2, &cap)) {
    beskid_gc__record_failure(UINT64_MAX);
    return false;
  }
  gc_global_range *grown = beskid_os_mem_resize(gc.globals, cap, sizeof *grown);
  if (grown == NULL) {
    size_t bytes;
    beskid_gc__record_failure(beskid_os_size_mul(cap, sizeof *grown, &bytes) ? bytes : SIZE_MAX);
    return false;
  }
  gc.globals = grown;
  gc.global_capacity = cap;
  return true;
}

beskid_gc_status beskid_gc_register_globals(void **slots, size_t count) {
  if (!gc.initialized) return BESKID_GC_BAD_STATE;
  if (slots == NULL && count != 0) return BESKID_GC_INVALID;
  if (count == 0) return BESKID_GC_OK;
  size_t bytes;
  if (count > BESKID_GC_GLOBALS_MAX || !beskid_os_size_mul(count, sizeof *slots, &bytes) ||
      (uintptr_t)slots > UINTPTR_MAX - bytes) {
    return BESKID_GC_INVALID;
  }
  beskid_os_mutex_lock(&gc.roots_lock);
  if (!globals_reserve_one()) {
    beskid_os_mutex_unlock(&gc.roots_lock);
    return BESKID_GC_OUT_OF_MEMORY;
  }
  gc.globals[gc.global_ranges++] = (gc_global_range){slots, count};
  beskid_os_mutex_unlock(&gc.roots_lock);
  for (size_t i = 0; i < count; i++) shade_now(__atomic_load_n(&slots[i], __ATOMIC_RELAXED));
  return BESKID_GC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Handles */

#define HANDLE_BLOCK 256u

typedef struct handle_slot {
  void *object;        /* NULL when free */
  uint32_t generation; /* never 0 */
  uint32_t next_free;  /* index + 1 of the next free slot, 0 at the end */
} handle_slot;

static handle_slot **handle_blocks;
static uint32_t handle_block_count;
static uint32_t handle_free_head; /* index + 1 of a free slot, 0 if none */
static uint64_t handles_live;

static handle_slot *handle_at(uint32_t index) {
  return &handle_blocks[index / HANDLE_BLOCK][index % HANDLE_BLOCK];
}

/* Adds a block of free handles. Indices stay below 2^32 - 1 (a handle keeps index + 1 in its low
 * 32 bits), which bounds the block count and keeps every size below computable. On failure the
 * failure is recorded (requested bytes) and nothing changes but the index's capacity. */
static bool handles_grow(void) {
  if (handle_block_count >= UINT32_MAX / HANDLE_BLOCK - 1) {
    beskid_gc__record_failure(sizeof(handle_slot) * HANDLE_BLOCK);
    return false;
  }
  /* The index is an array of block pointers: its element size is a pointer's. */
  handle_slot **blocks =
      // NOLINTNEXTLINE(bugprone-sizeof-expression)
      beskid_os_mem_resize(handle_blocks, (size_t)handle_block_count + 1, sizeof *blocks);
  if (blocks == NULL) {
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    beskid_gc__record_failure(((uint64_t)handle_block_count + 1) * sizeof *blocks);
    return false;
  }
  handle_blocks = blocks;
  handle_slot *b = beskid_os_mem_alloc(HANDLE_BLOCK, sizeof *b);
  if (b == NULL) {
    beskid_gc__record_failure(HANDLE_BLOCK * sizeof *b);
    return false;
  }
  uint32_t first = handle_block_count * HANDLE_BLOCK;
  for (uint32_t i = 0; i < HANDLE_BLOCK; i++) {
    b[i].object = NULL;
    b[i].generation = 1;
    b[i].next_free = (i + 1 < HANDLE_BLOCK) ? first + i + 2 : handle_free_head;
  }
  handle_blocks[handle_block_count++] = b;
  handle_free_head = first + 1;
  return true;
}

beskid_handle_t beskid_gc_handle_new(void *object) {
  if (!gc.initialized || beskid_gc__find_object((uintptr_t)object, NULL, NULL) == NULL) return 0;
  beskid_os_mutex_lock(&gc.roots_lock);
  if (handle_free_head == 0 && !handles_grow()) {
    beskid_os_mutex_unlock(&gc.roots_lock);
    return 0;
  }
  uint32_t index = handle_free_head - 1;
  handle_slot *h = handle_at(index);
  handle_free_head = h->next_free;
  h->object = object;
  h->next_free = 0;
  handles_live++;
  beskid_handle_t handle = ((uint64_t)h->generation << 32) | (uint64_t)(index + 1);
  beskid_os_mutex_unlock(&gc.roots_lock);
  shade_now(object);
  return handle;
}

/* The live slot a handle names, or NULL. Caller holds roots_lock. */
static handle_slot *handle_lookup(beskid_handle_t handle) {
  uint32_t index_plus_one = (uint32_t)handle;
  uint32_t generation = (uint32_t)(handle >> 32);
  if (index_plus_one == 0 || index_plus_one > handle_block_count * HANDLE_BLOCK) return NULL;
  handle_slot *h = handle_at(index_plus_one - 1);
  if (h->object == NULL || h->generation != generation) return NULL;
  return h;
}

void *beskid_gc_handle_get(beskid_handle_t handle) {
  if (!gc.initialized) return NULL;
  beskid_os_mutex_lock(&gc.roots_lock);
  handle_slot *h = handle_lookup(handle);
  void *object = h != NULL ? h->object : NULL;
  beskid_os_mutex_unlock(&gc.roots_lock);
  return object;
}

bool beskid_gc_handle_release(beskid_handle_t handle) {
  if (!gc.initialized) return false;
  beskid_os_mutex_lock(&gc.roots_lock);
  handle_slot *h = handle_lookup(handle);
  if (h != NULL) {
    h->object = NULL;
    h->generation = h->generation == UINT32_MAX ? 1 : h->generation + 1;
    h->next_free = handle_free_head;
    handle_free_head = (uint32_t)handle;
    handles_live--;
  }
  beskid_os_mutex_unlock(&gc.roots_lock);
  return h != NULL;
}

uint64_t beskid_gc_handle_count(void) {
  if (!gc.initialized) return 0;
  beskid_os_mutex_lock(&gc.roots_lock);
  uint64_t n = handles_live;
  beskid_os_mutex_unlock(&gc.roots_lock);
  return n;
}

void beskid_gc__for_each_handle(void (*fn)(void *object, void *context), void *context) {
  beskid_os_mutex_lock(&gc.roots_lock);
  for (uint32_t b = 0; b < handle_block_count; b++) {
    for (uint32_t i = 0; i < HANDLE_BLOCK; i++) {
      if (handle_blocks[b][i].object != NULL) fn(handle_blocks[b][i].object, context);
    }
  }
  beskid_os_mutex_unlock(&gc.roots_lock);
}

void beskid_gc__roots_shutdown(void) {
  for (uint32_t b = 0; b < handle_block_count; b++) beskid_os_mem_free(handle_blocks[b]);
  beskid_os_mem_free(handle_blocks);
  handle_blocks = NULL;
  handle_block_count = 0;
  handle_free_head = 0;
  handles_live = 0;
  beskid_os_mem_free(gc.globals);
  gc.globals = NULL;
  gc.global_ranges = gc.global_capacity = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Stack maps */

beskid_gc_status beskid_gc_register_stack_maps(const beskid_gc_stack_map_entry_t *entries,
                                               size_t count) {
  (void)entries;
  (void)count;
  return BESKID_GC_UNSUPPORTED;
}
