"""Matrix products as layers: ``Gemm``, ``MatMul``, ``Einsum`` (two operands) and the fused and
quantized forms (``FusedGemm``, ``QGemm``, ``FusedMatMul``, ``MatMulInteger``, ``QLinearMatMul``,
``MatMulIntegerToFloat``, ``DynamicQuantizeMatMul``).

Mapping to the 8 loop parameters:

* a constant 2-D weight ``W[C, K]`` applied to an activation ``X[..., C]`` is a fully connected
  layer ``K, B = prod(...), C`` with ``P = Q = R = S = G = 1`` (a ``[N, T, C]`` input gives
  ``B = N*T`` rows); a constant first operand ``W[K, C] @ X[..., C, M]`` gives ``B = prod(...)*M``.
* any other product ``A[..., M, Kc] @ B[..., Kc, N]`` (both activations, as in attention's
  ``Q @ K^T`` and ``A @ V``, or a batched constant) is ``G = prod(batch dims)`` independent
  products: ``G``, ``B = M`` (rows), ``K = G*N``, ``C = G*Kc``, ``P = Q = R = S = 1``. When ``B``
  has no batch dimensions its batch folds into the rows instead (``G = 1``, ``B = prod(...)*M``).
  The second operand takes the weight's place in the cost model: it is read through the weight
  path of the memory levels (held and reused like a weight) even when it is an activation.
* ``Einsum`` with two operands: letters in both operands and the output are the groups ``G``,
  letters only in the first operand and the output the rows ``B``, letters only in the second
  operand and the output ``K/G``, and every summed letter ``C/G``. MACs = the product of all
  letter sizes. (A constant first operand is swapped to the weight's place.)
* ``Gemm`` of two activations is the fully connected layer with the second operand as weight.

MACs are exact: ``G * B * (K/G) * (C/G)`` = the number of multiply-accumulates of the product.
"""
from __future__ import annotations

import math
import string
from typing import Sequence

from ..layer import Layer
from ._node import Extracted, NodeContext, batched_matmul_layer, layers, skipped


def _fc(ctx: NodeContext, op: str, *, rows: int, c_in: int, k_out: int) -> Extracted:
    return layers(Layer(name=ctx.name, K=k_out, B=rows, P=1, Q=1, C=c_in, R=1, S=1, G=1, op=op))


def gemm(ctx: NodeContext, *, a_slot: int = 0, b_slot: int = 1) -> Extracted:
    """``Gemm`` / ``FusedGemm`` / ``QGemm`` (A 0, B 3) -> one fully connected layer."""
    a, b = ctx.in_shape(a_slot), ctx.in_shape(b_slot)
    if a is None or b is None:
        return skipped("Gemm (unknown shapes)", None)
    if len(a) != 2 or len(b) != 2:
        raise ctx.fail(f"Gemm operands must be 2-D, got {list(a)} and {list(b)}")
    trans_a, trans_b = int(ctx.attr("transA", 0)), int(ctx.attr("transB", 0))  # type: ignore[call-overload]
    rows, c_in = (a[1], a[0]) if trans_a else (a[0], a[1])
    c_b, k_out = (b[1], b[0]) if trans_b else (b[0], b[1])
    if c_in != c_b:
        raise ctx.fail(f"A {list(a)} (transA={trans_a}) and B {list(b)} (transB={trans_b}) do "
                       "not agree on the inner dimension")
    op = "QGemm" if ctx.node.op_type == "QGemm" else "Gemm"
    if ctx.is_data(ctx.input(b_slot)) and not ctx.is_data(ctx.input(a_slot)):
        # Constant A times activation B: the activation's columns are the samples.
        return _fc(ctx, op, rows=k_out, c_in=c_in, k_out=rows)
    return _fc(ctx, op, rows=rows, c_in=c_in, k_out=k_out)


def matmul(ctx: NodeContext, *, a_slot: int = 0, b_slot: int = 1, trans_a: bool = False,
           trans_b: bool = False) -> Extracted:
    """``MatMul`` and its fused/quantized forms -> one layer (see module doc)."""
    op = ctx.node.op_type
    kind = "MatMul" if op in ("MatMul", "FusedMatMul") else op
    a_name, b_name = ctx.input(a_slot), ctx.input(b_slot)
    a, b = ctx.in_shape(a_slot), ctx.in_shape(b_slot)
    if a is None or b is None:
        return skipped(f"{op} (unknown shapes)", None)
    if not a or not b:
        raise ctx.fail(f"operands {list(a)} and {list(b)} must have at least one dimension")
    a = _swap_last(a) if trans_a and len(a) >= 2 else a
    b = _swap_last(b) if trans_b and len(b) >= 2 else b
    a_data, b_data = ctx.is_data(a_name), ctx.is_data(b_name)
    if a[-1] != (b[-2] if len(b) >= 2 else b[0]):
        raise ctx.fail(f"operands {list(a)} and {list(b)} do not agree on the inner dimension")
    if not a_data and not b_data:
        return Extracted()  # constant folding material, not a layer
    if a_data and not b_data and len(b) == 2 and not trans_a:
        return _fc(ctx, kind, rows=math.prod(a[:-1]), c_in=b[0], k_out=b[1])
    if b_data and not a_data and len(a) == 2 and len(b) >= 2 and not trans_b:
        return _fc(ctx, kind, rows=math.prod(b[:-2]) * b[-1], c_in=a[1], k_out=a[0])
    a2 = a if len(a) >= 2 else (1, a[0])
    b2 = b if len(b) >= 2 else (b[0], 1)
    m, inner, n = a2[-2], a2[-1], b2[-1]
    try:
        batch = _broadcast(a2[:-2], b2[:-2])
    except ValueError:
        raise ctx.fail(f"batch dimensions of {list(a)} and {list(b)} do not broadcast") from None
    if len(b2) == 2:
        return layers(batched_matmul_layer(ctx.name, kind, groups=1, rows=math.prod(batch) * m,
                                           inner=inner, cols=n))
    return layers(batched_matmul_layer(ctx.name, kind, groups=math.prod(batch), rows=m,
                                       inner=inner, cols=n))


def fused_matmul(ctx: NodeContext) -> Extracted:
    """``com.microsoft.FusedMatMul``: a MatMul with optional transposes (and a scale)."""
    if int(ctx.attr("transBatchA", 0)) or int(ctx.attr("transBatchB", 0)):  # type: ignore[call-overload]
        return skipped("FusedMatMul (transBatch)", None)
    return matmul(ctx, trans_a=bool(ctx.attr("transA", 0)), trans_b=bool(ctx.attr("transB", 0)))


def matmul_integer(ctx: NodeContext) -> Extracted:
    """``MatMulInteger`` (A 0, B 1)."""
    return matmul(ctx, a_slot=0, b_slot=1)


def qlinear_matmul(ctx: NodeContext) -> Extracted:
    """``QLinearMatMul`` (A 0, B 3)."""
    return matmul(ctx, a_slot=0, b_slot=3)


def _swap_last(s: tuple[int, ...]) -> tuple[int, ...]:
    return (*s[:-2], s[-1], s[-2])


def _broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            raise ValueError
        out.append(max(x, y))
    return tuple(reversed(out))


def einsum(ctx: NodeContext) -> Extracted:
    """``Einsum`` with two operands -> one layer (see module doc)."""
    eq = ctx.str_attr("equation", "").replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len([t for t in ctx.node.input if t]) != 2 or len(terms) != 2:
        return Extracted() if len(terms) == 1 else skipped(f"Einsum ({len(terms)} operands)", None)
    shapes = [ctx.in_shape(0), ctx.in_shape(1)]
    if shapes[0] is None or shapes[1] is None:
        return skipped("Einsum (unknown shapes)", None)
    if not ctx.is_data(ctx.input(0)) and not ctx.is_data(ctx.input(1)):
        return Extracted()
    # Expand "..." into letters of their own, aligned from the right across operands.
    spare = [ch for ch in string.ascii_letters if ch not in eq]
    n_ell = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(spare[:n_ell])
    expanded = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:] if k else "")
        if len(t) != len(s) or not t.isalpha():
            raise ctx.fail(f"equation {eq!r} does not match operand shapes {shapes}")
        expanded.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {ch: "".join(expanded).count(ch) for ch in "".join(expanded)}
        out = ell + "".join(sorted(ch for ch, c in counts.items() if c == 1 and ch not in ell))
    if any(len(set(t)) != len(t) for t in (*expanded, out)):
        return skipped("Einsum (repeated index)", None)
    size: dict[str, int] = {}
    for t, s in zip(expanded, shapes):
        for ch, d in zip(t, s):
            if size.get(ch, 1) != d and d != 1:
                if ch in size and size[ch] != 1:
                    raise ctx.fail(f"index {ch!r} of {eq!r} has sizes {size[ch]} and {d}")
            size[ch] = max(size.get(ch, 1), d)
    ta, tb = expanded
    if not ctx.is_data(ctx.input(0)):
        ta, tb = tb, ta  # the constant operand takes the weight's place
    groups = math.prod(size[ch] for ch in ta if ch in tb and ch in out)
    rows = math.prod(size[ch] for ch in ta if ch not in tb and ch in out)
    cols = math.prod(size[ch] for ch in tb if ch not in ta and ch in out)
    inner = math.prod(size[ch] for ch in size if ch not in out)
    return layers(batched_matmul_layer(ctx.name, "Einsum", groups=groups, rows=rows, inner=inner,
                                       cols=cols))
