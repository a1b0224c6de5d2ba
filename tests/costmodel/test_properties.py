"""Property tests: random tables for random layers, checked against the pure-Python reference
(tests/costmodel/reference.py) and the spec's invariants."""
from __future__ import annotations

import glob
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsched_compile import Layer, evaluate_batch, evaluate_table, load_target
from rlsched_compile.errors import TableError
from rlsched_compile.table import present_rows

from . import reference

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
TARGETS = [load_target(n) for n in ("eyeriss", "eyeriss_v2", "tpu_v3", "simba")] + [
    load_target(p) for p in sorted(glob.glob(str(SHARED / "golden" / "targets" / "*.json")))]


def prime_factors(n: int) -> list[int]:
    out, d = [], 2
    while d * d <= n:
        while n % d == 0:
            out.append(d)
            n //= d
        d += 1
    if n > 1:
        out.append(n)
    return out


dims = st.sampled_from([1, 2, 3, 4, 6, 7, 8, 12, 14, 16, 28, 32, 56, 64, 96, 128])


@st.composite
def layers(draw) -> Layer:
    g = draw(st.sampled_from([1, 1, 1, 2, 4]))
    depthwise = draw(st.booleans()) and g == 1
    c = draw(dims)
    if depthwise:
        k = g = c
    else:
        k = draw(dims) * g
        c = c * g
    r = draw(st.sampled_from([1, 3, 5, 7]))
    s = draw(st.sampled_from([r, r, 1, 3]))
    return Layer("L", K=k, B=draw(st.sampled_from([1, 1, 2, 4])), P=draw(dims), Q=draw(dims), C=c,
                 R=r, S=s, G=g, stride_h=draw(st.sampled_from([0, 1, 2])), stride_w=draw(st.sampled_from([1, 2])),
                 dilation_h=draw(st.sampled_from([1, 1, 2])), dilation_w=1)


@st.composite
def cases(draw):
    target = draw(st.sampled_from(TARGETS))
    layer = draw(layers())
    rows = present_rows(target)  # size-1 axes too: random tables may break the array rules
    table = np.ones((10, 8), dtype=np.int64)
    for col, value in enumerate(layer.per_group()):
        for f in prime_factors(value):
            table[draw(st.sampled_from(rows)), col] *= f
    return target, layer, table


def assert_same(got, want, path="") -> None:
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for k in want:
            assert_same(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, float):
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9), (path, got, want)
    else:
        assert got == want, (path, got, want)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_c_model_equals_python_reference(case) -> None:
    target, layer, table = case
    got = evaluate_table(target, layer, table).to_dict()
    assert_same(got, reference.evaluate(target, layer, table.tolist()))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_invariants_of_valid_tables(case) -> None:
    target, layer, table = case
    ev = evaluate_table(target, layer, table)
    if not ev.valid:
        assert ev.invalid_reason in {"mac_array_dims", "pe_array_dims", "pe_array_constraint",
                                     "chip_array_dims", "lb_capacity", "gb_capacity", "gb_dedicated_capacity"}
        return
    e, c = ev.energy_by_component_pj, ev.cycles_by_component
    assert ev.num_mac_operations == layer.macs
    # energy at least the MAC-only lower bound; components add up
    assert ev.energy_pj >= e["mac_energy"] > 0
    assert e["total_energy"] == pytest.approx(e["total_dynamic_energy"] + e["total_static_energy"], rel=1e-12)
    assert e["total_dynamic_energy"] == pytest.approx(
        e["mac_energy"] + e["lb_energy"] + e["gb_energy"] + e["dram_energy"], rel=1e-12)
    # compute cycles never beat the fully used hardware, and are integral
    units = ev.active["macs"] * ev.active["pes"] * ev.active["chips"]
    assert c["mac_cycle"] == layer.macs / units and c["mac_cycle"] == int(c["mac_cycle"])
    assert c["total_cycle"] == c["mac_cycle"] + c["lb_cycle"] + c["gb_cycle"] + c["dram_cycle"]
    # the DRAM level holds the whole layer
    assert ev.tile_sizes["dram"]["alloc"]["weight"] == layer.K * layer.C // layer.G * layer.R * layer.S
    assert ev.tile_sizes["dram"]["alloc"]["output"] == layer.K * layer.B * layer.P * layer.Q
    # every tile fits its buffer (LB, separate or shared)
    lb = target.local_buffer
    bpe = target.precision_bits // 8
    alloc = ev.tile_sizes["local_buffer"]["alloc"]
    if lb.capacity.form == "separate":
        for t, cap in zip(("input", "weight", "output"), lb.capacity.per_type_bytes.as_tuple()):
            assert t in lb.bypass or alloc[t] <= cap / bpe
    # counts are non-negative and the batch call agrees
    assert all(v >= 0 for lv in ev.access_counts.values() for v in lv.values())
    batch = evaluate_batch(target, layer, table[None])
    assert batch.valid[0] and batch.energy_pj[0] == ev.energy_pj and batch.cycles[0] == ev.cycles


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(0, 79), st.sampled_from([0, -1, -7]))
def test_non_positive_entries_are_rejected(case, index, value) -> None:
    target, layer, table = case
    table = table.copy()
    table.reshape(-1)[index] = value
    with pytest.raises(TableError, match="every entry must be an integer >= 1"):
        evaluate_table(target, layer, table)
    # the batch call marks that table invalid instead of failing the batch
    assert not evaluate_batch(target, layer, table[None]).valid[0]


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(0, 7), st.sampled_from([2, 3, 5]))
def test_wrong_column_products_are_rejected(case, col, factor) -> None:
    target, layer, table = case
    table = table.copy()
    table[9, col] *= factor
    with pytest.raises(TableError, match=r"multiplies to \d+ but layer 'L' needs"):
        evaluate_table(target, layer, table)
    assert evaluate_table(target, layer, table, strict=False).invalid_reason == "column_product"


def test_equal_strides_without_dilation_reduce_to_the_reference_formula() -> None:
    # per-dimension stride/dilation extension: (P-1)*stride + R when equal and undilated
    target = load_target("eyeriss")
    table = np.ones((10, 8), dtype=np.int64)
    table[9] = [8, 1, 7, 7, 4, 3, 3, 1]
    layer = Layer("s", K=8, B=1, P=7, Q=7, C=4, R=3, S=3, stride_h=2, stride_w=2)
    ev = evaluate_table(target, layer, table)
    assert ev.tile_sizes["dram"]["alloc"]["input"] == 4 * (6 * 2 + 3) ** 2
    dil = Layer("d", K=8, B=1, P=7, Q=7, C=4, R=3, S=3, stride_h=2, stride_w=1, dilation_h=2)
    ev = evaluate_table(target, dil, table)
    assert ev.tile_sizes["dram"]["alloc"]["input"] == 4 * (6 * 2 + 2 * 2 + 1) * (6 * 1 + 3)
