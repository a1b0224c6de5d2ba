"""The record of one solved layer: :class:`SolvedLayer` (and :class:`UnsolvedLayer` when the
search found no valid table).

One value flows through the compile pass for each unique layer: the solve stage makes it (by a
search, or read back from the schedule cache), the cache stores it and gives it back
(:mod:`rlsched_compile.cache`), and the emitters read it through each network layer's
:class:`~rlsched_compile.emit.schedule.LayerSchedule`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .cost import Evaluation
from .layer import Layer
from .objective import Objective
from .table import SchedulingTable


@dataclass(frozen=True)
class SolvedLayer:
    """The schedule found for one unique layer.

    Attributes:
        layer: the layer that was solved (the first of its unique-layer group).
        table: the scheduling table (spec row order; columns K..G, K and C per group); any 10 x 8
            nesting of ints given is taken as its :class:`~rlsched_compile.table.SchedulingTable`.
        evaluation: the cost model's evaluation of ``table`` (always valid; in flexible mode on
            the target with ``dataflows``).
        objective: the objective the search minimized (a name given is parsed).
        strategy: the strategy that produced the table.
        evaluations: cost-model evaluations the search spent.
        finished: whether the search finished within its budget (and its time limit).
        search_time_s: wall time of the search, seconds (of the original search when cached).
        dataflows: flexible mode: the (local buffer, global buffer) dataflows chosen with
            ``table``; None in fixed mode (the target's own).
        fixed_table: flexible mode: the fixed-dataflow table (what fixed mode would produce).
        fixed_evaluation: flexible mode: the evaluation of ``fixed_table`` on the target, for
            the saving against fixed; None in fixed mode.
        cached: whether the record was read back from the schedule cache.
        timed_out: whether ``--time-limit`` stopped the search (such a record is not cached).
    """

    layer: Layer
    table: SchedulingTable
    evaluation: Evaluation
    objective: Objective
    strategy: str
    evaluations: int
    finished: bool
    search_time_s: float
    dataflows: tuple[str | None, str | None] | None = None
    fixed_table: SchedulingTable | None = None
    fixed_evaluation: Evaluation | None = None
    cached: bool = False
    timed_out: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", SchedulingTable.from_array(self.table))
        object.__setattr__(self, "objective", Objective.parse(self.objective))
        if self.fixed_table is not None:
            object.__setattr__(self, "fixed_table", SchedulingTable.from_array(self.fixed_table))


@dataclass(frozen=True)
class UnsolvedLayer:
    """A unique layer without a valid table.

    Attributes:
        layer: the layer.
        message: one-line diagnostic from the search (it names the layer).
        search_time_s: wall time spent, seconds.
        timed_out: whether ``--time-limit`` had passed.
    """

    layer: Layer
    message: str
    search_time_s: float
    timed_out: bool = False

