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
import time
from pathlib import Path
from typing import TextIO

from .._options import OUTPUT_ROOT, add_format, add_out
from ..api import ensure_writable_dir
from ..errors import RlschedError
from .executors import EXECUTORS, make_executor
from .results import OBJECTIVE_METRIC, best_rows
from .runner import run_sweep
from .spec import combinations, load_sweep

logger = logging.getLogger(__name__)


class SweepProgressBar:
    """Progress over points and layer tasks, with an ETA from the layer rate: a redrawn line on
    a terminal, a log line at every tenth of the points otherwise, nothing when disabled.

    While the bar is drawn, log records on the same stream first clear its line (a logging
    filter on the package's handlers), and the next update draws it again.
    """

    def __init__(self, stream: TextIO, *, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.t0 = time.monotonic()
        self.drawn = False
        self.last_decile = 0
        self._handlers: list[logging.Handler] = []
        if self.tty:
            for h in logging.getLogger("rlsched_compile").handlers:
                if getattr(h, "stream", None) is stream:
                    h.addFilter(self._clear)
                    self._handlers.append(h)

    def _clear(self, record: logging.LogRecord) -> bool:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.drawn = False
        return True

    def __call__(self, points_done: int, points_total: int, layers_done: int, layers_total: int) -> None:
        if not self.enabled or points_total == 0:
            return
        elapsed = time.monotonic() - self.t0
        if layers_done and layers_total:
            eta = f"ETA {elapsed / layers_done * (layers_total - layers_done):5.0f}s"
        elif points_done == points_total:
            eta = "ETA     0s"
        else:
            eta = "ETA      ?"
        if self.tty:
            width = 24
            fill = int(width * points_done / points_total)
            self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {points_done}/{points_total} points  "
                              f"{layers_done}/{layers_total} layers  {eta}\033[K")
            self.stream.flush()
            self.drawn = True
        else:
            decile = 10 * points_done // points_total
            if decile > self.last_decile and points_done:
                self.last_decile = decile
                logger.info("%d/%d points done, %d/%d layers solved (%.1f s elapsed, %s)", points_done,
                            points_total, layers_done, layers_total, elapsed, eta)

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
        for h in self._handlers:
            h.removeFilter(self._clear)
        self._handlers = []


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``sweep`` command's arguments to ``parser``."""
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
    lines = [f"{len(rows)} results: {n_ok} ok, {len(rows) - n_ok} error(s)"]
    params = [p.name for p in spec.parameters]
    for model, obj, i in best_rows(spec, rows):
        if i is None:
            lines.append(f"best {model} / {obj}: no point compiled")
            continue
        r = rows[i]
        vals = ", ".join(f"{p}={r[p]}" for p in params)
        lines.append(f"best {model} / {obj}: {r['target']}{f' [{vals}]' if vals else ''}  "
                     f"{OBJECTIVE_METRIC[obj]} {r[OBJECTIVE_METRIC[obj]]:.6g}  (energy {r['energy_pj']:.6g} pJ, "
                     f"cycles {r['cycles']:.6g})")
    lines.append(f"outputs: {out}/results.csv, results.json, sweep.html")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if n_ok else 1
