"""The RESPECT training command: ``python -m rlsched_compile.pipeline.respect`` (the module
:mod:`rlsched_compile.pipeline.respect.__main__` runs :func:`main`); needs torch.

Every :class:`~.train.RespectConfig` field is a flag (``--n-graphs 512``, ``--cost-reward-coef 1.0``);
``-o/--out DIR`` is the output folder (default ``rlsched_out/respect/``; a folder inside the package
is refused unless ``--overwrite-shipped``), ``--dataset FILE`` labelled graphs to reuse. Prints the
path of the written ``respect.npz``. Importing this module does not import torch. Unlike the
``rlsched-compile`` subcommands it keeps its own plain log format (``%(message)s``) and error line
(``python -m rlsched_compile.pipeline.respect: error: ...``).
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from dataclasses import asdict, fields
from pathlib import Path

from .._options import add_out
from ..errors import RlschedError
from ..pipeline.respect.train import DATASET_FILE, DEFAULT_OUT_DIR, RespectConfig, train_respect

#: How the command is run (its name in usage and error lines).
PROG = "python -m rlsched_compile.pipeline.respect"


def main(argv: list[str] | None = None) -> int:
    """Run the training command; returns the exit code (0, or 2 on bad input).

    As a command-line entry it sets up logging (progress on stderr, undone on return), and it
    turns bad input into one ``error:`` line and exit code 2.
    """
    parser = argparse.ArgumentParser(prog=PROG, description="Train the RESPECT pointer network (needs torch).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        print(f"{PROG}: error: training needs torch; install it with pip install 'rlsched_compile[train]'",
              file=sys.stderr)
        return 2
    root = logging.getLogger("rlsched_compile")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        return run(args)
    except RlschedError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the training command's arguments to ``parser``."""
    for name, value in asdict(RespectConfig()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value,
                            help=f"(default: {value})")
    add_out(parser, f"{DEFAULT_OUT_DIR}/")
    parser.add_argument("--dataset", default=None, metavar="FILE",
                        help=f"labelled graphs to reuse, read only (default: OUT/{DATASET_FILE}); e.g. the "
                             f"shipped rlsched_compile/data/respect/{DATASET_FILE}")
    parser.add_argument("--overwrite-shipped", action="store_true",
                        help="allow --out inside the package (replaces the shipped weights)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress log (warnings and errors only)")


def run(args: argparse.Namespace) -> int:
    """Train and export; prints the path of ``respect.npz``.

    Returns:
        0 on success.

    Raises:
        RlschedError: bad input (an output folder inside the package, an unknown target).
    """
    config = RespectConfig(**{f.name: getattr(args, f.name) for f in fields(RespectConfig)})
    out_dir = DEFAULT_OUT_DIR if args.out is None else Path(args.out)
    print(train_respect(config, out_dir=out_dir, dataset=args.dataset, overwrite_shipped=args.overwrite_shipped))
    return 0
