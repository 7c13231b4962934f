/* support.c — the checks and helpers every area of libs/stdhost shares (see internal.h): argument
 * traps with the function's name, managed byte buffers and strings, and path conversion. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Strings' `ptr` word is the one managed word of each 16-byte element. */
static const uint64_t string_elem_map[] = {0};
const beskid_elem_type_t beskid_std_text_array_elem = {sizeof(beskid_str_t), 8, string_elem_map, 1};

void beskid_std_arg_null(const char *fn, const char *what) {
  char msg[160];
  (void)snprintf(msg, sizeof msg, "%s: NULL %s", fn, what);
  beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, msg);
}

void beskid_std_arg_str(const char *fn, const beskid_str_t *s) {
  if (s == NULL) beskid_std_arg_null(fn, "string");
  if (s->len < 0) {
    char msg[160];
    (void)snprintf(msg, sizeof msg, "%s: string of negative length %lld", fn, (long long)s->len);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  if (s->ptr == NULL && s->len > 0) beskid_std_arg_null(fn, "string data with a length");
}

void beskid_std_arg_range(const char *fn, const beskid_array_t *a, int64_t start, int64_t count) {
  if (a == NULL) beskid_std_arg_null(fn, "array");
  char msg[200];
  if (a->len < 0 || a->cap < a->len) {
    (void)snprintf(msg, sizeof msg, "%s: corrupted array (len %lld, cap %lld)", fn,
                   (long long)a->len, (long long)a->cap);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
  if (a->ptr == NULL && a->len > 0) beskid_std_arg_null(fn, "array data with a length");
  /* start + count cannot overflow: both are checked against len first. */
  if (start < 0 || count < 0 || start > a->len || count > a->len - start) {
    (void)snprintf(msg, sizeof msg, "%s: range [%lld, %lld + %lld) outside an array of length %lld",
                   fn, (long long)start, (long long)start, (long long)count, (long long)a->len);
    beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
  }
}

uint8_t *beskid_std_new_bytes(int64_t len) {
  beskid_array_t a;
  array_new(&a, 1, len); /* traps out_of_memory and overflow itself */
  return a.ptr;
}

void beskid_std_new_text(beskid_str_t *out, const uint8_t *bytes, size_t len) {
  if (len == 0) {
    out->ptr = NULL;
    out->len = 0;
    return;
  }
  if (len > (size_t)INT64_MAX) beskid_rt_trap_arithmetic_overflow();
  uint8_t *data = beskid_std_new_bytes((int64_t)len);
  memcpy(data, bytes, len);
  out->ptr = data;
  out->len = (int64_t)len;
}

beskid_status beskid_std_arg_path(const char *fn, const beskid_str_t *s, char *buf) {
  beskid_std_arg_str(fn, s);
  if (s->len == 0 || s->len >= STD_PATH_CAP) return BESKID_INVALID_INPUT;
  size_t len = (size_t)s->len;
  if (memchr(s->ptr, '\0', len) != NULL) return BESKID_INVALID_INPUT;
  memcpy(buf, s->ptr, len);
  buf[len] = '\0';
  return BESKID_OK;
}
