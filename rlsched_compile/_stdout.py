"""Keep standard output for results: divert writes to file descriptor 1 that do not come from us.

Native libraries write to file descriptor 1 behind Python's back (HiGHS prints its banner from
the constructor of every first solver object of a process, before any option can silence it),
and so could a worker process. Two tools keep such bytes out of a command's results:

* :func:`native_stdout_diverted` sends file descriptor 1 to ``/dev/null`` (or stderr) for a
  short block of code, such as constructing a solver object.
* :func:`results_only_stdout` is what the command line runs under: for the whole command, file
  descriptor 1 points at stderr and the command's results go through a stream on a duplicate of
  the original stdout. Whatever else writes to file descriptor 1 lands on stderr.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, TextIO

_LOCK = threading.RLock()


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers, so that buffered native output goes where fd 1 points now."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library to load by name (Windows)
        pass


def _flush_python_stdout() -> None:
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass


@contextmanager
def native_stdout_diverted(*, to_stderr: bool = False) -> Iterator[None]:
    """While inside, writes to file descriptor 1 go to ``/dev/null`` (or to stderr).

    Python's ``sys.stdout`` is flushed first, so its buffered text still reaches stdout. Holds a
    process-wide lock: keep the block short (it is meant for a constructor call, not a solve).

    Args:
        to_stderr: send the diverted bytes to file descriptor 2 instead of discarding them.
    """
    with _LOCK:
        _flush_python_stdout()
        _flush_c_stdio()
        saved = os.dup(1)
        target = os.dup(2) if to_stderr else os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(target, 1)
            yield
        finally:
            _flush_c_stdio()
            os.dup2(saved, 1)
            os.close(saved)
            os.close(target)


@contextmanager
def results_only_stdout() -> Iterator[TextIO]:
    """Run a command so that only what it writes to the yielded stream reaches stdout.

    When ``sys.stdout`` is the process's file descriptor 1, that descriptor is pointed at stderr
    for the duration and ``sys.stdout`` is replaced by a stream on a duplicate of the original
    descriptor (so ``print`` still prints results). Otherwise (stdout already replaced, as in
    in-process tests) ``sys.stdout`` is yielded unchanged.

    Yields:
        The stream to write results to (also installed as ``sys.stdout``).
    """
    original = sys.stdout
    try:
        fd = original.fileno()
    except (AttributeError, OSError, ValueError):
        fd = -1
    if fd != 1:
        yield original
        return
    with _LOCK:
        _flush_python_stdout()
        _flush_c_stdio()
        results_fd = os.dup(1)
        os.dup2(2, 1)
    results = open(results_fd, "w", encoding=original.encoding, errors=original.errors,  # noqa: SIM115
                   closefd=True)
    if original.line_buffering:
        results.reconfigure(line_buffering=True)
    sys.stdout = results
    try:
        yield results
    finally:
        sys.stdout = original
        try:
            results.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass
        with _LOCK:
            _flush_c_stdio()
            os.dup2(results_fd, 1)
        try:
            results.close()  # closes results_fd
        except (BrokenPipeError, OSError, ValueError):
            pass
