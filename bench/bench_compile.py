#!/usr/bin/env python3
"""Compile-time benchmark: cold and warm wall time of the whole compiler pass for each zoo network
on each shipped target (default strategy unless --search).

* cold: an empty schedule cache; ``compile_model`` + ``write`` in this process (every unique
  layer is searched, ``--jobs`` worker processes);
* warm: the same compile again, served from the cache (``compile_model`` + ``write``);
* warm CLI: the same again as a fresh ``python -m rlsched_compile`` process (interpreter start and
  imports included), i.e. what a user or a CI job waits for; wall time and the process's CPU
  time (user + system; the wall time on an idle core).

Prints a Markdown table and writes ``bench/results/compile.json``.

Usage:
    python bench/bench_compile.py                       # every zoo model x every shipped target
    python bench/bench_compile.py --models resnet50 --targets eyeriss --jobs 2
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

from rlsched_compile import __version__, compile_model  # noqa: E402
from rlsched_compile.api import available_strategies  # noqa: E402
from rlsched_compile.frontend import zoo  # noqa: E402
from rlsched_compile.targets import list_targets  # noqa: E402


def bench_one(model: Path, target: str, *, search: str | None, jobs: int | None, work: Path) -> dict:
    cache = work / f"cache_{model.stem}_{target}"
    row: dict = {"model": model.stem, "target": target}
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = compile_model(str(model), target, search=search, jobs=jobs, cache_dir=cache)
    res.write(work / "cold")
    row["cold_s"] = time.perf_counter() - t0
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the cold compile: this process plus its (finished) worker processes
    row["cold_cpu_s"] = (time.process_time() - cpu0) + (rc1.ru_utime - rc0.ru_utime) + (rc1.ru_stime - rc0.ru_stime)
    t0 = time.perf_counter()
    warm = compile_model(str(model), target, search=search, jobs=jobs, cache_dir=cache)
    warm.write(work / "warm")
    row["warm_s"] = time.perf_counter() - t0
    assert warm.timing["cache"]["misses"] == 0, "warm compile missed the cache"
    env = {**os.environ, "RLSCHED_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "rlsched_compile", str(model), "--target", target, "--out", str(work / "cli"), "-q"]
    if search:
        cmd += ["--search", search]
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    row["warm_cli_s"] = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time of the CLI process: what its wall time would be on an idle core
    row["warm_cli_cpu_s"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"CLI failed: {proc.stderr}")
    row.update(layers=res.totals.layers, unique_layers=res.totals.unique_layers, strategy=res.settings.strategy,
               failed_layers=len(res.failures), energy_pj=res.totals.energy_pj, cycles=res.totals.cycles,
               search_wall_s=res.timing["search_wall_time_s"], load_s=res.timing["load_time_s"],
               workers=res.timing["jobs"])
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(zoo.BUILDERS), help="zoo model names")
    parser.add_argument("--targets", nargs="*", default=None, help="shipped target names (default: all)")
    parser.add_argument("--search", default=None, help="strategy (default: the compiler's default)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--out", default=str(HERE / "results" / "compile.json"))
    parser.add_argument("--recorded", default=str(HERE / "results" / "compile.json"),
                        help="earlier results to compare with (read before --out is written)")
    args = parser.parse_args(argv)
    recorded: dict[tuple[str, str], dict] = {}
    if Path(args.recorded).is_file():
        for r in json.loads(Path(args.recorded).read_text()).get("rows", []):
            recorded[(r["model"], r["target"])] = r
    targets = args.targets or [t.name for t in list_targets()]
    # Resolve the default once: every compile of the run (and the CLI processes) uses the same one.
    _, default = available_strategies()
    strategy = args.search or default
    rows: list[dict] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        # after every row, so an interrupted run keeps what it measured
        out.write_text(json.dumps({"tool_version": __version__, "strategy": strategy, "jobs": args.jobs,
                                   "cpu_count": os.cpu_count(), "python": platform.python_version(),
                                   "rows": rows}, indent=1) + "\n")

    with tempfile.TemporaryDirectory(prefix="bench_compile_") as tmp:
        # target-major: the slow searches (large arrays) come last
        for target in targets:
            for name in args.models:
                row = bench_one(zoo.zoo_path(name), target, search=strategy, jobs=args.jobs, work=Path(tmp))
                rows.append(row)
                save()
                print(f"{name} on {target}: cold {row['cold_s']:.2f} s, warm {row['warm_s']:.3f} s, "
                      f"warm CLI {row['warm_cli_s']:.2f} s ({row['warm_cli_cpu_s']:.2f} s CPU)", file=sys.stderr)
    lines = [f"rlsched_compile {__version__}, strategy {strategy}, jobs {args.jobs or os.cpu_count()}"
             f" on {os.cpu_count()} cores ({platform.processor() or platform.machine()}, Python {platform.python_version()})",
             "",
             "| model | target | layers | unique | cold s | cold CPU s | recorded cold s | warm s (in-process) "
             "| warm CLI s (wall / CPU) | energy pJ | energy / recorded | cycles |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        old = recorded.get((r["model"], r["target"]))
        old_cold = f"{old['cold_s']:.2f}" if old else "-"
        ratio = f"{r['energy_pj'] / old['energy_pj']:.6f}" if old and old.get("energy_pj") else "-"
        lines.append(f"| {r['model']} | {r['target']} | {r['layers']} | {r['unique_layers']} | {r['cold_s']:.2f} | "
                     f"{r['cold_cpu_s']:.2f} | {old_cold} | {r['warm_s']:.3f} | "
                     f"{r['warm_cli_s']:.2f} / {r['warm_cli_cpu_s']:.2f} | "
                     f"{r['energy_pj']:.4g} | {ratio} | {r['cycles']:.4g} |")
    by_target = {(r["model"], r["target"]): r for r in rows}
    for name in args.models:
        big, small = by_target.get((name, "tpu_v3")), by_target.get((name, "eyeriss"))
        if big and small:
            lines.append(f"\n{name}: cold CPU tpu_v3 / eyeriss = {big['cold_cpu_s']:.2f} / {small['cold_cpu_s']:.2f}"
                         f" = {big['cold_cpu_s'] / small['cold_cpu_s']:.2f}x (bar: <= 3x)")
    print("\n".join(lines))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
