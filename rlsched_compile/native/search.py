"""Typed wrapper of the C searches (``c/src/search.c``, ``bottomup.c``).

Every function takes a target and a layer as :func:`~rlsched_compile.native.costmodel.evaluate_table`
does (Target / dict / shipped name; Layer / dict), checks its arguments, calls C once with the
GIL released (cffi does that for every call), and returns a frozen :class:`RowSearch`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import RlschedError, SearchError
from ..layer import Layer
from ..objective import DEFAULT_OBJECTIVE, Objective
from ..table import N_COLS, N_ROWS, ROW_NAMES, Row
from ..targets.model import Target
from ._rls import ffi, lib
from .costmodel import (as_layer, as_table, as_target, check_status, native_dataflows, native_layer, native_target,
                        objective_code)

logger = logging.getLogger(__name__)

__all__ = ["RowSearch", "bottom_up", "exhaustive", "random_search", "sample_valid", "search_rows", "writable_rows"]


@dataclass(frozen=True)
class RowSearch:
    """Outcome of one C search.

    Attributes:
        table: best table found, int64 array of shape (10, 8), spec row order.
        energy_pj: its total energy (incl. static), pJ.
        cycles: its total cycles.
        candidates: complete candidate tables evaluated with the cost model.
        finished: False only when an exhaustive search stopped at its budget.
    """

    table: np.ndarray = field(compare=False)
    energy_pj: float
    cycles: float
    candidates: int
    finished: bool = True

    def objective(self, objective: Objective | str) -> float:
        """Value of ``energy`` (pJ), ``cycles`` or ``edp`` (pJ x cycles)."""
        return Objective.parse(objective).measure(self.energy_pj, self.cycles)


class _Out:
    """Output buffers of one search call."""

    def __init__(self) -> None:
        self.table = np.empty((N_ROWS, N_COLS), dtype=np.int64)
        self.summary = ffi.new("rls_summary *")
        self.count = ffi.new("int64_t *")

    def table_ptr(self) -> Any:
        return ffi.cast("int64_t *", ffi.from_buffer(self.table))

    def result(self, status: int, what: str, *, finished: bool = True) -> RowSearch:
        if status == lib.RLS_E_NOT_FOUND:
            raise SearchError(f"{what}: no valid table found after {int(self.count[0])} candidates")
        if status == lib.RLS_E_NOMEM:
            raise SearchError(f"{what}: the layer's factorization space is too large for this strategy "
                              "(over 2^24 stored factors per column); use the default strategy or bottom-up")
        check_status(status, what)
        self.table.setflags(write=False)
        return RowSearch(table=self.table, energy_pj=float(self.summary.energy_pj),
                         cycles=float(self.summary.cycles), candidates=int(self.count[0]), finished=finished)


def _prepare(target: Target | Mapping[str, Any] | str,
             layer: Layer | Mapping[str, Any]) -> tuple[Any, Layer, Any, Any]:
    """(the target's dataflows for the ``_df`` call, layer, C target handle, C layer)."""
    tgt = as_target(target)
    ly = as_layer(layer)
    return native_dataflows(tgt), ly, native_target(tgt), native_layer(ly)


def search_rows(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any], table: Any,
                rows: Sequence[int | str], objective: Objective | str = DEFAULT_OBJECTIVE, *,
                plain: bool = False) -> RowSearch:
    """Brute-force re-factorization of 2 to 4 rows of a table (paper §3.4).

    Args:
        target: a Target, a target dict, or a shipped name / path.
        layer: a Layer or a layer dict.
        table: the starting table, 10 x 8 ints (spec row order).
        rows: 2 to 4 distinct row indices (0..9) or row names (``"LocalBuffer"``, ``"DRAM"``...).
        objective: ``energy`` (pJ), ``cycles`` or ``edp``.
        plain: run the plain walk (every partial table checked against every rule, every
            complete table evaluated in full) instead of the pruned one; the same result and
            candidate count, slower: the reference the pruned walk is tested against.

    Returns:
        The best table over every ordered factorization of the selected rows' column products
        (other rows unchanged); never worse than ``table`` when ``table`` is valid. Ties: lower
        objective, then smaller DRAM-row product, then the lexicographically smaller table.

    Raises:
        SearchError: no valid table exists among the candidates.
        RlschedError: bad rows or objective; TableError for a malformed table.
    """
    df, ly, t, c_layer = _prepare(target, layer)
    arr = as_table(table)
    idx: list[int] = []
    for r in rows:
        if isinstance(r, str):
            if r not in ROW_NAMES:
                raise RlschedError(f"unknown row {r!r}: use one of {', '.join(ROW_NAMES)}")
            idx.append(Row.by_label(r))
        elif isinstance(r, (int, np.integer)) and 0 <= int(r) < N_ROWS:
            idx.append(int(r))
        else:
            raise RlschedError(f"row {r!r} is not a row index 0..9 or a row name")
    if not 2 <= len(idx) <= 4 or len(set(idx)) != len(idx):
        raise RlschedError(f"search_rows needs 2 to 4 distinct rows, got {list(rows)!r}")
    c_rows = ffi.new("int32_t[]", idx)
    out = _Out()
    fn = lib.rls_search_rows_plain_df if plain else lib.rls_search_rows_df
    st = fn(t, df, c_layer, ffi.from_buffer("int64_t[]", arr), c_rows, len(idx),
                             objective_code(objective), out.table_ptr(), out.summary, out.count)
    return out.result(st, f"search_rows on layer {ly.name!r}")


def bottom_up(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any],
              objective: Objective | str = DEFAULT_OBJECTIVE, *, budget: int | None = None) -> RowSearch:
    """The reference's bottom-up heuristic (spec §12, fixed dataflows) in C.

    Args:
        budget: None for the reference's heuristic as is; otherwise the most options each of its
            level-pair searches (one per pair and surviving candidate, at most 7) evaluates.
            ``.finished`` is False when the budget cut one short (the result is then a cheaper
            approximation).

    Raises:
        SearchError: the heuristic found no valid table.
    """
    df, ly, t, c_layer = _prepare(target, layer)
    if budget is not None and budget < 1:
        raise RlschedError(f"budget must be >= 1 evaluations, got {budget}")
    out = _Out()
    finished = ffi.new("int32_t *")
    st = lib.rls_bottom_up_df(t, df, c_layer, objective_code(objective), budget or 0, out.table_ptr(), out.summary,
                           out.count, finished)
    return out.result(st, f"bottom-up on layer {ly.name!r}", finished=bool(finished[0]))


def exhaustive(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any],
               objective: Objective | str = DEFAULT_OBJECTIVE, *, budget: int | None = None) -> RowSearch:
    """Complete enumeration of every writable row with pruning.

    Args:
        budget: the most candidates to evaluate (None: no limit). ``.finished`` says whether the
            whole space was covered (then the result is the model's optimum).

    Raises:
        SearchError: no valid table was found within the budget.
    """
    df, ly, t, c_layer = _prepare(target, layer)
    if budget is not None and budget < 1:
        raise RlschedError(f"budget must be >= 1 evaluations, got {budget}")
    out = _Out()
    finished = ffi.new("int32_t *")
    st = lib.rls_exhaustive_df(t, df, c_layer, objective_code(objective), budget or 0, out.table_ptr(),
                            out.summary, out.count, finished)
    return out.result(st, f"exhaustive search on layer {ly.name!r}", finished=bool(finished[0]))


def random_search(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any],
                  objective: Objective | str = DEFAULT_OBJECTIVE, *, seed: int = 0, budget: int = 1000) -> RowSearch:
    """Random sampling of valid tables (Timeloop-mapper-like), ``budget`` evaluations, seeded.

    Raises:
        SearchError: no valid table was drawn.
    """
    df, ly, t, c_layer = _prepare(target, layer)
    if budget < 1:
        raise RlschedError(f"budget must be >= 1 evaluations, got {budget}")
    out = _Out()
    st = lib.rls_random_search_df(t, df, c_layer, objective_code(objective), seed & 0xFFFFFFFFFFFFFFFF, budget,
                               out.table_ptr(), out.summary, out.count)
    return out.result(st, f"random search on layer {ly.name!r}")


def sample_valid(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any], *,
                 rng_state: int) -> tuple[np.ndarray, int]:
    """Draw one valid table; returns it and the advanced RNG state (pass it to the next call).

    Raises:
        SearchError: no valid table could be drawn.
    """
    df, ly, t, c_layer = _prepare(target, layer)
    state = ffi.new("uint64_t *", rng_state & 0xFFFFFFFFFFFFFFFF)
    table = np.empty((N_ROWS, N_COLS), dtype=np.int64)
    st = lib.rls_sample_valid(t, c_layer, state, ffi.cast("int64_t *", ffi.from_buffer(table)))
    if st == lib.RLS_E_NOT_FOUND:
        raise SearchError(f"layer {ly.name!r}: no valid table could be drawn")
    check_status(st, f"sample_valid on layer {ly.name!r}")
    return table, int(state[0])


def writable_rows(target: Target | Mapping[str, Any] | str) -> tuple[Row, ...]:
    """The rows the C searches write (``rls_writable_rows``), ascending: the same set as
    :func:`rlsched_compile.table.writable_rows` (a test checks it)."""
    out = ffi.new("int32_t[]", N_ROWS)
    n = lib.rls_writable_rows(native_target(as_target(target)), out)
    return tuple(Row(int(out[i])) for i in range(n))
