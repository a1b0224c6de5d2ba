"""Issue 11 items 1 and 11: ``train --out DIR`` resumes from ``DIR/checkpoint.pt`` without running
code from it, and a corrupt checkpoint is one ``error:`` line with exit code 2."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from rlsched_compile.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESNET = str(ROOT / "model_zoo" / "resnet50.onnx")


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.marker, "w"))


def _argv(out: Path) -> list[str]:
    return ["train", "--out", str(out), "--models", RESNET, "--held-out", "--targets", "eyeriss", "--layers-per-model", "1",
            "--synthetic", "0", "--episodes", "2", "--max-steps", "2", "--patience", "1", "--eval-pairs", "1",
            "--no-progress"]


def test_planted_pickle_in_checkpoint_does_not_run(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    out = tmp_path / "run"
    out.mkdir()
    torch.save({"config": {}, "model": _Payload(marker)}, out / "checkpoint.pt")
    # The payload is real: an unrestricted load runs it.
    probe = tmp_path / "probe.pt"
    shutil.copy(out / "checkpoint.pt", probe)
    torch.load(probe, weights_only=False)
    assert marker.exists()
    marker.unlink()

    assert main(_argv(out)) == 2
    err = capsys.readouterr().err
    assert not marker.exists(), "the planted payload ran"
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: checkpoint") and "cannot be resumed" in last
    assert "not a weights-only checkpoint" in last and err.count("error:") == 1
    assert not (out / "policy.npz").exists()


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04truncated"])
def test_corrupt_checkpoint_is_one_error_line(tmp_path, capsys, content):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(content)
    assert main(_argv(out)) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: checkpoint") and "cannot be resumed" in last
    assert err.count("error:") == 1 and "Traceback" not in err


def test_checkpoint_with_wrong_entries_is_one_error_line(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    torch.save({"config": {}, "model": [1, 2]}, out / "checkpoint.pt")
    assert main(_argv(out)) == 2
    err = capsys.readouterr().err
    assert "its 'model' entry is missing or of the wrong type" in err.strip().splitlines()[-1]
