#!/usr/bin/env bash
# run_consumer.sh — install the build tree into a scratch prefix, then build and run a consumer
# against it twice: with find_package(Beskid) and with pkg-config.
#   run_consumer.sh BUILD_DIR SOURCE_DIR CC
set -euo pipefail
build=$1 src=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/beskid/runtime_abi.h include/beskid/platform.h lib/libbeskid_runtime.a \
         lib/cmake/Beskid/BeskidConfig.cmake lib/pkgconfig/beskid.pc; do
  [ -f "$tmp/prefix/$f" ] || { echo "install lacks $f" >&2; exit 1; }
done

# CMake package.
cmake -S "$src/tests/install/consumer" -B "$tmp/cmake-build" -G Ninja \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_C_FLAGS="$(echo "${BESKID_SANITIZE_FLAGS:-}")" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
"$tmp/cmake-build/consumer_runtime" | grep -qx "consumer ok"
"$tmp/cmake-build/consumer_libs" | grep -qx "consumer ok"

# pkg-config.
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
"$cc" ${BESKID_SANITIZE_FLAGS:-} -o "$tmp/consumer_pc" "$src/tests/install/consumer.c" \
  $(pkg-config --cflags --libs beskid)
"$tmp/consumer_pc" | grep -qx "consumer ok"
echo "install consumer: find_package(Beskid) and pkg-config both build and run"
