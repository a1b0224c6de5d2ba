"""Pipeline targets: the constants of the pipeline-stage cost model (schema ``rlsched-pipeline-v1``).

A pipeline target file (``accelerators/edgetpu.yaml``) is read by the target loader
(:mod:`rlsched_compile.targets.pipeline`: shipped names, the strict bounded parse, the declared key
table, every problem collected into one :class:`~rlsched_compile.errors.TargetError`); this module
holds the frozen value the pipeline pass uses, :class:`PipelineTarget`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..targets.pipeline import read_pipeline_target


@dataclass(frozen=True)
class PipelineTarget:
    """Constants of the pipeline cost model (one chip per stage).

    Attributes:
        name: target name (``edgetpu``).
        peak_macs_per_s: P, peak MAC/s of one chip.
        efficiency_ratio: eta in (0, 1], the fraction of P reached.
        on_chip_bytes: M_on, bytes of parameters a chip keeps on chip.
        off_chip_bytes_per_s: B_off, streaming rate of the parameters beyond M_on (bytes/s).
        link_bytes_per_s: B_link, rate of the tensors entering and leaving a stage (bytes/s).
        hop_s: c_hop, fixed overhead of a stage per inference (s).
        data_type_bytes: bytes per tensor element (1 for int8).
    """

    name: str
    peak_macs_per_s: float
    efficiency_ratio: float
    on_chip_bytes: float
    off_chip_bytes_per_s: float
    link_bytes_per_s: float
    hop_s: float
    data_type_bytes: int

    @property
    def effective_macs_per_s(self) -> float:
        """eta * P, the MAC rate used by the compute term (MAC/s)."""
        return self.efficiency_ratio * self.peak_macs_per_s

    def to_dict(self) -> dict[str, Any]:
        """The constants as a flat dict with stable key order."""
        return asdict(self)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def load_pipeline_target(name_or_path: str | Path) -> PipelineTarget:
    """Load and validate a pipeline target by shipped name (``edgetpu``) or YAML path.

    Reading, name resolution and validation are the target loader's
    (:func:`rlsched_compile.targets.pipeline.read_pipeline_target`).

    Raises:
        TargetError: file missing, unreadable YAML, duplicate keys or schema problems.
    """
    return PipelineTarget(**read_pipeline_target(name_or_path))
