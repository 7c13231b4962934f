#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer harnesses (fuzz/, clang with ASan + UBSan, every library
# instrumented) into build/fuzz and run them.
#
#   tools/fuzz.sh <harness> [seconds]   run one harness (default 60 s; 0 = until stopped)
#   tools/fuzz.sh all [seconds]         run every harness for that long each (default 10 s)
#   tools/fuzz.sh list                  name the harnesses
#
# A run starts from the committed seeds (fuzz/corpus/<harness>/) plus what earlier runs found
# (build/fuzz/corpus/<harness>/, not committed); a failing input is written to
# build/fuzz/crashes/<harness>/ and the script exits non-zero. Each run ends with one line:
#   fuzz: <harness>: <executions> executions in <seconds> s, corpus <n> inputs, no failure
set -euo pipefail
cd "$(dirname "$0")/.."
harnesses=(descriptor utf8 env_config stdhost object_graph)
what=${1:-}
case "$what" in
  list) printf '%s\n' "${harnesses[@]}"; exit 0 ;;
  all) run=("${harnesses[@]}"); secs=${2:-10} ;;
  "") echo "usage: tools/fuzz.sh <harness>|all|list [seconds]" >&2; exit 2 ;;
  *) run=("$what"); secs=${2:-60}
     printf '%s\n' "${harnesses[@]}" | grep -qx "$what" || { echo "fuzz: no harness '$what'" >&2; exit 2; } ;;
esac

build=build/fuzz
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DBESKID_FUZZ=ON -DBESKID_SANITIZE=address,undefined \
    -DBESKID_BUILD_TESTS=OFF -DBESKID_WERROR=ON >/dev/null
fi
targets=()
for h in "${run[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$build" --target "${targets[@]}"

export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
status=0
for h in "${run[@]}"; do
  corpus="$build/corpus/$h"
  crashes="$build/crashes/$h"
  mkdir -p "$corpus" "$crashes"
  log="$build/fuzz-$h.log"
  limit=()
  [ "$secs" != 0 ] && limit=(-max_total_time="$secs")
  if ! "$build/fuzz/fuzz_$h" "${limit[@]}" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096 \
      -artifact_prefix="$crashes/" "$corpus" "fuzz/corpus/$h" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $h: FAILED (log $log, input in $crashes/)"
    status=1
    continue
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  units=$(find "$corpus" -type f | wc -l)
  echo "fuzz: $h: ${execs:-?} executions in $secs s, corpus $units inputs, no failure"
done
exit $status
