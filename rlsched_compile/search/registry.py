"""The strategies a ``--search`` name can pick: one declared table, and the one lookup of a name.

Adding a strategy: a class in its own module of this package implementing
:class:`~rlsched_compile.search.base.Strategy` (built as ``cls(options)``; derive from
:class:`~rlsched_compile.search.base.PlainStrategy` when it has no agent and no setting beyond
seed and budget), and one line in :data:`STRATEGIES`.
"""
from __future__ import annotations

import difflib
from typing import Callable

from ..errors import RlschedError
from .base import DEFAULT_STRATEGY, Strategy, StrategyOptions
from .bottom_up import BottomUp
from .exhaustive import Exhaustive
from .random_sampling import RandomSampling
from .rl import AgentAlone, AgentHybrid
from .row_sweep import RowSweep

#: Strategy name -> the class built from :class:`StrategyOptions`, in the order they are listed.
STRATEGIES: dict[str, Callable[[StrategyOptions], Strategy]] = {
    "bottom-up": BottomUp,
    "exhaustive": Exhaustive,
    "random": RandomSampling,
    "row-sweep": RowSweep,
    "rl": AgentAlone,
    "rl-hybrid": AgentHybrid,
}

__all__ = ["DEFAULT_STRATEGY", "STRATEGIES", "check_strategy_name", "make_strategy", "strategy_names"]


def strategy_names() -> list[str]:
    """The declared strategy names, sorted."""
    return sorted(STRATEGIES)


def check_strategy_name(name: str) -> str:
    """``name`` when it is declared.

    Raises:
        RlschedError: an unknown name, in one line with the closest name and every choice.
    """
    if name not in STRATEGIES:
        names = strategy_names()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise RlschedError(f"unknown search strategy {name!r}; {hint}choose one of {', '.join(names)}")
    return name


def make_strategy(name: str, options: StrategyOptions = StrategyOptions()) -> Strategy:
    """A new strategy object of the declared ``name``, built with ``options``.

    Raises:
        RlschedError: unknown name (see :func:`check_strategy_name`).
    """
    return STRATEGIES[check_strategy_name(name)](options)
