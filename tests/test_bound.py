"""The lower-bound certificate: no valid table costs less than the bound (property test)."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rlsched_compile as rc
from rlsched_compile.bound import compulsory_inputs, layer_lower_bound
from rlsched_compile.errors import SearchError
from rlsched_compile.native import search as native_search
from rlsched_compile.native.costmodel import evaluate_table
from rlsched_compile.targets.model import Target

TARGETS = {name: rc.load_target(name) for name in ("eyeriss", "eyeriss_v2", "simba", "tpu_v3")}


def _valid_samples(tgt: Target, layer: rc.Layer, seed: int, count: int) -> Iterator[np.ndarray]:
    """Up to ``count`` seeded random valid tables (fewer when the layer has none)."""
    state = seed
    for _ in range(count):
        try:
            table, state = native_search.sample_valid(tgt, layer, rng_state=state)
        except SearchError:
            return
        yield np.asarray(table)

layers = st.builds(
    lambda k, c, p, r, stride, g: rc.Layer("l", K=k * g, B=1, P=p, Q=p, C=c * g, R=r, S=r, G=g,
                                           stride_h=stride, stride_w=stride),
    st.sampled_from([1, 3, 16, 64, 96, 256]), st.sampled_from([1, 3, 16, 64, 128]),
    st.sampled_from([1, 7, 14, 28, 56]), st.sampled_from([1, 3, 5]), st.sampled_from([1, 2, 4]),
    st.sampled_from([1, 1, 1, 2]))


@settings(max_examples=60, deadline=None)
@given(layer=layers, target=st.sampled_from(sorted(TARGETS)), seed=st.integers(0, 2**32 - 1))
def test_bound_below_every_random_valid_table(layer: rc.Layer, target: str, seed: int) -> None:
    tgt = TARGETS[target]
    bound = layer_lower_bound(tgt, layer)
    assert bound.energy_pj > 0 and bound.cycles > 0
    for table in _valid_samples(tgt, layer, seed, 5):
        ev = evaluate_table(tgt, layer, table)
        assert ev.valid
        assert ev.energy_pj >= bound.energy_pj, (ev.energy_pj, bound)
        assert ev.cycles >= bound.cycles, (ev.cycles, bound)


@settings(max_examples=15, deadline=None)
@given(layer=layers, target=st.sampled_from(sorted(TARGETS)), objective=st.sampled_from(["energy", "cycles"]))
def test_bound_below_searched_optimum(layer: rc.Layer, target: str, objective: str) -> None:
    """The row-sweep optimum (the tables closest to the bound the tool finds) stays above it too."""
    tgt = TARGETS[target]
    try:
        best = rc.schedule_layer(tgt, layer, search="row-sweep", objective=objective)
    except SearchError:
        return
    bound = layer_lower_bound(tgt, layer)
    assert best.energy_pj >= bound.energy_pj
    assert best.cycles >= bound.cycles
    gap_e, gap_c = bound.gap(best.energy_pj, best.cycles)
    assert gap_e >= 0 and gap_c >= 0


def test_bound_is_within_2x_on_a_one_mac_layer() -> None:
    """A 1x1x1 layer on eyeriss: the exhaustive optimum (739.9 pJ, 29 cycles) is above the bound
    and within 2x of it: the bound leaves out only the input's traffic and the buffers' traffic."""
    tgt = TARGETS["eyeriss"]
    layer = rc.Layer("one", K=1, B=1, P=1, Q=1, C=1, R=1, S=1)
    best = rc.schedule_layer(tgt, layer, search="exhaustive")
    assert best.finished
    bound = layer_lower_bound(tgt, layer)
    assert bound.energy_pj <= best.energy_pj < 2 * bound.energy_pj
    assert bound.cycles <= best.cycles < 2 * bound.cycles


dilated_layers = st.builds(
    lambda k, c, p, r, stride, dil: rc.Layer("l", K=k, B=1, P=p, Q=p, C=c, R=r, S=r, stride_h=stride,
                                             stride_w=stride, dilation_h=dil, dilation_w=dil),
    st.sampled_from([1, 4, 16]), st.sampled_from([1, 3, 8]), st.sampled_from([1, 2, 3, 6, 12]),
    st.sampled_from([1, 2, 3, 5]), st.sampled_from([0, 1, 2, 3, 6]), st.sampled_from([1, 2, 3]))


@settings(max_examples=40, deadline=None)
@given(layer=dilated_layers, target=st.sampled_from(sorted(TARGETS)), seed=st.integers(0, 2**32 - 1))
def test_input_and_fill_terms_below_random_tables_with_strides_and_dilations(layer: rc.Layer, target: str,
                                                                             seed: int) -> None:
    """The input-traffic and buffer-fill terms (strides above and below the kernel, dilation, the
    FC convention stride 0) stay below random valid tables and their row-polished optima."""
    tgt = TARGETS[target]
    bound = layer_lower_bound(tgt, layer)
    for table in _valid_samples(tgt, layer, seed, 8):
        ev = evaluate_table(tgt, layer, table)
        assert ev.energy_pj >= bound.energy_pj, (ev.energy_pj, bound)
        assert ev.cycles >= bound.cycles, (ev.cycles, bound)
    for objective in ("energy", "cycles"):
        best = rc.schedule_layer(tgt, layer, search="row-sweep", objective=objective)
        assert best.energy_pj >= bound.energy_pj and best.cycles >= bound.cycles


@pytest.mark.parametrize("target", ["eyeriss", "simba", "eyeriss_v2"])
@pytest.mark.parametrize("layer", [rc.Layer("a", K=2, B=1, P=4, Q=1, C=2, R=3, S=1),
                                   rc.Layer("b", K=2, B=1, P=3, Q=2, C=1, R=1, S=2, stride_h=3, stride_w=1),
                                   rc.Layer("c", K=1, B=2, P=2, Q=2, C=2, R=2, S=2, dilation_h=2, dilation_w=2)],
                         ids=["3x1", "stride3", "dilated"])
def test_bound_below_the_exhaustive_optimum(target: str, layer: rc.Layer) -> None:
    """Tiny layers: the bound is below the true optimum (exhaustive, finished) of either objective,
    and the input term is active on these targets (tighter than weights and outputs alone)."""
    tgt = TARGETS[target]
    bound = layer_lower_bound(tgt, layer)
    for objective in ("energy", "cycles"):
        best = rc.schedule_layer(tgt, layer, search="exhaustive", objective=objective, budget=3_000_000)
        assert best.finished
        assert best.energy_pj >= bound.energy_pj and best.cycles >= bound.cycles
    assert compulsory_inputs(tgt, layer) > 0


# ---- the tighter terms (per-term soundness, golden vectors, the reference's uint32 quirk) ----

from rlsched_compile import bound as bound_mod  # noqa: E402
from rlsched_compile.bound import (dram_row_bound, mac_interface_bound, max_active_units,  # noqa: E402
                                   reference_may_wrap)
from rlsched_compile.native.costmodel import as_layer, as_target  # noqa: E402

GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "golden" / "cost_vectors.jsonl"


def _flows(name: str) -> list[rc.Target]:
    """The target with each dataflow pair its flexible mode may take (the bound depends on them)."""
    tgt = TARGETS[name]
    return [tgt.with_dataflows(choice) for choice in tgt.flexible_combinations()]


def _check_terms(tgt: rc.Target, layer: rc.Layer, table: np.ndarray) -> None:
    """Every term of the bound is below the matching part of the table's cost."""
    ev = evaluate_table(tgt, layer, table)
    assert ev.valid
    e, c, a = ev.energy_by_component_pj, ev.cycles_by_component, ev.active
    mac = mac_interface_bound(tgt, layer)
    assert e["lb_energy_upper"] >= mac.lb_upper_energy_pj * (1 - 1e-9)
    assert c["mac_cycle"] + c["lb_cycle"] >= mac.mac_lb_cycles * (1 - 1e-9)
    assert a["macs"] * a["pes"] * a["chips"] <= max_active_units(tgt, layer)
    rows = dram_row_bound(tgt, layer)
    if rows is not None:
        assert e["dram_energy"] + e["gb_energy_lower"] >= rows.energy_pj * (1 - 1e-9)
        assert c["dram_cycle"] >= rows.cycles * (1 - 1e-9)
    bound = layer_lower_bound(tgt, layer)
    assert ev.energy_pj >= bound.energy_pj and ev.cycles >= bound.cycles


small_layers = st.builds(
    lambda k, b, p, q, c, r, s, g, sh, sw, dh: rc.Layer("l", K=k * g, B=b, P=p, Q=q, C=c * g, R=r, S=s, G=g,
                                                        stride_h=sh, stride_w=sw, dilation_h=dh),
    st.sampled_from([1, 2, 3, 4, 8, 12, 32]), st.sampled_from([1, 2, 4]), st.sampled_from([1, 2, 3, 7, 14]),
    st.sampled_from([1, 2, 5, 14]), st.sampled_from([1, 2, 3, 16, 48]), st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 3, 5]), st.sampled_from([1, 1, 2]), st.sampled_from([0, 1, 2, 3, 5]),
    st.sampled_from([1, 2, 4]), st.sampled_from([1, 2]))


@settings(max_examples=80, deadline=None)
@given(layer=small_layers, target=st.sampled_from(sorted(TARGETS)), flow=st.integers(0, 8),
       seed=st.integers(0, 2**32 - 1))
def test_every_term_below_random_valid_tables_under_every_dataflow(layer: rc.Layer, target: str, flow: int,
                                                                   seed: int) -> None:
    """Each new term (LB->MAC energy, MAC+LB cycles, active units, DRAM row minimum) is below the
    matching cost component of random valid tables, on all four targets and every dataflow pair."""
    flows = _flows(target)
    tgt = flows[flow % len(flows)]
    for table in _valid_samples(tgt, layer, seed, 6):
        _check_terms(tgt, layer, table)


tiny_layers = st.builds(
    lambda k, p, c, r, s, stride, dil: rc.Layer("t", K=k, B=1, P=p, Q=1, C=c, R=r, S=s, stride_h=stride,
                                                stride_w=stride, dilation_h=dil),
    st.sampled_from([1, 2, 3, 4]), st.sampled_from([1, 2, 3]), st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2, 3]), st.sampled_from([1, 2]), st.sampled_from([0, 1, 2, 4]), st.sampled_from([1, 2]))


@settings(max_examples=25, deadline=None)
@given(layer=tiny_layers, target=st.sampled_from(sorted(TARGETS)), flow=st.integers(0, 8))
def test_bound_below_the_exhaustive_optimum_of_random_tiny_layers(layer: rc.Layer, target: str, flow: int) -> None:
    """The true optimum (exhaustive search over every valid table, finished) of either objective
    is at or above the bound, on all four targets and every dataflow pair; so is every term."""
    flows = _flows(target)
    tgt = flows[flow % len(flows)]
    bound = layer_lower_bound(tgt, layer)
    for objective in ("energy", "cycles"):
        best = rc.schedule_layer(tgt, layer, search="exhaustive", objective=objective, budget=2_000_000)
        assert best.finished
        assert best.energy_pj >= bound.energy_pj and best.cycles >= bound.cycles
        _check_terms(tgt, layer, np.asarray(best.table))


def test_bound_below_every_best_known_zoo_table() -> None:
    """The tightest tables the tool knows (bench/results/best_known: a heavy search over ResNet-50
    on the four targets, both objectives) all stay above the bound, term by term."""
    from rlsched_compile.frontend import load_network, zoo

    net = load_network(zoo.zoo_path("resnet50"))
    cache_dir = Path(__file__).resolve().parents[1] / "bench" / "results" / "best_known"
    checked = 0
    for path in sorted(cache_dir.glob("*__*.json")):
        tgt = TARGETS[path.stem.split("__")[0]]
        cache = json.loads(path.read_text())
        for layer in {ly.signature(): ly for ly in net.layers}.values():
            entry = cache.get(",".join(str(v) for v in layer.signature()))
            if entry is not None:
                _check_terms(tgt, layer, np.asarray(entry["table"]))
                checked += 1
    assert checked >= 8 * 20


@pytest.fixture(scope="module")
def golden() -> list[dict]:
    return [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]


def test_bound_below_every_golden_record_of_34_targets(golden: list[dict]) -> None:
    """Every valid golden record (the reference's own configs and their dataflow, bypass,
    separate-GB, port-width and fixed-mapping variants, with and without a global buffer) costs
    at least the bound under this package's model, and the reference analyzer's own figures are
    at least the reference-mode bound (uint32 wrap and binary32 allowed for)."""
    n = 0
    for rec in golden:
        if not rec["expected"]["valid"]:
            continue
        tgt, layer = as_target(rec["target"]), as_layer(rec["layer"])
        table = np.array([row["values"] for row in rec["table"]])
        ev = evaluate_table(tgt, layer, table)
        bound = layer_lower_bound(tgt, layer)
        assert ev.energy_pj >= bound.energy_pj and ev.cycles >= bound.cycles, rec["id"]
        ref = layer_lower_bound(tgt, layer, reference_u32=True)
        exp = rec["expected"]
        assert exp["energy_pj"]["total_energy"] >= ref.energy_pj, rec["id"]
        assert exp["cycles"]["total_cycle"] >= ref.cycles, rec["id"]
        if rec.get("overflow"):
            assert reference_may_wrap(tgt, layer), rec["id"]
        n += 1
    assert n == 1209


def test_reference_mode_falls_back_to_wrap_free_terms_where_a_count_may_wrap() -> None:
    """Q14: where the reference's uint32 counts may wrap (an overflow golden layer: 8x56x56, 256x128
    3x3), only MAC energy and static energy over the fewest MAC cycles remain; where nothing can
    wrap the reference-mode bound is the full bound less the binary32 slack."""
    tgt = TARGETS["eyeriss"]
    big = rc.Layer("big", K=256, B=8, P=56, Q=56, C=128, R=3, S=3)
    assert reference_may_wrap(tgt, big)
    ref, full = layer_lower_bound(tgt, big, reference_u32=True), layer_lower_bound(tgt, big)
    cycles = big.instance_macs / max_active_units(tgt, big)
    static = (0.0132 * 168 + (6e-7 + 2.7e-5 + 7e-6) * 168 + (0.006047 + 0.000387 + 0.006047) + 3 * 0.008) * 5.0
    assert ref.cycles == pytest.approx(cycles * (1 - 1e-5), rel=1e-12)
    assert ref.energy_pj == pytest.approx((big.instance_macs * 2.2 + static * cycles) * (1 - 1e-5), rel=1e-9)
    assert ref.energy_pj < 0.6 * full.energy_pj and ref.cycles < 0.5 * full.cycles
    small = rc.Layer("small", K=16, B=1, P=14, Q=14, C=16, R=3, S=3)
    assert not reference_may_wrap(tgt, small)
    ref, full = layer_lower_bound(tgt, small, reference_u32=True), layer_lower_bound(tgt, small)
    assert ref.energy_pj == pytest.approx(full.energy_pj * (1 - 1e-5) / (1 - 1e-9), rel=1e-12)


def test_wrap_detection_counts_the_bypass_cases() -> None:
    """An input-bypassing global buffer (spec §4.5 case a) multiplies an output count by a DRAM-row
    product, so a layer safe on eyeriss may wrap there."""
    layer = rc.Layer("mid", K=64, B=1, P=28, Q=28, C=64, R=3, S=3)  # 2 x 28.9M MACs < 2^32
    tgt = TARGETS["eyeriss"]
    gb = tgt.global_buffer
    assert not reference_may_wrap(tgt, layer)
    bypass_input = dataclasses.replace(tgt, global_buffer=dataclasses.replace(gb, bypass=("input",)))
    assert reference_may_wrap(bypass_input, layer)


@pytest.mark.parametrize("n", [1, 2, 97, 360, 1 << 31, (1 << 31) - 1, (1 << 52) - 1,
                               4503599627370449, 9 * 7 * 524309 * 1048583])
def test_factorisation_is_exact(n: int) -> None:
    fac = bound_mod._factor(n)
    assert math.prod(p**e for p, e in fac) == n
    assert all(bound_mod._is_prime(p) for p, _ in fac)


def test_divisors_match_brute_force() -> None:
    for n in range(1, 400):
        assert list(bound_mod._divisors(n)) == [d for d in range(1, n + 1) if n % d == 0]


@pytest.mark.parametrize(("target", "dims", "units"), [
    ("eyeriss", dict(K=64, P=56, Q=56, C=64), 112),   # no factor 3: 14 x 8 at best
    ("eyeriss", dict(K=96, P=56, Q=56, C=64), 168),   # 14 x 12
    ("eyeriss", dict(K=1, P=1, Q=1, C=1), 1),
    ("eyeriss_v2", dict(K=7, P=1, Q=1, C=1), 7),       # 7 fits one row (chip Y = 8)
    ("eyeriss_v2", dict(K=49, P=1, Q=1, C=1), 7),      # only chip Y (8) can take a 7
    ("simba", dict(K=1024, P=1, Q=1, C=1024), 2**14),  # powers of 2: 8, 8 | 4, 4 | 4, 4 (chip rows <= 6)
    ("tpu_v3", dict(K=5, P=1, Q=1, C=5), 25),
])
def test_max_active_units(target: str, dims: dict, units: int) -> None:
    layer = rc.Layer("u", B=1, R=1, S=1, **dims)
    assert max_active_units(TARGETS[target], layer) == units


def test_max_active_units_honours_the_pe_allowed_columns() -> None:
    tgt = TARGETS["eyeriss"]
    pe = dataclasses.replace(tgt.pe_array, allowed_x=("K",), allowed_y=("K",))
    only_k = dataclasses.replace(tgt, pe_array=pe)
    layer = rc.Layer("c", K=1, B=1, P=56, Q=56, C=64, R=1, S=1)
    assert max_active_units(tgt, layer) == 112 and max_active_units(only_k, layer) == 1


def test_mac_interface_on_an_array_without_mac_rows_is_the_per_mac_traffic() -> None:
    """eyeriss (no MAC array): every MAC reads an input, a weight and writes an output through the
    local-buffer port; partial sums are read back except on the first of the eta temporal
    reductions: E_LB,up = M (e_I + e_W + e_O (2 - 1/eta)) with eta >= CRS / (largest CRS divisor
    <= 168); cycles >= M / 112 (utilisation) x (1 + max(1, 1, 2 - 1/eta)) (separate LB ports)."""
    tgt = TARGETS["eyeriss"]
    layer = rc.Layer("c", K=64, B=1, P=56, Q=56, C=256, R=1, S=1)
    m = layer.instance_macs
    eta = 256 / 128
    bound = mac_interface_bound(tgt, layer)
    assert bound.lb_upper_energy_pj == pytest.approx(m * (0.19 + 0.63 + 0.25 * (2 - 1 / eta)))
    # the cycles pair the spatial reduction with the rest of the array: a = 128 spatial C leaves at
    # most 1 (no other factor fits 168 / 128); a = 2^j x b = 112 / ... is minimised over a
    assert bound.mac_lb_cycles >= m / 112 * 2 - 1e-6


def test_dram_rows_fall_back_to_the_closed_form_above_the_candidate_limit(monkeypatch) -> None:
    tgt = TARGETS["eyeriss"]
    layer = rc.Layer("c", K=128, B=1, P=28, Q=28, C=128, R=3, S=3)
    full = layer_lower_bound(tgt, layer)
    assert dram_row_bound(tgt, layer) is not None
    monkeypatch.setattr(bound_mod, "DRAM_ROW_CANDIDATES_LIMIT", 10)
    assert dram_row_bound(tgt, layer) is None
    weaker = layer_lower_bound(tgt, layer)
    assert 0 < weaker.energy_pj < full.energy_pj and 0 < weaker.cycles < full.cycles


def test_weight_bypass_rule_tightens_the_dram_rows(monkeypatch) -> None:
    """eyeriss's GB bypasses weights (spec §4.5 b): weights the local buffers cannot hold force a
    weight factor into the GB row, so a DRAM row without weight factors pays irrW(9) weight reads;
    the bound counts it (1x1 stride-2 layer: without the rule the minimum skips the weights)."""
    tgt = TARGETS["eyeriss"]
    layer = rc.Layer("ds", K=512, B=1, P=28, Q=28, C=256, R=1, S=1, stride_h=2, stride_w=2)
    with_rule = dram_row_bound(tgt, layer)
    assert bound_mod._weights_below_gb(tgt) == pytest.approx(224 * 168)
    monkeypatch.setattr(bound_mod, "_weights_below_gb", lambda target: math.inf)
    without = dram_row_bound(tgt, layer)
    assert with_rule is not None and without is not None
    assert with_rule.energy_pj > 1.5 * without.energy_pj


def _height(p: int, r: int, stride: int, dilation: int) -> int:
    return (p - 1) * stride + (r - 1) * dilation + 1


@settings(max_examples=200, deadline=None)
@given(p=st.integers(1, 40), r=st.integers(1, 9), a=st.integers(1, 40), b=st.integers(1, 9),
       stride=st.sampled_from([0, 1]))
def test_split_dense_window_keeps_its_share(p: int, r: int, a: int, b: int, stride: int) -> None:
    """The chip-array capacity check of the DRAM rows: with stride <= 1 and no dilation, a window
    split a ways along P and b ways along R keeps at least 1/(a b) of its rows."""
    if p % a or r % b:
        return
    assert _height(p // a, r // b, stride, 1) * a * b >= _height(p, r, stride, 1)


def test_split_window_can_shrink_more_with_a_larger_stride() -> None:
    """... which is why the check needs it: stride 3, 1x1 kernel, P = 4 split 4 ways keeps 1 row
    of 10 (a quarter would be 2.5), and dilation 3 with R = 3 split 3 ways 1 row of 7."""
    assert _height(1, 1, 3, 1) * 4 < _height(4, 1, 3, 1)
    assert _height(1, 1, 1, 3) * 3 < _height(1, 3, 1, 3)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_bound_below_the_default_search_on_zoo_layers(target: str) -> None:
    """The default search's tables of MobileNetV3-small layers (the strided stem, a depthwise, a
    strided depthwise and a 5x5 depthwise layer, a pointwise layer, a squeeze-excite FC, the
    classifier), both objectives, stay above the bound."""
    from rlsched_compile.frontend import load_network, zoo

    layers = list({ly.signature(): ly for ly in load_network(zoo.zoo_path("mobilenet_v3_small")).layers}.values())
    kinds = [lambda ly: True, lambda ly: ly.G > 1 and ly.stride_h == 1, lambda ly: ly.G > 1 and ly.stride_h == 2,
             lambda ly: ly.G > 1 and ly.R == 5, lambda ly: ly.R == 1 and ly.P > 1,
             lambda ly: ly.P == 1 and ly.G == 1]
    picked = [next(ly for ly in layers if kind(ly)) for kind in kinds] + [layers[-1]]
    assert len({ly.signature() for ly in picked}) == 7
    tgt = TARGETS[target]
    for layer in picked:
        bound = layer_lower_bound(tgt, layer)
        for objective in ("energy", "cycles"):
            best = rc.schedule_layer(tgt, layer, objective=objective)
            assert best.energy_pj >= bound.energy_pj and best.cycles >= bound.cycles, (layer, objective)
            _check_terms(tgt, layer, np.asarray(best.table))
