"""Design-space sweep: many models x target variants x objectives, locally or on a Ray cluster.

``rlsched-compile sweep SWEEP.yaml -o DIR [--executor local|ray] [--jobs N] [--ray-address A]
[--format table|json]`` (see :mod:`rlsched_compile.sweep.spec` for the file; ``DIR`` defaults to
``rlsched_out/sweep__<file stem>/``). Writes ``DIR/results.csv``,
``results.json``, ``sweep.html``, ``timings.json`` and one ``points/<key>.json`` per finished
point; re-running the same command resumes a killed sweep. Exit 0 when at least one point
compiled, 1 when none did, 2 on bad input.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence, TextIO

from .._options import OUTPUT_ROOT, add_format, add_out
from ..errors import RlschedError
from ._common import parse_and_run
from ._logging import SweepProgressBar

logger = logging.getLogger(__name__)


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Parse ``argv`` and run the subcommand (see :func:`run`)."""
    return parse_and_run("sweep", __doc__, add_arguments, run, argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``sweep`` command's arguments to ``parser``."""
    from ..sweep.executors import EXECUTORS

    parser.add_argument("sweep", metavar="SWEEP.yaml", help="the sweep file (models, targets, parameters, ...)")
    add_out(parser, "rlsched_out/sweep__<sweep file stem>/; re-running into it resumes an interrupted sweep")
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="local process pool (default) or Ray tasks (needs the ray extra)")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                        help="worker processes (local) or CPUs of the local Ray instance (default: all cores)")
    parser.add_argument("--ray-address", default=None, metavar="ADDRESS",
                        help="with --executor ray: a running cluster (e.g. ray://head:10001 or auto); "
                             "default: start a local Ray instance and stop it at the end")
    add_format(parser, json_help="the results.json document")


def run(args: argparse.Namespace) -> int:
    """Run the command; a summary goes to stdout, progress and logs to stderr.

    Raises:
        RlschedError: bad sweep file, bad options, Ray missing; the CLI prints ``error: ...``.
    """
    from ..api import ensure_writable_dir
    from ..emit.text import render_sweep_summary
    from ..sweep.executors import make_executor
    from ..sweep.runner import run_sweep
    from ..sweep.spec import combinations, load_sweep

    if args.jobs is not None and args.jobs < 1:
        raise RlschedError(f"--jobs must be >= 1, got {args.jobs}")
    if args.ray_address and args.executor != "ray":
        raise RlschedError("--ray-address needs --executor ray")
    spec = load_sweep(args.sweep)
    combinations(spec)  # constraint failures and an empty sweep are reported before anything is created
    out = ensure_writable_dir(Path(args.out) if args.out else OUTPUT_ROOT / f"sweep__{Path(args.sweep).stem}")
    executor = make_executor(args.executor, jobs=args.jobs, ray_address=args.ray_address)
    bar = SweepProgressBar(sys.stderr, enabled=not getattr(args, "quiet", False))
    try:
        outcome = run_sweep(spec, out, executor=executor, progress=bar)
    finally:
        bar.close()
        executor.close()
    rows = outcome.rows
    n_ok = sum(r["status"] == "ok" for r in rows)
    if n_ok == 0:
        logger.error("no point of the sweep compiled; see the messages in %s", out / "results.csv")
    if args.format == "json":
        sys.stdout.write((out / "results.json").read_text(encoding="utf-8"))
        return 0 if n_ok else 1
    sys.stdout.write(render_sweep_summary(spec, rows, out))
    return 0 if n_ok else 1
