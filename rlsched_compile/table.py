"""The scheduling table: its rows, the target levels they belong to, and the table value.

A scheduling table has one row per loop level of the accelerator, innermost first (spec §2.2),
and one column per loop parameter (:data:`~rlsched_compile.layer.PARAMS`: K, B, P, Q, C, R, S, G;
K and C per group). Each entry is the factor of that loop at that level; every column multiplies
to the layer's parameter. The C library (``c/include/rls.h``) uses the same layout: row-major
``int64_t[RLS_ROWS * RLS_COLS]``.

This module is the one place that says which row is which: :class:`Row` gives each row its
index, its name in files, the target level it belongs to (:attr:`Row.level`, an attribute of
:class:`~rlsched_compile.targets.model.Target`) and its axis (temporal, or spatial X / Y).
Everything else derives the rows from it.

Row sets of a target (bool masks, or rows ascending):

* :func:`present_rows`: rows of levels the target has (both axes of a present array, even one of
  size 1; never the Register row) - where a factor may stand at all, valid or not (the property
  tests draw random tables over these, so that the array-size rules get exercised too);
* :func:`writable_rows`: rows a search may put a factor > 1 in - every present temporal level
  (local buffer, global buffer, DRAM) and each spatial axis of size > 1 (a factor > 1 on an axis
  of size 1 can never be valid). The C searches use the same set (``rls__writable_rows`` in
  ``c/src/factor.c``, exposed as ``rls_writable_rows``; a test checks they agree);
* :func:`fixed_rows`: temporal rows whose level has a ``fixed_mapping``.

:class:`SchedulingTable` is the frozen table value, with the conversions to and from the C layout
(:meth:`~SchedulingTable.to_array`, an int64 array of shape (10, 8)) and the file forms
(:meth:`~SchedulingTable.to_dict` / :meth:`~SchedulingTable.from_dict`).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import numpy as np

from .errors import TableError
from .layer import PARAMS

if TYPE_CHECKING:
    from .targets.model import Target


class Axis(enum.Enum):
    """How a row's factors are laid out: in time (a loop) or over one axis of a spatial array."""

    TEMPORAL = "temporal"
    X = "x"
    Y = "y"


class Row(enum.IntEnum):
    """The rows of a scheduling table, innermost first; the value is the row index.

    Attributes:
        label: the row's name in files and reports (``LocalBuffer``, ``PE(X)``...).
        level: the :class:`~rlsched_compile.targets.model.Target` attribute of the level the row
            belongs to (``mac_array``, ``local_buffer``...); None for the Register row.
        axis: :attr:`Axis.TEMPORAL`, or the spatial axis (:attr:`Axis.X`, :attr:`Axis.Y`).
    """

    label: str
    level: str | None
    axis: Axis

    def __new__(cls, index: int, label: str, level: str | None, axis: Axis) -> "Row":
        obj = int.__new__(cls, index)
        obj._value_ = index
        obj.label = label
        obj.level = level
        obj.axis = axis
        return obj

    REGISTER = (0, "Register", None, Axis.TEMPORAL)
    MAC_X = (1, "MAC(X)", "mac_array", Axis.X)
    MAC_Y = (2, "MAC(Y)", "mac_array", Axis.Y)
    LOCAL_BUFFER = (3, "LocalBuffer", "local_buffer", Axis.TEMPORAL)
    PE_X = (4, "PE(X)", "pe_array", Axis.X)
    PE_Y = (5, "PE(Y)", "pe_array", Axis.Y)
    GLOBAL_BUFFER = (6, "GlobalBuffer", "global_buffer", Axis.TEMPORAL)
    CHIP_X = (7, "Chip(X)", "chip_array", Axis.X)
    CHIP_Y = (8, "Chip(Y)", "chip_array", Axis.Y)
    DRAM = (9, "DRAM", "dram", Axis.TEMPORAL)

    @property
    def spatial(self) -> bool:
        """Whether the row spreads its factors over an array axis (``parallel_for``)."""
        return self.axis is not Axis.TEMPORAL

    @classmethod
    def by_label(cls, label: str) -> "Row":
        """The row named ``label``; KeyError for an unknown name."""
        return _BY_LABEL[label]


_BY_LABEL: dict[str, Row] = {r.label: r for r in Row}
#: Rows of the table, innermost first.
ROWS: tuple[Row, ...] = tuple(Row)
#: Row names in row order (spec §2.2).
ROW_NAMES: tuple[str, ...] = tuple(r.label for r in Row)
#: Rows that hold a level's own factors (the buffers and DRAM), innermost first.
TEMPORAL_LEVEL_ROWS: tuple[Row, ...] = (Row.LOCAL_BUFFER, Row.GLOBAL_BUFFER, Row.DRAM)
N_ROWS: int = len(ROWS)
N_COLS: int = len(PARAMS)

Table = tuple[tuple[int, ...], ...]


def level_present(target: "Target", row: Row) -> bool:
    """Whether ``target`` has the level ``row`` belongs to (never for the Register row)."""
    return row.level is not None and getattr(target, row.level) is not None


def spatial_size(target: "Target", row: Row) -> int:
    """Size of a spatial row's axis on ``target`` (1 when the array is absent)."""
    assert row.spatial, f"{row.label} is not a spatial row"
    lv = getattr(target, row.level)  # type: ignore[arg-type]
    return 1 if lv is None else int(lv.x if row.axis is Axis.X else lv.y)


def is_writable(target: "Target", row: Row) -> bool:
    """Whether a search may put a factor > 1 in ``row`` (see the module doc)."""
    if row.spatial:
        return spatial_size(target, row) > 1
    return level_present(target, row)


def writable_rows(target: "Target") -> tuple[Row, ...]:
    """The rows a search may write, ascending (see the module doc)."""
    return tuple(r for r in ROWS if is_writable(target, r))


def writable_mask(target: "Target") -> np.ndarray:
    """:func:`writable_rows` as bool[10]."""
    return np.array([is_writable(target, r) for r in ROWS], dtype=bool)


def present_rows(target: "Target") -> tuple[Row, ...]:
    """Rows of levels present in the target, ascending (see the module doc)."""
    return tuple(r for r in ROWS if level_present(target, r))


def present_mask(target: "Target") -> np.ndarray:
    """:func:`present_rows` as bool[10]."""
    return np.array([level_present(target, r) for r in ROWS], dtype=bool)


def fixed_mask(target: "Target") -> np.ndarray:
    """Temporal rows whose level has a fixed mapping (bool[10])."""
    out = np.zeros(N_ROWS, dtype=bool)
    for r in TEMPORAL_LEVEL_ROWS:
        lv = getattr(target, r.level)  # type: ignore[arg-type]
        out[r] = lv is not None and lv.fixed_mapping is not None
    return out


def ones_array() -> np.ndarray:
    """A table of ones (every loop of size 1), int64 of shape (10, 8), to fill in."""
    return np.ones((N_ROWS, N_COLS), dtype=np.int64)


def dram_only_array(per_group: Sequence[int]) -> np.ndarray:
    """Every factor in the DRAM row (the paper's start table), int64 of shape (10, 8)."""
    table = ones_array()
    table[Row.DRAM] = per_group
    return table


def rows_from_records(records: Sequence[Any]) -> list[Any]:
    """The ``values`` of the row records ``[{"row": NAME, "values": [...]}, ...]`` (the golden
    vectors' form, the ``rows`` of a schedule file), rows in :data:`ROW_NAMES` order.

    Raises:
        TableError: the names are not the rows in order, or a record has no ``values``.
    """
    names = [r.get("row") if isinstance(r, Mapping) else None for r in records]
    if names != list(ROW_NAMES):
        raise TableError(f"table rows must be {list(ROW_NAMES)} in this order, got {names}")
    missing = [r["row"] for r in records if "values" not in r]
    if missing:
        raise TableError(f"table row {missing[0]!r} has no `values`: give each row as "
                         f"{{row: NAME, values: [8 integers]}}")
    return [r["values"] for r in records]


@dataclass(frozen=True)
class SchedulingTable:
    """One scheduling table: 10 rows x 8 Python ints, rows in :class:`Row` order, columns in
    :data:`~rlsched_compile.layer.PARAMS` order (K and C per group).

    Indexing by row (``table[Row.DRAM]``, ``table[9]``) gives that row's tuple; iteration gives
    the rows; ``np.asarray(table)`` the C layout. Building one checks only the shape: the entry
    rule (integers >= 1) and the cost model's validity are the C model's to judge.
    """

    rows: Table

    def __post_init__(self) -> None:
        if len(self.rows) != N_ROWS or any(len(r) != N_COLS for r in self.rows):
            raise TableError(f"table must be {N_ROWS} rows x {N_COLS} columns ({', '.join(PARAMS)})")

    @classmethod
    def from_array(cls, table: Any) -> "SchedulingTable":
        """From the C layout (an int array of shape (10, 8)) or any 10 x 8 nesting of ints."""
        if isinstance(table, SchedulingTable):
            return table
        return cls(tuple(tuple(int(v) for v in row) for row in np.asarray(table, dtype=np.int64)))

    def to_array(self) -> np.ndarray:
        """The C layout: a C-contiguous int64 array of shape (10, 8) (a new, writable copy)."""
        return np.array(self.rows, dtype=np.int64)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.to_array()
        return arr if dtype is None else arr.astype(dtype)

    def to_lists(self) -> list[list[int]]:
        """10 lists of 8 ints (the cache entries' form)."""
        return [list(r) for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """The ``table`` object of a schedule file: ``{"columns": [K..G], "rows": [{"row": NAME,
        "values": [8 ints]}, ...]}``."""
        return {"columns": list(PARAMS),
                "rows": [{"row": r.label, "values": list(self.rows[r])} for r in ROWS]}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | Sequence[Any]) -> "SchedulingTable":
        """From :meth:`to_dict`'s form or its bare ``rows`` list (the golden vectors' form).

        Raises:
            TableError: wrong row names or order, a row without ``values``, wrong shape.
        """
        records = doc.get("rows") if isinstance(doc, Mapping) else doc
        if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
            raise TableError("a table needs `rows`: [{row: NAME, values: [8 integers]}, ...]")
        return cls.from_array(rows_from_records(records))

    def __getitem__(self, row: int) -> tuple[int, ...]:
        return self.rows[row]

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return N_ROWS
