"""``load_network``: an ONNX model -> :class:`~rlsched_compile.network.Network`.

Steps: parse and order the graph, tell data inputs from weights, fix the batch, run strict
shape inference (onnxruntime on zero inputs where Conv/Gemm/MatMul shapes stay unknown),
dispatch each node on its op_type to an extractor, then build the operator graph.
"""
from __future__ import annotations

import collections
import logging
import math
import os
from pathlib import Path
from types import MappingProxyType
from typing import Iterable

import networkx as nx
import onnx

from ..errors import ModelError
from ..layer import Layer
from ..network import Network, UnsupportedOp
from ._layers import UNSUPPORTED_WEIGHTED_OPS, NodeContext, extractor_for, needed_tensors
from ._reader import ModelSource, read_model, topological_order
from ._external import check_external_data
from ._shapes import (TensorInfo, collect_tensor_info, fix_batch, infer_shapes,
                      materialize_shapes, skeleton)

logger = logging.getLogger(__name__)

#: Input slots that hold weights, per op_type (a graph input used only there is a weight).
WEIGHT_SLOTS: dict[str, frozenset[int]] = {
    "Conv": frozenset({1, 2}), "ConvTranspose": frozenset({1, 2}), "Gemm": frozenset({1, 2}),
    "MatMul": frozenset({1}), "BatchNormalization": frozenset({1, 2, 3, 4}),
    "InstanceNormalization": frozenset({1, 2}), "LayerNormalization": frozenset({1, 2}),
    "PRelu": frozenset({1}), "LSTM": frozenset({1, 2, 3}), "GRU": frozenset({1, 2, 3}),
    "RNN": frozenset({1, 2, 3}), "FusedConv": frozenset({1, 2}), "FusedGemm": frozenset({1, 2}),
}
#: Operators a weight may pass through on its way to a weight slot (legacy exporters).
_WEIGHT_PASS_THROUGH = frozenset({"Identity", "Cast"})


def load_network(source: str | os.PathLike[str] | onnx.ModelProto, *, batch: int | None = None,
                 strict: bool = False) -> Network:
    """Reads an ONNX model and returns its layers and operator graph.

    Args:
        source: path of an ``.onnx`` file, or a ``ModelProto``.
        batch: batch size for a model whose inputs have a symbolic batch dimension. A model
            with a fixed batch keeps it (passing a different value is an error).
        strict: make operators with weights that cannot be scheduled (ConvTranspose, LSTM,
            Attention, ...) an error instead of a warning.

    Returns:
        The frozen :class:`Network`.

    Raises:
        ModelError: missing or unreadable file, not ONNX or truncated, no Conv/Gemm/MatMul
            layer, a symbolic batch without ``batch``, inconsistent shapes, or (with ``strict``)
            unsupported operators with weights.
    """
    src = read_model(source)
    label, graph = src.label, src.model.graph
    order = topological_order(graph, label)
    names = _unique_node_names(graph.node)

    constants = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    consumers: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    for i, node in enumerate(graph.node):
        for slot, t in enumerate(node.input):
            if t:
                consumers[t].append((i, slot))
    data_inputs = [vi.name for vi in graph.input if vi.name not in constants
                   and not _is_weight_tensor(vi.name, graph.node, consumers)]

    # Shape inference runs on a copy without weight data; the batch is written into its inputs.
    work = skeleton(src.model)
    net_batch = fix_batch(work.graph, data_inputs, batch, label)
    inferred, strict_problem = infer_shapes(work, label)
    info = collect_tensor_info(inferred.graph)

    data = set(data_inputs)
    for i in order:
        node = graph.node[i]
        if any(t in data for t in node.input if t):
            data.update(t for t in node.output if t)

    # Layers work on data; a Conv/Gemm/MatMul on constants only is constant folding material.
    candidates = [i for i in order if extractor_for(graph.node[i]) is not None
                  and any(t in data for t in graph.node[i].input[:2])]
    _complete_shapes(src, [graph.node[i] for i in candidates], info, strict_problem,
                     data_inputs=data_inputs, batch=batch)
    static = {t: s for t, ti in info.items() if (s := ti.static) is not None}

    candidate_set = set(candidates)
    layers: list[Layer] = []
    layer_of_node: dict[int, int] = {}
    unsupported: dict[str, list[str]] = {}
    for i in order:
        node = graph.node[i]
        if node.op_type in UNSUPPORTED_WEIGHTED_OPS:
            unsupported.setdefault(node.op_type, []).append(names[i])
            continue
        extractor = extractor_for(node)
        if extractor is None or i not in candidate_set:
            continue
        ctx = NodeContext(node=node, name=names[i], label=label, shape=static,
                          is_data=data.__contains__)
        result = extractor(ctx)
        if result.layer is not None:
            layer_of_node[i] = len(layers)
            layers.append(result.layer)
        elif result.unsupported is not None:
            unsupported.setdefault(result.unsupported, []).append(names[i])

    unsupported_ops = tuple(UnsupportedOp(op, len(n), tuple(n)) for op, n in unsupported.items())
    if not layers:
        ops = collections.Counter(n.op_type for n in graph.node)
        listed = ", ".join(f"{op} x{c}" for op, c in ops.most_common(6)) or "none"
        raise ModelError(f"{label}: no Conv, Gemm or MatMul layer with a constant weight to schedule "
                         f"(operators: {listed}); pass a CNN or fully connected model")
    if unsupported_ops:
        listed = "; ".join(f"{u.op_type} x{u.count} ({_short(u.nodes)})" for u in unsupported_ops)
        if strict:
            raise ModelError(f"{label}: operators with weights that cannot be scheduled: {listed}; "
                             "remove --strict to skip them with a warning")
        logger.warning("%s: skipping operators with weights that cannot be scheduled: %s", label,
                       listed)

    op_graph = _build_graph(graph, order, names, data, data_inputs, info, layers, layer_of_node)
    return Network(
        name=src.name, source=src.path, sha256=src.sha256, batch=net_batch,
        layers=tuple(layers), graph=op_graph, unsupported=unsupported_ops,
        onnx_node=MappingProxyType({layers[li].name: ni for ni, li in layer_of_node.items()}),
    )


def _complete_shapes(src: ModelSource, nodes: list[onnx.NodeProto], info: dict[str, TensorInfo],
                     strict_problem: str | None, *, data_inputs: list[str],
                     batch: int | None) -> None:
    """Fills ``info`` with onnxruntime shapes where the layer ``nodes`` need them.

    Without a strict-inference problem only unknown layer input shapes are materialised. When
    strict inference rejected the model (e.g. a stale value_info), onnxruntime decides: its
    shapes replace the inferred ones for every layer input and output, and a model it cannot
    run has inconsistent shapes.

    Raises:
        ModelError: onnxruntime cannot run the model where it has to.
    """
    label = src.label
    if strict_problem is None:
        missing = _dedupe(t for n in nodes for t in needed_tensors(n)
                          if t not in info or info[t].static is None)
    else:
        missing = _dedupe(t for n in nodes for t in (*needed_tensors(n), n.output[0]) if t)
    if not missing:
        return
    logger.info("%s: running onnxruntime on zero inputs for %d layer tensor shapes", label,
                len(missing))
    full = onnx.ModelProto()
    full.CopyFrom(src.model)
    fix_batch(full.graph, data_inputs, batch, label)
    base_dir = str(Path(src.path).parent) if src.path else None
    check_external_data(full, base_dir, label)  # before onnxruntime reads any external file
    try:
        found = materialize_shapes(full, missing, info, label, base_dir)
    except ModelError:
        if strict_problem is None:
            raise
        raise ModelError(f"{label}: inconsistent shapes ({strict_problem}); fix or re-export "
                         "the model") from None
    if strict_problem is not None:
        logger.warning("%s: strict shape inference failed (%s) but onnxruntime runs the model; "
                       "using its shapes", label, strict_problem)
    for t, shape in found.items():
        info[t] = TensorInfo(info[t].elem_type if t in info else onnx.TensorProto.FLOAT, shape)


def _unique_node_names(nodes: Iterable[onnx.NodeProto]) -> list[str]:
    """Node names, with ``<op>_<index>`` for unnamed nodes and ``_<index>`` added to duplicates."""
    nodes = list(nodes)
    counts = collections.Counter(n.name for n in nodes if n.name)
    taken = {n.name for n in nodes if n.name}
    out: list[str] = []
    for i, n in enumerate(nodes):
        if n.name and counts[n.name] == 1:
            out.append(n.name)
            continue
        base = f"{n.name}_{i}" if n.name else f"{n.op_type.lower()}_{i}"
        name = base
        while name in taken:
            name += "_"
        taken.add(name)
        out.append(name)
    return out


def _is_weight_tensor(tensor: str, nodes: "onnx.RepeatedCompositeFieldContainer[onnx.NodeProto]",
                      consumers: dict[str, list[tuple[int, int]]], depth: int = 0) -> bool:
    """True if every use of ``tensor`` is a weight slot (possibly through Identity/Cast)."""
    uses = consumers.get(tensor, [])
    if not uses or depth > 8:
        return False
    for i, slot in uses:
        node = nodes[i]
        if slot in WEIGHT_SLOTS.get(node.op_type, ()):
            continue
        if node.op_type in _WEIGHT_PASS_THROUGH and all(
                _is_weight_tensor(o, nodes, consumers, depth + 1) for o in node.output if o):
            continue
        return False
    return True


def _build_graph(graph: onnx.GraphProto, order: list[int], names: list[str], data: set[str],
                 data_inputs: list[str], info: dict[str, TensorInfo], layers: list[Layer],
                 layer_of_node: dict[int, int]) -> nx.DiGraph:
    """The operator graph over nodes that depend on data (weight producers are folded away)."""
    g = nx.DiGraph()
    producer: dict[str, str] = {}

    def shape_of(t: str) -> tuple[int, ...] | None:
        ti = info.get(t)
        return ti.static if ti is not None else None

    def bytes_of(t: str) -> int | None:
        ti, s = info.get(t), shape_of(t)
        return None if ti is None or s is None else math.prod(s) * ti.itemsize_bytes

    def elements_of(t: str) -> int | None:
        s = shape_of(t)
        return None if s is None else math.prod(s)

    def link(src: str, dst: str, t: str) -> None:
        if g.has_edge(src, dst):
            e = g.edges[src, dst]
            if t not in e["tensors"]:
                e["tensors"] += (t,)
                b, n = bytes_of(t), elements_of(t)
                e["bytes"] = None if e["bytes"] is None or b is None else e["bytes"] + b
                e["elements"] = None if e["elements"] is None or n is None else e["elements"] + n
            return
        g.add_edge(src, dst, tensor=t, tensors=(t,), shape=shape_of(t), bytes=bytes_of(t),
                   elements=elements_of(t))

    for t in data_inputs:
        key = f"input:{t}"
        g.add_node(key, op_type="Input", name=t, macs=0, param_bytes=0,
                   output_shapes=(shape_of(t),), layer_index=None)
        producer[t] = key
    for i in order:
        node = graph.node[i]
        if not any(t in data for t in node.output if t):
            continue
        key = names[i]
        li = layer_of_node.get(i)
        params = param_elements = 0
        for t in dict.fromkeys(x for x in node.input if x and x not in data):
            ti = info.get(t)
            b = bytes_of(t)
            if ti is not None and ti.elem_type != onnx.TensorProto.INT64 and b is not None:
                params += b
                param_elements += elements_of(t) or 0
        g.add_node(key, op_type=node.op_type, name=key,
                   macs=layers[li].macs if li is not None else 0, param_bytes=params,
                   param_elements=param_elements, window=_window(node),
                   output_shapes=tuple(shape_of(t) for t in node.output), layer_index=li)
        for t in node.input:
            if t in producer:
                link(producer[t], key, t)
        for t in node.output:
            if t:
                producer[t] = key
    for vi in graph.output:
        key = f"output:{vi.name}"
        g.add_node(key, op_type="Output", name=vi.name, macs=0, param_bytes=0,
                   output_shapes=(), layer_index=None)
        if vi.name in producer:
            link(producer[vi.name], key, vi.name)
    return g


def _window(node: onnx.NodeProto) -> int | None:
    """Elements of a pooling window (product of ``kernel_shape``), None without one."""
    for a in node.attribute:
        if a.name == "kernel_shape" and a.ints:
            return math.prod(int(k) for k in a.ints)
    return None


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _short(nodes: tuple[str, ...], limit: int = 3) -> str:
    head = ", ".join(nodes[:limit])
    return head + (f", ... {len(nodes) - limit} more" if len(nodes) > limit else "")
