"""The gymnasium wrapper: spaces, 5-tuple steps, masks, seeded task draws."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from rlsched_compile.native.costmodel import evaluate_table  # noqa: E402
from rlsched_compile.rl.env import SchedulingEnv, Task, fixed_sampler  # noqa: E402
from rlsched_compile.rl.mdp import N_ACTIONS, paper_start_table  # noqa: E402


def _tasks(target, layers):
    out = []
    for layer in layers:
        table = paper_start_table(layer)
        ev = evaluate_table(target, layer, table)
        out.append(Task(target=target, layer=layer, objective="energy", start_table=table,
                        start_energy_pj=ev.energy_pj, start_cycles=ev.cycles))
    return out


def test_env_follows_the_gymnasium_api(eyeriss, small_layers):
    env = SchedulingEnv(fixed_sampler(_tasks(eyeriss, small_layers)), max_steps=5, patience=5)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs) and env.action_space.n == N_ACTIONS
    assert set(info) == {"layer", "target"}
    steps = 0
    while True:
        mask = env.action_masks()
        assert mask.shape == (N_ACTIONS,) and mask.dtype == bool and mask.any()
        obs, reward, terminated, truncated, info = env.step(int(np.flatnonzero(mask)[-1]))
        steps += 1
        assert env.observation_space.contains(obs) and isinstance(reward, float)
        assert 0 < info["metric_ratio"] <= 1.0
        if terminated or truncated:
            break
    assert steps == 5 and truncated and not terminated


def test_same_seed_draws_the_same_task(eyeriss, small_layers):
    env = SchedulingEnv(fixed_sampler(_tasks(eyeriss, small_layers)))
    names = [env.reset(seed=s)[1]["layer"] for s in (1, 2, 3, 4, 5, 6)]
    assert names == [env.reset(seed=s)[1]["layer"] for s in (1, 2, 3, 4, 5, 6)]
    assert len(set(names)) > 1
