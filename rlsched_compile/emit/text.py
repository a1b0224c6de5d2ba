"""Plain-text renderers of the command line's stdout (``--format table``): the target list and a
target in detail, the zoo listing, a user schedule's evaluation, the pipeline pass's table and
the sweep's summary.

Each returns the whole text (lines ending in ``\\n``); the caller writes it. Names that come from
input data go through :func:`~rlsched_compile._sanitize.terminal_safe`. The compile summary lives
beside the report it summarises (:func:`rlsched_compile.emit.report.render_summary`).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .._sanitize import terminal_safe
from ..cost import ENERGY_COMPONENTS

if TYPE_CHECKING:
    from ..cost import Evaluation
    from ..layer import Layer
    from ..pipeline.graph import PipelineGraph
    from ..pipeline.report import PipelineRun
    from ..pipeline.target import PipelineTarget
    from ..sweep.spec import SweepSpec
    from ..targets import Target, TargetInfo


def render_columns(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, a dashed rule under the headers, no trailing blanks."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    return "".join("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() + "\n"
                   for cells in (headers, ["-" * w for w in widths], *rows))


def render_target_list(infos: Sequence[TargetInfo]) -> str:
    """``targets``: one row per shipped target (arrays, buffers, precision, clock)."""
    rows = [(i.name, f"{i.pe_array[0]}x{i.pe_array[1]}", f"{i.mac_array[0]}x{i.mac_array[1]}",
             f"{i.chip_array[0]}x{i.chip_array[1]}", i.local_buffer_bytes, i.global_buffer_bytes,
             str(i.precision_bits), f"{i.frequency_mhz:g}") for i in infos]
    headers = ("target", "PE array", "MACs/PE", "chips", "local buffer B (I/W/O)", "global buffer B",
               "bits", "MHz")
    return render_columns(headers, rows)


def render_target(t: Target) -> str:
    """``show-target``: one line per level, innermost first."""
    from ..targets import SpatialLevel

    lines = [f"target {terminal_safe(t.name)}  (sha256 {t.sha256})",
             f"  precision {t.precision_bits} bit, {t.frequency_mhz:g} MHz, MAC {t.mac_energy_pj:g} pJ "
             f"(static {t.mac_static_power_mw:g} mW)"]
    for role, lv in t.levels():
        if isinstance(lv, SpatialLevel):
            extra = ""
            if lv.allowed_x is not None or lv.allowed_y is not None:
                extra = f"  allowed x={list(lv.allowed_x or [])} y={list(lv.allowed_y or [])}"
            lines.append(f"  {role:<14} spatial {lv.x}x{lv.y}{extra}")
        else:
            cap = lv.capacity.to_dict() if lv.capacity is not None else "-"
            options = lv.dataflow_options
            df = "[" + ", ".join(options) + "]" if options else (lv.dataflow or "-")
            lines.append(
                f"  {role:<14} dataflow {df}  capacity B {cap}  bypass "
                f"{list(lv.bypass) or '-'}  energy pJ {lv.access_energy_pj.to_dict()}  "
                f"static mW {lv.static_power_mw.to_dict()}  cycles {lv.access_cycles.to_dict()}  "
                f"bandwidth {lv.bandwidth_bits_per_cycle} bit/cycle")
    return "\n".join(lines) + "\n"


def render_evaluation(layer: Layer, target: Target, ev: Evaluation) -> str:
    """``evaluate``: the verdict line, then (when valid) totals and the energy and cycle components."""
    head = f"layer {terminal_safe(layer.name)} on {terminal_safe(target.name)}: "
    if not ev.valid:
        return head + f"INVALID ({ev.invalid_reason})\n"
    assert ev.energy_by_component_pj is not None and ev.cycles_by_component is not None
    lines = [head + "valid\n", f"energy {ev.energy_pj:.6g} pJ  cycles {ev.cycles:.6g}  EDP {ev.edp:.6g}\n"]
    lines += [f"  {k:<22} {ev.energy_by_component_pj[k]:.6g} pJ\n" for k in ENERGY_COMPONENTS]
    lines += [f"  {k:<22} {v:.6g} cycles\n" for k, v in ev.cycles_by_component.items()]
    return "".join(lines)


def _ops_text(graph: PipelineGraph, nodes: Sequence[int], limit: int = 4) -> str:
    names = [terminal_safe(graph.names[v]) for v in nodes]
    shown = ", ".join(names[:limit])
    return shown + (f", ... (+{len(names) - limit})" if len(names) > limit else "")


def render_pipeline_table(graph: PipelineGraph, target: PipelineTarget, runs: Sequence[PipelineRun]) -> str:
    """``pipeline``: one block per stage count, one row per stage."""
    lines = [f"{terminal_safe(graph.name)} on {terminal_safe(target.name)}: {graph.n} operators, "
             f"{len(graph.edges)} edges"]
    headers = ("stage", "ops", "T_s (ms)", "compute (ms)", "params (B)", "off-chip (B)",
               "link in+out (B)", "operators")
    for run in runs:
        r, b = run.result, run.baseline
        proof = {True: "optimal", False: "not proven optimal", None: "heuristic"}[r.optimal]
        lines.append("")
        lines.append(f"k = {r.k}, solver {r.solver} ({r.method}, {proof}), {r.runtime_s * 1e3:.1f} ms")
        rows = []
        for s, st in enumerate(r.cost.stages):
            mark = " *" if s == r.cost.bottleneck_stage else ""
            rows.append((f"{s + 1}{mark}", str(len(st.nodes)), f"{st.total_s * 1e3:.4f}",
                         f"{st.compute_s * 1e3:.4f}", f"{st.param_bytes:,}", f"{st.offchip_bytes:,}",
                         f"{st.in_link_bytes + st.out_link_bytes:,}", _ops_text(graph, st.nodes)))
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

        def fmt(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) if i in (0, len(cells) - 1) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))

        lines.append(fmt(headers).rstrip())
        lines.extend(fmt(row).rstrip() for row in rows)
        lines.append(f"bottleneck: stage {r.cost.bottleneck_stage + 1}, {r.bottleneck_s * 1e3:.4f} ms "
                     f"({r.cost.throughput_per_s:.1f} inferences/s); latency {r.latency_s * 1e3:.4f} ms")
        if r.lower_bound_s is not None and not r.optimal:
            lines.append(f"lower bound on the bottleneck: {r.lower_bound_s * 1e3:.4f} ms")
        if r.edges_kept_before_fixup is not None:
            lines.append(f"network output before the fix-up: {'valid' if r.valid_before_fixup else 'not valid'}, "
                         f"{r.edges_kept_before_fixup:.1%} of the edges respected")
        lines.append(f"param-balance: bottleneck {b.bottleneck_s * 1e3:.4f} ms, latency {b.latency_s * 1e3:.4f} ms"
                     f" -> {r.solver} is {run.speedup_vs_param_balance:.3f}x its throughput")
    return "\n".join(lines) + "\n"


def render_sweep_summary(spec: SweepSpec, rows: Sequence[Mapping[str, Any]], out: Path) -> str:
    """``sweep``: the count of results, the best point per model and objective, the output files."""
    from ..sweep.results import best_rows

    n_ok = sum(r["status"] == "ok" for r in rows)
    lines = [f"{len(rows)} results: {n_ok} ok, {len(rows) - n_ok} error(s)"]
    params = [p.name for p in spec.parameters]
    for model, obj, i in best_rows(spec, rows):
        if i is None:
            lines.append(f"best {model} / {obj}: no point compiled")
            continue
        r = rows[i]
        vals = ", ".join(f"{p}={r[p]}" for p in params)
        lines.append(f"best {model} / {obj}: {r['target']}{f' [{vals}]' if vals else ''}  "
                     f"{obj.metric} {r[obj.metric]:.6g}  (energy {r['energy_pj']:.6g} pJ, "
                     f"cycles {r['cycles']:.6g})")
    lines.append(f"outputs: {out}/results.csv, results.json, sweep.html")
    return "\n".join(lines) + "\n"
