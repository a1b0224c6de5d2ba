"""Unique node (and layer) names, traced back to the PyTorch module where the exporter says.

``torch.onnx.export(..., dynamo=True)`` names nodes ``node_Conv_810``, but records the module
path of each node in its ``metadata_props``: ``pkg.torch.onnx.name_scopes`` (a list such as
``['', 'blocks.0', 'blocks.0.attn', 'blocks.0.attn.qkv', 'linear']``: module paths, then the
FX node) or ``namespace`` (``': Net/blocks.0: Block/.../linear: aten.linear.default'``). A layer
node takes its module path (``blocks.0.attn.qkv``), or ``<module>.<fx node>`` when its module
holds several layer nodes (``blocks.0.attn.matmul``, ``blocks.0.attn.matmul_1``).
"""
from __future__ import annotations

import ast
import collections
from typing import Callable, Iterable

import onnx

#: Metadata values longer than this are not parsed (bounds the work a small file can cause).
_MAX_SCOPE_CHARS = 4096


def module_scope(node: onnx.NodeProto) -> tuple[str, str] | None:
    """(module path, FX node name) recorded by the dynamo exporter, ``None`` if absent."""
    props = {p.key: p.value for p in node.metadata_props}
    raw = props.get("pkg.torch.onnx.name_scopes")
    if raw is not None and len(raw) <= _MAX_SCOPE_CHARS:
        try:
            scopes = ast.literal_eval(raw)  # a literal list of strings, never code
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            scopes = None
        if isinstance(scopes, list) and scopes and all(isinstance(x, str) for x in scopes):
            paths = [x for x in scopes[:-1] if x]
            return (paths[-1] if paths else "", scopes[-1])
    raw = props.get("namespace")
    if raw is not None and len(raw) <= _MAX_SCOPE_CHARS and "/" in raw:
        parts = [p.split(":", 1)[0].strip() for p in raw.split("/")]
        paths = [x for x in parts[:-1] if x]
        return (paths[-1] if paths else "", parts[-1])
    return None


def _clean(text: str) -> str:
    return "".join(ch if ch.isprintable() and ch not in "\n\r\t" else "_" for ch in text)[:200]


def unique_node_names(nodes: Iterable[onnx.NodeProto], *,
                      is_layer: Callable[[onnx.NodeProto], bool]) -> list[str]:
    """One unique name per node, in graph order.

    Layer nodes of a dynamo export take their module path (see module doc); other nodes keep
    their name. Unnamed nodes get ``<op>_<index>``; a name used twice gets ``_<index>`` added.
    """
    nodes = list(nodes)
    scopes = [module_scope(n) if is_layer(n) else None for n in nodes]
    per_module = collections.Counter(s[0] for s in scopes if s is not None and s[0])
    wanted: list[str] = []
    for n, sc in zip(nodes, scopes):
        if sc is None or not (sc[0] or sc[1]):
            wanted.append(n.name)
        elif not sc[0]:
            wanted.append(_clean(sc[1]))
        elif per_module[sc[0]] == 1:
            wanted.append(_clean(sc[0]))
        else:
            wanted.append(_clean(f"{sc[0]}.{sc[1]}" if sc[1] else sc[0]))
    counts = collections.Counter(w for w in wanted if w)
    taken = {w for w in wanted if w}
    out: list[str] = []
    for i, (n, w) in enumerate(zip(nodes, wanted)):
        if w and counts[w] == 1:
            out.append(w)
            continue
        base = f"{w}_{i}" if w else f"{n.op_type.lower()}_{i}"
        name = base
        while name in taken:
            name += "_"
        taken.add(name)
        out.append(name)
    return out
