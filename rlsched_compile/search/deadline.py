"""The whole-compile time limit (``--time-limit``) as seen by the searches.

:func:`rlsched_compile.compile_model` sets an absolute wall-clock deadline (``time.time()``, so
worker processes share it) around every layer it solves; anytime strategies call :func:`expired`
between stages and return the best table found so far, marked unfinished. Without a deadline
nothing changes: a run that does not hit its limit is the run without one.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator

_deadline: float | None = None
_hit = False


@contextlib.contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Set the deadline (seconds since the epoch; None: none) for the duration."""
    global _deadline, _hit
    saved = (_deadline, _hit)
    _deadline, _hit = at, False
    try:
        yield
    finally:
        _deadline, _hit = saved


def expired() -> bool:
    """True once the deadline has passed (and remember that it was hit)."""
    global _hit
    if _deadline is not None and time.time() >= _deadline:
        _hit = True
    return _hit


def was_hit() -> bool:
    """Whether :func:`expired` said True since the deadline was set."""
    return _hit
