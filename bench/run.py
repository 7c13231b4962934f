#!/usr/bin/env python3
"""run.py — runs every version of every workload (called by run.sh after building).

Versions run alternately (A B C D E, A B C D E, ...) so that the noise of this shared machine
spreads over all of them, and each figure is the median of the runs (of the pause and batch
figures, a worst case is the worst of the runs: run_figures). Ratios are against the explicit
mi_free version measured in the same run.
"""
import os
import re
import statistics
import subprocess
import sys
import time

MODES = {
    "quick": {"binary_trees": ["18"], "gcbench": ["18"], "latency": ["256", "300"],
              "barrier": ["20", "5"], "two_mutator": ["1000000"], "strings": ["10000000"],
              "binary_trees_parallel_1": ["18", "1"], "binary_trees_parallel_2": ["18", "2"],
              "shrink": ["256", "16", "1500"], "latency_limit": ["256", "300"], "runs": 1},
    "full": {"binary_trees": ["21"], "gcbench": ["18"], "latency": ["1024", "2000"],
             "barrier": ["22", "20"], "two_mutator": ["4000000"], "strings": ["10000000"],
             "binary_trees_parallel_1": ["21", "1"], "binary_trees_parallel_2": ["21", "2"],
             "shrink": ["1024", "16", "6000"], "latency_limit": ["1024", "2000"], "runs": 3},
}
VERSIONS = ["mimalloc", "beskid", "glibc", "boehm", "go"]
PAUSES = re.compile(r"^pauses: n=(\d+) p50_us=([\d.]+) p99_us=([\d.]+) max_us=([\d.]+)", re.M)
BATCHES = re.compile(r"^batches: n=\d+ p50_us=([\d.]+) p99_us=([\d.]+) max_us=([\d.]+)", re.M)
LIVE = re.compile(r"^live: peak_mb=([\d.]+)", re.M)
TTSP = re.compile(r"ttsp_max_us=([\d.]+) ttsp_running_max_us=([\d.]+)")
STALL = re.compile(r"stall_mean_us=([\d.]+) stall_max_us=([\d.]+)")
RSS_SAMPLE = re.compile(r"^rss: t_s=([\d.]+) mb=([\d.]+)", re.M)
AFTER_SHRINK = re.compile(r"^after_shrink: rss_mb=([\d.]+) live_mb=([\d.]+)", re.M)


# Workloads that are one program run with different arguments (or settings).
PROGRAMS = {"binary_trees_parallel_1": "binary_trees_parallel",
            "binary_trees_parallel_2": "binary_trees_parallel",
            "latency_limit": "latency"}
# Workloads run under a soft memory limit of this many times their version's own peak live heap
# (its object sizes differ: read from one run without a limit first): BESKID_MEMORY_LIMIT for
# the Beskid version, GOMEMLIMIT for Go's; explicit free runs without one, as the wall-time
# base, and the other versions have no such setting.
LIMITED = {"latency_limit": 1.5}
LIMITED_VERSIONS = ["mimalloc", "beskid", "go"]


def command(out, workload, version, args):
    workload = PROGRAMS.get(workload, workload)
    if version == "go":
        return [os.path.join(out, "bench_go"), workload] + args
    return [os.path.join(out, f"bench_{workload}_{version}")] + args


def run_once(cmd, env):
    timed = ["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd
    p = subprocess.run(timed, capture_output=True, text=True, env=env)
    m = re.search(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        return None, p
    wall, user, sys_, rss = float(m.group(1)), float(m.group(2)), float(m.group(3)), int(m.group(4))
    return {"wall": wall, "cpu": user + sys_, "rss_mb": rss / 1024, "stdout": p.stdout,
            "stderr": p.stderr}, p


def limit_env(out, workload, version, args):
    """The environment that sets `workload`'s memory limit for `version` (empty when it has
    none), and the limit in MiB: LIMITED's multiple of the peak live heap a run without it
    reports."""
    if workload not in LIMITED or version == "mimalloc":
        return {}, None
    res, p = run_once(command(out, workload, version, args), dict(os.environ))
    m = LIVE.search(res["stdout"]) if res else None
    if not m:
        sys.exit(f"run.py: {workload}/{version}: no live heap to set its limit from\n{p.stderr[-2000:]}")
    mib = int(float(m.group(1)) * LIMITED[workload])
    return {"BESKID_MEMORY_LIMIT": f"{mib}M", "GOMEMLIMIT": f"{mib}MiB"}, mib


def run_figures(runs):
    """The pause, time-to-safepoint, stall and batch columns over every run of a version: a
    worst case (max) is the worst of the runs, a typical figure (p50, p99, mean) the median of
    the runs' own, and a batch p99 also lists each run's, as it moves with the memory a run
    finds fresh. One run alone could hide both."""
    def each(pattern):
        found = [pattern.search(r["stdout"]) for r in runs]
        return [[float(x) for x in m.groups()] for m in found if m]

    def med(rows, i):
        return statistics.median(r[i] for r in rows)

    def worst(rows, i):
        return max(r[i] for r in rows)

    pauses, batch = "—", "—"
    pm, tm, sm, bm = each(PAUSES), each(TTSP), each(STALL), each(BATCHES)
    if pm:
        pauses = f"{med(pm, 1):.1f} / {med(pm, 2):.1f} / {worst(pm, 3):.1f} (n={med(pm, 0):.0f})"
    if tm:
        pauses += f"; TTSP max {worst(tm, 0):.1f} (running {worst(tm, 1):.1f})"
    if sm:
        pauses += f"; stall mean/max {med(sm, 0):.1f} / {worst(sm, 1):.1f}"
    if bm:
        batch = f"{med(bm, 1):.1f} / {worst(bm, 2):.1f}"
        if len(bm) > 1:
            batch += " (p99s " + ", ".join(f"{r[1]:.0f}" for r in bm) + ")"
    return pauses, batch


def shrink_report(texts, results_dir, mode):
    """The shrink workload's resident memory after the drop (vs the new live heap) and a plot of
    resident memory over time for every version (bench/out/shrink-<mode>.svg). The last sample
    alone swings with a collector's cycle (by 10 MB in the Beskid version at full size), so the
    table also gives the median of the last sixth of the samples, the steady state."""
    out = ["| version | RSS after shrink MB | steady RSS MB (median, last sixth) | new live MB | "
           "RSS / new live | steady / new live |", "|---|---|---|---|---|---|"]
    series = {}
    for v, text in texts.items():
        series[v] = [(float(a), float(b)) for a, b in RSS_SAMPLE.findall(text)]
        m = AFTER_SHRINK.search(text)
        if m:
            rss, live = float(m.group(1)), float(m.group(2))
            tail = [b for _, b in series[v][-max(1, len(series[v]) // 6):]] or [rss]
            steady = statistics.median(tail)
            out.append(f"| {v} | {rss:.0f} | {steady:.0f} | {live:.1f} | {rss / live:.2f} | "
                       f"{steady / live:.2f} |")
    out.append("")
    svg = os.path.join(results_dir, f"shrink-{mode}.svg")
    with open(svg, "w") as f:
        f.write(rss_svg(series, f"shrink ({mode}): resident memory over time"))
    out.append(f"RSS over time: `{os.path.relpath(svg, os.path.dirname(results_dir))}`")
    out.append("")
    return out


def rss_svg(series, title):
    """A dependency-free SVG line chart of (t_s, mb) series."""
    w, h, pad = 720, 360, 50
    pts = [p for s in series.values() for p in s]
    tmax = max([p[0] for p in pts] + [1.0])
    mmax = max([p[1] for p in pts] + [1.0])
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="30" x2="{pad}" y2="{h - pad}" stroke="black"/>',
             f'<text x="{w / 2}" y="{h - 10}" text-anchor="middle" font-size="12">time (s), 0..{tmax:.1f}</text>',
             f'<text x="12" y="{h / 2}" font-size="12" transform="rotate(-90 12 {h / 2})">RSS (MB), 0..{mmax:.0f}</text>']
    for i, (v, s) in enumerate(sorted(series.items())):
        if not s:
            continue
        c = colors[i % len(colors)]
        xy = " ".join(f"{pad + (w - pad - 10) * t / tmax:.1f},{h - pad - (h - pad - 30) * m / mmax:.1f}" for t, m in s)
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{xy}"/>')
        parts.append(f'<text x="{w - 120}" y="{40 + 16 * i}" fill="{c}" font-size="12">{v}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    out = sys.argv[1]
    args = sys.argv[2:]
    mode = "quick"
    only = None
    runs = None
    while args:
        a = args.pop(0)
        if a in MODES:
            mode = a
        elif a == "--only":
            only = args.pop(0)
        elif a == "--runs":
            runs = int(args.pop(0))
        else:
            sys.exit(f"run.py: unknown argument {a}")
    cfg = MODES[mode]
    runs = runs or cfg["runs"]
    workloads = [w for w in ["binary_trees", "gcbench", "latency", "barrier", "two_mutator", "strings",
                          "binary_trees_parallel_1", "binary_trees_parallel_2", "shrink",
                          "latency_limit"]
                 if only in (None, w)]
    results_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
    os.makedirs(results_dir, exist_ok=True)
    lines = [f"# Benchmarks ({mode} mode, {runs} run(s) each, medians)", "",
             f"Machine: {os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}; "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", ""]
    failed = False
    for w in workloads:
        wargs = cfg[w]
        present = [v for v in VERSIONS if os.path.exists(command(out, w, v, wargs)[0])
                   and (w not in LIMITED or v in LIMITED_VERSIONS)]
        limits = {v: limit_env(out, w, v, wargs) for v in present}
        samples = {v: [] for v in present}
        texts = {}
        for r in range(runs):
            for v in present:
                env = dict(os.environ, **limits[v][0])
                if v == "beskid" and r == 0:
                    env["BESKID_GCTRACE"] = "1"
                res, p = run_once(command(out, w, v, wargs), env)
                if res is None:
                    samples[v] = None
                    print(f"{w}/{v}: FAILED (exit {p.returncode})\n{p.stderr[-2000:]}", file=sys.stderr)
                    failed = True
                    continue
                if samples[v] is not None:
                    samples[v].append(res)
                if r == 0:
                    texts[v] = res["stdout"]
                    if v == "beskid":
                        with open(os.path.join(results_dir, f"trace-{w}-{mode}.txt"), "w") as f:
                            f.write("\n".join(l for l in res["stderr"].splitlines() if l.startswith("gc ")) + "\n")
        base = samples.get("mimalloc")
        bw = statistics.median(s["wall"] for s in base) if base else None
        br = statistics.median(s["rss_mb"] for s in base) if base else None
        title = f"## {w} {' '.join(wargs)}"
        if w in LIMITED:
            title += (f" (memory limit {LIMITED[w]}× each version's peak live heap: peak RSS / limit "
                      "in the RSS / mimalloc column)")
        lines += [title, "",
                  "| version | wall s | cpu s | peak RSS MB | wall / mimalloc | RSS / mimalloc | RSS / peak live | pauses p50/p99/max µs (median p50, p99; worst max) | mutator batch p99/max µs (median p99; worst max) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for v in present:
            s = samples[v]
            if not s:
                lines.append(f"| {v} | FAILED | | | | | | | |")
                continue
            wall = statistics.median(x["wall"] for x in s)
            cpu = statistics.median(x["cpu"] for x in s)
            rss = statistics.median(x["rss_mb"] for x in s)
            pauses, batch = run_figures(s)
            lm = LIVE.search(texts.get(v, ""))
            rl = f"{rss / float(lm.group(1)):.2f} ({lm.group(1)} MB)" if lm else "—"
            rw = f"{wall / bw:.2f}" if bw else "n/a"
            rr = f"{rss / br:.2f}" if br else "n/a"
            if w in LIMITED:
                limit_mib = limits[v][1]
                rr = f"{rss / limit_mib:.2f} of {limit_mib} MiB" if limit_mib else "no limit"
            lines.append(f"| {v} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {rw} | {rr} | {rl} | {pauses} | {batch} |")
        lines.append("")
        print("\n".join(lines[-(len(present) + 4):]), flush=True)
        if w == "shrink":
            lines += shrink_report(texts, results_dir, mode)
            print("\n".join(lines[-(len(present) + 4):]), flush=True)
    path = os.path.join(results_dir, f"results-{mode}.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"run.py: table written to {path}")
    for w in ("binary_trees", "latency", "binary_trees_parallel_2"):
        trace = os.path.join(results_dir, f"trace-{w}-{mode}.txt")
        if os.path.exists(trace):
            subprocess.run(["bash", os.path.join(os.path.dirname(__file__), "..", "tools", "plot_trace.sh"),
                            trace, os.path.join(results_dir, f"{w}-{mode}.svg"), f"{w} ({mode})"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
