"""Fuzzing the C library through cffi with hypothesis: random target descriptions (extreme,
subnormal, NaN and infinite values, array sizes up to 2^31, bad enums), random layers and tables
(valid ones drawn by the library itself, then mutated; and garbage).

Asserted on every example: no crash; statuses are documented ones; a target or table that is not
accepted leaves nothing half-built; every result reported valid has finite, non-negative energies,
cycles and access counts; the batch call agrees with the single call; searches return only valid,
finite tables.

The suite runs a short, derandomized session (a few seconds). A longer, random one:

    RLSCHED_FUZZ_EXAMPLES=200000 python -m pytest -q tests/native/test_fuzz_costmodel.py

(see ``c/fuzz/README.md``, which also describes the libFuzzer harness).
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rlsched_compile.native._rls import ffi, lib

EXAMPLES = int(os.environ.get("RLSCHED_FUZZ_EXAMPLES", "250"))
LONG_RUN = "RLSCHED_FUZZ_EXAMPLES" in os.environ

TARGET_STATUSES = {lib.RLS_OK, lib.RLS_E_TARGET, lib.RLS_E_OVERFLOW}
EVAL_STATUSES = {lib.RLS_OK, lib.RLS_E_LAYER, lib.RLS_E_TABLE}

EXTREME_REALS = [0.0, 5e-324, 1e-310, 1e-300, 1e-3, 1.0, 1e9, 1e300, 1e308, 1.7976931348623157e308,
                 math.inf, -math.inf, math.nan, -0.0, -1.0]
reals = st.one_of(st.floats(0, 1000, allow_nan=False), st.sampled_from(EXTREME_REALS),
                  st.floats(allow_nan=True, allow_infinity=True))
sane_reals = st.floats(0, 1000, allow_nan=False)
sizes = st.one_of(st.integers(1, 32), st.sampled_from([0, -1, 2 ** 20, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1]),
                  st.integers(-5, 2 ** 31 + 5))


@st.composite
def spatial(draw: st.DrawFn, sane: bool) -> dict:
    side = st.integers(1, 16) if sane else sizes
    return {"present": draw(st.integers(0, 1)), "x": draw(side), "y": draw(side),
            "has_allowed_x": draw(st.integers(0, 1)), "has_allowed_y": draw(st.integers(0, 1)),
            "allowed_x_mask": draw(st.integers(0, 255)), "allowed_y_mask": draw(st.integers(0, 255))}


@st.composite
def temporal(draw: st.DrawFn, sane: bool, present: int | None = None) -> dict:
    r = sane_reals if sane else reals
    cap = st.floats(1, 1 << 20, allow_nan=False) if sane else reals
    return {"present": draw(st.integers(0, 1)) if present is None else present,
            "dataflow": draw(st.integers(0, 3) if sane else st.integers(-1, 4)),
            "capacity_form": draw(st.integers(1, 3) if sane else st.integers(-1, 4)),
            "capacity_bytes": [draw(cap) for _ in range(3)], "shared_bytes": draw(cap),
            "dedicated_bytes": draw(cap), "bypass_mask": draw(st.integers(0, 7) if sane else st.integers(0, 9)),
            "access_energy_pj": [draw(r) for _ in range(3)], "static_power_mw": [draw(r) for _ in range(3)],
            "access_cycles": [draw(r) for _ in range(3)],
            "bandwidth_bits_per_cycle": draw(st.sampled_from([8.0, 16.0, 64.0, 128.0]) if sane else reals),
            "has_fixed_mapping": draw(st.sampled_from([0, 0, 0, 1])),
            "fixed_mapping": [draw(st.sampled_from([0, 0, 0, 1, 2, 3])) for _ in range(8)]}


@st.composite
def target_descs(draw: st.DrawFn) -> dict:
    sane = draw(st.booleans())
    r = sane_reals if sane else reals
    return {"precision_bits": draw(st.sampled_from([8, 16, 32]) if sane else
                                   st.sampled_from([8, 16, 0, 12, -8, 4096, 2 ** 62])),
            "frequency_mhz": draw(st.floats(1, 2000) if sane else reals),
            "mac_energy_pj": draw(r), "mac_static_power_mw": draw(r),
            "mac_array": draw(spatial(sane)), "pe_array": draw(spatial(sane)), "chip_array": draw(spatial(sane)),
            "local_buffer": draw(temporal(sane, present=1)), "global_buffer": draw(temporal(sane)),
            "dram": draw(temporal(sane, present=1))}


@st.composite
def layers(draw: st.DrawFn) -> dict:
    small = st.integers(1, 16)
    g = draw(st.sampled_from([1, 1, 1, 2, 4]))
    d = {"K": g * draw(small), "B": draw(st.integers(1, 4)), "P": draw(small), "Q": draw(small),
         "C": g * draw(small), "R": draw(st.integers(1, 5)), "S": draw(st.integers(1, 5)), "G": g,
         "stride_h": draw(st.integers(0, 3)), "stride_w": draw(st.integers(0, 3)),
         "dilation_h": draw(st.integers(1, 3)), "dilation_w": draw(st.integers(1, 3))}
    if draw(st.integers(0, 9)) == 0:  # sometimes out of range
        d[draw(st.sampled_from(sorted(d)))] = draw(st.sampled_from([0, -1, 2 ** 40, 2 ** 62, 2 ** 63 - 1]))
    return d


def _fill(c: object, values: dict) -> None:
    for k, v in values.items():
        if isinstance(v, dict):
            _fill(getattr(c, k), v)
        else:
            setattr(c, k, v)


def _check_valid_figures(r: object) -> None:
    for i in range(lib.RLS_N_ENERGY):
        assert math.isfinite(r.energy_pj[i]) and r.energy_pj[i] >= 0, ("energy", i, r.energy_pj[i])
    for i in range(lib.RLS_N_CYCLES):
        assert math.isfinite(r.cycles[i]) and r.cycles[i] >= 0, ("cycles", i, r.cycles[i])
    for b in range(3):
        for k in range(4):
            assert r.access_counts[b][k] >= 0, ("access", b, k)
    assert r.num_mac_operations >= 1 and r.cycles[lib.RLS_C_TOTAL] > 0


def _summary_ok(s: object) -> None:
    assert math.isfinite(s.energy_pj) and s.energy_pj >= 0 and math.isfinite(s.cycles) and s.cycles > 0
    for obj in range(3):
        v = lib.rls_objective_value(s, obj)
        assert math.isfinite(v) and v >= 0


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(desc=target_descs(), layer=layers(), seed=st.integers(0, 2 ** 64 - 1), data=st.data())
def test_fuzz_cost_model(desc: dict, layer: dict, seed: int, data: st.DataObject) -> None:
    d = ffi.new("rls_target_desc *")
    _fill(d, desc)
    out = ffi.new("rls_target **")
    st_target = lib.rls_target_new(d, out)
    assert st_target in TARGET_STATUSES
    if st_target != lib.RLS_OK:
        assert out[0] == ffi.NULL
        return
    t = ffi.gc(out[0], lib.rls_target_free)
    ly = ffi.new("rls_layer *")
    _fill(ly, layer)

    tables = []
    state = ffi.new("uint64_t *", seed)
    table = np.ones(80, dtype=np.int64)
    st_sample = lib.rls_sample_valid(t, ly, state, ffi.cast("int64_t *", ffi.from_buffer(table)))
    assert st_sample in {lib.RLS_OK, lib.RLS_E_NOT_FOUND, lib.RLS_E_LAYER}
    if st_sample == lib.RLS_OK:
        tables.append(table.copy())
        mutated = table.copy()
        for _ in range(data.draw(st.integers(0, 3))):
            mutated[data.draw(st.integers(0, 79))] = data.draw(
                st.sampled_from([1, 2, 3, 7, 0, -1, 2 ** 31, 2 ** 62, 2 ** 63 - 1]))
        tables.append(mutated)
    garbage = np.array(data.draw(st.lists(st.sampled_from([1, 1, 1, 2, 3, 4, 16, 0, 2 ** 40, 2 ** 63 - 1]),
                                          min_size=80, max_size=80)), dtype=np.int64)
    tables.append(garbage)

    for tb in tables:
        r = ffi.new("rls_result *")
        status = lib.rls_evaluate(t, ly, ffi.cast("int64_t *", ffi.from_buffer(tb)), r)
        assert status in EVAL_STATUSES
        s = ffi.new("rls_summary[1]")
        st_batch = lib.rls_evaluate_batch(t, ly, ffi.cast("int64_t *", ffi.from_buffer(tb)), 1, s)
        if status == lib.RLS_E_LAYER:
            assert st_batch == lib.RLS_E_LAYER
            continue
        assert st_batch == lib.RLS_OK
        if status == lib.RLS_E_TABLE:
            assert s[0].valid == 0
            continue
        assert 0 <= r.reason < lib.RLS_R_COUNT and (r.valid == 1) == (r.reason == lib.RLS_VALID)
        assert s[0].valid == r.valid and s[0].reason == r.reason
        if r.valid:
            _check_valid_figures(r)
            _summary_ok(s + 0)
            assert s[0].energy_pj == r.energy_pj[lib.RLS_E_TOTAL] and s[0].cycles == r.cycles[lib.RLS_C_TOTAL]
        else:
            assert lib.rls_objective_value(s, 0) == math.inf

    if st_sample == lib.RLS_OK and data.draw(st.booleans()):
        rows = sorted(data.draw(st.sets(st.integers(0, 9), min_size=2, max_size=2)))
        best = np.ones(80, dtype=np.int64)
        summary = ffi.new("rls_summary *")
        count = ffi.new("int64_t *")
        status = lib.rls_search_rows(t, ly, ffi.cast("int64_t *", ffi.from_buffer(tables[0])),
                                     ffi.new("int32_t[]", rows), 2, data.draw(st.integers(0, 2)),
                                     ffi.cast("int64_t *", ffi.from_buffer(best)), summary, count)
        assert status in {lib.RLS_OK, lib.RLS_E_NOT_FOUND}
        if status == lib.RLS_OK:
            assert summary.valid == 1
            _summary_ok(summary)
            r = ffi.new("rls_result *")
            assert lib.rls_evaluate(t, ly, ffi.cast("int64_t *", ffi.from_buffer(best)), r) == lib.RLS_OK
            assert r.valid == 1
            _check_valid_figures(r)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the C fuzz harness")
def test_libfuzzer_harness_standalone_under_sanitizers(tmp_path: Path) -> None:
    """The libFuzzer target of ``c/fuzz/`` built without libFuzzer (gcc, ASan + UBSan) and run on
    a fixed set of pseudo-random inputs."""
    root = Path(__file__).resolve().parents[2] / "c"
    exe = tmp_path / "fuzz_costmodel"
    cmd = ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-O1", "-g",
           "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-DRLS_FUZZ_STANDALONE",
           f"-I{root / 'include'}", f"-I{root / 'src'}", *map(str, sorted((root / "src").glob("*.c"))),
           str(root / "fuzz" / "fuzz_costmodel.c"), "-lm", "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    n = os.environ.get("RLSCHED_FUZZ_EXAMPLES", "3000")
    run = subprocess.run([str(exe), "-random", n, "12345"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no contract broken" in run.stdout and "runtime error" not in run.stderr
    built = int(run.stdout.split("(")[1].split(" targets built")[0])
    assert built > 0  # the decoder reaches the evaluation code, not only target validation
