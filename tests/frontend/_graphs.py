"""Tiny ONNX graphs built in code for the frontend tests."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def init(name: str, shape: Sequence[int], dtype: type = np.float32) -> onnx.TensorProto:
    """A zero initializer."""
    return numpy_helper.from_array(np.zeros(shape, dtype=dtype), name)


def const_i64(name: str, values: Sequence[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def vi(name: str, shape: Sequence[int | str] | None, elem: int = TensorProto.FLOAT
       ) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, None if shape is None else list(shape))


def model(nodes: Sequence[onnx.NodeProto], inputs: Sequence[onnx.ValueInfoProto],
          outputs: Sequence[onnx.ValueInfoProto], *, initializers: Sequence[onnx.TensorProto] = (),
          opset: int = 17, name: str = "tiny", extra_opsets: Sequence[tuple[str, int]] = ()
          ) -> onnx.ModelProto:
    """A checked model (``onnx.checker`` full check unless it uses a custom domain)."""
    graph = helper.make_graph(list(nodes), name, list(inputs), list(outputs),
                              initializer=list(initializers))
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = helper.find_min_ir_version_for(opsets[:1])
    if not extra_opsets:
        # Outputs declared without a shape get the inferred one (the checker wants a shape);
        # intermediate value_info stays empty so the frontend does its own inference.
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        for out, done in zip(m.graph.output, inferred.graph.output):
            if not out.type.tensor_type.HasField("shape"):
                out.CopyFrom(done)
        onnx.checker.check_model(m, full_check=True)
    return m


def conv_model(x_shape: Sequence[int | str], w_shape: Sequence[int], *, opset: int = 17,
               name: str = "conv", **attrs: object) -> onnx.ModelProto:
    """One Conv on input ``x`` with an initializer weight."""
    node = helper.make_node("Conv", ["x", "w"], ["y"], name=name, **attrs)
    return model([node], [vi("x", x_shape)], [vi("y", None)], initializers=[init("w", w_shape)],
                 opset=opset)


def classifier_model(opset: int, *, batch: int | str = 1) -> onnx.ModelProto:
    """Conv -> BatchNormalization -> Relu -> GlobalAveragePool -> Flatten -> Gemm (transB=1)."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="bn"),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    inits = [init("w", [8, 3, 3, 3]), init("s", [8]), init("b", [8]), init("m", [8]),
             init("v", [8]), init("fw", [10, 8]), init("fb", [10])]
    return model(nodes, [vi("x", [batch, 3, 32, 32])], [vi("y", [batch, 10])],
                 initializers=inits, opset=opset)
