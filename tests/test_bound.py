"""The lower-bound certificate: no valid table costs less than the bound (property test)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import rlsched_compile as rc
from rlsched_compile.bound import layer_lower_bound
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
