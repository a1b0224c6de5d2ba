"""PPOConfig and the entropy-coefficient schedule of eq. (6)."""
from __future__ import annotations

import dataclasses

import pytest

from rlsched_compile.errors import RlschedError
from rlsched_compile.rl.config import PPOConfig, entropy_coef


def test_paper_hyper_parameters_are_the_defaults():
    c = PPOConfig()
    assert (c.clip_eps, c.c1, c.c2_initial, c.c2_final, c.gamma) == (0.2, 0.5, 0.1, 0.02, 0.99)
    assert (c.lr_actor, c.lr_critic, c.critic_l2, c.episodes) == (3e-4, 1e-3, 0.01, 3000)


def test_every_field_has_a_one_line_doc():
    import inspect

    src = inspect.getsource(PPOConfig)
    for f in dataclasses.fields(PPOConfig):
        after = src.split(f"    {f.name}:", 1)[1].splitlines()[1].strip()
        assert after.startswith('"""') and after.endswith('"""') and len(after) > 8, f.name


@pytest.mark.parametrize("episode,expected", [
    (0, 0.1), (499, 0.1), (500, 0.1), (504, 0.1), (505, 0.1 * 0.995), (509, 0.1 * 0.995),
    (510, 0.1 * 0.995 ** 2), (1000, 0.1 * 0.995 ** 100), (2999, 0.02),
])
def test_c2_schedule_eq6(episode, expected):
    assert entropy_coef(PPOConfig(), episode) == pytest.approx(expected)


def test_c2_reaches_its_floor_and_stays():
    c = PPOConfig()
    # 0.1 * 0.995**n < 0.02 from n = 322 on, i.e. from episode 500 + 5 * 322
    assert entropy_coef(c, 500 + 5 * 321) > 0.02
    assert entropy_coef(c, 500 + 5 * 322) == 0.02
    values = [entropy_coef(c, e) for e in range(3000)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_config_round_trip_and_unknown_key_message():
    c = PPOConfig(seed=3, episodes=10)
    assert PPOConfig.from_dict(c.to_dict()) == c
    with pytest.raises(RlschedError, match=r"unknown keys \['lr'\]; accepted keys are"):
        PPOConfig.from_dict({"lr": 1.0})
