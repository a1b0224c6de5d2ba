"""The report files of a real compile: the operators between layers of a small model, and every
link in report.html and report.md resolving to a file written beside them (offline)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rlsched_compile.api import compile_model
from rlsched_compile.targets import load_target

from cli._support import build_tiny_model


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    model = out / "tiny.onnx"
    model.write_bytes(build_tiny_model().SerializeToString())
    result = compile_model(model, "eyeriss", search="bottom-up", jobs=1, cache=False)
    return result.write(out / "out")


def test_operators_between_layers_of_a_compiled_model(outputs: Path) -> None:
    r = json.loads((outputs / "report.json").read_text())
    o = r["other_operators"]
    # relu0, relu1 on 8x16x16; GlobalAveragePool reads 6x16x16; Flatten moves 6 elements
    assert [(e["op_type"], e["count"], e["vector_ops"]) for e in o["by_op_type"]] == [
        ("Relu", 2, 2 * 2048), ("GlobalAveragePool", 1, 1536), ("Flatten", 1, 0)]
    target = load_target("eyeriss")
    gb = target.global_buffer
    assert gb is not None
    relu = o["by_op_type"][0]
    # every tensor fits in eyeriss's 100 KB global buffer: 2 x (2048 reads + 2048 writes), 2 B each
    assert relu["traffic_bytes"] == {"global_buffer": 2 * 2 * 2048 * 2.0, "dram": 0.0}
    vector = 2 * 2048 * target.mac_energy_pj
    traffic = 2 * 2048 * (gb.access_energy_pj.input + gb.access_energy_pj.output)
    assert relu["energy_by_part_pj"]["vector_energy"] == pytest.approx(vector)
    assert relu["energy_by_part_pj"]["gb_energy"] == pytest.approx(traffic)
    assert relu["vector_cycles"] == 2 * -(-2048 // 168)  # 168 PEs: one op per PE per cycle
    w = r["whole_model"]
    assert w["energy_pj"] == pytest.approx(r["totals"]["energy_pj"] + o["total"]["energy_pj"], rel=1e-12)
    assert r["coverage"]["share"] == 1.0 and r["coverage"]["exact"] and r["coverage"]["skipped"] == []


def test_every_link_resolves_beside_the_report(outputs: Path) -> None:
    html_links = re.findall(r'href="([^"]+)"', (outputs / "report.html").read_text())
    md_links = re.findall(r"\]\(([^)]+)\)", (outputs / "report.md").read_text())
    n = len(json.loads((outputs / "report.json").read_text())["layers"])
    for links in (html_links, md_links):
        assert sum(link.endswith(".txt") for link in links) == n
        for link in links:
            assert not re.match(r"[a-z]+:", link) and not link.startswith("/"), link
            assert (outputs / link).is_file(), link
    nest = (outputs / next(link for link in html_links if link.endswith(".txt"))).read_text()
    assert "loop nest (outermost first):" in nest
