"""Imports every solver module so that :data:`~rlsched_compile.pipeline.base.SOLVERS` is complete."""
from __future__ import annotations

from . import balance, exact, respect  # noqa: F401  (registration side effect)
from .base import SOLVERS

__all__ = ["SOLVERS"]
