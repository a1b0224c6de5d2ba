"""Quality of the ``respect`` pipeline solver on held-out synthetic DAGs (issue 7).

``bench/bench_pipeline.py`` reports on fixed instances (one DAG per size) that were also looked
at while the solver was tuned; this script checks that its quality carries over to DAGs nobody
looked at: 3 seeded DAGs for each of |V| = 30, 60, 100, 150, 200 (degree <= 6, seeds
7000 + 10 * |V| + i; none of them is among the seeds of the first 512 training graphs, which
``pipeline/respect/train.py`` draws from one generator stream) at k = 4 and 6, against ``exact`` with a time
limit (not always proven optimal; the proven share is printed). The exact results are cached in ``--exact-cache`` (they are the slow
part and depend on machine speed); ``--refresh`` recomputes them.

Usage: ``python bench/bench_respect_heldout.py [--time-limit 10] [--weights PATH]``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rlsched_compile.pipeline import load_pipeline_target, solve  # noqa: E402
from rlsched_compile.pipeline.exact import best_order_cut  # noqa: E402
from rlsched_compile.pipeline.cost import evaluate  # noqa: E402
from rlsched_compile.pipeline.generate import random_dag  # noqa: E402
from rlsched_compile.pipeline.respect import DEFAULT_WEIGHTS, RespectSolver  # noqa: E402

SIZES = (30, 60, 100, 150, 200)
SEEDS_PER_SIZE = 3
STAGES = (4, 6)


def instances() -> list[tuple[str, int, int, int]]:
    """(key, n, seed, k) of every held-out instance."""
    out = []
    for n in SIZES:
        for i in range(SEEDS_PER_SIZE):
            seed = 7000 + 10 * n + i
            for k in STAGES:
                out.append((f"{n}-{i}-{k}", n, seed, k))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="exact solver limit per instance, s")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="RESPECT weights (respect.npz)")
    parser.add_argument("--exact-cache", default=str(REPO / "bench" / "results" / "respect_heldout_exact.json"))
    parser.add_argument("--refresh", action="store_true", help="recompute the exact results")
    args = parser.parse_args(argv)
    target = load_pipeline_target("edgetpu")
    cache_path = Path(args.exact_cache)
    cache = {} if args.refresh or not cache_path.is_file() else json.loads(cache_path.read_text(encoding="utf-8"))
    rows = []
    # Made once (each reads the weights once); respect_cpu_s is the solve alone, as before.
    full_solver = RespectSolver(args.weights)
    alone_solver = RespectSolver(args.weights, samples=0, refine=False)
    for key, n, seed, k in instances():
        graph = random_dag(n, seed=seed, max_degree=6, name=f"heldout{n}_{seed}")
        if key not in cache:
            r = solve(graph, target, k, solver="exact", time_limit_s=args.time_limit)
            cache[key] = {"bottleneck_s": r.bottleneck_s, "optimal": r.optimal, "time_limit_s": args.time_limit}
        exact = cache[key]["bottleneck_s"]
        c0 = time.process_time()
        full = full_solver.solve(graph, target, k)
        cpu_s = time.process_time() - c0
        alone = alone_solver.solve(graph, target, k)
        order = evaluate(graph, target, best_order_cut(graph, target, k), k)
        pb = solve(graph, target, k, solver="param-balance")
        rows.append({"key": key, "n": n, "k": k, "proven": cache[key]["optimal"],
                     "respect": full.bottleneck_s / exact, "respect_greedy": alone.bottleneck_s / exact,
                     "order_dp": order.bottleneck_s / exact, "param_balance": pb.bottleneck_s / exact,
                     "respect_cpu_s": cpu_s})
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache_path.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    cols = ("respect", "respect_greedy", "order_dp", "param_balance")
    weights = Path(args.weights).resolve()
    print(f"weights: {weights.relative_to(REPO) if weights.is_relative_to(REPO) else weights}")
    print(f"{len(rows)} instances, {sum(bool(r['proven']) for r in rows)} with a proven optimum "
          f"(exact limit {args.time_limit:g} s); bottleneck / exact bottleneck:")
    print("| |V| | " + " | ".join(cols) + " | respect CPU ms (mean) |")
    print("|---:|" + "---:|" * (len(cols) + 1))
    for n in SIZES + (None,):
        sel = [r for r in rows if n is None or r["n"] == n]
        means = " | ".join(f"{statistics.fmean(r[c] for r in sel):.3f}" for c in cols)
        print(f"| {n if n is not None else 'all'} | {means} | "
              f"{statistics.fmean(r['respect_cpu_s'] for r in sel) * 1e3:.0f} |")
    print(f"respect max ratio {max(r['respect'] for r in rows):.3f}; "
          f"worse than param-balance: {sum(r['respect'] > r['param_balance'] * (1 + 1e-12) for r in rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
