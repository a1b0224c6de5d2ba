"""Bad input gives exit code 2, one `error:` line that says what to fix, and writes nothing."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rlsched_compile import cli

from ._support import build_tiny_model

pytestmark = pytest.mark.usefixtures("cache_dir")


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error(err: str, expected: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == [f"error: {expected}"], err


def test_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "nope.onnx"
    code, out, err = run(capsys, model, "--target", "eyeriss", "--out", tmp_path / "o")
    assert code == 2 and out == ""
    assert_one_error(err, f"{model}: no such file; check the model path")
    assert not (tmp_path / "o").exists()


def test_unknown_target_suggests_the_closest_name(tiny_model: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, tiny_model, "--target", "eyriss", "--out", tmp_path / "o")
    assert code == 2 and out == ""
    assert_one_error(err, 'unknown target "eyriss"; did you mean "eyeriss"? shipped targets: eyeriss, '
                          "eyeriss_v2, simba, tpu_v3; or give a path to a .yaml/.json target file")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content", ["truncated", "text"])
def test_corrupted_onnx(content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = build_tiny_model().SerializeToString()
    model = tmp_path / "bad.onnx"
    model.write_bytes(data[: len(data) // 2] if content == "truncated" else b"this is not a model\n")
    code, out, err = run(capsys, model, "--target", "eyeriss", "--out", tmp_path / "o")
    assert code == 2 and out == ""
    assert_one_error(err, f"{model}: not an ONNX model or truncated (Error parsing message with type "
                          "'onnx.ModelProto': Wire format was corrupt); re-export or re-download the .onnx file")
    assert not (tmp_path / "o").exists()


def test_output_directory_below_a_file(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    out_dir = blocker / "out"
    code, out, err = run(capsys, tiny_model, "--target", "eyeriss", "--out", out_dir)
    assert code == 2 and out == ""
    assert_one_error(err, f"output directory {out_dir} cannot be created: {blocker} is a file; "
                          "choose another with --out")
    assert blocker.read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_output_directory(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, out, err = run(capsys, tiny_model, "--target", "eyeriss", "--out", ro / "out")
    finally:
        ro.chmod(0o755)
    assert code == 2
    assert_one_error(err, f"output directory {ro / 'out'} is not writable ({ro}: permission denied); "
                          "choose another with --out")
    assert list(ro.iterdir()) == []


def test_unwritable_directory_detected_at_write_time(tiny_model: Path, tmp_path: Path) -> None:
    """The API's own check (for callers that skip the CLI's early check): nothing is written."""
    from rlsched_compile import compile_model
    from rlsched_compile.errors import RlschedError

    res = compile_model(str(tiny_model), "eyeriss", jobs=1)
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(RlschedError, match=r"^output directory .*/f/out is not writable \(.*\); "
                                           r"choose another with --out$"):
        res.write(blocker / "out")


def test_unknown_strategy_suggests(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tiny_model, "--target", "eyeriss", "--search", "bottomup", "--out", tmp_path / "o")
    assert code == 2
    assert err.startswith("error: unknown search strategy 'bottomup'; did you mean 'bottom-up'? choose one of ")
    assert len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tiny_model, "--target", "eyeriss", "--objective", "power")
    assert code == 2 and "invalid choice: 'power'" in err
    code, _, err = run(capsys, tiny_model, "--target", "eyeriss", "--jobs", "0")
    assert code == 2 and "--jobs must be >= 1, got 0" in err
    code, _, err = run(capsys, tiny_model)
    assert code == 2 and "the following arguments are required: --target" in err


def test_traceback_only_with_verbose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, tmp_path / "x.onnx", "--target", "eyeriss")
    assert code == 2 and "Traceback" not in err
    code, _, err = run(capsys, tmp_path / "x.onnx", "--target", "eyeriss", "-v")
    assert code == 2 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("error: ")


def test_unsupported_operators_warn_or_fail_with_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ._support import build_model_with_skipped_op

    model = tmp_path / "up.onnx"
    model.write_bytes(build_model_with_skipped_op().SerializeToString())
    code, out, err = run(capsys, model, "--target", "eyeriss", "--out", tmp_path / "o", "-j", "1")
    assert code == 0
    up_macs = 4 * 2 * 8 * 64  # input pixels x kernel taps x output channels
    conv_macs = 4 * 3 * 64
    listed = f"ConvTranspose (3-D) x1 (up0; 4.096 k MACs, {100 * up_macs / (up_macs + conv_macs):.1f}% of the model)"
    assert "warning:" in err and listed in err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["model"]["unsupported_ops"] == [
        {"op_type": "ConvTranspose (3-D)", "count": 1, "nodes": ["up0"], "macs": up_macs}]
    assert report["coverage"] == {
        "model_macs": up_macs + conv_macs, "scheduled_macs": conv_macs,
        "share": float(f"{conv_macs / (up_macs + conv_macs):.12g}"), "exact": True,
        "unscheduled_layer_macs": 0,
        "skipped": [{"op_type": "ConvTranspose (3-D)", "count": 1, "nodes": ["up0"], "macs": up_macs}]}
    assert "15.7% of 4.864 k MACs scheduled" in out
    assert [ly["name"] for ly in report["layers"]] == ["conv0"]
    code, out, err = run(capsys, model, "--target", "eyeriss", "--out", tmp_path / "s", "--strict")
    assert code == 2 and out == ""
    assert_one_error(err, f"{model}: operators with MACs that cannot be scheduled: {listed}; "
                          "remove --strict to skip them with a warning")
    assert not (tmp_path / "s").exists()
