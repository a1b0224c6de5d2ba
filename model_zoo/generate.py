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
    """Trainable parameters: every ConstantOfShape weight except BN running statistics."""
    model = onnx.load(str(path))
    dims = {n.output[0]: list(n.attribute[0].t.int64_data) for n in model.graph.node
            if n.op_type == "Constant"}
    return sum(math.prod(dims[n.input[0]]) for n in model.graph.node
               if n.op_type == "ConstantOfShape"
               and not n.output[0].endswith(("running_mean", "running_var")))


def table_rows() -> list[str]:
    """Markdown rows: file, source, input, Conv, depthwise, SE Conv, FC, unique layers, GMACs,
    parameters, size."""
    rows = []
    for name in zoo.BUILDERS:
        path = HERE / f"{name}.onnx"
        net = load_network(path)
        conv = [layer for layer in net.layers if layer.op == "Conv"]
        dw = sum(1 for layer in conv if layer.G > 1 and layer.G == layer.C)
        se = sum(1 for layer in conv if ".se." in layer.name)
        fc = len(net.layers) - len(conv)
        image = net.graph.nodes["input:image"]["output_shapes"][0]
        rows.append(f"| `{name}.onnx` | {zoo.SOURCES[name]} | {image[2]}x{image[3]} | {len(conv)} "
                    f"| {dw} | {se} | {fc} | {len(net.unique_layers())} | {net.macs / 1e9:.2f} | "
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
