"""Accelerator targets: schema, loader and the frozen :class:`Target` value."""
from __future__ import annotations

from .model import DATA_TYPES, ROW_NAMES, Capacity, PerType, SpatialLevel, Target, TemporalLevel

__all__ = ["DATA_TYPES", "ROW_NAMES", "Capacity", "PerType", "SpatialLevel", "Target", "TemporalLevel"]
