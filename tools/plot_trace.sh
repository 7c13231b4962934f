#!/usr/bin/env bash
# plot_trace.sh — draw a collector trace as an SVG: heap at cycle start, at mark end, live heap
# and heap goal over time (top), and both stop-the-world pauses of every cycle (bottom).
#   tools/plot_trace.sh TRACE OUTPUT.svg [TITLE]
# TRACE holds lines in the runtime's BESKID_GCTRACE=1 format, which shares its fields with Go's
# GODEBUG=gctrace=1 lines (those plot too):
#   gc N @T.TTTs[ P%]: STW1+MARK+STW2 ms clock, ... A->B->C MB, G MB goal, ...
set -euo pipefail
trace=$1 out=$2 title=${3:-collector trace}
command -v gnuplot >/dev/null || { echo "plot_trace: gnuplot missing (tools/setup.sh --bench)" >&2; exit 1; }
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# t_s  stw1_us  stw2_us  heap_start_mb  heap_marked_mb  live_mb  goal_mb
sed -nE 's/^gc [0-9]+ @([0-9.]+)s[^:]*: ([0-9.]+)\+([0-9.]+)\+([0-9.]+) ms clock.* ([0-9.]+)->([0-9.]+)->([0-9.]+) MB, ([0-9.]+) MB goal.*/\1 \2 \4 \5 \6 \7 \8/p' "$trace" |
  awk '{ printf "%s %.1f %.1f %s %s %s %s\n", $1, $2 * 1000, $3 * 1000, $4, $5, $6, $7 }' > "$data"
if [ ! -s "$data" ]; then
  echo "plot_trace: no cycle lines in $trace" >&2
  exit 1
fi
gnuplot <<GP
set terminal svg size 1000,700 dynamic background rgb 'white' font 'sans,11'
set output '$out'
set multiplot layout 2,1 title '$title'
set grid
set key top left
set ylabel 'MB'
plot '$data' using 1:4 with lines lw 1.5 title 'heap at cycle start', \
     '' using 1:5 with lines lw 1.5 title 'heap at mark end', \
     '' using 1:6 with lines lw 2 title 'live (marked)', \
     '' using 1:7 with steps lw 1.5 dt 2 title 'heap goal'
set ylabel 'pause (µs)'
set xlabel 'time (s)'
set logscale y
plot '$data' using 1:(\$2 > 0 ? \$2 : 0.1) with points pt 7 ps 0.5 title 'STW 1 (mark start)', \
     '' using 1:(\$3 > 0 ? \$3 : 0.1) with points pt 5 ps 0.5 title 'STW 2 (mark termination)'
unset multiplot
GP
echo "plot_trace: $out ($(wc -l < "$data") cycles)"
