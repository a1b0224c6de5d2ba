#!/usr/bin/env python3
"""Compile-time benchmark: cold and warm ``rlsched-compile`` runs per (model, target, objective).

Each cell is measured the way a user or a CI job meets the compiler, as fresh CLI processes
(interpreter start and imports included):

* cold: a new process with an empty schedule cache; the CPU seconds (user + system) of its
  whole process tree (the compiler and its worker processes, which it joins before exiting)
  and its wall seconds. The CPU seconds are the figure issue 14's goals use: every zoo model on
  every shipped target in <= 20 CPU s on 2 cores, and cold ResNet-50 on tpu_v3 at most 3x the
  CPU time of cold ResNet-50 on eyeriss in the same run;
* warm: the same command again, served from the cache the cold run filled (checked: no cache
  miss, the same network energy); wall and CPU seconds.

Each row also records layers / unique layers, network energy and cycles, and compares them with
the rows of earlier results files (``--recorded``; rows without an objective are energy rows,
as both earlier compile benchmarks ran the default objective). Prints a Markdown table and the
goal checks; writes the JSON results file after every row, so an interrupted run keeps what it
measured. Run it niced on a shared machine:

    nice -n 10 python bench/bench_compile.py                   # every zoo model x every target
    nice -n 10 python bench/bench_compile.py --models resnet50 --targets eyeriss tpu_v3 \\
        --objectives energy cycles --jobs 2 --out /tmp/compile.json

Earlier records in ``bench/results/``: ``compile.json`` and ``compile_search_scale.json``
(cold compile in this process, warm in process and CLI) and ``compile_cpu*.json`` (cold CLI
process, its ``cpu_s``/``wall_s``), kept as they were measured.
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
from rlsched_compile.api import available_strategies  # noqa: E402
from rlsched_compile.objective import DEFAULT_OBJECTIVE, OBJECTIVE_NAMES  # noqa: E402
from rlsched_compile.frontend import zoo  # noqa: E402
from rlsched_compile.targets import list_targets  # noqa: E402

#: Goal (issue 14): the cold compile CPU seconds of every cell.
MAX_COLD_CPU_S = 20.0
#: Goal (issue 14): cold CPU of ResNet-50 on tpu_v3 over that on eyeriss, in the same run.
MAX_TPU_V3_OVER_EYERISS = 3.0
RESULTS = HERE / "results" / "compile.json"

Key = tuple[str, str, str]


def run_cli(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Runs one CLI process; returns it, its wall seconds and the CPU seconds of its process tree."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall_s = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return proc, wall_s, cpu_s


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else "?"


def measure_cell(model: str, target: str, objective: str, *, search: str, jobs: int | None, work: Path) -> dict:
    """A cold then a warm CLI compile of one cell, each with a fresh process.

    Args:
        model: zoo model name.
        target: shipped per-layer target name.
        objective: one of ``OBJECTIVE_NAMES``.
        search: the strategy (resolved once per run, so every cell uses the same one).
        jobs: ``--jobs`` of the compiles; None for the compiler's default.
        work: a scratch folder for the cache and the outputs.

    Returns:
        The result row; ``exit`` is the cold run's exit code, and a row whose cold run failed
        holds its ``error`` line instead of figures.
    """
    cell = f"{model}__{target}__{objective}"
    cache, out = work / f"cache_{cell}", work / f"out_{cell}"
    env = {**os.environ, "RLSCHED_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "rlsched_compile", str(zoo.zoo_path(model)), "--target", target,
           "--objective", objective, "--search", search, "--out", str(out), "--format", "json", "-q"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    row: dict = {"model": model, "target": target, "objective": objective}
    proc, row["cold_wall_s"], row["cold_cpu_s"] = run_cli(cmd, env)
    row["exit"] = proc.returncode
    if proc.returncode not in (0, 1):  # 1: a layer without a valid schedule; the report is still written
        row["error"] = _last_line(proc.stderr)
        return row
    report = json.loads(proc.stdout)
    timing = json.loads((out / "timing.json").read_text())
    totals = report["totals"]
    row.update(layers=totals["layers"], unique_layers=totals["unique_layers"], failed_layers=len(report["failures"]),
               unfinished_layers=len(report["unfinished_layers"]), model_macs=report["coverage"]["model_macs"],
               coverage=report["coverage"]["share"], energy_pj=totals["energy_pj"], cycles=totals["cycles"],
               strategy=report["settings"]["strategy"], workers=timing["jobs"], load_s=timing["load_time_s"],
               search_wall_s=timing["search_wall_time_s"])
    warm, row["warm_cli_wall_s"], row["warm_cli_cpu_s"] = run_cli(cmd, env)
    if warm.returncode != proc.returncode:
        raise RuntimeError(f"{cell}: warm run exit {warm.returncode} (cold {proc.returncode}): "
                           f"{_last_line(warm.stderr)}")
    misses = json.loads((out / "timing.json").read_text())["cache"]["misses"]
    if misses or json.loads(warm.stdout)["totals"]["energy_pj"] != row["energy_pj"]:
        raise RuntimeError(f"{cell}: the warm run was not served from the cache ({misses} misses) or changed energy")
    return row


def load_recorded(paths: list[Path]) -> dict[Key, dict]:
    """Rows of earlier results files by (model, target, objective); a later file's row wins.

    Rows without an ``objective`` are energy rows; a legacy ``cpu_s`` (``bench_compile_cpu.py``)
    is read as ``cold_cpu_s``. Missing files are skipped.
    """
    recorded: dict[Key, dict] = {}
    for path in paths:
        if not path.is_file():
            continue
        for r in json.loads(path.read_text()).get("rows", []):
            r = {**r, "objective": r.get("objective", "energy")}
            if "cold_cpu_s" not in r and "cpu_s" in r:
                r["cold_cpu_s"] = r["cpu_s"]
            recorded[(r["model"], r["target"], r["objective"])] = r
    return recorded


def _ratio(new: dict, old: dict | None, key: str) -> float | None:
    return new[key] / old[key] if old and new.get(key) is not None and old.get(key) else None


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def markdown_table(rows: list[dict], recorded: dict[Key, dict]) -> list[str]:
    """The results as Markdown table lines, each row against its recorded one."""
    lines = ["| model | target | objective | layers | unique | cold CPU s | cold wall s | recorded cold CPU s "
             "| warm CLI s (wall / CPU) | energy pJ | energy / recorded | cycles | cycles / recorded |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        old = recorded.get((r["model"], r["target"], r["objective"]))
        head = f"| {r['model']} | {r['target']} | {r['objective']} |"
        if "error" in r:
            lines.append(f"{head} - | - | {r['cold_cpu_s']:.2f} | {r['cold_wall_s']:.2f} | - | "
                         f"exit {r['exit']}: {r['error']} | - | - | - | - |")
            continue
        lines.append(f"{head} {r['layers']} | {r['unique_layers']} | {r['cold_cpu_s']:.2f} | {r['cold_wall_s']:.2f} | "
                     f"{_fmt(old and old.get('cold_cpu_s'), '.2f')} | "
                     f"{r['warm_cli_wall_s']:.2f} / {r['warm_cli_cpu_s']:.2f} | {r['energy_pj']:.6g} | "
                     f"{_fmt(_ratio(r, old, 'energy_pj'), '.6f')} | {r['cycles']:.6g} | "
                     f"{_fmt(_ratio(r, old, 'cycles'), '.6f')} |")
    return lines


def goal_lines(rows: list[dict], recorded: dict[Key, dict]) -> list[str]:
    """The goal checks of issue 14 on the measured rows, and the energy against the recorded rows."""
    lines = []
    over = [r for r in rows if "error" in r or r["cold_cpu_s"] > MAX_COLD_CPU_S]
    verdict = "met" if rows and not over else "NOT met"
    lines.append(f"Cold compile <= {MAX_COLD_CPU_S:g} CPU s per cell: {len(rows) - len(over)} of {len(rows)} cells "
                 f"({verdict})" + "".join(f"\n  over: {r['model']} on {r['target']} ({r['objective']}): "
                                           + (f"exit {r['exit']}" if "error" in r else f"{r['cold_cpu_s']:.2f} CPU s")
                                           for r in over))
    cells = {(r["model"], r["target"], r["objective"]): r for r in rows if "error" not in r}
    for objective in dict.fromkeys(r["objective"] for r in rows):
        big, small = cells.get(("resnet50", "tpu_v3", objective)), cells.get(("resnet50", "eyeriss", objective))
        if big and small:
            ratio = big["cold_cpu_s"] / small["cold_cpu_s"]
            lines.append(f"ResNet-50 ({objective}) cold CPU tpu_v3 / eyeriss = {big['cold_cpu_s']:.2f} / "
                         f"{small['cold_cpu_s']:.2f} = {ratio:.2f}x (bar <= {MAX_TPU_V3_OVER_EYERISS:g}x: "
                         f"{'met' if ratio <= MAX_TPU_V3_OVER_EYERISS else 'NOT met'})")
        else:
            lines.append(f"ResNet-50 ({objective}) tpu_v3 / eyeriss: not measured in this run "
                         "(needs resnet50 on both targets)")
    compared = [(r, _ratio(r, recorded.get(k), "energy_pj")) for k, r in cells.items()]
    compared = [(r, x) for r, x in compared if x is not None]
    worse = [(r, x) for r, x in compared if x > 1.0]
    lines.append(f"Energy vs recorded: {len(compared)} cells compared, {len(worse)} above the recorded energy"
                 + "".join(f"\n  above: {r['model']} on {r['target']} ({r['objective']}): {x:.6f}" for r, x in worse))
    return lines


def main(argv: list[str] | None = None) -> int:
    targets = [t.name for t in list_targets()]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(zoo.BUILDERS), choices=list(zoo.BUILDERS),
                        metavar="MODEL", help="zoo model names (default: all)")
    parser.add_argument("--targets", nargs="+", default=targets, choices=targets, metavar="TARGET",
                        help="shipped per-layer targets (default: all)")
    parser.add_argument("--objectives", nargs="+", default=[DEFAULT_OBJECTIVE.value], choices=OBJECTIVE_NAMES,
                        help="objectives (default: energy)")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs of each compile (default: the compiler's)")
    parser.add_argument("--search", default=None, help="strategy (default: the compiler's default)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default: {RESULTS})")
    parser.add_argument("--recorded", nargs="+", type=Path, default=[RESULTS],
                        help="earlier results files to compare with, read before --out is written "
                             "(later files win for a cell; default: the default results file)")
    args = parser.parse_args(argv)
    recorded = load_recorded(args.recorded)
    # Resolve the default once: every compile of the run uses the same strategy.
    strategy = args.search or available_strategies()[1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []

    def save() -> None:
        args.out.write_text(json.dumps({"tool_version": __version__, "strategy": strategy, "jobs": args.jobs,
                                        "cpu_count": os.cpu_count(), "python": platform.python_version(),
                                        "rows": rows}, indent=1) + "\n")

    with tempfile.TemporaryDirectory(prefix="bench_compile_") as tmp:
        # target-major in the shipped order: tpu_v3's large arrays search longest, last
        for target in args.targets:
            for objective in args.objectives:
                for model in args.models:
                    row = measure_cell(model, target, objective, search=strategy, jobs=args.jobs, work=Path(tmp))
                    rows.append(row)
                    save()
                    print(f"{model} on {target} ({objective}): exit {row['exit']}, cold {row['cold_cpu_s']:.2f} s CPU"
                          f" / {row['cold_wall_s']:.2f} s wall, warm CLI {row.get('warm_cli_cpu_s', 0):.2f} s CPU",
                          file=sys.stderr, flush=True)
    print(f"rlsched_compile {__version__}, strategy {strategy}, cold and warm CLI compiles, "
          f"--jobs {args.jobs or 'default'} on {os.cpu_count()} cores "
          f"({platform.processor() or platform.machine()}, Python {platform.python_version()})\n")
    print("\n".join(markdown_table(rows, recorded)))
    print()
    print("\n".join(goal_lines(rows, recorded)))
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
