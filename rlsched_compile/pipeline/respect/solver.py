"""The ``respect`` pipeline solver: the pointer network's node sequences (:mod:`.decode`), fixed up
into topological orders and cut into k stages.

The solver decodes the greedy sequence (plus, on graphs under :data:`WIDE_SEARCH_NODES` nodes,
sequences sampled from the policy, seeded) and for each

1. fixes the sequence up into a topological order (:func:`fixup_order`: repeatedly emit the
   ready node that comes first in the sequence), so every dependency holds;
2. cuts that order into k contiguous stages optimally for the cost model
   (:func:`~rlsched_compile.pipeline.cost.best_contiguous_cuts`);
refines the few cheapest with single-operator moves around the bottleneck stage while that helps
(:mod:`..refine`), keeps the best, and falls back to ``param-balance`` when that would be better
(never worse than the vendor compiler).

A :class:`RespectSolver` holds its state: the weights, read once when it is made, and a per-graph
memo of the decoded candidates (they do not depend on k), so one solver solving one graph for
several k decodes it once. Nothing is cached at module level: a new solver starts empty.
"""
from __future__ import annotations

import heapq
import logging
import time
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import PipelineError
from ..balance import ParamBalanceSolver
from ..base import PipelineResult, make_result
from ..cost import best_contiguous_cuts, dependency_violations, segment_cost_matrix, stages_from_cuts
from ..graph import PipelineGraph
from ..refine import StageArrays, refine, stage_times
from ..target import PipelineTarget
from .decode import decode_sequences
from .features import node_features
from .network import DEFAULT_WEIGHTS, PointerWeights

logger = logging.getLogger(__name__)

#: Graphs with fewer nodes get the wider search: sampled sequences (see :func:`default_samples`)
#: and pull-in moves in the refinement. Larger graphs decode the greedy sequence only, which keeps
#: the solver in the tens of milliseconds at |V| ~ 500 (bench/bench_respect_speed.py).
WIDE_SEARCH_NODES = 300
#: Memo entries (one per sample count and target) kept per graph by a solver.
MEMO_ENTRIES_PER_GRAPH = 4


def default_samples(n: int) -> int:
    """Sampled sequences tried besides the greedy one: decoding a batch of r sequences costs
    O(r * n^2 * H), so r * n^2 is held near 64 * 80^2 (63 samples up to 80 nodes, 39 at 100,
    9 at 200, 3 just below 300), and none from :data:`WIDE_SEARCH_NODES` nodes on."""
    if n >= WIDE_SEARCH_NODES:
        return 0
    return max(0, min(63, (64 * 80 * 80) // (n * n) - 1))


def fixup_order(graph: PipelineGraph, sequence: Sequence[int]) -> list[int]:
    """The topological order closest to ``sequence``: repeatedly emit, among the nodes whose
    predecessors are all emitted, the one that comes first in ``sequence``.

    A sequence that already respects every edge is returned unchanged.

    Raises:
        PipelineError: ``sequence`` is not a permutation of the nodes.
    """
    n = graph.n
    if sorted(sequence) != list(range(n)):
        raise PipelineError(f"fix-up needs a permutation of the {n} nodes, got {len(sequence)} entries")
    rank = np.empty(n, dtype=np.int64)
    rank[np.asarray(sequence, dtype=np.int64)] = np.arange(n)
    missing = [len(p) for p in graph.preds]
    ready = [(int(rank[v]), v) for v in range(n) if missing[v] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, v = heapq.heappop(ready)
        order.append(v)
        for w in graph.succs[v]:
            missing[w] -= 1
            if missing[w] == 0:
                heapq.heappush(ready, (int(rank[w]), w))
    return order


def fixup_stages(graph: PipelineGraph, stage_of: Sequence[int]) -> list[int]:
    """Stage-level fix-up: raise each node to the largest stage of its predecessors (execution order).

    The result respects every edge; stages may become empty.
    """
    out = list(stage_of)
    for v in range(graph.n):
        for u in graph.preds[v]:
            out[v] = max(out[v], out[u])
    return out


def respect_assignment(graph: PipelineGraph, target: PipelineTarget, k: int, sequence: Sequence[int]) \
        -> tuple[list[int], int]:
    """Stages from a pointer sequence: fix-up, then the best contiguous cut.

    Returns:
        (stage of each node, the number of edges the raw sequence cut at the same stage sizes
        breaks: 0 when the network's output was already valid).
    """
    order = fixup_order(graph, sequence)
    return _cut(graph, sequence, order, segment_cost_matrix(graph, target, order), k)


def _cut(graph: PipelineGraph, sequence: Sequence[int], order: Sequence[int], seg_cost: np.ndarray,
         k: int) -> tuple[list[int], int]:
    """:func:`respect_assignment` given the fixed-up order and its segment costs."""
    starts = best_contiguous_cuts(seg_cost, k)
    raw = stages_from_cuts(list(sequence), starts)
    return stages_from_cuts(order, starts), len(dependency_violations(graph, raw))


@dataclass(frozen=True, eq=False)
class _Candidate:
    """A decoded sequence with everything about it that does not depend on k."""

    sequence: list[int]
    order: list[int]
    seg_cost: np.ndarray


class RespectSolver:
    """The learned scheduler with dependency fix-up and param-balance fallback.

    Attributes:
        weights: the network's weights (read once, when the solver is made).
        weights_path: the file they were read from (None when given as :class:`PointerWeights`).
        samples, refine, refine_top: as passed (see ``__init__``).
        memo: per graph (weakly held: an entry goes with its graph), per (sample count, target),
            the decoded candidates; at most :data:`MEMO_ENTRIES_PER_GRAPH` entries per graph.
    """

    name = "respect"

    def __init__(self, weights: str | Path | PointerWeights = DEFAULT_WEIGHTS, *, samples: int | None = None,
                 refine: bool = True, refine_top: int = 4) -> None:
        """Args:
            weights: exported weights: a path (``respect.npz``, default the shipped one) or the
                weights themselves.
            samples: sequences sampled besides the greedy one; default :func:`default_samples`
                of the graph size.
            refine: run the local refinement (:mod:`..refine`) on the best candidates.
            refine_top: how many of the best distinct candidates (after fix-up and cut) are
                refined; the best refined one wins. Graphs below :data:`WIDE_SEARCH_NODES`
                nodes also try pulling neighbours into the bottleneck stage.

        Raises:
            PipelineError: the weights file is missing or lacks a weight.
        """
        if isinstance(weights, PointerWeights):
            self.weights, self.weights_path = weights, None
        else:
            self.weights_path = Path(weights)
            self.weights = PointerWeights.load(self.weights_path)
        self.samples = samples
        self.refine = refine
        self.refine_top = max(1, refine_top)
        # The sequences, their fix-up and the segment costs do not depend on k.
        self.memo: weakref.WeakKeyDictionary[PipelineGraph, dict[tuple[int, PipelineTarget], list[_Candidate]]] = \
            weakref.WeakKeyDictionary()

    def _candidates(self, graph: PipelineGraph, target: PipelineTarget, samples: int) -> list[_Candidate]:
        """The decoded, fixed-up sequences of ``graph`` and their segment-cost matrices (memoised)."""
        key = (samples, target)
        per_graph = self.memo.setdefault(graph, {})
        hit = per_graph.get(key)
        if hit is None:
            hit = []
            for sequence in decode_sequences(self.weights, node_features(graph), samples=samples):
                order = fixup_order(graph, sequence)
                seg_cost = segment_cost_matrix(graph, target, order)
                seg_cost.setflags(write=False)
                hit.append(_Candidate(sequence=sequence, order=order, seg_cost=seg_cost))
            if len(per_graph) >= MEMO_ENTRIES_PER_GRAPH:
                per_graph.pop(next(iter(per_graph)))
            per_graph[key] = hit
        return hit

    def solve(self, graph: PipelineGraph, target: PipelineTarget, k: int, *,
              time_limit_s: float = 30.0) -> PipelineResult:
        """See :class:`~rlsched_compile.pipeline.base.Solver`."""
        t0 = time.perf_counter()
        samples = default_samples(graph.n) if self.samples is None else self.samples
        # On a chain-like graph every sequence fixes up to the one topological order, whose best
        # cut is optimal: sampling and refinement cannot change the result (the greedy sequence is
        # still decoded for the before-fix-up figures).
        chain = graph.is_chain_like()
        if chain:
            samples = 0
        candidates = self._candidates(graph, target, samples)
        # Candidates are ranked by the vectorised stage costs; only the result is evaluated in full.
        arrays = StageArrays(graph)

        def key_of(stage_of: Sequence[int]) -> tuple[float, float]:
            times = stage_times(graph, target, np.asarray(stage_of, dtype=np.int64), k, arrays)
            return float(times.max()), float(times.sum())

        ranked: list[tuple[tuple[float, float], int, list[int], int]] = []
        for i, cand in enumerate(candidates):
            cut, broken = _cut(graph, cand.sequence, cand.order, cand.seg_cost, k)
            ranked.append((key_of(cut) if len(candidates) > 1 else (0.0, 0.0), i, cut, broken))
        ranked.sort(key=lambda r: (r[0], r[1]))
        _, _, stage_of, broken = ranked[0]
        if self.refine and not chain:
            best: tuple[tuple[float, float], list[int], int] | None = None
            seen: set[tuple[int, ...]] = set()
            for _, _, cut, cut_broken in ranked:
                if len(seen) == self.refine_top:
                    break
                if tuple(cut) in seen:
                    continue
                seen.add(tuple(cut))
                refined = refine(graph, target, cut, k, pull_in=graph.n < WIDE_SEARCH_NODES, arrays=arrays)
                key = key_of(refined)
                if best is None or key < best[0]:
                    best = (key, refined, cut_broken)
            assert best is not None
            _, stage_of, broken = best
        raw_quality = {"valid_before_fixup": broken == 0,
                       "edges_kept_before_fixup": 1.0 - broken / len(graph.edges) if graph.edges else 1.0}
        result = make_result(self.name, graph, target, k, stage_of, runtime_s=0.0,
                             method="pointer+fixup+refine" if self.refine and not chain else "pointer+fixup",
                             **raw_quality)
        fallback = ParamBalanceSolver().solve(graph, target, k)
        if (fallback.bottleneck_s, fallback.latency_s) < (result.bottleneck_s, result.latency_s):
            result = replace(fallback, solver=self.name, method="fallback:param-balance", **raw_quality)
        return replace(result, runtime_s=time.perf_counter() - t0)
