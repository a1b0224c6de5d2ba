"""Flexible dataflows: choose each buffer's dataflow per layer, jointly with the scheduling table.

``fixed`` mode (the default everywhere) schedules a layer with each buffer's declared (first)
dataflow. ``flexible`` mode lets the local and global buffer take any dataflow the target allows
(:meth:`~rlsched_compile.targets.model.TemporalLevel.allowed_dataflows`: a declared set, or every
one of IS/WS/OS whose stationary type the buffer does not bypass), and searches dataflows and
table together:

1. **Fixed candidate.** The configured strategy (e.g. ``rl-hybrid``) on the target's own
   dataflows: the fixed-mode result, which flexible mode is never worse than and reports its
   saving against.
2. **One start per combination.** The reference's bottom-up heuristic under every other
   dataflow combination (in C, each level-pair search capped at :data:`BOTTOM_UP_BUDGET`
   options; uncapped this is the reference's ``--dataflow=flexible``). Every start table, the
   fixed result's included, is priced under *every* combination, so a table found for one
   dataflow may start under another.
3. **Joint local search** from the :data:`JOINT_STARTS` best (table, dataflows) pairs: alternate
   a row re-optimisation with the dataflows fixed (exact re-factorization of every pair of
   writable rows in C until a sweep improves nothing) and a dataflow switch with the table fixed
   (all combinations priced on the current table; the best strictly better one is taken), until
   neither improves. The :data:`TRIPLE_FINALS` best results are refined once more the same way
   with triples of rows too. A switch moves the search to a table neighbourhood that no
   per-combination search explores, and the next polish exploits it.

The C cost model takes the dataflows per call (``rls_*_df``), so the combinations share one
built C target. Ties keep the fixed result, then the earlier combination, so the result is
deterministic.
"""
from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import RlschedError, SearchError, TargetError
from ..layer import Layer
from ..native import search as native_search
from ..native.costmodel import as_layer, as_target, evaluate_batch
from ..objective import DEFAULT_OBJECTIVE, Objective
from ..table import Row, writable_rows
from ..targets.model import STATIONARY, Target
from .base import SearchResult, Strategy, make_result
from .fixed import schedule_layer_fixed

logger = logging.getLogger(__name__)

#: Dataflow modes: ``fixed`` (the declared dataflows) and ``flexible`` (chosen per layer).
DATAFLOW_MODES: tuple[str, ...] = ("fixed", "flexible")
#: (table, dataflows) starts that the joint local search refines.
JOINT_STARTS: int = 8
#: How many of the best pair-sweep results are refined with triples of rows as well.
TRIPLE_FINALS: int = 2
#: Options each level-pair search of a per-combination bottom-up start may evaluate.
BOTTOM_UP_BUDGET: int | None = 2000

Choice = tuple[str | None, str | None]


def check_dataflow_mode(mode: str) -> None:
    """Raise RlschedError for an unknown dataflow mode."""
    if mode not in DATAFLOW_MODES:
        raise RlschedError(f"unknown dataflow mode {mode!r}: use one of {', '.join(DATAFLOW_MODES)}")


def dataflow_combinations(target: Target) -> list[Choice]:
    """Every (local buffer, global buffer) dataflow pair flexible mode may use, the target's own
    (fixed-mode) pair first, then the others in the order of the allowed sets."""
    return target.flexible_combinations()


def format_choice(target: Target, choice: Choice) -> str:
    """``WS/OS`` (local/global buffer), ``-`` for no stationarity; one entry without a GB."""
    parts = [choice[0] or "-"] + ([] if target.global_buffer is None else [choice[1] or "-"])
    return "/".join(parts)


def apply_dataflows(target: Target, flows: Any, *, where: str = "dataflows") -> Target:
    """``target`` with the dataflows of a schedule's ``dataflows`` mapping
    (``{local_buffer: WS, global_buffer: OS, dram: null}``; a missing buffer keeps its own).

    Raises:
        TargetError: not a mapping, an unknown level or dataflow, a level the target lacks, or a
            dataflow the buffer cannot take (its stationary type bypassed, or outside its declared
            set); the message says which.
    """
    if not isinstance(flows, Mapping):
        raise TargetError(f"{where}: must be a mapping such as {{local_buffer: WS, global_buffer: OS}}, "
                          f"got {type(flows).__name__}")
    choice = list(target.dataflow_choice())
    for role, df in flows.items():
        if role == "dram":
            if df is not None:
                raise TargetError(f"{where}.dram: DRAM has no dataflow, write null or leave it out (got {df!r})")
            continue
        if role not in ("local_buffer", "global_buffer"):
            raise TargetError(f"{where}: unknown level {role!r}; use local_buffer, global_buffer")
        level = getattr(target, role)
        if level is None:
            raise TargetError(f"{where}.{role}: target {target.name!r} has no {role}; leave it out")
        if df is not None and df not in STATIONARY:
            raise TargetError(f"{where}.{role}: unknown dataflow {df!r}; use IS, WS, OS or null")
        allowed = level.allowed_dataflows()
        if df != level.dataflow and df not in allowed:
            ok = ", ".join(str(a) for a in allowed)
            raise TargetError(f"{where}.{role}: {target.name!r} cannot use {df} there (allowed: {ok}); "
                              "a buffer cannot hold a type it bypasses")
        choice[0 if role == "local_buffer" else 1] = df
    return target.with_dataflows((choice[0], choice[1]))


@dataclass(frozen=True)
class FlexibleResult:
    """One layer scheduled in flexible mode.

    Attributes:
        result: the chosen table, evaluated with the chosen dataflows (``evaluations`` counts the
            whole flexible search; ``strategy`` is the configured strategy's name).
        dataflows: the chosen (local buffer, global buffer) dataflows.
        fixed: the configured strategy's result with the target's own dataflows.
        best_start: objective of the best (table, dataflows) pair before the joint local search
            (best of the per-combination searches: fixed result and bottom-up per combination).
    """

    result: SearchResult
    dataflows: Choice
    fixed: SearchResult
    best_start: float


class _Pricer:
    """Objective of a table under each dataflow combination (one C evaluation per pair)."""

    def __init__(self, variants: list[Target], layer: Layer, objective: Objective) -> None:
        self.variants, self.layer, self.objective = variants, layer, objective

    def values(self, table: np.ndarray) -> list[float]:
        out = []
        for v in self.variants:
            r = _totals(v, self.layer, table)
            out.append(self.objective.measure(r[0], r[1]) if r is not None else float("inf"))
        return out

    def best(self, table: np.ndarray) -> tuple[int, float]:
        vals = self.values(table)
        i = int(np.argmin(vals))  # first minimum: the earlier combination on ties
        return i, vals[i]


def _totals(target: Target, layer: Layer, table: np.ndarray) -> tuple[float, float] | None:
    """(energy, cycles) of one table, None when invalid."""
    r = evaluate_batch(target, layer, np.asarray(table, dtype=np.int64)[None])
    if not r.valid[0]:
        return None
    return float(r.energy_pj[0]), float(r.cycles[0])


def row_groups(target: Target, *, triples: bool) -> list[tuple[Row, ...]]:
    """Pairs (and triples) of the target's writable rows, as the row polish sweeps them."""
    rows = writable_rows(target)
    groups = list(itertools.combinations(rows, 2))
    if triples:
        groups += list(itertools.combinations(rows, 3))
    return groups


def polish(target: Target, layer: Layer, table: np.ndarray, value: float, groups: list[tuple[Row, ...]], *,
           objective: Objective | str, budget: int | None = None) -> tuple[np.ndarray, float, int]:
    """Exact re-factorization of each row group in turn, adopting every strict improvement,
    until a sweep improves nothing (or ``budget`` candidates are spent). Returns (table, value,
    candidates)."""
    objective = Objective.parse(objective)
    candidates = 0
    while True:
        improved = False
        for group in groups:
            if budget is not None and candidates >= budget:
                return table, value, candidates
            r = native_search.search_rows(target, layer, table, group, objective)
            candidates += r.candidates
            v = r.objective(objective)
            if objective.improves(v, value):
                table, value, improved = np.array(r.table), v, True
        if not improved:
            return table, value, candidates


def joint_search(variants: list[Target], layer: Layer, table: np.ndarray, choice: int, *, objective: Objective | str,
                 budget: int | None = None, triples: bool = False) -> tuple[np.ndarray, int, float, int]:
    """The joint local search from (table, variants[choice]).

    Alternates a row polish (every pair of writable rows; with ``triples`` every triple too)
    under the current dataflows with a switch to the best dataflows for the current table, until
    neither improves.

    Returns:
        (table, index of its dataflows in ``variants``, objective value, candidates evaluated).
    """
    objective = Objective.parse(objective)
    pricer = _Pricer(variants, layer, objective)
    value = pricer.values(table)[choice]
    groups = row_groups(variants[0], triples=triples)
    candidates = 0
    while True:
        table, value, n = polish(variants[choice], layer, table, value, groups, objective=objective, budget=budget)
        candidates += n
        best_i, best_v = pricer.best(table)
        candidates += len(variants)
        if objective.improves(best_v, value):
            choice, value = best_i, best_v
            continue  # re-optimise the rows under the new dataflows
        return table, choice, value, candidates


def schedule_layer_flexible(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any], *,
                            search: str | Strategy | None = None, objective: Objective | str = DEFAULT_OBJECTIVE, seed: int = 0,
                            budget: int | None = None, joint_starts: int = JOINT_STARTS,
                            triple_finals: int = TRIPLE_FINALS, bottom_up_starts: bool = True,
                            bottom_up_budget: int | None = BOTTOM_UP_BUDGET) -> FlexibleResult:
    """Schedule one layer choosing its dataflows and table jointly (see the module doc).

    Args:
        target, layer, search, objective, seed, budget: as for
            :func:`~rlsched_compile.search.schedule_layer` (``search`` is the strategy of the
            fixed candidate; ``budget`` also caps each row polish of the joint search).
        joint_starts: how many of the best (table, dataflows) starts the joint search refines
            with pair polishes (0: no local search, only the per-combination starts).
        triple_finals: how many of the best joint-search results are refined again with triples
            of rows too.
        bottom_up_starts: add the bottom-up start of every non-fixed combination.
        bottom_up_budget: cap of each level-pair search of those starts (None: uncapped).

    Returns:
        A :class:`FlexibleResult`; its ``result`` is never worse than ``fixed`` on the objective.

    Raises:
        SearchError: no valid table exists (as in fixed mode).
    """
    started = time.perf_counter()
    tgt = as_target(target)
    ly = as_layer(layer)
    fixed = schedule_layer_fixed(tgt, ly, search=search, objective=objective, seed=seed, budget=budget)
    objective = fixed.objective
    combos = dataflow_combinations(tgt)
    variants = [tgt] + [tgt.with_dataflows(c) for c in combos[1:]]
    pricer = _Pricer(variants, ly, objective)
    evaluations = fixed.evaluations
    fixed_table = fixed.table_array()
    # Starts: the fixed result and bottom-up under every other combination, each priced under all.
    tables = [fixed_table]
    for v in variants[1:] if bottom_up_starts else ():
        try:
            bu = native_search.bottom_up(v, ly, objective, budget=bottom_up_budget)
        except SearchError:
            continue
        evaluations += bu.candidates
        tables.append(np.array(bu.table))
    starts: list[tuple[float, int, int]] = []  # (value, table index, combination index)
    for ti, table in enumerate(tables):
        for ci, val in enumerate(pricer.values(table)):
            starts.append((val, ti, ci))
        evaluations += len(variants)
    fixed_value = fixed.objective_value()
    starts.sort(key=lambda s: (s[0], s[1], s[2]))
    best_value, best_table, best_choice = fixed_value, fixed_table, 0
    if objective.improves(starts[0][0], best_value):
        best_value, best_table, best_choice = starts[0][0], tables[starts[0][1]], starts[0][2]
    best_start = best_value
    seen: set[tuple[int, int]] = set()
    found: list[tuple[float, int, np.ndarray, int]] = []
    for val, ti, ci in starts:
        if len(seen) >= joint_starts or not np.isfinite(val):
            break
        if (ti, ci) in seen:
            continue
        seen.add((ti, ci))
        table, choice, value, n = joint_search(variants, ly, tables[ti], ci, objective=objective, budget=budget,
                                              triples=False)
        evaluations += n
        found.append((value, len(found), table, choice))
        if objective.improves(value, best_value):
            best_value, best_table, best_choice = value, table, choice
    # the best results of the pair sweeps, each refined once more with triples of rows too
    found.sort(key=lambda f: (f[0], f[1]))
    refined: list[tuple[bytes, int]] = []
    for value, _, table, choice in found:
        if len(refined) >= triple_finals:
            break
        key = (table.tobytes(), choice)
        if key in refined:
            continue
        refined.append(key)
        table, choice, value, n = joint_search(variants, ly, table, choice, objective=objective,
                                              budget=budget, triples=True)
        evaluations += n
        if objective.improves(value, best_value):
            best_value, best_table, best_choice = value, table, choice
    if best_choice == 0 and np.array_equal(best_table, fixed_table):
        result = fixed
    else:
        result = make_result(variants[best_choice], ly, best_table, evaluations=evaluations, started_s=started,
                             finished=fixed.finished, strategy=fixed.strategy, objective=objective)
    if result is fixed:
        result = SearchResult(table=fixed.table, energy_pj=fixed.energy_pj, cycles=fixed.cycles,
                              evaluations=evaluations, wall_time_s=time.perf_counter() - started,
                              finished=fixed.finished, strategy=fixed.strategy, objective=objective,
                              evaluation=fixed.evaluation)
    logger.debug("flexible %s: %s -> %s (%.4g of fixed)", ly.name, format_choice(tgt, combos[0]),
                 format_choice(tgt, combos[best_choice]), best_value / fixed_value if fixed_value else 1.0)
    return FlexibleResult(result=result, dataflows=combos[best_choice], fixed=fixed, best_start=best_start)

