#!/usr/bin/env python3
"""Flexible vs fixed dataflows (issue 15): network energy and cycles of ``--dataflow flexible``
against ``--dataflow fixed`` for every zoo model on every shipped target and both objectives, with
the CPU time of each compile; and, for ResNet-50 on simba and eyeriss, what the joint search adds
over solving every dataflow combination separately.

Every compile is cold (no cache) and runs in this process (``jobs=1``), so its CPU time
(``time.process_time``) is the whole compile's work, independent of machine load. Goal: ResNet-50
flexible energy <= 0.87 x fixed on simba and <= 0.94 x fixed on eyeriss, at no more than 2x fixed's
compile time.

``--separate`` adds, for ResNet-50 on simba and eyeriss (energy), the per-combination
reference point: every unique layer solved with the default strategy once per dataflow
combination (``schedule_layer`` on the target with those dataflows), then (a) the best single
combination for the whole network and (b) the best combination per layer, compared with the
joint search and with the joint search switched off (``joint_starts=0``: the fixed result and the
bottom-up start of each combination, each priced under every combination).

Prints Markdown and writes ``bench/results/dataflow.json`` and ``.md`` (``--out-stem`` to rename).

Usage:
    nice python bench/bench_dataflow.py --targets eyeriss eyeriss_v2 simba --separate
    nice python bench/bench_dataflow.py --targets tpu_v3 --out-stem dataflow_tpu_v3
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from rlsched_compile import __version__, compile_model  # noqa: E402
from rlsched_compile.frontend import load_network  # noqa: E402
from rlsched_compile.objective import Objective  # noqa: E402
from rlsched_compile.search import schedule_layer  # noqa: E402
from rlsched_compile.search.dataflow import (dataflow_combinations, format_choice,  # noqa: E402
                                             schedule_layer_flexible)
from rlsched_compile.targets import list_targets, load_target  # noqa: E402

GOALS = {("resnet50", "simba"): 0.87, ("resnet50", "eyeriss"): 0.94}


def _compile(model: Path, target: str, objective: str, dataflow: str) -> tuple[dict, float]:
    t0 = time.process_time()
    res = compile_model(str(model), target, objective=objective, dataflow=dataflow, jobs=1, cache=False)
    cpu = time.process_time() - t0
    return res.report(), cpu


def bench_pair(model: Path, target: str, objective: str) -> dict:
    fixed, cpu_fixed = _compile(model, target, objective, "fixed")
    flex, cpu_flex = _compile(model, target, objective, "flexible")
    tf, tx = fixed["totals"], flex["totals"]
    vs = tx["versus_fixed_dataflows"]
    assert vs["fixed_energy_pj"] == tf["energy_pj"] and vs["fixed_cycles"] == tf["cycles"], \
        "the fixed candidate inside flexible mode differs from fixed mode"
    for lx, lf in zip(flex["layers"], fixed["layers"]):
        metric = Objective(objective).metric
        assert lx[metric] <= lf[metric], f"flexible worse on {lx['name']}"
    used = sorted({"/".join(str(v) for v in ly["dataflows"].values()) for ly in flex["layers"]})
    return {"model": model.stem, "target": target, "objective": objective,
            "fixed_energy_pj": tf["energy_pj"], "flexible_energy_pj": tx["energy_pj"],
            "energy_ratio": tx["energy_pj"] / tf["energy_pj"],
            "fixed_cycles": tf["cycles"], "flexible_cycles": tx["cycles"], "cycles_ratio": tx["cycles"] / tf["cycles"],
            "fixed_cpu_s": round(cpu_fixed, 3), "flexible_cpu_s": round(cpu_flex, 3),
            "cpu_ratio": round(cpu_flex / cpu_fixed, 3) if cpu_fixed else None,
            "unique_layers": tf["unique_layers"], "dataflows_used": used}


def bench_separate(model: Path, target_name: str) -> dict:
    """Per-combination solving with the default strategy vs the joint search (energy)."""
    target = load_target(target_name)
    net = load_network(str(model))
    groups = net.unique_layers()
    combos = dataflow_combinations(target)
    per_combo = {c: 0.0 for c in combos}
    per_layer_best = 0.0
    joint = no_joint = fixed = 0.0
    t_sep = t_joint = t_nojoint = 0.0
    for g in groups:
        n = len(g.indices)
        vals = []
        t0 = time.process_time()
        for c in combos:
            r = schedule_layer(target.with_dataflows(c), g.layer, objective="energy")
            vals.append(r.energy_pj)
            per_combo[c] += n * r.energy_pj
        t_sep += time.process_time() - t0
        per_layer_best += n * min(vals)
        fixed += n * vals[0]
        t0 = time.process_time()
        joint += n * schedule_layer_flexible(target, g.layer, objective="energy").result.energy_pj
        t_joint += time.process_time() - t0
        t0 = time.process_time()
        no_joint += n * schedule_layer_flexible(target, g.layer, objective="energy", joint_starts=0,
                                                triple_finals=0).result.energy_pj
        t_nojoint += time.process_time() - t0
    best_combo = min(combos, key=lambda c: (per_combo[c], combos.index(c)))
    return {"model": model.stem, "target": target_name, "objective": "energy", "fixed_energy_pj": fixed,
            "best_single_combination": format_choice(target, best_combo),
            "best_single_combination_ratio": per_combo[best_combo] / fixed,
            "per_layer_best_of_separate_ratio": per_layer_best / fixed,
            "joint_ratio": joint / fixed, "without_joint_search_ratio": no_joint / fixed,
            "separate_cpu_s": round(t_sep, 2), "joint_cpu_s": round(t_joint, 2),
            "without_joint_cpu_s": round(t_nojoint, 2),
            "per_combination_ratio": {format_choice(target, c): per_combo[c] / fixed for c in combos}}


def render(rows: list[dict], separate: list[dict]) -> str:
    out = ["# bench_dataflow", "",
           f"rlsched_compile {__version__}, default strategy, jobs=1, no cache; CPU seconds of each cold compile "
           "(time.process_time).", "",
           "| model | target | objective | fixed energy (pJ) | flexible / fixed energy | fixed cycles | "
           "flexible / fixed cycles | fixed CPU (s) | flexible CPU (s) | CPU ratio | dataflows used (LB/GB) |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        goal = GOALS.get((r["model"], r["target"])) if r["objective"] == "energy" else None
        mark = "" if goal is None else (f" (goal <= {goal}: {'met' if r['energy_ratio'] <= goal else 'NOT met'})")
        out.append(f"| {r['model']} | {r['target']} | {r['objective']} | {r['fixed_energy_pj']:.4e} | "
                   f"{r['energy_ratio']:.4f}{mark} | {r['fixed_cycles']:.4e} | {r['cycles_ratio']:.4f} | "
                   f"{r['fixed_cpu_s']:.2f} | {r['flexible_cpu_s']:.2f} | {r['cpu_ratio']:.2f} | "
                   f"{', '.join(r['dataflows_used'])} |")
    if separate:
        out += ["", "## Joint search vs solving each dataflow combination separately (energy)", "",
                "Ratios to fixed energy. *separate*: the default strategy once per combination and layer; "
                "*best single combination*: the best combination for the whole network; *per-layer best*: the "
                "best combination per layer; *without joint search*: fixed result + bottom-up per combination, "
                "every start priced under every combination, no local search; *joint*: flexible mode.", "",
                "| model | target | best single combination | per-layer best of separate | without joint search "
                "| joint (flexible mode) | separate CPU (s) | joint CPU (s) |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        for s in separate:
            out.append(f"| {s['model']} | {s['target']} | {s['best_single_combination_ratio']:.4f} "
                       f"({s['best_single_combination']}) | {s['per_layer_best_of_separate_ratio']:.4f} | "
                       f"{s['without_joint_search_ratio']:.4f} | {s['joint_ratio']:.4f} | {s['separate_cpu_s']:.1f} | "
                       f"{s['joint_cpu_s']:.1f} |")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=None, help="zoo model names (default: all)")
    ap.add_argument("--targets", nargs="*", default=None, help="shipped targets (default: all but edgetpu)")
    ap.add_argument("--objectives", nargs="*", default=["energy", "cycles"])
    ap.add_argument("--separate", action="store_true", help="also the per-combination comparison (ResNet-50)")
    ap.add_argument("--out-stem", default="dataflow", help="results file name stem under bench/results/")
    args = ap.parse_args()
    zoo_dir = HERE.parent / "model_zoo"
    models = sorted(zoo_dir.glob("*.onnx"))
    if args.models:
        models = [m for m in models if m.stem in args.models]
    targets = args.targets or [t.name for t in list_targets() if t.name != "edgetpu"]
    rows = []
    for target in targets:
        for model in models:
            for objective in args.objectives:
                row = bench_pair(model, target, objective)
                rows.append(row)
                print(f"{model.stem:>20} {target:>10} {objective:>7}: energy {row['energy_ratio']:.4f} "
                      f"cycles {row['cycles_ratio']:.4f} cpu {row['fixed_cpu_s']:.1f}s -> {row['flexible_cpu_s']:.1f}s",
                      file=sys.stderr, flush=True)
    separate = []
    if args.separate:
        for target in ("simba", "eyeriss"):
            separate.append(bench_separate(zoo_dir / "resnet50.onnx", target))
            print(json.dumps(separate[-1]), file=sys.stderr, flush=True)
    text = render(rows, separate)
    print(text)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    doc = {"tool": __version__, "python": platform.python_version(), "machine": platform.machine(),
           "rows": rows, "separate": separate}
    (results / f"{args.out_stem}.json").write_text(json.dumps(doc, indent=1) + "\n")
    (results / f"{args.out_stem}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
