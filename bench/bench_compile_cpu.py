#!/usr/bin/env python3
"""Cold compile CPU time of zoo models on shipped targets: one fresh ``rlsched-compile`` process
per (model, target) with an empty schedule cache, the CPU seconds (user + system) of that
process and its worker processes, and its wall time.

Goal (issue 13): BERT-base and ViT-B/16 on eyeriss <= 15 s CPU on 2 cores.

Prints a Markdown table and writes ``bench/results/compile_cpu.json`` (rows saved as they come,
so an interrupted run keeps what it measured). Run it niced on a shared machine:

    nice -n 10 python bench/bench_compile_cpu.py                      # the six newer zoo models
    nice -n 10 python bench/bench_compile_cpu.py --targets eyeriss --models vit_b16 bert_base
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from rlsched_compile import __version__  # noqa: E402
from rlsched_compile.frontend import zoo  # noqa: E402

#: Targets in the order measured (tpu_v3's large arrays search longest: last).
TARGETS = ("eyeriss", "simba", "eyeriss_v2", "tpu_v3")
NEW_MODELS = tuple(n for n in zoo.BUILDERS if n not in zoo.PAPER_MODELS)


def cold_compile(model: Path, target: str, *, jobs: int, work: Path, objective: str = "energy") -> dict:
    """One cold CLI compile; its CPU seconds (descendants included) and wall seconds."""
    cache = Path(tempfile.mkdtemp(prefix="cache_", dir=work))
    env = {**os.environ, "RLSCHED_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "rlsched_compile", str(model), "--target", target, "--jobs", str(jobs),
           "--out", str(work / f"out_{model.stem}_{target}_{objective}"), "--objective", objective,
           "--format", "json", "-q"]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    row: dict = {"model": model.stem, "target": target, "objective": objective, "exit": proc.returncode, "cpu_s": round(cpu, 3),
                 "wall_s": round(wall, 3)}
    if proc.returncode in (0, 1):
        report = json.loads(proc.stdout)
        row.update(layers=report["totals"]["layers"], unique_layers=report["totals"]["unique_layers"],
                   model_macs=report["coverage"]["model_macs"], coverage=report["coverage"]["share"],
                   energy_pj=report["totals"]["energy_pj"], cycles=report["totals"]["cycles"])
    else:
        row["error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "?"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(NEW_MODELS), help="zoo model names")
    parser.add_argument("--targets", nargs="*", default=list(TARGETS), help="shipped target names")
    parser.add_argument("--objective", choices=("energy", "cycles"), default="energy")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes per compile (default 2)")
    parser.add_argument("--out", default=str(HERE / "results" / "compile_cpu.json"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    if out.is_file():  # keep rows of other (model, target) pairs measured earlier
        old = json.loads(out.read_text())
        rows = [r for r in old.get("rows", []) if (r["model"], r["target"], r.get("objective", "energy")) not in
                {(m, t, args.objective) for m in args.models for t in args.targets}]

    def save() -> None:
        out.write_text(json.dumps({"tool_version": __version__, "jobs": args.jobs, "cpu_count": os.cpu_count(),
                                   "python": platform.python_version(), "rows": rows}, indent=1) + "\n")

    with tempfile.TemporaryDirectory(prefix="bench_compile_cpu_") as tmp:
        for target in args.targets:
            for name in args.models:
                row = cold_compile(zoo.zoo_path(name), target, jobs=args.jobs, work=Path(tmp),
                                   objective=args.objective)
                rows.append(row)
                save()
                print(f"{name} on {target} ({args.objective}): exit {row['exit']}, {row['cpu_s']:.2f} s CPU, {row['wall_s']:.2f} s wall",
                      file=sys.stderr, flush=True)
    order = {t: i for i, t in enumerate(TARGETS)}
    rows.sort(key=lambda r: (order.get(r["target"], 99), list(zoo.BUILDERS).index(r["model"]),
                             r.get("objective", "energy")))
    save()
    lines = [f"rlsched_compile {__version__}, cold compile (empty cache), --jobs {args.jobs}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}", "",
             "| model | target | objective | exit | layers | unique | MACs | scheduled | CPU s | wall s |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['target']} | {r.get('objective', 'energy')} | {r['exit']} | {r.get('layers', '-')} | "
                     f"{r.get('unique_layers', '-')} | {r.get('model_macs', 0) / 1e9:.2f} G | "
                     f"{100 * r.get('coverage', 0):.1f}% | {r['cpu_s']:.2f} | {r['wall_s']:.2f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
