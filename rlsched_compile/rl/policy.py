"""Compile-time inference of a trained policy in numpy (no torch import).

A policy file is an ``.npz`` of the actor's weights (``w0, b0, w1, b1, w2, b2``: two tanh layers
and a linear output) next to a JSON *card* (same stem, ``.json``) saying what it was trained on,
with which command and for how long. :func:`improve_table` runs the greedy rollout plus a few
seeded sampled rollouts on one layer and keeps the best table seen.
"""
from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .._io import atomic_path, write_text_atomic
from ..errors import RlschedError
from ..layer import Layer
from ..objective import Objective
from ..targets.model import Target
from .config import PPOConfig
from .mdp import N_ACTIONS, OBS_DIM, SchedulingMDP, SearchRowsFn

logger = logging.getLogger(__name__)

POLICY_FORMAT = "rlsched-policy-v1"
#: The policy shipped in the package.
SHIPPED_POLICY = Path(__file__).resolve().parent.parent / "data" / "rl" / "policy.npz"
_WEIGHT_NAMES = ("w0", "b0", "w1", "b1", "w2", "b2")


@dataclass(frozen=True)
class NumpyPolicy:
    """The actor network as numpy arrays plus its card.

    Attributes:
        weights: ``(w0, b0, w1, b1, w2, b2)``; ``w`` has shape (out, in) as in torch.
        card: the JSON card (training data, command, duration, episode limits).
    """

    weights: tuple[np.ndarray, ...]
    card: Mapping[str, Any]

    @property
    def max_steps(self) -> int:
        return int(self.card.get("inference", {}).get("max_steps", PPOConfig.max_steps))

    @property
    def patience(self) -> int:
        return int(self.card.get("inference", {}).get("patience", PPOConfig.patience))

    def logits(self, obs: np.ndarray) -> np.ndarray:
        """Actor logits (float64[55]) of one observation (or a batch, shape (n, OBS_DIM))."""
        w0, b0, w1, b1, w2, b2 = self.weights
        x = np.asarray(obs, dtype=np.float64)
        h = np.tanh(x @ w0.T + b0)
        h = np.tanh(h @ w1.T + b1)
        return h @ w2.T + b2  # type: ignore[no-any-return]

    def act(self, obs: np.ndarray, mask: np.ndarray, rng: np.random.Generator | None = None) -> int:
        """Greedy action (``rng`` None) or one sampled from the masked softmax; always legal."""
        legal = np.flatnonzero(mask)
        if legal.size == 0:
            raise ValueError("no legal action")
        z = self.logits(obs)[legal]
        if rng is None:
            return int(legal[int(np.argmax(z))])
        p = np.exp(z - z.max())
        p /= p.sum()
        return int(legal[int(rng.choice(legal.size, p=p))])


def save_policy(path: str | os.PathLike[str], weights: Mapping[str, np.ndarray], card: Mapping[str, Any]) -> None:
    """Write ``path`` (.npz) and its card (.json) atomically and deterministically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(weights[k], dtype=np.float32) for k in _WEIGHT_NAMES}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    write_text_atomic(path.with_suffix(".json"),
                      json.dumps({"format": POLICY_FORMAT, **card}, indent=2, sort_keys=False) + "\n")


def load_policy(path: str | os.PathLike[str]) -> NumpyPolicy:
    """Read a policy file and its card.

    Raises:
        RlschedError: the file is missing or not a policy of this format and size.
    """
    path = Path(path)
    if not path.is_file():
        raise RlschedError(f"policy file {str(path)!r} does not exist: train one with `rlsched-compile train` "
                           f"or omit the option to use the shipped policy")
    try:
        with np.load(path) as data:
            weights = tuple(np.asarray(data[k], dtype=np.float64) for k in _WEIGHT_NAMES)
    except (KeyError, ValueError, OSError) as exc:
        raise RlschedError(f"policy file {str(path)!r} is not a policy ({exc}): pass a .npz written by "
                           f"`rlsched-compile train`") from None
    card_path = path.with_suffix(".json")
    card: dict[str, Any] = json.loads(card_path.read_text()) if card_path.is_file() else {}
    if weights[0].shape[1] != OBS_DIM or weights[4].shape[0] != N_ACTIONS:
        raise RlschedError(f"policy file {str(path)!r} expects {weights[0].shape[1]} features and "
                           f"{weights[4].shape[0]} actions, this version uses {OBS_DIM} and {N_ACTIONS}: retrain it")
    return NumpyPolicy(weights=weights, card=card)


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> NumpyPolicy:
    return load_policy(path)


def shipped_policy() -> NumpyPolicy:
    """The policy shipped in the package (loaded once)."""
    return _load_cached(str(SHIPPED_POLICY))


@dataclass(frozen=True)
class Improvement:
    """Best table found by the policy's rollouts on one layer.

    Attributes:
        table: best table (int64[10, 8]); the start table when nothing improved it.
        energy_pj, cycles: its cost.
        candidates: tables evaluated by the row searches (cache hits excluded).
        steps: actions taken over all rollouts.
        rollouts: rollouts run (1 greedy + sampled).
    """

    table: np.ndarray
    energy_pj: float
    cycles: float
    candidates: int
    steps: int
    rollouts: int


def improve_table(target: Target, layer: Layer, start_table: np.ndarray, *, start_energy_pj: float,
                  start_cycles: float, objective: Objective | str, policy: NumpyPolicy, sampled_rollouts: int = 3,
                  seed: int = 0, max_steps: int | None = None, patience: int | None = None,
                  stop_after_idle: int | None = None, sampled_stop_after_idle: int | None = None,
                  search_rows: SearchRowsFn | None = None) -> Improvement:
    """Run the greedy rollout and ``sampled_rollouts`` sampled ones from ``start_table``; keep the best.

    Row searches are memoized across the rollouts (they share their first states), so the sampled
    rollouts mostly pay only for where they diverge from the greedy one.

    Args:
        max_steps, patience: episode limits as in training (default: the policy card's); they are
            also observation features, so keep them as trained.
        stop_after_idle: end a rollout after this many consecutive non-improving actions (a
            compile-time shortcut that leaves the observations unchanged; None: never).
        sampled_stop_after_idle: the same for the sampled rollouts only (None: ``stop_after_idle``).
    """
    cache: dict[Any, Any] = {}
    mdp = SchedulingMDP(target, layer, start_table, start_energy_pj=start_energy_pj, start_cycles=start_cycles,
                        objective=objective, search_rows=search_rows,
                        max_steps=policy.max_steps if max_steps is None else max_steps,
                        patience=policy.patience if patience is None else patience, cache=cache)
    rng = np.random.default_rng(seed)
    best = (mdp.metric(start_energy_pj, start_cycles), np.asarray(start_table, dtype=np.int64).copy(),
            start_energy_pj, start_cycles)
    steps = 0
    for k in range(1 + sampled_rollouts):
        obs = mdp.reset()
        limit = stop_after_idle if k == 0 or sampled_stop_after_idle is None else sampled_stop_after_idle
        while not mdp.done and (limit is None or mdp.idle < limit):
            obs, _, _, _ = mdp.step(policy.act(obs, mdp.action_mask(), None if k == 0 else rng))
        steps += mdp.steps
        metric = mdp.metric(mdp.best_energy_pj, mdp.best_cycles)
        if mdp.objective.improves(metric, best[0]):
            best = (metric, mdp.best_table.copy(), mdp.best_energy_pj, mdp.best_cycles)
    return Improvement(table=best[1], energy_pj=float(best[2]), cycles=float(best[3]), candidates=mdp.candidates,
                       steps=steps, rollouts=1 + sampled_rollouts)
