"""RESPECT, the learned pipeline-stage scheduler, in one place.

* :mod:`.features`: the graph embedding (one feature row per node), shared by inference and training;
* :mod:`.network`: the pointer network's weights and their file, ``respect.npz`` (the one list of
  weight names, :data:`WEIGHT_NAMES`; the shipped file is :data:`DEFAULT_WEIGHTS`);
* :mod:`.decode`: running the network on a graph (numpy): :func:`decode_sequences`;
* :mod:`.solver`: the ``respect`` solver: fix-up, cut, refinement, fallback; :class:`RespectSolver`
  holds its weights and per-graph memo;
* :mod:`.train`: training (PyTorch, imported only by training; not imported here);
* ``python -m rlsched_compile.pipeline.respect``: the training command (:mod:`.__main__`).

Importing this package imports numpy only (the ``respect`` solver is declared in
:data:`rlsched_compile.pipeline.solvers.SOLVERS`).
"""
from __future__ import annotations

from .decode import decode_sequences, predict_sequence
from .features import FEATURE_DIM, MAX_PARENTS, node_features
from .network import DEFAULT_WEIGHTS, WEIGHT_NAMES, PointerWeights
from .solver import (WIDE_SEARCH_NODES, RespectSolver, default_samples, fixup_order, fixup_stages,
                     respect_assignment)

__all__ = [
    "DEFAULT_WEIGHTS", "FEATURE_DIM", "MAX_PARENTS", "WEIGHT_NAMES", "WIDE_SEARCH_NODES", "PointerWeights",
    "RespectSolver", "decode_sequences", "default_samples", "fixup_order", "fixup_stages", "node_features",
    "predict_sequence", "respect_assignment",
]
