"""The extra polishes of ``rl-hybrid`` (issue 14's 1% bar): quadruple ordering, random starts,
the quadruple polish never worse than its start, and the layers whose gap they close."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile import Layer, evaluate_table, schedule_layer
from rlsched_compile.native import search as native_search
from rlsched_compile.objective import Objective
from rlsched_compile.table import writable_rows
from rlsched_compile.search.polish import (group_candidates, ordered_factorizations, quadruples_cheapest_first,
                                           sample_budget, sample_starts)
from rlsched_compile.search.rl import polish_quadruples, polish_rows
from rlsched_compile.targets import Target


def _brute_factorizations(n: int, parts: int) -> int:
    if parts == 1:
        return 1
    return sum(_brute_factorizations(n // d, parts - 1) for d in range(1, n + 1) if n % d == 0)


@given(st.integers(1, 400), st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_ordered_factorizations_counts_every_ordered_product(n: int, parts: int) -> None:
    assert ordered_factorizations(n, parts) == _brute_factorizations(n, parts)


@pytest.mark.parametrize("target_name", ["eyeriss", "simba"])
def test_group_candidates_bounds_what_search_rows_visits(shipped: dict[str, Target], target_name: str) -> None:
    target = shipped[target_name]
    layer = Layer("l", K=16, B=1, P=7, Q=7, C=16, R=3, S=3)
    table = schedule_layer(target, layer, search="bottom-up").table_array()
    rows = writable_rows(target)
    order = quadruples_cheapest_first(table, rows)
    assert sorted(order) == sorted(itertools.combinations(rows, 4))
    costs = [group_candidates(table, g) for g in order]
    assert costs == sorted(costs)
    for group in order[:6] + order[-3:]:
        assert native_search.search_rows(target, layer, table, group, "energy").candidates <= group_candidates(table, group)


def test_sample_starts_are_valid_and_seeded(shipped: dict[str, Target]) -> None:
    target = shipped["eyeriss_v2"]
    layer = Layer("l", K=32, B=1, P=14, Q=14, C=16, R=3, S=3)
    a = sample_starts(target, layer, seed=0, count=3)
    assert len(a) == 3 and all(evaluate_table(target, layer, t).valid for t in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, sample_starts(target, layer, seed=0, count=3)))
    assert not all(np.array_equal(x, y) for x, y in zip(a, sample_starts(target, layer, seed=1, count=3)))


@pytest.mark.parametrize("objective", ["energy", "cycles"])
def test_quadruple_polish_never_worse_and_stays_valid(shipped: dict[str, Target], objective: str) -> None:
    target = shipped["eyeriss_v2"]
    layer = Layer("l", K=64, B=1, P=56, Q=56, C=64, R=1, S=1)
    start, e0, c0, _, _ = polish_rows(target, layer, sample_starts(target, layer, seed=3, count=1)[0],
                                      objective=objective)
    table, e1, c1, candidates, _ = polish_quadruples(target, layer, start, objective=objective, budget=200_000)
    ev = evaluate_table(target, layer, table)
    assert ev.valid and (ev.energy_pj, ev.cycles) == (e1, c1)
    assert (e1 if objective == "energy" else c1) <= (e0 if objective == "energy" else c0)
    assert candidates > 0


# Layers where the default was more than 1% above the best-known table before these polishes
# (bench/results/best_known.md, issue 14): their best-known values, from the bench's cache.
_L1 = Layer("layer1.1.conv1", K=64, B=1, P=56, Q=56, C=256, R=1, S=1)
GAP_LAYERS = [
    ("eyeriss_v2", _L1, "energy", 404105429.716992),
    ("eyeriss_v2", _L1, "cycles", 2692352.0),
    ("eyeriss_v2", Layer("layer3.0.downsample.0", K=1024, B=1, P=14, Q=14, C=512, R=1, S=1,
                         stride_h=2, stride_w=2), "energy", 823801468.8542721),
    ("simba", Layer("layer2.1.conv2", K=128, B=1, P=28, Q=28, C=128, R=3, S=3), "cycles", 426752.0),
    ("eyeriss", Layer("layer4.1.conv2", K=512, B=1, P=7, Q=7, C=512, R=3, S=3), "energy", 835357067.7308801),
    # Other zoo models (bench_best_known over the whole zoo): 3.9-40% above before the wider
    # cross-objective gate, the bigger random-start budgets and the quadruple budget floor.
    ("eyeriss_v2", Layer("yolov3.conv1.conv", K=64, B=1, P=208, Q=208, C=32, R=3, S=3, stride_h=2, stride_w=2),
     "energy", 4816127795.593728),
    ("simba", Layer("unet.down1.maxpool_conv.1.double_conv.3", K=128, B=1, P=128, Q=128, C=128, R=3, S=3),
     "energy", 4452356423.24992),
    ("simba", Layer("unet.up2.conv.double_conv.0", K=256, B=1, P=64, Q=64, C=512, R=3, S=3), "energy",
     7860584165.171199),
    # The cycles default missed the energy search's random-start winner polished for cycles (2.2%):
    # closed by polishing the random starts for energy too (SAMPLE_DETOUR_OBJECTIVE).
    ("simba", Layer("unet.down4.maxpool_conv.1.double_conv.3", K=1024, B=1, P=16, Q=16, C=1024, R=3, S=3),
     "cycles", 12083712.0),
    ("eyeriss", Layer("mobilenet_v3_large.features.9.project", K=80, B=1, P=14, Q=14, C=184, R=1, S=1), "cycles",
     274368.0),
    # EDP (session 5's heavy search under EDP on eyeriss, eyeriss_v2 and simba): 10.4% above, the
    # energy default's table; closed by the agent under the other objectives (CROSS_OBJECTIVE_AGENT_FOR)
    ("eyeriss", Layer("resnet50.layer4.0.conv3", K=2048, B=1, P=7, Q=7, C=512, R=1, S=1), "edp",
     1778582562379672.8),
    # 11.3% above (YOLO v3 conv89, the cycles default's table), closed the same way
    ("eyeriss", Layer("yolov3.conv89.conv", K=255, B=1, P=26, Q=26, C=512, R=1, S=1), "edp", 3176707855563861.5),
    # 19.0% above: bottom-up's cycles table polished for cycles seeds the EDP polish on layers up to
    # 8 M bottom-up candidates (CROSS_OBJECTIVE_EDP_MAX_CANDIDATES), then a 400 k quadruple polish
    ("simba", Layer("unet.down3.maxpool_conv.1.double_conv.3", K=512, B=1, P=32, Q=32, C=512, R=3, S=3), "edp",
     2.3227138040875052e16),
]


@pytest.mark.parametrize("target_name, layer, objective, best_known", GAP_LAYERS,
                         ids=[f"{t}-{l.name}-{o}" for t, l, o, _ in GAP_LAYERS])
def test_default_within_one_percent_of_best_known(shipped: dict[str, Target], target_name: str, layer: Layer,
                                                  objective: str, best_known: float) -> None:
    r = schedule_layer(shipped[target_name], layer, objective=objective)
    assert Objective.parse(objective).measure(r.energy_pj, r.cycles) <= 1.01 * best_known


def test_default_never_worse_than_the_other_objectives_table(shipped: dict[str, Target]) -> None:
    """MobileNet v3's features.9.project on eyeriss: the energy search's table had 40% fewer cycles
    than the cycles search found; the cycles default must not lose to it (issue 14)."""
    target = shipped["eyeriss"]
    layer = GAP_LAYERS[-1][1]
    by_cycles = schedule_layer(target, layer, objective="cycles")
    by_energy = schedule_layer(target, layer, objective="energy")
    assert by_cycles.cycles <= by_energy.cycles


@given(st.integers(0, 10**9))
def test_sample_budget_is_the_floor_or_a_tenth_of_bottom_up(bottom_up_candidates: int) -> None:
    cap = sample_budget(bottom_up_candidates)
    assert cap >= 50_000 and cap >= bottom_up_candidates // 10
    assert cap in (50_000, bottom_up_candidates // 10)
