"""Issue 11 item 10: no negative, NaN or infinite figure is ever reported valid.

Two layers of defence are tested separately: the target loader bounds every value (documented in
``targets/schema.py`` ``LIMITS``), and the C library checks its own arithmetic for targets built
past the loader (``dataclasses.replace`` on a loaded Target goes straight to C)."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from rlsched_compile.cli import main
from rlsched_compile.emit._files import dumps_json
from rlsched_compile.errors import NativeError, TargetError
from rlsched_compile.layer import Layer
from rlsched_compile.native.costmodel import evaluate_batch, evaluate_table
from rlsched_compile.native.search import bottom_up
from rlsched_compile.targets import load_target
from rlsched_compile.targets.model import PerType, SpatialLevel
from rlsched_compile.targets.schema import LIMITS, MAX_MAC_UNITS

LAYER = Layer("conv", K=64, B=1, P=14, Q=14, C=64, R=3, S=3)


def _write_target(tmp_path, edit) -> str:
    doc = load_target("eyeriss").to_dict()
    edit(doc)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _level(doc, role):
    return next(lv for lv in doc["levels"] if lv["level"] == role)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["levels"].insert(-1, {"level": "chip_array", "x": 2147483647, "y": 2147483647}),
     "must be <= 1048576 (2^20), the schema's bound (got 2147483647)"),
    (lambda d: (d["levels"].insert(-1, {"level": "chip_array", "x": 1 << 20, "y": 1 << 20}),
                _level(d, "pe_array").update(x=1 << 10, y=1 << 10)),
     "MAC units together, more than the schema's bound"),
    (lambda d: _level(d, "dram")["access_cycles"].update(input=1e308), "must be <= 1e+09"),
    (lambda d: d.update(frequency_mhz=1e-310), "frequency_mhz: must be >= 0.001"),
    (lambda d: d.update(mac_energy_pj=1 << 70), "mac_energy_pj: must be <= 1e+09"),
    (lambda d: d.update(mac_energy_pj=10 ** 400), "mac_energy_pj: must be a finite number"),
    (lambda d: _level(d, "local_buffer")["capacity_bytes"].update(input=1 << 63), "must be <= 1152921504606846976"),
    (lambda d: _level(d, "dram").update(bandwidth_bits_per_cycle=1 << 64), "bandwidth_bits_per_cycle: must be <="),
    (lambda d: d.update(precision_bits=1 << 64), "precision_bits: must be <= 4096"),
    (lambda d: d.update(vector_unit={"ops_per_cycle": 1e-310}), "vector_unit.ops_per_cycle: must be >= 1e-06"),
], ids=["chip-2^31", "mac-units", "cycles-1e308", "freq-1e-310", "int-2^70", "int-1e400", "cap-2^63", "bw-2^64",
        "bits-2^64", "vector-1e-310"])
def test_loader_bounds_every_value_with_one_error_line(tmp_path, capsys, edit, message):
    path = _write_target(tmp_path, edit)
    with pytest.raises(TargetError, match="invalid target"):
        load_target(path)
    assert main(["show-target", path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: invalid target") and message in err, err


def test_json_reals_beyond_double_range_are_one_error_line(tmp_path, capsys):
    doc = load_target("eyeriss").to_dict()
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc).replace('"frequency_mhz": 200.0', '"frequency_mhz": 1e400'), encoding="utf-8")
    assert main(["show-target", str(path)]) == 2
    assert "frequency_mhz: must be a finite number" in capsys.readouterr().err


def test_shipped_targets_are_well_inside_the_bounds():
    for name in ("eyeriss", "eyeriss_v2", "simba", "tpu_v3"):
        t = load_target(name)
        assert LIMITS["frequency_mhz"][0] <= t.frequency_mhz <= LIMITS["frequency_mhz"][1]


# ---- the C library past the loader -----------------------------------------------------------

def test_c_refuses_instance_counts_that_overflow_int64():
    t = load_target("simba")
    big = dataclasses.replace(t, chip_array=SpatialLevel(x=2147483647, y=2147483647),
                              pe_array=SpatialLevel(x=2147483647, y=2147483647))
    with pytest.raises(NativeError, match="does not fit 64-bit arithmetic"):
        evaluate_table(big, LAYER, [[1] * 8] * 9 + [list(LAYER.per_group())])


def test_c_refuses_a_subnormal_clock():
    t = dataclasses.replace(load_target("eyeriss"), frequency_mhz=1e-310)
    with pytest.raises(TargetError, match="invalid target description"):
        evaluate_table(t, LAYER, [[1] * 8] * 9 + [list(LAYER.per_group())])


def test_c_reports_non_finite_figures_invalid_never_valid():
    t = load_target("eyeriss")
    dram = dataclasses.replace(t.dram, access_cycles=PerType(1e308, 1e308, 1e308),
                               access_energy_pj=PerType(1e308, 1e308, 1e308))
    huge = dataclasses.replace(t, dram=dram, mac_static_power_mw=1e300)
    table = [[1] * 8] * 9 + [list(LAYER.per_group())]
    ev = evaluate_table(huge, LAYER, table)
    assert not ev.valid and ev.invalid_reason == "overflow"
    batch = evaluate_batch(huge, LAYER, np.array([table], dtype=np.int64))
    assert not batch.valid[0] and batch.reason[0] == 12 and math.isinf(batch.energy_pj[0])
    # the searches never return such a table as valid
    with pytest.raises(Exception, match="no valid"):
        bottom_up(huge, LAYER, objective="energy")
    # and the same target with finite products is fine
    ok = evaluate_table(t, LAYER, table)
    assert ok.valid and math.isfinite(ok.energy_pj) and ok.energy_pj > 0


def test_json_writer_never_emits_nan_or_infinity():
    assert dumps_json({"a": 1.5}) == '{\n "a": 1.5\n}\n'
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            dumps_json({"a": bad})
