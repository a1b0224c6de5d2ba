"""Which operators become layers: one extractor per (domain, op_type).

Every operator that holds multiply-accumulates of the 8-parameter form has an extractor here
(the mappings are documented in :mod:`._conv`, :mod:`._matmul`, :mod:`._recurrent` and
:mod:`._attention`, and in the README). An extractor returns the node's layers, or the reason it
is skipped together with its exact MACs when they are known, so reports can state coverage.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import onnx

from ._attention import attention_ms, attention_onnx, group_query_attention, multi_head_attention
from ._conv import conv, conv_transpose
from ._matmul import einsum, fused_matmul, gemm, matmul, matmul_integer, qlinear_matmul
from ._node import Extracted, NodeContext, skipped
from ._recurrent import recurrent

__all__ = ["EXTRACTORS", "Extracted", "NodeContext", "OpSpec", "extractor_for", "needed_tensors"]


@dataclass(frozen=True)
class OpSpec:
    """How one operator is read.

    Attributes:
        extract: the extractor.
        inputs: input slots whose static shapes it needs.
        outputs: output slots whose static shapes it reads when known (checks, present keys).
    """

    extract: Callable[[NodeContext], Extracted]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...] = (0,)


def _no_extractor(ctx: NodeContext) -> Extracted:
    return skipped(ctx.node.op_type, None)


_MS = "com.microsoft"

#: (domain, op_type) -> how the operator becomes layers. onnxruntime's optimized and quantized
#: models use the ``com.microsoft`` fused forms, which keep the inputs of the plain operator.
EXTRACTORS: dict[tuple[str, str], OpSpec] = {
    ("", "Conv"): OpSpec(conv, (0, 1)),
    ("", "ConvTranspose"): OpSpec(conv_transpose, (0, 1)),
    ("", "ConvInteger"): OpSpec(conv, (0, 1)),
    ("", "QLinearConv"): OpSpec(partial(conv, x_slot=0, w_slot=3), (0, 3)),
    ("", "Gemm"): OpSpec(gemm, (0, 1)),
    ("", "MatMul"): OpSpec(matmul, (0, 1)),
    ("", "MatMulInteger"): OpSpec(matmul_integer, (0, 1)),
    ("", "QLinearMatMul"): OpSpec(qlinear_matmul, (0, 3)),
    ("", "Einsum"): OpSpec(einsum, (0, 1)),
    ("", "LSTM"): OpSpec(recurrent, (0, 1)),
    ("", "GRU"): OpSpec(recurrent, (0, 1)),
    ("", "RNN"): OpSpec(recurrent, (0, 1)),
    ("", "Attention"): OpSpec(attention_onnx, (0, 1, 2, 4), (0, 1)),
    ("", "DeformConv"): OpSpec(_no_extractor, ()),
    (_MS, "FusedConv"): OpSpec(conv, (0, 1)),
    (_MS, "FusedGemm"): OpSpec(gemm, (0, 1)),
    (_MS, "QGemm"): OpSpec(partial(gemm, a_slot=0, b_slot=3), (0, 3)),
    (_MS, "FusedMatMul"): OpSpec(fused_matmul, (0, 1)),
    (_MS, "MatMulIntegerToFloat"): OpSpec(matmul_integer, (0, 1)),
    (_MS, "DynamicQuantizeMatMul"): OpSpec(matmul_integer, (0, 1)),
    (_MS, "Attention"): OpSpec(attention_ms, (0, 1, 4), (0, 1)),
    (_MS, "QAttention"): OpSpec(attention_ms, (0, 1), (0, 1)),
    (_MS, "MultiHeadAttention"): OpSpec(multi_head_attention, (0, 1, 2, 6), (0, 1)),
    (_MS, "GroupQueryAttention"): OpSpec(group_query_attention, (0, 1, 3), (0, 1)),
}


def extractor_for(node: onnx.NodeProto) -> OpSpec | None:
    """How ``node`` becomes layers (by domain and op_type), ``None`` if it holds no MACs."""
    return EXTRACTORS.get((node.domain if node.domain != "ai.onnx" else "", node.op_type))


def needed_tensors(node: onnx.NodeProto) -> tuple[str, ...]:
    """Tensors whose static shapes the extractor of ``node`` needs."""
    spec = extractor_for(node)
    if spec is None:
        return ()
    return tuple(node.input[i] for i in spec.inputs if i < len(node.input) and node.input[i])
