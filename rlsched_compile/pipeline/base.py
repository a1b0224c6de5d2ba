"""The solver interface and the result value of pipeline solvers (the solvers a name can pick
are declared in :mod:`.solvers`)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol, Sequence

from .cost import PipelineCost, evaluate
from .graph import PipelineGraph
from .target import PipelineTarget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineResult:
    """What a solver returns.

    Attributes:
        solver: solver name.
        k: number of stages.
        stage_of: 0-based stage of each node (execution-order index).
        cost: the cost of that assignment.
        runtime_s: wall-clock time of the solver (s); not part of deterministic outputs.
        optimal: True when proven optimal, False when an exact solver stopped early (time limit),
            None for heuristics.
        method: how the result was obtained (e.g. ``ilp``, ``dp-chain``, ``pointer+fixup``,
            ``fallback:param-balance``).
        lower_bound_s: proven lower bound on the bottleneck (s), exact solvers only.
        valid_before_fixup: respect only: whether the network's raw output already respected
            every dependency.
        edges_kept_before_fixup: respect only: the share of the graph's edges that the network's
            raw output respects (1.0 when ``valid_before_fixup``).
    """

    solver: str
    k: int
    stage_of: tuple[int, ...]
    cost: PipelineCost
    runtime_s: float
    optimal: bool | None = None
    method: str = ""
    lower_bound_s: float | None = None
    valid_before_fixup: bool | None = None
    edges_kept_before_fixup: float | None = None

    @property
    def bottleneck_s(self) -> float:
        """max_s T_s (s)."""
        return self.cost.bottleneck_s

    @property
    def latency_s(self) -> float:
        """sum_s T_s (s)."""
        return self.cost.latency_s


class Solver(Protocol):
    """A pipeline-stage solver: assigns every node of a graph to one of k stages."""

    name: str

    def solve(self, graph: PipelineGraph, target: PipelineTarget, k: int, *,
              time_limit_s: float) -> PipelineResult:
        """Assign every node to a stage.

        Args:
            graph: the operator graph.
            target: cost constants.
            k: number of stages, 1 <= k <= graph.n.
            time_limit_s: wall-clock budget (s); only exact solvers use it.
        """
        ...


def make_result(solver: str, graph: PipelineGraph, target: PipelineTarget, k: int,
                stage_of: Sequence[int], *, runtime_s: float, **extra: object) -> PipelineResult:
    """Evaluate ``stage_of`` and wrap it in a :class:`PipelineResult` (raises if invalid)."""
    cost = evaluate(graph, target, stage_of, k)
    return PipelineResult(solver=solver, k=k, stage_of=tuple(int(s) for s in stage_of), cost=cost,
                          runtime_s=runtime_s, **extra)  # type: ignore[arg-type]
