"""RESPECT training: seeded repeatability, rewards, label reuse across n_graphs, the pipeline-cost
reward, the command line (its output folder never defaulting into the package) and its deprecated
alias."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rlsched_compile.pipeline import load_pipeline_target
from rlsched_compile.pipeline.cost import best_contiguous_cuts, evaluate, segment_cost_matrix, stages_from_cuts
from rlsched_compile.pipeline.generate import random_dag

torch = pytest.importorskip("torch")

from rlsched_compile.pipeline.respect.__main__ import main  # noqa: E402
from rlsched_compile.pipeline.respect.train import (RespectConfig, _cut_bottlenecks, _CostReward,  # noqa: E402
                                                    load_or_make_dataset, make_dataset, stage_rewards,
                                                    train_respect)

SMALL = dict(n_nodes=8, min_depth=3, max_depth=5, k=3, hidden=8, batch_graphs=2, samples_per_graph=3,
             label_time_limit_s=5.0)


def test_seeded_short_training_repeats_exactly(tmp_path):
    cfg = RespectConfig(n_nodes=8, min_depth=3, max_depth=5, n_graphs=4, k=3, hidden=8, iterations=3,
                        imitation_iterations=2,
                        batch_graphs=2, samples_per_graph=3)
    paths = [train_respect(cfg, out_dir=tmp_path / name) for name in ("a", "b")]
    a, b = (np.load(p) for p in paths)
    assert sorted(a.files) == sorted(b.files)
    for name in a.files:
        assert np.array_equal(a[name], b[name]), name
    other = train_respect(RespectConfig(**{**cfg.__dict__, "seed": 1}), out_dir=tmp_path / "c")
    assert not np.array_equal(np.load(other)["embed_w"], a["embed_w"])


def test_stage_rewards_are_one_for_the_label_order():
    stages = np.array([[0, 0, 1, 2, 2]])
    counts = np.array([[2, 1, 2]])
    assert stage_rewards(np.array([[1, 0, 2, 4, 3]]), stages, counts)[0] == pytest.approx(1.0)
    assert stage_rewards(np.array([[4, 3, 2, 1, 0]]), stages, counts)[0] < 0.8


def test_cut_bottlenecks_match_the_optimal_cut():
    target = load_pipeline_target("edgetpu")
    graph = random_dag(30, seed=3, max_degree=6)
    order = list(range(graph.n))
    seg = segment_cost_matrix(graph, target, order)
    got = _cut_bottlenecks(seg, 6)
    for k in range(1, 7):
        stage_of = stages_from_cuts(order, best_contiguous_cuts(seg, k))
        assert got[k - 1] == pytest.approx(evaluate(graph, target, stage_of, k).bottleneck_s, rel=1e-12)


def test_cost_reward_is_one_for_the_execution_order_and_never_above_for_its_cut():
    cfg = RespectConfig(**SMALL, n_graphs=3, cost_reward_coef=1.0, cost_reward_k_min=2, cost_reward_k_max=3)
    reward = _CostReward(cfg)
    idx = np.array([0, 1, 2])
    identity = np.tile(np.arange(8), (3, 1))
    assert np.allclose(reward(idx, identity), 1.0)
    reversed_seq = identity[:, ::-1].copy()  # fixed up into a topological order: still a valid order
    assert np.all(reward(idx, reversed_seq) > 0)


def test_more_graphs_reuse_the_labels_of_the_first_ones(tmp_path):
    target = load_pipeline_target("edgetpu")
    path = tmp_path / "ds.npz"
    small = load_or_make_dataset(RespectConfig(**SMALL, n_graphs=3), target, path)
    grown = load_or_make_dataset(RespectConfig(**SMALL, n_graphs=5), target, path)
    fresh = make_dataset(RespectConfig(**SMALL, n_graphs=5), target)
    assert np.array_equal(grown.stages[:3], small.stages)
    assert np.array_equal(grown.features, fresh.features)
    assert np.array_equal(grown.stages, fresh.stages)
    with np.load(path) as data:
        assert json.loads(str(data["key"]))["n_graphs"] == 5


def test_seeded_training_with_imitation_entropy_and_cost_reward_repeats_exactly(tmp_path):
    cfg = RespectConfig(**SMALL, n_graphs=4, iterations=3, imitation_iterations=2, entropy_coef=0.01,
                        cost_reward_coef=0.5, cost_reward_k_min=2, cost_reward_k_max=3)
    a, b = (np.load(train_respect(cfg, out_dir=tmp_path / name)) for name in ("a", "b"))
    for name in a.files:
        assert np.array_equal(a[name], b[name]), name
    plain = np.load(train_respect(RespectConfig(**{**cfg.__dict__, "cost_reward_coef": 0.0}),
                                  out_dir=tmp_path / "c"))
    assert not np.array_equal(plain["embed_w"], a["embed_w"])


def test_cli_passes_every_config_field(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--n-nodes", "8", "--min-depth", "3", "--max-depth", "5", "--k", "3", "--hidden", "8",
                 "--n-graphs", "2", "--batch-graphs", "2", "--samples-per-graph", "2", "--iterations", "1",
                 "--imitation-iterations", "1", "--cost-reward-coef", "0.25", "--entropy-coef", "0.01",
                 "--lr", "0.002", "--out", str(out)]) == 0
    config = json.loads((out / "respect_train.json").read_text())["config"]
    assert config["cost_reward_coef"] == 0.25 and config["lr"] == 0.002 and config["imitation_iterations"] == 1
    assert config["entropy_coef"] == 0.01 and config["n_nodes"] == 8
    assert capsys.readouterr().out.strip().endswith("respect.npz")
