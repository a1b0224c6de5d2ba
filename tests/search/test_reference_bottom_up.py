"""``bottom-up`` reproduces the reference heuristic's ResNet-50 results on Eyeriss
(../shared/baselines): every table identical, every energy within 1% (in fact within the
reference's binary32 rounding)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rlsched_compile import Layer, schedule_layer
from rlsched_compile.targets import Target


def test_all_21_layers_match_the_reference(eyeriss: Target, reference_bottom_up: dict[str, Any]) -> None:
    layers = reference_bottom_up["layers"]
    assert len(layers) == 21
    total_energy = 0.0
    for entry in layers:
        layer = Layer.from_dict(entry["layer"])
        result = schedule_layer(eyeriss, layer, search="bottom-up")
        ref_table = np.array([row["values"] for row in entry["table"]])
        np.testing.assert_array_equal(result.table_array(), ref_table, err_msg=layer.name)
        assert result.energy_pj == pytest.approx(entry["total_energy_pj"], rel=1e-5), layer.name
        assert result.cycles == pytest.approx(entry["total_cycles"], rel=1e-5), layer.name
        assert result.finished and result.strategy == "bottom-up"
        total_energy += result.energy_pj
    assert total_energy == pytest.approx(reference_bottom_up["totals"]["energy_pj"], rel=1e-5)


def test_default_strategy_is_never_worse_than_bottom_up(eyeriss: Target, reference_bottom_up: dict[str, Any]) -> None:
    entry = reference_bottom_up["layers"][0]
    result = schedule_layer("eyeriss", entry["layer"])
    assert result.strategy == "rl-hybrid"  # bottom-up + agent + row polish (issue 6)
    assert result.energy_pj <= entry["total_energy_pj"] * (1 + 1e-5)
