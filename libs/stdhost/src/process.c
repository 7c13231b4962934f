/* process.c — the program's arguments and environment, its working directory, its id and its
 * end, for the standard library.
 *
 * The arguments are libs/platform's private snapshot (set by the AOT main or a JIT host); the
 * environment is read and written through libs/platform under its lock, so a get never sees a
 * half-written value. Every string returned is a new managed copy, checked to be UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Arguments */

int32_t beskid_std_args_set(int64_t argc, const char *const *argv) {
  if (argc < 0 || argc > INT32_MAX || (argv == NULL && argc > 0)) return BESKID_INVALID_INPUT;
  return (int32_t)beskid_os_args_set((int)argc, argv);
}

int64_t beskid_std_args_count(void) { return beskid_os_args_count(); }

void beskid_std_args_get(beskid_str_t *out, int64_t index) {
  if (out == NULL) beskid_std_arg_null("beskid_std_args_get", "result pointer");
  size_t len = 0;
  const char *arg = beskid_os_args_get(index, &len);
  if (arg == NULL) beskid_rt_trap_bounds(index, beskid_os_args_count());
  size_t bad = 0;
  if (!beskid_obj_utf8_valid((const uint8_t *)arg, len, &bad)) {
    char msg[160];
    (void)snprintf(msg, sizeof msg, "beskid_std_args_get: argument %lld is not UTF-8 (byte %zu)",
                   (long long)index, bad);
    beskid_rt_trap(BESKID_TRAP_INVALID_UTF8, msg);
  }
  beskid_std_new_text(out, (const uint8_t *)arg, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Environment */

/* The variable's name as a C string: not empty, no NUL, no '='. */
static beskid_status env_name(const char *fn, const beskid_str_t *name, char *buf) {
  beskid_status st = beskid_std_arg_path(fn, name, buf);
  if (st != BESKID_OK) return st;
  return strchr(buf, '=') != NULL ? BESKID_INVALID_INPUT : BESKID_OK;
}

int32_t beskid_std_env_get(beskid_str_t *out, const beskid_str_t *name) {
  static const char fn[] = "beskid_std_env_get";
  if (out == NULL) beskid_std_arg_null(fn, "result pointer");
  out->ptr = NULL;
  out->len = 0;
  char cname[STD_PATH_CAP];
  beskid_status st = env_name(fn, name, cname);
  if (st != BESKID_OK) return (int32_t)st;
  char small[256];
  size_t len = 0;
  st = beskid_os_env_get(cname, small, sizeof small, &len);
  if (st == BESKID_OK) {
    if (!beskid_obj_utf8_valid((const uint8_t *)small, len, NULL)) return BESKID_INVALID_INPUT;
    beskid_std_new_text(out, (const uint8_t *)small, len);
    return BESKID_OK;
  }
  /* Too long for the stack: copy straight into a managed buffer with room for the NUL. The value
   * may grow between two calls (another thread sets it), hence the loop. */
  while (st == BESKID_INVALID_INPUT && len >= sizeof small) {
    if (len >= (size_t)INT64_MAX) beskid_rt_trap_arithmetic_overflow();
    size_t cap = len + 1;
    uint8_t *buf = beskid_std_new_bytes((int64_t)cap);
    st = beskid_os_env_get(cname, (char *)buf, cap, &len);
    if (st == BESKID_OK) {
      if (!beskid_obj_utf8_valid(buf, len, NULL)) return BESKID_INVALID_INPUT;
      out->ptr = len > 0 ? buf : NULL;
      out->len = (int64_t)len;
      return BESKID_OK;
    }
  }
  return (int32_t)st;
}

int32_t beskid_std_env_set(const beskid_str_t *name, const beskid_str_t *value) {
  static const char fn[] = "beskid_std_env_set";
  char cname[STD_PATH_CAP];
  beskid_status st = env_name(fn, name, cname);
  beskid_std_arg_str(fn, value);
  if (st != BESKID_OK) return (int32_t)st;
  size_t len = (size_t)value->len;
  if (len > 0 && memchr(value->ptr, '\0', len) != NULL) return BESKID_INVALID_INPUT;
  char small[256];
  char *cvalue = len < sizeof small ? small : beskid_os_mem_alloc(len + 1, 1);
  if (cvalue == NULL) beskid_rt_trap_own_out_of_memory(len + 1);
  if (len > 0) memcpy(cvalue, value->ptr, len);
  cvalue[len] = '\0';
  st = beskid_os_env_set(cname, cvalue);
  if (cvalue != small) beskid_os_mem_free(cvalue);
  return (int32_t)st;
}

int32_t beskid_std_env_unset(const beskid_str_t *name) {
  char cname[STD_PATH_CAP];
  beskid_status st = env_name("beskid_std_env_unset", name, cname);
  if (st != BESKID_OK) return (int32_t)st;
  return (int32_t)beskid_os_env_set(cname, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Working directory, id, exit */

int32_t beskid_std_cwd(beskid_str_t *out) {
  if (out == NULL) beskid_std_arg_null("beskid_std_cwd", "result pointer");
  out->ptr = NULL;
  out->len = 0;
  char path[STD_PATH_CAP];
  size_t len = 0;
  beskid_status st = beskid_os_getcwd(path, sizeof path, &len);
  if (st != BESKID_OK) return (int32_t)st;
  if (!beskid_obj_utf8_valid((const uint8_t *)path, len, NULL)) return BESKID_INVALID_INPUT;
  beskid_std_new_text(out, (const uint8_t *)path, len);
  return BESKID_OK;
}

int64_t beskid_std_pid(void) { return beskid_os_pid(); }

/* Ends the program as the return of beskid_program_main does (aot_main.c): other threads may be
 * attached, allocating or collecting, so nothing is torn down under them; the runtime's own lines
 * were written unbuffered, stdio is flushed, and no exit handler runs (as Go's os.Exit). */
void beskid_std_exit(int64_t status) { beskid_os_exit_flushed((int)(status & 0xff)); }
