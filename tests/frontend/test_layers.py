"""Layer extraction from tiny graphs: every supported form, with exact parameters."""
from __future__ import annotations

import hashlib
import logging

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from rlsched_compile import Layer
from rlsched_compile.frontend import load_network

from ._graphs import classifier_model, const_i64, conv_model, init, model, vi


def only_layer(m: onnx.ModelProto, **kw: object) -> Layer:
    net = load_network(m, **kw)  # type: ignore[arg-type]
    assert len(net.layers) == 1
    return net.layers[0]


def test_plain_conv_with_pads_and_stride() -> None:
    layer = only_layer(conv_model([1, 3, 224, 224], [64, 3, 7, 7], name="conv1",
                                  strides=[2, 2], pads=[3, 3, 3, 3]))
    assert layer == Layer(name="conv1", K=64, B=1, P=112, Q=112, C=3, R=7, S=7, G=1,
                          stride_h=2, stride_w=2, op="Conv")


def test_grouped_conv() -> None:
    layer = only_layer(conv_model([2, 32, 14, 14], [64, 8, 3, 3], group=4, pads=[1, 1, 1, 1]))
    assert (layer.K, layer.C, layer.G, layer.B, layer.P, layer.Q) == (64, 32, 4, 2, 14, 14)
    assert layer.per_group() == (16, 2, 14, 14, 8, 3, 3, 4)


def test_depthwise_conv() -> None:
    layer = only_layer(conv_model([1, 96, 56, 56], [96, 1, 5, 5], group=96, strides=[2, 2],
                                  pads=[2, 2, 2, 2]))
    assert (layer.K, layer.C, layer.G, layer.R, layer.S, layer.P, layer.Q) == \
        (96, 96, 96, 5, 5, 28, 28)


def test_asymmetric_kernel_with_unequal_strides_keeps_height_and_width_apart() -> None:
    # 1x7 kernel (height 1, width 7), stride 2 along height and 1 along width, on 17x20.
    layer = only_layer(conv_model([1, 16, 17, 20], [24, 16, 1, 7], strides=[2, 1],
                                  pads=[0, 3, 0, 3]))
    assert (layer.R, layer.S) == (1, 7)
    assert (layer.P, layer.Q) == (9, 20)  # (17-1)//2+1, 20+6-7+1
    assert (layer.stride_h, layer.stride_w) == (2, 1)
    # The transposed case: 7x1 kernel, strides (1, 2).
    layer = only_layer(conv_model([1, 16, 17, 20], [24, 16, 7, 1], strides=[1, 2],
                                  pads=[3, 0, 3, 0]))
    assert (layer.R, layer.S, layer.P, layer.Q, layer.stride_h, layer.stride_w) == \
        (7, 1, 17, 10, 1, 2)


def test_dilation_per_dimension() -> None:
    layer = only_layer(conv_model([1, 8, 32, 30], [8, 8, 3, 3], dilations=[2, 3]))
    assert (layer.dilation_h, layer.dilation_w) == (2, 3)
    assert (layer.P, layer.Q) == (28, 24)  # 32 - 2*2, 30 - 2*3
    # The input-tile formula of the cost model gives back the input size.
    assert (layer.P - 1) * layer.stride_h + (layer.R - 1) * layer.dilation_h + 1 == 32
    assert (layer.Q - 1) * layer.stride_w + (layer.S - 1) * layer.dilation_w + 1 == 30


@pytest.mark.parametrize("auto_pad, expected", [("SAME_UPPER", (8, 7)), ("SAME_LOWER", (8, 7)),
                                                ("VALID", (7, 6))])
def test_auto_pad(auto_pad: str, expected: tuple[int, int]) -> None:
    layer = only_layer(conv_model([1, 4, 15, 13], [4, 4, 3, 3], strides=[2, 2],
                                  auto_pad=auto_pad))
    assert (layer.P, layer.Q) == expected


def test_conv_1d_maps_to_height_one() -> None:
    layer = only_layer(conv_model([1, 4, 100], [8, 4, 5], strides=[2], pads=[2, 2]))
    assert (layer.P, layer.Q, layer.R, layer.S, layer.stride_h, layer.stride_w) == \
        (1, 50, 1, 5, 1, 2)


@pytest.mark.parametrize("opset", [9, 11, 13, 15, 17, 19, 21])
def test_bn_unfused_flatten_gemm_across_opsets(opset: int) -> None:
    net = load_network(classifier_model(opset))
    conv, fc = net.layers
    assert conv == Layer(name="conv", K=8, B=1, P=16, Q=16, C=3, R=3, S=3, stride_h=2,
                         stride_w=2, op="Conv")
    assert fc == Layer(name="fc", K=10, B=1, P=1, Q=1, C=8, R=1, S=1, op="Gemm")
    assert net.unsupported == ()


def test_identity_between_weight_and_conv_legacy_exporter() -> None:
    nodes = [helper.make_node("Identity", ["w0"], ["w"], name="id"),
             helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3])]
    m = model(nodes, [vi("x", [1, 3, 10, 10])], [vi("y", None)], initializers=[init("w0", [5, 3, 3, 3])],
              opset=9)
    layer = only_layer(m)
    assert (layer.K, layer.C, layer.P, layer.Q) == (5, 3, 8, 8)
    assert "id" not in load_network(m).graph  # weight producers are folded away


def test_identity_on_graph_input_weight_for_gemm() -> None:
    nodes = [helper.make_node("Identity", ["w_in"], ["w"], name="id"),
             helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")]
    m = model(nodes, [vi("x", [4, 16]), vi("w_in", [16, 3])], [vi("y", [4, 3])])
    assert only_layer(m) == Layer(name="fc", K=3, B=4, P=1, Q=1, C=16, R=1, S=1, op="Gemm")


def test_gemm_trans_b_and_trans_a() -> None:
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transA=1, transB=1)]
    m = model(nodes, [vi("x", [16, 4])], [vi("y", [4, 3])], initializers=[init("w", [3, 16])])
    assert only_layer(m) == Layer(name="fc", K=3, B=4, P=1, Q=1, C=16, R=1, S=1, op="Gemm")


def test_matmul_fc_2d_and_3d_rule() -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    m2 = model(nodes, [vi("x", [8, 64])], [vi("y", [8, 32])], initializers=[init("w", [64, 32])])
    assert only_layer(m2) == Layer(name="mm", K=32, B=8, P=1, Q=1, C=64, R=1, S=1, op="MatMul")
    # [N, T, C] @ [C, K]: every one of the N*T rows is a sample, B = N*T.
    m3 = model(nodes, [vi("x", [2, 5, 64])], [vi("y", [2, 5, 32])], initializers=[init("w", [64, 32])])
    assert only_layer(m3) == Layer(name="mm", K=32, B=10, P=1, Q=1, C=64, R=1, S=1, op="MatMul")


def test_matmul_after_reshape_computed_from_shape() -> None:
    # torch's legacy x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("Shape", ["c"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsq"),
        helper.make_node("Concat", ["n1", "minus1"], ["shp"], name="cat", axis=0),
        helper.make_node("Reshape", ["c", "shp"], ["f"], name="reshape"),
        helper.make_node("MatMul", ["f", "fw"], ["y"], name="fc"),
    ]
    inits = [init("w", [4, 3, 3, 3]), numpy_scalar("zero", 0), const_i64("axes", [0]),
             const_i64("minus1", [-1]), init("fw", [4 * 6 * 6, 10])]
    m = model(nodes, [vi("x", [3, 3, 8, 8])], [vi("y", None)], initializers=inits)
    net = load_network(m)
    assert net.layers[1] == Layer(name="fc", K=10, B=3, P=1, Q=1, C=144, R=1, S=1, op="MatMul")


def numpy_scalar(name: str, value: int) -> onnx.TensorProto:
    return onnx.numpy_helper.from_array(np.array(value, dtype=np.int64), name)


@pytest.mark.parametrize("reduce", ["GlobalAveragePool", "ReduceMean"])
def test_global_pool_forms_before_gemm(reduce: str) -> None:
    opset = 18  # ReduceMean takes axes as an input from opset 18 on
    pool = (helper.make_node("GlobalAveragePool", ["c"], ["p"], name="pool") if reduce ==
            "GlobalAveragePool" else helper.make_node("ReduceMean", ["c", "axes"], ["p"],
                                                      name="pool", keepdims=1))
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), pool,
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fw"], ["y"], name="fc", transB=1)]
    inits = [init("w", [12, 3, 1, 1]), const_i64("axes", [2, 3]), init("fw", [5, 12])]
    net = load_network(model(nodes, [vi("x", [1, 3, 9, 9])], [vi("y", [1, 5])],
                             initializers=inits, opset=opset))
    assert net.layers[1] == Layer(name="fc", K=5, B=1, P=1, Q=1, C=12, R=1, S=1, op="Gemm")


def test_dynamic_batch_is_set_by_batch_argument() -> None:
    m = classifier_model(17, batch="N")
    net = load_network(m, batch=4)
    assert net.batch == 4
    assert [layer.B for layer in net.layers] == [4, 4]
    assert net.graph.nodes["input:x"]["output_shapes"] == ((4, 3, 32, 32),)
    # The caller's model is not changed.
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"


def test_fixed_batch_is_kept_and_matching_batch_accepted() -> None:
    m = classifier_model(17, batch=2)
    assert load_network(m).batch == 2
    assert load_network(m, batch=2).layers[0].B == 2


def test_constant_of_shape_weights() -> None:
    dims = helper.make_tensor("d", TensorProto.INT64, [4], [6, 3, 5, 5])
    nodes = [helper.make_node("Constant", [], ["wshape"], value=dims),
             helper.make_node("ConstantOfShape", ["wshape"], ["w"]),
             helper.make_node("Conv", ["x", "w"], ["y"], name="c", pads=[2, 2, 2, 2])]
    m = model(nodes, [vi("x", [1, 3, 11, 11])], [vi("y", [1, 6, 11, 11])])
    assert only_layer(m) == Layer(name="c", K=6, B=1, P=11, Q=11, C=3, R=5, S=5, op="Conv")


def test_weights_as_graph_inputs_with_declared_shapes() -> None:
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="c"),
             helper.make_node("Flatten", ["c"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "fw"], ["y"], name="fc")]
    m = model(nodes, [vi("x", ["N", 3, 4, 4]), vi("w", [2, 3, 3, 3]), vi("b", [2]),
                      vi("fw", [8, 7])], [vi("y", None)])
    net = load_network(m, batch=3)
    assert net.layers == (Layer(name="c", K=2, B=3, P=2, Q=2, C=3, R=3, S=3, op="Conv"),
                          Layer(name="fc", K=7, B=3, P=1, Q=1, C=8, R=1, S=1, op="MatMul"))
    # Weight inputs are parameters, not graph nodes; their bytes count on the consumer.
    assert "input:w" not in net.graph and "input:x" in net.graph
    assert net.graph.nodes["c"]["param_bytes"] == (2 * 3 * 3 * 3 + 2) * 4


def test_skipped_operator_warns_with_its_macs_and_strict_raises(caplog: pytest.LogCaptureFixture) -> None:
    # A 3-D ConvTranspose is not scheduled: it is counted (exact MACs), warned about, and an
    # error with --strict because it drops MACs.
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="enc"),
             helper.make_node("ConvTranspose", ["c", "wt"], ["y"], name="dec", strides=[2, 2, 2])]
    m = model(nodes, [vi("x", [1, 3, 4, 4, 4])], [vi("y", None)],
              initializers=[init("w", [4, 3, 1, 1, 1]), init("wt", [4, 3, 2, 2, 2])])
    with caplog.at_level(logging.WARNING, logger="rlsched_compile.frontend"):
        net = load_network(m)
    assert [layer.name for layer in net.layers] == ["enc"]
    dec_macs = 4 * 3 * 8 * 64  # input pixels x kernel taps x output channels
    assert net.unsupported_count == 1
    assert (net.unsupported[0].op_type, net.unsupported[0].nodes, net.unsupported[0].macs) == \
        ("ConvTranspose (3-D)", ("dec",), dec_macs)
    assert net.macs == 4 * 3 * 64 and net.model_macs == 4 * 3 * 64 + dec_macs
    assert net.coverage == pytest.approx(768 / (768 + dec_macs))
    assert net.graph.nodes["dec"]["macs"] == dec_macs
    assert "skipping operators with MACs that cannot be scheduled: ConvTranspose (3-D) x1 (dec; " \
        "6.144 k MACs, 88.9% of the model)" in caplog.text
    from rlsched_compile.errors import ModelError
    with pytest.raises(ModelError, match=r"^<model 'tiny'>: operators with MACs that cannot be "
                       r"scheduled: ConvTranspose \(3-D\) x1 \(dec; 6.144 k MACs, 88.9% of the "
                       r"model\); remove --strict to skip them"):
        load_network(m, strict=True)


def test_matmul_of_two_activations_is_a_batched_layer() -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
             helper.make_node("Transpose", ["h"], ["ht"], name="t", perm=[1, 0]),
             helper.make_node("MatMul", ["h", "ht"], ["y"], name="scores")]
    m = model(nodes, [vi("x", [6, 8])], [vi("y", [6, 6])], initializers=[init("w", [8, 8])])
    net = load_network(m)
    assert [layer.name for layer in net.layers] == ["proj", "scores"]
    assert net.layers[1] == Layer(name="scores", K=6, B=6, P=1, Q=1, C=8, R=1, S=1, op="MatMul")
    assert net.unsupported == () and net.coverage == 1.0
    assert net.graph.nodes["scores"]["macs"] == 6 * 6 * 8


def test_unknown_shapes_fall_back_to_onnxruntime() -> None:
    # A com.microsoft op: ONNX shape inference does not know it, onnxruntime runs it.
    nodes = [helper.make_node("Gelu", ["x"], ["g"], name="gelu", domain="com.microsoft"),
             helper.make_node("Conv", ["g", "w"], ["y"], name="c", strides=[1, 2])]
    m = model(nodes, [vi("x", [1, 3, 10, 12])], [vi("y", None)], initializers=[init("w", [4, 3, 3, 3])],
              extra_opsets=[("com.microsoft", 1)])
    assert only_layer(m) == Layer(name="c", K=4, B=1, P=8, Q=5, C=3, R=3, S=3, stride_h=1,
                                  stride_w=2, op="Conv")


def test_unnamed_and_duplicate_nodes_get_stable_names() -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"]),
             helper.make_node("Conv", ["a", "w2"], ["b"], name="same"),
             helper.make_node("Conv", ["b", "w2"], ["y"], name="same")]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)],
              initializers=[init("w", [4, 3, 1, 1]), init("w2", [4, 4, 1, 1])])
    net = load_network(m)
    assert [layer.name for layer in net.layers] == ["conv_0", "same_1", "same_2"]
    assert dict(net.onnx_node) == {"conv_0": 0, "same_1": 1, "same_2": 2}


def test_unique_layers_group_identical_signatures() -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="c0", pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["a", "w"], ["b"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["b", "w"], ["c"], name="c2", pads=[1, 1, 1, 1],
                              strides=[2, 2]),
             helper.make_node("Conv", ["c", "w"], ["y"], name="c3", pads=[1, 1, 1, 1])]
    m = model(nodes, [vi("x", [1, 4, 8, 8])], [vi("y", None)], initializers=[init("w", [4, 4, 3, 3])])
    groups = load_network(m).unique_layers()
    assert [(g.layer.name, g.indices) for g in groups] == [("c0", (0, 1)), ("c2", (2,)),
                                                           ("c3", (3,))]
    assert [g.count for g in groups] == [2, 1, 1]


def test_operator_graph_attributes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "clf.onnx"
    onnx.save(classifier_model(13), path)
    net = load_network(path)
    assert net.name == "clf" and net.source == str(path)
    assert net.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    g = net.graph
    assert [n for n in g.nodes] == ["input:x", "conv", "bn", "relu", "pool", "flatten", "fc",
                                    "output:y"]
    assert g.nodes["conv"]["macs"] == 8 * 16 * 16 * 3 * 3 * 3 == net.layers[0].macs
    assert g.nodes["conv"]["param_bytes"] == 8 * 3 * 3 * 3 * 4
    assert g.nodes["bn"]["param_bytes"] == 4 * 8 * 4 and g.nodes["bn"]["macs"] == 0
    assert g.nodes["fc"]["param_bytes"] == (10 * 8 + 10) * 4
    assert g.nodes["conv"]["layer_index"] == 0 and g.nodes["relu"]["layer_index"] is None
    assert g.nodes["pool"]["output_shapes"] == ((1, 8, 1, 1),)
    edge = g.edges["input:x", "conv"]
    assert (edge["tensor"], edge["shape"], edge["bytes"]) == ("x", (1, 3, 32, 32), 3 * 32 * 32 * 4)
    assert g.edges["conv", "bn"]["bytes"] == 8 * 16 * 16 * 4
    assert g.edges["fc", "output:y"]["shape"] == (1, 10)
    assert net.macs == net.layers[0].macs + 80


def test_edge_bytes_use_the_element_type() -> None:
    nodes = [helper.make_node("Cast", ["x"], ["h"], name="cast", to=TensorProto.FLOAT16),
             helper.make_node("Conv", ["h", "w"], ["y"], name="c")]
    m = model(nodes, [vi("x", [1, 2, 4, 4])], [vi("y", None, TensorProto.FLOAT16)],
              initializers=[init("w", [2, 2, 1, 1], np.float16)])
    net = load_network(m)
    assert net.graph.edges["cast", "c"]["bytes"] == 2 * 4 * 4 * 2
    assert net.graph.nodes["c"]["param_bytes"] == 2 * 2 * 2


def test_onnxruntime_fused_conv_and_gemm() -> None:
    nodes = [helper.make_node("FusedConv", ["x", "w"], ["c"], name="fconv", domain="com.microsoft",
                              activation="Relu", strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Flatten", ["c"], ["f"], name="flatten"),
             helper.make_node("FusedGemm", ["f", "fw"], ["y"], name="fgemm",
                              domain="com.microsoft", activation="Relu", transB=1)]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)],
              initializers=[init("w", [4, 3, 3, 3]), init("fw", [6, 64])],
              extra_opsets=[("com.microsoft", 1)])
    net = load_network(m)
    assert net.layers == (
        Layer(name="fconv", K=4, B=1, P=4, Q=4, C=3, R=3, S=3, stride_h=2, stride_w=2, op="Conv"),
        Layer(name="fgemm", K=6, B=1, P=1, Q=1, C=64, R=1, S=1, op="Gemm"))


def test_layer_on_constants_only_is_not_scheduled() -> None:
    # A MatMul of two initializers is constant folding material; only the data layer counts.
    nodes = [helper.make_node("MatMul", ["a", "b"], ["w"], name="fold"),
             helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")]
    m = model(nodes, [vi("x", [2, 4])], [vi("y", [2, 6])],
              initializers=[init("a", [4, 5]), init("b", [5, 6])])
    net = load_network(m)
    assert [layer.name for layer in net.layers] == ["fc"]
    assert (net.layers[0].C, net.layers[0].K) == (4, 6)
    assert "fold" not in net.graph and net.graph.nodes["fc"]["param_bytes"] == 4 * 6 * 4
