"""The pointer network's weights and their file (``respect.npz``): the one definition of the weight
names, shared by inference (:mod:`.decode`) and the exporter of training (:mod:`.train`).

The network: node features (:mod:`.features`) -> linear embedding -> LSTM encoder over the nodes
in execution order -> LSTM decoder that, at every step, "points" at one node not chosen yet
(additive attention over the encoder outputs, logits clipped by ``C * tanh``).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..._io import atomic_path
from ...errors import PipelineError

#: The shipped weights.
DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "data" / "respect" / "respect.npz"
#: The command that trains weights (named in the error about missing weights).
TRAIN_COMMAND = "python -m rlsched_compile.pipeline.respect"


@dataclass(frozen=True, eq=False)
class PointerWeights:
    """Weights of the pointer network (PyTorch layouts; LSTM gates in order i, f, g, o).

    The field names are the array names in ``respect.npz`` (:data:`WEIGHT_NAMES`, in this order,
    then the scalar ``logit_clip``).

    Attributes:
        embed_w, embed_b: input embedding (H x F, H).
        enc_w_ih, enc_w_hh, enc_b: encoder LSTM (4H x H, 4H x H, 4H = b_ih + b_hh).
        dec_w_ih, dec_w_hh, dec_b: decoder LSTM cell.
        dec_start: decoder input of the first step (H).
        att_w_ref, att_w_q, att_v: pointer attention u_j = v . tanh(W_ref e_j + W_q d).
        logit_clip: C in C * tanh(u_j).
    """

    embed_w: np.ndarray
    embed_b: np.ndarray
    enc_w_ih: np.ndarray
    enc_w_hh: np.ndarray
    enc_b: np.ndarray
    dec_w_ih: np.ndarray
    dec_w_hh: np.ndarray
    dec_b: np.ndarray
    dec_start: np.ndarray
    att_w_ref: np.ndarray
    att_w_q: np.ndarray
    att_v: np.ndarray
    logit_clip: float

    @classmethod
    def load(cls, path: str | Path) -> PointerWeights:
        """Read weights written by :meth:`save` (as float64 arrays).

        Raises:
            PipelineError: the file is missing or lacks a weight.
        """
        path = Path(path)
        if not path.is_file():
            raise PipelineError(f"no RESPECT weights at {path}; train them with "
                                f"`{TRAIN_COMMAND}` or pick another --solver")
        with np.load(path) as data:
            missing = [name for name in (*WEIGHT_NAMES, "logit_clip") if name not in data.files]
            if missing:
                raise PipelineError(f"{path.name}: weight {missing[0]!r} missing; re-export the checkpoint")
            arrays = {name: np.asarray(data[name], dtype=np.float64) for name in WEIGHT_NAMES}
            clip = float(data["logit_clip"])
        return cls(**arrays, logit_clip=clip)

    def save(self, path: str | Path) -> None:
        """Write the weights as ``respect.npz``: every array of :data:`WEIGHT_NAMES` as it is held
        (training exports float32), then ``logit_clip`` as a float64 scalar."""
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **{name: getattr(self, name) for name in WEIGHT_NAMES},
                     logit_clip=np.asarray(self.logit_clip))


#: The array names of ``respect.npz``: the fields of :class:`PointerWeights` but ``logit_clip``.
WEIGHT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(PointerWeights) if f.name != "logit_clip")
