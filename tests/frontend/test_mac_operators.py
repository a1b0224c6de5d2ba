"""Every MAC-bearing operator becomes layers with exact MACs (graphs built with onnx.helper):
the com.microsoft fused forms, opset-23 Attention, Einsum, ConvTranspose phases, 3-D Conv,
recurrent repeats, quantized forms, and the graph's per-node MACs the pipeline pass reads."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from rlsched_compile import Layer
from rlsched_compile.frontend import load_network
from rlsched_compile.pipeline.graph import graph_from_operator_graph

from ._graphs import init, model, vi

MS = [("com.microsoft", 1)]


def _check_graph_macs(net) -> None:  # type: ignore[no-untyped-def]
    """The operator graph's node MACs add up to the model's MACs; no layer node has 0."""
    assert sum(net.graph.nodes[n]["macs"] for n in net.graph) == net.model_macs
    for n, attrs in net.graph.nodes(data=True):
        if attrs["layer_indices"]:
            assert attrs["macs"] == sum(net.layers[i].macs for i in attrs["layer_indices"]) > 0


def test_ms_attention_is_projection_plus_two_batched_products() -> None:
    b, s, d, h = 2, 6, 16, 4
    node = helper.make_node("Attention", ["x", "w", "bias"], ["y"], name="attn", domain="com.microsoft",
                            num_heads=h)
    m = model([node], [vi("x", [b, s, d])], [vi("y", [b, s, d])],
              initializers=[init("w", [d, 3 * d]), init("bias", [3 * d])], extra_opsets=MS)
    net = load_network(m)
    assert [ly.name for ly in net.layers] == ["attn.qkv", "attn.qk", "attn.av"]
    assert net.layers[1] == Layer(name="attn.qk", K=b * h * s, B=s, P=1, Q=1, C=b * h * (d // h), R=1,
                                  S=1, G=b * h, op="Attention")
    assert net.model_macs == b * s * d * 3 * d + 2 * b * h * s * s * (d // h) and net.coverage == 1.0
    _check_graph_macs(net)


def test_ms_multi_head_attention_and_fused_matmul() -> None:
    b, s, d, h = 1, 5, 8, 2
    nodes = [helper.make_node("FusedMatMul", ["x", "wq"], ["q"], name="q_proj", domain="com.microsoft",
                              transB=1, alpha=1.0),
             helper.make_node("MultiHeadAttention", ["q", "x", "x"], ["y"], name="mha",
                              domain="com.microsoft", num_heads=h)]
    m = model(nodes, [vi("x", [b, s, d])], [vi("y", [b, s, d])], initializers=[init("wq", [d, d])],
              extra_opsets=MS)
    net = load_network(m)
    assert [ly.name for ly in net.layers] == ["q_proj", "mha.qk", "mha.av"]
    assert net.model_macs == b * s * d * d + 2 * b * h * s * s * (d // h)
    _check_graph_macs(net)


def test_ms_group_query_attention() -> None:
    b, s, h, kvh, hd = 1, 4, 4, 2, 8
    nodes = [helper.make_node("GroupQueryAttention", ["q", "k", "v", "", "", "seqlens", "total"],
                              ["y", "present_k", "present_v"], name="gqa", domain="com.microsoft",
                              num_heads=h, kv_num_heads=kvh)]
    inits = [helper.make_tensor("seqlens", TensorProto.INT32, [b], [s - 1]),
             helper.make_tensor("total", TensorProto.INT32, [], [s])]
    m = model(nodes, [vi("q", [b, s, h * hd]), vi("k", [b, s, kvh * hd]), vi("v", [b, s, kvh * hd])],
              [vi("y", None), vi("present_k", None), vi("present_v", None)], initializers=inits,
              extra_opsets=MS)
    net = load_network(m)
    assert net.model_macs == 2 * b * h * s * s * hd and net.coverage == 1.0


@pytest.mark.parametrize("three_d", [False, True])
def test_onnx_attention_opset23(three_d: bool) -> None:
    b, h, s, l_kv, hd = 2, 3, 4, 6, 8
    if three_d:
        shapes = ([b, s, h * hd], [b, l_kv, h * hd], [b, l_kv, h * hd])
        attrs = {"q_num_heads": h, "kv_num_heads": h}
    else:
        shapes = ([b, h, s, hd], [b, h, l_kv, hd], [b, h, l_kv, hd])
        attrs = {}
    node = helper.make_node("Attention", ["q", "k", "v"], ["y"], name="sdpa", **attrs)
    m = model([node], [vi("q", shapes[0]), vi("k", shapes[1]), vi("v", shapes[2])], [vi("y", None)],
              opset=23)
    net = load_network(m)
    assert [ly.name for ly in net.layers] == ["sdpa.qk", "sdpa.av"]
    assert net.model_macs == 2 * b * h * s * l_kv * hd


@pytest.mark.parametrize("equation,a,b,macs", [
    ("bhqd,bhkd->bhqk", [2, 3, 4, 5], [2, 3, 6, 5], 2 * 3 * 4 * 6 * 5),
    ("...ij,...jk->...ik", [2, 4, 5], [2, 5, 3], 2 * 4 * 5 * 3),
    ("ij,jk", [4, 5], [5, 3], 4 * 5 * 3),
    ("bij,bjk->bi", [2, 4, 5], [2, 5, 3], 2 * 4 * 5 * 3),
])
def test_einsum_of_two_activations(equation: str, a: list[int], b: list[int], macs: int) -> None:
    node = helper.make_node("Einsum", ["a", "b"], ["y"], name="e", equation=equation)
    net = load_network(model([node], [vi("a", a), vi("b", b)], [vi("y", None)], opset=17))
    assert net.macs == net.model_macs == macs


def test_conv_transpose_phases_count_no_inserted_zeros() -> None:
    # k=3, s=2, p=1, output_padding=1 (H_out = 2H): phases have 1 and 2 taps per dimension.
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2],
                            pads=[1, 1, 1, 1], output_padding=[1, 1])
    m = model([node], [vi("x", [1, 8, 5, 6])], [vi("y", None)], initializers=[init("w", [8, 4, 3, 3])])
    net = load_network(m)
    assert net.macs == 8 * 4 * 9 * 5 * 6  # input pixels x taps x output channels
    assert {(ly.R, ly.S, ly.P, ly.Q, ly.repeat) for ly in net.layers} == {
        (1, 1, 5, 6, 1), (1, 2, 5, 6, 1), (2, 1, 5, 6, 1), (2, 2, 5, 6, 1)}
    # k=2, s=2: the four phases are alike: one 1x1 layer run four times.
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2], group=2)
    net = load_network(model([node], [vi("x", [1, 8, 5, 6])], [vi("y", None)],
                             initializers=[init("w", [8, 3, 2, 2])]))
    assert net.layers == (Layer(name="up.phase0_0", K=6, B=1, P=5, Q=6, C=8, R=1, S=1, G=2,
                                op="ConvTranspose", repeat=4),)
    assert net.macs == 8 * 3 * 4 * 30
    _check_graph_macs(net)


def test_conv_3d_folds_depth_into_batch_and_channels() -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c3", pads=[1, 1, 1, 1, 1, 1],
                            strides=[2, 1, 1])
    net = load_network(model([node], [vi("x", [2, 4, 7, 6, 6])], [vi("y", None)],
                             initializers=[init("w", [5, 4, 3, 3, 3])]))
    d_out = (7 + 2 - 3) // 2 + 1
    assert net.layers == (Layer(name="c3", K=5, B=2 * d_out, P=6, Q=6, C=12, R=3, S=3, op="Conv"),)
    assert net.macs == 2 * 5 * d_out * 36 * 4 * 27


@pytest.mark.parametrize("op,gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_recurrent_layers_repeat_per_step(op: str, gates: int) -> None:
    t, n, i, hid = 7, 2, 5, 6
    node = helper.make_node(op, ["x", "w", "r"], ["y"], name="rec", hidden_size=hid,
                            direction="bidirectional")
    m = model([node], [vi("x", [t, n, i])], [vi("y", None)],
              initializers=[init("w", [2, gates * hid, i]), init("r", [2, gates * hid, hid])])
    net = load_network(m)
    assert [(ly.name, ly.B, ly.C, ly.repeat) for ly in net.layers] == [
        ("rec.forward.input", t * n, i, 1), ("rec.forward.recurrent", n, hid, t),
        ("rec.reverse.input", t * n, i, 1), ("rec.reverse.recurrent", n, hid, t)]
    assert net.macs == net.model_macs == 2 * t * n * gates * hid * (i + hid)
    assert len(net.unique_layers()) == 2  # both directions share the schedules
    _check_graph_macs(net)
    pipe = graph_from_operator_graph(net.graph, name="rec")
    assert sum(pipe.macs) == net.macs and min(pipe.macs) > 0


def test_qlinear_conv_and_matmul_integer() -> None:
    u8, i8 = TensorProto.UINT8, TensorProto.INT8
    scale = lambda name: helper.make_tensor(name, TensorProto.FLOAT, [], [0.1])  # noqa: E731
    zp = lambda name, t: helper.make_tensor(name, t, [], [0])  # noqa: E731
    nodes = [helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["c"],
                              name="qconv", pads=[1, 1, 1, 1]),
             helper.make_node("Flatten", ["c"], ["f"], name="flat"),
             helper.make_node("MatMulInteger", ["f", "fw", "fz", "wz2"], ["y"], name="qfc")]
    inits = [scale("xs"), zp("xz", u8), init("w", [4, 3, 3, 3], np.int8), scale("ws"), zp("wz", i8),
             scale("ys"), zp("yz", u8), init("fw", [4 * 16, 5], np.int8), zp("fz", u8), zp("wz2", i8)]
    m = model(nodes, [vi("x", [1, 3, 4, 4], u8)], [vi("y", None, TensorProto.INT32)], initializers=inits)
    net = load_network(m)
    assert [(ly.name, ly.op) for ly in net.layers] == [("qconv", "QLinearConv"), ("qfc", "MatMulInteger")]
    assert net.macs == 4 * 16 * 3 * 9 + 64 * 5 and net.coverage == 1.0


def test_qdq_weights_behind_dequantize_are_constant() -> None:
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq"),
             helper.make_node("DequantizeLinear", ["wq", "s", "z"], ["w"], name="dqw"),
             helper.make_node("Conv", ["xd", "w"], ["y"], name="conv")]
    inits = [helper.make_tensor("s", TensorProto.FLOAT, [], [0.1]),
             helper.make_tensor("z", TensorProto.INT8, [], [0]), init("wq", [4, 3, 3, 3], np.int8)]
    net = load_network(model(nodes, [vi("x", [1, 3, 6, 6])], [vi("y", None)], initializers=inits))
    assert net.layers == (Layer(name="conv", K=4, B=1, P=4, Q=4, C=3, R=3, S=3, op="Conv"),)
    assert "dqw" not in net.graph  # the weight's DequantizeLinear is folded into the Conv's parameters


def test_dynamo_module_paths_name_layers() -> None:
    def scoped(node, scopes: str):  # type: ignore[no-untyped-def]
        e = node.metadata_props.add()
        e.key, e.value = "pkg.torch.onnx.name_scopes", scopes
        return node

    nodes = [scoped(helper.make_node("MatMul", ["x", "w"], ["a"], name="node_MatMul_1"),
                    "['', 'blocks.0', 'blocks.0.attn', 'blocks.0.attn.qkv', 'linear']"),
             scoped(helper.make_node("MatMul", ["a", "a2"], ["b"], name="node_matmul"),
                    "['', 'blocks.0', 'blocks.0.attn', 'matmul']"),
             scoped(helper.make_node("MatMul", ["b", "b2"], ["y"], name="node_matmul_1"),
                    "['', 'blocks.0', 'blocks.0.attn', 'matmul_1']"),
             scoped(helper.make_node("Transpose", ["a"], ["a2"], name="node_t", perm=[1, 0]),
                    "['', 'blocks.0', 'blocks.0.attn', 't']"),
             helper.make_node("Transpose", ["b"], ["b2"], name="node_t2", perm=[1, 0])]
    nodes = [nodes[0], nodes[3], nodes[1], nodes[4], nodes[2]]
    net = load_network(model(nodes, [vi("x", [4, 4])], [vi("y", None)], initializers=[init("w", [4, 4])]))
    assert [ly.name for ly in net.layers] == ["blocks.0.attn.qkv", "blocks.0.attn.matmul",
                                              "blocks.0.attn.matmul_1"]
    assert "node_t" in net.graph  # other nodes keep their names


def test_conv_transpose_with_huge_strides_is_skipped_with_its_macs() -> None:
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[100, 100])
    net_input = [vi("x", [1, 2, 3, 3])]
    m = model([helper.make_node("Conv", ["x", "wc"], ["c"], name="c"), node], net_input, [vi("y", None)],
              initializers=[init("wc", [2, 2, 1, 1]), init("w", [2, 1, 2, 2])])
    net = load_network(m)
    assert [(u.op_type, u.macs) for u in net.unsupported] == [("ConvTranspose (stride too large)", 2 * 9 * 4)]
