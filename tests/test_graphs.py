"""The shared deterministic topological sort."""
from __future__ import annotations

from rlsched_compile._graphs import topological_order


def test_smallest_ready_node_first() -> None:
    succ = {5: [1], 3: [1, 2], 1: [2], 2: []}
    assert topological_order([5, 3, 1, 2], succ) == ([3, 5, 1, 2], [])


def test_cycle_reports_the_stuck_nodes_sorted() -> None:
    succ = [[1], [2], [1, 3], []]  # 1 -> 2 -> 1, and 3 behind the cycle
    order, stuck = topological_order(range(4), succ)
    assert order == [0] and stuck == [1, 2, 3]


def test_repeated_successor_counts_per_occurrence() -> None:
    assert topological_order(range(2), [[1, 1], []]) == ([0, 1], [])
