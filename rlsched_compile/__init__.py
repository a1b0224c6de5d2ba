"""rlsched_compile: an ONNX-driven dataflow scheduling pass for DNN accelerators."""
from __future__ import annotations

from ._version import __version__
from .cost import Evaluation
from .errors import LayerError, ModelError, RlschedError, SearchError, TableError, TargetError
from .layer import Layer
from .native.costmodel import BatchResult, evaluate_batch, evaluate_table
from .targets import list_targets, load_target
from .search import schedule_layer
from .api import CompileResult, compile_model

__all__ = [
    "__version__", "BatchResult", "Evaluation", "evaluate_batch", "evaluate_table", "Layer", "LayerError", "ModelError", "RlschedError",
    "SearchError", "TableError", "TargetError", "list_targets", "load_target", "schedule_layer",
    "CompileResult", "compile_model",
]
