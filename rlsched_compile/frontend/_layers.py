"""Turning Conv, Gemm and MatMul nodes into :class:`Layer` values (one extractor per op_type)."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Mapping

import onnx

from ..errors import ModelError
from ..layer import Layer

logger = logging.getLogger(__name__)

#: Operators with weights (or MACs) that the scheduler cannot take; counted and warned about.
UNSUPPORTED_WEIGHTED_OPS: frozenset[str] = frozenset({
    "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "MatMulInteger",
    "QLinearMatMul", "LSTM", "GRU", "RNN", "Attention", "MultiHeadAttention",
    "GroupQueryAttention", "Einsum",
})


@dataclass(frozen=True)
class NodeContext:
    """What an extractor needs to know about one node.

    Attributes:
        node: the ONNX node.
        name: its unique layer/node name.
        label: the model's name in error messages.
        shape: tensor name -> static shape (only for tensors whose shape is known).
        is_data: tensor name -> whether the tensor depends on a data input.
    """

    node: onnx.NodeProto
    name: str
    label: str
    shape: Mapping[str, tuple[int, ...]]
    is_data: Callable[[str], bool]

    def attr(self, name: str, default: object) -> object:
        for a in self.node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def fail(self, problem: str) -> ModelError:
        return ModelError(f"{self.label}: node {self.name!r} ({self.node.op_type}): {problem}; the "
                          "model's shapes are inconsistent, fix or re-export it")


@dataclass(frozen=True)
class Extracted:
    """Result of an extractor: a layer, or the reason the node is unsupported."""

    layer: Layer | None = None
    unsupported: str | None = None


def extractor_for(node: onnx.NodeProto) -> Callable[[NodeContext], Extracted] | None:
    """The extractor of ``node`` (by domain and op_type), ``None`` if it is not a layer."""
    return EXTRACTORS.get((node.domain if node.domain != "ai.onnx" else "", node.op_type))


def needed_tensors(node: onnx.NodeProto) -> tuple[str, ...]:
    """Tensors whose static shapes the extractor of ``node`` needs."""
    if extractor_for(node) is not None:
        return tuple(t for t in node.input[:2] if t)
    return ()


def _conv(ctx: NodeContext) -> Extracted:
    node = ctx.node
    x, w = ctx.shape[node.input[0]], ctx.shape[node.input[1]]
    if len(x) > 4 and len(w) == len(x):
        return Extracted(unsupported=f"Conv ({len(x) - 2}-D)")
    if len(x) not in (3, 4) or len(w) != len(x):
        raise ctx.fail(f"input {list(x)} and weight {list(w)} do not make a 1-D or 2-D "
                       "convolution")
    one_d = len(x) == 3
    nsp = len(x) - 2
    group = int(ctx.attr("group", 1))  # type: ignore[arg-type]
    kernel = tuple(int(k) for k in ctx.attr("kernel_shape", w[2:]))  # type: ignore[union-attr]
    strides = tuple(int(s) for s in ctx.attr("strides", [1] * nsp))  # type: ignore[union-attr]
    dils = tuple(int(d) for d in ctx.attr("dilations", [1] * nsp))  # type: ignore[union-attr]
    pads = tuple(int(p) for p in ctx.attr("pads", [0] * 2 * nsp))  # type: ignore[union-attr]
    auto_pad = ctx.attr("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    n, c, spatial = x[0], x[1], x[2:]
    k_out, c_per_group = w[0], w[1]
    if kernel != tuple(w[2:]):
        raise ctx.fail(f"kernel_shape {list(kernel)} differs from weight shape {list(w)}")
    if group < 1 or c != c_per_group * group:
        raise ctx.fail(f"input has {c} channels but weight {list(w)} with group={group} expects "
                       f"{c_per_group * group}")
    if k_out % group:
        raise ctx.fail(f"{k_out} output channels are not divisible by group={group}")
    if len(strides) != nsp or len(dils) != nsp or len(pads) != 2 * nsp:
        raise ctx.fail(f"strides {list(strides)}, dilations {list(dils)} or pads {list(pads)} do "
                       f"not match a {nsp}-D convolution")
    out: list[int] = []
    for i in range(nsp):
        extent = (kernel[i] - 1) * dils[i] + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = math.ceil(spatial[i] / strides[i])
        elif auto_pad == "VALID":
            o = (spatial[i] - extent) // strides[i] + 1
        else:
            o = (spatial[i] + pads[i] + pads[i + nsp] - extent) // strides[i] + 1
        out.append(o)
    if min(out) < 1:
        raise ctx.fail(f"a {list(kernel)} kernel on a {list(spatial)} input gives an empty output")
    y = ctx.shape.get(node.output[0])
    if y is not None and (tuple(y[2:]) != tuple(out) or y[1] != k_out or y[0] != n):
        raise ctx.fail(f"output shape {list(y)} differs from the computed {[n, k_out, *out]}")
    if one_d:
        p, q, r, s, sh, sw, dh, dw = 1, out[0], 1, kernel[0], 1, strides[0], 1, dils[0]
    else:
        p, q, r, s = out[0], out[1], kernel[0], kernel[1]
        sh, sw, dh, dw = strides[0], strides[1], dils[0], dils[1]
    return Extracted(Layer(name=ctx.name, K=k_out, B=n, P=p, Q=q, C=c, R=r, S=s, G=group,
                           stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw, op="Conv"))


def _fc(ctx: NodeContext, *, rows: int, c_in: int, k_out: int) -> Extracted:
    op = "MatMul" if ctx.node.op_type == "MatMul" else "Gemm"
    return Extracted(Layer(name=ctx.name, K=k_out, B=rows, P=1, Q=1, C=c_in, R=1, S=1, G=1,
                           op=op))


def _gemm(ctx: NodeContext) -> Extracted:
    node = ctx.node
    a, b = ctx.shape[node.input[0]], ctx.shape[node.input[1]]
    if len(a) != 2 or len(b) != 2:
        raise ctx.fail(f"Gemm operands must be 2-D, got {list(a)} and {list(b)}")
    trans_a, trans_b = int(ctx.attr("transA", 0)), int(ctx.attr("transB", 0))  # type: ignore[call-overload]
    rows, c_in = (a[1], a[0]) if trans_a else (a[0], a[1])
    c_b, k_out = (b[1], b[0]) if trans_b else (b[0], b[1])
    if c_in != c_b:
        raise ctx.fail(f"A {list(a)} (transA={trans_a}) and B {list(b)} (transB={trans_b}) do "
                       "not agree on the inner dimension")
    if ctx.is_data(node.input[1]):
        if ctx.is_data(node.input[0]):
            return Extracted(unsupported="Gemm (no constant weight)")
        # Constant A times activation B: the activation's columns are the samples.
        return _fc(ctx, rows=k_out, c_in=c_in, k_out=rows)
    return _fc(ctx, rows=rows, c_in=c_in, k_out=k_out)


def _matmul(ctx: NodeContext) -> Extracted:
    # Rule: a constant 2-D weight W[C, K] applied to an activation [..., C] is an FC layer whose
    # batch B is the product of all leading dimensions of the activation (a 3-D [N, T, C] input
    # gives B = N*T rows). A constant first operand W[K, C] @ X[..., C, M] gives B = prod(...)*M.
    node = ctx.node
    a_name, b_name = node.input[0], node.input[1]
    a, b = ctx.shape[a_name], ctx.shape[b_name]
    a_data, b_data = ctx.is_data(a_name), ctx.is_data(b_name)
    if a_data and not b_data and len(b) == 2 and len(a) >= 1:
        if a[-1] != b[0]:
            raise ctx.fail(f"activation {list(a)} and weight {list(b)} do not agree on the inner "
                           "dimension")
        return _fc(ctx, rows=math.prod(a[:-1]), c_in=b[0], k_out=b[1])
    if b_data and not a_data and len(a) == 2 and len(b) >= 2:
        if b[-2] != a[1]:
            raise ctx.fail(f"weight {list(a)} and activation {list(b)} do not agree on the inner "
                           "dimension")
        return _fc(ctx, rows=math.prod(b[:-2]) * b[-1], c_in=a[1], k_out=a[0])
    if a_data and b_data:
        return Extracted(unsupported="MatMul (no constant weight)")
    if not a_data and not b_data:
        return Extracted()  # constant folding material, not a layer
    return Extracted(unsupported="MatMul (weight not 2-D)")


#: (domain, op_type) -> extractor. onnxruntime's optimized models use the com.microsoft fused
#: forms (Conv/Gemm + activation), which have the Conv/Gemm inputs and attributes.
EXTRACTORS: dict[tuple[str, str], Callable[[NodeContext], Extracted]] = {
    ("", "Conv"): _conv,
    ("", "Gemm"): _gemm,
    ("", "MatMul"): _matmul,
    ("com.microsoft", "FusedConv"): _conv,
    ("com.microsoft", "FusedGemm"): _gemm,
}
