"""The scheduling table module: rows, row sets of a target (agreeing with the C library's), and the
table value's conversions."""
from __future__ import annotations

import dataclasses
import glob
import json
from pathlib import Path

import numpy as np
import pytest

from rlsched_compile.errors import TableError
from rlsched_compile.layer import PARAMS
from rlsched_compile.native import search as native_search
from rlsched_compile.native.costmodel import as_table
from rlsched_compile.table import (ROW_NAMES, ROWS, Axis, Row, SchedulingTable, dram_only_array, fixed_mask,
                                   present_mask, present_rows, writable_mask, writable_rows)
from rlsched_compile.targets import load_target
from rlsched_compile.targets.model import SpatialLevel, Target

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _targets() -> list[Target]:
    base = [load_target(n) for n in ("eyeriss", "eyeriss_v2", "tpu_v3", "simba")]
    base += [load_target(p) for p in sorted(glob.glob(str(SHARED / "golden" / "targets" / "*.json")))]
    simba = load_target("simba")
    # axes of size 1, absent arrays and an absent global buffer: where the row sets differ
    base += [dataclasses.replace(simba, mac_array=SpatialLevel(1, 8), pe_array=SpatialLevel(4, 1), chip_array=None),
             dataclasses.replace(simba, mac_array=SpatialLevel(1, 1), global_buffer=None),
             dataclasses.replace(simba, mac_array=None, pe_array=SpatialLevel(1, 1), chip_array=SpatialLevel(2, 1))]
    return base


TARGETS = _targets()


def test_rows_are_the_spec_rows_innermost_first() -> None:
    assert [int(r) for r in ROWS] == list(range(10))
    assert ROW_NAMES == ("Register", "MAC(X)", "MAC(Y)", "LocalBuffer", "PE(X)", "PE(Y)", "GlobalBuffer",
                         "Chip(X)", "Chip(Y)", "DRAM")
    assert [Row.by_label(n) for n in ROW_NAMES] == list(ROWS)
    # each level's rows follow the target's own level order, spatial rows as an X/Y pair
    levels = [r.level for r in ROWS if r.level is not None]
    assert list(dict.fromkeys(levels)) == ["mac_array", "local_buffer", "pe_array", "global_buffer",
                                           "chip_array", "dram"]
    for r in ROWS:
        assert r.spatial == (r.level in ("mac_array", "pe_array", "chip_array"))
        assert (r.axis is Axis.TEMPORAL) != r.spatial
    assert [r.axis for r in ROWS if r.spatial] == [Axis.X, Axis.Y] * 3
    assert Row.REGISTER.level is None and not Row.REGISTER.spatial


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_writable_rows_are_the_c_searches_rows(target: Target) -> None:
    rows = writable_rows(target)
    assert rows == native_search.writable_rows(target)
    assert list(np.flatnonzero(writable_mask(target))) == [int(r) for r in rows]
    assert Row.REGISTER not in rows and {Row.LOCAL_BUFFER, Row.DRAM} <= set(rows)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_row_sets_of_a_target(target: Target) -> None:
    present, writable = set(present_rows(target)), set(writable_rows(target))
    assert writable <= present
    assert list(np.flatnonzero(present_mask(target))) == sorted(int(r) for r in present)
    for r in present - writable:  # only axes of size 1 are present but not writable
        lv = getattr(target, str(r.level))
        assert r.spatial and (lv.x if r.axis is Axis.X else lv.y) == 1
    fixed = [Row(int(i)) for i in np.flatnonzero(fixed_mask(target))]
    assert all(getattr(target, str(r.level)).fixed_mapping is not None and not r.spatial for r in fixed)


def test_row_sets_on_a_target_with_size_one_axes() -> None:
    t = TARGETS[-3]  # simba with a 1x8 MAC array, a 4x1 PE array and no chips
    assert writable_rows(t) == (Row.MAC_Y, Row.LOCAL_BUFFER, Row.PE_X, Row.GLOBAL_BUFFER, Row.DRAM)
    assert present_rows(t) == (Row.MAC_X, Row.MAC_Y, Row.LOCAL_BUFFER, Row.PE_X, Row.PE_Y, Row.GLOBAL_BUFFER,
                               Row.DRAM)


def _table() -> SchedulingTable:
    arr = dram_only_array((64, 1, 56, 56, 32, 3, 3, 1))
    arr[Row.LOCAL_BUFFER, 5] = 3
    arr[Row.DRAM, 5] = 1
    return SchedulingTable.from_array(arr)


def test_table_value_round_trips() -> None:
    t = _table()
    arr = t.to_array()
    assert arr.dtype == np.int64 and arr.shape == (10, 8) and arr.flags.c_contiguous
    assert np.array_equal(np.asarray(t), arr) and np.array_equal(as_table(t), arr)
    assert SchedulingTable.from_array(arr) == t and hash(SchedulingTable.from_array(arr)) == hash(t)
    assert SchedulingTable.from_array(t.to_lists()) == t and SchedulingTable.from_array(t) is t
    doc = t.to_dict()
    assert doc["columns"] == list(PARAMS) and [r["row"] for r in doc["rows"]] == list(ROW_NAMES)
    assert SchedulingTable.from_dict(json.loads(json.dumps(doc))) == t
    assert SchedulingTable.from_dict(doc["rows"]) == t  # the golden vectors' bare row list
    assert t[Row.DRAM] == t[9] == (64, 1, 56, 56, 32, 1, 3, 1) and list(t)[3] == t[Row.LOCAL_BUFFER]
    assert len(t) == 10 and all(type(v) is int for row in t for v in row)


def test_table_value_refuses_bad_forms_with_the_cost_models_messages() -> None:
    rows = _table().to_dict()["rows"]
    swapped = [rows[1], rows[0], *rows[2:]]
    with pytest.raises(TableError, match=r"^table rows must be \['Register', 'MAC\(X\)'"):
        SchedulingTable.from_dict(swapped)
    with pytest.raises(TableError, match=r"^table rows must be"):
        as_table(swapped)
    with pytest.raises(TableError, match=r"^table row 'DRAM' has no `values`"):
        SchedulingTable.from_dict(rows[:9] + [{"row": "DRAM"}])
    with pytest.raises(TableError, match=r"^table must be 10 rows x 8 columns"):
        SchedulingTable(((1,) * 8,) * 9)
    with pytest.raises(TableError, match=r"needs `rows`"):
        SchedulingTable.from_dict({"columns": list(PARAMS)})
