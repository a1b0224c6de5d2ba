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
    """
    n = graph.n
    pos = np.empty(n, dtype=np.int64)
    pos[np.asarray(order, dtype=np.int64)] = np.arange(n)
    arr = graph.arrays
    macs = arr["macs"][order]
    params = arr["param_bytes"][order]
    out_b = arr["out_bytes"][order]
    in_b = arr["in_bytes"][order]
    # Consumer positions of the node at each position (sinks: consumed "after the end" = n).
    cons: list[np.ndarray] = []
    max_cons = np.empty(n, dtype=np.int64)
    for p, v in enumerate(order):
        c = np.sort(pos[list(graph.succs[v])]) if graph.succs[v] else np.empty(0, dtype=np.int64)
        cons.append(c)
        max_cons[p] = c[-1] if c.size else n
    def cum(x: np.ndarray) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(x)))

    # seg(x)[i, j] = sum of x over positions i..j (broadcast; only j >= i is used).
    def seg(x: np.ndarray) -> np.ndarray:
        c = cum(x)
        return c[None, 1:] - c[:-1, None]

    total = seg(macs) / target.effective_macs_per_s
    params_seg = seg(params)
    params_seg -= target.on_chip_bytes
    np.maximum(params_seg, 0.0, out=params_seg)
    total += params_seg / target.off_chip_bytes_per_s
    # Leaving bytes: node at position u in [i, j] leaves when its last consumer is after j.
    # A[u, j] = out[u] * (max_cons[u] > j); L[i, j] = sum_{u=i..j} A[u, j] = C[j+1, j] - C[i, j].
    a = out_b[:, None] * (max_cons[:, None] > np.arange(n)[None, :])
    a_c = np.cumsum(a, axis=0)
    link = np.diagonal(a_c)[None, :] - np.vstack([np.zeros((1, n)), a_c[:-1]])
    # Entering bytes: producer at position u < i enters [i, j] when its first consumer at or after
    # i is <= j. H[i, c] collects out[u] at c = that first consumer; E = cumsum over j.
    hist = np.zeros((n, n))
    for u in range(n):
        c = cons[u]
        if c.size == 0:
            continue
        starts = np.arange(u + 1, c[-1] + 1)
        hist[starts, c[np.searchsorted(c, starts)]] += out_b[u]  # one entry per start: no repeats
    link += np.cumsum(hist, axis=1)
    link += seg(in_b)
    total += link / target.link_bytes_per_s
    total += target.hop_s
    total[np.tril_indices(n, -1)] = np.inf
    return total


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
    # Pass 1: the min-max bottleneck. best[s][j] = bottleneck of order[0..j] in s+1 segments.
    best = np.full((k, n), inf)
    best[0] = seg_cost[0]
    for s in range(1, k):
        prev = np.concatenate(([inf], best[s - 1][:-1]))  # prev[i] = best[s-1][i-1]
        best[s] = np.min(np.maximum(prev[:, None], seg_cost), axis=0)
    bottleneck = best[k - 1][n - 1]
    limit = bottleneck * (1 + rel_tol)
    # Pass 2: min latency with every segment <= the bottleneck.
    capped = np.where(seg_cost <= limit, seg_cost, inf)
    lat = np.full((k, n), inf)
    arg = np.zeros((k, n), dtype=np.int64)
    lat[0] = capped[0]
    for s in range(1, k):
        prev = np.concatenate(([inf], lat[s - 1][:-1]))
        cand = prev[:, None] + capped
        arg[s] = np.argmin(cand, axis=0)
        lat[s] = cand[arg[s], np.arange(n)]
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
