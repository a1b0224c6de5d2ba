"""Pipeline reports: ``pipeline.json`` (stable keys, no timings: byte-identical for the same inputs),
and the stage timeline plot (matplotlib, Agg backend, deterministic SVG); the stdout table is
:func:`rlsched_compile.emit.text.render_pipeline_table`."""
from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any, Sequence

from .base import PipelineResult
from .graph import PipelineGraph
from .target import PipelineTarget

logger = logging.getLogger(__name__)

#: Version of the pipeline.json layout.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PipelineRun:
    """The result for one stage count plus the param-balance baseline it is compared with."""

    result: PipelineResult
    baseline: PipelineResult

    @property
    def speedup_vs_param_balance(self) -> float:
        """Throughput gain over param-balance (baseline bottleneck / bottleneck)."""
        return self.baseline.bottleneck_s / self.result.bottleneck_s


def _stage_dicts(graph: PipelineGraph, result: PipelineResult) -> list[dict[str, Any]]:
    out = []
    for s, st in enumerate(result.cost.stages):
        out.append({
            "stage": s + 1,
            "operators": [graph.names[v] for v in st.nodes],
            "node_ids": [graph.ids[v] for v in st.nodes],
            "macs": st.macs,
            "param_bytes": st.param_bytes,
            "offchip_bytes": st.offchip_bytes,
            "in_link_bytes": st.in_link_bytes,
            "out_link_bytes": st.out_link_bytes,
            "compute_s": st.compute_s,
            "offchip_s": st.offchip_s,
            "link_s": st.link_s,
            "hop_s": st.hop_s,
            "total_s": st.total_s,
        })
    return out


def build_report(*, graph: PipelineGraph, target: PipelineTarget, runs: Sequence[PipelineRun],
                 source: str, source_sha256: str, version: str) -> dict[str, Any]:
    """The ``pipeline.json`` document (no wall-clock times, so it is reproducible)."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "rlsched_compile", "version": version},
        "graph": {"name": graph.name, "source": source, "sha256": source_sha256,
                  "nodes": graph.n, "edges": len(graph.edges)},
        "target": {"sha256": target.sha256, **target.to_dict()},
        "runs": [],
    }
    for run in runs:
        r, b = run.result, run.baseline
        doc["runs"].append({
            "k": r.k,
            "solver": r.solver,
            "method": r.method,
            "optimal": r.optimal,
            "lower_bound_s": r.lower_bound_s,
            "bottleneck_s": r.bottleneck_s,
            "bottleneck_stage": r.cost.bottleneck_stage + 1,
            "latency_s": r.latency_s,
            "throughput_per_s": r.cost.throughput_per_s,
            "param_balance": {"bottleneck_s": b.bottleneck_s, "latency_s": b.latency_s},
            "speedup_vs_param_balance": run.speedup_vs_param_balance,
            "stage_of": {str(graph.ids[v]): s + 1 for v, s in enumerate(r.stage_of)},
            "stages": _stage_dicts(graph, r),
        })
        if r.edges_kept_before_fixup is not None:  # the learned solver: how valid its raw output was
            doc["runs"][-1]["before_fixup"] = {"valid": r.valid_before_fixup,
                                               "edges_kept": r.edges_kept_before_fixup}
    return doc


def render_json(doc: dict[str, Any]) -> str:
    """``pipeline.json`` text: 2-space indent, keys in insertion order, trailing newline."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def render_plot(graph: PipelineGraph, runs: Sequence[PipelineRun]) -> bytes:
    """A stage timeline (Gantt) per stage count: each stage's T_s split into compute, off-chip,
    link and hop, with the bottleneck marked. Deterministic SVG bytes."""
    import matplotlib  # noqa: PLC0415  (heavy, only when plotting)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    colors = {"compute": "#4c72b0", "off-chip": "#dd8452", "link": "#55a868", "hop": "#8c8c8c"}
    with matplotlib.rc_context({"svg.hashsalt": "rlsched-pipeline", "svg.fonttype": "path"}):
        fig, axes = plt.subplots(len(runs), 1, figsize=(8, 1.2 + 0.45 * sum(r.result.k for r in runs)),
                                 squeeze=False)
        for ax, run in zip(axes[:, 0], runs):
            r = run.result
            for s, st in enumerate(r.cost.stages):
                left = 0.0
                for label, val in (("compute", st.compute_s), ("off-chip", st.offchip_s),
                                   ("link", st.link_s), ("hop", st.hop_s)):
                    ax.barh(s, val * 1e3, left=left, color=colors[label],
                            label=label if s == 0 else None, height=0.6)
                    left += val * 1e3
            ax.axvline(r.bottleneck_s * 1e3, color="#c44e52", linestyle="--", linewidth=1,
                       label=f"bottleneck {r.bottleneck_s * 1e3:.3f} ms")
            ax.set_yticks(range(r.k), [f"stage {s + 1}" for s in range(r.k)])
            ax.invert_yaxis()
            ax.set_xlabel("time per inference (ms)")
            ax.set_title(f"{graph.name}, k = {r.k}, {r.solver} "
                         f"({run.speedup_vs_param_balance:.2f}x param-balance)", fontsize=9)
            ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    return buf.getvalue()
