#!/usr/bin/env bash
# run.sh — build and run the benchmarks, print one table per workload.
#   bench/run.sh [quick|full] [--only WORKLOAD] [--runs N]
# quick (default) finishes in about two minutes; full uses the real sizes (binary-trees 21,
# a 1 GiB live heap). Tables go to stdout and bench/out/results-<mode>.md; the Beskid runtime's
# per-cycle traces and their plots to bench/out/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
out="$root/build/release/bench"
mkdir -p "$out/gocache" "$out/gopath"
(cd bench/go && GOCACHE="$out/gocache" GOPATH="$out/gopath" GOFLAGS=-mod=mod GOPROXY=off \
  go build -o "$out/bench_go" .)
exec python3 bench/run.py "$out" "$@"
