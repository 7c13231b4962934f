/* fuzz_utf8.c — libFuzzer harness for UTF-8 validation (libs/objmodel beskid_obj_utf8_valid()).
 *
 * The whole input is the text, checked at every starting offset 0..7 (the validator takes
 * ASCII eight bytes at a time, so the alignment of a bad byte inside a word matters). The
 * runtime must agree with the reference decoder of fuzz_support.h on validity and on the offset
 * of the first bad sequence, and must accept a NULL pointer with length 0. */
#include "beskid/objmodel.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (size_t start = 0; start < 8 && start <= size; start++) {
    const uint8_t *text = data + start;
    size_t len = size - start;
    size_t want_bad = 0, got_bad = SIZE_MAX;
    bool want = fuzz_utf8_valid(text, len, &want_bad);
    bool got = beskid_obj_utf8_valid(text, len, &got_bad);
    FUZZ_CHECK(got == want, "start %zu len %zu: runtime %d reference %d", start, len, got, want);
    if (!want) FUZZ_CHECK(got_bad == want_bad, "offset %zu, want %zu", got_bad, want_bad);
    FUZZ_CHECK(beskid_obj_utf8_valid(text, len, NULL) == want, "without an offset");
  }
  FUZZ_CHECK(beskid_obj_utf8_valid(NULL, 0, NULL), "NULL with length 0");
  return 0;
}
