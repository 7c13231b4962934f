#!/usr/bin/env bash
# link_alone.sh — compile a C program against libbeskid_runtime.a alone and run it.
#   link_alone.sh CC BUNDLE SOURCE_DIR INCLUDE_DIR... 
set -euo pipefail
cc=$1 bundle=$2 src=$3
shift 3
incs=()
for d in "$@"; do incs+=(-I "$d"); done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
"$cc" ${BESKID_SANITIZE_FLAGS:-} "${incs[@]}" -o "$tmp/prog" "$src/tests/bundle/bundle_alone.c" \
  "$bundle" -lpthread -lm
"$tmp/prog" | grep -qx "bundle alone ok"
echo "bundle: a program linked against libbeskid_runtime.a alone runs"
