"""Bounded reading of the YAML/JSON files users hand the tool: per-layer targets, pipeline targets,
schedule and layer files of ``evaluate``, pipeline graph JSON.

A small file must not cost much: every loader of those files goes through this module, which

* opens only regular files (a FIFO or a device would block or never end) and reads at most
  :data:`MAX_FILE_BYTES` (a target is a few KB; 100 MB took minutes to parse);
* composes YAML with :class:`BoundedSafeLoader`: a safe loader (no Python objects) that refuses
  nesting deeper than :data:`MAX_DEPTH` while composing (before Python's recursion limit is
  near) and a document whose node count **after alias expansion** exceeds :data:`MAX_NODES`
  (a 342-byte "billion laughs" alias bomb expands to 10^9 nodes; it is refused before anything is
  constructed, in microseconds);
* parses JSON with the same depth and node-count limits, refusing the non-standard constants
  ``NaN``, ``Infinity`` and ``-Infinity``.

Each refusal is one :class:`InputLimitError` line saying which limit was hit and how to fix it.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Callable

import yaml

from .errors import RlschedError

#: Largest file read, in bytes (the shipped targets are under 5 KB).
MAX_FILE_BYTES: int = 1 << 20
#: Deepest nesting of mappings/lists (the target schema needs 4 levels).
MAX_DEPTH: int = 32
#: Most nodes (scalars, lists, mappings) in one document after alias expansion.
MAX_NODES: int = 100_000


class InputLimitError(RlschedError):
    """An input file is larger, deeper or expands to more than the tool reads (exit code 2)."""


def read_text(path: str | os.PathLike[str], *, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes`` bytes.

    Args:
        path: the file.
        what: how to name the file in messages (``target file``).
        max_bytes: the size limit.

    Raises:
        FileNotFoundError, OSError, UnicodeDecodeError: as ``Path.read_text`` (callers report them).
        InputLimitError: not a regular file, or larger than ``max_bytes``.
    """
    p = Path(path)
    st = os.stat(p)
    if not stat.S_ISREG(st.st_mode):
        raise InputLimitError(f"{what} {p} is not a regular file (a FIFO, device or folder); "
                              f"give a .yaml/.json file")
    _check_size(st.st_size, p, what, max_bytes)
    with open(p, "rb") as f:  # the size may change between stat and read: read at most one byte more
        data = f.read(max_bytes + 1)
    _check_size(len(data), p, what, max_bytes)
    return data.decode("utf-8")


def _check_size(size: int, path: Path, what: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise InputLimitError(f"{what} {path} is {size:,} bytes, more than the {max_bytes:,} bytes "
                              f"this tool reads; such files are a few KB, check you passed the right one")


def _too_deep(source: str) -> InputLimitError:
    return InputLimitError(f"{source}: nested deeper than {MAX_DEPTH} levels of mappings/lists; "
                           f"flatten the document (the schema needs far fewer)")


def _too_many(source: str, max_nodes: int) -> InputLimitError:
    return InputLimitError(f"{source}: more than {max_nodes:,} nodes (values, lists, mappings) after "
                           f"expanding aliases, more than this tool reads; remove repeated aliases (*name) "
                           f"or check you passed the right file")


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses deep nesting while composing and documents whose
    alias-expanded node count or depth exceed the limits, before constructing anything.

    Attributes:
        source: how messages name the input (set by :func:`load_yaml`).
    """

    source: str = "YAML document"

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _too_deep(self.source)
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()  # type: ignore[no-untyped-call]
        if node is not None:
            _check_node_graph(node, self.source)
        return node


def _check_node_graph(root: yaml.Node, source: str) -> None:
    """Count the nodes and the depth of the document as it would be constructed, aliases expanded.

    Aliases share composed nodes, so the composed graph is a DAG; its expanded size and height are
    computed once per node (linear in the composed graph, however large the expansion).
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in size and not children_done:
            continue
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        if not children_done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        total = 1 + sum(size[id(c)] for c in children)
        depth = 1 + max((height[id(c)] for c in children), default=0)
        if total > MAX_NODES:
            raise _too_many(source, MAX_NODES)
        if depth > MAX_DEPTH:
            raise _too_deep(source)
        size[key], height[key] = total, depth


def load_yaml(text: str, *, source: str, loader: type[BoundedSafeLoader] = BoundedSafeLoader
              ) -> tuple[Any, BoundedSafeLoader]:
    """Parse one YAML document with the limits.

    Args:
        text: the document.
        source: how messages name it (``target file x.yaml``).
        loader: a :class:`BoundedSafeLoader` subclass (duplicate-key checks and the like).

    Returns:
        The data and the (disposed) loader, for subclasses that collect findings.

    Raises:
        yaml.YAMLError: a syntax error (callers report it).
        InputLimitError: a limit was hit.
    """
    ld = loader(text)
    ld.source = source
    try:
        return ld.get_single_data(), ld  # type: ignore[no-untyped-call]
    finally:
        ld.dispose()  # type: ignore[no-untyped-call]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name} (numbers must be finite)")


def load_json(text: str, *, source: str,
              object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
              max_nodes: int = MAX_NODES) -> Any:
    """Parse JSON with the depth and node limits; ``NaN``/``Infinity`` are refused.

    ``max_nodes`` may be raised for inputs that are legitimately large (graph files).

    Raises:
        json.JSONDecodeError, ValueError: a syntax error or a refused constant (callers report it).
        InputLimitError: a limit was hit.
    """
    try:
        data = json.loads(text, object_pairs_hook=object_pairs_hook, parse_constant=_refuse_constant)
    except RecursionError:
        raise _too_deep(source) from None
    check_shape(data, source=source, max_nodes=max_nodes)
    return data


def check_shape(data: Any, *, source: str, max_nodes: int = MAX_NODES) -> None:
    """Refuse plain data (dicts, lists, scalars) nested deeper than :data:`MAX_DEPTH` or holding
    more than :data:`MAX_NODES` nodes, counting shared sub-objects once per reference.

    Raises:
        InputLimitError: a limit was hit.
    """
    nodes = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        obj, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise _too_many(source, max_nodes)
        if depth > MAX_DEPTH:
            raise _too_deep(source)
        if isinstance(obj, dict):
            for k, v in obj.items():
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif isinstance(obj, (list, tuple)):
            stack.extend((v, depth + 1) for v in obj)
