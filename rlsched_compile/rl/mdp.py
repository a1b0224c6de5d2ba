"""The scheduling MDP of the paper (§3.2), free of torch and gymnasium.

One episode improves the scheduling table of one layer on one target. At each step the agent
names rows; the brute-force row search (``search_rows``, in C) re-factorizes those rows together
with the *current row* ``r`` and keeps the best result. :mod:`.env` wraps this class in the
gymnasium API for training; :mod:`.policy` drives it with the numpy policy at compile time.

Actions (55 of them, paper §3.2):

* ``a < 10``: optimize rows ``{a, r}``;
* ``a >= 10``: optimize rows ``{i, j, r}`` where ``(i, j)`` is the ``(a - 10)``-th pair of
  ``itertools.combinations(range(10), 2)``.

An action is legal when every named row is *writable* (a present level with room for a factor:
spatial rows of an axis of size > 1, the buffers and DRAM; never the Register row) and no named
row equals ``r``, so every legal action touches 2 or 3 distinct writable rows.

Next current row (our rule; the paper only says it is one of the touched rows): after an
improving step, ``r`` moves to the touched row other than ``r`` whose row product grew the most
(ties: the outermost such row); after a step that does not improve, or when no other row grew,
``r`` moves to ``i``, the first row the action named. The agent can therefore walk the focus
from DRAM inward as factors move in, and can move it on purpose at the price of a -1 reward.

Reward (paper eq. (1)), with ``M`` the objective (energy, cycles or EDP) and
``Δ = M_before - M_after``:

* ``15·Δ/M_init`` for an improving two-row action;
* ``10·Δ/M_init`` for an improving three-row (multi-row) action;
* ``-1 - (n - 3)`` for the ``n``-th consecutive non-improving multi-row action when ``n > 3``;
* ``-1`` otherwise (any other non-improving action).

"Consecutive" is read literally: the streak counts multi-row actions that do not improve, in a
row; any other action (an improving one, or a two-row one) resets it to 0.

An episode ends after ``max_steps`` actions, after ``patience`` consecutive non-improving
actions, or when no action is legal. Training uses fixed-length episodes (``patience >=
max_steps``): with early termination, every episode ends with the same ``patience`` failures, so
eq. (1) stops rewarding further improvements and the agent learns to stop early; with a fixed
length, each improving step replaces a -1, so it learns to keep improving (measured: the agent alone
went from 25.8x to 1.07x bottom-up's cycles on ResNet-50/eyeriss_v2).
"""
from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from ..layer import Layer
from ..objective import DEFAULT_OBJECTIVE, Objective
from ..table import (N_COLS, N_ROWS, ROWS, TEMPORAL_LEVEL_ROWS, Row, dram_only_array, fixed_mask, present_mask,
                     spatial_size, writable_mask)
from ..targets.model import DATA_TYPES, SpatialLevel, Target, TemporalLevel
from .config import PPOConfig

logger = logging.getLogger(__name__)

REGISTER_ROW: int = int(Row.REGISTER)
DRAM_ROW: int = int(Row.DRAM)
#: Row pairs of the three-row actions, in action order (a = 10 + index).
PAIRS: tuple[tuple[int, int], ...] = tuple(itertools.combinations(range(N_ROWS), 2))
N_ACTIONS = N_ROWS + len(PAIRS)  # 55
_DATAFLOWS = (None, "IS", "WS", "OS")
#: Metric improvements smaller than this relative amount count as no improvement.
IMPROVE_RTOL = 1e-9


class RowSearchResult(Protocol):
    table: np.ndarray
    energy_pj: float
    cycles: float
    candidates: int


#: ``search_rows(target, layer, table, rows, objective) -> RowSearchResult``
SearchRowsFn = Callable[[Target, Layer, np.ndarray, tuple[int, ...], Objective], RowSearchResult]


def native_search_rows() -> SearchRowsFn:
    """The C brute-force row search (imported on first use)."""
    from ..native.search import search_rows

    return search_rows  # type: ignore[return-value]


def action_named_rows(action: int) -> tuple[int, ...]:
    """The rows an action names (the current row comes on top of them)."""
    if not 0 <= action < N_ACTIONS:
        raise ValueError(f"action {action} out of range 0..{N_ACTIONS - 1}")
    if action < N_ROWS:
        return (action,)
    return PAIRS[action - N_ROWS]


def action_rows(action: int, current_row: int) -> tuple[int, ...]:
    """Sorted distinct rows an action re-optimizes (named rows plus the current row)."""
    return tuple(sorted(set(action_named_rows(action)) | {current_row}))


def legal_actions(writable: np.ndarray, current_row: int) -> np.ndarray:
    """Action mask (bool[55]) for the given writable rows and current row."""
    mask = np.zeros(N_ACTIONS, dtype=bool)
    if not writable[current_row]:
        return mask
    for i in range(N_ROWS):
        mask[i] = bool(writable[i]) and i != current_row
    for k, (i, j) in enumerate(PAIRS):
        mask[N_ROWS + k] = bool(writable[i] and writable[j]) and current_row not in (i, j)
    return mask


def reward(*, metric_before: float, metric_after: float, metric_init: float, multi_row: bool,
           streak: int) -> tuple[float, int, bool]:
    """Paper eq. (1).

    Args:
        metric_before: objective before the step.
        metric_after: objective after the step (never above ``metric_before``).
        metric_init: objective of the episode's start table.
        multi_row: whether the action re-optimized three rows.
        streak: consecutive non-improving multi-row actions before this step.

    Returns:
        (reward, new streak, improved).
    """
    improved = metric_after < metric_before * (1.0 - IMPROVE_RTOL)
    if improved:
        delta = (metric_before - metric_after) / metric_init
        return (10.0 if multi_row else 15.0) * delta, 0, True
    if multi_row:
        n = streak + 1
        return (-1.0 - (n - 3) if n > 3 else -1.0), n, False
    return -1.0, 0, False


def paper_start_table(layer: Layer) -> np.ndarray:
    """The paper's start: every factor in the DRAM row, all other rows 1."""
    return dram_only_array(layer.per_group())


def _log2(x: float) -> float:
    return math.log2(x) if x > 0 else 0.0


def _buffer_capacity_bytes(lv: TemporalLevel | None) -> float:
    if lv is None or lv.capacity is None:
        return 0.0
    cap = lv.capacity
    if cap.form == "separate" and cap.per_type_bytes is not None:
        return float(sum(cap.per_type_bytes.as_tuple()))
    return float((cap.shared_bytes or 0) + (cap.dedicated_bytes or 0))


def static_features(target: Target, layer: Layer, objective: Objective | str) -> np.ndarray:
    """Features that do not change during an episode: layer shape, target and objective."""
    objective = Objective.parse(objective)
    ell = layer.per_group()
    feats: list[float] = [_log2(v) / 10.0 for v in ell]
    feats += [_log2(layer.stride_h + 1) / 2.0, _log2(layer.stride_w + 1) / 2.0, _log2(layer.macs) / 32.0]
    # Size of each row's level: spatial axis sizes and buffer capacities (log scale).
    for row in ROWS:
        if row.spatial:
            feats.append(_log2(spatial_size(target, row)) / 6.0)
        elif row in (Row.LOCAL_BUFFER, Row.GLOBAL_BUFFER):
            feats.append(_log2(1.0 + _buffer_capacity_bytes(getattr(target, row.level))) / 24.0)  # type: ignore[arg-type]
        else:
            feats.append(1.0 if row is Row.DRAM else 0.0)
    # Dataflow, bypass and access energy of each temporal level.
    for row in TEMPORAL_LEVEL_ROWS:
        lv: Any = getattr(target, row.level)  # type: ignore[arg-type]
        df = None if lv is None else lv.dataflow
        feats += [1.0 if df == d else 0.0 for d in _DATAFLOWS]
        feats += [1.0 if lv is not None and t in lv.bypass else 0.0 for t in DATA_TYPES]
        e = 0.0 if lv is None else float(np.mean(lv.access_energy_pj.as_tuple()))
        feats.append(_log2(1.0 + e / max(target.mac_energy_pj, 1e-9)) / 8.0)
    feats.append(target.precision_bits / 32.0)
    feats += objective.one_hot()
    return np.asarray(feats, dtype=np.float32)


def _total_units(target: Target) -> int:
    n = 1
    for lv in (target.mac_array, target.pe_array, target.chip_array):
        if isinstance(lv, SpatialLevel):
            n *= lv.size
    return n


@dataclass(frozen=True)
class StepInfo:
    """What one step did (for logs and tests)."""

    rows: tuple[int, ...]
    improved: bool
    reward: float
    candidates: int


class SchedulingMDP:
    """State and transition of one episode (one layer on one target, one objective).

    Args:
        target: the accelerator.
        layer: the layer to schedule.
        start_table: valid table to start from (e.g. :func:`paper_start_table` or bottom-up's).
        start_energy_pj, start_cycles: cost of ``start_table``.
        objective: ``energy``, ``cycles`` or ``edp`` (an :class:`Objective` or its name).
        search_rows: the row search; default the C one.
        max_steps: actions before the episode is truncated.
        patience: consecutive non-improving actions that end the episode.
        cache: optional dict shared by episodes of the same (target, layer, objective), memoizing
            row searches by (table, rows).
    """

    def __init__(self, target: Target, layer: Layer, start_table: np.ndarray, *, start_energy_pj: float,
                 start_cycles: float, objective: Objective | str = DEFAULT_OBJECTIVE,
                 search_rows: SearchRowsFn | None = None,
                 max_steps: int = PPOConfig.max_steps, patience: int = PPOConfig.patience,
                 cache: dict[tuple[bytes, tuple[int, ...]], tuple[np.ndarray, float, float, int]] | None = None
                 ) -> None:
        self.target = target
        self.layer = layer
        self.objective = Objective.parse(objective)
        self.max_steps = max_steps
        self.patience = patience
        self._search_rows = search_rows or native_search_rows()
        self._cache = {} if cache is None else cache
        self.start_table = np.ascontiguousarray(start_table, dtype=np.int64).copy()
        self.start_energy_pj = float(start_energy_pj)
        self.start_cycles = float(start_cycles)
        self.writable = writable_mask(target)
        self._present = present_mask(target)
        self._fixed = fixed_mask(target)
        self._static = static_features(target, layer, self.objective)
        self._log_ell = np.array([_log2(v) for v in layer.per_group()], dtype=np.float64)
        self._units = _total_units(target)
        self.candidates = 0
        self.reset()

    # ---- state --------------------------------------------------------------------------------

    def metric(self, energy_pj: float, cycles: float) -> float:
        return self.objective.measure(energy_pj, cycles)

    def reset(self) -> np.ndarray:
        """Back to the start table with the current row on DRAM; returns the observation."""
        self.table = self.start_table.copy()
        self.energy_pj = self.start_energy_pj
        self.cycles = self.start_cycles
        self.metric_init = self.metric(self.energy_pj, self.cycles)
        self.current_row = DRAM_ROW
        self.steps = 0
        self.streak = 0
        self.idle = 0
        self.done = False
        self.best_table = self.table.copy()
        self.best_energy_pj, self.best_cycles = self.energy_pj, self.cycles
        return self.observation()

    def action_mask(self) -> np.ndarray:
        return legal_actions(self.writable, self.current_row)

    def observation(self) -> np.ndarray:
        """Fixed-size float32 vector; every entry is roughly in [-2, 2] for any layer and target."""
        logt = np.log2(self.table.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(self._log_ell > 0, logt / np.where(self._log_ell > 0, self._log_ell, 1.0), 0.0)
        row_log = logt.sum(axis=1) / 20.0
        current = np.zeros(N_ROWS)
        current[self.current_row] = 1.0
        macs = float(self.layer.macs)
        e_per_mac = self.energy_pj / max(macs * max(self.target.mac_energy_pj, 1e-9), 1e-30)
        cyc_bound = macs / self._units
        dyn = [
            math.log(max(self.energy_pj, 1e-30) / max(self.start_energy_pj, 1e-30)) / 4.0,
            math.log(max(self.cycles, 1e-30) / max(self.start_cycles, 1e-30)) / 4.0,
            _log2(e_per_mac) / 10.0,
            _log2(max(self.cycles, 1.0) / max(cyc_bound, 1.0)) / 10.0,
            self.steps / max(self.max_steps, 1),
            self.streak / 4.0,
            self.idle / max(self.patience, 1),
        ]
        obs = np.concatenate([frac.reshape(-1), row_log, self._present, self.writable, self._fixed, current,
                              np.asarray(dyn), self._static])
        return obs.astype(np.float32)

    # ---- transition ---------------------------------------------------------------------------

    def _search(self, rows: tuple[int, ...]) -> tuple[np.ndarray, float, float, int]:
        key = (self.table.tobytes(), rows)
        hit = self._cache.get(key)
        if hit is not None:
            return hit[0], hit[1], hit[2], 0
        res = self._search_rows(self.target, self.layer, self.table, rows, self.objective)
        out = (np.ascontiguousarray(res.table, dtype=np.int64).copy(), float(res.energy_pj),
               float(res.cycles), int(res.candidates))
        self._cache[key] = out
        return out

    def step(self, action: int) -> tuple[np.ndarray, float, bool, StepInfo]:
        """Apply a legal action; returns (observation, reward, done, info)."""
        if self.done:
            raise RuntimeError("episode is over: call reset()")
        action = int(action)
        mask = self.action_mask()
        if not mask[action]:
            raise ValueError(f"action {action} is illegal with current row {self.current_row}")
        rows = action_rows(action, self.current_row)
        table, energy_pj, cycles, candidates = self._search(rows)
        self.candidates += candidates
        before = self.metric(self.energy_pj, self.cycles)
        after = self.metric(energy_pj, cycles)
        r, self.streak, improved = reward(metric_before=before, metric_after=after, metric_init=self.metric_init,
                                          multi_row=len(rows) == 3, streak=self.streak)
        named = action_named_rows(action)
        next_row = named[0]
        if improved:
            gain = np.log2(table.astype(np.float64)).sum(axis=1) - np.log2(self.table.astype(np.float64)).sum(axis=1)
            others = [row for row in rows if row != self.current_row]
            best = max(others, key=lambda row: (gain[row], row))
            if gain[best] > 0:
                next_row = best
            self.table, self.energy_pj, self.cycles = table, energy_pj, cycles
            if self.objective.improves(after, self.metric(self.best_energy_pj, self.best_cycles)):
                self.best_table = table.copy()
                self.best_energy_pj, self.best_cycles = energy_pj, cycles
            self.idle = 0
        else:
            self.idle += 1
        self.current_row = next_row
        self.steps += 1
        self.done = (self.steps >= self.max_steps or self.idle >= self.patience
                     or not self.action_mask().any())
        return self.observation(), r, self.done, StepInfo(rows=rows, improved=improved, reward=r,
                                                           candidates=candidates)


OBS_DIM = N_ROWS * N_COLS + N_ROWS * 5 + 7 + 8 + 3 + N_ROWS + 3 * (4 + 3 + 1) + 1 + 3
