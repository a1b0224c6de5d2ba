#!/usr/bin/env python3
"""Best-known tables from a much heavier search, and the default strategy's distance to them.

For every unique layer of the chosen zoo models on the chosen targets and objective, the heavy
search starts from many valid tables:

* the default strategy's table under every objective (so the best-known table is never worse than
  what the tool itself finds under any objective), bottom-up's table under every objective;
* ``--samples`` seeded random valid tables (``sample_valid``);

polishes each with exact re-factorization of every pair and triple of writable rows until a sweep
improves nothing, then polishes the ``--finalists`` best distinct results again with every pair,
triple *and quadruple* of writable rows until nothing improves. The best table is the layer's
best-known table. Results are cached per (target, objective) in
``bench/results/best_known/<target>__<objective>.json`` keyed by the layer signature (the shape:
everything that determines the schedule), deliberately not by the model: a shape that several
models share (or that repeats in one) is searched once, and its entry names the model that first
had it. A cached layer is not searched again (``--refresh`` recomputes); within one run the
default's and bottom-up's tables are memoised too, so the next objective reuses them. The printed
table gives, per model x target, the default / best-known ratio of the network (layers weighted
by their repeat count) and of its worst layer, and each objective ends with the layers above 1.0000.

    python bench/bench_best_known.py --models resnet50 --targets eyeriss simba --objective energy
    nice -n 10 python bench/bench_best_known.py --models all --targets tpu_v3 --skip tpu_v3:unet \
        --objective energy cycles --samples 4 --finalists 1
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from rlsched_compile import schedule_layer  # noqa: E402
from rlsched_compile.errors import SearchError  # noqa: E402
from rlsched_compile.frontend import load_network, zoo  # noqa: E402
from rlsched_compile.native import search as native_search  # noqa: E402
from rlsched_compile.native.costmodel import evaluate_table  # noqa: E402
from rlsched_compile.objective import OBJECTIVE_NAMES, Objective  # noqa: E402
from rlsched_compile.table import writable_rows  # noqa: E402
from rlsched_compile.targets import load_target  # noqa: E402

OBJECTIVES = OBJECTIVE_NAMES


def metric(objective: str, energy_pj: float, cycles: float) -> float:
    return Objective.parse(objective).measure(energy_pj, cycles)


def polish(target: Any, layer: Any, table: np.ndarray, objective: str, sizes: tuple[int, ...]) -> tuple[np.ndarray, float, int]:
    """Exact re-factorization of every group of writable rows of the given sizes until stable."""
    rows = writable_rows(target)
    groups = [g for n in sizes for g in itertools.combinations(rows, n)]
    ev = evaluate_table(target, layer, table)
    best = metric(objective, ev.energy_pj, ev.cycles)
    evaluations = 0
    while True:
        improved = False
        for group in groups:
            r = native_search.search_rows(target, layer, table, group, objective)
            evaluations += r.candidates
            value = r.objective(objective)
            if value < best:
                table, best, improved = np.array(r.table), value, True
        if not improved:
            return table, best, evaluations


#: Tables of the tool itself (default and bottom-up under each objective) per (target, layer
#: signature, strategy, objective): the same layer in another model, or the same layer under the
#: next objective of this run, reuses them instead of searching again.
_TOOL_TABLES: dict[tuple[str, str, str, str], np.ndarray | None] = {}


def tool_table(target: Any, layer: Any, strategy: str, objective: str) -> np.ndarray | None:
    """The default's (``strategy`` "default") or bottom-up's table for ``objective``, memoised."""
    key = (target.name, ",".join(str(v) for v in layer.signature()), strategy, objective)
    if key not in _TOOL_TABLES:
        try:
            if strategy == "default":
                _TOOL_TABLES[key] = schedule_layer(target, layer, objective=objective).table_array()
            else:
                _TOOL_TABLES[key] = np.array(native_search.bottom_up(target, layer, objective).table)
        except SearchError:
            _TOOL_TABLES[key] = None
    return _TOOL_TABLES[key]


def heavy_search(target: Any, layer: Any, objective: str, *, samples: int, finalists: int) -> dict[str, Any]:
    starts: list[tuple[str, np.ndarray]] = []
    for ob in OBJECTIVES:
        for strategy in ("default", "bottom-up"):
            table = tool_table(target, layer, strategy, ob)
            if table is not None:
                starts.append((f"{strategy}[{ob}]", table))
    state = 12345
    for _ in range(samples):
        try:
            table, state = native_search.sample_valid(target, layer, rng_state=state)
        except SearchError:
            break
        starts.append(("sample", np.array(table)))
    evaluations = 0
    polished: list[tuple[float, str, np.ndarray]] = []
    for name, table in starts:
        t, value, n = polish(target, layer, table, objective, (2, 3))
        evaluations += n
        polished.append((value, name, t))
    polished.sort(key=lambda p: (p[0], p[2].tobytes()))
    distinct: list[tuple[float, str, np.ndarray]] = []
    for p in polished:
        if not any(np.array_equal(p[2], d[2]) for d in distinct):
            distinct.append(p)
        if len(distinct) == finalists:
            break
    best: tuple[float, str, np.ndarray] | None = None
    for value, name, table in distinct:
        t, v, n = polish(target, layer, table, objective, (2, 3, 4))
        evaluations += n
        if best is None or v < best[0]:
            best = (v, name, t)
    assert best is not None
    ev = evaluate_table(target, layer, best[2])
    return {"layer": layer.name, "signature": list(layer.signature()), "objective_value": best[0],
            "energy_pj": ev.energy_pj, "cycles": ev.cycles, "table": best[2].tolist(), "from": best[1],
            "evaluations": evaluations}


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_model(target: Any, target_name: str, model: str, objective: str, cache: dict[str, Any],
              cache_path: Path, *, samples: int, finalists: int,
              above: list[str]) -> str:
    """Heavy-search the model's uncached layers, then one markdown row: the default against them."""
    net = load_network(zoo.zoo_path(model))
    cpu0 = time.process_time()
    default_total = best_total = 0.0
    worst: tuple[float, str] = (0.0, "")
    seen: dict[str, tuple[float, float]] = {}
    searched = 0
    for layer in net.layers:
        # Keyed by the layer's signature (everything that determines its schedule), not by the
        # model: a shape another model (or an earlier layer) already has is searched once.
        key = ",".join(str(v) for v in layer.signature())
        if key not in seen:
            layer_cpu0 = time.process_time()
            table = tool_table(target, layer, "default", objective)
            if table is None:  # no valid table for this layer on this target: nothing to compare
                print(f"{model} {target_name} {objective} {layer.name}: no valid table", file=sys.stderr)
                continue
            if key not in cache:
                cache[key] = heavy_search(target, layer, objective, samples=samples, finalists=finalists)
                cache[key]["model"] = model
                searched += 1
                write_atomic(cache_path, json.dumps(cache, indent=1, sort_keys=True) + "\n")
            ev = evaluate_table(target, layer, table)
            dv = metric(objective, ev.energy_pj, ev.cycles)
            bv = min(cache[key]["objective_value"], dv)
            seen[key] = (dv, bv)
            ratio = dv / bv
            print(f"{model} {target_name} {objective} {layer.name}: default/best-known {ratio:.4f} "
                  f"(best from {cache[key]['from']}; {time.process_time() - layer_cpu0:.1f} CPU s)",
                  file=sys.stderr, flush=True)
            if ratio > 1.00005:
                above.append(f"- {model} {target_name} {objective} {layer.name}: default/best-known {ratio:.4f} "
                             f"(best from {cache[key]['from']})")
            if ratio > worst[0]:
                worst = (ratio, layer.name)
        if key in seen:
            dv, bv = seen[key]
            default_total += dv * layer.repeat
            best_total += bv * layer.repeat
    worst_name = "every layer ties" if worst[0] <= 1.00005 else worst[1]
    note = f" (heavy search of {searched} layers)" if searched else ""
    return (f"| {model} | {target_name} | {len(net.layers)} | {default_total / best_total:.4f} | "
            f"{worst_name} | {worst[0]:.4f} | {time.process_time() - cpu0:.1f}{note} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["resnet50"], help="zoo model names, or `all`")
    parser.add_argument("--targets", nargs="*", default=["eyeriss", "eyeriss_v2", "simba", "tpu_v3"])
    parser.add_argument("--objective", nargs="+", default=["energy"], choices=OBJECTIVES,
                        help="objectives, run in this order (each over every target, then the next)")
    parser.add_argument("--skip", nargs="*", default=[], metavar="TARGET:MODEL",
                        help="model x target pairs left out (e.g. tpu_v3:unet, too slow to search)")
    parser.add_argument("--samples", type=int, default=8, help="seeded random valid starts per layer")
    parser.add_argument("--finalists", type=int, default=3, help="distinct tables polished with quadruples")
    parser.add_argument("--refresh", action="store_true", help="recompute cached layers")
    parser.add_argument("--out", default=str(HERE / "results" / "best_known"))
    args = parser.parse_args(argv)
    models = list(zoo.BUILDERS) if args.models == ["all"] else args.models
    out_dir = Path(args.out)
    for objective in args.objective:
        lines = [f"objective {objective}; heavy search: {args.samples} samples + default and bottom-up under "
                 f"every objective, pairs+triples polish, {args.finalists} finalists polished with quadruples", "",
                 "| model | target | layers | network default / best-known | worst layer | its ratio | CPU s of this run (cached layers are not searched again) |",
                 "|---|---|---:|---:|---|---:|---:|"]
        print("\n".join(lines), flush=True)
        above: list[str] = []
        for target_name in args.targets:
            target = load_target(target_name)
            cache_path = out_dir / f"{target_name}__{objective}.json"
            cache: dict[str, Any] = (json.loads(cache_path.read_text())
                                     if cache_path.is_file() and not args.refresh else {})
            for model in models:
                if f"{target_name}:{model}" in args.skip:
                    continue
                print(run_model(target, target_name, model, objective, cache, cache_path, samples=args.samples,
                                finalists=args.finalists, above=above), flush=True)
        print("\nLayers above 1.0000:\n", flush=True)
        print("\n".join(above) if above else "none", flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
