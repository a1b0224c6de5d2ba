"""The zoo models beyond the paper's CNNs (ViT-B/16, BERT-base, GPT-2 small, the PTB LSTM, UNet,
QDQ ResNet-18): parameter counts equal the reference implementations', MACs equal a count made
here from the architectures' sizes, every MAC is scheduled, the files pass the full checker and
run in onnxruntime. (Byte-identical regeneration of every zoo file: tests/frontend/test_zoo.py.)"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest

from rlsched_compile.frontend import Network, load_network, zoo

ZOO_DIR = Path(__file__).resolve().parents[2] / "model_zoo"
NAMES = [n for n in zoo.BUILDERS if n not in zoo.PAPER_MODELS]

# Trainable parameters of the reference implementations: timm vit_base_patch16_224, Hugging Face
# BertModel (bert-base-uncased, with pooler) and GPT2LMHeadModel (gpt2, tied head), milesial UNet
# (bilinear=False, 2 classes), torchvision resnet18 with BN folded into conv biases (11,689,512
# - 2 x 4,800 BN parameters + 4,800 biases); the PTB LSTM: embedding + 2 x (4*650*(650+650) +
# 8*650 biases, ONNX's two bias vectors as PyTorch's) + decoder.
REFERENCE_PARAMS = {"vit_b16": 86_567_656, "bert_base": 109_482_240, "gpt2_small": 124_439_808,
                    "lstm_lm": 10000 * 650 + 2 * (4 * 650 * 1300 + 8 * 650) + 650 * 10000 + 10000,
                    "unet": 31_037_698, "resnet18_qdq": 11_689_512 - 2 * 4800 + 4800}


def _transformer_macs(layers: int, tokens: int, d: int, ff: int) -> int:
    per_layer = tokens * d * 3 * d + 2 * tokens * tokens * d + tokens * d * d + 2 * tokens * d * ff
    return layers * per_layer


def _unet_macs(size: int = 256) -> int:
    total, c_in = 0, 3
    widths = (64, 128, 256, 512, 1024)
    for i, c in enumerate(widths):  # encoder double convs
        s = size >> i
        total += s * s * 9 * (c_in * c + c * c)
        c_in = c
    for i, c in enumerate(reversed(widths[:-1])):  # decoder: ConvTranspose 2x2, double conv
        s = size >> (3 - i)
        total += (s // 2) ** 2 * 4 * (2 * c) * c + s * s * 9 * (2 * c * c + c * c)
    return total + size * size * 64 * 2


def _resnet18_macs() -> int:
    total = 112 * 112 * 49 * 3 * 64
    c_in, side = 64, 56
    for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        side //= stride
        total += side * side * 9 * (c_in * width + 3 * width * width)
        if c_in != width:
            total += side * side * c_in * width
        c_in = width
    return total + 512 * 1000


EXPECTED_MACS = {
    "vit_b16": 196 * 768 * 3 * 256 + _transformer_macs(12, 197, 768, 3072) + 768 * 1000,
    "bert_base": _transformer_macs(12, 128, 768, 3072) + 768 * 768,
    "gpt2_small": _transformer_macs(12, 512, 768, 3072) + 512 * 768 * 50257,
    "lstm_lm": 2 * 35 * 4 * 650 * (650 + 650) + 35 * 650 * 10000,
    "unet": _unet_macs(),
    "resnet18_qdq": _resnet18_macs(),
}
OUTPUT_SHAPES = {"vit_b16": [(1, 1000)], "bert_base": [(1, 128, 768), (1, 768)],
                 "gpt2_small": [(1, 512, 50257)], "lstm_lm": [(35, 1, 10000)],
                 "unet": [(1, 2, 256, 256)], "resnet18_qdq": [(1, 1000)]}


@pytest.fixture(scope="module")
def networks() -> dict[str, Network]:
    return {name: load_network(ZOO_DIR / f"{name}.onnx") for name in NAMES}


def test_the_six_models() -> None:
    assert NAMES == ["vit_b16", "bert_base", "gpt2_small", "lstm_lm", "unet", "resnet18_qdq"]


@pytest.mark.parametrize("name", NAMES)
def test_macs_are_exact_and_all_scheduled(networks: dict[str, Network], name: str) -> None:
    net = networks[name]
    assert net.macs == net.model_macs == EXPECTED_MACS[name]
    assert net.unsupported == () and net.coverage == 1.0


def test_vit_is_the_issue_figure(networks: dict[str, Network]) -> None:
    assert f"{networks['vit_b16'].model_macs / 1e9:.2f}" == "17.56"


@pytest.mark.parametrize("name", NAMES)
def test_layer_counts(networks: dict[str, Network], name: str) -> None:
    net = networks[name]
    expected = zoo.EXPECTED_COUNTS[name]
    nodes = [a for _, a in net.graph.nodes(data=True) if a["layer_indices"]]
    assert sum(1 for a in nodes if a["op_type"] == "Conv") == expected.conv
    assert sum(1 for a in nodes if a["op_type"] in ("Gemm", "MatMul")) == expected.fc
    assert sum(1 for a in nodes if a["op_type"] in ("LSTM", "ConvTranspose")) == expected.other


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_match_reference_implementations(name: str) -> None:
    m = onnx.load(str(ZOO_DIR / f"{name}.onnx"))
    dims = {n.output[0]: list(n.attribute[0].t.int64_data) for n in m.graph.node
            if n.op_type == "Constant" and n.attribute[0].t.data_type == onnx.TensorProto.INT64}
    params = sum(math.prod(dims[n.input[0]]) for n in m.graph.node if n.op_type == "ConstantOfShape"
                 and not n.output[0].endswith(("running_mean", "running_var", "causal_mask")))
    assert params == REFERENCE_PARAMS[name]


@pytest.mark.parametrize("name", NAMES)
def test_file_passes_full_checker_and_is_small(name: str) -> None:
    path = ZOO_DIR / f"{name}.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    assert path.stat().st_size < 200 * 1024


@pytest.mark.parametrize("name", NAMES)
def test_runs_in_onnxruntime(name: str) -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(ZOO_DIR / f"{name}.onnx"), opts, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.zeros(i.shape, np.int64 if i.type == "tensor(int64)" else np.float32)
             for i in sess.get_inputs()}
    assert [o.shape for o in sess.run(None, feeds)] == OUTPUT_SHAPES[name]


def test_names_trace_back_to_modules(networks: dict[str, Network]) -> None:
    names = {ly.name for ly in networks["vit_b16"].layers}
    assert {"patch_embed.proj", "blocks.0.attn.qkv", "blocks.0.attn.matmul", "blocks.11.mlp.fc2",
            "head"} <= names
    lstm = [(ly.name, ly.repeat) for ly in networks["lstm_lm"].layers]
    assert lstm[:2] == [("rnn.0.forward.input", 1), ("rnn.0.forward.recurrent", 35)]
    qdq = networks["resnet18_qdq"].layers
    assert qdq[0].name == "conv1" and qdq[0].signature()[:8] == (64, 1, 112, 112, 3, 7, 7, 1)
