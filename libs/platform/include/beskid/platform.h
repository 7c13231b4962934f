/**
 * @file platform.h
 * @brief libs/platform — everything in the Beskid runtime that touches the operating system.
 *
 * No other runtime library makes a system call: threads, locks, thread-local storage, virtual
 * memory, clocks, file descriptors, the environment, the argument vector, the CPU count and
 * process exit all go through this header. Each OS family implements it in its own source file
 * (`src/posix.c` today), so a port is an added file, not an edit.
 *
 * Conventions:
 * - Every symbol starts with `beskid_os_`; types end in `_t`.
 * - Fallible operations return a ::beskid_status: the one errno mapping of the runtime, shared
 *   with the Beskid standard library (its numeric values are ABI).
 * - No function allocates from the garbage-collected heap; the few that allocate (the argument
 *   snapshot) use the C allocator and say so.
 * - Functions are thread-safe unless their comment says otherwise.
 */
#ifndef BESKID_PLATFORM_H
#define BESKID_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beskid/platform_version.h"

#if defined(__unix__) || defined(__APPLE__)
#include "beskid/platform_posix.h"
#else
#error "libs/platform: no implementation for this operating system yet"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function as part of the library's exported interface. */
#define BESKID_OS_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------------------------------ */
/** @name Status codes */
/** @{ */

/**
 * @brief Result of a fallible platform operation.
 *
 * The values are part of the runtime ABI: the Beskid standard library receives them unchanged
 * from the filesystem host functions.
 */
typedef enum beskid_status {
  BESKID_OK = 0,                /**< The operation succeeded. */
  BESKID_NOT_FOUND = 1,         /**< A path, variable or item does not exist (ENOENT, ENOTDIR). */
  BESKID_PERMISSION_DENIED = 2, /**< The OS refused access (EACCES, EPERM, EROFS). */
  BESKID_IO_ERROR = 3,          /**< Any other failure reported by the OS. */
  BESKID_INVALID_INPUT = 4,  /**< A bad argument: NULL, embedded NUL, bad name (EINVAL, EBADF). */
  BESKID_ALREADY_EXISTS = 5, /**< The target exists already (EEXIST, ENOTEMPTY). */
  BESKID_END_OF_FILE = 6     /**< A read found nothing more to read (never mapped from an errno). */
} beskid_status;

/**
 * @brief Maps an `errno` value to a ::beskid_status.
 * @param err an errno value; 0 maps to ::BESKID_OK.
 * @return the status that the runtime reports for that error.
 */
BESKID_OS_API beskid_status beskid_os_status_from_errno(int err);

/**
 * @brief A stable lower-case name for a status, e.g. "not_found".
 * @param status any value; out-of-range values give "unknown".
 * @return a static string, never NULL.
 */
BESKID_OS_API const char *beskid_os_status_name(beskid_status status);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Threads */
/** @{ */

/** @brief Entry function of a thread made by beskid_os_thread_create(). */
typedef void *(*beskid_os_thread_fn)(void *arg);

/**
 * @brief Starts a thread running `fn(arg)`.
 * @param thread receives the handle to join; must not be NULL.
 * @param fn the entry function; must not be NULL.
 * @param arg passed to `fn` unchanged.
 * @param name a short name shown by debuggers and `ps` (truncated to 15 bytes); may be NULL.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT for NULL arguments, or ::BESKID_IO_ERROR when
 *         the OS refuses another thread.
 */
BESKID_OS_API beskid_status beskid_os_thread_create(beskid_os_thread_t *thread,
                                                    beskid_os_thread_fn fn, void *arg,
                                                    const char *name);

/**
 * @brief Waits for a thread to finish and releases its handle.
 * @param thread a handle from beskid_os_thread_create(), joined at most once.
 * @param result receives the entry function's return value; may be NULL.
 * @return ::BESKID_OK or ::BESKID_INVALID_INPUT (NULL, self-join, already joined).
 */
BESKID_OS_API beskid_status beskid_os_thread_join(beskid_os_thread_t *thread, void **result);

/**
 * @brief Lets a thread's resources go by themselves when it ends, for threads nobody joins.
 * @param thread a handle from beskid_os_thread_create() that was not joined or detached yet;
 *        afterwards it can no longer be joined.
 * @return ::BESKID_OK or ::BESKID_INVALID_INPUT (NULL, already joined or detached).
 */
BESKID_OS_API beskid_status beskid_os_thread_detach(beskid_os_thread_t *thread);

/**
 * @brief Names the calling thread (truncated to 15 bytes) for debuggers and `ps`.
 * @param name the new name; NULL is ignored.
 */
BESKID_OS_API void beskid_os_thread_set_name(const char *name);

/** @brief Gives up the rest of the calling thread's time slice. */
BESKID_OS_API void beskid_os_thread_yield(void);

/** @brief What beskid_os_current_cpu() returns where the OS cannot tell. */
#define BESKID_OS_CPU_UNKNOWN UINT32_MAX

/**
 * @brief The CPU the calling thread runs on at the moment of the call, or
 *        ::BESKID_OS_CPU_UNKNOWN where the OS cannot tell.
 *
 * The thread may move to another CPU right after, so the answer is a hint for scheduling
 * decisions (whether two threads share a CPU), never a basis for correctness. Cheap: on Linux
 * a read of a value the kernel keeps in the thread's memory (`sched_getcpu`, through rseq or
 * the vDSO), no system call.
 */
BESKID_OS_API uint32_t beskid_os_current_cpu(void);

/**
 * @brief Lowers the calling thread to background priority: it runs only on a CPU no other
 *        thread of the machine wants, and gives its CPU up as soon as one does (Linux
 *        `SCHED_IDLE`; where that is refused, nice 19). For work that is worth doing only
 *        with spare CPU time. Cannot be undone by the thread.
 * @return ::BESKID_OK, or an error status when neither could be set (the priority is unchanged).
 */
BESKID_OS_API beskid_status beskid_os_thread_set_background(void);

/**
 * @brief Tells the CPU that the caller is spinning on a value another thread will change
 *        (x86 `pause`, Arm `yield`): the loop then costs less power, frees the core for a
 *        sibling hyperthread and leaves the loop without a memory-order mis-speculation.
 *
 * Meant for short waits where sleeping would cost more than the wait: a futex sleep and its
 * wake-up take tens to hundreds of microseconds, more on a virtual machine.
 */
static inline void beskid_os_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

/**
 * @brief An identifier of the calling thread, unique among live threads of the process.
 * @return the OS thread id (Linux: `gettid`), never 0.
 */
BESKID_OS_API uint64_t beskid_os_thread_id(void);

/**
 * @brief Sleeps the calling thread for at least `ns` nanoseconds (resuming after signals).
 * @param ns nanoseconds; 0 returns at once.
 */
BESKID_OS_API void beskid_os_sleep_ns(uint64_t ns);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Mutexes, condition variables and once-initialisation */
/** @{ */

/**
 * @brief Initialises a non-recursive mutex.
 *
 * Meant for short critical sections: where the C library allows it (glibc), a thread that finds
 * the mutex taken spins briefly before it sleeps.
 * @param mutex storage owned by the caller; must not be NULL.
 * @return ::BESKID_OK or ::BESKID_IO_ERROR.
 */
BESKID_OS_API beskid_status beskid_os_mutex_init(beskid_os_mutex_t *mutex);
/** @brief Destroys an unlocked mutex made by beskid_os_mutex_init(). */
BESKID_OS_API void beskid_os_mutex_destroy(beskid_os_mutex_t *mutex);
/** @brief Locks a mutex, waiting as long as it takes. Locking a held mutex again deadlocks. */
BESKID_OS_API void beskid_os_mutex_lock(beskid_os_mutex_t *mutex);
/**
 * @brief Locks a mutex only if that needs no waiting.
 * @return true when the caller now holds the mutex.
 */
BESKID_OS_API bool beskid_os_mutex_trylock(beskid_os_mutex_t *mutex);
/** @brief Unlocks a mutex held by the calling thread. */
BESKID_OS_API void beskid_os_mutex_unlock(beskid_os_mutex_t *mutex);

/**
 * @brief Initialises a condition variable whose timed waits use the monotonic clock.
 * @return ::BESKID_OK or ::BESKID_IO_ERROR.
 */
BESKID_OS_API beskid_status beskid_os_cond_init(beskid_os_cond_t *cond);
/** @brief Destroys a condition variable nobody waits on. */
BESKID_OS_API void beskid_os_cond_destroy(beskid_os_cond_t *cond);
/**
 * @brief In the child of fork(), makes a condition variable new again, without waiters.
 *
 * Threads that waited on it in the parent do not exist in the child, yet the condition variable
 * still counts them, and signalling it could wait for them forever. Call only from a child
 * handler (beskid_os_atfork()), before the child uses `cond`; never destroy it first.
 */
BESKID_OS_API void beskid_os_cond_reset_in_child(beskid_os_cond_t *cond);
/** @brief Atomically unlocks `mutex` and waits; relocks before returning. Spurious wake-ups happen.
 */
BESKID_OS_API void beskid_os_cond_wait(beskid_os_cond_t *cond, beskid_os_mutex_t *mutex);
/**
 * @brief Like beskid_os_cond_wait() but gives up after `timeout_ns` nanoseconds.
 * @return true when woken (or spuriously), false when the timeout expired.
 */
BESKID_OS_API bool beskid_os_cond_timedwait(beskid_os_cond_t *cond, beskid_os_mutex_t *mutex,
                                            uint64_t timeout_ns);
/** @brief Wakes at least one waiter, if any. */
BESKID_OS_API void beskid_os_cond_signal(beskid_os_cond_t *cond);
/** @brief Wakes every waiter. */
BESKID_OS_API void beskid_os_cond_broadcast(beskid_os_cond_t *cond);

/**
 * @brief Runs `init` exactly once across all threads that pass the same `once`; callers that
 *        arrive while it runs wait for it to finish.
 * @param once a flag initialised with #BESKID_OS_ONCE_INIT.
 * @param init the function to run.
 */
BESKID_OS_API void beskid_os_once(beskid_os_once_t *once, void (*init)(void));

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Waiting on an address */
/** @{ */

/** Timeout of beskid_os_wait_on() that never expires. */
#define BESKID_OS_WAIT_FOREVER UINT64_MAX

/**
 * @brief Sleeps while the 32-bit word at `addr` holds `expected` (Linux: a private futex), so
 *        that blocking primitives can live in plain memory and need no OS object to destroy.
 *
 * The comparison and going to sleep are one atomic step with respect to beskid_os_wake_one()
 * and beskid_os_wake_all() on the same address: a waker that changes the word and then wakes
 * never loses the sleeper. The call may also return spuriously, so callers re-check the word
 * in a loop. The word is read with the ordering of an atomic relaxed load: publish data with
 * a release store of the word and read it after an acquire load.
 * @param addr a 4-byte aligned word; must not be NULL.
 * @param expected the value to sleep on; returns at once when the word differs.
 * @param timeout_ns relative timeout in nanoseconds (monotonic clock), or
 *        #BESKID_OS_WAIT_FOREVER.
 * @return false when the timeout expired, true otherwise (woken, value differed, or spurious).
 */
BESKID_OS_API bool beskid_os_wait_on(const uint32_t *addr, uint32_t expected, uint64_t timeout_ns);

/**
 * @brief Wakes at least one thread sleeping in beskid_os_wait_on() on `addr`, if any.
 *        Waking an address nobody sleeps on (even one whose memory has been reused) is harmless.
 */
BESKID_OS_API void beskid_os_wake_one(const uint32_t *addr);

/** @brief Wakes every thread sleeping in beskid_os_wait_on() on `addr`. */
BESKID_OS_API void beskid_os_wake_all(const uint32_t *addr);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Thread-local storage */
/** @{ */

/**
 * @brief Creates a thread-local slot, NULL in every thread until set.
 * @param key receives the slot.
 * @param destructor called with the slot's value when a thread that set it to non-NULL exits;
 *        may be NULL.
 * @return ::BESKID_OK or ::BESKID_IO_ERROR when the process is out of keys.
 */
BESKID_OS_API beskid_status beskid_os_tls_create(beskid_os_tls_t *key, void (*destructor)(void *));
/** @brief Deletes a slot; destructors are not run. */
BESKID_OS_API void beskid_os_tls_delete(beskid_os_tls_t key);
/** @brief The calling thread's value of the slot (NULL if never set). */
BESKID_OS_API void *beskid_os_tls_get(beskid_os_tls_t key);
/** @brief Sets the calling thread's value of the slot. @return ::BESKID_OK or ::BESKID_IO_ERROR. */
BESKID_OS_API beskid_status beskid_os_tls_set(beskid_os_tls_t key, void *value);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Virtual memory */
/** @{ */

/** @brief The size of an OS page in bytes (a power of two). */
BESKID_OS_API size_t beskid_os_page_size(void);

/**
 * @brief Reserves address space without backing it: touching it faults until committed.
 * @param size bytes, rounded up to the page size; 0 is refused.
 * @param alignment a power of two ≥ the page size, or 0 for page alignment.
 * @return the start of the range, or NULL (bad arguments or no address space left).
 */
BESKID_OS_API void *beskid_os_vm_reserve(size_t size, size_t alignment);

/**
 * @brief Whether the OS lets a range be made readable and writable without setting memory aside
 *        for it, so that a large committed range costs memory only where it is touched.
 *
 * On Linux, true unless `vm.overcommit_memory` is 2 (strict accounting, under which
 * beskid_os_vm_commit() charges the whole range); also true where the setting cannot be read
 * (the kernel's default is to overcommit). On other systems, true.
 */
BESKID_OS_API bool beskid_os_vm_overcommits(void);

/**
 * @brief Makes part of a reserved range readable and writable. New pages read as zero.
 * @param addr page-aligned start inside a range from beskid_os_vm_reserve().
 * @param size bytes, a multiple of the page size.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT for misaligned arguments, or ::BESKID_IO_ERROR.
 */
BESKID_OS_API beskid_status beskid_os_vm_commit(void *addr, size_t size);

/**
 * @brief Returns the physical memory behind part of a range to the OS and makes it inaccessible
 *        again; the address space stays reserved and may be committed again (reading zero).
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT for misaligned arguments, or ::BESKID_IO_ERROR.
 */
BESKID_OS_API beskid_status beskid_os_vm_decommit(void *addr, size_t size);

/**
 * @brief Returns the physical memory behind part of a range to the OS but keeps it accessible:
 *        the next touch reads zero. For side tables that are cleared wholesale.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT for misaligned arguments, or ::BESKID_IO_ERROR.
 */
BESKID_OS_API beskid_status beskid_os_vm_reset(void *addr, size_t size);

/**
 * @brief Backs part of an accessible range with physical memory now, as writing to every page
 *        would, but in one call and without changing what the pages hold: the first touches
 *        after it cost no page fault. For memory about to be used, populated off the path of the
 *        thread that will use it. It also writes to every page once (adding zero, atomically),
 *        because some hypervisors charge the first access from user space apart from the
 *        populate: so that cost, too, falls on the caller and not on the thread that uses the
 *        memory.
 * @param addr page-aligned start inside a readable and writable range (on a kernel older than
 *        Linux 5.14 the pages are written one by one, and a page that may not be written faults).
 * @param size bytes, a multiple of the page size.
 * @return ::BESKID_OK; ::BESKID_INVALID_INPUT for misaligned arguments or pages that may not be
 *         written; ::BESKID_IO_ERROR when part of the range is not mapped or the OS has no memory
 *         for it (the pages before the failure may be populated).
 */
BESKID_OS_API beskid_status beskid_os_vm_populate(void *addr, size_t size);

/**
 * @brief Releases a whole range obtained from beskid_os_vm_reserve() or beskid_os_vm_map().
 * @param addr the address that call returned.
 * @param size the size passed to that call.
 */
BESKID_OS_API void beskid_os_vm_release(void *addr, size_t size);

/**
 * @brief Maps zero-filled readable and writable memory that costs physical memory only where it
 *        is touched (no swap reservation): for large, sparsely used side tables.
 * @param size bytes, rounded up to the page size; 0 is refused.
 * @return the page-aligned start, or NULL.
 */
BESKID_OS_API void *beskid_os_vm_map(size_t size);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name The runtime's own memory
 * Metadata of the runtime (never objects of the collected heap) comes from the C allocator
 * through these functions. Sizes given as a count and an element size are multiplied with an
 * overflow check; an overflow, a size of 0 and an exhausted allocator all return NULL and
 * change nothing. */
/** @{ */

/**
 * @brief Multiplies a count by an element size, detecting overflow.
 * @param count number of elements.
 * @param size bytes per element.
 * @param bytes receives count × size when it fits in a size_t.
 * @return false when the product overflows (then `*bytes` is unspecified).
 */
BESKID_OS_API bool beskid_os_size_mul(size_t count, size_t size, size_t *bytes);

/**
 * @brief Allocates zeroed memory for `count` elements of `size` bytes.
 * @param count number of elements.
 * @param size bytes per element.
 * @return the block (aligned for any C type; release with beskid_os_mem_free()), or NULL when
 *         count × size overflows or is 0, or no memory is left.
 */
BESKID_OS_API void *beskid_os_mem_alloc(size_t count, size_t size);

/**
 * @brief Resizes a block to `count` elements of `size` bytes, keeping its contents up to the
 *        smaller size; bytes beyond the old size are unspecified.
 * @param block a block from beskid_os_mem_alloc() or this function, or NULL to allocate.
 * @param count number of elements.
 * @param size bytes per element.
 * @return the moved or grown block, or NULL — then `block` is untouched and still the caller's:
 *         when count × size overflows or is 0 (never a zero-byte realloc), or no memory is left.
 */
BESKID_OS_API void *beskid_os_mem_resize(void *block, size_t count, size_t size);

/**
 * @brief Allocates zeroed memory of `size` bytes starting at a multiple of `alignment`.
 * @param alignment a power of two.
 * @param size bytes; rounded up to a multiple of `alignment`.
 * @return the block (release with beskid_os_mem_free()), or NULL for a bad alignment, a size of
 *         0 or one that overflows when rounded, or no memory left.
 */
BESKID_OS_API void *beskid_os_mem_aligned(size_t alignment, size_t size);

/** @brief Releases a block from the functions above; NULL is ignored. */
BESKID_OS_API void beskid_os_mem_free(void *block);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Clocks, entropy and process figures */
/** @{ */

/** @brief Nanoseconds of a monotonic clock with an arbitrary epoch; never goes backwards. */
BESKID_OS_API uint64_t beskid_os_monotonic_ns(void);
/** @brief Nanoseconds since the Unix epoch (wall clock; may jump). */
BESKID_OS_API int64_t beskid_os_realtime_ns(void);
/** @brief CPU time consumed by the calling thread, in nanoseconds. */
BESKID_OS_API uint64_t beskid_os_thread_cpu_ns(void);
/** @brief CPU time (user + system) consumed by the whole process, in nanoseconds. */
BESKID_OS_API uint64_t beskid_os_process_cpu_ns(void);

/**
 * @brief A handle on one thread's CPU-time clock, which any thread of the process can read
 *        (beskid_os_cpu_clock_ns()) while that thread lives.
 *
 * What it is for: telling a thread that did not get far because it ran slow code from one that
 * did not run at all (it waited for a CPU), by reading its CPU time from another thread.
 */
typedef struct beskid_os_cpu_clock_t {
  int64_t id; /**< The OS clock (POSIX: the thread's `clockid_t`). */
} beskid_os_cpu_clock_t;

/**
 * @brief The calling thread's CPU-time clock.
 * @param clock receives the handle; valid until the thread exits.
 * @return ::BESKID_OK; ::BESKID_INVALID_INPUT for NULL; ::BESKID_IO_ERROR where the OS has no
 *         per-thread CPU clocks.
 */
BESKID_OS_API beskid_status beskid_os_thread_cpu_clock(beskid_os_cpu_clock_t *clock);

/**
 * @brief Reads a thread's CPU time: what it has run on a CPU, user and system, up to now (the
 *        kernel brings a thread that is running at that moment up to date first).
 * @param clock a handle from beskid_os_thread_cpu_clock() on a thread that has not exited.
 * @param ns receives the nanoseconds.
 * @return ::BESKID_OK; ::BESKID_INVALID_INPUT for NULL `ns` or a clock the OS does not know (the
 *         thread exited). Right after a thread has ended (even after a join has returned) the OS
 *         may still read its final figure for an instant before it forgets the clock; a caller
 *         that must tell a live thread from an ended one cannot do it with this call.
 */
BESKID_OS_API beskid_status beskid_os_cpu_clock_ns(beskid_os_cpu_clock_t clock, uint64_t *ns);

/**
 * @brief Resident memory of the process.
 * @param current receives the resident set size in bytes now; may be NULL.
 * @param peak receives the highest resident set size so far in bytes; may be NULL.
 * @return ::BESKID_OK or ::BESKID_IO_ERROR.
 */
BESKID_OS_API beskid_status beskid_os_memory_usage(uint64_t *current, uint64_t *peak);

/** @brief Number of CPUs the process may run on (≥ 1). */
BESKID_OS_API uint32_t beskid_os_cpu_count(void);

/** @brief The process id. */
BESKID_OS_API int64_t beskid_os_pid(void);

/**
 * @brief Fills `buf` with bytes from the operating system's cryptographically secure random
 *        source (Linux: `getrandom`), waiting only while the source is not yet initialised at
 *        boot.
 * @param buf destination; may be NULL only when `len` is 0.
 * @param len number of bytes; 0 makes no system call.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT (`buf` NULL with a length), or the mapped error.
 */
BESKID_OS_API beskid_status beskid_os_entropy(void *buf, size_t len);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name File descriptors and the filesystem */
/** @{ */

/** @brief Flags for beskid_os_open(); combine with `|`. */
enum beskid_os_open_flags {
  BESKID_OS_OPEN_READ = 1u << 0,     /**< Open for reading. */
  BESKID_OS_OPEN_WRITE = 1u << 1,    /**< Open for writing. */
  BESKID_OS_OPEN_CREATE = 1u << 2,   /**< Create the file if it is missing (mode 0666 & ~umask). */
  BESKID_OS_OPEN_TRUNCATE = 1u << 3, /**< Truncate an existing file to length 0. */
  BESKID_OS_OPEN_APPEND = 1u << 4,   /**< Every write appends. */
  BESKID_OS_OPEN_EXCLUSIVE = 1u << 5 /**< With CREATE: fail with ALREADY_EXISTS if it exists. */
};

/**
 * @brief Writes all of `buf`, looping over partial writes and interrupted calls.
 * @param fd an open file descriptor.
 * @param buf the bytes; may be NULL only when `len` is 0.
 * @param len number of bytes; 0 makes no system call.
 * @param written receives the number of bytes written before success or failure; may be NULL.
 * @return ::BESKID_OK when every byte was written, otherwise the mapped error.
 */
BESKID_OS_API beskid_status beskid_os_write_all(int fd, const void *buf, size_t len,
                                                size_t *written);

/**
 * @brief Like beskid_os_write_all(), but the write never raises a signal: writing to a pipe or
 *        socket whose reading end is closed fails with ::BESKID_IO_ERROR instead of raising
 *        SIGPIPE, whatever that signal's disposition (default, ignored or handled). For reports
 *        that must not kill the process on their way out, such as a trap's line on stderr.
 *
 * A SIGPIPE that was already pending for the thread or the process stays pending.
 */
BESKID_OS_API beskid_status beskid_os_write_all_nosignal(int fd, const void *buf, size_t len,
                                                         size_t *written);

/**
 * @brief Reads at most `cap` bytes once (retrying interrupted calls).
 * @param fd an open file descriptor.
 * @param buf destination; may be NULL only when `cap` is 0.
 * @param cap capacity of `buf`; 0 makes no system call and reads 0 bytes.
 * @param got receives the number of bytes read; 0 with ::BESKID_OK means end of file.
 * @return ::BESKID_OK or the mapped error.
 */
BESKID_OS_API beskid_status beskid_os_read(int fd, void *buf, size_t cap, size_t *got);

/**
 * @brief Opens a file (close-on-exec).
 * @param path a NUL-terminated path.
 * @param flags a combination of ::beskid_os_open_flags including READ or WRITE.
 * @param fd receives the descriptor.
 * @return ::BESKID_OK or the mapped error (::BESKID_INVALID_INPUT for bad flags or NULLs).
 */
BESKID_OS_API beskid_status beskid_os_open(const char *path, unsigned flags, int *fd);

/** @brief Closes a descriptor. @return ::BESKID_OK or the mapped error (EBADF: INVALID_INPUT). */
BESKID_OS_API beskid_status beskid_os_close(int fd);

/** @brief What a path names. */
typedef enum beskid_os_file_kind {
  BESKID_OS_FILE_REGULAR = 0,   /**< A regular file. */
  BESKID_OS_FILE_DIRECTORY = 1, /**< A directory. */
  BESKID_OS_FILE_OTHER = 2      /**< Anything else: device, socket, fifo. */
} beskid_os_file_kind;

/** @brief What beskid_os_stat() reports about a path (links are followed). */
typedef struct beskid_os_file_info {
  uint64_t size;            /**< Size in bytes. */
  int64_t modified_ns;      /**< Last modification, nanoseconds since the Unix epoch. */
  beskid_os_file_kind kind; /**< Regular file, directory or other. */
} beskid_os_file_info;

/**
 * @brief Describes the file at `path`.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND, or another mapped error.
 */
BESKID_OS_API beskid_status beskid_os_stat(const char *path, beskid_os_file_info *info);

/**
 * @brief Creates a directory (mode 0777 & ~umask); its parent must exist.
 * @return ::BESKID_OK, ::BESKID_ALREADY_EXISTS, ::BESKID_NOT_FOUND (no parent), or another error.
 */
BESKID_OS_API beskid_status beskid_os_mkdir(const char *path);

/**
 * @brief Removes a file, or an empty directory.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND, ::BESKID_ALREADY_EXISTS for a non-empty directory,
 *         or another mapped error.
 */
BESKID_OS_API beskid_status beskid_os_remove(const char *path);

/**
 * @brief Copies the current working directory into `buf` with a terminating NUL.
 * @param buf destination; may be NULL when `cap` is 0.
 * @param cap capacity of `buf` in bytes.
 * @param len receives the length without the NUL, also when `buf` is too small.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT when `cap` is too small, or the mapped error.
 */
BESKID_OS_API beskid_status beskid_os_getcwd(char *buf, size_t cap, size_t *len);

/**
 * @brief Describes the file behind an open descriptor.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT (`info` NULL, or `fd` not open), or the mapped
 *         error.
 */
BESKID_OS_API beskid_status beskid_os_fstat(int fd, beskid_os_file_info *info);

/**
 * @brief Flushes the data and metadata of an open file (or directory) to its storage device, so
 *        they survive a crash of the machine.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT (`fd` not open), or the mapped error.
 */
BESKID_OS_API beskid_status beskid_os_fsync(int fd);

/**
 * @brief Renames `from` to `to`, atomically replacing `to` when it exists (a directory only by
 *        an empty directory). Both must be on the same filesystem.
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND (no `from`, or no parent of `to`),
 *         ::BESKID_ALREADY_EXISTS (`to` is a non-empty directory), ::BESKID_INVALID_INPUT
 *         (NULL, or a directory moved into itself), or another mapped error (::BESKID_IO_ERROR
 *         across filesystems).
 */
BESKID_OS_API beskid_status beskid_os_rename(const char *from, const char *to);

/**
 * @brief Opens a directory to list its entries with beskid_os_dir_next().
 * @param path a NUL-terminated path.
 * @param dir receives the open listing; close it with beskid_os_dir_close().
 * @return ::BESKID_OK, ::BESKID_NOT_FOUND (missing, or not a directory), or the mapped error.
 */
BESKID_OS_API beskid_status beskid_os_dir_open(const char *path, beskid_os_dir_t *dir);

/**
 * @brief The next entry of a listing, in the order the filesystem keeps them; `.` and `..` are
 *        skipped.
 * @param dir a listing from beskid_os_dir_open().
 * @param name receives the entry's NUL-terminated name, valid until the next call on `dir`, or
 *        NULL when the listing is complete.
 * @param len receives the name's length in bytes; may be NULL.
 * @return ::BESKID_OK (check `*name`), or the mapped error.
 */
BESKID_OS_API beskid_status beskid_os_dir_next(beskid_os_dir_t *dir, const char **name,
                                               size_t *len);

/** @brief Closes a listing made by beskid_os_dir_open(); a closed listing may be closed again. */
BESKID_OS_API void beskid_os_dir_close(beskid_os_dir_t *dir);

/** @brief Whether `fd` refers to a terminal. */
BESKID_OS_API bool beskid_os_isatty(int fd);

/**
 * @brief The size of the terminal behind `fd`.
 * @return ::BESKID_OK with `cols` and `rows` set, or ::BESKID_INVALID_INPUT when `fd` is not
 *         a terminal.
 */
BESKID_OS_API beskid_status beskid_os_terminal_size(int fd, uint32_t *cols, uint32_t *rows);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Environment and arguments */
/** @{ */

/**
 * @brief Copies the value of an environment variable into `buf` with a terminating NUL.
 *
 * Safe to call while other threads call beskid_os_env_set().
 * @param name the variable's name: non-empty, no '='.
 * @param buf destination; may be NULL when `cap` is 0.
 * @param cap capacity of `buf` in bytes.
 * @param len receives the value's length without the NUL, also when `buf` is too small.
 * @return ::BESKID_OK; ::BESKID_NOT_FOUND when unset; ::BESKID_INVALID_INPUT for a bad name or
 *         when `cap` is too small (then `*len` says how much is needed).
 */
BESKID_OS_API beskid_status beskid_os_env_get(const char *name, char *buf, size_t cap, size_t *len);

/**
 * @brief Sets (or with `value` NULL, removes) an environment variable.
 *
 * Serialised with beskid_os_env_get() and itself; code that uses getenv(), setenv() or environ
 * directly while another thread calls this races with it, as with setenv().
 * @return ::BESKID_OK or ::BESKID_INVALID_INPUT for a bad name.
 */
BESKID_OS_API beskid_status beskid_os_env_set(const char *name, const char *value);

/**
 * @brief Takes a private copy of the program's arguments; later changes to `argv` do not show.
 *
 * Call it once at start-up, before other threads read the arguments; a later call replaces the
 * snapshot. Uses the C allocator.
 * @param argc number of arguments (≥ 0).
 * @param argv the arguments; may be NULL when `argc` is 0.
 * @return ::BESKID_OK, ::BESKID_INVALID_INPUT, or ::BESKID_IO_ERROR when out of memory.
 */
BESKID_OS_API beskid_status beskid_os_args_set(int argc, const char *const *argv);

/** @brief Number of arguments in the snapshot (0 before beskid_os_args_set()). */
BESKID_OS_API int64_t beskid_os_args_count(void);

/**
 * @brief One argument of the snapshot.
 * @param index position, from 0.
 * @param len receives the argument's length in bytes; may be NULL.
 * @return a NUL-terminated string valid until the next beskid_os_args_set(), or NULL when
 *         `index` is out of range (negative included).
 */
BESKID_OS_API const char *beskid_os_args_get(int64_t index, size_t *len);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Process exit */
/** @{ */

/**
 * @brief Ends the process with `status` after running `atexit` handlers and flushing stdio.
 *
 * This is exit(), with its one restriction: it must not run in two threads at once (the
 * handlers and stdio teardown are not thread-safe); beskid_os_exit_now() has no such limit.
 */
BESKID_OS_API _Noreturn void beskid_os_exit(int status);
/** @brief Ends the process with `status` at once: no handlers, no flushing. */
BESKID_OS_API _Noreturn void beskid_os_exit_now(int status);
/**
 * @brief Ends the process with `status` while other threads may still be running, the way a
 *        program ends when its main function returns.
 *
 * Flushes the C library's buffered standard output and standard error, then ends the process at
 * once: no `atexit` handler, destructor or thread-exit handler runs, so nothing that another
 * thread may still be using is torn down under it; the other threads stop with the process. A
 * stream that another thread keeps locked for more than about 100 ms (say, blocked writing to a
 * full pipe) is left unflushed rather than waited for.
 */
BESKID_OS_API _Noreturn void beskid_os_exit_flushed(int status);
/** @brief Ends the process abnormally (SIGABRT), for failures inside failure handling. */
BESKID_OS_API _Noreturn void beskid_os_abort(void);

/** @} */
/* ------------------------------------------------------------------------------------------ */
/** @name Fork */
/** @{ */

/**
 * @brief Registers handlers that run around every fork() of the process, as pthread_atfork()
 *        does: `prepare` in the forking thread just before the fork, `parent` in the parent and
 *        `child` in the child (whose only thread is the forking one) just after it.
 *
 * The order is POSIX's: prepare handlers run in the reverse order of their registration, parent
 * and child handlers in the order of their registration. The platform's own handlers (which hold
 * the environment and argument locks across the fork, so a fork never copies a half-done setenv)
 * come before any registered here: they prepare last and resume first. A registration lasts for the
 * life of the process. The usual use: `prepare` takes every lock a library's state depends on, so
 * that no other thread is half-way through changing it when the process is copied; `parent`
 * releases them; `child` releases them too and rebuilds what does not survive a fork (threads, and
 * condition variables through beskid_os_cond_reset_in_child()).
 * @param prepare may be NULL.
 * @param parent may be NULL.
 * @param child may be NULL.
 * @return ::BESKID_OK, or ::BESKID_IO_ERROR when the process is out of memory.
 */
BESKID_OS_API beskid_status beskid_os_atfork(void (*prepare)(void), void (*parent)(void),
                                             void (*child)(void));

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* BESKID_PLATFORM_H */
