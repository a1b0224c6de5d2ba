"""Zoo models beyond the paper's CNNs: transformers (ViT-B/16, BERT-base, a GPT-2-small decoder)
and an LSTM language model, built with ``onnx.helper`` like :mod:`.zoo`: every parameter is
``ConstantOfShape(Constant(dims))`` (zeros), so the files stay small and run in onnxruntime.

Attention is written out as the exporters write it (``MatMul`` Q.K^T, ``Softmax``, ``MatMul``
A.V, per head through ``Reshape``/``Transpose``), GELU as its ``Erf`` form, LayerNorm as
``LayerNormalization``. Node names follow the reference implementations' module paths
(``blocks.0.attn.qkv``, ``encoder.layer.0.attention.self.query``, ``h.0.attn.c_attn``).
"""
from __future__ import annotations

import math
from typing import Sequence

import onnx
from onnx import TensorProto, helper

#: Opset and IR version (as the rest of the zoo).
OPSET = 17
IR_VERSION = 8
_PRODUCER = "rlsched_compile.frontend.zoo"


class SequenceBuilder:
    """Appends nodes to a graph and tracks every tensor's shape (any rank)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.inputs: list[onnx.ValueInfoProto] = []
        self._consts: dict[tuple[str, tuple[int, ...]], str] = {}
        self._scalars: dict[tuple[int, float], str] = {}

    def input(self, name: str, shape: Sequence[int], elem: int = TensorProto.FLOAT) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem, list(shape)))
        self.shapes[name] = tuple(shape)
        return name

    def add(self, op: str, inputs: Sequence[str], name: str, shape: Sequence[int], **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, list(inputs), [name], name=name, **attrs))
        self.shapes[name] = tuple(shape)
        return name

    def ints(self, values: Sequence[int]) -> str:
        """A shared int64 ``Constant`` (shapes, axes, split sizes)."""
        key = ("i", tuple(int(v) for v in values))
        name = self._consts.get(key)
        if name is None:
            name = "ints_" + "_".join(str(v).replace("-", "m") for v in key[1])
            self.nodes.append(helper.make_node("Constant", [], [name], name=name, value=helper.make_tensor(
                name, TensorProto.INT64, [len(key[1])], list(key[1]))))
            self._consts[key] = name
        return name

    def scalar(self, value: float, elem: int = TensorProto.FLOAT) -> str:
        """A shared scalar ``Constant``."""
        key = (elem, float(value))
        name = self._scalars.get(key)
        if name is None:
            name = f"scalar_{len(self._scalars)}"
            self.nodes.append(helper.make_node("Constant", [], [name], name=name,
                                               value=helper.make_tensor(name, elem, [], [value])))
            self._scalars[key] = name
        return name

    def weight(self, name: str, shape: Sequence[int], elem: int = TensorProto.FLOAT) -> str:
        """A zero parameter of ``shape`` (ConstantOfShape; int8 for quantized weights)."""
        attrs = {} if elem == TensorProto.FLOAT else {"value": helper.make_tensor("v", elem, [1], [0])}
        self.nodes.append(helper.make_node("ConstantOfShape", [self.ints(shape)], [name], **attrs))
        self.shapes[name] = tuple(shape)
        return name

    def linear(self, x: str, cout: int, name: str, *, bias: bool = True) -> str:
        """``x @ W[cin, cout] (+ b)`` (a PyTorch ``Linear`` as the exporters write it)."""
        shape = self.shapes[x]
        y = self.add("MatMul", [x, self.weight(f"{name}.weight", [shape[-1], cout])], name,
                     (*shape[:-1], cout))
        if bias:
            y = self.add("Add", [y, self.weight(f"{name}.bias", [cout])], f"{name}.add_bias", self.shapes[y])
        return y

    def layer_norm(self, x: str, name: str, eps: float = 1e-5) -> str:
        c = self.shapes[x][-1]
        return self.add("LayerNormalization", [x, self.weight(f"{name}.weight", [c]),
                                               self.weight(f"{name}.bias", [c])], name, self.shapes[x],
                        axis=-1, epsilon=eps)

    def gelu(self, x: str, name: str) -> str:
        """``0.5 x (1 + erf(x / sqrt 2))``."""
        s = self.shapes[x]
        d = self.add("Div", [x, self.scalar(math.sqrt(2.0))], f"{name}.div", s)
        e = self.add("Erf", [d], f"{name}.erf", s)
        a = self.add("Add", [e, self.scalar(1.0)], f"{name}.add", s)
        m = self.add("Mul", [x, a], f"{name}.mul", s)
        return self.add("Mul", [m, self.scalar(0.5)], name, s)

    def binary(self, op: str, a: str, b: str, name: str) -> str:
        sa, sb = self.shapes[a], self.shapes[b]
        n = max(len(sa), len(sb))
        sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
        return self.add(op, [a, b], name, tuple(max(i, j) for i, j in zip(sa, sb)))

    def reshape(self, x: str, shape: Sequence[int], name: str) -> str:
        return self.add("Reshape", [x, self.ints(shape)], name, tuple(shape))

    def transpose(self, x: str, perm: Sequence[int], name: str) -> str:
        s = self.shapes[x]
        return self.add("Transpose", [x], name, tuple(s[p] for p in perm), perm=list(perm))

    def attention(self, x: str, heads: int, name: str, *, qkv: str, proj: str, separate: bool = False,
                  causal: bool = False) -> str:
        """Multi-head self-attention on ``[N, T, D]``: fused (or separate q/k/v) projection,
        per-head ``Q K^T`` and ``A V`` MatMuls, output projection."""
        n, t, d = self.shapes[x]
        hd = d // heads
        if separate:
            q, k, v = (self.linear(x, d, f"{qkv}.{p}") for p in ("query", "key", "value"))
        else:
            fused = self.linear(x, 3 * d, qkv)
            outs = [f"{name}.q", f"{name}.k", f"{name}.v"]
            self.nodes.append(helper.make_node("Split", [fused, self.ints([d, d, d])], outs,
                                               name=f"{name}.split", axis=-1))
            for o in outs:
                self.shapes[o] = (n, t, d)
            q, k, v = outs
        q = self.transpose(self.reshape(q, [n, t, heads, hd], f"{name}.q_heads"), [0, 2, 1, 3], f"{name}.q_t")
        kt = self.transpose(self.reshape(k, [n, t, heads, hd], f"{name}.k_heads"), [0, 2, 3, 1], f"{name}.k_t")
        v = self.transpose(self.reshape(v, [n, t, heads, hd], f"{name}.v_heads"), [0, 2, 1, 3], f"{name}.v_t")
        s = self.add("MatMul", [q, kt], f"{name}.matmul", (n, heads, t, t))
        s = self.add("Mul", [s, self.scalar(1.0 / math.sqrt(hd))], f"{name}.scale", (n, heads, t, t))
        if causal:
            s = self.add("Add", [s, self.weight(f"{name}.causal_mask", [1, 1, t, t])], f"{name}.mask",
                         (n, heads, t, t))
        p = self.add("Softmax", [s], f"{name}.softmax", (n, heads, t, t), axis=-1)
        o = self.add("MatMul", [p, v], f"{name}.matmul_1", (n, heads, t, hd))
        o = self.reshape(self.transpose(o, [0, 2, 1, 3], f"{name}.o_t"), [n, t, d], f"{name}.merge")
        return self.linear(o, d, proj)

    def model(self, outputs: Sequence[str], doc: str) -> onnx.ModelProto:
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, list(self.shapes[o])) for o in outputs]
        graph = helper.make_graph(self.nodes, self.name, self.inputs, outs)
        m = helper.make_model(graph, producer_name=_PRODUCER, producer_version="1", doc_string=doc,
                              opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = IR_VERSION
        return m


def _mlp(b: SequenceBuilder, x: str, hidden: int, fc1: str, fc2: str, act: str) -> str:
    d = b.shapes[x][-1]
    return b.linear(b.gelu(b.linear(x, hidden, fc1), act), d, fc2)


def build_vit_b16() -> onnx.ModelProto:
    """ViT-B/16 (Dosovitskiy et al. 2021; timm ``vit_base_patch16_224``), 224x224: patch Conv,
    class token, 12 pre-norm blocks (768 wide, 12 heads, MLP 3072), 1000-class head."""
    b = SequenceBuilder("vit_b16")
    x = b.input("image", [1, 3, 224, 224])
    x = b.add("Conv", [x, b.weight("patch_embed.proj.weight", [768, 3, 16, 16]),
                       b.weight("patch_embed.proj.bias", [768])], "patch_embed.proj", (1, 768, 14, 14),
              kernel_shape=[16, 16], strides=[16, 16])
    x = b.transpose(b.reshape(x, [1, 768, 196], "patch_embed.flatten"), [0, 2, 1], "patch_embed.transpose")
    x = b.add("Concat", [b.weight("cls_token", [1, 1, 768]), x], "cat_cls", (1, 197, 768), axis=1)
    x = b.binary("Add", x, b.weight("pos_embed", [1, 197, 768]), "pos_add")
    for i in range(12):
        p = f"blocks.{i}"
        y = b.attention(b.layer_norm(x, f"{p}.norm1", 1e-6), 12, f"{p}.attn", qkv=f"{p}.attn.qkv",
                        proj=f"{p}.attn.proj")
        x = b.binary("Add", x, y, f"{p}.add1")
        y = _mlp(b, b.layer_norm(x, f"{p}.norm2", 1e-6), 3072, f"{p}.mlp.fc1", f"{p}.mlp.fc2", f"{p}.mlp.act")
        x = b.binary("Add", x, y, f"{p}.add2")
    x = b.layer_norm(x, "norm", 1e-6)
    x = b.add("Gather", [x, b.ints([0])], "cls_select", (1, 1, 768), axis=1)
    x = b.reshape(x, [1, 768], "cls_flatten")
    out = b.linear(x, 1000, "head")
    return b.model([out], "ViT-B/16 (timm vit_base_patch16_224), shape-only weights")


def build_bert_base() -> onnx.ModelProto:
    """BERT-base (Devlin et al. 2019; Hugging Face ``BertModel`` of ``bert-base-uncased``),
    sequence 128: embeddings, 12 post-norm layers (768 wide, 12 heads, FFN 3072), pooler."""
    b = SequenceBuilder("bert_base")
    t = 128
    ids = b.input("input_ids", [1, t], TensorProto.INT64)
    types = b.input("token_type_ids", [1, t], TensorProto.INT64)
    w = b.add("Gather", [b.weight("embeddings.word_embeddings.weight", [30522, 768]), ids],
              "embeddings.word_embeddings", (1, t, 768))
    pos_table = b.weight("embeddings.position_embeddings.weight", [512, 768])
    pos = b.add("Slice", [pos_table, b.ints([0]), b.ints([t]), b.ints([0])], "embeddings.position_ids",
                (t, 768))
    ty = b.add("Gather", [b.weight("embeddings.token_type_embeddings.weight", [2, 768]), types],
               "embeddings.token_type_embeddings", (1, t, 768))
    x = b.binary("Add", b.binary("Add", w, ty, "embeddings.add"), pos, "embeddings.add_1")
    x = b.layer_norm(x, "embeddings.LayerNorm", 1e-12)
    for i in range(12):
        p = f"encoder.layer.{i}"
        y = b.attention(x, 12, f"{p}.attention.self", qkv=f"{p}.attention.self", separate=True,
                        proj=f"{p}.attention.output.dense")
        x = b.layer_norm(b.binary("Add", y, x, f"{p}.attention.output.add"), f"{p}.attention.output.LayerNorm",
                         1e-12)
        y = b.linear(b.gelu(b.linear(x, 3072, f"{p}.intermediate.dense"), f"{p}.intermediate.act"), 768,
                     f"{p}.output.dense")
        x = b.layer_norm(b.binary("Add", y, x, f"{p}.output.add"), f"{p}.output.LayerNorm", 1e-12)
    cls = b.reshape(b.add("Gather", [x, b.ints([0])], "pooler.select", (1, 1, 768), axis=1), [1, 768],
                    "pooler.flatten")
    pooled = b.add("Tanh", [b.linear(cls, 768, "pooler.dense")], "pooler.activation", (1, 768))
    return b.model([x, pooled], "BERT-base (Hugging Face BertModel, bert-base-uncased), sequence 128, "
                                "shape-only weights")


def build_gpt2_small() -> onnx.ModelProto:
    """GPT-2 small (Radford et al. 2019; Hugging Face ``GPT2LMHeadModel`` of ``gpt2``), prefill of
    512 tokens: token + position embeddings, 12 pre-norm causal blocks (768 wide, 12 heads, MLP
    3072), final LayerNorm and the language-model head tied to the token embedding."""
    b = SequenceBuilder("gpt2_small")
    t = 512
    ids = b.input("input_ids", [1, t], TensorProto.INT64)
    wte = b.weight("wte.weight", [50257, 768])
    x = b.add("Gather", [wte, ids], "wte", (1, t, 768))
    pos = b.add("Slice", [b.weight("wpe.weight", [1024, 768]), b.ints([0]), b.ints([t]), b.ints([0])],
                "wpe", (t, 768))
    x = b.binary("Add", x, pos, "embed_add")
    for i in range(12):
        p = f"h.{i}"
        y = b.attention(b.layer_norm(x, f"{p}.ln_1"), 12, f"{p}.attn", qkv=f"{p}.attn.c_attn",
                        proj=f"{p}.attn.c_proj", causal=True)
        x = b.binary("Add", x, y, f"{p}.add1")
        y = _mlp(b, b.layer_norm(x, f"{p}.ln_2"), 3072, f"{p}.mlp.c_fc", f"{p}.mlp.c_proj", f"{p}.mlp.act")
        x = b.binary("Add", x, y, f"{p}.add2")
    x = b.layer_norm(x, "ln_f")
    head = b.add("Transpose", [wte], "lm_head.weight_t", (768, 50257), perm=[1, 0])
    logits = b.add("MatMul", [x, head], "lm_head", (1, t, 50257))
    return b.model([logits], "GPT-2 small (Hugging Face GPT2LMHeadModel, gpt2), prefill of 512 tokens, "
                             "tied LM head, shape-only weights")


def build_lstm_lm() -> onnx.ModelProto:
    """The medium LSTM language model of Zaremba et al. 2014 (Penn Treebank): vocabulary 10000,
    embedding 650, 2 LSTM layers of 650, 35 steps, batch 1 (input ``[1, 35]``), decoder to 10000
    logits (``[35, 1, 10000]``)."""
    b = SequenceBuilder("lstm_lm")
    t, hid, vocab = 35, 650, 10000
    ids = b.input("input_ids", [1, t], TensorProto.INT64)
    x = b.add("Gather", [b.weight("encoder.weight", [vocab, hid]), ids], "encoder", (1, t, hid))
    x = b.transpose(x, [1, 0, 2], "time_major")  # the LSTM's [T, N, C] layout
    for i in range(2):
        p = f"rnn.{i}"
        y = b.add("LSTM", [x, b.weight(f"{p}.weight_ih", [1, 4 * hid, hid]),
                           b.weight(f"{p}.weight_hh", [1, 4 * hid, hid]), b.weight(f"{p}.bias", [1, 8 * hid])],
                  p, (t, 1, 1, hid), hidden_size=hid)
        x = b.add("Squeeze", [y, b.ints([1])], f"{p}.squeeze", (t, 1, hid))
    out = b.linear(x, vocab, "decoder")
    return b.model([out], "LSTM language model (Zaremba et al. 2014, medium), shape-only weights")
