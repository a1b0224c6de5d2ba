"""Search strategies behind one interface, and :func:`schedule_layer`.

Built-in strategies (registry keys): ``bottom-up`` (the reference heuristic), ``random``,
``exhaustive`` and ``row-sweep``. Others register with :func:`register_strategy`.
"""
from __future__ import annotations

from . import bottom_up, exhaustive, random_sampling, row_sweep  # noqa: F401  (register themselves)
from . import rl  # noqa: F401,E402  (the PPO agent: rl, rl-hybrid)
from . import dataflow  # noqa: F401,E402  (schedule_layer(..., dataflow="flexible"))
from .base import DEFAULT_STRATEGY, STRATEGIES, SearchResult, Strategy, register_strategy
from .diagnose import no_valid_table_reason
from .schedule import schedule_layer

__all__ = ["DEFAULT_STRATEGY", "STRATEGIES", "SearchResult", "Strategy", "no_valid_table_reason",
           "register_strategy", "schedule_layer"]
