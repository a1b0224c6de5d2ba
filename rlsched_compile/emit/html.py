"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no external assets)
with the network report's plots:

* energy per layer, stacked by component (dynamic and static parts of MAC, LB, GB, DRAM);
* cycles per layer;
* MAC-unit utilization per layer;
* the share of each energy component in the network total.

The SVG is generated here, deterministically (fixed formatting of every coordinate), so the same
report gives the same bytes.
"""
from __future__ import annotations

import html
import logging
import math
from typing import Any, Mapping, Sequence

from .report import DYNAMIC_COMPONENTS, STATIC_COMPONENTS

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

_BAR_W = 12.0
_PLOT_H = 220.0
_LEFT = 78.0
_TOP = 16.0
_BOTTOM = 24.0


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
    label_step = 1 if n <= 12 or bar_w >= 24 else (2 if n <= 60 else 5)
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
        if i % label_step == 0:
            out.append(f'<text class="xtick" x="{_f(x + bar_w / 2 - 1)}" y="{_f(_TOP + _PLOT_H + 14)}" '
                       f'text-anchor="middle">{i}</text>')
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
svg.plot text{font-size:11px;fill:#333}svg.plot .xtick{font-size:9px}
svg.plot .grid{stroke:#e4e4e4;stroke-width:1}svg.plot .axisline{stroke:#555;stroke-width:1}
.legend{font-size:.85em;margin:6px 0}.key{margin-right:14px;white-space:nowrap}
.sw{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:middle}
.warn{background:#fff3cd;border:1px solid #e0c36c;padding:8px}
""".strip()


def render_html(report: Mapping[str, Any]) -> str:
    """The complete ``report.html`` document for a report dict (see :mod:`.report`)."""
    t = report["totals"]
    layers: list[Mapping[str, Any]] = report["layers"]
    labels = [f"#{ly['index']} {ly['name']}" for ly in layers]
    energy = [[(LABELS[c], ly["energy_by_component_pj"][c], COLORS[c]) for c in COMPONENTS] for ly in layers]
    cycles = [[("cycles", ly["cycles"], "#4e79a7")] for ly in layers]
    util = [[("MAC utilization %", 100 * ly["mac_utilization"], "#59a14f")] for ly in layers]
    title = f"{report['model']['name']} on {report['target']['name']}"
    s = report["settings"]
    esc = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{esc(title)} · rlsched_compile report</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>rlsched_compile {esc(str(report['tool']['version']))}; objective <b>{esc(str(s['objective']))}</b>, "
        f"strategy <b>{esc(str(s['strategy']))}</b>, seed {esc(str(s['seed']))}, batch {esc(str(report['model']['batch']))}."
        f"<br>model sha256 <code>{esc(report['model']['sha256'])}</code><br>target sha256 "
        f"<code>{esc(report['target']['sha256'])}</code></p>",
    ]
    if not report["complete"]:
        parts.append('<p class="warn">Incomplete: no valid schedule for '
                     + ", ".join(f"<code>{esc(f['name'])}</code> ({esc(f['message'])})" for f in report["failures"])
                     + ".</p>")
    summary_rows = [
        ("energy (pJ)", f"{t['energy_pj']:.6g}"), ("dynamic energy (pJ)", f"{t['dynamic_energy_pj']:.6g}"),
        ("static energy (pJ)", f"{t['static_energy_pj']:.6g}"), ("cycles", f"{t['cycles']:.6g}"),
        ("MACs", f"{t['macs']:,}"), ("energy per MAC (pJ)", f"{t['energy_per_mac_pj']:.4g}"),
        ("MAC utilization (cycle-weighted)", f"{100 * t['mac_utilization']:.1f}%"),
        ("PE utilization (cycle-weighted)", f"{100 * t['pe_utilization']:.1f}%"),
        ("compute utilization", f"{100 * t['compute_utilization']:.1f}%"),
        ("layers / unique", f"{t['layers']} / {t['unique_layers']}"),
    ]
    parts.append("<h2>Totals</h2><table>" + "".join(
        f'<tr><th>{esc(k)}</th><td class="n">{esc(v)}</td></tr>' for k, v in summary_rows) + "</table>")
    parts += [
        "<h2>Energy per layer, by component</h2>", _legend(),
        f'<div class="scroll">{_bars_svg("plot-energy", "energy per layer (pJ), stacked by component", "pJ", labels, energy)}</div>',
        "<h2>Cycles per layer</h2>",
        f'<div class="scroll">{_bars_svg("plot-cycles", "cycles per layer", "cycles", labels, cycles)}</div>',
        "<h2>MAC-unit utilization per layer</h2>",
        f'<div class="scroll">{_bars_svg("plot-utilization", "MAC-unit utilization per layer (%)", "%", labels, util, y_max=100.0)}</div>',
        "<h2>Share of each component in the total energy</h2>",
        _share_svg("plot-share", t["energy_by_component_pj"], t["energy_pj"]),
        "<h2>Layers</h2>",
        '<table><tr><th class="n">#</th><th>layer</th><th>op</th><th class="n">energy (pJ)</th>'
        '<th class="n">cycles</th><th class="n">util %</th><th>strategy</th><th>schedule</th></tr>',
    ]
    for ly in layers:
        parts.append(f'<tr><td class="n">{ly["index"]}</td><td>{esc(ly["name"])}</td><td>{esc(ly["op"])}</td>'
                     f'<td class="n">{ly["energy_pj"]:.6g}</td><td class="n">{ly["cycles"]:.6g}</td>'
                     f'<td class="n">{100 * ly["mac_utilization"]:.1f}</td><td>{esc(ly["strategy"])}</td>'
                     f'<td><a href="{esc(ly["schedule"])}">{esc(ly["schedule"].rsplit("/", 1)[-1])}</a></td></tr>')
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
