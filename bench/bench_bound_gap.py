#!/usr/bin/env python3
"""How tight the lower bound (``rlsched_compile/bound.py``) is: the network gap of the best-known
tables (``bench/results/best_known/``, from ``bench_best_known.py``) to the bound, per target and
objective, on a zoo model; also checks that no best-known table is below the bound, and
measures what the bound costs (CPU time per layer and target, caches cleared before each layer).

    python bench/bench_bound_gap.py --model resnet50
    python bench/bench_bound_gap.py --cost-models all   # the cost over every zoo model
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from rlsched_compile import bound as bound_mod  # noqa: E402
from rlsched_compile.bound import layer_lower_bound  # noqa: E402
from rlsched_compile.frontend import load_network, zoo  # noqa: E402
from rlsched_compile.objective import Objective  # noqa: E402
from rlsched_compile.targets import load_target  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--cache", default=str(HERE / "results" / "best_known"))
    parser.add_argument("--cost-models", default=None,
                        help="comma-separated zoo models (or 'all') to time the bound on (default: --model)")
    args = parser.parse_args(argv)
    net = load_network(zoo.zoo_path(args.model))
    print("| target | objective | layers with a best-known table | best-known / bound - 1 (network) | worst layer gap |")
    print("|---|---|---:|---:|---:|")
    for path in sorted(Path(args.cache).glob("*__*.json")):
        target_name, objective = path.stem.split("__")
        target = load_target(target_name)
        cache = json.loads(path.read_text())
        measure = Objective.parse(objective).measure  # EDP: its bound is the product of the two bounds
        total = bound_total = 0.0
        worst = 0.0
        n = 0
        for layer in net.layers:
            entry = cache.get(",".join(str(v) for v in layer.signature()))
            if entry is None:
                continue
            lb = layer_lower_bound(target, layer)
            value, bound = measure(float(entry["energy_pj"]), float(entry["cycles"])), measure(lb.energy_pj, lb.cycles)
            if value < bound:
                raise SystemExit(f"bound above a valid table: {target_name} {layer.name} {value} < {bound}")
            total, bound_total, n = total + value, bound_total + bound, n + 1
            worst = max(worst, value / bound - 1.0)
        if n:
            print(f"| {target_name} | {objective} | {n} | {total / bound_total - 1.0:.1%} | {worst:.1%} |")
    models = args.model if args.cost_models is None else args.cost_models
    names = sorted(zoo.BUILDERS) if models == "all" else models.split(",")
    times: list[float] = []
    for name in names:
        layers = {ly.signature(): ly for ly in load_network(zoo.zoo_path(name)).layers}.values()
        for target_name in ("eyeriss", "eyeriss_v2", "simba", "tpu_v3"):
            target = load_target(target_name)
            for layer in layers:
                for cached in (bound_mod._factor, bound_mod._divisors_upto, bound_mod._max_spatial_product):
                    cached.cache_clear()
                start = time.process_time()
                layer_lower_bound(target, layer)
                times.append(time.process_time() - start)
    print(f"\nbound cost ({', '.join(names)}; {len(times)} layer x target pairs, cold caches): "
          f"mean {1e3 * sum(times) / len(times):.2f} ms, max {1e3 * max(times):.1f} ms CPU per layer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
