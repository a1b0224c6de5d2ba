"""Outputs for models beyond plain CNNs: the annotated ONNX of a model with external data, nodes
that became several layers (an LSTM), and recurrent repeats in the totals."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from rlsched_compile import cli, compile_model
from rlsched_compile.emit.report import render_summary

pytestmark = pytest.mark.usefixtures("cache_dir")


def _lstm_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    t, n, i, h = 6, 1, 8, 16
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), name) for name, s in
             (("w", (1, 4 * h, i)), ("r", (1, 4 * h, h)), ("fc", (h, 5)))]
    nodes = [helper.make_node("LSTM", ["x", "w", "r"], ["y"], name="lstm", hidden_size=h),
             helper.make_node("MatMul", ["y", "fc"], ["out"], name="fc")]
    graph = helper.make_graph(nodes, "rec", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [t, n, i])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [t, 1, n, 5])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def test_external_data_model_gets_its_annotated_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "model"
    src.mkdir()
    onnx.save_model(_lstm_model(), str(src / "rec.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="rec.weights", size_threshold=0)
    out = tmp_path / "out"
    code = cli.main([str(src / "rec.onnx"), "--target", "eyeriss", "--out", str(out), "--jobs", "1", "-q"])
    capsys.readouterr()
    assert code == 0
    assert (out / "rec.weights").read_bytes() == (src / "rec.weights").read_bytes()
    annotated = onnx.load(str(out / "rec.scheduled.onnx"))  # loads the data beside it
    onnx.checker.check_model(annotated, full_check=True)
    weights = {t.name: numpy_helper.to_array(t) for t in annotated.graph.initializer}
    original = {t.name: numpy_helper.to_array(t) for t in _lstm_model().graph.initializer}
    assert all(np.array_equal(weights[k], original[k]) for k in original)
    lstm = next(n for n in annotated.graph.node if n.name == "lstm")
    props = {p.key: p.value for p in lstm.metadata_props}
    entries = json.loads(props["rlsched.layers"])
    assert [(e["layer"], e["repeat"]) for e in entries] == [("lstm.forward.input", 1), ("lstm.forward.recurrent", 6)]
    assert float(props["rlsched.energy_pj"]) == pytest.approx(sum(e["energy_pj"] * e["repeat"] for e in entries))
    fc = next(n for n in annotated.graph.node if n.name == "fc")
    assert "rlsched.schedule" in {p.key for p in fc.metadata_props}


def test_external_data_outside_the_model_folder_is_not_followed(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    src = tmp_path / "model"
    src.mkdir()
    onnx.save_model(_lstm_model(), str(src / "rec.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="rec.weights", size_threshold=0)
    m = onnx.load(str(src / "rec.onnx"), load_external_data=False)
    for t in m.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../secret.bin"
    (tmp_path / "secret.bin").write_bytes((src / "rec.weights").read_bytes())
    (src / "rec.onnx").write_bytes(m.SerializeToString())
    result = compile_model(src / "rec.onnx", "eyeriss", jobs=1)
    result.write(tmp_path / "out")
    assert not (tmp_path / "out" / "rec.scheduled.onnx").exists()
    assert not list((tmp_path / "out").glob("*.bin"))
    assert "is not a relative path inside the model's folder" in caplog.text


def test_recurrent_repeats_count_in_the_totals(tmp_path: Path) -> None:
    result = compile_model(_lstm_model(), "eyeriss", jobs=1)
    rec = next(s for s in result.layers if s.layer.name == "lstm.forward.recurrent")
    assert rec.layer.repeat == 6 and rec.layer.macs == 6 * rec.layer.instance_macs
    assert result.totals.energy_pj == pytest.approx(sum(s.energy_pj * s.layer.repeat for s in result.layers))
    assert result.totals.cycles == pytest.approx(sum(s.cycles * s.layer.repeat for s in result.layers))
    assert result.totals.macs == 6 * 4 * 16 * (8 + 16) + 6 * 16 * 5
    report = result.report()
    row = next(r for r in report["layers"] if r["name"] == "lstm.forward.recurrent")
    assert row["repeat"] == 6 and row["energy_pj"] == pytest.approx(6 * rec.energy_pj)
    assert report["coverage"]["share"] == 1.0


def test_summary_rows_say_how_often_a_repeated_layer_runs() -> None:
    # a unique-layer row shows one run's energy: its count must say how many runs add up to the total
    report = compile_model(_lstm_model(), "eyeriss", jobs=1).report()
    by_name = {u["name"]: u for u in report["unique_layers"]}
    assert by_name["lstm.forward.recurrent"]["runs"] == 6 and "runs" not in by_name["lstm.forward.input"]
    assert report["totals"]["energy_pj"] == pytest.approx(
        sum(u["energy_pj"] * u.get("runs", u["count"]) for u in report["unique_layers"]))
    row = next(line for line in render_summary(report).splitlines() if "lstm.forward.recurrent" in line)
    assert "1 (6 runs)" in row
