/* fs.c — the filesystem for the standard library: whole-file reads and writes (the write atomic),
 * appends, stat, exists, mkdir (-p), delete, rename and sorted directory listings, each returning
 * a beskid_status.
 *
 * Every system call runs in the native state. A file is read straight into a managed byte buffer
 * that a root frame of the call keeps alive (sized from fstat, grown if the file grows while it
 * is read), and checked for UTF-8 there before leaving the native state; allocation happens only
 * between native sections. A directory is listed and sorted in C memory while native; its names
 * become strings afterwards.
 *
 * write_text never leaves a torn file: the text goes to a fresh temporary file in the target's
 * directory (created exclusively, so two writers never share one), which is fsync'ed, closed and
 * renamed over the target; then the directory is fsync'ed so the rename is durable. On failure the
 * temporary file is removed and the target is untouched. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Reading whole files */

/* Reads the file at `cpath` into a managed buffer held in *slot (a root of the caller's frame);
 * sets *len. With `want_text`, also checks the bytes are UTF-8 (INVALID_INPUT if not). */
static beskid_status read_file(const char *cpath, void **slot, int64_t *len, bool want_text) {
  *len = 0;
  beskid_gc_thread_t *t = std_native_enter();
  int fd = -1;
  beskid_os_file_info info = {0};
  beskid_status st = beskid_os_open(cpath, BESKID_OS_OPEN_READ, &fd);
  if (st == BESKID_OK) st = beskid_os_fstat(fd, &info);
  std_native_leave(t);
  if (st != BESKID_OK) {
    if (fd >= 0) beskid_os_close(fd);
    return st;
  }
  /* One byte more than the size, so the end of file shows without growing; files that report
   * no size (/proc) start with a page. */
  const uint64_t most = (uint64_t)INT64_MAX / 2; /* beyond any heap: the allocation traps */
  int64_t cap = (int64_t)(info.size == 0 ? 4096 : info.size < most ? info.size + 1 : most);
  uint8_t *buf = beskid_std_new_bytes(cap);
  *slot = buf;
  int64_t used = 0;
  for (;;) {
    std_native_enter();
    bool eof = false;
    while (st == BESKID_OK && used < cap) {
      size_t got = 0;
      st = beskid_os_read(fd, buf + used, (size_t)(cap - used), &got);
      if (st == BESKID_OK && got == 0) {
        eof = true;
        break;
      }
      used += (int64_t)got;
    }
    if (st != BESKID_OK || eof) {
      beskid_os_close(fd);
      if (st == BESKID_OK && want_text && !beskid_obj_utf8_valid(buf, (size_t)used, NULL)) {
        st = BESKID_INVALID_INPUT;
      }
      std_native_leave(t);
      break;
    }
    std_native_leave(t);
    /* Full without reaching the end: the file grew while it was read. */
    if (cap > INT64_MAX / 2) {
      beskid_os_close(fd);
      beskid_rt_trap_arithmetic_overflow();
    }
    uint8_t *grown = beskid_std_new_bytes(cap * 2);
    buf = *slot; /* reload after the safepoint: the rooted value is the one to trust */
    memcpy(grown, buf, (size_t)used);
    *slot = buf = grown;
    cap *= 2;
  }
  if (st != BESKID_OK) {
    *slot = NULL;
    return st;
  }
  *len = used;
  return BESKID_OK;
}

/* Reads the file at `path` whole (read_file), rooted while it is read: *data and *len are the
 * bytes read, NULL and 0 on failure and for an empty file. */
static beskid_status read_whole(const char *fn, const beskid_str_t *path, bool want_text,
                                void **data, int64_t *len) {
  *data = NULL;
  *len = 0;
  char cpath[STD_PATH_CAP];
  beskid_status st = beskid_std_arg_path(fn, path, cpath);
  if (st != BESKID_OK) return st;
  beskid_gc_thread_t *t = beskid_rt_thread();
  void *slots[1];
  beskid_root_frame_t frame;
  std_roots_push(t, &frame, slots, 1);
  int64_t n = 0;
  st = read_file(cpath, &slots[0], &n, want_text);
  if (st == BESKID_OK && n > 0) {
    *data = slots[0];
    *len = n;
  }
  std_roots_pop(t, &frame);
  return st;
}

int32_t beskid_std_fs_read_text(beskid_str_t *out, const beskid_str_t *path) {
  static const char fn[] = "beskid_std_fs_read_text";
  if (out == NULL) beskid_std_arg_null(fn, "result pointer");
  void *data;
  int64_t len;
  beskid_status st = read_whole(fn, path, true, &data, &len);
  out->ptr = data;
  out->len = len;
  return (int32_t)st;
}

int32_t beskid_std_fs_read_bytes(beskid_array_t *out, const beskid_str_t *path) {
  static const char fn[] = "beskid_std_fs_read_bytes";
  if (out == NULL) beskid_std_arg_null(fn, "result pointer");
  void *data;
  int64_t len;
  beskid_status st = read_whole(fn, path, false, &data, &len);
  /* The array covers exactly the bytes read; the buffer's spare capacity stays unused. */
  out->ptr = data;
  out->len = out->cap = len;
  return (int32_t)st;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

/* Numbers temporary files of this process apart; relaxed: only uniqueness matters. */
static atomic_uint_fast64_t temp_counter;

/* Writes `len` bytes at `bytes` (managed memory the caller has rooted) to `cpath` atomically.
 * Runs in the native state. */
static beskid_status write_atomic(char *cpath, const uint8_t *bytes, size_t len) {
  char *slash = strrchr(cpath, '/');
  const char *base = slash != NULL ? slash + 1 : cpath;
  if (*base == '\0') return BESKID_INVALID_INPUT; /* "dir/": no file name */
  char dir[STD_PATH_CAP];
  if (slash == NULL || slash == cpath) {
    dir[0] = slash == NULL ? '.' : '/';
    dir[1] = '\0';
  } else {
    memcpy(dir, cpath, (size_t)(slash - cpath));
    dir[slash - cpath] = '\0';
  }
  /* ".<base>.tmp-<pid>-<n>" beside the target; a long base is cut so the name stays legal. */
  char temp[STD_PATH_CAP + 64];
  int fd = -1;
  beskid_status st = BESKID_ALREADY_EXISTS;
  for (int attempt = 0; attempt < 100 && st == BESKID_ALREADY_EXISTS; attempt++) {
    unsigned long long n =
        (unsigned long long)atomic_fetch_add_explicit(&temp_counter, 1, memory_order_relaxed);
    int n_written = snprintf(temp, sizeof temp, "%.*s.%.200s.tmp-%lld-%llu", (int)(base - cpath),
                             cpath, base, (long long)beskid_os_pid(), n);
    if (n_written < 0 || (size_t)n_written >= STD_PATH_CAP) return BESKID_INVALID_INPUT;
    st = beskid_os_open(
        temp, BESKID_OS_OPEN_WRITE | BESKID_OS_OPEN_CREATE | BESKID_OS_OPEN_EXCLUSIVE, &fd);
  }
  if (st != BESKID_OK) return st;
  st = beskid_os_write_all(fd, bytes, len, NULL);
  if (st == BESKID_OK) st = beskid_os_fsync(fd);
  beskid_status closed = beskid_os_close(fd);
  if (st == BESKID_OK) st = closed;
  if (st == BESKID_OK) st = beskid_os_rename(temp, cpath);
  if (st != BESKID_OK) {
    beskid_os_remove(temp);
    return st;
  }
  /* Make the rename itself durable. Some filesystems cannot sync a directory; the file's own
   * contents are already safe, so that is not a failure of the write. */
  int dfd;
  if (beskid_os_open(dir, BESKID_OS_OPEN_READ, &dfd) == BESKID_OK) {
    beskid_os_fsync(dfd);
    beskid_os_close(dfd);
  }
  return BESKID_OK;
}

/* Runs `op` on a path and a text in the native state, with the text's bytes rooted. */
static beskid_status with_text(const char *fn, const beskid_str_t *path, const beskid_str_t *text,
                               beskid_status (*op)(char *, const uint8_t *, size_t)) {
  char cpath[STD_PATH_CAP];
  beskid_std_arg_str(fn, text);
  beskid_status st = beskid_std_arg_path(fn, path, cpath);
  if (st != BESKID_OK) return st;
  beskid_gc_thread_t *t = beskid_gc_current();
  // cppcheck-suppress variableScope ; `frame` points at it until the frame is popped below
  void *slots[1];
  beskid_root_frame_t frame;
  if (t != NULL) {
    std_roots_push(t, &frame, slots, 1);
    slots[0] = (void *)(uintptr_t)text->ptr;
  }
  const uint8_t *bytes = text->ptr;
  size_t len = (size_t)text->len;
  std_native_enter();
  st = op(cpath, bytes, len);
  std_native_leave(t);
  if (t != NULL) std_roots_pop(t, &frame);
  return st;
}

int32_t beskid_std_fs_write_text(const beskid_str_t *path, const beskid_str_t *text) {
  return (int32_t)with_text("beskid_std_fs_write_text", path, text, write_atomic);
}

static beskid_status append(char *cpath, const uint8_t *bytes, size_t len) {
  int fd;
  beskid_status st = beskid_os_open(
      cpath, BESKID_OS_OPEN_WRITE | BESKID_OS_OPEN_CREATE | BESKID_OS_OPEN_APPEND, &fd);
  if (st != BESKID_OK) return st;
  st = beskid_os_write_all(fd, bytes, len, NULL);
  beskid_status closed = beskid_os_close(fd);
  return st != BESKID_OK ? st : closed;
}

int32_t beskid_std_fs_append_text(const beskid_str_t *path, const beskid_str_t *text) {
  return (int32_t)with_text("beskid_std_fs_append_text", path, text, append);
}

/* ------------------------------------------------------------------------------------------ */
/* Metadata and directories */

static beskid_status stat_native(const char *cpath, beskid_os_file_info *info) {
  beskid_gc_thread_t *t = std_native_enter();
  beskid_status st = beskid_os_stat(cpath, info);
  std_native_leave(t);
  return st;
}

int32_t beskid_std_fs_exists(const beskid_str_t *path) {
  char cpath[STD_PATH_CAP];
  beskid_status st = beskid_std_arg_path("beskid_std_fs_exists", path, cpath);
  if (st != BESKID_OK) return (int32_t)st;
  beskid_os_file_info info;
  return (int32_t)stat_native(cpath, &info);
}

int32_t beskid_std_fs_stat(const beskid_str_t *path, int64_t *size, int32_t *kind,
                           int64_t *modified_ns) {
  if (size != NULL) *size = 0;
  if (kind != NULL) *kind = 0;
  if (modified_ns != NULL) *modified_ns = 0;
  char cpath[STD_PATH_CAP];
  beskid_status st = beskid_std_arg_path("beskid_std_fs_stat", path, cpath);
  if (st != BESKID_OK) return (int32_t)st;
  beskid_os_file_info info;
  st = stat_native(cpath, &info);
  if (st != BESKID_OK) return (int32_t)st;
  if (size != NULL) *size = info.size > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)info.size;
  if (kind != NULL) *kind = (int32_t)info.kind;
  if (modified_ns != NULL) *modified_ns = info.modified_ns;
  return BESKID_OK;
}

/* mkdir that calls an existing directory success. `last` says whether `cpath` is the path the
 * caller asked for (then a non-directory there is ALREADY_EXISTS) or one of its parents (then it
 * is NOT_FOUND, as for any path through a file). */
static beskid_status mkdir_exists_ok(const char *cpath, bool last) {
  beskid_status st = beskid_os_mkdir(cpath);
  if (st != BESKID_ALREADY_EXISTS) return st;
  beskid_os_file_info info;
  if (beskid_os_stat(cpath, &info) == BESKID_OK && info.kind == BESKID_OS_FILE_DIRECTORY) {
    return BESKID_OK;
  }
  return last ? BESKID_ALREADY_EXISTS : BESKID_NOT_FOUND;
}

static beskid_status mkdir_parents(char *cpath) {
  size_t len = strlen(cpath);
  while (len > 1 && cpath[len - 1] == '/') cpath[--len] = '\0'; /* "a/b/" is "a/b" */
  beskid_status st = mkdir_exists_ok(cpath, true);
  if (st != BESKID_NOT_FOUND) return st;
  /* A parent is missing: create each prefix in turn, then the path itself. */
  for (size_t i = 1; i < len; i++) {
    if (cpath[i] != '/' || cpath[i - 1] == '/') continue;
    cpath[i] = '\0';
    st = mkdir_exists_ok(cpath, false);
    cpath[i] = '/';
    if (st != BESKID_OK) return st;
  }
  return mkdir_exists_ok(cpath, true);
}

int32_t beskid_std_fs_mkdir(const beskid_str_t *path, bool parents) {
  char cpath[STD_PATH_CAP];
  beskid_status st = beskid_std_arg_path("beskid_std_fs_mkdir", path, cpath);
  if (st != BESKID_OK) return (int32_t)st;
  beskid_gc_thread_t *t = std_native_enter();
  st = parents ? mkdir_parents(cpath) : beskid_os_mkdir(cpath);
  std_native_leave(t);
  return (int32_t)st;
}

int32_t beskid_std_fs_delete(const beskid_str_t *path) {
  char cpath[STD_PATH_CAP];
  beskid_status st = beskid_std_arg_path("beskid_std_fs_delete", path, cpath);
  if (st != BESKID_OK) return (int32_t)st;
  beskid_gc_thread_t *t = std_native_enter();
  st = beskid_os_remove(cpath);
  std_native_leave(t);
  return (int32_t)st;
}

int32_t beskid_std_fs_rename(const beskid_str_t *from, const beskid_str_t *to) {
  static const char fn[] = "beskid_std_fs_rename";
  char cfrom[STD_PATH_CAP], cto[STD_PATH_CAP];
  beskid_std_arg_str(fn, to);
  beskid_status st = beskid_std_arg_path(fn, from, cfrom);
  if (st == BESKID_OK) st = beskid_std_arg_path(fn, to, cto);
  if (st != BESKID_OK) return (int32_t)st;
  beskid_gc_thread_t *t = std_native_enter();
  st = beskid_os_rename(cfrom, cto);
  std_native_leave(t);
  return (int32_t)st;
}

/* A directory's names in C memory: `names` holds them back to back, `entries` where each is. */
typedef struct name_ref {
  size_t offset, len;
} name_ref;

typedef struct listing {
  char *names;
  size_t names_len, names_cap;
  name_ref *entries;
  size_t count, cap;
} listing;

static bool listing_add(listing *l, const char *name, size_t len) {
  if (l->count == l->cap) {
    size_t cap = l->cap == 0 ? 64 : l->cap * 2;
    name_ref *grown = beskid_os_mem_resize(l->entries, cap, sizeof *grown);
    if (grown == NULL) return false;
    l->entries = grown;
    l->cap = cap;
  }
  if (l->names == NULL || l->names_cap - l->names_len < len) {
    size_t cap = l->names_cap == 0 ? 4096 : l->names_cap * 2;
    while (cap - l->names_len < len) cap *= 2;
    char *grown = beskid_os_mem_resize(l->names, cap, 1);
    if (grown == NULL) return false;
    l->names = grown;
    l->names_cap = cap;
  }
  memcpy(l->names + l->names_len, name, len);
  l->entries[l->count++] = (name_ref){l->names_len, len};
  l->names_len += len;
  return true;
}

/* qsort has no context argument: the names' base travels in a thread-local. */
static _Thread_local const char *sort_base;

static int compare_refs(const void *pa, const void *pb) {
  const name_ref *a = pa, *b = pb;
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(sort_base + a->offset, sort_base + b->offset, n);
  if (c != 0) return c;
  return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

/* Lists, checks and sorts a directory in C memory (run in the native state). */
static beskid_status list_native(const char *cpath, listing *l) {
  beskid_os_dir_t dir;
  beskid_status st = beskid_os_dir_open(cpath, &dir);
  if (st != BESKID_OK) return st;
  for (;;) {
    const char *name;
    size_t len;
    st = beskid_os_dir_next(&dir, &name, &len);
    if (st != BESKID_OK || name == NULL) break;
    if (!beskid_obj_utf8_valid((const uint8_t *)name, len, NULL)) {
      st = BESKID_INVALID_INPUT;
      break;
    }
    if (!listing_add(l, name, len)) {
      beskid_os_dir_close(&dir);
      beskid_rt_trap_own_out_of_memory(len + sizeof *l->entries);
    }
  }
  beskid_os_dir_close(&dir);
  if (st == BESKID_OK && l->count > 1) {
    sort_base = l->names;
    qsort(l->entries, l->count, sizeof *l->entries, compare_refs);
  }
  return st;
}

int32_t beskid_std_fs_list_dir(beskid_array_t *out, const beskid_str_t *path) {
  static const char fn[] = "beskid_std_fs_list_dir";
  if (out == NULL) beskid_std_arg_null(fn, "result pointer");
  out->ptr = NULL;
  out->len = out->cap = 0;
  char cpath[STD_PATH_CAP];
  beskid_status st = beskid_std_arg_path(fn, path, cpath);
  if (st != BESKID_OK) return (int32_t)st;
  beskid_gc_thread_t *t = beskid_rt_thread();
  listing l = {0};
  std_native_enter();
  st = list_native(cpath, &l);
  std_native_leave(t);
  if (st == BESKID_OK && l.count > 0) {
    if (l.count > (size_t)INT64_MAX) beskid_rt_trap_arithmetic_overflow();
    void *slots[1];
    beskid_root_frame_t frame;
    std_roots_push(t, &frame, slots, 1);
    beskid_array_t names;
    beskid_rt_array_new_typed(&names, &beskid_std_text_array_elem, (int64_t)l.count);
    slots[0] = names.ptr;
    for (size_t i = 0; i < l.count; i++) {
      beskid_str_t s;
      beskid_std_new_text(&s, (const uint8_t *)l.names + l.entries[i].offset, l.entries[i].len);
      beskid_str_t *elem = (beskid_str_t *)slots[0] + i;
      std_store_ptr(t, (void **)&elem->ptr, (void *)(uintptr_t)s.ptr);
      elem->len = s.len;
    }
    out->ptr = slots[0];
    out->len = out->cap = (int64_t)l.count;
    std_roots_pop(t, &frame);
  }
  beskid_os_mem_free(l.names);
  beskid_os_mem_free(l.entries);
  return (int32_t)st;
}
