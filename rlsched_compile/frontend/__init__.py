"""ONNX frontend: :func:`load_network` turns a model into a :class:`~rlsched_compile.network.Network`;
:mod:`.zoo` builds the shipped model zoo."""
from __future__ import annotations

from ..network import LayerGroup, Network, UnsupportedOp
from .loader import load_network
from .zoo import build_all, zoo_path

__all__ = ["LayerGroup", "Network", "UnsupportedOp", "build_all", "load_network", "zoo_path"]
