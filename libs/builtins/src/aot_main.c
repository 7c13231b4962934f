/* aot_main.c — the `main` of every ahead-of-time Beskid executable. Kept alone in its object
 * file so that the bundle pulls it in only for programs that do not define `main` themselves.
 *
 * Hands argv to the runtime, reads the runtime's environment variables, starts the runtime,
 * runs beskid_program_main and ends the process with its status. A bad environment value or a
 * failed start-up prints one line and exits with 101.
 *
 * When beskid_program_main returns, the program is over, whatever its other threads are doing
 * (as a Go program ends when main returns): threads may still be attached, allocating, collecting
 * or blocked in native code, and the background collector may be mid-cycle. So nothing is torn
 * down: the runtime's own output (trace lines, traps) is written unbuffered as it happens, the C
 * library's stdout and stderr are flushed, and the process ends at once with the status, without
 * atexit handlers or destructors that could free what another thread still uses. */
#include <stdio.h>

#include "beskid/platform.h"
#include "internal.h"

int main(int argc, char **argv) {
  if (beskid_os_args_set(argc, (const char *const *)argv) != BESKID_OK) {
    beskid_rt_trap(BESKID_TRAP_OUT_OF_MEMORY, "cannot copy the program arguments");
  }
  beskid_rt_config_t config;
  beskid_rt_config_default(&config);
  char error[300];
  if (!beskid_rt_config_from_env(&config, error, sizeof error)) beskid_rt_startup_failed(error);
  int32_t st = beskid_rt_init(&config);
  if (st != 0) {
    char msg[200];
    (void)snprintf(msg, sizeof msg, "%s (status %d)", beskid_rt_init_failure(st), st);
    beskid_rt_startup_failed(msg);
  }
  int64_t status = beskid_program_main();
  beskid_os_exit_flushed((int)status);
}
