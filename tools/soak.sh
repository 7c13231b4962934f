#!/usr/bin/env bash
# soak.sh — run the soak (tests/soak/soak.c) for as long as asked, with checkmark and verify on.
#
#   tools/soak.sh [seconds] [mutators] [preset]   default 3600 s, 4 mutators, preset dev
#                                                  (0 s: until interrupted; asan and tsan work too)
# Ends with the `soak:` summary line (cycles, threads, nodes checked) or `soak: FAILED …`.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3600}
mutators=${2:-4}
preset=${3:-dev}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target beskid_soak
if [ "$preset" = tsan ]; then # as ctest's tsan preset runs it (CMakePresets.json)
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tools/tsan.supp}
fi
BESKID_GCDEBUG=${BESKID_GCDEBUG:-checkmark,verify} "build/$preset/tests/soak/beskid_soak" "$secs" "$mutators"
