"""Result rows of a sweep and their files: ``results.csv``, ``results.json``, the Pareto fronts
and the best point per model and objective.

One row per (model, target point, objective), in sweep order. A row holds no timing and no path,
so the files are byte-identical whatever the executor, ``--jobs`` or a resume.
"""
from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Mapping, Sequence

from .._version import __version__
from ..objective import Objective
from .points import cell
from .spec import SweepSpec

#: Version of the results layout.
RESULTS_SCHEMA = "rlsched-sweep-results-v1"
#: Figures of an ``ok`` row, in column order (``edp`` = network energy x network cycles).
METRICS: tuple[str, ...] = ("energy_pj", "cycles", "edp", "macs", "mac_utilization", "pe_utilization",
                            "compute_utilization", "layers", "unique_layers")


def columns(spec: SweepSpec) -> list[str]:
    """Result columns: model, target, one per varied parameter, objective, status, metrics, message."""
    return ["model", "target", *(p.name for p in spec.parameters), "objective", "status", *METRICS, "message"]


def _r(x: float) -> float:
    return float(f"{x:.12g}")


def ok_row(identity: Mapping[str, Any], totals: Mapping[str, Any]) -> dict[str, Any]:
    """A row of a compiled point from its network totals (:class:`NetworkTotals` as a dict)."""
    row = dict(identity)
    row.update(status="ok", energy_pj=float(totals["energy_pj"]), cycles=float(totals["cycles"]),
               edp=Objective.EDP.measure(float(totals["energy_pj"]), float(totals["cycles"])), macs=int(totals["macs"]),
               mac_utilization=_r(totals["mac_utilization"]), pe_utilization=_r(totals["pe_utilization"]),
               compute_utilization=_r(totals["compute_utilization"]), layers=int(totals["layers"]),
               unique_layers=int(totals["unique_layers"]), message="")
    return row


def error_row(identity: Mapping[str, Any], message: str) -> dict[str, Any]:
    """A row of a point that could not be compiled (invalid target, a layer without a schedule)."""
    row = dict(identity)
    row.update(status="error", **{m: None for m in METRICS}, message=" ".join(message.split()))
    return row


def valid_row(row: Any, cols: Sequence[str]) -> bool:
    """Whether ``row`` (read back from a per-point file) has exactly the expected shape."""
    if not isinstance(row, dict) or list(row) != list(cols):
        return False
    if row["status"] == "error":
        return all(row[m] is None for m in METRICS) and isinstance(row["message"], str)
    if row["status"] != "ok":
        return False
    for m in METRICS:
        v = row[m]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            return False
    return True


def _csv_value(column: str, v: Any) -> str:
    if v is None and column in METRICS:  # the figures of an error row; a parameter's null stays "null"
        return ""
    return cell(v)  # floats in shortest round-trip form


def render_csv(rows: Sequence[Mapping[str, Any]], cols: Sequence[str]) -> str:
    """``results.csv`` (``\\n`` line ends, floats in shortest round-trip form, parameter values as
    in :func:`~rlsched_compile.sweep.points.cell`, empty cells for the figures of an error row)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for row in rows:
        w.writerow([_csv_value(c, row[c]) for c in cols])
    return buf.getvalue()


def render_json(spec: SweepSpec, rows: Sequence[Mapping[str, Any]]) -> str:
    """``results.json``: the sweep's settings, parameters, models and the rows."""
    doc = {
        "schema": RESULTS_SCHEMA,
        "tool": {"name": "rlsched_compile", "version": __version__},
        "sweep": {"name": spec.name, "objectives": list(spec.objectives), "settings": spec.settings(),
                  "parameters": [{"name": p.name, "level": p.level, "field": p.field} for p in spec.parameters],
                  "constraints": [c.text for c in spec.constraints],
                  "models": [{"name": m.name, "sha256": m.network.sha256, "batch": m.network.batch}
                             for m in spec.models],
                  "targets": [{"name": t.name, "sha256": t.sha256} for t in spec.targets]},
        "rows": list(rows),
    }
    return json.dumps(doc, indent=1) + "\n"


def pareto_front(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices (into ``rows``) of the ok rows no other ok row beats on both energy and cycles
    (equal on one and lower on the other counts as beating), sorted by energy then cycles."""
    ok = [i for i, r in enumerate(rows) if r["status"] == "ok"]
    ok.sort(key=lambda i: (rows[i]["energy_pj"], rows[i]["cycles"], i))
    front: list[int] = []
    best_cycles = math.inf
    last: tuple[float, float] | None = None
    for i in ok:
        e, c = rows[i]["energy_pj"], rows[i]["cycles"]
        if c < best_cycles or (last is not None and (e, c) == last):
            front.append(i)
            best_cycles = min(best_cycles, c)
            last = (e, c)
    return front


def best_rows(spec: SweepSpec, rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, int | None]]:
    """(model, objective, index of the best ok row or None) for every model and objective: the
    lowest value of the objective's own metric, the first row in sweep order on a tie."""
    out: list[tuple[str, str, int | None]] = []
    for m in spec.models:
        for obj in spec.objectives:
            metric = obj.metric
            cands = [i for i, r in enumerate(rows) if r["model"] == m.name and r["objective"] == obj
                     and r["status"] == "ok"]
            best = min(cands, key=lambda i: (rows[i][metric], i)) if cands else None
            out.append((m.name, obj, best))
    return out
