"""``schedule_layer_fixed``: one layer, one target, one strategy, the target's own dataflows
(:func:`rlsched_compile.search.schedule_layer` with ``dataflow="fixed"``; the flexible search of
:mod:`.dataflow` builds on it)."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from ..errors import RlschedError, SearchError
from ..layer import Layer
from ..native.costmodel import as_layer, as_target
from ..objective import DEFAULT_OBJECTIVE, Objective
from ..targets.model import Target
from .base import SearchResult, Strategy, StrategyOptions
from .diagnose import no_valid_table_reason
from .registry import DEFAULT_STRATEGY, STRATEGIES, check_strategy_name

logger = logging.getLogger(__name__)


def resolve_strategy(search: str | Strategy | None) -> Strategy:
    """A strategy object: ``search`` itself, or the declared one of that name (None: the default)
    built with default options.

    Raises:
        RlschedError: unknown name.
    """
    if search is not None and not isinstance(search, str):
        return search
    name = check_strategy_name(DEFAULT_STRATEGY if search is None else search)
    return STRATEGIES[name](StrategyOptions())


def schedule_layer_fixed(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any], *,
                         search: str | Strategy | None = None, objective: Objective | str = DEFAULT_OBJECTIVE, seed: int = 0,
                         budget: int | None = None) -> SearchResult:
    """Find a scheduling table for one layer with the target's own dataflows.

    Args and errors: as :func:`rlsched_compile.search.schedule.schedule_layer` (without ``dataflow``).
    """
    strategy = resolve_strategy(search)
    objective = Objective.parse(objective)
    if budget is not None and budget < 1:
        raise RlschedError(f"budget must be >= 1 evaluations, got {budget}")
    tgt = as_target(target)
    ly = as_layer(layer)
    why = no_valid_table_reason(tgt, ly)
    if why is not None:
        raise SearchError(why)
    logger.debug("scheduling %s on %s with %s (%s)", ly.name, tgt.name, strategy.name, objective)
    return strategy.search(tgt, ly, objective=objective, budget=budget, seed=seed)
