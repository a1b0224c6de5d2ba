"""The float64 step-by-step pointer-network decoder: the oracle of the RESPECT tests.

Written plainly, one LSTM step and one softmax over all nodes per step, with nothing shared with
the production decoder (:func:`rlsched_compile.pipeline.respect.decode_sequences`, which hoists
products out of the loops, drops chosen nodes and decodes greedy-only graphs in float32). The tests
check the production decoder's greedy sequences against this one, and this one against the PyTorch
model the weights come from (teacher-forced log-probabilities too).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from rlsched_compile.pipeline.respect import PointerWeights


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _lstm_step(x: np.ndarray, h: np.ndarray, c: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
               b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM cell update (PyTorch gate order i, f, g, o; ``b`` = b_ih + b_hh)."""
    gates = w_ih @ x + w_hh @ h + b
    i, f, g, o = np.split(gates, 4)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def pointer_logits_sequence(weights: PointerWeights, features: np.ndarray,
                            actions: Sequence[int] | None = None) -> tuple[list[int], np.ndarray]:
    """Run the pointer network: greedy decoding, or teacher-forced along ``actions``.

    Args:
        weights: network weights.
        features: (n, FEATURE_DIM) node features in execution order.
        actions: the node chosen at each step (teacher forcing); None decodes greedily.

    Returns:
        (the node sequence, the (n, n) masked log-probabilities of every step).
    """
    n = features.shape[0]
    hidden = weights.embed_b.shape[0]
    emb = features @ weights.embed_w.T + weights.embed_b
    h, c = np.zeros(hidden), np.zeros(hidden)
    enc = np.empty((n, hidden))
    for t in range(n):
        h, c = _lstm_step(emb[t], h, c, weights.enc_w_ih, weights.enc_w_hh, weights.enc_b)
        enc[t] = h
    ref = enc @ weights.att_w_ref.T
    mask = np.zeros(n, dtype=bool)
    x = weights.dec_start
    seq: list[int] = []
    logps = np.empty((n, n))
    for t in range(n):
        h, c = _lstm_step(x, h, c, weights.dec_w_ih, weights.dec_w_hh, weights.dec_b)
        u = np.tanh(ref + weights.att_w_q @ h) @ weights.att_v
        u = weights.logit_clip * np.tanh(u)
        u = np.where(mask, -np.inf, u)
        m = u.max()
        logp = u - m - np.log(np.exp(u - m).sum())
        logps[t] = logp
        a = int(np.argmax(logp)) if actions is None else int(actions[t])
        seq.append(a)
        mask[a] = True
        x = emb[a]
    return seq, logps
