"""Network totals, report.json/.md, the stdout summary, baseline comparison, and report.html
checked in real headless Chromium."""
from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import networkx as nx
import pytest

from rlsched_compile.emit._files import dumps_json
from rlsched_compile.emit.html import render_html
from rlsched_compile.emit.report import (DYNAMIC_COMPONENTS, STATIC_COMPONENTS, build_report, compare_reports,
                                         compute_totals, render_differences, render_markdown, render_summary)

from rlsched_compile.network import UnsupportedOp

from ._browser import check_page, find_chromium
from ._data import reference_schedules

TARGET, NETWORK, SCHEDULES = reference_schedules()
SETTINGS = {"objective": "energy", "strategy": "reference", "seed": 0, "budget": None, "batch": 1, "strict": False}


def make_report() -> dict:
    totals = compute_totals(SCHEDULES, TARGET, layers=len(SCHEDULES), unique_layers=len(SCHEDULES))
    return build_report(network=NETWORK, target=TARGET, settings=SETTINGS, schedules=SCHEDULES, failures=(),
                        totals=totals)


#: A hostile layer name: HTML, a table separator, a newline, a backtick, a Markdown link.
EVIL = "evil|<img src=x onerror=alert(1)>\n`code` [link](javascript:alert(1))"


def rich_report() -> dict:
    """The reference ResNet-50 with operators between layers, a skipped operator and a layer whose
    name is hostile."""
    g = nx.DiGraph()

    def node(name: str, op: str, shape: tuple[int, ...], window: int | None = None, params: int = 0) -> None:
        g.add_node(name, op_type=op, name=name, macs=0, param_bytes=4 * params, param_elements=params,
                   window=window, output_shapes=(shape,), layer_index=None)

    node("input:x", "Input", (1, 64, 112, 112))
    node("pool", "MaxPool", (1, 64, 56, 56), window=9)
    node("relu", "Relu", (1, 64, 56, 56))
    node("bn", "BatchNormalization", (1, 64, 56, 56), params=256)
    for u, v, n in (("input:x", "pool", 64 * 112 * 112), ("pool", "relu", 64 * 56 * 56), ("relu", "bn", 64 * 56 * 56)):
        g.add_edge(u, v, tensor=u, tensors=(u,), shape=None, bytes=4 * n, elements=n)
    net = dataclasses.replace(NETWORK, graph=g, unsupported=(UnsupportedOp("ConvTranspose", 1, (EVIL,)),))
    schedules = list(SCHEDULES)
    schedules[1] = dataclasses.replace(schedules[1], layer=dataclasses.replace(schedules[1].layer, name=EVIL))
    totals = compute_totals(schedules, TARGET, layers=len(schedules), unique_layers=len(schedules))
    return build_report(network=net, target=TARGET, settings=SETTINGS, schedules=schedules, failures=(),
                        totals=totals)


def test_totals_add_up() -> None:
    r = make_report()
    t = r["totals"]
    assert t["energy_pj"] == pytest.approx(sum(s.energy_pj for s in SCHEDULES), rel=1e-12)
    assert t["cycles"] == sum(s.cycles for s in SCHEDULES)
    parts = t["energy_by_component_pj"]
    assert t["dynamic_energy_pj"] == pytest.approx(sum(parts[c] for c in DYNAMIC_COMPONENTS), rel=1e-12)
    assert t["static_energy_pj"] == pytest.approx(sum(parts[c] for c in STATIC_COMPONENTS), rel=1e-12)
    assert t["energy_pj"] == pytest.approx(t["dynamic_energy_pj"] + t["static_energy_pj"], rel=1e-12)
    assert t["macs"] == sum(s.layer.macs for s in SCHEDULES)
    # eyeriss: 168 MAC units; compute utilization = MACs / (168 x cycles)
    assert t["compute_utilization"] == pytest.approx(t["macs"] / (168 * t["cycles"]), rel=1e-9)
    weighted = sum(ly["mac_utilization"] * ly["cycles"] for ly in r["layers"]) / t["cycles"]
    assert t["mac_utilization"] == pytest.approx(weighted, rel=1e-9)
    # the reference's published ResNet-50 figure for its own tables (paper: 1.25E+10 pJ)
    assert t["energy_pj"] == pytest.approx(1.25e10, rel=0.01)


def test_report_round_trips_through_json() -> None:
    r = make_report()
    text = dumps_json(r)
    assert json.loads(text) == r
    assert dumps_json(make_report()) == text
    assert list(r) == ["schema_version", "tool", "model", "target", "settings", "complete", "totals", "coverage",
                       "unique_layers", "layers", "failures", "other_operators", "whole_model", "lower_bound",
                       "unfinished_layers"]


def test_summary_and_markdown() -> None:
    r = make_report()
    summary = render_summary(r)
    lines = summary.splitlines()
    assert lines[0] == "resnet50_reference on eyeriss (objective energy, 21 layers, 21 unique)"
    assert lines[1].split() == ["#", "layer", "count", "energy", "pJ", "cycles", "util", "%", "strategy"]
    total = next(ln for ln in lines if ln.split()[0] == "total")
    assert total.split()[1:4] == ["21", f"{r['totals']['energy_pj']:,.0f}", f"{r['totals']['cycles']:,.0f}"]
    md = render_markdown(r)
    assert md.startswith("# resnet50_reference on eyeriss\n")
    assert md.count("\n| ") > 21 + 9 + 8
    assert "[000_CONV_1.json](schedules/000_CONV_1.json)" in md


def test_report_json_keeps_layers_and_model_apart() -> None:
    r = rich_report()
    plain = make_report()
    # the scheduled layers' totals are what they always were: the operators do not leak into them
    assert r["totals"] == plain["totals"]
    o, w = r["other_operators"], r["whole_model"]
    assert [e["op_type"] for e in o["by_op_type"]] == ["MaxPool", "Relu", "BatchNormalization"]
    assert [e["count"] for e in o["by_op_type"]] == [1, 1, 1] and o["count"] == 3 and o["uncosted"] == {}
    assert o["model"] == {"ops_per_cycle": 168.0, "energy_per_op_pj": TARGET.mac_energy_pj,
                          "vector_unit_declared": False, "global_buffer_bytes": 100 * 1024,
                          "static_power_pj_per_cycle": pytest.approx(11.299469)}
    pool = o["by_op_type"][0]
    assert pool["vector_ops"] == 9 * 64 * 56 * 56
    # eyeriss GB is 100 KB: the pool's 1.6 MB input and 401 KB output live in DRAM
    assert pool["traffic_bytes"] == {"global_buffer": 0.0, "dram": 2.0 * (64 * 112 * 112 + 64 * 56 * 56)}
    assert o["total"]["energy_pj"] == pytest.approx(sum(e["energy_pj"] for e in o["by_op_type"]), rel=1e-12)
    assert w["energy_pj"] == pytest.approx(r["totals"]["energy_pj"] + o["total"]["energy_pj"], rel=1e-12)
    assert w["cycles"] == pytest.approx(r["totals"]["cycles"] + o["total"]["cycles"], rel=1e-12)
    assert w["static_energy_pj"] == pytest.approx(r["totals"]["static_energy_pj"] + o["total"]["static_energy_pj"])
    assert w["other_operators_energy_share"] == pytest.approx(o["total"]["energy_pj"] / w["energy_pj"], rel=1e-9)
    assert r["coverage"] == {"model_macs": r["totals"]["macs"], "scheduled_macs": r["totals"]["macs"],
                             "share": 1.0, "exact": False, "unscheduled_layer_macs": 0,
                             "skipped": [{"op_type": "ConvTranspose", "count": 1, "nodes": [EVIL], "macs": None}]}
    summary = r["target"]["summary"]
    assert [lv["level"] for lv in summary["levels"]] == ["dram", "global_buffer", "pe_array", "local_buffer"]
    assert summary["mac_units"] == 168 and summary["vector_unit"]["declared"] is False
    for ly in r["layers"]:
        assert ly["schedule_text"] == ly["schedule"][:-len(".json")] + ".txt"
        assert list(ly["traffic_bytes"]) == ["local_buffer", "global_buffer", "dram"]
        assert all(v > 0 for v in ly["traffic_bytes"].values())
    assert json.loads(dumps_json(r)) == r


def test_markdown_tells_the_whole_story() -> None:
    r = rich_report()
    md = render_markdown(r)
    t = r["totals"]
    assert (f"**Coverage:** 100.0% of {t['macs'] / 1e9:.4g} G MACs scheduled (at least; some skipped MACs "
            "unknown); 1 operator with MACs or weights not scheduled.") in md
    for heading in ("## Totals of the scheduled layers", "### What the utilization figures mean", "## Target",
                    "## Whole model: layers and the operators between them", "## Layers"):
        assert f"\n{heading}\n" in md
    assert f"Compute utilization ({100 * t['compute_utilization']:.3g}%)" in md
    assert f"Static energy is {100 * t['static_energy_pj'] / t['energy_pj']:.3g}% of the energy" in md
    assert "| global_buffer | 102,400 B shared |" in md and "| pe_array | 14 x 12 |" in md
    assert "| MaxPool | 1 | 1.80634e+06 |" in md
    assert "[000_CONV_1.txt](schedules/000_CONV_1.txt), [000_CONV_1.json](schedules/000_CONV_1.json)" in md
    # the hostile name is escaped everywhere: no raw HTML, no extra cell, no line break, no link
    assert "<img" not in md and not re.search(r"(?<!\\)\]\(javascript", md) and "\n`code`" not in md
    safe = r"evil\|&lt;img src=x onerror=alert(1)&gt; \`code\` \[link\](javascript:alert(1))"
    # the skipped-operator row, the unique-layer row, the layer row and the gap-to-lower-bound row
    assert md.count(safe) == 4
    cells = [ln.replace("\\|", "").count("|") for ln in md.splitlines() if "| Conv |" in ln]
    assert len(cells) == 21 and len(set(cells)) == 1


def _report_with(energy: list[float]) -> dict:
    r = copy.deepcopy(make_report())
    for ly, e in zip(r["layers"], energy):
        ly["energy_pj"] = e
    r["totals"]["energy_pj"] = sum(energy)
    return r


def test_compare_reports() -> None:
    n = len(SCHEDULES)
    base = _report_with([100.0] * n)
    same = compare_reports(base, copy.deepcopy(base), max_regression_pct=0)
    assert same == []
    worse = _report_with([110.0] + [100.0] * (n - 1))
    diffs = compare_reports(base, worse, max_regression_pct=5)
    assert [(d.scope, d.metric, d.regression) for d in diffs] == [
        ("total", "energy_pj", False), ("layer 0 CONV_1", "energy_pj", True)]
    assert diffs[1].change_pct == pytest.approx(10.0)
    assert diffs[0].change_pct == pytest.approx(10 / n)
    # exactly at the threshold is allowed; improvements are never regressions
    assert not any(d.regression for d in compare_reports(base, worse, max_regression_pct=10.0))
    assert not any(d.regression for d in compare_reports(worse, base, max_regression_pct=0))
    # a layer that disappeared is listed, not counted
    fewer = copy.deepcopy(base)
    fewer["layers"] = fewer["layers"][:-1]
    diffs = compare_reports(base, fewer, max_regression_pct=0)
    assert [(d.scope.split()[0], d.new, d.regression) for d in diffs] == [("layer", None, False)] * 2
    text = render_differences(compare_reports(base, worse, max_regression_pct=5), max_regression_pct=5)
    assert "+10.00%" in text and text.rstrip().endswith("baseline: 1 regression(s) above 5%")


def test_html_is_self_contained_and_deterministic() -> None:
    page = render_html(make_report())
    assert page == render_html(make_report())
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "src=" not in page and "@import" not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * 5
    for plot in ("plot-energy", "plot-cycles", "plot-utilization", "plot-traffic", "plot-share"):
        assert f'id="{plot}"' in page


def test_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    binary = find_chromium()
    assert binary is not None, "headless Chromium is needed for this test: apt-get install -y chromium"
    r = rich_report()
    page = tmp_path / "report.html"
    page.write_text(render_html(r), encoding="utf-8")
    probe = """JSON.stringify({
      title: document.title,
      plots: Array.from(document.querySelectorAll('svg.plot')).map(s => {
        const box = s.getBoundingClientRect();
        const bars = Array.from(s.querySelectorAll('rect.bar')).map(b => b.getBoundingClientRect());
        const labels = Array.from(s.querySelectorAll('text.xlabel'));
        const inside = labels.filter(t => { const b = t.getBoundingClientRect();
          return b.left >= box.left - 0.5 && b.right <= box.right + 0.5 && b.top >= box.top - 0.5
                 && b.bottom <= box.bottom + 0.5 && b.width > 0 && b.height > 0; }).length;
        return {id: s.id, width: box.width, height: box.height, bars: bars.length,
                visible_bars: bars.filter(b => b.width > 0 && b.height > 0).length,
                columns: new Set(bars.map(b => Math.round(b.x))).size,
                labels: labels.map(t => t.querySelector('title').textContent),
                shown: labels.map(t => t.lastChild.textContent), labels_inside: inside};
      }),
      coverage: document.getElementById('coverage').textContent,
      skipped: Array.from(document.querySelectorAll('#skipped td')).map(td => td.textContent),
      story: Array.from(document.querySelectorAll('#utilization-story li')).map(li => li.textContent),
      target_rows: Array.from(document.querySelectorAll('#target-summary tr')).slice(1).map(
        tr => Array.from(tr.cells).map(td => td.textContent)),
      whole: Array.from(document.querySelectorAll('#whole-model tr')).slice(1).map(tr => tr.cells[0].textContent),
      others: Array.from(document.querySelectorAll('#other-operators tr')).slice(1).map(tr => tr.cells[0].textContent),
      share: document.getElementById('other-share').textContent,
      layer_head: Array.from(document.querySelectorAll('#layers tr:first-child th')).map(th => th.textContent),
      layer_rows: document.querySelectorAll('#layers tr').length - 1,
      layer_names: Array.from(document.querySelectorAll('#layers tr')).slice(1).map(tr => tr.cells[1].textContent),
      links: Array.from(document.querySelectorAll('#layers a.loopnest')).map(a => [a.getAttribute('href'), a.href]),
      images: document.querySelectorAll('img').length})"""
    result = check_page(binary, page.as_uri(), probe)
    assert result.console_errors == []
    doc = json.loads(result.value)
    assert doc["title"].startswith("resnet50_reference on eyeriss")
    plots = {p["id"]: p for p in doc["plots"]}
    assert list(plots) == ["plot-energy", "plot-cycles", "plot-utilization", "plot-traffic", "plot-share"]
    for p in plots.values():
        assert p["width"] > 300 and p["height"] > 150 and p["bars"] == p["visible_bars"] > 0
    n = len(r["layers"])
    # one column of bars per layer; stacked segments: at least MAC + one memory level each
    assert plots["plot-energy"]["columns"] == n and 2 * n <= plots["plot-energy"]["bars"] <= 8 * n
    assert plots["plot-cycles"]["bars"] == plots["plot-cycles"]["columns"] == n
    assert plots["plot-utilization"]["bars"] == n
    assert plots["plot-traffic"]["columns"] == n and 2 * n <= plots["plot-traffic"]["bars"] <= 3 * n
    assert 4 <= plots["plot-share"]["bars"] <= 8
    # x axes: every layer named under its bar, inside the plot; long names shortened, full in the tooltip
    names = [f"#{ly['index']} {ly['name']}" for ly in r["layers"]]
    for pid in ("plot-energy", "plot-cycles", "plot-utilization", "plot-traffic"):
        p = plots[pid]
        assert p["labels"] == names and p["labels_inside"] == n, pid
        assert p["shown"][0] == "#0 CONV_1" and p["shown"][1].endswith("\u2026") and len(p["shown"][1]) == 24
    # coverage, skipped operators (the hostile name as text, never as markup), the story, the target
    t = r["totals"]
    assert doc["coverage"].startswith(f"Coverage: 100.0% of {t['macs'] / 1e9:.4g} G MACs scheduled")
    assert doc["skipped"] == [EVIL, "ConvTranspose", "1", "unknown"] and doc["images"] == 0
    assert len(doc["story"]) == 3 and doc["story"][0].startswith("MAC utilization (")
    assert f"{100 * t['compute_utilization']:.3g}%" in doc["story"][1]
    assert f"Static energy is {100 * t['static_energy_pj'] / t['energy_pj']:.3g}%" in doc["story"][2]
    assert [row[:3] for row in doc["target_rows"]] == [
        ["dram", "temporal", "-"], ["global_buffer", "temporal", "102,400 B shared"],
        ["pe_array", "spatial", "14 x 12"], ["local_buffer", "temporal", "24 / 448 / 48 B (I/W/O)"]]
    assert doc["whole"] == ["scheduled layers", "operators between layers", "whole model"]
    assert doc["others"] == ["MaxPool", "Relu", "BatchNormalization"]
    share = 100 * r["whole_model"]["other_operators_energy_share"]
    assert f"{share:.3g}% of the whole model's energy" in doc["share"]
    # per-level traffic per layer and relative links to the loop nests (they resolve beside the page)
    assert ["local buffer bytes", "global buffer bytes", "DRAM bytes"] == doc["layer_head"][6:9]
    assert doc["layer_rows"] == n and doc["layer_names"][1] == EVIL
    assert [h for h, _ in doc["links"]] == [ly["schedule_text"] for ly in r["layers"]]
    assert all(url == (tmp_path / h).as_uri() for h, url in doc["links"])


def test_browser_check_catches_console_errors(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error is reported."""
    binary = find_chromium()
    assert binary is not None, "headless Chromium is needed for this test: apt-get install -y chromium"
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); missingFn();</script></body></html>")
    result = check_page(binary, bad.as_uri(), "1 + 1")
    assert result.value == 2
    assert "boom" in result.console_errors and any("Uncaught" in e for e in result.console_errors)


def test_report_gives_the_gap_to_the_lower_bound() -> None:
    """report.json/md/html carry each layer's and the network's lower bounds and gaps (issue 14)."""
    r = make_report()
    lb = r["lower_bound"]
    assert 0 < lb["energy_pj"] <= r["totals"]["energy_pj"]
    assert 0 < lb["cycles"] <= r["totals"]["cycles"]
    assert lb["energy_gap"] == pytest.approx(r["totals"]["energy_pj"] / lb["energy_pj"] - 1, rel=1e-6)
    for ly in r["layers"]:
        assert 0 < ly["energy_lower_bound_pj"] <= ly["energy_pj"]
        assert 0 < ly["cycles_lower_bound"] <= ly["cycles"]
        assert ly["energy_gap_to_bound"] >= 0 and ly["cycles_gap_to_bound"] >= 0
    md = render_markdown(r)
    assert "## Gap to lower bound" in md and "| network |" in md
    assert "Gap to lower bound</h2>" in render_html(r)
    assert r["unfinished_layers"] == [ly["index"] for ly in r["layers"] if not ly["finished"]]
