"""Shared test fixtures: paths are built from this file, never from the working directory."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# The on-disk schedule cache of the compiler must never touch the user's cache during tests.
os.environ.setdefault("RLSCHED_CACHE_DIR", str(ROOT / ".pytest_cache" / "rlsched_cache"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED}: the tests read the spec's golden vectors from it")
    return SHARED
