#!/usr/bin/env bash
# lint.sh — static analysis of the runtime's own code: clang-tidy (the checks in .clang-tidy) and
# cppcheck, both required to report nothing. docs/reliability.md lists the checks and every
# suppression with its reason.
#
#   tools/lint.sh             both tools over libs/*/src/*.c and the headers they include
#   LINT_JOBS=4 tools/lint.sh more parallel clang-tidy processes (default 2)
#
# Scope: every source of libs/<lib>/src and, through them, the libraries' public and internal
# headers (tests, benchmarks and third_party/ are not analysed). The compile commands are the dev
# preset's (build/dev/compile_commands.json, written at configure time; no build is needed),
# narrowed to those sources in build/lint/compile_commands.json. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${LINT_JOBS:-2}
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
cppcheck=$(command -v cppcheck || true)
if [ -z "$tidy" ] || [ -z "$cppcheck" ]; then
  echo "lint: clang-tidy and cppcheck are needed (bash tools/setup.sh installs them)" >&2
  exit 2
fi

cmake --preset dev >/dev/null
mkdir -p build/lint
python3 - build/dev/compile_commands.json build/lint/compile_commands.json <<'PY'
import json, re, sys
entries = json.load(open(sys.argv[1]))
ours = [e for e in entries if re.search(r"/libs/[a-z]+/src/[^/]+\.c$", e["file"])]
if not ours:
    sys.exit("lint: no libs/*/src/*.c in " + sys.argv[1])
json.dump(ours, open(sys.argv[2], "w"), indent=1)
PY
mapfile -t sources < <(python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])): print(e["file"])' build/lint/compile_commands.json)
echo "lint: ${#sources[@]} sources; $("$tidy" --version | grep -o 'LLVM version [0-9.]*'), $("$cppcheck" --version)"

start=$(date +%s)
status=0
# clang-tidy: checks, header filter and warnings-as-errors come from .clang-tidy. One source per
# process: clang-tidy 14 given several reports va_lists in the later ones as uninitialised.
if ! printf '%s\n' "${sources[@]}" |
    xargs -P "$jobs" -n 1 "$tidy" -p build/lint --quiet 2>build/lint/clang-tidy.stderr \
    >build/lint/clang-tidy.out; then
  status=1
fi
if grep -qE ': (warning|error):' build/lint/clang-tidy.out; then
  cat build/lint/clang-tidy.out
  status=1
elif [ "$status" != 0 ]; then
  cat build/lint/clang-tidy.out build/lint/clang-tidy.stderr
fi
findings=$(grep -cE ': (warning|error):' build/lint/clang-tidy.out || true)
echo "lint: clang-tidy: $findings findings ($(($(date +%s) - start)) s)"

# cppcheck: the compile commands give include paths and defines; the -D below are what a
# compiler predefines and cppcheck does not (it would otherwise try other platforms' branches).
# _Noreturn: cppcheck 2.10 ignores the C11 keyword, so a check after a call to a trap function
# would look like a possible NULL dereference; spelled as the GNU attribute it understands.
start=$(date +%s)
mkdir -p build/lint/cppcheck
if ! "$cppcheck" --project=build/lint/compile_commands.json --cppcheck-build-dir=build/lint/cppcheck \
    --platform=unix64 --std=c11 --library=posix,gnu -D__unix__ -D__linux__ -D__x86_64__ \
    '-D_Noreturn=__attribute__((noreturn))' \
    --enable=warning,style,performance,portability --inline-suppr --error-exitcode=1 \
    -j "$jobs" --quiet --template='{file}:{line}:{column}: {severity}: {message} [{id}]'; then
  status=1
fi
echo "lint: cppcheck: done ($(($(date +%s) - start)) s)"

if [ "$status" != 0 ]; then
  echo "lint: FAILED (fix the finding; a suppression needs a reason next to it)" >&2
  exit 1
fi
echo "lint: clang-tidy and cppcheck clean on libs/"
