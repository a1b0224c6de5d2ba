"""The RESPECT solver's speed-ups never make its results worse.

The figures below are the (bottleneck, latency) in seconds the solver returned with the shipped
checkpoint (512 training graphs, imitation warm start, entropy bonus; see
rlsched_compile/data/respect/README.md) once its search was widened (sampling budget
r * n^2 ~ 64 * 80^2 below 300 nodes, the 4 best candidates refined, pull-in moves), after the
inference had been restructured (input projections hoisted out of the LSTM
loops, thread-free BLAS blocks, the k-independent work memoised per graph, the float32 greedy
decode, the segment costs from one 2-D difference array). A later speed-up may change the stages
only where two cuts cost the same up to rounding (the segment costs are summed in another order),
so the test asks for results no worse than these, not for the same stages. Speed itself is
measured by ``bench/bench_respect_speed.py``, not here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlsched_compile.pipeline import load_graph, solve
from rlsched_compile.pipeline.generate import random_dag
from rlsched_compile.pipeline.respect import DEFAULT_WEIGHTS, PointerWeights, RespectSolver, decode_sequences, node_features

from ._reference_decoder import pointer_logits_sequence

ZOO = Path(__file__).resolve().parents[2] / "model_zoo"

#: (bottleneck s, latency s) of the solver that later speed-ups must not make worse.
BEFORE = {
    ("inception_v4", 4): (0.01304978716057143, 0.05111171033828571),
    ("inception_v4", 5): (0.007613209661142858, 0.034215104624),
    ("inception_v4", 6): (0.006039888518285714, 0.03346352569542857),
    ("resnet50", 4): (0.00360795392, 0.008394573898857142),
    ("resnet50", 5): (0.00315378944, 0.010888333898857143),
    ("resnet50", 6): (0.002935423488, 0.013382093898857144),
    ("dag30", 4): (0.0034766648319999997, 0.012599502847999999),
    ("dag30", 5): (0.003228279296, 0.014949902848),
    ("dag30", 6): (0.002969313792, 0.016655182848),
    ("dag50", 4): (0.0061528806399999995, 0.023531534336),
    ("dag50", 5): (0.005147124223999999, 0.022934094335999997),
    ("dag50", 6): (0.004799676928, 0.027838094335999996),
    ("dag100", 4): (0.013596992, 0.05349336882),
    ("dag100", 5): (0.01145870592, 0.05446232882),
    ("dag100", 6): (0.009360066048000002, 0.05441157632),
    ("dag200", 4): (0.034002881524, 0.13576717716800002),
    ("dag200", 5): (0.025467281908, 0.12617824966799998),
    ("dag200", 6): (0.019560507892, 0.11577709716799997),
    ("dag500", 4): (0.12463394917200002, 0.497770859472),
    ("dag500", 5): (0.099214363636, 0.490771371972),
    ("dag500", 6): (0.081501403124, 0.484103404472),
}
#: Relative slack for rounding.
REL = 1e-9


def _graph(name: str):
    if name.startswith("dag"):
        n = int(name[3:])
        return random_dag(n, seed=1000 + n, max_degree=6, name=name)
    return load_graph(ZOO / f"{name}.onnx", data_type_bytes=1)


@pytest.mark.parametrize("name", sorted({name for name, _ in BEFORE}))
def test_no_worse_than_before_the_speed_up(name, edgetpu):
    graph = _graph(name)
    solver = RespectSolver()  # one solver for every k, as the pipeline command runs it
    for k in (4, 5, 6):
        res = solve(graph, edgetpu, k, solver=solver)
        bottleneck, latency = BEFORE[(name, k)]
        assert res.bottleneck_s <= bottleneck * (1 + REL), (name, k)
        if res.bottleneck_s >= bottleneck * (1 - REL):
            assert res.latency_s <= latency * (1 + REL), (name, k)


@pytest.mark.parametrize("n,seed", [(12, 0), (40, 1), (90, 2), (250, 3)])
def test_fast_greedy_decode_equals_the_step_by_step_decoder(n, seed):
    # The reference decoder (the tests' oracle) runs plain LSTM steps and argmax over all nodes.
    weights = PointerWeights.load(DEFAULT_WEIGHTS)
    feats = node_features(random_dag(n, seed=seed, max_degree=6))
    reference, _ = pointer_logits_sequence(weights, feats)
    assert decode_sequences(weights, feats)[0] == reference
    assert decode_sequences(weights, feats, samples=3, seed=seed)[0] == reference


@pytest.mark.parametrize("name", ["inception_v4", "yolov3", "mobilenet_v3_large"])
def test_float32_greedy_decode_picks_the_float64_sequence_on_the_zoo(name):
    weights = PointerWeights.load(DEFAULT_WEIGHTS)
    feats = node_features(_graph(name))
    reference, _ = pointer_logits_sequence(weights, feats)
    assert decode_sequences(weights, feats)[0] == reference


def test_memoised_solves_equal_fresh_ones(edgetpu):
    # One solver solving one graph object for several k (memoised decode) equals fresh solvers on
    # fresh copies.
    graph = random_dag(120, seed=7, max_degree=6)
    solver = RespectSolver()
    for k in (5, 3, 4, 5):
        fresh = RespectSolver().solve(random_dag(120, seed=7, max_degree=6), edgetpu, k)
        again = solver.solve(graph, edgetpu, k)
        assert again.stage_of == fresh.stage_of and again.method == fresh.method
        assert again.valid_before_fixup == fresh.valid_before_fixup
        assert again.bottleneck_s == fresh.bottleneck_s
    # The memo is the solver's: one entry for this graph (one sample count, one target).
    assert list(solver.memo.keys()) == [graph] and len(solver.memo[graph]) == 1
    assert len(RespectSolver().memo) == 0


def test_memo_is_per_target_and_samples(edgetpu):
    from dataclasses import replace  # noqa: PLC0415
    graph = random_dag(60, seed=11, max_degree=6)
    slow_link = replace(edgetpu, link_bytes_per_s=edgetpu.link_bytes_per_s / 50)
    solver = RespectSolver()
    solver.solve(graph, edgetpu, 4)
    got = solver.solve(graph, slow_link, 4)
    assert got.stage_of == RespectSolver().solve(random_dag(60, seed=11, max_degree=6), slow_link, 4).stage_of
    greedy = RespectSolver(samples=0)
    greedy.solve(graph, slow_link, 4)
    got0 = greedy.solve(graph, edgetpu, 4)
    assert got0.stage_of == RespectSolver(samples=0).solve(random_dag(60, seed=11, max_degree=6), edgetpu, 4).stage_of
    assert np.isfinite(got.bottleneck_s)
    assert len(solver.memo[graph]) == 2 and len(greedy.memo[graph]) == 2


def test_memo_drops_a_graph_with_the_graph(edgetpu):
    import gc  # noqa: PLC0415
    solver = RespectSolver()
    graph = random_dag(30, seed=2, max_degree=6)
    solver.solve(graph, edgetpu, 3)
    assert len(solver.memo) == 1
    del graph
    gc.collect()
    assert len(solver.memo) == 0
