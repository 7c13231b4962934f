/* console.c — reading and writing file descriptors for the standard library: strings and byte
 * ranges out, byte ranges and lines in, terminal queries.
 *
 * Every call that may block runs in the native state, so a collection never waits for it. While
 * native, the only managed memory touched is the bytes of the caller's string or byte array,
 * which this call keeps alive in a root frame of its own (objects never move); lines are
 * gathered in C memory and copied into a new string only after leaving the native state.
 *
 * Lines are read in blocks, so the bytes read past a line must wait for the next call: each
 * descriptor that read_line has used gets a read-ahead buffer (an fd_state), shared with
 * beskid_std_console_read so the two never lose or reorder bytes. The states form a list that
 * only grows (a descriptor's state lives as long as the process), so it is searched without a
 * lock; a state's buffer is guarded by its mutex, taken in the native state because its holder
 * may be blocked in a read. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Read-ahead buffers */

enum { READ_BLOCK = 64 * 1024 }; /* bytes asked of the OS per read, and the buffer's base size */
enum { KEEP_MAX = 1024 * 1024 }; /* a buffer grown past this shrinks back once drained */

typedef struct fd_state {
  struct fd_state *next; /* immutable once published */
  int fd;                /* immutable once published */
  beskid_os_mutex_t lock;
  uint8_t *buf; /* C memory; NULL until first needed */
  size_t cap;   /* capacity of buf */
  size_t start; /* buf[start, end) is read ahead and not yet returned */
  size_t end;
} fd_state;

/* Head of the list of states. Release on publication, acquire on reading: a state's fields are
 * written before it is published, so a reader that sees it sees them. */
static _Atomic(fd_state *) states;

/* The state of `fd` among those from `head` down to (not including) `stop`, or NULL. */
static fd_state *state_find(fd_state *head, const fd_state *stop, int fd) {
  for (fd_state *s = head; s != stop; s = s->next) {
    if (s->fd == fd) return s;
  }
  return NULL;
}

/* The state of `fd`, made on first use; NULL when out of memory. Invariant: one state per
 * descriptor. The list is searched from the very head that the new state is linked to, and a
 * failed publication searches only what was pushed since, so two threads making a descriptor's
 * first call cannot both publish a state for it (which would split its bytes between two
 * buffers). */
static fd_state *state_get(int fd) {
  fd_state *head = atomic_load_explicit(&states, memory_order_acquire);
  fd_state *s = state_find(head, NULL, fd);
  if (s != NULL) return s;
  fd_state *fresh = beskid_os_mem_alloc(1, sizeof *fresh);
  if (fresh == NULL) return NULL;
  fresh->fd = fd;
  if (beskid_os_mutex_init(&fresh->lock) != BESKID_OK) {
    beskid_os_mem_free(fresh);
    return NULL;
  }
  for (;;) {
    fresh->next = head; /* searched already */
    /* Release publishes fresh's fields; on failure `head` is reloaded (acquire), and the states
     * pushed above the one searched are searched, since one may be for this very descriptor. */
    if (atomic_compare_exchange_weak_explicit(&states, &head, fresh, memory_order_release,
                                              memory_order_acquire)) {
      return fresh;
    }
    s = state_find(head, fresh->next, fd);
    if (s != NULL) {
      beskid_os_mutex_destroy(&fresh->lock);
      beskid_os_mem_free(fresh);
      return s;
    }
  }
}

/* Takes a state's lock; the caller is in the native state (the holder may block for long). */
static void state_lock(fd_state *s) { beskid_os_mutex_lock(&s->lock); }
static void state_unlock(fd_state *s) { beskid_os_mutex_unlock(&s->lock); }

/* Makes room for at least READ_BLOCK more bytes after `end`; false when out of memory. */
static bool state_make_room(fd_state *s) {
  if (s->start > 0 && s->start == s->end) s->start = s->end = 0;
  if (s->cap - s->end >= READ_BLOCK) return true;
  if (s->start > 0) {
    memmove(s->buf, s->buf + s->start, s->end - s->start);
    s->end -= s->start;
    s->start = 0;
    if (s->cap - s->end >= READ_BLOCK) return true;
  }
  size_t cap = s->cap == 0 ? READ_BLOCK : s->cap * 2;
  while (cap - s->end < READ_BLOCK) cap *= 2;
  uint8_t *grown = beskid_os_mem_resize(s->buf, cap, 1);
  if (grown == NULL) return false;
  s->buf = grown;
  s->cap = cap;
  return true;
}

/* After bytes were taken: an empty buffer that grew for a long line goes back to the base size. */
static void state_trim(fd_state *s) {
  if (s->start != s->end) return;
  s->start = s->end = 0;
  if (s->cap > KEEP_MAX) {
    uint8_t *small = beskid_os_mem_resize(s->buf, READ_BLOCK, 1);
    if (small != NULL) {
      s->buf = small;
      s->cap = READ_BLOCK;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

/* Writes `len` (> 0) bytes at `bytes`, which may be managed memory: it is rooted for the call. */
static int64_t write_out(int64_t fd, const uint8_t *bytes, size_t len) {
  int os_fd = std_fd(fd);
  if (os_fd < 0) return -1;
  beskid_gc_thread_t *t = beskid_gc_current();
  // cppcheck-suppress variableScope ; `frame` points at it until the frame is popped below
  void *slots[1];
  beskid_root_frame_t frame;
  if (t != NULL) {
    std_roots_push(t, &frame, slots, 1);
    slots[0] = (void *)(uintptr_t)bytes;
  }
  std_native_enter();
  size_t written = 0;
  beskid_status st = beskid_os_write_all(os_fd, bytes, len, &written);
  std_native_leave(t);
  if (t != NULL) std_roots_pop(t, &frame);
  return st == BESKID_OK ? (int64_t)written : -1;
}

int64_t beskid_std_console_write(int64_t fd, const beskid_str_t *text) {
  beskid_std_arg_str("beskid_std_console_write", text);
  if (text->len == 0) return 0;
  return write_out(fd, text->ptr, (size_t)text->len);
}

int64_t beskid_std_console_write_bytes(int64_t fd, const beskid_array_t *bytes, int64_t start,
                                       int64_t count) {
  beskid_std_arg_range("beskid_std_console_write_bytes", bytes, start, count);
  if (count == 0) return 0;
  return write_out(fd, (const uint8_t *)bytes->ptr + start, (size_t)count);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading */

int64_t beskid_std_console_read(int64_t fd, const beskid_array_t *bytes, int64_t start,
                                int64_t count) {
  beskid_std_arg_range("beskid_std_console_read", bytes, start, count);
  if (count == 0) return 0;
  int os_fd = std_fd(fd);
  if (os_fd < 0) return -1;
  uint8_t *dest = (uint8_t *)bytes->ptr + start;
  beskid_gc_thread_t *t = beskid_gc_current();
  // cppcheck-suppress variableScope ; `frame` points at it until the frame is popped below
  void *slots[1];
  beskid_root_frame_t frame;
  if (t != NULL) {
    std_roots_push(t, &frame, slots, 1);
    slots[0] = bytes->ptr; /* keeps the destination alive while native */
  }
  fd_state *s = state_find(atomic_load_explicit(&states, memory_order_acquire), NULL, os_fd);
  std_native_enter();
  int64_t result;
  if (s != NULL) state_lock(s);
  if (s != NULL && s->start < s->end) {
    /* Bytes a read_line read ahead come first, and without a system call. */
    size_t n = s->end - s->start < (size_t)count ? s->end - s->start : (size_t)count;
    memcpy(dest, s->buf + s->start, n);
    s->start += n;
    state_trim(s);
    result = (int64_t)n;
  } else {
    size_t got = 0;
    result = beskid_os_read(os_fd, dest, (size_t)count, &got) == BESKID_OK ? (int64_t)got : -1;
  }
  if (s != NULL) state_unlock(s);
  std_native_leave(t);
  if (t != NULL) std_roots_pop(t, &frame);
  return result;
}

int32_t beskid_std_console_read_line(int64_t fd, beskid_str_t *out) {
  static const char fn[] = "beskid_std_console_read_line";
  if (out == NULL) beskid_std_arg_null(fn, "result pointer");
  out->ptr = NULL;
  out->len = 0;
  int os_fd = std_fd(fd);
  if (os_fd < 0) return BESKID_INVALID_INPUT;
  fd_state *s = state_get(os_fd);
  if (s == NULL) beskid_rt_trap_own_out_of_memory(sizeof *s);

  beskid_gc_thread_t *t = std_native_enter();
  state_lock(s);
  beskid_status st = BESKID_OK;
  size_t scanned = s->start; /* bytes before this hold no newline */
  size_t line_end = 0, consumed_to = 0;
  bool have_line = false;
  while (!have_line) {
    uint8_t *nl = s->end > scanned ? memchr(s->buf + scanned, '\n', s->end - scanned) : NULL;
    if (nl != NULL) {
      line_end = (size_t)(nl - s->buf);
      consumed_to = line_end + 1;
      if (line_end > s->start && s->buf[line_end - 1] == '\r') line_end--;
      have_line = true;
      break;
    }
    size_t scanned_len = s->end - s->start;
    if (!state_make_room(s)) {
      state_unlock(s);
      std_native_leave(t);
      beskid_rt_trap_own_out_of_memory(s->cap * 2); /* what growing the buffer asked for */
    }
    scanned = s->start + scanned_len; /* the buffer may have moved its contents to the front */
    size_t got = 0;
    st = beskid_os_read(os_fd, s->buf + s->end, s->cap - s->end, &got);
    if (st != BESKID_OK) break;
    if (got == 0) { /* end of file: the rest, if any, is the last line */
      if (s->end == s->start) {
        st = BESKID_END_OF_FILE;
        break;
      }
      line_end = consumed_to = s->end;
      have_line = true;
      break;
    }
    s->end += got;
  }
  std_native_leave(t);
  /* Still holding the state's lock: the line's bytes stay put while they are copied. */
  if (have_line) {
    const uint8_t *line = s->buf + s->start;
    size_t len = line_end - s->start;
    if (beskid_obj_utf8_valid(line, len, NULL)) {
      beskid_std_new_text(out, line, len);
    } else {
      st = BESKID_INVALID_INPUT;
    }
    s->start = consumed_to;
    state_trim(s);
  }
  state_unlock(s);
  return (int32_t)st;
}

/* ------------------------------------------------------------------------------------------ */
/* Terminals */

bool beskid_std_console_isatty(int64_t fd) {
  int os_fd = std_fd(fd);
  return os_fd >= 0 && beskid_os_isatty(os_fd);
}

int32_t beskid_std_console_terminal_size(int64_t fd, int64_t *columns, int64_t *rows) {
  static const char fn[] = "beskid_std_console_terminal_size";
  if (columns == NULL) beskid_std_arg_null(fn, "columns pointer");
  if (rows == NULL) beskid_std_arg_null(fn, "rows pointer");
  *columns = *rows = 0;
  int os_fd = std_fd(fd);
  uint32_t c = 0, r = 0;
  if (os_fd < 0 || beskid_os_terminal_size(os_fd, &c, &r) != BESKID_OK) return BESKID_INVALID_INPUT;
  *columns = c;
  *rows = r;
  return BESKID_OK;
}
