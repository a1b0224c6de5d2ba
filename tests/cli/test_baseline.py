"""Issue 11 item 13, the CI gate: a baseline of another model, target, objective or batch is
refused (exit 2, naming the setting), layers that appeared or disappeared are counted, the diff is
part of ``--format json``, and ``--max-regression`` without ``--baseline`` is an error."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlsched_compile import cli

from ._support import build_tiny_model

pytestmark = pytest.mark.usefixtures("cache_dir")


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def baseline(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The report.json of a run of the tiny model on eyeriss, energy objective."""
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "base", "-j", "1", "-q")[0] == 0
    return tmp_path / "base" / "report.json"


def edited(path: Path, tmp_path: Path, change: Any) -> Path:
    doc = json.loads(path.read_text())
    change(doc)
    new = tmp_path / "edited.json"
    new.write_text(json.dumps(doc))
    return new


def test_a_baseline_of_another_model_is_refused(baseline: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.onnx"
    other.write_bytes(build_tiny_model("other").SerializeToString())
    out = tmp_path / "o"
    code, stdout, err = run(capsys, other, "-t", "eyeriss", "--out", out, "-j", "1", "-q", "--baseline", baseline)
    assert code == 2 and stdout == ""
    assert err == (f"error: baseline {baseline} is not comparable with this run: model 'tiny' in the baseline vs "
                   "'other' now; pass a report of the same model, target, objective and batch\n")
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize("flags,setting", [
    (("-t", "simba"), "target 'eyeriss' in the baseline vs 'simba' now"),
    (("-t", "eyeriss", "--objective", "cycles"), "objective 'energy' in the baseline vs 'cycles' now"),
])
def test_a_baseline_of_another_target_or_objective_is_refused(baseline: Path, tiny_model: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              flags: tuple[str, ...], setting: str) -> None:
    code, stdout, err = run(capsys, tiny_model, *flags, "--out", tmp_path / "o", "-j", "1", "-q",
                            "--baseline", baseline)
    assert code == 2 and stdout == "" and len(err.splitlines()) == 1
    assert f"is not comparable with this run: {setting};" in err


def test_a_baseline_of_another_batch_is_refused(baseline: Path, tiny_model: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    other = edited(baseline, tmp_path, lambda d: d["model"].update(batch=8))
    code, _, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "-j", "1", "-q",
                       "--baseline", other)
    assert code == 2 and "batch 8 in the baseline vs 1 now" in err


def test_layers_that_appeared_or_disappeared_are_counted_and_in_the_json(
        baseline: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change(d: dict[str, Any]) -> None:
        d["layers"] = [ly for ly in d["layers"] if ly["name"] != "fc"]
        d["layers"].append({**d["layers"][0], "index": 9, "name": "ghost"})

    other = edited(baseline, tmp_path, change)
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "-j", "1", "-q",
                          "--baseline", other)
    assert code == 0  # a layer that appeared is not a regression
    assert "baseline: 1 layer(s) appeared, 1 disappeared" in stdout

    code, stdout, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "-j", "1", "-q",
                            "--baseline", other, "--format", "json", "--max-regression", "2")
    assert code == 0

    def no_constants(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    doc = json.loads(stdout, parse_constant=no_constants)
    cmp = doc["baseline_comparison"]
    assert (cmp["baseline"], cmp["max_regression_pct"], cmp["regressions"]) == (str(other), 2.0, 0)
    assert (cmp["layers_appeared"], cmp["layers_disappeared"]) == (1, 1)
    assert cmp["appeared"] == ["layer 4 fc"] and cmp["disappeared"] == ["layer 9 ghost"]
    by_scope = {(d["scope"], d["metric"]): d for d in cmp["differences"]}
    assert by_scope[("layer 4 fc", "energy_pj")]["baseline"] is None
    assert by_scope[("layer 9 ghost", "cycles")]["current"] is None
    assert {k for k in doc if k != "baseline_comparison"} == set(json.loads((tmp_path / "o" / "report.json")
                                                                            .read_text()))
    assert "baseline comparison" in err  # the human table goes to stderr with --format json


def test_max_regression_without_baseline_is_an_error(tiny_model: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "--max-regression", "1")
    assert code == 2 and stdout == ""
    assert err == ("error: --max-regression only applies to a --baseline comparison; add --baseline "
                   "REPORT.json or drop --max-regression\n")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("change", [
    lambda d: d["layers"][0].pop("energy_pj"),
    lambda d: d["layers"][0].update(cycles="many"),
    lambda d: d.update(layers={"a": 1}),
    lambda d: d["totals"].update(energy_pj=None),
], ids=["missing figure", "string figure", "layers not a list", "null total"])
def test_a_malformed_baseline_is_one_error_line(baseline: Path, tiny_model: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str], change: Any) -> None:
    bad = edited(baseline, tmp_path, change)
    code, stdout, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "--baseline", bad)
    assert code == 2 and stdout == ""
    assert err == (f"error: baseline {bad}: not an rlsched_compile report.json (totals or layers without numeric "
                   "energy_pj/cycles); pass the report.json of an earlier run\n")
