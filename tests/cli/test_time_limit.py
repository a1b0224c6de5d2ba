"""--time-limit and budgets that say so (issue 14 item 4)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsched_compile import Layer, cli, load_target, schedule_layer

from ._support import out_files


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_time_limit_hit_keeps_a_valid_table_per_layer_and_marks_them(
        tiny_model: Path, tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "--time-limit", "1e-9", "--jobs", "1")
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["complete"]
    assert report["unfinished_layers"] == [ly["index"] for ly in report["layers"]]
    assert all(not ly["finished"] for ly in report["layers"])
    assert "STOPPED AT BUDGET" in stdout
    assert "## Stopped at budget" in (out / "report.md").read_text()
    # timed-out layers are not cached: the next run without a limit searches them in full
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "again")
    assert code == 0 and "STOPPED AT BUDGET" not in stdout
    assert json.loads((tmp_path / "again" / "report.json").read_text())["unfinished_layers"] == []


def test_time_limit_not_hit_is_reproducible(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(tmp_path / "c1"))
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "a")[0] == 0
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(tmp_path / "c2"))
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "b", "--time-limit", "3600")[0] == 0
    assert out_files(tmp_path / "a") == out_files(tmp_path / "b")


@pytest.mark.parametrize("value", ["0", "-3", "nan"])
def test_time_limit_must_be_positive(tiny_model: Path, tmp_path: Path, value: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "--time-limit", value)
    assert code == 2
    assert err.startswith("error: ") and "time limit" in err and len(err.strip().splitlines()) == 1


def test_budget_bounds_a_huge_layer() -> None:
    """C = 2^31 with a budget of 1000 took 131 s (issue 11 item 12): the setup of bottom-up was
    O(largest layer value); now it is bounded and the default strategy passes the budget on."""
    layer = Layer("big", K=1, B=1, P=1, Q=1, C=2**31, R=1, S=1)
    for target in ("eyeriss", "simba", "tpu_v3"):
        r = schedule_layer(load_target(target), layer, budget=1000)
        assert r.evaluation.valid
        assert r.wall_time_s < 10


def test_exhaustive_budget_stop_is_reported(tiny_model: Path, tmp_path: Path, cache_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "--search", "exhaustive", "--budget", "5")
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["unfinished_layers"]
    assert "STOPPED AT BUDGET" in stdout
