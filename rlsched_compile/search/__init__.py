"""Search strategies behind one interface, and :func:`schedule_layer`.

The strategies are declared in :data:`~rlsched_compile.search.registry.STRATEGIES` (``bottom-up``,
the reference heuristic; ``exhaustive``; ``random``; ``row-sweep``; the agent's ``rl`` and
``rl-hybrid``); :func:`make_strategy` builds one with its options.
"""
from __future__ import annotations

from .base import PlainStrategy, SearchResult, Strategy, StrategyOptions
from .diagnose import no_valid_table_reason
from .registry import DEFAULT_STRATEGY, STRATEGIES, check_strategy_name, make_strategy, strategy_names
from .schedule import schedule_layer

__all__ = ["DEFAULT_STRATEGY", "STRATEGIES", "PlainStrategy", "SearchResult", "Strategy", "StrategyOptions",
           "check_strategy_name", "make_strategy", "no_valid_table_reason", "schedule_layer", "strategy_names"]
