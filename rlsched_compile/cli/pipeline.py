"""Assign every operator of a model to a pipeline stage (one chip per stage).

``rlsched-compile pipeline MODEL.onnx|GRAPH.json --target edgetpu --stages 4``: assigns every operator to one of k pipeline stages (one chip each), prints per-stage operators,
T_s, memory, off-chip bytes, the bottleneck and the comparison with ``param-balance``, and writes
``pipeline.json`` and ``pipeline.svg`` (stage timeline) into ``--out DIR`` (default
``rlsched_out/<graph>__<target>/``, as for every subcommand).
"""
from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Sequence, TextIO

from .._options import OUTPUT_ROOT, REMOVAL_VERSION, add_format, add_out
from .._version import __version__
from ..errors import PipelineError
from ._common import parse_and_run

if TYPE_CHECKING:
    from ..pipeline.graph import PipelineGraph
    from ..pipeline.target import PipelineTarget

logger = logging.getLogger(__name__)


def default_solver() -> str:
    """Solver used when --solver is not given (:data:`~rlsched_compile.pipeline.solvers.DEFAULT_SOLVER`)."""
    from ..pipeline.solvers import DEFAULT_SOLVER

    return DEFAULT_SOLVER


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Parse ``argv`` and run the subcommand (see :func:`run`)."""
    return parse_and_run("pipeline", __doc__, add_arguments, run, argv)


def parse_stages(text: str) -> list[int]:
    """Parse ``4`` or ``4,5,6`` into stage counts (duplicates dropped, order kept).

    Raises:
        PipelineError: not a comma-separated list of integers, or a count < 1.
    """
    counts: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            k = int(part)
        except ValueError:
            raise PipelineError(f"--stages takes integers like 4 or 4,5,6, got {text!r}") from None
        if k < 1:
            raise PipelineError(f"stage count must be an integer >= 1, got {k}; pass e.g. --stages 4")
        if k not in counts:
            counts.append(k)
    return counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``pipeline`` command's arguments to ``parser``."""
    from ..pipeline.solvers import SOLVERS

    default = default_solver()
    parser.add_argument("model", metavar="MODEL.onnx|GRAPH.json",
                        help="ONNX model, or a graph in the JSON graph format")
    parser.add_argument("--target", "-t", default="edgetpu", metavar="NAME|PATH",
                        help="pipeline target name (accelerators/NAME.yaml) or YAML path (default: edgetpu)")
    parser.add_argument("--stages", default="4", metavar="K[,K...]",
                        help="number of stages k, or a list like 4,5,6 (default: 4)")
    parser.add_argument("--solver", default=default, choices=sorted(SOLVERS),
                        help=f"stage-assignment solver (default: {default})")
    add_out(parser, "rlsched_out/<graph>__<target>/")
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="SECONDS",
                        help="time limit of the exact solver per stage count, seconds (default: 30)")
    add_format(parser, json_help="pipeline.json")


def run(args: argparse.Namespace) -> int:
    """Run the command. Results go to stdout, files to ``--out`` (default ``rlsched_out/<graph>__<target>/``).

    Returns:
        0 on success.

    Raises:
        RlschedError: bad input (graph, target, stage count); the CLI prints it as ``error: ...``.
    """
    from .._io import check_replaceable, output_lock
    from .._sanitize import safe_file_name
    from ..pipeline.cost import check_stage_count
    from ..pipeline.graph import load_graph
    from ..pipeline.target import load_pipeline_target

    if args.time_limit <= 0:
        raise PipelineError(f"--time-limit must be > 0 seconds, got {args.time_limit:g}")
    counts = parse_stages(str(args.stages))
    target = load_pipeline_target(args.target)
    path = Path(args.model)
    graph = load_graph(path, data_type_bytes=target.data_type_bytes)
    for k in counts:
        check_stage_count(graph, k)
    # both names come from input data: one safe path component each (never `..` or `/`)
    default_dir = f"{safe_file_name(graph.name, fallback='graph')}__{safe_file_name(target.name, fallback='target')}"
    out_dir = OUTPUT_ROOT / default_dir if args.out is None else Path(args.out)
    if args.out is not None:
        logger.warning("pipeline --out DIR now writes into DIR itself, as every subcommand does (earlier "
                       "versions wrote DIR/%s__%s/); this note goes in %s", graph.name, target.name, REMOVAL_VERSION)
    with output_lock(out_dir):  # fail now, not after solving, when another run writes there
        check_replaceable(out_dir)
        return _solve_and_write(args, graph, target, counts, path, out_dir)


def _solve_and_write(args: argparse.Namespace, graph: PipelineGraph, target: PipelineTarget, counts: list[int],
                     path: Path, out_dir: Path) -> int:
    from .._io import staged_output_dir, write_bytes_atomic
    from ..emit.text import render_pipeline_table
    from ..pipeline.report import PipelineRun, build_report, render_json, render_plot
    from ..pipeline.solvers import SOLVERS, solve

    runs = []
    # One solver object for every k: respect decodes the graph once and reuses it for each k.
    solver = SOLVERS[args.solver]()
    for k in counts:
        logger.info("k = %d: running %s on %s (%d operators)", k, args.solver, graph.name, graph.n)
        result = solve(graph, target, k, solver=solver, time_limit_s=args.time_limit)
        baseline = result if args.solver == "param-balance" else solve(graph, target, k, solver="param-balance")
        runs.append(PipelineRun(result=result, baseline=baseline))
    doc = build_report(graph=graph, target=target, runs=runs, source=path.name,
                       source_sha256=hashlib.sha256(path.read_bytes()).hexdigest(), version=__version__)
    text = render_json(doc)
    # Both files are swapped in together (never one run's JSON beside another's plot), a folder
    # another run is writing is refused, and so is one holding files this tool did not write.
    with staged_output_dir(out_dir) as stage:
        write_bytes_atomic(stage / "pipeline.json", text.encode("utf-8"))
        write_bytes_atomic(stage / "pipeline.svg", render_plot(graph, runs))
    logger.info("wrote %s and %s", out_dir / "pipeline.json", out_dir / "pipeline.svg")
    print(text if args.format == "json" else render_pipeline_table(graph, target, runs), end="")
    return 0
