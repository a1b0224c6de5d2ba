"""Accelerator targets: schema, loader and the frozen :class:`Target` value."""
from __future__ import annotations

from .loader import TargetInfo, list_target_names, list_targets, load_target, target_from_dict
from .model import DATA_TYPES, Capacity, PerType, SpatialLevel, Target, TemporalLevel, VectorUnit

__all__ = [
    "DATA_TYPES", "Capacity", "PerType", "SpatialLevel", "Target", "TargetInfo",
    "TemporalLevel", "VectorUnit", "list_target_names", "list_targets", "load_target", "target_from_dict",
]
