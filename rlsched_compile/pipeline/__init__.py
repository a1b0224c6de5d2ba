"""Graph-level pass: assign every operator to a pipeline stage (one chip per stage).

Public names: :func:`load_pipeline_target`, :func:`load_graph`, :func:`solve`, :data:`SOLVERS`,
:func:`evaluate` and the values they return. See :mod:`.cost` for the cost model.
"""
from __future__ import annotations

from .base import PipelineResult, Solver
from .cost import PipelineCost, StageCost, evaluate
from .graph import PipelineGraph, build_graph, load_graph, load_graph_json
from .solvers import SOLVERS, solve
from .target import PipelineTarget, load_pipeline_target

__all__ = [
    "SOLVERS", "PipelineCost", "PipelineGraph", "PipelineResult", "PipelineTarget", "Solver",
    "StageCost", "build_graph", "evaluate", "load_graph", "load_graph_json", "load_pipeline_target",
    "solve",
]
