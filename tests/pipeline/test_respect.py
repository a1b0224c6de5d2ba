"""RESPECT: fix-up, features, numpy inference against torch, the solver and its explicit state.

Training is tested in :mod:`.test_respect_training`.
"""
from __future__ import annotations

import numpy as np
import pytest

from rlsched_compile.errors import PipelineError
from rlsched_compile.pipeline import solve
from rlsched_compile.pipeline.cost import dependency_violations, stages_from_cuts
from rlsched_compile.pipeline.generate import random_dag, resnet_like
from rlsched_compile.pipeline.graph import build_graph
from rlsched_compile.pipeline.respect import (DEFAULT_WEIGHTS, FEATURE_DIM, WEIGHT_NAMES, PointerWeights,
                                              RespectSolver, decode_sequences, fixup_order, fixup_stages,
                                              node_features, respect_assignment)

from ._reference_decoder import pointer_logits_sequence


def _diamond():
    # 0 -> 1 -> 3, 0 -> 2 -> 3, 4 independent
    nodes = [{"id": i, "macs": 1, "param_bytes": 1, "out_bytes": 1} for i in range(5)]
    return build_graph(name="diamond", nodes=nodes, edges=[[0, 1], [0, 2], [1, 3], [2, 3]], source="d")


def test_fixup_keeps_a_valid_sequence():
    g = _diamond()
    assert fixup_order(g, [4, 0, 2, 1, 3]) == [4, 0, 2, 1, 3]


def test_fixup_moves_a_node_after_its_predecessors_only():
    g = _diamond()
    # 3 is asked for first but waits for 1 and 2; 2 comes before 1 as asked; 4 keeps its place.
    assert fixup_order(g, [3, 2, 0, 1, 4]) == [0, 2, 1, 3, 4]
    assert fixup_order(g, [3, 2, 1, 0, 4]) == [0, 2, 1, 3, 4]
    assert fixup_order(g, [4, 3, 2, 1, 0]) == [4, 0, 2, 1, 3]


def test_fixup_rejects_non_permutations():
    with pytest.raises(PipelineError, match=r"^fix-up needs a permutation of the 5 nodes, got 4 entries$"):
        fixup_order(_diamond(), [0, 1, 2, 3])


def test_fixup_stages_lifts_children():
    g = _diamond()
    assert fixup_stages(g, [1, 0, 2, 0, 0]) == [1, 1, 2, 2, 0]
    assert dependency_violations(g, fixup_stages(g, [3, 0, 1, 2, 0])) == []


def test_features_are_scale_free_and_describe_parents():
    g = random_dag(40, seed=3)
    f = node_features(g)
    assert f.shape == (40, FEATURE_DIM)
    assert np.all(np.isfinite(f))
    v = next(i for i in range(40) if len(g.preds[i]) >= 2)
    latest = max(g.preds[v])
    assert f[v, 3] == (latest + 1) / 40                     # ID of the latest parent
    assert f[v, 0] == v / 40 and f[v, 1] == g.asap_level[v] / (max(g.asap_level) + 1)


def test_numpy_forward_matches_torch():
    torch = pytest.importorskip("torch")
    from rlsched_compile.pipeline.respect.train import RespectConfig, build_model, export_weights

    cfg = RespectConfig(hidden=16)
    torch.manual_seed(3)
    model = build_model(cfg).double()
    weights = export_weights(model, cfg)
    feats = node_features(random_dag(25, seed=1))
    seq, logps = pointer_logits_sequence(weights, feats)
    with torch.no_grad():
        actions, logp_sum, _ = model(torch.from_numpy(feats)[None])
    assert seq == actions[0].tolist()
    # The production decoder (float64 with samples, float32 without) decodes the same greedy sequence.
    assert decode_sequences(weights, feats)[0] == seq
    assert decode_sequences(weights, feats, samples=2)[0] == seq
    assert sum(logps[t, seq[t]] for t in range(25)) == pytest.approx(float(logp_sum[0]), abs=1e-5)
    # Teacher forcing along another sequence gives the same step log-probabilities too.
    other = list(np.random.default_rng(0).permutation(25))
    _, lp_other = pointer_logits_sequence(weights, feats, actions=other)
    with torch.no_grad():
        _, logp_other, _ = model(torch.from_numpy(feats)[None], actions=torch.tensor([other]))
    assert sum(lp_other[t, other[t]] for t in range(25)) == pytest.approx(float(logp_other[0]), abs=1e-5)


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped RESPECT weights")
@pytest.mark.parametrize("k", [4, 6])
def test_respect_solver_is_valid_and_never_worse_than_param_balance(k):
    g = resnet_like((2, 2, 3, 2), name="small_resnet")
    res = solve(g, _target(), k, solver="respect")
    base = solve(g, _target(), k, solver="param-balance")
    assert dependency_violations(g, res.stage_of) == []
    assert res.bottleneck_s <= base.bottleneck_s
    assert res.optimal is None and isinstance(res.valid_before_fixup, bool)
    assert 0.0 <= res.edges_kept_before_fixup <= 1.0
    assert res.valid_before_fixup == (res.edges_kept_before_fixup == 1.0)
    assert res.method in ("pointer+fixup+refine", "fallback:param-balance")


@pytest.mark.parametrize("seed", range(6))
def test_broken_edges_are_those_of_the_raw_sequence_cut_like_the_result(seed):
    g = random_dag(25, seed=seed, max_degree=4)
    sequence = [int(v) for v in np.random.default_rng(seed).permutation(g.n)]
    stages, broken = respect_assignment(g, _target(), 4, sequence)
    assert dependency_violations(g, stages) == []
    order = fixup_order(g, sequence)
    sizes = np.bincount(stages, minlength=4)
    starts = [0] + list(np.cumsum(sizes)[:-1])
    assert stages == stages_from_cuts(order, starts)
    assert broken == len(dependency_violations(g, stages_from_cuts(sequence, starts)))
    # A sequence that already respects every edge breaks none.
    assert respect_assignment(g, _target(), 4, list(range(g.n)))[1] == 0


@pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped RESPECT weights")
def test_respect_is_optimal_on_a_chain():
    # One topological order: its best cut is the optimum, whatever the network points at.
    nodes = [{"id": i, "macs": (i % 4 + 1) * 10**8, "param_bytes": (7 - i % 5) * 10**6, "out_bytes": 10**5 * (i % 3 + 1)}
             for i in range(40)]
    g = build_graph(name="chain", nodes=nodes, edges=[[i, i + 1] for i in range(39)], source="chain")
    assert g.is_chain_like()
    for k in (2, 5):
        res = solve(g, _target(), k, solver="respect")
        best = solve(g, _target(), k, solver="exact")
        assert best.optimal and best.method == "dp-chain"
        assert (res.bottleneck_s, res.latency_s) == (best.bottleneck_s, best.latency_s)
        assert res.method == "pointer+fixup" and res.valid_before_fixup is not None


def test_missing_weights_say_how_to_train(tmp_path):
    with pytest.raises(PipelineError) as exc:
        RespectSolver(tmp_path / "none.npz").solve(random_dag(6, seed=0), _target(), 2)
    assert str(exc.value) == (f"no RESPECT weights at {tmp_path / 'none.npz'}; train them with "
                              "`python -m rlsched_compile.pipeline.respect` or pick another --solver")


def test_weights_file_holds_exactly_the_named_weights():
    # One list of names (the PointerWeights fields): the shipped file has those arrays and the clip.
    with np.load(DEFAULT_WEIGHTS) as data:
        assert list(data.files) == [*WEIGHT_NAMES, "logit_clip"]
    assert WEIGHT_NAMES[0] == "embed_w" and "logit_clip" not in WEIGHT_NAMES


def test_weights_round_trip_through_the_file(tmp_path):
    weights = PointerWeights.load(DEFAULT_WEIGHTS)
    weights.save(tmp_path / "w.npz")
    again = PointerWeights.load(tmp_path / "w.npz")
    for name in WEIGHT_NAMES:
        assert np.array_equal(getattr(again, name), getattr(weights, name)), name
    assert again.logit_clip == weights.logit_clip


def test_a_weight_missing_from_the_file_is_named(tmp_path):
    with np.load(DEFAULT_WEIGHTS) as data:
        arrays = {name: data[name] for name in data.files if name != "att_v"}
    np.savez(tmp_path / "w.npz", **arrays)
    with pytest.raises(PipelineError, match=r"^w\.npz: weight 'att_v' missing; re-export the checkpoint$"):
        RespectSolver(tmp_path / "w.npz")


def test_solver_holds_its_weights_and_takes_them_as_a_value():
    weights = PointerWeights.load(DEFAULT_WEIGHTS)
    by_value = RespectSolver(weights)
    assert by_value.weights is weights and by_value.weights_path is None
    by_path = RespectSolver()
    assert by_path.weights_path == DEFAULT_WEIGHTS
    g = random_dag(40, seed=5, max_degree=6)
    assert by_value.solve(g, _target(), 4).stage_of == by_path.solve(random_dag(40, seed=5, max_degree=6),
                                                                     _target(), 4).stage_of


def test_module_holds_no_cache():
    # The solver's state is in the solver object: the modules define no dict or weak dict of results.
    import weakref  # noqa: PLC0415

    import rlsched_compile.pipeline.respect as respect  # noqa: PLC0415
    from rlsched_compile.pipeline.respect import decode, features, network, solver  # noqa: PLC0415
    for module in (respect, decode, features, network, solver):
        caches = [name for name, value in vars(module).items()
                  if isinstance(value, (dict, weakref.WeakKeyDictionary, weakref.WeakValueDictionary))
                  and not name.startswith("__")]
        assert caches == [], (module.__name__, caches)


def test_negative_samples_are_refused():
    weights = PointerWeights.load(DEFAULT_WEIGHTS)
    with pytest.raises(ValueError, match=r"^samples must be >= 0, got -1$"):
        decode_sequences(weights, node_features(random_dag(5, seed=0)), samples=-1)


def _target():
    from rlsched_compile.pipeline.target import load_pipeline_target
    return load_pipeline_target("edgetpu")
