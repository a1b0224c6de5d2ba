"""Coverage: the share of a model's multiply-accumulates that got a schedule.

``report.json`` carries it as::

    "coverage": {"model_macs": 17560000000, "scheduled_macs": 17560000000, "share": 1.0,
                 "exact": true, "skipped": [{"op_type": ..., "count": ..., "nodes": [...],
                                             "macs": ...}]}

``model_macs`` counts every MAC-bearing operator of the model (layers and skipped operators),
``scheduled_macs`` the layers that got a valid schedule (repeats included), ``share`` their
ratio, ``exact`` whether every skipped operator's MACs are known (``macs`` is ``null`` for one
that is not), ``unscheduled_layer_macs`` the MACs of layers without a valid schedule,
``skipped`` the operators that hold MACs but are not scheduled.

:func:`coverage_section` is the one place that reads coverage from a :class:`Network`; the
reports render its output.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

from ..network import format_macs

__all__ = ["coverage_phrase", "coverage_section", "format_macs"]

if TYPE_CHECKING:
    from ..network import Network


def coverage_section(network: Network, scheduled_macs: int) -> dict[str, Any]:
    """The ``coverage`` object of ``report.json`` (see module doc).

    Args:
        network: the compiled network.
        scheduled_macs: MACs of the layers with a valid schedule.
    """
    failed = network.macs - scheduled_macs  # layers without a valid schedule stay in the model
    model = network.model_macs
    return {
        "model_macs": model,
        "scheduled_macs": scheduled_macs,
        "share": float(f"{scheduled_macs / model:.12g}") if model else 1.0,
        "exact": network.macs_exact,
        "unscheduled_layer_macs": failed,
        "skipped": [{"op_type": u.op_type, "count": u.count, "nodes": list(u.nodes), "macs": u.macs}
                    for u in network.unsupported],
    }


def coverage_phrase(coverage: Mapping[str, Any]) -> str:
    """``100.0% of 17.56 G MACs scheduled`` (the share rounded down: 100.0% means all of them;
    ``at least`` when a skipped operator's MACs are unknown)."""
    share = math.floor(1000 * coverage["share"]) / 10
    total = format_macs(int(coverage["model_macs"]))
    more = "" if coverage.get("exact", True) else " (at least; some skipped MACs unknown)"
    return f"{share:.1f}% of {total} MACs scheduled{more}"
