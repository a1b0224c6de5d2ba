"""What every subcommand module of the command line shares: verbosity flags, the parse-and-run
sequence of a subcommand, and the early check of an output folder."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable, Sequence

from .._options import PROG
from ..errors import RlschedError
from ._logging import configure_logging

__all__ = ["PROG", "add_verbosity", "check_output_dir", "parse_and_run", "verbosity"]


def add_verbosity(p: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet`` and ``-v/--verbose`` (mutually exclusive)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    g.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")


def verbosity(args: argparse.Namespace) -> int:
    """-1 for ``-q``, 1 for ``-v``, else 0 (see :func:`~._logging.configure_logging`)."""
    return -1 if getattr(args, "quiet", False) else (1 if getattr(args, "verbose", False) else 0)


def parse_and_run(name: str, doc: str | None, add_arguments: Callable[[argparse.ArgumentParser], None],
                  run: Callable[[argparse.Namespace], int], argv: Sequence[str]) -> int:
    """Run a subcommand written as ``add_arguments(parser)`` + ``run(args) -> exit code``.

    The parser is ``rlsched-compile NAME``, described by the first line of ``doc``, with the
    verbosity flags unless ``add_arguments`` defines them; logging is set up before ``run``.
    """
    p = argparse.ArgumentParser(prog=f"{PROG} {name}", description=doc.strip().splitlines()[0] if doc else None)
    add_arguments(p)
    if not any(a.dest in ("verbose", "quiet") for a in p._actions):
        add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(verbosity(args))
    return int(run(args))


def check_output_dir(path: Path) -> None:
    """Fail early (before compiling) when ``path`` cannot be created or written; creates nothing.

    Raises:
        RlschedError: an ancestor is a file, or the nearest existing ancestor is not writable.
    """
    probe = path.absolute()
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise RlschedError(f"output directory {path} cannot be created: {probe} is a file; "
                           "choose another with --out")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RlschedError(f"output directory {path} is not writable ({probe}: permission denied); "
                           "choose another with --out")
