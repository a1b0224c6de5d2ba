"""bottom-up's twin memo (issue 14) is exact: same tables, energies and candidate counts as the
plain walk. A budget switches the memo off, so a budget that is never reached runs the plain walk."""
from __future__ import annotations

import numpy as np
import pytest

from rlsched_compile import Layer, load_target
from rlsched_compile.native.search import bottom_up

LAYERS = [Layer("conv1", K=64, B=1, P=112, Q=112, C=3, R=7, S=7, stride_h=2, stride_w=2),
          Layer("l3_conv2", K=256, B=1, P=14, Q=14, C=256, R=3, S=3),
          Layer("dw", K=96, B=1, P=28, Q=28, C=96, R=3, S=3, G=96)]
#: the plain walk is slow on tpu_v3's 256 x 128 array (that is the point of the memo): smaller layers
TPU_LAYERS = [Layer("small", K=32, B=1, P=14, Q=14, C=32, R=3, S=3),
              Layer("dw", K=96, B=1, P=14, Q=14, C=96, R=3, S=3, G=96)]


@pytest.mark.parametrize("target", ["eyeriss", "eyeriss_v2", "simba", "tpu_v3"])
@pytest.mark.parametrize("objective", ["energy", "cycles"])
def test_memo_walk_equals_plain_walk(target: str, objective: str) -> None:
    tgt = load_target(target)
    for layer in TPU_LAYERS if target == "tpu_v3" else LAYERS:
        memo = bottom_up(tgt, layer, objective)
        plain = bottom_up(tgt, layer, objective, budget=10**15)
        assert plain.finished and memo.finished
        assert np.array_equal(memo.table, plain.table), layer.name
        assert memo.energy_pj == plain.energy_pj and memo.cycles == plain.cycles
        assert memo.candidates == plain.candidates


def test_tpu_v3_pinned_before_the_memo() -> None:
    """Figures of the walk before the memo existed (ResNet-50 conv1 on tpu_v3, energy)."""
    r = bottom_up(load_target("tpu_v3"), LAYERS[0], "energy")
    assert r.candidates == 7_994_988
    assert r.energy_pj == 8926318486.02275 and r.cycles == 488394.0
