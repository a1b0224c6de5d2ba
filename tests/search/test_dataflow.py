"""Flexible dataflows: per-evaluation dataflows in C, the joint search, schedule_layer's option."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsched_compile import Layer, evaluate_table, load_target, schedule_layer
from rlsched_compile.errors import RlschedError, TargetError
from rlsched_compile.native import costmodel
from rlsched_compile.native import search as native_search
from rlsched_compile.native._rls import ffi, lib
from rlsched_compile.search.dataflow import (apply_dataflows, dataflow_combinations, schedule_layer_flexible)
from rlsched_compile.targets import target_from_dict

TARGETS = ("eyeriss", "eyeriss_v2", "simba", "tpu_v3")
SMALL = [Layer("a", K=32, B=1, P=14, Q=14, C=16, R=3, S=3), Layer("b", K=64, B=1, P=7, Q=7, C=64, R=1, S=1),
         Layer("dw", K=32, B=1, P=14, Q=14, C=32, R=3, S=3, G=32)]


def _plain(target, layer, table):  # noqa: ANN001, ANN202
    """rls_evaluate (no per-call dataflows) on a C target *built* with the target's dataflows."""
    handle = costmodel._hardware_handle(target)  # builds from the Target as described, dataflows included
    out = ffi.new("rls_result *")
    arr = np.ascontiguousarray(table, dtype=np.int64)
    assert lib.rls_evaluate(handle, costmodel.native_layer(layer), ffi.from_buffer("int64_t[]", arr), out) == 0
    return costmodel._result_to_evaluation(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target_name=st.sampled_from(TARGETS), layer_i=st.integers(0, len(SMALL) - 1),
       seed=st.integers(0, 2**32), combo_i=st.integers(0, 8))
def test_per_evaluation_dataflows_equal_a_target_built_with_them(target_name: str, layer_i: int, seed: int,
                                                                 combo_i: int) -> None:
    base = load_target(target_name)
    combos = dataflow_combinations(base)
    variant = base.with_dataflows(combos[combo_i % len(combos)])
    layer = SMALL[layer_i]
    table, _ = native_search.sample_valid(base, layer, rng_state=seed)
    # evaluate_table passes the dataflows per call to the shared hardware handle
    assert costmodel.native_target(variant) is costmodel.native_target(base)
    assert evaluate_table(variant, layer, table) == _plain(variant, layer, table)


def test_combinations_start_with_the_fixed_pair_and_respect_bypasses() -> None:
    eyeriss = load_target("eyeriss")  # GB bypasses weights
    combos = dataflow_combinations(eyeriss)
    assert combos[0] == ("WS", "OS") and len(combos) == len(set(combos)) == 6
    assert all(gb != "WS" for _, gb in combos)
    d = eyeriss.to_dict()
    d["levels"][0]["dataflow"] = ["OS", "IS"]  # eyeriss levels: [0] local_buffer, [2] global_buffer
    assert dataflow_combinations(target_from_dict(d)) == [("OS", "OS"), ("OS", "IS"), ("IS", "IS"), ("IS", "OS")]


def test_with_dataflows_refuses_a_bypassed_stationary_type() -> None:
    with pytest.raises(ValueError, match="bypasses weight"):
        load_target("eyeriss").with_dataflows(("WS", "WS"))


@pytest.mark.parametrize("target_name", ["eyeriss", "simba"])
@pytest.mark.parametrize("objective", ["energy", "cycles"])
def test_flexible_is_never_worse_than_fixed_per_layer(target_name: str, objective: str) -> None:
    target = load_target(target_name)
    combos = dataflow_combinations(target)
    for layer in SMALL[:2]:
        flex = schedule_layer_flexible(target, layer, search="row-sweep", objective=objective)
        fixed = schedule_layer(target, layer, search="row-sweep", objective=objective)
        assert flex.fixed == fixed  # the fixed candidate is exactly fixed mode's result
        assert flex.result.objective_value() <= fixed.objective_value()
        assert flex.best_start <= fixed.objective_value()
        assert flex.result.objective_value() <= flex.best_start
        assert flex.dataflows in combos
        ev = evaluate_table(target.with_dataflows(flex.dataflows), layer, flex.result.table)
        assert ev.valid and ev.objective(objective) == flex.result.objective_value()


def test_flexible_beats_fixed_where_another_dataflow_pays() -> None:
    """ResNet-50's layer1 1x1 conv on eyeriss: IS/IS saves energy (measured ~28%)."""
    target = load_target("eyeriss")
    layer = Layer("l1", K=64, B=1, P=56, Q=56, C=64, R=1, S=1)
    flex = schedule_layer_flexible(target, layer, search="row-sweep")
    assert flex.result.energy_pj < 0.9 * flex.fixed.energy_pj
    assert flex.dataflows != ("WS", "OS")


def test_schedule_layer_option_and_determinism() -> None:
    target = load_target("eyeriss")
    layer = SMALL[0]
    a = schedule_layer(target, layer, search="bottom-up", dataflow="flexible")
    b = schedule_layer(target, layer, search="bottom-up", dataflow="flexible")
    assert a == b and a.table == b.table and a.dataflows == b.dataflows and a.dataflows is not None
    assert schedule_layer(target, layer, search="bottom-up").dataflows is None
    with pytest.raises(RlschedError, match="unknown dataflow mode 'both': use one of fixed, flexible"):
        schedule_layer(target, layer, dataflow="both")


def test_apply_dataflows_checks_what_a_schedule_asks_for() -> None:
    eyeriss = load_target("eyeriss")
    assert apply_dataflows(eyeriss, {"local_buffer": "IS", "global_buffer": "IS", "dram": None}).dataflow_choice() \
        == ("IS", "IS")
    assert apply_dataflows(eyeriss, {}) == eyeriss
    with pytest.raises(TargetError, match="global_buffer: 'eyeriss' cannot use WS there"):
        apply_dataflows(eyeriss, {"global_buffer": "WS"})
    with pytest.raises(TargetError, match="unknown dataflow 'XS'"):
        apply_dataflows(eyeriss, {"local_buffer": "XS"})
    with pytest.raises(TargetError, match="unknown level 'pe_array'"):
        apply_dataflows(eyeriss, {"pe_array": "WS"})
    with pytest.raises(TargetError, match="must be a mapping"):
        apply_dataflows(eyeriss, ["WS", "OS"])
    d = eyeriss.to_dict()
    d["levels"][0]["dataflow"] = ["WS", "OS"]
    declared = target_from_dict(d)
    with pytest.raises(TargetError, match=r"cannot use IS there \(allowed: WS, OS\)"):
        apply_dataflows(declared, {"local_buffer": "IS"})
