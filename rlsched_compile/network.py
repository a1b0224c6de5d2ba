"""The network value: the layers of a model plus its operator graph.

A :class:`Network` is what the ONNX frontend (:func:`rlsched_compile.frontend.load_network`)
returns and what the scheduler consumes: the ordered layers to schedule, the operator graph for
graph-level passes, and the operators that carry weights but cannot be scheduled.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import networkx as nx

from .layer import Layer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnsupportedOp:
    """Operators of one type that carry weights (or MACs) but are not turned into layers.

    Attributes:
        op_type: ONNX operator type, e.g. ``ConvTranspose``; a MatMul/Gemm whose operands are
            both activations is reported as ``MatMul (no constant weight)``.
        count: how many nodes of that type the model has.
        nodes: their node names, in graph order.
    """

    op_type: str
    count: int
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class LayerGroup:
    """Layers with the same :meth:`Layer.signature`, which the scheduler solves once.

    Attributes:
        layer: the first layer (graph order) with this signature.
        indices: positions in :attr:`Network.layers` of every layer with this signature.
    """

    layer: Layer
    indices: tuple[int, ...]

    @property
    def count(self) -> int:
        """Number of layers in the group."""
        return len(self.indices)


@dataclass(frozen=True)
class Network:
    """A model as the scheduler sees it.

    Attributes:
        name: model file stem, or the graph name for an in-memory model.
        source: path of the model file (``None`` for an in-memory ``ModelProto``).
        sha256: hex sha256 of the model file bytes (of the serialized proto when in memory).
        batch: the batch size the shapes were materialised with.
        layers: every Conv, Gemm and MatMul-with-constant-weight layer, in topological order.
        graph: networkx DiGraph of operators. Node keys are node names (the layer names for
            layers); node attributes ``op_type``, ``name``, ``macs``, ``param_bytes``,
            ``param_elements`` (elements of the constant, non-int64 inputs), ``window``
            (elements of the ``kernel_shape`` attribute, e.g. 9 for a 3x3 MaxPool; ``None``
            without one), ``output_shapes`` (tuple of shapes, ``None`` where unknown) and
            ``layer_index`` (index into :attr:`layers` or ``None``). Graph inputs and outputs are
            nodes with op_type ``Input``/``Output``. Edge attributes ``tensor`` (first tensor
            name), ``tensors`` (all tensor names from producer to consumer), ``shape`` (of
            ``tensor``), ``bytes`` and ``elements`` (totals over ``tensors``; ``None`` if a shape
            is unknown). Operators whose outputs do
            not depend on any data input (weight producers such as ``Constant``,
            ``ConstantOfShape`` or ``Identity`` on a weight) are folded into the
            ``param_bytes`` of their consumers and are not nodes.
        unsupported: operators with weights that are not scheduled, one entry per op type.
        onnx_node: layer name -> index of its node in the model's ``graph.node`` list (for
            annotating the original model).
    """

    name: str
    source: str | None
    sha256: str
    batch: int
    layers: tuple[Layer, ...]
    graph: nx.DiGraph = field(compare=False, repr=False)
    unsupported: tuple[UnsupportedOp, ...] = ()
    onnx_node: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}),
                                         compare=False, repr=False)

    @property
    def macs(self) -> int:
        """Total multiply-accumulates over all layers."""
        return sum(layer.macs for layer in self.layers)

    @property
    def unsupported_count(self) -> int:
        """Number of unsupported operator nodes with weights."""
        return sum(u.count for u in self.unsupported)

    def unique_layers(self) -> tuple[LayerGroup, ...]:
        """Groups layers by :meth:`Layer.signature`, in order of first occurrence.

        Returns:
            One :class:`LayerGroup` per distinct signature; scheduling ``group.layer`` once gives
            the schedule of every layer in ``group.indices``.
        """
        first: dict[tuple[int, ...], list[int]] = {}
        for i, layer in enumerate(self.layers):
            first.setdefault(layer.signature(), []).append(i)
        return tuple(LayerGroup(self.layers[idx[0]], tuple(idx)) for idx in first.values())
