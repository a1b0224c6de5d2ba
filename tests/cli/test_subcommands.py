"""Subcommands (targets, show-target, zoo, evaluate, pipeline/train dispatch) and the installed
``rlsched-compile`` command."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rlsched_compile import cli
from rlsched_compile.cache import CACHE_FORMAT
from rlsched_compile.targets import load_target

from ._support import out_files

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_targets_lists_the_shipped_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "targets")
    assert code == 0
    rows = {ln.split()[0]: ln.split() for ln in out.splitlines()[2:]}
    assert sorted(rows) == ["eyeriss", "eyeriss_v2", "simba", "tpu_v3"]
    assert rows["eyeriss"][1:4] == ["14x12", "1x1", "1x1"] and rows["eyeriss"][4] == "24/448/48"
    assert rows["simba"][1:4] == ["4x4", "8x8", "6x6"]
    code, out, _ = run(capsys, "targets", "--format", "json")
    assert code == 0 and {t["name"] for t in json.loads(out)} == set(rows)


def test_show_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show-target", "simba")
    assert code == 0
    assert out.splitlines()[0] == f"target simba  (sha256 {load_target('simba').sha256})"
    assert "pe_array       spatial 4x4" in out and "global_buffer  dataflow OS" in out
    code, out, _ = run(capsys, "show-target", "simba", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["sha256"] == load_target("simba").sha256 and doc["schema"] == "rlsched-target-v1"
    code, out, err = run(capsys, "show-target", "simbaa")
    assert code == 2 and out == "" and err.startswith('error: unknown target "simbaa"; did you mean "simba"?')


def test_zoo_list_and_regenerate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "zoo")
    assert code == 0
    names = [ln.split()[0] for ln in out.splitlines()[2:]]
    assert "resnet50" in names and "yolov3" in names and "mobilenet_v3_large" in names
    code, out, _ = run(capsys, "zoo", "regenerate", "resnet50", "--out", tmp_path)
    assert code == 0 and out.strip() == str(tmp_path / "resnet50.onnx")
    shipped = ROOT / "model_zoo" / "resnet50.onnx"
    if shipped.is_file():
        assert (tmp_path / "resnet50.onnx").read_bytes() == shipped.read_bytes()
    code, _, err = run(capsys, "zoo", "regenerate", "resnet51", "--out", tmp_path)
    assert code == 2 and err.startswith("error: unknown zoo model 'resnet51'")


def _reference_conv1() -> dict:
    doc = json.loads((SHARED / "baselines" / "reference_bottom_up__resnet50__eyeriss__energy.json").read_text())
    return doc["layers"][0]


def test_evaluate_a_user_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = _reference_conv1()
    sched = tmp_path / "mine.json"
    sched.write_text(json.dumps({"layer": ref["layer"], "table": ref["table"]}))
    code, out, _ = run(capsys, "evaluate", sched, "--target", "eyeriss", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["valid"] is True
    # the reference's own figures for its table (6 significant digits in the baseline file)
    assert doc["energy_pj"]["total_energy"] == pytest.approx(ref["total_energy_pj"], rel=1e-5)
    assert doc["cycles"]["total_cycle"] == pytest.approx(ref["total_cycles"], rel=1e-5)
    code, out, _ = run(capsys, "evaluate", sched, "--target", "eyeriss")
    assert code == 0 and out.startswith("layer CONV_1 on eyeriss: valid\nenergy ")

    # the same table with the layer given on the command line, as YAML rows of ints
    rows = [r["values"] for r in ref["table"]]
    yml = tmp_path / "t.yaml"
    yml.write_text("table:\n" + "".join(f"  - {r}\n" for r in rows))
    layer = ref["layer"]
    spec = ",".join(f"{k}={layer[k]}" for k in ("K", "B", "P", "Q", "C", "R", "S", "stride"))
    code, out2, _ = run(capsys, "evaluate", yml, "--target", "eyeriss", "--layer", spec, "--format", "json")
    assert code == 0 and json.loads(out2)["energy_pj"] == doc["energy_pj"]

    # valid table of another target's shape: a failed check, exit 1
    code, out, err = run(capsys, "evaluate", sched, "--target", "simba")
    assert code == 1 and "INVALID (pe_array_dims)" in out
    assert "breaks rule 'pe_array_dims'" in err


def test_evaluate_a_compiler_schedule_file(tmp_path: Path, tiny_model: Path, cache_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "o"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", out_dir, "-j", "1", "-q")[0] == 0
    sched = out_dir / "schedules" / "001_conv1.json"
    code, out, _ = run(capsys, "evaluate", sched, "--target", "eyeriss", "--format", "json")
    assert code == 0
    assert json.loads(out)["energy_pj"] == json.loads(sched.read_text())["energy_pj"]


def test_evaluate_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "evaluate", bad, "--target", "eyeriss")
    assert code == 2 and err.startswith(f"error: schedule file {bad}: not valid JSON (")
    nolayer = tmp_path / "nolayer.json"
    nolayer.write_text(json.dumps({"table": [[1] * 8] * 10}))
    code, _, err = run(capsys, "evaluate", nolayer, "--target", "eyeriss")
    assert code == 2 and err.strip() == (f"error: {nolayer}: no `layer` key; add one or pass "
                                         "--layer K=..,B=..,P=..,Q=..,C=..,R=..,S=..")
    code, _, err = run(capsys, "evaluate", nolayer, "--target", "eyeriss", "--layer", "K=4,B=1,P=1,Q=1,C=4,R=1,S=1")
    assert code == 2 and "column K multiplies to 1 but layer 'layer' needs K/G = 4" in err


def test_pipeline_and_train_are_dispatched(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("pipeline", "train"):
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and out.startswith(f"usage: rlsched-compile {name}")


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    from rlsched_compile import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"rlsched-compile {__version__}"
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "subcommands: targets" in out


def test_installed_command(tiny_model: Path, tmp_path: Path, cache_dir: Path) -> None:
    exe = shutil.which("rlsched-compile")
    assert exe is not None, "the rlsched-compile command is not installed: run `pip install -e .`"
    env = {**os.environ, "RLSCHED_CACHE_DIR": str(cache_dir)}
    # two cold compiles at the same time, sharing one cache directory
    pa = subprocess.Popen([exe, str(tiny_model), "--target", "eyeriss", "--out", str(tmp_path / "a"), "-j", "2"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    pb = subprocess.Popen([sys.executable, "-m", "rlsched_compile", str(tiny_model), "--target", "eyeriss",
                           "--out", str(tmp_path / "b"), "-q"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    a_out, a_err = pa.communicate(timeout=300)
    b_out, b_err = pb.communicate(timeout=300)
    assert pa.returncode == 0, a_err
    assert "total" in a_out and "compiled tiny on eyeriss" in a_err
    # stderr is not a terminal here: plain log lines, no progress-bar redraws
    assert "\r" not in a_err and "layer 4/4 done" in a_err
    assert pb.returncode == 0 and b_err == "", b_err
    assert out_files(tmp_path / "a") == out_files(tmp_path / "b")
    entries = list(cache_dir.rglob("*.json"))
    assert len(entries) == 4 and not list(cache_dir.rglob("*.tmp"))
    assert all(json.loads(e.read_text())["format"] == CACHE_FORMAT for e in entries)
    c = subprocess.run([exe, str(tmp_path / "missing.onnx"), "--target", "eyeriss"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert c.returncode == 2 and c.stdout == ""
    assert c.stderr == f"error: {tmp_path / 'missing.onnx'}: no such file; check the model path\n"


def test_list_strategies_comes_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from rlsched_compile import search
    from rlsched_compile.search import base

    code, out, _ = run(capsys, "--list-strategies")
    assert code == 0
    assert [ln.split()[0] for ln in out.splitlines()] == sorted(search.STRATEGIES)
    assert [ln.split()[0] for ln in out.splitlines() if ln.endswith("(default)")] == [base.DEFAULT_STRATEGY]
