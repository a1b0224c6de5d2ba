"""The model zoo: the paper's networks as small shape-only ONNX files, built with ``onnx.helper``.

Every weight is produced by a ``Constant`` (its shape) feeding ``ConstantOfShape`` (zeros), so the
files are small, pass ``onnx.checker`` (full check) and run in onnxruntime with only the image
input. Building is deterministic: :func:`build_all` writes byte-identical files every time.

Architectures (see ``model_zoo/README.md`` for sources and counts):

* ``yolov3``: Darknet-53 backbone and the three YOLO v3 heads, 416x416 (75 Conv).
* ``inception_v4``: Szegedy et al. 2016 as in Cadene's ``pretrainedmodels``, 299x299
  (149 Conv + 1 Gemm).
* ``resnet50``: torchvision ResNet-50 v1.5, 224x224 (53 Conv + 1 Gemm).
* ``mobilenet_v3_large`` / ``mobilenet_v3_small``: torchvision MobileNetV3, 224x224; the
  squeeze-excite FCs are 1x1 Conv with bias, as in torchvision.

Beyond the paper (attention, recurrent, transposed and quantized layers; the transformers and
the LSTM are in :mod:`._zoo_sequence`):

* ``vit_b16``: ViT-B/16, 224x224 (17.56 G MACs). ``bert_base``: BERT-base, sequence 128.
  ``gpt2_small``: GPT-2 small, prefill of 512 tokens with the tied LM head. ``lstm_lm``: the
  medium PTB LSTM language model. ``unet``: UNet 256x256 with ConvTranspose up-sampling.
  ``resnet18_qdq``: ResNet-18 in onnxruntime's QDQ quantized form.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import onnx
from onnx import TensorProto, helper

from .._io import write_bytes_atomic
from ..errors import ModelError
from ._zoo_sequence import build_bert_base, build_gpt2_small, build_lstm_lm, build_vit_b16

logger = logging.getLogger(__name__)

#: Opset and IR version of every zoo file.
ZOO_OPSET = 17
ZOO_IR_VERSION = 8
_PRODUCER = "rlsched_compile.frontend.zoo"


@dataclass(frozen=True)
class ZooCounts:
    """Weight-layer counts of a zoo model.

    Attributes:
        conv: Conv nodes (all groups).
        fc: Gemm / MatMul layers.
        depthwise: Conv nodes with ``G == C`` (included in ``conv``).
        se_conv: squeeze-excite 1x1 Conv FCs (included in ``conv``).
        other: other operators with MACs (ConvTranspose, LSTM nodes).
    """

    conv: int
    fc: int
    depthwise: int = 0
    se_conv: int = 0
    other: int = 0


class _GraphBuilder:
    """Appends nodes to a graph and tracks every tensor's NCHW shape."""

    def __init__(self, name: str, image: tuple[int, int, int, int]) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self._dims: dict[tuple[int, ...], str] = {}
        self.shapes: dict[str, tuple[int, ...]] = {"image": image}
        self.inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(image))]

    def _add(self, op: str, inputs: Sequence[str], name: str, shape: tuple[int, ...],
             **attrs: object) -> str:
        out = name
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=name, **attrs))
        self.shapes[out] = shape
        return out

    def weight(self, name: str, shape: Sequence[int], elem: int = TensorProto.FLOAT) -> str:
        """A zero tensor of ``shape`` made by ConstantOfShape (a few bytes in the file).

        One ``Constant`` per distinct shape feeds the ConstantOfShape of every weight of that
        shape; the fill nodes stay unnamed to keep the file small. ``elem`` other than float
        (int8 for quantized weights) sets the fill value's type.
        """
        key = tuple(int(d) for d in shape)
        dims_name = self._dims.get(key)
        if dims_name is None:
            dims_name = "dims_" + "x".join(map(str, key))
            dims = helper.make_tensor(dims_name, TensorProto.INT64, [len(key)], list(key))
            self.nodes.append(helper.make_node("Constant", [], [dims_name], name=dims_name,
                                               value=dims))
            self._dims[key] = dims_name
        attrs = {} if elem == TensorProto.FLOAT else {"value": helper.make_tensor("v", elem, [1], [0])}
        self.nodes.append(helper.make_node("ConstantOfShape", [dims_name], [name], **attrs))
        return name

    #: Quantize activations and weights as onnxruntime's QDQ quantizer does (set by a builder).
    qdq = False

    def _scalar(self, name: str, elem: int, value: float) -> str:
        if name not in self.shapes:
            self.nodes.append(helper.make_node("Constant", [], [name], name=name,
                                               value=helper.make_tensor(name, elem, [], [value])))
            self.shapes[name] = ()
        return name

    def _dq_weight(self, name: str, shape: Sequence[int]) -> str:
        """An int8 weight behind a ``DequantizeLinear`` (per-tensor scale)."""
        q = self.weight(f"{name}_quantized", shape, TensorProto.INT8)
        out = f"{name}_dequantized"
        self.nodes.append(helper.make_node(
            "DequantizeLinear", [q, self._scalar("weight_scale", TensorProto.FLOAT, 0.01),
                                 self._scalar("weight_zero_point", TensorProto.INT8, 0)], [out],
            name=f"{name}_DequantizeLinear"))
        return out

    def _qdq_activation(self, x: str) -> str:
        """``QuantizeLinear -> DequantizeLinear`` (uint8, per-tensor) in front of a layer."""
        out = f"{x}_dq"
        if out in self.shapes:
            return out
        s = self._scalar("act_scale", TensorProto.FLOAT, 0.05)
        z = self._scalar("act_zero_point", TensorProto.UINT8, 128)
        self.nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [f"{x}_q"], name=f"{x}_QuantizeLinear"))
        self.nodes.append(helper.make_node("DequantizeLinear", [f"{x}_q", s, z], [out],
                                           name=f"{x}_DequantizeLinear"))
        self.shapes[out] = self.shapes[x]
        return out

    def conv(self, x: str, cout: int, kernel: int | tuple[int, int], name: str, *,
             stride: int = 1, pad: int | tuple[int, int] | None = None, group: int = 1,
             bias: bool = False) -> str:
        n, cin, h, w = self.shapes[x]
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        if pad is None:
            pad = (kh // 2, kw // 2)
        ph, pw = (pad, pad) if isinstance(pad, int) else pad
        if self.qdq:
            inputs = [self._qdq_activation(x), self._dq_weight(f"{name}.weight", [cout, cin // group, kh, kw])]
        else:
            inputs = [x, self.weight(f"{name}.weight", [cout, cin // group, kh, kw])]
        if bias:
            inputs.append(self.weight(f"{name}.bias", [cout]))
        p = (h + 2 * ph - kh) // stride + 1
        q = (w + 2 * pw - kw) // stride + 1
        return self._add("Conv", inputs, name, (n, cout, p, q), kernel_shape=[kh, kw],
                         strides=[stride, stride], pads=[ph, pw, ph, pw], dilations=[1, 1],
                         group=group)

    def bn(self, x: str, name: str, *, eps: float = 1e-5) -> str:
        c = self.shapes[x][1]
        params = [self.weight(f"{name}.{p}", [c]) for p in
                  ("weight", "bias", "running_mean", "running_var")]
        return self._add("BatchNormalization", [x, *params], name, self.shapes[x], epsilon=eps)

    def act(self, op: str, x: str, name: str, **attrs: object) -> str:
        return self._add(op, [x], name, self.shapes[x], **attrs)

    def binary(self, op: str, a: str, b: str, name: str) -> str:
        sa, sb = self.shapes[a], self.shapes[b]
        return self._add(op, [a, b], name, tuple(max(i, j) for i, j in zip(sa, sb)))

    def pool(self, op: str, x: str, name: str, *, kernel: int, stride: int, pad: int = 0,
             **attrs: object) -> str:
        n, c, h, w = self.shapes[x]
        p = (h + 2 * pad - kernel) // stride + 1
        q = (w + 2 * pad - kernel) // stride + 1
        return self._add(op, [x], name, (n, c, p, q), kernel_shape=[kernel, kernel],
                         strides=[stride, stride], pads=[pad] * 4, **attrs)

    def global_pool(self, x: str, name: str, *, reduce_mean: bool = False) -> str:
        n, c, _, _ = self.shapes[x]
        if reduce_mean:
            return self._add("ReduceMean", [x], name, (n, c, 1, 1), axes=[2, 3], keepdims=1)
        return self._add("GlobalAveragePool", [x], name, (n, c, 1, 1))

    def concat(self, xs: Sequence[str], name: str) -> str:
        n, _, h, w = self.shapes[xs[0]]
        return self._add("Concat", list(xs), name, (n, sum(self.shapes[x][1] for x in xs), h, w),
                         axis=1)

    def upsample2(self, x: str, name: str) -> str:
        n, c, h, w = self.shapes[x]
        scales = helper.make_tensor(f"{name}.scales", TensorProto.FLOAT, [4], [1.0, 1.0, 2.0, 2.0])
        self.nodes.append(helper.make_node("Constant", [], [f"{name}.scales"],
                                           name=f"{name}.scales", value=scales))
        return self._add("Resize", [x, "", f"{name}.scales"], name, (n, c, 2 * h, 2 * w),
                         mode="nearest")

    def flatten(self, x: str, name: str) -> str:
        s = self.shapes[x]
        return self._add("Flatten", [x], name, (s[0], s[1] * s[2] * s[3]), axis=1)

    def gemm(self, x: str, cout: int, name: str) -> str:
        n, cin = self.shapes[x]
        if self.qdq:
            x, w = self._qdq_activation(x), self._dq_weight(f"{name}.weight", [cout, cin])
        else:
            w = self.weight(f"{name}.weight", [cout, cin])
        b = self.weight(f"{name}.bias", [cout])
        return self._add("Gemm", [x, w, b], name, (n, cout), transB=1)

    def conv_transpose(self, x: str, cout: int, name: str, *, kernel: int = 2, stride: int = 2) -> str:
        """``ConvTranspose`` with bias, no padding (output = stride x input for kernel = stride)."""
        n, cin, h, w = self.shapes[x]
        inputs = [x, self.weight(f"{name}.weight", [cin, cout, kernel, kernel]),
                  self.weight(f"{name}.bias", [cout])]
        return self._add("ConvTranspose", inputs, name,
                         (n, cout, (h - 1) * stride + kernel, (w - 1) * stride + kernel),
                         kernel_shape=[kernel, kernel], strides=[stride, stride])

    def model(self, outputs: Sequence[str], doc: str) -> onnx.ModelProto:
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, list(self.shapes[o]))
                for o in outputs]
        graph = helper.make_graph(self.nodes, self.name, self.inputs, outs)
        model = helper.make_model(graph, producer_name=_PRODUCER, producer_version="1",
                                  doc_string=doc,
                                  opset_imports=[helper.make_opsetid("", ZOO_OPSET)])
        model.ir_version = ZOO_IR_VERSION
        return model


# --- ResNet-50 -------------------------------------------------------------------------------

def _conv_bn(b: _GraphBuilder, x: str, cout: int, k: int | tuple[int, int], name: str, *,
             act: str | None = "Relu", stride: int = 1, pad: int | tuple[int, int] | None = None,
             group: int = 1, bn_name: str | None = None, eps: float = 1e-5,
             **act_attrs: object) -> str:
    y = b.conv(x, cout, k, name, stride=stride, pad=pad, group=group)
    y = b.bn(y, bn_name or f"{name}.bn", eps=eps)
    return b.act(act, y, f"{name}.{act.lower()}", **act_attrs) if act else y


def build_resnet50() -> onnx.ModelProto:
    """torchvision ResNet-50 (v1.5: stride on the 3x3 conv), 224x224, 53 Conv + 1 Gemm."""
    b = _GraphBuilder("resnet50", (1, 3, 224, 224))
    x = _conv_bn(b, "image", 64, 7, "conv1", stride=2, pad=3, bn_name="bn1")
    x = b.pool("MaxPool", x, "maxpool", kernel=3, stride=2, pad=1)
    cin = 64
    for stage, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2),
                                                     (512, 3, 2)], start=1):
        for i in range(blocks):
            p = f"layer{stage}.{i}"
            s = stride if i == 0 else 1
            y = _conv_bn(b, x, width, 1, f"{p}.conv1", bn_name=f"{p}.bn1")
            y = _conv_bn(b, y, width, 3, f"{p}.conv2", stride=s, bn_name=f"{p}.bn2")
            y = _conv_bn(b, y, width * 4, 1, f"{p}.conv3", act=None, bn_name=f"{p}.bn3")
            short = x
            if i == 0:
                short = _conv_bn(b, x, width * 4, 1, f"{p}.downsample.0", stride=s, act=None,
                                 bn_name=f"{p}.downsample.1")
            x = b.act("Relu", b.binary("Add", y, short, f"{p}.add"), f"{p}.relu")
            cin = width * 4
    x = b.flatten(b.global_pool(x, "avgpool"), "flatten")
    assert cin == 2048
    out = b.gemm(x, 1000, "fc")
    return b.model([out], "ResNet-50 (torchvision resnet50, v1.5), shape-only weights")


# --- Inception v4 ----------------------------------------------------------------------------

def _basic(b: _GraphBuilder, x: str, cout: int, k: int | tuple[int, int], name: str, *,
           stride: int = 1, pad: int | tuple[int, int] = 0) -> str:
    return _conv_bn(b, x, cout, k, f"{name}.conv", stride=stride, pad=pad, bn_name=f"{name}.bn",
                    eps=1e-3)


def _avg3(b: _GraphBuilder, x: str, name: str) -> str:
    return b.pool("AveragePool", x, name, kernel=3, stride=1, pad=1, count_include_pad=0)


def build_inception_v4() -> onnx.ModelProto:
    """Inception v4 (Szegedy et al. 2016; layout of Cadene's pretrainedmodels), 299x299,
    149 Conv + 1 Gemm."""
    b = _GraphBuilder("inception_v4", (1, 3, 299, 299))
    x = _basic(b, "image", 32, 3, "features.0", stride=2)
    x = _basic(b, x, 32, 3, "features.1")
    x = _basic(b, x, 64, 3, "features.2", pad=1)
    # Mixed_3a
    x = b.concat([b.pool("MaxPool", x, "features.3.maxpool", kernel=3, stride=2),
                  _basic(b, x, 96, 3, "features.3.conv", stride=2)], "features.3.concat")
    # Mixed_4a
    p = "features.4"
    b0 = _basic(b, _basic(b, x, 64, 1, f"{p}.branch0.0"), 96, 3, f"{p}.branch0.1")
    b1 = _basic(b, x, 64, 1, f"{p}.branch1.0")
    b1 = _basic(b, b1, 64, (1, 7), f"{p}.branch1.1", pad=(0, 3))
    b1 = _basic(b, b1, 64, (7, 1), f"{p}.branch1.2", pad=(3, 0))
    b1 = _basic(b, b1, 96, 3, f"{p}.branch1.3")
    x = b.concat([b0, b1], f"{p}.concat")
    # Mixed_5a
    x = b.concat([_basic(b, x, 192, 3, "features.5.conv", stride=2),
                  b.pool("MaxPool", x, "features.5.maxpool", kernel=3, stride=2)],
                 "features.5.concat")
    idx = 6
    for _ in range(4):  # Inception_A, 35x35
        p = f"features.{idx}"
        b0 = _basic(b, x, 96, 1, f"{p}.branch0")
        b1 = _basic(b, _basic(b, x, 64, 1, f"{p}.branch1.0"), 96, 3, f"{p}.branch1.1", pad=1)
        b2 = _basic(b, x, 64, 1, f"{p}.branch2.0")
        b2 = _basic(b, b2, 96, 3, f"{p}.branch2.1", pad=1)
        b2 = _basic(b, b2, 96, 3, f"{p}.branch2.2", pad=1)
        b3 = _basic(b, _avg3(b, x, f"{p}.branch3.0"), 96, 1, f"{p}.branch3.1")
        x = b.concat([b0, b1, b2, b3], f"{p}.concat")
        idx += 1
    p = f"features.{idx}"  # Reduction_A
    b0 = _basic(b, x, 384, 3, f"{p}.branch0", stride=2)
    b1 = _basic(b, x, 192, 1, f"{p}.branch1.0")
    b1 = _basic(b, b1, 224, 3, f"{p}.branch1.1", pad=1)
    b1 = _basic(b, b1, 256, 3, f"{p}.branch1.2", stride=2)
    x = b.concat([b0, b1, b.pool("MaxPool", x, f"{p}.branch2", kernel=3, stride=2)],
                 f"{p}.concat")
    idx += 1
    for _ in range(7):  # Inception_B, 17x17
        p = f"features.{idx}"
        b0 = _basic(b, x, 384, 1, f"{p}.branch0")
        b1 = _basic(b, x, 192, 1, f"{p}.branch1.0")
        b1 = _basic(b, b1, 224, (1, 7), f"{p}.branch1.1", pad=(0, 3))
        b1 = _basic(b, b1, 256, (7, 1), f"{p}.branch1.2", pad=(3, 0))
        b2 = _basic(b, x, 192, 1, f"{p}.branch2.0")
        b2 = _basic(b, b2, 192, (7, 1), f"{p}.branch2.1", pad=(3, 0))
        b2 = _basic(b, b2, 224, (1, 7), f"{p}.branch2.2", pad=(0, 3))
        b2 = _basic(b, b2, 224, (7, 1), f"{p}.branch2.3", pad=(3, 0))
        b2 = _basic(b, b2, 256, (1, 7), f"{p}.branch2.4", pad=(0, 3))
        b3 = _basic(b, _avg3(b, x, f"{p}.branch3.0"), 128, 1, f"{p}.branch3.1")
        x = b.concat([b0, b1, b2, b3], f"{p}.concat")
        idx += 1
    p = f"features.{idx}"  # Reduction_B
    b0 = _basic(b, _basic(b, x, 192, 1, f"{p}.branch0.0"), 192, 3, f"{p}.branch0.1", stride=2)
    b1 = _basic(b, x, 256, 1, f"{p}.branch1.0")
    b1 = _basic(b, b1, 256, (1, 7), f"{p}.branch1.1", pad=(0, 3))
    b1 = _basic(b, b1, 320, (7, 1), f"{p}.branch1.2", pad=(3, 0))
    b1 = _basic(b, b1, 320, 3, f"{p}.branch1.3", stride=2)
    x = b.concat([b0, b1, b.pool("MaxPool", x, f"{p}.branch2", kernel=3, stride=2)],
                 f"{p}.concat")
    idx += 1
    for _ in range(3):  # Inception_C, 8x8
        p = f"features.{idx}"
        b0 = _basic(b, x, 256, 1, f"{p}.branch0")
        b1 = _basic(b, x, 384, 1, f"{p}.branch1_0")
        b1a = _basic(b, b1, 256, (1, 3), f"{p}.branch1_1a", pad=(0, 1))
        b1b = _basic(b, b1, 256, (3, 1), f"{p}.branch1_1b", pad=(1, 0))
        b2 = _basic(b, x, 384, 1, f"{p}.branch2_0")
        b2 = _basic(b, b2, 448, (3, 1), f"{p}.branch2_1", pad=(1, 0))
        b2 = _basic(b, b2, 512, (1, 3), f"{p}.branch2_2", pad=(0, 1))
        b2a = _basic(b, b2, 256, (1, 3), f"{p}.branch2_3a", pad=(0, 1))
        b2b = _basic(b, b2, 256, (3, 1), f"{p}.branch2_3b", pad=(1, 0))
        b3 = _basic(b, _avg3(b, x, f"{p}.branch3.0"), 256, 1, f"{p}.branch3.1")
        x = b.concat([b0, b1a, b1b, b2a, b2b, b3], f"{p}.concat")
        idx += 1
    x = b.pool("AveragePool", x, "avg_pool", kernel=8, stride=8)
    out = b.gemm(b.flatten(x, "flatten"), 1000, "last_linear")
    return b.model([out], "Inception v4 (Szegedy et al. 2016), shape-only weights")


# --- YOLO v3 ---------------------------------------------------------------------------------

def _dark(b: _GraphBuilder, x: str, cout: int, k: int, name: str, *, stride: int = 1) -> str:
    return _conv_bn(b, x, cout, k, f"{name}.conv", act="LeakyRelu", stride=stride,
                    bn_name=f"{name}.bn", alpha=0.1)


def build_yolov3() -> onnx.ModelProto:
    """YOLO v3 (Redmon & Farhadi 2018, darknet yolov3.cfg): Darknet-53 backbone (52 Conv) and
    three detection heads (23 Conv), 416x416, 75 Conv. The YOLO decoding layers carry no
    weights and are left out: the outputs are the three raw 255-channel maps."""
    b = _GraphBuilder("yolov3", (1, 3, 416, 416))
    n = iter(range(1000))
    x = _dark(b, "image", 32, 3, f"conv{next(n)}")
    routes = []
    for cout, blocks in [(64, 1), (128, 2), (256, 8), (512, 8), (1024, 4)]:
        x = _dark(b, x, cout, 3, f"conv{next(n)}", stride=2)
        for _ in range(blocks):
            y = _dark(b, x, cout // 2, 1, f"conv{next(n)}")
            y = _dark(b, y, cout, 3, f"conv{next(n)}")
            x = b.binary("Add", x, y, f"shortcut{next(n) - 1}")
        routes.append(x)
    outputs = []
    for head, width in enumerate([512, 256, 128]):
        for _ in range(2):
            x = _dark(b, x, width, 1, f"conv{next(n)}")
            x = _dark(b, x, width * 2, 3, f"conv{next(n)}")
        x = _dark(b, x, width, 1, f"conv{next(n)}")
        y = _dark(b, x, width * 2, 3, f"conv{next(n)}")
        outputs.append(b.conv(y, 255, 1, f"conv{next(n)}.conv", bias=True))
        if head < 2:
            x = _dark(b, x, width // 2, 1, f"conv{next(n)}")
            x = b.upsample2(x, f"upsample{head}")
            x = b.concat([x, routes[3 - head]], f"route{head}")
    return b.model(outputs, "YOLO v3 (Darknet-53 + 3 heads), shape-only weights")


# --- MobileNet v3 ----------------------------------------------------------------------------

def _make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


# (kernel, expanded channels, out channels, squeeze-excite, activation, stride), torchvision.
_MBV3_LARGE = [
    (3, 16, 16, False, "RE", 1), (3, 64, 24, False, "RE", 2), (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2), (5, 120, 40, True, "RE", 1), (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2), (3, 200, 80, False, "HS", 1), (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1), (3, 480, 112, True, "HS", 1), (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2), (5, 960, 160, True, "HS", 1), (5, 960, 160, True, "HS", 1),
]
_MBV3_SMALL = [
    (3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1), (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1),
]


def _mbv3_act(b: _GraphBuilder, x: str, kind: str, name: str) -> str:
    return b.act("Relu" if kind == "RE" else "HardSwish", x, f"{name}.act")


def _mobilenet_v3(name: str, config: list[tuple[int, int, int, bool, str, int]], last: int,
                  hidden: int, *, reduce_mean: bool) -> onnx.ModelProto:
    b = _GraphBuilder(name, (1, 3, 224, 224))
    x = _mbv3_act(b, _conv_bn(b, "image", 16, 3, "features.0", act=None, stride=2,
                              bn_name="features.0.bn", eps=1e-3), "HS", "features.0")
    cin = 16
    for i, (k, exp, cout, se, act, stride) in enumerate(config, start=1):
        p = f"features.{i}"
        y = x
        if exp != cin:
            y = _mbv3_act(b, _conv_bn(b, y, exp, 1, f"{p}.expand", act=None, eps=1e-3), act,
                          f"{p}.expand")
        y = _mbv3_act(b, _conv_bn(b, y, exp, k, f"{p}.depthwise", act=None, stride=stride,
                                  group=exp, eps=1e-3), act, f"{p}.depthwise")
        if se:
            squeeze = _make_divisible(exp // 4)
            s = b.global_pool(y, f"{p}.se.avgpool", reduce_mean=reduce_mean)
            s = b.act("Relu", b.conv(s, squeeze, 1, f"{p}.se.fc1", bias=True), f"{p}.se.relu")
            s = b.act("HardSigmoid", b.conv(s, exp, 1, f"{p}.se.fc2", bias=True),
                      f"{p}.se.hardsigmoid", alpha=1.0 / 6.0, beta=0.5)
            y = b.binary("Mul", y, s, f"{p}.se.scale")
        y = _conv_bn(b, y, cout, 1, f"{p}.project", act=None, eps=1e-3)
        if stride == 1 and cin == cout:
            y = b.binary("Add", x, y, f"{p}.add")
        x, cin = y, cout
    p = f"features.{len(config) + 1}"
    x = _mbv3_act(b, _conv_bn(b, x, last, 1, p, act=None, bn_name=f"{p}.bn", eps=1e-3), "HS", p)
    x = b.flatten(b.global_pool(x, "avgpool", reduce_mean=reduce_mean), "flatten")
    x = b.act("HardSwish", b.gemm(x, hidden, "classifier.0"), "classifier.1")
    out = b.gemm(x, 1000, "classifier.3")
    return b.model([out], f"MobileNet v3 {name.rsplit('_', 1)[-1]} (torchvision), shape-only weights")


def build_mobilenet_v3_large() -> onnx.ModelProto:
    """torchvision mobilenet_v3_large, 224x224: 62 Conv (15 depthwise, 16 SE) + 2 Gemm."""
    return _mobilenet_v3("mobilenet_v3_large", _MBV3_LARGE, 960, 1280, reduce_mean=False)


def build_mobilenet_v3_small() -> onnx.ModelProto:
    """torchvision mobilenet_v3_small, 224x224: 52 Conv (11 depthwise, 18 SE) + 2 Gemm; global
    pooling written as ReduceMean (as some exporters do) to cover that form."""
    return _mobilenet_v3("mobilenet_v3_small", _MBV3_SMALL, 576, 1024, reduce_mean=True)


# --- UNet ------------------------------------------------------------------------------------

def _double_conv(b: _GraphBuilder, x: str, cout: int, name: str) -> str:
    for j in (0, 3):  # Conv(no bias) BN ReLU, twice: nn.Sequential indices 0..5
        x = _conv_bn(b, x, cout, 3, f"{name}.double_conv.{j}", pad=1,
                     bn_name=f"{name}.double_conv.{j + 1}")
    return x


def build_unet() -> onnx.ModelProto:
    """UNet (Ronneberger et al. 2015, as milesial's Pytorch-UNet with ``bilinear=False``),
    256x256, 3 input channels, 2 classes: 4 down / 4 up stages of double 3x3 Conv + BN + ReLU,
    2x2 stride-2 ConvTranspose up-sampling, 1x1 output Conv (19 Conv, 4 ConvTranspose)."""
    b = _GraphBuilder("unet", (1, 3, 256, 256))
    skips = [_double_conv(b, "image", 64, "inc")]
    for i, c in enumerate((128, 256, 512, 1024), start=1):
        x = b.pool("MaxPool", skips[-1], f"down{i}.maxpool_conv.0", kernel=2, stride=2)
        skips.append(_double_conv(b, x, c, f"down{i}.maxpool_conv.1"))
    x = skips.pop()
    for i, c in enumerate((512, 256, 128, 64), start=1):
        up = b.conv_transpose(x, c, f"up{i}.up")
        x = _double_conv(b, b.concat([skips.pop(), up], f"up{i}.cat"), c, f"up{i}.conv")
    out = b.conv(x, 2, 1, "outc.conv", pad=0, bias=True)
    return b.model([out], "UNet (milesial Pytorch-UNet, bilinear=False, 2 classes), shape-only weights")


# --- QDQ ResNet-18 ---------------------------------------------------------------------------

def build_resnet18_qdq() -> onnx.ModelProto:
    """torchvision ResNet-18 quantized as onnxruntime's static QDQ quantizer writes it, 224x224:
    BatchNorm folded into the Conv biases, uint8 activations through ``QuantizeLinear ->
    DequantizeLinear`` in front of every Conv/Gemm, int8 weights behind ``DequantizeLinear``
    (20 Conv + 1 Gemm)."""
    b = _GraphBuilder("resnet18_qdq", (1, 3, 224, 224))
    b.qdq = True
    x = b.act("Relu", b.conv("image", 64, 7, "conv1", stride=2, pad=3, bias=True), "relu")
    x = b.pool("MaxPool", x, "maxpool", kernel=3, stride=2, pad=1)
    cin = 64
    for stage, (width, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
        for i in range(2):
            p = f"layer{stage}.{i}"
            s = stride if i == 0 else 1
            y = b.act("Relu", b.conv(x, width, 3, f"{p}.conv1", stride=s, bias=True), f"{p}.relu1")
            y = b.conv(y, width, 3, f"{p}.conv2", bias=True)
            short = x
            if i == 0 and (s != 1 or cin != width):
                short = b.conv(x, width, 1, f"{p}.downsample.0", stride=s, pad=0, bias=True)
            x = b.act("Relu", b.binary("Add", y, short, f"{p}.add"), f"{p}.relu")
            cin = width
    x = b.flatten(b.global_pool(x, "avgpool"), "flatten")
    out = b.gemm(x, 1000, "fc")
    return b.model([out], "ResNet-18 (torchvision resnet18), onnxruntime static QDQ quantization "
                          "(BN folded, int8 weights, uint8 activations), shape-only weights")


#: Zoo model name -> builder, in README order.
BUILDERS: dict[str, Callable[[], onnx.ModelProto]] = {
    "yolov3": build_yolov3,
    "inception_v4": build_inception_v4,
    "resnet50": build_resnet50,
    "mobilenet_v3_large": build_mobilenet_v3_large,
    "mobilenet_v3_small": build_mobilenet_v3_small,
    "vit_b16": build_vit_b16,
    "bert_base": build_bert_base,
    "gpt2_small": build_gpt2_small,
    "lstm_lm": build_lstm_lm,
    "unet": build_unet,
    "resnet18_qdq": build_resnet18_qdq,
}
#: The paper's networks (the first five models of the zoo).
PAPER_MODELS: tuple[str, ...] = ("yolov3", "inception_v4", "resnet50", "mobilenet_v3_large",
                                 "mobilenet_v3_small")
#: Expected weight-layer counts (the issue's numbers; MobileNet v3 as in torchvision).
EXPECTED_COUNTS: dict[str, ZooCounts] = {
    "yolov3": ZooCounts(conv=75, fc=0),
    "inception_v4": ZooCounts(conv=149, fc=1),
    "resnet50": ZooCounts(conv=53, fc=1),
    "mobilenet_v3_large": ZooCounts(conv=62, fc=2, depthwise=15, se_conv=16),
    "mobilenet_v3_small": ZooCounts(conv=52, fc=2, depthwise=11, se_conv=18),
    # Transformers: fc counts every MatMul layer (4 projections + 2 in attention + 2 MLP per block).
    "vit_b16": ZooCounts(conv=1, fc=12 * 6 + 1),
    "bert_base": ZooCounts(conv=0, fc=12 * 8 + 1),
    "gpt2_small": ZooCounts(conv=0, fc=12 * 6 + 1),
    "lstm_lm": ZooCounts(conv=0, fc=1, other=2),
    "unet": ZooCounts(conv=19, fc=0, other=4),
    "resnet18_qdq": ZooCounts(conv=20, fc=1),
}
#: Where each architecture comes from (layer by layer).
SOURCES: dict[str, str] = {
    "yolov3": "Redmon & Farhadi 2018, darknet `cfg/yolov3.cfg` (80 classes)",
    "inception_v4": "Szegedy et al. 2016; Cadene `pretrainedmodels` `inceptionv4`",
    "resnet50": "He et al. 2016; torchvision `resnet50` (v1.5)",
    "mobilenet_v3_large": "Howard et al. 2019; torchvision `mobilenet_v3_large`",
    "mobilenet_v3_small": "Howard et al. 2019; torchvision `mobilenet_v3_small`",
    "vit_b16": "Dosovitskiy et al. 2021; timm `vit_base_patch16_224`",
    "bert_base": "Devlin et al. 2019; Hugging Face `BertModel` (`bert-base-uncased`), sequence 128",
    "gpt2_small": "Radford et al. 2019; Hugging Face `GPT2LMHeadModel` (`gpt2`), prefill of 512 tokens",
    "lstm_lm": "Zaremba et al. 2014, medium PTB LSTM (2x650, vocabulary 10000, 35 steps)",
    "unet": "Ronneberger et al. 2015; milesial `Pytorch-UNet` (bilinear=False, 2 classes)",
    "resnet18_qdq": "torchvision `resnet18`, onnxruntime static QDQ quantization (BN folded)",
}
#: The MobileNet v3 variant reports use by default.
DEFAULT_MOBILENET = "mobilenet_v3_large"


def model_bytes(name: str) -> bytes:
    """Serialized bytes of zoo model ``name`` (deterministic)."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ModelError(f"unknown zoo model {name!r}; choose one of {', '.join(BUILDERS)}") from None
    return builder().SerializeToString(deterministic=True)


def build_all(out_dir: str | os.PathLike[str], *, names: Sequence[str] | None = None) -> tuple[Path, ...]:
    """Writes ``<out_dir>/<name>.onnx`` for each zoo model (atomically: temp file + rename).

    Args:
        out_dir: destination folder (created if missing).
        names: models to build; all of :data:`BUILDERS` by default.

    Returns:
        The written paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or list(BUILDERS):
        data = model_bytes(name)
        path = out / f"{name}.onnx"
        write_bytes_atomic(path, data)
        logger.info("wrote %s (%d bytes)", path, len(data))
        written.append(path)
    return tuple(written)


def check_zoo(zoo_dir: str | os.PathLike[str]) -> tuple[str, ...]:
    """Names of zoo models whose file in ``zoo_dir`` is missing or differs from a rebuild."""
    stale = []
    for name in BUILDERS:
        path = Path(zoo_dir) / f"{name}.onnx"
        if not path.is_file() or path.read_bytes() != model_bytes(name):
            stale.append(name)
    return tuple(stale)


def _candidate_dirs() -> tuple[Path, ...]:
    here = Path(__file__).resolve()
    # Source checkout: <repo>/model_zoo; installed wheel: rlsched_compile/data/model_zoo.
    return (here.parents[2] / "model_zoo", here.parents[1] / "data" / "model_zoo")


def zoo_path(name: str) -> Path:
    """Path of the shipped ``<name>.onnx`` zoo file.

    Raises:
        ModelError: unknown name, or the file is not in the checkout or the installed package.
    """
    if name not in BUILDERS:
        raise ModelError(f"unknown zoo model {name!r}; choose one of {', '.join(BUILDERS)}")
    for d in _candidate_dirs():
        if (d / f"{name}.onnx").is_file():
            return d / f"{name}.onnx"
    raise ModelError(f"zoo model {name}.onnx not found in {' or '.join(map(str, _candidate_dirs()))}; "
                     "run `python model_zoo/generate.py` in a source checkout to build it")
