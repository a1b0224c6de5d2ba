"""``search_rows``'s pruned walk is exact (issue 14, item 1): it decides the rules that read no
searched row once, skips the check of a column of ones, evaluates complete tables without
re-checking them, and counts without finishing the figures of a table whose objective a bound
proves above the incumbent's. Against the plain walk (``plain=True``: every partial table checked
against every rule, every complete table evaluated in full) it returns the same table, energy,
cycles and candidate count, on every shipped target, objective and group of rows, from valid
starts, from tables whose column products are not the layer's, and with fixed mappings and
PE-array column constraints."""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from rlsched_compile import Layer, SearchError, load_target
from rlsched_compile.native.search import bottom_up, sample_valid, search_rows
from rlsched_compile.table import writable_rows
from rlsched_compile.targets import Target

TARGETS = ("eyeriss", "eyeriss_v2", "simba", "tpu_v3")
OBJECTIVES = ("energy", "cycles", "edp")
LAYERS = (Layer("conv3x3", K=32, B=1, P=14, Q=14, C=16, R=3, S=3),
          Layer("strided", K=24, B=2, P=7, Q=7, C=12, R=5, S=5, stride_h=2, stride_w=2),
          Layer("grouped", K=32, B=1, P=6, Q=6, C=32, R=3, S=3, G=4),
          Layer("pointwise", K=64, B=1, P=8, Q=8, C=48, R=1, S=1),
          Layer("fc", K=100, B=4, P=1, Q=1, C=96, R=1, S=1))


def _outcome(target: Any, layer: Layer, table: np.ndarray, rows: tuple[int, ...], objective: str,
             plain: bool) -> tuple[Any, ...]:
    try:
        r = search_rows(target, layer, table, rows, objective, plain=plain)
    except SearchError as err:
        return ("error", str(err))
    return (r.table.tobytes(), r.energy_pj, r.cycles, r.candidates)


def _starts(target: Target, layer: Layer, objective: str) -> list[np.ndarray]:
    starts = [np.array(bottom_up(target, layer, objective).table)]
    state = 12345
    for _ in range(2):
        table, state = sample_valid(target, layer, rng_state=state)
        starts.append(np.array(table))
    return starts


def _groups(target: Target) -> list[tuple[int, ...]]:
    rows = [int(r) for r in writable_rows(target)]
    return list(itertools.combinations(rows, 2)) + list(itertools.combinations(rows, 3))


@pytest.mark.parametrize("target_name", TARGETS)
def test_pruned_walk_equals_plain_walk(target_name: str) -> None:
    target = load_target(target_name)
    compared = 0
    for layer, objective in itertools.product(LAYERS, OBJECTIVES):
        for table in _starts(target, layer, objective):
            for group in _groups(target):
                pruned = _outcome(target, layer, table, group, objective, plain=False)
                plain = _outcome(target, layer, table, group, objective, plain=True)
                assert pruned == plain, (layer.name, objective, group)
                compared += 1
    assert compared > 500


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_quadruples_equal_plain_walk_on_tpu_v3(objective: str) -> None:
    target = load_target("tpu_v3")
    layer = LAYERS[0]
    table = np.array(bottom_up(target, layer, objective).table)
    rows = [int(r) for r in writable_rows(target)]
    for group in itertools.combinations(rows, 4):
        assert (_outcome(target, layer, table, group, objective, plain=False)
                == _outcome(target, layer, table, group, objective, plain=True)), group


def test_wrong_column_products_count_the_same_invalid_candidates() -> None:
    """A start whose column products are not the layer's: every candidate is invalid, and both
    walks say so after the same count."""
    target = load_target("eyeriss")
    layer = LAYERS[0]
    table = np.array(bottom_up(target, layer, "energy").table)
    table[9, 0] *= 2  # the K column now multiplies to 2K
    for group in _groups(target):
        pruned = _outcome(target, layer, table, group, "energy", plain=False)
        assert pruned == _outcome(target, layer, table, group, "energy", plain=True)
        assert pruned[0] == "error"


def _constrained(eyeriss: Target) -> dict[str, Any]:
    """eyeriss with a local-buffer fixed mapping (S = 3) and PE columns limited to K/C/R/P."""
    d = eyeriss.to_dict()
    d["levels"][0]["fixed_mapping"] = [0, 0, 0, 0, 0, 0, 3, 0]
    for level in d["levels"]:
        if level.get("level") == "pe_array":
            level["allowed_x"] = ["K", "C"]
            level["allowed_y"] = ["R", "P"]
    return d


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_fixed_mapping_and_pe_constraints_equal_plain_walk(objective: str) -> None:
    target = load_target(_constrained(load_target("eyeriss")))
    layer = LAYERS[0]
    table, _ = sample_valid(target, layer, rng_state=7)
    assert table[3, 6] == 3
    for group in _groups(target):
        assert (_outcome(target, layer, table, group, objective, plain=False)
                == _outcome(target, layer, table, group, objective, plain=True)), group


def test_unet_decoder_layer_heaviest_groups_equal_plain_walk() -> None:
    """UNet's up4 3x3 conv on tpu_v3 from bottom-up's table: the row groups that take most of the
    default search's row-search time there (LB with a PE row and the GB or DRAM row)."""
    objective = "energy"
    target = load_target("tpu_v3")
    layer = Layer("up4.conv.double_conv.0", K=64, B=1, P=256, Q=256, C=128, R=3, S=3)
    table = np.array(bottom_up(target, layer, objective).table)
    for group in ((3, 4, 6), (3, 4, 9)):
        pruned = _outcome(target, layer, table, group, objective, plain=False)
        assert pruned == _outcome(target, layer, table, group, objective, plain=True), group
        assert pruned[0] != "error" and pruned[3] > 1000
