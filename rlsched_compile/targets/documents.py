"""Step 1 of reading any target file, per-layer or pipeline: where the shipped files are, and the
strict, bounded parse of a file into its raw document.

Every target file goes through here: :func:`rlsched_compile._dataload.read_text` (regular file,
size cap) and :class:`StrictLoader` (the bounded safe loader of :mod:`rlsched_compile._dataload`
that records duplicate mapping keys instead of keeping the last one). The schema checks that
follow (:mod:`rlsched_compile.targets.schema` for per-layer targets,
:mod:`rlsched_compile.targets.pipeline` for pipeline targets) start from these raw documents.

Shipped targets live in ``accelerators/`` at the repository root. Installed (non-editable)
copies of the package carry them as package data under ``rlsched_compile/targets/_shipped``
(a symbolic link to ``../../accelerators`` in the source tree, which setuptools copies as
regular files into wheels and sdists).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from .._dataload import BoundedSafeLoader, load_json, load_yaml, read_text
from ..errors import TargetError
from .schema import show

#: File suffixes a target file may have.
SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json")

_HERE = Path(__file__).resolve().parent


def shipped_dir() -> Path:
    """The folder holding the shipped target files.

    Returns:
        ``rlsched_compile/targets/_shipped`` when it is a folder (installed package, or a
        checkout where the symbolic link works), else ``accelerators/`` of the checkout.
    """
    packaged = _HERE / "_shipped"
    if packaged.is_dir():
        return packaged
    return _HERE.parents[1] / "accelerators"


def shipped_files() -> dict[str, Path]:
    """Shipped target files by name (file stem), whatever their schema."""
    folder = shipped_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p.resolve() for p in sorted(folder.iterdir())
            if p.suffix in SUFFIXES and p.is_file()}


def looks_like_path(text: str) -> bool:
    """Whether a ``--target`` value is meant as a file path rather than a shipped name."""
    return (os.sep in text or (os.altsep is not None and os.altsep in text)
            or Path(text).suffix.lower() in SUFFIXES)


@dataclass(frozen=True)
class DuplicateKey:
    """A mapping key given twice in one YAML mapping.

    Attributes:
        key: the key.
        line: 1-based line of the repeated key.
        first_line: 1-based line where the key was first given.
        mark: the parser's position of the repeated key (for messages in PyYAML's own form).
    """

    key: Any
    line: int
    first_line: int
    mark: Any

    def __str__(self) -> str:
        return f"line {self.line}: duplicate key {show(self.key)} (first given at line {self.first_line})"


class StrictLoader(BoundedSafeLoader):
    """The bounded safe loader, recording duplicate mapping keys instead of keeping the last one.

    Attributes:
        duplicate_keys: the repeated keys found, in construction order.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[DuplicateKey] = []

    @property
    def duplicates(self) -> list[str]:
        """The repeated keys as problem lines (``line N: duplicate key "k" (first given at line M)``)."""
        return [str(d) for d in self.duplicate_keys]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    self.duplicate_keys.append(DuplicateKey(key, line, seen[key], key_node.start_mark))
                else:
                    seen[key] = line
            except TypeError:  # unhashable key; construct_mapping below reports it
                pass
        return super().construct_mapping(node, deep=deep)


class Yaml12Loader(StrictLoader):
    """:class:`StrictLoader` reading YAML 1.2 floats such as ``6e-7`` (YAML 1.1 would make them
    strings). Per-layer targets and sweep files are read with it; pipeline targets with the plain
    :class:`StrictLoader` (their schema tells the user to write ``2.0e+12``)."""


Yaml12Loader.add_implicit_resolver(  # type: ignore[no-untyped-call]
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse(text: str, *, path: Path) -> tuple[Any, list[str]]:
    """The raw document of a target file and the duplicate-key problems found while parsing.

    A ``.json`` file is read as JSON, any other as YAML 1.2 (:class:`Yaml12Loader`).

    Args:
        text: the file's text.
        path: the file (its suffix picks the parser; messages name it).

    Returns:
        The document and one ``line N: duplicate key ...`` (JSON: ``duplicate key ...``) problem
        per repeated key.

    Raises:
        TargetError: not valid JSON/YAML (one line with the position).
        InputLimitError: deeper or larger than the bounded loader reads.
    """
    if path.suffix == ".json":
        duplicates: list[str] = []

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for k, v in items:
                if k in out:
                    duplicates.append(f"duplicate key {show(k)}")
                out[k] = v
            return out

        try:
            return load_json(text, source=f"target file {path}", object_pairs_hook=pairs), duplicates
        except json.JSONDecodeError as e:
            raise TargetError(f"target file {path} is not valid JSON: {e.msg} at line {e.lineno} "
                              f"column {e.colno}; fix the syntax") from None
        except ValueError as e:  # NaN/Infinity, or an integer too long to convert
            raise TargetError(f"target file {path} is not valid JSON: {e}; fix the value") from None
    try:
        raw, loader = load_yaml(text, source=f"target file {path}", loader=Yaml12Loader)
    except ValueError as e:  # an integer too long to convert (int_max_str_digits)
        raise TargetError(f"target file {path}: {str(e).splitlines()[0]}; fix the value") from None
    except yaml.YAMLError as e:
        where = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1} column {mark.column + 1}"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise TargetError(f"target file {path} is not valid YAML: {problem}{where}; "
                          f"fix the syntax") from None
    assert isinstance(loader, StrictLoader)
    return raw, loader.duplicates


def shipped_documents() -> dict[str, Any]:
    """Every shipped target file, parsed but not validated, by name; unreadable files are left out."""
    docs: dict[str, Any] = {}
    for name, path in shipped_files().items():
        try:
            docs[name], _ = parse(path.read_text(encoding="utf-8"), path=path)
        except (OSError, UnicodeDecodeError, TargetError):
            continue
    return docs


def schema_of(path: Path) -> Any:
    """The ``schema`` value of a target file; None when unreadable or absent."""
    try:
        raw, _ = parse(read_text(path, what="target file"), path=path)
    except (OSError, UnicodeDecodeError, TargetError):
        return None
    return raw.get("schema") if isinstance(raw, Mapping) else None
