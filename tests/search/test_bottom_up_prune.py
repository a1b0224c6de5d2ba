"""bottom-up's bound pruning (issue 14, item 1) is exact: with it, the (LB, GB] pair search counts
options (and whole temporal phases) that cannot move its survivors instead of evaluating them, and
returns the same table, energy, cycles and candidate count as the plain walk (a budget that is
never reached switches pruning off, like the twin memo)."""
from __future__ import annotations

import numpy as np
import pytest

from rlsched_compile import Layer, load_target
from rlsched_compile.native.search import bottom_up

#: layers whose plain walk on tpu_v3 takes a few seconds at most (bigger ones: pinned below)
TPU_LAYERS = [Layer("pw", K=64, B=1, P=8, Q=8, C=32, R=1, S=1),
              Layer("strided", K=32, B=2, P=10, Q=10, C=16, R=5, S=5, stride_h=2, stride_w=2),
              Layer("grouped", K=32, B=1, P=6, Q=6, C=32, R=3, S=3, G=4)]


@pytest.mark.parametrize("objective", ["energy", "cycles", "edp"])
@pytest.mark.parametrize("layer", TPU_LAYERS, ids=lambda layer: layer.name)
def test_pruned_walk_equals_plain_walk_on_tpu_v3(layer: Layer, objective: str) -> None:
    tgt = load_target("tpu_v3")
    pruned = bottom_up(tgt, layer, objective)
    plain = bottom_up(tgt, layer, objective, budget=10**15)
    assert plain.finished and pruned.finished
    assert np.array_equal(pruned.table, plain.table)
    assert (pruned.energy_pj, pruned.cycles, pruned.candidates) == (plain.energy_pj, plain.cycles, plain.candidates)


@pytest.mark.parametrize("objective,energy_pj,cycles", [
    ("energy", 129062870269.32426, 6529682.0),
    ("cycles", 129069366197.64427, 6529682.0),
])
def test_unet_decoder_layer_pinned_before_pruning(objective: str, energy_pj: float, cycles: float) -> None:
    """UNet's up4 3x3 conv on tpu_v3: figures of the walk before pruning (its plain walk takes
    about 25 s there; pruned, about 1 s)."""
    layer = Layer("up4.conv.double_conv.0", K=64, B=1, P=256, Q=256, C=128, R=3, S=3)
    r = bottom_up(load_target("tpu_v3"), layer, objective)
    assert r.candidates == 375_261_035
    assert (r.energy_pj, r.cycles) == (energy_pj, cycles)


#: targets whose global buffer bypasses weights (eyeriss, eyeriss_v2, simba): there the DRAM-cycle
#: floor of the phase skip is below some options' DRAM cycles (the bypass adjustments raise DRAM
#: counts), on tpu_v3 it is every option's
BYPASS_LAYERS = [Layer("conv3x3", K=64, B=1, P=14, Q=14, C=64, R=3, S=3),
                 Layer("pw_wide", K=256, B=1, P=7, Q=7, C=128, R=1, S=1)]


@pytest.mark.parametrize("objective", ["energy", "edp"])
@pytest.mark.parametrize("target", ["eyeriss", "eyeriss_v2", "simba"])
@pytest.mark.parametrize("layer", BYPASS_LAYERS, ids=lambda layer: layer.name)
def test_pruned_walk_equals_plain_walk_with_gb_bypass(layer: Layer, target: str, objective: str) -> None:
    tgt = load_target(target)
    pruned = bottom_up(tgt, layer, objective)
    plain = bottom_up(tgt, layer, objective, budget=10**15)
    assert np.array_equal(pruned.table, plain.table)
    assert (pruned.energy_pj, pruned.cycles, pruned.candidates) == (plain.energy_pj, plain.cycles, plain.candidates)


def test_unet_encoder_layer_pinned_energy() -> None:
    """UNet's down4 3x3 conv on tpu_v3 under energy, where the phase skip's DRAM-cycle floor does
    most of the pruning (static energy over DRAM cycles is most of the layer's energy there): the
    walk's figures and candidate count, as before the floor."""
    layer = Layer("down4.maxpool_conv.1.double_conv.0", K=1024, B=1, P=16, Q=16, C=512, R=3, S=3)
    r = bottom_up(load_target("tpu_v3"), layer, "energy")
    assert r.candidates == 185_088_559
    assert (r.energy_pj, r.cycles) == (48_782_599_861.446075, 2_600_260.0)
