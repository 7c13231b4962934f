#!/usr/bin/env bash
# main_job.sh — the main job: install what is missing, build the release runtime, bundle
# libbeskid_runtime.a, and run the example programs linked against that archive alone.
# Idempotent; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
bundle=build/release/libbeskid_runtime.a
echo "main job: $bundle ($(du -h "$bundle" | cut -f1))"
for ex in build/release/examples/beskid_example_*; do
  [ -x "$ex" ] || continue
  echo "== $(basename "$ex")"
  case "$(basename "$ex")" in
    # counts the words of a sample text; writes the full table atomically next to the program
    beskid_example_word_freq) "$ex" examples/data/word_freq_input.txt "$ex.counts" ;;
    *) "$ex" ;;
  esac
done
