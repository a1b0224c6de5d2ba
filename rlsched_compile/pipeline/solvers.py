"""Every pipeline solver, and :func:`solve`, which runs one by name.

Importing this module imports every solver module, so that
:data:`~rlsched_compile.pipeline.base.SOLVERS` is complete. :func:`solve` lives here rather than
in :mod:`.base` because the solver modules import :mod:`.base`: finding the solvers from there
was an import cycle.
"""
from __future__ import annotations

from ..errors import PipelineError
from . import balance, exact, respect  # noqa: F401  (registration side effect)
from .base import SOLVERS, PipelineResult, Solver
from .cost import check_stage_count
from .graph import PipelineGraph
from .target import PipelineTarget

__all__ = ["SOLVERS", "solve"]


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
