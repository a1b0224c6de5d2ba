"""Fixtures of the search tests: the shared eyeriss target and the reference baseline."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlsched_compile.targets import Target, load_target, target_from_dict

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(scope="session")
def eyeriss() -> Target:
    return target_from_dict(json.loads((SHARED / "targets" / "eyeriss.json").read_text()))


@pytest.fixture(scope="session")
def shipped() -> dict[str, Target]:
    return {name: load_target(name) for name in ("eyeriss", "eyeriss_v2", "simba", "tpu_v3")}


@pytest.fixture(scope="session")
def reference_bottom_up() -> dict[str, Any]:
    path = SHARED / "baselines" / "reference_bottom_up__resnet50__eyeriss__energy.json"
    return json.loads(path.read_text())
