"""``--dataflow fixed|flexible``: fixed outputs unchanged, flexible outputs and report, the
evaluate round trip, the cache key, option errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsched_compile import cli, compile_model
from rlsched_compile.errors import RlschedError

from ._support import out_files

pytestmark = pytest.mark.usefixtures("cache_dir")


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fixed_is_the_default_and_adds_nothing_to_the_report(tiny_model: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", a, "--jobs", "1", "--search", "row-sweep")[0] == 0
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", b, "--jobs", "1", "--search", "row-sweep",
               "--dataflow", "fixed", "--no-cache")[0] == 0
    assert out_files(a) == out_files(b)
    report = json.loads((a / "report.json").read_text())
    assert "dataflow" not in report["settings"] and "versus_fixed_dataflows" not in report["totals"]
    assert all("dataflows" not in ly for ly in report["layers"])
    assert "dataflows (LB/GB)" not in (a / "report.md").read_text()
    sched = json.loads((a / "schedules" / "000_conv0.json").read_text())
    assert sched["dataflows"] == {"local_buffer": "WS", "global_buffer": "OS", "dram": None}
    assert "dataflows   local_buffer WS, global_buffer OS\n" in (a / "schedules" / "000_conv0.txt").read_text()


def test_flexible_outputs_report_and_evaluate_round_trip(tiny_model: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    fixed, flex = tmp_path / "fixed", tmp_path / "flex"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", fixed, "--jobs", "1", "--search", "row-sweep")[0] == 0
    code, stdout, stderr = run(capsys, tiny_model, "-t", "eyeriss", "--out", flex, "--jobs", "1",
                               "--search", "row-sweep", "--dataflow", "flexible")
    assert code == 0, stderr
    assert "flexible dataflows: energy " in stdout
    rf = json.loads((fixed / "report.json").read_text())
    rx = json.loads((flex / "report.json").read_text())
    assert rx["settings"]["dataflow"] == "flexible"
    vs = rx["totals"]["versus_fixed_dataflows"]
    # the fixed candidate inside flexible mode is exactly fixed mode's result
    assert vs["fixed_energy_pj"] == pytest.approx(rf["totals"]["energy_pj"], rel=1e-12)
    assert vs["fixed_cycles"] == pytest.approx(rf["totals"]["cycles"], rel=1e-12)
    assert rx["totals"]["energy_pj"] <= rf["totals"]["energy_pj"]
    assert vs["energy_ratio"] == pytest.approx(rx["totals"]["energy_pj"] / rf["totals"]["energy_pj"], rel=1e-9)
    for lx, lf in zip(rx["layers"], rf["layers"]):
        assert lx["energy_pj"] <= lx["fixed_energy_pj"] == lf["energy_pj"]  # never worse per layer
        assert set(lx["dataflows"]) == {"local_buffer", "global_buffer"}
        sched_path = flex / lx["schedule"]
        sched = json.loads(sched_path.read_text())
        assert {k: v for k, v in sched["dataflows"].items() if k != "dram"} == lx["dataflows"]
        # evaluate applies the schedule's dataflows: the same figures as the report
        code, out, err = run(capsys, "evaluate", sched_path, "-t", "eyeriss", "--format", "json")
        assert code == 0, err
        ev = json.loads(out)
        assert ev["energy_pj"]["total_energy"] == lx["energy_pj"] and ev["cycles"]["total_cycle"] == lx["cycles"]
    md = (flex / "report.md").read_text()
    assert "| energy / fixed dataflows |" in md and "dataflows (LB/GB)" in md
    assert "energy / fixed dataflows" in (flex / "report.html").read_text()
    assert "(chosen per layer: --dataflow flexible)" in (flex / "schedules" / "000_conv0.txt").read_text()


def test_flexible_is_deterministic_and_cached_separately(tiny_model: Path, tmp_path: Path, cache_dir: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    args = ("-t", "eyeriss", "--jobs", "1", "--search", "row-sweep")
    assert run(capsys, tiny_model, *args, "--out", a, "--dataflow", "flexible")[0] == 0
    assert run(capsys, tiny_model, *args, "--out", b, "--dataflow", "flexible")[0] == 0  # from the cache
    assert out_files(a) == out_files(b)
    timing = json.loads((b / "timing.json").read_text())
    assert timing["cache"]["misses"] == 0
    # fixed mode misses: the mode is part of the key
    assert run(capsys, tiny_model, *args, "--out", c)[0] == 0
    assert json.loads((c / "timing.json").read_text())["cache"]["hits"] == 0
    assert "versus_fixed_dataflows" not in json.loads((c / "report.json").read_text())["totals"]


def test_a_tampered_cache_entry_with_bad_dataflows_is_recomputed(tiny_model: Path, tmp_path: Path, cache_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    args = ("-t", "eyeriss", "--jobs", "1", "--search", "row-sweep", "--dataflow", "flexible")
    assert run(capsys, tiny_model, *args, "--out", tmp_path / "a")[0] == 0
    for entry in cache_dir.rglob("*.json"):
        doc = json.loads(entry.read_text())
        doc["dataflows"] = ["WS", "WS"]  # eyeriss's GB bypasses weights: not allowed
        entry.write_text(json.dumps(doc))
    assert run(capsys, tiny_model, *args, "--out", tmp_path / "b")[0] == 0
    assert out_files(tmp_path / "a") == out_files(tmp_path / "b")


def test_cli_option_errors(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "--dataflow", "both")
    assert code == 2 and out == ""
    assert "argument --dataflow: invalid choice: 'both' (choose from 'fixed', 'flexible')" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(RlschedError, match="unknown dataflow mode 'both'; choose fixed or flexible"):
        compile_model(tiny_model, "eyeriss", dataflow="both")


def test_evaluate_refuses_dataflows_the_target_cannot_take(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = [[1] * 8 for _ in range(10)]
    table[9] = [8, 1, 4, 4, 4, 3, 3, 1]
    path = tmp_path / "s.json"
    doc = {"layer": {"K": 8, "B": 1, "P": 4, "Q": 4, "C": 4, "R": 3, "S": 3}, "table": table,
           "dataflows": {"local_buffer": "IS", "global_buffer": "WS"}}
    path.write_text(json.dumps(doc))
    code, out, err = run(capsys, "evaluate", path, "-t", "eyeriss")
    assert code == 2 and out == ""
    assert err.strip() == (f"error: {path}: dataflows.global_buffer: 'eyeriss' cannot use WS there (allowed: IS, OS); "
                           "a buffer cannot hold a type it bypasses")
    doc["dataflows"] = {"local_buffer": "IS", "global_buffer": "IS"}
    path.write_text(json.dumps(doc))
    code, out, err = run(capsys, "evaluate", path, "-t", "eyeriss", "--format", "json")
    assert code == 0, err
    ev_flex = json.loads(out)
    doc.pop("dataflows")
    path.write_text(json.dumps(doc))
    code, out, err = run(capsys, "evaluate", path, "-t", "eyeriss", "--format", "json")
    assert code == 0 and json.loads(out)["energy_pj"] != ev_flex["energy_pj"]
