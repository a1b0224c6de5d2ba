"""Quality and speed bars of the PPO agent (issue 6), as a benchmark (not a timed test).

Quality: for every zoo network x target x objective (energy, then cycles), network totals
(sum over layers of count x per-layer metric) of

* ``bottom-up`` (the reference heuristic),
* ``rl`` (the agent alone, from the paper's start, no fallback),
* the default strategy (``search=None``),
* the best known table per layer: the minimum over ``row-sweep``, the default, ``rl``, a long
  ``random`` run (``--random-budget`` evaluations) and ``exhaustive`` (with a budget; used only
  where it finished),

and the bars: the default is never worse than bottom-up; it is >= 5% better on at least half of
the pairs, or, where the best known is within 5% of bottom-up (no such margin exists), within 1%
of the best known; and within 2% of ``exhaustive`` on every layer where exhaustive finished.

Speed: ``rlsched-compile model_zoo/resnet50.onnx --target eyeriss`` (default strategy, cold
cache in a fresh temporary directory), wall time of the whole command.

Bottom-up is memoized inside this process (bottom-up, row-sweep and the default all start from
it and it is deterministic), which only saves time: every strategy still gets the same table.

Usage (from the repository root)::

    python bench/bench_agent.py [--targets eyeriss,simba] [--networks resnet50] [--out bench/results]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("eyeriss", "eyeriss_v2", "tpu_v3", "simba")
OBJECTIVES = ("energy", "cycles")


def _metric(objective: str, energy_pj: float, cycles: float) -> float:
    from rlsched_compile.objective import Objective

    return Objective.parse(objective).measure(energy_pj, cycles)


def _memoize_bottom_up() -> None:
    from rlsched_compile.native import search as native_search

    raw = native_search.bottom_up

    memo: dict[tuple[Any, ...], Any] = {}

    def bottom_up(target: Any, layer: Any, objective: str = "energy", **kwargs: Any) -> Any:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        key = (target.sha256, layer.signature(), objective, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = raw(target, layer, objective, **kwargs)
        return memo[key]

    native_search.bottom_up = bottom_up  # type: ignore[assignment]


def quality(networks: list[str], targets: list[str], *, exhaustive_budget: int, seed: int,
            default: str | None, random_budget: int) -> list[dict[str, Any]]:
    from rlsched_compile.errors import SearchError
    from rlsched_compile.frontend import load_network
    from rlsched_compile.search import DEFAULT_STRATEGY, schedule_layer
    from rlsched_compile.targets import load_target

    rows: list[dict[str, Any]] = []
    for net_name in networks:
        net = load_network(ROOT / "model_zoo" / f"{net_name}.onnx")
        groups = net.unique_layers()
        for tname in targets:
            target = load_target(tname)
            for objective in OBJECTIVES:
                started = time.perf_counter()
                totals = {"bottom-up": 0.0, "rl": 0.0, "default": 0.0, "row-sweep": 0.0, "random": 0.0, "best": 0.0}
                times = {k: 0.0 for k in ("bottom-up", "rl", "default", "row-sweep")}
                layer_gaps: list[dict[str, Any]] = []
                failures: list[str] = []
                for g in groups:
                    per: dict[str, float] = {}
                    try:
                        for key, strat in (("bottom-up", "bottom-up"), ("rl", "rl"), ("default", default),
                                           ("row-sweep", "row-sweep")):
                            t0 = time.perf_counter()
                            r = schedule_layer(target, g.layer, search=strat, objective=objective, seed=seed)
                            times[key] += time.perf_counter() - t0
                            per[key] = _metric(objective, r.energy_pj, r.cycles)
                    except SearchError as exc:
                        failures.append(f"{g.layer.name}: {exc}")
                        continue
                    if random_budget:
                        t0 = time.perf_counter()
                        rnd = schedule_layer(target, g.layer, search="random", objective=objective, seed=seed,
                                             budget=random_budget)
                        times["random"] = times.get("random", 0.0) + time.perf_counter() - t0
                        per["random"] = _metric(objective, rnd.energy_pj, rnd.cycles)
                    best = min(per.values())
                    try:
                        ex = schedule_layer(target, g.layer, search="exhaustive", objective=objective,
                                            budget=exhaustive_budget)
                        if ex.finished:
                            ex_metric = _metric(objective, ex.energy_pj, ex.cycles)
                            best = min(best, ex_metric)
                            layer_gaps.append({"layer": g.layer.name, "default_vs_exhaustive":
                                               per["default"] / ex_metric})
                    except SearchError:
                        pass
                    for key in per:
                        totals[key] += g.count * per[key]
                    totals["best"] += g.count * best
                bu = totals["bottom-up"]
                row = {
                    "network": net_name, "target": tname, "objective": objective, "layers": len(groups),
                    "failures": failures, "totals": totals, "times_s": times,
                    "default_strategy": default or DEFAULT_STRATEGY,
                    "default_vs_bottom_up": totals["default"] / bu if bu else math.nan,
                    "rl_vs_bottom_up": totals["rl"] / bu if bu else math.nan,
                    "row_sweep_vs_bottom_up": totals["row-sweep"] / bu if bu else math.nan,
                    "random_vs_bottom_up": totals["random"] / bu if bu and random_budget else None,
                    "best_vs_bottom_up": totals["best"] / bu if bu else math.nan,
                    "default_vs_best": totals["default"] / totals["best"] if totals["best"] else math.nan,
                    "exhaustive_layers": len(layer_gaps),
                    "worst_default_vs_exhaustive": max((x["default_vs_exhaustive"] for x in layer_gaps), default=None),
                    "wall_s": time.perf_counter() - started,
                }
                rows.append(row)
                print(f"{net_name:20s} {tname:11s} {objective:7s} default/bu {row['default_vs_bottom_up']:.4f} "
                      f"rl/bu {row['rl_vs_bottom_up']:.4f} best/bu {row['best_vs_bottom_up']:.4f} "
                      f"({row['wall_s']:.0f}s)", file=sys.stderr, flush=True)
    return rows


def verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The three quality bars over the measured rows."""
    never_worse = all(r["default_vs_bottom_up"] <= 1.0 + 1e-12 for r in rows)
    ok_pairs = 0
    for r in rows:
        margin_exists = r["best_vs_bottom_up"] <= 0.95
        r["bar"] = ("5% better" if r["default_vs_bottom_up"] <= 0.95 else
                    "within 1% of best (no 5% margin)" if not margin_exists and r["default_vs_best"] <= 1.01 else
                    "MISSED")
        ok_pairs += r["bar"] != "MISSED"
    exh = [r["worst_default_vs_exhaustive"] for r in rows if r["worst_default_vs_exhaustive"] is not None]
    return {"pairs": len(rows), "never_worse_than_bottom_up": never_worse,
            "pairs_meeting_margin_bar": ok_pairs, "half_or_more": ok_pairs * 2 >= len(rows),
            "worst_default_vs_exhaustive": max(exh) if exh else None,
            "within_2pct_of_exhaustive": all(x <= 1.02 for x in exh)}


def speed(network: str = "resnet50", target: str = "eyeriss") -> dict[str, Any]:
    """Wall time of the default compile with a cold cache (fresh cache and output folders)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RLSCHED_CACHE_DIR": str(Path(tmp) / "cache")}
        cmd = [sys.executable, "-m", "rlsched_compile", str(ROOT / "model_zoo" / f"{network}.onnx"),
               "--target", target, "--out", str(Path(tmp) / "out")]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
    return {"command": " ".join(cmd[1:]), "returncode": proc.returncode, "wall_s": wall,
            "stderr_tail": proc.stderr[-400:]}


def markdown(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = ["| network | target | objective | default / bottom-up | rl alone / bottom-up | row-sweep / bottom-up "
             "| random / bottom-up | best known / bottom-up | default / best | bar |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rnd = r.get("random_vs_bottom_up")
        lines.append(f"| {r['network']} | {r['target']} | {r['objective']} | {r['default_vs_bottom_up']:.4f} | "
                     f"{r['rl_vs_bottom_up']:.4f} | {r['row_sweep_vs_bottom_up']:.4f} | "
                     f"{'-' if rnd is None else format(rnd, '.4f')} | {r['best_vs_bottom_up']:.4f} | "
                     f"{r['default_vs_best']:.4f} | {r.get('bar', '')} |")
    lines.append("")
    lines.append("Summary: " + json.dumps(summary))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--networks", default="resnet50,yolov3,mobilenet_v3_large,mobilenet_v3_small,inception_v4")
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--exhaustive-budget", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--random-budget", type=int, default=100_000,
                   help="evaluations of the long random run that joins the best-known reference (0: none)")
    p.add_argument("--default", default=None,
                   help="strategy measured as the default (default: the package's DEFAULT_STRATEGY)")
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--no-quality", action="store_true")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args(argv)
    _memoize_bottom_up()
    out: dict[str, Any] = {}
    if not args.no_quality:
        rows = quality(args.networks.split(","), args.targets.split(","), exhaustive_budget=args.exhaustive_budget,
                       seed=args.seed, default=args.default, random_budget=args.random_budget)
        out["summary"] = verdict(rows)
        out["rows"] = rows
        print(markdown(rows, out["summary"]))
    if not args.no_speed:
        out["speed"] = speed()
        print(f"\nspeed: {out['speed']['command']} -> rc {out['speed']['returncode']}, "
              f"{out['speed']['wall_s']:.2f} s (cold cache)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    stem = "agent_" + "_".join(args.targets.split(",")) if not args.no_quality else "agent_speed"
    (Path(args.out) / f"{stem}.json").write_text(json.dumps(out, indent=2) + "\n")
    if "rows" in out:
        (Path(args.out) / f"{stem}.md").write_text(markdown(out["rows"], out["summary"]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
