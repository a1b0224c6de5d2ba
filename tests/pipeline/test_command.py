"""The ``pipeline`` command, called in-process through its own argparse parser."""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from rlsched_compile.errors import PipelineError, TargetError
from rlsched_compile.cli.pipeline import add_arguments, parse_stages, run
from rlsched_compile.pipeline.generate import random_dag

REPO = Path(__file__).resolve().parents[2]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rlsched-compile pipeline")
    add_arguments(parser)
    return run(parser.parse_args(argv))


@pytest.fixture()
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(random_dag(14, seed=5).to_json_dict()), encoding="utf-8")
    return path


def test_prints_stages_bottleneck_and_comparison_and_writes_files(graph_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run([str(graph_file), "--stages", "3,4", "--solver", "exact", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("net on edgetpu: 14 operators, ")
    assert "k = 3, solver exact (ilp, optimal)" in text and "k = 4, solver exact (ilp, optimal)" in text
    assert "stage  ops  T_s (ms)  compute (ms)  params (B)  off-chip (B)  link in+out (B)  operators" in text
    assert text.count("bottleneck: stage ") == 2 and text.count("param-balance: bottleneck ") == 2
    doc = json.loads((out / "pipeline.json").read_text(encoding="utf-8"))
    assert [r["k"] for r in doc["runs"]] == [3, 4]
    for r in doc["runs"]:
        assert len(r["stages"]) == r["k"]
        assert sorted(v for s in r["stages"] for v in s["node_ids"]) == list(range(14))
        assert r["bottleneck_s"] == max(s["total_s"] for s in r["stages"])
        assert r["latency_s"] == pytest.approx(sum(s["total_s"] for s in r["stages"]))
        assert r["speedup_vs_param_balance"] == r["param_balance"]["bottleneck_s"] / r["bottleneck_s"] >= 1
        assert f"bottleneck: stage {r['bottleneck_stage']}, {r['bottleneck_s'] * 1e3:.4f} ms" in text
    svg = (out / "pipeline.svg").read_bytes()
    assert svg.startswith(b"<?xml") and b"</svg>" in svg


def test_outputs_are_byte_identical_across_runs(graph_file, tmp_path, capsys):
    for name in ("a", "b"):
        _run([str(graph_file), "--stages", "4", "--solver", "greedy", "--out", str(tmp_path / name)])
    for f in ("pipeline.json", "pipeline.svg"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_json_format_prints_pipeline_json(graph_file, tmp_path, capsys):
    # --out is a folder of its own: a run replaces the whole folder, so one holding the input is refused
    _run([str(graph_file), "--stages", "2", "--solver", "param-balance", "--format", "json",
          "--out", str(tmp_path / "o")])
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "o" / "pipeline.json").read_text(encoding="utf-8")
    assert json.loads(printed)["runs"][0]["speedup_vs_param_balance"] == 1.0


def test_onnx_model_input(tmp_path, capsys):
    _run([str(REPO / "model_zoo" / "mobilenet_v3_small.onnx"), "--stages", "4", "--solver", "exact",
          "--out", str(tmp_path / "o")])
    text = capsys.readouterr().out
    assert "k = 4, solver exact (dp-chain, optimal)" in text
    assert (tmp_path / "o" / "pipeline.json").is_file()


@pytest.mark.parametrize(("argv", "error", "message"), [
    (["--stages", "0"], PipelineError, "stage count must be an integer >= 1, got 0; pass e.g. --stages 4"),
    (["--stages", "4,x"], PipelineError, "--stages takes integers like 4 or 4,5,6, got '4,x'"),
    (["--stages", "4,15"], PipelineError,
     "15 stages need at least 15 operators but graph 'net' has 14; pass --stages 14 or fewer"),
    (["--target", "nope"], TargetError, None),
    (["--time-limit", "0"], PipelineError, "--time-limit must be > 0 seconds, got 0"),
])
def test_bad_arguments(graph_file, tmp_path, argv, error, message):
    with pytest.raises(error) as exc:
        _run([str(graph_file), "--out", str(tmp_path / "o"), *argv])
    if message is not None:
        assert str(exc.value) == message
    assert not (tmp_path / "o").exists()


def test_cycle_in_graph_json(tmp_path):
    path = tmp_path / "cyc.json"
    path.write_text(json.dumps({"nodes": [{"id": i, "macs": 1, "param_bytes": 1, "out_bytes": 1} for i in range(3)],
                                "edges": [[0, 1], [1, 2], [2, 1]]}), encoding="utf-8")
    with pytest.raises(PipelineError) as exc:
        _run([str(path), "--out", str(tmp_path)])
    assert str(exc.value) == "cyc.json: the graph has a cycle through node ids 1, 2; edges must form a DAG"


def test_parse_stages_keeps_order_and_drops_duplicates():
    assert parse_stages("6, 4,6,5") == [6, 4, 5]


def test_default_solver_is_respect_and_never_worse_than_param_balance(graph_file, tmp_path, capsys):
    _run([str(graph_file), "--stages", "3", "--out", str(tmp_path / "o")])
    text = capsys.readouterr().out
    assert "k = 3, solver respect (" in text
    assert re.search(r"^network output before the fix-up: (not )?valid, \d+\.\d% of the edges respected$", text, re.M)
    doc = json.loads((tmp_path / "o" / "pipeline.json").read_text(encoding="utf-8"))
    assert doc["runs"][0]["solver"] == "respect" and doc["runs"][0]["speedup_vs_param_balance"] >= 1.0
    raw = doc["runs"][0]["before_fixup"]
    assert isinstance(raw["valid"], bool) and raw["valid"] == (raw["edges_kept"] == 1.0)
