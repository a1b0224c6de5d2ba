"""The strategy interface: :class:`Strategy`, the options it is built with
(:class:`StrategyOptions`) and :class:`SearchResult`.

A strategy turns one layer on one target into the best scheduling table it can find. The
strategies a name can pick are declared in one table, :data:`rlsched_compile.search.registry.STRATEGIES`;
a strategy object is built per use from its options (:func:`~rlsched_compile.search.registry.make_strategy`),
never changed afterwards.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..cost import Evaluation
from ..errors import RlschedError
from ..layer import Layer
from ..native.costmodel import evaluate_table
from ..objective import Objective
from ..table import SchedulingTable
from ..targets.model import Target

if TYPE_CHECKING:
    from ..rl.policy import NumpyPolicy

logger = logging.getLogger(__name__)

#: The strategy used when none is named (the one place that says so; one of
#: :data:`rlsched_compile.search.registry.STRATEGIES`).
DEFAULT_STRATEGY: str = "rl-hybrid"

@dataclass(frozen=True)
class SearchResult:
    """The best table one strategy found for one layer.

    Attributes:
        table: the table, spec row order (Register ... DRAM), columns K, B, P, Q, C, R, S, G
            (K and C per group).
        energy_pj: total energy of ``table`` incl. static energy, pJ.
        cycles: total cycles of ``table``.
        evaluations: complete candidate tables evaluated with the cost model.
        wall_time_s: wall-clock time of the search, seconds (not part of equality).
        finished: False when the strategy stopped at its budget before covering its space
            (only ``exhaustive`` can say False).
        strategy: registry name of the strategy.
        objective: the objective the strategy minimized.
        evaluation: the full cost-model result of ``table``.
        dataflows: ``schedule_layer(..., dataflow="flexible")``: the (local buffer, global buffer)
            dataflows chosen with ``table`` (``evaluation`` uses them); None: the target's own.
    """

    table: SchedulingTable
    energy_pj: float
    cycles: float
    evaluations: int
    wall_time_s: float = field(compare=False)
    finished: bool
    strategy: str
    objective: Objective
    evaluation: Evaluation = field(compare=False, repr=False)
    dataflows: tuple[str | None, str | None] | None = None

    @property
    def edp(self) -> float:
        """Energy-delay product, pJ x cycles."""
        return Objective.EDP.measure(self.energy_pj, self.cycles)

    def objective_value(self) -> float:
        """The value of this result's own objective."""
        return self.evaluation.objective(self.objective)

    def table_array(self) -> np.ndarray:
        """The table as an int64 array of shape (10, 8)."""
        return self.table.to_array()


@dataclass(frozen=True)
class StrategyOptions:
    """The settings a strategy is built with, besides the per-call objective, budget and seed.

    Attributes:
        policy_path: the agent strategies' policy file (``--rl-finetune`` passes the fine-tuned
            one); None: the shipped policy. Strategies without an agent ignore it.
    """

    policy_path: Path | None = None


@runtime_checkable
class Strategy(Protocol):
    """A search strategy. ``search`` gets a normalised target and layer and must return only
    valid tables; it raises :class:`~rlsched_compile.errors.SearchError` when it finds none.

    A strategy is built from :class:`StrategyOptions` (``cls(options)``) and not changed after."""

    name: str

    def cache_token(self) -> str | None:
        """What, besides the layer, target, objective, seed and budget, decides this strategy's
        result (e.g. its policy file's sha256 and its constants); part of every schedule-cache key.
        None: nothing does."""
        ...

    def policy(self) -> NumpyPolicy | None:
        """The agent policy the strategy searches with (``--rl-finetune`` starts from it); None:
        the strategy has no agent."""
        ...

    def search(self, target: Target, layer: Layer, *, objective: Objective, budget: int | None,
               seed: int) -> SearchResult:
        """Search one layer.

        Args:
            target: the accelerator.
            layer: the layer.
            objective: what to minimize.
            budget: strategy-specific effort limit (evaluations), None for its default.
            seed: RNG seed (strategies without randomness ignore it).
        """
        ...


class PlainStrategy:
    """Base of the strategies without an agent and with no setting beyond seed and budget: no
    policy, and no cache token (their cache keys are those of before tokens existed)."""

    name = ""

    def __init__(self, options: StrategyOptions = StrategyOptions()) -> None:
        del options  # nothing to configure

    def cache_token(self) -> str | None:
        """None: the layer, target, objective, seed and budget decide the result."""
        return None

    def policy(self) -> NumpyPolicy | None:
        """None: no agent."""
        return None


def make_result(target: Target, layer: Layer, table: Any, *, evaluations: int, started_s: float,
                finished: bool, strategy: str, objective: Objective) -> SearchResult:
    """Build a SearchResult, evaluating ``table`` in full (it must be valid).

    Args:
        started_s: ``time.perf_counter()`` at the start of the search.
    """
    ev = evaluate_table(target, layer, np.asarray(table, dtype=np.int64))
    if not ev.valid:  # a strategy bug, not bad input
        raise RlschedError(f"strategy {strategy!r} returned an invalid table ({ev.invalid_reason}) "
                           f"for layer {layer.name!r}")
    return SearchResult(table=SchedulingTable.from_array(table), energy_pj=ev.energy_pj, cycles=ev.cycles,
                        evaluations=int(evaluations), wall_time_s=time.perf_counter() - started_s,
                        finished=finished, strategy=strategy, objective=objective, evaluation=ev)
