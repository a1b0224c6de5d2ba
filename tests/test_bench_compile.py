"""``bench/bench_compile.py``, the compile-time benchmark of issue 14: one real cold + warm cell
through the CLI, the reading of earlier results files and the goal checks."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_compile", ROOT / "bench" / "bench_compile.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _row(model: str, target: str, cpu_s: float, energy_pj: float = 1.0, objective: str = "energy") -> dict:
    return {"model": model, "target": target, "objective": objective, "exit": 0, "cold_cpu_s": cpu_s,
            "cold_wall_s": cpu_s, "layers": 1, "unique_layers": 1, "energy_pj": energy_pj, "cycles": 10.0,
            "warm_cli_wall_s": 0.5, "warm_cli_cpu_s": 0.4}


def test_one_cell_cold_and_warm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compile.json"
    rc = bench.main(["--models", "lstm_lm", "--targets", "eyeriss", "--jobs", "1", "--out", str(out),
                     "--recorded", str(tmp_path / "none.json")])
    assert rc == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert (row["model"], row["target"], row["objective"], row["exit"]) == ("lstm_lm", "eyeriss", "energy", 0)
    assert (row["layers"], row["unique_layers"], row["workers"]) == (5, 3, 1)
    assert row["cold_cpu_s"] > 0 and row["warm_cli_cpu_s"] > 0 and row["energy_pj"] > 0 and row["cycles"] > 0
    printed = capsys.readouterr().out
    assert "| lstm_lm | eyeriss | energy | 5 | 3 |" in printed
    assert "per cell: 1 of 1 cells" in printed
    assert "ResNet-50 (energy) tpu_v3 / eyeriss: not measured" in printed


def test_recorded_rows_of_both_earlier_benchmarks(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"rows": [{"model": "m", "target": "t", "cold_s": 3.0, "cold_cpu_s": 2.0},
                                        {"model": "n", "target": "t", "cpu_s": 4.0, "energy_pj": 5.0}]}))
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"rows": [_row("m", "t", 1.5, objective="cycles"), _row("n", "t", 3.5)]}))
    recorded = bench.load_recorded([old, tmp_path / "missing.json", newer])
    assert recorded[("m", "t", "energy")]["cold_cpu_s"] == 2.0  # no objective: an energy row
    assert recorded[("m", "t", "cycles")]["cold_cpu_s"] == 1.5
    assert recorded[("n", "t", "energy")]["cold_cpu_s"] == 3.5  # the later file wins


def test_goal_checks() -> None:
    rows = [_row("resnet50", "eyeriss", 5.0), _row("resnet50", "tpu_v3", 16.0, energy_pj=2.0),
            _row("unet", "tpu_v3", 20.5), {**_row("vit_b16", "simba", 0.3), "exit": 2, "error": "error: x"}]
    recorded = {("resnet50", "tpu_v3", "energy"): _row("resnet50", "tpu_v3", 1.0, energy_pj=1.0),
                ("resnet50", "eyeriss", "energy"): _row("resnet50", "eyeriss", 1.0, energy_pj=1.0)}
    text = "\n".join(bench.goal_lines(rows, recorded))
    assert "2 of 4 cells (NOT met)" in text
    assert "over: unet on tpu_v3 (energy): 20.50 CPU s" in text and "over: vit_b16 on simba (energy): exit 2" in text
    assert "tpu_v3 / eyeriss = 16.00 / 5.00 = 3.20x (bar <= 3x: NOT met)" in text
    assert "2 cells compared, 1 above the recorded energy" in text
    assert "above: resnet50 on tpu_v3 (energy): 2.000000" in text
    table = "\n".join(bench.markdown_table(rows, recorded))
    assert ("| resnet50 | tpu_v3 | energy | 1 | 1 | 16.00 | 16.00 | 1.00 | 0.50 / 0.40 | 2 | 2.000000 | 10 | "
            "1.000000 |") in table
    assert "exit 2: error: x" in table
    ok = "\n".join(bench.goal_lines([_row("resnet50", "eyeriss", 5.0), _row("resnet50", "tpu_v3", 15.0)], {}))
    assert "2 of 2 cells (met)" in ok and "= 3.00x (bar <= 3x: met)" in ok and "0 cells compared" in ok
