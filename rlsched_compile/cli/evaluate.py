"""``rlsched-compile evaluate SCHEDULE --target T``: the cost of your own scheduling table for one layer."""
from __future__ import annotations

import argparse
import json
import logging
from typing import Any, Sequence, TextIO

from .._options import PROG, add_format
from ._common import add_verbosity, verbosity
from ._logging import configure_logging

logger = logging.getLogger(__name__)


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Run the subcommand; returns 0, or 1 when the schedule is not valid on the target."""
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
    add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(verbosity(args))
    from ..emit.text import render_evaluation
    from ..errors import LayerError, TableError
    from ..layer import Layer
    from ..native.costmodel import evaluate_table
    from ..targets import load_target

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
        from ..search.dataflow import apply_dataflows

        target = apply_dataflows(target, doc["dataflows"], where=f"{args.schedule}: dataflows")
    ev = evaluate_table(target, layer, table)
    if args.format == "json":
        stdout.write(json.dumps({"layer": layer.to_dict(), "target": {"name": target.name, "sha256": target.sha256},
                                 **ev.to_dict()}, indent=1, allow_nan=False) + "\n")
    else:
        stdout.write(render_evaluation(layer, target, ev))
    if not ev.valid:
        logger.error("the schedule is not valid on %s: it breaks rule %r (see spec §2.3)", target.name,
                     ev.invalid_reason)
        return 1
    return 0


def _read_data_file(path: str, *, what: str) -> Any:
    from ..errors import TableError

    from .._dataload import InputLimitError, load_json, load_yaml, read_text

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
    from ..errors import LayerError

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
