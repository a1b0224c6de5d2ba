"""The exact pipeline solver: minimise the bottleneck max_s T_s, then the latency sum_s T_s.

* Chain-like graphs (the execution order is the only topological order): every valid assignment
  cuts that order into contiguous segments, so a DP over the order is exact
  (:func:`~rlsched_compile.pipeline.cost.best_contiguous_cuts`).
* General DAGs: a mixed-integer program solved by HiGHS (``highspy``) in two phases (bottleneck,
  then latency with the bottleneck capped), warm-started with the best contiguous cut of the
  execution order. When the time limit stops HiGHS before it proves optimality the result carries
  ``optimal=False`` and the proven lower bound.

MIP variables, for node v and stage s (0-based, k stages):

* ``z[v,s]`` binary, s < k-1: 1 when stage(v) <= s (``z[v,k-1] = 1``); ``x[v,s] = z[v,s] - z[v,s-1]``
  is 1 when v sits in stage s. Edge u -> v: ``z[v,s] <= z[u,s]``. Every stage non-empty.
* ``w[u,s] >= x[u,s] - x[v,s]`` for each consumer v (u's output leaves stage s); sinks always leave.
* ``e[u,s] >= x[v,s] - x[u,s]`` for each consumer v (u's output enters stage s).
* ``q[s] >= sum_v param_bytes[v] x[v,s] - M_on`` (bytes streamed off chip); ``B >= T_s``.

Times are in milliseconds inside the MIP for conditioning.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Sequence

import highspy
import numpy as np

from .._stdout import native_stdout_diverted
from ..errors import SearchError
from .base import PipelineResult, make_result
from .cost import best_contiguous_cuts, evaluate, segment_cost_matrix, stages_from_cuts
from .graph import PipelineGraph
from .target import PipelineTarget

logger = logging.getLogger(__name__)

#: Relative MIP gap under which HiGHS reports (and we call) a solution optimal.
MIP_REL_GAP = 1e-6
_MS = 1e3


class _Model:
    """Column/row bookkeeping for one HiGHS model."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.rows: list[tuple[float, float, dict[int, float]]] = []

    def var(self, lo: float, hi: float, *, integer: bool = False) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        if integer:
            self.integer.append(len(self.lower) - 1)
        return len(self.lower) - 1

    def row(self, lo: float, hi: float, terms: dict[int, float]) -> int:
        self.rows.append((lo, hi, terms))
        return len(self.rows) - 1

    def to_highs(self, *, time_limit_s: float) -> highspy.Highs:
        h = _new_highs()
        for option, value in (("threads", 1), ("random_seed", 0),
                              ("mip_rel_gap", MIP_REL_GAP), ("time_limit", max(0.01, time_limit_s))):
            h.setOptionValue(option, value)
        n = len(self.lower)
        h.addVars(n, np.asarray(self.lower), np.asarray(self.upper))
        if self.integer:
            idx = np.asarray(self.integer, dtype=np.int32)
            h.changeColsIntegrality(len(idx), idx,
                                    np.full(len(idx), highspy.HighsVarType.kInteger))
        starts, index, value = [], [], []
        for _, _, terms in self.rows:
            starts.append(len(index))
            for col, coef in terms.items():
                if coef != 0.0:
                    index.append(col)
                    value.append(coef)
        h.addRows(len(self.rows), np.asarray([r[0] for r in self.rows]), np.asarray([r[1] for r in self.rows]),
                  len(index), np.asarray(starts, dtype=np.int32), np.asarray(index, dtype=np.int32),
                  np.asarray(value, dtype=np.float64))
        return h


def _new_highs() -> highspy.Highs:
    """A silent HiGHS object: nothing of it ever reaches stdout.

    HiGHS prints a banner to file descriptor 1 from the constructor of the first solver object of
    a process, before any option can be set, so the constructor runs with that descriptor
    diverted. Afterwards the solver's console log is off (``log_to_console`` false); when this
    module's logger is at DEBUG level (``-v``) its log lines are passed to the logger (stderr)
    through HiGHS's logging callback, otherwise logging is off (``output_flag`` false).
    """
    debug = logger.isEnabledFor(logging.DEBUG)
    with native_stdout_diverted(to_stderr=debug):
        h = highspy.Highs()
    h.setOptionValue("log_to_console", False)
    h.setOptionValue("output_flag", debug)
    if debug:
        h.cbLogging.subscribe(_log_highs_line)
    return h


def _log_highs_line(event: object) -> None:
    text = str(getattr(event, "message", "")).rstrip()
    if text:
        logger.debug("HiGHS: %s", text)


def _add(terms: dict[int, float], col: int | None, coef: float) -> None:
    if col is not None:
        terms[col] = terms.get(col, 0.0) + coef


def solve_ilp(graph: PipelineGraph, target: PipelineTarget, k: int, *, time_limit_s: float,
              start: Sequence[int] | None = None) -> tuple[list[int], bool, float]:
    """Solve the two-phase MIP.

    Args:
        graph: the graph.
        target: cost constants.
        k: number of stages (1 <= k <= n).
        time_limit_s: wall-clock budget for both phases (s).
        start: a valid assignment to warm-start from (also returned if HiGHS finds nothing better).

    Returns:
        (stage of each node, proven optimal, lower bound on the bottleneck in s).
    """
    t_end = time.perf_counter() + time_limit_s
    n = graph.n
    m = _Model()
    # z[v][s] columns for s < k-1; the constants z[v,-1] = 0 and z[v,k-1] = 1 are folded in by x_terms.
    z = [[m.var(0, 1, integer=True) for _ in range(k - 1)] for _ in range(n)]

    def x_terms(v: int, s: int, coef: float, terms: dict[int, float]) -> float:
        """Add coef * x[v,s] to terms; returns the constant part."""
        const = 0.0
        if s < k - 1:
            _add(terms, z[v][s], coef)
        else:
            const += coef
        if s > 0:
            _add(terms, z[v][s - 1], -coef)
        return const

    for v in range(n):
        for s in range(k - 2):
            m.row(-np.inf, 0.0, {z[v][s]: 1.0, z[v][s + 1]: -1.0})
    for u, v in graph.edges:
        for s in range(k - 1):
            m.row(-np.inf, 0.0, {z[v][s]: 1.0, z[u][s]: -1.0})
    for s in range(k):
        terms: dict[int, float] = {}
        const = sum(x_terms(v, s, 1.0, terms) for v in range(n))
        m.row(1.0 - const, np.inf, terms)
    arr = graph.arrays
    a_mac = _MS / target.effective_macs_per_s
    a_off = _MS / target.off_chip_bytes_per_s
    a_link = _MS / target.link_bytes_per_s
    bottleneck = m.var(0, np.inf)
    q_cols: list[int] = []
    t_terms_list: list[tuple[dict[int, float], float]] = []
    leave: dict[tuple[int, int], int] = {}
    enter: dict[tuple[int, int], int] = {}
    for s in range(k):
        # T_s expression in ms: terms + const.
        terms = {}
        const = target.hop_s * _MS
        q = m.var(0, np.inf)
        q_cols.append(q)
        q_terms: dict[int, float] = {q: -1.0}
        q_const = sum(x_terms(v, s, float(arr["param_bytes"][v]), q_terms) for v in range(n))
        m.row(-np.inf, target.on_chip_bytes - q_const, q_terms)
        _add(terms, q, a_off)
        for v in range(n):
            coef = a_mac * arr["macs"][v] + a_link * arr["in_bytes"][v]
            if not graph.succs[v]:
                coef += a_link * arr["out_bytes"][v]
            if coef:
                const += x_terms(v, s, coef, terms)
        for u in range(n):
            if not graph.succs[u] or arr["out_bytes"][u] == 0:
                continue
            w = leave[u, s] = m.var(0, 1)
            e = enter[u, s] = m.var(0, 1)
            _add(terms, w, a_link * arr["out_bytes"][u])
            _add(terms, e, a_link * arr["out_bytes"][u])
            for v in graph.succs[u]:
                lt: dict[int, float] = {w: -1.0}
                c = x_terms(u, s, 1.0, lt) + x_terms(v, s, -1.0, lt)
                m.row(-np.inf, -c, lt)
                et: dict[int, float] = {e: -1.0}
                c = x_terms(v, s, 1.0, et) + x_terms(u, s, -1.0, et)
                m.row(-np.inf, -c, et)
        row_terms = dict(terms)
        _add(row_terms, bottleneck, -1.0)
        m.row(-np.inf, -const, row_terms)
        t_terms_list.append((terms, const))
    h = m.to_highs(time_limit_s=t_end - time.perf_counter())
    ncol = len(m.lower)

    def start_vector(stage_of: Sequence[int]) -> np.ndarray:
        val = np.zeros(ncol)
        for v in range(n):
            for s in range(k - 1):
                val[z[v][s]] = 1.0 if stage_of[v] <= s else 0.0
        for (u, s), col in leave.items():
            val[col] = 1.0 if stage_of[u] == s and any(stage_of[v] != s for v in graph.succs[u]) else 0.0
        for (u, s), col in enter.items():
            val[col] = 1.0 if stage_of[u] != s and any(stage_of[v] == s for v in graph.succs[u]) else 0.0
        cost = evaluate(graph, target, stage_of, k)
        for s, col in enumerate(q_cols):
            val[col] = max(0.0, cost.stages[s].param_bytes - target.on_chip_bytes)
        val[bottleneck] = cost.bottleneck_s * _MS
        return val

    def set_start(stage_of: Sequence[int]) -> None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start_vector(stage_of))
        sol.value_valid = True
        h.setSolution(sol)

    # Phase 1: minimise the bottleneck.
    cost_vec = np.zeros(ncol)
    cost_vec[bottleneck] = 1.0
    h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), cost_vec)
    if start is not None:
        set_start(start)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    proven = status == highspy.HighsModelStatus.kOptimal
    if info.primal_solution_status != 2:  # no feasible solution: keep the start
        if start is None:
            raise SearchError(f"HiGHS found no stage assignment within {time_limit_s:g} s "
                              f"({h.modelStatusToString(status)}); raise --time-limit")
        return list(start), False, 0.0
    lower_ms = float(info.mip_dual_bound) if not proven else float(info.objective_function_value)
    best_ms = float(info.objective_function_value)
    phase1 = _read_stages(h.getSolution().col_value, z, n, k)
    # Phase 2: minimise the latency with every stage within the bottleneck found.
    remaining = t_end - time.perf_counter()
    if remaining <= 0.05:
        return phase1, False, lower_ms / _MS  # latency not minimised: not proven
    h.changeColBounds(bottleneck, 0.0, best_ms * (1 + 1e-9) + 1e-12)
    lat_cost = np.zeros(ncol)
    for terms, _ in t_terms_list:
        for col, coef in terms.items():
            lat_cost[col] += coef
    h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), lat_cost)
    h.setOptionValue("time_limit", max(0.01, remaining))
    set_start(phase1)
    h.run()
    status2 = h.getModelStatus()
    if h.getInfo().primal_solution_status == 2:
        result = _read_stages(h.getSolution().col_value, z, n, k)
    else:
        result = phase1
    proven = proven and status2 == highspy.HighsModelStatus.kOptimal
    return result, proven, lower_ms / _MS


def _read_stages(col_value: Sequence[float], z: list[list[int]], n: int, k: int) -> list[int]:
    stage_of = []
    for v in range(n):
        s = k - 1
        for t in range(k - 1):
            if col_value[z[v][t]] > 0.5:
                s = t
                break
        stage_of.append(s)
    return stage_of


def best_order_cut(graph: PipelineGraph, target: PipelineTarget, k: int,
                   order: Sequence[int] | None = None) -> list[int]:
    """Optimal contiguous cut of a topological order (default: the execution order)."""
    order = list(range(graph.n)) if order is None else list(order)
    starts = best_contiguous_cuts(segment_cost_matrix(graph, target, order), k)
    return stages_from_cuts(order, starts)


class ExactSolver:
    """Optimal stage assignment: DP for chain-like graphs, two-phase HiGHS MIP otherwise."""

    name = "exact"

    def solve(self, graph: PipelineGraph, target: PipelineTarget, k: int, *,
              time_limit_s: float = 30.0) -> PipelineResult:
        """See :class:`~rlsched_compile.pipeline.base.Solver`."""
        t0 = time.perf_counter()
        start = best_order_cut(graph, target, k)
        if graph.is_chain_like() or k == 1:
            result = make_result(self.name, graph, target, k, start, runtime_s=time.perf_counter() - t0,
                                 optimal=True, method="dp-chain")
            return _with_bound(result, result.bottleneck_s)
        stage_of, proven, lower_s = solve_ilp(graph, target, k, time_limit_s=time_limit_s, start=start)
        # HiGHS works to a relative gap; never return something worse than the warm start.
        cand = evaluate(graph, target, stage_of, k)
        base = evaluate(graph, target, start, k)
        if (base.bottleneck_s, base.latency_s) < (cand.bottleneck_s, cand.latency_s):
            stage_of = start
        runtime = time.perf_counter() - t0
        result = make_result(self.name, graph, target, k, stage_of, runtime_s=runtime, optimal=proven,
                             method="ilp")
        return _with_bound(result, min(lower_s, result.bottleneck_s))


def _with_bound(result: PipelineResult, lower_s: float) -> PipelineResult:
    return replace(result, lower_bound_s=lower_s)
