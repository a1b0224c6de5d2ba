"""What a search minimizes: :class:`Objective`, parsed once where a name comes in.

An objective picks one figure of an evaluated table: its total energy (``energy_pj``, static
included), its total ``cycles``, or their product, the energy-delay product (``edp``, pJ x
cycles). The command line, :func:`rlsched_compile.api.compile_model`, the sweep file and the
public search functions accept the name as a string and turn it into an :class:`Objective` with
:meth:`Objective.parse` (one message for a bad name); everything below works with the value.

One comparison rule, :meth:`Objective.improves`: a candidate replaces the incumbent only when its
figure is strictly lower, so on a tie the incumbent (the one found first) stays. (Inside one C
search, candidates of equal figure are ordered by the smaller DRAM-row product, then the
lexicographically smaller table: ``rls__better`` in ``c/src/factor.c``.)

The C code of each objective (``RLS_OBJ_*``) is :data:`rlsched_compile.native.costmodel.OBJECTIVE_CODES`,
keyed by :class:`Objective`.
"""
from __future__ import annotations

import difflib
import enum
from typing import Any, TypeVar, Union

from .errors import RlschedError

F = TypeVar("F")


class Objective(str, enum.Enum):
    """One objective; its value is its name (``energy``, ``cycles``, ``edp``).

    A ``str`` enum: it prints, formats and serializes (JSON, cache keys) as its name, so files
    and keys read the same as when objectives were plain strings.
    """

    ENERGY = "energy"
    CYCLES = "cycles"
    EDP = "edp"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def metric(self) -> str:
        """The report/sweep figure this objective minimizes: ``energy_pj``, ``cycles`` or ``edp``."""
        return _METRICS[self]

    def measure(self, energy_pj: F, cycles: F) -> F:
        """This objective's figure from a table's energy (pJ) and cycles: floats, or numpy arrays
        (element-wise)."""
        if self is Objective.ENERGY:
            return energy_pj
        if self is Objective.CYCLES:
            return cycles
        return energy_pj * cycles  # type: ignore[operator,no-any-return]

    def of(self, result: Any) -> Any:
        """:meth:`measure` of anything with ``energy_pj`` and ``cycles`` attributes."""
        return self.measure(result.energy_pj, result.cycles)

    @staticmethod
    def improves(candidate: float, incumbent: float) -> bool:
        """Whether ``candidate``'s figure replaces ``incumbent``'s: strictly lower only (ties keep
        the incumbent)."""
        return candidate < incumbent

    def one_hot(self) -> list[float]:
        """1.0 at this objective's position in :data:`OBJECTIVES` (the agent's feature)."""
        return [1.0 if self is o else 0.0 for o in Objective]

    @classmethod
    def parse(cls, name: "Objective | str") -> "Objective":
        """The objective named ``name`` (an :class:`Objective` is returned as is).

        Raises:
            RlschedError: an unknown name; the one-line message lists the names.
        """
        if isinstance(name, Objective):
            return name
        try:
            return cls(name)
        except ValueError:
            pass
        close = difflib.get_close_matches(str(name), OBJECTIVE_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RlschedError(f"unknown objective {name!r}: use one of {', '.join(OBJECTIVE_NAMES)}{hint}") from None


_METRICS: dict[Objective, str] = {Objective.ENERGY: "energy_pj", Objective.CYCLES: "cycles",
                                  Objective.EDP: "edp"}
#: Every objective, in the order of :meth:`Objective.one_hot`.
OBJECTIVES: tuple[Objective, ...] = tuple(Objective)
#: Their names (command-line choices, sweep files).
OBJECTIVE_NAMES: tuple[str, ...] = tuple(o.value for o in Objective)
#: The objective used when none is named (the one place that says so).
DEFAULT_OBJECTIVE: Objective = Objective.ENERGY

ObjectiveLike = Union[Objective, str]
