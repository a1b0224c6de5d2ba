"""The compile command: ``rlsched-compile MODEL.onnx --target NAME|PATH [options]``.

Parses the options, compiles through :func:`rlsched_compile.api.compile_model` with a progress bar,
writes the output folder, and prints the summary table (or the report JSON) and an optional
comparison with a baseline report.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence, TextIO

from .._options import OUTPUT_ROOT, PROG, add_format, add_out
from .._version import __version__
from ..errors import RlschedError
from ._common import add_verbosity, check_output_dir, verbosity
from ._logging import Progress, configure_logging

logger = logging.getLogger(__name__)


def _compile_parser() -> argparse.ArgumentParser:
    from ..objective import DEFAULT_OBJECTIVE, OBJECTIVE_NAMES

    p = argparse.ArgumentParser(
        prog=PROG,
        description="Schedule every layer of an ONNX model on a DNN accelerator and report energy and cycles.",
        epilog=("subcommands: targets (list shipped targets), show-target NAME, zoo (list/regenerate "
                "the model zoo), evaluate SCHEDULE --target T (cost of your own schedule), pipeline "
                "(pipeline-stage assignment), train (train the scheduling agent), sweep SWEEP.yaml --out DIR "
                "(design-space sweep); "
                f"run `{PROG} SUBCOMMAND -h` for each."))
    p.add_argument("model", metavar="MODEL.onnx", help="the ONNX model to compile")
    p.add_argument("--target", "-t", required=True, metavar="NAME|PATH",
                   help="shipped target name (see `targets`) or a target .yaml/.json file")
    p.add_argument("--objective", choices=OBJECTIVE_NAMES, default=DEFAULT_OBJECTIVE.value,
                   help="what to minimize: energy (pJ, static included), cycles, or edp (default: %(default)s)")
    from ..api import available_strategies

    names, default = available_strategies()
    p.add_argument("--search", metavar="NAME", default=None,
                   help=f"search strategy: {', '.join(names)} (default: {default})")
    p.add_argument("--list-strategies", action="store_true", help="print the search strategies and exit")
    p.add_argument("--budget", type=int, default=None, metavar="N",
                   help="evaluation budget per layer for budgeted strategies")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="cap the whole compile (anytime: layers keep their best table so far and are "
                        "marked unfinished in the report)")
    p.add_argument("--batch", type=int, default=None, metavar="N",
                   help="batch size for models with a symbolic batch dimension")
    add_out(p, "rlsched_out/<model>__<target>/")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="worker processes for unique layers (default: all cores)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the search (default: 0)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the schedule cache")
    p.add_argument("--strict", action="store_true",
                   help="operators with MACs that cannot be scheduled are an error, not a warning")
    p.add_argument("--rl-finetune", type=int, default=None, metavar="STEPS",
                   help="fine-tune the scheduling agent for about STEPS environment steps on this model's "
                        "layers before scheduling (strategies rl, rl-hybrid; needs torch; the tuned policy "
                        "is cached and reused)")
    p.add_argument("--dataflow", choices=("fixed", "flexible"), default="fixed",
                   help="fixed: each buffer keeps its declared (first) dataflow (default); flexible: each "
                        "layer's buffers take any dataflow the target allows, chosen with the table")
    add_format(p, json_help="the full report JSON")
    p.add_argument("--baseline", metavar="REPORT.json", default=None,
                   help="compare totals and per-layer energy/cycles with an earlier report.json")
    p.add_argument("--max-regression", type=float, default=None, metavar="PCT",
                   help="with --baseline: exit 1 when energy or cycles grow by more than PCT%% (default 0)")
    add_verbosity(p)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _default_out(model: str, target: str) -> Path:
    t = Path(target)
    target_name = t.stem if (os.sep in target or t.suffix.lower() in (".yaml", ".yml", ".json")) else target
    return OUTPUT_ROOT / f"{Path(model).stem}__{target_name}"


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Run the compile command; returns the exit code (0, or 1 when a check failed)."""
    parser = _compile_parser()
    if "--list-strategies" in argv:
        from ..api import available_strategies

        names, default = available_strategies()
        for n in names:
            stdout.write(f"{n}{'  (default)' if n == default else ''}\n")
        return 0
    args = parser.parse_args(argv)
    configure_logging(verbosity(args))
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    if args.max_regression is not None and args.baseline is None:
        raise RlschedError("--max-regression only applies to a --baseline comparison; add --baseline "
                           "REPORT.json or drop --max-regression")
    max_regression = 0.0 if args.max_regression is None else args.max_regression
    if not max_regression >= 0 or max_regression == float("inf"):
        parser.error(f"--max-regression must be a finite number >= 0, got {args.max_regression}")
    from .._io import check_replaceable, output_lock
    from ..api import compile_model
    from ..emit._files import dumps_json
    from ..emit.baseline import check_comparable, compare_with_baseline, read_baseline
    from ..emit.report import render_summary

    baseline = read_baseline(args.baseline) if args.baseline else None
    out = Path(args.out) if args.out else _default_out(args.model, args.target)
    check_output_dir(out)
    with output_lock(out):  # one run per output folder, from now until its outputs are in place
        check_replaceable(out)
        progress = Progress(sys.stderr, enabled=not args.quiet)
        try:
            result = compile_model(args.model, args.target, objective=args.objective, search=args.search,
                                   batch=args.batch, seed=args.seed, budget=args.budget, jobs=args.jobs,
                                   time_limit_s=args.time_limit,
                                   cache=not args.no_cache, strict=args.strict,
                                   rl_finetune_steps=args.rl_finetune, progress=progress,
                                   dataflow=args.dataflow)
        finally:
            progress.close()
        report = result.report()
        if baseline is not None:
            check_comparable(baseline, report, path=args.baseline)
        result.write(out)
    comparison = None if baseline is None else compare_with_baseline(
        baseline, report, path=args.baseline, max_regression_pct=max_regression)
    if args.format == "json":
        doc = dict(report)
        if comparison is not None:
            doc["baseline_comparison"] = comparison.to_dict()
        stdout.write(dumps_json(doc))
    else:
        stdout.write(render_summary(report))
        stdout.write(f"outputs: {out}\n")
    code = 0
    if not result.ok:
        logger.error("%d layer(s) without a valid schedule: %s", len(result.failures),
                     ", ".join(f.layer.name for f in result.failures))
        code = 1
    if comparison is not None:
        (stdout if args.format == "table" else sys.stderr).write(comparison.render())
        if comparison.regressions:
            code = 1
    return code
