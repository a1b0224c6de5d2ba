#!/usr/bin/env python3
"""Coverage on real PyTorch exports: models written here in PyTorch (random weights), exported
with ``torch.onnx.export`` (the default dynamo exporter, and the legacy one for some), compiled
with ``rlsched-compile`` on eyeriss; the table compares the MACs the tool reports (the model's
MAC total and the scheduled MACs from report.json) with an independent count: for the CNNs
PyTorch's own ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2) on the same module and
input; for the transformers (whose fused CPU attention it does not count) and the recurrent
models (which it does not count) formulas from the sizes: per transformer block
``T*d*3d + 2*T*T*d + T*d*d + 2*T*d*4d``, per recurrent layer ``T*N*gates*H*(I + H)``.

Models: ViT-B/16 in three attention forms (explicit matmul, ``F.scaled_dot_product_attention``,
the opset-23 ``Attention`` operator), BERT-base (sequence 128), LSTM and GRU (2 x 512, 100
steps), UNet (256 x 256, ConvTranspose up-sampling), an EfficientNet-B0-like CNN (depthwise,
squeeze-excite, SiLU) and a 1-D conv net (M5-like, 16000 audio samples).

Prints a Markdown table and writes ``bench/results/coverage.md`` (needs torch and onnxscript):

    nice -n 10 python bench/bench_coverage.py
    python bench/bench_coverage.py --small        # narrower models, same structure (fast)
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, form: str) -> None:
        super().__init__()
        self.heads, self.form = heads, form
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # type: ignore[no-untyped-def]
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if self.form == "matmul":
            o = (q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5).softmax(-1) @ v
        else:
            o = F.scaled_dot_product_attention(q, k, v)
        return self.proj(o.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp: int, form: str, pre_norm: bool = True) -> None:
        super().__init__()
        self.pre_norm = pre_norm
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, form)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):  # type: ignore[no-untyped-def]
        if self.pre_norm:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))


class ViT(nn.Module):
    def __init__(self, form: str, dim: int = 768, depth: int = 12, heads: int = 12, img: int = 224) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 16, stride=16)
        n = (img // 16) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, 4 * dim, form) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 1000)

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


class Bert(nn.Module):
    def __init__(self, dim: int = 768, depth: int = 12, heads: int = 12, seq: int = 128) -> None:
        super().__init__()
        self.word = nn.Embedding(30522, dim)
        self.pos = nn.Parameter(torch.zeros(1, seq, dim))
        self.norm = nn.LayerNorm(dim)
        self.layers = nn.Sequential(*[Block(dim, heads, 4 * dim, "sdpa", pre_norm=False) for _ in range(depth)])
        self.pooler = nn.Linear(dim, dim)

    def forward(self, ids):  # type: ignore[no-untyped-def]
        x = self.layers(self.norm(self.word(ids) + self.pos))
        return torch.tanh(self.pooler(x[:, 0]))


class Recurrent(nn.Module):
    def __init__(self, cls: type, width: int = 512) -> None:
        super().__init__()
        self.rnn = cls(width, width, num_layers=2)
        self.head = nn.Linear(width, 10)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.head(self.rnn(x)[0])


def double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, base: int = 64) -> None:
        super().__init__()
        w = [base * 2 ** i for i in range(5)]
        self.inc = double_conv(3, w[0])
        self.downs = nn.ModuleList([double_conv(w[i], w[i + 1]) for i in range(4)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2) for i in reversed(range(4))])
        self.convs = nn.ModuleList([double_conv(2 * w[i], w[i]) for i in reversed(range(4))])
        self.outc = nn.Conv2d(w[0], 2, 1)

    def forward(self, x):  # type: ignore[no-untyped-def]
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(F.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for up, conv in zip(self.ups, self.convs):
            x = conv(torch.cat([skips.pop(), up(x)], 1))
        return self.outc(x)


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, expand: int, k: int, stride: int) -> None:
        super().__init__()
        mid = cin * expand
        se = max(1, cin // 4)
        self.expand = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.SiLU()) \
            if expand != 1 else nn.Identity()
        self.dw = nn.Sequential(nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False),
                                nn.BatchNorm2d(mid), nn.SiLU())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(mid, se, 1), nn.SiLU(), nn.Conv2d(se, mid, 1),
                                nn.Sigmoid())
        self.project = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.dw(self.expand(x))
        y = self.project(y * self.se(y))
        return x + y if self.residual else y


class EfficientNetB0(nn.Module):
    CONFIG = [(1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3), (6, 112, 3, 1, 5),
              (6, 192, 4, 2, 5), (6, 320, 1, 1, 3)]

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        c = lambda v: max(8, int(v * scale))  # noqa: E731
        layers: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, c(32), 3, 2, 1, bias=False), nn.BatchNorm2d(c(32)),
                                                 nn.SiLU())]
        cin = c(32)
        for expand, cout, n, stride, k in self.CONFIG:
            for i in range(n):
                layers.append(MBConv(cin, c(cout), expand, k, stride if i == 0 else 1))
                cin = c(cout)
        layers.append(nn.Sequential(nn.Conv2d(cin, c(1280), 1, bias=False), nn.BatchNorm2d(c(1280)), nn.SiLU()))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c(1280), 1000)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.classifier(self.features(x).mean((2, 3)))


class M5(nn.Module):
    """Dai et al. 2017 M5-like 1-D conv net on raw audio."""

    def __init__(self, width: int = 128) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(nn.Conv1d(1, w, 80, stride=4), nn.BatchNorm1d(w), nn.ReLU(), nn.MaxPool1d(4),
                                 nn.Conv1d(w, w, 3), nn.BatchNorm1d(w), nn.ReLU(), nn.MaxPool1d(4),
                                 nn.Conv1d(w, 2 * w, 3), nn.BatchNorm1d(2 * w), nn.ReLU(), nn.MaxPool1d(4),
                                 nn.Conv1d(2 * w, 4 * w, 3), nn.BatchNorm1d(4 * w), nn.ReLU(), nn.MaxPool1d(4))
        self.fc = nn.Linear(4 * w, 35)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.fc(self.net(x).mean(-1))


def flop_counter_macs(module: nn.Module, args: tuple) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*args)
    return counter.get_total_flops() // 2


def transformer_macs(tokens: int, d: int, depth: int) -> int:
    """Projections, Q.K^T, A.V and MLP (4d) of ``depth`` blocks on ``tokens`` tokens."""
    return depth * (tokens * d * 3 * d + 2 * tokens * tokens * d + tokens * d * d + 2 * tokens * d * 4 * d)


def vit_macs(d: int, depth: int) -> int:
    return 196 * d * 3 * 256 + transformer_macs(197, d, depth) + d * 1000


def bert_macs(d: int, depth: int) -> int:
    return transformer_macs(128, d, depth) + d * d


def recurrent_macs(gates: int, width: int, steps: int) -> int:
    return 2 * steps * gates * width * (width + width) + steps * width * 10


def cases(small: bool) -> list[tuple[str, str, nn.Module, tuple, int | None, int | None]]:
    """(name, exporter, module, args, opset, independent MACs or None for FlopCounterMode)."""
    d, depth, heads = (192, 4, 3) if small else (768, 12, 12)
    img = torch.zeros(1, 3, 224, 224)
    width = 128 if small else 512
    seq = torch.zeros(100, 1, width)
    out = [
        ("ViT (matmul attention)", "dynamo", ViT("matmul", d, depth, heads), (img,), None, vit_macs(d, depth)),
        ("ViT (matmul attention)", "legacy", ViT("matmul", d, depth, heads), (img,), None, vit_macs(d, depth)),
        ("ViT (scaled_dot_product_attention)", "dynamo", ViT("sdpa", d, depth, heads), (img,), None,
         vit_macs(d, depth)),
        ("ViT (opset-23 Attention)", "dynamo", ViT("sdpa", d, depth, heads), (img,), 23, vit_macs(d, depth)),
        ("BERT-base (seq 128)", "dynamo", Bert(d, depth, heads), (torch.zeros(1, 128, dtype=torch.long),), None,
         bert_macs(d, depth)),
        ("LSTM 2x%d, 100 steps" % width, "dynamo", Recurrent(nn.LSTM, width), (seq,), None,
         recurrent_macs(4, width, 100)),
        ("LSTM 2x%d, 100 steps" % width, "legacy", Recurrent(nn.LSTM, width), (seq,), None,
         recurrent_macs(4, width, 100)),
        ("GRU 2x%d, 100 steps" % width, "dynamo", Recurrent(nn.GRU, width), (seq,), None,
         recurrent_macs(3, width, 100)),
        ("UNet 256x256", "dynamo", UNet(16 if small else 64), (torch.zeros(1, 3, 256, 256),), None, None),
        ("EfficientNet-B0-like", "dynamo", EfficientNetB0(0.5 if small else 1.0), (img,), None, None),
        ("1-D conv net (M5-like)", "dynamo", M5(32 if small else 128), (torch.zeros(1, 1, 16000),), None, None),
    ]
    return out


def export(module: nn.Module, args: tuple, exporter: str, opset: int | None, path: Path) -> None:
    module.eval()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            kwargs = {} if opset is None else {"opset_version": opset}
            torch.onnx.export(module, args, str(path), dynamo=True, **kwargs)
        else:
            torch.onnx.export(module, args, str(path), dynamo=False, opset_version=opset or 17)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="narrower models (same structure)")
    parser.add_argument("--target", default="eyeriss")
    parser.add_argument("--out", default=str(HERE / "results" / "coverage.md"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    rows = []
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory(prefix="bench_coverage_") as tmp:
        env["RLSCHED_CACHE_DIR"] = str(Path(tmp) / "cache")
        for i, (name, exporter, module, margs, opset, independent) in enumerate(cases(args.small)):
            path = Path(tmp) / f"m{i}.onnx"
            t0 = time.perf_counter()
            export(module, margs, exporter, opset, path)
            t_export = time.perf_counter() - t0
            if independent is None:
                independent = flop_counter_macs(module, margs)
            import onnx

            ops = {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
            proc = subprocess.run([sys.executable, "-m", "rlsched_compile", str(path), "--target", args.target,
                                   "--out", str(Path(tmp) / f"out{i}"), "--format", "json", "-q", "--jobs", "2"],
                                  capture_output=True, text=True, env=env)
            row = {"model": name, "exporter": exporter + (f" (opset {opset})" if opset else ""),
                   "exit": proc.returncode, "independent": independent,
                   "forms": ", ".join(sorted(ops & {"Attention", "MatMul", "Gemm", "Einsum", "LSTM", "GRU",
                                                    "ConvTranspose", "Conv"}))}
            if proc.returncode in (0, 1):
                cov = json.loads(proc.stdout)["coverage"]
                row.update(model_macs=cov["model_macs"], scheduled=cov["scheduled_macs"], share=cov["share"])
            else:
                row["error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "?"
            rows.append(row)
            err = (row.get("model_macs", 0) - independent) / independent if independent else 0.0
            print(f"{name} [{row['exporter']}]: exit {row['exit']}, MACs {row.get('model_macs')} vs {independent} "
                  f"({100 * err:+.3f}%), export {t_export:.1f} s", file=sys.stderr, flush=True)
    lines = [f"Coverage on PyTorch {torch.__version__} exports ({'small' if args.small else 'full-size'} models), "
             f"compiled on {args.target}", "",
             "| model | exporter | MAC operators in the export | exit | reported MACs | scheduled | "
             "independent count | difference |", "|---|---|---|---:|---:|---:|---:|---:|"]
    ok = True
    for r in rows:
        if "model_macs" in r:
            diff = (r["model_macs"] - r["independent"]) / r["independent"]
            ok &= r["exit"] == 0 and abs(diff) <= 1e-3 and r["scheduled"] == r["model_macs"]
            lines.append(f"| {r['model']} | {r['exporter']} | {r['forms']} | {r['exit']} | {r['model_macs']:,} | "
                         f"{100 * r['share']:.1f}% | {r['independent']:,} | {100 * diff:+.4f}% |")
        else:
            ok = False
            lines.append(f"| {r['model']} | {r['exporter']} | {r['forms']} | {r['exit']} | - | - | "
                         f"{r['independent']:,} | {r['error']} |")
    lines += ["", "all compile with exit 0, 100% scheduled, within 0.1% of the independent count: "
              + ("yes" if ok else "NO")]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.small:
        Path(args.out).write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
