"""The RESPECT graph embedding: one feature row per node, the pointer network's input.

Used by inference (:mod:`.solver`) and by training (:mod:`.train`), which must see the same
features: the shipped weights were trained on them.
"""
from __future__ import annotations

import numpy as np

from ..graph import PipelineGraph

#: Parents described per node in the embedding (RESPECT trains with degree <= 6).
MAX_PARENTS = 6
#: Length of a node's feature vector (see :func:`node_features`).
FEATURE_DIM = 2 + 2 * MAX_PARENTS + 7


def node_features(graph: PipelineGraph) -> np.ndarray:
    """The RESPECT graph embedding, one row per node in execution order, scale-free in |V|.

    Columns: node ID (position / n); ASAP level / (max level + 1); for up to 6 parents (latest
    first) their (level + 1) / (max level + 1) and (ID + 1) / n, zeros when absent; then parameter
    bytes ("memory"), MACs and output bytes relative to their mean over the graph; the fractions
    of all parameter bytes and MACs that precede the node; in-degree / 6 and out-degree / 6.

    Returns:
        float64 array of shape (n, FEATURE_DIM).
    """
    n = graph.n
    level = np.asarray(graph.asap_level, dtype=np.float64)
    depth = level.max() + 1.0
    feats = np.zeros((n, FEATURE_DIM))
    feats[:, 0] = np.arange(n) / n
    feats[:, 1] = level / depth
    for v in range(n):
        for j, u in enumerate(sorted(graph.preds[v], reverse=True)[:MAX_PARENTS]):
            feats[v, 2 + 2 * j] = (level[u] + 1) / depth
            feats[v, 3 + 2 * j] = (u + 1) / n
    col = 2 + 2 * MAX_PARENTS
    arr = graph.arrays
    for j, key in enumerate(("param_bytes", "macs", "out_bytes")):
        x = arr[key]
        feats[:, col + j] = x / x.mean() if x.sum() > 0 else 0.0
    for j, key in enumerate(("param_bytes", "macs")):
        x = arr[key]
        feats[:, col + 3 + j] = (np.cumsum(x) - x) / x.sum() if x.sum() > 0 else 0.0
    feats[:, col + 5] = [len(p) / MAX_PARENTS for p in graph.preds]
    feats[:, col + 6] = [len(s) / MAX_PARENTS for s in graph.succs]
    return feats
