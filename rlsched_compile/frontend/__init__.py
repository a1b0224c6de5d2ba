"""ONNX frontend: :func:`load_network` turns a model into a :class:`~rlsched_compile.network.Network`;
:mod:`.zoo` builds the shipped model zoo."""
from __future__ import annotations

from ..network import LayerGroup, Network, UnsupportedOp
from .loader import load_network

__all__ = ["LayerGroup", "Network", "UnsupportedOp", "load_network"]
