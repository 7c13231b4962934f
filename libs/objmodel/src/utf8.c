/* utf8.c — UTF-8 validation, the rule every Beskid string keeps (RFC 3629).
 *
 * Accepted: U+0000..U+D7FF and U+E000..U+10FFFF in their shortest form. Refused: overlong forms
 * (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF), code points above U+10FFFF (F4 90..,
 * F5..FF), stray continuation bytes and sequences cut short. ASCII runs, the common case, are
 * checked eight bytes at a time. */
#include <string.h>

#include "beskid/objmodel.h"

bool beskid_obj_utf8_valid(const uint8_t *bytes, size_t len, size_t *error_offset) {
  size_t i = 0;
  while (i < len) {
    if (len - i >= 8) {
      uint64_t word;
      memcpy(&word, bytes + i, 8);
      if ((word & UINT64_C(0x8080808080808080)) == 0) {
        i += 8;
        continue;
      }
    }
    uint8_t c = bytes[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the first continuation byte */
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0)
        lo = 0xA0; /* no overlong three-byte forms */
      else if (c == 0xED)
        hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0)
        lo = 0x90; /* no overlong four-byte forms */
      else if (c == 0xF4)
        hi = 0x8F; /* nothing above U+10FFFF */
    } else {
      goto invalid; /* continuation byte, C0, C1, F5..FF */
    }
    if (len - i <= need) goto invalid;
    if (bytes[i + 1] < lo || bytes[i + 1] > hi) goto invalid;
    for (size_t k = 2; k <= need; k++) {
      if ((bytes[i + k] & 0xC0) != 0x80) goto invalid;
    }
    i += need + 1;
    continue;
  invalid:
    if (error_offset != NULL) *error_offset = i;
    return false;
  }
  return true;
}
