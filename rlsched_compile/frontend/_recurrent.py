"""Recurrent operators as layers: ``LSTM`` (4 gates), ``GRU`` (3 gates), ``RNN`` (1 gate).

Input ``X`` is ``[T, N, I]`` (``layout=1``: ``[N, T, I]``), hidden size ``H``, ``D`` directions
(2 when bidirectional). Per direction the operator is two matrix products:

* the input projection ``X W^T`` of every time step at once: a fully connected layer
  ``K = gates*H``, ``B = T*N``, ``C = I`` (named ``<node>.<dir>.input``);
* the recurrent projection ``h_{t-1} R^T``, which depends on the previous step and so runs ``T``
  times: a fully connected layer ``K = gates*H``, ``B = N``, ``C = H`` with ``repeat = T``
  (named ``<node>.<dir>.recurrent``). Its MACs, energy and cycles count ``T`` times in the
  network totals; one schedule serves every step.

MACs per node: ``D * T * N * gates * H * (I + H)``, exact for the products (a ``sequence_lens``
input is ignored: every sequence is counted at the full length ``T``). The gates' elementwise
work (sigmoid/tanh, the Hadamard products and LSTM peepholes) is not MAC work of the 8-parameter
form and is left out.
"""
from __future__ import annotations

from ..layer import Layer
from ._node import Extracted, NodeContext, layers, skipped

#: Gate count per operator.
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def recurrent(ctx: NodeContext) -> Extracted:
    """``LSTM`` / ``GRU`` / ``RNN`` -> an input and a recurrent layer per direction."""
    op = ctx.node.op_type
    gates = GATES[op]
    x, w = ctx.in_shape(0), ctx.in_shape(1)
    if x is None or w is None:
        return skipped(f"{op} (unknown shapes)", None)
    if len(x) != 3 or len(w) != 3:
        raise ctx.fail(f"input {list(x)} and weight {list(w)} must be 3-D")
    layout = int(ctx.attr("layout", 0))  # type: ignore[call-overload]
    t, n, i = (x[1], x[0], x[2]) if layout else (x[0], x[1], x[2])
    d = w[0]
    hidden = int(ctx.attr("hidden_size", w[1] // gates))  # type: ignore[call-overload]
    direction = ctx.str_attr("direction", "forward")
    if w[1] != gates * hidden or w[2] != i or d != (2 if direction == "bidirectional" else 1):
        raise ctx.fail(f"weight {list(w)} does not match input {list(x)}, hidden_size={hidden} and "
                       f"direction={direction!r} ({gates} gates)")
    if t < 1 or n < 1:
        return Extracted()
    names = ("forward", "reverse") if d == 2 else (direction,)
    out = []
    for tag in names:
        out.append(Layer(name=f"{ctx.name}.{tag}.input", K=gates * hidden, B=t * n, P=1, Q=1,
                         C=i, R=1, S=1, op=op))
        out.append(Layer(name=f"{ctx.name}.{tag}.recurrent", K=gates * hidden, B=n, P=1, Q=1,
                         C=hidden, R=1, S=1, op=op, repeat=t))
    return layers(*out)
