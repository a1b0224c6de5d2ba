"""Fixtures of the sweep tests: two tiny ONNX models built in code (sharing one layer), a sweep
file over them, and an isolated schedule cache."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper


def build_model(name: str, *, with_fc: bool) -> onnx.ModelProto:
    """Conv(3->8, 3x3) on 12x12 then Conv(8->8, 3x3) (``with_fc=False``) or Gemm(8*12*12 -> 10).
    The first convolution is the same layer in both models."""
    rng = np.random.default_rng(0)

    def w(shape: tuple[int, ...], wname: str) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), wname)

    inits = [w((8, 3, 3, 3), "w0")]
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c0"], name="conv0", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c0"], ["r0"], name="relu0")]
    if with_fc:
        inits.append(w((10, 8 * 12 * 12), "wfc"))
        nodes += [helper.make_node("Flatten", ["r0"], ["flat"], name="flatten", axis=1),
                  helper.make_node("Gemm", ["flat", "wfc"], ["y"], name="fc", transB=1)]
        out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    else:
        inits.append(w((8, 8, 3, 3), "w1"))
        nodes.append(helper.make_node("Conv", ["r0", "w1"], ["y"], name="conv1", pads=[1, 1, 1, 1]))
        out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 12, 12])
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
                              [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


SWEEP = """\
version: 1
name: tiny-sweep
models: [twoconv.onnx, convfc.onnx]
targets: [eyeriss]
objectives: [energy, cycles]
parameters:
  pe_x: {level: pe_array, field: x, values: [7, 14]}
  gb_bytes: {level: global_buffer, field: capacity_bytes.shared, values: [0, 102400]}
"""


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty schedule cache for this test only."""
    d = tmp_path / "cache"
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(d))
    return d


def write_models(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "twoconv.onnx").write_bytes(build_model("twoconv", with_fc=False).SerializeToString())
    (folder / "convfc.onnx").write_bytes(build_model("convfc", with_fc=True).SerializeToString())


@pytest.fixture()
def sweep_file(tmp_path: Path) -> Path:
    """The small sweep: 2 models x 4 points (one invalid: a 0-byte global buffer) x 2 objectives."""
    folder = tmp_path / "in"
    write_models(folder)
    path = folder / "sweep.yaml"
    path.write_text(SWEEP)
    return path
