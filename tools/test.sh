#!/usr/bin/env bash
# test.sh — run every test: each library's Check suite and the cross-library tests, in the dev
# (warnings as errors), asan (Address + UndefinedBehavior) and tsan presets; then the API
# reference build (Doxygen warnings are errors) and the clang-format check.
#
#   tools/test.sh                 everything
#   tools/test.sh dev asan        only these presets (docs and format still run)
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
echo "=== docs"
cmake --preset dev >/dev/null
cmake --build --preset dev --target docs
echo "=== format"
bash tools/format.sh --check
echo "test: all presets passed (${presets[*]}), docs built without warnings, sources formatted"
