"""``schedule_layer``: one layer, one target, one strategy; the target's dataflows
(:mod:`.fixed`) or dataflows chosen with the table (:mod:`.dataflow`)."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ..errors import RlschedError
from ..layer import Layer
from ..objective import DEFAULT_OBJECTIVE, Objective
from ..targets.model import Target
from .base import SearchResult, Strategy
from .dataflow import schedule_layer_flexible
from .fixed import resolve_strategy, schedule_layer_fixed


def schedule_layer(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any], *,
                   search: str | Strategy | None = None, objective: Objective | str = DEFAULT_OBJECTIVE, seed: int = 0,
                   budget: int | None = None, dataflow: str = "fixed") -> SearchResult:
    """Find a scheduling table for one layer.

    Args:
        target: a Target, a target dict (spec schema), or a shipped name / path.
        layer: a Layer or a layer dict (K and C totals).
        search: a declared strategy name (:data:`~rlsched_compile.search.registry.STRATEGIES`,
            built with default options), a strategy object (built with its own options), or None
            for the default (:data:`~rlsched_compile.search.registry.DEFAULT_STRATEGY`).
        objective: ``energy`` (pJ, incl. static), ``cycles`` or ``edp``: an
            :class:`~rlsched_compile.objective.Objective` or its name.
        seed: RNG seed for randomised strategies.
        budget: strategy-specific effort limit in evaluations (None: the strategy's default).
        dataflow: ``fixed`` (the target's declared dataflows) or ``flexible`` (the buffers'
            dataflows chosen jointly with the table, see :mod:`rlsched_compile.search.dataflow`;
            the result's ``dataflows`` says which).

    Returns:
        The strategy's :class:`SearchResult` (always a valid table).

    Raises:
        SearchError: no valid table exists (the message names the rule that always fails), or
            the strategy found none.
        RlschedError: unknown strategy or objective; TargetError / LayerError for bad inputs.
    """
    if dataflow == "fixed":
        return schedule_layer_fixed(target, layer, search=search, objective=objective, seed=seed, budget=budget)
    strategy = resolve_strategy(search)
    objective = Objective.parse(objective)
    if dataflow != "flexible":
        raise RlschedError(f"unknown dataflow mode {dataflow!r}: use one of fixed, flexible")
    flex = schedule_layer_flexible(target, layer, search=strategy, objective=objective, seed=seed, budget=budget)
    return dataclasses.replace(flex.result, dataflows=flex.dataflows)
