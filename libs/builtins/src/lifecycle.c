/* lifecycle.c — starting and stopping the runtime, its configuration (API and environment),
 * thread attachment and the ABI version check.
 *
 * The runtime is one process-wide state: UNINIT, ACTIVE between beskid_rt_init() and
 * beskid_rt_shutdown(), STOPPING while a shutdown runs. Shutdown with another thread attached is a
 * trap, never a teardown under a running thread; an AOT program ends instead (aot_main.c). Every
 * builtin that needs the heap goes through beskid_rt_require_thread(), so a call before init, after
 * shutdown or from an unattached thread is a clear trap rather than a crash. The collector reports
 * to us through two hooks: its log lines (trace, verifier) go to stderr, and a broken invariant it
 * detects becomes the runtime_internal_corruption trap. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beskid/platform.h"
#include "internal.h"

_Atomic int beskid_rt_state;

/* The host-facing helpers below may run before the runtime starts; a NULL where they write a
 * result is a null_reference trap (the trap needs no running runtime), never a crash. */
void beskid_rt_config_default(beskid_rt_config_t *config) {
  if (config == NULL) {
    beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "beskid_rt_config_default: NULL configuration");
  }
  memset(config, 0, sizeof *config);
  config->gogc = BESKID_GC_GOGC_DEFAULT;
}

static bool fail(char *error, size_t cap, const char *name, const char *value, const char *why);

/* Why a byte count was refused. */
typedef enum bytes_error { BYTES_OK = 0, BYTES_SYNTAX, BYTES_OVERFLOW } bytes_error;

static bytes_error parse_bytes(const char *text, uint64_t *bytes) {
  if (text == NULL || *text < '0' || *text > '9') return BYTES_SYNTAX;
  uint64_t value = 0;
  bool overflow = false;
  const char *p = text;
  for (; *p >= '0' && *p <= '9'; p++) {
    uint64_t digit = (uint64_t)(*p - '0');
    if (value > (UINT64_MAX - digit) / 10) overflow = true;
    value = value * 10 + digit;
  }
  unsigned shift = 0;
  switch (*p) {
  case '\0':
    break;
  case 'k':
  case 'K':
    shift = 10;
    p++;
    break;
  case 'm':
  case 'M':
    shift = 20;
    p++;
    break;
  case 'g':
  case 'G':
    shift = 30;
    p++;
    break;
  default:
    return BYTES_SYNTAX;
  }
  if (*p != '\0') return BYTES_SYNTAX;
  if (overflow || (shift != 0 && value > (UINT64_MAX >> shift))) return BYTES_OVERFLOW;
  *bytes = value << shift;
  return BYTES_OK;
}

bool beskid_rt_parse_bytes(const char *text, uint64_t *bytes) {
  if (bytes == NULL) {
    beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "beskid_rt_parse_bytes: NULL result pointer");
  }
  return parse_bytes(text, bytes) == BYTES_OK;
}

/* Reads a byte-count variable into *field; a refusal names the variable and says why. */
static bool env_bytes(const char *name, const char *value, uint64_t *field, char *error,
                      size_t cap) {
  switch (parse_bytes(value, field)) {
  case BYTES_OK:
    return true;
  case BYTES_OVERFLOW:
    return fail(error, cap, name, value,
                "does not fit in 64 bits (at most 18446744073709551615 bytes)");
  default:
    return fail(error, cap, name, value, "expected bytes with optional K/M/G");
  }
}

static bool parse_int(const char *text, int64_t max, int64_t *out) {
  uint64_t v;
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9') return false;
  }
  if (!beskid_rt_parse_bytes(text, &v) || v > (uint64_t)max) return false;
  *out = (int64_t)v;
  return true;
}

/* The message quotes the value with every control byte shown as '?', so it stays one line. */
static bool fail(char *error, size_t cap, const char *name, const char *value, const char *why) {
  if (error == NULL || cap == 0) return false;
  char shown[256];
  size_t n = 0;
  for (; n < sizeof shown - 1 && value[n] != '\0'; n++) {
    unsigned char c = (unsigned char)value[n];
    shown[n] = value[n];
    if (c < 0x20 || c == 0x7f) shown[n] = '?';
  }
  shown[n] = '\0';
  (void)snprintf(error, cap, "%s=%s: %s", name, shown, why); /* cut to the caller's buffer */
  return false;
}

/* Reads one variable. An unset variable leaves the configuration alone (*set = false); a value
 * too long for any valid setting is an error, never silently ignored. */
static bool env(const char *name, char *buf, size_t cap, bool *set, char *error, size_t error_cap) {
  size_t len;
  beskid_status st = beskid_os_env_get(name, buf, cap, &len);
  *set = st == BESKID_OK;
  if (st == BESKID_OK || st == BESKID_NOT_FOUND) return true;
  return fail(error, error_cap, name, "...", "value too long");
}

/* Splits `list` in place at commas, skipping empty items. Not strtok: its hidden state is shared
 * with every other strtok caller in the process, and a host may read the environment from
 * several threads. */
static bool parse_debug(beskid_rt_config_t *config, char *list, char *error, size_t cap) {
  for (char *item = list, *next; item != NULL; item = next) {
    next = strchr(item, ',');
    if (next != NULL) *next++ = '\0';
    if (*item == '\0') continue;
    if (strcmp(item, "stw") == 0)
      config->debug_flags |= BESKID_GC_DEBUG_STW;
    else if (strcmp(item, "checkmark") == 0)
      config->debug_flags |= BESKID_GC_DEBUG_CHECKMARK;
    else if (strcmp(item, "clobber") == 0)
      config->debug_flags |= BESKID_GC_DEBUG_CLOBBER;
    else if (strcmp(item, "verify") == 0)
      config->debug_flags |= BESKID_GC_DEBUG_VERIFY;
    else if (strncmp(item, "stress=", 7) == 0) {
      int64_t n;
      if (!parse_int(item + 7, INT64_MAX, &n)) {
        return fail(error, cap, "BESKID_GCDEBUG", item, "stress wants a count of allocations");
      }
      config->stress_interval = (uint64_t)n;
    } else {
      return fail(error, cap, "BESKID_GCDEBUG", item,
                  "unknown switch (use stw, checkmark, clobber, verify, stress=N)");
    }
  }
  return true;
}

bool beskid_rt_config_from_env(beskid_rt_config_t *config, char *error, size_t cap) {
  if (config == NULL) {
    beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "beskid_rt_config_from_env: NULL configuration");
  }
  char value[256];
  bool set;
  if (!env("BESKID_GOGC", value, sizeof value, &set, error, cap)) return false;
  if (set) {
    int64_t n;
    if (strcmp(value, "off") == 0)
      config->gogc = BESKID_GC_GOGC_OFF;
    else if (parse_int(value, INT32_MAX, &n))
      config->gogc = (int32_t)n;
    else
      return fail(error, cap, "BESKID_GOGC", value, "expected a percentage or 'off'");
  }
  if (!env("BESKID_MEMORY_LIMIT", value, sizeof value, &set, error, cap)) return false;
  if (set && !env_bytes("BESKID_MEMORY_LIMIT", value, &config->memory_limit, error, cap)) {
    return false;
  }
  if (!env("BESKID_HEAP_MAX_BYTES", value, sizeof value, &set, error, cap)) return false;
  if (set && !env_bytes("BESKID_HEAP_MAX_BYTES", value, &config->heap_max, error, cap)) {
    return false;
  }
  if (!env("BESKID_GCTRACE", value, sizeof value, &set, error, cap)) return false;
  if (set) {
    if (strcmp(value, "1") == 0)
      config->trace = true;
    else if (strcmp(value, "0") == 0)
      config->trace = false;
    else
      return fail(error, cap, "BESKID_GCTRACE", value, "expected 1 or 0");
  }
  if (!env("BESKID_GCWORKERS", value, sizeof value, &set, error, cap)) return false;
  if (set) {
    int64_t n;
    if (!parse_int(value, BESKID_GC_MARK_WORKERS_MAX, &n) || value[0] == '\0') {
      return fail(error, cap, "BESKID_GCWORKERS", value, "expected a number of workers, 0 to 64");
    }
    config->mark_workers = (uint32_t)n;
  }
  if (!env("BESKID_GCDEBUG", value, sizeof value, &set, error, cap)) return false;
  return !set || parse_debug(config, value, error, cap);
}

static void log_to_stderr(const char *line, void *context) {
  (void)context;
  char buf[600];
  int n = snprintf(buf, sizeof buf, "%s\n", line);
  if (n > 0) beskid_os_write_all(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, NULL);
}

static void collector_fatal(const char *line, void *context) {
  (void)context;
  beskid_rt_trap(BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION, line);
}

static void collector_out_of_memory(const char *line, void *context) {
  (void)line;
  (void)context;
  beskid_rt_trap_internal_out_of_memory();
}

/* The one conversion of the runtime's settings into the collector's, with the collector's
 * reports routed to stderr and to traps. */
static void gc_config_from(const beskid_rt_config_t *config, beskid_gc_config_t *gc) {
  beskid_gc_config_default(gc);
  gc->gogc = config->gogc;
  gc->memory_limit = config->memory_limit;
  gc->heap_max = config->heap_max;
  gc->stress_interval = config->stress_interval;
  gc->debug_flags = config->debug_flags;
  gc->mark_workers = config->mark_workers;
  gc->trace = config->trace;
  gc->log = log_to_stderr;
  gc->fatal = collector_fatal;
  gc->out_of_memory = collector_out_of_memory;
}

int32_t beskid_rt_init(const beskid_rt_config_t *config) {
  beskid_rt_config_t defaults;
  if (config == NULL) {
    beskid_rt_config_default(&defaults);
    config = &defaults;
  }
  int expected = BESKID_RT_UNINIT;
  if (!atomic_compare_exchange_strong(&beskid_rt_state, &expected, BESKID_RT_ACTIVE)) {
    return BESKID_GC_BAD_STATE;
  }
  beskid_gc_config_t gc;
  gc_config_from(config, &gc);
  beskid_gc_status st = beskid_gc_init(&gc);
  if (st != BESKID_GC_OK) {
    atomic_store(&beskid_rt_state, BESKID_RT_UNINIT);
    return (int32_t)st;
  }
  beskid_rt_descriptors_init();
  if (beskid_gc_attach() == NULL) {
    beskid_gc_shutdown();
    atomic_store(&beskid_rt_state, BESKID_RT_UNINIT);
    return BESKID_GC_OUT_OF_MEMORY;
  }
  return BESKID_GC_OK;
}

void beskid_rt_shutdown(void) {
  int expected = BESKID_RT_ACTIVE;
  if (!atomic_compare_exchange_strong(&beskid_rt_state, &expected, BESKID_RT_STOPPING)) return;
  /* The collector refuses while another thread is attached: tearing the heap down under a thread
   * that may still run (or exit, or be blocked in native code) is what must never happen. */
  if (beskid_gc_shutdown() != BESKID_GC_OK) {
    beskid_rt_trap(BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION,
                   "beskid_rt_shutdown: other threads are still attached (detach or join them "
                   "first, or end the process without shutting down)");
  }
  beskid_rt_descriptors_shutdown();
  atomic_store(&beskid_rt_state, BESKID_RT_UNINIT);
}

const char *beskid_rt_init_failure(int32_t status) {
  switch (status) {
  case BESKID_GC_OUT_OF_MEMORY:
    return "cannot reserve address space for the heap or start the collector (out of memory; "
           "is the address space limited, e.g. by ulimit -v?)";
  case BESKID_GC_INVALID:
    return "the runtime's configuration is invalid";
  case BESKID_GC_BAD_STATE:
    return "the runtime is already running";
  default:
    return "the runtime's initialisation failed";
  }
}

beskid_gc_thread_t *beskid_rt_require_thread(void) {
  beskid_gc_thread_t *t = beskid_gc_current();
  if (__builtin_expect(t != NULL, 1)) return t;
  if (atomic_load(&beskid_rt_state) != BESKID_RT_ACTIVE) {
    beskid_rt_trap(BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION,
                   "the runtime is not running (call beskid_rt_init first)");
  }
  beskid_rt_trap(BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION,
                 "this thread is not attached to the runtime (call beskid_rt_thread_attach)");
}

/* The native state is told apart from "not attached" only once the one NULL test fails. A
 * thread in that state counts as stopped for the collector, which scans its roots and works on
 * its allocation caches meanwhile: a heap operation there would race with a pause and free
 * objects still in use, so it is a trap rather than undefined behaviour. */
beskid_gc_thread_t *beskid_rt_require_running(const char *entry_point) {
  beskid_gc_thread_t *t = beskid_gc_current_running();
  if (__builtin_expect(t != NULL, 1)) return t;
  beskid_rt_require_thread(); /* traps when not running or not attached */
  char msg[192];
  (void)snprintf(msg, sizeof msg,
                 "%s called in the native state (between beskid_rt_enter_native and "
                 "beskid_rt_leave_native)",
                 entry_point);
  beskid_rt_trap(BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT, msg);
}

beskid_gc_thread_t *beskid_rt_thread_attach(void) {
  if (atomic_load(&beskid_rt_state) != BESKID_RT_ACTIVE) {
    beskid_rt_trap(BESKID_TRAP_RUNTIME_INTERNAL_CORRUPTION,
                   "cannot attach a thread: the runtime is not running");
  }
  beskid_gc_thread_t *t = beskid_gc_attach();
  if (t == NULL) beskid_rt_trap_internal_out_of_memory();
  return t;
}

void beskid_rt_thread_detach(void) {
  beskid_gc_thread_t *t = beskid_gc_current();
  if (t == NULL) return;
  if (t->top_frame != NULL) {
    beskid_rt_trap(BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT,
                   "thread detached with root frames still pushed");
  }
  beskid_gc_detach();
}

beskid_gc_thread_t *beskid_rt_thread(void) { return beskid_rt_require_thread(); }

uint32_t beskid_rt_abi_version(void) {
  return ((uint32_t)BESKID_ABI_VERSION_MAJOR << 16) | BESKID_ABI_VERSION_MINOR;
}

void beskid_rt_abi_check(uint32_t major, uint32_t minor) {
  bool newer_minor = minor > BESKID_ABI_VERSION_MINOR; /* a program may need at most ours */
  if (major == BESKID_ABI_VERSION_MAJOR && !newer_minor) return;
  char msg[160];
  (void)snprintf(msg, sizeof msg,
                 "program compiled for runtime ABI %u.%u, this runtime provides %u.%u", major,
                 minor, (unsigned)BESKID_ABI_VERSION_MAJOR, (unsigned)BESKID_ABI_VERSION_MINOR);
  beskid_rt_trap(BESKID_TRAP_ABI_OR_LAYOUT_MISMATCH, msg);
}
