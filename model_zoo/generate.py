#!/usr/bin/env python3
"""Builds the model zoo's ONNX files next to this script (byte-identical on every run).

Usage:
    python model_zoo/generate.py            # (re)write every .onnx file here
    python model_zoo/generate.py --check    # exit 1 if a file is missing or differs
    python model_zoo/generate.py --table    # print the README table rows

The architectures live in rlsched_compile/frontend/zoo.py; this script only calls it.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import onnx  # noqa: E402

from rlsched_compile.frontend import load_network, zoo  # noqa: E402


def parameter_count(path: Path) -> int:
    """Trainable parameters: every ConstantOfShape weight except BN running statistics and
    causal masks."""
    model = onnx.load(str(path))
    dims = {n.output[0]: list(n.attribute[0].t.int64_data) for n in model.graph.node
            if n.op_type == "Constant"}
    return sum(math.prod(dims[n.input[0]]) for n in model.graph.node
               if n.op_type == "ConstantOfShape"
               and not n.output[0].endswith(("running_mean", "running_var", "causal_mask")))


def table_rows() -> list[str]:
    """Markdown rows: file, source, input, Conv, depthwise, SE Conv, FC, other, unique layers,
    GMACs, parameters, size (counts are of operator nodes; "other": LSTM, ConvTranspose)."""
    rows = []
    for name in zoo.BUILDERS:
        path = HERE / f"{name}.onnx"
        net = load_network(path)
        nodes = [a for _, a in net.graph.nodes(data=True) if a["layer_indices"]]
        conv = [a for a in nodes if a["op_type"] == "Conv"]
        dw = sum(1 for a in conv if (ly := net.layers[a["layer_index"]]).G > 1 and ly.G == ly.C)
        se = sum(1 for a in conv if ".se." in a["name"])
        fc = sum(1 for a in nodes if a["op_type"] in ("Gemm", "MatMul"))
        other = len(nodes) - len(conv) - fc
        inputs = [a["output_shapes"][0] for _, a in net.graph.nodes(data=True) if a["op_type"] == "Input"]
        shape = inputs[0]
        size = f"{shape[2]}x{shape[3]}" if len(shape) == 4 else f"{max(shape)} tokens"
        rows.append(f"| `{name}.onnx` | {zoo.SOURCES[name]} | {size} | {len(conv)} "
                    f"| {dw} | {se} | {fc} | {other} | {len(net.unique_layers())} | {net.macs / 1e9:.2f} | "
                    f"{parameter_count(path) / 1e6:.2f} M | {path.stat().st_size / 1024:.0f} KiB |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    parser.add_argument("--table", action="store_true", help="print README table rows")
    args = parser.parse_args(argv)
    if args.check:
        stale = zoo.check_zoo(HERE)
        for name in stale:
            print(f"{name}.onnx is missing or differs from a rebuild", file=sys.stderr)
        return 1 if stale else 0
    if args.table:
        print("\n".join(table_rows()))
        return 0
    for path in zoo.build_all(HERE):
        print(f"wrote {path.relative_to(HERE.parent)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
