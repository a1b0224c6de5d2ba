#!/usr/bin/env python3
"""Times load_network on every zoo model and prints a table (goal: YOLO v3 parses in < 1 s).

Usage: python bench/bench_frontend.py [--repeat 5] [--with-weights]

The zoo files are shape-only (weights made by ConstantOfShape). ``--with-weights`` also times a
YOLO v3 whose 61.9 M weights are stored as float32 initializers (a 248 MB file written to a
temporary folder), which is what a real export looks like.
Exit status 1 if a YOLO v3 median exceeds the 1 s goal.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

from rlsched_compile.frontend import load_network, zoo  # noqa: E402

YOLO_GOAL_S = 1.0


def with_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """The zoo model with every ConstantOfShape weight turned into a float32 initializer."""
    dims = {n.output[0]: list(n.attribute[0].t.int64_data) for n in model.graph.node
            if n.op_type == "Constant" and n.output[0].startswith("dims_")}
    nodes, inits = [], []
    for n in model.graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in dims:
            inits.append(numpy_helper.from_array(np.zeros(dims[n.input[0]], np.float32),
                                                 n.output[0]))
        elif n.output[0] not in dims:
            nodes.append(n)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    model.graph.initializer.extend(inits)
    return model


def time_load(path: Path, repeat: int) -> tuple[float, float, object]:
    """(median s, min s, network) of ``repeat`` load_network calls."""
    times_s = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        net = load_network(path)
        times_s.append(time.perf_counter() - t0)
    return statistics.median(times_s), min(times_s), net


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per model (default 5)")
    parser.add_argument("--with-weights", action="store_true",
                        help="also time a YOLO v3 with float32 weights (248 MB temporary file)")
    args = parser.parse_args(argv)
    load_network(zoo.zoo_path("resnet50"))  # warm-up: imports, onnx C extension
    print(f"{'model':<22} {'MB':>6} {'ops':>5} {'layers':>6} {'unique':>6} {'median ms':>10} "
          f"{'min ms':>8}")
    rows = [(name, zoo.zoo_path(name)) for name in zoo.BUILDERS]
    tmp = tempfile.TemporaryDirectory() if args.with_weights else None
    if tmp is not None:
        heavy = Path(tmp.name) / "yolov3_weights.onnx"
        onnx.save(with_weights(zoo.build_yolov3()), heavy)
        rows.append(("yolov3 (fp32 weights)", heavy))
    medians_s = {}
    for name, path in rows:
        median_s, min_s, net = time_load(path, args.repeat)
        medians_s[name] = median_s
        print(f"{name:<22} {path.stat().st_size / 1e6:>6.1f} {net.graph.number_of_nodes():>5} "
              f"{len(net.layers):>6} {len(net.unique_layers()):>6} {median_s * 1e3:>10.1f} "
              f"{min_s * 1e3:>8.1f}")
    if tmp is not None:
        tmp.cleanup()
    ok = True
    for name, median_s in medians_s.items():
        if name.startswith("yolov3"):
            meets = median_s < YOLO_GOAL_S
            ok = ok and meets
            print(f"{name}: median {median_s:.3f} s, {'meets' if meets else 'MISSES'} the "
                  f"{YOLO_GOAL_S:.0f} s goal")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
