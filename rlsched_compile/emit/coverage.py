"""Coverage: the share of a model's multiply-accumulates that got a schedule.

``report.json`` carries it as::

    "coverage": {"model_macs": 17560000000, "scheduled_macs": 17560000000, "share": 1.0,
                 "exact": true, "unscheduled_layer_macs": 0,
                 "skipped": [{"op_type": ..., "count": ..., "nodes": [...], "macs": ...}]}

``model_macs`` counts every MAC-bearing operator of the model (layers and skipped operators),
``scheduled_macs`` the layers that got a valid schedule, ``share`` their ratio, ``exact`` whether
every skipped operator's MACs are known (``macs`` is ``null`` for one that is not),
``unscheduled_layer_macs`` the MACs of layers without a valid schedule, ``skipped`` the operators
that hold MACs (or weights) but are not scheduled.

:func:`coverage_section` is the one place that reads coverage from a :class:`Network`; the
reports render its output. (The frontend does not count a skipped operator's MACs yet: each
skipped entry's ``macs`` is taken from the entry when it has them, else ``None``.)
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["coverage_phrase", "coverage_section", "format_macs"]


def format_macs(macs: float) -> str:
    """A MAC count in engineering form: ``17.56 G``, ``425.3 M``, ``5.581 k``, ``12``."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if macs >= scale:
            return f"{macs / scale:.4g} {unit}"
    return f"{macs:g}"


def coverage_section(network: Network, scheduled_macs: int) -> dict[str, Any]:
    """The ``coverage`` object of ``report.json`` (see the module docstring).

    Args:
        network: the compiled network.
        scheduled_macs: MACs of the layers with a valid schedule.
    """
    skipped = [{"op_type": u.op_type, "count": u.count, "nodes": list(u.nodes),
                "macs": getattr(u, "macs", None)} for u in network.unsupported]
    known = sum(s["macs"] or 0 for s in skipped)
    model = network.macs + known
    return {
        "model_macs": model,
        "scheduled_macs": scheduled_macs,
        "share": float(f"{scheduled_macs / model:.12g}") if model else 1.0,
        "exact": all(s["macs"] is not None for s in skipped),
        "unscheduled_layer_macs": network.macs - scheduled_macs,
        "skipped": skipped,
    }


def coverage_phrase(coverage: Mapping[str, Any]) -> str:
    """``100.0% of 17.56 G MACs scheduled`` (the share rounded down: 100.0% means all of them;
    ``at least`` when a skipped operator's MACs are unknown)."""
    share = math.floor(1000 * coverage["share"]) / 10
    total = format_macs(int(coverage["model_macs"]))
    more = "" if coverage.get("exact", True) else " (at least; some skipped MACs unknown)"
    return f"{share:.1f}% of {total} MACs scheduled{more}"
