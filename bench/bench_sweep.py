#!/usr/bin/env python3
"""Sweep throughput: points per minute of ``rlsched-compile sweep`` on the local process pool
and on Ray tasks (a local Ray instance on the same machine), i.e. Ray's overhead.

The sweep: 2 zoo models x 3 target variants (eyeriss with a 50, 100 or 200 KiB global buffer)
x 2 objectives (energy, cycles) = 12 points, each run from an empty schedule cache as a fresh
``python -m rlsched_compile sweep`` process with ``--jobs`` workers (default 2). For each
executor the script records:

* wall time of the whole command (interpreter start, model loading, Ray start/stop included) and
  the points per minute it gives; the solve phase alone from the sweep's ``timings.json``;
* CPU seconds (user + system) of the whole process tree of the command (pool workers; Ray's
  GCS, raylet and workers), sampled from ``/proc`` every 0.2 s, and the points per minute two
  fully busy cores would give at that CPU cost (the figure that does not depend on other load);
  the CPU seconds spent inside the layer tasks themselves (``task_cpu_s`` of ``timings.json``),
  so the rest is the executor's overhead (process start, imports, Ray's services, transfers);
* the machine's load average before and after (the machine may be shared).

The two executors must give byte-identical ``results.csv`` (checked). Writes
``bench/results/sweep.json`` and prints a Markdown table.

Usage:
    nice -n 10 python bench/bench_sweep.py
    python bench/bench_sweep.py --models mobilenet_v3_small --jobs 2 --executors local
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from rlsched_compile import __version__  # noqa: E402

SWEEP = """\
version: 1
name: bench-sweep
models: [{models}]
targets: [eyeriss]
objectives: [energy, cycles]
parameters:
  gb_bytes: {{level: global_buffer, field: capacity_bytes.shared, values: [51200, 102400, 204800]}}
"""


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds user + system) of a live process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


class TreeCpu(threading.Thread):
    """Samples the CPU seconds of a process and all its descendants until stopped; a process
    that exits between two samples loses at most its last 0.2 s."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.cpu: dict[int, float] = {}
        self.done = threading.Event()

    def sample(self) -> None:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                st = _stat(int(entry))
                if st is not None:
                    stats[int(entry)] = st
        tree = {self.root}
        changed = True
        while changed:
            changed = False
            for pid, (ppid, _) in stats.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    changed = True
        for pid in tree:
            if pid in stats:
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), stats[pid][1])

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.sample()

    def total(self) -> float:
        return sum(self.cpu.values())


def run_one(executor: str, sweep: Path, work: Path, jobs: int) -> dict:
    out, cache = work / f"out_{executor}", work / f"cache_{executor}"
    env = {**os.environ, "RLSCHED_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    cmd = [sys.executable, "-m", "rlsched_compile", "sweep", str(sweep), "--out", str(out), "--executor", executor,
           "--jobs", str(jobs), "-q"]
    load0 = os.getloadavg()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    sampler = TreeCpu(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{executor} sweep failed ({proc.returncode}): {stderr}")
    waited_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    cpu = max(sampler.total(), waited_cpu)
    timings = json.loads((out / "timings.json").read_text())
    points = timings["results"]["total"]
    return {
        "executor": executor, "jobs": jobs, "points": points, "ok": timings["results"]["ok"],
        "layer_tasks": timings["layer_tasks"], "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
        "cpu_waited_children_s": round(waited_cpu, 3), "task_cpu_s": round(timings["task_cpu_s"], 3),
        "overhead_cpu_s": round(cpu - timings["task_cpu_s"], 3),
        "solve_wall_s": timings["solve_wall_time_s"], "ray_start_s": timings.get("ray_start_time_s"),
        "points_per_min_wall": round(points / wall * 60, 2),
        "points_per_min_solve": round(points / timings["solve_wall_time_s"] * 60, 2),
        "points_per_min_cpu_bound": round(points / (cpu / jobs) * 60, 2),
        "loadavg_before": round(load0[0], 2), "loadavg_after": round(os.getloadavg()[0], 2),
        "results_csv": (out / "results.csv").read_bytes().decode(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["resnet50", "mobilenet_v3_small"], help="zoo model names")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes / Ray CPUs (default 2)")
    parser.add_argument("--executors", nargs="*", default=["local", "ray"])
    parser.add_argument("--out", default=str(HERE / "results" / "sweep.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        work = Path(tmp)
        sweep = work / "sweep.yaml"
        sweep.write_text(SWEEP.format(models=", ".join(args.models)))
        rows = [run_one(ex, sweep, work, args.jobs) for ex in args.executors]
    csvs = {r.pop("results_csv") for r in rows}
    identical = len(csvs) == 1
    doc = {"tool_version": __version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
           "models": args.models, "variants": "eyeriss global_buffer.capacity_bytes.shared in 51200, 102400, 204800",
           "objectives": ["energy", "cycles"], "identical_results_csv": identical, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print("| executor | points | wall s | points/min (wall) | solve s | points/min (solve) | CPU s | task CPU s | "
          "overhead CPU s | points/min (2 busy cores) | Ray start s | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['executor']} | {r['points']} | {r['wall_s']:.1f} | {r['points_per_min_wall']:.2f} | "
              f"{r['solve_wall_s']:.1f} | {r['points_per_min_solve']:.2f} | {r['cpu_s']:.1f} | "
              f"{r['task_cpu_s']:.1f} | {r['overhead_cpu_s']:.1f} | "
              f"{r['points_per_min_cpu_bound']:.2f} | {r['ray_start_s'] if r['ray_start_s'] is not None else '-'} | "
              f"{r['loadavg_before']:.1f} -> {r['loadavg_after']:.1f} |")
    print(f"identical results.csv: {identical}; wrote {args.out}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
