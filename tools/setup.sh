#!/usr/bin/env bash
# tools/setup.sh — install what building and testing the Beskid runtime needs on Debian 12,
# and fetch the source of Debian's mimalloc 2.0.9 into third_party/mimalloc (ignored by git).
#
# Idempotent: a second run on a ready machine makes no network request and takes well under a
# second. Run as root (CI and fresh machines) or with sudo available.
#   tools/setup.sh            build + test dependencies
#   tools/setup.sh --bench    also the peers the benchmarks compare against (Boehm GC, Go, gnuplot)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
want_bench=0
[ "${1:-}" = "--bench" ] && want_bench=1

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pkgs=(cmake ninja-build gcc clang make pkgconf check libsubunit-dev doxygen
      clang-format clang-tidy cppcheck binutils dpkg-dev python3 file libclang-rt-14-dev)
if [ "$want_bench" = 1 ]; then pkgs+=(libgc-dev golang-go gnuplot-nox time); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

apt_updated=0
apt_update() {
  if [ "$apt_updated" = 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
}

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# mimalloc: Debian ships only a shared library that overrides malloc process-wide, so the
# runtime builds Debian's 2.0.9 source itself as a static, non-overriding library.
mi_dir="$here/third_party/mimalloc"
if [ ! -f "$mi_dir/include/mimalloc.h" ]; then
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ &&
     ! grep -rqs '^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup: enabling Debian source indexes"
    $SUDO tee /etc/apt/sources.list.d/beskid-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0
  fi
  apt_update
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get source -qq --download-only mimalloc >/dev/null 2>&1 || apt-get source --download-only mimalloc)
  dsc=$(ls "$tmp"/mimalloc_*.dsc | head -n 1)
  (cd "$tmp" && dpkg-source -x --no-check "$(basename "$dsc")" src >/dev/null)
  rm -rf "$mi_dir"
  mkdir -p "$(dirname "$mi_dir")"
  mv "$tmp/src" "$mi_dir"
  rm -rf "$tmp"
  echo "setup: mimalloc source in $mi_dir ($(grep -m1 'mi_version' "$mi_dir/include/mimalloc.h" || true))"
fi
