"""Network totals, report.json/.md, the stdout summary, baseline comparison, and report.html
checked in real headless Chromium."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from rlsched_compile.emit._files import dumps_json
from rlsched_compile.emit.html import render_html
from rlsched_compile.emit.report import (DYNAMIC_COMPONENTS, STATIC_COMPONENTS, build_report, compare_reports,
                                         compute_totals, render_differences, render_markdown, render_summary)

from ._browser import check_page, find_chromium
from ._data import reference_schedules

TARGET, NETWORK, SCHEDULES = reference_schedules()
SETTINGS = {"objective": "energy", "strategy": "reference", "seed": 0, "budget": None, "batch": 1, "strict": False}


def make_report() -> dict:
    totals = compute_totals(SCHEDULES, TARGET, layers=len(SCHEDULES), unique_layers=len(SCHEDULES))
    return build_report(network=NETWORK, target=TARGET, settings=SETTINGS, schedules=SCHEDULES, failures=(),
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
    assert list(r) == ["schema_version", "tool", "model", "target", "settings", "complete", "totals",
                       "unique_layers", "layers", "failures", "lower_bound", "unfinished_layers"]


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
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * 4
    for plot in ("plot-energy", "plot-cycles", "plot-utilization", "plot-share"):
        assert f'id="{plot}"' in page


def test_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    binary = find_chromium()
    assert binary is not None, "headless Chromium is needed for this test: apt-get install -y chromium"
    r = make_report()
    page = tmp_path / "report.html"
    page.write_text(render_html(r), encoding="utf-8")
    probe = """JSON.stringify({
      title: document.title,
      plots: Array.from(document.querySelectorAll('svg.plot')).map(s => {
        const box = s.getBoundingClientRect();
        const bars = Array.from(s.querySelectorAll('rect.bar')).map(b => b.getBoundingClientRect());
        return {id: s.id, width: box.width, height: box.height, bars: bars.length,
                visible_bars: bars.filter(b => b.width > 0 && b.height > 0).length,
                columns: new Set(bars.map(b => Math.round(b.x))).size};
      })})"""
    result = check_page(binary, page.as_uri(), probe)
    assert result.console_errors == []
    doc = json.loads(result.value)
    assert doc["title"].startswith("resnet50_reference on eyeriss")
    plots = {p["id"]: p for p in doc["plots"]}
    assert list(plots) == ["plot-energy", "plot-cycles", "plot-utilization", "plot-share"]
    for p in plots.values():
        assert p["width"] > 300 and p["height"] > 150 and p["bars"] == p["visible_bars"] > 0
    n = len(r["layers"])
    # one column of bars per layer; stacked segments: at least MAC + one memory level each
    assert plots["plot-energy"]["columns"] == n and 2 * n <= plots["plot-energy"]["bars"] <= 8 * n
    assert plots["plot-cycles"]["bars"] == plots["plot-cycles"]["columns"] == n
    assert plots["plot-utilization"]["bars"] == n
    assert 4 <= plots["plot-share"]["bars"] <= 8


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
