"""The compile command in-process (cli.main(argv)): outputs, stdout, exit codes, determinism,
cache, baseline comparison, annotated ONNX."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest

from rlsched_compile import cli
from rlsched_compile.cost import ENERGY_COMPONENTS

from ._support import build_tiny_model, out_files

pytestmark = pytest.mark.usefixtures("cache_dir")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compile_writes_every_output(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, tiny_model, "--target", "eyeriss", "--out", out, "--jobs", "1")
    assert code == 0, stderr
    names = ["000_conv0", "001_conv1", "002_conv2", "003_conv3", "004_fc"]
    assert sorted(p.name for p in (out / "schedules").iterdir()) == sorted(
        [f"{n}.json" for n in names] + [f"{n}.txt" for n in names])
    for f in ("report.json", "report.md", "report.html", "tiny.scheduled.onnx", "timing.json"):
        assert (out / f).is_file(), f
    assert not [p for p in out.rglob("*.tmp")]

    report = json.loads((out / "report.json").read_text())
    assert report["schema_version"] == 1
    assert report["model"]["name"] == "tiny" and len(report["model"]["sha256"]) == 64
    assert report["target"]["name"] == "eyeriss"
    assert report["settings"]["objective"] == "energy"
    assert report["complete"] is True
    assert [ly["name"] for ly in report["layers"]] == ["conv0", "conv1", "conv2", "conv3", "fc"]
    # conv1 and conv2 are identical: one unique layer, solved once, same schedule
    assert [u["count"] for u in report["unique_layers"]] == [1, 2, 1, 1]
    assert report["layers"][1]["energy_pj"] == report["layers"][2]["energy_pj"]
    t = report["totals"]
    assert t["layers"] == 5 and t["unique_layers"] == 4
    assert t["energy_pj"] == pytest.approx(sum(ly["energy_pj"] for ly in report["layers"]), rel=1e-12)
    assert t["cycles"] == pytest.approx(sum(ly["cycles"] for ly in report["layers"]), rel=1e-12)
    assert t["energy_pj"] == pytest.approx(t["dynamic_energy_pj"] + t["static_energy_pj"], rel=1e-12)
    assert t["macs"] == 8 * 256 * 27 + 2 * 8 * 256 * 72 + 6 * 256 * 8 + 4 * 6
    assert t["energy_per_mac_pj"] == pytest.approx(t["energy_pj"] / t["macs"], rel=1e-9)
    assert 0 < t["mac_utilization"] <= 1 and 0 < t["compute_utilization"] <= t["mac_utilization"]
    # no timings or timestamps in the deterministic report
    assert "time" not in json.dumps(report).lower().replace("timing", "")

    sched = json.loads((out / "schedules" / "001_conv1.json").read_text())
    assert sched["layer"]["onnx_node"] == "conv1" and sched["target"]["sha256"] == report["target"]["sha256"]
    assert [r["row"] for r in sched["table"]["rows"]][0] == "Register" and len(sched["table"]["rows"]) == 10
    assert set(sched["energy_pj"]) == set(ENERGY_COMPONENTS)
    assert sched["energy_pj"]["total_energy"] == report["layers"][1]["energy_pj"]
    assert sched["dataflows"] == {"local_buffer": "WS", "global_buffer": "OS", "dram": None}
    assert "loop nest (outermost first):" in (out / "schedules" / "001_conv1.txt").read_text()

    # stdout: the summary only (one row per unique layer + totals), logs on stderr
    assert "conv1" in stdout and "total" in stdout and "outputs:" in stdout
    rows = [ln for ln in stdout.splitlines() if ln.strip()[:1].isdigit()]
    assert len(rows) == 4
    assert "rlsched-compile:" not in stdout
    assert "compiled tiny on eyeriss" in stderr


def test_json_format_prints_the_report(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "--format", "json", "-j", "1", "-q")
    assert code == 0
    assert json.loads(stdout) == json.loads((out / "report.json").read_text())


def test_same_inputs_give_byte_identical_files(tiny_model: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # cold in-process, cold with two worker processes, and warm from the cache: same bytes
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert run(capsys, tiny_model, "-t", "simba", "--out", a, "-j", "1", "--no-cache", "-q")[0] == 0
    assert run(capsys, tiny_model, "-t", "simba", "--out", b, "-j", "2", "-q")[0] == 0
    assert run(capsys, tiny_model, "-t", "simba", "--out", c, "-j", "2", "-q")[0] == 0
    assert json.loads((c / "timing.json").read_text())["cache"]["hits"] == 4
    fa, fb, fc = out_files(a), out_files(b), out_files(c)
    assert len(fa) == 15  # 10 schedule files, 3 reports, the annotated model, the manifest
    assert fa == fb == fc


def test_cache_hit_and_invalidation_when_the_target_file_changes(
        tiny_model: Path, target_file: Path, tmp_path: Path, cache_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"

    def compile_and_timing() -> dict:
        code, _, err = run(capsys, tiny_model, "-t", target_file, "--out", out, "-j", "1", "-q")
        assert code == 0, err
        return json.loads((out / "timing.json").read_text())

    first = compile_and_timing()
    assert first["cache"] == {"enabled": True, "directory": str(cache_dir), "hits": 0, "misses": 4}
    assert len(list(cache_dir.rglob("*.json"))) == 4
    report1 = (out / "report.json").read_bytes()
    second = compile_and_timing()
    assert (second["cache"]["hits"], second["cache"]["misses"]) == (4, 0)
    assert all(ly["cached"] for ly in second["layers"])
    assert (out / "report.json").read_bytes() == report1

    # a different DRAM energy: a different target content, so nothing may come from the cache
    doc = json.loads(target_file.read_text())
    dram = next(lv for lv in doc["levels"] if lv["level"] == "dram")
    dram["access_energy_pj"]["input"] = 200.0
    target_file.write_text(json.dumps(doc))
    third = compile_and_timing()
    assert (third["cache"]["hits"], third["cache"]["misses"]) == (0, 4)
    report3 = json.loads((out / "report.json").read_text())
    assert report3["target"]["sha256"] != json.loads(report1)["target"]["sha256"]

    # another objective is another key too
    code, _, _ = run(capsys, tiny_model, "-t", target_file, "--out", out, "-j", "1", "-q", "--objective", "cycles")
    assert code == 0 and json.loads((out / "timing.json").read_text())["cache"]["misses"] == 4


def test_corrupt_cache_entries_are_recomputed(tiny_model: Path, tmp_path: Path, cache_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", a, "-j", "1", "-q")[0] == 0
    entries = sorted(cache_dir.rglob("*.json"))
    entries[0].write_text("{ truncated")
    entries[1].write_text(json.dumps({"format": 2, "key": "wrong"}))
    code, _, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", b, "-j", "1", "-v")
    assert code == 0
    assert err.count("ignored") == 2 and "warning" not in err  # a miss, said at debug level only
    timing = json.loads((b / "timing.json").read_text())
    assert (timing["cache"]["hits"], timing["cache"]["misses"]) == (2, 2)
    assert out_files(a) == out_files(b)
    json.loads(entries[0].read_text())  # rewritten whole


def test_tampered_cache_entry_is_not_used(tiny_model: Path, tmp_path: Path, cache_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 11 item 9: an entry edited to hold a valid but worse table (and forged bookkeeping
    strings) was used silently. Now the compile solves that layer again and writes exactly the
    files of a clean run."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", a, "-j", "1", "-q")[0] == 0
    report_a = json.loads((a / "report.json").read_text())
    for e in cache_dir.rglob("*.json"):
        doc = json.loads(e.read_text())
        sig = doc["layer"]  # K, B, P, Q, C, R, S, G, ...
        worse = [[1] * 8 for _ in range(10)]
        worse[9] = [sig[0] // sig[7], sig[1], sig[2], sig[3], sig[4] // sig[7], sig[5], sig[6], sig[7]]
        doc.update(table=worse, strategy="forged<b>", evaluations=10**9)
        e.write_text(json.dumps(doc))
    code, _, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", b, "-j", "1", "-q")
    assert code == 0, err
    timing = json.loads((b / "timing.json").read_text())
    assert (timing["cache"]["hits"], timing["cache"]["misses"]) == (0, 4)
    assert out_files(a) == out_files(b)
    report_b = json.loads((b / "report.json").read_text())
    assert report_b["totals"]["energy_pj"] == report_a["totals"]["energy_pj"]
    assert "forged" not in (b / "report.json").read_text()


def test_no_cache_writes_nothing_to_the_cache(tiny_model: Path, tmp_path: Path, cache_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "--no-cache", "-j", "1", "-q")[0] == 0
    assert not cache_dir.exists()


def test_annotated_onnx_passes_the_checker(tiny_model: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "-j", "1", "-q")[0] == 0
    model = onnx.load(str(out / "tiny.scheduled.onnx"))
    onnx.checker.check_model(model, full_check=True)
    report = json.loads((out / "report.json").read_text())
    by_name = {n.name: {p.key: p.value for p in n.metadata_props} for n in model.graph.node}
    for ly in report["layers"]:
        props = by_name[ly["name"]]
        assert float(props["rlsched.energy_pj"]) == ly["energy_pj"]
        assert float(props["rlsched.cycles"]) == ly["cycles"]
        sched = json.loads(props["rlsched.schedule"])
        file_rows = json.loads((out / ly["schedule"]).read_text())["table"]["rows"]
        assert sched["table"] == [r["values"] for r in file_rows]
        assert sched["target_sha256"] == report["target"]["sha256"]
    assert by_name["relu0"] == {}
    meta = {p.key: p.value for p in model.metadata_props}
    assert float(meta["rlsched.energy_pj"]) == report["totals"]["energy_pj"]
    # everything but the metadata is the input model
    original = build_tiny_model()
    for n in model.graph.node:
        del n.metadata_props[:]
    del model.metadata_props[:]
    assert model.SerializeToString(deterministic=True) == original.SerializeToString(deterministic=True)


def test_baseline_comparison(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", old, "-j", "1", "-q")[0] == 0
    base = old / "report.json"
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "n1", "-j", "1", "-q",
                          "--baseline", base)
    assert code == 0 and "baseline: no differences" in stdout

    # pretend the baseline was 10% better on conv0: now a 11.1% regression of conv0 and of the total
    doc = json.loads(base.read_text())
    doc["layers"][0]["energy_pj"] *= 0.9
    doc["totals"]["energy_pj"] -= doc["layers"][0]["energy_pj"] / 9
    better = tmp_path / "better.json"
    better.write_text(json.dumps(doc))
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "n2", "-j", "1", "-q",
                          "--baseline", better, "--max-regression", "5")
    assert code == 1
    assert "layer 0 conv0" in stdout and "+11.11%" in stdout and "REGRESSION" in stdout
    assert "regression(s) above 5%" in stdout
    code, stdout, _ = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "n3", "-j", "1", "-q",
                          "--baseline", better, "--max-regression", "20")
    assert code == 0 and "none above 20%" in stdout


def test_bad_baseline_is_a_usage_error(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    code, stdout, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "o", "--baseline", bad)
    assert code == 2 and stdout == ""
    assert err.strip() == f"error: baseline {bad}: not an rlsched_compile report.json (no totals/layers)"
    assert not (tmp_path / "o").exists()


def test_layer_without_valid_schedule_exits_1_and_keeps_the_others(
        tiny_model: Path, target_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the local buffer forces K = 4 in its row: impossible for conv3 (K = 6) only. The random
    # strategy honours fixed mappings (bottom-up finds nothing under them).
    doc = json.loads(target_file.read_text())
    lb = next(lv for lv in doc["levels"] if lv["level"] == "local_buffer")
    lb["fixed_mapping"] = [4, 0, 0, 0, 0, 0, 0, 0]
    target_file.write_text(json.dumps(doc))
    out = tmp_path / "o"
    code, stdout, err = run(capsys, tiny_model, "-t", target_file, "--out", out, "-j", "1",
                            "--search", "random", "--budget", "300")
    assert code == 1
    report = json.loads((out / "report.json").read_text())
    assert report["complete"] is False
    assert [f["name"] for f in report["failures"]] == ["conv3"]
    assert "does not divide the layer's K/G = 6" in report["failures"][0]["message"]
    assert [ly["name"] for ly in report["layers"]] == ["conv0", "conv1", "conv2", "fc"]
    assert "total (incomplete)" in stdout
    row = next(ln for ln in stdout.splitlines() if ln.split()[1:2] == ["conv3"])
    assert row.split()[2:] == ["1", "-", "-", "-", "FAILED"]
    assert f"FAILED conv3: {report['failures'][0]['message']}" in stdout.splitlines()
    assert "1 layer(s) without a valid schedule: conv3" in err


def test_stale_schedule_files_are_removed(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Files an earlier run wrote (listed in its manifest) are replaced by the new set."""
    from ._support import build_model_with_conv_transpose

    out = tmp_path / "o"
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "-j", "1", "-q")[0] == 0
    assert (out / "schedules" / "004_fc.json").is_file()
    small = tmp_path / "upsampler.onnx"
    small.write_bytes(build_model_with_conv_transpose().SerializeToString())
    assert run(capsys, small, "-t", "eyeriss", "--out", out, "-j", "1", "-q")[0] == 0
    assert sorted(p.name for p in (out / "schedules").iterdir()) == ["000_conv0.json", "000_conv0.txt"]
    assert not (out / "tiny.scheduled.onnx").exists() and (out / "upsampler.scheduled.onnx").is_file()


def test_default_output_directory(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, tiny_model, "-t", "eyeriss", "-j", "1", "-q")[0] == 0
    assert (tmp_path / "rlsched_out" / "tiny__eyeriss" / "report.json").is_file()


def test_python_api_mirrors_the_cli(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import rlsched_compile

    res = rlsched_compile.compile_model(str(tiny_model), "eyeriss", jobs=1)
    assert res.ok and len(res.layers) == 5 and res.totals.layers == 5
    assert res.layers[1].table == res.layers[2].table and res.layers[1].group == res.layers[2].group == 1
    res.write(tmp_path / "api")
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", tmp_path / "cli", "-j", "1", "-q")[0] == 0
    assert out_files(tmp_path / "api") == out_files(tmp_path / "cli")
    # an in-memory ModelProto works too and still gets its annotated copy
    res2 = rlsched_compile.compile_model(build_tiny_model(), "eyeriss", jobs=1)
    res2.write(tmp_path / "mem")
    assert (tmp_path / "mem" / "tiny.scheduled.onnx").is_file()
    assert res2.report()["totals"] == res.report()["totals"]
    shutil.rmtree(tmp_path / "mem")


def test_interrupted_compile_resumes_from_the_cache(tiny_model: Path, tmp_path: Path, cache_dir: Path) -> None:
    from rlsched_compile import compile_model

    def stop_after_two(done: int, total: int, name: str) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compile_model(str(tiny_model), "eyeriss", jobs=1, progress=stop_after_two)
    assert len(list(cache_dir.rglob("*.json"))) == 2 and not list(cache_dir.rglob("*.tmp"))
    res = compile_model(str(tiny_model), "eyeriss", jobs=1)
    assert (res.timing["cache"]["hits"], res.timing["cache"]["misses"]) == (2, 2)
    assert [s.cached for s in res.layers] == [True, True, True, False, False]
