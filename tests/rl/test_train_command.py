"""``rlsched-compile train`` in-process: files written, resumable, errors with their fix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from rlsched_compile.cli import main  # noqa: E402
from rlsched_compile.rl.layers import synthetic_layers  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESNET = str(ROOT / "model_zoo" / "resnet50.onnx")
YOLO = str(ROOT / "model_zoo" / "yolov3.onnx")


def _argv(out: Path, *extra: str) -> list[str]:
    return ["train", "--out", str(out), "--models", RESNET, YOLO, "--held-out", "yolov3", "--targets", "eyeriss",
            "--layers-per-model", "2", "--synthetic", "1", "--episodes", "8", "--max-steps", "6", "--patience", "4",
            "--eval-pairs", "2", "--no-progress", *extra]


def test_train_writes_policy_curve_and_card(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_argv(out, "--export", str(tmp_path / "exported" / "p.npz"))) == 0
    for name in ("checkpoint.pt", "policy.npz", "policy.json", "learning_curve.png", "history.json",
                 "evaluation.json"):
        assert (out / name).is_file(), name
    card = json.loads((out / "policy.json").read_text())
    assert card["trained_on"]["held_out_models"] == ["yolov3"]
    assert card["trained_on"]["models"] == {"resnet50": 2}
    assert card["episodes"] == 8
    assert json.loads((tmp_path / "exported" / "p.json").read_text())["episodes"] == 8
    summary = json.loads(capsys.readouterr().out)
    assert summary["episodes"] == 8 and set(summary["evaluation"]) == {"train", "held_out"}


def test_train_stops_at_time_limit_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_argv(out, "--time-limit", "0")) == 3
    captured = capsys.readouterr()
    assert "rerun the same command to resume" in captured.out and "deprecated" not in captured.err
    assert not (out / "policy.npz").exists()
    assert main(_argv(out)) == 0
    assert json.loads((out / "policy.json").read_text())["episodes"] == 8


def test_deprecated_time_limit_s_still_stops_training_and_warns(tmp_path, capsys):
    assert main(_argv(tmp_path / "run", "--time-limit-s", "0")) == 3
    captured = capsys.readouterr()
    assert "rerun the same command to resume" in captured.out
    warnings = [ln for ln in captured.err.splitlines() if "warning" in ln]
    assert warnings == ["rlsched-compile: warning: --time-limit-s is deprecated, use --time-limit "
                        "(--time-limit-s stops working in 0.2.0)"]


def test_quiet_turns_the_progress_bar_off_and_lists_take_commas(tmp_path, capsys):
    argv = [a for a in _argv(tmp_path / "run") if a != "--no-progress"]
    i = argv.index("--models")
    argv[i + 1:i + 3] = [f"{argv[i + 1]},{argv[i + 2]}"]  # --models A,B
    assert main([*argv, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar, no info lines
    assert json.loads((tmp_path / "run" / "policy.json").read_text())["trained_on"]["models"] == {"resnet50": 2}


def test_unknown_held_out_model_is_a_usage_error(tmp_path, capsys):
    argv = _argv(tmp_path / "x")
    argv[argv.index("--held-out") + 1] = "vgg"
    assert main(argv) == 2
    assert "error: --held-out names ['vgg'] are not among the models" in capsys.readouterr().err


def test_synthetic_layers_are_seeded_and_valid():
    a = synthetic_layers(20, seed=1)
    assert a == synthetic_layers(20, seed=1) and a != synthetic_layers(20, seed=2)
    assert {layer.name.split("_")[1] for layer in a} <= {"conv", "pw", "dw", "fc"}
