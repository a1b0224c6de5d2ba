"""Shared fixtures of the pipeline tests: the shipped edgetpu target and small graphs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlsched_compile.pipeline.target import PipelineTarget, load_pipeline_target


@pytest.fixture(scope="session")
def edgetpu() -> PipelineTarget:
    return load_pipeline_target("edgetpu")


def write_graph(path: Path, nodes: list[dict[str, Any]], edges: list[list[Any]]) -> Path:
    path.write_text(json.dumps({"nodes": nodes, "edges": edges}), encoding="utf-8")
    return path


def node(nid: Any, macs: int = 1_000_000, params: int = 1000, out: int = 1000, **extra: Any) -> dict[str, Any]:
    return {"id": nid, "op": "CONV_2D", "macs": macs, "param_bytes": params, "out_bytes": out, **extra}
