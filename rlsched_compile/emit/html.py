"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no external assets)
with the network report's plots:

* energy per layer, stacked by component (dynamic and static parts of MAC, LB, GB, DRAM);
* cycles per layer;
* MAC-unit utilization per layer;
* bytes moved through each memory level per layer;
* the share of each energy component in the network total;

and the coverage of the model's MACs, the target's levels, what the utilization figures mean
(with the static-energy share), the whole model's totals with the operators between the layers,
and a table of every layer with its traffic and links to its schedule files. Every plot's x axis
names the layers (rotated, shortened to :data:`LABEL_CHARS` characters; the full name is the
label's tooltip and is in the layer table).

The SVG is generated here, deterministically (fixed formatting of every coordinate), so the same
report gives the same bytes.
"""
from __future__ import annotations

import html
import logging
import math
from typing import Any, Mapping, Sequence

from ._escape import html_text
from .report import (DYNAMIC_COMPONENTS, STATIC_COMPONENTS, coverage_sentence, flows_text, level_text,
                     skipped_nodes_text, utilization_story)

logger = logging.getLogger(__name__)

COMPONENTS: tuple[str, ...] = DYNAMIC_COMPONENTS + STATIC_COMPONENTS
#: One colour per component (dynamic: saturated, static: light of the same hue).
COLORS: dict[str, str] = {
    "mac_energy": "#4e79a7", "lb_energy": "#f28e2b", "gb_energy": "#59a14f", "dram_energy": "#e15759",
    "mac_static": "#a0bcd8", "lb_static": "#f9c89b", "gb_static": "#a8d49f", "dram_static": "#f2a6a7",
}
LABELS: dict[str, str] = {
    "mac_energy": "MAC dynamic", "lb_energy": "local buffer dynamic", "gb_energy": "global buffer dynamic",
    "dram_energy": "DRAM dynamic", "mac_static": "MAC static", "lb_static": "local buffer static",
    "gb_static": "global buffer static", "dram_static": "DRAM static",
}

#: Memory levels of the traffic plot, with their colours and labels.
TRAFFIC_COLORS: dict[str, str] = {"local_buffer": "#f28e2b", "global_buffer": "#59a14f", "dram": "#e15759"}
TRAFFIC_LABELS: dict[str, str] = {"local_buffer": "local buffer", "global_buffer": "global buffer",
                                  "dram": "DRAM"}
#: Characters of a layer name shown under a bar (the rest is in the tooltip).
LABEL_CHARS: int = 24

_BAR_W = 12.0
_PLOT_H = 220.0
_LEFT = 78.0
_TOP = 16.0
_BOTTOM = 128.0


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "\u2026"


def _f(x: float) -> str:
    """Coordinates with two decimals, no negative zero."""
    s = f"{x:.2f}"
    return "0.00" if s == "-0.00" else s


def _nice_axis(v: float) -> tuple[float, int]:
    """(axis maximum, number of grid intervals) with round tick steps (1, 2, 2.5 or 5 x 10^n)."""
    if v <= 0 or not math.isfinite(v):
        return 1.0, 4
    raw = v / 4
    exp = math.floor(math.log10(raw))
    step = next(m * 10 ** exp for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * 10 ** exp >= raw)
    n = max(1, math.ceil(v / step - 1e-9))
    return step * n, n


def _tick_label(v: float) -> str:
    if v == 0:
        return "0"
    exp = math.floor(math.log10(abs(v)))
    if -3 <= exp < 5:
        return f"{v:g}"
    return f"{v:.3g}".replace("e+0", "e").replace("e+", "e")


def _bars_svg(plot_id: str, title: str, unit: str, labels: Sequence[str],
              stacks: Sequence[Sequence[tuple[str, float, str]]], *, y_max: float | None = None) -> str:
    """A (stacked) bar chart. ``stacks[i]`` is a list of (series, value, colour) for bar i."""
    n = len(stacks)
    bar_w = max(_BAR_W, min(40.0, 700.0 / max(n, 1)))
    top_value = max((sum(v for _, v, _ in st) for st in stacks), default=0.0)
    ymax, intervals = (y_max, 4) if y_max is not None else _nice_axis(top_value)
    width = _LEFT + n * bar_w + 20
    height = _TOP + _PLOT_H + _BOTTOM
    out = [f'<svg id="{plot_id}" class="plot" xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" '
           f'height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
           f'aria-label="{html.escape(title)}">',
           f"<title>{html.escape(title)}</title>"]
    for i in range(intervals + 1):
        v = ymax * i / intervals
        y = _TOP + _PLOT_H - _PLOT_H * i / intervals
        out.append(f'<line class="grid" x1="{_f(_LEFT)}" y1="{_f(y)}" x2="{_f(width - 10)}" y2="{_f(y)}"/>')
        out.append(f'<text class="tick" x="{_f(_LEFT - 6)}" y="{_f(y + 4)}" text-anchor="end">'
                   f"{html.escape(_tick_label(v))}</text>")
    out.append(f'<text class="axis" x="12" y="{_f(_TOP + _PLOT_H / 2)}" text-anchor="middle" '
               f'transform="rotate(-90 12 {_f(_TOP + _PLOT_H / 2)})">{html.escape(unit)}</text>')
    for i, (label, stack) in enumerate(zip(labels, stacks)):
        x = _LEFT + i * bar_w + 1
        base = 0.0
        for series, value, color in stack:
            h = _PLOT_H * value / ymax
            if h < 0.01:  # would round to an invisible 0.00 px segment
                continue
            y = _TOP + _PLOT_H - _PLOT_H * (base + value) / ymax
            out.append(f'<rect class="bar" x="{_f(x)}" y="{_f(y)}" width="{_f(bar_w - 2)}" height="{_f(h)}" '
                       f'fill="{color}"><title>{html.escape(label)}: {html.escape(series)} {value:.6g}</title></rect>')
            base += value
        lx, ly = x + bar_w / 2 + 2, _TOP + _PLOT_H + 10
        out.append(f'<text class="xlabel" x="{_f(lx)}" y="{_f(ly)}" text-anchor="end" '
                   f'transform="rotate(-60 {_f(lx)} {_f(ly)})"><title>{html.escape(label)}</title>'
                   f"{html.escape(_short(label))}</text>")
    out.append(f'<line class="axisline" x1="{_f(_LEFT)}" y1="{_f(_TOP + _PLOT_H)}" x2="{_f(width - 10)}" '
               f'y2="{_f(_TOP + _PLOT_H)}"/>')
    out.append("</svg>")
    return "\n".join(out)


def _share_svg(plot_id: str, totals: Mapping[str, float], total: float) -> str:
    """One horizontal 100% bar with the share of each component, and labelled legend rows."""
    width, bar_h = 720.0, 36.0
    rows = [(c, totals.get(c, 0.0)) for c in COMPONENTS]
    height = 20 + bar_h + 16 + 20 * len(rows)
    out = [f'<svg id="{plot_id}" class="plot" xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" '
           f'height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
           f'aria-label="share of each energy component">',
           "<title>share of each energy component in the network total</title>"]
    x = 10.0
    span = width - 20
    for comp, value in rows:
        share = value / total if total > 0 else 0.0
        w = span * share
        if w >= 0.01:
            out.append(f'<rect class="bar" x="{_f(x)}" y="10.00" width="{_f(w)}" height="{_f(bar_h)}" '
                       f'fill="{COLORS[comp]}"><title>{LABELS[comp]}: {100 * share:.2f}%</title></rect>')
        x += w
    for i, (comp, value) in enumerate(rows):
        share = value / total if total > 0 else 0.0
        y = 20 + bar_h + 16 + 20 * i
        out.append(f'<rect class="swatch" x="10.00" y="{_f(y - 11)}" width="14.00" height="14.00" '
                   f'fill="{COLORS[comp]}"/>')
        out.append(f'<text class="legend" x="32.00" y="{_f(y)}">{LABELS[comp]}: {100 * share:.2f}% '
                   f"({value:.4g} pJ)</text>")
    out.append("</svg>")
    return "\n".join(out)


def _legend() -> str:
    items = "".join(f'<span class="key"><span class="sw" style="background:{COLORS[c]}"></span>'
                    f"{LABELS[c]}</span>" for c in COMPONENTS)
    return f'<div class="legend">{items}</div>'


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px}
td.n,th.n{text-align:right}
.scroll{overflow-x:auto;border:1px solid #eee;padding:4px}
svg.plot text{font-size:11px;fill:#333}svg.plot .xlabel{font-size:9px}
.note{max-width:900px;line-height:1.45}
svg.plot .grid{stroke:#e4e4e4;stroke-width:1}svg.plot .axisline{stroke:#555;stroke-width:1}
.legend{font-size:.85em;margin:6px 0}.key{margin-right:14px;white-space:nowrap}
.sw{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:middle}
.warn{background:#fff3cd;border:1px solid #e0c36c;padding:8px}
""".strip()


def _table_html(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]], *, table_id: str) -> str:
    """A table; ``headers`` are (text, numeric); cells are already-escaped HTML."""
    def cls(num: bool) -> str:
        return ' class="n"' if num else ""

    head = "".join(f"<th{cls(num)}>{html_text(h)}</th>" for h, num in headers)
    body = "".join("<tr>" + "".join(f"<td{cls(num)}>{c}</td>" for c, (_, num) in zip(r, headers)) + "</tr>"
                   for r in rows)
    return f'<table id="{table_id}"><tr>{head}</tr>{body}</table>'


def _coverage_html(report: Mapping[str, Any]) -> list[str]:
    c = report["coverage"]
    parts = [f'<p id="coverage"><b>Coverage:</b> {html_text(coverage_sentence(report))}.</p>']
    if c["skipped"]:
        rows = [(", ".join(html_text(n) for n in skipped_nodes_text(sk["nodes"])), html_text(sk["op_type"]),
                 str(sk["count"]), "unknown" if sk["macs"] is None else f"{sk['macs']:,}") for sk in c["skipped"]]
        parts.append(_table_html((("skipped operators", False), ("op type", False), ("count", True), ("MACs", True)),
                                 rows, table_id="skipped"))
    return parts


def _target_html(report: Mapping[str, Any]) -> list[str]:
    ts = report["target"]["summary"]
    vu = ts["vector_unit"]
    rows = []
    for lv in ts["levels"]:
        size, details = level_text(lv)
        rows.append((html_text(lv["level"]), html_text(lv["type"]), html_text(size), html_text(details)))
    return [
        "<h2>Target</h2>",
        f'<p class="note">{html_text(report["target"]["name"])}: {ts["precision_bits"]}-bit data, '
        f'{ts["frequency_mhz"]:g} MHz, {ts["mac_units"]:,} MAC units at {ts["mac_energy_pj"]:g} pJ/MAC, leakage '
        f'{ts["static_power_pj_per_cycle"]:.6g} pJ/cycle; vector unit (operators between layers) '
        f'{vu["ops_per_cycle"]:g} ops/cycle at {vu["energy_per_op_pj"]:g} pJ/op '
        f'({"declared" if vu["declared"] else "default"}). Levels, outermost first:</p>',
        _table_html((("level", False), ("kind", False), ("size", False), ("details", False)), rows,
                    table_id="target-summary"),
    ]


def _whole_model_html(report: Mapping[str, Any]) -> list[str]:
    w, t, o = report["whole_model"], report["totals"], report["other_operators"]
    ot = o["total"]

    def row(name: str, d: Mapping[str, Any]) -> tuple[str, ...]:
        return (html_text(name), f"{d['energy_pj']:.6g}", f"{d['dynamic_energy_pj']:.6g}",
                f"{d['static_energy_pj']:.6g}", f"{d['cycles']:.6g}")

    parts = [
        "<h2>Whole model: layers and the operators between them</h2>",
        f'<p class="note" id="other-share">The totals above are the scheduled layers\' (what the paper\'s tables '
        f"compare). The {o['count']} operators between the layers (pooling, activations, normalisation, data "
        "movement, ...) cost their tensor traffic at the level the tensor fits in and their vector-unit "
        f"operations: <b>{100 * w['other_operators_energy_share']:.3g}%</b> of the whole model's energy and "
        f"<b>{100 * w['other_operators_cycle_share']:.3g}%</b> of its cycles.</p>",
        _table_html((("", False), ("energy (pJ)", True), ("dynamic (pJ)", True), ("static (pJ)", True),
                     ("cycles", True)),
                    [row("scheduled layers", t), row("operators between layers", ot), row("whole model", w)],
                    table_id="whole-model"),
    ]
    if o["by_op_type"]:
        rows = [(html_text(e["op_type"]), str(e["count"]), f"{e['vector_ops']:.6g}",
                 f"{e['traffic_bytes']['global_buffer']:.6g}", f"{e['traffic_bytes']['dram']:.6g}",
                 f"{e['energy_pj']:.6g}", f"{e['cycles']:.6g}") for e in o["by_op_type"]]
        parts += ["<p>Operators between layers, by type:</p>",
                  _table_html((("op type", False), ("count", True), ("vector ops", True), ("GB bytes", True),
                               ("DRAM bytes", True), ("energy (pJ)", True), ("cycles", True)), rows,
                              table_id="other-operators")]
    if o["uncosted"]:
        parts.append("<p>Not costed (unknown shapes): "
                     + ", ".join(f"{html_text(k)} x{v}" for k, v in o["uncosted"].items()) + ".</p>")
    return parts


def render_html(report: Mapping[str, Any]) -> str:
    """The complete ``report.html`` document for a report dict (see :mod:`.report`)."""
    t = report["totals"]
    layers: list[Mapping[str, Any]] = report["layers"]
    labels = [f"#{ly['index']} {ly['name']}" for ly in layers]
    energy = [[(LABELS[c], ly["energy_by_component_pj"][c], COLORS[c]) for c in COMPONENTS] for ly in layers]
    cycles = [[("cycles", ly["cycles"], "#4e79a7")] for ly in layers]
    util = [[("MAC utilization %", 100 * ly["mac_utilization"], "#59a14f")] for ly in layers]
    levels = [b for b in TRAFFIC_COLORS if layers and b in layers[0]["traffic_bytes"]]
    traffic = [[(TRAFFIC_LABELS[b] + " bytes", ly["traffic_bytes"][b], TRAFFIC_COLORS[b]) for b in levels]
               for ly in layers]
    title = f"{report['model']['name']} on {report['target']['name']}"
    s = report["settings"]
    esc = html_text
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{esc(title)} · rlsched_compile report</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>rlsched_compile {esc(str(report['tool']['version']))}; objective <b>{esc(str(s['objective']))}</b>, "
        f"strategy <b>{esc(str(s['strategy']))}</b>, seed {esc(str(s['seed']))}, batch {esc(str(report['model']['batch']))}."
        f"<br>model sha256 <code>{esc(report['model']['sha256'])}</code><br>target sha256 "
        f"<code>{esc(report['target']['sha256'])}</code></p>",
    ]
    parts += _coverage_html(report)
    if not report["complete"]:
        parts.append('<p class="warn">Incomplete: no valid schedule for '
                     + ", ".join(f"<code>{esc(f['name'])}</code> ({esc(f['message'])})" for f in report["failures"])
                     + ".</p>")
    summary_rows = [
        ("energy (pJ)", f"{t['energy_pj']:.6g}"), ("dynamic energy (pJ)", f"{t['dynamic_energy_pj']:.6g}"),
        ("static energy (pJ)", f"{t['static_energy_pj']:.6g}"),
        ("static energy share", f"{100 * t['static_energy_pj'] / t['energy_pj']:.3g}%" if t["energy_pj"] else "-"),
        ("cycles", f"{t['cycles']:.6g}"),
        ("MACs", f"{t['macs']:,}"), ("energy per MAC (pJ)", f"{t['energy_per_mac_pj']:.4g}"),
        ("MAC utilization (cycle-weighted)", f"{100 * t['mac_utilization']:.1f}%"),
        ("PE utilization (cycle-weighted)", f"{100 * t['pe_utilization']:.1f}%"),
        ("compute utilization", f"{100 * t['compute_utilization']:.3g}%"),
        ("layers / unique", f"{t['layers']} / {t['unique_layers']}"),
    ]
    vs = t.get("versus_fixed_dataflows")
    if vs is not None:
        summary_rows += [("energy with fixed dataflows (pJ)", f"{vs['fixed_energy_pj']:.6g}"),
                         ("energy / fixed dataflows", f"{vs['energy_ratio']:.4f}"),
                         ("cycles with fixed dataflows", f"{vs['fixed_cycles']:.6g}"),
                         ("cycles / fixed dataflows", f"{vs['cycles_ratio']:.4f}")]
    parts.append("<h2>Totals of the scheduled layers</h2><table>" + "".join(
        f'<tr><th>{esc(k)}</th><td class="n">{esc(v)}</td></tr>' for k, v in summary_rows) + "</table>")
    parts += ["<h3>What the utilization figures mean</h3>", '<ul class="note" id="utilization-story">',
              *(f"<li>{esc(x)}</li>" for x in utilization_story(report)), "</ul>"]
    parts += _target_html(report)
    parts += _whole_model_html(report)
    parts += [
        "<h2>Energy per layer, by component</h2>", _legend(),
        f'<div class="scroll">{_bars_svg("plot-energy", "energy per layer (pJ), stacked by component", "pJ", labels, energy)}</div>',
        "<h2>Cycles per layer</h2>",
        f'<div class="scroll">{_bars_svg("plot-cycles", "cycles per layer", "cycles", labels, cycles)}</div>',
        "<h2>MAC-unit utilization per layer</h2>",
        f'<div class="scroll">{_bars_svg("plot-utilization", "MAC-unit utilization per layer (%)", "%", labels, util, y_max=100.0)}</div>',
        "<h2>Traffic per layer and memory level</h2>",
        '<p class="note">Bytes moved through each memory level: every access the energy counts (tiles sent inward '
        "and tiles filled from the next level out, in every active PE or chip), at "
        f"{report['target']['summary']['precision_bits']} bits per element.</p>",
        '<div class="legend">' + "".join(
            f'<span class="key"><span class="sw" style="background:{TRAFFIC_COLORS[b]}"></span>{TRAFFIC_LABELS[b]}</span>'
            for b in levels) + "</div>",
        f'<div class="scroll">{_bars_svg("plot-traffic", "bytes per layer, stacked by memory level", "bytes", labels, traffic)}</div>',
        "<h2>Share of each component in the total energy</h2>",
        _share_svg("plot-share", t["energy_by_component_pj"], t["energy_pj"]),
        "<h2>Layers</h2>",
        '<p class="note">Schedule: the loop nest (<code>.txt</code>) and the full schedule (<code>.json</code>), '
        "relative to this page.</p>",
        '<table id="layers"><tr><th class="n">#</th><th>layer</th><th>op</th><th class="n">energy (pJ)</th>'
        '<th class="n">cycles</th><th class="n">util %</th>'
        + "".join(f'<th class="n">{TRAFFIC_LABELS[b]} bytes</th>' for b in levels)
        + "<th>strategy</th>"
        + ('<th>dataflows (LB/GB)</th><th class="n">energy / fixed</th>' if vs is not None else "")
        + "<th>schedule</th></tr>",
    ]
    for ly in layers:
        df_cells = ""
        if vs is not None and "dataflows" in ly:
            ratio = ly["energy_pj"] / ly["fixed_energy_pj"] if ly["fixed_energy_pj"] else 1.0
            df_cells = f'<td>{esc(flows_text(ly["dataflows"]))}</td><td class="n">{ratio:.4f}</td>'
        parts.append(f'<tr><td class="n">{ly["index"]}</td><td>{esc(ly["name"])}</td><td>{esc(ly["op"])}</td>'
                     f'<td class="n">{ly["energy_pj"]:.6g}</td><td class="n">{ly["cycles"]:.6g}</td>'
                     f'<td class="n">{100 * ly["mac_utilization"]:.1f}</td>'
                     + "".join(f'<td class="n">{ly["traffic_bytes"][b]:.6g}</td>' for b in levels)
                     + f'<td>{esc(ly["strategy"])}</td>{df_cells}'
                     f'<td><a class="loopnest" href="{esc(ly["schedule_text"])}">{esc(ly["schedule_text"].rsplit("/", 1)[-1])}</a> '
                     f'<a href="{esc(ly["schedule"])}">json</a></td></tr>')
    parts.append("</table>")
    parts += _bound_sections(report)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _bound_sections(report: Mapping[str, Any]) -> list[str]:
    """The gap-to-lower-bound table and the stopped-at-budget list (nothing for old reports)."""
    esc = html.escape
    parts: list[str] = []
    lb = report.get("lower_bound")
    if lb:
        parts += ["<h2>Gap to lower bound</h2>",
                  f"<p>No valid schedule can cost less than the lower bound ({esc(lb['derivation'])}); the gap "
                  "bounds how far from optimal a schedule can be.</p>",
                  '<table><tr><th>scope</th><th class="n">energy bound (pJ)</th><th class="n">energy gap</th>'
                  '<th class="n">cycles bound</th><th class="n">cycles gap</th></tr>',
                  f'<tr><td>network</td><td class="n">{lb["energy_pj"]:.6g}</td>'
                  f'<td class="n">{100 * lb["energy_gap"]:.1f}%</td><td class="n">{lb["cycles"]:.6g}</td>'
                  f'<td class="n">{100 * lb["cycles_gap"]:.1f}%</td></tr>']
        for ly in report["layers"]:
            if "energy_lower_bound_pj" not in ly:
                continue
            parts.append(f'<tr><td>{ly["index"]} {esc(ly["name"])}</td>'
                         f'<td class="n">{ly["energy_lower_bound_pj"]:.6g}</td>'
                         f'<td class="n">{100 * ly["energy_gap_to_bound"]:.1f}%</td>'
                         f'<td class="n">{ly["cycles_lower_bound"]:.6g}</td>'
                         f'<td class="n">{100 * ly["cycles_gap_to_bound"]:.1f}%</td></tr>')
        parts.append("</table>")
    unfinished = report.get("unfinished_layers") or []
    if unfinished:
        names = {ly["index"]: ly["name"] for ly in report["layers"]}
        parts += ["<h2>Stopped at budget</h2>",
                  '<p class="warn">These layers\' searches stopped at their budget or time limit before covering '
                  "their space; their schedules are the best found so far:</p><ul>"]
        parts += [f"<li>{i} {esc(names.get(i, ''))}</li>" for i in unfinished]
        parts.append("</ul>")
    return parts
