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
@given(n=st.integers(3, 40), k=st.integers(1, 3), seed=st.integers(0, 10**6))
def test_refine_is_valid_never_worse_and_stage_times_match(n, k, seed):
    g = random_dag(n, seed=seed)
    start = stages_from_cuts(list(range(n)), balanced_starts(g.param_bytes, k))
    before = evaluate(g, TARGET, start, k)
    assert np.allclose(stage_times(g, TARGET, np.asarray(start), k), [s.total_s for s in before.stages], rtol=1e-12)
    out = refine(g, TARGET, start, k)
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
