"""Issue 11 items 5 and 11: target, pipeline-target, schedule, layer and graph files cannot cost much
more than they look (alias bombs, huge files, deep nesting, FIFOs); each refusal is one
``error:`` line with exit code 2, naming the limit."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rlsched_compile import _dataload
from rlsched_compile.cli import main
from rlsched_compile.errors import RlschedError
from rlsched_compile.targets import load_target

REPO = Path(__file__).resolve().parents[2]
EYERISS = (REPO / "accelerators" / "eyeriss.yaml").read_text(encoding="utf-8")
EDGETPU = (REPO / "accelerators" / "edgetpu.yaml").read_text(encoding="utf-8")

#: "Billion laughs": 9 levels of 9 aliases each, 9^9 ~ 3.9e8 strings once expanded, in ~350 bytes.
BOMB_ANCHORS = "\n".join(
    ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)])


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def _schedule_doc() -> dict:
    table = [[1] * 8 for _ in range(10)]
    table[9] = [64, 1, 56, 56, 64, 3, 3, 1]
    return {"layer": {"name": "l", "K": 64, "B": 1, "P": 56, "Q": 56, "C": 64, "R": 3, "S": 3}, "table": table}


def test_alias_bomb_in_a_target_field_is_refused_quickly(tmp_path, capsys):
    bomb = tmp_path / "bomb.yaml"
    # the bomb sits inside a field the validator checks (and would render in its message)
    bomb.write_text(BOMB_ANCHORS + "\nversion: 1\nschema: rlsched-target-v1\nname: *l8\n", encoding="utf-8")
    assert len(bomb.read_bytes()) < 600
    assert main(["show-target", str(bomb)]) == 2
    line = _one_error(capsys)
    assert "after expanding aliases" in line and f"{_dataload.MAX_NODES:,}" in line


def test_alias_bomb_in_a_pipeline_target_and_a_schedule_is_refused(tmp_path, capsys):
    target = tmp_path / "pipe.yaml"
    target.write_text(BOMB_ANCHORS + "\n" + EDGETPU.replace("name: edgetpu", "name: *l8"), encoding="utf-8")
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"nodes": [{"id": "a", "macs": 1, "param_bytes": 1, "out_bytes": 1}],
                                 "edges": []}), encoding="utf-8")
    assert main(["pipeline", str(graph), "--target", str(target), "--out", str(tmp_path / "o")]) == 2
    assert "after expanding aliases" in _one_error(capsys)
    sched = tmp_path / "s.yaml"
    sched.write_text(BOMB_ANCHORS + "\ntable: *l8\n", encoding="utf-8")
    assert main(["evaluate", str(sched), "--target", "eyeriss"]) == 2
    assert "after expanding aliases" in _one_error(capsys)


def test_moderate_aliases_still_load(tmp_path):
    text = EYERISS.replace("access_cycles: {input: 1, weight: 1, output: 1}\n    bandwidth_bits_per_cycle: 64",
                           "access_cycles: &one {input: 1, weight: 1, output: 1}\n    bandwidth_bits_per_cycle: 64", 1)
    text = text.replace("access_cycles: {input: 1, weight: 1, output: 1}", "access_cycles: *one")
    path = tmp_path / "aliased.yaml"
    path.write_text(text, encoding="utf-8")
    assert text.count("*one") == 1 and load_target(path) == load_target("eyeriss")


def test_oversized_target_file_is_refused_before_parsing(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text(EYERISS + "\n" + "# padding\n" * (_dataload.MAX_FILE_BYTES // 10 + 10), encoding="utf-8")
    assert main(["show-target", str(big)]) == 2
    line = _one_error(capsys)
    assert "more than the 1,048,576 bytes this tool reads" in line


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_deeply_nested_target_is_one_error_line(tmp_path, capsys, suffix):
    path = tmp_path / f"deep{suffix}"
    depth = 100_000
    path.write_text('{"schema": "rlsched-target-v1", "notes": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    assert main(["show-target", str(path)]) == 2
    assert f"nested deeper than {_dataload.MAX_DEPTH} levels" in _one_error(capsys)


def test_deeply_nested_schedule_and_graph_are_one_error_line(tmp_path, capsys):
    sched = tmp_path / "s.json"
    sched.write_text('{"table": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    assert main(["evaluate", str(sched), "--target", "eyeriss"]) == 2
    assert "nested deeper than" in _one_error(capsys)
    graph = tmp_path / "g.json"
    graph.write_text('{"nodes": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    assert main(["pipeline", str(graph), "--out", str(tmp_path / "o")]) == 2
    assert "nested deeper than" in _one_error(capsys)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_target_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "t.yaml"
    os.mkfifo(fifo)
    assert main(["show-target", str(fifo)]) == 2
    assert "is not a regular file" in _one_error(capsys)


def test_nan_and_infinity_constants_in_json_are_refused(tmp_path, capsys):
    doc = load_target("eyeriss").to_dict()
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc).replace('"mac_energy_pj": 2.2', '"mac_energy_pj": NaN'), encoding="utf-8")
    assert main(["show-target", str(path)]) == 2
    assert "non-standard JSON constant NaN" in _one_error(capsys)


def test_check_shape_counts_shared_references():
    inner = list(range(1000))
    outer = [inner] * 200  # 200k references to one list
    with pytest.raises(RlschedError, match="nodes"):
        _dataload.check_shape(outer, source="x")
    _dataload.check_shape([inner] * 50, source="x")


def test_deep_target_dict_from_code_is_a_target_error():
    from rlsched_compile.errors import TargetError
    from rlsched_compile.targets import target_from_dict

    doc = load_target("eyeriss").to_dict()
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    doc["notes"] = deep
    with pytest.raises(TargetError, match="invalid target <dict>: the mapping: nested deeper than 32 levels"):
        target_from_dict(doc)


def test_sweep_files_go_through_the_bounded_loader(tmp_path, capsys):
    bomb = tmp_path / "sweep.yaml"
    bomb.write_text(BOMB_ANCHORS + "\nbase: *l8\n", encoding="utf-8")
    assert main(["sweep", str(bomb)]) == 2
    assert "after expanding aliases" in _one_error(capsys)
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * (_dataload.MAX_FILE_BYTES // 10 + 10), encoding="utf-8")
    assert main(["sweep", str(big)]) == 2
    assert "bytes this tool reads" in _one_error(capsys)
