"""Hyper-parameters of the PPO scheduling agent (one frozen dataclass, one line per field).

Plain Python only: importing this module never imports torch, so the compile path can read a
checkpoint's configuration without paying for it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from ..errors import RlschedError
from ..objective import DEFAULT_OBJECTIVE


#: (target, layer) pairs per split the trained policy is evaluated on (a seeded sample), for
#: ``train()`` and ``rlsched-compile train --eval-pairs`` alike.
EVAL_PAIRS = 24


@dataclass(frozen=True)
class PPOConfig:
    """Everything that determines a training run (paper §3.3, eqs. (1) and (6))."""

    seed: int = 0
    """Seed of every random choice (layer sampling, action sampling, network init)."""
    episodes: int = 3000
    """Training episodes (the paper trains for up to 3000)."""
    max_steps: int = 24
    """Actions per episode before it is truncated."""
    patience: int = 24
    """Consecutive non-improving actions that end an episode early (>= max_steps: fixed length)."""
    episodes_per_update: int = 4
    """Episodes collected into one rollout buffer before each PPO update."""
    update_epochs: int = 4
    """Passes over the rollout buffer per PPO update."""
    minibatch_size: int = 32
    """Transitions per gradient step."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE smoothing parameter (lambda)."""
    clip_eps: float = 0.2
    """Clipping range epsilon of the surrogate objective."""
    c1: float = 0.5
    """Weight of the critic loss in the total loss."""
    c2_initial: float = 0.1
    """Entropy weight c2 during the first ``c2_hold_episodes`` episodes (eq. (6))."""
    c2_hold_episodes: int = 500
    """Episodes before c2 starts to decay (eq. (6))."""
    c2_decay: float = 0.995
    """Multiplicative decay of c2 applied every ``c2_decay_every`` episodes (eq. (6))."""
    c2_decay_every: int = 5
    """Episodes between two c2 decay steps (eq. (6))."""
    c2_final: float = 0.02
    """Floor of c2 (eq. (6))."""
    critic_l2: float = 0.01
    """lambda_L2: weight of the L2 norm of the critic's parameters in the critic loss."""
    lr_actor: float = 3e-4
    """Adam learning rate of the actor (policy) network."""
    lr_critic: float = 1e-3
    """Adam learning rate of the critic (value) network."""
    max_grad_norm: float = 0.5
    """Gradient-norm clipping of each network."""
    hidden: int = 128
    """Width of the two hidden layers of actor and critic."""
    mask_logit: float = -1e8
    """Logit given to illegal actions (MaskablePPO's large negative number)."""
    objective: str = DEFAULT_OBJECTIVE.value
    """Metric M of the reward; ``mixed`` draws energy or cycles per episode."""
    start: str = "mixed"
    """Episode start table: ``paper`` (all in DRAM), ``bottom-up``, or ``mixed`` (drawn per episode)."""
    bottom_up_fraction: float = 0.5
    """With ``start="mixed"``: probability that an episode starts from bottom-up's table."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PPOConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise RlschedError(f"PPO config: unknown keys {unknown}; accepted keys are {sorted(known)}")
        return cls(**dict(d))


def entropy_coef(config: PPOConfig, episode: int) -> float:
    """c2 for a 0-based episode index, paper eq. (6).

    ``c2 = c2_initial`` for the first ``c2_hold_episodes`` episodes, then multiplied by
    ``c2_decay`` once every ``c2_decay_every`` episodes, never below ``c2_final``:
    ``c2(e) = max(c2_final, c2_initial * c2_decay ** floor((e - hold) / every))`` for ``e >= hold``
    (so episodes 500-504 use 0.1, 505-509 use 0.0995, ...).
    """
    if episode < config.c2_hold_episodes:
        return config.c2_initial
    steps = (episode - config.c2_hold_episodes) // config.c2_decay_every
    return max(config.c2_final, config.c2_initial * config.c2_decay ** steps)
