"""``--rl-finetune STEPS``: the agent is fine-tuned on the model's layers once, then reused."""
from __future__ import annotations

from pathlib import Path

import pytest

from rlsched_compile import cli, compile_model
from rlsched_compile.errors import RlschedError

from ._support import out_files

pytest.importorskip("torch")


def test_finetune_trains_once_then_reuses_the_cached_policy(tiny_model: Path, cache_dir: Path,
                                                            tmp_path: Path) -> None:
    first = compile_model(str(tiny_model), "eyeriss", search="rl-hybrid", rl_finetune_steps=24, jobs=1)
    policies = sorted((cache_dir / "finetuned").glob("*/policy.npz"))
    assert len(policies) == 1
    stamp = policies[0].stat().st_mtime_ns
    assert first.report()["settings"]["rl_finetune_steps"] == 24
    first.write(tmp_path / "a")

    again = compile_model(str(tiny_model), "eyeriss", search="rl-hybrid", rl_finetune_steps=24, jobs=1)
    assert policies[0].stat().st_mtime_ns == stamp  # reused, not retrained
    again.write(tmp_path / "b")
    assert out_files(tmp_path / "a") == out_files(tmp_path / "b")
    # never worse than the shipped policy's default compile (rl-hybrid keeps bottom-up's polish)
    plain = compile_model(str(tiny_model), "eyeriss", search="bottom-up", jobs=1)
    assert first.totals.energy_pj <= plain.totals.energy_pj * (1 + 1e-12)


def test_finetuned_policy_gets_its_own_cache_entries(tiny_model: Path, cache_dir: Path) -> None:
    compile_model(str(tiny_model), "eyeriss", search="rl-hybrid", jobs=1)
    tuned = compile_model(str(tiny_model), "eyeriss", search="rl-hybrid", rl_finetune_steps=24, jobs=1)
    # the schedule cache keys on the policy file: the tuned run searched instead of reading the
    # shipped policy's entries
    assert tuned.timing["cache"]["hits"] == 0


def test_finetune_with_a_strategy_without_agent_is_a_clear_error(tiny_model: Path, cache_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main([str(tiny_model), "--target", "eyeriss", "--search", "bottom-up", "--rl-finetune", "10",
                     "--out", str(cache_dir.parent / "out")])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: --rl-finetune fine-tunes the scheduling agent, but strategy 'bottom-up' has none; "
        "use --search rl or rl-hybrid")


def test_finetune_steps_must_be_positive(tiny_model: Path, cache_dir: Path) -> None:
    with pytest.raises(RlschedError, match=r"^--rl-finetune needs a number of steps >= 1, got 0$"):
        compile_model(str(tiny_model), "eyeriss", search="rl", rl_finetune_steps=0, jobs=1)
