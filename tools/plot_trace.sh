#!/usr/bin/env bash
# plot_trace.sh — draw a collector trace as an SVG: heap at cycle start, at mark end, live heap
# and heap goal over time (top), both stop-the-world pauses of every cycle (middle), and, for the
# Beskid runtime's traces, each mark's wall time, its mark workers' CPU time and the time
# mutators spent assisting, with the number of workers it ran (bottom).
#   tools/plot_trace.sh TRACE OUTPUT.svg [TITLE]
# TRACE holds lines in the runtime's BESKID_GCTRACE=1 format, which shares its fields with Go's
# GODEBUG=gctrace=1 lines (those plot too):
#   gc N @T.TTTs[ P%]: STW1+MARK+STW2 ms clock, ... A->B->C MB, G MB goal, ...
set -euo pipefail
trace=$1 out=$2 title=${3:-collector trace}
command -v gnuplot >/dev/null || { echo "plot_trace: gnuplot missing (tools/setup.sh --bench)" >&2; exit 1; }
data=$(mktemp)
work=$(mktemp)
trap 'rm -f "$data" "$work"' EXIT
# t_s  stw1_us  stw2_us  heap_start_mb  heap_marked_mb  live_mb  goal_mb
sed -nE 's/^gc [0-9]+ @([0-9.]+)s[^:]*: ([0-9.]+)\+([0-9.]+)\+([0-9.]+) ms clock.* ([0-9.]+)->([0-9.]+)->([0-9.]+) MB, ([0-9.]+) MB goal.*/\1 \2 \4 \5 \6 \7 \8/p' "$trace" |
  awk '{ printf "%s %.1f %.1f %s %s %s %s\n", $1, $2 * 1000, $3 * 1000, $4, $5, $6, $7 }' > "$data"
if [ ! -s "$data" ]; then
  echo "plot_trace: no cycle lines in $trace" >&2
  exit 1
fi
# t_s  mark_ms  workers  worker_cpu_ms  assist_ms (Beskid lines only; Go's have no such fields)
sed -nE 's/^gc [0-9]+ @([0-9.]+)s[^:]*: [0-9.]+\+([0-9.]+)\+[0-9.]+ ms clock.*, ([0-9]+) workers ([0-9.]+) ms cpu, ([0-9.]+) ms assist.*/\1 \2 \3 \4 \5/p' \
  "$trace" > "$work"
panels=2 most_workers=1
if [ -s "$work" ]; then
  panels=3
  most_workers=$(awk '$3 > m { m = $3 } END { print m + 1 }' "$work")
fi
gnuplot <<GP
set terminal svg size 1000,$((panels * 350)) dynamic background rgb 'white' font 'sans,11'
set output '$out'
set multiplot layout $panels,1 title '$title'
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
if ($panels == 3) {
  unset logscale y
  set ylabel 'ms per cycle'
  set y2label 'mark workers'
  set y2tics 1
  set y2range [0:$most_workers]
  plot '$work' using 1:2 with impulses lw 2 title 'mark (wall)', \
       '' using 1:4 with points pt 7 ps 0.5 title 'workers (CPU)', \
       '' using 1:5 with points pt 5 ps 0.5 title 'assists (mutators)', \
       '' using 1:3 axes x1y2 with steps lw 1 dt 2 title 'workers'
}
unset multiplot
GP
echo "plot_trace: $out ($(wc -l < "$data") cycles)"
