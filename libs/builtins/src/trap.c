/* trap.c — how the runtime dies: one line on stderr in upstream's format, exit status 101, no
 * unwinding. Formatting uses only a stack buffer and the platform's raw write, so a trap works
 * with the heap exhausted or corrupt; the write never raises a signal (a closed stderr pipe must
 * not turn status 101 into death by SIGPIPE). A trap or panic raised by the reporting thread while
 * it reports aborts (the message may be lost, the process never loops); one raised meanwhile by
 * another thread waits for the first report's exit. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "beskid/platform.h"
#include "internal.h"

static atomic_int dying;

static const char *const trap_names[] = {"panic",
                                         "null_reference",
                                         "bounds",
                                         "arithmetic_overflow",
                                         "invalid_utf8",
                                         "out_of_memory",
                                         "invalid_or_stale_handle",
                                         "scheduler_deadlock",
                                         "abi_or_layout_mismatch",
                                         "unreachable_or_isle_invariant",
                                         "runtime_internal_corruption"};

const char *beskid_rt_trap_name(uint32_t code) {
  return code < sizeof trap_names / sizeof trap_names[0] ? trap_names[code] : "unknown";
}

/* Appends `len` bytes of `text` to the line, escaping backslashes and control bytes, so the
 * line stays one line whatever the message holds. */
static size_t append_escaped(char *line, size_t at, size_t cap, const uint8_t *text, size_t len) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len && at + 5 < cap; i++) {
    uint8_t c = text[i];
    if (c == '\\' || c < 0x20 || c == 0x7f) {
      line[at++] = '\\';
      if (c == '\\') {
        line[at++] = '\\';
      } else if (c == '\n') {
        line[at++] = 'n';
      } else {
        line[at++] = 'x';
        line[at++] = hex[c >> 4];
        line[at++] = hex[c & 15];
      }
    } else {
      line[at++] = (char)c;
    }
  }
  return at;
}

/* Two ways to trap twice. The same thread trapping again while it reports (a signal handler
 * that panics, a fault while formatting) aborts at once: the report is broken and retrying could
 * loop. Another thread trapping while one thread reports waits for that report's exit, so the
 * process dies with the first trap's line and status 101, never with two interleaved lines. */
static _Thread_local bool reporting_here;

/* Writes `head` and the escaped message as one line on stderr and exits with 101. */
static _Noreturn void report_and_exit(const char *head, const uint8_t *msg, size_t len) {
  if (reporting_here) beskid_os_abort();
  reporting_here = true;
  /* Relaxed is enough: the exchange only elects one reporter; nothing is published through it. */
  if (atomic_exchange_explicit(&dying, 1, memory_order_relaxed) != 0) {
    for (;;) beskid_os_sleep_ns(UINT64_C(1000000000));
  }
  char line[1024];
  size_t at = strlen(head);
  if (at > sizeof line / 2) at = sizeof line / 2;
  /* The line is written by length, never read as a C string. */
  memcpy(line, head, at); // NOLINT(bugprone-not-null-terminated-result)
  if (msg != NULL) at = append_escaped(line, at, sizeof line - 1, msg, len);
  line[at++] = '\n';
  /* Never raises SIGPIPE: with stderr a pipe whose reader has gone, the line is lost but the
   * status is still 101. */
  beskid_os_write_all_nosignal(2, line, at, NULL);
  beskid_os_exit_now(BESKID_TRAP_EXIT_STATUS);
}

static _Noreturn void die(uint32_t code, const uint8_t *msg, size_t len) {
  char head[128];
  (void)snprintf(head, sizeof head, "%s: %s (%u): ", BESKID_TRAP_DIAGNOSTIC,
                 beskid_rt_trap_name(code), code);
  report_and_exit(head, msg, len);
}

void beskid_rt_trap(uint32_t code, const char *message) {
  die(code, (const uint8_t *)message, message != NULL ? strlen(message) : 0);
}

void panic(const uint8_t *msg, int64_t len) {
  if (msg == NULL || len < 0) len = 0;
  die(BESKID_TRAP_PANIC, msg, (size_t)len);
}

void beskid_rt_trap_null_reference(void) {
  beskid_rt_trap(BESKID_TRAP_NULL_REFERENCE, "null reference");
}

void beskid_rt_trap_bounds(int64_t index, int64_t length) {
  char msg[96];
  (void)snprintf(msg, sizeof msg, "index %lld out of range for length %lld", (long long)index,
                 (long long)length);
  beskid_rt_trap(BESKID_TRAP_BOUNDS, msg);
}

void beskid_rt_trap_arithmetic_overflow(void) {
  beskid_rt_trap(BESKID_TRAP_ARITHMETIC_OVERFLOW, "arithmetic overflow");
}

void beskid_rt_trap_unreachable(void) {
  beskid_rt_trap(BESKID_TRAP_UNREACHABLE_OR_ISLE_INVARIANT, "unreachable code reached");
}

void beskid_rt_trap_out_of_memory(uint64_t requested) {
  beskid_gc_failure_t f;
  beskid_gc_last_failure(&f);
  char msg[160];
  (void)snprintf(msg, sizeof msg, "req=%llu live=%llu committed=%llu cap=%llu",
                 (unsigned long long)requested, (unsigned long long)f.live,
                 (unsigned long long)f.committed, (unsigned long long)f.cap);
  beskid_rt_trap(BESKID_TRAP_OUT_OF_MEMORY, msg);
}

void beskid_rt_trap_own_out_of_memory(uint64_t requested) {
  if (requested == 0) beskid_rt_trap_internal_out_of_memory();
  beskid_gc_report_failure(requested);
  beskid_rt_trap_out_of_memory(requested);
}

void beskid_rt_trap_internal_out_of_memory(void) {
  beskid_gc_failure_t f;
  beskid_gc_last_failure(&f);
  beskid_rt_trap_out_of_memory(f.requested);
}

void beskid_rt_startup_failed(const char *message) {
  report_and_exit("beskid runtime: cannot start: ", (const uint8_t *)message, strlen(message));
}
