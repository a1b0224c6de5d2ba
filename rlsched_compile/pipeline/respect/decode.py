"""Running the pointer network (numpy): the encoder pass and the decoder that turns a graph's node
features into node sequences (:func:`decode_sequences`).

Every product is kept on the calling thread (:func:`_matmul`, :func:`_matvec`): the decoder runs
hundreds of tiny per-step products, between which OpenBLAS's worker threads would only spin.
"""
from __future__ import annotations

import numpy as np

from ..graph import PipelineGraph
from .features import node_features
from .network import PointerWeights


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


#: Most multiply-adds of one BLAS product: OpenBLAS runs products below about 2.6e5 on the calling
#: thread; larger ones wake its worker threads, which then spin between the hundreds of tiny
#: per-step products of the decoder (measured: 2-4x the CPU time of the decode on a 2-core box).
_SINGLE_THREAD_MACS = 200_000
#: Rows of one matrix-vector product kept below OpenBLAS's threading threshold.
_SINGLE_THREAD_ROWS = 128


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D arrays, in row blocks small enough to stay on the calling thread."""
    rows = max(1, _SINGLE_THREAD_MACS // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= rows:
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for i in range(0, a.shape[0], rows):
        np.matmul(a[i:i + rows], b, out=out[i:i + rows])
    return out


def _matvec(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a @ v`` (2-D by 1-D) in row blocks that stay on the calling thread."""
    if a.shape[0] <= _SINGLE_THREAD_ROWS:
        return a @ v
    out = np.empty(a.shape[0], dtype=np.result_type(a, v))
    for i in range(0, a.shape[0], _SINGLE_THREAD_ROWS):
        np.matmul(a[i:i + _SINGLE_THREAD_ROWS], v, out=out[i:i + _SINGLE_THREAD_ROWS])
    return out


def _gate_scale(hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-gate factors that turn one ``tanh`` of scaled gates into sigmoid (i, f, o) and tanh (g).

    Returns:
        (scale, offset): pre-activations are multiplied by ``scale`` (0.5 for i, f, o; 1 for g)
        before the tanh t, and each gate is then ``t * scale + offset`` (0.5 * t + 0.5 for i, f, o;
        t for g). Halving is exact, so 0.5 * t + 0.5 == 0.5 * (1 + t) == :func:`_sigmoid` bit
        for bit; the cell equals a plain LSTM step's up to the order of the matrix products'
        additions.
    """
    scale = np.full(4 * hidden, 0.5)
    scale[2 * hidden:3 * hidden] = 1.0
    offset = np.full(4 * hidden, 0.5)
    offset[2 * hidden:3 * hidden] = 0.0
    return scale, offset


def _encode(weights: PointerWeights, features: np.ndarray, dtype: type = np.float64
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The encoder pass: node embeddings, the attention's reference projection of every encoder
    state, and the final LSTM state (h, c) the decoder starts from, computed in ``dtype``.

    The input projections of all steps are one matrix product; each step only adds W_hh h."""
    n = features.shape[0]
    hidden = weights.embed_b.shape[0]
    scale, offset = (x.astype(dtype) for x in _gate_scale(hidden))
    emb = _matmul(features.astype(dtype), weights.embed_w.T.astype(dtype)) + weights.embed_b.astype(dtype)
    pre_in = _matmul(emb, weights.enc_w_ih.T.astype(dtype)) + weights.enc_b.astype(dtype)
    pre_in *= scale
    w_hh = weights.enc_w_hh.astype(dtype) * scale[:, None]
    h, c = np.zeros(hidden, dtype=dtype), np.zeros(hidden, dtype=dtype)
    enc = np.empty((n, hidden), dtype=dtype)
    tanh, add, mul = np.tanh, np.add, np.multiply
    h2, h3 = 2 * hidden, 3 * hidden
    for t in range(n):
        # One LSTM cell update (see _gate_scale), inlined: this loop runs once per node.
        pre = w_hh @ h
        pre += pre_in[t]
        tanh(pre, out=pre)
        mul(pre, scale, out=pre)
        add(pre, offset, out=pre)
        c = pre[hidden:h2] * c
        c += pre[:hidden] * pre[h2:h3]
        h = enc[t]
        tanh(c, out=h)
        h *= pre[h3:]
    return emb, _matmul(enc, weights.att_w_ref.T.astype(dtype)), h, c


def decode_sequences(weights: PointerWeights, features: np.ndarray, *, samples: int = 0,
                     seed: int = 0) -> list[list[int]]:
    """The pointer network's node sequences for one graph: the greedy sequence, then ``samples``
    sequences sampled from the policy (seeded).

    This is the only decoder of the package. Without samples the greedy sequence is decoded in
    float32 over the nodes not chosen yet (:func:`_decode_greedy`: the solver's path on graphs of
    :data:`~rlsched_compile.pipeline.respect.solver.WIDE_SEARCH_NODES` nodes and more, about 4x
    faster); with samples all ``1 + samples`` sequences are decoded together in float64, one row
    each (:func:`_decode_batch`). Either way the greedy sequence is meant to equal the float64
    step-by-step decoding that the tests keep as their oracle (``tests/pipeline/_reference_decoder.py``);
    they check it on the zoo and on synthetic graphs.

    Args:
        weights: network weights.
        features: (n, FEATURE_DIM) node features in execution order (:func:`~.features.node_features`).
        samples: sequences sampled besides the greedy one (>= 0).
        seed: seed of the sampling.

    Returns:
        ``1 + samples`` node sequences; the first is the greedy one.

    Raises:
        ValueError: ``samples`` is negative.
    """
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples}")
    if samples == 0:
        return [_decode_greedy(weights, *_encode(weights, features, np.float32))]
    return _decode_batch(weights, features, samples=samples, seed=seed)


def _decode_batch(weights: PointerWeights, features: np.ndarray, *, samples: int, seed: int) -> list[list[int]]:
    """The greedy sequence (row 0) and ``samples`` >= 1 sampled ones, decoded as one float64 batch."""
    n = features.shape[0]
    rows = 1 + samples
    rng = np.random.default_rng(seed)
    emb, ref, h, c = _encode(weights, features)
    hidden = h.shape[0]
    hb, cb = np.tile(h, (rows, 1)), np.tile(c, (rows, 1))
    # The decoder input of a step is the embedding of the node just chosen: its input projection
    # (plus bias) is gathered from one product over all nodes. Every product is kept on the
    # calling thread (_matmul), as in _decode_greedy.
    pre_in = _matmul(emb, weights.dec_w_ih.T) + weights.dec_b
    pre_x = np.tile(weights.dec_w_ih @ weights.dec_start + weights.dec_b, (rows, 1))
    w_hh_t = np.ascontiguousarray(weights.dec_w_hh.T)
    w_q_t = np.ascontiguousarray(weights.att_w_q.T)
    att = np.empty((rows, n, hidden))
    mask = np.zeros((rows, n), dtype=bool)
    seqs = np.empty((rows, n), dtype=np.int64)
    idx = np.arange(rows)
    for t in range(n):
        gates = pre_x + _matmul(hb, w_hh_t)
        i, f, g, o = np.split(gates, 4, axis=1)
        cb = _sigmoid(f) * cb + _sigmoid(i) * np.tanh(g)
        hb = _sigmoid(o) * np.tanh(cb)
        np.add(ref[None, :, :], _matmul(hb, w_q_t)[:, None, :], out=att)
        np.tanh(att, out=att)
        u = _matvec(att.reshape(rows * n, hidden), weights.att_v).reshape(rows, n)
        u = weights.logit_clip * np.tanh(u)
        u = np.where(mask, -np.inf, u)
        a = np.empty(rows, dtype=np.int64)
        a[0] = int(np.argmax(u[0]))
        p = np.exp(u[1:] - u[1:].max(axis=1, keepdims=True))
        cdf = np.cumsum(p, axis=1)
        draw = rng.random(samples)[:, None] * cdf[:, -1:]
        a[1:] = np.minimum((cdf <= draw).sum(axis=1), n - 1)
        # Never pick a masked node through rounding at the end of the CDF.
        for r in np.nonzero(mask[1 + np.arange(samples), a[1:]])[0]:
            a[1 + r] = int(np.argmax(np.where(mask[1 + r], -np.inf, p[r])))
        seqs[:, t] = a
        mask[idx, a] = True
        pre_x = pre_in[a]
    return [list(map(int, row)) for row in seqs]


def _decode_greedy(weights: PointerWeights, emb: np.ndarray, ref: np.ndarray, h: np.ndarray,
                   c: np.ndarray) -> list[int]:
    """Greedy decoding over the nodes not yet chosen only (swap-remove keeps the work at
    O(remaining * H) per step); ties go to the smallest node index, as ``np.argmax`` would.

    The decoder input of a step is the embedding of the node just chosen, so its input
    projection (plus bias) is computed for every node at once before the loop.

    The loop (and the encoder before it) runs in float32, the precision the network is trained in
    (PyTorch's default): its
    n^2 * H / 2 attention ``tanh`` evaluations are most of the decode's arithmetic, and numpy's
    float32 ``tanh`` is about 4x faster than its float64 one. Ties between equal logits still go
    to the smallest index; tests check that the sequences equal those of the float64 step-by-step
    reference decoder on the zoo and on synthetic graphs."""
    f32 = np.float32
    n = emb.shape[0]
    hidden = h.shape[0]
    scale, offset = (x.astype(f32) for x in _gate_scale(hidden))
    w_ih, w_hh, b = weights.dec_w_ih.astype(f32), weights.dec_w_hh.astype(f32), weights.dec_b.astype(f32)
    pre_in = _matmul(emb.astype(f32), w_ih.T) + b
    pre_in *= scale
    start = (w_ih @ weights.dec_start.astype(f32) + b) * scale
    # One product per step gives the attention query W_q h and the next step's W_hh h.
    w_h = np.vstack([weights.att_w_q.astype(f32), w_hh * scale[:, None]])
    att_v, clip = weights.att_v.astype(f32), f32(weights.logit_clip)
    ref = ref.astype(f32)
    h, c = h.astype(f32), c.astype(f32)
    ids = np.arange(n)
    buf = np.empty_like(ref)
    pre = start + (w_hh * scale[:, None]) @ h
    seq: list[int] = []
    tanh, add, mul = np.tanh, np.add, np.multiply
    h2, h3 = 2 * hidden, 3 * hidden
    for t in range(n):
        # The LSTM cell (see _gate_scale), inlined: this loop runs once per node.
        tanh(pre, out=pre)
        mul(pre, scale, out=pre)
        add(pre, offset, out=pre)
        c = pre[hidden:h2] * c
        c += pre[:hidden] * pre[2 * hidden:h3]
        h = tanh(c)
        h *= pre[h3:]
        proj = w_h @ h
        live = n - t
        att = buf[:live]
        add(ref[:live], proj[:hidden], out=att)
        tanh(att, out=att)
        u = tanh(_matvec(att, att_v))
        u *= clip
        best = (u == u.max()).nonzero()[0]
        row = int(best[np.argmin(ids[best])]) if len(best) > 1 else int(best[0])
        a = int(ids[row])
        seq.append(a)
        last = live - 1
        ref[row] = ref[last]
        ids[row] = ids[last]
        pre = proj[hidden:]
        pre += pre_in[a]
    return seq


def predict_sequence(weights: PointerWeights, graph: PipelineGraph) -> list[int]:
    """Greedy pointer-network output: a node sequence (not yet fixed up)."""
    return decode_sequences(weights, node_features(graph))[0]
