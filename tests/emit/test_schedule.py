"""Per-layer schedule views: loop nest, utilization, file naming and rendering."""
from __future__ import annotations

import json
import math

import pytest

from rlsched_compile.emit._files import dumps_json
from rlsched_compile.emit.schedule import (array_utilization, buffer_utilization, file_stem, loop_nest,
                                           render_schedule_text, schedule_to_dict)
from rlsched_compile.layer import PARAMS
from rlsched_compile.table import ROW_NAMES

from ._data import reference_schedules

TARGET, NETWORK, SCHEDULES = reference_schedules()
OUTER_FIRST = ["DRAM", "Chip(Y)", "Chip(X)", "GlobalBuffer", "PE(Y)", "PE(X)", "LocalBuffer", "MAC(Y)", "MAC(X)"]


@pytest.mark.parametrize("s", SCHEDULES, ids=lambda s: s.layer.name)
def test_loop_nest_multiplies_back_to_the_layer(s) -> None:
    loops = loop_nest(TARGET, s.table)
    for c, p in enumerate(PARAMS):
        assert math.prod(lp["bound"] for lp in loops if lp["dim"] == p) == s.layer.per_group()[c]
    # outermost level first; eyeriss has no MAC or chip array, so those rows never appear
    ranks = [OUTER_FIRST.index(lp["level"]) for lp in loops]
    assert ranks == sorted(ranks)
    assert not {lp["level"] for lp in loops} & {"MAC(X)", "MAC(Y)", "Chip(X)", "Chip(Y)", "Register"}
    assert all(lp["bound"] > 1 for lp in loops)
    assert all((lp["kind"] == "spatial") == lp["level"].startswith("PE(") for lp in loops)


def test_loop_order_follows_the_inner_buffers_stationarity() -> None:
    # eyeriss: LB is WS, so GB-row loops over B/P/Q (irrelevant to weights) run innermost in the GB
    # row; GB is OS, so the DRAM row's C/R/S loops (irrelevant to outputs) run innermost there.
    table = tuple(tuple(row) for row in [[1] * 8] * 6 + [[2, 2, 2, 2, 2, 2, 2, 1]] + [[1] * 8] * 2
                  + [[2, 2, 2, 2, 2, 2, 2, 1]])
    loops = loop_nest(TARGET, table)
    assert [lp["dim"] for lp in loops if lp["level"] == "DRAM"] == ["K", "B", "P", "Q", "C", "R", "S"]
    assert [lp["dim"] for lp in loops if lp["level"] == "GlobalBuffer"] == ["K", "C", "R", "S", "B", "P", "Q"]


def test_utilization_matches_hand_computation() -> None:
    s = SCHEDULES[0]  # CONV_1, reference table: PE(X) = Q2 x S7, PE(Y) = K4 x C3
    util = array_utilization(TARGET, s.evaluation)
    assert s.evaluation.active["pes"] == 14 * 12
    assert util == {"mac_array": 1.0, "pe_array": 1.0, "chip_array": 1.0, "mac_units": 1.0}
    buf = buffer_utilization(TARGET, s.evaluation)
    alloc = s.evaluation.tile_sizes["local_buffer"]["alloc"]
    assert buf["local_buffer"] == {"input": alloc["input"] * 2 / 24, "weight": alloc["weight"] * 2 / 448,
                                   "output": alloc["output"] * 2 / 48}
    gb = s.evaluation.tile_sizes["global_buffer"]["alloc"]
    assert buf["global_buffer"] == {"shared": (gb["input"] + gb["output"]) * 2 / 102400}  # weights bypass


@pytest.mark.parametrize("s", SCHEDULES, ids=lambda s: s.layer.name)
def test_valid_tables_fit_their_buffers(s) -> None:
    for parts in buffer_utilization(TARGET, s.evaluation).values():
        assert all(0 < v <= 1 for v in parts.values())
    util = array_utilization(TARGET, s.evaluation)
    assert 0 < util["mac_units"] <= 1 and util["mac_units"] == util["pe_array"]


def test_file_stem_is_file_safe() -> None:
    assert file_stem(7, "layer1.0/conv 2:x") == "007_layer1.0_conv_2_x"
    assert file_stem(123, "..") == "123_layer"
    assert len(file_stem(1, "a" * 500)) == 4 + 80


def test_schedule_document_and_text() -> None:
    s = SCHEDULES[3]
    doc = schedule_to_dict(s, TARGET)
    assert json.loads(dumps_json(doc)) == doc
    assert [r["row"] for r in doc["table"]["rows"]] == list(ROW_NAMES)
    assert [r["values"] for r in doc["table"]["rows"]] == [list(r) for r in s.table]
    assert doc["energy_pj"]["total_energy"] == s.energy_pj and doc["cycles"]["total_cycle"] == s.cycles
    assert doc["layer"]["macs"] == s.layer.macs and doc["target"]["sha256"] == TARGET.sha256
    assert "search_time_s" not in json.dumps(doc)
    text = render_schedule_text(s, TARGET)
    lines = text.splitlines()
    assert lines[0].startswith(f"layer 003 {s.layer.name} (Conv)  K={s.layer.K}")
    row = next(ln for ln in lines if ln.startswith("LocalBuffer"))
    assert [int(v) for v in row.split()[1:]] == list(s.table[3])
    assert lines[-3].startswith(f"energy      {s.energy_pj:.6g} pJ")
    assert text.count("mac()") == 1
