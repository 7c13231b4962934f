/**
 * @file stdhost.h
 * @brief libs/stdhost — the host functions the Beskid standard library calls: console, process,
 *        filesystem, time, random numbers, math, strings, numbers, bytes, threads and channels,
 *        and the runtime's JIT symbol table.
 *
 * The standard library is Beskid code; what it cannot do itself it calls here, through the same
 * C ABI as the builtins of beskid/runtime_abi.h (whose rules apply unchanged):
 *
 * - **Values.** `int` is `int64_t`, `float` is `double`, `bool` is one byte. A string is passed
 *   as `const beskid_str_t *`, an array as `const beskid_array_t *`; a string or array result is
 *   written through an out pointer. Byte arrays (`[u8]`) have 1-byte elements.
 * - **Results.** Every string or array a function returns is a new garbage-collected object
 *   reachable only through what it returns (or a slice of one): nothing is allocated that the
 *   caller must free. A failing call leaves its out pointer holding the empty value. As for the
 *   builtins, an out pointer points at the caller's stack or a root slot, never into a heap
 *   object: results are stored without the write barrier.
 * - **Status.** Fallible functions return a ::beskid_status value as `int32_t` (0 ok, 1 not
 *   found, 2 permission denied, 3 I/O error, 4 invalid input, 5 already exists, 6 end of file).
 * - **Bad input** is never undefined behaviour: a NULL value pointer traps `null_reference`, a
 *   string or array whose `ptr` is NULL with a length traps `null_reference`, a negative length
 *   or an index or range outside an array traps `bounds`; a path or name with a NUL byte, a
 *   descriptor that is not open and text that is not UTF-8 where text is read give the
 *   documented status; bytes that would make a string that is not UTF-8 trap `invalid_utf8`, a
 *   size that overflows traps `arithmetic_overflow`, an exhausted heap `out_of_memory`.
 * - **Blocking.** Every call that may wait on the outside world (reading, sleeping, writing to a
 *   pipe, the filesystem) waits in the collector's native state, so a collection never waits for
 *   it; such calls are marked "Safepoint", as are those that allocate.
 * - **Threads.** A function that allocates needs an attached thread (see beskid_rt_thread_attach);
 *   the others may be called from any thread.
 *
 * Symbol prefix: `beskid_std_` (and beskid_runtime_symbols(), the runtime-wide table).
 * Each area below lives in its own source file of libs/stdhost (`src/console.c`, …).
 */
#ifndef BESKID_STDHOST_H
#define BESKID_STDHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "beskid/platform.h"
#include "beskid/runtime_abi.h"
#include "beskid/stdhost_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function as part of the runtime's exported ABI (listed in tools/abi/manifest.json). */
#define BESKID_STD_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------------------------------ */
/** @name Console
 * Reading and writing file descriptors: the standard streams (0, 1, 2) and any descriptor the
 * program was given. A descriptor outside 0..2^31-1 is treated as not open. */
/** @{ */

/**
 * @brief Writes a string to a file descriptor, looping over partial writes and interrupted
 *        calls. Waits in the native state while the descriptor is full. Safepoint.
 * @param fd the descriptor.
 * @param text the string; the empty string makes no system call.
 * @return the number of bytes written (`text->len`), or -1 when the descriptor is not open or
 *         the write failed (a broken pipe raises SIGPIPE unless the program ignores it).
 * Traps: null_reference (`text` NULL, or its `ptr` NULL with a length), bounds (negative length).
 */
BESKID_STD_API int64_t beskid_std_console_write(int64_t fd, const beskid_str_t *text);

/**
 * @brief Writes `count` raw bytes of a byte array, from element `start`, to a file descriptor,
 *        like beskid_std_console_write(). Safepoint.
 * @param fd the descriptor.
 * @param bytes a byte array.
 * @param start the first element to write.
 * @param count the number of bytes; 0 makes no system call.
 * @return the number of bytes written (`count`), or -1 on failure.
 * Traps: null_reference (`bytes` NULL, or its `ptr` NULL with a length), bounds (`start` or
 * `count` negative, or `start + count` beyond the array's length).
 */
BESKID_STD_API int64_t beskid_std_console_write_bytes(int64_t fd, const beskid_array_t *bytes,
                                                      int64_t start, int64_t count);

/**
 * @brief Reads at most `count` bytes from a file descriptor into a byte array at element
 *        `start`: what one read returns, after any bytes beskid_std_console_read_line() read
 *        ahead on this descriptor. Waits in the native state. Safepoint.
 * @param fd the descriptor.
 * @param bytes the destination byte array (its elements change, not the array value).
 * @param start the first element to fill.
 * @param count the most bytes to read; 0 makes no system call and returns 0.
 * @return the number of bytes read, 0 at end of file, or -1 when the descriptor is not open or
 *         the read failed.
 * Traps: as beskid_std_console_write_bytes().
 */
BESKID_STD_API int64_t beskid_std_console_read(int64_t fd, const beskid_array_t *bytes,
                                               int64_t start, int64_t count);

/**
 * @brief Reads one line from a file descriptor. Waits in the native state. Safepoint.
 *
 * A line ends at `\n`, which is not part of the result, nor is a `\r` before it; the last line
 * of the input needs no `\n`. Bytes read past the line stay buffered for this descriptor and
 * are returned first by the next beskid_std_console_read_line() or beskid_std_console_read()
 * on it (so a descriptor closed and reused by another file should not be read in between).
 * Concurrent readers of one descriptor each get whole lines.
 * @param fd the descriptor.
 * @param out receives the line; the empty string at end of file or on failure.
 * @return ::BESKID_OK with a line (possibly empty), ::BESKID_END_OF_FILE when no byte is left,
 *         ::BESKID_INVALID_INPUT when the descriptor is not open or the line is not UTF-8 (the
 *         line is consumed), or the mapped error of the read.
 * Traps: null_reference (`out` NULL), out_of_memory.
 */
BESKID_STD_API int32_t beskid_std_console_read_line(int64_t fd, beskid_str_t *out);

/** @brief Whether `fd` is an open descriptor of a terminal. */
BESKID_STD_API bool beskid_std_console_isatty(int64_t fd);

/**
 * @brief The size of the terminal behind `fd`, in character cells.
 * @param fd the descriptor.
 * @param columns receives the number of columns (0 on failure).
 * @param rows receives the number of rows (0 on failure).
 * @return ::BESKID_OK, or ::BESKID_INVALID_INPUT when `fd` is not a terminal.
 * Traps: null_reference (`columns` or `rows` NULL).
 */
BESKID_STD_API int32_t beskid_std_console_terminal_size(int64_t fd, int64_t *columns,
                                                        int64_t *rows);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Process
 * The program's arguments and environment, its working directory, its id and its end. */
/** @{ */

/**
 * @brief Replaces the program's arguments (the AOT `main` passes its `argv`; a JIT host calls
 *        this before running a program). The strings are copied.
 * @param argc the number of arguments.
 * @param argv the arguments, NUL-terminated; may be NULL when `argc` is 0.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT (negative `argc` or above 2^31-1, or `argv`
 *         NULL), or ::BESKID_IO_ERROR when out of memory.
 */
BESKID_STD_API int32_t beskid_std_args_set(int64_t argc, const char *const *argv);

/** @brief The number of program arguments, the program's name (argument 0) included. */
BESKID_STD_API int64_t beskid_std_args_count(void);

/**
 * @brief One program argument as a string. Safepoint.
 * @param out receives the argument.
 * @param index from 0 (the program's name) to beskid_std_args_count() - 1.
 * Traps: null_reference (`out` NULL), bounds (`index` out of range), invalid_utf8 (an argument
 * that is not UTF-8 cannot be a string).
 */
BESKID_STD_API void beskid_std_args_get(beskid_str_t *out, int64_t index);

/**
 * @brief The value of an environment variable. Safepoint.
 * @param out receives the value; the empty string when the variable is unset or on failure.
 * @param name the variable's name: not empty, without `=` or NUL.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND when unset, or ::BESKID_INVALID_INPUT for a bad name
 *         or a value that is not UTF-8.
 * Traps: null_reference (`out` or `name` NULL, or a NULL `ptr` with a length), bounds (negative
 * length), out_of_memory.
 */
BESKID_STD_API int32_t beskid_std_env_get(beskid_str_t *out, const beskid_str_t *name);

/**
 * @brief Sets an environment variable for this process and the processes it starts.
 * @param name the variable's name: not empty, without `=` or NUL.
 * @param value the value, without NUL.
 * @return ::BESKID_OK, or ::BESKID_INVALID_INPUT for a bad name or value.
 * Traps: as beskid_std_env_get().
 */
BESKID_STD_API int32_t beskid_std_env_set(const beskid_str_t *name, const beskid_str_t *value);

/**
 * @brief Removes an environment variable; removing an unset variable succeeds.
 * @return ::BESKID_OK, or ::BESKID_INVALID_INPUT for a bad name.
 * Traps: as beskid_std_env_get().
 */
BESKID_STD_API int32_t beskid_std_env_unset(const beskid_str_t *name);

/**
 * @brief The current working directory, as an absolute path. Safepoint.
 * @param out receives the path; the empty string on failure.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT when the path is not UTF-8 or too long, or the
 *         mapped error (::BESKID_NOT_FOUND when the directory was removed).
 * Traps: null_reference (`out` NULL).
 */
BESKID_STD_API int32_t beskid_std_cwd(beskid_str_t *out);

/** @brief The process id. */
BESKID_STD_API int64_t beskid_std_pid(void);

/**
 * @brief Ends the program with `status`, as returning from `beskid_program_main` does: the
 *        runtime's trace and trap lines are already written, the C library's stdout and stderr
 *        are flushed, and the process ends at once — other threads, attached or not, are not
 *        waited for, nothing is torn down under them, and no `atexit` handler runs (as Go's
 *        `os.Exit`). Callable from any thread. Never returns.
 * @param status the exit status; the operating system keeps its low 8 bits.
 */
BESKID_STD_API _Noreturn void beskid_std_exit(int64_t status);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Filesystem
 * Paths are strings: UTF-8, not empty, without NUL bytes, shorter than 4096 bytes; any other
 * path gives ::BESKID_INVALID_INPUT. Relative paths start at the working directory. Every call
 * waits for the filesystem in the native state. */
/** @{ */

/** @brief What beskid_std_fs_stat() says a path is (the values of ::beskid_os_file_kind). */
typedef enum beskid_std_file_kind {
  BESKID_STD_FILE_REGULAR = 0,   /**< A regular file. */
  BESKID_STD_FILE_DIRECTORY = 1, /**< A directory. */
  BESKID_STD_FILE_OTHER = 2      /**< Anything else: a device, socket or pipe. */
} beskid_std_file_kind;

/**
 * @brief Reads a whole file as text. Safepoint.
 * @param out receives the contents; the empty string on failure.
 * @param path the file.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND, ::BESKID_PERMISSION_DENIED, ::BESKID_INVALID_INPUT
 *         (a bad path, or contents that are not UTF-8), or ::BESKID_IO_ERROR (a directory
 *         included).
 * Traps: null_reference (`out` or `path` NULL, or a NULL `ptr` with a length), bounds
 * (negative length), out_of_memory.
 */
BESKID_STD_API int32_t beskid_std_fs_read_text(beskid_str_t *out, const beskid_str_t *path);

/**
 * @brief Reads a whole file as bytes. Safepoint.
 * @param out receives a byte array of the contents (`len` = `cap`); empty on failure.
 * @param path the file.
 * @return as beskid_std_fs_read_text(), without the UTF-8 check.
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_read_bytes(beskid_array_t *out, const beskid_str_t *path);

/**
 * @brief Replaces a file's contents with `text`, atomically: the text goes to a new temporary
 *        file in the same directory, which is flushed to the device and then renamed over
 *        `path`; the directory is flushed too. A crash leaves either the old or the new file,
 *        never a mix, and at most a stray `.<name>.tmp-*` file. The new file has the default
 *        permissions (0666 less the umask). Safepoint.
 * @param path the file, created if missing; its directory must exist.
 * @param text the new contents.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND (no such directory), ::BESKID_PERMISSION_DENIED,
 *         ::BESKID_INVALID_INPUT (a bad path), ::BESKID_ALREADY_EXISTS (`path` is a non-empty
 *         directory) or ::BESKID_IO_ERROR; on failure `path` is unchanged and no temporary
 *         file remains.
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_write_text(const beskid_str_t *path, const beskid_str_t *text);

/**
 * @brief Appends `text` to a file, creating it if missing. Not atomic: a concurrent reader may
 *        see part of the text. Safepoint.
 * @return as beskid_std_fs_write_text().
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_append_text(const beskid_str_t *path,
                                                 const beskid_str_t *text);

/**
 * @brief Whether something exists at `path` (symbolic links are followed). Safepoint.
 * @return ::BESKID_OK when it exists, ::BESKID_NOT_FOUND when not, or another status when the
 *         answer cannot be known (::BESKID_PERMISSION_DENIED, ::BESKID_INVALID_INPUT).
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_exists(const beskid_str_t *path);

/**
 * @brief Describes the file at `path` (symbolic links are followed). Safepoint.
 * @param path the file.
 * @param size receives the size in bytes; may be NULL.
 * @param kind receives a ::beskid_std_file_kind; may be NULL.
 * @param modified_ns receives the last modification, in nanoseconds since the Unix epoch; may
 *        be NULL.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND, or another mapped error (the outputs are then 0).
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_stat(const beskid_str_t *path, int64_t *size, int32_t *kind,
                                          int64_t *modified_ns);

/**
 * @brief Creates a directory. Safepoint.
 * @param path the directory.
 * @param parents false: the parent must exist and `path` must not; true (`mkdir -p`): missing
 *        parents are created too, and an existing directory is success.
 * @return ::BESKID_OK, ::BESKID_ALREADY_EXISTS (something exists at `path`; with `parents`, only
 *         when it is not a directory), ::BESKID_NOT_FOUND (no parent, without `parents`), or
 *         another mapped error.
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_mkdir(const beskid_str_t *path, bool parents);

/**
 * @brief Deletes a file or an empty directory. Safepoint.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND, ::BESKID_ALREADY_EXISTS (a directory that is not
 *         empty), or another mapped error.
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_delete(const beskid_str_t *path);

/**
 * @brief Renames `from` to `to` atomically, replacing `to` if it exists (a directory only by
 *        an empty one). Both must be on one filesystem. Safepoint.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND, ::BESKID_ALREADY_EXISTS (`to` is a non-empty
 *         directory), ::BESKID_INVALID_INPUT (bad paths, a directory moved into itself), or
 *         another mapped error (::BESKID_IO_ERROR across filesystems).
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_rename(const beskid_str_t *from, const beskid_str_t *to);

/**
 * @brief The names in a directory, without `.` and `..`, sorted by their bytes. Safepoint.
 * @param out receives an array of strings (16-byte elements laid out as beskid_str_t, the `ptr`
 *        word managed); empty on failure.
 * @param path the directory.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND (missing, or not a directory),
 *         ::BESKID_PERMISSION_DENIED, ::BESKID_INVALID_INPUT (a bad path, or a name that is not
 *         UTF-8), or ::BESKID_IO_ERROR.
 * Traps: as beskid_std_fs_read_text().
 */
BESKID_STD_API int32_t beskid_std_fs_list_dir(beskid_array_t *out, const beskid_str_t *path);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Time */
/** @{ */

/** @brief Nanoseconds of a monotonic clock with an arbitrary start; never goes backwards. */
BESKID_STD_API int64_t beskid_std_time_monotonic_ns(void);

/** @brief Nanoseconds since 1970-01-01 00:00 UTC (the wall clock, which may jump). */
BESKID_STD_API int64_t beskid_std_time_realtime_ns(void);

/**
 * @brief Sleeps for at least `ns` nanoseconds, in the native state. Safepoint.
 * @param ns the duration; 0 or negative returns at once (after the safepoint).
 */
BESKID_STD_API void beskid_std_time_sleep_ns(int64_t ns);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Random numbers
 * A fast seeded generator (xoshiro256**, seeded through splitmix64) whose 32-byte state is a
 * value the program owns: a local, a field of an object or an element of an array. None of its
 * functions allocates or is a safepoint, and each call touches only the state it is given, so a
 * generator per thread needs no lock. The sequence for a seed is fixed: programs may rely on it
 * across runtime versions. Not for cryptography: use beskid_std_random_entropy() for keys. */
/** @{ */

/** @brief The state of a generator. All zero is not a valid state; seed it first. */
typedef struct beskid_std_rng_t {
  uint64_t s[4]; /**< xoshiro256** state words. */
} beskid_std_rng_t;

/**
 * @brief Seeds a generator: equal seeds give equal sequences.
 * Traps: null_reference (`rng` NULL).
 */
BESKID_STD_API void beskid_std_random_seed(beskid_std_rng_t *rng, int64_t seed);

/**
 * @brief Seeds a generator from the operating system's entropy: a different sequence each run.
 *        Safepoint (the entropy source may wait at boot).
 * @return ::BESKID_OK, or the status of the entropy source (the generator is then unchanged).
 * Traps: null_reference (`rng` NULL).
 */
BESKID_STD_API int32_t beskid_std_random_seed_entropy(beskid_std_rng_t *rng);

/**
 * @brief The next 64 random bits, as an `int` (any value, negative included).
 * Traps: null_reference (`rng` NULL).
 */
BESKID_STD_API int64_t beskid_std_random_next(beskid_std_rng_t *rng);

/**
 * @brief A uniformly distributed integer in [0, `bound`), without modulo bias.
 * Traps: null_reference (`rng` NULL), bounds (`bound` ≤ 0).
 */
BESKID_STD_API int64_t beskid_std_random_below(beskid_std_rng_t *rng, int64_t bound);

/**
 * @brief A uniformly distributed integer in [`low`, `high`] (both included), without bias.
 * Traps: null_reference (`rng` NULL), bounds (`low` > `high`).
 */
BESKID_STD_API int64_t beskid_std_random_range(beskid_std_rng_t *rng, int64_t low, int64_t high);

/**
 * @brief A uniformly distributed float in [0, 1), a multiple of 2^-53.
 * Traps: null_reference (`rng` NULL).
 */
BESKID_STD_API double beskid_std_random_float(beskid_std_rng_t *rng);

/**
 * @brief Fills `count` elements of a byte array, from `start`, with bytes from the operating
 *        system's cryptographically secure source. Safepoint.
 * @return ::BESKID_OK or the status of the entropy source.
 * Traps: as beskid_std_console_write_bytes().
 */
BESKID_STD_API int32_t beskid_std_random_entropy(const beskid_array_t *bytes, int64_t start,
                                                 int64_t count);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Math
 * IEEE 754 double precision as the C library's `<math.h>` computes it (C11 Annex F): NaN in,
 * NaN out; a domain error (sqrt(-1), log(-1), asin(2)) gives NaN; a pole (log(0)) and overflow
 * give ±infinity; signed zeros are kept. Nothing traps, nothing sets `errno` that the program
 * sees. None of these is a safepoint. */
/** @{ */

/** @brief The largest integral value ≤ `x`. */
BESKID_STD_API double beskid_std_math_floor(double x);
/** @brief The smallest integral value ≥ `x`. */
BESKID_STD_API double beskid_std_math_ceil(double x);
/** @brief `x` rounded to the nearest integral value, halfway cases away from zero. */
BESKID_STD_API double beskid_std_math_round(double x);
/** @brief `x` rounded toward zero. */
BESKID_STD_API double beskid_std_math_trunc(double x);
/** @brief The square root (correctly rounded); NaN for `x` < 0, -0 for -0. */
BESKID_STD_API double beskid_std_math_sqrt(double x);
/** @brief The cube root; negative for negative `x`. */
BESKID_STD_API double beskid_std_math_cbrt(double x);
/** @brief e raised to `x`. */
BESKID_STD_API double beskid_std_math_exp(double x);
/** @brief The natural logarithm; -infinity at 0, NaN below. */
BESKID_STD_API double beskid_std_math_log(double x);
/** @brief The base-2 logarithm; exact for powers of two. */
BESKID_STD_API double beskid_std_math_log2(double x);
/** @brief The base-10 logarithm; exact for powers of ten. */
BESKID_STD_API double beskid_std_math_log10(double x);
/** @brief The sine of `x` radians. */
BESKID_STD_API double beskid_std_math_sin(double x);
/** @brief The cosine of `x` radians. */
BESKID_STD_API double beskid_std_math_cos(double x);
/** @brief The tangent of `x` radians. */
BESKID_STD_API double beskid_std_math_tan(double x);
/** @brief The arc sine, in [-π/2, π/2]; NaN outside [-1, 1]. */
BESKID_STD_API double beskid_std_math_asin(double x);
/** @brief The arc cosine, in [0, π]; NaN outside [-1, 1]. */
BESKID_STD_API double beskid_std_math_acos(double x);
/** @brief The arc tangent, in [-π/2, π/2]. */
BESKID_STD_API double beskid_std_math_atan(double x);
/** @brief The angle of the point (`x`, `y`), in [-π, π], the quadrant from both signs. */
BESKID_STD_API double beskid_std_math_atan2(double y, double x);
/** @brief The hyperbolic sine. */
BESKID_STD_API double beskid_std_math_sinh(double x);
/** @brief The hyperbolic cosine. */
BESKID_STD_API double beskid_std_math_cosh(double x);
/** @brief The hyperbolic tangent, in [-1, 1]. */
BESKID_STD_API double beskid_std_math_tanh(double x);
/** @brief The absolute value (clears the sign bit, of NaN too). */
BESKID_STD_API double beskid_std_math_fabs(double x);
/** @brief `x` raised to `y` (pow(x, 0) is 1 even for NaN; pow(1, y) is 1). */
BESKID_STD_API double beskid_std_math_pow(double x, double y);
/** @brief The remainder of `x` / `y` with the sign of `x`, exact; NaN when `y` is 0. */
BESKID_STD_API double beskid_std_math_fmod(double x, double y);
/** @brief sqrt(x² + y²) without intermediate overflow; infinity if either is infinite. */
BESKID_STD_API double beskid_std_math_hypot(double x, double y);

/**
 * @brief `a + b`. Traps: arithmetic_overflow when the sum does not fit an `int`.
 */
BESKID_STD_API int64_t beskid_std_math_checked_add(int64_t a, int64_t b);
/**
 * @brief `a - b`. Traps: arithmetic_overflow when the difference does not fit an `int`.
 */
BESKID_STD_API int64_t beskid_std_math_checked_sub(int64_t a, int64_t b);
/**
 * @brief `a × b`. Traps: arithmetic_overflow when the product does not fit an `int`.
 */
BESKID_STD_API int64_t beskid_std_math_checked_mul(int64_t a, int64_t b);

/** @} */
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
BESKID_STD_API bool beskid_std_str_eq(const beskid_str_t *a, const beskid_str_t *b);

/**
 * @brief Orders two strings bytewise (for UTF-8 this is code-point order); a proper prefix
 *        orders first.
 * @return -1, 0 or 1 as `a` orders before, equal to or after `b`.
 * Traps: null_reference, bounds (a corrupted value).
 */
BESKID_STD_API int32_t beskid_std_str_compare(const beskid_str_t *a, const beskid_str_t *b);

/**
 * @brief `out = a + b`, a new string. Safepoint. `out` may alias `a` or `b`.
 * Traps: null_reference, bounds, arithmetic_overflow (total length), out_of_memory.
 */
BESKID_STD_API void beskid_std_str_concat(beskid_str_t *out, const beskid_str_t *a,
                                          const beskid_str_t *b);

/**
 * @brief `out = s[start..end)`, the bytes from offset `start` up to (not including) `end`. Not
 *        a copy: the result points into `s`'s storage, which it keeps alive. Allocates nothing.
 * Traps: null_reference; bounds unless 0 ≤ start ≤ end ≤ len; invalid_utf8 when `start` or
 * `end` falls inside a multi-byte code point.
 */
BESKID_STD_API void beskid_std_str_slice(beskid_str_t *out, const beskid_str_t *s, int64_t start,
                                         int64_t end);

/**
 * @brief Makes a string from `len` bytes of a byte array (elements of one byte) starting at
 *        element `start`, copied and validated. Safepoint.
 * Traps: null_reference, bounds (range outside `bytes->len`), invalid_utf8 (with the offset of
 * the first bad byte), out_of_memory.
 */
BESKID_STD_API void beskid_std_str_from_utf8(beskid_str_t *out, const beskid_array_t *bytes,
                                             int64_t start, int64_t len);

/**
 * @brief Where `len` bytes of a byte array stop being UTF-8.
 * @return -1 when the bytes `[start, start + len)` are valid UTF-8, else the offset (from
 *         `start`) of the first byte of the first invalid or truncated sequence.
 * Traps: null_reference, bounds.
 */
BESKID_STD_API int64_t beskid_std_utf8_check(const beskid_array_t *bytes, int64_t start,
                                             int64_t len);

/**
 * @brief Copies a string's bytes into a new byte array (len = cap = the string's length;
 *        `{NULL, 0, 0}` for the empty string). Safepoint.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_STD_API void beskid_std_str_to_bytes(beskid_array_t *out, const beskid_str_t *s);

/**
 * @brief The number of Unicode code points in a string.
 * Traps: null_reference, bounds.
 */
BESKID_STD_API int64_t beskid_std_str_char_count(const beskid_str_t *s);

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
BESKID_STD_API int32_t beskid_std_str_char_at(const beskid_str_t *s, int64_t offset, int64_t *next);

/**
 * @brief The string of one code point, UTF-8 encoded. Safepoint.
 * Traps: invalid_utf8 for a surrogate (U+D800 … U+DFFF) or a value outside 0 … 0x10FFFF;
 * null_reference, out_of_memory.
 */
BESKID_STD_API void beskid_std_str_from_char(beskid_str_t *out, int32_t code_point);

/**
 * @brief The byte offset of the first occurrence of `needle` in `s` at or after byte `from`.
 * @return the offset, or -1 when there is none. An empty needle is found at `from`.
 * Traps: null_reference; bounds unless 0 ≤ from ≤ len.
 */
BESKID_STD_API int64_t beskid_std_str_find(const beskid_str_t *s, const beskid_str_t *needle,
                                           int64_t from);

/** @brief Whether `needle` occurs in `s` (the empty needle always does). Traps as find. */
BESKID_STD_API bool beskid_std_str_contains(const beskid_str_t *s, const beskid_str_t *needle);

/** @brief Whether `s` begins with `prefix`. Traps: null_reference, bounds. */
BESKID_STD_API bool beskid_std_str_starts_with(const beskid_str_t *s, const beskid_str_t *prefix);

/** @brief Whether `s` ends with `suffix`. Traps: null_reference, bounds. */
BESKID_STD_API bool beskid_std_str_ends_with(const beskid_str_t *s, const beskid_str_t *suffix);

/**
 * @brief The element descriptor of the arrays of strings split returns: 16-byte elements
 *        (beskid_str_t) whose `ptr` word, at offset 0, is a managed pointer.
 * @return a static descriptor, the same on every call.
 */
BESKID_STD_API const beskid_elem_type_t *beskid_std_str_elem_type(void);

/**
 * @brief Splits `s` around every occurrence of `sep` into a new array of strings
 *        (elements beskid_str_t, descriptor beskid_std_str_elem_type()). Safepoint.
 *
 * The pieces are slices of `s` (they share its storage). `n` occurrences give `n + 1` pieces,
 * some possibly empty ("a,,b" gives "a", "", "b"; "" gives one empty piece). An empty `sep`
 * splits after every code point ("" then gives no pieces), as Go's strings.Split does.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_STD_API void beskid_std_str_split(beskid_array_t *out, const beskid_str_t *s,
                                         const beskid_str_t *sep);

/**
 * @brief `s` without leading and trailing ASCII white space (space, `\t`, `\n`, `\v`, `\f`,
 *        `\r`): a slice of `s`, no copy.
 * Traps: null_reference, bounds.
 */
BESKID_STD_API void beskid_std_str_trim(beskid_str_t *out, const beskid_str_t *s);

/** @brief `s` without leading ASCII white space (a slice). Traps as beskid_std_str_trim(). */
BESKID_STD_API void beskid_std_str_trim_start(beskid_str_t *out, const beskid_str_t *s);

/** @brief `s` without trailing ASCII white space (a slice). Traps as beskid_std_str_trim(). */
BESKID_STD_API void beskid_std_str_trim_end(beskid_str_t *out, const beskid_str_t *s);

/**
 * @brief `s` with the ASCII letters a–z made upper case; every other byte (all of non-ASCII
 *        text) unchanged. A new string unless nothing changes (then `s` itself). Safepoint.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_STD_API void beskid_std_str_to_upper_ascii(beskid_str_t *out, const beskid_str_t *s);

/** @brief `s` with A–Z made lower case; as beskid_std_str_to_upper_ascii(). Safepoint. */
BESKID_STD_API void beskid_std_str_to_lower_ascii(beskid_str_t *out, const beskid_str_t *s);

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
BESKID_STD_API void beskid_std_str_from_i64(beskid_str_t *out, int64_t value);

/**
 * @brief The shortest round-trip text of `value` (format in the section's description).
 *        Safepoint. Traps: null_reference, out_of_memory.
 */
BESKID_STD_API void beskid_std_str_from_f64(beskid_str_t *out, double value);

/** @brief `"true"` or `"false"`. Safepoint. Traps: null_reference, out_of_memory. */
BESKID_STD_API void beskid_std_str_from_bool(beskid_str_t *out, bool value);

/**
 * @brief Parses a whole string as a 64-bit integer.
 * @param s the text.
 * @param out receives the value on success; untouched otherwise.
 * @return a ::beskid_std_parse_status: OK, EMPTY, SYNTAX, TRAILING, or OVERFLOW (below
 *         INT64_MIN or above INT64_MAX).
 * Traps: null_reference, bounds (a corrupted string).
 */
BESKID_STD_API int32_t beskid_std_str_parse_i64(const beskid_str_t *s, int64_t *out);

/**
 * @brief Parses a whole string as a double, correctly rounded.
 * @param s the text.
 * @param out receives the value on success; untouched otherwise.
 * @return a ::beskid_std_parse_status: OK, EMPTY, SYNTAX, TRAILING, or OVERFLOW (a finite text
 *         whose magnitude rounds beyond the largest finite double).
 * Traps: null_reference, bounds (a corrupted string).
 */
BESKID_STD_API int32_t beskid_std_str_parse_f64(const beskid_str_t *s, double *out);

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
BESKID_STD_API beskid_std_builder_t *beskid_std_builder_new(int64_t capacity);

/** @brief Appends a string. Safepoint. Traps: null_reference, bounds, out_of_memory. */
BESKID_STD_API void beskid_std_builder_append_str(beskid_std_builder_t *b, const beskid_str_t *s);

/**
 * @brief Appends `len` bytes of a byte array from element `start`. The bytes need not be whole
 *        code points on their own (a code point may be split across appends), but the text as
 *        a whole must be UTF-8 when the builder is finished. Safepoint.
 * Traps: null_reference, bounds, out_of_memory.
 */
BESKID_STD_API void beskid_std_builder_append_bytes(beskid_std_builder_t *b,
                                                    const beskid_array_t *bytes, int64_t start,
                                                    int64_t len);

/** @brief Appends the decimal text of `value` (as beskid_std_str_from_i64()). Safepoint. */
BESKID_STD_API void beskid_std_builder_append_i64(beskid_std_builder_t *b, int64_t value);

/** @brief Appends the shortest text of `value` (as beskid_std_str_from_f64()). Safepoint. */
BESKID_STD_API void beskid_std_builder_append_f64(beskid_std_builder_t *b, double value);

/**
 * @brief Appends the UTF-8 encoding of one code point. Safepoint.
 * Traps: invalid_utf8 for a surrogate or a value outside 0 … 0x10FFFF; null_reference,
 * out_of_memory.
 */
BESKID_STD_API void beskid_std_builder_append_char(beskid_std_builder_t *b, int32_t code_point);

/** @brief The number of bytes appended since the builder was made or last finished. */
BESKID_STD_API int64_t beskid_std_builder_len(const beskid_std_builder_t *b);

/**
 * @brief Takes the text built so far as a string and leaves the builder empty, ready for
 *        reuse. The string takes over the builder's buffer without a copy when at least half
 *        of it is used, and is copied into a buffer of its exact size otherwise, so a string
 *        never holds more than twice its length. Safepoint.
 * Traps: null_reference, invalid_utf8 when appended bytes left the text invalid (the offset of
 * the first bad byte is in the message), out_of_memory.
 */
BESKID_STD_API void beskid_std_builder_finish(beskid_str_t *out, beskid_std_builder_t *b);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Bytes
 *
 * Byte arrays are arrays (beskid_array_t) of one-byte elements, as array_new(out, 1, n) makes
 * them; `len` counts bytes. Indexes and ranges are checked against `len` and trap `bounds`.
 */
/** @{ */

/** @brief The byte at `index`. Traps: null_reference, bounds. */
BESKID_STD_API uint8_t beskid_std_bytes_get(const beskid_array_t *bytes, int64_t index);

/** @brief Stores `value` at `index`. Traps: null_reference, bounds. */
BESKID_STD_API void beskid_std_bytes_set(const beskid_array_t *bytes, int64_t index, uint8_t value);

/**
 * @brief Copies `len` bytes from `src[src_start..]` to `dst[dst_start..]`; the ranges may
 *        overlap (even within one array). On a thread running managed code, a safepoint from
 *        #BESKID_GC_BULK_MIN bytes on: the copy runs where a collection need not wait for it.
 * Traps: null_reference, bounds (either range outside its array, a negative value).
 */
BESKID_STD_API void beskid_std_bytes_copy(const beskid_array_t *dst, int64_t dst_start,
                                          const beskid_array_t *src, int64_t src_start,
                                          int64_t len);

/**
 * @brief Orders two byte arrays lexicographically (unsigned bytes; a proper prefix first).
 * @return -1, 0 or 1.
 * Traps: null_reference, bounds (a corrupted value).
 */
BESKID_STD_API int32_t beskid_std_bytes_compare(const beskid_array_t *a, const beskid_array_t *b);

/**
 * @brief Stores `value` into the `len` bytes from `start`. A safepoint from
 *        #BESKID_GC_BULK_MIN bytes on, as beskid_std_bytes_copy().
 * Traps: null_reference, bounds.
 */
BESKID_STD_API void beskid_std_bytes_fill(const beskid_array_t *bytes, int64_t start, int64_t len,
                                          uint8_t value);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Threads
 *
 * A Beskid thread runs a compiled function `void *fn(void *arg)` (one managed pointer in, one
 * out) on a new OS thread attached to the runtime. The thread object that
 * beskid_std_thread_spawn() returns is an ordinary heap object: it keeps the argument alive
 * until the function has returned and the result alive for as long as the object is reachable,
 * so beskid_std_thread_join() can be called any number of times. It owns no OS resource (the
 * runtime reaps finished OS threads itself), so dropping it unjoined leaks nothing. When a join
 * returns, the OS thread has finished with the runtime (and, unless its spawner was still
 * inside beskid_std_thread_spawn(), has exited), so the runtime may be shut down right after.
 *
 * **Blocking and the collector.** Every call of this header that can block (join, lock, wait,
 * send, receive) blocks in the collector's native state, so a pause never waits for it; the
 * uncontended paths do not block and stay in managed state.
 *
 * **Deadlock.** When every attached thread is blocked in an untimed wait of this header (join,
 * mutex lock, condition wait, channel send or receive) and none can be woken, the runtime traps
 * `scheduler_deadlock (7)` with one line on stderr and exit status 101 instead of hanging
 * forever (Go's "all goroutines are asleep"). A thread blocked anywhere else (a read, a sleep,
 * a timed wait) or spawned and not yet running counts as able to make progress; threads that
 * are not attached are not counted, so a host must attach a thread before the others block if
 * that thread is to wake them. The check runs when a thread blocks and when a thread detaches
 * or exits.
 */
/** @{ */

/** @brief The entry function of a Beskid thread: compiled code taking and returning a managed
 *         pointer (either may be NULL). */
typedef void *(*beskid_std_thread_fn)(void *arg);

/**
 * @brief Starts `fn(arg)` on a new thread attached to the runtime. Safepoint.
 * @param fn the function; the thread detaches when it returns.
 * @param arg a managed pointer or NULL, kept alive until `fn` returns.
 * @return the thread object, or NULL when the OS refuses another thread.
 * Traps: null_reference (`fn` NULL), out_of_memory.
 */
BESKID_STD_API void *beskid_std_thread_spawn(beskid_std_thread_fn fn, void *arg);

/**
 * @brief Waits until the thread's function has returned and gives its result. Joining again
 *        returns the same result. Blocks in the native state. Safepoint.
 * @param thread a thread object from beskid_std_thread_spawn().
 * @return the function's result (a managed pointer, kept alive by the thread object).
 * Traps: null_reference (`thread` NULL), abi_or_layout_mismatch (not a thread object),
 * scheduler_deadlock (the thread joins itself, or every thread is blocked).
 */
BESKID_STD_API void *beskid_std_thread_join(void *thread);

/**
 * @brief Whether the thread's function has returned (a join would not block).
 * Traps: null_reference, abi_or_layout_mismatch (not a thread object).
 */
BESKID_STD_API bool beskid_std_thread_is_done(void *thread);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Mutex and condition variable
 *
 * A mutex and a condition variable are heap objects holding a few words: no OS object, nothing
 * to destroy. A mutex is not recursive and may be unlocked by a thread other than the one that
 * locked it (as in Go). Waiters are served in FIFO order, and an unlock with waiters hands the
 * mutex directly to the first of them, so no waiter starves.
 */
/** @{ */

/** @brief Makes an unlocked mutex. Safepoint. Traps: out_of_memory. */
BESKID_STD_API void *beskid_std_mutex_new(void);

/**
 * @brief Locks the mutex, blocking in the native state while another thread holds it.
 *        Safepoint.
 * Traps: null_reference, abi_or_layout_mismatch (not a mutex), scheduler_deadlock (the calling
 * thread holds the mutex already, or every thread is blocked).
 */
BESKID_STD_API void beskid_std_mutex_lock(void *mutex);

/**
 * @brief Locks the mutex if that needs no waiting. Not a safepoint.
 * @return true when the caller now holds the mutex.
 * Traps: null_reference, abi_or_layout_mismatch.
 */
BESKID_STD_API bool beskid_std_mutex_try_lock(void *mutex);

/**
 * @brief Unlocks the mutex; the longest waiter, if any, gets it. Not a safepoint.
 * Traps: null_reference, abi_or_layout_mismatch, unreachable_or_isle_invariant (the mutex is
 * not locked).
 */
BESKID_STD_API void beskid_std_mutex_unlock(void *mutex);

/** @brief Makes a condition variable. Safepoint. Traps: out_of_memory. */
BESKID_STD_API void *beskid_std_cond_new(void);

/**
 * @brief Atomically unlocks `mutex` and waits for a signal, then locks `mutex` again before
 *        returning. Blocks in the native state. Wake-ups are not spurious: a return means a
 *        signal or broadcast chose this waiter. Safepoint.
 * Traps: null_reference, abi_or_layout_mismatch (wrong kind of object),
 * unreachable_or_isle_invariant (`mutex` not locked), scheduler_deadlock.
 */
BESKID_STD_API void beskid_std_cond_wait(void *cond, void *mutex);

/**
 * @brief Like beskid_std_cond_wait() but gives up after `timeout_ns` nanoseconds; the mutex is
 *        locked again in both cases. A timed wait never counts as deadlocked. Safepoint.
 * @return true when signalled, false when the timeout expired first.
 * Traps: as beskid_std_cond_wait(), and bounds for a negative `timeout_ns`.
 */
BESKID_STD_API bool beskid_std_cond_wait_timeout(void *cond, void *mutex, int64_t timeout_ns);

/** @brief Wakes the longest waiter, if any. Not a safepoint. Traps: null_reference,
 *         abi_or_layout_mismatch. */
BESKID_STD_API void beskid_std_cond_signal(void *cond);

/** @brief Wakes every waiter. Not a safepoint. Traps: null_reference, abi_or_layout_mismatch. */
BESKID_STD_API void beskid_std_cond_broadcast(void *cond);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Channels
 *
 * A bounded FIFO channel of managed values (NULL included) between threads. The channel object
 * holds its buffer (a heap array), so values in flight stay alive. Capacity 0 makes a
 * rendezvous channel: a send completes only when a receiver takes the value. Senders and
 * receivers that must wait are served in FIFO order; a value is handed straight to a waiting
 * receiver.
 *
 * **Closing.** After beskid_std_channel_close(), the values already buffered can still be
 * received; then receive reports #BESKID_STD_CHANNEL_CLOSED. A send on a closed channel does
 * not trap: it returns #BESKID_STD_CHANNEL_CLOSED and the value is not delivered (the standard
 * library decides whether that is a panic). Closing wakes every blocked receiver and sender
 * with #BESKID_STD_CHANNEL_CLOSED; the values of woken senders are not delivered.
 */
/** @{ */

/** @brief What a channel operation reports. */
typedef enum beskid_std_channel_status {
  BESKID_STD_CHANNEL_OK = 0,    /**< The value was sent or received. */
  BESKID_STD_CHANNEL_CLOSED = 1 /**< The channel is closed (and, for receive, empty). */
} beskid_std_channel_status;

/**
 * @brief Makes a channel buffering up to `capacity` values; 0 makes a rendezvous channel.
 *        Safepoint.
 * Traps: bounds (`capacity` < 0), arithmetic_overflow or out_of_memory (too large).
 */
BESKID_STD_API void *beskid_std_channel_new(int64_t capacity);

/**
 * @brief Sends `value`, blocking in the native state while the buffer is full (for capacity
 *        0: until a receiver takes it). Safepoint.
 * @return ::BESKID_STD_CHANNEL_OK, or ::BESKID_STD_CHANNEL_CLOSED when the channel is or gets
 *         closed before the value is taken (the value is then not delivered).
 * Traps: null_reference, abi_or_layout_mismatch (not a channel), scheduler_deadlock.
 */
BESKID_STD_API int32_t beskid_std_channel_send(void *channel, void *value);

/**
 * @brief Receives the oldest value, blocking in the native state while the channel is empty
 *        and open. Safepoint.
 * @param channel the channel.
 * @param out receives the value (NULL when closed); a root slot or local of the caller (it is
 *        written with the write barrier, so a heap field works too).
 * @return ::BESKID_STD_CHANNEL_OK, or ::BESKID_STD_CHANNEL_CLOSED when the channel is closed
 *         and empty.
 * Traps: null_reference (`channel` or `out` NULL), abi_or_layout_mismatch, scheduler_deadlock.
 */
BESKID_STD_API int32_t beskid_std_channel_receive(void *channel, void **out);

/**
 * @brief Closes the channel (see the section's notes). Not a safepoint.
 * @return ::BESKID_STD_CHANNEL_OK, or ::BESKID_STD_CHANNEL_CLOSED when it was closed already.
 * Traps: null_reference, abi_or_layout_mismatch.
 */
BESKID_STD_API int32_t beskid_std_channel_close(void *channel);

/**
 * @brief The number of values buffered now (always 0 for a rendezvous channel).
 * Traps: null_reference, abi_or_layout_mismatch.
 */
BESKID_STD_API int64_t beskid_std_channel_len(void *channel);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name The JIT symbol table
 * Defined here, in the top library, because it lists every library's entry points: the
 * builtins of beskid/runtime_abi.h and the host functions of this header. */
/** @{ */

/**
 * @brief Every function and object of the runtime's ABI (beskid/runtime_abi.h and
 *        beskid/stdhost.h) with its address, for a JIT to register with its module: the same
 *        names an AOT program links against.
 * @param count receives the number of entries.
 * @return a static array of `*count` entries, grouped by library and area.
 * Traps: null_reference (`count` NULL).
 */
BESKID_STD_API const beskid_rt_symbol_t *beskid_runtime_symbols(size_t *count);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* BESKID_STDHOST_H */
