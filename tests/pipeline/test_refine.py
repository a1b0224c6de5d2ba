"""The single-move refinement and its vectorised stage evaluator."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile.pipeline.balance import balanced_starts
from rlsched_compile.pipeline.cost import dependency_violations, evaluate, stages_from_cuts
from rlsched_compile.pipeline.generate import random_dag
from rlsched_compile.pipeline.graph import build_graph
from rlsched_compile.pipeline.refine import refine, stage_times
from rlsched_compile.pipeline.target import load_pipeline_target

TARGET = load_pipeline_target("edgetpu")


@settings(max_examples=20, deadline=None)
@given(n=st.integers(3, 40), k=st.integers(1, 3), seed=st.integers(0, 10**6), pull_in=st.booleans())
def test_refine_is_valid_never_worse_and_stage_times_match(n, k, seed, pull_in):
    g = random_dag(n, seed=seed)
    start = stages_from_cuts(list(range(n)), balanced_starts(g.param_bytes, k))
    before = evaluate(g, TARGET, start, k)
    assert np.allclose(stage_times(g, TARGET, np.asarray(start), k), [s.total_s for s in before.stages], rtol=1e-12)
    out = refine(g, TARGET, start, k, pull_in=pull_in)
    after = evaluate(g, TARGET, out, k)           # raises on an invalid assignment
    assert dependency_violations(g, out) == []
    assert (after.bottleneck_s, after.latency_s) <= (before.bottleneck_s, before.latency_s)


def test_refine_moves_a_node_out_of_the_bottleneck():
    # Two independent heavy nodes both in stage 0, a light tail in stage 1: one heavy node moves.
    nodes = [{"id": 0, "macs": 10**10, "param_bytes": 0, "out_bytes": 0},
             {"id": 1, "macs": 10**10, "param_bytes": 0, "out_bytes": 0},
             {"id": 2, "macs": 10**6, "param_bytes": 0, "out_bytes": 0}]
    g = build_graph(name="two", nodes=nodes, edges=[], source="two")
    out = refine(g, TARGET, [0, 0, 1], 2)
    assert sorted(out[:2]) == [0, 1]
    assert evaluate(g, TARGET, out, 2).bottleneck_s == pytest.approx(10**10 / 1e12 + 1e6 / 1e12 + 2e-4)


def test_pull_in_takes_a_producer_whose_output_is_costly_to_ship():
    # 0 -> 1 -> 2; node 1 computes little but sends 10 MB. In [0, 1 | 2] the bottleneck is
    # stage 1 = {2} (2 ms compute + 28.6 ms receiving node 1's output): no node can leave it.
    # Pulling node 1 in ships node 0's 1 kB instead.
    nodes = [{"id": 0, "macs": 10**9, "param_bytes": 0, "out_bytes": 10**3},
             {"id": 1, "macs": 10**6, "param_bytes": 0, "out_bytes": 10**7},
             {"id": 2, "macs": 2 * 10**9, "param_bytes": 0, "out_bytes": 10**3}]
    g = build_graph(name="chain", nodes=nodes, edges=[[0, 1], [1, 2]], source="chain")
    assert refine(g, TARGET, [0, 0, 1], 2) == [0, 0, 1]
    out = refine(g, TARGET, [0, 0, 1], 2, pull_in=True)
    assert out == [0, 1, 1]
    link_s = 2 * 10**3 / TARGET.link_bytes_per_s  # node 0's output in, node 2's output to the host
    assert evaluate(g, TARGET, out, 2).bottleneck_s == pytest.approx(
        (10**6 + 2 * 10**9) / TARGET.effective_macs_per_s + link_s + TARGET.hop_s)
