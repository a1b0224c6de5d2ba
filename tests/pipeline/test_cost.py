"""The pipeline cost model: a hand-computed example and consistency of the segment matrix."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile.errors import PipelineError
from rlsched_compile.pipeline.cost import (best_contiguous_cuts, check_stage_count, evaluate,
                                           segment_cost_matrix, stages_from_cuts)
from rlsched_compile.pipeline.generate import random_dag
from rlsched_compile.pipeline.graph import build_graph
from rlsched_compile.pipeline.target import load_pipeline_target

TARGET = load_pipeline_target("edgetpu")


def _triangle():
    nodes = [{"id": 0, "macs": 10**9, "param_bytes": 8 * 10**6, "out_bytes": 10**6, "in_bytes": 150528},
             {"id": 1, "macs": 2 * 10**9, "param_bytes": 10**6, "out_bytes": 5 * 10**5},
             {"id": 2, "macs": 0, "param_bytes": 0, "out_bytes": 1000}]
    return build_graph(name="tri", nodes=nodes, edges=[[0, 1], [1, 2], [0, 2]], source="tri")


def test_hand_computed_two_stage_cost(edgetpu):
    cost = evaluate(_triangle(), edgetpu, [0, 0, 1], 2)
    s0, s1 = cost.stages
    assert s0.nodes == (0, 1) and s1.nodes == (2,)
    assert s0.offchip_bytes == 9_000_000 - 7_549_747
    assert (s0.in_link_bytes, s0.out_link_bytes) == (150528, 1_500_000)
    assert (s1.in_link_bytes, s1.out_link_bytes) == (1_500_000, 1000)
    t0 = 3e9 / 1e12 + (9e6 - 7549747) / 4e8 + (150528 + 1.5e6) / 3.5e8 + 2e-4
    t1 = 1.501e6 / 3.5e8 + 2e-4
    assert s0.total_s == pytest.approx(t0, rel=1e-12)
    assert s1.total_s == pytest.approx(t1, rel=1e-12)
    assert cost.bottleneck_s == pytest.approx(t0, rel=1e-12) and cost.bottleneck_stage == 0
    assert cost.latency_s == pytest.approx(t0 + t1, rel=1e-12)
    assert cost.throughput_per_s == pytest.approx(1 / t0)


def test_one_stage_has_no_link_between_stages(edgetpu):
    cost = evaluate(_triangle(), edgetpu, [0, 0, 0], 1)
    assert cost.stages[0].in_link_bytes == 150528 and cost.stages[0].out_link_bytes == 1000


@pytest.mark.parametrize(("stage_of", "message"), [
    ([1, 0, 1], "assignment breaks 1 dependencies, e.g. node 0 (stage 1) -> node 1 (stage 0)"),
    ([0, 0, 0], "assignment leaves stages [1] empty"),
    ([0, 2, 1], "assignment uses stages [2] outside 0..1"),
])
def test_invalid_assignments_are_rejected(edgetpu, stage_of, message):
    with pytest.raises(PipelineError) as exc:
        evaluate(_triangle(), edgetpu, stage_of, 2)
    assert str(exc.value) == message


@pytest.mark.parametrize(("k", "message"), [
    (0, "stage count must be an integer >= 1, got 0; pass e.g. --stages 4"),
    (4, "4 stages need at least 4 operators but graph 'tri' has 3; pass --stages 3 or fewer"),
])
def test_stage_count_errors(k, message):
    with pytest.raises(PipelineError) as exc:
        check_stage_count(_triangle(), k)
    assert str(exc.value) == message


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 25), seed=st.integers(0, 10**6), perm_seed=st.integers(0, 10**6))
def test_segment_matrix_matches_evaluate(n, seed, perm_seed):
    g = random_dag(n, seed=seed)
    # A random topological order: repeatedly take a random ready node.
    rng = np.random.default_rng(perm_seed)
    indeg = [len(p) for p in g.preds]
    ready = [v for v in range(n) if indeg[v] == 0]
    order = []
    while ready:
        v = ready.pop(int(rng.integers(len(ready))))
        order.append(v)
        for w in g.succs[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    mat = segment_cost_matrix(g, TARGET, order)
    i, j = sorted(int(x) for x in rng.integers(0, n, size=2))
    k = 1 + (i > 0) + (j < n - 1)
    starts = [0] + ([i] if i > 0 else []) + ([j + 1] if j < n - 1 else [])
    cost = evaluate(g, TARGET, stages_from_cuts(order, starts), k)
    assert cost.stages[1 if i > 0 else 0].total_s == pytest.approx(mat[i, j], rel=1e-12)
    assert np.isinf(mat[j, i]) or i == j


def test_best_contiguous_cuts_beats_every_other_cut(edgetpu):
    g = random_dag(9, seed=4)
    order = list(range(g.n))
    mat = segment_cost_matrix(g, edgetpu, order)
    best = evaluate(g, edgetpu, stages_from_cuts(order, best_contiguous_cuts(mat, 3)), 3)
    for a in range(1, g.n - 1):
        for b in range(a + 1, g.n):
            c = evaluate(g, edgetpu, stages_from_cuts(order, [0, a, b]), 3)
            assert (best.bottleneck_s, best.latency_s) <= (c.bottleneck_s, c.latency_s * (1 + 1e-12))
