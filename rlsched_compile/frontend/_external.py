"""Checks on the external-data references of an ONNX model before any of them is opened.

A model can keep tensor data in files next to it (``external_data`` entries with a ``location``).
The model comes from someone else, so a location must not make the tool read a file outside the
model's folder: it must be a relative path without ``..``, and the file it names, symbolic links
resolved, must be a regular file inside the folder. This holds whatever the installed onnx
version does itself (onnx 1.15 followed a symbolic link in the model folder to any file).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterator

import onnx

from ..errors import ModelError


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor of the graph that can hold external data: initializers and node attributes,
    subgraphs included."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _tensors(attr.g)
            for g in attr.graphs:
                yield from _tensors(g)


def external_locations(model: onnx.ModelProto) -> list[tuple[str, str]]:
    """``(tensor name, location)`` of every tensor stored in an external file."""
    out = []
    for t in _tensors(model.graph):
        if t.data_location == onnx.TensorProto.EXTERNAL:
            location = next((e.value for e in t.external_data if e.key == "location"), "")
            out.append((t.name, location))
    return out


def check_external_data(model: onnx.ModelProto, base_dir: str | os.PathLike[str] | None, label: str) -> None:
    """Refuse external-data locations that could read outside the model's folder.

    Args:
        model: the model whose tensors may name external files.
        base_dir: the folder of the model file (None for an in-memory model).
        label: the model's name in messages.

    Raises:
        ModelError: one line naming the tensor and the problem: no location, an absolute path,
            a ``..`` component, a file that is missing or not a regular file, or a path that
            leaves the model folder once symbolic links are resolved.
    """
    refs = external_locations(model)
    if not refs:
        return
    if base_dir is None:
        raise ModelError(f"{label}: tensor {refs[0][0]!r} keeps its data in an external file, which an "
                         "in-memory model cannot reference; load the model from its file")
    root = Path(os.path.realpath(base_dir))
    for name, location in refs:
        why = _problem(root, Path(base_dir), location)
        if why:
            raise ModelError(f"{label}: tensor {name!r}: external data location {location!r} {why}; "
                             "keep external data files inside the model's folder")


def _problem(root: Path, base: Path, location: str) -> str | None:
    if not location or "\x00" in location:
        return "is empty or not a valid path"
    win, posix = PureWindowsPath(location), PurePosixPath(location)
    if posix.is_absolute() or win.is_absolute() or win.drive or location.startswith(("/", "\\")):
        return "is an absolute path"
    if ".." in posix.parts or ".." in win.parts:
        return "goes up with '..'"
    path = base / location
    real = Path(os.path.realpath(path))
    if real != root and root not in real.parents:
        return f"leaves the model folder (it resolves to {str(real)!r}, through a symbolic link)"
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return "names a file that does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    return None
