"""Reading an ONNX model from a path or a ``ModelProto`` and checking its node structure."""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import onnx

from .._graphs import topological_order as kahn_order
from ..errors import ModelError

logger = logging.getLogger(__name__)

#: Default-domain opsets the frontend is tested with.
TESTED_OPSETS = range(9, 24)


@dataclass(frozen=True)
class ModelSource:
    """A parsed model and where it came from.

    Attributes:
        model: the parsed model (external tensor data is not loaded).
        label: how errors name the model (the path, or ``<model 'name'>`` in memory).
        path: the file path, ``None`` for an in-memory model.
        name: file stem or graph name.
        sha256: hex digest of the file bytes (of the serialized proto in memory).
    """

    model: onnx.ModelProto
    label: str
    path: str | None
    name: str
    sha256: str


def read_model(source: str | os.PathLike[str] | onnx.ModelProto) -> ModelSource:
    """Parses a model file (or takes a ``ModelProto``) and checks it looks like an ONNX model.

    Raises:
        ModelError: the file is missing, not a file, empty, not ONNX or truncated.
    """
    if isinstance(source, onnx.ModelProto):
        name = source.graph.name or "model"
        data = source.SerializeToString()
        model, label, path = source, f"<model {name!r}>", None
        sha256 = hashlib.sha256(data).hexdigest()
    else:
        p = Path(source)
        label, path, name = str(p), str(p), p.stem
        if not p.exists():
            raise ModelError(f"{p}: no such file; check the model path")
        if not p.is_file():
            raise ModelError(f"{p}: is not a file; pass the path of an .onnx model file")
        data = p.read_bytes()
        if not data:
            raise ModelError(f"{p}: file is empty; pass an ONNX model exported with weights or "
                             "shapes")
        # Hash while parsing: hashlib releases the GIL, and both take ~0.3 s per 250 MB.
        digest = _Sha256Thread(data)
        try:
            model = onnx.load_model_from_string(data)
        except Exception as exc:  # protobuf DecodeError and friends
            raise ModelError(f"{p}: not an ONNX model or truncated ({first_line(exc)}); "
                             "re-export or re-download the .onnx file") from None
        finally:
            digest.join()
        sha256 = digest.hexdigest
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise ModelError(f"{label}: not an ONNX model (no ir_version, graph or opset_import); "
                         "pass an .onnx file exported by torch.onnx, tf2onnx or similar")
    opset = default_opset(model)
    if opset is not None and opset not in TESTED_OPSETS:
        logger.warning("%s: opset %d is outside the tested range %d-%d", label, opset,
                       TESTED_OPSETS.start, TESTED_OPSETS.stop - 1)
    return ModelSource(model, label, path, name, sha256)


class _Sha256Thread(threading.Thread):
    """sha256 of a byte string, computed in a background thread."""

    def __init__(self, data: bytes) -> None:
        super().__init__(daemon=True)
        self._data = data
        self.hexdigest = ""
        self.start()

    def run(self) -> None:
        self.hexdigest = hashlib.sha256(self._data).hexdigest()


def default_opset(model: onnx.ModelProto) -> int | None:
    """The opset version of the default (``ai.onnx``) domain, ``None`` if not imported."""
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return None


def topological_order(graph: onnx.GraphProto, label: str) -> list[int]:
    """Node indices in a topological order that keeps the file's order where it is valid.

    Raises:
        ModelError: a node reads a tensor nothing provides (a truncated or malformed file), a
            tensor is produced twice, or the graph has a cycle.
    """
    available = {t.name for t in graph.initializer} | {v.name for v in graph.input} | {""}
    available |= {t.values.name for t in graph.sparse_initializer}
    producer: dict[str, int] = {}
    for i, node in enumerate(graph.node):
        for out in node.output:
            if not out:
                continue
            if out in producer or out in available:
                raise ModelError(f"{label}: tensor {out!r} is produced twice (node "
                                 f"{_node_label(node, i)}); the graph is malformed, re-export it")
            producer[out] = i
    deps: list[set[int]] = []
    in_order = True
    for i, node in enumerate(graph.node):
        d: set[int] = set()
        for t in node.input:
            if t in available:
                continue
            j = producer.get(t)
            if j is None:
                raise ModelError(f"{label}: node {_node_label(node, i)} reads tensor {t!r} that no "
                                 "node, initializer or graph input provides; the file is truncated "
                                 "or malformed, re-export it")
            d.add(j)
            in_order = in_order and j < i
        deps.append(d)
    for out in graph.output:
        if out.name not in available and out.name not in producer:
            raise ModelError(f"{label}: graph output {out.name!r} is produced by no node; the file "
                             "is truncated or malformed, re-export it")
    if in_order:
        return list(range(len(graph.node)))
    users: list[list[int]] = [[] for _ in graph.node]
    for i, d in enumerate(deps):
        for j in d:
            users[j].append(i)
    order, stuck_nodes = kahn_order(range(len(graph.node)), users)
    if stuck_nodes:
        stuck = stuck_nodes[0]
        raise ModelError(f"{label}: the graph has a cycle through node "
                         f"{_node_label(graph.node[stuck], stuck)}; re-export the model")
    return order


def _node_label(node: onnx.NodeProto, index: int) -> str:
    return f"{node.name or '#' + str(index)!r} ({node.op_type})"


def first_line(exc: BaseException, limit: int = 160) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."
