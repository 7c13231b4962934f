/**
 * @file stdhost.h
 * @brief libs/stdhost — the host functions the Beskid standard library calls.
 *
 * Symbol prefix: `beskid_std_`.
 *
 * Every function here uses the ABI of beskid/runtime_abi.h: strings (beskid_str_t) and arrays
 * (beskid_array_t) are passed by pointer, string and array results are written through an out
 * pointer, `bool` is one byte. Functions marked "Safepoint" may allocate and so may stop the
 * thread for the collector; they keep their own managed inputs alive while they do, and every
 * object they return is reachable only through what they return (nothing needs freeing).
 *
 * **Bad input traps** (one line on stderr, exit status 101, see runtime_abi.h): a NULL string,
 * array or out pointer, or a NULL data pointer with a non-zero length, is `null_reference`; a
 * negative length, a length above the capacity, or an index or range outside a value is
 * `bounds`; bytes that would make a string that is not UTF-8 are `invalid_utf8`; a size that
 * overflows is `arithmetic_overflow`; an exhausted heap is `out_of_memory`.
 *
 * **Results.** As with str_new(), an out pointer is the caller's own slot (a local or a root
 * slot): results are stored through it without a write barrier. To put a result into a heap
 * object, receive it in a local and store it with the barrier.
 */
#ifndef BESKID_STDHOST_H
#define BESKID_STDHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "beskid/runtime_abi.h"
#include "beskid/stdhost_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/** @name Strings
 *
 * Strings are immutable UTF-8 byte sequences (beskid_str_t); lengths and offsets count bytes.
 * Functions that read strings trust the UTF-8 invariant every string value keeps (str_new and
 * everything here establish it); functions that cut a string (slice, the code-point cursor)
 * check that the cut falls on a code-point boundary. The empty string may be `{NULL, 0}`; every
 * empty result is `{NULL, 0}`, so an empty result keeps nothing alive.
 */
/** @{ */

/** @brief Whether two strings hold the same bytes. Traps: null_reference, bounds (bad value). */
BESKID_RT_API bool beskid_std_str_eq(const beskid_str_t *a, const beskid_str_t *b);

/**
 * @brief Orders two strings bytewise (for UTF-8 this is code-point order); a proper prefix
 *        orders first.
 * @return -1, 0 or 1 as `a` orders before, equal to or after `b`.
 * Traps: null_reference, bounds (a corrupted value).
 */
BESKID_RT_API int32_t beskid_std_str_compare(const beskid_str_t *a, const beskid_str_t *b);

/**
 * @brief `out = a + b`, a new string. Safepoint. `out` may alias `a` or `b`.
 * Traps: null_reference, bounds, arithmetic_overflow (total length), out_of_memory.
 */
BESKID_RT_API void beskid_std_str_concat(beskid_str_t *out, const beskid_str_t *a,
                                         const beskid_str_t *b);

/**
 * @brief `out = s[start..end)`, the bytes from offset `start` up to (not including) `end`. Not
 *        a copy: the result points into `s`'s storage, which it keeps alive. Allocates nothing.
 * Traps: null_reference; bounds unless 0 ≤ start ≤ end ≤ len; invalid_utf8 when `start` or
 * `end` falls inside a multi-byte code point.
 */
BESKID_RT_API void beskid_std_str_slice(beskid_str_t *out, const beskid_str_t *s, int64_t start,
                                        int64_t end);

/**
 * @brief Makes a string from `len` bytes of a byte array (elements of one byte) starting at
 *        element `start`, copied and validated. Safepoint.
 * Traps: null_reference, bounds (range outside `bytes->len`), invalid_utf8 (with the offset of
 * the first bad byte), out_of_memory.
 */
BESKID_RT_API void beskid_std_str_from_utf8(beskid_str_t *out, const beskid_array_t *bytes,
                                            int64_t start, int64_t len);

/**
 * @brief Where `len` bytes of a byte array stop being UTF-8.
 * @return -1 when the bytes `[start, start + len)` are valid UTF-8, else the offset (from
 *         `start`) of the first byte of the first invalid or truncated sequence.
 * Traps: null_reference, bounds.
 */
BESKID_RT_API int64_t beskid_std_utf8_check(const beskid_array_t *bytes, int64_t start,
                                            int64_t len);

/**
 * @brief Copies a string's bytes into a new byte array (len = cap = the string's length;
 *        `{NULL, 0, 0}` for the empty string). Safepoint.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_RT_API void beskid_std_str_to_bytes(beskid_array_t *out, const beskid_str_t *s);

/**
 * @brief The number of Unicode code points in a string.
 * Traps: null_reference, bounds.
 */
BESKID_RT_API int64_t beskid_std_str_char_count(const beskid_str_t *s);

/**
 * @brief Decodes the code point starting at byte `offset`: the cursor for iterating a string
 *        (`for (o = 0; o < len;) c = beskid_std_str_char_at(&s, o, &o);`).
 * @param s the string.
 * @param offset a byte offset with 0 ≤ offset < len, at the start of a code point.
 * @param next receives the offset of the next code point (`len` after the last one).
 * @return the code point (0 … 0x10FFFF, never a surrogate).
 * Traps: null_reference (`s` or `next` NULL); bounds (offset outside [0, len)); invalid_utf8
 * (`offset` inside a code point, or a corrupted string).
 */
BESKID_RT_API int32_t beskid_std_str_char_at(const beskid_str_t *s, int64_t offset, int64_t *next);

/**
 * @brief The string of one code point, UTF-8 encoded. Safepoint.
 * Traps: invalid_utf8 for a surrogate (U+D800 … U+DFFF) or a value outside 0 … 0x10FFFF;
 * null_reference, out_of_memory.
 */
BESKID_RT_API void beskid_std_str_from_char(beskid_str_t *out, int32_t code_point);

/**
 * @brief The byte offset of the first occurrence of `needle` in `s` at or after byte `from`.
 * @return the offset, or -1 when there is none. An empty needle is found at `from`.
 * Traps: null_reference; bounds unless 0 ≤ from ≤ len.
 */
BESKID_RT_API int64_t beskid_std_str_find(const beskid_str_t *s, const beskid_str_t *needle,
                                          int64_t from);

/** @brief Whether `needle` occurs in `s` (the empty needle always does). Traps as find. */
BESKID_RT_API bool beskid_std_str_contains(const beskid_str_t *s, const beskid_str_t *needle);

/** @brief Whether `s` begins with `prefix`. Traps: null_reference, bounds. */
BESKID_RT_API bool beskid_std_str_starts_with(const beskid_str_t *s, const beskid_str_t *prefix);

/** @brief Whether `s` ends with `suffix`. Traps: null_reference, bounds. */
BESKID_RT_API bool beskid_std_str_ends_with(const beskid_str_t *s, const beskid_str_t *suffix);

/**
 * @brief The element descriptor of the arrays of strings split returns: 16-byte elements
 *        (beskid_str_t) whose `ptr` word, at offset 0, is a managed pointer.
 * @return a static descriptor, the same on every call.
 */
BESKID_RT_API const beskid_elem_type_t *beskid_std_str_elem_type(void);

/**
 * @brief Splits `s` around every occurrence of `sep` into a new array of strings
 *        (elements beskid_str_t, descriptor beskid_std_str_elem_type()). Safepoint.
 *
 * The pieces are slices of `s` (they share its storage). `n` occurrences give `n + 1` pieces,
 * some possibly empty ("a,,b" gives "a", "", "b"; "" gives one empty piece). An empty `sep`
 * splits after every code point ("" then gives no pieces), as Go's strings.Split does.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_RT_API void beskid_std_str_split(beskid_array_t *out, const beskid_str_t *s,
                                        const beskid_str_t *sep);

/**
 * @brief `s` without leading and trailing ASCII white space (space, `\t`, `\n`, `\v`, `\f`,
 *        `\r`): a slice of `s`, no copy.
 * Traps: null_reference, bounds.
 */
BESKID_RT_API void beskid_std_str_trim(beskid_str_t *out, const beskid_str_t *s);

/** @brief `s` without leading ASCII white space (a slice). Traps as beskid_std_str_trim(). */
BESKID_RT_API void beskid_std_str_trim_start(beskid_str_t *out, const beskid_str_t *s);

/** @brief `s` without trailing ASCII white space (a slice). Traps as beskid_std_str_trim(). */
BESKID_RT_API void beskid_std_str_trim_end(beskid_str_t *out, const beskid_str_t *s);

/**
 * @brief `s` with the ASCII letters a–z made upper case; every other byte (all of non-ASCII
 *        text) unchanged. A new string unless nothing changes (then `s` itself). Safepoint.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_RT_API void beskid_std_str_to_upper_ascii(beskid_str_t *out, const beskid_str_t *s);

/** @brief `s` with A–Z made lower case; as beskid_std_str_to_upper_ascii(). Safepoint. */
BESKID_RT_API void beskid_std_str_to_lower_ascii(beskid_str_t *out, const beskid_str_t *s);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Numbers
 *
 * Conversions between numbers and their decimal text.
 *
 * **Integers** print as an optional `-` and decimal digits, without leading zeros. They parse
 * from an optional `+` or `-` and at least one decimal digit; nothing else is accepted (no
 * white space, no `_`, no base prefix; trim first).
 *
 * **Floats** print with the fewest significant digits that parse back to the same double
 * (shortest round trip; the digits Go's `strconv.FormatFloat(f, 'g', -1, 64)` prints), laid out
 * as C's `%.17g` lays out its digits, so the text is never longer than `%.17g`'s. With shortest
 * digits d₁d₂…dₙ and decimal exponent x (value = d₁.d₂…dₙ × 10^x), exponent notation is used
 * when x < -4 or x ≥ 17: the digits with a `.` after the first (when n > 1), `e`, the
 * exponent's sign and at least two exponent digits (`1e+17`, `1.5e-07`, `5e-324`); otherwise
 * plain decimal notation (`0.0001234`, `123456.789`, `1000000`, `3`). (Go switches to
 * exponent notation from x ≥ 21 in JSON and x ≥ 6 in `'g'`; only the layout differs.) Specials:
 * `NaN`, `+Inf`, `-Inf`; negative zero prints `-0`. Float parsing accepts an optional sign, then
 * digits with an optional `.` (at least one digit on one side), then an optional exponent
 * `e`/`E` with an optional sign and at least one digit; or, ignoring case, `nan`, `inf` or
 * `infinity` with an optional sign; nothing else (no white space, no `_`, no hexadecimal
 * floats). The result is the correctly rounded double (ties to even);
 * a finite text beyond the largest double is an overflow; one below the smallest subnormal
 * rounds to (signed) zero, as IEEE 754 says.
 */
/** @{ */

/** @brief Results of the parse functions (0 is also ::BESKID_OK). */
typedef enum beskid_std_parse_status {
  BESKID_STD_PARSE_OK = 0,       /**< The whole text is a number; `*out` holds it. */
  BESKID_STD_PARSE_EMPTY = 1,    /**< The text is empty. */
  BESKID_STD_PARSE_SYNTAX = 2,   /**< The text does not start with a number ("x1", "-", "."). */
  BESKID_STD_PARSE_TRAILING = 3, /**< A number followed by other bytes ("12ab", "1.5 ", "1e"). */
  BESKID_STD_PARSE_OVERFLOW = 4  /**< A well-formed number outside the type's range. */
} beskid_std_parse_status;

/** @brief The decimal text of `value`. Safepoint. Traps: null_reference, out_of_memory. */
BESKID_RT_API void beskid_std_str_from_i64(beskid_str_t *out, int64_t value);

/**
 * @brief The shortest round-trip text of `value` (format in the section's description).
 *        Safepoint. Traps: null_reference, out_of_memory.
 */
BESKID_RT_API void beskid_std_str_from_f64(beskid_str_t *out, double value);

/** @brief `"true"` or `"false"`. Safepoint. Traps: null_reference, out_of_memory. */
BESKID_RT_API void beskid_std_str_from_bool(beskid_str_t *out, bool value);

/**
 * @brief Parses a whole string as a 64-bit integer.
 * @param s the text.
 * @param out receives the value on success; untouched otherwise.
 * @return a ::beskid_std_parse_status: OK, EMPTY, SYNTAX, TRAILING, or OVERFLOW (below
 *         INT64_MIN or above INT64_MAX).
 * Traps: null_reference, bounds (a corrupted string).
 */
BESKID_RT_API int32_t beskid_std_str_parse_i64(const beskid_str_t *s, int64_t *out);

/**
 * @brief Parses a whole string as a double, correctly rounded.
 * @param s the text.
 * @param out receives the value on success; untouched otherwise.
 * @return a ::beskid_std_parse_status: OK, EMPTY, SYNTAX, TRAILING, or OVERFLOW (a finite text
 *         whose magnitude rounds beyond the largest finite double).
 * Traps: null_reference, bounds (a corrupted string).
 */
BESKID_RT_API int32_t beskid_std_str_parse_f64(const beskid_str_t *s, double *out);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name String builder
 *
 * A growable byte buffer for building a string piece by piece, in amortised O(1) per appended
 * byte (the buffer doubles when full). The builder is a garbage-collected object: compiled
 * code holds it like any other object reference (in a root slot across safepoints) and never
 * frees it. A builder is used by one thread at a time.
 */
/** @{ */

/** @brief A string builder (opaque; a heap object whose layout is private to the runtime). */
typedef struct beskid_std_builder_t beskid_std_builder_t;

/**
 * @brief Makes an empty builder with room for `capacity` bytes before it first grows.
 *        Safepoint.
 * @return the builder, never NULL.
 * Traps: bounds (`capacity` < 0), arithmetic_overflow, out_of_memory.
 */
BESKID_RT_API beskid_std_builder_t *beskid_std_builder_new(int64_t capacity);

/** @brief Appends a string. Safepoint. Traps: null_reference, bounds, out_of_memory. */
BESKID_RT_API void beskid_std_builder_append_str(beskid_std_builder_t *b, const beskid_str_t *s);

/**
 * @brief Appends `len` bytes of a byte array from element `start`. The bytes need not be whole
 *        code points on their own (a code point may be split across appends), but the text as
 *        a whole must be UTF-8 when the builder is finished. Safepoint.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_RT_API void beskid_std_builder_append_bytes(beskid_std_builder_t *b,
                                                   const beskid_array_t *bytes, int64_t start,
                                                   int64_t len);

/** @brief Appends the decimal text of `value` (as beskid_std_str_from_i64()). Safepoint. */
BESKID_RT_API void beskid_std_builder_append_i64(beskid_std_builder_t *b, int64_t value);

/** @brief Appends the shortest text of `value` (as beskid_std_str_from_f64()). Safepoint. */
BESKID_RT_API void beskid_std_builder_append_f64(beskid_std_builder_t *b, double value);

/**
 * @brief Appends the UTF-8 encoding of one code point. Safepoint.
 * Traps: invalid_utf8 for a surrogate or a value outside 0 … 0x10FFFF; null_reference,
 * out_of_memory.
 */
BESKID_RT_API void beskid_std_builder_append_char(beskid_std_builder_t *b, int32_t code_point);

/** @brief The number of bytes appended since the builder was made or last finished. */
BESKID_RT_API int64_t beskid_std_builder_len(const beskid_std_builder_t *b);

/**
 * @brief Takes the text built so far as a string and leaves the builder empty, ready for
 *        reuse. The string takes over the builder's buffer without a copy when at least half
 *        of it is used, and is copied into a buffer of its exact size otherwise, so a string
 *        never holds more than twice its length. Safepoint.
 * Traps: null_reference, invalid_utf8 when appended bytes left the text invalid (the offset of
 * the first bad byte is in the message), out_of_memory.
 */
BESKID_RT_API void beskid_std_builder_finish(beskid_str_t *out, beskid_std_builder_t *b);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Bytes
 *
 * Byte arrays are arrays (beskid_array_t) of one-byte elements, as array_new(out, 1, n) makes
 * them; `len` counts bytes. Indexes and ranges are checked against `len` and trap `bounds`.
 */
/** @{ */

/** @brief The byte at `index`. Traps: null_reference, bounds. */
BESKID_RT_API uint8_t beskid_std_bytes_get(const beskid_array_t *bytes, int64_t index);

/** @brief Stores `value` at `index`. Traps: null_reference, bounds. */
BESKID_RT_API void beskid_std_bytes_set(const beskid_array_t *bytes, int64_t index, uint8_t value);

/**
 * @brief Copies `len` bytes from `src[src_start..]` to `dst[dst_start..]`; the ranges may
 *        overlap (even within one array).
 * Traps: null_reference, bounds (either range outside its array, a negative value).
 */
BESKID_RT_API void beskid_std_bytes_copy(const beskid_array_t *dst, int64_t dst_start,
                                         const beskid_array_t *src, int64_t src_start, int64_t len);

/**
 * @brief Orders two byte arrays lexicographically (unsigned bytes; a proper prefix first).
 * @return -1, 0 or 1.
 * Traps: null_reference, bounds (a corrupted value).
 */
BESKID_RT_API int32_t beskid_std_bytes_compare(const beskid_array_t *a, const beskid_array_t *b);

/**
 * @brief Stores `value` into the `len` bytes from `start`.
 * Traps: null_reference, bounds.
 */
BESKID_RT_API void beskid_std_bytes_fill(const beskid_array_t *bytes, int64_t start, int64_t len,
                                         uint8_t value);

/** @} */

#ifdef __cplusplus
}
#endif
#endif
