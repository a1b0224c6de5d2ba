"""Helpers shared by the compiler tests: a tiny ONNX model built in code."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_tiny_model(name: str = "tiny") -> onnx.ModelProto:
    """Conv(3->8, 3x3) -> Relu -> Conv(8->8, 3x3) -> Relu -> Conv(8->8, 3x3) -> Conv(8->6, 1x1)
    -> GlobalAveragePool -> Flatten -> Gemm(6->4). The two 8->8 convolutions are identical
    (one unique layer used twice): 5 layers, 4 unique."""
    rng = np.random.default_rng(0)

    def w(shape: tuple[int, ...], wname: str) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), wname)

    inits = [w((8, 3, 3, 3), "w0"), w((8, 8, 3, 3), "w1"), w((8, 8, 3, 3), "w2"), w((6, 8, 1, 1), "w3"),
             w((4, 6), "wfc"), w((4,), "bfc")]
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"], name="conv0", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c0"], ["r0"], name="relu0"),
        helper.make_node("Conv", ["r0", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["c2", "w3"], ["c3"], name="conv3"),
        helper.make_node("GlobalAveragePool", ["c3"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "wfc", "bfc"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def out_files(d: Path) -> dict[str, bytes]:
    """Every output file below ``d`` (relative path -> bytes), timing.json excluded."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != "timing.json"}


def build_model_with_skipped_op() -> onnx.ModelProto:
    """Conv(3->4, 1x1x1) -> ConvTranspose 3-D (4->2, 2x2x2, stride 2): one schedulable layer and one
    operator with MACs that is not scheduled (3-D transposed convolutions are skipped)."""
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 1, 1, 1)).astype(np.float32), "w0"),
             numpy_helper.from_array(rng.standard_normal((4, 2, 2, 2, 2)).astype(np.float32), "wt")]
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c0"], name="conv0"),
             helper.make_node("ConvTranspose", ["c0", "wt"], ["y"], name="up0", strides=[2, 2, 2])]
    graph = helper.make_graph(nodes, "upsampler", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model
