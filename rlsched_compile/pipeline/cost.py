"""The pipeline-stage cost model.

A stage s (one chip) holding a set of operators costs, per inference::

    T_s = MACs_s / (eta * P)                                   compute
        + max(0, param_bytes_s - M_on) / B_off                 parameters streamed from the host
        + (bytes entering s + bytes leaving s) / B_link        tensors crossing the link
        + c_hop                                                fixed per-stage overhead

throughput = 1 / max_s T_s (the bottleneck), latency = sum_s T_s. A stage assignment is valid when
stage(u) <= stage(v) for every edge u -> v and every stage holds at least one operator.

Bytes entering s: each producer outside s with at least one consumer in s counts its output once,
plus the host inputs (``in_bytes``) of the nodes in s. Bytes leaving s: each node of s whose output
is consumed outside s, or that has no consumer (it goes to the host), counts its output once.
Tensors move between chips through the host (Coral pipelining), so a tensor that skips a stage is
not charged to the stages it skips.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import PipelineError
from .graph import PipelineGraph
from .target import PipelineTarget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageCost:
    """Cost of one stage.

    Attributes:
        nodes: node indices (execution order) of the stage.
        macs: sum of MACs.
        param_bytes: sum of parameter bytes.
        offchip_bytes: parameter bytes beyond M_on, streamed per inference.
        in_link_bytes: bytes entering the stage (other stages and host inputs).
        out_link_bytes: bytes leaving the stage (other stages and host outputs).
        compute_s, offchip_s, link_s, hop_s: the four terms of T_s (s).
        total_s: T_s (s).
    """

    nodes: tuple[int, ...]
    macs: int
    param_bytes: int
    offchip_bytes: int
    in_link_bytes: int
    out_link_bytes: int
    compute_s: float
    offchip_s: float
    link_s: float
    hop_s: float
    total_s: float


@dataclass(frozen=True)
class PipelineCost:
    """Cost of a full stage assignment.

    Attributes:
        stages: cost of each stage, in pipeline order.
        bottleneck_s: max_s T_s (s); 1 / bottleneck_s is the throughput.
        latency_s: sum_s T_s (s).
        bottleneck_stage: index of the slowest stage (first one on ties).
    """

    stages: tuple[StageCost, ...]
    bottleneck_s: float
    latency_s: float
    bottleneck_stage: int

    @property
    def throughput_per_s(self) -> float:
        """Inferences per second of the full pipeline."""
        return 1.0 / self.bottleneck_s


def check_stage_count(graph: PipelineGraph, k: int) -> None:
    """Raise when k stages cannot be formed.

    Raises:
        PipelineError: k < 1 or k > number of nodes.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise PipelineError(f"stage count must be an integer >= 1, got {k!r}; pass e.g. --stages 4")
    if k > graph.n:
        raise PipelineError(f"{k} stages need at least {k} operators but graph {graph.name!r} has "
                            f"{graph.n}; pass --stages {graph.n} or fewer")


def dependency_violations(graph: PipelineGraph, stage_of: Sequence[int]) -> list[tuple[int, int]]:
    """Edges (u, v) with stage(u) > stage(v)."""
    return [(u, v) for u, v in graph.edges if stage_of[u] > stage_of[v]]


def validate_assignment(graph: PipelineGraph, stage_of: Sequence[int], k: int) -> None:
    """Raise unless ``stage_of`` is a valid assignment of the graph to k stages.

    Raises:
        PipelineError: wrong length, stage out of range, empty stage or a dependency violation.
    """
    if len(stage_of) != graph.n:
        raise PipelineError(f"assignment has {len(stage_of)} entries for {graph.n} nodes")
    used = set(stage_of)
    if not used <= set(range(k)):
        raise PipelineError(f"assignment uses stages {sorted(used - set(range(k)))} outside 0..{k - 1}")
    if len(used) != k:
        raise PipelineError(f"assignment leaves stages {sorted(set(range(k)) - used)} empty")
    bad = dependency_violations(graph, stage_of)
    if bad:
        u, v = bad[0]
        raise PipelineError(f"assignment breaks {len(bad)} dependencies, e.g. node {graph.ids[u]} "
                            f"(stage {stage_of[u]}) -> node {graph.ids[v]} (stage {stage_of[v]})")


def evaluate(graph: PipelineGraph, target: PipelineTarget, stage_of: Sequence[int], k: int) -> PipelineCost:
    """Cost of assigning node i to stage ``stage_of[i]`` (0-based) in a k-stage pipeline.

    Raises:
        PipelineError: the assignment is not valid (see :func:`validate_assignment`).
    """
    validate_assignment(graph, stage_of, k)
    members: list[list[int]] = [[] for _ in range(k)]
    for v, s in enumerate(stage_of):
        members[s].append(v)
    stages: list[StageCost] = []
    for s in range(k):
        nodes = members[s]
        macs = sum(graph.macs[v] for v in nodes)
        params = sum(graph.param_bytes[v] for v in nodes)
        offchip = int(max(0.0, params - target.on_chip_bytes))
        entering = sum(graph.in_bytes[v] for v in nodes)
        producers = {u for v in nodes for u in graph.preds[v] if stage_of[u] != s}
        entering += sum(graph.out_bytes[u] for u in producers)
        leaving = sum(graph.out_bytes[v] for v in nodes
                      if not graph.succs[v] or any(stage_of[w] != s for w in graph.succs[v]))
        compute_s = macs / target.effective_macs_per_s
        offchip_s = max(0.0, params - target.on_chip_bytes) / target.off_chip_bytes_per_s
        link_s = (entering + leaving) / target.link_bytes_per_s
        total = compute_s + offchip_s + link_s + target.hop_s
        stages.append(StageCost(nodes=tuple(nodes), macs=macs, param_bytes=params, offchip_bytes=offchip,
                                in_link_bytes=entering, out_link_bytes=leaving, compute_s=compute_s,
                                offchip_s=offchip_s, link_s=link_s, hop_s=target.hop_s, total_s=total))
    totals = [st.total_s for st in stages]
    bottleneck = max(totals)
    return PipelineCost(stages=tuple(stages), bottleneck_s=bottleneck, latency_s=float(sum(totals)),
                        bottleneck_stage=totals.index(bottleneck))


def segment_cost_matrix(graph: PipelineGraph, target: PipelineTarget, order: Sequence[int]) -> np.ndarray:
    """T of every contiguous segment of a topological order.

    Args:
        graph: the graph.
        target: cost constants.
        order: a permutation of the nodes that respects every edge.

    Returns:
        (n, n) float64 array ``T[i, j]`` = cost (s) of a stage holding ``order[i..j]`` when the
        nodes before i sit in earlier stages and the nodes after j in later ones; ``inf`` for j < i.

    The link bytes of segment [i, j] are a sum of rectangles in the (i, j) plane, one per node
    and one per edge (positions in ``order``):

    * node u leaves [i, j] when i <= u <= j < (its last consumer; n for a sink):
      i in [0, u], j in [u, last - 1];
    * producer u enters [i, j] when i > u and its first consumer at or after i is <= j: with its
      consumers c_1 < c_2 < ... and c_0 = u, that is i in [c_{m-1} + 1, c_m], j in [c_m, n - 1]
      for each m.

    They are accumulated as corner weights of a 2-D difference array (one ``bincount``) and
    integrated by two cumulative sums, so the whole matrix costs a few O(n^2) array passes.
    """
    n = graph.n
    order_arr = np.asarray(order, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[order_arr] = np.arange(n)
    arr = graph.arrays
    macs = arr["macs"][order_arr]
    params = arr["param_bytes"][order_arr]
    out_b = arr["out_bytes"][order_arr]
    in_b = arr["in_bytes"][order_arr]
    at = np.arange(n)
    # Edges as (producer, consumer) positions, sorted by producer then consumer (no duplicates).
    prod, cons = pos[graph.edge_array[:, 0]], pos[graph.edge_array[:, 1]]
    by = np.lexsort((cons, prod))
    prod, cons = prod[by], cons[by]
    first = np.ones(prod.size, dtype=bool)
    first[1:] = prod[1:] != prod[:-1]
    last_edge = np.ones(prod.size, dtype=bool)
    last_edge[:-1] = first[1:]
    last_cons = np.full(n, n, dtype=np.int64)
    last_cons[prod[last_edge]] = cons[last_edge]
    prev_cons = np.where(first, prod, np.concatenate(([0], cons[:-1])))
    i0 = np.concatenate((np.zeros(n, dtype=np.int64), prev_cons + 1))
    i1 = np.concatenate((at, cons)) + 1  # exclusive ends
    j0 = np.concatenate((at, cons))
    j1 = np.concatenate((last_cons, np.full(cons.size, n)))
    w = np.concatenate((out_b, out_b[prod]))
    # Every rectangle is non-empty: a node's last consumer comes after it, and its consumers are distinct.
    rows = np.concatenate((i0, i0, i1, i1))
    cols = np.concatenate((j0, j1, j0, j1))
    weights = np.concatenate((w, -w, -w, w))
    inside = (rows < n) & (cols < n)  # corners on row or column n only affect cells beyond the matrix
    # Built as by_end[j, i] = T[i, j] and returned transposed: the cut's reductions run over the
    # segments ending at one j, which are then contiguous (no copy in best_contiguous_cuts).
    by_end = np.bincount(cols[inside] * n + rows[inside], weights=weights[inside], minlength=n * n).reshape(n, n)
    np.cumsum(by_end, axis=1, out=by_end)
    np.cumsum(by_end, axis=0, out=by_end)
    by_end *= 1.0 / target.link_bytes_per_s
    # Terms additive over the nodes: prefix sums, one broadcast pass.
    lin = np.concatenate(([0.0], np.cumsum(macs / target.effective_macs_per_s + in_b / target.link_bytes_per_s)))
    by_end += lin[1:, None]
    by_end -= lin[None, :-1]
    cum_params = np.concatenate(([0.0], np.cumsum(params)))
    offchip = np.subtract(cum_params[1:, None], cum_params[None, :-1])
    offchip -= target.on_chip_bytes
    np.maximum(offchip, 0.0, out=offchip)
    offchip *= 1.0 / target.off_chip_bytes_per_s
    by_end += offchip
    by_end += target.hop_s
    by_end[at[:, None] < at[None, :]] = np.inf
    return by_end.T


def best_contiguous_cuts(seg_cost: np.ndarray, k: int, *, rel_tol: float = 1e-12) -> list[int]:
    """Optimal cut of an order into k contiguous non-empty segments: min bottleneck, then latency.

    Args:
        seg_cost: (n, n) matrix from :func:`segment_cost_matrix`.
        k: number of segments, 1 <= k <= n.
        rel_tol: relative slack on the bottleneck when minimising latency.

    Returns:
        Segment start positions ``[0, c1, ..., c_{k-1}]``.
    """
    n = seg_cost.shape[0]
    inf = np.inf
    # Row j of the transpose lists the costs of the segments ending at j: every reduction below
    # runs along contiguous memory.
    by_end = np.ascontiguousarray(seg_cost.T)
    buf = np.empty_like(by_end)
    # Pass 1: the min-max bottleneck. best[s][j] = bottleneck of order[0..j] in s+1 segments.
    best = np.full((k, n), inf)
    best[0] = by_end[:, 0]
    prev = np.empty(n)
    for s in range(1, k):
        prev[0] = inf
        prev[1:] = best[s - 1][:-1]  # prev[i] = best[s-1][i-1]: segment s starts at i
        np.maximum(by_end, prev[None, :], out=buf)
        np.min(buf, axis=1, out=best[s])
    bottleneck = best[k - 1][n - 1]
    limit = bottleneck * (1 + rel_tol)
    # Pass 2: min latency with every segment <= the bottleneck.
    capped = np.where(by_end <= limit, by_end, inf)
    lat = np.full((k, n), inf)
    arg = np.zeros((k, n), dtype=np.int64)
    lat[0] = capped[:, 0]
    rows = np.arange(n)
    for s in range(1, k):
        prev[0] = inf
        prev[1:] = lat[s - 1][:-1]
        np.add(capped, prev[None, :], out=buf)
        arg[s] = np.argmin(buf, axis=1)
        lat[s] = buf[rows, arg[s]]
    starts = [0] * k
    j = n - 1
    for s in range(k - 1, 0, -1):
        i = int(arg[s][j])
        starts[s] = i
        j = i - 1
    return starts


def stages_from_cuts(order: Sequence[int], starts: Sequence[int]) -> list[int]:
    """Stage of each node when ``order`` is cut at segment starts ``starts``."""
    n = len(order)
    stage_of = [0] * n
    bounds = list(starts) + [n]
    for s in range(len(starts)):
        for p in range(bounds[s], bounds[s + 1]):
            stage_of[order[p]] = s
    return stage_of
