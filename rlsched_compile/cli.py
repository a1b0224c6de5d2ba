"""Command line: ``rlsched-compile MODEL.onnx --target NAME|PATH [options]`` and subcommands.

Subcommands (dispatched on the first argument, since a positional MODEL and argparse
subparsers do not mix): ``targets``, ``show-target``, ``zoo``, ``evaluate``, ``pipeline``, ``train``,
``sweep``.

Exit codes: 0 success; 1 a check failed (a layer without a valid schedule, a regression past
``--max-regression``, an invalid user schedule); 2 bad usage or bad input (one ``error:`` line on
stderr; the traceback only with ``-v``). Results go to stdout, everything else to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from ._version import __version__
from ._options import OUTPUT_ROOT, add_format, add_out
from ._sanitize import terminal_safe
from ._stdout import results_only_stdout
from .errors import RlschedError

logger = logging.getLogger(__name__)

PROG = "rlsched-compile"
SUBCOMMANDS: tuple[str, ...] = ("targets", "show-target", "zoo", "evaluate", "pipeline", "train", "sweep")


# ---- logging and progress ------------------------------------------------------------------

class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # names from input data are in many messages: one record is always one terminal line
        msg = terminal_safe(record.getMessage())
        if record.levelno >= logging.ERROR:
            return f"{PROG}: error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"{PROG}: warning: {msg}"
        return f"{PROG}: {msg}"


class _CliHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes log records above a progress bar that is being drawn on the same stream."""

    def emit(self, record: logging.LogRecord) -> None:
        bar = _ACTIVE_BAR[0]
        if bar is not None and bar.drawn and bar.stream is self.stream:
            self.stream.write("\r\033[K")
            super().emit(record)
            bar.redraw()
        else:
            super().emit(record)


#: The progress bar currently drawn on a terminal (at most one).
_ACTIVE_BAR: list["Progress | None"] = [None]


def configure_logging(verbosity: int, stream: TextIO | None = None) -> None:
    """Set up the package logger: -1 quiet (warnings), 0 info, 1 debug."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    root = logging.getLogger("rlsched_compile")
    for h in list(root.handlers):
        if getattr(h, "_rlsched_cli", False):
            root.removeHandler(h)
    handler = _CliHandler(stream if stream is not None else sys.stderr)
    handler._rlsched_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter())
    root.addHandler(handler)
    root.setLevel(level)


def reset_logging() -> None:
    """Undo :func:`configure_logging` (``main`` does this on return, so it can run in-process)."""
    root = logging.getLogger("rlsched_compile")
    for h in list(root.handlers):
        if getattr(h, "_rlsched_cli", False):
            root.removeHandler(h)
    root.setLevel(logging.NOTSET)


class Progress:
    """Progress over unique layers: a redrawn bar on a terminal, log lines otherwise.

    Args:
        stream: where to draw (stderr).
        enabled: False for ``-q``.
    """

    def __init__(self, stream: TextIO, *, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.t0 = time.monotonic()
        self.drawn = False
        self.last = ""

    def __call__(self, done: int, total: int, name: str) -> None:
        if not self.enabled or total == 0:
            return
        elapsed = time.monotonic() - self.t0
        eta = f"ETA {elapsed / done * (total - done):4.0f}s" if done else "ETA    ?"
        if self.tty:
            width = 28
            fill = int(width * done / total)
            shown = terminal_safe(name)[:40]
            self.last = f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} layers  {eta}  {shown:<40}"
            self.stream.write(self.last)
            self.stream.flush()
            self.drawn = True
            _ACTIVE_BAR[0] = self
            if done == total:
                self.close()
        elif done:
            logger.info("layer %d/%d done: %s (%.1f s elapsed, %s)", done, total, name, elapsed, eta)

    def redraw(self) -> None:
        """Draw the last frame again (after a log line was written above it)."""
        if self.drawn:
            self.stream.write(self.last)
            self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
        if _ACTIVE_BAR[0] is self:
            _ACTIVE_BAR[0] = None


# ---- the compile command -------------------------------------------------------------------

def _compile_parser() -> argparse.ArgumentParser:
    from .cost import OBJECTIVES

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
    p.add_argument("--objective", choices=OBJECTIVES, default="energy",
                   help="what to minimize: energy (pJ, static included), cycles, or edp (default: energy)")
    from .api import available_strategies

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
    _add_verbosity(p)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _add_verbosity(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    g.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")


def _verbosity(args: argparse.Namespace) -> int:
    return -1 if getattr(args, "quiet", False) else (1 if getattr(args, "verbose", False) else 0)


def _default_out(model: str, target: str) -> Path:
    t = Path(target)
    target_name = t.stem if (os.sep in target or t.suffix.lower() in (".yaml", ".yml", ".json")) else target
    return OUTPUT_ROOT / f"{Path(model).stem}__{target_name}"


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


def _run_compile(argv: Sequence[str], stdout: TextIO) -> int:
    parser = _compile_parser()
    if "--list-strategies" in argv:
        from .api import available_strategies

        names, default = available_strategies()
        for n in names:
            stdout.write(f"{n}{'  (default)' if n == default else ''}\n")
        return 0
    args = parser.parse_args(argv)
    configure_logging(_verbosity(args))
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    if args.max_regression is not None and args.baseline is None:
        raise RlschedError("--max-regression only applies to a --baseline comparison; add --baseline "
                           "REPORT.json or drop --max-regression")
    max_regression = 0.0 if args.max_regression is None else args.max_regression
    if not max_regression >= 0 or max_regression == float("inf"):
        parser.error(f"--max-regression must be a finite number >= 0, got {args.max_regression}")
    from ._io import check_replaceable, output_lock
    from .api import compile_model
    from .emit._files import dumps_json
    from .emit.baseline import check_comparable, compare_with_baseline, read_baseline
    from .emit.report import render_summary

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


# ---- subcommands ---------------------------------------------------------------------------

def _cmd_targets(argv: Sequence[str], stdout: TextIO) -> int:
    p = argparse.ArgumentParser(prog=f"{PROG} targets", description="List the shipped targets.")
    add_format(p, json_help="a JSON list")
    _add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(_verbosity(args))
    from .targets import list_targets

    infos = list_targets()
    if args.format == "json":
        stdout.write(json.dumps([{
            "name": i.name, "pe_array": list(i.pe_array), "mac_array": list(i.mac_array),
            "chip_array": list(i.chip_array), "local_buffer_bytes": i.local_buffer_bytes,
            "global_buffer_bytes": i.global_buffer_bytes, "precision_bits": i.precision_bits,
            "frequency_mhz": i.frequency_mhz} for i in infos], indent=1, allow_nan=False) + "\n")
        return 0
    rows = [(i.name, f"{i.pe_array[0]}x{i.pe_array[1]}", f"{i.mac_array[0]}x{i.mac_array[1]}",
             f"{i.chip_array[0]}x{i.chip_array[1]}", i.local_buffer_bytes, i.global_buffer_bytes,
             str(i.precision_bits), f"{i.frequency_mhz:g}") for i in infos]
    headers = ("target", "PE array", "MACs/PE", "chips", "local buffer B (I/W/O)", "global buffer B",
               "bits", "MHz")
    _print_table(stdout, headers, rows)
    return 0


def _print_table(stdout: TextIO, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    for cells in (headers, ["-" * w for w in widths], *rows):
        stdout.write("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() + "\n")


def _cmd_show_target(argv: Sequence[str], stdout: TextIO) -> int:
    p = argparse.ArgumentParser(prog=f"{PROG} show-target", description="Show one target in detail.")
    p.add_argument("target", metavar="NAME|PATH")
    add_format(p, aliases={"text": "table"}, json_help="the target as JSON")
    _add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(_verbosity(args))
    from .targets import load_target

    t = load_target(args.target)
    if args.format == "json":
        stdout.write(json.dumps({**t.to_dict(), "sha256": t.sha256}, indent=1, allow_nan=False) + "\n")
        return 0
    lines = [f"target {terminal_safe(t.name)}  (sha256 {t.sha256})",
             f"  precision {t.precision_bits} bit, {t.frequency_mhz:g} MHz, MAC {t.mac_energy_pj:g} pJ "
             f"(static {t.mac_static_power_mw:g} mW)"]
    for role, lv in t.levels():
        if hasattr(lv, "x"):
            extra = ""
            if getattr(lv, "allowed_x", None) is not None or getattr(lv, "allowed_y", None) is not None:
                extra = f"  allowed x={list(lv.allowed_x or [])} y={list(lv.allowed_y or [])}"  # type: ignore[union-attr]
            lines.append(f"  {role:<14} spatial {lv.x}x{lv.y}{extra}")  # type: ignore[union-attr]
        else:
            cap = lv.capacity.to_dict() if lv.capacity is not None else "-"  # type: ignore[union-attr]
            options = getattr(lv, "dataflow_options", None)
            df = "[" + ", ".join(options) + "]" if options else (lv.dataflow or "-")  # type: ignore[union-attr]
            lines.append(
                f"  {role:<14} dataflow {df}  capacity B {cap}  bypass "
                f"{list(lv.bypass) or '-'}  energy pJ {lv.access_energy_pj.to_dict()}  "  # type: ignore[union-attr]
                f"static mW {lv.static_power_mw.to_dict()}  cycles {lv.access_cycles.to_dict()}  "  # type: ignore[union-attr]
                f"bandwidth {lv.bandwidth_bits_per_cycle} bit/cycle")  # type: ignore[union-attr]
    stdout.write("\n".join(lines) + "\n")
    return 0


def _cmd_zoo(argv: Sequence[str], stdout: TextIO) -> int:
    p = argparse.ArgumentParser(prog=f"{PROG} zoo", description="List or regenerate the model zoo.")
    p.add_argument("action", nargs="?", choices=("list", "regenerate", "check"), default="list",
                   help="list the zoo files (default), regenerate them, or check they match a rebuild")
    p.add_argument("names", nargs="*", help="models to regenerate (default: all)")
    add_out(p, "regenerate into the zoo folder in use")
    _add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(_verbosity(args))
    from .errors import ModelError
    from .frontend import zoo

    unknown = [n for n in args.names if n not in zoo.BUILDERS]
    if unknown:
        raise ModelError(f"unknown zoo model {unknown[0]!r}; choose from {', '.join(zoo.BUILDERS)}")
    if args.action == "list":
        rows = []
        for name in zoo.BUILDERS:
            counts = zoo.EXPECTED_COUNTS.get(name)
            try:
                path = zoo.zoo_path(name)
                size, where = f"{path.stat().st_size / 1024:.0f} KiB", str(path)
            except ModelError:
                size, where = "-", "(missing: run `zoo regenerate`)"
            rows.append((name, str(counts.conv) if counts else "?", str(counts.depthwise) if counts else "?",
                         str(counts.fc) if counts else "?", str(counts.other) if counts else "?", size, where))
        _print_table(stdout, ("model", "conv", "depthwise", "fc", "other", "size", "file"), rows)
        return 0
    out_dir = Path(args.out) if args.out else _zoo_dir(zoo)
    if args.action == "check":
        stale = zoo.check_zoo(out_dir)
        for name in stale:
            stdout.write(f"{name}.onnx is missing or differs from a rebuild\n")
        if not stale:
            stdout.write(f"zoo in {out_dir} matches a rebuild\n")
        return 1 if stale else 0
    check_output_dir(out_dir)
    for path in zoo.build_all(out_dir, names=args.names or None):
        stdout.write(f"{path}\n")
    return 0


def _zoo_dir(zoo: Any) -> Path:
    for name in zoo.BUILDERS:
        try:
            return Path(zoo.zoo_path(name)).parent
        except RlschedError:
            continue
    return Path("model_zoo")


def _cmd_evaluate(argv: Sequence[str], stdout: TextIO) -> int:
    p = argparse.ArgumentParser(
        prog=f"{PROG} evaluate",
        description=("Cost of your own scheduling table for one layer on a target. SCHEDULE is a JSON "
                     "or YAML file with a `table` (10 rows of 8 ints in the order Register, MAC(X), "
                     "MAC(Y), LocalBuffer, PE(X), PE(Y), GlobalBuffer, Chip(X), Chip(Y), DRAM; columns "
                     "K,B,P,Q,C,R,S,G with K and C per group; or rows as {row, values}) and a `layer` "
                     "(K,B,P,Q,C,R,S[,G,stride]), optionally `dataflows` ({local_buffer: WS, "
                     "global_buffer: OS}, any the target allows; default: the target's own); a "
                     "schedules/NNN_*.json file written by the compiler works as is."))
    p.add_argument("schedule", metavar="SCHEDULE", help="schedule file (.json, .yaml)")
    p.add_argument("--target", "-t", required=True, metavar="NAME|PATH")
    p.add_argument("--layer", default=None, metavar="FILE|K=..,C=..",
                   help="the layer, if the schedule file has none: a JSON/YAML file or K=64,B=1,P=56,...")
    add_format(p, json_help="the evaluation as JSON")
    _add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(_verbosity(args))
    from .cost import ENERGY_COMPONENTS
    from .errors import LayerError, TableError
    from .layer import Layer
    from .native.costmodel import evaluate_table
    from .targets import load_target

    doc = _read_data_file(args.schedule, what="schedule")
    if not isinstance(doc, dict) or "table" not in doc:
        raise TableError(f"{args.schedule}: no `table` key; give 10 rows of 8 ints under `table`")
    table = doc["table"]
    if isinstance(table, dict) and "rows" in table:  # the compiler's own schedule files
        table = table["rows"]
    layer_doc: Any
    if args.layer is not None:
        layer_doc = _parse_layer_arg(args.layer)
    elif "layer" in doc:
        layer_doc = doc["layer"]
    else:
        raise LayerError(f"{args.schedule}: no `layer` key; add one or pass --layer K=..,B=..,P=..,Q=..,C=..,R=..,S=..")
    if isinstance(layer_doc, dict):
        layer_doc = {k: v for k, v in layer_doc.items() if k not in ("index", "onnx_node", "macs")}
    layer = Layer.from_dict(layer_doc) if isinstance(layer_doc, dict) else None
    if layer is None:
        raise LayerError("the layer must be a mapping of K, B, P, Q, C, R, S (and optionally G, stride)")
    target = load_target(args.target)
    if doc.get("dataflows") is not None:
        from .search.dataflow import apply_dataflows

        target = apply_dataflows(target, doc["dataflows"], where=f"{args.schedule}: dataflows")
    ev = evaluate_table(target, layer, table)
    if args.format == "json":
        stdout.write(json.dumps({"layer": layer.to_dict(), "target": {"name": target.name, "sha256": target.sha256},
                                 **ev.to_dict()}, indent=1, allow_nan=False) + "\n")
    elif ev.valid:
        assert ev.energy_by_component_pj is not None and ev.cycles_by_component is not None
        stdout.write(f"layer {terminal_safe(layer.name)} on {terminal_safe(target.name)}: valid\n"
                     f"energy {ev.energy_pj:.6g} pJ  cycles {ev.cycles:.6g}  EDP {ev.edp:.6g}\n")
        for k in ENERGY_COMPONENTS:
            stdout.write(f"  {k:<22} {ev.energy_by_component_pj[k]:.6g} pJ\n")
        for k, v in ev.cycles_by_component.items():
            stdout.write(f"  {k:<22} {v:.6g} cycles\n")
    if not ev.valid:
        if args.format != "json":
            stdout.write(f"layer {terminal_safe(layer.name)} on {terminal_safe(target.name)}: INVALID ({ev.invalid_reason})\n")
        logger.error("the schedule is not valid on %s: it breaks rule %r (see spec §2.3)", target.name,
                     ev.invalid_reason)
        return 1
    return 0


def _read_data_file(path: str, *, what: str) -> Any:
    from .errors import TableError

    from ._dataload import InputLimitError, load_json, load_yaml, read_text

    try:
        text = read_text(path, what=f"{what} file")
    except FileNotFoundError:
        raise TableError(f"{what} file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TableError(f"{what} file {path}: cannot read it ({exc})") from None
    try:
        if path.lower().endswith((".yaml", ".yml")):
            return load_yaml(text, source=f"{what} file {path}")[0]
        return load_json(text, source=f"{what} file {path}")
    except InputLimitError:
        raise
    except Exception as exc:  # json/yaml syntax errors, reported in one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TableError(f"{what} file {path}: not valid {'YAML' if path.lower().endswith(('.yaml', '.yml')) else 'JSON'} "
                         f"({first})") from None


def _parse_layer_arg(text: str) -> Any:
    from .errors import LayerError

    if "=" not in text:
        return _read_data_file(text, what="layer")
    out: dict[str, Any] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        try:
            out[key] = value.strip() if key in ("name", "op") else int(value)
        except ValueError:
            raise LayerError(f"--layer: {key}={value!r} is not an integer") from None
    out.setdefault("name", "layer")
    return out


def _delegate(module_names: Sequence[str], name: str) -> Callable[[Sequence[str], TextIO], int]:
    """A subcommand implemented elsewhere as ``add_arguments(parser)`` + ``run(args) -> int``."""

    def run(argv: Sequence[str], stdout: TextIO) -> int:
        import importlib

        mod = None
        for module_name in module_names:
            try:
                mod = importlib.import_module(module_name)
                break
            except ModuleNotFoundError as exc:
                if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
                    raise
        if mod is None:
            raise RlschedError(f"the `{name}` subcommand is not available in this installation")
        p = argparse.ArgumentParser(prog=f"{PROG} {name}", description=(mod.__doc__ or "").strip().splitlines()[0]
                                    if mod.__doc__ else None)
        mod.add_arguments(p)
        if not any(a.dest in ("verbose", "quiet") for a in p._actions):
            _add_verbosity(p)
        args = p.parse_args(argv)
        configure_logging(_verbosity(args))
        return int(mod.run(args))

    return run


_HANDLERS: dict[str, Callable[[Sequence[str], TextIO], int]] = {
    "targets": _cmd_targets,
    "show-target": _cmd_show_target,
    "zoo": _cmd_zoo,
    "evaluate": _cmd_evaluate,
    "pipeline": _delegate(("rlsched_compile.pipeline.command",), "pipeline"),
    "train": _delegate(("rlsched_compile.rl.command", "rlsched_compile.rl.train"), "train"),
    "sweep": _delegate(("rlsched_compile.sweep.command",), "sweep"),
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C: the workers are killed,
    a staged output folder is removed, and the CLI exits 143 with one line."""


def _raise_terminated(signum: int, frame: Any) -> None:
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
        if args and args[0] in _HANDLERS:
            return _HANDLERS[args[0]](args[1:], stdout)
        return _run_compile(args, stdout)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
