"""Command line: ``rlsched-compile MODEL.onnx --target NAME|PATH [options]`` and subcommands.

Subcommands (dispatched on the first argument, since a positional MODEL and argparse
subparsers do not mix): ``targets``, ``show-target``, ``zoo``, ``evaluate``, ``pipeline``, ``train``,
``sweep``, one module each in this package (:data:`SUBCOMMANDS`); the compile command is
:mod:`.compile`. Each module's ``main(argv, stdout)`` parses its options, sets up logging
(:mod:`._logging`) and returns the exit code; its text output comes from
:mod:`rlsched_compile.emit.text` (or :func:`rlsched_compile.emit.report.render_summary`).

Exit codes: 0 success; 1 a check failed (a layer without a valid schedule, a regression past
``--max-regression``, an invalid user schedule); 2 bad usage or bad input (one ``error:`` line on
stderr; the traceback only with ``-v``). Results go to stdout, everything else to stderr.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
import traceback
from types import FrameType
from typing import Any, Protocol, Sequence, TextIO

from .._sanitize import terminal_safe
from .._stdout import results_only_stdout
from ..errors import RlschedError
from . import compile, evaluate, pipeline, show_target, sweep, targets, train, zoo
from ._logging import Progress, configure_logging, reset_logging

__all__ = ["SUBCOMMANDS", "Progress", "Subcommand", "Terminated", "configure_logging", "main", "reset_logging"]


class Subcommand(Protocol):
    """A subcommand module: ``main(argv, stdout)`` runs it and returns the exit code."""

    def main(self, argv: Sequence[str], stdout: TextIO) -> int: ...


#: Subcommand name -> its module (anything else on the command line is the compile command).
SUBCOMMANDS: dict[str, Subcommand] = {
    "targets": targets,
    "show-target": show_target,
    "zoo": zoo,
    "evaluate": evaluate,
    "pipeline": pipeline,
    "train": train,
    "sweep": sweep,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C: the workers are killed,
    a staged output folder is removed, and the CLI exits 143 with one line."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def _catch_sigterm() -> Any:
    """Turn SIGTERM into :class:`Terminated` for the duration of ``main``; returns the previous
    handler (None when not in the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rlsched-compile`` and ``python -m rlsched_compile``.

    Args:
        argv: arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code (0, 1 or 2).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    guard = contextlib.ExitStack()
    stdout = guard.enter_context(results_only_stdout())  # stray writes to fd 1 go to stderr
    previous_sigterm = _catch_sigterm()
    try:
        if args and args[0] in SUBCOMMANDS:
            return SUBCOMMANDS[args[0]].main(args[1:], stdout)
        return compile.main(args, stdout)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except RlschedError as exc:
        if verbose:
            traceback.print_exc()
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {terminal_safe(msg)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        # Outputs are swapped in whole or not at all, so an interrupted run leaves the old ones.
        if isinstance(exc, Terminated):
            print("error: terminated (SIGTERM) before finishing; no partial output was written",
                  file=sys.stderr)
            return 143
        print("error: interrupted; finished layers are cached, re-run to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
        reset_logging()
        guard.close()
