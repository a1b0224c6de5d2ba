"""Issue 11 item 2: file names built from input data (a pipeline target's ``name:``, the graph
name, the ONNX graph name behind ``<model>.scheduled.onnx``) never place a file outside the output
folder."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import rlsched_compile as rc
from rlsched_compile._sanitize import safe_file_name
from rlsched_compile.emit.schedule import file_stem, scheduled_onnx_name
from rlsched_compile.cli.pipeline import add_arguments, run
from rlsched_compile.pipeline.generate import random_dag

from cli._support import build_tiny_model  # tests/ is on sys.path (rootdir-relative packages)

REPO = Path(__file__).resolve().parents[2]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "..", ".", "", "a/../../b", "..\\..\\w", "\x00\n", "é"])
def test_safe_file_name_is_one_plain_component(name):
    safe = safe_file_name(name)
    assert safe and "/" not in safe and "\\" not in safe and safe not in (".", "..")
    assert not safe.startswith(".") and all(c.isascii() and (c.isalnum() or c in "._-") for c in safe)
    assert Path(safe).name == safe
    assert "/" not in file_stem(3, name) and "/" not in scheduled_onnx_name(name)


def test_pipeline_target_and_graph_names_stay_in_the_out_folder(tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(work)
    text = (REPO / "accelerators" / "edgetpu.yaml").read_text(encoding="utf-8")
    target = tmp_path / "evil.yaml"
    target.write_text(text.replace("name: edgetpu", 'name: "../../../x"'), encoding="utf-8")
    doc = random_dag(8, seed=1).to_json_dict()
    doc["name"] = "../../../g"
    graph = tmp_path / "net.json"
    graph.write_text(json.dumps(doc), encoding="utf-8")
    before = _files(tmp_path)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    # without --out the folder is rlsched_out/<graph>__<target>/ below the working directory
    assert run(parser.parse_args([str(graph), "--target", str(target), "--stages", "2",
                                  "--solver", "param-balance"])) == 0
    new = _files(tmp_path) - before
    assert new and all(f.startswith("work/rlsched_out/net__x/") for f in new), new
    assert (work / "rlsched_out" / "net__x" / "pipeline.json").is_file()


@pytest.mark.parametrize("graph_name", ["../../escaped", "ABSOLUTE", "a/b/../../../c"])
def test_scheduled_onnx_name_stays_in_the_out_folder(tmp_path, monkeypatch, graph_name):
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(tmp_path / "cache"))
    if graph_name == "ABSOLUTE":
        graph_name = str(tmp_path / "abs_escaped")
    model = build_tiny_model(graph_name)
    out = tmp_path / "deep" / "er" / "out"
    result = rc.compile_model(model, "eyeriss", search="bottom-up", cache=False, jobs=1)
    before = _files(tmp_path)
    result.write(out)
    new = _files(tmp_path) - before
    assert new and all(f.startswith("deep/er/out/") for f in new), new
    onnx_files = [f for f in new if f.endswith(".scheduled.onnx")]
    assert len(onnx_files) == 1 and "/" not in onnx_files[0][len("deep/er/out/"):]
