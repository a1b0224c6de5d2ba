"""Running sweeps: the local pool at any --jobs and a real local Ray instance give byte-identical
results; rows equal plain compiles; invalid points are recorded; layers are deduplicated; a
killed sweep resumes to the same files; sweep.html renders in headless Chromium."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlsched_compile.cli import main

from emit._browser import check_page, find_chromium
from .conftest import SWEEP, write_models

ROOT = Path(__file__).resolve().parents[2]
RESULT_FILES = ("results.csv", "results.json", "sweep.html")


def run_cli(args: list[str], cache: Path) -> int:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RLSCHED_CACHE_DIR", str(cache))
        return main(args)


def results(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in RESULT_FILES}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sweep, run once on the local pool with 2 workers and a fresh cache."""
    root = tmp_path_factory.mktemp("reference")
    write_models(root / "in")
    (root / "in" / "sweep.yaml").write_text(SWEEP)
    assert run_cli(["sweep", str(root / "in" / "sweep.yaml"), "--out", str(root / "out"), "-j", "2"],
                   root / "cache") == 0
    return root


def test_rows_columns_and_invalid_points(reference: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((reference / "out" / "results.csv").read_text())))
    assert list(rows[0]) == ["model", "target", "pe_x", "gb_bytes", "objective", "status", "energy_pj", "cycles",
                             "edp", "macs", "mac_utilization", "pe_utilization", "compute_utilization", "layers",
                             "unique_layers", "message"]
    assert len(rows) == 2 * 4 * 2
    assert [(r["model"], r["pe_x"], r["gb_bytes"], r["objective"]) for r in rows[:4]] == [
        ("twoconv", "7", "0", "energy"), ("twoconv", "7", "0", "cycles"),
        ("twoconv", "7", "102400", "energy"), ("twoconv", "7", "102400", "cycles")]
    bad = [r for r in rows if r["gb_bytes"] == "0"]
    good = [r for r in rows if r["gb_bytes"] != "0"]
    assert len(bad) == 8 and all(r["status"] == "error" for r in bad)
    for r in bad:  # the normal target loader's message, with its path
        assert "capacity_bytes.shared: must be > 0 (got 0)" in r["message"]
        assert r["energy_pj"] == r["cycles"] == ""
    assert all(r["status"] == "ok" and r["message"] == "" for r in good)
    for r in good:
        assert float(r["edp"]) == pytest.approx(float(r["energy_pj"]) * float(r["cycles"]), rel=1e-15)
        assert 0 < float(r["mac_utilization"]) <= 1
    # the smaller PE array takes more cycles for the same model and objective
    by = {(r["model"], r["pe_x"], r["objective"]): float(r["cycles"]) for r in good}
    assert by[("twoconv", "7", "cycles")] > by[("twoconv", "14", "cycles")]
    doc = json.loads((reference / "out" / "results.json").read_text())
    assert doc["schema"] == "rlsched-sweep-results-v1"
    assert [p["name"] for p in doc["sweep"]["parameters"]] == ["pe_x", "gb_bytes"]
    assert [r["energy_pj"] for r in doc["rows"]] == [None if r["energy_pj"] == "" else float(r["energy_pj"])
                                                     for r in rows]


def test_rows_equal_plain_compiles(reference: Path) -> None:
    from rlsched_compile import compile_model
    from rlsched_compile.sweep import derive_target, load_sweep

    spec = load_sweep(reference / "in" / "sweep.yaml")
    doc = json.loads((reference / "out" / "results.json").read_text())
    tgt = derive_target(spec.targets[0], spec.parameters, (7, 102400))
    res = compile_model(reference / "in" / "convfc.onnx", tgt, objective="cycles",
                        cache_dir=reference / "cache", jobs=1)
    row = next(r for r in doc["rows"] if r["model"] == "convfc" and r["pe_x"] == 7 and r["gb_bytes"] == 102400
               and r["objective"] == "cycles")
    assert (row["energy_pj"], row["cycles"], row["macs"]) == (res.totals.energy_pj, res.totals.cycles, res.totals.macs)


def test_layers_deduplicated_across_points_and_models(reference: Path) -> None:
    t = json.loads((reference / "out" / "timings.json").read_text())
    # valid points 2 x objectives 2 x (2 + 2 unique layers); conv0 is the same layer in both models
    assert t["layer_tasks"] == {"solved": 12, "instances": 16, "cache_hits": 0, "deduplicated": 4}
    assert t["results"] == {"total": 16, "resumed": 0, "computed": 16, "ok": 8}
    assert t["executor"] == "local" and t["jobs"] == 2
    assert len(list((reference / "out" / "points").glob("*.json"))) == 16


def test_jobs_one_gives_the_same_files_and_a_rerun_resumes_everything(reference: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli(["sweep", str(reference / "in" / "sweep.yaml"), "--out", str(out), "-j", "1"],
                   tmp_path / "cache") == 0
    assert results(out) == results(reference / "out")
    capsys.readouterr()
    assert run_cli(["sweep", str(reference / "in" / "sweep.yaml"), "-o", str(out), "-j", "1", "--format", "json"],
                   tmp_path / "cache") == 0
    assert capsys.readouterr().out == (out / "results.json").read_text()  # stdout: the JSON document only
    t = json.loads((out / "timings.json").read_text())
    assert t["results"]["resumed"] == 16 and t["layer_tasks"]["solved"] == 0
    assert results(out) == results(reference / "out")


def test_ray_executor_on_a_local_instance_gives_identical_files(reference: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import ray
    except ImportError:
        pytest.fail("Ray is needed for this test (CI installs it): pip install -e '.[ray]'")
    out = tmp_path / "out"
    assert run_cli(["sweep", str(reference / "in" / "sweep.yaml"), "--out", str(out), "--executor", "ray",
                    "-j", "2"], tmp_path / "cache") == 0
    assert results(out) == results(reference / "out")
    t = json.loads((out / "timings.json").read_text())
    assert t["executor"] == "ray" and t["cluster"] == "local" and t["cpus"] == 2
    assert t["layer_tasks"]["solved"] == 12
    assert not ray.is_initialized()  # the command stopped the instance it started
    assert "best twoconv / energy: eyeriss [pe_x=" in capsys.readouterr().out


def test_ray_missing_is_a_one_line_error(sweep_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees without the package
    code = run_cli(["sweep", str(sweep_file), "--out", str(tmp_path / "out"), "--executor", "ray"], tmp_path / "c")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error: --executor ray needs Ray, which is not installed; install it with pip install")
    assert not (tmp_path / "out" / "results.csv").exists()


def test_ray_address_needs_the_ray_executor(sweep_file: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["sweep", str(sweep_file), "--out", str(tmp_path / "o"), "--ray-address", "auto"],
                   tmp_path / "c") == 2
    assert capsys.readouterr().err.strip() == "error: --ray-address needs --executor ray"


def test_killed_sweep_resumes_to_the_same_files(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "RLSCHED_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "rlsched_compile", "sweep", str(reference / "in" / "sweep.yaml"), "--out", str(out),
           "-j", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    points = out / "points"
    deadline = time.monotonic() + 120
    try:
        # the 8 invalid points are stored first (no solving); kill once 2 compiled points are stored too
        while len(list(points.glob("*.json"))) < 10:
            assert proc.poll() is None, "the sweep finished before it could be killed"
            assert time.monotonic() < deadline, "the sweep stored no point in 120 s"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    stored = len(list(points.glob("*.json")))
    assert proc.returncode == -signal.SIGKILL
    assert 10 <= stored < 16 and not (out / "results.csv").exists()
    for p in points.glob("*.json"):  # written atomically: every stored point is complete
        assert json.loads(p.read_text())["row"]["status"] in ("ok", "error")
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    t = json.loads((out / "timings.json").read_text())
    assert t["results"]["resumed"] == stored
    assert results(out) == results(reference / "out")
    assert len(list(points.glob("*.json"))) == 16


def test_sweep_html_renders_in_headless_chromium(reference: Path) -> None:
    binary = find_chromium()
    assert binary is not None, "headless Chromium is needed for this test: apt-get install -y chromium"
    page = reference / "out" / "sweep.html"
    text = page.read_text()
    assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    probe = """JSON.stringify({
      plots: [...document.querySelectorAll('svg.scatter')].map(s => ({
        id: s.id, w: s.getBoundingClientRect().width, points: s.querySelectorAll('circle').length,
        front: s.querySelectorAll('circle.front').length, line: s.querySelectorAll('polyline.frontline').length})),
      best: document.querySelectorAll('tr.best').length,
      resources: performance.getEntriesByType('resource').length})"""
    result = check_page(binary, page.as_uri(), probe)
    assert result.console_errors == []
    got = json.loads(result.value)
    assert got["resources"] == 0
    assert got["best"] == 4  # 2 models x 2 objectives
    assert [p["id"] for p in got["plots"]] == ["plot-pareto-0", "plot-pareto-1"]
    for p in got["plots"]:
        assert p["w"] > 100 and p["points"] == 4 and 1 <= p["front"] <= 4


def test_layer_without_a_schedule_and_tampered_point_files(tmp_path: Path) -> None:
    write_models(tmp_path)
    sweep = tmp_path / "s.yaml"
    sweep.write_text("version: 1\nmodels: [twoconv.onnx]\ntargets: [eyeriss]\nsearch: {strategy: bottom-up}\n"
                     "parameters:\n  lb_w: {level: local_buffer, field: capacity_bytes.weight, values: [1, 448]}\n")
    out = tmp_path / "out"
    assert run_cli(["sweep", str(sweep), "-o", str(out), "-j", "1"], tmp_path / "cache") == 0
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    assert [(r["lb_w"], r["status"]) for r in rows] == [("1", "error"), ("448", "ok")]
    assert rows[0]["message"].startswith("layer 'conv0' has no valid schedule on target 'eyeriss~lb_w=1': ")
    before = results(out)
    # a point file whose row was edited is not trusted: it is recomputed (from the cache) and rewritten
    for p in (out / "points").glob("*.json"):
        doc = json.loads(p.read_text())
        if doc["row"]["status"] == "ok":
            doc["row"]["energy_pj"] = -1.0
            p.write_text(json.dumps(doc))
        else:
            doc["row"]["lb_w"] = 2
            p.write_text(json.dumps(doc))
    assert run_cli(["sweep", str(sweep), "-o", str(out), "-j", "1"], tmp_path / "cache") == 0
    t = json.loads((out / "timings.json").read_text())
    assert t["results"]["resumed"] == 0 and t["layer_tasks"]["solved"] == 2  # the failed layer is searched again
    assert results(out) == before
