"""The layer distribution the scheduling agent trains on: the unique layers of ONNX models and
synthetic layers drawn from realistic ranges (seeded), without repeats across the two."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..layer import Layer


def synthetic_layers(n: int, *, seed: int) -> list[Layer]:
    """``n`` layers drawn from realistic ranges (convolutions, depthwise, pointwise, FC), seeded."""
    rng = np.random.default_rng(seed)
    channels = [3, 16, 24, 32, 40, 48, 64, 72, 96, 120, 128, 160, 192, 256, 320, 384, 480, 512, 576, 768, 1024]
    sizes = [1, 3, 7, 13, 14, 17, 19, 26, 28, 35, 52, 56, 73, 112]
    out: list[Layer] = []
    for k in range(n):
        kind = rng.choice(["conv", "conv", "pointwise", "depthwise", "fc"])
        c = int(rng.choice(channels[1:]))
        kk = int(rng.choice(channels[1:]))
        p = int(rng.choice(sizes[1:]))
        stride = int(rng.choice([1, 1, 2]))
        if kind == "fc":
            layer = Layer(f"syn{k}_fc", K=kk * 4, B=1, P=1, Q=1, C=c * 4, R=1, S=1, stride_h=1, stride_w=1)
        elif kind == "depthwise":
            r = int(rng.choice([3, 5]))
            layer = Layer(f"syn{k}_dw", K=c, B=1, P=p, Q=p, C=c, R=r, S=r, G=c, stride_h=stride, stride_w=stride)
        elif kind == "pointwise":
            layer = Layer(f"syn{k}_pw", K=kk, B=1, P=p, Q=p, C=c, R=1, S=1)
        else:
            r = int(rng.choice([1, 3, 3, 5, 7]))
            q = p if rng.random() < 0.8 else int(rng.choice(sizes[1:]))
            layer = Layer(f"syn{k}_conv", K=kk, B=1, P=p, Q=q, C=c, R=r, S=int(rng.choice([r, 1])) if r > 1 else 1,
                          stride_h=stride, stride_w=stride)
        out.append(layer)
    return out


def model_layers(paths: Sequence[Path], *, per_model: int | None, seed: int) -> dict[str, list[Layer]]:
    """The unique layers of each ONNX model, keyed by file stem; at most ``per_model`` of each,
    chosen with ``seed`` (in network order)."""
    from ..frontend import load_network

    rng = np.random.default_rng(seed)
    out: dict[str, list[Layer]] = {}
    for path in paths:
        net = load_network(path)
        layers = [g.layer for g in net.unique_layers()]
        if per_model is not None and len(layers) > per_model:
            keep = sorted(rng.choice(len(layers), size=per_model, replace=False).tolist())
            layers = [layers[i] for i in keep]
        out[path.stem] = layers
    return out


def dedupe(layers: list[Layer], seen: set[tuple[int, ...]]) -> list[Layer]:
    """The layers whose signature is not yet in ``seen``, in order; adds theirs to ``seen``."""
    out = []
    for layer in layers:
        if layer.signature() not in seen:
            seen.add(layer.signature())
            out.append(layer)
    return out
