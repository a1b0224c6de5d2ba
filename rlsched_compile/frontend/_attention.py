"""Fused attention operators as layers: ONNX ``Attention`` (opset 23) and onnxruntime's
``com.microsoft`` ``Attention``, ``MultiHeadAttention`` and ``GroupQueryAttention``.

For batch ``N``, ``h`` query heads, ``S`` query positions, ``L`` key/value positions (past
included), head size ``d`` (``dv`` for values), the products are

* ``<node>.qk``: ``Q K^T`` per head, ``G = N*h``, ``B = S``, ``C/G = d``, ``K/G = L``
  (``N*h*S*L*d`` MACs);
* ``<node>.av``: ``softmax(.) V`` per head, ``G = N*h``, ``B = S``, ``C/G = L``, ``K/G = dv``
  (``N*h*S*L*dv`` MACs);

with the batched-product mapping of :mod:`._matmul` (keys and values take the weight's place:
they are read through the weight path of the memory levels). Grouped-query attention shares a
key/value head among ``h / h_kv`` query heads; the MACs are the same. ``com.microsoft.Attention``
also holds the input projection ``X W`` (``<node>.qkv``: a fully connected layer,
``B = N*S``, ``C`` = input hidden size, ``K`` = q + k + v hidden sizes). Softmax, scaling, masks
and biases are not MAC work of the 8-parameter form.
"""
from __future__ import annotations

from ..layer import Layer
from ._node import Extracted, NodeContext, batched_matmul_layer, layers, skipped


def _qk_av(ctx: NodeContext, *, batch: int, heads: int, s: int, l_kv: int, d: int,
           dv: int) -> list[Layer]:
    op = ctx.node.op_type
    return [batched_matmul_layer(f"{ctx.name}.qk", op, groups=batch * heads, rows=s, inner=d,
                                 cols=l_kv),
            batched_matmul_layer(f"{ctx.name}.av", op, groups=batch * heads, rows=s, inner=l_kv,
                                 cols=dv)]


def _key_length(ctx: NodeContext, l_kv: int, *, rank: int) -> int:
    """The key/value length with the cache: the ``present`` output's (its second-to-last axis), else
    ``l_kv`` plus the ``past`` input's; ``rank`` 4 is ``[N, H, L, d]``, 5 the fused ``[2, N, H, L, d]``."""
    present, past = ctx.out_shape(1), ctx.in_shape(4)
    if present is not None and len(present) == rank:
        return int(present[-2])
    if past is not None and len(past) == rank:
        return l_kv + int(past[-2])
    return l_kv


def _unknown(ctx: NodeContext) -> Extracted:
    return skipped(f"{ctx.node.op_type} (unknown shapes)", None)


def attention_onnx(ctx: NodeContext) -> Extracted:
    """ONNX ``Attention`` (opset 23): Q, K, V 4-D ``[N, heads, seq, size]`` or 3-D
    ``[N, seq, heads*size]`` with ``q_num_heads`` / ``kv_num_heads``."""
    q, k, v = ctx.in_shape(0), ctx.in_shape(1), ctx.in_shape(2)
    if q is None or k is None or v is None:
        return _unknown(ctx)
    if len(q) == 4 and len(k) == 4 and len(v) == 4:
        batch, heads, s, d = q
        l_kv, dv = k[2], v[3]
    elif len(q) == 3 and len(k) == 3 and len(v) == 3:
        heads = int(ctx.attr("q_num_heads", 0))  # type: ignore[call-overload]
        kv_heads = int(ctx.attr("kv_num_heads", 0))  # type: ignore[call-overload]
        if heads < 1 or kv_heads < 1 or q[2] % heads or k[2] % kv_heads or v[2] % kv_heads:
            raise ctx.fail(f"3-D Q {list(q)}, K {list(k)}, V {list(v)} need q_num_heads and "
                           "kv_num_heads that divide their hidden sizes")
        batch, s, d = q[0], q[1], q[2] // heads
        l_kv, dv = k[1], v[2] // kv_heads
    else:
        raise ctx.fail(f"Q {list(q)}, K {list(k)} and V {list(v)} must all be 3-D or all 4-D")
    l_kv = _key_length(ctx, l_kv, rank=4)
    return layers(*_qk_av(ctx, batch=batch, heads=heads, s=s, l_kv=l_kv, d=d, dv=dv))


def attention_ms(ctx: NodeContext) -> Extracted:
    """``com.microsoft.Attention``: input ``[N, S, D_in]``, weights ``[D_in, q+k+v]``."""
    x, w = ctx.in_shape(0), ctx.in_shape(1)
    if x is None or w is None:
        return _unknown(ctx)
    heads = int(ctx.attr("num_heads", 0))  # type: ignore[call-overload]
    sizes = [int(v) for v in ctx.attr("qkv_hidden_sizes", [])]  # type: ignore[attr-defined]
    if len(x) != 3 or len(w) != 2 or x[2] != w[0] or heads < 1:
        raise ctx.fail(f"input {list(x)} and weights {list(w)} with num_heads={heads} do not "
                       "make an attention")
    if not sizes:
        sizes = [w[1] // 3] * 3
    if len(sizes) != 3 or sum(sizes) != w[1] or any(v % heads for v in sizes):
        raise ctx.fail(f"qkv_hidden_sizes {sizes} do not split weights {list(w)} into "
                       f"{heads} heads")
    batch, s = x[0], x[1]
    l_kv = s
    l_kv = _key_length(ctx, l_kv, rank=5)
    proj = Layer(name=f"{ctx.name}.qkv", K=w[1], B=batch * s, P=1, Q=1, C=w[0], R=1, S=1,
                 op="Attention")
    return layers(proj, *_qk_av(ctx, batch=batch, heads=heads, s=s, l_kv=l_kv,
                                d=sizes[0] // heads, dv=sizes[2] // heads))


def multi_head_attention(ctx: NodeContext) -> Extracted:
    """``com.microsoft.MultiHeadAttention``: query ``[N, S, D]`` (or packed
    ``[N, S, h, 3, d]``), key/value 3-D, 4-D ``[N, h, L, d]`` or packed ``[N, L, h, 2, d]``."""
    heads = int(ctx.attr("num_heads", 0))  # type: ignore[call-overload]
    q, k, v = ctx.in_shape(0), ctx.in_shape(1), ctx.in_shape(2)
    if q is None or heads < 1:
        return _unknown(ctx)
    if len(q) == 5:  # packed QKV
        batch, s, _, _, d = q
        l_kv, dv = s, d
    elif len(q) == 3 and k is not None:
        batch, s, d = q[0], q[1], q[2] // heads
        if len(k) == 5:  # packed KV
            l_kv, dv = k[1], k[4]
        elif len(k) == 4 and v is not None:
            l_kv, dv = k[2], v[3]
        elif len(k) == 3 and v is not None:
            l_kv, dv = k[1], v[2] // heads
            past = ctx.in_shape(6)
            if past is not None and len(past) == 4:
                l_kv += past[2]
        else:
            return _unknown(ctx)
    else:
        return _unknown(ctx)
    present = ctx.out_shape(1)
    if present is not None and len(present) == 4:
        l_kv = present[2]
    return layers(*_qk_av(ctx, batch=batch, heads=heads, s=s, l_kv=l_kv, d=d, dv=dv))


def group_query_attention(ctx: NodeContext) -> Extracted:
    """``com.microsoft.GroupQueryAttention``: query ``[N, S, h*d]`` (or packed QKV
    ``[N, S, (h + 2 h_kv) d]``), past/present keys ``[N, h_kv, L, d]``."""
    heads = int(ctx.attr("num_heads", 0))  # type: ignore[call-overload]
    kv_heads = int(ctx.attr("kv_num_heads", 0))  # type: ignore[call-overload]
    q, k = ctx.in_shape(0), ctx.in_shape(1)
    if q is None or len(q) != 3 or heads < 1 or kv_heads < 1:
        return _unknown(ctx)
    batch, s = q[0], q[1]
    d = q[2] // heads if k is not None else q[2] // (heads + 2 * kv_heads)
    present, past = ctx.out_shape(1), ctx.in_shape(3)
    if present is not None and len(present) == 4:
        l_kv = present[2]
    elif past is not None and len(past) == 4:
        l_kv = past[2] + s
    else:
        l_kv = s
    return layers(*_qk_av(ctx, batch=batch, heads=heads, s=s, l_kv=l_kv, d=d, dv=d))
