"""The shipped model zoo, all eleven models: counts, MACs (the paper's CNNs against published
figures, the others exact against a count made here from the architectures' sizes, every MAC
scheduled), parameter counts equal the reference implementations', onnx.checker, onnxruntime,
byte-identical regeneration, and a few layers per model."""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import onnx
import pytest

from rlsched_compile import Layer
from rlsched_compile.errors import ModelError
from rlsched_compile.frontend import Network, load_network, zoo

ZOO_DIR = Path(__file__).resolve().parents[2] / "model_zoo"
PAPER = list(zoo.PAPER_MODELS)  # the paper's CNNs
ALL = list(zoo.BUILDERS)
# (Conv, FC) layer counts of the paper's CNNs stated by the issue / the architectures' papers.
ISSUE_COUNTS = {"yolov3": (75, 0), "inception_v4": (149, 1), "resnet50": (53, 1),
                "mobilenet_v3_large": (62, 2), "mobilenet_v3_small": (52, 2)}

# Trainable parameters of the reference implementations: torchvision resnet50 /
# mobilenet_v3_large / mobilenet_v3_small, Cadene inceptionv4, darknet yolov3.cfg with 80 classes;
# timm vit_base_patch16_224, Hugging Face BertModel (bert-base-uncased, with pooler) and
# GPT2LMHeadModel (gpt2, tied head), milesial UNet (bilinear=False, 2 classes), torchvision
# resnet18 with BN folded into conv biases (11,689,512 - 2 x 4,800 BN parameters + 4,800 biases);
# the PTB LSTM: embedding + 2 x (4*650*(650+650) + 8*650 biases, ONNX's two bias vectors as
# PyTorch's) + decoder.
REFERENCE_PARAMS = {"yolov3": 61_949_149, "inception_v4": 42_679_816, "resnet50": 25_557_032,
                    "mobilenet_v3_large": 5_483_032, "mobilenet_v3_small": 2_542_856,
                    "vit_b16": 86_567_656, "bert_base": 109_482_240, "gpt2_small": 124_439_808,
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


# The paper's CNNs: published multiply-accumulate counts (G MACs at their input sizes, within 2%);
# the others: exact counts from the architectures' sizes.
EXPECTED_MACS = {
    "yolov3": pytest.approx(32.9e9, rel=0.02), "inception_v4": pytest.approx(12.3e9, rel=0.02),
    "resnet50": pytest.approx(4.09e9, rel=0.02), "mobilenet_v3_large": pytest.approx(0.217e9, rel=0.02),
    "mobilenet_v3_small": pytest.approx(0.0566e9, rel=0.02),
    "vit_b16": 196 * 768 * 3 * 256 + _transformer_macs(12, 197, 768, 3072) + 768 * 1000,
    "bert_base": _transformer_macs(12, 128, 768, 3072) + 768 * 768,
    "gpt2_small": _transformer_macs(12, 512, 768, 3072) + 512 * 768 * 50257,
    "lstm_lm": 2 * 35 * 4 * 650 * (650 + 650) + 35 * 650 * 10000,
    "unet": _unet_macs(),
    "resnet18_qdq": _resnet18_macs(),
}


def _image(size: int) -> list[tuple[str, list[int]]]:
    return [("image", [1, 3, size, size])]


INPUTS = {"yolov3": _image(416), "inception_v4": _image(299), "resnet50": _image(224),
          "mobilenet_v3_large": _image(224), "mobilenet_v3_small": _image(224), "vit_b16": _image(224),
          "bert_base": [("input_ids", [1, 128]), ("token_type_ids", [1, 128])],
          "gpt2_small": [("input_ids", [1, 512])], "lstm_lm": [("input_ids", [1, 35])],
          "unet": _image(256), "resnet18_qdq": _image(224)}
OUTPUT_SHAPES = {"yolov3": [(1, 255, 13, 13), (1, 255, 26, 26), (1, 255, 52, 52)],
                 "inception_v4": [(1, 1000)], "resnet50": [(1, 1000)], "mobilenet_v3_large": [(1, 1000)],
                 "mobilenet_v3_small": [(1, 1000)], "vit_b16": [(1, 1000)],
                 "bert_base": [(1, 128, 768), (1, 768)], "gpt2_small": [(1, 512, 50257)],
                 "lstm_lm": [(35, 1, 10000)], "unet": [(1, 2, 256, 256)], "resnet18_qdq": [(1, 1000)]}


@functools.cache
def network(name: str) -> Network:
    """The zoo model, loaded once per test session."""
    return load_network(ZOO_DIR / f"{name}.onnx")


def test_zoo_dir_holds_exactly_the_built_models() -> None:
    assert sorted(p.stem for p in ZOO_DIR.glob("*.onnx")) == sorted(ALL)
    assert ALL[:len(PAPER)] == PAPER
    assert ALL[len(PAPER):] == ["vit_b16", "bert_base", "gpt2_small", "lstm_lm", "unet", "resnet18_qdq"]
    assert sorted(ALL) == sorted(REFERENCE_PARAMS) == sorted(EXPECTED_MACS) == sorted(INPUTS) \
        == sorted(OUTPUT_SHAPES) == sorted(zoo.EXPECTED_COUNTS)


@pytest.mark.parametrize("name", ALL)
def test_layer_counts(name: str) -> None:
    net = network(name)
    expected = zoo.EXPECTED_COUNTS[name]
    nodes = [a for _, a in net.graph.nodes(data=True) if a["layer_indices"]]
    assert sum(1 for a in nodes if a["op_type"] == "Conv") == expected.conv
    assert sum(1 for a in nodes if a["op_type"] in ("Gemm", "MatMul")) == expected.fc
    assert sum(1 for a in nodes if a["op_type"] in ("LSTM", "ConvTranspose")) == expected.other
    conv = [layer for layer in net.layers if layer.op == "Conv"]
    assert sum(1 for layer in conv if layer.G > 1 and layer.G == layer.C) == expected.depthwise
    assert sum(1 for layer in conv if ".se." in layer.name) == expected.se_conv
    assert net.unsupported == () and net.batch == 1


@pytest.mark.parametrize("name", PAPER)
def test_paper_cnn_layer_counts(name: str) -> None:
    net = network(name)
    conv = [layer for layer in net.layers if layer.op == "Conv"]
    fc = [layer for layer in net.layers if layer.op in ("Gemm", "MatMul")]
    assert (len(conv), len(fc)) == ISSUE_COUNTS[name]
    expected = zoo.EXPECTED_COUNTS[name]
    assert (len(conv), len(fc)) == (expected.conv, expected.fc)
    assert all(layer.B == 1 for layer in net.layers)


@pytest.mark.parametrize("name", ALL)
def test_macs_match_and_are_all_scheduled(name: str) -> None:
    net = network(name)
    assert net.macs == EXPECTED_MACS[name]
    assert net.macs == net.model_macs
    assert net.unsupported == () and net.coverage == 1.0


def test_vit_is_the_issue_figure() -> None:
    assert f"{network('vit_b16').model_macs / 1e9:.2f}" == "17.56"


@pytest.mark.parametrize("name", ALL)
def test_parameter_counts_match_reference_implementations(name: str) -> None:
    # Every weight is ConstantOfShape(Constant dims); BN running statistics are buffers, not
    # parameters, in the reference counts, and GPT-2's causal mask is a buffer too.
    m = onnx.load(str(ZOO_DIR / f"{name}.onnx"))
    dims = {n.output[0]: list(n.attribute[0].t.int64_data) for n in m.graph.node
            if n.op_type == "Constant" and n.attribute[0].t.data_type == onnx.TensorProto.INT64}
    params = sum(math.prod(dims[n.input[0]]) for n in m.graph.node if n.op_type == "ConstantOfShape"
                 and not n.output[0].endswith(("running_mean", "running_var", "causal_mask")))
    assert params == REFERENCE_PARAMS[name]


@pytest.mark.parametrize("name", ALL)
def test_file_passes_full_checker_and_is_small(name: str) -> None:
    path = ZOO_DIR / f"{name}.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    assert path.stat().st_size < 200 * 1024


@pytest.mark.parametrize("name", ALL)
def test_runs_in_onnxruntime_with_only_its_inputs(name: str) -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(ZOO_DIR / f"{name}.onnx"), opts, providers=["CPUExecutionProvider"])
    inputs = sess.get_inputs()
    assert [(i.name, i.shape) for i in inputs] == INPUTS[name]
    feeds = {i.name: np.zeros(i.shape, np.int64 if i.type == "tensor(int64)" else np.float32) for i in inputs}
    assert [o.shape for o in sess.run(None, feeds)] == OUTPUT_SHAPES[name]


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    assert zoo.check_zoo(ZOO_DIR) == ()
    written = zoo.build_all(tmp_path)
    assert [p.name for p in written] == [f"{n}.onnx" for n in ALL]
    for p in written:
        assert p.read_bytes() == (ZOO_DIR / p.name).read_bytes()
        assert p.stat().st_mode & 0o777 == 0o644
    assert sorted(q.name for q in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_check_zoo_reports_a_changed_file(tmp_path: Path) -> None:
    zoo.build_all(tmp_path, names=["resnet50"])
    stale = zoo.check_zoo(tmp_path)
    assert "resnet50" not in stale and set(stale) == set(ALL) - {"resnet50"}
    (tmp_path / "resnet50.onnx").write_bytes(b"x")
    assert "resnet50" in zoo.check_zoo(tmp_path)


def test_zoo_path() -> None:
    assert zoo.zoo_path("yolov3") == ZOO_DIR / "yolov3.onnx"
    with pytest.raises(ModelError, match=r"^unknown zoo model 'vgg16'; choose one of yolov3, "
                                         r"inception_v4, resnet50, mobilenet_v3_large, "
                                         r"mobilenet_v3_small, vit_b16, bert_base, gpt2_small, "
                                         r"lstm_lm, unet, resnet18_qdq$"):
        zoo.zoo_path("vgg16")


def test_resnet50_shapes() -> None:
    layers = {layer.name: layer for layer in network("resnet50").layers}
    assert layers["conv1"] == Layer(name="conv1", K=64, B=1, P=112, Q=112, C=3, R=7, S=7,
                                    stride_h=2, stride_w=2, op="Conv")
    assert layers["layer2.0.conv2"] == Layer(name="layer2.0.conv2", K=128, B=1, P=28, Q=28,
                                             C=128, R=3, S=3, stride_h=2, stride_w=2, op="Conv")
    assert layers["layer4.0.downsample.0"].signature()[:8] == (2048, 1, 7, 7, 1024, 1, 1, 1)
    assert layers["fc"] == Layer(name="fc", K=1000, B=1, P=1, Q=1, C=2048, R=1, S=1, op="Gemm")


def test_inception_v4_asymmetric_kernels() -> None:
    layers = {layer.name: layer for layer in network("inception_v4").layers}
    one_by_seven = layers["features.11.branch1.1.conv"]  # first Inception-B block, 17x17
    assert (one_by_seven.K, one_by_seven.C, one_by_seven.R, one_by_seven.S, one_by_seven.P,
            one_by_seven.Q) == (224, 192, 1, 7, 17, 17)
    seven_by_one = layers["features.11.branch1.2.conv"]
    assert (seven_by_one.R, seven_by_one.S, seven_by_one.P, seven_by_one.Q) == (7, 1, 17, 17)
    assert layers["features.0.conv"].P == 149 and layers["features.21.branch2_3b.conv"].P == 8
    # Mixed_4a 2, Inception-B 6 each, Reduction-B 2, Inception-C 6 each.
    assert sum(1 for layer in layers.values() if layer.R != layer.S) == 2 + 7 * 6 + 2 + 3 * 6
    assert layers["last_linear"].C == 1536


def test_yolov3_heads() -> None:
    heads = [layer for layer in network("yolov3").layers if layer.K == 255]
    assert [(layer.P, layer.C) for layer in heads] == [(13, 1024), (26, 512), (52, 256)]
    assert network("yolov3").layers[0].signature()[:8] == (32, 1, 416, 416, 3, 3, 3, 1)


def test_mobilenet_v3_depthwise_and_se() -> None:
    layers = {layer.name: layer for layer in network("mobilenet_v3_large").layers}
    dw = layers["features.4.depthwise"]
    assert (dw.K, dw.C, dw.G, dw.R, dw.P, dw.stride_h) == (72, 72, 72, 5, 28, 2)
    fc1 = layers["features.4.se.fc1"]
    assert (fc1.K, fc1.C, fc1.P, fc1.R) == (24, 72, 1, 1)
    assert layers["classifier.0"].signature()[:8] == (1280, 1, 1, 1, 960, 1, 1, 1)


def test_names_trace_back_to_modules() -> None:
    names = {ly.name for ly in network("vit_b16").layers}
    assert {"patch_embed.proj", "blocks.0.attn.qkv", "blocks.0.attn.matmul", "blocks.11.mlp.fc2",
            "head"} <= names
    lstm = [(ly.name, ly.repeat) for ly in network("lstm_lm").layers]
    assert lstm[:2] == [("rnn.0.forward.input", 1), ("rnn.0.forward.recurrent", 35)]
    qdq = network("resnet18_qdq").layers
    assert qdq[0].name == "conv1" and qdq[0].signature()[:8] == (64, 1, 112, 112, 3, 7, 7, 1)
