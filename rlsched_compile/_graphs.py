"""Graph helpers shared by the ONNX frontend and the pipeline pass."""
from __future__ import annotations

import heapq
from typing import Hashable, Iterable, Mapping, Sequence, TypeVar

K = TypeVar("K", bound=Hashable)


def topological_order(keys: Iterable[K], successors: Mapping[K, Sequence[K]] | Sequence[Sequence[K]]
                      ) -> tuple[list[K], list[K]]:
    """Kahn's algorithm, smallest key first, so the order is deterministic.

    Args:
        keys: every node (orderable keys).
        successors: each node's successors (a mapping, or a sequence indexed by integer keys);
            a repeated successor counts once per occurrence.

    Returns:
        ``(order, stuck)``: the nodes in topological order, and the sorted nodes left over
        because they lie on or behind a cycle (empty for a DAG).
    """
    keys = list(keys)
    indeg = {k: 0 for k in keys}
    for k in keys:
        for w in successors[k]:
            indeg[w] += 1
    ready = [k for k in keys if indeg[k] == 0]
    heapq.heapify(ready)
    order: list[K] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for w in successors[k]:
            indeg[w] -= 1
            if indeg[w] == 0:
                heapq.heappush(ready, w)
    stuck = sorted(k for k in keys if indeg[k] > 0) if len(order) != len(keys) else []
    return order, stuck
