"""The pipeline solvers a ``--solver`` name can pick, declared in one table, and :func:`solve`,
which runs one by name.

Adding a solver: a class implementing :class:`~rlsched_compile.pipeline.base.Solver` (built with
no arguments) in its own module of this package, and one line in :data:`SOLVERS`.
"""
from __future__ import annotations

from typing import Callable

from ..errors import PipelineError
from .balance import GreedySolver, ParamBalanceSolver
from .base import PipelineResult, Solver
from .cost import check_stage_count
from .graph import PipelineGraph
from .exact import ExactSolver
from .respect.solver import RespectSolver
from .target import PipelineTarget

__all__ = ["DEFAULT_SOLVER", "SOLVERS", "solve"]

#: Solver name -> the factory of a new solver object.
SOLVERS: dict[str, Callable[[], Solver]] = {
    "exact": ExactSolver,
    "greedy": GreedySolver,
    "param-balance": ParamBalanceSolver,
    "respect": RespectSolver,
}

#: The solver the ``pipeline`` command uses when none is named.
DEFAULT_SOLVER: str = "respect"


def solve(graph: PipelineGraph, target: PipelineTarget, k: int, *, solver: str | Solver = "exact",
          time_limit_s: float = 30.0) -> PipelineResult:
    """Run a solver after checking k.

    Args:
        graph: the operator graph.
        target: cost constants.
        k: number of stages.
        solver: a name in :data:`SOLVERS` (a new solver object per call), or a solver object, which
            keeps its state between calls (``respect`` reuses one graph's decoding for every k).
        time_limit_s: wall-clock budget (s) of exact solvers.

    Raises:
        PipelineError: bad k or unknown solver.
    """
    check_stage_count(graph, k)
    if isinstance(solver, str):
        if solver not in SOLVERS:
            raise PipelineError(f"unknown pipeline solver {solver!r}; choose one of {', '.join(sorted(SOLVERS))}")
        solver = SOLVERS[solver]()
    return solver.solve(graph, target, k, time_limit_s=time_limit_s)
