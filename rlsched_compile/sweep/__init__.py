"""Design-space sweeps: many models x target variants x objectives, on a local process pool or
as Ray tasks (``rlsched-compile sweep``)."""
from __future__ import annotations

from .points import TargetPoint, derive_target, expand_points
from .spec import Parameter, SweepError, SweepSpec, load_sweep

__all__ = ["Parameter", "SweepError", "SweepSpec", "TargetPoint", "derive_target", "expand_points", "load_sweep",
           "run_sweep"]


def __getattr__(name: str) -> object:
    if name == "run_sweep":  # the runner imports the API (and numpy); load it on first use
        from .runner import run_sweep

        return run_sweep
    raise AttributeError(name)
