"""PPO with invalid-action masking (torch; imported only for training and tests).

Written as functions so tests can import them: :func:`collect_rollout`, :func:`compute_gae`,
:func:`ppo_update`. Masking follows sb3-contrib's MaskablePPO: masks are stored beside the
observations, illegal logits become a large negative number via ``torch.where`` (in the rollout and
again in the update), and the entropy sums over legal actions only.

Loss (paper §3.3): ``actor + c1 * critic - c2 * entropy`` with the clipped surrogate (ε = 0.2) as
the actor loss and ``SmoothL1(V, returns) + λ_L2 * ||ω||`` as the critic loss (ω: the critic's
parameters). Actor and critic are separate networks with their own Adam optimizers (learning rates
3e-4 and 1e-3).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import PPOConfig
from .env import SchedulingEnv
from .mdp import N_ACTIONS, OBS_DIM

logger = logging.getLogger(__name__)


def _mlp(in_dim: int, hidden: int, out_dim: int, out_gain: float) -> nn.Sequential:
    layers = [nn.Linear(in_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, out_dim)]
    for layer, gain in zip(layers[::2], (np.sqrt(2), np.sqrt(2), out_gain)):
        assert isinstance(layer, nn.Linear)
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """Two tanh MLPs: the actor maps an observation to 55 logits, the critic to a value."""

    def __init__(self, obs_dim: int = OBS_DIM, n_actions: int = N_ACTIONS, hidden: int = 128) -> None:
        super().__init__()
        self.actor = _mlp(obs_dim, hidden, n_actions, 0.01)
        self.critic = _mlp(obs_dim, hidden, 1, 1.0)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)


def masked_logits(logits: torch.Tensor, masks: torch.Tensor, fill: float = -1e8) -> torch.Tensor:
    """Illegal actions get the logit ``fill`` (MaskablePPO's large negative number)."""
    return torch.where(masks, logits, torch.full_like(logits, fill))


def masked_log_probs(logits: torch.Tensor, masks: torch.Tensor, fill: float = -1e8) -> torch.Tensor:
    """Log-probabilities of every action under the masked policy (illegal ones ~ -inf)."""
    return torch.log_softmax(masked_logits(logits, masks, fill), dim=-1)


def masked_entropy(log_probs: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Entropy over legal actions only (illegal terms are exactly zero)."""
    p_log_p = torch.where(masks, log_probs.exp() * log_probs, torch.zeros_like(log_probs))
    return -p_log_p.sum(-1)


@dataclass
class Rollout:
    """Transitions of complete episodes, flattened in time order (``b_`` arrays of length n)."""

    obs: np.ndarray
    masks: np.ndarray
    actions: np.ndarray
    logprobs: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    values: np.ndarray
    episodes: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.actions)


def collect_rollout(env: SchedulingEnv, model: ActorCritic, *, episodes: int, generator: torch.Generator,
                    seeds: list[int], mask_logit: float = -1e8) -> Rollout:
    """Play ``episodes`` complete episodes with the current policy (actions sampled with ``generator``).

    Args:
        env: the environment (its ``reset(seed=...)`` draws each episode's task).
        model: actor-critic used to act and to record values.
        episodes: number of episodes.
        generator: torch RNG for action sampling.
        seeds: one reset seed per episode.
        mask_logit: logit of illegal actions.
    """
    obs_l: list[np.ndarray] = []
    mask_l: list[np.ndarray] = []
    act_l: list[int] = []
    logp_l: list[float] = []
    rew_l: list[float] = []
    done_l: list[bool] = []
    val_l: list[float] = []
    stats: list[dict[str, Any]] = []
    for ep in range(episodes):
        obs, info = env.reset(seed=seeds[ep])
        assert env.mdp is not None and env.task is not None
        total, done = 0.0, False
        while not done:
            mask = env.action_masks()
            with torch.no_grad():
                o = torch.as_tensor(obs).unsqueeze(0)
                m = torch.as_tensor(mask).unsqueeze(0)
                logp_all = masked_log_probs(model.actor(o), m, mask_logit)[0]
                action = int(torch.multinomial(logp_all.exp(), 1, generator=generator).item())
                value = float(model.value(o)[0])
            obs_l.append(obs)
            mask_l.append(mask)
            act_l.append(action)
            logp_l.append(float(logp_all[action]))
            val_l.append(value)
            obs, r, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            rew_l.append(r)
            done_l.append(done)
            total += r
        mdp = env.mdp
        stats.append({
            "layer": env.task.layer.name, "target": env.task.target.name, "objective": str(env.task.objective),
            "start": env.task.start, "reward": total, "steps": mdp.steps,
            "metric_ratio": mdp.metric(mdp.energy_pj, mdp.cycles) / mdp.metric_init,
            "energy_ratio": mdp.energy_pj / mdp.start_energy_pj, "cycles_ratio": mdp.cycles / mdp.start_cycles,
        })
    return Rollout(obs=np.asarray(obs_l, dtype=np.float32), masks=np.asarray(mask_l, dtype=bool),
                   actions=np.asarray(act_l, dtype=np.int64), logprobs=np.asarray(logp_l, dtype=np.float32),
                   rewards=np.asarray(rew_l, dtype=np.float32), dones=np.asarray(done_l, dtype=bool),
                   values=np.asarray(val_l, dtype=np.float32), episodes=stats)


def compute_gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, *, gamma: float, lam: float,
                last_value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimation over a time-ordered buffer.

    ``dones[t]`` marks that the episode ended after step ``t`` (no bootstrap across it);
    ``last_value`` bootstraps the final step when it did not end an episode.

    Returns:
        (advantages, returns) with ``returns = advantages + values``.
    """
    n = len(rewards)
    advantages = np.zeros(n, dtype=np.float64)
    last_gae = 0.0
    for t in reversed(range(n)):
        next_value = last_value if t == n - 1 else float(values[t + 1])
        nonterminal = 0.0 if dones[t] else 1.0
        delta = float(rewards[t]) + gamma * next_value * nonterminal - float(values[t])
        last_gae = delta + gamma * lam * nonterminal * last_gae
        advantages[t] = last_gae
    returns = advantages + values.astype(np.float64)
    return advantages.astype(np.float32), returns.astype(np.float32)


def critic_l2_norm(model: ActorCritic) -> torch.Tensor:
    """||ω||: Euclidean norm of all critic parameters."""
    return torch.sqrt(sum((p * p).sum() for p in model.critic.parameters()))  # type: ignore[arg-type]


def make_optimizers(model: ActorCritic, config: PPOConfig) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for the actor (lr_actor) and the critic (lr_critic)."""
    return (torch.optim.Adam(model.actor.parameters(), lr=config.lr_actor, eps=1e-5),
            torch.optim.Adam(model.critic.parameters(), lr=config.lr_critic, eps=1e-5))


def ppo_update(model: ActorCritic, optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
               rollout: Rollout, advantages: np.ndarray, returns: np.ndarray, *, config: PPOConfig, c2: float,
               generator: torch.Generator) -> dict[str, float]:
    """Several epochs of minibatch PPO on one rollout; returns the last epoch's mean losses."""
    b_obs = torch.as_tensor(rollout.obs)
    b_masks = torch.as_tensor(rollout.masks)
    b_actions = torch.as_tensor(rollout.actions)
    b_logprobs = torch.as_tensor(rollout.logprobs)
    b_adv = torch.as_tensor(advantages)
    b_returns = torch.as_tensor(returns)
    n = len(rollout)
    mb = max(1, min(config.minibatch_size, n))
    metrics: dict[str, list[float]] = {"losses/actor": [], "losses/critic": [], "losses/entropy": [],
                                       "losses/approx_kl": [], "losses/clipfrac": []}
    actor_opt, critic_opt = optimizers
    for _ in range(config.update_epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, mb):
            idx = order[start:start + mb]
            mb_adv = b_adv[idx]
            if len(idx) > 1:
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
            logp_all = masked_log_probs(model.actor(b_obs[idx]), b_masks[idx], config.mask_logit)
            new_logp = logp_all.gather(1, b_actions[idx].unsqueeze(1)).squeeze(1)
            entropy = masked_entropy(logp_all, b_masks[idx]).mean()
            log_ratio = new_logp - b_logprobs[idx]
            ratio = log_ratio.exp()
            # Clipped surrogate objective (maximized, so the loss is its negative).
            surrogate = torch.min(ratio * mb_adv, torch.clamp(ratio, 1 - config.clip_eps, 1 + config.clip_eps) * mb_adv)
            actor_loss = -surrogate.mean()
            values = model.value(b_obs[idx])
            critic_loss = nn.functional.smooth_l1_loss(values, b_returns[idx]) + config.critic_l2 * critic_l2_norm(model)
            loss = actor_loss + config.c1 * critic_loss - c2 * entropy
            actor_opt.zero_grad()
            critic_opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.actor.parameters(), config.max_grad_norm)
            nn.utils.clip_grad_norm_(model.critic.parameters(), config.max_grad_norm)
            actor_opt.step()
            critic_opt.step()
            with torch.no_grad():
                metrics["losses/actor"].append(float(actor_loss))
                metrics["losses/critic"].append(float(critic_loss))
                metrics["losses/entropy"].append(float(entropy))
                metrics["losses/approx_kl"].append(float(((ratio - 1) - log_ratio).mean()))
                metrics["losses/clipfrac"].append(float(((ratio - 1).abs() > config.clip_eps).float().mean()))
    return {k: float(np.mean(v)) if v else 0.0 for k, v in metrics.items()}


def seed_everything(seed: int) -> torch.Generator:
    """Deterministic torch on one thread; returns the generator used for sampling and shuffling."""
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen
