"""RESPECT training: seeded repeatability, rewards, label reuse across n_graphs, the pipeline-cost
reward, the command line (its output folder never defaulting into the package) and its deprecated
alias."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rlsched_compile.pipeline import load_pipeline_target
from rlsched_compile.pipeline.cost import best_contiguous_cuts, evaluate, segment_cost_matrix, stages_from_cuts
from rlsched_compile.pipeline.generate import random_dag

torch = pytest.importorskip("torch")

from rlsched_compile.errors import PipelineError  # noqa: E402
from rlsched_compile.pipeline.exact import best_order_cut  # noqa: E402
from rlsched_compile.pipeline.respect import DEFAULT_WEIGHTS, WEIGHT_NAMES, node_features  # noqa: E402
from rlsched_compile.pipeline.respect.__main__ import main  # noqa: E402
from rlsched_compile.pipeline.respect.train import (PACKAGE_DIR, Dataset, RespectConfig,  # noqa: E402
                                                    _cut_bottlenecks, _CostReward, check_out_dir,
                                                    export_weights, load_or_make_dataset, make_dataset,
                                                    stage_rewards, train, train_respect, training_graphs)

REPO = Path(__file__).resolve().parents[2]

SMALL = dict(n_nodes=8, min_depth=3, max_depth=5, k=3, hidden=8, batch_graphs=2, samples_per_graph=3,
             label_time_limit_s=5.0)


def tiny_args(n_graphs: int = 2) -> list[str]:
    """The command-line flags of a training run that takes a second."""
    return ["--n-nodes", "8", "--min-depth", "3", "--max-depth", "5", "--k", "3", "--hidden", "8",
            "--n-graphs", str(n_graphs), "--batch-graphs", "2", "--samples-per-graph", "2", "--iterations", "1",
            "--imitation-iterations", "1"]


#: Per-array (sum, sum of |x|) and the mean reward per update of :func:`_recorded_run`, recorded with the
#: training code before it moved from rl/respect.py to pipeline/respect/train.py (float32 weights;
#: compared with a relative tolerance so that another CPU's float rounding does not fail the test).
RECORDED_SUMS = {
    'embed_w': (-1.948316429159604, 18.383873856277205),
    'embed_b': (0.11565070133656263, 1.0975120635703206),
    'enc_w_ih': (2.325535840820521, 45.12011846282985),
    'enc_w_hh': (-0.3643104743096046, 47.599078344821464),
    'enc_b': (-0.006326915696263313, 8.488000871613622),
    'dec_w_ih': (1.09762675431557, 45.19212569692172),
    'dec_w_hh': (-5.8102111530606635, 47.80080242891563),
    'dec_b': (0.9558559209108353, 7.564393177628517),
    'dec_start': (-0.16820377297699451, 0.39220759458839893),
    'att_w_ref': (3.7926943879574537, 11.32674884609878),
    'att_w_q': (-2.938141348771751, 11.17684235656634),
    'att_v': (0.11339371069334447, 0.3563416993711144),
}
RECORDED_REWARDS = (0.864005147054053, 0.9076667035625515, 0.9485797716673169)
RECORDED_STAGES = [[0, 0, 0, 0, 0, 0, 1, 2], [0, 1, 1, 1, 1, 1, 1, 2], [0, 1, 1, 1, 1, 1, 1, 2], [0, 0, 0, 0, 0, 1, 1, 2]]


def _recorded_run() -> tuple[Dataset, object, list[float]]:
    """A small seeded run with every training feature on (imitation, entropy bonus, cost reward).

    Labels come from the best cut of the execution order (a DP), not from the exact solver, so
    that they cannot depend on the MIP solver's version.
    """
    cfg = RespectConfig(n_nodes=8, min_depth=3, max_depth=5, n_graphs=4, k=3, hidden=8, imitation_iterations=3,
                        iterations=3, batch_graphs=2, samples_per_graph=3, entropy_coef=0.01, cost_reward_coef=0.5,
                        cost_reward_k_min=2, cost_reward_k_max=3)
    target = load_pipeline_target(cfg.target)
    graphs = training_graphs(cfg)
    stages = np.array([best_order_cut(g, target, cfg.k) for g in graphs])
    data = Dataset(features=np.stack([node_features(g) for g in graphs]), stages=stages,
                   counts=np.stack([np.bincount(st, minlength=cfg.k) for st in stages]),
                   optimal=np.zeros(len(graphs), dtype=bool))
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model, history = train(cfg, data)
    return data, export_weights(model, cfg), history


def test_short_training_reproduces_the_recorded_weights():
    data, weights, history = _recorded_run()
    assert data.stages.tolist() == RECORDED_STAGES
    assert history == pytest.approx(RECORDED_REWARDS, rel=1e-5)
    assert set(RECORDED_SUMS) == set(WEIGHT_NAMES)
    for name in WEIGHT_NAMES:
        array = getattr(weights, name)
        assert array.dtype == np.float32, name
        got = (float(np.sum(array, dtype=np.float64)), float(np.sum(np.abs(array), dtype=np.float64)))
        assert got == pytest.approx(RECORDED_SUMS[name], rel=1e-5, abs=1e-5), name



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
    handlers = list(logging.getLogger("rlsched_compile").handlers)
    out = tmp_path / "run"
    assert main(["--n-nodes", "8", "--min-depth", "3", "--max-depth", "5", "--k", "3", "--hidden", "8",
                 "--n-graphs", "2", "--batch-graphs", "2", "--samples-per-graph", "2", "--iterations", "1",
                 "--imitation-iterations", "1", "--cost-reward-coef", "0.25", "--entropy-coef", "0.01",
                 "--lr", "0.002", "--out", str(out)]) == 0
    config = json.loads((out / "respect_train.json").read_text())["config"]
    assert config["cost_reward_coef"] == 0.25 and config["lr"] == 0.002 and config["imitation_iterations"] == 1
    assert config["entropy_coef"] == 0.01 and config["n_nodes"] == 8
    assert capsys.readouterr().out.strip().endswith("respect.npz")
    # The command's log handler is gone once it returns (nothing leaks into the caller's logging).
    assert logging.getLogger("rlsched_compile").handlers == handlers


def test_output_defaults_under_rlsched_out_not_the_package(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*tiny_args(), "-q"]) == 0
    out = capsys.readouterr()
    assert Path(out.out.strip()) == Path("rlsched_out/respect/respect.npz")
    assert out.err == ""  # -q: no progress log
    written = sorted(p.name for p in (tmp_path / "rlsched_out" / "respect").iterdir())
    assert written == ["respect.npz", "respect.pt", "respect_dataset.npz", "respect_train.json"]
    with np.load(tmp_path / "rlsched_out" / "respect" / "respect.npz") as data:
        assert list(data.files) == [*WEIGHT_NAMES, "logit_clip"]


def _shipped_state() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(DEFAULT_WEIGHTS.parent.iterdir())}


@pytest.mark.parametrize("out", [DEFAULT_WEIGHTS.parent, PACKAGE_DIR, PACKAGE_DIR / "data" / "new_run"])
def test_the_package_is_refused_as_output(out, capsys):
    before = _shipped_state()
    assert main([*tiny_args(), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"python -m rlsched_compile.pipeline.respect: error: refusing to write training output into "
                   f"the package ({out}): it holds the shipped weights (respect.npz); pass --out DIR elsewhere "
                   "(default rlsched_out/respect/), or --overwrite-shipped to replace the shipped files on purpose\n")
    assert _shipped_state() == before
    assert not (PACKAGE_DIR / "data" / "new_run").exists()


def test_the_library_refuses_the_package_too_unless_asked(tmp_path):
    with pytest.raises(PipelineError, match=r"^refusing to write training output into the package"):
        train_respect(RespectConfig(**SMALL, n_graphs=2), out_dir=DEFAULT_WEIGHTS.parent / ".." / "respect")
    # A path that only passes through the package on its way out is not inside it.
    assert check_out_dir(PACKAGE_DIR / ".." / "elsewhere") == PACKAGE_DIR / ".." / "elsewhere"
    assert check_out_dir(DEFAULT_WEIGHTS.parent, overwrite_shipped=True) == DEFAULT_WEIGHTS.parent


def test_dataset_flag_reads_labels_without_writing_them(tmp_path, capsys):
    first = tmp_path / "first"
    assert main([*tiny_args(), "--out", str(first)]) == 0
    source = first / "respect_dataset.npz"
    before = source.read_bytes()
    # The same settings: the labels are read from --dataset, nothing is labelled or written there.
    second = tmp_path / "second"
    assert main([*tiny_args(), "--out", str(second), "--dataset", str(source)]) == 0
    assert "reusing labelled graphs from" in capsys.readouterr().err
    assert not (second / "respect_dataset.npz").exists()
    assert np.array_equal(np.load(second / "respect.npz")["embed_w"], np.load(first / "respect.npz")["embed_w"])
    # More graphs: the first ones' labels are reused and the extended dataset goes to --out.
    third = tmp_path / "third"
    assert main([*tiny_args(n_graphs=3), "--out", str(third), "--dataset", str(source)]) == 0
    assert source.read_bytes() == before
    with np.load(third / "respect_dataset.npz") as data:
        assert json.loads(str(data["key"]))["n_graphs"] == 3


def test_the_old_command_is_a_deprecated_alias(tmp_path, capsys):
    from rlsched_compile.rl import respect as alias  # noqa: PLC0415

    assert alias.main([*tiny_args(), "-q", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr()
    assert out.err == alias.NOTE + "\n"
    assert out.out.strip().endswith("respect.npz") and (tmp_path / "run" / "respect.npz").is_file()
    assert alias.NOTE.startswith("note: `python -m rlsched_compile.rl.respect` is deprecated and goes in 0.2.0")


def test_both_commands_run_with_python_dash_m(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for module, notes in (("rlsched_compile.pipeline.respect", 0), ("rlsched_compile.rl.respect", 1)):
        proc = subprocess.run([sys.executable, "-m", module, "--help"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("usage: python -m rlsched_compile.pipeline.respect ")
        assert "--overwrite-shipped" in proc.stdout and "--cost-reward-coef" in proc.stdout
        assert proc.stderr.count("is deprecated") == notes
