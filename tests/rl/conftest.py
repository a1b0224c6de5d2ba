"""Fixtures of the agent's tests: small layers on shipped targets (fast row searches)."""
from __future__ import annotations

import pytest

from rlsched_compile.layer import Layer
from rlsched_compile.targets import load_target


@pytest.fixture(scope="session")
def eyeriss():
    return load_target("eyeriss")


@pytest.fixture(scope="session")
def simba():
    return load_target("simba")


@pytest.fixture(scope="session")
def small_layers() -> list[Layer]:
    return [
        Layer("conv3x3", K=32, B=1, P=14, Q=14, C=16, R=3, S=3),
        Layer("pointwise", K=64, B=1, P=7, Q=7, C=32, R=1, S=1),
        Layer("depthwise", K=16, B=1, P=14, Q=14, C=16, R=3, S=3, G=16, stride_h=2, stride_w=2),
    ]
