"""Fixtures for the compiler tests: a tiny ONNX model built in code, an isolated cache directory."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._support import build_tiny_model


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty schedule cache for this test only."""
    d = tmp_path / "cache"
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(d))
    return d


@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.onnx"
    path.write_bytes(build_tiny_model().SerializeToString())
    return path


@pytest.fixture()
def target_file(tmp_path: Path) -> Path:
    """The shipped eyeriss target written as a JSON file the test may edit."""
    from rlsched_compile.targets import load_target

    path = tmp_path / "mytarget.json"
    path.write_text(json.dumps(load_target("eyeriss").to_dict(), indent=1))
    return path
