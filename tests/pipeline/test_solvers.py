"""Solvers: exact against brute force, every solver respects dependencies, heuristics' cuts."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile.errors import PipelineError
from rlsched_compile.pipeline import SOLVERS, solve
from rlsched_compile.pipeline.balance import balanced_starts
from rlsched_compile.pipeline.cost import dependency_violations, evaluate
from rlsched_compile.pipeline.generate import densenet_like, random_dag
from rlsched_compile.pipeline.graph import build_graph
from rlsched_compile.pipeline.target import load_pipeline_target

TARGET = load_pipeline_target("edgetpu")


def brute_force(graph, k):
    best = None
    for stage_of in itertools.product(range(k), repeat=graph.n):
        if len(set(stage_of)) != k or dependency_violations(graph, stage_of):
            continue
        c = evaluate(graph, TARGET, stage_of, k)
        key = (c.bottleneck_s, c.latency_s)
        if best is None or key < best:
            best = key
    return best


@pytest.mark.parametrize(("n", "k", "seed"), [(5, 2, 0), (6, 3, 1), (7, 3, 2), (7, 2, 3), (6, 3, 4), (7, 3, 5)])
def test_exact_matches_brute_force_on_tiny_dags(n, k, seed):
    g = random_dag(n, seed=seed, depth=3)
    res = solve(g, TARGET, k, solver="exact", time_limit_s=30)
    bottleneck, latency = brute_force(g, k)
    assert res.optimal is True
    assert res.bottleneck_s == pytest.approx(bottleneck, rel=2e-6)
    assert res.latency_s == pytest.approx(latency, rel=2e-6)
    assert res.lower_bound_s <= res.bottleneck_s


def test_exact_dp_on_chain_matches_brute_force():
    nodes = [{"id": i, "macs": (i * 37 % 11 + 1) * 10**8, "param_bytes": (i * 53 % 7 + 1) * 10**6,
              "out_bytes": (i * 29 % 5 + 1) * 10**5} for i in range(7)]
    g = build_graph(name="chain", nodes=nodes, edges=[[i, i + 1] for i in range(6)], source="chain")
    res = solve(g, TARGET, 3, solver="exact")
    assert res.method == "dp-chain" and res.optimal is True
    assert (res.bottleneck_s, res.latency_s) == pytest.approx(brute_force(g, 3), rel=1e-12)


def test_exact_never_worse_than_heuristics_on_a_dense_graph():
    g = densenet_like((3, 4, 5, 3))
    exact = solve(g, TARGET, 4, solver="exact", time_limit_s=10)
    for name in ("param-balance", "greedy"):
        assert exact.bottleneck_s <= solve(g, TARGET, 4, solver=name).bottleneck_s


@settings(max_examples=12, deadline=None)
@given(n=st.integers(4, 40), k=st.integers(1, 4), seed=st.integers(0, 10**6),
       solver=st.sampled_from(sorted(SOLVERS)))
def test_every_solver_respects_dependencies(n, k, seed, solver):
    g = random_dag(n, seed=seed)
    res = solve(g, TARGET, k, solver=solver, time_limit_s=2)
    assert dependency_violations(g, res.stage_of) == []
    assert sorted(set(res.stage_of)) == list(range(k))
    assert res.cost == evaluate(g, TARGET, res.stage_of, k)


def test_balanced_starts_cut_at_equal_shares():
    assert balanced_starts([1, 1, 1, 1, 1, 1], 3) == [0, 2, 4]
    assert balanced_starts([10, 0, 0, 0], 2) == [0, 1]      # keeps every segment non-empty
    assert balanced_starts([0, 0, 0, 0], 4) == [0, 1, 2, 3]
    assert balanced_starts([1, 1, 8, 1, 1], 2) == [0, 2]


def test_unknown_solver_and_bad_k():
    g = random_dag(5, seed=0)
    with pytest.raises(PipelineError, match=r"^unknown pipeline solver 'magic'; choose one of exact, greedy, "):
        solve(g, TARGET, 2, solver="magic")
    with pytest.raises(PipelineError, match=r"^6 stages need at least 6 operators but graph 'dag5_s0' has 5"):
        solve(g, TARGET, 6, solver="greedy")
