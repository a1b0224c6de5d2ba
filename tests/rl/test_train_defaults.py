"""Issue 12, one place for each default: the training commands take their defaults from the
configuration dataclasses (no torch needed)."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Callable

from rlsched_compile.cli import train, train_respect
from rlsched_compile.pipeline.respect.train import RespectConfig
from rlsched_compile.rl.config import PPOConfig


def _parse(add_arguments: Callable[[argparse.ArgumentParser], None], *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_train_command_defaults_are_ppo_config_defaults() -> None:
    args = _parse(train.add_arguments)
    config = PPOConfig()
    shared = sorted(f.name for f in dataclasses.fields(PPOConfig) if hasattr(args, f.name))
    assert shared == ["bottom_up_fraction", "episodes", "max_steps", "objective", "patience", "seed", "start"]
    assert {n: getattr(args, n) for n in shared if n != "objective"} == \
        {n: getattr(config, n) for n in shared if n != "objective"}
    # the one default that differs on purpose, named in the command
    assert args.objective == train.TRAIN_COMMAND_OBJECTIVE == "mixed" != config.objective
    assert train.ppo_config(args) == dataclasses.replace(config, objective=train.TRAIN_COMMAND_OBJECTIVE)


def test_train_command_passes_every_option_into_the_config() -> None:
    args = _parse(train.add_arguments, "--seed", "5", "--episodes", "7", "--max-steps", "9", "--patience", "3",
                  "--objective", "edp", "--start", "paper", "--bottom-up-fraction", "0.25")
    assert train.ppo_config(args) == PPOConfig(seed=5, episodes=7, max_steps=9, patience=3, objective="edp",
                                               start="paper", bottom_up_fraction=0.25)


def test_respect_command_defaults_are_respect_config_defaults() -> None:
    args = _parse(train_respect.add_arguments)
    fields = dataclasses.fields(RespectConfig)
    assert RespectConfig(**{f.name: getattr(args, f.name) for f in fields}) == RespectConfig()


def test_eval_pairs_default_has_one_home() -> None:
    """``--eval-pairs`` and ``train(eval_pairs=...)`` once differed (24 vs 48): both read EVAL_PAIRS."""
    import inspect

    import pytest

    pytest.importorskip("torch")
    from rlsched_compile.rl import config
    from rlsched_compile.rl import train as rl_train

    assert _parse(train.add_arguments).eval_pairs == config.EVAL_PAIRS
    assert inspect.signature(rl_train.train).parameters["eval_pairs"].default == config.EVAL_PAIRS
