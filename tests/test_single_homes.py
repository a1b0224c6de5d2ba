"""The scheduling table's row layout and the objective lookup are each defined once (issue 12).

The checks read the package source with :mod:`ast` (nothing is imported or run), as
``test_package_structure.py`` does:

* objective: no dict keyed by two or more objective names (the old ``{"energy": e, "cycles": c,
  "edp": e * c}[objective]`` dispatch), no comparison of anything with an objective name, and the
  name ``"energy"`` (the one objective name that is no report figure) written nowhere but
  ``objective.py``; the C codes ``RLS_OBJ_*`` read only where the C code mapping lives;
* table: no row name, no ``(10, 8)`` shape, no table subscripted with a literal row index, no
  literal pairing a row index with a level, and no ``writable_rows`` defined anywhere but
  ``table.py`` (and its C mirror's wrapper in ``native/search.py``).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rlsched_compile"
OBJECTIVE_NAMES = {"energy", "cycles", "edp"}
ROW_LABELS = {"Register", "MAC(X)", "MAC(Y)", "LocalBuffer", "PE(X)", "PE(Y)", "GlobalBuffer", "Chip(X)", "Chip(Y)"}
LEVELS = {"mac_array", "local_buffer", "pe_array", "global_buffer", "chip_array", "dram"}
#: The pipeline pass has its own targets and figures (no scheduling table, no objective).
EXCLUDED = ("pipeline",)


def _sources(root: Path) -> list[tuple[str, ast.AST]]:
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in EXCLUDED:
            continue
        out.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))
    return out


def _str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _small_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value <= 9


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and _str(first.value) is not None:
                ids.add(id(first.value))
    return ids


def _nodes(rel: str, tree: ast.AST) -> Iterator[tuple[ast.AST, str, bool]]:
    """Every node of a module with its place (``path:line``) and whether it is a docstring."""
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        yield node, f"{rel}:{getattr(node, 'lineno', '?')}", id(node) in docs


def objective_offences(rel: str, tree: ast.AST) -> list[str]:
    """Where a module re-encodes the objective lookup (empty for ``objective.py``)."""
    if rel == "objective.py":
        return []
    found = []
    for node, where, is_doc in _nodes(rel, tree):
        if isinstance(node, ast.Dict):
            keys = {_str(k) for k in node.keys if k is not None} & OBJECTIVE_NAMES
            if len(keys) >= 2:
                found.append(f"{where}: a dict keyed by objective names {sorted(keys)}")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            names = [_str(s) for s in sides if _str(s) in OBJECTIVE_NAMES]
            others = [ast.unparse(s) for s in sides if _str(s) is None]
            if names and any("objective" in o for o in others):
                found.append(f"{where}: compares an objective with {names[0]!r}")
        elif _str(node) == "energy" and not is_doc:
            found.append(f"{where}: the objective name 'energy' written out")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("RLS_OBJ_") and rel != "native/costmodel.py":
            found.append(f"{where}: the C objective code {node.attr} outside native/costmodel.py")
    return found


def row_offences(rel: str, tree: ast.AST) -> list[str]:
    """Where a module re-encodes the table's row layout (empty for ``table.py``)."""
    if rel == "table.py":
        return []
    found = []
    for node, where, is_doc in _nodes(rel, tree):
        if _str(node) in ROW_LABELS and not is_doc:
            found.append(f"{where}: the row name {_str(node)!r} written out")
        elif isinstance(node, ast.Tuple) and [getattr(e, "value", None) for e in node.elts] == [10, 8]:
            found.append(f"{where}: the table shape (10, 8) written out")
        elif isinstance(node, ast.Subscript) and "table" in ast.unparse(node.value).lower() \
                and not (isinstance(node.value, ast.Attribute) and node.value.attr == "shape"):
            index = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
            if _small_int(index):
                found.append(f"{where}: a table row indexed by the number {index.value}")  # type: ignore[attr-defined]
        elif isinstance(node, (ast.Tuple, ast.List)) and any(_small_int(e) for e in node.elts) \
                and any(_str(e) in LEVELS for e in node.elts):
            found.append(f"{where}: a row index paired with a level")
        elif isinstance(node, ast.Dict) and any(k is not None and _small_int(k) for k in node.keys) \
                and any(_str(v) in LEVELS or isinstance(v, ast.Tuple) and any(_str(e) in LEVELS for e in v.elts)
                        for v in node.values):
            found.append(f"{where}: a dict from row indices to levels")
        elif isinstance(node, ast.FunctionDef) and node.name == "writable_rows" and rel != "native/search.py":
            found.append(f"{where}: writable_rows defined again")
        elif isinstance(node, ast.Assign) and _small_int(node.value) and any(
                isinstance(t, ast.Name) and t.id.endswith("_ROW") for t in node.targets):
            found.append(f"{where}: a row index constant")
    return found


def test_objective_lookup_is_defined_once() -> None:
    found = [o for rel, tree in _sources(PACKAGE) for o in objective_offences(rel, tree)]
    found += [f"bench/{o}" for rel, tree in _sources(ROOT / "bench")
              for o in objective_offences(rel, tree) if "dict keyed" in o]
    assert not found, "use rlsched_compile.objective.Objective instead:\n" + "\n".join(found)


def test_row_layout_is_defined_once() -> None:
    found = [o for rel, tree in _sources(PACKAGE) for o in row_offences(rel, tree)]
    assert not found, "use rlsched_compile.table (Row, ROW_NAMES, writable_rows...) instead:\n" + "\n".join(found)


@pytest.mark.parametrize("check, source, offence", [
    (objective_offences, 'def f(objective, e, c):\n    return {"energy": e, "cycles": c, "edp": e * c}[objective]\n',
     "dict keyed"),
    (objective_offences, 'def f(objective):\n    return objective == "edp"\n', "compares an objective"),
    (objective_offences, 'OBJECTIVES = ("energy", "cycles", "edp")\n', "'energy' written out"),
    (objective_offences, "def f(lib):\n    return lib.RLS_OBJ_EDP\n", "RLS_OBJ_EDP"),
    (row_offences, 'NAMES = ("Register", "MAC(X)")\n', "row name 'Register'"),
    (row_offences, "import numpy as np\nt = np.ones((10, 8))\n", "shape (10, 8)"),
    (row_offences, "def f(table):\n    return table[9, 0] * table[3][1]\n", "indexed by the number 9"),
    (row_offences, 'ROWS = {1: ("mac_array", "x")}\n', "row indices to levels"),
    (row_offences, 'ROWS = ((9, "dram"), (3, "local_buffer"))\n', "paired with a level"),
    (row_offences, "def writable_rows(target):\n    return ()\n", "writable_rows defined again"),
    (row_offences, "DRAM_ROW = 9\n", "row index constant"),
])
def test_the_checks_see_a_re_encoding(check: Callable[[str, ast.AST], list[str]], source: str, offence: str) -> None:
    found = check("search/x.py", ast.parse(source))
    assert found and offence in found[0], found
