"""The shipped model zoo: counts, onnx.checker, onnxruntime, byte-identical regeneration."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from rlsched_compile import Layer
from rlsched_compile.errors import ModelError
from rlsched_compile.frontend import Network, load_network, zoo

ZOO_DIR = Path(__file__).resolve().parents[2] / "model_zoo"
NAMES = list(zoo.PAPER_MODELS)  # the CNN checks below; tests/frontend/test_zoo_beyond.py checks the rest
ALL = list(zoo.BUILDERS)
# (Conv, FC) counts stated by the issue / the architectures' papers.
ISSUE_COUNTS = {"yolov3": (75, 0), "inception_v4": (149, 1), "resnet50": (53, 1),
                "mobilenet_v3_large": (62, 2), "mobilenet_v3_small": (52, 2)}
INPUT_SIZE = {"yolov3": 416, "inception_v4": 299, "resnet50": 224, "mobilenet_v3_large": 224,
              "mobilenet_v3_small": 224}
# Published multiply-accumulate counts (G MACs at the input size above).
PUBLISHED_GMACS = {"yolov3": 32.9, "inception_v4": 12.3, "resnet50": 4.09,
                   "mobilenet_v3_large": 0.217, "mobilenet_v3_small": 0.0566}

# Trainable parameters of the reference implementations (torchvision resnet50 /
# mobilenet_v3_large / mobilenet_v3_small, Cadene inceptionv4, darknet yolov3.cfg with 80 classes).
REFERENCE_PARAMS = {"yolov3": 61_949_149, "inception_v4": 42_679_816, "resnet50": 25_557_032,
                    "mobilenet_v3_large": 5_483_032, "mobilenet_v3_small": 2_542_856}


@pytest.fixture(scope="session")
def networks() -> dict[str, Network]:
    return {name: load_network(ZOO_DIR / f"{name}.onnx") for name in NAMES}


def test_zoo_dir_holds_exactly_the_built_models() -> None:
    assert sorted(p.stem for p in ZOO_DIR.glob("*.onnx")) == sorted(ALL)
    assert ALL[:len(NAMES)] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_layer_counts(networks: dict[str, Network], name: str) -> None:
    net = networks[name]
    conv = [layer for layer in net.layers if layer.op == "Conv"]
    fc = [layer for layer in net.layers if layer.op in ("Gemm", "MatMul")]
    assert (len(conv), len(fc)) == ISSUE_COUNTS[name]
    expected = zoo.EXPECTED_COUNTS[name]
    assert (len(conv), len(fc)) == (expected.conv, expected.fc)
    assert sum(1 for layer in conv if layer.G > 1 and layer.G == layer.C) == expected.depthwise
    assert sum(1 for layer in conv if ".se." in layer.name) == expected.se_conv
    assert net.unsupported == ()
    assert net.batch == 1 and all(layer.B == 1 for layer in net.layers)


@pytest.mark.parametrize("name", NAMES)
def test_total_macs_match_published_figures(networks: dict[str, Network], name: str) -> None:
    assert networks[name].macs / 1e9 == pytest.approx(PUBLISHED_GMACS[name], rel=0.02)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_match_reference_implementations(name: str) -> None:
    # Every weight is ConstantOfShape(Constant dims); BN running statistics are buffers, not
    # parameters, in the reference counts.
    m = onnx.load(str(ZOO_DIR / f"{name}.onnx"))
    dims = {n.output[0]: list(n.attribute[0].t.int64_data) for n in m.graph.node
            if n.op_type == "Constant"}
    params = sum(int(np.prod(dims[n.input[0]])) for n in m.graph.node
                 if n.op_type == "ConstantOfShape"
                 and not n.output[0].endswith(("running_mean", "running_var")))
    assert params == REFERENCE_PARAMS[name]


@pytest.mark.parametrize("name", NAMES)
def test_file_passes_full_checker_and_is_small(name: str) -> None:
    path = ZOO_DIR / f"{name}.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    assert path.stat().st_size < 200 * 1024


@pytest.mark.parametrize("name", NAMES)
def test_runs_in_onnxruntime_with_only_the_image(name: str) -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(ZOO_DIR / f"{name}.onnx"), opts,
                                providers=["CPUExecutionProvider"])
    (image,) = sess.get_inputs()
    size = INPUT_SIZE[name]
    assert (image.name, image.shape) == ("image", [1, 3, size, size])
    outputs = sess.run(None, {"image": np.zeros((1, 3, size, size), np.float32)})
    if name == "yolov3":
        assert [o.shape for o in outputs] == [(1, 255, 13, 13), (1, 255, 26, 26), (1, 255, 52, 52)]
    else:
        assert [o.shape for o in outputs] == [(1, 1000)]


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


def test_resnet50_shapes(networks: dict[str, Network]) -> None:
    layers = {layer.name: layer for layer in networks["resnet50"].layers}
    assert layers["conv1"] == Layer(name="conv1", K=64, B=1, P=112, Q=112, C=3, R=7, S=7,
                                    stride_h=2, stride_w=2, op="Conv")
    assert layers["layer2.0.conv2"] == Layer(name="layer2.0.conv2", K=128, B=1, P=28, Q=28,
                                             C=128, R=3, S=3, stride_h=2, stride_w=2, op="Conv")
    assert layers["layer4.0.downsample.0"].signature()[:8] == (2048, 1, 7, 7, 1024, 1, 1, 1)
    assert layers["fc"] == Layer(name="fc", K=1000, B=1, P=1, Q=1, C=2048, R=1, S=1, op="Gemm")


def test_inception_v4_asymmetric_kernels(networks: dict[str, Network]) -> None:
    layers = {layer.name: layer for layer in networks["inception_v4"].layers}
    one_by_seven = layers["features.11.branch1.1.conv"]  # first Inception-B block, 17x17
    assert (one_by_seven.K, one_by_seven.C, one_by_seven.R, one_by_seven.S, one_by_seven.P,
            one_by_seven.Q) == (224, 192, 1, 7, 17, 17)
    seven_by_one = layers["features.11.branch1.2.conv"]
    assert (seven_by_one.R, seven_by_one.S, seven_by_one.P, seven_by_one.Q) == (7, 1, 17, 17)
    assert layers["features.0.conv"].P == 149 and layers["features.21.branch2_3b.conv"].P == 8
    # Mixed_4a 2, Inception-B 6 each, Reduction-B 2, Inception-C 6 each.
    assert sum(1 for layer in layers.values() if layer.R != layer.S) == 2 + 7 * 6 + 2 + 3 * 6
    assert layers["last_linear"].C == 1536


def test_yolov3_heads(networks: dict[str, Network]) -> None:
    heads = [layer for layer in networks["yolov3"].layers if layer.K == 255]
    assert [(layer.P, layer.C) for layer in heads] == [(13, 1024), (26, 512), (52, 256)]
    assert networks["yolov3"].layers[0].signature()[:8] == (32, 1, 416, 416, 3, 3, 3, 1)


def test_mobilenet_v3_depthwise_and_se(networks: dict[str, Network]) -> None:
    layers = {layer.name: layer for layer in networks["mobilenet_v3_large"].layers}
    dw = layers["features.4.depthwise"]
    assert (dw.K, dw.C, dw.G, dw.R, dw.P, dw.stride_h) == (72, 72, 72, 5, 28, 2)
    fc1 = layers["features.4.se.fc1"]
    assert (fc1.K, fc1.C, fc1.P, fc1.R) == (24, 72, 1, 1)
    assert layers["classifier.0"].signature()[:8] == (1280, 1, 1, 1, 960, 1, 1, 1)
