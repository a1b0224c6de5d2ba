"""Local refinement of a valid stage assignment: move single operators out of the bottleneck
stage into another stage (and, optionally, neighbours of the bottleneck stage into it: taking in
a producer or consumer can save more link bytes than its compute costs) while every dependency
still holds and every stage stays non-empty, as long as (bottleneck, latency) improves.

Used after the RESPECT fix-up and cut. The stage costs are recomputed with a vectorised
evaluator (:func:`stage_times`), equal to :func:`~rlsched_compile.pipeline.cost.evaluate`.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from .graph import PipelineGraph
from .target import PipelineTarget

logger = logging.getLogger(__name__)


class StageArrays:
    """Per-graph arrays that :func:`stage_times` reuses across evaluations."""

    def __init__(self, graph: PipelineGraph) -> None:
        arr = graph.arrays
        self.macs, self.params = arr["macs"], arr["param_bytes"]
        self.out_b, self.in_b = arr["out_bytes"], arr["in_bytes"]
        self.eu = np.asarray([u for u, _ in graph.edges], dtype=np.int64)
        self.ev = np.asarray([v for _, v in graph.edges], dtype=np.int64)
        self.sink = np.asarray([not s for s in graph.succs])


def stage_times(graph: PipelineGraph, target: PipelineTarget, stage_of: np.ndarray, k: int,
                arrays: StageArrays | None = None) -> np.ndarray:
    """T_s (s) of every stage of a valid assignment, vectorised (see :mod:`.cost` for the model)."""
    a = arrays or StageArrays(graph)
    macs = np.bincount(stage_of, a.macs, minlength=k)
    params = np.bincount(stage_of, a.params, minlength=k)
    link = np.bincount(stage_of, a.in_b, minlength=k)
    su, sv = stage_of[a.eu], stage_of[a.ev]
    cross = su != sv
    leaves = a.sink.copy()
    leaves[a.eu[cross]] = True
    link += np.bincount(stage_of, a.out_b * leaves, minlength=k)
    # A producer's output enters each other stage holding one of its consumers once.
    pairs = np.unique(a.eu[cross] * k + sv[cross])
    link += np.bincount(pairs % k, a.out_b[pairs // k], minlength=k)
    return (macs / target.effective_macs_per_s
            + np.maximum(0.0, params - target.on_chip_bytes) / target.off_chip_bytes_per_s
            + link / target.link_bytes_per_s + target.hop_s)


def refine(graph: PipelineGraph, target: PipelineTarget, stage_of: Sequence[int], k: int, *,
           max_moves: int = 200, pull_in: bool = False, arrays: StageArrays | None = None) -> list[int]:
    """Greedy single-node moves around the bottleneck stage (best improving move first).

    A node may move to any stage between the largest stage of its predecessors and the smallest
    stage of its successors, so every dependency keeps holding; no stage is ever emptied.

    Args:
        graph: the graph.
        target: cost constants.
        stage_of: a valid assignment.
        k: number of stages.
        max_moves: cap on applied moves (bounds the run time on large graphs).
        pull_in: also try moving each predecessor and successor of the bottleneck stage's nodes
            into the bottleneck stage (more candidate moves per step).
        arrays: the graph's :class:`StageArrays` when the caller has them.

    Returns:
        A valid assignment no worse in (bottleneck, latency) than ``stage_of``.
    """
    a = arrays or StageArrays(graph)
    st = np.asarray(stage_of, dtype=np.int64).copy()
    times = stage_times(graph, target, st, k, a)
    key = (times.max(), times.sum())
    counts = np.bincount(st, minlength=k)
    n = graph.n
    for _ in range(max_moves):
        b = int(np.argmax(times))
        # The stages each node may take: from its predecessors' largest to its successors' smallest.
        lo = np.zeros(n, dtype=np.int64)
        np.maximum.at(lo, a.ev, st[a.eu])
        hi = np.full(n, k - 1, dtype=np.int64)
        np.minimum.at(hi, a.eu, st[a.ev])
        in_b = st == b
        movers = [int(v) for v in np.flatnonzero(in_b & ((lo < b) | (hi > b)))]
        if pull_in:
            near = np.zeros(n, dtype=bool)
            near[a.eu[in_b[a.ev]]] = True   # predecessors of the stage's nodes
            near[a.ev[in_b[a.eu]]] = True   # successors
            near &= ~in_b & (lo <= b) & (b <= hi)
            movers = sorted(movers + [int(v) for v in np.flatnonzero(near)])
        best: tuple[tuple[float, float], int, int] | None = None
        for v in movers:
            home = int(st[v])
            if counts[home] == 1:
                continue
            if home == b:
                dests: Sequence[int] = range(int(lo[v]), int(hi[v]) + 1)
            else:
                dests = [b]
            for dest in dests:
                if dest == home:
                    continue
                st[v] = dest
                t = stage_times(graph, target, st, k, a)
                st[v] = home
                cand = (t.max(), t.sum())
                if cand < key and (best is None or cand < best[0]):
                    best = (cand, v, dest)
        if best is None:
            break
        key, v, dest = best
        counts[st[v]] -= 1
        counts[dest] += 1
        st[v] = dest
        times = stage_times(graph, target, st, k, a)
    return [int(x) for x in st]
