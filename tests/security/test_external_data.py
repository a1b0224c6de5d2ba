"""Issue 11 items 4 and 11: an ONNX model's external-data references never make the tool read a
file outside the model's folder (a real symbolic link, ``..``, an absolute path), and every
external-data problem is one ``error:`` line with exit code 2."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from rlsched_compile.cli import main
from rlsched_compile.errors import ModelError
from rlsched_compile.frontend import load_network

W_SHAPE = (4, 3, 3, 3)


def _model(location: str) -> onnx.ModelProto:
    """A custom op (onnxruntime's Gelu) -> Conv: shape inference cannot see through the custom op,
    so the frontend runs onnxruntime, which needs the Conv weight, stored externally at ``location``."""
    w = numpy_helper.from_array(np.ones(W_SHAPE, dtype=np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", location
    nodes = [helper.make_node("Gelu", ["x"], ["r"], name="gelu", domain="com.microsoft"),
             helper.make_node("Conv", ["r", "w"], ["y"], name="conv")]
    graph = helper.make_graph(nodes, "ext", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    return m


WEIGHTS = np.ones(W_SHAPE, dtype=np.float32).tobytes()


@pytest.fixture()
def layout(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    secret = tmp_path / "secret.bin"  # outside the model folder, same size as the weight
    secret.write_bytes(WEIGHTS)
    return model_dir, secret


def _error(path: Path, capsys) -> str:
    assert main([str(path), "-t", "eyeriss", "--search", "bottom-up", "--no-cache", "-q",
                 "-o", str(path.parent / "out")]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert not (path.parent / "out").exists()
    return lines[0]


def test_inside_the_folder_is_read(layout):
    model_dir, _ = layout
    (model_dir / "w.bin").write_bytes(WEIGHTS)
    path = model_dir / "m.onnx"
    path.write_bytes(_model("w.bin").SerializeToString())
    net = load_network(path)
    assert (net.layers[0].P, net.layers[0].Q) == (6, 6)


def test_a_symlink_inside_the_folder_to_a_file_outside_is_refused(layout, capsys, monkeypatch):
    model_dir, secret = layout
    os.symlink(secret, model_dir / "w.bin")
    path = model_dir / "m.onnx"
    path.write_bytes(_model("w.bin").SerializeToString())
    opened: list[str] = []
    real_open = open

    def spy(file, *a, **kw):  # type: ignore[no-untyped-def]
        opened.append(os.path.realpath(file) if isinstance(file, (str, os.PathLike)) else str(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr("builtins.open", spy)
    line = _error(path, capsys)
    assert "tensor 'w': external data location 'w.bin' leaves the model folder" in line
    assert str(secret) not in opened


def test_a_symlinked_subfolder_escaping_is_refused(layout, capsys):
    model_dir, secret = layout
    os.symlink(secret.parent, model_dir / "up")
    path = model_dir / "m.onnx"
    path.write_bytes(_model("up/secret.bin").SerializeToString())
    assert "leaves the model folder" in _error(path, capsys)


@pytest.mark.parametrize("location, message", [
    ("../secret.bin", "goes up with '..'"),
    ("sub/../../secret.bin", "goes up with '..'"),
    ("ABS", "is an absolute path"),
    ("missing.bin", "names a file that does not exist"),
    ("", "is empty or not a valid path"),
    (".", "is not a regular file"),
])
def test_bad_locations_are_one_error_line(layout, capsys, location, message):
    model_dir, secret = layout
    if location == "ABS":
        location = str(secret)
    path = model_dir / "m.onnx"
    path.write_bytes(_model(location).SerializeToString())
    assert message in _error(path, capsys)


def test_a_truncated_data_file_is_one_error_line(layout, capsys):
    model_dir, _ = layout
    (model_dir / "w.bin").write_bytes(WEIGHTS[:10])
    m = _model("w.bin")
    entry = m.graph.initializer[0].external_data.add()
    entry.key, entry.value = "length", str(len(WEIGHTS))
    path = model_dir / "m.onnx"
    path.write_bytes(m.SerializeToString())
    line = _error(path, capsys)
    assert "cannot read its external tensor data" in line or "onnxruntime cannot run the model" in line


def test_in_memory_model_with_external_data_is_refused():
    with pytest.raises(ModelError, match="in-memory model cannot reference"):
        load_network(_model("w.bin"))
