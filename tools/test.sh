#!/usr/bin/env bash
# test.sh — run every test: each library's Check suite and the cross-library tests, in the dev
# (warnings as errors), asan (Address + UndefinedBehavior) and tsan presets; then the API
# reference build (Doxygen warnings are errors) and the clang-format check. The reliability
# tests run inside the presets (tests/faults, and tests/soak for 20 s each); the libFuzzer
# harnesses then run a few seconds each (tools/fuzz.sh; FUZZ_SECONDS, 0 skips them), and the
# static analysis of libs/ (tools/lint.sh: clang-tidy and cppcheck) must report nothing.
#
#   tools/test.sh                 everything
#   tools/test.sh dev asan        only these presets (fuzz, lint, docs and format still run)
# Installs what is missing first. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
presets=("$@")
[ "${#presets[@]}" -gt 0 ] || presets=(dev asan tsan)
for p in "${presets[@]}"; do
  echo "=== preset $p"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p"
  ctest --preset "$p"
done
echo "=== fuzz"
fuzz_seconds=${FUZZ_SECONDS:-8}
if [ "$fuzz_seconds" != 0 ]; then bash tools/fuzz.sh all "$fuzz_seconds"; fi
echo "=== lint"
bash tools/lint.sh
echo "=== docs"
cmake --preset dev >/dev/null
cmake --build --preset dev --target docs
echo "=== format"
bash tools/format.sh --check
echo "test: all presets passed (${presets[*]}), static analysis clean, docs built without warnings, sources formatted"
