"""The lower-bound certificate: no valid table costs less than the bound (property test)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rlsched_compile as rc
from rlsched_compile.bound import compulsory_inputs, layer_lower_bound
from rlsched_compile.errors import SearchError
from rlsched_compile.native import search as native_search
from rlsched_compile.native.costmodel import evaluate_table

TARGETS = {name: rc.load_target(name) for name in ("eyeriss", "eyeriss_v2", "simba", "tpu_v3")}

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
    state = seed
    for _ in range(5):
        try:
            table, state = native_search.sample_valid(tgt, layer, rng_state=state)
        except SearchError:
            return
        ev = evaluate_table(tgt, layer, np.asarray(table))
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
    state = seed
    for _ in range(8):
        try:
            table, state = native_search.sample_valid(tgt, layer, rng_state=state)
        except SearchError:
            return
        ev = evaluate_table(tgt, layer, np.asarray(table))
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
