"""Heuristic solvers that cut the execution order into k contiguous segments.

* ``param-balance``: what the Edge TPU compiler does (``--num_segments``): each segment holds about
  1/k of the parameter bytes.
* ``greedy``: each segment holds about 1/k of the MACs.

Contiguous segments of a topological order always respect every dependency.
"""
from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np

from .base import PipelineResult, make_result
from .cost import stages_from_cuts
from .graph import PipelineGraph
from .target import PipelineTarget

logger = logging.getLogger(__name__)


def balanced_starts(weights: Sequence[float], k: int) -> list[int]:
    """Segment starts that give each of k contiguous segments about 1/k of the total weight.

    Cut s starts at the position whose prefix weight is closest to s/k of the total (earliest on
    ties), keeping every segment non-empty. Zero total weight falls back to equal node counts.

    Args:
        weights: non-negative weight of each position.
        k: number of segments, 1 <= k <= len(weights).

    Returns:
        ``[0, c1, ..., c_{k-1}]``, strictly increasing.
    """
    n = len(weights)
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones(n)
    prefix = np.concatenate(([0.0], np.cumsum(w)))  # prefix[p] = weight before position p
    total = prefix[-1]
    starts = [0]
    for s in range(1, k):
        lo, hi = starts[-1] + 1, n - (k - s)  # room for the remaining segments
        cand = np.arange(lo, hi + 1)
        p = int(cand[np.argmin(np.abs(prefix[cand] - s * total / k))])
        starts.append(p)
    return starts


def _solve_balanced(name: str, key: str, graph: PipelineGraph, target: PipelineTarget, k: int) -> PipelineResult:
    t0 = time.perf_counter()
    order = list(range(graph.n))
    starts = balanced_starts(getattr(graph, key), k)
    stage_of = stages_from_cuts(order, starts)
    runtime = time.perf_counter() - t0
    return make_result(name, graph, target, k, stage_of, runtime_s=runtime, method=f"balance:{key}")


class ParamBalanceSolver:
    """The vendor compiler's behaviour: equal parameter bytes per segment of the execution order."""

    name = "param-balance"

    def solve(self, graph: PipelineGraph, target: PipelineTarget, k: int, *,
              time_limit_s: float = 30.0) -> PipelineResult:
        """See :class:`~rlsched_compile.pipeline.base.Solver`."""
        return _solve_balanced(self.name, "param_bytes", graph, target, k)


class GreedySolver:
    """Equal MACs per segment of the execution order."""

    name = "greedy"

    def solve(self, graph: PipelineGraph, target: PipelineTarget, k: int, *,
              time_limit_s: float = 30.0) -> PipelineResult:
        """See :class:`~rlsched_compile.pipeline.base.Solver`."""
        return _solve_balanced(self.name, "macs", graph, target, k)
