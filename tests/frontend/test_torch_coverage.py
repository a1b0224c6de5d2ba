"""Exports from PyTorch (the legacy TorchScript exporter and the default dynamo exporter) of small
hand-written modules with every MAC-bearing operator form: the frontend schedules all of their
MACs, and the count equals one made here by hand from the module's sizes."""
from __future__ import annotations

import contextlib
import io
import warnings
from typing import Callable

import onnx
import pytest

from rlsched_compile.frontend import load_network

torch = pytest.importorskip("torch")
F = torch.nn.functional

D, H, T = 16, 2, 6  # width, heads, tokens of the attention modules


class _Attention(torch.nn.Module):  # type: ignore[misc,name-defined]
    """One self-attention block: qkv projection, Q K^T, A V, output projection."""

    def __init__(self, form: str) -> None:
        super().__init__()
        self.form = form
        self.qkv = torch.nn.Linear(D, 3 * D)
        self.proj = torch.nn.Linear(D, D)

    def forward(self, x):  # type: ignore[no-untyped-def]
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, H, d // H).permute(2, 0, 3, 1, 4)
        if self.form == "sdpa":
            o = F.scaled_dot_product_attention(q, k, v)
        elif self.form == "einsum":
            a = torch.einsum("bhqd,bhkd->bhqk", q, k).softmax(-1)
            o = torch.einsum("bhqk,bhkd->bhqd", a, v)
        else:
            o = (q @ k.transpose(-2, -1) * 0.25).softmax(-1) @ v
        return self.proj(o.transpose(1, 2).reshape(b, t, d))


def _attention_macs(batch: int = 1) -> int:
    return batch * (T * D * 3 * D + 2 * T * T * D + T * D * D)


class _Recurrent(torch.nn.Module):  # type: ignore[misc,name-defined]
    def __init__(self, cls: type) -> None:
        super().__init__()
        self.rnn = cls(8, 12, num_layers=2, bidirectional=True)

    def forward(self, x, h0):  # type: ignore[no-untyped-def]
        return self.rnn(x, h0)[0]


def _recurrent_macs(gates: int, steps: int = 5, n: int = 2, i: int = 8, h: int = 12) -> int:
    return 2 * steps * n * gates * h * (i + h) + 2 * steps * n * gates * h * (2 * h + h)


class _Upsampler(torch.nn.Module):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        super().__init__()
        self.up2 = torch.nn.ConvTranspose2d(8, 6, 2, stride=2)
        self.up4 = torch.nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2)
        self.up3 = torch.nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.up4(self.up2(x))  # 5x5 -> 10x10 -> 20x20
        return self.up3(y.flatten(2))  # length 400 -> 800


_UP_MACS = 8 * 6 * 4 * 25 + 6 * 2 * 16 * 100 + 4 * 3 * 3 * 400


class _Convs(torch.nn.Module):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        super().__init__()
        self.c3 = torch.nn.Conv3d(2, 4, 3, padding=1, stride=(2, 1, 1))
        self.c1 = torch.nn.Conv1d(4, 6, 5, stride=2, dilation=2)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.c3(x)  # [1, 4, 3, 6, 6]
        return self.c1(y.flatten(2))  # length 108


_CONV_MACS = 4 * 3 * 36 * 2 * 27 + 6 * ((108 - 9) // 2 + 1) * 4 * 5

CASES: dict[str, tuple[Callable[[], object], Callable[[], tuple], int]] = {
    "attention_matmul": (lambda: _Attention("matmul"), lambda: (torch.zeros(1, T, D),), _attention_macs()),
    "attention_sdpa": (lambda: _Attention("sdpa"), lambda: (torch.zeros(1, T, D),), _attention_macs()),
    "attention_einsum": (lambda: _Attention("einsum"), lambda: (torch.zeros(2, T, D),), _attention_macs(2)),
    "lstm": (lambda: _Recurrent(torch.nn.LSTM),
             lambda: (torch.zeros(5, 2, 8), (torch.zeros(4, 2, 12), torch.zeros(4, 2, 12))), _recurrent_macs(4)),
    "gru": (lambda: _Recurrent(torch.nn.GRU), lambda: (torch.zeros(5, 2, 8), torch.zeros(4, 2, 12)),
            _recurrent_macs(3)),
    "rnn": (lambda: _Recurrent(torch.nn.RNN), lambda: (torch.zeros(5, 2, 8), torch.zeros(4, 2, 12)),
            _recurrent_macs(1)),
    "conv_transpose": (_Upsampler, lambda: (torch.zeros(1, 8, 5, 5),), _UP_MACS),
    "conv_1d_3d": (_Convs, lambda: (torch.zeros(1, 2, 5, 6, 6),), _CONV_MACS),
}


def _export(module: object, args: tuple, *, dynamo: bool, opset: int | None = None) -> onnx.ModelProto:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if dynamo:
            pytest.importorskip("onnxscript")
            kwargs = {} if opset is None else {"opset_version": opset}
            return torch.onnx.export(module.eval(), args, dynamo=True, **kwargs).model_proto  # type: ignore[attr-defined]
        buf = io.BytesIO()
        torch.onnx.export(module.eval(), args, buf, dynamo=False, opset_version=opset or 17)  # type: ignore[attr-defined]
        return onnx.load_from_string(buf.getvalue())


@pytest.mark.parametrize("dynamo", [False, True], ids=["legacy", "dynamo"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_mac_is_scheduled(case: str, dynamo: bool) -> None:
    make, args, macs = CASES[case]
    net = load_network(_export(make(), args(), dynamo=dynamo))
    assert net.unsupported == ()
    assert net.macs == net.model_macs == macs and net.coverage == 1.0
    assert sum(attrs["macs"] for _, attrs in net.graph.nodes(data=True)) == macs


def test_opset23_attention_export() -> None:
    model = _export(_Attention("sdpa"), (torch.zeros(1, T, D),), dynamo=True, opset=23)
    net = load_network(model)
    if not any(n.op_type == "Attention" for n in model.graph.node):
        pytest.skip("this torch version does not export the Attention operator")
    assert net.macs == net.model_macs == _attention_macs()
    assert [ly.name for ly in net.layers if ly.op == "Attention"] == [
        "scaled_dot_product_attention.qk", "scaled_dot_product_attention.av"]


def test_dynamo_names_are_module_paths() -> None:
    class Block(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.attn = _Attention("matmul")

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.attn(x)

    class Net(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.blocks = torch.nn.ModuleList([Block(), Block()])

        def forward(self, x):  # type: ignore[no-untyped-def]
            for b in self.blocks:
                x = b(x)
            return x

    net = load_network(_export(Net(), (torch.zeros(1, T, D),), dynamo=True))
    names = [ly.name for ly in net.layers]
    assert names[0] == "blocks.0.attn.qkv" and names[3] == "blocks.0.attn.proj"
    assert names[4] == "blocks.1.attn.qkv"
    assert all(n.startswith("blocks.0.attn.matmul") for n in names[1:3])
    assert len(set(names)) == len(names)


def test_quantized_exports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ort_quant = pytest.importorskip("onnxruntime.quantization")
    import numpy as np

    class Net(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.c2 = torch.nn.Conv2d(8, 8, 3, stride=2, groups=2)
            self.fc = torch.nn.Linear(8 * 3 * 3, 10)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.fc(torch.relu(self.c2(torch.relu(self.c1(x)))).flatten(1))

    macs = 8 * 3 * 9 * 64 + 8 * 4 * 9 * 9 + 72 * 10
    fp32 = tmp_path / "fp32.onnx"
    fp32.write_bytes(_export(Net(), (torch.zeros(1, 3, 8, 8),), dynamo=False).SerializeToString())
    name = onnx.load(fp32).graph.input[0].name

    class Reader(ort_quant.CalibrationDataReader):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            self.left = 2

        def get_next(self):  # type: ignore[no-untyped-def]
            self.left -= 1
            return {name: np.random.default_rng(self.left).random((1, 3, 8, 8), dtype=np.float32)} \
                if self.left >= 0 else None

    outputs = {}
    for fmt in (ort_quant.QuantFormat.QDQ, ort_quant.QuantFormat.QOperator):
        out = tmp_path / f"{fmt.name}.onnx"
        ort_quant.quantize_static(str(fp32), str(out), Reader(), quant_format=fmt)
        outputs[fmt.name] = out
    outputs["dynamic"] = tmp_path / "dynamic.onnx"
    ort_quant.quantize_dynamic(str(fp32), str(outputs["dynamic"]))
    ops = {"QDQ": {"Conv", "DequantizeLinear"}, "QOperator": {"QLinearConv"},
           "dynamic": {"ConvInteger", "MatMulInteger"}}
    for kind, path in outputs.items():
        assert ops[kind] <= {n.op_type for n in onnx.load(path).graph.node}, kind
        net = load_network(path)
        assert net.unsupported == () and net.macs == net.model_macs == macs, kind
