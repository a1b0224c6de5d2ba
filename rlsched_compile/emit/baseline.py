"""The CI gate (``--baseline REPORT.json``): read an earlier report, refuse one that is not
comparable with this run, and summarise the differences for the terminal and for ``--format json``.

Two reports are comparable when they are for the same model (by name), target (by name),
objective and batch size: comparing a ResNet-50 report with a MobileNet run, or energy figures
with cycle figures, says nothing. The strategy, seed, budget, tool version and the model's or
target's content may differ: checking what such a change does is what the gate is for. Layers
are matched by index and name; those in one report only are counted as appeared/disappeared.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .._io import read_regular_file
from ..errors import RlschedError
from .report import Difference, compare_reports, render_differences

#: Largest baseline file read (bytes); the report of a 1000-layer model is a few MB.
BASELINE_MAX_BYTES = 256 << 20


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def read_baseline(path: str) -> dict[str, Any]:
    """Read and check an earlier ``report.json``.

    Raises:
        RlschedError: missing, unreadable, not JSON, or not shaped like a report (one line).
    """
    try:
        data = read_regular_file(path, max_bytes=BASELINE_MAX_BYTES)
    except FileNotFoundError:
        raise RlschedError(f"baseline {path}: no such file; pass the report.json of an earlier run") from None
    except OSError as exc:
        raise RlschedError(f"baseline {path}: cannot read it ({exc.strerror or exc}); pass an earlier "
                           "report.json") from None
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RlschedError(f"baseline {path}: not a readable JSON report ({first}); pass an earlier "
                           "report.json") from None
    if not isinstance(doc, dict) or "totals" not in doc or "layers" not in doc:
        raise RlschedError(f"baseline {path}: not an rlsched_compile report.json (no totals/layers)")
    totals, layers = doc["totals"], doc["layers"]
    ok = isinstance(totals, dict) and all(_is_number(totals.get(m)) for m in ("energy_pj", "cycles")) \
        and isinstance(layers, list) and all(
            isinstance(ly, dict) and isinstance(ly.get("index"), int) and isinstance(ly.get("name"), str)
            and all(_is_number(ly.get(m)) for m in ("energy_pj", "cycles")) for ly in layers)
    if not ok:
        raise RlschedError(f"baseline {path}: not an rlsched_compile report.json (totals or layers without "
                           "numeric energy_pj/cycles); pass the report.json of an earlier run")
    return doc


def _settings(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that must agree, read defensively (a missing one reads as None)."""
    def get(*keys: str) -> Any:
        node: Any = doc
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        return node

    return {"model": get("model", "name"), "target": get("target", "name"),
            "objective": get("settings", "objective"), "batch": get("model", "batch")}


def check_comparable(baseline: Mapping[str, Any], current: Mapping[str, Any], *, path: str) -> None:
    """Refuse a baseline of another model, target, objective or batch size.

    Raises:
        RlschedError: naming every setting that differs, baseline value first.
    """
    old, new = _settings(baseline), _settings(current)
    differ = [f"{k} {old[k]!r} in the baseline vs {new[k]!r} now" for k in old if old[k] != new[k]]
    if differ:
        raise RlschedError(f"baseline {path} is not comparable with this run: {'; '.join(differ)}; "
                           "pass a report of the same model, target, objective and batch")


@dataclass(frozen=True)
class BaselineComparison:
    """The result of comparing this run with a baseline report.

    Attributes:
        path: the baseline file as given.
        max_regression_pct: the allowed increase in percent.
        differences: every changed figure (see :func:`compare_reports`).
        appeared: layers (``layer <index> <name>``) only in this run.
        disappeared: layers only in the baseline.
    """

    path: str
    max_regression_pct: float
    differences: tuple[Difference, ...]
    appeared: tuple[str, ...]
    disappeared: tuple[str, ...]

    @property
    def regressions(self) -> int:
        """Figures that grew by more than the allowed percentage."""
        return sum(d.regression for d in self.differences)

    def to_dict(self) -> dict[str, Any]:
        """The ``baseline_comparison`` object of ``--format json`` (standard JSON: no NaN/Infinity)."""
        def num(x: float | None) -> float | None:
            return x if x is not None and math.isfinite(x) else None

        return {
            "baseline": self.path, "max_regression_pct": self.max_regression_pct,
            "regressions": self.regressions, "layers_appeared": len(self.appeared),
            "layers_disappeared": len(self.disappeared), "appeared": list(self.appeared),
            "disappeared": list(self.disappeared),
            "differences": [{"scope": d.scope, "metric": d.metric, "baseline": num(d.old), "current": num(d.new),
                             "change_pct": num(d.change_pct), "regression": d.regression}
                            for d in self.differences],
        }

    def render(self) -> str:
        """The text table, a line counting layers that appeared/disappeared, and the verdict."""
        lines = render_differences(self.differences, max_regression_pct=self.max_regression_pct).splitlines()
        if self.appeared or self.disappeared:
            lines.insert(len(lines) - 1, f"baseline: {len(self.appeared)} layer(s) appeared, "
                                         f"{len(self.disappeared)} disappeared")
        return "\n".join(lines) + "\n"


def compare_with_baseline(baseline: Mapping[str, Any], current: Mapping[str, Any], *, path: str,
                          max_regression_pct: float) -> BaselineComparison:
    """Compare a (comparable) baseline with this run's report."""
    diffs: Sequence[Difference] = compare_reports(baseline, current, max_regression_pct=max_regression_pct)
    appeared = tuple(dict.fromkeys(d.scope for d in diffs if d.old is None and d.scope != "total"))
    disappeared = tuple(dict.fromkeys(d.scope for d in diffs if d.new is None and d.scope != "total"))
    return BaselineComparison(path=path, max_regression_pct=max_regression_pct, differences=tuple(diffs),
                              appeared=appeared, disappeared=disappeared)
