"""``sweep.html``: one self-contained page (inline CSS and SVG, no scripts, no external assets):
per model, energy vs cycles of every compiled point with its Pareto front, the front's points,
and the best point per model and objective. Deterministic: the same rows give the same bytes."""
from __future__ import annotations

import html
import math
from typing import Any, Mapping, Sequence

from ..emit.html import _CSS, _f
from ..objective import Objective
from .points import cell as _cellv
from .results import best_rows, pareto_front
from .spec import SweepSpec

_W, _H = 640.0, 360.0
_L, _R, _T, _B = 86.0, 44.0, 16.0, 44.0

_EXTRA_CSS = """
svg.scatter text{font-size:11px;fill:#333}svg.scatter .grid{stroke:#e4e4e4;stroke-width:1}
svg.scatter .axisline{stroke:#555;stroke-width:1}svg.scatter .pt{fill:#9aa5b1;fill-opacity:.75}
svg.scatter .front{fill:#e15759;stroke:#7a1f20;stroke-width:.8}svg.scatter .frontline{fill:none;stroke:#e15759;stroke-width:1.5}
tr.best td{background:#eef6ee}.err{color:#a33}
""".strip()


def _fmt(v: float) -> str:
    return f"{v:.4g}"


class _Axis:
    """Maps values to pixels: logarithmic when the data spans 10x or more, else linear."""

    def __init__(self, lo: float, hi: float, p0: float, p1: float) -> None:
        self.p0, self.p1 = p0, p1
        self.log = lo > 0 and hi / lo >= 10
        if self.log:
            self.lo, self.hi = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
            if self.hi == self.lo:
                self.hi += 1
        else:
            span = hi - lo if hi > lo else max(abs(hi), 1.0)
            self.lo, self.hi = lo - 0.05 * span, hi + 0.05 * span

    def __call__(self, v: float) -> float:
        x = math.log10(v) if self.log else v
        return self.p0 + (self.p1 - self.p0) * (x - self.lo) / (self.hi - self.lo)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            return [(10.0 ** e, f"1e{e}") for e in range(int(self.lo), int(self.hi) + 1)]
        return [(self.lo + (self.hi - self.lo) * i / 4, _fmt(self.lo + (self.hi - self.lo) * i / 4))
                for i in range(5)]


def _scatter(plot_id: str, title: str, rows: Sequence[Mapping[str, Any]], idx: Sequence[int],
             front: Sequence[int], labels: Mapping[int, str]) -> str:
    energies = [rows[i]["energy_pj"] for i in idx]
    cycles = [rows[i]["cycles"] for i in idx]
    ax = _Axis(min(energies), max(energies), _L, _W - _R)
    ay = _Axis(min(cycles), max(cycles), _H - _B, _T)
    esc = html.escape
    out = [f'<svg id="{plot_id}" class="scatter" xmlns="http://www.w3.org/2000/svg" width="{_f(_W)}" '
           f'height="{_f(_H)}" viewBox="0 0 {_f(_W)} {_f(_H)}" role="img" aria-label="{esc(title)}">',
           f"<title>{esc(title)}</title>"]
    for v, text in ax.ticks():
        x = ax(v)
        out.append(f'<line class="grid" x1="{_f(x)}" y1="{_f(_T)}" x2="{_f(x)}" y2="{_f(_H - _B)}"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(_H - _B + 14)}" text-anchor="middle">{esc(text)}</text>')
    for v, text in ay.ticks():
        y = ay(v)
        out.append(f'<line class="grid" x1="{_f(_L)}" y1="{_f(y)}" x2="{_f(_W - _R)}" y2="{_f(y)}"/>')
        out.append(f'<text x="{_f(_L - 6)}" y="{_f(y + 4)}" text-anchor="end">{esc(text)}</text>')
    out.append(f'<line class="axisline" x1="{_f(_L)}" y1="{_f(_H - _B)}" x2="{_f(_W - _R)}" y2="{_f(_H - _B)}"/>')
    out.append(f'<line class="axisline" x1="{_f(_L)}" y1="{_f(_T)}" x2="{_f(_L)}" y2="{_f(_H - _B)}"/>')
    out.append(f'<text x="{_f((_L + _W - _R) / 2)}" y="{_f(_H - 8)}" text-anchor="middle">energy (pJ)'
               f'{" , log scale" if ax.log else ""}</text>')
    mid = (_T + _H - _B) / 2
    out.append(f'<text x="14" y="{_f(mid)}" text-anchor="middle" transform="rotate(-90 14 {_f(mid)})">cycles'
               f'{" , log scale" if ay.log else ""}</text>')
    if len(front) > 1:
        pts = " ".join(f"{_f(ax(rows[i]['energy_pj']))},{_f(ay(rows[i]['cycles']))}" for i in front)
        out.append(f'<polyline class="frontline" points="{pts}"/>')
    on_front = set(front)
    for i in idx:
        cls = "pt front" if i in on_front else "pt"
        r = rows[i]
        out.append(f'<circle class="{cls}" cx="{_f(ax(r["energy_pj"]))}" cy="{_f(ay(r["cycles"]))}" '
                   f'r="{"4.50" if i in on_front else "3.50"}"><title>{esc(labels[i])}: energy '
                   f'{_fmt(r["energy_pj"])} pJ, cycles {_fmt(r["cycles"])}</title></circle>')
    out.append("</svg>")
    return "\n".join(out)


def render_sweep_html(spec: SweepSpec, rows: Sequence[Mapping[str, Any]]) -> str:
    """The complete ``sweep.html`` document."""
    esc = html.escape
    params = [p.name for p in spec.parameters]

    def label(r: Mapping[str, Any]) -> str:
        vals = ", ".join(f"{p}={_cellv(r[p])}" for p in params)
        return f"{r['target']}" + (f" [{vals}]" if vals else "") + f", objective {r['objective']}"

    title = f"Sweep {spec.name}" if spec.name else "Sweep"
    n_ok = sum(r["status"] == "ok" for r in rows)
    n_err = len(rows) - n_ok
    s = spec.settings()
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{esc(title)} · rlsched_compile</title>", f"<style>{_CSS}\n{_EXTRA_CSS}</style>", "</head>",
             "<body>", f"<h1>{esc(title)}</h1>",
             f"<p>{len(rows)} results ({n_ok} ok, {n_err} error{'s' if n_err != 1 else ''}): "
             f"{len(spec.models)} model(s) x {len(rows) // max(1, len(spec.models) * len(spec.objectives))} target "
             f"point(s) x {len(spec.objectives)} objective(s); strategy <b>{esc(str(s['strategy']))}</b>, seed "
             f"{esc(str(s['seed']))}. Varied: {esc(', '.join(f'{p.name} ({p.level}.{p.field})' for p in spec.parameters) or 'nothing')}.</p>"]
    head = "".join(f"<th>{esc(p)}</th>" for p in params)
    parts.append("<h2>Best point per model and objective</h2>")
    parts.append(f'<table><tr><th>model</th><th>objective</th><th>target</th>{head}<th class="n">energy (pJ)</th>'
                 '<th class="n">cycles</th><th class="n">EDP</th><th class="n">MAC util %</th></tr>')
    for model, obj, i in best_rows(spec, rows):
        if i is None:
            parts.append(f'<tr><td>{esc(model)}</td><td>{esc(obj)}</td><td colspan="{len(params) + 5}" class="err">'
                         "no point compiled</td></tr>")
            continue
        r = rows[i]
        metric = Objective.parse(obj).metric
        cells = "".join(f"<td>{esc(_cellv(r[p]))}</td>" for p in params)
        nums = "".join(f'<td class="n">{"<b>" if m == metric else ""}{_fmt(r[m])}{"</b>" if m == metric else ""}</td>'
                       for m in ("energy_pj", "cycles", "edp"))
        parts.append(f'<tr class="best"><td>{esc(model)}</td><td>{esc(obj)}</td><td>{esc(r["target"])}</td>{cells}'
                     f'{nums}<td class="n">{100 * r["mac_utilization"]:.1f}</td></tr>')
    parts.append("</table>")
    for mi, m in enumerate(spec.models):
        idx = [i for i, r in enumerate(rows) if r["model"] == m.name and r["status"] == "ok"]
        parts.append(f"<h2>{esc(m.name)}: energy vs cycles</h2>")
        if not idx:
            parts.append('<p class="err">No point of this model compiled.</p>')
            continue
        sub = [rows[i] for i in idx]
        front = [idx[j] for j in pareto_front(sub)]
        labels = {i: label(rows[i]) for i in idx}
        parts.append(f"<p>{len(idx)} compiled points; {len(front)} on the Pareto front (red, lower-left is "
                     "better: no other point has both less energy and fewer cycles).</p>")
        parts.append(f'<div class="scroll">{_scatter(f"plot-pareto-{mi}", f"{m.name}: energy vs cycles", rows, idx, front, labels)}</div>')
        parts.append(f'<table class="front"><tr><th>target</th>{head}<th>objective</th><th class="n">energy (pJ)</th>'
                     '<th class="n">cycles</th><th class="n">EDP</th></tr>')
        for i in front:
            r = rows[i]
            cells = "".join(f"<td>{esc(_cellv(r[p]))}</td>" for p in params)
            parts.append(f'<tr><td>{esc(r["target"])}</td>{cells}<td>{esc(r["objective"])}</td>'
                         f'<td class="n">{_fmt(r["energy_pj"])}</td><td class="n">{_fmt(r["cycles"])}</td>'
                         f'<td class="n">{_fmt(r["edp"])}</td></tr>')
        parts.append("</table>")
    errors = [r for r in rows if r["status"] != "ok"]
    if errors:
        parts.append("<h2>Points that did not compile</h2>")
        parts.append(f"<table><tr><th>model</th><th>target</th>{head}<th>objective</th><th>error</th></tr>")
        for r in errors:
            cells = "".join(f"<td>{esc(_cellv(r[p]))}</td>" for p in params)
            parts.append(f'<tr><td>{esc(r["model"])}</td><td>{esc(r["target"])}</td>{cells}<td>{esc(r["objective"])}</td>'
                         f'<td class="err">{esc(r["message"])}</td></tr>')
        parts.append("</table>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"

