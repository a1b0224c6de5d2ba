"""Speed of the ``respect`` pipeline solver on the large graphs (issue 7: >= 100x faster than
``exact`` for |V| >= 300).

For each graph and k it times ``respect`` twice:

* cold: a freshly loaded graph object (nothing memoised for it) given to the one solver object of
  the run, after the one-time costs (imports, reading the weights into that solver) and the graph's own lazy arrays (built by a
  ``param-balance`` run, as the exact solver builds them before respect in
  ``bench/bench_pipeline.py``) are paid: decode, fix-up, segment costs, cut, refinement, fallback;
* warm: the same graph solved for 4, 5 and 6 stages in a row by that solver, as the CLI does (the
  decoded sequence and its segment costs do not depend on k and are kept in the solver's memo).

CPU time (``time.process_time``, the machine is shared) and wall time, median of ``--repeat``
runs. The exact runtimes and bottlenecks come from ``bench/results/bench_pipeline.json`` (HiGHS,
60 s limit for |V| >= 300), or are re-measured once with ``--measure-exact``.

Usage: ``python bench/bench_respect_speed.py [--graphs inception_v4,dag500,dag800] [--repeat 5] [--measure-exact]``.
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

from rlsched_compile.pipeline import load_graph, load_pipeline_target, solve  # noqa: E402
from rlsched_compile.pipeline.generate import random_dag  # noqa: E402
from rlsched_compile.pipeline.respect import RespectSolver  # noqa: E402


def make_graph(name: str):
    """A fresh graph object (nothing memoised for it) of the named instance."""
    if name.startswith("dag"):
        n = int(name[3:])
        return random_dag(n, seed=1000 + n, max_degree=6, name=name)
    return load_graph(REPO / "model_zoo" / f"{name}.onnx", data_type_bytes=1)


def timed(solver: RespectSolver, graph, target, k: int) -> tuple[float, float, object]:
    """(CPU s, wall s, result) of one respect solve."""
    c0, w0 = time.process_time(), time.perf_counter()
    res = solve(graph, target, k, solver=solver)
    return time.process_time() - c0, time.perf_counter() - w0, res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default="inception_v4")
    parser.add_argument("--stages", default="4,5,6")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure-exact", action="store_true", help="re-run exact once (60 s limit)")
    args = parser.parse_args(argv)
    target = load_pipeline_target("edgetpu")
    ks = [int(x) for x in args.stages.split(",")]
    stored = {}
    path = REPO / "bench" / "results" / "bench_pipeline.json"
    if path.is_file():
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            stored[(row["graph"], row["k"])] = row["exact"]
    # One-time costs: imports of every solver, the weights file (read once, into the solver).
    solver = RespectSolver()
    solve(random_dag(20, seed=0), target, 2, solver=solver)
    print("| graph | |V| | k | respect cold CPU ms | cold wall ms | warm CPU ms | warm wall ms | "
          "exact s | exact/respect (cold CPU) | exact/respect (cold wall) | bottleneck / exact |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.graphs.split(","):
        cold = {k: [] for k in ks}
        warm = {k: [] for k in ks}
        results = {}
        for _ in range(args.repeat):
            for k in ks:
                graph = make_graph(name)
                solve(graph, target, k, solver="param-balance")  # the graph's lazy arrays
                cold[k].append(timed(solver, graph, target, k)[:2])
            graph = make_graph(name)
            solve(graph, target, ks[0], solver="param-balance")
            for k in ks:
                cpu, wall, res = timed(solver, graph, target, k)
                warm[k].append((cpu, wall))
                results[k] = res
        for k in ks:
            exact = stored.get((name, k))
            if args.measure_exact or exact is None:
                r = solve(make_graph(name), target, k, solver="exact", time_limit_s=60.0)
                exact = {"runtime_s": r.runtime_s, "bottleneck_s": r.bottleneck_s}
            c_cpu = statistics.median(c for c, _ in cold[k])
            c_wall = statistics.median(w for _, w in cold[k])
            w_cpu = statistics.median(c for c, _ in warm[k])
            w_wall = statistics.median(w for _, w in warm[k])
            print(f"| {name} | {results[k].stage_of.__len__()} | {k} | {c_cpu * 1e3:.1f} | {c_wall * 1e3:.1f} | "
                  f"{w_cpu * 1e3:.1f} | {w_wall * 1e3:.1f} | {exact['runtime_s']:.2f} | "
                  f"{exact['runtime_s'] / c_cpu:.0f}x | {exact['runtime_s'] / c_wall:.0f}x | "
                  f"{results[k].bottleneck_s / exact['bottleneck_s']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
