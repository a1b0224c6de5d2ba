"""``schedule_layer``: one layer, one target, one strategy."""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Mapping

from ..errors import RlschedError, SearchError
from ..layer import Layer
from ..native.costmodel import as_layer, as_target
from ..targets.model import Target
from . import base
from .base import SearchResult, Strategy, StrategyOptions, check_objective
from .registry import DEFAULT_STRATEGY, STRATEGIES
from .diagnose import no_valid_table_reason

logger = logging.getLogger(__name__)


def schedule_layer(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any], *,
                   search: str | Strategy | None = None, objective: str = "energy", seed: int = 0,
                   budget: int | None = None, dataflow: str = "fixed") -> SearchResult:
    """Find a scheduling table for one layer.

    Args:
        target: a Target, a target dict (spec schema), or a shipped name / path.
        layer: a Layer or a layer dict (K and C totals).
        search: a declared strategy name (:data:`~rlsched_compile.search.registry.STRATEGIES`,
            built with default options), a strategy object (built with its own options), or None
            for the default (:data:`~rlsched_compile.search.registry.DEFAULT_STRATEGY`).
        objective: ``energy`` (pJ, incl. static), ``cycles`` or ``edp``.
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
    if isinstance(search, str) or search is None:
        name = DEFAULT_STRATEGY if search is None else search
        if name not in STRATEGIES:
            raise RlschedError(f"unknown search strategy {name!r}: use one of {', '.join(STRATEGIES)}")
        strategy = STRATEGIES[name](StrategyOptions())
    else:
        strategy = search
    check_objective(objective)
    if dataflow != "fixed":
        # the joint search (search/dataflow.py) plugs itself in, as strategies do, so that this
        # module does not import the one that builds on it
        if dataflow != "flexible" or base.FLEXIBLE_DATAFLOW_SEARCH is None:
            raise RlschedError(f"unknown dataflow mode {dataflow!r}: use one of fixed, flexible")
        flex = base.FLEXIBLE_DATAFLOW_SEARCH(target, layer, search=strategy, objective=objective, seed=seed,
                                             budget=budget)
        return dataclasses.replace(flex.result, dataflows=flex.dataflows)
    if budget is not None and budget < 1:
        raise RlschedError(f"budget must be >= 1 evaluations, got {budget}")
    tgt = as_target(target)
    ly = as_layer(layer)
    why = no_valid_table_reason(tgt, ly)
    if why is not None:
        raise SearchError(why)
    logger.debug("scheduling %s on %s with %s (%s)", ly.name, tgt.name, strategy.name, objective)
    return strategy.search(tgt, ly, objective=objective, budget=budget, seed=seed)
