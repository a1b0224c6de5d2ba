"""Search strategies on the model zoo: network totals and wall time per strategy.

Three parts:

1. The reference's bottom-up heuristic on its own ResNet-50 list (21 unique layers, from
   ../shared/baselines) on eyeriss, without any budget: wall time against the reference's 83 s
   (goal <= 8 s) and the per-layer agreement with the reference's tables and energies.
2. ``search_rows`` on three rows of a ResNet-50 3x3 layer (res3 conv2: K=C=128, P=Q=28, R=S=3),
   started from the bottom-up table: candidates evaluated and time.
3. Every zoo network (model_zoo/*.onnx) x every shipped target x every strategy: network energy
   and cycles (identical layers solved once and multiplied by their count), evaluations, wall
   time, and how many unique layers finished within the budgets below. Missing model files are
   skipped with a message.

Budgets (evaluations per layer; for bottom-up per level-pair search) keep the whole run to a few minutes on 2 cores; bottom-up with a
budget is a truncated heuristic on the layers that need more (their count is in the
``finished`` column; ``--exact`` removes the bottom-up budget).

    python bench/bench_search.py [--networks resnet50 ...] [--targets eyeriss ...] [--out bench/results]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from rlsched_compile import Layer, schedule_layer
from rlsched_compile.native.search import bottom_up, search_rows
from rlsched_compile.targets import load_target, target_from_dict

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARGETS = ("eyeriss", "eyeriss_v2", "tpu_v3", "simba")
STRATEGY_BUDGETS: dict[str, int | None] = {
    "bottom-up": 150_000, "random": 2_000, "exhaustive": 20_000, "row-sweep": 600_000}
REFERENCE_WALL_S = 83.0
RES3_CONV2 = Layer("res3_conv2", K=128, B=1, P=28, Q=28, C=128, R=3, S=3)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def bench_reference() -> dict[str, Any]:
    data = json.loads((SHARED / "baselines" / "reference_bottom_up__resnet50__eyeriss__energy.json").read_text())
    target = target_from_dict(json.loads((SHARED / "targets" / "eyeriss.json").read_text()))
    layers = [Layer.from_dict(e["layer"]) for e in data["layers"]]
    bottom_up(target, layers[0])  # build the target handle outside the timing
    started, cpu_started = time.perf_counter(), time.process_time()
    results = [bottom_up(target, ly) for ly in layers]
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    same = sum(bool((r.table == np.array([row["values"] for row in e["table"]])).all())
               for r, e in zip(results, data["layers"]))
    worst = max(abs(r.energy_pj / e["total_energy_pj"] - 1) for r, e in zip(results, data["layers"]))
    return {"layers": len(layers), "wall_s": wall, "cpu_s": cpu, "reference_wall_s": REFERENCE_WALL_S,
            "speedup": REFERENCE_WALL_S / wall, "identical_tables": same,
            "max_energy_rel_diff": worst, "candidates": sum(r.candidates for r in results)}


def bench_search_rows() -> list[dict[str, Any]]:
    out = []
    for target_name in ("eyeriss", "simba"):
        target = load_target(target_name)
        start = bottom_up(target, RES3_CONV2).table
        for rows in ((3, 6, 9), (3, 4, 5), (4, 5, 6)):
            search_rows(target, RES3_CONV2, start, rows[:2])  # warm-up
            t0 = time.perf_counter()
            r = search_rows(target, RES3_CONV2, start, rows)
            dt = time.perf_counter() - t0
            out.append({"target": target_name, "rows": list(rows), "candidates": r.candidates, "time_s": dt,
                        "us_per_candidate": 1e6 * dt / max(r.candidates, 1), "energy_pj": r.energy_pj})
    return out


def bench_networks(networks: list[str], targets: list[str], exact: bool) -> list[dict[str, Any]]:
    from rlsched_compile.frontend import load_network

    rows: list[dict[str, Any]] = []
    for net_name in networks:
        path = ROOT / "model_zoo" / f"{net_name}.onnx"
        if not path.is_file():
            print(f"skipping {net_name}: {path} not found", file=sys.stderr)
            continue
        groups = load_network(path).unique_layers()
        for target_name in targets:
            target = load_target(target_name)
            for strategy, budget in STRATEGY_BUDGETS.items():
                if exact and strategy == "bottom-up":
                    budget = None
                energy = cycles = 0.0
                evaluations = finished = 0
                t0 = time.perf_counter()
                for g in groups:
                    r = schedule_layer(target, g.layer, search=strategy, budget=budget, seed=0)
                    energy += r.energy_pj * g.count
                    cycles += r.cycles * g.count
                    evaluations += r.evaluations
                    finished += r.finished
                wall = time.perf_counter() - t0
                rows.append({"network": net_name, "target": target_name, "strategy": strategy, "budget": budget,
                             "unique_layers": len(groups), "finished_layers": finished, "energy_pj": energy,
                             "cycles": cycles, "evaluations": evaluations, "wall_s": wall})
                print(f"{net_name:20s} {target_name:10s} {strategy:10s} E={energy:.4e} pJ cyc={cycles:.4e} "
                      f"evals={evaluations} fin={finished}/{len(groups)} {wall:.2f} s", file=sys.stderr, flush=True)
    return rows


def markdown(ref: dict[str, Any], rows_search: list[dict[str, Any]], nets: list[dict[str, Any]], exact: bool) -> str:
    lines = ["# bench_search", "",
             "## Bottom-up on the reference's ResNet-50 (21 unique layers), eyeriss, no budget", "",
             f"- wall time {ref['wall_s']:.2f} s (CPU {ref['cpu_s']:.2f} s) vs the reference's "
             f"{ref['reference_wall_s']:.0f} s ({ref['speedup']:.0f}x); goal <= 8 s",
             f"- identical tables {ref['identical_tables']}/{ref['layers']}, largest energy difference "
             f"{100 * ref['max_energy_rel_diff']:.2e} %, {ref['candidates']} candidates evaluated", "",
             "## search_rows on three rows of ResNet-50 res3 conv2 (K=C=128, P=Q=28, R=S=3)", "",
             "| target | rows | candidates | time (ms) | us/candidate |", "|---|---|---:|---:|---:|"]
    for r in rows_search:
        lines.append(f"| {r['target']} | {r['rows']} | {r['candidates']} | {1e3 * r['time_s']:.1f} | "
                     f"{r['us_per_candidate']:.2f} |")
    lines += ["", "## Networks (identical layers solved once, totals x count)", "",
              "| network | target | strategy | energy (pJ) | cycles | evaluations | finished layers | wall (s) |",
              "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in nets:
        lines.append(f"| {r['network']} | {r['target']} | {r['strategy']} | {r['energy_pj']:.4e} | "
                     f"{r['cycles']:.4e} | {r['evaluations']} | {r['finished_layers']}/{r['unique_layers']} | "
                     f"{r['wall_s']:.2f} |")
    budgets = ", ".join(f"{k} {'none' if exact and k == 'bottom-up' else v}" for k, v in STRATEGY_BUDGETS.items())
    lines += ["", f"Budgets (evaluations per layer; bottom-up: per level-pair search): {budgets}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    zoo = sorted(p.stem for p in (ROOT / "model_zoo").glob("*.onnx"))
    ap.add_argument("--networks", nargs="*", default=zoo)
    ap.add_argument("--targets", nargs="*", default=list(TARGETS))
    ap.add_argument("--exact", action="store_true", help="run bottom-up without a budget")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args(argv)
    ref = bench_reference()
    print(f"bottom-up, reference ResNet-50 on eyeriss: {ref['wall_s']:.2f} s wall, {ref['cpu_s']:.2f} s CPU "
          f"({ref['speedup']:.0f}x faster than {REFERENCE_WALL_S:.0f} s), "
          f"{ref['identical_tables']}/{ref['layers']} identical tables", file=sys.stderr, flush=True)
    rows_search = bench_search_rows()
    nets = bench_networks(args.networks, args.targets, args.exact)
    out = Path(args.out)
    payload = {"reference_bottom_up": ref, "search_rows": rows_search, "networks": nets,
               "budgets": {**STRATEGY_BUDGETS, **({"bottom-up": None} if args.exact else {})}}
    write_atomic(out / "bench_search.json", json.dumps(payload, indent=1, sort_keys=True) + "\n")
    md = markdown(ref, rows_search, nets, args.exact)
    write_atomic(out / "bench_search.md", md)
    print(md)
    return 0 if ref["wall_s"] <= 8.0 and ref["identical_tables"] == ref["layers"] else 1


if __name__ == "__main__":
    sys.exit(main())
