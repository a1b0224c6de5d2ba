"""What a layer extractor sees of one ONNX node, and what it returns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import onnx

from ..errors import ModelError
from ..layer import Layer


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
        """The value of attribute ``name`` (``default`` when the node does not set it)."""
        for a in self.node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def str_attr(self, name: str, default: str) -> str:
        """A string attribute, decoded."""
        v = self.attr(name, default)
        return v.decode() if isinstance(v, bytes) else str(v)

    def input(self, slot: int) -> str:
        """Name of input ``slot`` ('' when absent)."""
        return self.node.input[slot] if slot < len(self.node.input) else ""

    def in_shape(self, slot: int) -> tuple[int, ...] | None:
        """Static shape of input ``slot``, ``None`` when absent or unknown."""
        t = self.input(slot)
        return self.shape.get(t) if t else None

    def out_shape(self, slot: int) -> tuple[int, ...] | None:
        """Static shape of output ``slot``, ``None`` when absent or unknown."""
        node = self.node
        t = node.output[slot] if slot < len(node.output) else ""
        return self.shape.get(t) if t else None

    def fail(self, problem: str) -> ModelError:
        """The error for a node whose shapes contradict each other."""
        return ModelError(f"{self.label}: node {self.name!r} ({self.node.op_type}): {problem}; the "
                          "model's shapes are inconsistent, fix or re-export it")


@dataclass(frozen=True)
class Extracted:
    """Result of an extractor.

    Attributes:
        layers: the layers the node becomes (empty when it is skipped or carries no MACs).
        unsupported: why the node is not scheduled (``None`` when it is, or has no MACs).
        macs: the node's exact multiply-accumulates when it is skipped (``None``: unknown).
            For a scheduled node they are the sum of its layers' MACs.
    """

    layers: tuple[Layer, ...] = ()
    unsupported: str | None = None
    macs: int | None = 0

    @property
    def node_macs(self) -> int | None:
        """Multiply-accumulates of the node (its layers', or the skipped count)."""
        if self.layers:
            return sum(layer.macs for layer in self.layers)
        return self.macs


def layers(*items: Layer) -> Extracted:
    """An :class:`Extracted` that schedules ``items``."""
    return Extracted(layers=tuple(items))


def skipped(reason: str, macs: int | None) -> Extracted:
    """An :class:`Extracted` for a node that is not scheduled (with its MACs when known)."""
    return Extracted(unsupported=reason, macs=macs)


def batched_matmul_layer(name: str, op: str, *, groups: int, rows: int, inner: int, cols: int,
                         repeat: int = 1) -> Layer:
    """The layer of ``groups`` independent products ``[rows, inner] @ [inner, cols]``.

    Mapping (documented in the frontend and the README): the groups (batch and heads) are
    ``G``, the rows of the first operand are ``B``, the columns of the second ``K/G`` and the
    inner dimension ``C/G``; ``P = Q = R = S = 1``. The second operand takes the weight's place
    in the cost model (held and reused like a weight), whether it is a constant or an
    activation. MACs: ``groups * rows * inner * cols``.
    """
    return Layer(name=name, K=groups * cols, B=rows, P=1, Q=1, C=groups * inner, R=1, S=1,
                 G=groups, stride_h=1, stride_w=1, op=op, repeat=repeat)
