"""Gymnasium wrapper of :class:`~.mdp.SchedulingMDP` for training, with ``action_masks()`` as in
sb3-contrib's MaskablePPO.

Each ``reset`` draws a task (target, layer, objective, start) from a :class:`TaskSampler`, so one
environment covers the whole training distribution.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np

from ..layer import Layer
from ..objective import Objective
from ..targets.model import Target
from .config import PPOConfig
from .mdp import N_ACTIONS, OBS_DIM, SchedulingMDP, SearchRowsFn

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """One training situation: a layer on a target, an objective and a start table."""

    target: Target
    layer: Layer
    objective: Objective
    start_table: np.ndarray
    start_energy_pj: float
    start_cycles: float
    start: str = "paper"


#: ``sampler(rng) -> Task``
TaskSampler = Callable[[np.random.Generator], Task]


class SchedulingEnv(gym.Env):  # type: ignore[misc]
    """The scheduling MDP as a gymnasium environment (observation: float32[OBS_DIM], 55 actions).

    Args:
        sampler: draws the task of each episode.
        search_rows: the row search (default: the C one).
        max_steps, patience: episode limits (see :class:`~.mdp.SchedulingMDP`).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, sampler: TaskSampler, *, search_rows: SearchRowsFn | None = None, max_steps: int = PPOConfig.max_steps,
                 patience: int = PPOConfig.patience) -> None:
        super().__init__()
        self.observation_space = gym.spaces.Box(low=-np.inf, high=np.inf, shape=(OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self._sampler = sampler
        self._search_rows = search_rows
        self._max_steps = max_steps
        self._patience = patience
        self._caches: dict[tuple[Any, ...], dict[Any, Any]] = {}
        self.mdp: SchedulingMDP | None = None
        self.task: Task | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.task = task = self._sampler(self.np_random)
        # Row searches are memoized per (target, layer, objective): episodes revisit tables.
        key = (task.target.sha256, task.layer.signature(), task.objective)
        cache = self._caches.setdefault(key, {})
        self.mdp = SchedulingMDP(task.target, task.layer, task.start_table, start_energy_pj=task.start_energy_pj,
                                 start_cycles=task.start_cycles, objective=task.objective,
                                 search_rows=self._search_rows, max_steps=self._max_steps,
                                 patience=self._patience, cache=cache)
        return self.mdp.observation(), {"layer": task.layer.name, "target": task.target.name}

    def action_masks(self) -> np.ndarray:
        """Legal actions (bool[55]) in the current state."""
        assert self.mdp is not None, "call reset() first"
        return self.mdp.action_mask()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        assert self.mdp is not None, "call reset() first"
        obs, r, done, info = self.mdp.step(int(action))
        truncated = done and self.mdp.steps >= self._max_steps
        return obs, r, done and not truncated, truncated, {
            "rows": info.rows, "improved": info.improved, "candidates": info.candidates,
            "metric_ratio": self.mdp.metric(self.mdp.energy_pj, self.mdp.cycles) / self.mdp.metric_init}


def fixed_sampler(tasks: Sequence[Task]) -> TaskSampler:
    """A sampler drawing uniformly from a fixed list of tasks."""
    def sample(rng: np.random.Generator) -> Task:
        return tasks[int(rng.integers(len(tasks)))]
    return sample
