"""Seeded generators of pipeline graphs: random DAGs with controlled size, degree and depth (the
RESPECT training and test distribution) and ResNet-/DenseNet-like networks at 224x224, int8.

Node sizes come from a convolution drawn per node (channels, kernel, feature-map size), so MACs,
parameter bytes and output bytes are correlated as in real networks.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .graph import PipelineGraph, build_graph

logger = logging.getLogger(__name__)

_CHANNELS = (64, 96, 128, 192, 256, 384, 512)
_SIDES = (7, 14, 28)


def _conv_node(nid: int, *, c_in: int, c_out: int, kernel: int, side: int, op: str = "CONV_2D",
               groups: int = 1) -> dict[str, Any]:
    params = c_out * (c_in // groups) * kernel * kernel + 4 * c_out  # int8 weights + int32 bias
    macs = c_out * (c_in // groups) * kernel * kernel * side * side
    return {"id": nid, "op": op, "macs": macs, "param_bytes": params, "out_bytes": c_out * side * side}


def random_dag(n: int, *, seed: int, max_degree: int = 6, depth: int | None = None,
               name: str | None = None) -> PipelineGraph:
    """A random layered DAG.

    Args:
        n: number of nodes (>= 1).
        seed: RNG seed; the same arguments give the same graph.
        max_degree: bound on the in-degree and on the out-degree of every node (>= 1).
        depth: number of levels (longest path has ``depth`` nodes); default ``round(2*sqrt(n))``,
            clipped to [1, n].
        name: graph name; default ``dag{n}_s{seed}``.

    Returns:
        The graph; node i+1 never precedes node i in its execution order.
    """
    rng = np.random.default_rng(seed)
    depth = int(round(2 * np.sqrt(n))) if depth is None else depth
    depth = max(1, min(n, depth))
    # Every level gets one node, the rest are spread at random.
    counts = np.ones(depth, dtype=np.int64)
    np.add.at(counts, rng.integers(0, depth, size=n - depth), 1)
    level = np.repeat(np.arange(depth), counts)
    out_deg = np.zeros(n, dtype=np.int64)
    edges: list[list[int]] = []
    starts = np.concatenate(([0], np.cumsum(counts)))
    for v in range(int(counts[0]), n):
        lv = int(level[v])
        prev_lo, prev_hi = int(starts[lv - 1]), int(starts[lv])
        # One parent on the previous level keeps the depth; more parents from any earlier level.
        want = int(rng.integers(1, max_degree + 1)) if rng.random() < 0.3 else 1 + int(rng.random() < 0.4)
        parents: list[int] = []
        for _ in range(4 * want):
            if len(parents) == want:
                break
            lo = prev_lo if not parents else 0
            u = int(rng.integers(lo, prev_hi))
            if u not in parents and out_deg[u] < max_degree:
                parents.append(u)
        if not parents:
            parents.append(int(prev_lo + np.argmin(out_deg[prev_lo:prev_hi])))
        for u in parents:
            out_deg[u] += 1
            edges.append([u, v])
    nodes = []
    for v in range(n):
        c_in, c_out = (int(rng.choice(_CHANNELS)) for _ in range(2))
        # Feature maps shrink with depth: 56 on the first quarter of the levels, ..., 7 on the last.
        side = _SIDES[len(_SIDES) - 1 - int(level[v]) * len(_SIDES) // depth]
        kernel = int(rng.choice((1, 3)))
        nodes.append(_conv_node(v, c_in=c_in, c_out=c_out, kernel=kernel, side=side))
    nodes[0]["in_bytes"] = 3 * 224 * 224
    return build_graph(name=name or f"dag{n}_s{seed}", nodes=nodes, edges=edges, source="random_dag")


class _Builder:
    """Nodes and edges of a generated graph; ids are given in insertion order."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[list[int]] = []

    def add(self, node: dict[str, Any], parents: list[int]) -> int:
        """Append ``node`` fed by ``parents``; returns its id."""
        node["id"] = len(self.nodes)
        self.nodes.append(node)
        self.edges.extend([p, node["id"]] for p in parents)
        return node["id"]

    def imagenet_stem(self) -> int:
        """7x7/2 convolution of a 224x224x3 image and a max-pool to 64x56x56; returns the pool's id."""
        stem = self.add(_conv_node(0, c_in=3, c_out=64, kernel=7, side=112), [])
        self.nodes[stem]["in_bytes"] = 3 * 224 * 224
        return self.add({"id": 0, "op": "MAX_POOL_2D", "macs": 0, "param_bytes": 0, "out_bytes": 64 * 56 * 56},
                        [stem])


def resnet_like(blocks: tuple[int, int, int, int] = (3, 4, 23, 3), *, name: str = "resnet101_like") -> PipelineGraph:
    """A bottleneck ResNet at 224x224 (``(3, 4, 23, 3)`` = ResNet-101, ``(3, 8, 36, 3)`` = ResNet-152).

    Each block is conv1x1 -> conv3x3 -> conv1x1 -> Add (with the skip), plus a 1x1 projection on the
    skip of each stage's first block.
    """
    g = _Builder()
    add = g.add
    x = g.imagenet_stem()
    c_in, side = 64, 56
    for stage, count in enumerate(blocks):
        width = 64 * 2 ** stage
        if stage > 0:
            side //= 2
        for b in range(count):
            a = add(_conv_node(0, c_in=c_in, c_out=width, kernel=1, side=side), [x])
            m = add(_conv_node(0, c_in=width, c_out=width, kernel=3, side=side), [a])
            c = add(_conv_node(0, c_in=width, c_out=4 * width, kernel=1, side=side), [m])
            skip = x
            if b == 0:
                skip = add(_conv_node(0, c_in=c_in, c_out=4 * width, kernel=1, side=side), [x])
            x = add({"id": 0, "op": "ADD", "macs": 0, "param_bytes": 0, "out_bytes": 4 * width * side * side},
                    [c, skip])
            c_in = 4 * width
    pool = add({"id": 0, "op": "MEAN", "macs": 0, "param_bytes": 0, "out_bytes": c_in}, [x])
    add({"id": 0, "op": "FULLY_CONNECTED", "macs": c_in * 1000, "param_bytes": c_in * 1000 + 4000,
         "out_bytes": 1000}, [pool])
    return build_graph(name=name, nodes=g.nodes, edges=g.edges, source=name)


def densenet_like(blocks: tuple[int, ...] = (6, 12, 24, 16), *, growth: int = 32,
                  name: str = "densenet121_like") -> PipelineGraph:
    """A DenseNet (``(6, 12, 24, 16)`` = DenseNet-121) at 224x224.

    Each dense layer is conv1x1 (4*growth) -> conv3x3 (growth); the conv1x1 reads the block input and
    every earlier conv3x3 output of its block (the concatenation is folded into the edges).
    Transitions are conv1x1 (halving channels) -> 2x2 average pool.
    """
    g = _Builder()
    add = g.add
    x = g.imagenet_stem()
    channels, side = 64, 56
    for i, count in enumerate(blocks):
        feats = [x]
        for _ in range(count):
            bott = add(_conv_node(0, c_in=channels, c_out=4 * growth, kernel=1, side=side), feats)
            new = add(_conv_node(0, c_in=4 * growth, c_out=growth, kernel=3, side=side), [bott])
            feats.append(new)
            channels += growth
        if i < len(blocks) - 1:
            t = add(_conv_node(0, c_in=channels, c_out=channels // 2, kernel=1, side=side), feats)
            channels //= 2
            side //= 2
            x = add({"id": 0, "op": "AVERAGE_POOL_2D", "macs": channels * side * side * 4, "param_bytes": 0,
                     "out_bytes": channels * side * side}, [t])
        else:
            x = add({"id": 0, "op": "MEAN", "macs": 0, "param_bytes": 0, "out_bytes": channels}, feats)
    add({"id": 0, "op": "FULLY_CONNECTED", "macs": channels * 1000, "param_bytes": channels * 1000 + 4000,
         "out_bytes": 1000}, [x])
    return build_graph(name=name, nodes=g.nodes, edges=g.edges, source=name)
