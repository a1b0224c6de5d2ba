"""The strategies behind ``schedule_layer``: ground truth from ``exhaustive``, determinism,
validity of every returned table, and the diagnostics."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile import Layer, RlschedError, SearchError, evaluate_table, schedule_layer
from rlsched_compile.search import DEFAULT_STRATEGY, STRATEGIES, SearchResult, Strategy, make_strategy
from rlsched_compile.targets import Target

BUDGETS: dict[str, int | None] = {"bottom-up": None, "random": 300, "exhaustive": 20_000, "row-sweep": None}

SMALL = [
    ("eyeriss", Layer("s1", K=4, B=1, P=2, Q=2, C=2, R=1, S=1)),
    ("eyeriss", Layer("s2", K=8, B=1, P=4, Q=4, C=8, R=1, S=1)),
    ("eyeriss", Layer("s3", K=16, B=1, P=7, Q=7, C=16, R=3, S=3)),
    ("eyeriss", Layer("s4", K=6, B=1, P=3, Q=3, C=6, R=3, S=3, G=3, stride_h=2, stride_w=2)),
    ("simba", Layer("s1", K=4, B=1, P=2, Q=2, C=2, R=1, S=1)),
    ("eyeriss_v2", Layer("s1", K=4, B=1, P=2, Q=2, C=2, R=1, S=1)),
    ("tpu_v3", Layer("s1", K=4, B=1, P=2, Q=2, C=2, R=1, S=1)),
]


def test_registry() -> None:
    assert list(STRATEGIES)[:4] == ["bottom-up", "exhaustive", "random", "row-sweep"]
    assert DEFAULT_STRATEGY == "rl-hybrid"
    for name in STRATEGIES:
        strategy = make_strategy(name)
        assert isinstance(strategy, Strategy) and strategy.name == name


@pytest.mark.parametrize("target_name, layer", SMALL, ids=lambda v: v if isinstance(v, str) else v.name)
@pytest.mark.parametrize("objective", ["energy", "cycles", "edp"])
def test_no_strategy_beats_finished_exhaustive(shipped: dict[str, Target], target_name: str, layer: Layer,
                                               objective: str) -> None:
    target = shipped[target_name]
    truth = schedule_layer(target, layer, search="exhaustive", objective=objective)
    assert truth.finished, "the ground-truth layers must be small enough to enumerate"
    for name in ("bottom-up", "random", "row-sweep"):
        got = schedule_layer(target, layer, search=name, objective=objective, budget=BUDGETS[name], seed=1)
        assert got.objective_value() >= truth.objective_value() * (1 - 1e-12), name
    assert truth.objective_value() <= schedule_layer(target, layer, objective=objective).objective_value()


def test_exhaustive_reports_unfinished_budget(shipped: dict[str, Target]) -> None:
    layer = Layer("mid", K=64, B=1, P=14, Q=14, C=64, R=3, S=3)
    r = schedule_layer(shipped["simba"], layer, search="exhaustive", budget=1000)
    assert r.finished is False and r.evaluations == 1000


@pytest.mark.parametrize("name", ["bottom-up", "random", "exhaustive", "row-sweep"])
def test_same_seed_same_result(shipped: dict[str, Target], name: str) -> None:
    layer = Layer("c", K=32, B=1, P=14, Q=14, C=16, R=3, S=3)
    a = schedule_layer(shipped["eyeriss_v2"], layer, search=name, seed=7, budget=BUDGETS[name], objective="edp")
    b = schedule_layer(shipped["eyeriss_v2"], layer, search=name, seed=7, budget=BUDGETS[name], objective="edp")
    assert a == b  # wall time and the Evaluation object are not compared
    assert a.table == b.table and a.evaluations == b.evaluations


def test_random_depends_on_seed_and_budget(shipped: dict[str, Target]) -> None:
    layer = Layer("c", K=64, B=1, P=28, Q=28, C=64, R=3, S=3)
    results = {schedule_layer(shipped["simba"], layer, search="random", seed=s, budget=200).table for s in range(4)}
    assert len(results) > 1
    r = schedule_layer(shipped["simba"], layer, search="random", seed=0, budget=50)
    assert r.evaluations == 50


@settings(max_examples=20, deadline=None)
@given(target_name=st.sampled_from(["eyeriss", "eyeriss_v2", "simba", "tpu_v3"]),
       name=st.sampled_from(["bottom-up", "random", "exhaustive", "row-sweep"]),
       k=st.sampled_from([1, 3, 16, 64]), p=st.sampled_from([1, 5, 7, 28]), c=st.sampled_from([1, 3, 32]),
       r=st.sampled_from([1, 3, 5]), g=st.sampled_from([1, 2]), b=st.sampled_from([1, 2]),
       stride=st.sampled_from([1, 2]), objective=st.sampled_from(["energy", "cycles", "edp"]))
def test_every_result_is_a_valid_table_of_the_layer(shipped: dict[str, Target], target_name: str, name: str, k: int,
                                                    p: int, c: int, r: int, g: int, b: int, stride: int,
                                                    objective: str) -> None:
    layer = Layer("h", K=k * g, B=b, P=p, Q=p, C=c * g, R=r, S=r, G=g, stride_h=stride, stride_w=stride)
    target = shipped[target_name]
    result = schedule_layer(target, layer, search=name, objective=objective, budget=BUDGETS[name], seed=3)
    table = result.table_array()
    assert table.shape == (10, 8)
    np.testing.assert_array_equal(np.prod(table, axis=0), layer.per_group())
    ev = evaluate_table(target, layer, table)
    assert ev.valid
    assert result.energy_pj == ev.energy_pj and result.cycles == ev.cycles
    assert result.evaluation.valid and result.strategy == name and result.objective == objective
    assert result.evaluations >= 1


def test_search_result_is_frozen(eyeriss: Target) -> None:
    r = schedule_layer(eyeriss, {"name": "x", "K": 4, "B": 1, "P": 2, "Q": 2, "C": 2, "R": 1, "S": 1, "G": 1})
    assert isinstance(r, SearchResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.energy_pj = 0.0  # type: ignore[misc]


def _eyeriss_with(eyeriss: Target, **lb_changes: Any) -> dict[str, Any]:
    d = eyeriss.to_dict()
    d["levels"][0].update(lb_changes)
    return d


def test_no_valid_table_diagnostic_fixed_kernel(eyeriss: Target) -> None:
    target = _eyeriss_with(eyeriss, fixed_mapping=[0, 0, 0, 0, 0, 11, 11, 0])
    layer = Layer("conv11", K=96, B=1, P=55, Q=55, C=3, R=11, S=11, stride_h=4, stride_w=4)
    for name in ("bottom-up", "random", "exhaustive", "row-sweep"):
        with pytest.raises(SearchError) as info:
            schedule_layer(target, layer, search=name)
        assert str(info.value) == (
            "layer 'conv11' has no valid schedule on target 'eyeriss': even the smallest input tile of the "
            "local buffer with its fixed mapping R=11, S=11 (121 elements) exceeds its input capacity of 12 "
            "elements; enlarge that buffer or relax its fixed_mapping")


def test_no_valid_table_diagnostic_mapping_does_not_divide(eyeriss: Target) -> None:
    target = _eyeriss_with(eyeriss, fixed_mapping=[0, 0, 0, 0, 0, 5, 0, 0])
    layer = Layer("k3", K=8, B=1, P=8, Q=8, C=8, R=3, S=3)
    with pytest.raises(SearchError, match=r"the fixed mapping of the local buffer puts R = 5, which does not "
                                          r"divide the layer's R = 3: change the target's fixed_mapping"):
        schedule_layer(target, layer)


def test_no_valid_table_diagnostic_shared_capacity(eyeriss: Target) -> None:
    d = eyeriss.to_dict()
    d["levels"][2]["capacity_bytes"] = {"shared": 2}  # the GB holds 1 element, input + output need 2
    with pytest.raises(SearchError, match=r"even the smallest tiles of the global buffer \(input 1 \+ output 1 = 2 "
                                          r"elements\) exceed its shared capacity of 1 elements"):
        schedule_layer(d, Layer("x", K=4, B=1, P=2, Q=2, C=2, R=1, S=1))


def test_argument_errors(eyeriss: Target) -> None:
    layer = Layer("x", K=4, B=1, P=2, Q=2, C=2, R=1, S=1)
    with pytest.raises(RlschedError, match="unknown search strategy 'greedy'; choose one of bottom-up, exhaustive, "
                                           "random, rl, rl-hybrid, row-sweep"):
        schedule_layer(eyeriss, layer, search="greedy")
    with pytest.raises(RlschedError, match="unknown objective 'latency': use one of energy, cycles, edp"):
        schedule_layer(eyeriss, layer, objective="latency")
    with pytest.raises(RlschedError, match="budget must be >= 1 evaluations, got 0"):
        schedule_layer(eyeriss, layer, search="random", budget=0)


def test_bottom_up_budget_is_an_approximation(shipped: dict[str, Target]) -> None:
    layer = Layer("res3", K=128, B=1, P=28, Q=28, C=128, R=3, S=3)
    full = schedule_layer(shipped["eyeriss"], layer, search="bottom-up")
    cut = schedule_layer(shipped["eyeriss"], layer, search="bottom-up", budget=2000)
    assert full.finished and not cut.finished
    assert cut.evaluations < full.evaluations
    assert cut.evaluation.valid
    sweep = schedule_layer(shipped["eyeriss"], layer, search="row-sweep", budget=4000)
    assert not sweep.finished and sweep.evaluation.valid
