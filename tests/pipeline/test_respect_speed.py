"""The faster RESPECT inference gives the same stages as before it was sped up.

The digests below are the stage assignments the solver returned before the decode was
restructured (input projections hoisted out of the LSTM loops, thread-free BLAS blocks, the
k-independent work memoised per graph); speed itself is measured by
``bench/bench_respect_speed.py``, not here.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from rlsched_compile.pipeline import load_graph, solve
from rlsched_compile.pipeline.generate import random_dag
from rlsched_compile.pipeline.respect import (DEFAULT_WEIGHTS, PointerWeights, RespectSolver, decode_sequences,
                                              node_features, pointer_logits_sequence)

ZOO = Path(__file__).resolve().parents[2] / "model_zoo"

#: sha256 (first 16 hex digits) of ",".join(stage_of) from the implementation before the speed-up.
EXPECTED = {
    ("inception_v4", 4): "cb0f0ca7d4de3a79",
    ("inception_v4", 5): "81964c0569ba4986",
    ("inception_v4", 6): "695c14866b9db66b",
    ("resnet50", 4): "7d9d64472de6407a",
    ("resnet50", 5): "135053fceef79ed8",
    ("resnet50", 6): "278f78810cbb8ea7",
    ("dag30", 4): "bba1411b29a2c92f",
    ("dag30", 5): "fa8b750a972e5014",
    ("dag30", 6): "f93ab1b745884860",
    ("dag50", 4): "135d46f318e71f4e",
    ("dag50", 5): "9c3a9d3c7bdf4604",
    ("dag50", 6): "73425c08ad921fdf",
    ("dag100", 4): "9c40396908523c87",
    ("dag100", 5): "c6391f037cc30cac",
    ("dag100", 6): "210838fce987c3d8",
    ("dag200", 4): "281132273b001fc4",
    ("dag200", 5): "c5348d9819341aca",
    ("dag200", 6): "dbd751eafa3dcf66",
    ("dag500", 4): "285c13da124d44dc",
    ("dag500", 5): "93062b3438f6c435",
    ("dag500", 6): "58c98583f1b2ccd2",
}


def _graph(name: str):
    if name.startswith("dag"):
        n = int(name[3:])
        return random_dag(n, seed=1000 + n, max_degree=6, name=name)
    return load_graph(ZOO / f"{name}.onnx", data_type_bytes=1)


def _digest(stage_of) -> str:
    return hashlib.sha256(",".join(map(str, stage_of)).encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted({name for name, _ in EXPECTED}))
def test_stages_unchanged_by_the_speed_up(name, edgetpu):
    graph = _graph(name)
    for k in (4, 5, 6):
        assert _digest(solve(graph, edgetpu, k, solver="respect").stage_of) == EXPECTED[(name, k)], (name, k)


@pytest.mark.parametrize("n,seed", [(12, 0), (40, 1), (90, 2), (250, 3)])
def test_fast_greedy_decode_equals_the_step_by_step_decoder(n, seed):
    # pointer_logits_sequence runs the plain LSTM step (_lstm_step) and argmax over all nodes.
    weights = PointerWeights.load(DEFAULT_WEIGHTS)
    feats = node_features(random_dag(n, seed=seed, max_degree=6))
    reference, _ = pointer_logits_sequence(weights, feats)
    assert decode_sequences(weights, feats)[0] == reference
    assert decode_sequences(weights, feats, samples=3, seed=seed)[0] == reference


def test_memoised_solves_equal_fresh_ones(edgetpu):
    # Solving one graph object for several k (memoised decode) equals solving fresh copies.
    graph = random_dag(120, seed=7, max_degree=6)
    for k in (5, 3, 4, 5):
        fresh = RespectSolver().solve(random_dag(120, seed=7, max_degree=6), edgetpu, k)
        again = RespectSolver().solve(graph, edgetpu, k)
        assert again.stage_of == fresh.stage_of and again.method == fresh.method
        assert again.valid_before_fixup == fresh.valid_before_fixup
        assert again.bottleneck_s == fresh.bottleneck_s


def test_memo_is_per_target_and_samples(edgetpu):
    from dataclasses import replace  # noqa: PLC0415
    graph = random_dag(60, seed=11, max_degree=6)
    slow_link = replace(edgetpu, link_bytes_per_s=edgetpu.link_bytes_per_s / 50)
    RespectSolver().solve(graph, edgetpu, 4)
    got = RespectSolver().solve(graph, slow_link, 4)
    assert got.stage_of == RespectSolver().solve(random_dag(60, seed=11, max_degree=6), slow_link, 4).stage_of
    got0 = RespectSolver(samples=0).solve(graph, edgetpu, 4)
    assert got0.stage_of == RespectSolver(samples=0).solve(random_dag(60, seed=11, max_degree=6), edgetpu, 4).stage_of
    assert np.isfinite(got.bottleneck_s)
