"""Writers of the compiler's outputs: per-layer schedules, network reports (JSON, Markdown,
HTML with inline SVG plots) and the annotated ONNX model."""
from __future__ import annotations

from .schedule import LayerFailure, LayerSchedule

__all__ = ["LayerFailure", "LayerSchedule"]
