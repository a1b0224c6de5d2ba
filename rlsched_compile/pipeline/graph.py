"""The operator graph the pipeline pass partitions, and its two inputs.

* The JSON graph format (graphs from other toolchains, e.g. TFLite)::

      {"nodes": [{"id": 0, "op": "CONV_2D", "macs": 118013952, "param_bytes": 9664,
                  "out_bytes": 802816}, ...],
       "edges": [[0, 1], ...]}

  ``id`` is an integer; an edge ``u -> v`` means v consumes u's output; extra fields are ignored.
  An optional ``in_bytes`` on a node gives the bytes it reads from the host (graph inputs; 0 when
  absent). Nodes without predecessors are the graph inputs; nodes without successors send their
  output to the host.
* ONNX models, through the frontend's operator graph (:func:`graph_from_operator_graph`).

Nodes are renumbered 0..n-1 in one deterministic topological order (Kahn's algorithm, smallest
original id first), the *execution order*: every edge goes from a lower to a higher index.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .._dataload import load_json, read_text
from .._graphs import topological_order
from ..errors import PipelineError

logger = logging.getLogger(__name__)

#: Largest graph JSON file read, in bytes, and most values in it (graphs of thousands of operators).
GRAPH_MAX_BYTES: int = 64 << 20
GRAPH_MAX_NODES: int = 5_000_000


@dataclass(frozen=True, eq=False)
class PipelineGraph:
    """A DAG of operators in execution order (index i is the i-th operator to run).

    Attributes:
        name: graph name (file stem).
        ids: original node id (JSON) or position (ONNX) of each index.
        ops: operator type of each node.
        names: operator name of each node.
        macs: multiply-accumulates of each node.
        param_bytes: parameter bytes of each node.
        out_bytes: bytes of each node's output tensor(s).
        in_bytes: bytes each node reads from the host (graph inputs).
        edges: (u, v) index pairs, u < v, sorted, without duplicates.
    """

    name: str
    ids: tuple[int, ...]
    ops: tuple[str, ...]
    names: tuple[str, ...]
    macs: tuple[int, ...]
    param_bytes: tuple[int, ...]
    out_bytes: tuple[int, ...]
    in_bytes: tuple[int, ...]
    edges: tuple[tuple[int, int], ...]

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.ids)

    @cached_property
    def preds(self) -> tuple[tuple[int, ...], ...]:
        """Predecessor indices of each node, ascending."""
        out: list[list[int]] = [[] for _ in range(self.n)]
        for u, v in self.edges:
            out[v].append(u)
        return tuple(tuple(p) for p in out)

    @cached_property
    def succs(self) -> tuple[tuple[int, ...], ...]:
        """Successor indices of each node, ascending."""
        out: list[list[int]] = [[] for _ in range(self.n)]
        for u, v in self.edges:
            out[u].append(v)
        return tuple(tuple(s) for s in out)

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """float64 arrays ``macs``, ``param_bytes``, ``out_bytes``, ``in_bytes`` (read-only)."""
        arrs = {key: np.asarray(getattr(self, key), dtype=np.float64)
                for key in ("macs", "param_bytes", "out_bytes", "in_bytes")}
        for arr in arrs.values():
            arr.flags.writeable = False
        return arrs

    @cached_property
    def edge_array(self) -> np.ndarray:
        """The edges as an int64 array of shape (m, 2) (read-only)."""
        arr = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        arr.flags.writeable = False
        return arr

    @cached_property
    def asap_level(self) -> tuple[int, ...]:
        """Longest-path depth of each node from the graph inputs (inputs are level 0)."""
        level = [0] * self.n
        for v in range(self.n):
            for u in self.preds[v]:
                level[v] = max(level[v], level[u] + 1)
        return tuple(level)

    def is_chain_like(self) -> bool:
        """True when the execution order is the only topological order (every valid stage
        assignment then cuts it into contiguous segments)."""
        edge_set = set(self.edges)
        return all((i, i + 1) in edge_set for i in range(self.n - 1))

    def to_json_dict(self) -> dict[str, Any]:
        """The graph in the JSON graph format (original ids)."""
        nodes = [{"id": self.ids[i], "op": self.ops[i], "name": self.names[i], "macs": self.macs[i],
                  "param_bytes": self.param_bytes[i], "out_bytes": self.out_bytes[i],
                  "in_bytes": self.in_bytes[i]} for i in range(self.n)]
        return {"nodes": nodes, "edges": [[self.ids[u], self.ids[v]] for u, v in self.edges]}


def _fail(source: str, what: str) -> PipelineError:
    return PipelineError(f"{source}: {what}")


def _nonneg_int(value: Any, *, source: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
            or not float(value).is_integer() or value < 0:
        raise _fail(source, f"{where} must be a non-negative integer, got {value!r}")
    return int(value)


def build_graph(*, name: str, nodes: Sequence[dict[str, Any]], edges: Iterable[Sequence[Any]],
                source: str) -> PipelineGraph:
    """Validate nodes and edges given with original ids and renumber them in execution order.

    Args:
        name: graph name.
        nodes: dicts with ``id`` (int), ``macs``, ``param_bytes``, ``out_bytes`` (non-negative
            integers), optional ``op``, ``name`` and ``in_bytes``.
        edges: ``[u, v]`` pairs of original ids.
        source: file name for error messages.

    Raises:
        PipelineError: no nodes, bad ids, duplicate ids, unknown ids in edges, self loops, cycles,
            missing or negative sizes.
    """
    if not nodes:
        raise _fail(source, "the graph has no nodes; give at least one node in \"nodes\"")
    index: dict[int, int] = {}
    for pos, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise _fail(source, f"nodes[{pos}] must be an object, got {type(node).__name__}")
        nid = node.get("id")
        if isinstance(nid, bool) or not isinstance(nid, int):
            raise _fail(source, f"nodes[{pos}].id must be an integer, got {nid!r}")
        if nid in index:
            raise _fail(source, f"duplicate node id {nid} (nodes[{index[nid]}] and nodes[{pos}]); "
                                "give every node its own id")
        index[nid] = pos
        for key in ("macs", "param_bytes", "out_bytes"):
            if key not in node:
                raise _fail(source, f"nodes[{pos}] (id {nid}) has no {key!r}; every node needs "
                                    "macs, param_bytes and out_bytes")
            _nonneg_int(node[key], source=source, where=f"nodes[{pos}].{key}")
        if "in_bytes" in node:
            _nonneg_int(node["in_bytes"], source=source, where=f"nodes[{pos}].in_bytes")
    succ: dict[int, set[int]] = {nid: set() for nid in index}
    for e_pos, edge in enumerate(edges):
        if not isinstance(edge, (list, tuple)) or len(edge) != 2:
            raise _fail(source, f"edges[{e_pos}] must be a pair [u, v], got {edge!r}")
        u, v = edge
        for end in (u, v):
            if isinstance(end, bool) or not isinstance(end, int):
                raise _fail(source, f"edges[{e_pos}] = {list(edge)!r}: node ids must be integers")
            if end not in index:
                raise _fail(source, f"edges[{e_pos}] = {[u, v]!r} names unknown node id {end}; "
                                    "every edge end must be a node id")
        if u == v:
            raise _fail(source, f"edges[{e_pos}] = {[u, v]!r} is a self loop; the graph must be acyclic")
        succ[u].add(v)
    # smallest original id first: the execution order
    order, stuck = topological_order(index, succ)
    if stuck:
        shown = ", ".join(str(x) for x in stuck[:8]) + (" ..." if len(stuck) > 8 else "")
        raise _fail(source, f"the graph has a cycle through node ids {shown}; "
                            "edges must form a DAG")
    new = {nid: i for i, nid in enumerate(order)}
    ordered = [nodes[index[nid]] for nid in order]
    new_edges = sorted((new[u], new[v]) for u in succ for v in succ[u])
    return PipelineGraph(
        name=name,
        ids=tuple(order),
        ops=tuple(str(nd.get("op", "op")) for nd in ordered),
        names=tuple(str(nd.get("name", f"n{nd['id']}")) for nd in ordered),
        macs=tuple(int(nd["macs"]) for nd in ordered),
        param_bytes=tuple(int(nd["param_bytes"]) for nd in ordered),
        out_bytes=tuple(int(nd["out_bytes"]) for nd in ordered),
        in_bytes=tuple(int(nd.get("in_bytes", 0)) for nd in ordered),
        edges=tuple(new_edges),
    )


def load_graph_json(path: str | Path) -> PipelineGraph:
    """Read a graph in the JSON graph format (see module doc).

    Raises:
        PipelineError: unreadable file, not JSON, or an invalid graph.
    """
    path = Path(path)
    source = path.name
    try:
        raw = load_json(read_text(path, what="graph file", max_bytes=GRAPH_MAX_BYTES), source=f"graph file {path}",
                        max_nodes=GRAPH_MAX_NODES)
    except OSError as exc:
        raise _fail(str(path), f"cannot read the graph ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise _fail(source, f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:  # NaN/Infinity, integer too long, not UTF-8
        raise _fail(source, f"not valid JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nodes"), list) \
            or not isinstance(raw.get("edges", []), list):
        raise _fail(source, "expected an object with a \"nodes\" list and an \"edges\" list")
    return build_graph(name=path.stem, nodes=raw["nodes"], edges=raw.get("edges", []), source=source)


def graph_from_operator_graph(op_graph: Any, *, name: str, data_type_bytes: int | None = None) -> PipelineGraph:
    """Convert the frontend's operator graph (networkx DiGraph) into a :class:`PipelineGraph`.

    Node attributes ``op_type``, ``macs``, ``param_bytes`` and edge attributes ``bytes`` and
    ``shape`` are read. ``Input`` nodes become the ``in_bytes`` of their consumers and ``Output``
    nodes are dropped (their producers send to the host). A node's ``out_bytes`` is the largest
    ``bytes`` of its out-edges (unknown sizes count 0). With ``data_type_bytes``, every byte count
    is rescaled from the model's element size (found from the edges' shapes and bytes; e.g. a
    float32 model costed for an int8 chip shrinks 4x).

    Raises:
        PipelineError: the operator graph has no operator, or has a cycle.
    """
    def edge_bytes(u: Any, v: Any) -> float:
        b = op_graph.edges[u, v].get("bytes")
        return float(b) if b is not None else 0.0

    itemsizes = []
    for u, v, attrs in op_graph.edges(data=True):
        shape, b = attrs.get("shape"), attrs.get("bytes")
        if shape and b and len(attrs.get("tensors", (0,))) == 1 and all(isinstance(d, int) for d in shape):
            elems = 1
            for d in shape:
                elems *= d
            if elems:
                itemsizes.append(round(b / elems))
    source_itemsize = max(set(itemsizes), key=lambda x: (itemsizes.count(x), -x)) if itemsizes else 0
    scale = data_type_bytes / source_itemsize if data_type_bytes and source_itemsize else 1.0
    kind = {key: str(op_graph.nodes[key].get("op_type", "op")) for key in op_graph.nodes}
    keys = [key for key in op_graph.nodes if kind[key] not in ("Input", "Output")]
    ident = {key: i for i, key in enumerate(keys)}
    nodes: list[dict[str, Any]] = []
    for i, key in enumerate(keys):
        attrs = op_graph.nodes[key]
        outs = [edge_bytes(key, w) for w in op_graph.successors(key)]
        ins = [edge_bytes(u, key) for u in op_graph.predecessors(key) if kind[u] == "Input"]
        nodes.append({
            "id": i, "op": kind[key], "name": str(attrs.get("name", key)),
            "macs": int(attrs.get("macs") or 0),
            "param_bytes": int(round((attrs.get("param_bytes") or 0) * scale)),
            "out_bytes": int(round(max(outs, default=0.0) * scale)),
            "in_bytes": int(round(sum(ins) * scale)),
        })
    edges = [[ident[u], ident[v]] for u, v in op_graph.edges if u in ident and v in ident]
    if not nodes:
        raise PipelineError(f"{name}: the model has no operator to place on a pipeline stage")
    return build_graph(name=name, nodes=nodes, edges=edges, source=name)


def load_graph(path: str | Path, *, data_type_bytes: int | None = None) -> PipelineGraph:
    """Load ``GRAPH.json`` or ``MODEL.onnx`` (through the frontend) as a :class:`PipelineGraph`.

    Raises:
        PipelineError: unknown suffix or invalid graph. ModelError: the frontend cannot read the model.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return load_graph_json(path)
    if suffix == ".onnx":
        from .. import frontend  # noqa: PLC0415  (heavy: onnx)
        load_network = getattr(frontend, "load_network", None)
        if load_network is None:
            raise PipelineError(f"{path.name}: ONNX input needs rlsched_compile.frontend.load_network, "
                                "which this installation lacks; export the graph to the JSON format")
        network = load_network(path, batch=1)
        return graph_from_operator_graph(network.graph, name=path.stem, data_type_bytes=data_type_bytes)
    raise PipelineError(f"{path.name}: unknown graph format {suffix or '(no suffix)'!r}; "
                        "give a .onnx model or a .json graph")
