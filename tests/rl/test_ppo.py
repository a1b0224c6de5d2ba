"""PPO pieces (torch): masked distribution, GAE, numpy forward == torch forward, repeatable training."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rlsched_compile.errors import RlschedError  # noqa: E402
from rlsched_compile.rl.config import PPOConfig  # noqa: E402
from rlsched_compile.rl.mdp import N_ACTIONS, OBS_DIM  # noqa: E402
from rlsched_compile.rl.policy import NumpyPolicy, load_policy  # noqa: E402
from rlsched_compile.rl.ppo import (ActorCritic, compute_gae, masked_entropy, masked_log_probs,  # noqa: E402
                                    seed_everything)
from rlsched_compile.rl.train import export_weights, train  # noqa: E402


def test_gae_hand_computed():
    # Two episodes: [r=1, r=2 | end] [r=3 | end]; gamma = 0.5, lambda = 0.5
    rewards = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    values = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    dones = np.array([False, True, True])
    adv, ret = compute_gae(rewards, values, dones, gamma=0.5, lam=0.5)
    # t=1: delta = 2 - 1 = 1 (terminal)            -> A1 = 1
    # t=0: delta = 1 + 0.5*1.0 - 0.5 = 1.0          -> A0 = 1 + 0.25 * 1 = 1.25
    # t=2: delta = 3 - 2 = 1 (terminal)             -> A2 = 1
    assert adv.tolist() == pytest.approx([1.25, 1.0, 1.0])
    assert ret.tolist() == pytest.approx([1.75, 2.0, 3.0])


def test_gae_bootstraps_an_unfinished_tail():
    adv, _ = compute_gae(np.array([1.0]), np.array([0.0]), np.array([False]), gamma=0.9, lam=0.95, last_value=10.0)
    assert adv[0] == pytest.approx(1.0 + 0.9 * 10.0)


def test_masked_sampling_never_picks_illegal_actions():
    gen = seed_everything(0)
    logits = torch.randn(200, N_ACTIONS, generator=gen) * 5
    masks = torch.rand(200, N_ACTIONS, generator=gen) < 0.2
    masks[:, 0] = True  # at least one legal action per row
    probs = masked_log_probs(logits, masks).exp()
    samples = torch.multinomial(probs, 50, replacement=True, generator=gen)
    assert bool(masks.gather(1, samples).all())
    assert float(probs[~masks].max()) == 0.0


def test_single_legal_action_is_always_taken_and_entropy_is_zero():
    gen = seed_everything(1)
    model = ActorCritic()
    obs = torch.randn(64, OBS_DIM, generator=gen)
    masks = torch.zeros(64, N_ACTIONS, dtype=torch.bool)
    masks[torch.arange(64), torch.arange(64) % N_ACTIONS] = True
    logp = masked_log_probs(model.actor(obs), masks)
    actions = torch.multinomial(logp.exp(), 1, generator=gen).squeeze(1)
    assert actions.tolist() == (torch.arange(64) % N_ACTIONS).tolist()
    assert torch.allclose(masked_entropy(logp, masks), torch.zeros(64))
    # the numpy policy, greedy and sampled, also takes it
    policy = NumpyPolicy(tuple(v.astype(np.float64) for v in export_weights(model).values()), {})
    rng = np.random.default_rng(0)
    for k in range(64):
        m = masks[k].numpy()
        assert policy.act(obs[k].numpy(), m) == k % N_ACTIONS
        assert policy.act(obs[k].numpy(), m, rng) == k % N_ACTIONS


def test_entropy_counts_legal_actions_only():
    logits = torch.zeros(1, N_ACTIONS)
    masks = torch.zeros(1, N_ACTIONS, dtype=torch.bool)
    masks[0, :4] = True
    assert float(masked_entropy(masked_log_probs(logits, masks), masks)) == pytest.approx(np.log(4))


def test_numpy_forward_equals_torch_forward():
    seed_everything(2)
    model = ActorCritic()
    obs = torch.randn(16, OBS_DIM)
    weights = export_weights(model)
    policy = NumpyPolicy(tuple(weights[k].astype(np.float64) for k in ("w0", "b0", "w1", "b1", "w2", "b2")), {})
    with torch.no_grad():
        expected = model.actor(obs).numpy()
    assert np.allclose(policy.logits(obs.numpy()), expected, atol=1e-5)


def _smoke(tmp_path, name, eyeriss, small_layers, episodes=24, **kw):
    config = PPOConfig(seed=7, episodes=episodes, max_steps=12, patience=12, episodes_per_update=4,
                       minibatch_size=16, start="mixed", objective="mixed")
    return train(config, train_pairs=[(eyeriss, small_layers[0]), (eyeriss, small_layers[1])],
                 held_out_pairs=[(eyeriss, small_layers[2])], out_dir=tmp_path / name, progress=False, **kw)


def test_training_smoke_run_repeats_exactly(tmp_path, eyeriss, small_layers):
    a = _smoke(tmp_path, "a", eyeriss, small_layers)
    b = _smoke(tmp_path, "b", eyeriss, small_layers)
    history_a = json.loads((a.out_dir / "history.json").read_text())
    steps = sum(ep["steps"] for ep in history_a["episodes"])
    assert steps >= 200  # a few hundred environment steps with these settings
    assert history_a == json.loads((b.out_dir / "history.json").read_text())
    assert (a.out_dir / "policy.npz").read_bytes() == (b.out_dir / "policy.npz").read_bytes()
    assert (a.out_dir / "learning_curve.png").stat().st_size > 1000
    card = json.loads((a.out_dir / "policy.json").read_text())
    assert card["episodes"] == 24 and set(card["evaluation"]) == {"train", "held_out"}
    assert card["evaluation"]["held_out"]["from_bottom_up"]["worst_ratio"] <= 1.0
    load_policy(a.out_dir / "policy.npz")


def test_resumed_training_equals_uninterrupted(tmp_path, eyeriss, small_layers):
    full = _smoke(tmp_path, "full", eyeriss, small_layers, episodes=8, evaluate=False)
    # stop after the first update (time limit 0), then resume to the end
    part = _smoke(tmp_path, "part", eyeriss, small_layers, episodes=8, evaluate=False, time_limit_s=0.0)
    assert part.episodes == 4 and not (part.out_dir / "policy.npz").exists()
    resumed = _smoke(tmp_path, "part", eyeriss, small_layers, episodes=8, evaluate=False)
    assert resumed.episodes == 8
    assert (full.out_dir / "policy.npz").read_bytes() == (resumed.out_dir / "policy.npz").read_bytes()


def test_resume_with_other_config_is_refused(tmp_path, eyeriss, small_layers):
    _smoke(tmp_path, "x", eyeriss, small_layers, episodes=4, evaluate=False)
    with pytest.raises(RlschedError, match="trained with a different configuration: use the same options"):
        _smoke(tmp_path, "x", eyeriss, small_layers, episodes=8, evaluate=False)


def test_finetune_starts_from_the_policy_and_changes_it(tmp_path, eyeriss, small_layers):
    from rlsched_compile.rl.train import finetune_policy, load_actor_weights

    base = load_policy(_smoke(tmp_path, "base", eyeriss, small_layers, episodes=4, evaluate=False).out_dir
                       / "policy.npz")
    # weights round-trip through the torch actor unchanged
    model = ActorCritic()
    load_actor_weights(model, base)
    assert all(np.allclose(a, b) for a, b in zip(export_weights(model).values(), base.weights))
    tuned = finetune_policy(base, [(eyeriss, small_layers[2])], steps=48, out_dir=tmp_path / "tuned", seed=1)
    assert tuned.card["episodes"] == 4 and "finetuned_from" in tuned.card
    assert not np.allclose(tuned.weights[4], base.weights[4])
