/* posix.c — libs/platform on POSIX systems (Linux first): the only file of the runtime that
 * makes system calls.
 *
 * Invariants kept here:
 * - every fallible call maps errno through beskid_os_status_from_errno(), the one mapping;
 * - interrupted system calls (EINTR) are retried, partial writes are continued;
 * - descriptors are opened close-on-exec;
 * - the environment is read and written under one lock, so getenv never races setenv inside
 *   the runtime (other code calling setenv directly is outside our control);
 * - the argument snapshot is a private deep copy, replaced atomically under its lock;
 * - a fork happens with both of those locks held by the forking thread, so the child finds the
 *   environment and the arguments whole, and gets the locks new; these handlers prepare after,
 *   and resume before, every handler registered with beskid_os_atfork();
 * - a write made with beskid_os_write_all_nosignal() never raises SIGPIPE. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "beskid/platform.h"

/* ------------------------------------------------------------------------------------------ */
/* Status */

beskid_status beskid_os_status_from_errno(int err) {
  switch (err) {
  case 0:
    return BESKID_OK;
  case ENOENT:
  case ENOTDIR:
    return BESKID_NOT_FOUND;
  case EACCES:
  case EPERM:
  case EROFS:
    return BESKID_PERMISSION_DENIED;
  case EEXIST:
  case ENOTEMPTY:
    return BESKID_ALREADY_EXISTS;
  case EINVAL:
  case EBADF:
  case ENAMETOOLONG:
  case EFAULT:
    return BESKID_INVALID_INPUT;
  default:
    return BESKID_IO_ERROR;
  }
}

const char *beskid_os_status_name(beskid_status status) {
  switch (status) {
  case BESKID_OK:
    return "ok";
  case BESKID_NOT_FOUND:
    return "not_found";
  case BESKID_PERMISSION_DENIED:
    return "permission_denied";
  case BESKID_IO_ERROR:
    return "io_error";
  case BESKID_INVALID_INPUT:
    return "invalid_input";
  case BESKID_ALREADY_EXISTS:
    return "already_exists";
  case BESKID_END_OF_FILE:
    return "end_of_file";
  }
  return "unknown";
}

static beskid_status from_errno(void) { return beskid_os_status_from_errno(errno); }

/* ------------------------------------------------------------------------------------------ */
/* Threads */

static void set_name(pthread_t thread, const char *name) {
  char short_name[16];
  (void)snprintf(short_name, sizeof short_name, "%s", name);
  pthread_setname_np(thread, short_name);
}

/* What a new thread needs before it runs the caller's function: its name is set from inside, so
 * it is visible from the function's first instruction. */
typedef struct thread_start {
  beskid_os_thread_fn fn;
  void *arg;
  char name[16];
} thread_start;

static void *thread_trampoline(void *p) {
  thread_start start = *(thread_start *)p;
  free(p);
  if (start.name[0] != '\0') pthread_setname_np(pthread_self(), start.name);
  return start.fn(start.arg);
}

beskid_status beskid_os_thread_create(beskid_os_thread_t *thread, beskid_os_thread_fn fn, void *arg,
                                      const char *name) {
  if (thread == NULL || fn == NULL) return BESKID_INVALID_INPUT;
  thread_start *start = calloc(1, sizeof *start);
  if (start == NULL) return BESKID_IO_ERROR;
  start->fn = fn;
  start->arg = arg;
  if (name != NULL) (void)snprintf(start->name, sizeof start->name, "%s", name);
  if (pthread_create(&thread->handle, NULL, thread_trampoline, start) != 0) {
    free(start);
    return BESKID_IO_ERROR;
  }
  thread->joinable = 1;
  return BESKID_OK;
}

beskid_status beskid_os_thread_join(beskid_os_thread_t *thread, void **result) {
  if (thread == NULL || !thread->joinable || pthread_equal(thread->handle, pthread_self())) {
    return BESKID_INVALID_INPUT;
  }
  if (pthread_join(thread->handle, result) != 0) return BESKID_INVALID_INPUT;
  thread->joinable = 0;
  return BESKID_OK;
}

void beskid_os_thread_set_name(const char *name) {
  if (name != NULL) set_name(pthread_self(), name);
}

void beskid_os_thread_yield(void) { sched_yield(); }

uint32_t beskid_os_current_cpu(void) {
  int cpu = sched_getcpu();
  return cpu >= 0 ? (uint32_t)cpu : BESKID_OS_CPU_UNKNOWN;
}

beskid_status beskid_os_thread_set_background(void) {
  /* SCHED_IDLE: the thread runs only on a CPU nothing else wants, and a waking thread of the
   * normal policy takes the CPU from it at once. Where that policy is refused, the lowest nice
   * value of the normal policy is the closest thing (it still gets a small share). */
  struct sched_param param = {0};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0) return BESKID_OK;
  return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19) == 0 ? BESKID_OK : from_errno();
}

uint64_t beskid_os_thread_id(void) { return (uint64_t)syscall(SYS_gettid); }

void beskid_os_sleep_ns(uint64_t ns) {
  struct timespec left = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Mutexes, condition variables, once */

/* The runtime's locks guard short critical sections (span lists, the page heap, work blocks):
 * a thread that finds one taken spins briefly before it sleeps (glibc's adaptive mutex), as the
 * Go runtime's locks do. A sleep and its wake-up cost far more than the section itself, and
 * more still in a virtual machine: two threads sweeping the same size class through a plain
 * mutex handed it over with a futex wake-up hundreds of times per millisecond. */
beskid_status beskid_os_mutex_init(beskid_os_mutex_t *mutex) {
  if (mutex == NULL) return BESKID_INVALID_INPUT;
  pthread_mutexattr_t attr;
  if (pthread_mutexattr_init(&attr) != 0) return BESKID_IO_ERROR;
#ifdef __GLIBC__ /* an enumerator, not a macro */
  (void)pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
  int r = pthread_mutex_init(&mutex->handle, &attr);
  pthread_mutexattr_destroy(&attr);
  return r == 0 ? BESKID_OK : BESKID_IO_ERROR;
}
void beskid_os_mutex_destroy(beskid_os_mutex_t *mutex) { pthread_mutex_destroy(&mutex->handle); }
void beskid_os_mutex_lock(beskid_os_mutex_t *mutex) { pthread_mutex_lock(&mutex->handle); }
bool beskid_os_mutex_trylock(beskid_os_mutex_t *mutex) {
  return pthread_mutex_trylock(&mutex->handle) == 0;
}
void beskid_os_mutex_unlock(beskid_os_mutex_t *mutex) { pthread_mutex_unlock(&mutex->handle); }

beskid_status beskid_os_cond_init(beskid_os_cond_t *cond) {
  if (cond == NULL) return BESKID_INVALID_INPUT;
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0) return BESKID_IO_ERROR;
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int err = pthread_cond_init(&cond->handle, &attr);
  pthread_condattr_destroy(&attr);
  return err == 0 ? BESKID_OK : BESKID_IO_ERROR;
}
void beskid_os_cond_destroy(beskid_os_cond_t *cond) { pthread_cond_destroy(&cond->handle); }
void beskid_os_cond_reset_in_child(beskid_os_cond_t *cond) {
  /* Not destroyed first: destroying waits for the parent's waiters, who never come. */
  beskid_os_cond_init(cond);
}
void beskid_os_cond_wait(beskid_os_cond_t *cond, beskid_os_mutex_t *mutex) {
  pthread_cond_wait(&cond->handle, &mutex->handle);
}

bool beskid_os_cond_timedwait(beskid_os_cond_t *cond, beskid_os_mutex_t *mutex,
                              uint64_t timeout_ns) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t sec = timeout_ns / 1000000000u, nsec = timeout_ns % 1000000000u + (uint64_t)now.tv_nsec;
  struct timespec deadline;
  deadline.tv_sec = now.tv_sec + (time_t)(sec + nsec / 1000000000u);
  deadline.tv_nsec = (long)(nsec % 1000000000u);
  if (deadline.tv_sec < now.tv_sec) deadline.tv_sec = (time_t)(~(uint64_t)0 >> 1); /* overflow */
  return pthread_cond_timedwait(&cond->handle, &mutex->handle, &deadline) != ETIMEDOUT;
}
void beskid_os_cond_signal(beskid_os_cond_t *cond) { pthread_cond_signal(&cond->handle); }
void beskid_os_cond_broadcast(beskid_os_cond_t *cond) { pthread_cond_broadcast(&cond->handle); }

void beskid_os_once(beskid_os_once_t *once, void (*init)(void)) { pthread_once(once, init); }

/* ------------------------------------------------------------------------------------------ */
/* Thread-local storage */

beskid_status beskid_os_tls_create(beskid_os_tls_t *key, void (*destructor)(void *)) {
  if (key == NULL) return BESKID_INVALID_INPUT;
  return pthread_key_create(key, destructor) == 0 ? BESKID_OK : BESKID_IO_ERROR;
}
void beskid_os_tls_delete(beskid_os_tls_t key) { pthread_key_delete(key); }
void *beskid_os_tls_get(beskid_os_tls_t key) { return pthread_getspecific(key); }
beskid_status beskid_os_tls_set(beskid_os_tls_t key, void *value) {
  return pthread_setspecific(key, value) == 0 ? BESKID_OK : BESKID_IO_ERROR;
}

/* ------------------------------------------------------------------------------------------ */
/* Virtual memory */

size_t beskid_os_page_size(void) {
  static size_t page;
  if (page == 0) page = (size_t)sysconf(_SC_PAGESIZE);
  return page;
}

static bool page_aligned(const void *addr, size_t size) {
  size_t mask = beskid_os_page_size() - 1;
  return ((uintptr_t)addr & mask) == 0 && (size & mask) == 0 && size != 0;
}

static size_t round_to_page(size_t size) {
  size_t page = beskid_os_page_size();
  return size > SIZE_MAX - page ? 0 : (size + page - 1) & ~(page - 1);
}

void *beskid_os_vm_reserve(size_t size, size_t alignment) {
  size = round_to_page(size);
  if (size == 0) return NULL;
  if (alignment == 0) alignment = beskid_os_page_size();
  if ((alignment & (alignment - 1)) != 0 || alignment < beskid_os_page_size()) return NULL;
  size_t extra = alignment - beskid_os_page_size();
  if (size > SIZE_MAX - extra) return NULL;
  char *p = mmap(NULL, size + extra, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  /* Trim the over-reservation so the range starts on the alignment. */
  char *start = (char *)(((uintptr_t)p + alignment - 1) & ~(uintptr_t)(alignment - 1));
  if (start > p) munmap(p, (size_t)(start - p));
  size_t tail = (size_t)(p + size + extra - (start + size));
  if (tail > 0) munmap(start + size, tail);
  return start;
}

bool beskid_os_vm_overcommits(void) {
#ifdef __linux__
  /* Read once: the setting is the machine's and rarely changes while a process runs. Relaxed
   * races store the same answer. */
  static int known; /* 0: not read yet, 1: overcommits, 2: strict */
  int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (k == 0) {
    k = 1;
    int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char c = 0;
      if (read(fd, &c, 1) == 1 && c == '2') k = 2;
      (void)close(fd);
    }
    __atomic_store_n(&known, k, __ATOMIC_RELAXED);
  }
  return k == 1;
#else
  return true;
#endif
}

beskid_status beskid_os_vm_commit(void *addr, size_t size) {
  if (!page_aligned(addr, size)) return BESKID_INVALID_INPUT;
  return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0 ? BESKID_OK : from_errno();
}

beskid_status beskid_os_vm_decommit(void *addr, size_t size) {
  if (!page_aligned(addr, size)) return BESKID_INVALID_INPUT;
  /* Replacing the mapping drops the pages at once and leaves the range reserved. */
  void *p =
      mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  // cppcheck-suppress memleak ; MAP_FIXED replaces part of the caller's reservation, not a new one
  return p == MAP_FAILED ? from_errno() : BESKID_OK;
}

beskid_status beskid_os_vm_reset(void *addr, size_t size) {
  if (!page_aligned(addr, size)) return BESKID_INVALID_INPUT;
  return madvise(addr, size, MADV_DONTNEED) == 0 ? BESKID_OK : from_errno();
}

/* Linux 5.14's MADV_POPULATE_WRITE, spelled out for older headers. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Whether the kernel knows MADV_POPULATE_WRITE: asked once with an empty range, which an older
 * kernel refuses for the advice alone (EINVAL) and a newer one accepts. Relaxed: every thread
 * that finds it unknown asks the same question and stores the same answer. */
static int populate_supported(void) {
  static int known; /* 0: not asked yet, 1: supported, 2: not */
  int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (k == 0) {
    /* Any page-aligned address does: the advice is checked first, and nothing is touched. */
    void *aligned = (void *)(uintptr_t)beskid_os_page_size();
    k = madvise(aligned, 0, MADV_POPULATE_WRITE) == 0 ? 1 : 2;
    __atomic_store_n(&known, k, __ATOMIC_RELAXED);
  }
  return k == 1;
}

/* Test-only (beskid_test_hooks.h): called at the start of every populate, on the calling thread,
 * so that a test can see in which state a thread populates memory. Relaxed: a test installs it
 * before the calls it watches, on the same thread or behind its own synchronisation; one load
 * per populate while unset. */
typedef void (*populate_hook_fn)(void *addr, size_t size);
static _Atomic(populate_hook_fn) populate_hook;

void beskid_os_test_on_populate(populate_hook_fn hook);
void beskid_os_test_on_populate(populate_hook_fn hook) {
  atomic_store_explicit(&populate_hook, hook, memory_order_relaxed);
}

beskid_status beskid_os_vm_populate(void *addr, size_t size) {
  populate_hook_fn hook = atomic_load_explicit(&populate_hook, memory_order_relaxed);
  if (hook != NULL) hook(addr, size);
  if (!page_aligned(addr, size)) return BESKID_INVALID_INPUT;
  /* EINVAL now means pages that may not be written; ENOMEM, a hole or no memory. */
  if (populate_supported() && madvise(addr, size, MADV_POPULATE_WRITE) != 0) return from_errno();
  /* Then a write to each page: on an older kernel it is what faults the page in, one fault at a
   * time; after the populate it is the first access from user space, which some hypervisors
   * charge for apart from the populate (shadow or nested page tables filled on first use): 4.3 us
   * a page on this project's virtual machines, then 0.02 us for any thread, against 0.6 us for
   * the populate itself. Paid here, it is off the path of the thread that uses the memory; on
   * bare metal the loop costs a few nanoseconds a page. Adding zero keeps what the page holds,
   * and an atomic add is one write access that loses no concurrent store (a plain read then
   * write could fault twice, read first). A range that may not be written faults. */
  size_t page = beskid_os_page_size();
  for (char *p = addr, *end = p + size; p < end; p += page) {
    __atomic_fetch_add(p, 0, __ATOMIC_RELAXED);
  }
  return BESKID_OK;
}

void beskid_os_vm_release(void *addr, size_t size) {
  if (addr != NULL && size != 0) munmap(addr, round_to_page(size));
}

void *beskid_os_vm_map(size_t size) {
  size = round_to_page(size);
  if (size == 0) return NULL;
  void *p =
      mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  return p;
}

/* ------------------------------------------------------------------------------------------ */
/* Clocks and process figures */

/* Reads clock `id` into *ns; false when the OS does not know the clock. */
static bool read_clock(clockid_t id, uint64_t *ns) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return false;
  *ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  return true;
}

static uint64_t clock_ns(clockid_t id) {
  uint64_t ns = 0;
  (void)read_clock(id, &ns); /* the process's own clocks always exist */
  return ns;
}

uint64_t beskid_os_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
int64_t beskid_os_realtime_ns(void) { return (int64_t)clock_ns(CLOCK_REALTIME); }
uint64_t beskid_os_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }
uint64_t beskid_os_process_cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

beskid_status beskid_os_thread_cpu_clock(beskid_os_cpu_clock_t *clock) {
  if (clock == NULL) return BESKID_INVALID_INPUT;
  clockid_t id;
  int err = pthread_getcpuclockid(pthread_self(), &id);
  if (err != 0) return BESKID_IO_ERROR;
  clock->id = (int64_t)id;
  return BESKID_OK;
}

beskid_status beskid_os_cpu_clock_ns(beskid_os_cpu_clock_t clock, uint64_t *ns) {
  if (ns == NULL || !read_clock((clockid_t)clock.id, ns)) return BESKID_INVALID_INPUT;
  return BESKID_OK;
}

/* Reads the unsigned decimal at *at (after blanks) and moves *at past it; false when there is
 * none or it does not fit (strtoull reports that, unlike scanf). */
static bool next_u64(const char **at, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(*at, &end, 10);
  if (end == *at || errno != 0) return false;
  *at = end;
  *out = v;
  return true;
}

beskid_status beskid_os_memory_usage(uint64_t *current, uint64_t *peak) {
  if (current != NULL) {
    /* "size resident shared text lib data dt", in pages. */
    char text[160];
    FILE *f = fopen("/proc/self/statm", "re");
    if (f == NULL) return BESKID_IO_ERROR;
    size_t got = fread(text, 1, sizeof text - 1, f);
    (void)fclose(f); /* read-only: nothing to lose */
    text[got] = '\0';
    const char *at = text;
    uint64_t pages_total, pages_resident;
    if (!next_u64(&at, &pages_total) || !next_u64(&at, &pages_resident)) return BESKID_IO_ERROR;
    *current = pages_resident * beskid_os_page_size();
  }
  if (peak != NULL) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return from_errno();
    *peak = (uint64_t)usage.ru_maxrss * 1024u;
  }
  return BESKID_OK;
}

uint32_t beskid_os_cpu_count(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return (uint32_t)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (uint32_t)n : 1u;
}

int64_t beskid_os_pid(void) { return (int64_t)getpid(); }

beskid_status beskid_os_entropy(void *buf, size_t len) {
  if (buf == NULL && len != 0) return BESKID_INVALID_INPUT;
  size_t done = 0;
  while (done < len) {
    /* getrandom returns at most 32 MiB per call and may be interrupted before it fills. */
    ssize_t n = getrandom((char *)buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return from_errno();
    }
    done += (size_t)n;
  }
  return BESKID_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* File descriptors and the filesystem */

beskid_status beskid_os_write_all(int fd, const void *buf, size_t len, size_t *written) {
  size_t done = 0;
  beskid_status st = BESKID_OK;
  if (buf == NULL && len != 0) {
    st = BESKID_INVALID_INPUT;
    len = 0;
  }
  while (done < len) {
    ssize_t n = write(fd, (const char *)buf + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = from_errno();
      break;
    }
    done += (size_t)n;
  }
  if (written != NULL) *written = done;
  return st;
}

beskid_status beskid_os_write_all_nosignal(int fd, const void *buf, size_t len, size_t *written) {
  /* With SIGPIPE blocked in this thread, a write to a broken pipe fails with EPIPE and leaves the
   * signal pending on the thread; it is taken back before the mask is restored, unless one was
   * pending already (then it is not ours to swallow). */
  sigset_t pipe_only, old_mask, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigemptyset(&pending);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  beskid_status st = beskid_os_write_all(fd, buf, len, written);
  if (!was_pending) {
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      const struct timespec now = {0, 0};
      int r;
      do r = sigtimedwait(&pipe_only, NULL, &now);
      while (r < 0 && errno == EINTR);
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  return st;
}

beskid_status beskid_os_read(int fd, void *buf, size_t cap, size_t *got) {
  if (got != NULL) *got = 0;
  if (cap == 0) return BESKID_OK;
  if (buf == NULL) return BESKID_INVALID_INPUT;
  for (;;) {
    ssize_t n = read(fd, buf, cap);
    if (n >= 0) {
      if (got != NULL) *got = (size_t)n;
      return BESKID_OK;
    }
    if (errno != EINTR) return from_errno();
  }
}

beskid_status beskid_os_open(const char *path, unsigned flags, int *fd) {
  const unsigned known = BESKID_OS_OPEN_READ | BESKID_OS_OPEN_WRITE | BESKID_OS_OPEN_CREATE |
                         BESKID_OS_OPEN_TRUNCATE | BESKID_OS_OPEN_APPEND | BESKID_OS_OPEN_EXCLUSIVE;
  if (path == NULL || fd == NULL || (flags & ~known) != 0 ||
      (flags & (BESKID_OS_OPEN_READ | BESKID_OS_OPEN_WRITE)) == 0) {
    return BESKID_INVALID_INPUT;
  }
  int mode = (flags & BESKID_OS_OPEN_READ) && (flags & BESKID_OS_OPEN_WRITE) ? O_RDWR
             : (flags & BESKID_OS_OPEN_WRITE)                                ? O_WRONLY
                                                                             : O_RDONLY;
  if (flags & BESKID_OS_OPEN_CREATE) mode |= O_CREAT;
  if (flags & BESKID_OS_OPEN_TRUNCATE) mode |= O_TRUNC;
  if (flags & BESKID_OS_OPEN_APPEND) mode |= O_APPEND;
  if (flags & BESKID_OS_OPEN_EXCLUSIVE) mode |= O_EXCL;
  int result;
  do {
    result = open(path, mode | O_CLOEXEC, 0666);
  } while (result < 0 && errno == EINTR);
  if (result < 0) return from_errno();
  *fd = result;
  return BESKID_OK;
}

beskid_status beskid_os_close(int fd) {
  /* Linux releases the descriptor even when close reports EINTR: never retry. */
  return close(fd) == 0 || errno == EINTR ? BESKID_OK : from_errno();
}

static void file_info(const struct stat *st, beskid_os_file_info *info) {
  info->size = (uint64_t)st->st_size;
  info->modified_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  info->kind = S_ISREG(st->st_mode)   ? BESKID_OS_FILE_REGULAR
               : S_ISDIR(st->st_mode) ? BESKID_OS_FILE_DIRECTORY
                                      : BESKID_OS_FILE_OTHER;
}

beskid_status beskid_os_stat(const char *path, beskid_os_file_info *info) {
  if (path == NULL || info == NULL) return BESKID_INVALID_INPUT;
  struct stat st;
  if (stat(path, &st) != 0) return from_errno();
  file_info(&st, info);
  return BESKID_OK;
}

beskid_status beskid_os_fstat(int fd, beskid_os_file_info *info) {
  if (info == NULL) return BESKID_INVALID_INPUT;
  struct stat st;
  if (fstat(fd, &st) != 0) return from_errno();
  file_info(&st, info);
  return BESKID_OK;
}

beskid_status beskid_os_fsync(int fd) {
  for (;;) {
    if (fsync(fd) == 0) return BESKID_OK;
    if (errno != EINTR) return from_errno();
  }
}

beskid_status beskid_os_rename(const char *from, const char *to) {
  if (from == NULL || to == NULL) return BESKID_INVALID_INPUT;
  return rename(from, to) == 0 ? BESKID_OK : from_errno();
}

beskid_status beskid_os_dir_open(const char *path, beskid_os_dir_t *dir) {
  if (path == NULL || dir == NULL) return BESKID_INVALID_INPUT;
  dir->handle = opendir(path);
  return dir->handle != NULL ? BESKID_OK : from_errno();
}

beskid_status beskid_os_dir_next(beskid_os_dir_t *dir, const char **name, size_t *len) {
  if (dir == NULL || dir->handle == NULL || name == NULL) return BESKID_INVALID_INPUT;
  for (;;) {
    errno = 0; /* readdir reports the end and an error alike, with NULL: errno tells them apart */
    /* readdir_r is deprecated: readdir is thread-safe on distinct streams, one per caller here. */
    // cppcheck-suppress readdirCalled
    struct dirent *e = readdir(dir->handle);
    if (e == NULL) {
      *name = NULL;
      if (len != NULL) *len = 0;
      return errno == 0 ? BESKID_OK : from_errno();
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    *name = e->d_name;
    if (len != NULL) *len = strlen(e->d_name);
    return BESKID_OK;
  }
}

void beskid_os_dir_close(beskid_os_dir_t *dir) {
  if (dir != NULL && dir->handle != NULL) {
    closedir(dir->handle);
    dir->handle = NULL;
  }
}

beskid_status beskid_os_mkdir(const char *path) {
  if (path == NULL) return BESKID_INVALID_INPUT;
  return mkdir(path, 0777) == 0 ? BESKID_OK : from_errno();
}

beskid_status beskid_os_remove(const char *path) {
  if (path == NULL) return BESKID_INVALID_INPUT;
  if (unlink(path) == 0) return BESKID_OK;
  if (errno == EISDIR || errno == EPERM) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      return rmdir(path) == 0 ? BESKID_OK : from_errno();
    }
    errno = EPERM;
  }
  return from_errno();
}

beskid_status beskid_os_getcwd(char *buf, size_t cap, size_t *len) {
  char path[4096];
  if (getcwd(path, sizeof path) == NULL) return from_errno();
  size_t n = strlen(path);
  if (len != NULL) *len = n;
  if (buf == NULL || cap <= n) return BESKID_INVALID_INPUT;
  memcpy(buf, path, n + 1);
  return BESKID_OK;
}

bool beskid_os_isatty(int fd) { return isatty(fd) == 1; }

beskid_status beskid_os_terminal_size(int fd, uint32_t *cols, uint32_t *rows) {
  struct winsize ws;
  if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0) return BESKID_INVALID_INPUT;
  if (cols != NULL) *cols = ws.ws_col;
  if (rows != NULL) *rows = ws.ws_row;
  return BESKID_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Environment */

static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t args_lock = PTHREAD_MUTEX_INITIALIZER;

/* Around a fork, the environment and argument locks are held by the forking thread, so no other
 * thread is inside setenv (whose own lock the C library does not reset in the child) or half-way
 * through replacing the arguments; both processes then release them, as pthread_atfork intends.
 * Plain mutexes, not a read-write lock: the child's only thread can unlock a mutex its forking
 * thread took, while a read-write lock remembers its writer by a thread id the child no longer
 * has (and reinitialising it behind the thread sanitizer's back leaves it "held" there). */
static void process_locks_prepare(void) {
  pthread_mutex_lock(&env_lock);
  pthread_mutex_lock(&args_lock);
}
static void process_locks_release(void) {
  pthread_mutex_unlock(&args_lock);
  pthread_mutex_unlock(&env_lock);
}

static pthread_once_t process_locks_once = PTHREAD_ONCE_INIT;
static void process_locks_register(void) {
  pthread_atfork(process_locks_prepare, process_locks_release, process_locks_release);
}
/* Registers the fork handlers of the platform's own locks: the first time they are used, and in
 * any case before the first handler registered with beskid_os_atfork(), so that they prepare last
 * and resume first. A library's prepare handler (which may wait for its own threads, and those
 * for these locks) never waits behind them. */
static void process_locks_ready(void) { pthread_once(&process_locks_once, process_locks_register); }
/* ... and in practice at load time, before main and before any thread exists. Registered lazily
 * only, the first registration could be in progress in another thread when a fork is made; the
 * child would then wait forever on a once whose runner it does not have (the thread sanitizer's
 * pthread_once, unlike the C library's, does not restart it in the child). */
__attribute__((constructor)) static void process_locks_at_load(void) { process_locks_ready(); }

static bool env_name_ok(const char *name) {
  return name != NULL && name[0] != '\0' && strchr(name, '=') == NULL;
}

beskid_status beskid_os_env_get(const char *name, char *buf, size_t cap, size_t *len) {
  if (!env_name_ok(name)) return BESKID_INVALID_INPUT;
  process_locks_ready();
  pthread_mutex_lock(&env_lock);
  const char *value = getenv(name);
  beskid_status st = BESKID_OK;
  if (value == NULL) {
    st = BESKID_NOT_FOUND;
  } else {
    size_t n = strlen(value);
    if (len != NULL) *len = n;
    if (buf == NULL || cap <= n)
      st = BESKID_INVALID_INPUT;
    else
      memcpy(buf, value, n + 1);
  }
  pthread_mutex_unlock(&env_lock);
  return st;
}

beskid_status beskid_os_env_set(const char *name, const char *value) {
  if (!env_name_ok(name)) return BESKID_INVALID_INPUT;
  process_locks_ready();
  pthread_mutex_lock(&env_lock);
  /* setenv and unsetenv race with any other access to the environment: env_lock serialises them
   * with every read the runtime makes (platform.h tells callers outside it). */
  int r;
  if (value != NULL)
    r = setenv(name, value, 1); // NOLINT(concurrency-mt-unsafe): under env_lock
  else
    r = unsetenv(name); // NOLINT(concurrency-mt-unsafe): under env_lock
  pthread_mutex_unlock(&env_lock);
  return r == 0 ? BESKID_OK : from_errno();
}

/* ------------------------------------------------------------------------------------------ */
/* Arguments */

static char **args_copy;
static int64_t args_n;

static void free_args(char **args, int64_t n) {
  for (int64_t i = 0; i < n; i++) free(args[i]);
  free(args);
}

beskid_status beskid_os_args_set(int argc, const char *const *argv) {
  if (argc < 0 || (argv == NULL && argc > 0)) return BESKID_INVALID_INPUT;
  char **copy = calloc((size_t)argc + 1, sizeof *copy);
  if (copy == NULL) return BESKID_IO_ERROR;
  for (int i = 0; i < argc; i++) {
    copy[i] = strdup(argv[i] != NULL ? argv[i] : "");
    if (copy[i] == NULL) {
      free_args(copy, i);
      return BESKID_IO_ERROR;
    }
  }
  process_locks_ready();
  pthread_mutex_lock(&args_lock);
  char **old = args_copy;
  int64_t old_n = args_n;
  args_copy = copy;
  args_n = argc;
  pthread_mutex_unlock(&args_lock);
  free_args(old, old_n);
  return BESKID_OK;
}

int64_t beskid_os_args_count(void) {
  process_locks_ready();
  pthread_mutex_lock(&args_lock);
  int64_t n = args_n;
  pthread_mutex_unlock(&args_lock);
  return n;
}

const char *beskid_os_args_get(int64_t index, size_t *len) {
  process_locks_ready();
  pthread_mutex_lock(&args_lock);
  const char *arg = index >= 0 && index < args_n ? args_copy[index] : NULL;
  pthread_mutex_unlock(&args_lock);
  if (arg != NULL && len != NULL) *len = strlen(arg);
  return arg;
}

/* ------------------------------------------------------------------------------------------ */
/* Fork */

beskid_status beskid_os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
  process_locks_ready();
  return pthread_atfork(prepare, parent, child) == 0 ? BESKID_OK : BESKID_IO_ERROR;
}

/* ------------------------------------------------------------------------------------------ */
/* Exit */

/* exit() itself, with its contract: platform.h says two threads must not exit at once. */
void beskid_os_exit(int status) { exit(status); } // NOLINT(concurrency-mt-unsafe): exit's contract
void beskid_os_exit_now(int status) { _exit(status); }

/* Flushes `stream` unless another thread keeps it locked for ~100 ms. FILE locks are recursive,
 * so fflush inside our own lock is fine. */
static void flush_if_free(FILE *stream) {
  for (int tries = 0; tries < 100; tries++) {
    if (ftrylockfile(stream) == 0) {
      (void)fflush(stream);
      funlockfile(stream);
      return;
    }
    beskid_os_sleep_ns(1000000);
  }
}

void beskid_os_exit_flushed(int status) {
  flush_if_free(stdout);
  flush_if_free(stderr);
  _exit(status);
}
void beskid_os_abort(void) { abort(); }
