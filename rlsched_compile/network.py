"""The network value: the layers of a model plus its operator graph.

A :class:`Network` is what the ONNX frontend (:func:`rlsched_compile.frontend.load_network`)
returns and what the scheduler consumes: the ordered layers to schedule, the operator graph for
graph-level passes, and the operators that carry MACs (or weights) but are not scheduled, so
reports can state the share of the model's MACs that got a schedule (its *coverage*).
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
    """Operators of one kind that carry weights or MACs but are not turned into layers.

    Attributes:
        op_type: ONNX operator type with the reason when it is not the type alone, e.g.
            ``ConvTranspose (3-D)`` or ``Einsum (3 operands)``.
        count: how many nodes of that kind the model has.
        nodes: their node names, in graph order.
        macs: the multiply-accumulates these nodes hold (exact), or ``None`` (the default) when
            some node's shapes or form do not give an exact count.
    """

    op_type: str
    count: int
    nodes: tuple[str, ...]
    macs: int | None = None

    @property
    def drops_macs(self) -> bool:
        """Whether skipping these nodes loses (or may lose) multiply-accumulates."""
        return self.macs is None or self.macs > 0


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
        layers: the layers of every MAC-bearing operator (Conv, Gemm, MatMul, Einsum, attention,
            recurrent, transposed and quantized forms), in topological order; one operator may
            give several (see :mod:`rlsched_compile.frontend`).
        graph: networkx DiGraph of operators. Node keys are node names (the layer names for
            single-layer nodes); node attributes ``op_type``, ``name``, ``macs`` (the node's exact
            multiply-accumulates: the sum of its layers' MACs, repeats included, or a skipped
            operator's MACs when known, else 0), ``param_bytes``, ``param_elements`` (elements
            of the constant, non-int64 inputs), ``window`` (elements of the ``kernel_shape``
            attribute, e.g. 9 for a 3x3 MaxPool; ``None`` without one), ``output_shapes`` (tuple
            of shapes, ``None`` where unknown), ``layer_indices`` (indices into :attr:`layers` of
            the layers the node became, e.g. an attention node's ``.qk`` and ``.av``) and
            ``layer_index`` (the first of them, or ``None``). Graph inputs and outputs are nodes
            with op_type ``Input``/``Output``. Edge attributes ``tensor`` (first tensor name),
            ``tensors`` (all tensor names from producer to consumer), ``shape`` (of ``tensor``),
            ``bytes`` and ``elements`` (totals over ``tensors``; ``None`` if a shape is unknown).
            Operators whose outputs do
            not depend on any data input (weight producers such as ``Constant``,
            ``ConstantOfShape`` or ``Identity`` on a weight) are folded into the
            ``param_bytes`` of their consumers and are not nodes.
        unsupported: operators with weights or MACs that are not scheduled, one entry per kind.
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
        """Total multiply-accumulates over all layers (repeats included): the scheduled MACs."""
        return sum(layer.macs for layer in self.layers)

    @property
    def scheduled_macs(self) -> int:
        """Multiply-accumulates of the layers (same as :attr:`macs`)."""
        return self.macs

    @property
    def skipped_macs(self) -> int:
        """Known multiply-accumulates of the operators that are not scheduled."""
        return sum(u.macs or 0 for u in self.unsupported)

    @property
    def model_macs(self) -> int:
        """Multiply-accumulates of every MAC-bearing operator of the model: layers plus skipped
        operators (those whose count is unknown add nothing; see :attr:`macs_exact`)."""
        return self.macs + self.skipped_macs

    @property
    def macs_exact(self) -> bool:
        """Whether :attr:`model_macs` is exact (no skipped operator of unknown MACs)."""
        return all(u.macs is not None for u in self.unsupported)

    @property
    def coverage(self) -> float:
        """Share of the model's MACs that are scheduled, in [0, 1] (1.0 for a model without MACs)."""
        total = self.model_macs
        return self.macs / total if total else 1.0

    @property
    def unsupported_count(self) -> int:
        """Number of unsupported operator nodes with weights or MACs."""
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


def format_macs(macs: int) -> str:
    """A MAC count in engineering form: ``17.56 G``, ``425.3 M``, ``5.581 k``, ``12``."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if macs >= scale:
            return f"{macs / scale:.4g} {unit}"
    return str(macs)
